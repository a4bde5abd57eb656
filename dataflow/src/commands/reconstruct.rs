//! `cryoflux reconstruct`: a map from particles at known poses, like `relion_reconstruct`
//! (see [`cryoflux_tools::reconstruct`] for the method).

use std::path::PathBuf;

use cryoflux_jobkit::job_directory::JobFiles;
use cryoflux_tools::reconstruct::ReconstructJob;

/// Arguments of `cryoflux reconstruct`.
#[derive(Debug, clap::Args)]
pub struct ReconstructArgs {
    /// Particles with poses: a RELION STAR file or a Parquet particle table.
    #[arg(long = "i", visible_alias = "input", value_name = "FILE")]
    pub input: PathBuf,
    /// Output map (MRC, float32).
    #[arg(long = "o", visible_alias = "output", value_name = "FILE.mrc")]
    pub output: PathBuf,
    /// Point group to impose (RELION symbol, e.g. C1, D2, I3).
    #[arg(long, default_value = "C1")]
    pub sym: String,
    /// Only half set 1 or 2 (by rlnRandomSubset); default all particles.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=2))]
    pub subset: Option<i64>,
    /// CTF correction: data × CTF, weights CTF² (needs rlnDefocusU and the optics constants).
    #[arg(long)]
    pub ctf: bool,
    /// With --ctf: leave the CTF at 1 until its first peak.
    #[arg(long = "ctf_intact_first_peak", requires = "ctf")]
    pub ctf_intact_first_peak: bool,
    /// With --ctf: the images have been phase flipped (use |CTF|).
    #[arg(long = "ctf_phase_flipped", requires = "ctf")]
    pub ctf_phase_flipped: bool,
    /// With --ctf: only flip phases (use the CTF's sign), do not correct amplitudes.
    #[arg(long = "only_flip_phases", requires = "ctf")]
    pub only_flip_phases: bool,
    /// Voxel size of the map in Å (default: the first optics group's pixel size); images of
    /// another pixel size are inserted at the frequencies they sample.
    #[arg(long, value_name = "Å")]
    pub angpix: Option<f64>,
    /// Highest resolution to insert, in Å (default Nyquist).
    #[arg(long, value_name = "Å")]
    pub maxres: Option<f64>,
    /// Padding factor of the Fourier accumulators.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=4))]
    pub pad: u16,
    /// Rounds of iterative gridding (density compensation).
    #[arg(long, default_value_t = 10)]
    pub iter: usize,
    /// Divide by the weights directly instead of iterative gridding.
    #[arg(long = "skip_gridding")]
    pub skip_gridding: bool,
    /// Use the STAR pixel size even when the stacks' MRC headers give another one.
    #[arg(long = "trust_star_angpix")]
    pub trust_star_angpix: bool,
    /// Worker threads (default: all cores); the map does not depend on it.
    #[arg(long = "j", visible_alias = "threads", value_name = "N", value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: Option<usize>,
}

impl ReconstructArgs {
    /// The run the flags ask for.
    fn job(&self) -> ReconstructJob {
        ReconstructJob {
            input: self.input.clone(),
            output: self.output.clone(),
            sym: self.sym.clone(),
            subset: self.subset,
            ctf: self.ctf,
            ctf_intact_first_peak: self.ctf_intact_first_peak,
            ctf_phase_flipped: self.ctf_phase_flipped,
            only_flip_phases: self.only_flip_phases,
            angpix: self.angpix,
            maxres: self.maxres,
            pad: self.pad,
            iter: self.iter,
            skip_gridding: self.skip_gridding,
            trust_star_angpix: self.trust_star_angpix,
            threads: self.threads,
        }
    }
}

impl ReconstructArgs {
    /// What the job reads and writes; its directory is the output's.
    pub fn files(&self) -> JobFiles {
        JobFiles::beside(&self.output)
            .input("--i", &self.input)
            .output("--o", &self.output)
    }
}

/// Loads and checks the particles, reconstructs, writes the map atomically.
pub fn run(args: &ReconstructArgs) -> anyhow::Result<()> {
    cryoflux_tools::reconstruct::run(&args.job())
}
