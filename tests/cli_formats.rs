//! End to end: `cryoflux convert` and `cryoflux info` from the command line, with RELION 3.1.3,
//! Python `starfile` and `pyarrow` as independent readers of what we write.

mod common;

use common::*;
use cryoflux_formats::star::StarFile;

fn example() -> String {
    repo_file("configs/examples/particles.star")
        .display()
        .to_string()
}

#[test]
fn star_to_parquet_to_star_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("particles.parquet");
    let back = dir.path().join("back.star");
    cryoflux_ok(&["convert", &example(), parquet.to_str().unwrap()]);
    cryoflux_ok(&[
        "convert",
        "--i",
        parquet.to_str().unwrap(),
        "--o",
        back.to_str().unwrap(),
    ]);

    let original = StarFile::read(std::path::Path::new(&example())).unwrap();
    let round_tripped = StarFile::read(&back).unwrap();
    assert_eq!(original, round_tripped);
}

#[test]
fn relion_reads_what_we_convert() {
    if !have_tool("relion_star_handler") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("p.parquet");
    let ours = dir.path().join("ours.star");
    cryoflux_ok(&["convert", &example(), parquet.to_str().unwrap()]);
    cryoflux_ok(&["convert", parquet.to_str().unwrap(), ours.to_str().unwrap()]);
    run_tool(
        dir.path(),
        "relion_star_handler",
        &["--i", "ours.star", "--o", "relion.star"],
    );

    let ours = StarFile::read(&ours).unwrap();
    let relion = StarFile::read(&dir.path().join("relion.star")).unwrap();
    let particles = |s: &StarFile| s.block("particles").unwrap().table.clone().unwrap();
    let (a, b) = (particles(&ours), particles(&relion));
    assert_eq!(a.rows(), b.rows());
    for label in ["rlnDefocusU", "rlnAngleRot", "rlnOriginXAngst"] {
        for (x, y) in a
            .floats(label)
            .unwrap()
            .iter()
            .zip(b.floats(label).unwrap())
        {
            assert!(
                (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                "{label}: {x} vs {y}"
            );
        }
    }
    assert_eq!(a.texts("rlnImageName"), b.texts("rlnImageName"));
    assert_eq!(
        relion
            .block("optics")
            .unwrap()
            .table
            .as_ref()
            .unwrap()
            .rows(),
        2
    );
}

#[test]
fn python_readers_read_what_we_write() {
    if !have_python(&["starfile", "pyarrow"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("p.parquet");
    let star = dir.path().join("p.star");
    cryoflux_ok(&["convert", &example(), parquet.to_str().unwrap()]);
    cryoflux_ok(&["convert", parquet.to_str().unwrap(), star.to_str().unwrap()]);
    let printed = python(&format!(
        "import pyarrow.parquet as pq, starfile\n\
         t = pq.read_table({parquet:?})\n\
         s = starfile.read({star:?})\n\
         print(t.num_rows, t.column('rlnDefocusU')[3].as_py(), len(s['particles']), s['optics']['rlnImagePixelSize'][0])"
    ));
    assert_eq!(printed.trim(), "5 14702.394531 5 1.77");
}

#[test]
fn info_describes_star_and_parquet() {
    let star_info = cryoflux_ok(&["info", &example()]);
    assert!(star_info.contains("data_particles"), "{star_info}");
    assert!(star_info.contains("rlnDefocusU (float, Å)"), "{star_info}");
    assert!(star_info.contains("optics groups: 2"), "{star_info}");

    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("p.parquet");
    cryoflux_ok(&["convert", &example(), parquet.to_str().unwrap()]);
    let parquet_info = cryoflux_ok(&["info", parquet.to_str().unwrap()]);
    assert!(
        parquet_info.contains("5 rows × 17 columns"),
        "{parquet_info}"
    );
    assert!(
        parquet_info.contains("with block data_optics"),
        "{parquet_info}"
    );
}

#[test]
fn bad_star_fails_cleanly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.star");
    let text = std::fs::read_to_string(example()).unwrap();
    // Drop the last value of the last particle row: a row with too few values.
    let broken = text
        .trim_end()
        .rsplit_once(char::is_whitespace)
        .unwrap()
        .0
        .to_owned()
        + "\n";
    std::fs::write(&bad, broken).unwrap();
    let out = dir.path().join("out.parquet");
    let output = run_cryoflux(&["convert", bad.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.star") && stderr.contains("line 46"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "a failed conversion must not leave an output file"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["RELION_JOB_EXIT_FAILURE", "bad.star"],
        "no temporary files left, the failure marked"
    );
}

#[test]
fn info_describes_mrc_stacks() {
    if !have_python(&["mrcfile", "numpy"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("s.mrcs");
    python(&format!(
        "import mrcfile, numpy as np\n\
         with mrcfile.new({stack:?}) as m:\n\
         \x20   m.set_data(np.arange(3*8*6, dtype=np.float32).reshape(3, 8, 6)); m.voxel_size = 1.5; m.set_image_stack()"
    ));
    let info = cryoflux_ok(&["info", stack.to_str().unwrap()]);
    assert!(
        info.contains("image stack: 6 × 8 × 3 voxels, mode 2 (float32)"),
        "{info}"
    );
    assert!(info.contains("pixel size: 1.5 × 1.5 Å; 3 images"), "{info}");
    assert!(
        info.contains("computed statistics: min 0 max 143 mean 71.5"),
        "{info}"
    );
}

#[test]
fn relion30_particles_are_upgraded_like_relion_does() {
    let dir = tempfile::tempdir().unwrap();
    let old = repo_file("formats/tests/data/star/relion30_particles.star");
    let parquet = dir.path().join("p.parquet");
    let upgraded = dir.path().join("upgraded.star");
    cryoflux_ok(&["convert", old.to_str().unwrap(), parquet.to_str().unwrap()]);
    cryoflux_ok(&[
        "convert",
        parquet.to_str().unwrap(),
        upgraded.to_str().unwrap(),
    ]);

    let ours = StarFile::read(&upgraded).unwrap();
    let relion = StarFile::read(&repo_file(
        "formats/tests/data/star/relion30_particles_converted_by_relion.star",
    ))
    .unwrap();
    for block in ["optics", "particles"] {
        let (a, b) = (ours.block(block).unwrap(), relion.block(block).unwrap());
        let (a, b) = (a.table.as_ref().unwrap(), b.table.as_ref().unwrap());
        assert_eq!(a.rows(), b.rows(), "{block}");
        for label in [
            "rlnImagePixelSize",
            "rlnOriginXAngst",
            "rlnOriginYAngst",
            "rlnVoltage",
        ] {
            if let (Some(x), Some(y)) = (a.floats(label), b.floats(label)) {
                for (x, y) in x.iter().zip(y) {
                    assert!((x - y).abs() < 1e-5, "{block} {label}: {x} vs {y}");
                }
            } else {
                assert_eq!(
                    a.column(label).is_some(),
                    b.column(label).is_some(),
                    "{block} {label}"
                );
            }
        }
    }
}
