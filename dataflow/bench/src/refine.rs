//! `cryoflux bench refine`: 3D auto-refinement side by side with RELION 3.1.3 on the same
//! simulated particles and the same reference, both measured against the simulation's truth.
//!
//! - Data: `cryoflux simulate` of the bundled demo map (PDB 1TII, asymmetric, box 48, 3.0 Å; the
//!   1HPV map is a nearly C2-symmetric dimer whose particles may legitimately land on the
//!   2-fold-related pose) or of `--map`: `--n` particles at `--snr`, CTFs, origins within ±3 Å
//!   ([`SimulationConfig::typical`]).
//! - Reference: the truth low-passed to `--ini_high` Å (default 40; raised-cosine edge of 2
//!   shells), so no global alignment is needed when assessing (see [`cryoflux_reporting::assess`]). A
//!   reference too blurred to tell the particle's pseudo-symmetric or ellipsoid-like halves apart
//!   lets both programs settle partly on rotated poses; the angular errors then show it.
//! - cryoflux: `cryoflux refine --ini_high A --ctf --healpix_order H --offset_range 5 px
//!   --offset_step 2 px --sym C1 --firstiter_cc --norm --scale --j J` (RELION's GUI options;
//!   offsets are given in Å: 5 and 2 pixels).
//! - RELION: `tools/relion_refine_side_by_side.sh` (embedded in the binary): `mpirun -n 3
//!   relion_refine_mpi --auto_refine --split_random_halves …` with the GUI's options, one thread
//!   per rank: a leader and one worker per half set, i.e. two busy processes, as cryoflux's
//!   default `--j 2`. Skipped with a message when `mpirun` or `relion_refine_mpi` is missing.
//! - Cost: wall time of each child process; peak resident memory from GNU `/usr/bin/time` — for
//!   cryoflux its one process, for RELION the sum of the three ranks' peaks (an upper bound of
//!   their simultaneous total).
//! - Quality: [`cryoflux_reporting::assess::assess_aligned`] of each result against the truth: gold-standard
//!   FSC 0.143 of the unfiltered half maps, FSC of the final map against the true map, angular
//!   and offset errors; then the same in the refinement's own frame (a global rotation or mirror
//!   estimated from the poses), since a blurred reference may let a program converge to a
//!   rotated or mirrored copy. Iterations: the largest NNN of `run_itNNN_half1_model.star`.
//! - E-step throughput: cryoflux's per-iteration `… evals/s` figures, weighted by the
//!   iterations' durations (total evaluations / total time), when its log prints them (omitted
//!   otherwise). RELION prints no such figure.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::low_pass_angstrom;
use cryoflux_kernels::grid::Volume;

use super::run::{ChildCost, measure_child, on_path};
use cryoflux_jobkit::maps::read_map;
use cryoflux_jobkit::maps::{Grids, write_grids};
use cryoflux_reporting::assess::{AssessInputs, Assessment, InFrame, assess_aligned};
use cryoflux_simulate::assets::demo_map;
use cryoflux_simulate::{SimulationConfig, simulate};

/// The RELION side of the comparison, also usable by hand.
const RELION_SCRIPT: &str = include_str!("../../../tools/relion_refine_side_by_side.sh");

/// Arguments of `cryoflux bench refine`.
#[derive(Debug, clap::Args)]
pub struct BenchRefineArgs {
    /// Particles to simulate.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Signal-to-noise ratio of the simulated images (signal variance / noise variance).
    #[arg(long, default_value_t = 0.05)]
    pub snr: f64,
    /// Threads of cryoflux refine (RELION runs 3 MPI ranks of one thread: a leader and two
    /// workers).
    #[arg(long = "j", default_value_t = 2, value_parser = cryoflux_jobkit::threads::worker_threads)]
    pub threads: usize,
    /// Ground-truth map (MRC); default: the bundled demo map (PDB 1TII, asymmetric, box 48,
    /// 3.0 Å).
    #[arg(long, value_name = "FILE.mrc")]
    pub map: Option<PathBuf>,
    /// Particle diameter in Å for both programs; default: 3/4 of the box.
    #[arg(long = "particle_diameter", value_name = "Å")]
    pub particle_diameter: Option<f64>,
    /// Resolution in Å of the reference (the truth low-passed) and both programs' `--ini_high`.
    #[arg(long = "ini_high", value_name = "Å", default_value_t = 40.0)]
    pub ini_high: f64,
    /// Initial HEALPix order of both programs: 2 = 15° coarse / 7.5° fine (RELION GUI's "7.5
    /// degrees"); 1 = 30° / 15° for quick checks.
    #[arg(long = "healpix_order", default_value_t = 2)]
    pub healpix_order: u32,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run cryoflux only.
    #[arg(long = "no_relion")]
    pub no_relion: bool,
    /// Keep everything in this directory (default: a temporary directory, removed afterwards).
    #[arg(long = "o", visible_alias = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// One program's run and its assessment.
struct Outcome {
    cost: ChildCost,
    /// Peak memory in MiB (RELION: summed over ranks).
    peak_mb: Option<f64>,
    iterations: Option<usize>,
    assessment: Assessment,
    evals_per_second: Option<f64>,
}

/// The shared inputs of both refinements, as absolute paths in the work directory.
struct Prepared {
    dir: PathBuf,
    particles: PathBuf,
    truth_star: PathBuf,
    truth_map: PathBuf,
    reference: PathBuf,
    /// Pixel size in Å.
    pixel: f64,
    /// Particle diameter in Å.
    diameter: f64,
}

/// Simulate, refine with both programs, assess, print the side-by-side table.
pub fn run(args: &BenchRefineArgs) -> anyhow::Result<()> {
    let (_temporary, dir) = work_directory(args.output.as_deref())?;
    let prepared = prepare(args, dir)?;
    println!(
        "  running cryoflux refine --j {} (log: CryoFlux/cryoflux.log) …",
        args.threads
    );
    let ours = run_cryoflux(args, &prepared)?;
    let relion = if args.no_relion {
        None
    } else if !(on_path("mpirun") && on_path("relion_refine_mpi")) {
        println!("  mpirun or relion_refine_mpi not installed: no RELION baseline");
        None
    } else {
        println!("  running relion_refine_mpi, 3 ranks × 1 thread (log: Relion/relion.log) …");
        Some(run_relion(args, &prepared)?)
    };
    print!("{}", side_by_side(&ours, relion.as_ref()));
    Ok(())
}

/// Simulates the particles and writes the true map and the low-passed reference into `dir`.
fn prepare(args: &BenchRefineArgs, dir: PathBuf) -> anyhow::Result<Prepared> {
    let truth = match &args.map {
        Some(path) => read_map(path, None)?,
        None => demo_map()?,
    };
    let (n, pixel) = (truth.n(), truth.pixel_size());
    let diameter = args
        .particle_diameter
        .unwrap_or((0.75 * n as f64 * pixel).round());
    let summary = simulate(
        &truth,
        &SimulationConfig::typical(args.n, args.seed, args.snr),
        &dir.join("Simulate"),
    )?;
    let (truth_map, reference) = (dir.join("truth.mrc"), dir.join("reference.mrc"));
    write_grids(
        &reference,
        &Grids::Volume(low_passed(&truth, args.ini_high)?),
    )?;
    write_grids(&truth_map, &Grids::Volume(truth))?;
    println!(
        "bench refine: {} particles, box {n}, {pixel} Å/px, SNR {}, CTF, C1, particle diameter \
         {diameter} Å; reference = truth low-passed to {} Å; HEALPix order {}; in {}",
        args.n,
        args.snr,
        args.ini_high,
        args.healpix_order,
        dir.display()
    );
    Ok(Prepared {
        dir,
        particles: summary.particles_star,
        truth_star: summary.truth_star,
        truth_map,
        reference,
        pixel,
        diameter,
    })
}

/// `cryoflux refine` with RELION's options (offsets converted from pixels to Å), assessed.
fn run_cryoflux(args: &BenchRefineArgs, p: &Prepared) -> anyhow::Result<Outcome> {
    let root = p.dir.join("CryoFlux/run");
    std::fs::create_dir_all(p.dir.join("CryoFlux"))?;
    let exe = std::env::current_exe().context("cannot locate the cryoflux executable")?;
    let angstrom = |pixels: f64| (pixels * p.pixel).to_string();
    let (ini_high, diameter) = (args.ini_high.to_string(), p.diameter.to_string());
    let (range, step, threads) = (angstrom(5.0), angstrom(2.0), args.threads.to_string());
    let order = args.healpix_order.to_string();
    #[rustfmt::skip]
    let flags = [
        "refine", "--i", path_text(&p.particles)?, "--ref", path_text(&p.reference)?,
        "--o", path_text(&root)?, "--ini_high", &ini_high, "--particle_diameter", &diameter,
        "--ctf", "--healpix_order", &order, "--offset_range", &range, "--offset_step", &step,
        "--sym", "C1", "--j", &threads, "--random_seed", "1", "--firstiter_cc", "--norm",
        "--scale",
    ];
    let cost = measure_child(&p.dir, &exe, &flags, &p.dir.join("CryoFlux/cryoflux.log"))?;
    Ok(Outcome {
        peak_mb: cost.peak_mb,
        iterations: last_iteration(&root),
        assessment: assess_result(p, &root).context("assessing cryoflux's refinement")?,
        evals_per_second: evals_per_second(&cost.log),
        cost,
    })
}

/// `tools/relion_refine_side_by_side.sh` (written into the work directory), assessed.
fn run_relion(args: &BenchRefineArgs, p: &Prepared) -> anyhow::Result<Outcome> {
    let script = p.dir.join("relion_refine_side_by_side.sh");
    std::fs::write(&script, RELION_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let (ini_high, diameter) = (args.ini_high.to_string(), p.diameter.to_string());
    let order = args.healpix_order.to_string();
    let flags = [
        path_text(&script)?,
        path_text(&p.particles)?,
        path_text(&p.reference)?,
        "Relion",
        &diameter,
        &ini_high,
        &order,
    ];
    let log = p.dir.join("relion_refine_side_by_side.log");
    let cost = measure_child(&p.dir, Path::new("sh"), &flags, &log)?;
    let root = p.dir.join("Relion/run");
    Ok(Outcome {
        peak_mb: summed_rank_peak_mb(&cost.log),
        iterations: last_iteration(&root),
        assessment: assess_result(p, &root).context("assessing RELION's refinement")?,
        evals_per_second: None,
        cost,
    })
}

/// The assessment of the refinement with output root `root` (also written to
/// `ROOT_assess.json`).
fn assess_result(p: &Prepared, root: &Path) -> anyhow::Result<Assessment> {
    let assessment = assess_aligned(&AssessInputs {
        data: suffixed(root, "_data.star"),
        truth: p.truth_star.clone(),
        symmetry: "C1".into(),
        map_and_truth: Some((suffixed(root, "_class001.mrc"), p.truth_map.clone())),
        half_maps: Some((
            suffixed(root, "_half1_class001_unfil.mrc"),
            suffixed(root, "_half2_class001_unfil.mrc"),
        )),
    })?;
    assessment.write_json(&suffixed(root, "_assess.json"))?;
    Ok(assessment)
}

/// The work directory (absolute, so that image names resolve from any working directory) and
/// the temporary directory guard that removes it, when no `--o` was given.
fn work_directory(output: Option<&Path>) -> anyhow::Result<(Option<tempfile::TempDir>, PathBuf)> {
    match output {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let absolute = dir
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", dir.display()))?;
            Ok((None, absolute))
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("cryoflux-bench-refine")
                .tempdir()?;
            let path = temporary.path().to_path_buf();
            Ok((Some(temporary), path))
        }
    }
}

/// `map` low-passed to `resolution` Å with a raised-cosine edge of 2 shells (as `cryoflux image
/// --lowpass`).
fn low_passed(map: &Volume, resolution: f64) -> anyhow::Result<Volume> {
    let mut f = fft::forward(map);
    low_pass_angstrom(&mut f, resolution, 2.0)?;
    Ok(fft::inverse(&f))
}

/// `root` + `suffix` (`…/run` + `_data.star`).
fn suffixed(root: &Path, suffix: &str) -> PathBuf {
    let mut text = root.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

fn path_text(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

/// The largest NNN among `root_itNNN_half1_model.star` files (the last iteration written).
fn last_iteration(root: &Path) -> Option<usize> {
    let dir = root.parent()?;
    let prefix = format!("{}_it", root.file_name()?.to_str()?);
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let digits = name
                .strip_prefix(&prefix)?
                .strip_suffix("_half1_model.star")?;
            digits.parse().ok()
        })
        .max()
}

/// E-step throughput from a log whose lines report `X evals/s` (SI prefixes k, M, G, T allowed,
/// attached or as a word: `2.1e9 evals/s`, `2.1G evals/s`, `2.1 G evals/s`): weighted by each
/// line's duration when every such line also says it (`… 9.7 s, … evals/s`), i.e. total
/// evaluations over total time; otherwise the plain mean of the rates.
fn evals_per_second(log: &str) -> Option<f64> {
    let rates: Vec<(f64, Option<f64>)> = log
        .lines()
        .filter_map(|line| {
            let (before, _) = line.split_once("evals/s")?;
            Some((rate_before(before)?, seconds_in(before)))
        })
        .collect();
    if rates.is_empty() {
        return None;
    }
    let timed: Vec<(f64, f64)> = rates
        .iter()
        .filter_map(|&(rate, seconds)| Some((rate, seconds.filter(|s| *s > 0.0)?)))
        .collect();
    Some(if timed.len() == rates.len() {
        let (work, time) = timed
            .iter()
            .fold((0.0, 0.0), |(w, t), (rate, s)| (w + rate * s, t + s));
        work / time
    } else {
        rates.iter().map(|(rate, _)| rate).sum::<f64>() / rates.len() as f64
    })
}

/// The rate written just before `evals/s`.
fn rate_before(before: &str) -> Option<f64> {
    let mut words = before.split_whitespace().rev().map(trim_punctuation);
    let last = words.next()?;
    match si_factor(last) {
        Some(factor) => Some(words.next()?.parse::<f64>().ok()? * factor),
        None => with_prefix(last),
    }
}

/// The first duration written as `N s` (or `N s,`) in `text`, in seconds.
fn seconds_in(text: &str) -> Option<f64> {
    let words: Vec<&str> = text.split_whitespace().map(trim_punctuation).collect();
    words
        .windows(2)
        .find_map(|w| (w[1] == "s," || w[1] == "s").then(|| w[0].parse().ok())?)
}

fn trim_punctuation(word: &str) -> &str {
    word.trim_start_matches(['(', '[', ':', '=', ','])
}

/// SI prefixes and their factors.
const SI_PREFIXES: [(&str, f64); 4] = [("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)];

/// A number with an optional attached SI prefix (`2.5`, `2.5G`).
fn with_prefix(word: &str) -> Option<f64> {
    SI_PREFIXES
        .iter()
        .find_map(|(prefix, factor)| Some(word.strip_suffix(prefix)?.parse::<f64>().ok()? * factor))
        .or_else(|| word.parse().ok())
}

fn si_factor(word: &str) -> Option<f64> {
    SI_PREFIXES
        .iter()
        .find(|(prefix, _)| *prefix == word)
        .map(|(_, factor)| *factor)
}

/// Peak memory in MiB summed over the MPI ranks, from the script's last line
/// (`side_by_side: … peak_rss_kb_sum=KB …`).
fn summed_rank_peak_mb(log: &str) -> Option<f64> {
    let line = log.lines().rev().find(|l| l.starts_with("side_by_side:"))?;
    let kb: f64 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("peak_rss_kb_sum="))?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// A row of the report: label, the measure, decimals, whether a RELION/cryoflux ratio is shown.
type Row = (&'static str, fn(&Outcome) -> Option<f64>, usize, bool);

/// The rows of the report, in order.
const ROWS: [Row; 18] = [
    ("wall time (s)", |o| Some(o.cost.seconds), 1, true),
    ("peak memory (MiB)", |o| o.peak_mb, 0, true),
    ("iterations", |o| o.iterations.map(|i| i as f64), 0, false),
    (
        "gold-standard resolution (Å, 0.143)",
        |o| o.assessment.gold_standard.as_ref().map(|f| f.at_0_143),
        2,
        false,
    ),
    (
        "resolution vs truth (Å, FSC 0.5)",
        |o| o.assessment.against_truth.as_ref().map(|f| f.at_0_5),
        2,
        false,
    ),
    (
        "resolution vs truth (Å, FSC 0.143)",
        |o| o.assessment.against_truth.as_ref().map(|f| f.at_0_143),
        2,
        false,
    ),
    (
        "angular error mean (°)",
        |o| Some(o.assessment.angular_error_deg.mean),
        2,
        false,
    ),
    (
        "angular error median (°)",
        |o| Some(o.assessment.angular_error_deg.median),
        2,
        false,
    ),
    (
        "angular error 90th pct (°)",
        |o| Some(o.assessment.angular_error_deg.p90),
        2,
        false,
    ),
    (
        "offset error mean (Å)",
        |o| Some(o.assessment.offset_error_angst.mean),
        2,
        false,
    ),
    (
        "offset error median (Å)",
        |o| Some(o.assessment.offset_error_angst.median),
        2,
        false,
    ),
    (
        "own frame: rotation from truth (°)",
        |o| own_frame(o).map(|f| f.frame.angle_deg),
        1,
        false,
    ),
    (
        "own frame: opposite hand (1 = yes)",
        |o| own_frame(o).map(|f| f64::from(u8::from(f.frame.mirrored))),
        0,
        false,
    ),
    (
        "own frame: particles in it (%)",
        |o| own_frame(o).map(|f| 100.0 * f.frame.fraction),
        0,
        false,
    ),
    (
        "own frame: angular error median (°)",
        |o| own_frame(o).map(|f| f.angular_error_deg.median),
        2,
        false,
    ),
    (
        "own frame: angular error 90th pct (°)",
        |o| own_frame(o).map(|f| f.angular_error_deg.p90),
        2,
        false,
    ),
    (
        "own frame: vs truth (Å, FSC 0.5)",
        |o| {
            own_frame(o)
                .and_then(|f| f.against_truth.as_ref())
                .map(|f| f.at_0_5)
        },
        2,
        false,
    ),
    ("E-step (evaluations/s)", |o| o.evals_per_second, 0, false),
];

/// The measurements in the refinement's own frame.
fn own_frame(o: &Outcome) -> Option<&InFrame> {
    o.assessment.in_frame.as_ref()
}

/// The report: one row per measure, cryoflux | RELION | ratio where one makes sense; a row
/// neither program has a value for is left out.
fn side_by_side(ours: &Outcome, relion: Option<&Outcome>) -> String {
    let cell = |v: Option<f64>, digits: usize| {
        v.filter(|x| x.is_finite()).map_or("—".to_string(), |x| {
            if x.abs() >= 1e6 {
                format!("{x:.3e}")
            } else {
                format!("{x:.digits$}")
            }
        })
    };
    let mut out = format!(
        "{:<40}{:>12}{:>12}{:>17}\n",
        "", "cryoflux", "RELION", "RELION/cryoflux"
    );
    for (name, measure, digits, ratio) in ROWS {
        let (a, b) = (measure(ours), relion.and_then(measure));
        if a.is_none() && b.is_none() {
            continue;
        }
        let quotient = match (a, b) {
            (Some(a), Some(b)) if ratio && a > 0.0 => format!("{:.2}×", b / a),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{name:<40}{:>12}{:>12}{quotient:>17}\n",
            cell(a, digits),
            cell(b, digits)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evals_per_second_are_averaged_over_the_log() {
        let log = "Iteration 1: … (2.0e9 evals/s)\nIteration 2: 3G evals/s\nIteration 3: \
                   4.0 G evals/s, done\n";
        assert_eq!(evals_per_second(log), Some(3.0e9));
        // With durations: (1e9·1 s + 4e9·3 s) / 4 s.
        let timed = "Iteration 1: (1.0 s, 31 particles/s, 1.0e9 evals/s)\n\
                     Iteration 2: (3.0 s, 9 particles/s, 4.0e9 evals/s)\n";
        assert_eq!(evals_per_second(timed), Some(3.25e9));
        assert_eq!(evals_per_second("Iteration 1: 120 particles/s"), None);
        assert_eq!(evals_per_second("garbage evals/s"), None);
        assert_eq!(evals_per_second("2.5µ evals/s"), None);
    }

    #[test]
    fn rank_peaks_come_from_the_script_summary() {
        let log = "relion says hi\nside_by_side: wall_s=12.5 peak_rss_kb_sum=2048 ranks=3\n";
        assert_eq!(summed_rank_peak_mb(log), Some(2.0));
        assert_eq!(
            summed_rank_peak_mb("side_by_side: wall_s=1 peak_rss_kb_sum=unmeasured ranks=3"),
            None
        );
        assert_eq!(summed_rank_peak_mb("no summary"), None);
    }

    #[test]
    fn last_iteration_is_the_largest_model_number() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "run_it000_half1_model.star",
            "run_it007_half1_model.star",
            "run_it012_half2_model.star",
            "run_it003_half1_model.star",
            "other_it020_half1_model.star",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(last_iteration(&dir.path().join("run")), Some(7));
        assert_eq!(last_iteration(&dir.path().join("none")), None);
    }

    fn outcome(seconds: f64, peak_mb: Option<f64>, angle: f64) -> Outcome {
        use cryoflux_reporting::assess::{ErrorStats, ParticleCounts};
        let stats = ErrorStats::of(&[angle]).unwrap();
        Outcome {
            cost: ChildCost {
                seconds,
                peak_mb,
                log: String::new(),
            },
            peak_mb,
            iterations: Some(9),
            assessment: Assessment {
                symmetry: "C1".into(),
                particles: ParticleCounts {
                    matched: 1,
                    only_in_data: 0,
                    only_in_truth: 0,
                },
                angular_error_deg: stats,
                offset_error_angst: stats,
                against_truth: None,
                gold_standard: None,
                in_frame: None,
            },
            evals_per_second: None,
        }
    }

    #[test]
    fn report_shows_ratios_and_leaves_out_what_neither_measured() {
        let ours = outcome(10.0, Some(100.0), 1.5);
        let report = side_by_side(&ours, Some(&outcome(40.0, None, 2.25)));
        let wall = report.lines().find(|l| l.starts_with("wall time")).unwrap();
        assert!(wall.contains("10.0") && wall.contains("40.0") && wall.ends_with("4.00×"));
        let memory = report
            .lines()
            .find(|l| l.starts_with("peak memory"))
            .unwrap();
        assert!(memory.contains("100") && memory.contains('—') && !memory.contains('×'));
        let angle = report
            .lines()
            .find(|l| l.starts_with("angular error mean"))
            .unwrap();
        assert!(angle.contains("1.50") && angle.contains("2.25"), "{angle}");
        assert!(
            !report.contains("resolution") && !report.contains("E-step"),
            "{report}"
        );
        let alone = side_by_side(&ours, None);
        assert!(alone.lines().nth(1).unwrap().contains('—'), "{alone}");
    }

    #[test]
    fn script_is_the_one_in_tools() {
        assert!(RELION_SCRIPT.contains("--auto_refine --split_random_halves"));
        assert!(RELION_SCRIPT.contains("side_by_side: wall_s="));
    }
}
