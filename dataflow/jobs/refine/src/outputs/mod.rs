//! RELION-style outputs of a refinement (refine.md §8.1), all written atomically and readable by
//! RELION 3.1.3 (`relion_refine --continue`, `relion_reconstruct`, `relion_postprocess`).
//!
//! Per iteration NNN: `<root>_itNNN_half{1,2}_class001.mrc` (solvent-flattened references),
//! `<root>_itNNN_half{1,2}_model.star` ([`model`]), `<root>_itNNN_half{1,2}_class001_angdist.bild`
//! ([`angdist`]), `<root>_itNNN_data.star` and `<root>_itNNN_data.parquet` ([`data`]),
//! `<root>_itNNN_sampling.star` ([`sampling`]) and `<root>_itNNN_optimiser.star`
//! ([`optimiser`]). Iteration 0 writes the low-passed start reference as both half maps. The
//! final iteration also writes `<root>_class001.mrc` (joined halves),
//! `<root>_half{1,2}_class001_unfil.mrc`, `<root>_class001_angdist.bild`, `<root>_data.star`,
//! `<root>_data.parquet`, `<root>_model.star`, `<root>_sampling.star` and
//! `<root>_optimiser.star`.
//!
//! Paths inside the STAR files (reference images, the optimiser's model/data/sampling files)
//! are written as `<root>…` exactly as the output root was given, like RELION's: relative
//! roots are relative to the folder the job ran in.

pub mod angdist;
pub mod data;
pub mod model;
pub mod optimiser;
pub mod sampling;

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_formats::table::{ParticleTable, write_parquet};
use cryoflux_kernels::geometry::sampling::OrientationSampling;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use cryoflux_kernels::grid::Volume;
use cryoflux_operators::records::MapRecord;
use cryoflux_operators::refine::records::Maximised;

use super::RefineSettings;
use super::groups::NoiseGroups;
use super::schedule::Schedule;
use angdist::{AngularDistribution, write_bild};
use cryoflux_jobkit::maps::{Grids, write_grids};
use cryoflux_jobkit::particles::ParticleSet;
use model::{ModelInfo, model_star};
use optimiser::{OptimiserFiles, optimiser_star, oversampling_order, write_optimiser};

/// Writes the files of one job under an output root.
#[derive(Debug)]
pub struct Outputs<'a> {
    settings: &'a RefineSettings,
    set: &'a ParticleSet,
    halves: Vec<u8>,
    groups: NoiseGroups,
}

impl<'a> Outputs<'a> {
    /// Outputs under `settings.output_root` (its folder is created) for the particles of `set`
    /// split into `halves` (1 or 2 per row) and noise `groups`.
    pub fn new(
        settings: &'a RefineSettings,
        set: &'a ParticleSet,
        halves: Vec<u8>,
        groups: NoiseGroups,
    ) -> anyhow::Result<Self> {
        let root = &settings.output_root;
        if let Some(dir) = root.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        }
        Ok(Self {
            settings,
            set,
            halves,
            groups,
        })
    }

    /// `<root><suffix>`.
    pub fn path(&self, suffix: &str) -> PathBuf {
        let mut name = self.settings.output_root.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Iteration 0: the low-passed reference as both half maps.
    pub fn start(&self, reference: &Volume) -> anyhow::Result<()> {
        for half in 1..=2 {
            let path = self.path(&format!("_it000_half{half}_class001.mrc"));
            write_grids(&path, &Grids::Volume(reference.clone()))?;
        }
        Ok(())
    }

    /// The files of one iteration (and the final files after the final iteration).
    /// `schedule` is the schedule after the iteration (what the next one would start from) and
    /// `resolution_angst` the iteration's resolution as logged.
    pub fn iteration(
        &self,
        m: &Maximised,
        schedule: &Schedule,
        resolution_angst: f64,
    ) -> anyhow::Result<()> {
        let symmetry = SymmetryGroup::parse(&m.plan.symmetry)
            .with_context(|| format!("symmetry {}", m.plan.symmetry))?;
        let sampling = OrientationSampling::new(m.plan.healpix_order, &symmetry)
            .with_context(|| format!("HEALPix order {}", m.plan.healpix_order))?;
        let fine_step_deg = sampling.angular_step_deg(oversampling_order(schedule));
        let it = format!("_it{:03}", m.plan.iteration);
        for (h, map) in m.maps.iter().enumerate() {
            let half = h as u8 + 1;
            let stem = format!("{it}_half{half}");
            let reference = self.path(&format!("{stem}_class001.mrc"));
            write_map(&reference, map)?;
            let pdf =
                AngularDistribution::of(&sampling, m.updates.iter().filter(|u| u.half == half));
            let model = ModelInfo {
                resolution_angst,
                half,
                reference_image: &reference,
                orientation_distribution: pdf.fractions(),
                group_names: self.groups.names(),
            };
            self.model(m, &model, &pdf, fine_step_deg, &stem)?;
        }
        self.data(m, &format!("{it}_data"))?;
        let sampling_star = sampling::sampling_star(&m.plan, &sampling);
        sampling_star.write(&self.path(&format!("{it}_sampling.star")))?;
        let files = OptimiserFiles {
            root: self.path(""),
            models: [1, 2].map(|h| self.path(&format!("{it}_half{h}_model.star"))),
            data: self.path(&format!("{it}_data.star")),
            sampling: self.path(&format!("{it}_sampling.star")),
        };
        let optimiser = optimiser_star(&files, m, schedule, self.settings);
        write_optimiser(&self.path(&format!("{it}_optimiser.star")), &optimiser)?;
        if let Some(maps) = &m.final_maps {
            let reference = self.path("_class001.mrc");
            write_map(&reference, &maps.joined)?;
            for (h, map) in maps.unfiltered.iter().enumerate() {
                write_map(
                    &self.path(&format!("_half{}_class001_unfil.mrc", h + 1)),
                    map,
                )?;
            }
            let pdf = AngularDistribution::of(&sampling, m.updates.iter());
            let model = ModelInfo {
                resolution_angst,
                half: 0,
                reference_image: &reference,
                orientation_distribution: pdf.fractions(),
                group_names: self.groups.names(),
            };
            self.model(m, &model, &pdf, fine_step_deg, "")?;
            self.data(m, "_data")?;
            sampling_star.write(&self.path("_sampling.star"))?;
            let files = OptimiserFiles {
                data: self.path("_data.star"),
                sampling: self.path("_sampling.star"),
                ..files
            };
            let optimiser = optimiser_star(&files, m, schedule, self.settings);
            write_optimiser(&self.path("_optimiser.star"), &optimiser)?;
        }
        Ok(())
    }

    /// `<root><stem>_model.star` and `<root><stem>_class001_angdist.bild` (`pdf` drawn for the
    /// fine angular step `fine_step_deg`, degrees).
    fn model(
        &self,
        m: &Maximised,
        info: &ModelInfo,
        pdf: &AngularDistribution,
        fine_step_deg: f64,
        stem: &str,
    ) -> anyhow::Result<()> {
        model_star(m, info)?.write(&self.path(&format!("{stem}_model.star")))?;
        let map = &m.maps[0];
        write_bild(
            &self.path(&format!("{stem}_class001_angdist.bild")),
            pdf,
            map.box_size,
            map.pixel_size,
            fine_step_deg,
        )
    }

    /// `<root><stem>.star` and `<root><stem>.parquet`.
    fn data(&self, m: &Maximised, stem: &str) -> anyhow::Result<()> {
        let star = data::data_star(self.set, &self.halves, &self.groups, m)?;
        let star_path = self.path(&format!("{stem}.star"));
        star.write(&star_path)?;
        let table = ParticleTable::from_star(star, &star_path)?;
        write_parquet(&table, &self.path(&format!("{stem}.parquet")))?;
        Ok(())
    }
}

fn write_map(path: &Path, map: &MapRecord) -> anyhow::Result<()> {
    write_grids(path, &Grids::Volume(map.to_volume()?))
}

#[cfg(test)]
mod fixture;
