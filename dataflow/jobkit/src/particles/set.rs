//! [`ParticleSet::load`]: a particle file (STAR or Parquet) with its image stacks opened and
//! every particle's image location, optics group, pose and CTF checked before any work starts.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::FileKind;
use cryoflux_formats::star::{ImageName, PARTICLES_BLOCK, ParticleStar};
use cryoflux_formats::table::read_particle_table;
use cryoflux_kernels::fourier::ctf::{Ctf, CtfParams};
use cryoflux_kernels::geometry::euler::EulerAngles;
use cryoflux_kernels::grid::Image;

use super::columns::Columns;
use super::optics::{OpticsGroup, read_optics_groups};
use super::particle::{Particle, Pose};
use super::paths::resolve_image_file;
use super::stacks::{ImageLocation, ImageStacks};

/// Relative difference between the STAR and MRC-header pixel sizes tolerated as rounding.
const PIXEL_SIZE_TOLERANCE: f64 = 1e-4;

/// What a job needs from its particle file; missing columns for a need are an error at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Read poses: `rlnAngleRot`, `rlnAngleTilt`, `rlnAnglePsi` required; origins
    /// (`rlnOriginXAngst/YAngst`) default to 0.
    pub poses: bool,
    /// Read CTFs: `rlnDefocusU` required (`rlnDefocusV` defaults to it; angle, phase shift,
    /// B-factor 0; scale 1), and each optics group needs `rlnVoltage`,
    /// `rlnSphericalAberration` and `rlnAmplitudeContrast`.
    pub ctf: bool,
    /// Use the STAR pixel size even when a stack's MRC header says otherwise (by default a
    /// disagreement beyond rounding is an error; a header pixel size of 0 means "unknown" and is
    /// never checked).
    pub trust_star_pixel_size: bool,
}

/// A particle file with its images: optics groups, particles, and the open image files.
#[derive(Debug)]
pub struct ParticleSet {
    path: PathBuf,
    star: ParticleStar,
    optics: Vec<OpticsGroup>,
    particles: Vec<Particle>,
    stacks: ImageStacks,
}

impl ParticleSet {
    /// Reads `path` (`.star`, RELION 3.0 or 3.1+, or a Parquet particle table), resolves and
    /// opens every image file (see [`super::paths`]), and checks each particle: its image
    /// exists in its file, the file's box equals its optics group's `rlnImageSize` (filled
    /// from the file when the group does not record it), the file's header pixel size agrees
    /// with `rlnImagePixelSize`, and the columns `options` asks for are present and valid.
    pub fn load(path: &Path, options: &LoadOptions) -> anyhow::Result<Self> {
        let star = read_particle_star(path)?;
        let mut optics = read_optics_groups(&star.optics, path)?;
        let columns = Columns::new(&star.particles, path, PARTICLES_BLOCK);
        let names = columns.texts("rlnImageName", "to find the particle images")?;
        let groups = columns
            .ints("rlnOpticsGroup")
            .with_context(|| format!("{}: rlnOpticsGroup must hold integers", path.display()))?;
        let group_index: HashMap<i64, usize> = optics
            .iter()
            .enumerate()
            .map(|(i, g)| (g.number, i))
            .collect();
        let poses = options.poses.then(|| read_poses(&columns)).transpose()?;
        let ctfs = options
            .ctf
            .then(|| read_ctfs(&columns, &optics, groups, &group_index, path))
            .transpose()?;
        let subsets = columns.ints("rlnRandomSubset");

        let mut stacks = ImageStacks::default();
        let mut file_of_name: HashMap<&str, usize> = HashMap::new();
        let mut checked = HashSet::new();
        let mut particles = Vec::with_capacity(columns.rows());
        for (row, text) in names.iter().enumerate() {
            let name = ImageName::parse(text, path, row)?;
            let file = match file_of_name.get(name.file) {
                Some(&file) => file,
                None => {
                    let resolved = resolve_image_file(name.file, path, row)?;
                    let file = stacks.open(&resolved)?;
                    file_of_name.insert(name.file, file);
                    file
                }
            };
            let group = group_index[&groups[row]];
            if checked.insert((file, group)) {
                check_file_geometry(&stacks, file, &mut optics[group], options, path)?;
            }
            let index = name.index.map_or(0, |n| n - 1);
            let count = stacks.file(file).image_count();
            if index >= count {
                bail!(
                    "{}: particle row {} names image {} of {}, which holds {count} image(s)",
                    path.display(),
                    row + 1,
                    index + 1,
                    stacks.file(file).path().display()
                );
            }
            particles.push(Particle {
                row,
                optics_group: group,
                image: ImageLocation { file, index },
                pose: poses.as_ref().map(|p| p[row]),
                ctf: ctfs.as_ref().map(|c| c[row]),
                random_subset: subsets.map(|s| s[row]),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            star,
            optics,
            particles,
            stacks,
        })
    }

    /// The particle file this set was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's tables in RELION 3.1 form (for jobs that write updated rows back).
    pub fn star(&self) -> &ParticleStar {
        &self.star
    }

    /// The optics groups, in file order; every group that has particles knows its image size.
    pub fn optics(&self) -> &[OpticsGroup] {
        &self.optics
    }

    /// The particles, in file order.
    pub fn particles(&self) -> &[Particle] {
        &self.particles
    }

    /// The optics group of `particle`.
    pub fn optics_of(&self, particle: &Particle) -> &OpticsGroup {
        &self.optics[particle.optics_group]
    }

    /// The image of `particle` (pixel size of its optics group); see [`ImageStacks::read`].
    pub fn read_image(&self, particle: &Particle) -> anyhow::Result<Image> {
        self.stacks
            .read(particle.image, self.optics_of(particle).pixel_size)
            .with_context(|| format!("particle row {}", particle.row + 1))
    }

    /// Indices (into [`Self::particles`]) of half set `half` (1 or 2, by `rlnRandomSubset`),
    /// or of all particles for `None`.
    pub fn select_half(&self, half: Option<i64>) -> anyhow::Result<Vec<usize>> {
        let Some(half) = half else {
            return Ok((0..self.particles.len()).collect());
        };
        if !(1..=2).contains(&half) {
            bail!("half set {half} requested; expected 1 or 2");
        }
        if self.particles.iter().any(|p| p.random_subset.is_none()) {
            bail!(
                "{}: half set {half} requested, but the particles have no integer \
                 rlnRandomSubset column",
                self.path.display()
            );
        }
        Ok(self
            .particles
            .iter()
            .enumerate()
            .filter(|(_, p)| p.random_subset == Some(half))
            .map(|(i, _)| i)
            .collect())
    }
}

/// The particle file at `path` in RELION 3.1 form, whichever format it is stored in.
fn read_particle_star(path: &Path) -> anyhow::Result<ParticleStar> {
    Ok(match FileKind::from_path(path)? {
        FileKind::Star => ParticleStar::read(path)?,
        FileKind::Parquet => {
            ParticleStar::from_star(read_particle_table(path)?.to_star(path)?, path)?
        }
        FileKind::Mrc => bail!(
            "{}: this is an MRC image file; expected a particle table (.star or .parquet)",
            path.display()
        ),
    })
}

/// Checks (once per file and optics group) that the file's images are square, match the
/// group's box (or set it) and its pixel size.
fn check_file_geometry(
    stacks: &ImageStacks,
    file: usize,
    group: &mut OpticsGroup,
    options: &LoadOptions,
    path: &Path,
) -> anyhow::Result<()> {
    let mrc = stacks.file(file);
    let stack = mrc.path().display();
    let [nx, ny, _] = mrc.dims();
    if nx != ny {
        bail!("{stack}: images are {nx} × {ny} pixels; expected square particle images");
    }
    match group.image_size {
        Some(size) if size != nx => bail!(
            "{}: optics group {} has rlnImageSize {size}, but {stack} holds {nx} × {nx} \
             images; expected the same box",
            path.display(),
            group.number
        ),
        Some(_) => {}
        None => group.image_size = Some(nx),
    }
    let header = f64::from(mrc.voxel_size()[0]);
    let star = group.pixel_size;
    if header > 0.0
        && !options.trust_star_pixel_size
        && (header - star).abs() > PIXEL_SIZE_TOLERANCE * star
    {
        bail!(
            "{}: optics group {} has rlnImagePixelSize {star} Å, but the header of {stack} says \
             {header:.4} Å; expected them to agree (fix one, or pass --trust_star_angpix to use \
             the STAR value)",
            path.display(),
            group.number
        );
    }
    Ok(())
}

/// Every row's pose; angles required, origins default to 0.
fn read_poses(columns: &Columns) -> anyhow::Result<Vec<Pose>> {
    let [rot, tilt, psi] = columns.required(
        ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"],
        "for the particles' orientations",
    )?;
    let zeros = || vec![0.0; columns.rows()];
    let ox = columns.numbers("rlnOriginXAngst").unwrap_or_else(zeros);
    let oy = columns.numbers("rlnOriginYAngst").unwrap_or_else(zeros);
    Ok((0..columns.rows())
        .map(|i| Pose {
            angles: EulerAngles::new(rot[i], tilt[i], psi[i]),
            origin: [ox[i], oy[i]],
        })
        .collect())
}

/// Every row's CTF parameters, combining the row with its optics group, validated.
fn read_ctfs(
    columns: &Columns,
    optics: &[OpticsGroup],
    groups: &[i64],
    group_index: &HashMap<i64, usize>,
    path: &Path,
) -> anyhow::Result<Vec<CtfParams>> {
    let [defocus_u] = columns.required(["rlnDefocusU"], "for CTF correction")?;
    let or = |label: &str, default: f64| {
        columns
            .numbers(label)
            .unwrap_or_else(|| vec![default; columns.rows()])
    };
    let defocus_v = columns
        .numbers("rlnDefocusV")
        .unwrap_or_else(|| defocus_u.clone());
    let angle = or("rlnDefocusAngle", 0.0);
    let phase = or("rlnPhaseShift", 0.0);
    let bfactor = or("rlnCtfBfactor", 0.0);
    let scale = or("rlnCtfScalefactor", 1.0);
    let constant = |group: &OpticsGroup, value: Option<f64>, label: &str| {
        value.with_context(|| {
            format!(
                "{}: optics group {} lacks {label}, needed for CTF correction",
                path.display(),
                group.number
            )
        })
    };
    (0..columns.rows())
        .map(|row| {
            let group = &optics[group_index[&groups[row]]];
            let params = CtfParams {
                voltage_kv: constant(group, group.voltage_kv, "rlnVoltage")?,
                cs_mm: constant(group, group.cs_mm, "rlnSphericalAberration")?,
                amplitude_contrast: constant(
                    group,
                    group.amplitude_contrast,
                    "rlnAmplitudeContrast",
                )?,
                defocus_u: defocus_u[row],
                defocus_v: defocus_v[row],
                defocus_angle_deg: angle[row],
                phase_shift_deg: phase[row],
                bfactor: bfactor[row],
                scale: scale[row],
            };
            Ctf::new(params).with_context(|| {
                format!(
                    "{}: particle row {}: bad CTF parameters",
                    path.display(),
                    row + 1
                )
            })?;
            Ok(params)
        })
        .collect()
}
