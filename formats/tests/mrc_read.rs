//! Reading MRC files built byte by byte here (independently of our header encoder): every mode,
//! both byte orders, extended headers, axis permutations, random access, NaN reports, and every
//! malformed-file error.

use std::path::Path;

use cryoflux_formats::mrc::{Endian, Mode, MrcFile, NonFinite};

/// A hand-made header: NX,NY,NZ, MODE, MX..MZ = N, cell = N × 1.5 Å, standard axes, stamps.
struct Raw {
    size: [i32; 3],
    mode: i32,
    axis_map: [i32; 3],
    nsymbt: i32,
    endian: Endian,
    stamp: [u8; 4],
    imod_flags: Option<i32>,
}

impl Raw {
    fn new(size: [i32; 3], mode: i32, endian: Endian) -> Raw {
        Raw {
            size,
            mode,
            axis_map: [1, 2, 3],
            nsymbt: 0,
            endian,
            stamp: endian.machine_stamp(),
            imod_flags: None,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; 1024];
        let e = self.endian;
        let mut put = |offset: usize, word: [u8; 4]| {
            let word = if e == Endian::Big {
                word
            } else {
                [word[3], word[2], word[1], word[0]]
            };
            out[offset..offset + 4].copy_from_slice(&word);
        };
        let int = |v: i32| v.to_be_bytes();
        let float = |v: f32| v.to_be_bytes();
        for axis in 0..3 {
            put(4 * axis, int(self.size[axis]));
            put(28 + 4 * axis, int(self.size[axis]));
            put(40 + 4 * axis, float(self.size[axis] as f32 * 1.5));
            put(52 + 4 * axis, float(90.0));
            put(64 + 4 * axis, int(self.axis_map[axis]));
        }
        put(12, int(self.mode));
        put(92, int(self.nsymbt));
        put(108, int(20140));
        if let Some(flags) = self.imod_flags {
            put(152, int(1146047817));
            put(156, int(flags));
        }
        out[208..212].copy_from_slice(b"MAP ");
        out[212..216].copy_from_slice(&self.stamp);
        out.resize(1024 + self.nsymbt.max(0) as usize, 0xAB);
        out
    }

    fn file(&self, data: &[u8]) -> Vec<u8> {
        let mut bytes = self.bytes();
        bytes.extend_from_slice(data);
        bytes
    }
}

fn open(bytes: Vec<u8>) -> cryoflux_formats::Result<MrcFile> {
    MrcFile::from_bytes("particles.mrcs", bytes)
}

fn error(bytes: Vec<u8>) -> String {
    open(bytes).expect_err("expected an error").to_string()
}

/// Values 0..n as `mode` words in byte order `endian`, with a few negatives where signed.
fn words(mode: Mode, endian: Endian, values: &[f32]) -> Vec<u8> {
    let order = |le: Vec<u8>| -> Vec<u8> {
        let width = mode.bytes_per_voxel();
        if endian == Endian::Little {
            le
        } else {
            le.chunks(width)
                .flat_map(|w| w.iter().rev().copied().collect::<Vec<_>>())
                .collect()
        }
    };
    order(match mode {
        Mode::Int8 => values.iter().map(|&v| v as i8 as u8).collect(),
        Mode::Int16 => values
            .iter()
            .flat_map(|&v| (v as i16).to_le_bytes())
            .collect(),
        Mode::Uint16 => values
            .iter()
            .flat_map(|&v| (v as u16).to_le_bytes())
            .collect(),
        Mode::Float32 => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
        Mode::Float16 => values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_bits().to_le_bytes())
            .collect(),
    })
}

#[test]
fn every_mode_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        for mode in Mode::ALL {
            let values: Vec<f32> = (0..24)
                .map(|i| match mode {
                    Mode::Uint16 => (i * 1000) as f32,
                    Mode::Int8 => (i * 5 - 60) as f32,
                    Mode::Int16 => (i * 1000 - 12000) as f32,
                    _ => (i as f32 - 12.0) * 0.5,
                })
                .collect();
            let bytes =
                Raw::new([4, 3, 2], mode.code(), endian).file(&words(mode, endian, &values));
            let file = open(bytes).unwrap();
            assert_eq!((file.mode(), file.header().endian), (mode, endian));
            assert_eq!(file.dims(), [4, 3, 2]);
            assert_eq!(file.voxel_size(), [1.5; 3]);
            assert_eq!(file.read_all().unwrap(), values, "{mode} {endian:?}");
        }
    }
}

#[test]
fn unsigned_bytes_when_imod_says_so() {
    let mut raw = Raw::new([2, 1, 1], 0, Endian::Little);
    raw.imod_flags = Some(0);
    assert_eq!(
        open(raw.file(&[200, 7])).unwrap().read_all().unwrap(),
        [200.0, 7.0]
    );
    raw.imod_flags = Some(1);
    assert_eq!(
        open(raw.file(&[200, 7])).unwrap().read_all().unwrap(),
        [-56.0, 7.0]
    );
}

#[test]
fn missing_machine_stamp_detects_big_endian() {
    let mut raw = Raw::new([2, 2, 1], 2, Endian::Big);
    raw.stamp = [0; 4];
    let values = [1.0, -2.0, 3.5, 1e-3];
    let file = open(raw.file(&words(Mode::Float32, Endian::Big, &values))).unwrap();
    assert_eq!(file.header().endian, Endian::Big);
    assert_eq!(file.read_all().unwrap(), values);
}

#[test]
fn extended_header_is_skipped() {
    let mut raw = Raw::new([2, 1, 1], 2, Endian::Little);
    raw.nsymbt = 96;
    let file = open(raw.file(&words(Mode::Float32, Endian::Little, &[5.0, 6.0]))).unwrap();
    assert_eq!(file.header().nsymbt, 96);
    assert_eq!(file.read_all().unwrap(), [5.0, 6.0]);
}

#[test]
fn permuted_axes_are_reordered_to_x_fastest() {
    // Columns run along Y, rows along Z, sections along X: file index = y + 3 z + 6 x.
    let mut raw = Raw::new([3, 2, 4], 2, Endian::Little);
    raw.axis_map = [2, 3, 1];
    let file_values: Vec<f32> = (0..24).map(|i| i as f32).collect();
    let file = open(raw.file(&words(Mode::Float32, Endian::Little, &file_values))).unwrap();
    assert_eq!(file.dims(), [4, 3, 2]);
    let volume = file.read_all().unwrap();
    for z in 0..2 {
        for y in 0..3 {
            for x in 0..4 {
                assert_eq!(volume[x + 4 * (y + 3 * z)], (y + 3 * z + 6 * x) as f32);
            }
        }
    }
    assert_eq!(file.read_image(1).unwrap(), volume[12..]);
}

#[test]
fn random_access_to_images() {
    let values: Vec<f32> = (0..5 * 6).map(|i| i as f32).collect();
    let file = open(Raw::new([3, 2, 5], 2, Endian::Little).file(&words(
        Mode::Float32,
        Endian::Little,
        &values,
    )))
    .unwrap();
    assert_eq!(file.image_count(), 5);
    assert_eq!(file.image_len(), 6);
    assert_eq!(file.read_image(3).unwrap(), values[18..24]);
    assert_eq!(file.read_images(1..3).unwrap(), values[6..18]);
    assert_eq!(file.read_images(2..2).unwrap(), Vec::<f32>::new());
    let mut buffer = [0.0; 6];
    file.read_image_into(4, &mut buffer).unwrap();
    assert_eq!(buffer, values[24..]);
    let err = file.read_image(5).unwrap_err().to_string();
    assert!(
        err.contains("images 5..6") && err.contains("has 5"),
        "{err}"
    );
    assert!(file.read_image(usize::MAX).is_err());
    assert!(
        file.read_image_into(0, &mut [0.0; 5])
            .unwrap_err()
            .to_string()
            .contains("need 6")
    );
}

#[test]
fn reports_first_non_finite_pixel() {
    let mut values = vec![0.5f32; 2 * 3 * 4];
    values[2 * 6 + 1 + 2 * 2] = f32::NAN; // image 2, x = 1, y = 2
    values[3 * 6] = f32::INFINITY;
    for mode in [Mode::Float32, Mode::Float16] {
        let file = open(
            Raw::new([2, 3, 4], mode.code(), Endian::Little).file(&words(
                mode,
                Endian::Little,
                &values,
            )),
        )
        .unwrap();
        let bad = file.find_non_finite().unwrap().unwrap();
        assert_eq!((bad.image, bad.x, bad.y), (2, 1, 2));
        assert!(bad.value.is_nan());
        let err = file.check_finite().unwrap_err().to_string();
        assert!(
            err.starts_with("particles.mrcs: image 3 (1-based")
                && err.contains("NaN at pixel (x, y) = (1, 2)"),
            "{err}"
        );
    }
    let clean = open(Raw::new([2, 1, 1], 2, Endian::Little).file(&words(
        Mode::Float32,
        Endian::Little,
        &[1.0, 2.0],
    )))
    .unwrap();
    assert_eq!(clean.find_non_finite().unwrap(), None);
    assert!(clean.check_finite().is_ok());
    let inf = NonFinite {
        image: 0,
        x: 0,
        y: 0,
        value: f32::NEG_INFINITY,
    };
    assert!(inf.to_string().contains("has -inf at"));
}

#[test]
fn stats_from_data() {
    let values = [1.0f32, 2.0, 3.0, 4.0, 5.0, 9.0];
    let file =
        open(Raw::new([3, 1, 2], 1, Endian::Big).file(&words(Mode::Int16, Endian::Big, &values)))
            .unwrap();
    let stats = file.stats().unwrap();
    assert_eq!((stats.min, stats.max, stats.mean), (1.0, 9.0, 4.0));
    assert!((stats.rms - (40.0f32 / 6.0).sqrt()).abs() < 1e-6);
    assert_eq!(
        file.header().stats().max,
        0.0,
        "the hand-made header records no statistics"
    );
}

#[test]
fn truncated_data_names_both_lengths() {
    let bytes = Raw::new([4, 3, 2], 2, Endian::Little).file(&[0u8; 90]);
    let err = error(bytes);
    assert!(err.starts_with("particles.mrcs: truncated"), "{err}");
    assert!(
        err.contains("1120 bytes in all") && err.contains("has 1114 bytes (6 missing)"),
        "{err}"
    );
}

#[test]
fn truncated_extended_header() {
    let mut bytes = Raw::new([1, 1, 1], 2, Endian::Little).file(&[0; 976]);
    bytes[92..96].copy_from_slice(&(1i32 << 30).to_le_bytes()); // NSYMBT = 1 GiB
    let err = error(bytes);
    assert!(
        err.contains("after 1024 + 1073741824 header bytes"),
        "{err}"
    );
}

#[test]
fn longer_file_than_the_header_says_is_refused() {
    // The header says 40³ float32 voxels; the file holds 48³ (issue 13: read silently before).
    let bytes = Raw::new([40, 40, 40], 2, Endian::Little).file(&vec![0u8; 4 * 48 * 48 * 48]);
    let err = error(bytes);
    assert!(
        err.starts_with("particles.mrcs: longer than its header says")
            && err.contains("40 × 40 × 40 voxels")
            && err.contains(&format!("{} bytes in all", 1024 + 4 * 40 * 40 * 40))
            && err.contains(&format!("has {} bytes", 1024 + 4 * 48 * 48 * 48))
            && err.contains(&format!("({} extra)", 4 * (48 * 48 * 48 - 40 * 40 * 40))),
        "{err}"
    );
    let mut one_extra = Raw::new([2, 1, 1], 2, Endian::Little).file(&[0; 8]);
    one_extra.push(0);
    assert!(error(one_extra).contains("(1 extra)"));
}

#[test]
fn short_empty_and_foreign_files() {
    assert!(
        error(Vec::new()).contains("file is 0 bytes long, shorter than the 1024-byte MRC header")
    );
    assert!(error(vec![0; 1023]).contains("1023 bytes"));
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 2000]].concat();
    assert!(error(png).contains("not an MRC file"));
    assert!(
        error(vec![0; 4096]).contains("not an MRC file"),
        "all zeros"
    );
}

#[test]
fn unknown_mode_and_nonsense_dims() {
    let err = error(Raw::new([2, 2, 1], 9, Endian::Little).file(&[0; 64]));
    assert!(err.contains("unknown MRC mode 9"), "{err}");
    let err = error(Raw::new([2, 2, 1], 101, Endian::Little).file(&[0; 64]));
    assert!(
        err.contains("mode 101 (packed 4-bit) is not supported"),
        "{err}"
    );
    let err = error(Raw::new([2, 0, 1], 2, Endian::Little).file(&[0; 64]));
    assert!(err.contains("NY = 0"), "{err}");
    let err = error(Raw::new([-3, 2, 1], 2, Endian::Big).file(&[0; 64]));
    assert!(err.contains("NX = -3 (big-endian"), "{err}");
    // Huge but individually plausible sizes: caught by the length check, not by allocation.
    let err = error(Raw::new([1 << 24, 1 << 24, 1 << 24], 2, Endian::Little).file(&[0; 64]));
    assert!(err.contains("more data than any file can hold"), "{err}");
}

#[test]
fn open_maps_a_real_file_and_names_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.mrc");
    std::fs::write(
        &path,
        Raw::new([2, 1, 1], 2, Endian::Little).file(&words(
            Mode::Float32,
            Endian::Little,
            &[3.0, 4.0],
        )),
    )
    .unwrap();
    let file = MrcFile::open(&path).unwrap();
    assert_eq!(file.path(), path);
    assert_eq!(file.read_all().unwrap(), [3.0, 4.0]);
    std::fs::write(&path, b"tiny").unwrap();
    assert!(
        MrcFile::open(&path)
            .unwrap_err()
            .to_string()
            .contains("4 bytes long")
    );
    let missing = MrcFile::open(Path::new("/nonexistent/x.mrc"))
        .unwrap_err()
        .to_string();
    assert!(missing.starts_with("/nonexistent/x.mrc:"), "{missing}");
}
