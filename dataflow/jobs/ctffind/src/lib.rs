//! `cryoflux ctffind`: CTF estimation of aligned micrographs, as RELION 3.1.3's CtfFind job
//! (`relion_run_ctffind --is_ctffind4`, which drives CTFFIND-4.1), with the estimation of
//! [`cryoflux_kernels::ctffind`] in place of the CTFFIND executable.
//!
//! Input: a micrographs STAR file ([`inputs`]; pixel size, voltage, Cs and Q0 from its optics
//! groups). Each micrograph runs on its own worker ([`cryoflux_jobkit::batch::run_per_movie`]):
//! read, tile spectra, fit ([`micrograph`]), and its `.ctf`/`.txt`/`_ctffind4.log` files
//! ([`outputs`], named as [`paths`] says). A micrograph that cannot be read or fitted is
//! reported (`tracing::warn!`) and left out of `micrographs_ctf.star`; the job fails only when
//! none succeeds or the input itself is unusable. Results do not depend on `--j`.
//!
//! Units: defoci and resolutions in Å, angles in degrees, boxes in px (RELION's).

pub mod inputs;
pub mod micrograph;
pub mod outputs;
pub mod paths;
pub mod result;
pub mod settings;

use std::path::PathBuf;

use anyhow::{Context, bail};
use cryoflux_jobkit::batch::run_per_movie;

use inputs::{Micrograph, read_micrographs};
use micrograph::{fit_micrograph, read_micrograph};
use outputs::{Row, micrographs_ctf_star, write_micrograph_files, write_tables};
use paths::{output_stem, with_suffix};
use result::{CtfResult, read_summary};
use settings::Settings;

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Micrographs estimated in this run.
    pub estimated: usize,
    /// Micrographs whose earlier results were kept (`--only_do_unfinished`).
    pub reused: usize,
    /// Micrographs skipped, with the reason (file name first).
    pub failed: Vec<String>,
    /// The `micrographs_ctf.star` written.
    pub star: PathBuf,
}

/// How one micrograph ended.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Estimated now.
    Estimated(CtfResult),
    /// Read back from an earlier run's `.txt`.
    Reused(CtfResult),
}

/// Runs the job: estimates every micrograph of `settings.input` and writes the outputs.
pub fn run(settings: &Settings) -> anyhow::Result<Summary> {
    if settings.threads == 0 {
        bail!("--j 0: expected at least 1 thread");
    }
    let set = read_micrographs(&settings.input, settings.use_no_dw)?;
    let search = settings.search();
    for m in &set.micrographs {
        search.validate(&m.microscope()).with_context(|| {
            format!(
                "the search settings do not suit optics group {} of {}",
                m.optics_group,
                settings.input.display()
            )
        })?;
    }
    std::fs::create_dir_all(&settings.output_dir)
        .with_context(|| format!("cannot create {}", settings.output_dir.display()))?;

    let (output_dir, only_unfinished) = (settings.output_dir.clone(), settings.only_do_unfinished);
    let outcomes = run_per_movie(
        settings.threads,
        "CtfFind",
        set.micrographs.clone(),
        move |m: &Micrograph| -> Result<Outcome, String> {
            let stem = output_stem(&output_dir, &m.name);
            if only_unfinished
                && with_suffix(&stem, ".ctf").is_file()
                && let Ok(result) = read_summary(&with_suffix(&stem, ".txt"))
            {
                return Ok(Outcome::Reused(result));
            }
            let image = read_micrograph(m.source.as_ref()).map_err(|e| format!("{e:#}"))?;
            let fit = fit_micrograph(&image, &m.microscope(), &search)
                .map_err(|e| format!("{}: {e}", m.source))?;
            if fit.estimate.defocus_at_search_limit {
                tracing::warn!(
                    "{}: the best defocus lies at an end of --dFMin … --dFMax; the true \
                     defocus may lie outside the searched range",
                    m.source
                );
            }
            write_micrograph_files(&stem, m, &search, &fit)
                .map(Outcome::Estimated)
                .map_err(|e| format!("{}: {e:#}", m.source))
        },
    )?;

    let (mut rows, mut failed, mut estimated, mut reused) = (Vec::new(), Vec::new(), 0, 0);
    for (m, outcome) in set.micrographs.iter().zip(outcomes) {
        let result = match outcome {
            Ok(Outcome::Estimated(r)) => {
                estimated += 1;
                r
            }
            Ok(Outcome::Reused(r)) => {
                reused += 1;
                r
            }
            Err(e) => {
                tracing::warn!("skipping micrograph {}: {e}", m.name);
                failed.push(e);
                continue;
            }
        };
        let diagnostic = with_suffix(&output_stem(&settings.output_dir, &m.name), ".ctf");
        rows.push(Row {
            micrograph: m,
            result,
            diagnostic,
        });
    }
    if rows.is_empty() {
        bail!(
            "no micrograph of {} could be estimated ({} failed; first: {})",
            settings.input.display(),
            failed.len(),
            failed.first().map_or("", String::as_str)
        );
    }
    let star = micrographs_ctf_star(&set.optics, &rows, settings.do_phaseshift);
    let star = write_tables(star, &settings.output_dir)?;
    Ok(Summary {
        estimated,
        reused,
        failed,
        star,
    })
}
