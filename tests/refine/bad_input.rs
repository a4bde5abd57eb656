//! End to end: `cryoflux refine` refuses bad input before any iteration — exit code 1, a message
//! naming the file or flag and what was expected, and no output written — and accepts a solvent
//! mask with the solvent-corrected FSC, and a reference at another pixel size with
//! `--rescale_ref`. Particles are simulated from the bundled map (box 48, 1.8 Å).

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use cryoflux_formats::star::{Column, ColumnData, ParticleStar};
use cryoflux_kernels::grid::Volume;
use cryoflux_simulate::assets::default_map;
use cryoflux_simulate::{SimulationConfig, simulate};

/// A simulated job in a temporary folder: the particles, the reference they came from, and
/// the output root `out/run` (so that `out/` must stay empty or absent after a refusal).
struct Job {
    dir: tempfile::TempDir,
    particles: PathBuf,
    reference: PathBuf,
}

impl Job {
    /// `count` particles at SNR 0.5 with CTFs, and the bundled map as float32 reference.
    fn new(count: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let truth = default_map().unwrap();
        let config = SimulationConfig::typical(count, 3, 0.5);
        let summary = simulate(&truth, &config, &dir.path().join("sim")).unwrap();
        let reference = bundled_map_float32(dir.path());
        Job {
            particles: summary.particles_star,
            reference,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn out_dir(&self) -> PathBuf {
        self.path("out")
    }

    /// The refine command line of a short, small refinement, with `extra` flags.
    fn args(&self, particles: &Path, reference: &Path, extra: &[&str]) -> Vec<String> {
        let extra = [&["--iter", "1", "--j", "2"][..], extra].concat();
        small_refine_args(particles, reference, self.out_dir().join("run"), &extra)
    }

    /// Runs `args`, asserts exit code 1 and that nothing was written; returns stderr.
    fn refused(&self, args: &[String]) -> String {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_cryoflux(&args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(1),
            "cryoflux {args:?}:\n{stderr}"
        );
        let out = self.out_dir();
        let written: Vec<_> = std::fs::read_dir(&out)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "refused, yet wrote {written:?}");
        stderr
    }

    /// Runs `args` and asserts success and a final map; returns stderr.
    fn succeeds(&self, args: &[String]) -> String {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_cryoflux(&args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "cryoflux {args:?} failed:\n{stderr}"
        );
        let map = self.out_dir().join("run_class001.mrc");
        assert!(map.exists(), "no {}:\n{stderr}", map.display());
        stderr
    }

    /// The particle STAR with `edit` applied, written as `name`.
    fn edited_star(&self, name: &str, edit: impl FnOnce(&mut ParticleStar)) -> PathBuf {
        let mut star = ParticleStar::read(&self.particles).unwrap();
        edit(&mut star);
        let path = self.path(&format!("sim/{name}"));
        star.into_star().write(&path).unwrap();
        path
    }

    /// The reference through `cryoflux image` with `flags`, written as `name`.
    fn image(&self, name: &str, flags: &[&str]) -> PathBuf {
        let path = self.path(name);
        let mut args = vec![
            "image",
            "--i",
            self.reference.to_str().unwrap(),
            "--o",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(flags);
        cryoflux_ok(&args);
        path
    }

    /// A map of box `n` at `pixel` Å with every voxel `value`, written as `name`.
    fn constant_map(&self, name: &str, n: usize, pixel: f64, value: f32) -> PathBuf {
        let path = self.path(name);
        write_test_map(
            &path,
            &Volume::from_vec(n, pixel, vec![value; n * n * n]).unwrap(),
        );
        path
    }
}

/// Overwrites the float32 at byte `at` of the MRC file `path` with a NaN (our writers refuse
/// to write one).
fn poison_value(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from:\n{message}");
    }
}

#[test]
fn bad_inputs_are_refused_before_any_iteration() {
    let job = Job::new(20);
    let (p, r) = (job.particles.as_path(), job.reference.as_path());

    // --ctf without CTF columns.
    let no_ctf = job.edited_star("no_ctf.star", |s| {
        s.particles.remove_column("rlnDefocusU");
    });
    let err = job.refused(&job.args(&no_ctf, r, &[]));
    assert_mentions(&err, &["no_ctf.star", "rlnDefocusU"]);

    // Images of box 48, a reference of box 40 at the same pixel size.
    let small = job.image("ref_box40.mrc", &["--new_box", "40"]);
    let err = job.refused(&job.args(p, &small, &[]));
    assert_mentions(
        &err,
        &[
            "ref_box40.mrc",
            "box 40",
            "expected the particles' box 48 px",
            "--rescale_ref",
        ],
    );

    // A reference at 1.2 Å/px (box 72) without --rescale_ref.
    let fine = job.image("ref_1.2.mrc", &["--rescale_angpix", "1.2"]);
    let err = job.refused(&job.args(p, &fine, &[]));
    assert_mentions(
        &err,
        &["ref_1.2.mrc", "1.2000 Å/px", "1.8000 Å/px", "--rescale_ref"],
    );

    // A reference with a NaN.
    let nan_ref = job.constant_map("ref_nan.mrc", 48, 1.8, 0.0);
    poison_value(&nan_ref, 1024 + 4 * 100);
    let err = job.refused(&job.args(p, &nan_ref, &[]));
    assert_mentions(
        &err,
        &["ref_nan.mrc", "1 non-finite voxels", "expected finite"],
    );

    // An empty half set.
    let one_half = job.edited_star("one_half.star", |s| {
        s.particles.set_column(Column {
            label: "rlnRandomSubset".into(),
            data: ColumnData::Int(vec![1; 20]),
        })
    });
    let err = job.refused(&job.args(&one_half, r, &[]));
    assert_mentions(
        &err,
        &[
            "one_half.star",
            "half set 2 is empty",
            "at least one particle",
        ],
    );

    // A solvent mask of the wrong box, with values outside [0, 1], with a NaN.
    let mask = job.constant_map("mask_box32.mrc", 32, 1.8, 1.0);
    let err = job.refused(&job.args(p, r, &["--solvent_mask", mask.to_str().unwrap()]));
    assert_mentions(
        &err,
        &["mask_box32.mrc", "box 32", "expected the particles' box 48"],
    );
    let mask = job.constant_map("mask_1.5.mrc", 48, 1.8, 1.5);
    let err = job.refused(&job.args(p, r, &["--solvent_mask", mask.to_str().unwrap()]));
    assert_mentions(
        &err,
        &[
            "mask_1.5.mrc",
            "110592 voxels outside [0, 1]",
            "maximum 1.5",
        ],
    );
    let mask = job.constant_map("mask_nan.mrc", 48, 1.8, 0.5);
    poison_value(&mask, 1024 + 4 * 48 * 48 * 24);
    let err = job.refused(&job.args(p, r, &["--solvent_mask", mask.to_str().unwrap()]));
    assert_mentions(
        &err,
        &["mask_nan.mrc", "non-finite", "expected values in [0, 1]"],
    );

    // --solvent_correct_fsc without a mask.
    let err = job.refused(&job.args(p, r, &["--solvent_correct_fsc"]));
    assert_mentions(&err, &["--solvent_correct_fsc", "expected --solvent_mask"]);

    // --gpu: this build has no GPU scorer, so it stops at start-up instead of running on the
    // CPU, saying whether the machine shows a CUDA device; a device list not in RELION's
    // syntax is refused naming it.
    let err = job.refused(&job.args(p, r, &["--gpu", "0:1"]));
    assert_mentions(
        &err,
        &[
            "error: --gpu 0:1: ",
            "this build's GPU scorer is not available",
            "; run without --gpu",
        ],
    );
    let no_gpu = ["/proc/driver/nvidia/gpus", "/dev/nvidia0"]
        .iter()
        .all(|p| !Path::new(p).exists());
    if no_gpu {
        let err = job.refused(&job.args(p, r, &["--gpu"]));
        assert_mentions(
            &err,
            &[
                "error: --gpu: no CUDA device found (/proc/driver/nvidia/gpus, \
                 /dev/nvidia[0-9]*: none); this build's GPU scorer is not available either; \
                 run without --gpu",
            ],
        );
    }
    let err = job.refused(&job.args(p, r, &["--gpu", "0:x"]));
    assert_mentions(&err, &["--gpu 0:x: device list \"0:x\"", "not a device number"]);

    // A global search at HEALPix order 9 (10¹⁰ orientations, terabytes): refused at once.
    let err = job.refused(&job.args(p, r, &["--healpix_order", "9"]));
    assert_mentions(
        &err,
        &[
            "--healpix_order 9",
            "9.664e9 orientations",
            "GB of memory",
            "fit",
        ],
    );

    // A NaN pixel in the middle of the first image (last: it spoils the particles).
    poison_value(&job.path("sim/particles.mrcs"), 1024 + 4 * (48 * 24 + 24));
    let err = job.refused(&job.args(p, r, &[]));
    assert_mentions(&err, &["particles.mrcs", "row 1", "NaN", "expected finite"]);
}

#[test]
fn a_solvent_mask_with_the_corrected_fsc_refines() {
    let job = Job::new(60);
    let truth = default_map().unwrap();
    let peak = truth.data().iter().copied().fold(f32::MIN, f32::max);
    let mask = job.path("mask.mrc");
    cryoflux_ok(&[
        "mask",
        "--i",
        job.reference.to_str().unwrap(),
        "--o",
        mask.to_str().unwrap(),
        "--lowpass",
        "15",
        "--ini_threshold",
        &(0.1 * peak).to_string(),
        "--extend_inimask",
        "2",
        "--width_soft_edge",
        "4",
    ]);
    let args = job.args(
        &job.particles,
        &job.reference,
        &[
            "--solvent_mask",
            mask.to_str().unwrap(),
            "--solvent_correct_fsc",
        ],
    );
    job.succeeds(&args);
    // The iteration-1 half maps were flattened by the mask: zero wherever the mask is.
    let (mask_values, _, _) = read_mrc(&mask);
    let (half, _, _) = read_mrc(&job.out_dir().join("run_it001_half1_class001.mrc"));
    let outside: Vec<f32> = half
        .iter()
        .zip(&mask_values)
        .filter(|&(_, &m)| m == 0.0)
        .map(|(v, _)| *v)
        .collect();
    assert!(!outside.is_empty() && outside.iter().all(|&v| v == 0.0));
    assert!(half.iter().any(|&v| v != 0.0));
}

#[test]
fn a_reference_at_another_pixel_size_is_resampled_with_rescale_ref() {
    let job = Job::new(60);
    let fine = job.image("ref_1.2.mrc", &["--rescale_angpix", "1.2"]);
    let log = job.succeeds(&job.args(&job.particles, &fine, &["--rescale_ref"]));
    assert_mentions(
        &log,
        &["ref_1.2.mrc: 1.2000 Å/px, box 72 → resampled to 1.8000 Å/px, box 48"],
    );
    let (_, dims, pixel) = read_mrc(&job.out_dir().join("run_it000_half1_class001.mrc"));
    assert_eq!(dims, [48; 3]);
    assert!((pixel - 1.8).abs() < 1e-4, "{pixel} Å/px");
}
