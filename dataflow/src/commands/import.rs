//! `cryoflux import`: movies or micrographs into a pipeline, like `relion_import`, or a
//! cryoSPARC particle set into RELION 3.1 particles, like pyem's `csparc2star.py` (see
//! [`cryoflux_import`]).

use std::path::PathBuf;

use anyhow::bail;
use cryoflux_import::cryosparc::{CsImportSettings, PathRewrite, import_cryosparc};
use cryoflux_import::movies::{ImportKind, ImportSettings, import};
use cryoflux_jobkit::job_directory::JobFiles;

/// Arguments of `cryoflux import` (relion_import's names and defaults).
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Input wildcard, e.g. "Movies/*.tiff" (quote it so the shell leaves it alone); with
    /// --do_cryosparc the particle dataset, e.g. J42/J42_particles.cs.
    #[arg(long = "i", visible_alias = "input", value_name = "WILDCARD")]
    pub input: String,
    /// Output directory, e.g. Import/job001/.
    #[arg(long = "odir", value_name = "DIR")]
    pub odir: PathBuf,
    /// Output file name (default movies.star, micrographs.star or particles.star).
    #[arg(long = "ofile", value_name = "NAME")]
    pub ofile: Option<String>,
    /// Import movies (data_movies).
    #[arg(long = "do_movies")]
    pub do_movies: bool,
    /// Import micrographs (data_micrographs).
    #[arg(long = "do_micrographs")]
    pub do_micrographs: bool,
    /// Import cryoSPARC particles (.cs) into data_optics + data_particles, and Parquet.
    #[arg(long = "do_cryosparc")]
    pub do_cryosparc: bool,
    /// cryoSPARC passthrough .cs files of the same particles (joined by uid), e.g.
    /// J42/J42_passthrough_particles.cs; repeat the flag or list several.
    #[arg(long = "passthrough", value_name = "FILE.cs", num_args = 1.., action = clap::ArgAction::Append)]
    pub passthrough: Vec<PathBuf>,
    /// cryoSPARC: put micrographs in this directory (keeping their base names).
    #[arg(long = "micrograph_path", value_name = "DIR")]
    pub micrograph_path: Option<String>,
    /// cryoSPARC: remove the 21-digit uid prefixes ("<uid>_") from image and micrograph names.
    #[arg(long = "strip_uid")]
    pub strip_uid: bool,
    /// cryoSPARC: keep cryoSPARC's bottom-up Y coordinate instead of measuring it from the top
    /// (for micrographs that were motion-corrected outside cryoSPARC).
    #[arg(long = "no_invert_y")]
    pub no_invert_y: bool,
    /// Name for this optics group.
    #[arg(long = "optics_group_name", default_value = "opticsGroup1")]
    pub optics_group_name: String,
    /// Name for this optics group's MTF (STAR file).
    #[arg(long = "optics_group_mtf", value_name = "FILE.star")]
    pub optics_group_mtf: Option<String>,
    /// Pixel size in Å.
    #[arg(long, value_name = "Å", default_value_t = 1.0)]
    pub angpix: f64,
    /// Voltage in kV.
    #[arg(long = "kV", value_name = "kV", default_value_t = 300.0)]
    pub kv: f64,
    /// Spherical aberration in mm.
    #[arg(long = "Cs", value_name = "mm", default_value_t = 2.7)]
    pub cs: f64,
    /// Amplitude contrast.
    #[arg(long = "Q0", default_value_t = 0.1)]
    pub q0: f64,
    /// Beam tilt in X, in mrad.
    #[arg(
        long = "beamtilt_x",
        value_name = "mrad",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub beamtilt_x: f64,
    /// Beam tilt in Y, in mrad.
    #[arg(
        long = "beamtilt_y",
        value_name = "mrad",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub beamtilt_y: f64,
}

impl ImportArgs {
    /// The import the flags ask for.
    fn settings(&self) -> anyhow::Result<ImportSettings> {
        let kind = match (self.do_movies, self.do_micrographs) {
            (true, false) => ImportKind::Movies,
            (false, true) => ImportKind::Micrographs,
            _ => bail!("give exactly one of --do_movies, --do_micrographs and --do_cryosparc"),
        };
        Ok(ImportSettings {
            kind,
            input: self.input.clone(),
            output_dir: self.odir.clone(),
            output_file: self.ofile.clone(),
            optics_group_name: self.optics_group_name.clone(),
            optics_group_mtf: self.optics_group_mtf.clone(),
            angpix: self.angpix,
            voltage_kv: self.kv,
            cs_mm: self.cs,
            amplitude_contrast: self.q0,
            beamtilt_x: self.beamtilt_x,
            beamtilt_y: self.beamtilt_y,
        })
    }

    /// The cryoSPARC import the flags ask for.
    fn cryosparc_settings(&self) -> anyhow::Result<CsImportSettings> {
        if self.do_movies || self.do_micrographs {
            bail!("give exactly one of --do_movies, --do_micrographs and --do_cryosparc");
        }
        Ok(CsImportSettings {
            input: PathBuf::from(&self.input),
            passthroughs: self.passthrough.clone(),
            output_dir: self.odir.clone(),
            output_file: self.ofile.clone(),
            rewrite: PathRewrite {
                strip_uid: self.strip_uid,
                micrograph_dir: self.micrograph_path.clone(),
            },
            invert_y: !self.no_invert_y,
        })
    }
}

/// Writes the STAR file (and for cryoSPARC particles the Parquet table) and logs what was
impl ImportArgs {
    /// What the job reads (a cryoSPARC dataset and its passthroughs; a movie wildcard is not
    /// checked) and writes; its directory is `--odir`.
    pub fn files(&self) -> JobFiles {
        let mut files = JobFiles::in_directory(&self.odir).outputs_in(
            "--odir",
            &self.odir,
            &[
                "movies.star",
                "micrographs.star",
                "particles.star",
                "particles.parquet",
            ],
        );
        if let Some(name) = &self.ofile {
            files = files.output("--ofile", self.odir.join(name));
        }
        if self.do_cryosparc {
            files = files.input("--i", &self.input);
        }
        self.passthrough
            .iter()
            .fold(files, |files, path| files.input("--passthrough", path))
    }
}

/// imported.
pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    if args.do_cryosparc {
        let summary = import_cryosparc(&args.cryosparc_settings()?)?;
        tracing::info!(
            "imported {} particles in {} optics groups from {} → {} and {}",
            summary.particles,
            summary.optics_groups,
            args.input,
            summary.star.display(),
            summary.parquet.display()
        );
        return Ok(());
    }
    let (path, count) = import(&args.settings()?)?;
    tracing::info!(
        "imported {count} files matching {} → {}",
        args.input,
        path.display()
    );
    Ok(())
}
