//! Shared helpers of the end-to-end tests: the `cryoflux` binary, and the external tools
//! (RELION 3.1.3, Python readers) used as interoperability oracles.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `cryoflux` binary built by Cargo for this test run.
pub fn cryoflux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryoflux"))
}

/// Run `cryoflux` with `args`, returning its output (whatever the exit status).
pub fn run_cryoflux(args: &[&str]) -> Output {
    cryoflux()
        .args(args)
        .output()
        .expect("the cryoflux binary runs")
}

/// Run `cryoflux` with `args` and panic with its stderr unless it succeeds; returns stdout.
pub fn cryoflux_ok(args: &[&str]) -> String {
    let output = run_cryoflux(args);
    assert!(
        output.status.success(),
        "cryoflux {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Whether interoperability tools are mandatory (CI sets `CRYOFLUX_REQUIRE_INTEROP=1`).
pub fn interop_required() -> bool {
    std::env::var("CRYOFLUX_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// True if `program` is on the PATH. When it is not and interop is required, panic; otherwise
/// print why the calling test is skipped.
pub fn have_tool(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !interop_required(),
            "{program} is required (CRYOFLUX_REQUIRE_INTEROP=1) but missing"
        );
        eprintln!("skipped: {program} is not installed");
    }
    found
}

/// True if Python 3 can import every module in `modules` (same skip/panic rule as
/// [`have_tool`]).
pub fn have_python(modules: &[&str]) -> bool {
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let found = Command::new("python3")
        .args(["-c", &script])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !interop_required(),
            "python3 with {modules:?} is required but missing"
        );
        eprintln!("skipped: python3 cannot import {modules:?}");
    }
    found
}

/// Run a Python snippet and return its stdout, panicking with stderr on failure.
pub fn python(script: &str) -> String {
    let output = Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Run an external program in `dir`, panicking with its output on failure; returns stdout.
pub fn run_tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tool runs");
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Path of a file in the repository, from the workspace root.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

// ---- Small refinements (refine, refine_*, report) ----

/// The `cryoflux refine` command line of the small test refinements: `particles` (a STAR
/// file) against `reference` (an MRC map, low-passed to 30 Å) into the output root `out`, for
/// a 60 Å particle, CTF-corrected, cross-correlation in the first iteration, HEALPix order 1
/// (30°), translations within ±4 pixels in steps of 2 pixels; then `extra` (e.g. `--iter`,
/// `--j`), so a later flag may add to or override these.
pub fn small_refine_args(
    particles: impl AsRef<Path>,
    reference: impl AsRef<Path>,
    out: impl AsRef<Path>,
    extra: &[&str],
) -> Vec<String> {
    let path = |p: &Path| p.to_str().expect("test paths are UTF-8").to_string();
    let mut args = vec![
        "refine".to_string(),
        "--i".into(),
        path(particles.as_ref()),
        "--ref".into(),
        path(reference.as_ref()),
        "--o".into(),
        path(out.as_ref()),
    ];
    let common = [
        "--ini_high",
        "30",
        "--particle_diameter",
        "60",
        "--ctf",
        "--firstiter_cc",
        "--healpix_order",
        "1",
        "--offset_range",
        "4",
        "--offset_step",
        "2",
    ];
    args.extend(common.iter().chain(extra).map(|s| s.to_string()));
    args
}

/// `args` as string slices, for [`cryoflux_ok`], [`cryoflux_fails`] and [`run_cryoflux`].
pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

// ---- Maps side by side (reconstruct_relion, image_mask) ----

/// Pearson correlation of two equally long arrays (invariant to scale and offset).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "correlation of arrays of different lengths"
    );
    let n = a.len() as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt()
}

/// An MRC file's voxels (x fastest), its size [nx, ny, nz] and its voxel size in Å.
pub fn read_mrc(path: &Path) -> (Vec<f32>, [usize; 3], f32) {
    let file = cryoflux_formats::mrc::MrcFile::open(path).unwrap();
    (file.read_all().unwrap(), file.dims(), file.voxel_size()[0])
}

/// The bundled 1HPV map (box 48, 1.8 Å) written as float32 `truth.mrc` in `dir` (RELION 3.1
/// cannot read the bundled float16 file).
pub fn bundled_map_float32(dir: &Path) -> PathBuf {
    let map = cryoflux_simulate::assets::default_map().unwrap();
    let path = dir.join("truth.mrc");
    cryoflux_formats::mrc::write_volume(
        &path,
        map.data(),
        [map.n(); 3],
        map.pixel_size() as f32,
        cryoflux_formats::mrc::WriteMode::Float32,
    )
    .unwrap();
    path
}

/// Run `cryoflux` with `args` expecting failure; returns its stderr.
pub fn cryoflux_fails(args: &[&str]) -> String {
    let output = run_cryoflux(args);
    assert!(!output.status.success(), "cryoflux {args:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An FSC curve as `cryoflux image --fsc` prints it.
#[derive(Debug, Clone)]
pub struct FscCurve {
    /// FSC per shell 0 … N/2.
    pub values: Vec<f64>,
    /// Last shell before the curve first drops below 0.5.
    pub shell_05: usize,
    /// Last shell before the curve first drops below 0.143.
    pub shell_0143: usize,
}

/// The FSC between two maps, from `cryoflux image --i a --fsc b`.
pub fn cryoflux_fsc(a: &Path, b: &Path) -> FscCurve {
    let text = cryoflux_ok(&[
        "image",
        "--i",
        a.to_str().unwrap(),
        "--fsc",
        b.to_str().unwrap(),
    ]);
    let values = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    let shell_at = |threshold: &str| -> usize {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("FSC = {threshold}:")))
            .unwrap();
        let shell = line.rsplit("(shell ").next().unwrap();
        shell.trim_end_matches(')').parse().unwrap()
    };
    FscCurve {
        values,
        shell_05: shell_at("0.5"),
        shell_0143: shell_at("0.143"),
    }
}

// ---- Post-processing (postprocess_relion) ----

/// A deterministic SplitMix64 stream for test data: uniform and Gaussian deviates.
pub struct TestRng(cryoflux_kernels::random::SplitMix64);

impl TestRng {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Self {
        TestRng(cryoflux_kernels::random::SplitMix64::new(seed))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0.next_unit()
    }

    /// Standard normal (Box–Muller, cosine branch only: the synthetic maps were tuned with
    /// these exact values).
    pub fn gaussian(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// Write a volume as a float32 MRC map.
pub fn write_test_map(path: &Path, map: &cryoflux_kernels::grid::Volume) {
    let n = map.n();
    cryoflux_formats::mrc::write_volume(
        path,
        map.data(),
        [n, n, n],
        map.pixel_size() as f32,
        cryoflux_formats::mrc::WriteMode::Float32,
    )
    .unwrap();
}

/// File names of a synthetic post-processing job in a directory.
pub struct HalfMapFiles {
    /// `run_half1_class001_unfil.mrc` (half 2 is found from it, as RELION does).
    pub half1: PathBuf,
    /// `run_half2_class001_unfil.mrc`.
    pub half2: PathBuf,
    /// The noise-free map both halves share, `truth.mrc`.
    pub truth: PathBuf,
    /// A soft sphere around the particle, `mask.mrc`.
    pub mask: PathBuf,
}

/// Two half maps whose FSC falls off steeply at a definite resolution, written into `dir`.
///
/// Box 64 at 1.5 Å. Truth: 400 point atoms within 18 px of the centre, blurred by B = 150 Å².
/// Each half adds independent Gaussian noise coloured by the same B and by 1/√SNR(|k|), where
/// SNR falls log-linearly from 1 at |k| = 18 to 0.004 at |k| = 20 (≈ 5.3–4.8 Å), so the masked
/// FSC crosses 0.143 near shell 20 and stays just positive beyond. Mask: soft sphere of radius
/// 21 px with a 5 px cosine edge.
pub fn synthetic_half_maps(dir: &Path) -> HalfMapFiles {
    use cryoflux_kernels::fourier::fft::{forward, inverse};
    use cryoflux_kernels::fourier::filter::apply_radial;
    use cryoflux_kernels::grid::Volume;
    use cryoflux_kernels::mask::soft_sphere;

    let (n, p, bfactor, noise_sigma) = (64usize, 1.5, 150.0, 0.015);
    let envelope = |k: f64| (-bfactor * (k / (n as f64 * p)).powi(2) / 4.0).exp();
    let snr = |k: f64| (0.004f64.ln() * ((k - 18.0) / 2.0).clamp(0.0, 1.0)).exp();
    let mut rng = TestRng::new(3);

    let mut atoms = Volume::zeros(n, p).unwrap();
    let mut placed = 0;
    while placed < 400 {
        let r: Vec<i64> = (0..3).map(|_| (rng.uniform() * 37.0) as i64 - 18).collect();
        if r.iter().map(|c| c * c).sum::<i64>() <= 18 * 18 {
            let [x, y, z] = [0, 1, 2].map(|i| (r[i] + n as i64 / 2) as usize);
            atoms.data_mut()[(z * n + y) * n + x] += 1.0;
            placed += 1;
        }
    }
    let mut f = forward(&atoms);
    apply_radial(&mut f, envelope);
    let truth = inverse(&f);

    let files = HalfMapFiles {
        half1: dir.join("run_half1_class001_unfil.mrc"),
        half2: dir.join("run_half2_class001_unfil.mrc"),
        truth: dir.join("truth.mrc"),
        mask: dir.join("mask.mrc"),
    };
    for path in [&files.half1, &files.half2] {
        let white: Vec<f32> = (0..n * n * n).map(|_| rng.gaussian() as f32).collect();
        let mut noise = forward(&Volume::from_vec(n, p, white).unwrap());
        apply_radial(&mut noise, |k| noise_sigma * envelope(k) / snr(k).sqrt());
        let noise = inverse(&noise);
        let data = truth
            .data()
            .iter()
            .zip(noise.data())
            .map(|(t, e)| t + e)
            .collect();
        write_test_map(path, &Volume::from_vec(n, p, data).unwrap());
    }
    write_test_map(&files.truth, &truth);
    write_test_map(&files.mask, &soft_sphere(n, p, 21.0, 5.0).unwrap());
    files
}

/// The key–value items of block `data_general` and the loop tables of `data_fsc` and
/// `data_guinier` of a postprocess STAR file.
pub struct PostprocessStar {
    /// `data_general`.
    pub general: cryoflux_formats::star::DataBlock,
    /// `data_fsc`'s table.
    pub fsc: cryoflux_formats::star::Table,
    /// `data_guinier`'s table.
    pub guinier: cryoflux_formats::star::Table,
}

impl PostprocessStar {
    /// Read `path` (panics with the reason if a block is missing).
    pub fn read(path: &Path) -> Self {
        let star = cryoflux_formats::star::StarFile::read(path).unwrap();
        let table = |name: &str| {
            star.block(name)
                .and_then(|b| b.table.clone())
                .unwrap_or_else(|| panic!("{}: no data_{name} table", path.display()))
        };
        PostprocessStar {
            general: star.block("general").expect("data_general").clone(),
            fsc: table("fsc"),
            guinier: table("guinier"),
        }
    }

    /// A real-valued item of `data_general`.
    pub fn number(&self, label: &str) -> f64 {
        match self.general.pair(label) {
            Some(cryoflux_formats::star::Value::Float(v)) => *v,
            Some(cryoflux_formats::star::Value::Int(v)) => *v as f64,
            other => panic!("{label}: {other:?}"),
        }
    }
}

/// Simulates two 512² px × 16-frame movies into `dir/sim` (`cryoflux simulate --movies`, plus
/// `extra` flags) and motion-corrects them with `cryoflux motioncorr` (gain, dose weighting)
/// into `sim/MotionCorr/job002/` (RELION's layout: `corrected_micrographs.star`,
/// `movies/movieNNN.mrc`); returns the simulation directory.
pub fn simulated_micrographs(dir: &Path, extra: &[&str]) -> PathBuf {
    let sim = dir.join("sim");
    let sim_arg = sim.to_str().expect("a UTF-8 temporary path");
    let mut args = vec![
        "simulate",
        "--movies",
        "2",
        "--movie_size",
        "512",
        "--frames",
        "16",
        "--o",
        sim_arg,
    ];
    args.extend_from_slice(extra);
    cryoflux_ok(&args);
    let output = cryoflux()
        .current_dir(&sim)
        .args([
            "motioncorr",
            "--i",
            "movies.star",
            "--o",
            "MotionCorr/job002/",
            "--gainref",
            "gain.mrc",
            "--dose_weighting",
            "--dose_per_frame",
            "1",
            "--j",
            "2",
        ])
        .output()
        .expect("the cryoflux binary runs");
    assert!(
        output.status.success(),
        "cryoflux motioncorr failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    sim
}
