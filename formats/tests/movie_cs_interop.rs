//! Interoperability of the movie and cryoSPARC readers with the tools that write those files:
//! Python `tifffile` (TIFF movies of 8/16-bit and float32 samples, uncompressed, LZW and
//! deflate, read pixel-exact both ways), RELION 3.1.3's TIFF reader (`relion_image_handler`,
//! whose orientation we must match), and `cryosparc-tools` / NumPy (`.cs` datasets, every field
//! read back exactly).
//!
//! Each test prints a SKIP line and passes when its tool is missing, unless the environment sets
//! `CRYOFLUX_REQUIRE_INTEROP=1`, in which case a missing tool fails the test.

use std::path::Path;
use std::process::Command;

use cryoflux_formats::cryosparc::CsFile;
use cryoflux_formats::movie::{Movie, TiffCompression, TiffSample, write_tiff_stack};
use cryoflux_formats::mrc::MrcFile;

/// `ok`, after printing a SKIP line when it is false (or failing when interop is required).
fn available(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            std::env::var("CRYOFLUX_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{what} is required (CRYOFLUX_REQUIRE_INTEROP=1) but not available"
        );
        println!("SKIP: {what} not available");
    }
    ok
}

fn have_python(modules: &str) -> bool {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output();
    available(
        &format!("python3 with {modules}"),
        probe.is_ok_and(|out| out.status.success()),
    )
}

fn have_relion() -> bool {
    // Without arguments relion_image_handler prints its usage and exits non-zero: starting is
    // proof enough.
    available(
        "RELION (relion_image_handler)",
        Command::new("relion_image_handler").output().is_ok(),
    )
}

fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The test movie, as NumPy array `a[frame, row, column]` in file (top-row-first) order; the
/// same formula is written in Python below.
fn file_value(frame: usize, row: usize, column: usize, sample: &str) -> f32 {
    let count = ((frame * 101 + row * 7 + column * 37) % 251) as f32;
    match sample {
        "uint16" => count * 250.0,
        "float32" => count * 0.37 - 11.0,
        _ => count,
    }
}

const PY_MOVIE: &str = "
import numpy as np
def movie(dtype):
    k, r, c = np.meshgrid(np.arange(4), np.arange(7), np.arange(13), indexing='ij')
    count = ((k * 101 + r * 7 + c * 37) % 251)
    if dtype == 'uint16':
        return (count * 250).astype(np.uint16)
    if dtype == 'float32':
        return (count.astype(np.float32) * np.float32(0.37) - np.float32(11.0)).astype(np.float32)
    return count.astype(np.uint8)
";

const SAMPLES: [&str; 3] = ["uint8", "uint16", "float32"];
const COMPRESSIONS: [&str; 3] = ["none", "lzw", "zlib"];

#[test]
fn tifffile_movies_read_pixel_exact_with_relion_orientation() {
    if !have_python("tifffile, numpy, imagecodecs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "{PY_MOVIE}
import sys, tifffile
for dtype in {SAMPLES:?}:
    for compression in {COMPRESSIONS:?}:
        path = f'{{sys.argv[1]}}/{{dtype}}-{{compression}}.tif'
        tifffile.imwrite(path, movie(dtype), photometric='minisblack',
                         compression=None if compression == 'none' else compression)
print('written')
"
    );
    python(&script, &[dir.path()]);
    for sample in SAMPLES {
        for compression in COMPRESSIONS {
            let path = dir.path().join(format!("{sample}-{compression}.tif"));
            let movie = Movie::open(&path).unwrap();
            assert_eq!(
                [movie.width(), movie.height(), movie.frame_count()],
                [13, 7, 4]
            );
            for frame in 0..4 {
                let pixels = movie.read_frame(frame).unwrap();
                for y in 0..7 {
                    for x in 0..13 {
                        // RELION's y = 0 is the file's last row.
                        let expected = file_value(frame, 6 - y, x, sample);
                        let got = pixels[y * 13 + x];
                        assert_eq!(
                            got, expected,
                            "{sample} {compression} frame {frame} ({x}, {y})"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn our_tiff_stacks_read_pixel_exact_in_tifffile() {
    if !have_python("tifffile, numpy, imagecodecs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (sample, kind) in [
        (TiffSample::U8, "uint8"),
        (TiffSample::U16, "uint16"),
        (TiffSample::F32, "float32"),
    ] {
        for (compression, name) in [
            (TiffCompression::None, "none"),
            (TiffCompression::Lzw, "lzw"),
            (TiffCompression::Deflate, "zlib"),
        ] {
            // Frames in RELION's orientation: y = 0 is the file's last row.
            let frames: Vec<Vec<f32>> = (0..4)
                .map(|k| {
                    (0..7 * 13)
                        .map(|i| file_value(k, 6 - i / 13, i % 13, kind))
                        .collect()
                })
                .collect();
            let path = dir.path().join(format!("{kind}-{name}.tif"));
            let slices = frames.iter().map(Vec::as_slice);
            write_tiff_stack(&path, 13, 7, slices, sample, compression).unwrap();
        }
    }
    let script = format!(
        "{PY_MOVIE}
import sys, tifffile
for dtype in {SAMPLES:?}:
    for compression in {COMPRESSIONS:?}:
        data = tifffile.imread(f'{{sys.argv[1]}}/{{dtype}}-{{compression}}.tif')
        assert data.dtype == np.dtype(dtype), (dtype, data.dtype)
        assert np.array_equal(data, movie(dtype)), (dtype, compression)
print('all equal')
"
    );
    assert!(python(&script, &[dir.path()]).contains("all equal"));
}

#[test]
fn tiff_orientation_matches_relion_image_handler() {
    if !have_python("tifffile, numpy, imagecodecs") || !have_relion() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "{PY_MOVIE}
import sys, tifffile
tifffile.imwrite(sys.argv[1] + '/u16.tif', movie('uint16'), photometric='minisblack')
tifffile.imwrite(sys.argv[1] + '/u8-lzw.tif', movie('uint8'), photometric='minisblack',
                 compression='lzw')
"
    );
    python(&script, &[dir.path()]);
    for name in ["u16", "u8-lzw"] {
        let tif = dir.path().join(format!("{name}.tif"));
        let mrcs = dir.path().join(format!("{name}.mrcs"));
        let out = Command::new("relion_image_handler")
            .arg("--i")
            .arg(&tif)
            .arg("--o")
            .arg(&mrcs)
            .output()
            .unwrap();
        assert!(
            mrcs.exists(),
            "relion_image_handler wrote nothing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let relion = MrcFile::open(&mrcs).unwrap();
        let movie = Movie::open(&tif).unwrap();
        assert_eq!(relion.dims(), [13, 7, 4]);
        for frame in 0..4 {
            assert_eq!(
                movie.read_frame(frame).unwrap(),
                relion.read_image(frame).unwrap(),
                "{name} frame {frame}"
            );
        }
    }
}

/// Parse the `name<TAB>v v v` lines the cryoSPARC script prints.
fn expected_columns(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(name, values)| {
            (
                name.to_owned(),
                values.split(' ').map(str::to_owned).collect(),
            )
        })
        .collect()
}

#[test]
fn cryosparc_tools_datasets_read_back_every_field() {
    if !have_python("cryosparc, numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("particles.cs");
    let script = "
import sys, numpy as np
from cryosparc.dataset import Dataset
n = 5
d = Dataset.allocate(n, fields=[
    ('blob/path', 'O'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)),
    ('blob/psize_A', '<f4'), ('ctf/accel_kv', '<f4'), ('ctf/cs_mm', '<f4'),
    ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'), ('ctf/df2_A', '<f4'),
    ('ctf/df_angle_rad', '<f4'), ('ctf/phase_shift_rad', '<f4'),
    ('alignments3D/pose', '<f4', (3,)), ('alignments3D/shift', '<f4', (2,)),
    ('alignments3D/split', '<u4')])
i = np.arange(n)
d['blob/path'] = [f'J7/imported/{k:03d}_stack_{\"x\" * k}.mrcs' for k in range(n)]
d['blob/idx'] = i * 3
d['blob/shape'] = np.stack([i + 64, i + 64], axis=1)
d['blob/psize_A'] = 1.06
d['ctf/accel_kv'] = 300
d['ctf/cs_mm'] = 2.7
d['ctf/amp_contrast'] = 0.1
d['ctf/df1_A'] = 12000 + 511.25 * i
d['ctf/df2_A'] = 11800 + 377.5 * i
d['ctf/df_angle_rad'] = 0.3 * i - 1.0
d['ctf/phase_shift_rad'] = 0.0
d['alignments3D/pose'] = np.stack([0.1 * i, -0.2 * i, 3.0 - i], axis=1)
d['alignments3D/shift'] = np.stack([0.5 * i - 1, 2.25 - i], axis=1)
d['alignments3D/split'] = i % 2
d.save(sys.argv[1])
for f in d.fields():
    col = d[f]
    if col.dtype == object:
        print(f + '\\t' + ' '.join(col))
    else:
        print(f + '\\t' + ' '.join(repr(float(v)) if col.dtype.kind == 'f' else str(int(v)) for v in col.reshape(-1)))
";
    let expected = expected_columns(&python(script, &[&path]));
    let file = CsFile::open(&path).unwrap();
    assert_eq!(file.row_count(), 5);
    let names: Vec<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(file.field_names(), names);
    for (name, values) in &expected {
        let field = file.field(name).unwrap();
        match name.as_str() {
            "blob/path" => assert_eq!(&file.column_strings(name).unwrap(), values),
            "uid" | "blob/idx" | "alignments3D/split" => {
                let got: Vec<String> = file
                    .column_u64(name)
                    .unwrap()
                    .iter()
                    .map(u64::to_string)
                    .collect();
                assert_eq!(&got, values, "{name}");
            }
            _ => {
                let got: Vec<f64> = file
                    .column_vectors(name)
                    .unwrap()
                    .into_iter()
                    .flatten()
                    .collect();
                let want: Vec<f64> = values.iter().map(|v| v.parse().unwrap()).collect();
                assert_eq!(got, want, "{name}");
                assert_eq!(got.len(), 5 * field.element_count(), "{name}");
            }
        }
    }
}

#[test]
fn numpy_structured_arrays_of_every_version_and_byte_order() {
    if !have_python("numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = "
import sys, numpy as np
from numpy.lib import format
dt = np.dtype([('flag', '|b1'), ('big', '>i4'), ('name', '<U5'), ('raw', '|S3'),
               ('m', '>f8', (2, 2)), ('h', '<f2'), ('s', '<i8')], align=True)
a = np.zeros(3, dtype=dt)
a['flag'] = [True, False, True]
a['big'] = [-7, 0, 2**31 - 1]
a['name'] = ['αβ', 'five5', '']
a['raw'] = [b'ab', b'xyz', b'']
a['m'] = np.arange(12, dtype=float).reshape(3, 2, 2) / 8
a['h'] = [0.5, -2.0, 65504.0]
a['s'] = [-(2**40), 1, 0]
for version in [(1, 0), (2, 0), (3, 0)]:
    with open(f'{sys.argv[1]}/v{version[0]}.cs', 'wb') as f:
        format.write_array(f, a, version=version)
print(a.dtype.descr)
";
    let descr = python(script, &[dir.path()]);
    assert!(descr.contains("('', '|V"), "expected padding in {descr}");
    for version in 1..=3 {
        let file = CsFile::open(dir.path().join(format!("v{version}.cs"))).unwrap();
        assert_eq!(
            file.field_names(),
            ["flag", "big", "name", "raw", "m", "h", "s"]
        );
        assert_eq!(file.column_u64("flag").unwrap(), [1, 0, 1]);
        assert_eq!(
            file.column_f64("big").unwrap(),
            [-7.0, 0.0, 2_147_483_647.0]
        );
        assert_eq!(file.column_strings("name").unwrap(), ["αβ", "five5", ""]);
        assert_eq!(file.column_strings("raw").unwrap(), ["ab", "xyz", ""]);
        let m = file.column_vectors("m").unwrap();
        assert_eq!(m[2], [1.0, 1.125, 1.25, 1.375]);
        assert_eq!(file.column_f64("h").unwrap(), [0.5, -2.0, 65504.0]);
        assert_eq!(file.column_f64("s").unwrap(), [-(2f64.powi(40)), 1.0, 0.0]);
    }
}
