//! A small M-step result and job settings shared by the output writers' unit tests.

use cryoflux_operators::records::MapRecord;
use cryoflux_operators::refine::records::IterationPlan;
use cryoflux_operators::refine::records::IterationStats;
use cryoflux_operators::refine::records::Maximised;
use cryoflux_operators::refine::records::NoiseModel;
use cryoflux_operators::refine::records::ParticleUpdate;

use crate::RefineSettings;

/// Names of the fixture's two noise groups.
pub fn group_names() -> Vec<String> {
    vec!["mic1.mrc".into(), "mic2.mrc".into()]
}

/// A small M-step result: box 8 of 2 Å, 5 shells, three particles (halves 1, 2, 1; noise
/// groups 1, 2, 1), norm corrections 0.5, 1, 1.5.
pub fn maximised(local_sigma_deg: Option<f64>) -> Maximised {
    let map = MapRecord {
        box_size: 8,
        pixel_size: 2.0,
        data: vec![0.0; 512],
    };
    let update = |id: u64, half: u8| ParticleUpdate {
        id,
        half,
        pose: Default::default(),
        log_likelihood: -1.0,
        max_probability: 0.5,
        significant_samples: 3,
        angular_change_deg: 0.0,
        norm: 0.5 * (id + 1) as f64,
    };
    Maximised {
        plan: IterationPlan {
            iteration: 2,
            final_iteration: false,
            current_size: 8,
            coarse_size: 6,
            healpix_order: 1,
            local_sigma_deg,
            symmetry: "C1".into(),
            offset_range_angst: 4.0,
            offset_step_angst: 2.0,
            perturbation_deg: 1.5,
            cross_correlation: false,
            ctf_intact_first_peak: false,
            accuracy_every: 1,
            seed: 7,
            particle_diameter_angst: 12.0,
            current_resolution_angst: 8.0,
            low_resolution_join_angst: 40.0,
            block_size: 2,
            norm_correction: true,
            scale_correction: true,
            max_significant: None,
        },
        maps: [map.clone(), map],
        noise: [
            NoiseModel {
                sigma2: vec![vec![1.0; 5], vec![1.5; 5]],
                scales: vec![0.75, 1.25],
                average_norm: 1.0,
            },
            NoiseModel {
                sigma2: vec![vec![2.0; 5], vec![2.5; 5]],
                scales: vec![1.0, 1.0],
                average_norm: 1.0,
            },
        ],
        group_particles: [vec![2, 0], vec![0, 1]],
        sigma_offset_angst: [1.5, 2.5],
        fsc: vec![1.0, 0.9, 0.5, 0.2, 0.0],
        ssnr: vec![999.0, 9.0, 1.0, 0.25, 0.001],
        tau2: vec![99.9, 1.8, 0.4, 0.05, 0.0001],
        updates: vec![update(0, 1), update(1, 2), update(2, 1)],
        stats: IterationStats {
            particles: 3,
            mean_max_probability: 0.5,
            accuracy_rotation_deg: Some(4.0),
            accuracy_translation_angst: None,
            log_likelihood: -3.0,
            ..IterationStats::default()
        },
        final_maps: None,
    }
}

/// Settings of a small job writing under `R/run` (C1, CTF, 5 iterations, seed 7).
pub fn settings() -> RefineSettings {
    RefineSettings {
        ini_high: 16.0,
        ctf: true,
        healpix_order: 1,
        offset_range: 4.0,
        offset_step: 2.0,
        iterations: 5,
        firstiter_cc: true,
        seed: 7,
        ..RefineSettings::new("particles.star", "ref.mrc", "R/run", 12.0)
    }
}
