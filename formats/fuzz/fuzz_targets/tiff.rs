//! Fuzz the movie reader on TIFF files: any bytes must either open or give an error, never
//! panic, and an opened movie must give every frame at its width × height (or an error for a
//! frame whose data do not decode). `Movie::open` reads from disk, so each input is written to
//! one scratch file per process under `TMPDIR` (run with `TMPDIR=/dev/shm` for speed).

#![no_main]

use cryoflux_formats::movie::Movie;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("cryoflux-fuzz-{}.tif", std::process::id()));
    std::fs::write(&path, data).expect("write the scratch file");
    let Ok(movie) = Movie::open(&path) else {
        return;
    };
    let pixels = movie.width() * movie.height();
    for index in 0..movie.frame_count() {
        if let Ok(frame) = movie.read_frame(index) {
            assert_eq!(frame.len(), pixels, "frame {index}");
        }
    }
});
