//! The demo's particles-only first half (`--from particles`): particle images simulated
//! directly (`cryoflux simulate`: random poses, per-micrograph CTFs, SNR-calibrated Gaussian
//! noise) into `Simulate/job001/` (`particles.star`, `particles.mrcs`, `truth.star`).

use cryoflux_kernels::grid::Volume;
use cryoflux_simulate::{SimulationConfig, simulate};

use crate::project::Project;
use crate::refinement::ParticleSet;

/// Simulates `count` particles of `truth` at `snr` (signal variance / noise variance) with
/// `seed`.
pub fn simulate_particles(
    project: &mut Project,
    truth: &Volume,
    count: usize,
    snr: f64,
    seed: u64,
) -> anyhow::Result<ParticleSet> {
    let config = SimulationConfig::typical(count, seed, snr);
    let simulated = simulate(truth, &config, &project.job("Simulate"))?;
    eprintln!(
        "cryoflux demo: simulated {} particles in {:.1} s",
        simulated.particles, simulated.seconds
    );
    Ok(ParticleSet {
        star: simulated.particles_star,
        true_poses: simulated.truth_star,
        count: simulated.particles,
    })
}
