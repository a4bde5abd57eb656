//! One micrograph's estimation: read the aligned micrograph (an MRC image of any width × height
//! px), average the power spectra of its `--Box`-px tiles, subtract the background, fit the
//! CTF and draw CTFFIND's diagnostic image ([`cryoflux_kernels::ctffind`]).

use std::path::Path;

use anyhow::{Context, bail};
use cryoflux_formats::mrc::MrcFile;
use cryoflux_kernels::ctffind::{
    BandSpectrum, CtfEstimate, CtfFindError, CtfFindSettings, Microscope, averaged_power_spectrum,
    diagnostic_image, estimate_ctf,
};
use cryoflux_kernels::grid::Plane;

/// Reads the single 2D image of the MRC file at `path` as a width × height plane (px).
pub fn read_micrograph(path: &Path) -> anyhow::Result<Plane> {
    let mrc = MrcFile::open(path)?;
    let [width, height, sections] = mrc.dims();
    if sections != 1 {
        bail!(
            "{}: {width} × {height} × {sections} px holds {sections} sections; expected one \
             aligned micrograph (a single 2D image)",
            path.display()
        );
    }
    let data = mrc.read_image(0)?;
    Plane::from_vec(width, height, data).with_context(|| format!("{}", path.display()))
}

/// A fitted CTF and its diagnostic image (a centred `box × box` plane, spectrum left, fitted
/// CTF² right).
#[derive(Debug, Clone)]
pub struct MicrographFit {
    /// The estimated CTF.
    pub estimate: CtfEstimate,
    /// CTFFIND's diagnostic image.
    pub diagnostic: Plane,
}

/// Estimates the CTF of `micrograph` taken with `microscope`, searching as `search` says.
pub fn fit_micrograph(
    micrograph: &Plane,
    microscope: &Microscope,
    search: &CtfFindSettings,
) -> Result<MicrographFit, CtfFindError> {
    let power = averaged_power_spectrum(micrograph, search.box_size)?;
    let band = BandSpectrum::for_settings(&power, microscope, search)?;
    let estimate = estimate_ctf(&band, microscope, search)?;
    let diagnostic = diagnostic_image(&band, &estimate, microscope)?;
    Ok(MicrographFit {
        estimate,
        diagnostic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::mrc::{WriteMode, write_volume};

    #[test]
    fn a_rectangular_image_reads_and_a_stack_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("m.mrc");
        let data: Vec<f32> = (0..24).map(|v| v as f32).collect();
        write_volume(&image, &data, [6, 4, 1], 1.0, WriteMode::Float32).unwrap();
        let plane = read_micrograph(&image).unwrap();
        assert_eq!((plane.width(), plane.height()), (6, 4));
        assert_eq!(plane.get(5, 1), Some(11.0));
        let stack = dir.path().join("s.mrc");
        write_volume(&stack, &data, [2, 3, 4], 1.0, WriteMode::Float32).unwrap();
        let e = read_micrograph(&stack).unwrap_err().to_string();
        assert!(e.contains("4 sections"), "{e}");
    }

    #[test]
    fn a_micrograph_smaller_than_the_box_is_an_error() {
        let microscope = Microscope {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            pixel_size: 1.8,
        };
        let search = CtfFindSettings {
            box_size: 64,
            ..CtfFindSettings::default()
        };
        let e = fit_micrograph(&Plane::zeros(48, 80), &microscope, &search).unwrap_err();
        assert!(matches!(e, CtfFindError::MicrographTooSmall { .. }), "{e}");
    }
}
