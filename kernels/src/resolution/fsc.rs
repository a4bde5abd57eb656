//! Fourier shell correlation between two maps or images, and the resolution it implies.
//!
//! FSC(r) = Σ Re(A·B*) / √(Σ|A|²·Σ|B|²) over the stored half-array values of shell
//! r = round(|k|), r = 0 … n/2 (RELION's `getFSC`); 0 where a denominator is 0. Resolution
//! follows RELION's post-processing: the last shell before the curve first drops below the
//! threshold, reported as n·p/r Å.

use crate::fourier::fft;
use crate::grid::{Complex32, GridError, HalfGrid, RealGrid};

/// FSC per shell (0 … n/2) between two half arrays of the same box and pixel size.
pub fn fsc<const D: usize>(
    a: &HalfGrid<Complex32, D>,
    b: &HalfGrid<Complex32, D>,
) -> Result<Vec<f64>, GridError> {
    a.check_same_shape("FSC inputs", b)?;
    let shells = a.n() / 2 + 1;
    let (mut num, mut da, mut db) = (vec![0.0; shells], vec![0.0; shells], vec![0.0; shells]);
    for (i, (x, y)) in a.data().iter().zip(b.data()).enumerate() {
        let r = a.shell(i);
        if r < shells {
            num[r] += (x * y.conj()).re as f64;
            da[r] += x.norm_sqr() as f64;
            db[r] += y.norm_sqr() as f64;
        }
    }
    Ok((0..shells)
        .map(|r| {
            let den = (da[r] * db[r]).sqrt();
            if den > 0.0 { num[r] / den } else { 0.0 }
        })
        .collect())
}

/// FSC per shell between two real-space maps (or images) of the same box and pixel size.
pub fn fsc_real<const D: usize>(a: &RealGrid<D>, b: &RealGrid<D>) -> Result<Vec<f64>, GridError> {
    crate::grid::check_same_box("FSC maps", a.n(), b.n())?;
    fsc(&fft::forward(a), &fft::forward(b))
}

/// The last shell before `curve` first drops below `threshold` (scanning from shell 1; shell 0
/// is the DC term): RELION's resolution shell. The last shell when it never drops.
pub fn resolution_shell(curve: &[f64], threshold: f64) -> usize {
    match curve
        .iter()
        .enumerate()
        .skip(1)
        .find(|&(_, &v)| v < threshold)
    {
        Some((r, _)) => r - 1,
        None => curve.len().saturating_sub(1),
    }
}

/// Resolution in Å of shell `r` in a box of `n` pixels of `pixel_size` Å: n·p/r
/// (infinite for shell 0).
pub fn shell_to_angstrom(r: usize, n: usize, pixel_size: f64) -> f64 {
    if r == 0 {
        f64::INFINITY
    } else {
        n as f64 * pixel_size / r as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Volume, test_noise::uniform};

    #[test]
    fn self_fsc_is_one_and_independent_noise_is_near_zero() {
        let n = 16;
        let a = Volume::from_vec(n, 2.0, uniform(1, n * n * n)).unwrap();
        let b = Volume::from_vec(n, 2.0, uniform(2, n * n * n)).unwrap();
        let same = fsc_real(&a, &a).unwrap();
        assert_eq!(same.len(), 9);
        assert!(same.iter().all(|&v| (v - 1.0).abs() < 1e-9));
        let indep = fsc_real(&a, &b).unwrap();
        assert!(indep[3..].iter().all(|v| v.abs() < 0.25), "{indep:?}");
        let sign_flip = Volume::from_vec(n, 2.0, a.data().iter().map(|v| -v).collect()).unwrap();
        assert!(fsc_real(&a, &sign_flip).unwrap()[4] + 1.0 < 1e-9);
        let small = Volume::zeros(8, 2.0).unwrap();
        assert!(fsc_real(&a, &small).is_err());
    }

    #[test]
    fn resolution_is_the_last_shell_before_the_first_crossing() {
        let curve = [1.0, 0.99, 0.9, 0.6, 0.4, 0.13, 0.2, 0.05];
        assert_eq!(resolution_shell(&curve, 0.5), 3);
        assert_eq!(resolution_shell(&curve, 0.143), 4);
        assert_eq!(resolution_shell(&curve, 0.01), 7);
        assert!((shell_to_angstrom(4, 64, 1.5) - 24.0).abs() < 1e-12);
        assert!(shell_to_angstrom(0, 64, 1.5).is_infinite());
    }
}
