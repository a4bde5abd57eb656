//! End to end: `cryoflux image` and `cryoflux mask` against RELION 3.1.3's
//! `relion_image_handler` and `relion_mask_create` on the bundled 1HPV map (box 48, 1.8 Å):
//! rescaling, re-boxing, filters, B-factor (with RELION's zeroing beyond Nyquist), statistics,
//! FSC, per-image processing of stacks, threshold and sphere masks; and clear errors.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cryoflux_formats::mrc::{MrcStackWriter, WriteMode, write_volume};

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Asserts two MRC files hold the same grid: same shape and voxel size, correlation ≥ 0.99 and
/// largest difference ≤ `tolerance` × the largest |value| of `relion`.
fn assert_same_map(ours: &Path, relion: &Path, tolerance: f64, what: &str) {
    let (a, dims_a, voxel_a) = read_mrc(ours);
    let (b, dims_b, voxel_b) = read_mrc(relion);
    assert_eq!(dims_a[..2], dims_b[..2], "{what}: sizes");
    assert_eq!(a.len(), b.len(), "{what}: voxel counts");
    assert!(
        (voxel_a - voxel_b).abs() < 1e-4,
        "{what}: voxel size {voxel_a} vs {voxel_b}"
    );
    let r = correlation(&a, &b);
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
    let diff = a
        .iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max(f64::from((x - y).abs())));
    assert!(
        r >= 0.99 && diff <= tolerance * scale,
        "{what}: correlation {r}, largest difference {diff} (max |value| {scale})"
    );
}

#[test]
fn image_operations_match_relion_image_handler() {
    if !have_tool("relion_image_handler") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let truth = bundled_map_float32(dir.path());
    let cases: [(&str, &[&str]); 7] = [
        ("rescale", &["--rescale_angpix", "2.4"]),
        ("lowpass", &["--lowpass", "8"]),
        (
            "highpass",
            &["--highpass", "20", "--filter_edge_width", "4"],
        ),
        ("bfactor", &["--bfactor", "-50"]),
        ("pad", &["--new_box", "64"]),
        ("crop", &["--new_box", "32"]),
        (
            "combined",
            &[
                "--rescale_angpix",
                "2.4",
                "--new_box",
                "40",
                "--lowpass",
                "8",
            ],
        ),
    ];
    for (name, args) in cases {
        let ours = dir.path().join(format!("ours_{name}.mrc"));
        let relion = format!("relion_{name}.mrc");
        let mut ours_args = vec!["image", "--i", path_str(&truth), "--o", path_str(&ours)];
        ours_args.extend_from_slice(args);
        cryoflux_ok(&ours_args);
        let mut relion_args = vec!["--i", "truth.mrc", "--o", &relion];
        relion_args.extend_from_slice(args);
        run_tool(dir.path(), "relion_image_handler", &relion_args);
        assert_same_map(&ours, &dir.path().join(&relion), 1e-4, name);
    }
}

#[test]
fn stacks_are_processed_image_by_image_like_relion() {
    if !have_tool("relion_image_handler") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    cryoflux_ok(&["simulate", "--o", path_str(&sim), "--n", "5", "--snr", "1"]);
    let stack = sim.join("particles.mrcs");
    let ours = dir.path().join("ours.mrcs");
    let args = ["--rescale_angpix", "2.4", "--lowpass", "10"];
    let mut ours_args = vec!["image", "--i", path_str(&stack), "--o", path_str(&ours)];
    ours_args.extend_from_slice(&args);
    cryoflux_ok(&ours_args);
    let relion = dir.path().join("relion.mrcs");
    let mut relion_args = vec!["--i", path_str(&stack), "--o", path_str(&relion)];
    relion_args.extend_from_slice(&args);
    run_tool(dir.path(), "relion_image_handler", &relion_args);
    let (_, dims, _) = read_mrc(&ours);
    assert_eq!(dims, [36, 36, 5]);
    assert_same_map(&ours, &relion, 1e-4, "stack");
}

/// The number after `key=` (or `key =`) in a relion_image_handler `--stats` line.
fn stat(line: &str, key: &str) -> f64 {
    let rest = line
        .split(key)
        .nth(1)
        .unwrap()
        .trim_start_matches([' ', '=']);
    let end = rest.find([' ', ';', '\n']).unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

#[test]
fn stats_and_fsc_match_relion_image_handler() {
    if !have_tool("relion_image_handler") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let truth = bundled_map_float32(dir.path());
    let ours = cryoflux_ok(&["image", "--i", path_str(&truth), "--stats"]);
    let relion = run_tool(
        dir.path(),
        "relion_image_handler",
        &["--i", "truth.mrc", "--stats"],
    );
    let relion = relion.lines().find(|l| l.contains("avg=")).unwrap();
    for key in ["avg", "stddev", "minval", "maxval", "angpix"] {
        let (a, b) = (stat(&ours, key), stat(relion, key));
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1e-3),
            "{key}: {a} vs {b}"
        );
    }

    let blurred = dir.path().join("blurred.mrc");
    cryoflux_ok(&[
        "image",
        "--i",
        path_str(&truth),
        "--o",
        path_str(&blurred),
        "--bfactor",
        "100",
    ]);
    let ours = cryoflux_fsc(&truth, &blurred);
    let relion = run_tool(
        dir.path(),
        "relion_image_handler",
        &["--i", "truth.mrc", "--fsc", "blurred.mrc"],
    );
    let relion: Vec<f64> = relion
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells.len() == 4).then(|| cells[3].parse().ok()).flatten()
        })
        .collect();
    assert_eq!(ours.values.len(), relion.len());
    for (shell, (a, b)) in ours.values.iter().zip(&relion).enumerate() {
        assert!((a - b).abs() < 1e-4, "FSC shell {shell}: {a} vs {b}");
    }
    assert!(
        ours.values[20] < ours.values[5],
        "a B-factor lowers the FSC at high resolution"
    );
}

#[test]
fn masks_match_relion_mask_create() {
    if !have_tool("relion_mask_create") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let truth = bundled_map_float32(dir.path());
    let cases: [&[&str]; 3] = [
        &[
            "--ini_threshold",
            "0.1",
            "--extend_inimask",
            "2",
            "--width_soft_edge",
            "4",
        ],
        &[
            "--ini_threshold",
            "0.05",
            "--width_soft_edge",
            "6",
            "--lowpass",
            "10",
        ],
        &[
            "--ini_threshold",
            "0.2",
            "--extend_inimask",
            "-1",
            "--width_soft_edge",
            "3",
        ],
    ];
    let mut runs: Vec<(Vec<&str>, Vec<&str>)> = cases
        .iter()
        .map(|args| {
            let mut ours = vec!["mask", "--i", path_str(&truth)];
            ours.extend_from_slice(args);
            let mut relion = vec!["--i", "truth.mrc", "--angpix", "1.8"];
            relion.extend_from_slice(args);
            (ours, relion)
        })
        .collect();
    runs.push((
        vec![
            "mask",
            "--sphere_radius",
            "8",
            "--width_soft_edge",
            "4",
            "--box",
            "32",
            "--angpix",
            "1.5",
        ],
        vec![
            "--denovo",
            "--box_size",
            "32",
            "--outer_radius",
            "8",
            "--width_soft_edge",
            "4",
            "--angpix",
            "1.5",
        ],
    ));
    for (k, (mut ours_args, mut relion_args)) in runs.into_iter().enumerate() {
        let ours = dir.path().join(format!("ours{k}.mrc"));
        let relion = format!("relion{k}.mrc");
        ours_args.extend(["--o", path_str(&ours)]);
        cryoflux_ok(&ours_args);
        relion_args.extend(["--o", relion.as_str()]);
        run_tool(dir.path(), "relion_mask_create", &relion_args);
        let (a, dims_a, voxel_a) = read_mrc(&ours);
        let (b, dims_b, voxel_b) = read_mrc(&dir.path().join(&relion));
        assert_eq!((dims_a, voxel_a), (dims_b, voxel_b), "mask {k}: geometry");
        assert!(
            a.iter().all(|v| (0.0..=1.0).contains(v)),
            "mask {k}: values outside [0, 1]"
        );
        let agree = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| (*x - *y).abs() < 1e-3)
            .count();
        let worst = a
            .iter()
            .zip(&b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            agree as f64 >= 0.99 * a.len() as f64 && worst <= 0.01,
            "mask {k}: {agree} of {} voxels agree, largest difference {worst}",
            a.len()
        );
        assert!(a.contains(&1.0) && a.iter().any(|&v| v > 0.0 && v < 1.0));
    }
}

/// A 48 × 48 × 40 map: not cubic.
fn non_cubic_map(dir: &Path) -> PathBuf {
    let path = dir.join("slab.mrc");
    write_volume(
        &path,
        &vec![0.5; 48 * 48 * 40],
        [48, 48, 40],
        1.8,
        WriteMode::Float32,
    )
    .unwrap();
    path
}

#[test]
fn bad_input_is_refused_with_the_file_named_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mrc");
    let slab = non_cubic_map(dir.path());
    let refused = |args: &[&str]| -> String {
        let err = cryoflux_fails(args);
        assert!(!out.exists(), "{args:?} wrote its output despite failing");
        err
    };
    let err = refused(&["mask", "--i", path_str(&slab), "--o", path_str(&out)]);
    assert!(
        err.contains("slab.mrc") && err.contains("48 × 48 × 40") && err.contains("cubic"),
        "{err}"
    );
    let err = refused(&[
        "image",
        "--i",
        path_str(&slab),
        "--o",
        path_str(&out),
        "--lowpass",
        "8",
    ]);
    assert!(err.contains("slab.mrc") && err.contains("cubic"), "{err}");

    let stack = dir.path().join("images.mrcs");
    let mut writer = MrcStackWriter::create(&stack, 16, 16, 1.8, WriteMode::Float32).unwrap();
    writer.push(&[1.0; 256]).unwrap();
    writer.finish().unwrap();
    let err = refused(&["mask", "--i", path_str(&stack), "--o", path_str(&out)]);
    assert!(
        err.contains("images.mrcs") && err.contains("stack of 1 16 × 16 images"),
        "{err}"
    );

    let truth = bundled_map_float32(dir.path());
    let err = refused(&["image", "--i", path_str(&truth), "--lowpass", "8"]);
    assert!(err.contains("--o"), "{err}");
    let err = refused(&["image", "--i", path_str(&truth), "--fsc", path_str(&stack)]);
    assert!(
        err.contains("--fsc") && err.contains("images.mrcs"),
        "{err}"
    );
    let err = refused(&["mask", "--o", path_str(&out)]);
    assert!(
        err.contains("--i") && err.contains("--sphere_radius"),
        "{err}"
    );
    let err = refused(&[
        "image",
        "--i",
        path_str(&truth),
        "--o",
        path_str(&out),
        "--new_box",
        "33",
    ]);
    assert!(err.contains("33"), "{err}");
}

#[test]
fn sizes_thresholds_and_thread_counts_are_checked_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mrc");
    let truth = bundled_map_float32(dir.path());
    let refused = |args: &[&str]| -> String {
        let output = run_cryoflux(args);
        // A clear refusal (exit 1 or clap's 2), not an abort in the allocator.
        assert!(
            matches!(output.status.code(), Some(1 | 2)),
            "{args:?}: {:?}",
            output.status
        );
        assert!(!out.exists(), "{args:?} wrote its output despite failing");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // 8192³ float32 is 2.2 TB: refused with the size needed and the size available.
    let err = refused(&[
        "image",
        "--i",
        path_str(&truth),
        "--o",
        path_str(&out),
        "--new_box",
        "8192",
    ]);
    assert!(
        err.contains("8192³") && err.contains("GB of memory") && err.contains("available"),
        "{err}"
    );
    let err = refused(&[
        "mask",
        "--sphere_radius",
        "10",
        "--box",
        "8192",
        "--o",
        path_str(&out),
    ]);
    assert!(err.contains("8192³") && err.contains("--box"), "{err}");
    // A threshold above the map's maximum would give an all-zero mask.
    let err = refused(&[
        "mask",
        "--i",
        path_str(&truth),
        "--o",
        path_str(&out),
        "--ini_threshold",
        "1000",
    ]);
    assert!(
        err.contains("all-zero") && err.contains("--ini_threshold 1000") && err.contains("maximum"),
        "{err}"
    );
    // `--j 0` is refused the same way by every command that has --j.
    for command in [
        "simulate",
        "reconstruct",
        "refine",
        "project",
        "extract",
        "ctffind",
        "motioncorr",
        "demo",
    ] {
        let err = refused(&[command, "--j", "0"]);
        assert!(
            err.contains("--j") && err.contains("at least 1"),
            "{command}: {err}"
        );
    }
}
