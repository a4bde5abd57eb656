//! Command-line grammar. Flags mirror RELION's names where RELION has one (`--i`, `--o`), so a
//! RELION user's habits carry over; each also has a clearer long alias.

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands;

/// cryoflux: cryo-EM single-particle refinement as a dataflow.
///
/// Reads and writes RELION's STAR and MRC files, so RELION users can switch without converting
/// anything, and Parquet particle tables for pandas/polars/Arrow users.
#[derive(Debug, Parser)]
#[command(
    name = "cryoflux",
    version,
    about,
    long_about = None,
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The job to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The grammar of [`Cli`] as the command line is parsed: every option that takes a value
/// accepts a negative number (`--adhoc_bfac -100`, `image --bfactor -50`, `--scale -1`), which
/// clap would otherwise take for an unknown flag. An option whose value cannot be negative is
/// refused by its own type (clap names the option) or by the job's checks, which name the option
/// and the range expected.
pub fn grammar() -> clap::Command {
    with_negative_numbers(Cli::command())
}

/// `command` and its subcommands with negative numbers allowed as option values.
fn with_negative_numbers(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let takes_values = arg.get_action().takes_values();
            arg.allow_negative_numbers(takes_values)
        })
        .mut_subcommands(with_negative_numbers)
}

/// The subcommands, one file each under `commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on the embedded default: simulate particles from the bundled 1TII map,
    /// refine them from the map low-passed to 30 Å, post-process, and report the gold-standard
    /// and against-truth resolutions and the pose errors.
    Demo(commands::demo::DemoArgs),
    /// Convert a particle table between STAR and Parquet (format chosen by file extension).
    ///
    /// `.star` ↔ `.parquet`/`.pq`. The conversion is lossless both ways: optics groups and
    /// any other blocks travel in the Parquet file's metadata. RELION 3.0 particle files are
    /// upgraded to 3.1 form (optics groups, origins in Å) on the way.
    Convert(commands::convert::ConvertArgs),
    /// Describe a file: STAR (blocks, columns, rows, optics groups), MRC/MRCS (mode, size,
    /// voxel size, statistics) or Parquet (schema, rows).
    Info(commands::info::InfoArgs),
    /// Measure throughput against a baseline run on the same machine (reports ratios).
    Bench(commands::bench::BenchArgs),
    /// Measure a refinement of simulated particles against the truth: angular and offset errors,
    /// FSC against the true map, gold-standard FSC of the half maps.
    Assess(commands::assess::AssessArgs),
    /// Simulate ground-truth particles (uniform random or given poses, CTF, noise at a set SNR)
    /// of a map (default: the bundled HIV-1 protease map), as particles.mrcs, particles.star
    /// and truth.star.
    Simulate(commands::simulate::SimulateArgs),
    /// Project a map at the poses of a STAR file (or one pose), optionally with CTF, like
    /// relion_project: writes OUT.mrcs and OUT.star.
    Project(commands::project::ProjectArgs),
    /// Reconstruct a map from particles at known poses (optionally CTF-corrected and
    /// symmetrised), like relion_reconstruct.
    Reconstruct(commands::reconstruct::ReconstructArgs),
    /// Gold-standard 3D auto-refinement of particles against a low-passed reference, like
    /// relion_refine --auto_refine (RELION-style Refine3D outputs).
    Refine(commands::refine::RefineArgs),
    /// One self-contained HTML page (and PNG/SVG figures) about a refinement run of cryoflux
    /// or RELION: resolution, sampling, FSC, angular distribution, offsets, angle changes, time.
    Report(commands::report::ReportArgs),
    /// Map and image operations like relion_image_handler: rescale, re-box, low/high-pass,
    /// B-factor, statistics, FSC between two maps.
    Image(commands::image::ImageArgs),
    /// Import movies or micrographs (a wildcard and one optics group) into movies.star or
    /// micrographs.star, like relion_import.
    Import(commands::import::ImportArgs),
    /// Motion correction of movies like relion_run_motioncorr --use_own: gain, defects and hot
    /// pixels, global and patch alignment, dose weighting; RELION's MotionCorr outputs.
    Motioncorr(commands::motioncorr::MotionCorrArgs),
    /// Extract particle boxes from micrographs at picked coordinates (or re-extract a refined
    /// particle set), optionally rescaled, normalised and inverted, like relion_preprocess
    /// --extract: per-micrograph stacks, particles.star and particles.parquet.
    Extract(commands::extract::ExtractArgs),
    /// CTF estimation of aligned micrographs (CTFFIND-4.1's method) into micrographs_ctf.star,
    /// like relion_run_ctffind.
    Ctffind(commands::ctffind::CtffindArgs),
    /// Soft masks like relion_mask_create: threshold, extend and soften a map, or a soft sphere.
    Mask(commands::mask::MaskArgs),
    /// Masked, phase-randomisation-corrected FSC, resolution and B-factor sharpening of two half
    /// maps with EMDB-ready outputs (STAR, FSC XML, plots), like relion_postprocess.
    Postprocess(commands::postprocess::PostprocessArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::FromArgMatches;

    fn parse(words: &[&str]) -> Result<Cli, clap::Error> {
        let words = std::iter::once("cryoflux").chain(words.iter().copied());
        Cli::from_arg_matches(&grammar().try_get_matches_from(words)?)
    }

    #[test]
    fn grammar_is_consistent() {
        grammar().debug_assert();
    }

    #[test]
    fn negative_numbers_are_values() {
        let Command::Image(image) =
            parse(&["image", "--i", "a.mrc", "--o", "b.mrc", "--bfactor", "-50"])
                .unwrap()
                .command
        else {
            panic!("expected image")
        };
        assert_eq!(image.bfactor, Some(-50.0));
        let Command::Postprocess(post) =
            parse(&["postprocess", "--i", "x_half1.mrc", "--adhoc_bfac", "-100"])
                .unwrap()
                .command
        else {
            panic!("expected postprocess")
        };
        assert_eq!(post.adhoc_bfac, Some(-100.0));
        let Command::Refine(refine) = parse(&[
            "refine",
            "--i",
            "p.star",
            "--ref",
            "r.mrc",
            "--o",
            "run",
            "--ini_high",
            "30",
            "--particle_diameter",
            "-10",
        ])
        .unwrap()
        .command
        else {
            panic!("expected refine")
        };
        assert_eq!(
            refine.particle_diameter,
            Some(-10.0),
            "refused by refine's own check"
        );
    }

    #[test]
    fn a_negative_count_is_refused_naming_the_option() {
        let error = parse(&["simulate", "--o", "out", "--n", "-5"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        let message = error.to_string();
        assert!(
            message.contains("invalid value '-5' for '--n <N>'"),
            "{message}"
        );
    }

    #[test]
    fn convert_accepts_relion_flags() {
        let cli = Cli::parse_from(["cryoflux", "convert", "--i", "a.star", "--o", "b.parquet"]);
        let Command::Convert(args) = cli.command else {
            panic!("expected convert")
        };
        assert_eq!(args.input(), std::path::Path::new("a.star"));
        assert_eq!(args.output(), std::path::Path::new("b.parquet"));
    }
}
