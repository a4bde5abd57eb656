//! The true poses of extracted particles: each row of an extraction's `particles.star` paired
//! with the simulated particle it shows, so that a refinement of the extracted particles can be
//! assessed by `rlnImageName`.
//!
//! A row is paired with the simulated particle of its micrograph (the extraction's
//! `rlnMicrographName` ends with the truth's micrograph name) nearest its
//! `rlnCoordinateX/Y`; picks are the true frame-0 positions rounded to whole pixels, so the
//! pair must lie within 1 px. The true origin (Å) is the box centre's offset from where the
//! particle sits in the aligned micrograph: frame-0 position plus its mean local motion over
//! the frames (the global drift is what motion correction removes), origin =
//! (coordinate − position)·pixel size, RELION's convention (position = coordinate −
//! origin / pixel size).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::star::{Column, DataBlock, StarFile};
use cryoflux_simulate::movies::truth::micrograph_name;
use cryoflux_simulate::movies::{MovieParticle, MovieTruth};

/// Largest distance (px) between a pick and the true position it was rounded from.
const PICK_TOLERANCE_PX: f64 = 1.0;

/// The movie and particle of `movies` that row (`micrograph`, `coordinate` in px) shows.
fn paired<'a>(
    movies: &'a [MovieTruth],
    micrograph: &str,
    coordinate: [f64; 2],
) -> Option<(&'a MovieTruth, &'a MovieParticle)> {
    let movie = movies
        .iter()
        .find(|m| Path::new(micrograph).ends_with(micrograph_name(&m.movie_name)))?;
    movie
        .particles
        .iter()
        .map(|p| {
            let d = (p.coordinate[0] - coordinate[0]).hypot(p.coordinate[1] - coordinate[1]);
            (d, p)
        })
        .filter(|(d, _)| *d <= PICK_TOLERANCE_PX)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| (movie, p))
}

/// The true origin (Å) of a particle boxed at `coordinate` (px) in a micrograph of `pixel` Å
/// aligned on `drift` (the movie's global drift in Å per frame).
fn true_origin(
    particle: &MovieParticle,
    drift: &[[f64; 2]],
    coordinate: [f64; 2],
    pixel: f64,
) -> [f64; 2] {
    let frames = particle.track.len().max(1) as f64;
    [0, 1].map(|axis| {
        let local = particle
            .track
            .iter()
            .zip(drift)
            .map(|(t, g)| t[axis] - g[axis])
            .sum::<f64>()
            / frames;
        (coordinate[axis] - particle.coordinate[axis]) * pixel - local
    })
}

/// Writes the true poses of the particles of `extracted` to `path` (the extraction's optics
/// block, then `data_particles` with `rlnImageName`, `rlnMicrographName`, `rlnCoordinateX/Y`,
/// the true angles and origins and the particle's true CTF); returns the number of rows.
pub fn write_true_poses(
    extracted: &Path,
    movies: &[MovieTruth],
    pixel: f64,
    path: &Path,
) -> anyhow::Result<usize> {
    let star = StarFile::read(extracted)?;
    let optics = star
        .block("optics")
        .with_context(|| format!("{}: no data_optics", extracted.display()))?
        .clone();
    let table = star
        .block("particles")
        .and_then(|b| b.table.as_ref())
        .with_context(|| format!("{}: no data_particles loop", extracted.display()))?;
    let column = |label: &str| {
        table
            .texts(label)
            .with_context(|| format!("{}: no {label} column", extracted.display()))
    };
    let coordinate = |label: &str| {
        table
            .floats(label)
            .with_context(|| format!("{}: no numeric {label} column", extracted.display()))
    };
    let (images, micrographs) = (column("rlnImageName")?, column("rlnMicrographName")?);
    let (x, y) = (coordinate("rlnCoordinateX")?, coordinate("rlnCoordinateY")?);
    let groups = table
        .ints("rlnOpticsGroup")
        .with_context(|| format!("{}: no rlnOpticsGroup column", extracted.display()))?;
    let mut rows = Vec::with_capacity(images.len());
    for i in 0..images.len() {
        let at = [x[i], y[i]];
        let Some((movie, particle)) = paired(movies, &micrographs[i], at) else {
            bail!(
                "{}: no simulated particle of {} within {PICK_TOLERANCE_PX} px of ({}, {}) \
                 (row {}); expected the simulator's picks",
                extracted.display(),
                micrographs[i],
                at[0],
                at[1],
                i + 1
            );
        };
        rows.push((i, particle, true_origin(particle, &movie.drift, at, pixel)));
    }
    let float = |label: &str, value: &dyn Fn(&MovieParticle, [f64; 2]) -> f64| {
        Column::floats(label, rows.iter().map(|(_, p, o)| value(p, *o)))
    };
    let text = |label: &str, values: &[String]| {
        Column::texts(label, rows.iter().map(|(i, _, _)| values[*i].clone()))
    };
    let particles = vec![
        text("rlnImageName", images),
        text("rlnMicrographName", micrographs),
        Column::floats("rlnCoordinateX", rows.iter().map(|(i, _, _)| x[*i])),
        Column::floats("rlnCoordinateY", rows.iter().map(|(i, _, _)| y[*i])),
        float("rlnAngleRot", &|p, _| p.pose.angles.rot),
        float("rlnAngleTilt", &|p, _| p.pose.angles.tilt),
        float("rlnAnglePsi", &|p, _| p.pose.angles.psi),
        float("rlnOriginXAngst", &|_, o| o[0]),
        float("rlnOriginYAngst", &|_, o| o[1]),
        float("rlnDefocusU", &|p, _| p.ctf.defocus_u),
        float("rlnDefocusV", &|p, _| p.ctf.defocus_v),
        float("rlnDefocusAngle", &|p, _| p.ctf.defocus_angle_deg),
        Column::ints("rlnOpticsGroup", rows.iter().map(|(i, _, _)| groups[*i])),
    ];
    StarFile {
        blocks: vec![optics, DataBlock::with_table("particles", particles)],
    }
    .write(path)?;
    Ok(rows.len())
}
