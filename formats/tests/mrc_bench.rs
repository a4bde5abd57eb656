//! Stack read throughput, on demand only (ignored by default; it writes ~1 GB):
//!
//! ```text
//! cargo test -p cryoflux-formats --test mrc_bench --config 'profile.dev.package.cryoflux-formats.opt-level=3' \
//!     -- --ignored --nocapture
//! ```
//! Environment: `CRYOFLUX_MRC_BENCH_DIR` (default the system temp dir), `CRYOFLUX_MRC_BENCH_IMAGES`
//! (default 4000 images of 256², 1 GiB). Prints write, `dd` and our sequential and random read
//! rates, each cold (the file's pages evicted with `dd iflag=nocache`, affecting only this file)
//! and warm (page cache full).

use std::process::Command;
use std::time::Instant;

use cryoflux_formats::mrc::{MrcFile, MrcStackWriter, WriteMode};

const SIDE: usize = 256;

fn evict(path: &std::path::Path) -> bool {
    Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status()
        .is_ok_and(|s| s.success())
}

fn dd_rate(path: &std::path::Path) -> f64 {
    let start = Instant::now();
    let status = Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["of=/dev/null", "bs=1M", "status=none"])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::metadata(path).unwrap().len() as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// Read `order` images, returning (MB/s, images/s) and a checksum that keeps the reads alive.
fn read_rate(file: &MrcFile, order: &[usize]) -> (f64, f64, f64) {
    let mut buffer = vec![0.0f32; file.image_len()];
    let mut checksum = 0.0f64;
    let start = Instant::now();
    for &index in order {
        file.read_image_into(index, &mut buffer).unwrap();
        checksum += f64::from(buffer[index % buffer.len()]);
    }
    let seconds = start.elapsed().as_secs_f64();
    let bytes = (order.len() * file.image_len() * 4) as f64;
    (
        bytes / 1e6 / seconds,
        order.len() as f64 / seconds,
        checksum,
    )
}

#[test]
#[ignore = "writes a ~1 GB stack; run explicitly for throughput numbers"]
fn stack_read_throughput() {
    let dir = std::env::var("CRYOFLUX_MRC_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(|_| std::env::temp_dir());
    let images: usize = std::env::var("CRYOFLUX_MRC_BENCH_IMAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000);
    let temp = tempfile::tempdir_in(dir).unwrap();
    let path = temp.path().join("bench.mrcs");

    let mut image: Vec<f32> = (0..SIDE * SIDE)
        .map(|i| (i % 977) as f32 * 0.01 - 4.0)
        .collect();
    let start = Instant::now();
    let mut writer = MrcStackWriter::create(&path, SIDE, SIDE, 1.0, WriteMode::Float32).unwrap();
    for n in 0..images {
        image[n % (SIDE * SIDE)] = n as f32;
        writer.push(&image).unwrap();
    }
    writer.finish().unwrap();
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    println!(
        "wrote {images} images of {SIDE}² float32 ({:.0} MB) at {:.0} MB/s (includes fsync)",
        size / 1e6,
        size / 1e6 / start.elapsed().as_secs_f64()
    );

    let sequential: Vec<usize> = (0..images).collect();
    let mut random = sequential.clone();
    let mut state = 0x9E3779B97F4A7C15u64;
    for i in (1..random.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        random.swap(i, (state % (i as u64 + 1)) as usize);
    }

    let can_evict = evict(&path);
    for cache in ["cold", "warm"] {
        if cache == "cold" && !can_evict {
            println!("cold: skipped (dd iflag=nocache unavailable)");
            continue;
        }
        if cache == "warm" {
            dd_rate(&path); // fill the page cache
        }
        let dd = dd_rate(&path);
        for (name, order) in [("sequential", &sequential), ("random", &random)] {
            if cache == "cold" {
                evict(&path);
            }
            let file = MrcFile::open(&path).unwrap();
            let (mb, per_second, checksum) = read_rate(&file, order);
            assert!(checksum.is_finite());
            println!(
                "{cache}: dd {dd:.0} MB/s; cryoflux {name}: {mb:.0} MB/s, {per_second:.0} images/s"
            );
        }
        if cache == "cold" {
            evict(&path);
        }
    }
}
