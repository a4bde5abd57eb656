//! The scoring interface of the E-step inner loop: a batch of (rotation, translation) pairs of
//! one particle in, one score per pair out. Implementations: [`CpuScorer`](super::CpuScorer)
//! (fast, f32), [`ReferenceScorer`](super::ReferenceScorer) (float64 brute force, the oracle
//! every implementation is tested against); a GPU implementation (cudarc, behind a `cuda`
//! feature) would implement the same trait, with the projector grid and the particle arrays
//! uploaded once and the pairs processed in one launch.

use glam::DMat3;

use super::{EstepError, PreparedParticle, ProjectionBank};
use crate::fourier::projector::Projector;

/// What a score is (lower is better for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// d²(θ) of refine.md §1.4: Σ_{k ∈ window, r > 0} |S·CTF·P_R − X_t|²/(2σ²(r)) plus
    /// ½·Σ|X|² beyond the current window.
    Diff2,
    /// −CC(θ) of refine.md §1.8: −Σ Re(CTF·P_R·conj X_t)/(‖CTF·P_R‖·‖X_t‖) over the window
    /// without DC.
    NegativeCc,
}

/// One batch of scores for one particle.
#[derive(Debug, Clone, Copy)]
pub struct ScoreRequest<'a> {
    /// The reference (one half set's map), same box and pixel size as the particle.
    pub projector: &'a Projector,
    /// The particle.
    pub particle: &'a PreparedParticle<'a>,
    /// Window size in pixels (even, ≤ current size): coarse_size in pass 1, current_size in
    /// pass 2.
    pub size: usize,
    /// Which score.
    pub metric: Metric,
    /// Rotations (RELION's matrix A, perturbation included), or precomputed slices.
    pub rotations: Rotations<'a>,
    /// Translations t in pixels of the particle box (x, y): the image is moved by +t
    /// (X_t(k) = X(k)·exp(−2πi·k·t/N)) before the comparison.
    pub translations_px: &'a [[f64; 2]],
    /// The (rotation index, translation index) pairs to score.
    pub pairs: Pairs<'a>,
}

/// Which (rotation, translation) pairs a request scores, by index into its lists.
#[derive(Debug, Clone, Copy)]
pub enum Pairs<'a> {
    /// These pairs, in this order. Pairs sharing a rotation should be consecutive:
    /// implementations may project once per run of equal rotation indices.
    List(&'a [(u32, u32)]),
    /// Every rotation with every translation, rotation-major: (0, 0), (0, 1), …, (1, 0), …
    All,
}

/// The rotations of a request: matrices to project, or slices precomputed in a bank.
#[derive(Debug, Clone, Copy)]
pub enum Rotations<'a> {
    /// Rotation matrices; slices are made on the fly.
    Matrices(&'a [DMat3]),
    /// Rotation i of the pairs is slice `indices[i]` of `bank` (made from the same reference).
    Bank {
        /// The precomputed slices (size ≥ the request's size).
        bank: &'a ProjectionBank,
        /// Bank slice of each rotation.
        indices: &'a [u32],
    },
}

impl Rotations<'_> {
    /// Number of rotations.
    pub fn len(&self) -> usize {
        match self {
            Rotations::Matrices(m) => m.len(),
            Rotations::Bank { indices, .. } => indices.len(),
        }
    }

    /// Whether there is no rotation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matrix of rotation `i` (identity when out of range; [`ScoreRequest::validate`] rules
    /// that out).
    pub fn matrix(&self, i: usize) -> DMat3 {
        let m = match self {
            Rotations::Matrices(m) => m.get(i),
            Rotations::Bank { bank, indices } => {
                indices.get(i).and_then(|&j| bank.rotation(j as usize))
            }
        };
        m.copied().unwrap_or(DMat3::IDENTITY)
    }
}

impl ScoreRequest<'_> {
    /// Number of pairs (scores) of the request.
    pub fn pair_count(&self) -> usize {
        match self.pairs {
            Pairs::List(pairs) => pairs.len(),
            Pairs::All => self.rotations.len() * self.translations_px.len(),
        }
    }

    /// The pairs in score order.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let (list, rotations) = match self.pairs {
            Pairs::List(pairs) => (pairs, 0),
            Pairs::All => (&[][..], self.rotations.len() as u32),
        };
        let translations = self.translations_px.len() as u32;
        list.iter()
            .copied()
            .chain((0..rotations).flat_map(move |r| (0..translations).map(move |t| (r, t))))
    }

    /// Checks that the projector matches the particle box and that every pair indexes the
    /// lists; returns the number of window pixels of `size`.
    pub fn validate(&self) -> Result<usize, EstepError> {
        let window = self.particle.window();
        crate::grid::check_same_box(
            "projector box vs particle box",
            window.ori_size(),
            self.projector.geometry().ori_size,
        )?;
        let (p, q) = (
            self.particle.pixel_size(),
            self.projector.geometry().pixel_size,
        );
        if (p - q).abs() > 1e-4 * p {
            return Err(EstepError::invalid(
                "projector pixel size (Å)",
                q,
                format!("the particle's {p} Å"),
            ));
        }
        let pixels = window.len_for(self.size)?;
        if let Rotations::Bank { bank, indices } = self.rotations {
            crate::grid::check_same_box(
                "projection bank box vs particle box",
                window.ori_size(),
                bank.ori_size(),
            )?;
            if bank.size() < self.size {
                return Err(EstepError::invalid(
                    "projection bank size (pixels)",
                    bank.size(),
                    format!("at least the request's {}", self.size),
                ));
            }
            if let Some(j) = indices.iter().find(|&&j| j as usize >= bank.len()) {
                return Err(EstepError::invalid(
                    "projection bank index",
                    j,
                    format!("below {}", bank.len()),
                ));
            }
        }
        let (nr, nt) = (self.rotations.len(), self.translations_px.len());
        let list = match self.pairs {
            Pairs::List(pairs) => pairs,
            Pairs::All => &[],
        };
        if let Some(&(r, t)) = list
            .iter()
            .find(|&&(r, t)| r as usize >= nr || t as usize >= nt)
        {
            return Err(EstepError::invalid(
                "score pair (rotation, translation)",
                format!("({r}, {t})"),
                format!("indices below ({nr}, {nt})"),
            ));
        }
        if let Some(t) = self
            .translations_px
            .iter()
            .find(|t| !(t[0].is_finite() && t[1].is_finite()))
        {
            return Err(EstepError::invalid(
                "translation (pixels)",
                format!("{t:?}"),
                "finite",
            ));
        }
        Ok(pixels)
    }
}

/// Scores batches of poses of one particle; see the module doc.
pub trait Scorer {
    /// Clears `out` and writes one score per pair of `request`, in pair order.
    fn score(&self, request: &ScoreRequest<'_>, out: &mut Vec<f64>) -> Result<(), EstepError>;
}
