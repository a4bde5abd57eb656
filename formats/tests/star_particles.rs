//! The particle view: RELION 3.1 files are checked, RELION 3.0 files upgraded, and every
//! problem is an error naming the file and what is missing or inconsistent.

use std::path::Path;

use cryoflux_formats::star::{
    ParticleFormat, ParticleStar, StarFile, require_columns, upgrade_v30,
};

const PATH: &str = "job/particles.star";

fn particles(text: &str) -> cryoflux_formats::Result<ParticleStar> {
    let star = StarFile::parse(text, Path::new(PATH)).unwrap();
    ParticleStar::from_star(star, Path::new(PATH))
}

fn error(text: &str) -> String {
    let message = particles(text).expect_err("expected an error").to_string();
    assert!(message.starts_with(&format!("{PATH}: ")), "{message}");
    message
}

const OPTICS: &str = "data_optics\nloop_\n_rlnOpticsGroup\n_rlnOpticsGroupName\n_rlnImagePixelSize\n\
                      1 opticsGroup1 1.06\n2 opticsGroup2 0.83\n";

#[test]
fn relion31_file_is_taken_as_is() {
    let text =
        format!("{OPTICS}data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 2\n");
    let view = particles(&text).unwrap();
    assert_eq!(view.source_format, ParticleFormat::Relion31);
    assert_eq!(view.optics_row(2), Some(1));
    assert_eq!(view.optics_row(3), None);
    let star = view.into_star();
    let names: Vec<&str> = star.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["optics", "particles"]);
}

#[test]
fn relion31_particle_with_unknown_group_is_an_error() {
    let text = format!(
        "{OPTICS}data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 1\n2@a.mrcs 7\n"
    );
    let message = error(&text);
    assert!(
        message.contains(
            "data_particles row 2: rlnOpticsGroup 7 is not in data_optics (which defines [1, 2])"
        ),
        "{message}"
    );
}

#[test]
fn relion31_duplicate_optics_group_is_an_error() {
    let text =
        "data_optics\nloop_\n_rlnOpticsGroup\n1\n1\ndata_particles\nloop_\n_rlnOpticsGroup\n1\n";
    assert!(error(text).contains("defines optics group 1 more than once"));
}

#[test]
fn relion31_missing_pieces_are_errors() {
    let message = error(&format!(
        "{OPTICS}data_micrographs\nloop_\n_rlnMicrographName\nm.mrc\n"
    ));
    assert!(
        message.contains("no data_particles block (the file has data_optics, data_micrographs)"),
        "{message}"
    );
    assert_eq!(
        error(OPTICS),
        format!("{PATH}: no data_particles block (the file has data_optics)")
    );
    let message = error(&format!("{OPTICS}data_particles\n_rlnNrClasses 1\n"));
    assert!(
        message.contains("block data_particles has no loop_ table"),
        "{message}"
    );
    let message = error(&format!(
        "{OPTICS}data_particles\nloop_\n_rlnImageName\n1@a.mrcs\n"
    ));
    assert!(
        message.contains("block data_particles lacks the column(s) rlnOpticsGroup"),
        "{message}"
    );
}

#[test]
fn nan_pose_is_refused_at_its_line() {
    let text = format!(
        "{OPTICS}data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnAngleRot\n\
         1@a.mrcs 1 10.5\n2@a.mrcs 1 nan\n"
    );
    let star = StarFile::parse(&text, Path::new(PATH))
        .unwrap_err()
        .to_string();
    assert_eq!(
        star,
        format!(
            "{PATH}: line 14, rlnAngleRot: expected a finite real number (degrees), found `nan`"
        )
    );
}

#[test]
fn not_a_particle_file() {
    let message = error("data_model_general\n_rlnNrClasses 1\n");
    assert!(message.contains("not a particle file"), "{message}");
    let two = "data_a\nloop_\n_rlnImageName\n1@a.mrcs\ndata_b\nloop_\n_rlnImageName\n1@b.mrcs\n";
    assert!(error(two).contains("several particle tables (data_a, data_b)"));
}

const V30: &str = "data_\nloop_\n_rlnImageName\n_rlnVoltage\n_rlnSphericalAberration\n\
                   _rlnAmplitudeContrast\n_rlnMagnification\n_rlnDetectorPixelSize\n_rlnOriginX\n\
                   _rlnOriginY\n_rlnDefocusU\n\
                   1@a.mrcs 300 2.7 0.1 10000 5 1 -2 15000\n\
                   2@a.mrcs 200 2.7 0.1 10000 5 0 0 16000\n\
                   3@a.mrcs 300 2.7 0.1 10000 5 0.5 0.5 17000\n\
                   4@a.mrcs 300 2.7 0.1 20000 5 2 2 18000\n";

#[test]
fn relion30_file_is_upgraded_with_optics_groups() {
    let view = particles(V30).unwrap();
    assert_eq!(view.source_format, ParticleFormat::Relion30);
    let optics = &view.optics;
    assert_eq!(optics.ints("rlnOpticsGroup"), Some(&[1, 2, 3][..]));
    assert_eq!(
        optics.texts("rlnOpticsGroupName").unwrap(),
        ["opticsGroup1", "opticsGroup2", "opticsGroup3"]
    );
    assert_eq!(
        optics.floats("rlnVoltage"),
        Some(&[300.0, 200.0, 300.0][..])
    );
    assert_eq!(
        optics.floats("rlnImagePixelSize"),
        Some(&[5.0, 5.0, 2.5][..])
    );
    assert_eq!(optics.ints("rlnImageDimensionality"), Some(&[2, 2, 2][..]));
    let table = &view.particles;
    assert_eq!(table.ints("rlnOpticsGroup"), Some(&[1, 2, 1, 3][..]));
    assert_eq!(
        table.floats("rlnOriginXAngst"),
        Some(&[5.0, 0.0, 2.5, 5.0][..])
    );
    assert_eq!(
        table.floats("rlnOriginYAngst"),
        Some(&[-10.0, 0.0, 2.5, 5.0][..])
    );
    let labels: Vec<&str> = table.columns().iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "rlnImageName",
            "rlnDefocusU",
            "rlnOpticsGroup",
            "rlnOriginXAngst",
            "rlnOriginYAngst"
        ]
    );
}

#[test]
fn relion30_origins_without_pixel_size_need_one() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnOriginX\n1@a.mrcs 2\n";
    let message = error(text);
    assert!(
        message.contains("rlnOriginX is in pixels") && message.contains("pixel size"),
        "{message}"
    );
    let table = StarFile::parse(text, Path::new(PATH))
        .unwrap()
        .blocks
        .remove(0)
        .table
        .unwrap();
    let view = upgrade_v30(table.clone(), Path::new(PATH), Some(1.5)).unwrap();
    assert_eq!(view.particles.floats("rlnOriginXAngst"), Some(&[3.0][..]));
    assert_eq!(view.optics.floats("rlnImagePixelSize"), Some(&[1.5][..]));
    let message = upgrade_v30(table, Path::new(PATH), Some(-1.0))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("pixel size -1 Å is not positive"),
        "{message}"
    );
}

#[test]
fn relion30_without_origins_needs_no_pixel_size() {
    let view = particles("data_images\nloop_\n_rlnImageName\n_rlnVoltage\n1@a.mrcs 300\n").unwrap();
    assert_eq!(view.optics.floats("rlnImagePixelSize"), None);
    assert_eq!(view.optics.floats("rlnVoltage"), Some(&[300.0][..]));
}

#[test]
fn relion30_bad_magnification_is_an_error() {
    let text =
        "data_\nloop_\n_rlnImageName\n_rlnMagnification\n_rlnDetectorPixelSize\n1@a.mrcs 0 5\n";
    assert!(
        error(text).contains("particle row 1: rlnDetectorPixelSize 5 µm and rlnMagnification 0")
    );
}

#[test]
fn relion30_with_optics_group_column_is_an_error() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 1\n";
    assert!(error(text).contains("has rlnOpticsGroup but the file has no data_optics block"));
}

#[test]
fn image_size_can_be_filled_in_later() {
    let mut view = particles(V30).unwrap();
    assert_eq!(view.optics.ints("rlnImageSize"), None);
    view.set_image_size(3, 128, Path::new(PATH)).unwrap();
    assert_eq!(view.optics.ints("rlnImageSize"), Some(&[0, 0, 128][..]));
    view.set_image_size(1, 256, Path::new(PATH)).unwrap();
    assert_eq!(view.optics.ints("rlnImageSize"), Some(&[256, 0, 128][..]));
    let message = view
        .set_image_size(9, 64, Path::new(PATH))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("data_optics has no optics group 9"),
        "{message}"
    );
}

#[test]
fn require_columns_names_every_missing_label() {
    let table = particles(V30).unwrap().particles;
    require_columns(
        &table,
        &["rlnImageName", "rlnDefocusU"],
        Path::new(PATH),
        "particles",
    )
    .unwrap();
    let message = require_columns(
        &table,
        &["rlnImageName", "rlnAngleRot", "rlnCtfBfactor"],
        Path::new(PATH),
        "particles",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        message,
        format!(
            "{PATH}: block data_particles lacks the column(s) rlnAngleRot, rlnCtfBfactor needed here"
        )
    );
}
