//! Cross-correlation mode (refine.md §1.8, `--firstiter_cc` / `--always_cc`): the score is the
//! normalised correlation between the CTF-modulated projection and the shifted image; the best
//! sample of each pass gets weight 1 and every other 0.

use super::diff2::lane_sum;

/// The correlation coefficient Σ Re(A·conj X)/(‖A‖·‖X‖) from its parts: the cross term and
/// the squared norms; 0 when either norm is 0.
pub fn correlation(cross: f64, a_norm2: f64, x_norm2: f64) -> f64 {
    let den = (a_norm2 * x_norm2).sqrt();
    if den > 0.0 { cross / den } else { 0.0 }
}

/// Σ (a_re·x_re + a_im·x_im) over equally long split-complex arrays: Σ Re(A·conj X).
pub(super) fn cross_term(a: (&[f32], &[f32]), x: (&[f32], &[f32])) -> f64 {
    lane_sum(a, x, |ar, ai, xr, xi| ar * xr + ai * xi)
}

/// Index of the lowest score (the first one on ties): the winner that gets weight 1.
pub(super) fn winner(scores: &[f64]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_of_proportional_vectors_is_one() {
        let a = ([1.0f32, 2.0, -1.0], [0.5f32, 0.0, 3.0]);
        let x = (a.0.map(|v| 2.0 * v), a.1.map(|v| 2.0 * v));
        let c = cross_term((&a.0, &a.1), (&x.0, &x.1));
        let na = cross_term((&a.0, &a.1), (&a.0, &a.1));
        let nx = cross_term((&x.0, &x.1), (&x.0, &x.1));
        assert!((correlation(c, na, nx) - 1.0).abs() < 1e-7);
        assert_eq!(correlation(1.0, 0.0, 2.0), 0.0);
        assert_eq!(winner(&[0.3, -0.9, 0.1, -0.9]), Some(1));
        assert_eq!(winner(&[]), None);
    }
}
