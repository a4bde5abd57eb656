//! RELION's third-order polynomial local motion model (`rlnMotionModelVersion` 1) and its
//! least-squares fit to patch observations.
//!
//! For each axis, `shift(z, x, y) = Σ_s T_s(x, y) · (a_s·z + b_s·z² + c_s·z³)` over the six
//! spatial terms `T = [1, x, x², y, y², xy]`, where z is the frame index counted from the first
//! summed frame (0-based; RELION's patch observations sit at a group's centre,
//! `start + size/2`, so z = f + 0.5 for single frames) and x, y are the position normalised
//! to the movie: `x = X/width − 0.5`, `y = Y/height − 0.5` (X, Y in px). Coefficient `3·s + p`
//! (p = 0, 1, 2 for z, z², z³) is `rlnMotionModelCoeffsIdx` 0–17 for x and 18–35 for y. The
//! shift is in px and, like the global shifts, is the translation that aligns the frame; the
//! model is zero at z = 0.

use super::patches::PatchObservation;
use crate::grid::GridError;

/// Number of coefficients per axis.
const PER_AXIS: usize = 18;

/// RELION's largest accepted fit RMSD per axis, in (unbinned) px: at or above it the model is
/// dropped.
pub const MAX_FIT_RMSD: f64 = 10.0;

/// RELION's third-order polynomial motion model: 18 coefficients for x then 18 for y, in
/// `rlnMotionModelCoeffsIdx` order; shifts in px.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolynomialMotion {
    /// Coefficients 0–17 (x) and 18–35 (y), px per frame^p.
    pub coefficients: [f64; 36],
}

impl PolynomialMotion {
    /// The local shift [x, y] in px at normalised position (`x`, `y`) (each in −0.5 … 0.5)
    /// and frame `frame` (z, counted from the first summed frame).
    pub fn local_shift(&self, x: f64, y: f64, frame: f64) -> [f64; 2] {
        let basis = basis(x, y, frame);
        let dot = |c: &[f64]| c.iter().zip(&basis).map(|(a, b)| a * b).sum();
        [
            dot(&self.coefficients[..PER_AXIS]),
            dot(&self.coefficients[PER_AXIS..]),
        ]
    }

    /// The model along one row: for each axis the coefficients [a, b, c] of the local shift
    /// a + b·x + c·x² (px) at normalised `y` and frame `frame`, x the normalised column, so a
    /// whole row costs one evaluation of the time polynomials (the local sum of a 4k frame
    /// evaluates the model at every pixel of every frame).
    pub fn along_row(&self, y: f64, frame: f64) -> [[f64; 3]; 2] {
        let time = [frame, frame * frame, frame * frame * frame];
        let axis = |c: &[f64]| {
            // Spatial term s = [1, x, x², y, y², xy] weighted by its time polynomial.
            let p: Vec<f64> = (0..6)
                .map(|s| (0..3).map(|t| c[3 * s + t] * time[t]).sum())
                .collect();
            [p[0] + y * p[3] + y * y * p[4], p[1] + y * p[5], p[2]]
        };
        [
            axis(&self.coefficients[..PER_AXIS]),
            axis(&self.coefficients[PER_AXIS..]),
        ]
    }
}

/// A fitted model and how well it explains the observations.
#[derive(Debug, Clone, PartialEq)]
pub struct PolynomialFit {
    /// The least-squares model.
    pub motion: PolynomialMotion,
    /// Root-mean-square residual per axis [x, y], in px.
    pub rmsd: [f64; 2],
}

impl PolynomialFit {
    /// The model, or `None` when RELION would drop it: RMSD ≥ `max_rmsd` px on either axis
    /// (RELION: [`MAX_FIT_RMSD`], compared in unbinned px).
    pub fn accepted(&self, max_rmsd: f64) -> Option<&PolynomialMotion> {
        (self.rmsd[0] < max_rmsd && self.rmsd[1] < max_rmsd).then_some(&self.motion)
    }
}

/// The 18 basis values at normalised (x, y) and frame z, in coefficient order.
fn basis(x: f64, y: f64, z: f64) -> [f64; PER_AXIS] {
    let spatial = [1.0, x, x * x, y, y * y, x * y];
    let mut out = [0.0; PER_AXIS];
    for (s, t) in spatial.iter().enumerate() {
        out[3 * s] = t * z;
        out[3 * s + 1] = t * z * z;
        out[3 * s + 2] = t * z * z * z;
    }
    out
}

/// Least-squares fit of the model to patch observations (local shifts in px, patch centres in
/// px) of a `width` × `height` px movie. RELION needs more than 18 observations.
pub fn fit_polynomial(
    observations: &[PatchObservation],
    width: usize,
    height: usize,
) -> Result<PolynomialFit, GridError> {
    if observations.len() <= PER_AXIS {
        return Err(GridError::Mismatch {
            what: "patch observations for the polynomial motion model",
            expected: format!("more than {PER_AXIS}"),
            found: observations.len().to_string(),
        });
    }
    if width == 0 || height == 0 {
        return Err(GridError::Mismatch {
            what: "movie size for the polynomial motion model",
            expected: "width and height > 0 px".into(),
            found: format!("{width} × {height} px"),
        });
    }
    let rows: Vec<[f64; PER_AXIS]> = observations
        .iter()
        .map(|o| {
            let (x, y) = normalised(o.centre, width, height);
            basis(x, y, o.frame)
        })
        .collect();
    let mut coefficients = [0.0; 36];
    for axis in 0..2 {
        let targets: Vec<f64> = observations.iter().map(|o| o.shift[axis]).collect();
        let solution = least_squares(&rows, &targets).ok_or_else(|| GridError::Mismatch {
            what: "patch observations for the polynomial motion model",
            expected: "observations spread over enough frames and patches to fix all 18 \
                       coefficients per axis"
                .into(),
            found: "a rank-deficient design".into(),
        })?;
        coefficients[axis * PER_AXIS..(axis + 1) * PER_AXIS].copy_from_slice(&solution);
    }
    let motion = PolynomialMotion { coefficients };
    let mut sum_sq = [0.0; 2];
    for o in observations {
        let (x, y) = normalised(o.centre, width, height);
        let fitted = motion.local_shift(x, y, o.frame);
        for axis in 0..2 {
            sum_sq[axis] += (o.shift[axis] - fitted[axis]).powi(2);
        }
    }
    let n = observations.len() as f64;
    Ok(PolynomialFit {
        motion,
        rmsd: [(sum_sq[0] / n).sqrt(), (sum_sq[1] / n).sqrt()],
    })
}

/// Position in px → RELION's normalised coordinates.
fn normalised(centre: [f64; 2], width: usize, height: usize) -> (f64, f64) {
    (
        centre[0] / width as f64 - 0.5,
        centre[1] / height as f64 - 0.5,
    )
}

/// Minimises ‖A·c − b‖ by Householder QR on column-scaled A (rows of A given); `None` when a
/// column is (numerically) dependent on the others.
fn least_squares(rows: &[[f64; PER_AXIS]], b: &[f64]) -> Option<[f64; PER_AXIS]> {
    let m = rows.len();
    let scale: Vec<f64> = (0..PER_AXIS)
        .map(|j| rows.iter().map(|r| r[j] * r[j]).sum::<f64>().sqrt())
        .collect();
    if scale.contains(&0.0) {
        return None;
    }
    // Column-major copy of the scaled matrix, and the right-hand side.
    let mut a: Vec<Vec<f64>> = (0..PER_AXIS)
        .map(|j| rows.iter().map(|r| r[j] / scale[j]).collect())
        .collect();
    let mut rhs = b.to_vec();
    for k in 0..PER_AXIS {
        let norm = a[k][k..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm < 1e-10 {
            return None;
        }
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v = a[k][k..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let reflect = |col: &mut [f64]| {
            let dot: f64 = v.iter().zip(col.iter()).map(|(p, q)| p * q).sum();
            let f = 2.0 * dot / vv;
            col.iter_mut().zip(&v).for_each(|(c, p)| *c -= f * p);
        };
        for col in a.iter_mut().skip(k) {
            reflect(&mut col[k..m]);
        }
        reflect(&mut rhs[k..m]);
    }
    let mut c = [0.0; PER_AXIS];
    for k in (0..PER_AXIS).rev() {
        let known: f64 = (k + 1..PER_AXIS).map(|j| a[j][k] * c[j]).sum();
        c[k] = (rhs[k] - known) / a[k][k];
    }
    for (value, s) in c.iter_mut().zip(&scale) {
        *value /= s;
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_along_a_row_is_the_model() {
        let motion = PolynomialMotion {
            coefficients: std::array::from_fn(|i| ((i * 7 % 11) as f64 - 5.0) * 0.01),
        };
        for (x, y, z) in [(-0.4, 0.3, 2.0), (0.1, -0.5, 7.5), (0.45, 0.05, 0.0)] {
            let [cx, cy] = motion.along_row(y, z);
            let row = [
                cx[0] + x * (cx[1] + x * cx[2]),
                cy[0] + x * (cy[1] + x * cy[2]),
            ];
            let direct = motion.local_shift(x, y, z);
            assert!((row[0] - direct[0]).abs() < 1e-12 && (row[1] - direct[1]).abs() < 1e-12);
        }
    }

    fn example() -> PolynomialMotion {
        let mut coefficients = [0.0; 36];
        for (i, c) in coefficients.iter_mut().enumerate() {
            // Decreasing with the power of z so that shifts stay a few px over 20 frames.
            *c = ((i * 7 % 11) as f64 - 5.0) * 0.3 / 10f64.powi((i % 3) as i32 + 1);
        }
        PolynomialMotion { coefficients }
    }

    #[test]
    fn coefficient_order_is_relions() {
        // Only coefficient 3·s + p is set: the shift is T_s(x, y)·z^(p+1) on that axis.
        let (x, y, z) = (0.3, -0.2, 2.0);
        let spatial = [1.0, x, x * x, y, y * y, x * y];
        for index in 0..36 {
            let mut coefficients = [0.0; 36];
            coefficients[index] = 1.0;
            let shift = PolynomialMotion { coefficients }.local_shift(x, y, z);
            let (axis, i) = (index / 18, index % 18);
            let expected = spatial[i / 3] * z.powi((i % 3) as i32 + 1);
            assert!((shift[axis] - expected).abs() < 1e-12, "index {index}");
            assert_eq!(shift[1 - axis], 0.0, "index {index}");
        }
    }

    #[test]
    fn fit_is_exact_on_noiseless_polynomial_data() {
        let truth = example();
        let (width, height) = (4096, 3072);
        let mut observations = Vec::new();
        for frame in 0..20 {
            for py in 0..5 {
                for px in 0..5 {
                    let centre = [409.0 + 819.0 * px as f64, 306.0 + 614.0 * py as f64];
                    let z = frame as f64 + 0.5;
                    let (x, y) = normalised(centre, width, height);
                    observations.push(PatchObservation {
                        centre,
                        frame: z,
                        shift: truth.local_shift(x, y, z),
                    });
                }
            }
        }
        let fit = fit_polynomial(&observations, width, height).unwrap();
        for (a, b) in fit.motion.coefficients.iter().zip(&truth.coefficients) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!(fit.rmsd[0] < 1e-9 && fit.rmsd[1] < 1e-9);
        assert!(fit.accepted(MAX_FIT_RMSD).is_some());
    }

    #[test]
    fn poor_fits_are_rejected_and_too_few_observations_refused() {
        // Alternating ±15 px cannot be followed by a cubic: RMSD ≥ 10 px, model dropped.
        let observations: Vec<PatchObservation> = (0..100)
            .map(|i| PatchObservation {
                centre: [
                    (i % 5) as f64 * 100.0 + 50.0,
                    (i / 5 % 5) as f64 * 100.0 + 50.0,
                ],
                frame: (i / 25) as f64 + 0.5,
                shift: [if i % 2 == 0 { 15.0 } else { -15.0 }, 0.0],
            })
            .collect();
        let fit = fit_polynomial(&observations, 500, 500).unwrap();
        assert!(fit.rmsd[0] >= MAX_FIT_RMSD, "{:?}", fit.rmsd);
        assert!(fit.accepted(MAX_FIT_RMSD).is_none());
        assert!(fit_polynomial(&observations[..18], 500, 500).is_err());
    }
}
