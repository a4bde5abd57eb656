//! The Fourier pixels an E-step compares: the non-redundant half-array pixels of the particle
//! box N with |k| ≤ current_size/2, sorted by |k|, and phase ramps on them (refine.md §0.1, §1.4).
//!
//! A pixel is an integer frequency (kx ≥ 0, ky) of the N box (k/(N·p) Å⁻¹); pixels with
//! kx = 0, ky < 0 are left out (Friedel mates of stored ones). A window of even size s holds
//! the pixels with kx² + ky² ≤ (s/2)², the same disc the [`Projector`](crate::fourier::projector)
//! fills, so every window pixel is stored in an s-box half array. Sorting by kx² + ky² (ties
//! by ky, then kx) puts the DC term first (index 0) and makes every smaller window a prefix of
//! the current one: the coarse pass reads the first [`FourierWindow::len_for`]`(coarse_size)`
//! entries of the same arrays. The layout depends only on (N, current_size), so one window
//! serves all particles of an iteration.

use std::f64::consts::PI;

use super::EstepError;
use crate::grid::{Complex64, check_box, half_width, shell_of};

/// The sorted pixel list of one (box, current size) pair; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierWindow {
    ori_size: usize,
    current_size: usize,
    pixels: Vec<[i32; 2]>,
    radius2: Vec<u32>,
    shells: Vec<u32>,
}

impl FourierWindow {
    /// The window of `current_size` pixels (even, 2 ≤ current_size ≤ N) in a box of `ori_size`
    /// (N, even) pixels.
    pub fn new(ori_size: usize, current_size: usize) -> Result<Self, EstepError> {
        check_box("particle box", ori_size)?;
        check_box("current image size", current_size)?;
        if current_size > ori_size {
            return Err(EstepError::invalid(
                "current image size (pixels)",
                current_size,
                format!("at most the box size {ori_size}"),
            ));
        }
        let r = (current_size / 2) as i64;
        let mut pixels: Vec<[i32; 2]> = (-r..=r)
            .flat_map(|ky| (0..=r).map(move |kx| [kx as i32, ky as i32]))
            .filter(|&[kx, ky]| (kx > 0 || ky >= 0) && (kx * kx + ky * ky) as i64 <= r * r)
            .collect();
        let k2 = |p: &[i32; 2]| (p[0] * p[0] + p[1] * p[1]) as u32;
        pixels.sort_by_key(|p| (k2(p), p[1], p[0]));
        let radius2: Vec<u32> = pixels.iter().map(k2).collect();
        let shells = radius2
            .iter()
            .map(|&k2| shell_of(k2 as i64) as u32)
            .collect();
        Ok(Self {
            ori_size,
            current_size,
            pixels,
            radius2,
            shells,
        })
    }

    /// Box size N (pixels) of the particle images.
    pub fn ori_size(&self) -> usize {
        self.ori_size
    }

    /// Current image size (pixels): the largest window.
    pub fn current_size(&self) -> usize {
        self.current_size
    }

    /// Number of pixels of the current window (including the DC term at index 0).
    pub fn len(&self) -> usize {
        self.pixels.len()
    }

    /// Always false: even the smallest window holds the DC term.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Number of leading pixels that form the window of even `size` ≤ current size (pixels).
    pub fn len_for(&self, size: usize) -> Result<usize, EstepError> {
        check_box("E-step window size", size)?;
        if size > self.current_size {
            return Err(EstepError::invalid(
                "E-step window size (pixels)",
                size,
                format!("at most the current size {}", self.current_size),
            ));
        }
        let r2 = ((size / 2) * (size / 2)) as u32;
        Ok(self.radius2.partition_point(|&k2| k2 <= r2))
    }

    /// Frequencies (kx, ky) of the pixels, in window order.
    pub fn pixels(&self) -> &[[i32; 2]] {
        &self.pixels
    }

    /// Shell round(|k|) of each pixel, in window order.
    pub fn shells(&self) -> &[u32] {
        &self.shells
    }

    /// Whether frequency (kx ≥ 0, ky) of the N box belongs to the current window.
    pub fn contains(&self, kx: i64, ky: i64) -> bool {
        let r = (self.current_size / 2) as i64;
        kx >= 0 && (kx > 0 || ky >= 0) && kx * kx + ky * ky <= r * r
    }

    /// For the pixels of the window of `size`: their indices in a half array of box `size`
    /// (FFTW order), e.g. a projection made with `Projector::project(a, size)`.
    pub fn half_indices(&self, size: usize) -> Result<Vec<usize>, EstepError> {
        let len = self.len_for(size)?;
        let h = half_width(size);
        Ok(self.pixels[..len]
            .iter()
            .map(|&[kx, ky]| {
                let row = if ky >= 0 {
                    ky as usize
                } else {
                    (ky + size as i32) as usize
                };
                row * h + kx as usize
            })
            .collect())
    }

    /// The phase ramp exp(−2πi·k·t/N) that moves image content by `t_px` pixels (x, y)
    /// (refine.md §0.2), tabulated for this window.
    pub fn phase_ramp(&self, t_px: [f64; 2]) -> PhaseRamp {
        let r = (self.current_size / 2) as i64;
        let n = self.ori_size as f64;
        let ramp = |k: i64, t: f64| Complex64::from_polar(1.0, -2.0 * PI * k as f64 * t / n);
        PhaseRamp {
            radius: r as i32,
            x: (0..=r).map(|k| ramp(k, t_px[0])).collect(),
            y: (-r..=r).map(|k| ramp(k, t_px[1])).collect(),
        }
    }

    /// Writes the first `dst_re.len()` pixels of image (`src_re`, `src_im`) moved by `t_px`
    /// pixels into (`dst_re`, `dst_im`): X_t(k) = X(k)·exp(−2πi·k·t/N), evaluated in f64.
    pub fn shift(
        &self,
        t_px: [f64; 2],
        (src_re, src_im): (&[f32], &[f32]),
        (dst_re, dst_im): (&mut [f32], &mut [f32]),
    ) {
        let ramp = self.phase_ramp(t_px);
        let values = self.pixels.iter().zip(src_re.iter().zip(src_im));
        for ((p, (&re, &im)), (dr, di)) in values.zip(dst_re.iter_mut().zip(dst_im.iter_mut())) {
            let v = Complex64::new(re as f64, im as f64) * ramp.at(*p);
            *dr = v.re as f32;
            *di = v.im as f32;
        }
    }
}

/// A phase ramp exp(−2πi·(kx·tx + ky·ty)/N) stored as its two separable factors.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRamp {
    radius: i32,
    x: Vec<Complex64>,
    y: Vec<Complex64>,
}

impl PhaseRamp {
    /// The ramp at window pixel (kx, ky).
    pub fn at(&self, [kx, ky]: [i32; 2]) -> Complex64 {
        self.x[kx as usize] * self.y[(ky + self.radius) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_the_non_redundant_disc_sorted_by_radius() {
        let w = FourierWindow::new(16, 8).unwrap();
        assert_eq!(w.pixels()[0], [0, 0]);
        // Non-redundant disc of radius 4: (π·16 + 1)/2 ≈ 26 pixels plus half the axis.
        let brute = (-4i32..=4)
            .flat_map(|y| (0i32..=4).map(move |x| (x, y)))
            .filter(|&(x, y)| (x > 0 || y >= 0) && x * x + y * y <= 16)
            .count();
        assert_eq!(w.len(), brute);
        assert!(w.pixels().windows(2).all(|p| {
            let r = |q: [i32; 2]| q[0] * q[0] + q[1] * q[1];
            r(p[0]) <= r(p[1])
        }));
        assert!(!w.pixels().iter().any(|&[x, y]| x == 0 && y < 0));
        assert_eq!(w.len_for(8).unwrap(), w.len());
        let coarse = w.len_for(4).unwrap();
        assert!(
            w.pixels()[..coarse]
                .iter()
                .all(|&[x, y]| x * x + y * y <= 4)
        );
        assert!(w.pixels()[coarse..].iter().all(|&[x, y]| x * x + y * y > 4));
        assert!(w.len_for(10).is_err());
        assert!(FourierWindow::new(16, 18).is_err());
        assert!(w.contains(0, 4) && !w.contains(0, -1) && !w.contains(3, 3));
    }

    #[test]
    fn half_indices_point_at_the_same_frequencies() {
        let w = FourierWindow::new(12, 10).unwrap();
        let img = crate::grid::FourierImage::zeros(6, 1.0).unwrap();
        let idx = w.half_indices(6).unwrap();
        for (i, &j) in idx.iter().enumerate() {
            let [kx, ky] = w.pixels()[i];
            assert_eq!(img.frequency(j), [kx as i64, ky as i64, 0]);
        }
    }

    #[test]
    fn shifting_matches_the_shift_kernel() {
        use crate::fourier::fft::forward;
        use crate::grid::{Image, test_noise::uniform};
        let (n, p) = (16, 2.0);
        let img = Image::from_vec(n, p, uniform(5, n * n)).unwrap();
        let f = forward(&img);
        let w = FourierWindow::new(n, 12).unwrap();
        let gather = |g: &crate::grid::FourierImage, part: fn(&Complex64) -> f64| -> Vec<f32> {
            w.pixels()
                .iter()
                .map(|&[kx, ky]| {
                    let v = g.value_at(kx as i64, ky as i64, 0).unwrap();
                    part(&Complex64::new(v.re as f64, v.im as f64)) as f32
                })
                .collect()
        };
        let t = [0.7, -1.3];
        let mut shifted = f.clone();
        crate::fourier::shift::shift(&mut shifted, [t[0] * p, t[1] * p]);
        let (re, im) = (gather(&f, |c| c.re), gather(&f, |c| c.im));
        let (mut dre, mut dim) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        w.shift(t, (&re, &im), (&mut dre, &mut dim));
        let expect_re = gather(&shifted, |c| c.re);
        let expect_im = gather(&shifted, |c| c.im);
        for i in 0..w.len() {
            assert!((dre[i] - expect_re[i]).abs() < 1e-6, "{i}");
            assert!((dim[i] - expect_im[i]).abs() < 1e-6, "{i}");
        }
    }
}
