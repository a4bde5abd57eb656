//! Interoperability with the tools users check our files with: Python `mrcfile` (validation,
//! and as a writer of modes 0, 1, 2, 6, 12, big-endian and permuted-axis files) and RELION's
//! `relion_image_handler --stats` (which must see the statistics we compute).
//!
//! Each test prints a SKIP line and passes when its tool is missing, unless the environment sets
//! `CRYOFLUX_REQUIRE_INTEROP=1`, in which case a missing tool fails the test.

use std::path::Path;
use std::process::Command;

use cryoflux_formats::mrc::{Endian, Mode, MrcFile, MrcStackWriter, WriteMode, write_volume};

/// `ok`, after printing a SKIP line when it is false (or failing when interop is required).
fn available(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            std::env::var("CRYOFLUX_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{what} is required (CRYOFLUX_REQUIRE_INTEROP=1) but not available"
        );
        println!("SKIP: {what} not available");
    }
    ok
}

fn have_mrcfile() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import mrcfile, numpy"])
        .output();
    available(
        "python3 with mrcfile and numpy",
        probe.is_ok_and(|out| out.status.success()),
    )
}

fn have_relion() -> bool {
    // Without arguments relion_image_handler prints its usage and exits non-zero: starting is
    // proof enough.
    available(
        "RELION (relion_image_handler)",
        Command::new("relion_image_handler").output().is_ok(),
    )
}

fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Deterministic test densities, never smallest at the first voxel: RELION 3.1's `--stats`
/// updates its minimum only in the `else` branch of its maximum update, so the first voxel never
/// counts as a minimum (all-non-negative images whose first voxel is 0 print minval=1.8e308).
fn densities(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7919 + seed * 104729 + 1000) % 1999) as f32 - 900.0) * 0.013)
        .collect()
}

#[test]
fn files_we_write_pass_mrcfile_validate() {
    if !have_mrcfile() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, mode) in [
        ("v32.mrc", WriteMode::Float32),
        ("v16.mrc", WriteMode::Float16),
    ] {
        let path = dir.path().join(name);
        write_volume(&path, &densities(6 * 5 * 4, 1), [6, 5, 4], 1.3, mode).unwrap();
        paths.push(path);
    }
    for (name, mode) in [
        ("s32.mrcs", WriteMode::Float32),
        ("s16.mrcs", WriteMode::Float16),
    ] {
        let path = dir.path().join(name);
        let mut writer = MrcStackWriter::create(&path, 8, 6, 0.9, mode).unwrap();
        for seed in 0..3 {
            writer.push(&densities(48, seed)).unwrap();
        }
        writer.finish().unwrap();
        paths.push(path);
    }
    let script = "import sys, mrcfile\n\
        for p in sys.argv[1:]:\n\
        \x20   print(p, mrcfile.validate(p))\n\
        \x20   with mrcfile.open(p) as m:\n\
        \x20       print('stack' if m.is_image_stack() else 'volume', m.voxel_size.x, m.data.shape)\n";
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = python(script, &refs);
    for path in &paths {
        assert!(
            out.contains(&format!("{} True", path.display())),
            "mrcfile.validate rejected {}:\n{out}",
            path.display()
        );
    }
    assert_eq!(
        out.matches("volume 1.3").count() + out.matches("volume 1.29").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("stack 0.9").count() + out.matches("stack 0.89").count(),
        2,
        "{out}"
    );
    assert_eq!(out.matches("(4, 5, 6)").count(), 2, "{out}");
    assert_eq!(out.matches("(3, 6, 8)").count(), 2, "{out}");
}

/// avg, stddev, minval, maxval and angpix of each line `relion_image_handler --stats` prints.
fn relion_stats(path: &Path) -> Vec<[f64; 5]> {
    let out = Command::new("relion_image_handler")
        .arg("--i")
        .arg(path)
        .arg("--stats")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "relion_image_handler failed on {}: {text}",
        path.display()
    );
    let field = |line: &str, key: &str| -> f64 {
        let rest = &line[line
            .find(key)
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            + key.len()..];
        rest.split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches(';')
            .parse()
            .unwrap()
    };
    text.lines()
        .filter(|line| line.contains("avg="))
        .map(|l| {
            [
                field(l, "avg="),
                field(l, "stddev="),
                field(l, "minval="),
                field(l, "maxval="),
                field(l, "angpix ="),
            ]
        })
        .collect()
}

fn assert_close(relion: [f64; 5], ours: [f32; 5], what: &str) {
    let scale = f64::from(ours[1]).max(1e-3);
    for (name, (r, o)) in ["mean", "std", "min", "max", "pixel size"]
        .iter()
        .zip(relion.iter().zip(ours))
    {
        assert!(
            (r - f64::from(o)).abs() <= 1e-5 * scale + 1e-5 * r.abs(),
            "{what} {name}: RELION {r}, cryoflux {o}"
        );
    }
}

#[test]
fn relion_sees_our_statistics() {
    if !have_relion() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.mrc");
    write_volume(
        &map,
        &densities(10 * 9 * 8, 5),
        [10, 9, 8],
        1.7,
        WriteMode::Float32,
    )
    .unwrap();
    let file = MrcFile::open(&map).unwrap();
    let h = file.header();
    let relion = relion_stats(&map);
    assert_eq!(relion.len(), 1);
    assert_close(
        relion[0],
        [h.dmean, h.rms, h.dmin, h.dmax, file.voxel_size()[0]],
        "map.mrc",
    );

    let stack = dir.path().join("stack.mrcs");
    let mut writer = MrcStackWriter::create(&stack, 12, 10, 2.1, WriteMode::Float32).unwrap();
    for seed in 0..4 {
        writer.push(&densities(120, seed)).unwrap();
    }
    writer.finish().unwrap();
    let file = MrcFile::open(&stack).unwrap();
    let relion = relion_stats(&stack);
    assert_eq!(relion.len(), 4, "one line per image");
    for (index, line) in relion.iter().enumerate() {
        let mut acc = cryoflux_formats::mrc::StatsAccumulator::new();
        acc.add(&file.read_image(index).unwrap());
        let s = acc.finish().unwrap();
        assert_close(
            *line,
            [s.mean, s.rms, s.min, s.max, file.voxel_size()[0]],
            &format!("image {index}"),
        );
    }
}

#[test]
fn we_read_what_mrcfile_writes() {
    if !have_mrcfile() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Each case: file name, numpy dtype, and whether it is a stack; expected values (x fastest)
    // are written next to it as raw little-endian float32 (`.f32`).
    let script = r#"
import sys, os, mrcfile, numpy as np
d = sys.argv[1]
base = (np.arange(4 * 5 * 6).reshape(4, 5, 6) * 37 % 251).astype(np.float64)
cases = {
    'mode0.mrcs': ('i1', base - 125, True),
    'mode1.mrcs': ('i2', base * 100 - 12000, True),
    'mode2.mrc': ('f4', base / 7 - 10, False),
    'mode6.mrc': ('u2', base * 250, False),
    'mode12.mrcs': ('f2', base / 3 - 40, True),
    'bigendian.mrc': ('>f4', base / 11 - 5, False),
}
for name, (dtype, values, stack) in cases.items():
    data = values.astype(dtype)
    with mrcfile.new(os.path.join(d, name), overwrite=True) as m:
        m.set_data(data)
        if stack:
            m.set_image_stack()
        m.voxel_size = 1.25
    data.astype('<f4').tofile(os.path.join(d, name + '.f32'))
# Columns along Y, rows along X: the volume is the file array with its last two axes swapped.
data = (base / 5).astype('f4')
with mrcfile.new(os.path.join(d, 'permuted.mrc'), overwrite=True) as m:
    m.set_data(data)
    m.header.mapc, m.header.mapr = 2, 1
np.ascontiguousarray(data.transpose(0, 2, 1)).astype('<f4').tofile(os.path.join(d, 'permuted.mrc.f32'))
print('ok')
"#;
    assert_eq!(python(script, &[dir.path()]).trim(), "ok");
    let cases = [
        ("mode0.mrcs", Mode::Int8, [6, 5, 4]),
        ("mode1.mrcs", Mode::Int16, [6, 5, 4]),
        ("mode2.mrc", Mode::Float32, [6, 5, 4]),
        ("mode6.mrc", Mode::Uint16, [6, 5, 4]),
        ("mode12.mrcs", Mode::Float16, [6, 5, 4]),
        ("bigendian.mrc", Mode::Float32, [6, 5, 4]),
        ("permuted.mrc", Mode::Float32, [5, 6, 4]),
    ];
    for (name, mode, dims) in cases {
        let path = dir.path().join(name);
        let expected: Vec<f32> = std::fs::read(path.with_extension(format!(
            "{}.f32",
            path.extension().unwrap().to_str().unwrap()
        )))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
        let file = MrcFile::open(&path).unwrap();
        assert_eq!(file.mode(), mode, "{name}");
        assert_eq!(file.dims(), dims, "{name}");
        assert_eq!(file.read_all().unwrap(), expected, "{name}");
        let big = name == "bigendian.mrc";
        assert_eq!(
            file.header().endian,
            if big { Endian::Big } else { Endian::Little },
            "{name}"
        );
        if name != "permuted.mrc" {
            assert_eq!(file.voxel_size(), [1.25; 3], "{name}");
            assert_eq!(file.header().ispg == 0, name.ends_with(".mrcs"), "{name}");
            assert_eq!(file.read_image(2).unwrap(), expected[60..90], "{name}");
        }
    }
}
