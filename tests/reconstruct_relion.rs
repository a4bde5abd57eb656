//! End to end: `cryoflux reconstruct` against RELION 3.1.3's `relion_reconstruct` and against
//! the ground truth (the bundled 1HPV map, box 48, 1.8 Å):
//! - particles made by `relion_project` (random poses, origins, astigmatic CTFs, white noise)
//!   reconstruct to the same map as relion_reconstruct (FSC vs truth shell by shell, map
//!   correlation), which pins Euler angles, origins, CTF sign and FFT scaling; also for half
//!   sets and with D2 symmetry (and the D2 map is invariant under D2's 2-fold axes);
//! - noise-free particles give RELION's map to single precision (direct division) or to
//!   r > 0.99999 (iterative gridding); `--maxres` and `--angpix` behave as RELION's;
//! - particles made by `cryoflux simulate` reach the resolution their SNR predicts;
//! - the map does not depend on the thread count, nor on STAR vs Parquet input;
//! - bad input is refused with the file and field named, and nothing is written.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cryoflux_formats::mrc::MrcFile;
use cryoflux_formats::star::{Column, ColumnData, StarFile};
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::spectrum::power_spectrum;
use cryoflux_kernels::grid::{Image, Volume};
use cryoflux_kernels::random::SplitMix64;

/// Particles per RELION-made set: enough for a mid-resolution FSC crossing at box 48.
const PARTICLES: usize = 300;
/// Standard deviation of relion_project's white noise (the images' signal std is ≈ 0.85).
const NOISE_SIGMA: &str = "3";

/// A RELION 3.1 pose file for relion_project: uniform orientations, origins within ±3 Å,
/// astigmatic defoci 0.8–2 µm at random angles, 300 kV, Cs 2.7, Q0 0.1, alternating halves.
fn poses_star(count: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut between = |low: f64, high: f64| low + (high - low) * rng.next_unit();
    let mut text = String::from(
        "data_optics\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n_rlnVoltage #3\n\
         _rlnSphericalAberration #4\n_rlnAmplitudeContrast #5\n_rlnImagePixelSize #6\n\
         _rlnImageSize #7\n_rlnImageDimensionality #8\nopticsGroup1 1 300 2.7 0.1 1.8 48 2\n\n\
         data_particles\nloop_\n_rlnAngleRot #1\n_rlnAngleTilt #2\n_rlnAnglePsi #3\n\
         _rlnOriginXAngst #4\n_rlnOriginYAngst #5\n_rlnDefocusU #6\n_rlnDefocusV #7\n\
         _rlnDefocusAngle #8\n_rlnOpticsGroup #9\n_rlnRandomSubset #10\n",
    );
    for i in 0..count {
        let rot = between(-180.0, 180.0);
        let tilt = between(-1.0, 1.0).acos().to_degrees();
        let psi = between(-180.0, 180.0);
        let (ox, oy) = (between(-3.0, 3.0), between(-3.0, 3.0));
        let du = between(8000.0, 20000.0);
        let dv = du - between(0.0, 1000.0);
        let angle = between(0.0, 180.0);
        text += &format!(
            "{rot:.4} {tilt:.4} {psi:.4} {ox:.4} {oy:.4} {du:.2} {dv:.2} {angle:.3} 1 {}\n",
            i % 2 + 1
        );
    }
    text
}

/// A directory with the truth map (`truth.mrc`) and RELION-projected particles with CTF
/// (`proj.star`, `proj.mrcs`, image names relative to the directory), with white noise of
/// standard deviation [`NOISE_SIGMA`] when `noisy`.
fn relion_particles(noisy: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    bundled_map_float32(dir.path());
    std::fs::write(dir.path().join("poses.star"), poses_star(PARTICLES, 7)).unwrap();
    let mut args = vec![
        "--i",
        "truth.mrc",
        "--o",
        "proj",
        "--ang",
        "poses.star",
        "--ctf",
    ];
    if noisy {
        args.extend(["--add_noise", "--white_noise", NOISE_SIGMA]);
    }
    run_tool(dir.path(), "relion_project", &args);
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `relion_reconstruct` run in `dir` on `star` (relative to dir) → `dir/out`.
fn relion_reconstruct(dir: &Path, star: &str, out: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--i", star, "--o", out];
    args.extend_from_slice(extra);
    run_tool(dir, "relion_reconstruct", &args);
    dir.join(out)
}

/// `cryoflux reconstruct --i star --o out EXTRA…` (run from the test's directory, so image
/// names relative to the STAR file's directory exercise the fallback lookup).
fn cryoflux_reconstruct(star: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["reconstruct", "--i", path_str(star), "--o", path_str(out)];
    args.extend_from_slice(extra);
    cryoflux_ok(&args);
    out.to_path_buf()
}

/// The map of an MRC file.
fn voxels(path: &Path) -> Vec<f32> {
    read_mrc(path).0
}

/// Asserts that two FSC-vs-truth curves agree: |ΔFSC| ≤ 0.03 in every shell where either is
/// above 0.2, and the 0.5 and 0.143 crossings within one shell.
fn assert_same_fsc(ours: &FscCurve, relion: &FscCurve, what: &str) {
    for (shell, (a, b)) in ours.values.iter().zip(&relion.values).enumerate() {
        if a.max(*b) > 0.2 {
            assert!(
                (a - b).abs() <= 0.03,
                "{what}: shell {shell}: FSC vs truth {a:.3} (cryoflux) vs {b:.3} (RELION)"
            );
        }
    }
    for (x, y, t) in [
        (ours.shell_05, relion.shell_05, "0.5"),
        (ours.shell_0143, relion.shell_0143, "0.143"),
    ] {
        assert!(
            x.abs_diff(y) <= 1,
            "{what}: FSC {t} crossing at shell {x} (cryoflux) vs {y} (RELION)"
        );
    }
}

#[test]
fn relion_particles_reconstruct_like_relion_reconstruct() {
    if !have_tool("relion_project") || !have_tool("relion_reconstruct") {
        return;
    }
    let data = relion_particles(true);
    let dir = data.path();
    let truth = dir.join("truth.mrc");
    let star = dir.join("proj.star");
    for (subset, name) in [(None, "all"), (Some("1"), "half1")] {
        let extra: Vec<&str> = match subset {
            None => vec!["--ctf"],
            Some(half) => vec!["--ctf", "--subset", half],
        };
        let relion = relion_reconstruct(dir, "proj.star", &format!("relion_{name}.mrc"), &extra);
        let ours = cryoflux_reconstruct(&star, &dir.join(format!("ours_{name}.mrc")), &extra);
        let (ours_map, dims, voxel) = read_mrc(&ours);
        assert_eq!(dims, [48; 3]);
        assert!((voxel - 1.8).abs() < 1e-5, "voxel size {voxel}");
        let r = correlation(&ours_map, &voxels(&relion));
        assert!(
            r >= 0.98,
            "{name}: cryoflux vs relion_reconstruct map correlation {r}"
        );
        let ours_fsc = cryoflux_fsc(&ours, &truth);
        let relion_fsc = cryoflux_fsc(&relion, &truth);
        eprintln!(
            "{name}: map correlation {r:.5}; FSC vs truth 0.5/0.143 crossings: cryoflux {}/{}, \
             RELION {}/{}",
            ours_fsc.shell_05, ours_fsc.shell_0143, relion_fsc.shell_05, relion_fsc.shell_0143
        );
        assert_same_fsc(&ours_fsc, &relion_fsc, name);
        // The noise level was chosen so that the curve crosses 0.5 inside the box.
        assert!(
            (4..20).contains(&ours_fsc.shell_05),
            "{name}: FSC vs truth 0.5 crossing at shell {}",
            ours_fsc.shell_05
        );
    }
    // Without CTF correction the map is a CTF-blurred one, so it must match the truth worse.
    let plain = cryoflux_reconstruct(&star, &dir.join("plain.mrc"), &[]);
    let corrected = dir.join("ours_all.mrc");
    let truth_map = voxels(&truth);
    assert!(
        correlation(&voxels(&plain), &truth_map) + 0.05
            < correlation(&voxels(&corrected), &truth_map)
    );
}

#[test]
fn noise_free_reconstruction_matches_relion_to_float_precision() {
    if !have_tool("relion_project") || !have_tool("relion_reconstruct") {
        return;
    }
    let data = relion_particles(false);
    let dir = data.path();
    let star = dir.join("proj.star");
    // Direct division by the weights: the same numbers up to single precision (our images and
    // CTFs are float32, RELION's float64). Iterative gridding: the same map to r > 0.99999.
    for (name, extra, tolerance) in [
        ("skip_gridding", vec!["--ctf", "--skip_gridding"], 1e-4),
        ("gridding", vec!["--ctf"], 5e-3),
    ] {
        let relion = relion_reconstruct(dir, "proj.star", &format!("relion_{name}.mrc"), &extra);
        let ours = cryoflux_reconstruct(&star, &dir.join(format!("ours_{name}.mrc")), &extra);
        let (a, b) = (voxels(&ours), voxels(&relion));
        let peak = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = a
            .iter()
            .zip(&b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        let r = correlation(&a, &b);
        eprintln!(
            "{name}: correlation {r:.8}, largest difference {:.2e} of the peak",
            diff / peak
        );
        assert!(
            r > 0.99999 && f64::from(diff / peak) <= tolerance,
            "{name}: correlation {r}, largest difference {diff} (peak {peak})"
        );
    }
}

#[test]
fn maxres_and_map_pixel_size_follow_relion() {
    if !have_tool("relion_project") || !have_tool("relion_reconstruct") {
        return;
    }
    let data = relion_particles(true);
    let dir = data.path();
    let star = dir.join("proj.star");
    // --maxres 7.7 Å: shells up to ceil(48·1.8/7.7) = 12 (RELION rounds up; rounding to the
    // nearest would stop at 11 and leave shell 12 almost empty).
    // --angpix 2: the images are inserted at the frequencies they sample (a magnified map).
    for (name, extra) in [
        ("maxres", ["--ctf", "--maxres", "7.7"]),
        ("angpix", ["--ctf", "--angpix", "2.0"]),
    ] {
        let relion = relion_reconstruct(dir, "proj.star", &format!("relion_{name}.mrc"), &extra);
        let ours = cryoflux_reconstruct(&star, &dir.join(format!("ours_{name}.mrc")), &extra);
        let (ours_map, _, voxel) = read_mrc(&ours);
        let (relion_map, _, relion_voxel) = read_mrc(&relion);
        assert!(
            (voxel - relion_voxel).abs() < 1e-5,
            "{name}: voxel size {voxel} vs {relion_voxel}"
        );
        let r = correlation(&ours_map, &relion_map);
        eprintln!("{name}: map correlation {r:.5}");
        assert!(
            r >= 0.98,
            "{name}: cryoflux vs relion_reconstruct map correlation {r}"
        );
        let power = |map: Vec<f32>, voxel: f32| {
            let volume = Volume::from_vec(48, f64::from(voxel), map).unwrap();
            power_spectrum(&fft::forward(&volume))
        };
        let ratio = power(ours_map, voxel)[12] / power(relion_map, relion_voxel)[12];
        assert!(
            (0.8..1.25).contains(&ratio),
            "{name}: shell 12 power cryoflux/RELION {ratio}"
        );
    }
}

/// Correlation between `map` (a cubic box of side n) and its rotation by 180° about `axis`
/// (0 = x, 1 = y, 2 = z), over voxels whose rotated partner lies in the box.
fn two_fold_correlation(map: &[f32], n: usize, axis: usize) -> f64 {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for z in 1..n {
        for y in 1..n {
            for x in 1..n {
                let mut p = [n - x, n - y, n - z];
                p[axis] = [x, y, z][axis];
                a.push(map[(z * n + y) * n + x]);
                b.push(map[(p[2] * n + p[1]) * n + p[0]]);
            }
        }
    }
    correlation(&a, &b)
}

#[test]
fn d2_reconstruction_matches_relion_and_has_d2_symmetry() {
    if !have_tool("relion_project") || !have_tool("relion_reconstruct") {
        return;
    }
    let data = relion_particles(true);
    let dir = data.path();
    let truth = dir.join("truth.mrc");
    let extra = ["--ctf", "--sym", "D2"];
    let relion = relion_reconstruct(dir, "proj.star", "relion_d2.mrc", &extra);
    let ours = cryoflux_reconstruct(&dir.join("proj.star"), &dir.join("ours_d2.mrc"), &extra);
    let ours_map = voxels(&ours);
    let r = correlation(&ours_map, &voxels(&relion));
    assert!(
        r >= 0.98,
        "D2: cryoflux vs relion_reconstruct map correlation {r}"
    );
    eprintln!("D2: map correlation {r:.5}");
    assert_same_fsc(
        &cryoflux_fsc(&ours, &truth),
        &cryoflux_fsc(&relion, &truth),
        "D2",
    );
    // RELION's D2: 2-fold axes along z and x (hence y).
    for axis in 0..3 {
        let c = two_fold_correlation(&ours_map, 48, axis);
        eprintln!("D2 map vs its 2-fold rotation about axis {axis}: {c:.4}");
        assert!(
            c > 0.99,
            "D2 map vs its 2-fold rotation about axis {axis}: {c}"
        );
    }
    let c1 = cryoflux_reconstruct(&dir.join("proj.star"), &dir.join("ours_c1.mrc"), &["--ctf"]);
    let c1_map = voxels(&c1);
    let worst = (0..3)
        .map(|axis| two_fold_correlation(&c1_map, 48, axis))
        .fold(f64::INFINITY, f64::min);
    eprintln!("C1 map: worst 2-fold correlation {worst:.4}");
    assert!(
        worst < 0.9,
        "the C1 map should not be D2-symmetric: {worst}"
    );
}

#[test]
fn map_does_not_depend_on_thread_count_or_table_format() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    cryoflux_ok(&[
        "simulate",
        "--o",
        path_str(&sim),
        "--n",
        "150",
        "--snr",
        "0.1",
    ]);
    let star = sim.join("truth.star");
    let parquet = dir.path().join("truth.parquet");
    cryoflux_ok(&["convert", path_str(&star), path_str(&parquet)]);
    let one = cryoflux_reconstruct(&star, &dir.path().join("j1.mrc"), &["--ctf", "--j", "1"]);
    let two = cryoflux_reconstruct(&star, &dir.path().join("j2.mrc"), &["--ctf", "--j", "2"]);
    let pq = cryoflux_reconstruct(&parquet, &dir.path().join("pq.mrc"), &["--ctf", "--j", "3"]);
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    assert!(
        bytes(&one) == bytes(&two),
        "--j 1 and --j 2 give different maps"
    );
    assert!(
        bytes(&one) == bytes(&pq),
        "STAR and Parquet input give different maps"
    );
}

/// Predicted FSC-vs-truth crossing shells for `count` particles whose noise-free images are in
/// `stack` and whose noise has variance 1 per pixel.
///
/// Derivation: with RELION's FFT scaling white noise of variance σ² = 1 has E|N(k)|² = 1/n²
/// per Fourier pixel, so an image's spectral SNR in shell r is S₂(r) = n²·⟨|CTF·P(k)|²⟩_r,
/// averaged over the noise-free images. A central slice crosses shell r (2πr pixels) of the 3D
/// transform (4πr² voxels), so each voxel receives count/(2r) slices on average, and the
/// CTF-weighted reconstruction has S₃(r) = count/(2r)·S₂(r). A map with spectral SNR S
/// correlates with the truth as FSC = √(S/(1+S)). The crossings are the last shells before
/// this prediction drops below 0.5 and 0.143.
fn predicted_crossings(stack: &Path, count: usize) -> (usize, usize) {
    let file = MrcFile::open(stack).unwrap();
    let n = file.dims()[0];
    let mut power = vec![0.0; n / 2 + 1];
    for i in 0..file.image_count() {
        let image = Image::from_vec(n, 1.0, file.read_image(i).unwrap()).unwrap();
        for (p, v) in power.iter_mut().zip(power_spectrum(&fft::forward(&image))) {
            *p += v / file.image_count() as f64;
        }
    }
    let fsc: Vec<f64> = power
        .iter()
        .enumerate()
        .map(|(r, &p)| {
            let s3 = count as f64 / (2.0 * r.max(1) as f64) * (n * n) as f64 * p;
            (s3 / (1.0 + s3)).sqrt()
        })
        .collect();
    let crossing = |t: f64| fsc.iter().skip(1).position(|&v| v < t).unwrap_or(n / 2);
    (crossing(0.5), crossing(0.143))
}

#[test]
fn simulated_particles_reach_the_resolution_their_snr_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let truth = bundled_map_float32(dir.path());
    let (noisy, clean) = (dir.path().join("sim"), dir.path().join("clean"));
    let common = ["--n", "500", "--snr", "0.05", "--seed", "3"];
    for (out, extra) in [(&noisy, None), (&clean, Some("--no_noise"))] {
        let mut args = vec!["simulate", "--o", path_str(out)];
        args.extend_from_slice(&common);
        args.extend(extra);
        cryoflux_ok(&args);
    }
    let (pred_05, pred_0143) = predicted_crossings(&clean.join("particles.mrcs"), 500);
    let star = noisy.join("truth.star");
    let ours = cryoflux_reconstruct(&star, &dir.path().join("ours.mrc"), &["--ctf"]);
    let mut maps = vec![("cryoflux", ours)];
    if have_tool("relion_reconstruct") {
        let relion = dir.path().join("relion.mrc");
        run_tool(
            Path::new("/"),
            "relion_reconstruct",
            &["--i", path_str(&star), "--o", path_str(&relion), "--ctf"],
        );
        maps.push(("relion_reconstruct", relion));
    }
    for (who, map) in maps {
        let fsc = cryoflux_fsc(&map, &truth);
        eprintln!(
            "{who}: FSC vs truth crossings 0.5/0.143 at shells {}/{}, predicted {pred_05}/{pred_0143}",
            fsc.shell_05, fsc.shell_0143
        );
        for (observed, predicted, t) in [
            (fsc.shell_05, pred_05, "0.5"),
            (fsc.shell_0143, pred_0143, "0.143"),
        ] {
            assert!(
                observed + 1 >= predicted && observed <= predicted + 2,
                "{who}: FSC vs truth crosses {t} at shell {observed}, SNR predicts {predicted}"
            );
        }
    }
}

/// Rewrites the particle file `star` into `out` after `edit` changed its tables.
fn edited_star(star: &Path, out: &Path, edit: impl FnOnce(&mut StarFile)) -> PathBuf {
    let mut file = StarFile::read(star).unwrap();
    edit(&mut file);
    file.write(out).unwrap();
    out.to_path_buf()
}

fn table<'a>(file: &'a mut StarFile, block: &str) -> &'a mut cryoflux_formats::star::Table {
    file.block_mut(block).unwrap().table.as_mut().unwrap()
}

fn set_column(file: &mut StarFile, block: &str, label: &str, data: ColumnData) {
    table(file, block).set_column(Column {
        label: label.into(),
        data,
    });
}

#[test]
fn bad_particle_input_is_refused_naming_file_and_field_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    cryoflux_ok(&["simulate", "--o", path_str(&sim), "--n", "6"]);
    let star = sim.join("truth.star");
    let stack = sim.join("particles.mrcs");
    let out = dir.path().join("out.mrc");
    let refused = |star: &Path, extra: &[&str]| -> String {
        let mut args = vec!["reconstruct", "--i", path_str(star), "--o", path_str(&out)];
        args.extend_from_slice(extra);
        let err = cryoflux_fails(&args);
        assert!(!out.exists(), "{args:?} wrote its output despite failing");
        err
    };

    let err = refused(&star, &["--sym", "X7"]);
    assert!(
        err.contains("unknown symmetry") && err.contains("X7"),
        "{err}"
    );

    let no_defocus = edited_star(&star, &dir.path().join("nodef.star"), |f| {
        table(f, "particles").remove_column("rlnDefocusU");
    });
    let err = refused(&no_defocus, &["--ctf"]);
    assert!(
        err.contains("nodef.star") && err.contains("rlnDefocusU"),
        "{err}"
    );

    let big_box = edited_star(&star, &dir.path().join("box.star"), |f| {
        set_column(f, "optics", "rlnImageSize", ColumnData::Int(vec![64]));
    });
    let err = refused(&big_box, &[]);
    assert!(
        err.contains("box.star") && err.contains("rlnImageSize 64") && err.contains("48 × 48"),
        "{err}"
    );

    let pixel = edited_star(&star, &dir.path().join("pixel.star"), |f| {
        set_column(
            f,
            "optics",
            "rlnImagePixelSize",
            ColumnData::Float(vec![2.0]),
        );
    });
    let err = refused(&pixel, &[]);
    assert!(
        err.contains("rlnImagePixelSize 2")
            && err.contains("particles.mrcs")
            && err.contains("1.8"),
        "{err}"
    );
    cryoflux_ok(&[
        "reconstruct",
        "--i",
        path_str(&pixel),
        "--o",
        path_str(&out),
        "--trust_star_angpix",
    ]);
    std::fs::remove_file(&out).unwrap();

    let rename = |to: &str, file: &str| {
        let to = to.to_owned();
        edited_star(&star, &dir.path().join(file), move |f| {
            let names = table(f, "particles")
                .texts("rlnImageName")
                .unwrap()
                .to_vec();
            let renamed = names
                .iter()
                .enumerate()
                .map(|(i, n)| if i == 2 { to.clone() } else { n.clone() })
                .collect();
            set_column(f, "particles", "rlnImageName", ColumnData::Text(renamed));
        })
    };
    let err = refused(&rename("000001@nowhere.mrcs", "missing.star"), &[]);
    assert!(
        err.contains("missing.star") && err.contains("row 3") && err.contains("nowhere.mrcs"),
        "{err}"
    );
    let beyond = format!("000007@{}", stack.display());
    let err = refused(&rename(&beyond, "beyond.star"), &[]);
    assert!(
        err.contains("row 3") && err.contains("image 7") && err.contains("holds 6 image(s)"),
        "{err}"
    );

    // A NaN in image 4 at pixel (5, 0): float32 mode 2 data start after the 1024-byte header.
    let mut bytes = std::fs::read(&stack).unwrap();
    let at = 1024 + (3 * 48 * 48 + 5) * 4;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&stack, bytes).unwrap();
    let err = refused(&star, &[]);
    assert!(
        err.contains("particles.mrcs") && err.contains("image 4") && err.contains("x = 5, y = 0"),
        "{err}"
    );
}
