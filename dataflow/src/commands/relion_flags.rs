//! RELION `relion_refine` options that `cryoflux refine` accepts so that a RELION GUI command
//! line (refine.md §11) runs unchanged: options that name what cryoflux always does, options
//! whose only supported value is RELION's GUI default, `--dont_check_norm`, `--gpu` (which
//! selects the E-step's scorer) and disc tuning options that have no counterpart here
//! (accepted, and said to be ignored).

use anyhow::{Context, bail};
use cryoflux_refine::{GpuDevices, ScorerChoice};

/// The RELION-only options of `cryoflux refine`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "RELION compatibility (accepted as in relion_refine)")]
pub struct RelionRefineFlags {
    /// Always on: cryoflux refine is RELION's 3D auto-refine.
    #[arg(long = "auto_refine")]
    pub auto_refine: bool,
    /// Always on: two independently refined half sets (gold standard).
    #[arg(long = "split_random_halves")]
    pub split_random_halves: bool,
    /// Always on: the references are flattened outside the particle (or the solvent mask).
    #[arg(long = "flatten_solvent")]
    pub flatten_solvent: bool,
    /// Always on: outside the particle diameter, images are set to their mean for alignment.
    #[arg(long = "zero_mask")]
    pub zero_mask: bool,
    /// Always on: reconstructions divide by the weights without gridding iterations.
    #[arg(long = "skip_gridding")]
    pub skip_gridding: bool,
    /// Always on: the reference is compared with CTF-modulated projections from iteration 1.
    #[arg(long = "ctf_corrected_ref")]
    pub ctf_corrected_ref: bool,
    /// Padding factor of the 3D transforms; only 2 (RELION's default) is supported.
    #[arg(long, default_value_t = 2)]
    pub pad: u32,
    /// Orders of adaptive oversampling in the fine pass; only 1 (RELION's default).
    #[arg(long, default_value_t = 1)]
    pub oversampling: u32,
    /// RELION disc I/O tuning; no effect (particles are held in memory).
    #[arg(long = "dont_combine_weights_via_disc")]
    pub dont_combine_weights_via_disc: bool,
    /// RELION's particles per thread batch; no effect (cryoflux schedules its own blocks).
    #[arg(long, value_name = "N")]
    pub pool: Option<u32>,
    /// RELION scratch folder; no effect (particles are held in memory).
    #[arg(long = "scratch_dir", value_name = "DIR")]
    pub scratch_dir: Option<String>,
    /// RELION option to read all particles into memory; cryoflux always does.
    #[arg(long = "preread_images")]
    pub preread_images: bool,
    /// RELION disc I/O tuning; no effect.
    #[arg(long = "no_parallel_disc_io")]
    pub no_parallel_disc_io: bool,
    /// Score the E-step on CUDA GPUs, optionally these (RELION's syntax: `0:1` one device per
    /// process, `0,1:2,3` per thread within each process). This build has no GPU scorer:
    /// `--gpu` stops at start-up with a message saying whether a CUDA device was found.
    #[arg(long, value_name = "IDS", num_args = 0..=1, default_missing_value = "")]
    pub gpu: Option<String>,
    /// No warning when the particles' background is not normalised (mean 0, std 1).
    #[arg(long = "dont_check_norm")]
    pub dont_check_norm: bool,
}

impl RelionRefineFlags {
    /// Refuses unsupported values (naming the option) and returns the options given that
    /// have no effect here, for one note in the log.
    pub fn check(&self) -> anyhow::Result<Vec<&'static str>> {
        if self.pad != 2 {
            bail!(
                "--pad {}: cryoflux refine pads the 3D transforms by 2 (RELION's default); \
                 expected --pad 2 or no --pad",
                self.pad
            );
        }
        if self.oversampling != 1 {
            bail!(
                "--oversampling {}: cryoflux refine oversamples the fine pass by one order \
                 (RELION's default); expected --oversampling 1 or no --oversampling",
                self.oversampling
            );
        }
        let ignored = [
            (
                self.dont_combine_weights_via_disc,
                "--dont_combine_weights_via_disc",
            ),
            (self.pool.is_some(), "--pool"),
            (self.scratch_dir.is_some(), "--scratch_dir"),
            (self.preread_images, "--preread_images"),
            (self.no_parallel_disc_io, "--no_parallel_disc_io"),
        ];
        Ok(ignored
            .into_iter()
            .filter_map(|(given, name)| given.then_some(name))
            .collect())
    }

    /// The scorer `--gpu` asks for: the CPU's without it; a device list not in RELION's
    /// syntax is refused, naming it.
    pub fn scorer(&self) -> anyhow::Result<ScorerChoice> {
        self.gpu.as_deref().map_or(Ok(ScorerChoice::Cpu), |ids| {
            let devices: GpuDevices = ids.parse().with_context(|| format!("--gpu {ids}"))?;
            Ok(ScorerChoice::Gpu(devices))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        flags: RelionRefineFlags,
    }

    fn parse(args: &[&str]) -> RelionRefineFlags {
        Command::try_parse_from(std::iter::once("refine").chain(args.iter().copied()))
            .unwrap()
            .flags
    }

    #[test]
    fn gui_options_are_accepted_and_tuning_options_named_as_ignored() {
        let flags = parse(&[
            "--auto_refine",
            "--split_random_halves",
            "--pad",
            "2",
            "--pool",
            "3",
            "--dont_combine_weights_via_disc",
        ]);
        assert_eq!(
            flags.check().unwrap(),
            ["--dont_combine_weights_via_disc", "--pool"]
        );
        assert!(parse(&[]).check().unwrap().is_empty());
    }

    #[test]
    fn gpu_selects_the_gpu_scorer_with_relions_device_list() {
        assert_eq!(parse(&[]).scorer().unwrap(), ScorerChoice::Cpu);
        let any = ScorerChoice::Gpu(GpuDevices::default());
        assert_eq!(parse(&["--gpu"]).scorer().unwrap(), any);
        assert_eq!(parse(&["--gpu", ""]).scorer().unwrap(), any);
        let per_process = vec![vec![0, 1], vec![2]];
        assert_eq!(
            parse(&["--gpu", "0,1:2"]).scorer().unwrap(),
            ScorerChoice::Gpu(GpuDevices { per_process })
        );
        assert!(parse(&["--gpu"]).check().unwrap().is_empty());
        let err = format!("{:#}", parse(&["--gpu", "0:x"]).scorer().unwrap_err());
        assert!(err.starts_with("--gpu 0:x: device list \"0:x\""), "{err}");
    }

    #[test]
    fn unsupported_values_are_refused_naming_the_option() {
        let err = parse(&["--pad", "1"]).check().unwrap_err().to_string();
        assert!(err.contains("--pad 1"), "{err}");
        let err = parse(&["--oversampling", "2"])
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("--oversampling 2"), "{err}");
    }
}
