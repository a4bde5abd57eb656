//! One cryoSPARC particle set as RELION 3.1 particle columns, field by field as pyem's
//! `csparc2star.py` converts them:
//! - `blob/path`, `blob/idx` → `rlnImageName` `{idx+1:06}@path`;
//! - `ctf/df1_A`, `ctf/df2_A` → `rlnDefocusU`, `rlnDefocusV` (Å); `ctf/df_angle_rad`,
//!   `ctf/phase_shift_rad` → `rlnDefocusAngle`, `rlnPhaseShift` (degrees; 0 when absent);
//!   `ctf/bfactor` → `rlnCtfBfactor` (Å²);
//! - `alignments3D/pose` (rotation vector, radians) → `rlnAngleRot/Tilt/Psi` (degrees) through
//!   `A = R(v)ᵀ` ([`cryoflux_kernels::geometry::cryosparc_pose`]);
//! - `alignments3D/shift` (px of the alignment, whose pixel size is `alignments3D/psize_A`, else
//!   `blob/psize_A`) → `rlnOriginXAngst/YAngst` = shift × that pixel size (Å, same sign);
//! - `alignments3D/split` (0/1) → `rlnRandomSubset` (1/2), left out when every particle has the
//!   same split; `alignments3D/class` → `rlnClassNumber` (+1);
//! - `location/center_x_frac`, `center_y_frac` × `location/micrograph_shape` (`[ny, nx]`) →
//!   `rlnCoordinateX` = round(x·nx), `rlnCoordinateY` = round((1 − y)·ny) (px; cryoSPARC's y
//!   runs from the bottom; `invert_y = false` keeps it), rounding half to even as NumPy does;
//!   `location/micrograph_path` → `rlnMicrographName`.
//!
//! Not converted (yet): poses of 2D classification (`alignments2D`) and of multi-class 3D
//! classification (`alignments_class_N`), beam tilt, higher-order aberrations and anisotropic
//! magnification (`ctf/tilt_A`, `ctf/trefoil_A`, `ctf/anisomag`, …), filament fields, and
//! pyem's `--boxsize` rescaling of shifts; `rlnMicrographOriginalPixelSize` is unknown from a
//! particle set and left out of `data_optics`.

use anyhow::{bail, ensure};
use cryoflux_formats::star::Column;
use cryoflux_kernels::geometry::cryosparc_pose::euler_from_cryosparc_pose;
use glam::DVec3;

use super::names::PathRewrite;
use super::optics::Optics;
use super::source::CsParticles;

/// Every particle's optics (the fields of [`Optics`]; all but `ctf/exp_group_id` required).
pub fn particle_optics(cs: &CsParticles) -> anyhow::Result<Vec<Optics>> {
    let required = |name: &str| {
        cs.numbers(name)?
            .ok_or_else(|| cs.missing(name, "for the optics groups"))
    };
    let pixel_sizes = required("blob/psize_A")?;
    let voltages = required("ctf/accel_kv")?;
    let cs_mm = required("ctf/cs_mm")?;
    let amplitude_contrasts = required("ctf/amp_contrast")?;
    let shapes = cs
        .vectors("blob/shape", 2)?
        .ok_or_else(|| cs.missing("blob/shape", "for the box size"))?;
    let exposure_groups = cs.integers("ctf/exp_group_id")?;
    (0..cs.len())
        .map(|i| {
            let [ny, nx] = [shapes[i][0], shapes[i][1]];
            ensure!(
                ny == nx && ny >= 1.0,
                "particle {i}: blob/shape [{ny}, {nx}] px; expected a square box"
            );
            ensure!(
                pixel_sizes[i].is_finite() && pixel_sizes[i] > 0.0,
                "particle {i}: blob/psize_A {} Å; expected a positive pixel size",
                pixel_sizes[i]
            );
            Ok(Optics {
                exposure_group: exposure_groups.as_ref().map_or(0, |g| g[i]),
                pixel_size: pixel_sizes[i],
                box_size: ny as u64,
                voltage_kv: voltages[i],
                cs_mm: cs_mm[i],
                amplitude_contrast: amplitude_contrasts[i],
            })
        })
        .collect()
}

/// The `data_particles` columns, with `optics_groups` as `rlnOpticsGroup`.
pub fn particle_columns(
    cs: &CsParticles,
    rewrite: &PathRewrite,
    invert_y: bool,
    optics_groups: Vec<i64>,
) -> anyhow::Result<Vec<Column>> {
    let mut columns = coordinates(cs, invert_y)?;
    columns.extend(angles(cs)?);
    columns.push(image_names(cs, rewrite)?);
    if let Some(micrographs) = cs.strings("location/micrograph_path")? {
        let names = micrographs.iter().map(|m| rewrite.micrograph(m));
        columns.push(Column::texts("rlnMicrographName", names));
    }
    columns.push(Column::ints("rlnOpticsGroup", optics_groups));
    columns.extend(ctf(cs)?);
    columns.extend(model(cs)?);
    Ok(columns)
}

/// `rlnImageName`: `{idx + 1:06}@{path}`.
fn image_names(cs: &CsParticles, rewrite: &PathRewrite) -> anyhow::Result<Column> {
    let why = "for rlnImageName (the particle's stack)";
    let paths = cs
        .strings("blob/path")?
        .ok_or_else(|| cs.missing("blob/path", why))?;
    let indices = cs
        .integers("blob/idx")?
        .ok_or_else(|| cs.missing("blob/idx", why))?;
    let names = paths
        .iter()
        .zip(&indices)
        .map(|(path, idx)| format!("{:06}@{}", idx + 1, rewrite.stack(path)));
    Ok(Column::texts("rlnImageName", names))
}

/// `rlnCoordinateX/Y` (px) from the fractional location, when the location fields are there.
fn coordinates(cs: &CsParticles, invert_y: bool) -> anyhow::Result<Vec<Column>> {
    let (Some(x), Some(y), Some(shapes)) = (
        cs.numbers("location/center_x_frac")?,
        cs.numbers("location/center_y_frac")?,
        cs.vectors("location/micrograph_shape", 2)?,
    ) else {
        return Ok(Vec::new());
    };
    let y_from_top = |y: f64| if invert_y { 1.0 - y } else { y };
    let xs = x
        .iter()
        .zip(&shapes)
        .map(|(x, s)| (x * s[1]).round_ties_even());
    let ys = y.iter().zip(&shapes);
    let ys = ys.map(|(y, s)| (y_from_top(*y) * s[0]).round_ties_even());
    Ok(vec![
        Column::floats("rlnCoordinateX", xs),
        Column::floats("rlnCoordinateY", ys),
    ])
}

/// `rlnAngleRot/Tilt/Psi` (degrees) from `alignments3D/pose`, when present.
fn angles(cs: &CsParticles) -> anyhow::Result<Vec<Column>> {
    let Some(poses) = cs.vectors("alignments3D/pose", 3)? else {
        return Ok(Vec::new());
    };
    let mut euler = Vec::with_capacity(poses.len());
    for (i, pose) in poses.iter().enumerate() {
        let v = DVec3::new(pose[0], pose[1], pose[2]);
        if !v.is_finite() {
            bail!("particle {i}: alignments3D/pose {pose:?} is not finite");
        }
        euler.push(euler_from_cryosparc_pose(v));
    }
    Ok(vec![
        Column::floats("rlnAngleRot", euler.iter().map(|e| e.rot)),
        Column::floats("rlnAngleTilt", euler.iter().map(|e| e.tilt)),
        Column::floats("rlnAnglePsi", euler.iter().map(|e| e.psi)),
    ])
}

/// Defoci (Å), astigmatism angle and phase shift (degrees), CTF B-factor (Å²).
fn ctf(cs: &CsParticles) -> anyhow::Result<Vec<Column>> {
    let why = "for the particles' CTF";
    let required = |name: &str| cs.numbers(name)?.ok_or_else(|| cs.missing(name, why));
    let degrees = |radians: Vec<f64>| radians.into_iter().map(f64::to_degrees);
    let phase_shifts = cs
        .numbers("ctf/phase_shift_rad")?
        .unwrap_or_else(|| vec![0.0; cs.len()]);
    let mut columns = vec![
        Column::floats("rlnDefocusU", required("ctf/df1_A")?),
        Column::floats("rlnDefocusV", required("ctf/df2_A")?),
        Column::floats("rlnDefocusAngle", degrees(required("ctf/df_angle_rad")?)),
        Column::floats("rlnPhaseShift", degrees(phase_shifts)),
    ];
    if let Some(bfactors) = cs.numbers("ctf/bfactor")? {
        columns.push(Column::floats("rlnCtfBfactor", bfactors));
    }
    Ok(columns)
}

/// Origins (Å), class and half set of a 3D refinement, when present.
fn model(cs: &CsParticles) -> anyhow::Result<Vec<Column>> {
    let mut columns = Vec::new();
    if let Some(shifts) = cs.vectors("alignments3D/shift", 2)? {
        let pixel_sizes = match cs.numbers("alignments3D/psize_A")? {
            Some(sizes) => sizes,
            None => cs
                .numbers("blob/psize_A")?
                .ok_or_else(|| cs.missing("blob/psize_A", "to convert shifts to Å"))?,
        };
        let angst = |axis: usize| {
            shifts
                .iter()
                .zip(&pixel_sizes)
                .map(move |(s, p)| s[axis] * p)
        };
        columns.push(Column::floats("rlnOriginXAngst", angst(0)));
        columns.push(Column::floats("rlnOriginYAngst", angst(1)));
    }
    if let Some(classes) = cs.integers("alignments3D/class")? {
        columns.push(Column::ints(
            "rlnClassNumber",
            classes.iter().map(|c| *c as i64 + 1),
        ));
    }
    if let Some(splits) = cs.integers("alignments3D/split")?
        && splits.iter().any(|s| *s != splits[0])
    {
        ensure!(
            splits.iter().all(|s| *s <= 1),
            "alignments3D/split holds {}; expected half sets 0 and 1",
            splits.iter().max().unwrap_or(&0)
        );
        columns.push(Column::ints(
            "rlnRandomSubset",
            splits.iter().map(|s| *s as i64 + 1),
        ));
    }
    Ok(columns)
}
