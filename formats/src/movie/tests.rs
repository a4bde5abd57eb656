use std::path::Path;

use proptest::prelude::*;
use tiff::encoder::{TiffEncoder, colortype};

use super::*;
use crate::mrc::{MrcStackWriter, WriteMode};

/// Deterministic counts 0–250, different in every frame, row and column.
fn counts(width: usize, height: usize, frame: usize) -> Vec<f32> {
    (0..width * height)
        .map(|i| ((i * 37 + frame * 101 + i / width * 7) % 251) as f32)
        .collect()
}

/// Write pages with the `tiff` crate directly (for files our writer refuses to make).
fn write_raw_tiff(path: &Path, pages: impl FnOnce(&mut TiffEncoder<&mut std::fs::File>)) {
    let mut file = std::fs::File::create(path).unwrap();
    let mut encoder = TiffEncoder::new(&mut file).unwrap();
    pages(&mut encoder);
}

fn error_text(path: &Path) -> String {
    Movie::open(path)
        .and_then(|movie| movie.read_frame(0).map(|_| ()))
        .unwrap_err()
        .to_string()
}

#[test]
fn tiff_round_trip_every_sample_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = (13, 7);
    let frames: Vec<Vec<f32>> = (0..3).map(|k| counts(width, height, k)).collect();
    for sample in [TiffSample::U8, TiffSample::U16, TiffSample::F32] {
        for compression in [
            TiffCompression::None,
            TiffCompression::Lzw,
            TiffCompression::Deflate,
        ] {
            let path = dir.path().join(format!("{sample:?}-{compression:?}.tif"));
            let slices = frames.iter().map(Vec::as_slice);
            write_tiff_stack(&path, width, height, slices, sample, compression).unwrap();
            let movie = Movie::open(&path).unwrap();
            assert_eq!(movie.format(), MovieFormat::Tiff);
            assert_eq!(
                [movie.width(), movie.height(), movie.frame_count()],
                [width, height, 3]
            );
            for (k, frame) in frames.iter().enumerate() {
                assert_eq!(
                    &movie.read_frame(k).unwrap(),
                    frame,
                    "{sample:?} {compression:?}"
                );
            }
        }
    }
}

#[test]
fn tiff_rows_are_flipped_relative_to_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.tif");
    // File rows top to bottom: 0, 1, 2 → y = 0 is the last file row.
    write_raw_tiff(&path, |e| {
        e.write_image::<colortype::Gray8>(2, 3, &[0, 0, 1, 1, 2, 2])
            .unwrap();
    });
    let movie = Movie::open(&path).unwrap();
    assert_eq!(movie.read_frame(0).unwrap(), [2.0, 2.0, 1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn writer_rounds_counts_and_refuses_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.tif");
    let frame = [0.4f32, 1.6, 254.5, 3.0];
    write_tiff_stack(
        &path,
        2,
        2,
        [&frame[..]],
        TiffSample::U8,
        TiffCompression::None,
    )
    .unwrap();
    assert_eq!(
        Movie::open(&path).unwrap().read_frame(0).unwrap(),
        [0.0, 2.0, 255.0, 3.0]
    );

    let bad = dir.path().join("bad.tif");
    for (value, sample) in [
        (256.0, TiffSample::U8),
        (-0.6, TiffSample::U16),
        (65535.6, TiffSample::U16),
        (f32::NAN, TiffSample::U8),
        (f32::INFINITY, TiffSample::F32),
    ] {
        let second = [1.0, 2.0, value, 4.0];
        let message = write_tiff_stack(
            &bad,
            2,
            2,
            [&frame[..], &second[..]],
            sample,
            TiffCompression::Lzw,
        )
        .unwrap_err()
        .to_string();
        // Pixel index 2 is (x, y) = (0, 1).
        assert!(
            message.contains("bad.tif")
                && message.contains("frame 1")
                && message.contains("(0, 1)"),
            "{message}"
        );
        assert!(!bad.exists(), "a failed write left {}", bad.display());
    }
    let message = write_tiff_stack(
        &bad,
        2,
        2,
        [&frame[..3]],
        TiffSample::F32,
        TiffCompression::None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("frame 0") && message.contains("3 values"),
        "{message}"
    );
    let message = write_tiff_stack(&bad, 2, 2, [], TiffSample::F32, TiffCompression::None)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no frames"), "{message}");
}

#[test]
fn mrc_movies_read_through_the_mrc_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("movie.mrcs");
    let mut writer = MrcStackWriter::create(&path, 5, 4, 1.0, WriteMode::Float16).unwrap();
    for k in 0..4 {
        writer.push(&counts(5, 4, k)).unwrap();
    }
    writer.finish().unwrap();
    let movie = Movie::open(&path).unwrap();
    assert_eq!(movie.format(), MovieFormat::Mrc);
    assert_eq!(
        [movie.width(), movie.height(), movie.frame_count()],
        [5, 4, 4]
    );
    assert_eq!(movie.read_frame(3).unwrap(), counts(5, 4, 3));
    let message = movie.read_frame(4).unwrap_err().to_string();
    assert!(
        message.contains("frame 4") && message.contains("4 frames"),
        "{message}"
    );
}

#[test]
fn format_from_magic_bytes_when_the_extension_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("movie.dat");
    let frame = counts(3, 2, 0);
    write_tiff_stack(
        &tif,
        3,
        2,
        [&frame[..]],
        TiffSample::U16,
        TiffCompression::Deflate,
    )
    .unwrap();
    assert_eq!(Movie::open(&tif).unwrap().format(), MovieFormat::Tiff);
    let mrc = dir.path().join("gain.bin");
    let mut writer = MrcStackWriter::create(&mrc, 3, 2, 1.0, WriteMode::Float32).unwrap();
    writer.push(&frame).unwrap();
    writer.finish().unwrap();
    let gain = Movie::open(&mrc).unwrap();
    assert_eq!((gain.format(), gain.frame_count()), (MovieFormat::Mrc, 1));
    assert_eq!(gain.read_frame(0).unwrap(), frame);

    let junk = dir.path().join("junk.dat");
    std::fs::write(&junk, b"hello").unwrap();
    assert!(error_text(&junk).contains("not a recognised movie"));
    let eer = dir.path().join("m.eer");
    std::fs::write(&eer, b"II*\0").unwrap();
    assert!(error_text(&eer).contains("EER"));
}

#[test]
fn truncated_tiff_names_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.tif");
    let frames: Vec<Vec<f32>> = (0..3).map(|k| counts(16, 16, k)).collect();
    write_tiff_stack(
        &path,
        16,
        16,
        frames.iter().map(Vec::as_slice),
        TiffSample::U16,
        TiffCompression::None,
    )
    .unwrap();
    // The encoder writes each page's strip before its directory: cutting into the last page's
    // directory makes frame 2 unreadable; cutting the strip of frame 1 out of a copy whose
    // directory survives is checked against the strip extents.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    let message = error_text(&path);
    assert!(
        message.contains("cut.tif") && message.contains("frame 2") && message.contains("truncated"),
        "{message}"
    );
}

#[test]
fn strips_past_the_end_of_the_file_are_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.tif");
    // Directory first, strip last: a cut leaves the directory intact but the strip short.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"II*\0");
    bytes.extend_from_slice(&8u32.to_le_bytes());
    let entries: [(u16, u16, u32, u32); 7] = [
        (256, 3, 1, 4),   // width
        (257, 3, 1, 4),   // height
        (258, 3, 1, 8),   // bits per sample
        (262, 3, 1, 1),   // black is zero
        (273, 4, 1, 200), // strip offset
        (278, 3, 1, 4),   // rows per strip
        (279, 4, 1, 16),  // strip byte count
    ];
    bytes.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        bytes.extend_from_slice(&tag.to_le_bytes());
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.resize(200 + 16, 7);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        Movie::open(&path).unwrap().read_frame(0).unwrap(),
        vec![7.0; 16]
    );
    std::fs::write(&path, &bytes[..210]).unwrap();
    let message = error_text(&path);
    assert!(
        message.contains("truncated")
            && message.contains("frame 0")
            && message.contains("210 bytes"),
        "{message}"
    );
}

#[test]
fn unequal_frames_unsupported_samples_and_non_finite_pixels_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let unequal = dir.path().join("unequal.tif");
    write_raw_tiff(&unequal, |e| {
        e.write_image::<colortype::Gray8>(2, 2, &[0; 4]).unwrap();
        e.write_image::<colortype::Gray8>(2, 2, &[0; 4]).unwrap();
        e.write_image::<colortype::Gray8>(3, 2, &[0; 6]).unwrap();
    });
    let message = error_text(&unequal);
    assert!(
        message.contains("frame 2") && message.contains("3 × 2"),
        "{message}"
    );

    let rgb = dir.path().join("rgb.tif");
    write_raw_tiff(&rgb, |e| {
        e.write_image::<colortype::RGB8>(2, 2, &[0; 12]).unwrap();
    });
    let message = error_text(&rgb);
    assert!(
        message.contains("frame 0") && message.contains("unsupported samples"),
        "{message}"
    );

    let signed = dir.path().join("signed.tif");
    write_raw_tiff(&signed, |e| {
        e.write_image::<colortype::Gray8>(2, 2, &[0; 4]).unwrap();
        e.write_image::<colortype::GrayI16>(2, 2, &[0; 4]).unwrap();
    });
    let message = error_text(&signed);
    assert!(
        message.contains("frame 1") && message.contains("signed integer"),
        "{message}"
    );

    let nan = dir.path().join("nan.tif");
    write_raw_tiff(&nan, |e| {
        e.write_image::<colortype::Gray32Float>(2, 2, &[0.0; 4])
            .unwrap();
        e.write_image::<colortype::Gray32Float>(2, 2, &[0.0, 0.0, 0.0, f32::NAN])
            .unwrap();
    });
    let movie = Movie::open(&nan).unwrap();
    assert!(movie.read_frame(0).is_ok());
    let message = movie.read_frame(1).unwrap_err().to_string();
    // File pixel 3 ends the last file row, which becomes y = 0: (x, y) = (1, 0).
    assert!(
        message.contains("frame 1") && message.contains("NaN") && message.contains("(1, 0)"),
        "{message}"
    );
}

#[test]
fn movie_without_frames_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.mrcs");
    let mut writer = MrcStackWriter::create(&path, 4, 4, 1.0, WriteMode::Float32).unwrap();
    writer.push(&[0.0; 16]).unwrap();
    writer.finish().unwrap();
    // NZ (bytes 8–11) = 0: a header describing no sections.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&0i32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let message = error_text(&path);
    assert!(
        message.contains("empty.mrcs") && message.contains("NZ = 0"),
        "{message}"
    );
    // A TIFF whose first directory offset is 0 has no pages.
    let tif = dir.path().join("empty.tif");
    std::fs::write(&tif, b"II*\0\0\0\0\0").unwrap();
    let message = error_text(&tif);
    assert!(
        message.contains("empty.tif") && message.contains("frame 0"),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Garbage after a TIFF byte-order mark (the decoder's whole input), and garbage written
    /// over a valid file, give errors or frames, never a panic.
    #[test]
    fn garbage_never_panics(
        tail in proptest::collection::vec(any::<u8>(), 0..600),
        overwrite in proptest::collection::vec((0usize..400, any::<u8>()), 0..16),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("garbage.tif");
        let mut bytes = b"II*\0".to_vec();
        bytes.extend_from_slice(&tail);
        std::fs::write(&raw, &bytes).unwrap();
        if let Ok(movie) = Movie::open(&raw) {
            let _ = movie.read_frame(0);
        }

        let valid = dir.path().join("valid.tif");
        let frames = [counts(6, 5, 0), counts(6, 5, 1)];
        write_tiff_stack(&valid, 6, 5, frames.iter().map(Vec::as_slice), TiffSample::U16, TiffCompression::Lzw).unwrap();
        let mut bytes = std::fs::read(&valid).unwrap();
        for (at, byte) in overwrite {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        std::fs::write(&valid, &bytes).unwrap();
        if let Ok(movie) = Movie::open(&valid) {
            for k in 0..movie.frame_count() {
                let _ = movie.read_frame(k);
            }
        }
    }
}
