//! Real RELION files (written by RELION 3.1.3 itself, see `tests/data/star/README.md`) and
//! realistic hand-written RELION 3.0 and 5 files: they parse with the right types, survive a
//! write → read round trip unchanged, and the 3.0 → 3.1 upgrade matches `relion_convert_star`.

use std::path::{Path, PathBuf};

use cryoflux_formats::star::{
    ColumnData, ImageName, ParticleFormat, ParticleStar, StarFile, Table, Value,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/star")
        .join(name)
}

fn read(name: &str) -> StarFile {
    StarFile::read(&fixture(name)).unwrap()
}

fn table<'a>(star: &'a StarFile, block: &str) -> &'a Table {
    star.block(block)
        .and_then(|b| b.table.as_ref())
        .unwrap_or_else(|| panic!("no table {block}"))
}

const FIXTURES: [&str; 8] = [
    "relion30_particles.star",
    "relion30_particles_converted_by_relion.star",
    "relion31_run_it001_data.star",
    "relion31_run_it001_model.star",
    "relion31_run_it001_optimiser.star",
    "relion31_run_it001_sampling.star",
    "relion31_postprocess.star",
    "relion5_tomo_particles.star",
];

#[test]
fn every_fixture_round_trips_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let star = read(name);
        let copy = dir.path().join(name);
        star.write(&copy).unwrap();
        assert_eq!(StarFile::read(&copy).unwrap(), star, "{name}");
    }
}

#[test]
fn relion31_particles_from_a_refinement() {
    let path = fixture("relion31_run_it001_data.star");
    let particles = ParticleStar::read(&path).unwrap();
    assert_eq!(particles.source_format, ParticleFormat::Relion31);
    assert_eq!(particles.optics.ints("rlnImageSize"), Some(&[32][..]));
    assert_eq!(
        particles.optics.floats("rlnImagePixelSize"),
        Some(&[2.0][..])
    );
    let table = &particles.particles;
    assert_eq!(table.rows(), 12);
    assert_eq!(table.columns().len(), 24);
    assert_eq!(table.floats("rlnDefocusU").unwrap()[0], 10855.575525);
    assert_eq!(table.floats("rlnOriginXAngst").unwrap()[0], -1.4976);
    assert_eq!(table.ints("rlnNrOfSignificantSamples").unwrap()[0], 38);
    assert_eq!(table.ints("rlnGroupNumber").unwrap()[11], 3);
    for (row, name) in table.texts("rlnImageName").unwrap().iter().enumerate() {
        let image = ImageName::parse(name, &path, row).unwrap();
        assert_eq!((image.index, image.file), (Some(row + 1), "proj.mrcs"));
    }
}

#[test]
fn relion31_model_file_blocks_and_types() {
    let star = read("relion31_run_it001_model.star");
    let names: Vec<&str> = star.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "model_general",
            "model_classes",
            "model_class_1",
            "model_groups",
            "model_group_1",
            "model_group_2",
            "model_group_3",
            "model_pdf_orient_class_1"
        ]
    );
    let general = star.block("model_general").unwrap();
    assert_eq!(general.pair("rlnOriginalImageSize"), Some(&Value::Int(32)));
    assert_eq!(
        general.pair("rlnCurrentResolution"),
        Some(&Value::Float(12.8))
    );
    assert_eq!(
        general.pair("rlnLogLikelihood"),
        Some(&Value::Float(23344.770991))
    );
    let shells = table(&star, "model_class_1");
    assert_eq!(
        shells.ints("rlnSpectralIndex").unwrap(),
        (0..=16).collect::<Vec<i64>>()
    );
    assert!(shells.floats("rlnReferenceTau2").is_some());
    let groups = table(&star, "model_groups");
    assert_eq!(
        groups.texts("rlnGroupName").unwrap()[2],
        "Movies/mic003.mrc"
    );
    assert_eq!(
        table(&star, "model_group_1")
            .floats("rlnSigma2Noise")
            .unwrap()[4],
        5.605486e-4
    );
}

#[test]
fn relion31_optimiser_and_sampling_files() {
    let optimiser = read("relion31_run_it001_optimiser.star");
    assert_eq!(
        optimiser.blocks.len(),
        1,
        "leading comment lines are not blocks"
    );
    let general = optimiser.block("optimiser_general").unwrap();
    assert_eq!(
        general.pair("rlnOutputRootName"),
        Some(&Value::Text("r2/run".into()))
    );
    assert_eq!(general.pair("rlnCurrentIteration"), Some(&Value::Int(1)));
    assert_eq!(general.pair("rlnDoSplitRandomHalves"), Some(&Value::Int(0)));
    assert!(general.pairs.len() > 50, "{} items", general.pairs.len());

    let sampling = read("relion31_run_it001_sampling.star");
    let general = sampling.block("sampling_general").unwrap();
    assert_eq!(
        general.pair("rlnSymmetryGroup"),
        Some(&Value::Text("C1".into()))
    );
    assert_eq!(general.pair("rlnHealpixOrder"), Some(&Value::Int(1)));
    let directions = table(&sampling, "sampling_directions");
    assert_eq!(directions.rows(), 48);
    assert_eq!(directions.columns().len(), 2);
}

#[test]
fn relion31_postprocess_file() {
    let star = read("relion31_postprocess.star");
    let general = star.block("general").unwrap();
    assert_eq!(
        general.pair("rlnFinalResolution"),
        Some(&Value::Float(10.666667))
    );
    assert_eq!(
        general.pair("rlnMaskName"),
        Some(&Value::Text("mask.mrc".into()))
    );
    let fsc = table(&star, "fsc");
    assert_eq!(fsc.rows(), 17);
    assert_eq!(fsc.floats("rlnAngstromResolution").unwrap()[0], 999.0);
    assert_eq!(
        fsc.floats("rlnFourierShellCorrelationCorrected").unwrap()[14],
        0.017135
    );
    assert_eq!(
        fsc.floats("rlnFourierShellCorrelationParticleMaskFraction")
            .unwrap()[14],
        -5.54077e-4
    );
    assert!(
        table(&star, "guinier")
            .floats("rlnLogAmplitudesSharpened")
            .is_some()
    );
}

#[test]
fn relion5_tomography_particles() {
    let path = fixture("relion5_tomo_particles.star");
    let star = StarFile::read(&path).unwrap();
    let general = star.block("general").unwrap();
    assert_eq!(
        general.pair("rlnTomoSubTomosAre2DStacks"),
        Some(&Value::Text("1".into()))
    );
    let particles = ParticleStar::from_star(star, &path).unwrap();
    let table = &particles.particles;
    assert_eq!(
        table.texts("rlnTomoVisibleFrames").unwrap()[0],
        "[1,1,1,1,1,0,0]"
    );
    assert_eq!(
        table.floats("rlnCenteredCoordinateYAngst").unwrap()[1],
        -1020.75
    );
    assert_eq!(
        table.texts("wrpPickingScore").unwrap(),
        ["0.83", "0.91", "0.42"]
    );
    assert_eq!(
        particles.optics.ints("rlnCtfDataAreCtfPremultiplied"),
        Some(&[1][..])
    );
}

/// Values RELION wrote with `%12.6f` (and fewer digits for negative numbers) agree with ours
/// to about six significant digits.
fn assert_close(ours: &ColumnData, relions: &ColumnData, label: &str) {
    match (ours, relions) {
        (ColumnData::Float(a), ColumnData::Float(b)) => {
            for (row, (x, y)) in a.iter().zip(b).enumerate() {
                let tolerance = 1e-4 * y.abs().max(1.0);
                assert!(
                    (x - y).abs() <= tolerance,
                    "{label} row {row}: {x} vs RELION's {y}"
                );
            }
            assert_eq!(a.len(), b.len());
        }
        (a, b) => assert_eq!(a, b, "{label}"),
    }
}

#[test]
fn relion30_upgrade_matches_relion_convert_star() {
    let ours = ParticleStar::read(&fixture("relion30_particles.star")).unwrap();
    assert_eq!(ours.source_format, ParticleFormat::Relion30);
    let relion =
        ParticleStar::read(&fixture("relion30_particles_converted_by_relion.star")).unwrap();
    for (ours, relion, block) in [
        (&ours.optics, &relion.optics, "optics"),
        (&ours.particles, &relion.particles, "particles"),
    ] {
        let labels = |t: &Table| {
            t.columns()
                .iter()
                .map(|c| c.label.clone())
                .collect::<Vec<_>>()
        };
        let mut expected = labels(relion);
        if block == "optics" {
            expected.push("rlnImageDimensionality".into());
        }
        assert_eq!(labels(ours), expected, "{block} columns");
        for column in relion.columns() {
            assert_close(
                &ours.column(&column.label).unwrap().data,
                &column.data,
                &column.label,
            );
        }
    }
    assert_eq!(
        ours.optics.ints("rlnImageDimensionality"),
        Some(&[2, 2, 2][..])
    );
}
