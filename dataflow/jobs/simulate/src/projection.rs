//! Noise-free projections of a map at given poses (what `relion_project` makes): an image stack
//! in the map's units × pixels (line integrals, no normalisation) and a STAR file beside it
//! listing each image with its pose and, when applied, its CTF.

use std::path::{Path, PathBuf};

use cryoflux_kernels::fourier::ctf::CtfParams;
use cryoflux_kernels::grid::Volume;

use super::formation::ImageFormer;
use super::intensity::IntensityFactors;
use super::relion_path;
use super::stack::write_stack;
use super::star_out::{ImageRecord, image_name, particle_star};
use cryoflux_jobkit::particles::Pose;

/// One projection to make: the pose, and the CTF to apply if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionRequest {
    /// Orientation (degrees) and origin (Å); the image shows the projection moved by −origin.
    pub pose: Pose,
    /// CTF multiplied into the projection's transform, if any.
    pub ctf: Option<CtfParams>,
}

/// Writes the projections of `map` for `requests` to `stack` (`.mrcs`) and their STAR file to
/// `stack` with extension `.star`; returns the STAR file's path.
pub fn write_projections(
    map: &Volume,
    requests: &[ProjectionRequest],
    stack: &Path,
) -> anyhow::Result<PathBuf> {
    let former = ImageFormer::new(map)?;
    let (box_size, pixel) = (former.box_size(), former.pixel_size());
    write_stack(stack, requests.len(), box_size, pixel, |i| {
        let r = &requests[i];
        Ok(former.image(&r.pose, r.ctf.as_ref())?.into_vec())
    })?;
    let name = relion_path(stack);
    let records: Vec<ImageRecord> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| ImageRecord {
            image_name: image_name(i, &name),
            micrograph: None,
            pose: r.pose,
            ctf: r.ctf,
            intensity: IntensityFactors::default(),
        })
        .collect();
    let star = stack.with_extension("star");
    particle_star(&records, pixel, box_size, true).write(&star)?;
    Ok(star)
}
