//! Writing MRC maps and stacks: exact float32 and float16-precision round trips (proptest), the
//! header we promise (stamps, version, cell, statistics), atomicity, and refused inputs.

use cryoflux_formats::mrc::{Endian, Mode, MrcFile, MrcStackWriter, WriteMode, write_volume};
use proptest::prelude::*;

fn volume(dims: [usize; 3], seed: u64) -> Vec<f32> {
    let n = dims.iter().product::<usize>() as u64;
    (0..n)
        .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 20001) as f32 * 0.01 - 100.0)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn float32_volume_round_trips_exactly(
        nx in 1usize..9, ny in 1usize..9, nz in 1usize..6,
        data in prop::collection::vec(-1.0e30f32..1.0e30, 1..400),
    ) {
        let dims = [nx, ny, nz];
        let n = nx * ny * nz;
        let data: Vec<f32> = data.iter().cycle().take(n).copied().collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mrc");
        write_volume(&path, &data, dims, 1.25, WriteMode::Float32).unwrap();
        let file = MrcFile::open(&path).unwrap();
        prop_assert_eq!(file.dims(), dims);
        prop_assert_eq!(file.read_all().unwrap(), data);
    }

    #[test]
    fn float16_stack_round_trips_within_half_precision(
        nx in 1usize..9, ny in 1usize..9, images in 1usize..6,
        data in prop::collection::vec(-60000.0f32..60000.0, 1..400),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.mrcs");
        let mut writer = MrcStackWriter::create(&path, nx, ny, 0.9, WriteMode::Float16).unwrap();
        let all: Vec<f32> = data.iter().cycle().take(nx * ny * images).copied().collect();
        for image in all.chunks(nx * ny) {
            writer.push(image).unwrap();
        }
        writer.finish().unwrap();
        let file = MrcFile::open(&path).unwrap();
        prop_assert_eq!(file.dims(), [nx, ny, images]);
        for (got, want) in file.read_all().unwrap().iter().zip(&all) {
            // binary16 keeps 11 significant bits: relative error at most 2^-11 (normal range).
            prop_assert!((got - want).abs() <= want.abs() * 2f32.powi(-11) + 6.0e-8, "{} vs {}", got, want);
        }
    }
}

#[test]
fn volume_header_is_what_we_promise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.mrc");
    let dims = [6, 5, 4];
    let data = volume(dims, 7);
    write_volume(&path, &data, dims, 1.5, WriteMode::Float32).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 1024 + 4 * 120);
    assert_eq!(&bytes[208..216], b"MAP \x44\x44\x00\x00");
    let file = MrcFile::open(&path).unwrap();
    let header = file.header();
    assert_eq!(
        (header.endian, header.mode, header.ispg),
        (Endian::Little, Mode::Float32, 1)
    );
    assert_eq!(
        (header.nversion, header.nsymbt, header.axis_map),
        (20140, 0, [1, 2, 3])
    );
    assert_eq!(
        (header.sampling, header.start, header.origin),
        ([6, 5, 4], [0; 3], [0.0; 3])
    );
    assert_eq!(header.cell_lengths, [9.0, 7.5, 6.0]);
    assert_eq!(header.cell_angles, [90.0; 3]);
    assert_eq!(header.labels, ["cryoflux"]);
    assert_eq!(file.voxel_size(), [1.5; 3]);
    let (stored, computed) = (header.stats(), file.stats().unwrap());
    assert_eq!((stored.min, stored.max), (computed.min, computed.max));
    assert!((stored.mean - computed.mean).abs() < 1e-5 && (stored.rms - computed.rms).abs() < 1e-5);
    let n = data.len() as f64;
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let sd = (data
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(
        (f64::from(stored.rms) - sd).abs() < 1e-4,
        "RMS is the standard deviation about the mean"
    );
}

#[test]
fn stack_header_and_float16_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.mrcs");
    let mut writer = MrcStackWriter::create(&path, 4, 3, 2.0, WriteMode::Float16).unwrap();
    let images = volume([4, 3, 5], 3);
    for image in images.chunks(12) {
        writer.push(image).unwrap();
    }
    assert_eq!(writer.image_count(), 5);
    writer.finish().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1024 + 2 * 60);
    let file = MrcFile::open(&path).unwrap();
    let header = file.header();
    assert_eq!(
        (header.mode, header.ispg, header.size, header.sampling),
        (Mode::Float16, 0, [4, 3, 5], [4, 3, 1])
    );
    assert_eq!(header.cell_lengths, [8.0, 6.0, 2.0]);
    assert_eq!(file.voxel_size(), [2.0; 3]);
    // Statistics describe the float16 values actually stored.
    let computed = file.stats().unwrap();
    assert_eq!((header.dmin, header.dmax), (computed.min, computed.max));
    assert!((header.dmean - computed.mean).abs() < 1e-5);
}

#[test]
fn dropped_or_failed_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abandoned.mrcs");
    {
        let mut writer = MrcStackWriter::create(&path, 2, 2, 1.0, WriteMode::Float32).unwrap();
        writer.push(&[1.0; 4]).unwrap();
    }
    let empty = MrcStackWriter::create(&path, 2, 2, 1.0, WriteMode::Float32).unwrap();
    assert!(
        empty
            .finish()
            .unwrap_err()
            .to_string()
            .contains("no images were written")
    );
    assert!(write_volume(&path, &[f32::NAN], [1, 1, 1], 1.0, WriteMode::Float32).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing may be left behind"
    );
}

#[test]
fn replaces_an_existing_file_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.mrc");
    write_volume(&path, &[1.0, 2.0], [2, 1, 1], 1.0, WriteMode::Float32).unwrap();
    let mut writer = MrcStackWriter::create(&path, 1, 1, 1.0, WriteMode::Float32).unwrap();
    writer.push(&[9.0]).unwrap();
    assert_eq!(
        MrcFile::open(&path).unwrap().read_all().unwrap(),
        [1.0, 2.0]
    );
    writer.finish().unwrap();
    assert_eq!(MrcFile::open(&path).unwrap().read_all().unwrap(), [9.0]);
}

#[test]
fn refuses_bad_values_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.mrcs");
    let mut writer = MrcStackWriter::create(&path, 3, 2, 1.0, WriteMode::Float16).unwrap();
    writer.push(&[0.0; 6]).unwrap();
    let err = writer.push(&[0.0; 5]).unwrap_err().to_string();
    assert!(
        err.contains("image 1 has 5 values, expected 3 × 2 = 6"),
        "{err}"
    );
    let err = writer
        .push(&[0.0, 0.0, 0.0, 0.0, 7.0e4, 0.0])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "image 1 (0-based), pixel (x, y) = (1, 1): value 70000 exceeds the float16 range"
        ),
        "{err}"
    );
    let err = writer
        .push(&[0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("(1, 0): value NaN is not finite"), "{err}");
    writer.push(&[65504.0; 6]).unwrap();
    assert_eq!(writer.image_count(), 2, "refused images are not counted");
    writer.finish().unwrap();
    assert_eq!(MrcFile::open(&path).unwrap().image_count(), 2);

    let err = write_volume(&path, &[0.0; 5], [2, 3, 1], 1.0, WriteMode::Float32).unwrap_err();
    assert!(
        err.to_string()
            .contains("2 × 3 × 1 voxels needs that many values"),
        "{err}"
    );
    let err = write_volume(&path, &[0.0; 2], [2, 1, 1], 0.0, WriteMode::Float32).unwrap_err();
    assert!(err.to_string().contains("voxel size 0 Å"), "{err}");
    let err = MrcStackWriter::create(&path, 0, 2, 1.0, WriteMode::Float32).unwrap_err();
    assert!(err.to_string().contains("NX = 0"), "{err}");
    let missing_dir = dir.path().join("no/such/dir/x.mrc");
    assert!(write_volume(&missing_dir, &[0.0], [1, 1, 1], 1.0, WriteMode::Float32).is_err());
}
