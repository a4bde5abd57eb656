//! Interoperability with the tools users have: RELION 3.1.3 must read what we write
//! (`relion_star_handler` re-writes it and we compare), Python `starfile` must read it with the
//! same values, and our label registry must agree with RELION's own label table.
//!
//! Each test skips (prints a line and passes) when its tool is missing, unless the environment
//! sets `CRYOFLUX_REQUIRE_INTEROP=1` (as CI does), in which case a missing tool is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use cryoflux_formats::star::labels::{LABELS, ValueKind};
use cryoflux_formats::star::{
    Column, ColumnData, ParticleFormat, ParticleStar, StarFile, Table, Value,
};

/// Whether `program args…` runs and succeeds; if not, skip or (when required) fail.
fn tool_available(program: &str, args: &[&str]) -> bool {
    let works = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success());
    if !works {
        let required = std::env::var("CRYOFLUX_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{program} is required (CRYOFLUX_REQUIRE_INTEROP=1) but not usable"
        );
        eprintln!("SKIPPED: {program} is not installed");
    }
    works
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/star")
        .join(name)
}

fn floats(label: &str, cells: Vec<f64>) -> Column {
    Column {
        label: label.into(),
        data: ColumnData::Float(cells),
    }
}

/// A small 3.1 particle file with the optics RELION insists on and awkward cells: quoted and
/// empty text, `#` inside text, tiny and large magnitudes, negative zero.
fn awkward_particles() -> ParticleStar {
    let mut optics = Table::with_rows(2);
    optics.set_column(Column {
        label: "rlnOpticsGroup".into(),
        data: ColumnData::Int(vec![1, 2]),
    });
    optics.set_column(Column {
        label: "rlnOpticsGroupName".into(),
        data: ColumnData::Text(vec!["opticsGroup1".into(), "second group".into()]),
    });
    optics.set_column(floats("rlnAmplitudeContrast", vec![0.1, 0.07]));
    optics.set_column(floats("rlnSphericalAberration", vec![2.7, 0.01]));
    optics.set_column(floats("rlnVoltage", vec![300.0, 200.0]));
    optics.set_column(floats("rlnImagePixelSize", vec![1.06, 0.8325]));
    optics.set_column(Column {
        label: "rlnImageSize".into(),
        data: ColumnData::Int(vec![256, 64]),
    });
    optics.set_column(Column {
        label: "rlnImageDimensionality".into(),
        data: ColumnData::Int(vec![2, 2]),
    });
    let mut particles = Table::with_rows(4);
    let names = [
        "000001@Extract/job005/mic 1.mrcs",
        "000002@a.mrcs",
        "3@x#y.mrcs",
        "12@b.mrcs",
    ];
    particles.set_column(Column {
        label: "rlnImageName".into(),
        data: ColumnData::Text(names.map(String::from).to_vec()),
    });
    particles.set_column(Column {
        label: "rlnMicrographName".into(),
        data: ColumnData::Text(vec![
            "".into(),
            "m.mrc".into(),
            "_odd".into(),
            "data_x".into(),
        ]),
    });
    particles.set_column(floats("rlnDefocusU", vec![15000.5, 1e-7, 123456.789, -0.0]));
    particles.set_column(floats(
        "rlnAngleRot",
        vec![-179.999999, 0.1 + 0.2, 1.5e-5, 90.0],
    ));
    particles.set_column(floats("rlnOriginXAngst", vec![-1.49760, 2.0, 0.0, -3.25]));
    particles.set_column(Column {
        label: "rlnOpticsGroup".into(),
        data: ColumnData::Int(vec![1, 2, 1, 2]),
    });
    particles.set_column(Column {
        label: "rlnRandomSubset".into(),
        data: ColumnData::Int(vec![1, 2, 1, 2]),
    });
    ParticleStar {
        optics,
        particles,
        source_format: ParticleFormat::Relion31,
    }
}

/// RELION writes `%12.6f` or `%12.6e`, and fewer digits for negative numbers.
fn assert_close_to_relion(ours: &Table, relions: &Table, block: &str) {
    assert_eq!(ours.rows(), relions.rows(), "{block}: row count");
    for column in ours.columns() {
        let theirs = &relions
            .column(&column.label)
            .unwrap_or_else(|| panic!("{block}: {} lost", column.label))
            .data;
        match (&column.data, theirs) {
            (ColumnData::Float(a), ColumnData::Float(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let tolerance = 1e-4 * x.abs().max(1e-3);
                    assert!(
                        (x - y).abs() <= tolerance,
                        "{block} {}: {x} became {y}",
                        column.label
                    );
                }
            }
            (a, b) => assert_eq!(a, b, "{block} {}", column.label),
        }
    }
}

/// Have `relion_star_handler` read `path` and write it again; return what it wrote.
fn through_relion(path: &Path) -> StarFile {
    let out = path.with_file_name("relion_out.star");
    let status = Command::new("relion_star_handler")
        .arg("--i")
        .arg(path)
        .arg("--o")
        .arg(&out)
        .current_dir(path.parent().unwrap())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&status.stdout).into_owned()
        + &String::from_utf8_lossy(&status.stderr);
    assert!(
        status.status.success() && out.exists(),
        "relion_star_handler failed:\n{log}"
    );
    StarFile::read(&out).unwrap()
}

#[test]
fn relion_reads_what_we_write() {
    if !tool_available("relion_star_handler", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.star");
    let ours = awkward_particles();
    ours.clone().into_star().write(&path).unwrap();
    let relions = ParticleStar::from_star(through_relion(&path), &path).unwrap();
    assert_close_to_relion(&ours.optics, &relions.optics, "optics");
    assert_close_to_relion(&ours.particles, &relions.particles, "particles");
}

#[test]
fn relion_reads_our_upgrade_of_a_relion30_file() {
    if !tool_available("relion_star_handler", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upgraded.star");
    let ours = ParticleStar::read(&fixture("relion30_particles.star")).unwrap();
    ours.clone().into_star().write(&path).unwrap();
    let relions = ParticleStar::from_star(through_relion(&path), &path).unwrap();
    assert_eq!(
        relions.source_format,
        ParticleFormat::Relion31,
        "RELION must not re-convert it"
    );
    assert_close_to_relion(&ours.particles, &relions.particles, "particles");
}

/// A Python literal for a cell (the test data is ASCII, where Rust's `{:?}` quoting matches
/// Python's).
fn python_cells(data: &ColumnData) -> String {
    match data {
        ColumnData::Float(v) => format!("{v:?}"),
        ColumnData::Int(v) => format!("{v:?}"),
        ColumnData::Text(v) => format!("{v:?}"),
    }
}

#[test]
fn python_starfile_reads_what_we_write() {
    if !tool_available("python3", &["-c", "import starfile"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.star");
    let mut star = awkward_particles().into_star();
    star.blocks.insert(
        0,
        cryoflux_formats::star::DataBlock {
            name: "general".into(),
            pairs: vec![
                ("rlnFinalResolution".into(), Value::Float(3.21)),
                ("rlnMaskName".into(), Value::Text("mask #1.mrc".into())),
            ],
            table: None,
        },
    );
    star.write(&path).unwrap();
    let mut checks = String::from(
        "import math, sys, starfile\n\
         d = starfile.read(sys.argv[1], always_dict=True)\n\
         def same(a, b):\n    return a == b or (isinstance(b, float) and math.isclose(a, b, rel_tol=1e-15, abs_tol=0))\n\
         def check(block, label, expected):\n    got = d[block][label].tolist()\n    \
         assert len(got) == len(expected) and all(same(a, b) for a, b in zip(got, expected)), (block, label, got, expected)\n\
         assert d['general'] == {'rlnFinalResolution': 3.21, 'rlnMaskName': 'mask #1.mrc'}, d['general']\n",
    );
    for block in &star.blocks[1..] {
        for column in block.table.as_ref().unwrap().columns() {
            let expected = python_cells(&column.data);
            checks.push_str(&format!(
                "check({:?}, {:?}, {expected})\n",
                block.name, column.label
            ));
        }
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(&checks)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "starfile disagrees:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn registry_types_agree_with_relion() {
    if !tool_available("relion_refine", &["--version"]) {
        return;
    }
    let out = Command::new("relion_refine")
        .arg("--print_metadata_labels")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut compared = 0;
    for line in listing.lines() {
        // "   rlnDefocusU (double) : Defocus in U-direction (in Angstroms, positive values …)"
        let Some((name, rest)) = line
            .trim_start()
            .split_once(" (")
            .or_else(|| line.trim_start().split_once('('))
        else {
            continue;
        };
        let Some(relion_type) = rest.split(')').next() else {
            continue;
        };
        let Some(info) = LABELS.iter().find(|info| info.name == name.trim()) else {
            continue;
        };
        let expected = match relion_type {
            "double" => ValueKind::Float,
            "int" | "bool" => ValueKind::Int,
            _ => ValueKind::Text,
        };
        assert_eq!(
            info.kind, expected,
            "{} is {relion_type} in RELION",
            info.name
        );
        compared += 1;
    }
    assert!(
        compared > 200,
        "only {compared} of our labels found in RELION's table"
    );
}
