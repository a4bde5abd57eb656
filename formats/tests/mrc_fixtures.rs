//! Files written by RELION 3.1.3 (`tests/data/mrc/`), read without RELION present.
//!
//! Made with mrcfile inputs `a[z,y,x] = 0.25·index − 10` (3 images of 8 × 6, 1.75 Å) and
//! `b = 0.5·index − 20` (6 × 5 × 4 volume, 2.5 Å), then
//! `relion_image_handler --i in --o relion_times2.* --multiply_constant 2`. RELION copies the
//! input's statistics into the header (stale by a factor 2), writes NVERSION 0 and machine stamp
//! 0x44 0x41 — exactly the kind of file `cryoflux info` must describe honestly.

use std::path::Path;

use cryoflux_formats::mrc::{Endian, Mode, MrcFile};

fn fixture(name: &str) -> MrcFile {
    MrcFile::open(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mrc")
            .join(name),
    )
    .unwrap()
}

#[test]
fn relion_stack() {
    let file = fixture("relion_times2.mrcs");
    assert_eq!(
        (file.mode(), file.header().endian, file.header().nversion),
        (Mode::Float32, Endian::Little, 0)
    );
    assert_eq!(file.header().machine_stamp, [0x44, 0x41, 0, 0]);
    assert_eq!(file.dims(), [8, 6, 3]);
    assert_eq!(file.voxel_size(), [1.75; 3]);
    let expected: Vec<f32> = (0..144).map(|i| 2.0 * (0.25 * i as f32 - 10.0)).collect();
    assert_eq!(file.read_all().unwrap(), expected);
    assert_eq!(file.read_image(2).unwrap(), expected[96..]);
    let (stale, actual) = (file.header().stats(), file.stats().unwrap());
    assert_eq!((stale.min, stale.max), (-10.0, 25.75));
    assert_eq!((actual.min, actual.max, actual.mean), (-20.0, 51.5, 15.75));
    assert!((actual.rms - 20.78411).abs() < 1e-4);
}

#[test]
fn relion_volume() {
    let file = fixture("relion_times2.mrc");
    assert_eq!(file.dims(), [6, 5, 4]);
    assert_eq!(file.voxel_size(), [2.5; 3]);
    assert_eq!(
        file.header().ispg,
        0,
        "RELION 3.1 marks volumes as image stacks too"
    );
    let expected: Vec<f32> = (0..120).map(|i| 2.0 * (0.5 * i as f32 - 20.0)).collect();
    assert_eq!(file.read_all().unwrap(), expected);
}
