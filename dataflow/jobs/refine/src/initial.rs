//! Iteration 0 of a refinement (refine.md §0.6, §2.7, §5.2–5.3): load and check the particles,
//! split them into half sets, estimate the initial noise spectrum, and prepare the reference.
//!
//! - Half sets: `rlnRandomSubset` when every particle has 1 or 2; otherwise a seeded random
//!   permutation dealt alternately to halves 1 and 2 (balanced, unlike RELION's coin flips).
//! - Noise groups ([`NoiseGroups`]) and norm corrections: rlnNormCorrection when the table has
//!   it (positive, finite), else 1; the mean norm correction n̄ starts as their mean.
//! - σ²_g(r) = (mean over the images of group g of the shell-mean |X(k)|² − shell-mean
//!   |X̄(k)|²)/2, X̄ the average image of all particles, each image masked first with the
//!   E-step's soft circular mask (radius particle_diameter/2, 5-pixel edge, outside set to its
//!   mean as with RELION's `--zero_mask`), so that σ² describes the noise the likelihood sees,
//!   and with norm correction multiplied by n̄/n_i as the E-step does; non-positive values take
//!   the previous shell's value.
//! - Reference: its box and pixel size must equal the particles'. With `--rescale_ref` a
//!   reference that differs is brought onto their grid as `cryoflux image --rescale_angpix …
//!   --new_box …` would (Fourier resampling to the particles' pixel size, then a real-space
//!   crop or zero-pad to their box; the residual pixel-size difference from rounding the box to
//!   an even size, < 1/box, is dropped: it is far below the `ini_high` resolution); otherwise a
//!   difference is an error. It is then low-passed to `ini_high` Å with RELION's raised cosine
//!   2 shells wide.
//! - Solvent mask (`--solvent_mask`): same box and pixel size as the particles, every value
//!   finite and in [0, 1] (within 10⁻³; then clipped), else an error naming the file.
//! - Every image and the reference are checked for NaN/∞ before any iteration.

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_kernels::estep::{MaskFill, ParticleMask};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::low_pass;
use cryoflux_kernels::fourier::rescale::{rescale_to_pixel_size, window_real};
use cryoflux_kernels::fourier::spectrum::shell_average;
use cryoflux_kernels::grid::{Image, Volume};
use cryoflux_kernels::mask::soft_mask_outside;
use cryoflux_kernels::random::mix;
use cryoflux_operators::records::CtfRecord;
use cryoflux_operators::records::MapRecord;
use cryoflux_operators::records::PoseRecord;
use cryoflux_operators::refine::records::NoiseModel;
use cryoflux_operators::refine::records::ParticleRecord;
use cryoflux_operators::refine::records::SolventMask;

use super::groups::NoiseGroups;
use super::normalisation::Background;

use cryoflux_jobkit::maps::read_volume;
use cryoflux_jobkit::maps::same_pixel_size;
use cryoflux_jobkit::particles::{LoadOptions, ParticleSet};

/// How far a solvent-mask value may stray outside [0, 1] before it is an error.
const MASK_RANGE_TOLERANCE: f32 = 1e-3;

/// The particles of a job, ready to be sent into the dataflow.
#[derive(Debug)]
pub struct InitialParticles {
    /// The loaded set (for writing the output tables).
    pub set: ParticleSet,
    /// One record per particle, in row order.
    pub records: Vec<ParticleRecord>,
    /// Box N (pixels).
    pub box_size: usize,
    /// Pixel size (Å).
    pub pixel_size: f64,
    /// The noise groups of the particles.
    pub groups: NoiseGroups,
    /// The initial noise model (both halves): σ²_g(r) per group, scales 1, mean norm.
    pub noise: NoiseModel,
    /// The images' background statistics outside the particle diameter (for RELION's
    /// normalisation check), when there is background.
    pub background: Option<Background>,
    /// Particles per reduction block.
    pub block_size: usize,
}

/// Particles per reduction block: at least 32, at most ~64 blocks; a function of the particle
/// count only, so that results do not depend on the number of workers.
pub fn block_size(particles: usize) -> usize {
    particles.div_ceil(64).max(32)
}

/// What [`load_particles`] needs besides the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadSettings {
    /// Read the CTF parameters (they must be present).
    pub ctf: bool,
    /// Seed of the half split.
    pub seed: u64,
    /// Particle diameter (Å): the alignment mask of the initial σ².
    pub particle_diameter_angst: f64,
    /// Images are norm-corrected (σ² is estimated from corrected images).
    pub norm_correction: bool,
}

/// Loads `path`, checks the images, splits the halves, assigns reduction blocks of
/// [`block_size`] particles and noise groups, and estimates the initial noise model (module
/// doc).
pub fn load_particles(path: &Path, how: &LoadSettings) -> anyhow::Result<InitialParticles> {
    let LoadSettings {
        ctf,
        seed,
        particle_diameter_angst,
        norm_correction,
    } = *how;
    let options = LoadOptions {
        poses: false,
        ctf,
        trust_star_pixel_size: false,
    };
    let set = ParticleSet::load(path, &options)?;
    if set.particles().is_empty() {
        bail!("{}: no particles", path.display());
    }
    let first = set.optics_of(&set.particles()[0]);
    let (box_size, pixel_size) = (first.image_size.unwrap_or(0), first.pixel_size);
    for group in set.optics() {
        if group.image_size.is_some_and(|n| n != box_size)
            || (group.pixel_size - pixel_size).abs() > 1e-4 * pixel_size
        {
            bail!(
                "{}: optics group {} has box {:?} px and {} Å/px, but group {} has {box_size} px \
                 and {pixel_size} Å/px; refine needs one box and pixel size",
                path.display(),
                group.number,
                group.image_size,
                group.pixel_size,
                first.number
            );
        }
    }
    let origins = |label: &str| set.star().particles.floats(label).map(<[f64]>::to_vec);
    let (ox, oy) = (origins("rlnOriginXAngst"), origins("rlnOriginYAngst"));
    let halves = split_halves(&set, seed, path)?;
    let groups = NoiseGroups::of_table(&set.star().particles);
    let norms = input_norms(&set, path)?;
    let block_size = block_size(set.particles().len());
    let blocks = assign_blocks(&halves, block_size);
    let mut records = Vec::with_capacity(set.particles().len());
    for (i, particle) in set.particles().iter().enumerate() {
        let image = set.read_image(particle)?;
        if let Some(bad) = image.data().iter().find(|v| !v.is_finite()) {
            bail!(
                "{}: particle row {} has a non-finite pixel value ({bad}); expected finite \
                 image values",
                path.display(),
                particle.row + 1
            );
        }
        let origin = |o: &Option<Vec<f64>>| o.as_ref().map_or(0.0, |v| v[i]);
        records.push(ParticleRecord {
            id: i as u64,
            half: halves[i],
            block: blocks[i],
            box_size,
            pixel_size,
            image: image.data().to_vec(),
            ctf: particle.ctf.as_ref().map(CtfRecord::from),
            pose: PoseRecord {
                origin_angst: [origin(&ox), origin(&oy)],
                ..PoseRecord::default()
            },
            group: groups.of_particle()[i],
            norm: norms[i],
        });
    }
    let average_norm = norms.iter().sum::<f64>() / norms.len() as f64;
    let mask = ParticleMask::for_diameter(particle_diameter_angst, pixel_size, MaskFill::Mean);
    let spectra = InitialSpectra {
        n: box_size,
        pixel_size,
        mask,
        groups: groups.len(),
        average_norm: norm_correction.then_some(average_norm),
    };
    let noise = NoiseModel::new(spectra.estimate(&records)?, average_norm);
    let background = Background::of(
        records.iter().map(|r| r.image.as_slice()),
        box_size,
        mask.radius_px,
    );
    Ok(InitialParticles {
        set,
        records,
        box_size,
        pixel_size,
        groups,
        noise,
        background,
        block_size,
    })
}

/// Every particle's rlnNormCorrection (1 without the column); an error names the first row
/// whose value is not positive and finite.
fn input_norms(set: &ParticleSet, path: &Path) -> anyhow::Result<Vec<f64>> {
    let rows = set.particles().len();
    let Some(norms) = set.star().particles.floats("rlnNormCorrection") else {
        return Ok(vec![1.0; rows]);
    };
    if let Some((row, bad)) = norms
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        bail!(
            "{}: particle row {}: rlnNormCorrection {bad}; expected a positive number",
            path.display(),
            row + 1
        );
    }
    Ok(norms.to_vec())
}

/// Half set (1 or 2) of every particle; see the module doc.
fn split_halves(set: &ParticleSet, seed: u64, path: &Path) -> anyhow::Result<Vec<u8>> {
    let given: Option<Vec<u8>> = set
        .particles()
        .iter()
        .map(|p| match p.random_subset {
            Some(1) => Some(1),
            Some(2) => Some(2),
            _ => None,
        })
        .collect();
    let halves = given.unwrap_or_else(|| {
        let mut order: Vec<usize> = (0..set.particles().len()).collect();
        order.sort_by_key(|&i| mix(seed ^ mix(i as u64)));
        let mut halves = vec![0u8; order.len()];
        for (k, &i) in order.iter().enumerate() {
            halves[i] = if k % 2 == 0 { 1 } else { 2 };
        }
        halves
    });
    for half in [1u8, 2] {
        if !halves.contains(&half) {
            bail!(
                "{}: half set {half} is empty (rlnRandomSubset or too few particles); each half \
                 needs at least one particle",
                path.display()
            );
        }
    }
    Ok(halves)
}

/// Blocks of `block_size` consecutive particles (row order) within each half set, numbered
/// over half 1 then half 2; independent of the number of workers.
fn assign_blocks(halves: &[u8], block_size: usize) -> Vec<u64> {
    let size = block_size.max(1);
    let in_half_1 = halves.iter().filter(|&&h| h == 1).count();
    let offset_2 = in_half_1.div_ceil(size) as u64;
    let mut seen = [0usize; 2];
    halves
        .iter()
        .map(|&h| {
            let k = usize::from(h - 1);
            let block = (seen[k] / size) as u64 + if k == 1 { offset_2 } else { 0 };
            seen[k] += 1;
            block
        })
        .collect()
}

/// How the initial noise spectra of refine.md §5.2 are estimated (module doc).
struct InitialSpectra {
    /// Box N (pixels).
    n: usize,
    /// Pixel size (Å).
    pixel_size: f64,
    /// The alignment mask applied to every image first.
    mask: ParticleMask,
    /// Number of noise groups.
    groups: usize,
    /// The mean norm correction n̄ when images are norm-corrected (multiplied by n̄/n_i).
    average_norm: Option<f64>,
}

impl InitialSpectra {
    /// σ²_g(r) of every group g, shells 0 … N/2 (module doc).
    fn estimate(&self, records: &[ParticleRecord]) -> anyhow::Result<Vec<Vec<f64>>> {
        let (n, shells) = (self.n, self.n / 2 + 1);
        let mut power = vec![vec![0.0; shells]; self.groups];
        let mut count = vec![0usize; self.groups];
        let mut average = vec![0.0f32; n * n];
        for r in records {
            let factor = self.average_norm.map_or(1.0, |mean| (mean / r.norm) as f32);
            let corrected = r.image.iter().map(|v| v * factor).collect();
            let mut image = Image::from_vec(n, self.pixel_size, corrected)?;
            soft_mask_outside(&mut image, self.mask.radius_px, self.mask.edge_px)?;
            let spectrum = shell_average(&fft::forward(&image), |v| v.norm_sqr() as f64);
            power[r.group]
                .iter_mut()
                .zip(&spectrum)
                .for_each(|(p, s)| *p += s);
            count[r.group] += 1;
            average
                .iter_mut()
                .zip(image.data())
                .for_each(|(a, v)| *a += v);
        }
        let total = records.len() as f32;
        average.iter_mut().for_each(|a| *a /= total);
        let mean_image = Image::from_vec(n, self.pixel_size, average)?;
        let mean_power = shell_average(&fft::forward(&mean_image), |v| v.norm_sqr() as f64);
        power
            .iter()
            .zip(&count)
            .map(|(p, &c)| {
                let raw = (0..shells).map(|r| (p[r] / c.max(1) as f64 - mean_power[r]) / 2.0);
                positive_spectrum(raw)
            })
            .collect()
    }
}

/// `raw` with non-positive values replaced by the previous shell's (leading ones, as at the DC
/// of mean-subtracted images, by the first positive value).
fn positive_spectrum(raw: impl Iterator<Item = f64>) -> anyhow::Result<Vec<f64>> {
    let mut sigma2: Vec<f64> = Vec::new();
    for value in raw {
        let previous = sigma2.last().copied();
        sigma2.push(match previous {
            Some(p) if !is_positive(value) => p,
            _ => value,
        });
    }
    let first_positive = sigma2
        .iter()
        .copied()
        .find(|&v| is_positive(v))
        .with_context(
            || "the particle images have no power beyond their average; expected noisy images",
        )?;
    sigma2
        .iter_mut()
        .filter(|v| !is_positive(**v))
        .for_each(|v| *v = first_positive);
    Ok(sigma2)
}

/// Whether a σ² value is usable: positive (NaN is not).
fn is_positive(value: f64) -> bool {
    value > 0.0
}

/// Reads the reference and brings it onto the particles' grid (box `box_size` px,
/// `pixel_size` Å): unchanged when it is already there, resampled when `rescale` allows it
/// ([`resample_reference`]), an error otherwise; checks that every voxel is finite; then
/// low-passes it to `ini_high` Å.
pub fn load_reference(
    path: &Path,
    box_size: usize,
    pixel_size: f64,
    ini_high: f64,
    rescale: bool,
) -> anyhow::Result<Volume> {
    let map = read_volume(path, None)?;
    let map = if map.n() == box_size && same_pixel_size(map.pixel_size(), pixel_size) {
        map
    } else if rescale {
        resample_reference(map, box_size, pixel_size, path)?
    } else {
        bail!(
            "{}: reference has box {} px and {:.4} Å/px; expected the particles' box {box_size} \
             px and {pixel_size:.4} Å/px: pass --rescale_ref to resample it, or resample it \
             first, e.g. `cryoflux image --i {} --rescale_angpix {pixel_size} --new_box \
             {box_size} --o ref_resampled.mrc`",
            path.display(),
            map.n(),
            map.pixel_size(),
            path.display()
        );
    };
    if !(ini_high.is_finite() && ini_high > 0.0) {
        bail!("--ini_high {ini_high} Å; expected a positive resolution");
    }
    let mut f = fft::forward(&map);
    low_pass(&mut f, box_size as f64 * pixel_size / ini_high, 2.0)?;
    Ok(fft::inverse(&f))
}

/// `map` (read from `path`) on the particles' grid, as `cryoflux image --rescale_angpix
/// pixel_size --new_box box_size` makes it, labelled `pixel_size` Å (module doc); says what it
/// did on stderr.
fn resample_reference(
    map: Volume,
    box_size: usize,
    pixel_size: f64,
    path: &Path,
) -> anyhow::Result<Volume> {
    let (n, p) = (map.n(), map.pixel_size());
    let context = || {
        format!(
            "{}: resampling the reference from {p:.4} Å/px, box {n} to {pixel_size:.4} Å/px, \
             box {box_size}",
            path.display()
        )
    };
    let resampled = if same_pixel_size(p, pixel_size) {
        map
    } else {
        rescale_to_pixel_size(&map, pixel_size).with_context(context)?
    };
    let (resampled_n, exact) = (resampled.n(), resampled.pixel_size());
    let map = window_real(&resampled, box_size, 0.0)
        .and_then(|m| m.with_pixel_size(pixel_size))
        .with_context(context)?;
    let rounding = if same_pixel_size(exact, pixel_size) {
        String::new()
    } else {
        format!(
            " (exactly {exact:.4} Å/px at box {resampled_n}: the {:.2} % difference from \
             rounding the box is dropped)",
            100.0 * (exact / pixel_size - 1.0).abs()
        )
    };
    eprintln!(
        "cryoflux refine: reference {}: {p:.4} Å/px, box {n} → resampled to {pixel_size:.4} \
         Å/px, box {box_size}{rounding}",
        path.display()
    );
    Ok(map)
}

/// Reads and checks the solvent mask of `--solvent_mask` (module doc) against the particles'
/// box (`box_size` px) and `pixel_size` (Å); `correct_fsc` asks the M-step to correct the FSC
/// for it. `None` without a mask.
pub fn load_solvent_mask(
    path: Option<&Path>,
    correct_fsc: bool,
    box_size: usize,
    pixel_size: f64,
) -> anyhow::Result<Option<SolventMask>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let mut mask = read_volume(path, None)?;
    if mask.n() != box_size || !same_pixel_size(mask.pixel_size(), pixel_size) {
        bail!(
            "{}: solvent mask has box {} px and {:.4} Å/px; expected the particles' box \
             {box_size} px and {pixel_size:.4} Å/px (resample it, e.g. `cryoflux image --i {} \
             --rescale_angpix {pixel_size} --new_box {box_size} --o mask_resampled.mrc`)",
            path.display(),
            mask.n(),
            mask.pixel_size(),
            path.display()
        );
    }
    let (lo, hi) = mask
        .data()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &m| {
            (lo.min(m), hi.max(m))
        });
    if lo < -MASK_RANGE_TOLERANCE || hi > 1.0 + MASK_RANGE_TOLERANCE {
        let outside = mask
            .data()
            .iter()
            .filter(|&&m| !(-MASK_RANGE_TOLERANCE..=1.0 + MASK_RANGE_TOLERANCE).contains(&m))
            .count();
        bail!(
            "{}: solvent mask has {outside} voxels outside [0, 1] (minimum {lo}, maximum {hi}); \
             expected a soft mask from 0 (solvent) to 1 (particle), e.g. from `cryoflux mask`",
            path.display()
        );
    }
    mask.data_mut()
        .iter_mut()
        .for_each(|m| *m = m.clamp(0.0, 1.0));
    Ok(Some(SolventMask {
        map: MapRecord::from_volume(&mask),
        correct_fsc,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_stay_within_a_half_and_do_not_depend_on_anything_but_the_split() {
        let halves = [1, 2, 1, 1, 2, 2, 1];
        let blocks = assign_blocks(&halves, 2);
        // Half 1 rows 0, 2, 3, 6 → blocks 0, 0, 1, 1; half 2 rows 1, 4, 5 → blocks 2, 2, 3.
        assert_eq!(blocks, vec![0, 2, 0, 1, 2, 3, 1]);
    }

    #[test]
    fn a_reference_on_another_grid_is_resampled_only_when_allowed() {
        // A Gaussian blob (σ = 3.6 Å) at the centre of a 24-voxel box of 1.2 Å; the particles
        // have box 16 at 1.8 Å (the same 28.8 Å field of view).
        let blob = Volume::from_fn(24, 1.2, |[x, y, z]| {
            (-(x * x + y * y + z * z) * 1.44 / (2.0 * 3.6 * 3.6)).exp() as f32
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob.mrc");
        cryoflux_jobkit::maps::write_grids(&path, &cryoflux_jobkit::maps::Grids::Volume(blob))
            .unwrap();
        let err = load_reference(&path, 16, 1.8, 4.0, false).unwrap_err();
        assert!(err.to_string().contains("--rescale_ref"), "{err}");
        let map = load_reference(&path, 16, 1.8, 4.0, true).unwrap();
        assert_eq!((map.n(), map.pixel_size()), (16, 1.8));
        let expected = Volume::from_fn(16, 1.8, |[x, y, z]| {
            (-(x * x + y * y + z * z) * 3.24 / (2.0 * 3.6 * 3.6)).exp() as f32
        })
        .unwrap();
        let worst = map
            .data()
            .iter()
            .zip(expected.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 0.02,
            "largest difference from the blob at 1.8 Å: {worst}"
        );
    }
}
