//! `cryoflux bench io`: how fast cryoflux reads its inputs, against baselines in the same run.
//! - STAR parse rate (rows/s) of a RELION-like particle file vs Python `starfile` on the same
//!   file (when installed);
//! - Parquet particle-table read rate vs STAR parse of the same rows, and vs `pyarrow`;
//! - MRC stack read rate (decoding every image) vs reading the same bytes raw from the file
//!   (the storage's sequential rate; the page cache is warm for both, said in the report).

use std::path::{Path, PathBuf};

use cryoflux_formats::mrc::{MrcFile, MrcStackWriter, WriteMode};
use cryoflux_formats::star::{Column, ColumnData, DataBlock, StarFile, Table};
use cryoflux_formats::table::{ParticleTable, read_parquet, write_parquet};

use super::run::python_output;
use super::timing::best_of;

/// Arguments of `cryoflux bench io`.
#[derive(Debug, clap::Args)]
pub struct BenchIoArgs {
    /// Rows of the synthetic particle STAR/Parquet table.
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    /// Size of the synthetic MRC stack in MB.
    #[arg(long = "stack_mb", default_value_t = 512)]
    pub stack_megabytes: usize,
    /// Box size of the stack's images in pixels.
    #[arg(long = "box", default_value_t = 256)]
    pub box_size: usize,
    /// Runs per measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Directory for the scratch files (removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub dir: PathBuf,
}

/// Run the three measurements in a scratch directory and print one line each.
pub fn run(args: &BenchIoArgs) -> anyhow::Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("cryoflux-bench-io")
        .tempdir_in(&args.dir)?;
    let dir = scratch.path();
    star_and_parquet(dir, args.rows, args.repeats)?;
    mrc_stack(dir, args.stack_megabytes, args.box_size, args.repeats)?;
    Ok(())
}

fn star_and_parquet(dir: &Path, rows: usize, repeats: usize) -> anyhow::Result<()> {
    let star_path = dir.join("particles.star");
    let star = synthetic_particles(rows);
    star.write(&star_path)?;
    let megabytes = std::fs::metadata(&star_path)?.len() as f64 / 1e6;
    let (ours, parsed) = best_of(repeats, || Ok(StarFile::read(&star_path)?))?;
    anyhow::ensure!(
        parsed == star,
        "the STAR file did not read back identically"
    );
    println!(
        "STAR parse: {rows} rows × {} columns ({megabytes:.0} MB): cryoflux {ours:.3} s = {:.2} M rows/s",
        particle_columns(&star),
        rows as f64 / ours / 1e6
    );
    match python_seconds(
        &format!("import starfile; starfile.read({star_path:?}, always_dict=True)"),
        repeats,
    ) {
        Some(theirs) => println!(
            "  Python starfile: {theirs:.3} s; cryoflux is {:.1}× faster",
            theirs / ours
        ),
        None => println!("  Python starfile not available: no baseline"),
    }

    let parquet_path = dir.join("particles.parquet");
    write_parquet(&ParticleTable::from_star(star, &star_path)?, &parquet_path)?;
    let parquet_mb = std::fs::metadata(&parquet_path)?.len() as f64 / 1e6;
    let (parquet, table) = best_of(repeats, || Ok(read_parquet(&parquet_path)?))?;
    anyhow::ensure!(table.rows.num_rows() == rows, "Parquet row count changed");
    println!(
        "Parquet read: {rows} rows ({parquet_mb:.1} MB zstd): {parquet:.3} s = {:.1} M rows/s; {:.1}× faster than STAR parse",
        rows as f64 / parquet / 1e6,
        ours / parquet
    );
    if let Some(theirs) = python_seconds(
        &format!("import pyarrow.parquet as pq; pq.read_table({parquet_path:?})"),
        repeats,
    ) {
        println!(
            "  pyarrow read_table: {theirs:.3} s (ratio cryoflux/pyarrow time {:.2})",
            parquet / theirs
        );
    }
    Ok(())
}

fn mrc_stack(dir: &Path, megabytes: usize, box_size: usize, repeats: usize) -> anyhow::Result<()> {
    let path = dir.join("stack.mrcs");
    let image_len = box_size * box_size;
    let count = (megabytes * 1_000_000 / (image_len * 4)).max(1);
    let mut writer = MrcStackWriter::create(&path, box_size, box_size, 1.0, WriteMode::Float32)?;
    let mut image = vec![0f32; image_len];
    for n in 0..count {
        for (i, value) in image.iter_mut().enumerate() {
            *value = ((i * 31 + n * 17) % 1024) as f32 / 1024.0;
        }
        writer.push(&image)?;
    }
    writer.finish()?;
    let bytes = std::fs::metadata(&path)?.len() as f64;

    let (raw, _) = best_of(repeats, || read_raw(&path))?;
    let file = MrcFile::open(&path)?;
    let (sequential, _) = best_of(repeats, || {
        let mut sum = 0f64;
        for n in 0..count {
            file.read_image_into(n, &mut image)?;
            sum += f64::from(image[0]);
        }
        Ok(sum)
    })?;
    let order = shuffled(count);
    let (random, _) = best_of(repeats, || {
        for &n in &order {
            file.read_image_into(n, &mut image)?;
        }
        Ok(())
    })?;
    let rate = |seconds: f64| bytes / seconds / 1e6;
    println!(
        "MRC stack read: {count} images of {box_size}² ({:.0} MB, warm page cache): sequential {:.0} MB/s ({:.0} images/s), random order {:.0} MB/s",
        bytes / 1e6,
        rate(sequential),
        count as f64 / sequential,
        rate(random)
    );
    println!(
        "  raw sequential file read {:.0} MB/s; decoding every image runs at {:.2}× the raw read rate",
        rate(raw),
        raw / sequential
    );
    Ok(())
}

/// Read `path` start to end in 4 MiB chunks into one reused buffer: the storage's (or page
/// cache's) sequential rate, the baseline for stack decoding.
fn read_raw(path: &Path) -> anyhow::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 4 << 20];
    let mut total = 0;
    loop {
        match file.read(&mut buffer)? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// A RELION 3.1 particle file of `rows` rows with the 25 columns of a typical `run_data.star`.
fn synthetic_particles(rows: usize) -> StarFile {
    let float_column = |label: &str, f: &dyn Fn(usize) -> f64| Column {
        label: label.to_owned(),
        data: ColumnData::Float((0..rows).map(f).collect()),
    };
    let int_column = |label: &str, f: &dyn Fn(usize) -> i64| Column {
        label: label.to_owned(),
        data: ColumnData::Int((0..rows).map(f).collect()),
    };
    let text_column = |label: &str, f: &dyn Fn(usize) -> String| Column {
        label: label.to_owned(),
        data: ColumnData::Text((0..rows).map(f).collect()),
    };
    let wobble = |i: usize, scale: f64| ((i as f64 * 0.618_034).fract() - 0.5) * scale;
    let columns = vec![
        float_column("rlnCoordinateX", &|i| (i * 37 % 4096) as f64),
        float_column("rlnCoordinateY", &|i| (i * 53 % 4096) as f64),
        text_column("rlnImageName", &|i| {
            format!(
                "{:06}@Extract/job007/Movies/mic{:05}.mrcs",
                i % 300 + 1,
                i / 300
            )
        }),
        text_column("rlnMicrographName", &|i| {
            format!("MotionCorr/job002/Movies/mic{:05}.mrc", i / 300)
        }),
        int_column("rlnOpticsGroup", &|_| 1),
        float_column("rlnDefocusU", &|i| 15000.0 + wobble(i, 8000.0)),
        float_column("rlnDefocusV", &|i| 14800.0 + wobble(i, 8000.0)),
        float_column("rlnDefocusAngle", &|i| wobble(i, 360.0)),
        float_column("rlnCtfBfactor", &|_| 0.0),
        float_column("rlnCtfScalefactor", &|_| 1.0),
        float_column("rlnPhaseShift", &|_| 0.0),
        float_column("rlnCtfMaxResolution", &|i| 4.0 + wobble(i, 2.0)),
        float_column("rlnCtfFigureOfMerit", &|i| 0.2 + wobble(i, 0.1)),
        int_column("rlnGroupNumber", &|i| (i / 300 % 50) as i64 + 1),
        float_column("rlnAngleRot", &|i| wobble(i * 3, 360.0)),
        float_column("rlnAngleTilt", &|i| 90.0 + wobble(i * 5, 180.0)),
        float_column("rlnAnglePsi", &|i| wobble(i * 7, 360.0)),
        float_column("rlnOriginXAngst", &|i| wobble(i * 11, 10.0)),
        float_column("rlnOriginYAngst", &|i| wobble(i * 13, 10.0)),
        int_column("rlnClassNumber", &|_| 1),
        float_column("rlnNormCorrection", &|i| 1.0 + wobble(i, 0.2)),
        int_column("rlnRandomSubset", &|i| (i % 2) as i64 + 1),
        float_column("rlnLogLikeliContribution", &|i| 1.0e5 + wobble(i, 1.0e3)),
        float_column("rlnMaxValueProbDistribution", &|i| 0.5 + wobble(i, 0.5)),
        int_column("rlnNrOfSignificantSamples", &|i| (i % 40) as i64 + 1),
    ];
    let optics = Table::from_columns(vec![
        Column {
            label: "rlnOpticsGroupName".into(),
            data: ColumnData::Text(vec!["opticsGroup1".into()]),
        },
        Column {
            label: "rlnOpticsGroup".into(),
            data: ColumnData::Int(vec![1]),
        },
        Column {
            label: "rlnVoltage".into(),
            data: ColumnData::Float(vec![300.0]),
        },
        Column {
            label: "rlnSphericalAberration".into(),
            data: ColumnData::Float(vec![2.7]),
        },
        Column {
            label: "rlnAmplitudeContrast".into(),
            data: ColumnData::Float(vec![0.1]),
        },
        Column {
            label: "rlnImagePixelSize".into(),
            data: ColumnData::Float(vec![1.06]),
        },
        Column {
            label: "rlnImageSize".into(),
            data: ColumnData::Int(vec![256]),
        },
        Column {
            label: "rlnImageDimensionality".into(),
            data: ColumnData::Int(vec![2]),
        },
    ]);
    let block = |name: &str, table| DataBlock {
        name: name.into(),
        pairs: vec![],
        table,
    };
    StarFile {
        blocks: vec![
            block("optics", optics),
            block("particles", Table::from_columns(columns)),
        ],
    }
}

fn particle_columns(star: &StarFile) -> usize {
    star.block("particles")
        .and_then(|b| b.table.as_ref())
        .map_or(0, |t| t.columns().len())
}

/// Best wall time of `statement` over `repeats` runs inside one Python process (so interpreter
/// start-up is not counted), or `None` if Python or the module is missing.
fn python_seconds(statement: &str, repeats: usize) -> Option<f64> {
    let script = format!(
        "import time\nbest = 1e300\nfor _ in range({repeats}):\n    t = time.perf_counter()\n    {statement}\n    best = min(best, time.perf_counter() - t)\nprint(best)"
    );
    python_output(&script)?.trim().parse().ok()
}

/// 0..n in a fixed pseudo-random order (deterministic, no RNG dependency).
fn shuffled(n: usize) -> Vec<usize> {
    let step = (1..n)
        .rev()
        .find(|s| gcd(*s, n) == 1 && *s > n / 3)
        .unwrap_or(1);
    (0..n).map(|i| i * step % n).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_is_a_permutation() {
        for n in [1, 2, 7, 100] {
            let mut order = shuffled(n);
            order.sort_unstable();
            assert_eq!(order, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn synthetic_file_is_a_valid_particle_file() {
        let star = synthetic_particles(10);
        assert_eq!(particle_columns(&star), 25);
        let text = star.to_string().unwrap();
        let path = Path::new("synthetic.star");
        let particles = cryoflux_formats::star::ParticleStar::from_star(
            StarFile::parse(&text, path).unwrap(),
            path,
        );
        assert_eq!(particles.unwrap().particles.rows(), 10);
    }
}
