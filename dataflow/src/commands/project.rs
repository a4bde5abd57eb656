//! `cryoflux project`: projections of a map at the poses of a STAR file, or at one pose given on
//! the command line, like `relion_project` (see [`cryoflux_simulate::project`]).

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_simulate::project::ProjectSettings;

/// Arguments of `cryoflux project`.
#[derive(Debug, clap::Args)]
pub struct ProjectArgs {
    /// Map to project (MRC, cubic, even box).
    #[arg(long = "i", visible_alias = "input", value_name = "FILE")]
    pub input: PathBuf,
    /// Output stack (`.mrcs` is added when missing); the STAR file goes beside it (`.star`).
    #[arg(long = "o", visible_alias = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// STAR file with one pose per projection (rlnAngleRot/Tilt/Psi, optional
    /// rlnOriginXAngst/YAngst, and the CTF columns with --ctf); without it, one projection.
    #[arg(long, value_name = "FILE.star")]
    pub ang: Option<PathBuf>,
    /// Multiply each projection by its CTF (rlnDefocusU/V/Angle, …, and the optics group's
    /// rlnVoltage, rlnSphericalAberration, rlnAmplitudeContrast from --ang).
    #[arg(long, requires = "ang")]
    pub ctf: bool,
    /// Voxel size of the map in Å, overriding its header (with a warning when they differ).
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// First Euler angle in degrees (single projection).
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "ang",
        allow_negative_numbers = true
    )]
    pub rot: f64,
    /// Second Euler angle in degrees (single projection).
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "ang",
        allow_negative_numbers = true
    )]
    pub tilt: f64,
    /// Third Euler angle in degrees (single projection).
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "ang",
        allow_negative_numbers = true
    )]
    pub psi: f64,
    /// Origin X in pixels (single projection): the image shows the projection moved by −origin.
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "ang",
        allow_negative_numbers = true
    )]
    pub xoff: f64,
    /// Origin Y in pixels (single projection).
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "ang",
        allow_negative_numbers = true
    )]
    pub yoff: f64,
    /// Worker threads (default: all cores).
    #[arg(long = "j", visible_alias = "threads", value_name = "N", value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: Option<usize>,
}

impl ProjectArgs {
    /// What the flags ask for.
    fn settings(&self) -> ProjectSettings {
        ProjectSettings {
            input: self.input.clone(),
            output: self.output.clone(),
            ang: self.ang.clone(),
            ctf: self.ctf,
            angpix: self.angpix,
            rot: self.rot,
            tilt: self.tilt,
            psi: self.psi,
            xoff: self.xoff,
            yoff: self.yoff,
            threads: self.threads,
        }
    }
}

impl ProjectArgs {
    /// What the job reads and writes (`OUT.mrcs`, `OUT.star`); its directory is the output's.
    pub fn files(&self) -> JobFiles {
        JobFiles::beside(&self.output)
            .input("--i", &self.input)
            .optional_input("--ang", self.ang.as_deref())
            .output("--o", &self.output)
            .output("--o", self.output.with_extension("mrcs"))
            .output("--o", self.output.with_extension("star"))
    }
}

/// Projects the map and writes the stack and its STAR file.
pub fn run(args: &ProjectArgs) -> anyhow::Result<()> {
    cryoflux_simulate::project::run(&args.settings())
}
