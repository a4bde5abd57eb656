//! How much memory the final iteration of a refinement needs (it is the largest: full box, both
//! halves' accumulators, unregularised and joined reconstructions), so that the driver can say
//! it in the log before starting, next to the memory available
//! ([`cryoflux_operators::refine::projections::available_memory_bytes`]), and stop with a message,
//! after the last checkpoint, instead of being killed half-way.
//!
//! The estimate, in bytes, for box N, padding 2 (padded half grid: 4N³ voxels), W workers in
//! this process, B blocks per half set and n particles:
//! - once per process: both halves' projectors (complex f32, 8 B/voxel), shared by its workers;
//! - per worker, per half: up to log₂B + 1 live partial sums (backprojector: complex f64 data +
//!   f64 weight, 24 B/voxel);
//! - worker 0's M-step: the reduction's sums plus the reconstruction's padded f64 arrays
//!   (about four backprojectors in all);
//! - the particle images (f32, N² each) held once by the expectation operators, and their
//!   prepared Fourier copies (about as much again).
//!
//! The global searches before it ([`GlobalSearch`]) cost what the orientation grid costs: for
//! HEALPix order o and a point group of order |G|, 12·4^o/|G| directions × 6·2^o psi angles;
//! per worker, the list of coarse orientations and their perturbed matrices, and one f64 score
//! per orientation and translation of the particle being searched; once per process, the
//! sampling's directions (12·4^o of them, with |G| copies each for local searches). Order 9
//! is 10¹⁰ orientations, about a terabyte: such orders are refused before any work. The coarse
//! slices of the projection bank are left out: they are built only when they fit (otherwise
//! each particle projects its own).

use cryoflux_kernels::estep::CoarseOrientation;
use cryoflux_kernels::geometry::sampling::Direction;
use glam::{DMat3, DVec3};

/// Bytes per padded half-grid voxel of a projector (complex f32).
const PROJECTOR_VOXEL: f64 = 8.0;

/// Bytes per padded half-grid voxel of a backprojector (complex f64 + f64 weight).
const BACKPROJECTOR_VOXEL: f64 = 24.0;

/// What the final iteration holds, for the estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalIteration {
    /// Box N (pixels).
    pub box_size: usize,
    /// Particles in the job.
    pub particles: usize,
    /// Timely workers in this process.
    pub workers: usize,
    /// Reduction blocks per half set.
    pub blocks_per_half: usize,
}

impl FinalIteration {
    /// Estimated peak memory of the final iteration in bytes (see the module doc).
    pub fn bytes(&self) -> f64 {
        let n = self.box_size as f64;
        let padded_voxels = 4.0 * n * n * n;
        let live_sums = (self.blocks_per_half.max(1) as f64).log2().ceil() + 1.0;
        let projectors = 2.0 * padded_voxels * PROJECTOR_VOXEL;
        let per_worker = padded_voxels * 2.0 * live_sums * BACKPROJECTOR_VOXEL;
        let m_step = 4.0 * padded_voxels * BACKPROJECTOR_VOXEL;
        let images = 2.0 * self.particles as f64 * n * n * 4.0;
        projectors + self.workers.max(1) as f64 * per_worker + m_step + images
    }
}

/// A global orientation search of one iteration, for the estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalSearch {
    /// HEALPix order of the coarse grid.
    pub healpix_order: u32,
    /// Order |G| of the point group (1 for C1).
    pub symmetry_order: usize,
    /// Coarse translations per particle.
    pub translations: usize,
    /// Timely workers in this process.
    pub workers: usize,
}

impl GlobalSearch {
    /// Number of coarse orientations: 12·4^o/|G| directions × 6·2^o psi angles.
    pub fn orientations(&self) -> f64 {
        let directions = 12.0 * 4f64.powi(self.healpix_order as i32);
        directions / self.symmetry_order.max(1) as f64 * 6.0 * 2f64.powi(self.healpix_order as i32)
    }

    /// Estimated bytes of the search in this process (see the module doc).
    pub fn bytes(&self) -> f64 {
        let all_directions = 12.0 * 4f64.powi(self.healpix_order as i32);
        let sampling = all_directions * (size_of::<Direction>() + size_of::<DVec3>()) as f64;
        let per_orientation = (size_of::<CoarseOrientation>() + size_of::<DMat3>()) as f64
            + 8.0 * self.translations as f64;
        sampling + self.workers.max(1) as f64 * self.orientations() * per_orientation
    }

    /// The largest HEALPix order (at most `below`) whose search fits in `available` bytes, if
    /// any.
    pub fn largest_order_within(&self, available: f64, below: u32) -> Option<u32> {
        (0..below).rev().find(|&o| {
            GlobalSearch {
                healpix_order: o,
                ..*self
            }
            .bytes()
                <= available
        })
    }
}

/// `bytes` in GB with two decimals.
pub fn gigabytes(bytes: f64) -> String {
    format!("{:.2} GB", bytes / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_the_box_cubed_and_the_workers() {
        let base = FinalIteration {
            box_size: 64,
            particles: 1000,
            workers: 2,
            blocks_per_half: 16,
        };
        let small = base.bytes();
        // 4·64³ voxels × (16 B + 2 workers × 2·5·24 B + 4·24 B) = 621 MB, plus 33 MB of images.
        assert!((small / 1e9 - 0.654).abs() < 0.001, "{small}");
        let big = FinalIteration {
            box_size: 128,
            ..base
        };
        assert!(big.bytes() > 7.0 * small);
        let more_workers = FinalIteration { workers: 4, ..base };
        assert!(more_workers.bytes() > 1.5 * small);
        assert_eq!(gigabytes(1.5e9), "1.50 GB");
    }

    #[test]
    fn the_global_search_estimate_counts_every_orientation() {
        let search = GlobalSearch {
            healpix_order: 2,
            symmetry_order: 1,
            translations: 21,
            workers: 2,
        };
        // 192 directions × 24 psi angles.
        assert_eq!(search.orientations(), 4608.0);
        assert!(search.bytes() < 0.01e9, "{}", search.bytes());
        // Order 9: 3.1 million directions × 3 072 psi angles, about 10¹⁰ orientations and more
        // than a terabyte with two workers, where the final-iteration estimate stays tiny.
        let order9 = GlobalSearch {
            healpix_order: 9,
            ..search
        };
        assert!((order9.orientations() - 9.66e9).abs() < 0.01e9);
        assert!(order9.bytes() > 1e12, "{}", order9.bytes());
        let symmetric = GlobalSearch {
            symmetry_order: 4,
            ..order9
        };
        assert!(symmetric.bytes() < 0.3 * order9.bytes());
        assert_eq!(order9.largest_order_within(16e9, 9), Some(6));
        assert_eq!(order9.largest_order_within(1e3, 9), None);
    }
}
