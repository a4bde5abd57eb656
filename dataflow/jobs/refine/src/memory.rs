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
}
