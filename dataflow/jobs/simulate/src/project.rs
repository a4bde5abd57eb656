//! Projections of a map at the poses of a STAR file, or at one pose, like `relion_project`
//! (`cryoflux project`, same flags); writes `OUT.mrcs` and `OUT.star`.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use cryoflux_formats::mrc::MrcFile;
use cryoflux_kernels::geometry::euler::EulerAngles;

use crate::ctfs::ctfs_from_star;
use crate::poses::poses_from_star;
use crate::projection::{ProjectionRequest, write_projections};
use crate::star_in::ParticleRows;
use cryoflux_jobkit::maps::{header_voxel_size, read_map};
use cryoflux_jobkit::particles::Pose;

/// What `cryoflux project` projects, and where (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSettings {
    /// Map to project (MRC, cubic, even box).
    pub input: PathBuf,
    /// Output stack (`.mrcs` is added when missing); the STAR file goes beside it (`.star`).
    pub output: PathBuf,
    /// STAR file with one pose per projection (rlnAngleRot/Tilt/Psi, optional
    /// rlnOriginXAngst/YAngst, and the CTF columns with --ctf); without it, one projection.
    pub ang: Option<PathBuf>,
    /// Multiply each projection by its CTF (rlnDefocusU/V/Angle, …, and the optics group's
    /// rlnVoltage, rlnSphericalAberration, rlnAmplitudeContrast from --ang).
    pub ctf: bool,
    /// Voxel size of the map in Å, overriding its header (with a warning when they differ).
    pub angpix: Option<f64>,
    /// First Euler angle in degrees (single projection).
    pub rot: f64,
    /// Second Euler angle in degrees (single projection).
    pub tilt: f64,
    /// Third Euler angle in degrees (single projection).
    pub psi: f64,
    /// Origin X in pixels (single projection): the image shows the projection moved by −origin.
    pub xoff: f64,
    /// Origin Y in pixels (single projection).
    pub yoff: f64,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// Projects the map and writes the stack and its STAR file.
pub fn run(args: &ProjectSettings) -> anyhow::Result<()> {
    let map = read_map(&args.input, args.angpix)?;
    if args.angpix.is_some() {
        let h = header_voxel_size(&MrcFile::open(&args.input)?);
        if (h - map.pixel_size()).abs() > 1e-4 * h {
            tracing::warn!(
                "{}: the header says {h} Å/voxel; using --angpix {} Å instead",
                args.input.display(),
                map.pixel_size()
            );
        }
    }
    let requests = match &args.ang {
        Some(path) => requests_from_star(path, map.pixel_size(), args.ctf)?,
        None => vec![ProjectionRequest {
            pose: Pose {
                angles: EulerAngles::new(args.rot, args.tilt, args.psi),
                origin: [args.xoff * map.pixel_size(), args.yoff * map.pixel_size()],
            },
            ctf: None,
        }],
    };
    let stack = if args.output.extension().is_some_and(|e| e == "mrcs") {
        args.output.clone()
    } else {
        args.output.with_extension("mrcs")
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let star = pool.install(|| write_projections(&map, &requests, &stack))?;
    tracing::info!(
        "wrote {} projections of {} (box {}, {} Å/px{}) to {} and {}",
        requests.len(),
        args.input.display(),
        map.n(),
        map.pixel_size(),
        if args.ctf { ", with CTF" } else { "" },
        stack.display(),
        star.display()
    );
    Ok(())
}

/// One request per row of the STAR file at `path`, with the row's CTF when `with_ctf`.
fn requests_from_star(
    path: &Path,
    pixel_size: f64,
    with_ctf: bool,
) -> anyhow::Result<Vec<ProjectionRequest>> {
    let rows = ParticleRows::read(path)?;
    ensure!(
        !rows.is_empty(),
        "{}: no poses (the table is empty)",
        path.display()
    );
    let poses = poses_from_star(&rows, pixel_size)?;
    let ctfs = if with_ctf {
        ctfs_from_star(&rows)?.into_iter().map(Some).collect()
    } else {
        vec![None; poses.len()]
    };
    if let Some(star_pixel) = rows.optics_value("rlnImagePixelSize", 0).ok()
        && (star_pixel - pixel_size).abs() > 1e-4 * pixel_size
    {
        tracing::warn!(
            "{}: rlnImagePixelSize is {star_pixel} Å, the map's voxel is {pixel_size} Å; \
             projecting at the map's",
            rows.path().display()
        );
    }
    Ok(poses
        .into_iter()
        .zip(ctfs)
        .map(|(pose, ctf)| ProjectionRequest { pose, ctf })
        .collect())
}
