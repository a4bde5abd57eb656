//! Throughput of the STAR reader and writer on a RELION-sized particle file (200 000 rows,
//! 25 columns, RELION's `%12.6f` formatting). Ignored by default; run optimised:
//!
//! ```sh
//! cargo test --release -p cryoflux-formats --test star_bench -- --ignored --nocapture
//! ```
//!
//! Set `CRYOFLUX_BENCH_STAR=/path/f.star` to keep the generated file, e.g. to time Python
//! `starfile` on it.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

use cryoflux_formats::star::StarFile;

const ROWS: usize = 200_000;

/// Nanoseconds the threads of this process have spent on a CPU (Linux), so that timings on a
/// machine shared with other jobs can be told from waiting; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Run `work` `times` times; the shortest wall time and the shortest CPU time (all threads),
/// in seconds.
fn best_of<T>(times: usize, mut work: impl FnMut() -> T) -> (f64, Option<f64>, T) {
    let mut wall = f64::INFINITY;
    let mut cpu: Option<f64> = None;
    let mut result = None;
    for _ in 0..times {
        let (start, start_cpu) = (Instant::now(), cpu_ns());
        result = Some(work());
        wall = wall.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (start_cpu, cpu_ns()) {
            let seconds = (b - a) as f64 * 1e-9;
            cpu = Some(cpu.map_or(seconds, |c: f64| c.min(seconds)));
        }
    }
    (wall, cpu, result.expect("times > 0"))
}

fn report(what: &str, wall: f64, cpu: Option<f64>, megabytes: f64) {
    let threads = rayon::current_num_threads();
    print!(
        "STAR {what}: {ROWS} rows x 25 columns ({megabytes:.1} MB), {threads} threads: \
         wall {wall:.3} s = {:.2} M rows/s",
        ROWS as f64 / wall / 1e6
    );
    match cpu {
        Some(cpu) => println!("; CPU time of all threads {cpu:.3} s"),
        None => println!(),
    }
}

const FLOAT_LABELS: [&str; 19] = [
    "rlnCoordinateX",
    "rlnCoordinateY",
    "rlnDefocusU",
    "rlnDefocusV",
    "rlnDefocusAngle",
    "rlnCtfBfactor",
    "rlnCtfScalefactor",
    "rlnPhaseShift",
    "rlnCtfMaxResolution",
    "rlnCtfFigureOfMerit",
    "rlnAngleRot",
    "rlnAngleTilt",
    "rlnAnglePsi",
    "rlnOriginXAngst",
    "rlnOriginYAngst",
    "rlnNormCorrection",
    "rlnLogLikeliContribution",
    "rlnMaxValueProbDistribution",
    "rlnAutopickFigureOfMerit",
];
const INT_LABELS: [&str; 4] = [
    "rlnOpticsGroup",
    "rlnRandomSubset",
    "rlnClassNumber",
    "rlnNrOfSignificantSamples",
];

/// A deterministic particle file as RELION formats it.
fn particle_file() -> String {
    let mut text = String::from(
        "\n# version 30001\n\ndata_optics\n\nloop_ \n_rlnOpticsGroup #1 \n_rlnOpticsGroupName #2 \n\
         _rlnVoltage #3 \n_rlnImagePixelSize #4 \n           1 opticsGroup1   300.000000     1.060000 \n \n\n\
         # version 30001\n\ndata_particles\n\nloop_ \n_rlnImageName #1 \n_rlnMicrographName #2 \n",
    );
    for (index, label) in FLOAT_LABELS.iter().chain(&INT_LABELS).enumerate() {
        let _ = writeln!(text, "_{label} #{} ", index + 3);
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for row in 0..ROWS {
        let micrograph = row / 200 + 1;
        let _ = write!(
            text,
            "{:06}@Extract/job007/Movies/mic{micrograph:05}.mrcs Movies/mic{micrograph:05}.mrc",
            row % 200 + 1
        );
        for (column, _) in FLOAT_LABELS.iter().enumerate() {
            let value = (next() - 0.3) * 10f64.powi((column % 5) as i32);
            let _ = write!(text, " {value:12.6}");
        }
        for _ in INT_LABELS {
            let _ = write!(text, " {:12}", (next() * 3.0) as i64 + 1);
        }
        text.push_str(" \n");
    }
    text
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn read_and_write_throughput() {
    let text = particle_file();
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("CRYOFLUX_BENCH_STAR")
        .map_or_else(|| dir.path().join("particles.star"), PathBuf::from);
    std::fs::write(&path, &text).unwrap();
    let megabytes = text.len() as f64 / 1e6;

    let (wall, cpu, star) = best_of(3, || StarFile::read(&path).unwrap());
    report("read", wall, cpu, megabytes);
    let table = star
        .block("particles")
        .and_then(|b| b.table.as_ref())
        .unwrap();
    assert_eq!((table.rows(), table.columns().len()), (ROWS, 25));

    let out = dir.path().join("written.star");
    let (wall, cpu, ()) = best_of(1, || star.write(&out).unwrap());
    report("write", wall, cpu, megabytes);
}
