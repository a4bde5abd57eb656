//! Fuzz the MRC reader: any bytes must either parse or give an error, never panic, and a parsed
//! file must decode every image, scan for NaN and compute statistics without panicking.

#![no_main]

use cryoflux_formats::mrc::MrcFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = MrcFile::from_bytes("fuzz.mrc", data.to_vec()) else {
        return;
    };
    let _ = (file.dims(), file.voxel_size(), file.header().stats());
    let all = file.read_all().expect("a parsed file must decode");
    assert_eq!(all.len(), file.image_len() * file.image_count());
    if file.image_count() > 0 {
        let last = file.read_image(file.image_count() - 1).expect("last image");
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&last), bits(&all[all.len() - file.image_len()..]));
    }
    let _ = file.find_non_finite().expect("scan");
    let _ = file.stats().expect("stats");
});
