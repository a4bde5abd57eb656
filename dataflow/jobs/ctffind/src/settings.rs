//! The job's settings: `relion_run_ctffind`'s flags (RELION 3.1.3) with its names, units and
//! defaults, and their translation into the CTFFIND search of [`cryoflux_kernels::ctffind`].

use std::path::PathBuf;

use cryoflux_kernels::ctffind::{CtfFindSettings, PhaseShiftSearch};

/// Settings of one CtfFind job, named after `relion_run_ctffind`'s flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `--i`: STAR file of the micrographs (e.g. `MotionCorr/job002/corrected_micrographs.star`)
    /// with an optics table giving `rlnMicrographPixelSize` (Å), `rlnVoltage` (kV),
    /// `rlnSphericalAberration` (mm) and `rlnAmplitudeContrast`. Micrograph paths are relative
    /// to the current (project) directory, as in RELION.
    pub input: PathBuf,
    /// `--o`: output directory, e.g. `CtfFind/job003/`.
    pub output_dir: PathBuf,
    /// `--Box`: side of the square tiles whose power spectra are averaged, in px (default 512).
    pub box_size: usize,
    /// `--ResMin`: low-resolution limit of the fit in Å (default 100).
    pub res_min: f64,
    /// `--ResMax`: high-resolution limit of the fit in Å (default 7).
    pub res_max: f64,
    /// `--dFMin`: lowest defocus searched in Å (default 10000).
    pub df_min: f64,
    /// `--dFMax`: highest defocus searched in Å (default 50000).
    pub df_max: f64,
    /// `--FStep`: defocus step of the search in Å (default 250).
    pub f_step: f64,
    /// `--dAst`: expected astigmatism in Å, the σ of CTFFIND's astigmatism restraint; 0 (the
    /// default) or less means no restraint, as CTFFIND reads the tolerance RELION passes.
    pub d_ast: f64,
    /// `--do_phaseshift`: also estimate a phase-plate phase shift.
    pub do_phaseshift: bool,
    /// `--phase_min`: lowest phase shift searched in degrees (default 0).
    pub phase_min: f64,
    /// `--phase_max`: highest phase shift searched in degrees (default 180).
    pub phase_max: f64,
    /// `--phase_step`: phase-shift search step in degrees (default 10).
    pub phase_step: f64,
    /// `--use_noDW`: estimate from `rlnMicrographNameNoDW` (the micrographs without dose
    /// weighting) instead of `rlnMicrographName`; the output table still names the latter.
    pub use_no_dw: bool,
    /// `--only_do_unfinished`: keep the results of micrographs whose `.txt` and `.ctf` outputs
    /// already exist and read back, and estimate only the others.
    pub only_do_unfinished: bool,
    /// `--j`: number of micrographs processed at once (threads, ≥ 1; default 1).
    pub threads: usize,
}

impl Default for Settings {
    /// `relion_run_ctffind`'s defaults, with input `micrographs.star` and output `CtfFind/`.
    fn default() -> Self {
        Self {
            input: PathBuf::from("micrographs.star"),
            output_dir: PathBuf::from("CtfFind/"),
            box_size: 512,
            res_min: 100.0,
            res_max: 7.0,
            df_min: 10_000.0,
            df_max: 50_000.0,
            f_step: 250.0,
            d_ast: 0.0,
            do_phaseshift: false,
            phase_min: 0.0,
            phase_max: 180.0,
            phase_step: 10.0,
            use_no_dw: false,
            only_do_unfinished: false,
            threads: 1,
        }
    }
}

impl Settings {
    /// The CTFFIND search these flags ask for.
    pub fn search(&self) -> CtfFindSettings {
        CtfFindSettings {
            box_size: self.box_size,
            min_resolution: self.res_min,
            max_resolution: self.res_max,
            defocus_min: self.df_min,
            defocus_max: self.df_max,
            defocus_step: self.f_step,
            expected_astigmatism: (self.d_ast > 0.0).then_some(self.d_ast),
            phase_shift: self.do_phaseshift.then_some(PhaseShiftSearch {
                min_deg: self.phase_min,
                max_deg: self.phase_max,
                step_deg: self.phase_step,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relion_defaults_map_to_an_unrestrained_search() {
        let search = Settings::default().search();
        assert_eq!(search.box_size, 512);
        assert_eq!((search.min_resolution, search.max_resolution), (100.0, 7.0));
        assert_eq!(
            (search.defocus_min, search.defocus_max, search.defocus_step),
            (10_000.0, 50_000.0, 250.0)
        );
        assert_eq!(search.expected_astigmatism, None);
        assert_eq!(search.phase_shift, None);
    }

    #[test]
    fn positive_dast_restrains_and_phaseshift_searches() {
        let settings = Settings {
            d_ast: 100.0,
            do_phaseshift: true,
            phase_min: 10.0,
            phase_max: 100.0,
            phase_step: 5.0,
            ..Settings::default()
        };
        let search = settings.search();
        assert_eq!(search.expected_astigmatism, Some(100.0));
        assert_eq!(
            search.phase_shift,
            Some(PhaseShiftSearch {
                min_deg: 10.0,
                max_deg: 100.0,
                step_deg: 5.0
            })
        );
    }
}
