//! Fuzz the STAR reader and writer: any bytes (as lossy UTF-8) must either parse or give an
//! error, never panic; a parsed file must be writable (the only refusal allowed is text no STAR
//! quoting can hold, e.g. a carriage return inside quotes) and writing must be a fixed point:
//! write → parse → write gives the same text, so no value changes on the way.

#![no_main]

use std::path::Path;

use cryoflux_formats::Error;
use cryoflux_formats::star::StarFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(star) = StarFile::parse(&text, Path::new("fuzz.star")) else {
        return;
    };
    let written = match star.to_string() {
        Ok(written) => written,
        Err(Error::Content { .. }) => return,
        Err(other) => panic!("unexpected write error: {other}"),
    };
    let reread = StarFile::parse(&written, Path::new("written.star"))
        .unwrap_or_else(|e| panic!("our own output does not parse: {e}\n{written}"));
    let rewritten = reread.to_string().expect("a file we wrote and read must be writable");
    assert_eq!(written, rewritten, "write → parse → write changed the file");
});
