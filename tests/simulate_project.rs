//! End to end: `cryoflux simulate` and `cryoflux project` on the bundled map (box 48), checked
//! against RELION 3.1.3's `relion_project` (same poses, origins and CTFs) and `relion_reconstruct`
//! (RELION reads the simulated particles and recovers the map), against each other
//! (noise-free simulations are projections at the truth poses), and for determinism, uniform
//! orientations, the requested SNR and clear errors on bad input.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cryoflux_formats::mrc::{MrcFile, WriteMode, write_volume};
use cryoflux_formats::star::StarFile;

/// Variance of an image's pixels.
fn variance(v: &[f32]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    v.iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n
}

/// All images of a stack, one `Vec` each.
fn images(path: &Path) -> Vec<Vec<f32>> {
    let stack = MrcFile::open(path).unwrap();
    (0..stack.image_count())
        .map(|i| stack.read_image(i).unwrap())
        .collect()
}

/// `cryoflux simulate --o DIR ARGS…` into `dir`; returns DIR.
fn simulate(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut all = vec!["simulate", "--o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    cryoflux_ok(&all);
    out
}

/// One float column of the particles table of a STAR file.
fn column(star: &Path, label: &str) -> Vec<f64> {
    let star = StarFile::read(star).unwrap();
    let table = star.block("particles").unwrap().table.as_ref().unwrap();
    table.floats(label).unwrap().to_vec()
}

#[test]
fn project_and_noise_free_simulation_match_relion_project() {
    if !have_tool("relion_project") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let map = bundled_map_float32(dir.path());
    // 20 poses with origins up to ±6 Å and CTFs (astigmatic, 300 kV, Cs 2.7, Q0 0.1).
    let sim = simulate(
        dir.path(),
        "sim",
        &["--n", "20", "--no_noise", "--max_offset", "6"],
    );
    let truth = sim.join("truth.star");
    let ours = dir.path().join("ours.mrcs");
    cryoflux_ok(&[
        "project",
        "--i",
        map.to_str().unwrap(),
        "--o",
        ours.to_str().unwrap(),
        "--ang",
        truth.to_str().unwrap(),
        "--ctf",
    ]);
    run_tool(
        dir.path(),
        "relion_project",
        &[
            "--i",
            "truth.mrc",
            "--o",
            "relion",
            "--ang",
            "sim/truth.star",
            "--ctf",
        ],
    );
    let relion = images(&dir.path().join("relion.mrcs"));
    let projected = images(&ours);
    let simulated = images(&sim.join("particles.mrcs"));
    assert_eq!(relion.len(), 20);
    for i in 0..20 {
        let c = correlation(&projected[i], &relion[i]);
        assert!(
            c >= 0.999,
            "image {i}: cryoflux project vs relion_project r = {c}"
        );
        let c = correlation(&simulated[i], &relion[i]);
        assert!(
            c >= 0.999,
            "image {i}: cryoflux simulate vs relion_project r = {c}"
        );
    }
    // Same normalisation as relion_project (line integrals in map units × pixels).
    let scale: f64 = relion
        .iter()
        .flatten()
        .zip(projected.iter().flatten())
        .map(|(&r, &p)| f64::from(r) * f64::from(p))
        .sum::<f64>()
        / projected
            .iter()
            .flatten()
            .map(|&p| f64::from(p).powi(2))
            .sum::<f64>();
    assert!((scale - 1.0).abs() < 1e-3, "scale {scale}");
    // The test can fail: a neighbour's pose does not match.
    assert!(correlation(&projected[0], &relion[1]) < 0.9);
}

#[test]
fn relion_reconstruct_recovers_the_map_from_simulated_particles() {
    if !have_tool("relion_reconstruct") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    bundled_map_float32(dir.path());
    // Relative output: image names are resolved from the working directory, as RELION does.
    let status = cryoflux()
        .current_dir(dir.path())
        .args([
            "simulate", "--o", "sim", "--n", "300", "--snr", "1", "--seed", "2",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (star, ctf) in [("sim/truth.star", true), ("sim/truth.star", false)] {
        let mut args = vec!["--i", star, "--o", "rec.mrc", "--angpix", "1.8"];
        if ctf {
            args.push("--ctf");
        }
        run_tool(dir.path(), "relion_reconstruct", &args);
        let truth = MrcFile::open(dir.path().join("truth.mrc")).unwrap();
        let rec = MrcFile::open(dir.path().join("rec.mrc")).unwrap();
        let r = correlation(&truth.read_all().unwrap(), &rec.read_all().unwrap());
        if ctf {
            assert!(r > 0.8, "map vs RELION reconstruction with CTF: r = {r}");
        } else {
            // Ignoring the CTF the images simulated with it cannot give the map back.
            assert!(
                r < 0.8,
                "map vs reconstruction without CTF correction: r = {r}"
            );
        }
    }
}

#[test]
fn single_projection_without_ang_writes_stack_and_star() {
    let dir = tempfile::tempdir().unwrap();
    let map = bundled_map_float32(dir.path());
    let out = dir.path().join("one");
    cryoflux_ok(&[
        "project",
        "--i",
        map.to_str().unwrap(),
        "--o",
        out.to_str().unwrap(),
        "--rot",
        "10",
        "--tilt",
        "-20",
        "--psi",
        "30",
        "--xoff",
        "2",
    ]);
    let stack = images(&dir.path().join("one.mrcs"));
    assert_eq!(stack.len(), 1);
    assert!(variance(&stack[0]) > 0.0);
    let star = dir.path().join("one.star");
    assert_eq!(column(&star, "rlnAngleTilt"), vec![-20.0]);
    // --xoff is in pixels (RELION), the STAR origin in Å.
    let origin = column(&star, "rlnOriginXAngst")[0];
    assert!((origin - 3.6).abs() < 1e-5, "{origin}");
}

#[test]
fn simulation_is_deterministic_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    // 300 particles span two generation chunks.
    let args = ["--n", "300", "--seed", "7"];
    let one = simulate(dir.path(), "j1", &[&args[..], &["--j", "1"]].concat());
    let two = simulate(dir.path(), "j2", &[&args[..], &["--j", "2"]].concat());
    let other = simulate(dir.path(), "seed8", &["--n", "300", "--seed", "8"]);
    let bytes = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert!(bytes(&one, "particles.mrcs") == bytes(&two, "particles.mrcs"));
    assert!(bytes(&one, "particles.mrcs") != bytes(&other, "particles.mrcs"));
    for label in ["rlnAngleRot", "rlnOriginXAngst", "rlnDefocusU"] {
        let truth = |d: &Path| column(&d.join("truth.star"), label);
        assert_eq!(truth(&one), truth(&two), "{label}");
        assert_ne!(truth(&one), truth(&other), "{label}");
    }
}

#[test]
fn given_poses_reproduce_the_simulation_they_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let first = simulate(dir.path(), "first", &["--n", "30", "--seed", "4"]);
    let truth = first.join("truth.star");
    // Same seed, poses read back from truth.star: the STAR states the truth exactly.
    let again = simulate(
        dir.path(),
        "again",
        &["--poses", truth.to_str().unwrap(), "--seed", "4"],
    );
    let bytes = |d: &Path| std::fs::read(d.join("particles.mrcs")).unwrap();
    assert!(bytes(&first) == bytes(&again));
    let fewer = simulate(
        dir.path(),
        "fewer",
        &["--poses", truth.to_str().unwrap(), "--n", "10"],
    );
    assert_eq!(images(&fewer.join("particles.mrcs")).len(), 10);
    assert_eq!(
        column(&fewer.join("truth.star"), "rlnAnglePsi"),
        column(&truth, "rlnAnglePsi")[..10]
    );
}

#[test]
fn noise_free_images_are_projections_at_the_true_poses() {
    let dir = tempfile::tempdir().unwrap();
    let map = bundled_map_float32(dir.path());
    let sim = simulate(
        dir.path(),
        "sim",
        &["--n", "40", "--no_noise", "--seed", "3"],
    );
    let projected = dir.path().join("projected.mrcs");
    cryoflux_ok(&[
        "project",
        "--i",
        map.to_str().unwrap(),
        "--o",
        projected.to_str().unwrap(),
        "--ang",
        sim.join("truth.star").to_str().unwrap(),
        "--ctf",
    ]);
    let simulated = images(&sim.join("particles.mrcs"));
    let projected = images(&projected);
    for (i, (s, p)) in simulated.iter().zip(&projected).enumerate() {
        let c = correlation(s, p);
        assert!(c >= 0.99, "particle {i}: r = {c}");
    }
    // Without the CTF the images no longer match: the CTF was applied.
    let plain = dir.path().join("plain.mrcs");
    cryoflux_ok(&[
        "project",
        "--i",
        map.to_str().unwrap(),
        "--o",
        plain.to_str().unwrap(),
        "--ang",
        sim.join("truth.star").to_str().unwrap(),
    ]);
    let plain = images(&plain);
    let mean_r = (0..40)
        .map(|i| correlation(&simulated[i], &plain[i]))
        .sum::<f64>()
        / 40.0;
    assert!(mean_r < 0.9, "mean r without CTF {mean_r}");
}

#[test]
fn orientations_are_uniform_and_origins_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(
        dir.path(),
        "sim",
        &[
            "--n",
            "500",
            "--no_ctf",
            "--max_offset",
            "4",
            "--seed",
            "11",
        ],
    );
    let truth = sim.join("truth.star");
    let tilt = column(&truth, "rlnAngleTilt");
    let psi = column(&truth, "rlnAnglePsi");
    let n = tilt.len() as f64;
    assert_eq!(tilt.len(), 500);
    // The viewing direction's z is cos(tilt): uniform on the sphere ⇒ mean 0, mean square 1/3.
    let z: Vec<f64> = tilt.iter().map(|t| t.to_radians().cos()).collect();
    let mean_z = z.iter().sum::<f64>() / n;
    let mean_z2 = z.iter().map(|v| v * v).sum::<f64>() / n;
    assert!(mean_z.abs() < 0.1, "mean z {mean_z}");
    assert!((mean_z2 - 1.0 / 3.0).abs() < 0.05, "mean z² {mean_z2}");
    let mean_cos_psi = psi.iter().map(|p| p.to_radians().cos()).sum::<f64>() / n;
    assert!(mean_cos_psi.abs() < 0.1, "mean cos psi {mean_cos_psi}");
    let x = column(&truth, "rlnOriginXAngst");
    assert!(x.iter().all(|v| v.abs() <= 4.0));
    let mean_abs = x.iter().map(|v| v.abs()).sum::<f64>() / n;
    assert!((mean_abs - 2.0).abs() < 0.3, "mean |origin x| {mean_abs}");
    // No CTF asked for: no defocus columns.
    let star = StarFile::read(&sim.join("particles.star")).unwrap();
    let table = star.block("particles").unwrap().table.as_ref().unwrap();
    assert!(table.column("rlnDefocusU").is_none());
    assert!(table.column("rlnAngleRot").is_none());
}

#[test]
fn measured_snr_matches_the_requested_snr() {
    let dir = tempfile::tempdir().unwrap();
    for snr in ["0.05", "1.5"] {
        let common = ["--n", "100", "--seed", "5", "--snr", snr];
        let noisy = simulate(dir.path(), &format!("noisy{snr}"), &common);
        let clean = simulate(
            dir.path(),
            &format!("clean{snr}"),
            &[&common[..], &["--no_noise"]].concat(),
        );
        let noisy = images(&noisy.join("particles.mrcs"));
        let clean = images(&clean.join("particles.mrcs"));
        let signal = clean.iter().map(|c| variance(c)).sum::<f64>() / clean.len() as f64;
        let noise = noisy
            .iter()
            .zip(&clean)
            .map(|(a, b)| {
                let diff: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
                variance(&diff)
            })
            .sum::<f64>()
            / noisy.len() as f64;
        let requested: f64 = snr.parse().unwrap();
        let measured = signal / noise;
        assert!(
            (measured / requested - 1.0).abs() < 0.1,
            "requested SNR {requested}, measured {measured}"
        );
        assert!((noise - 1.0).abs() < 0.05, "noise variance {noise}");
    }
}

#[test]
fn bad_input_is_refused_with_the_file_and_field_named_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_arg = out.to_str().unwrap();

    let flat = dir.path().join("flat.mrc");
    write_volume(
        &flat,
        &vec![0.5; 8 * 8 * 6],
        [8, 8, 6],
        2.0,
        WriteMode::Float32,
    )
    .unwrap();
    let err = cryoflux_fails(&["simulate", "--map", flat.to_str().unwrap(), "--o", out_arg]);
    assert!(err.contains("flat.mrc") && err.contains("cubic"), "{err}");

    let missing = dir.path().join("nowhere.mrc");
    let err = cryoflux_fails(&[
        "simulate",
        "--map",
        missing.to_str().unwrap(),
        "--o",
        out_arg,
    ]);
    assert!(err.contains("nowhere.mrc"), "{err}");

    let poses = dir.path().join("poses.star");
    std::fs::write(
        &poses,
        "data_poses\nloop_\n_rlnAngleRot #1\n_rlnAnglePsi #2\n10 20\n30 40\n",
    )
    .unwrap();
    let err = cryoflux_fails(&[
        "simulate",
        "--poses",
        poses.to_str().unwrap(),
        "--o",
        out_arg,
    ]);
    assert!(
        err.contains("poses.star") && err.contains("rlnAngleTilt") && !err.contains("rlnAngleRot"),
        "{err}"
    );
    let map = bundled_map_float32(dir.path());
    let stack = dir.path().join("out.mrcs");
    let err = project_fails(&map, &stack, &poses, &[]);
    assert!(
        err.contains("poses.star") && err.contains("rlnAngleTilt"),
        "{err}"
    );
    assert!(!stack.exists());

    let with_tilt = dir.path().join("tilted.star");
    std::fs::write(
        &with_tilt,
        "data_poses\nloop_\n_rlnAngleRot #1\n_rlnAngleTilt #2\n_rlnAnglePsi #3\n10 20 30\n",
    )
    .unwrap();
    let err = project_fails(&map, &stack, &with_tilt, &["--ctf"]);
    assert!(
        err.contains("tilted.star") && err.contains("rlnDefocusU"),
        "{err}"
    );
    assert!(!stack.exists());

    let err = cryoflux_fails(&["simulate", "--n", "0", "--o", out_arg]);
    assert!(err.contains("number of particles"), "{err}");
    let err = cryoflux_fails(&["simulate", "--snr", "0", "--n", "5", "--o", out_arg]);
    assert!(err.contains("SNR"), "{err}");
    assert!(!out.exists(), "nothing may be written on bad input");
}

#[test]
fn pdb_to_map_places_gaussian_atoms_around_the_centre_of_mass() {
    if !have_python(&["numpy", "mrcfile"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdb = dir.path().join("two.pdb");
    // A carbon and an oxygen 10 Å apart on x, plus a water that must be left out.
    std::fs::write(
        &pdb,
        "ATOM      1  CA  GLY A   1       0.000   0.000   0.000  1.00 20.00           C\n\
         ATOM      2  O   GLY A   1      10.000   0.000   0.000  1.00 20.00           O\n\
         HETATM    3  O   HOH A   2       5.000   5.000   5.000  1.00 20.00           O\n",
    )
    .unwrap();
    let map = dir.path().join("two.mrc");
    let script = repo_file("tools/pdb_to_map.py");
    run_tool(
        dir.path(),
        "python3",
        &[
            script.to_str().unwrap(),
            pdb.to_str().unwrap(),
            map.to_str().unwrap(),
            "--box",
            "16",
            "--angpix",
            "2",
        ],
    );
    let mrc = MrcFile::open(&map).unwrap();
    assert_eq!(mrc.dims(), [16, 16, 16]);
    assert_eq!(mrc.voxel_size()[0], 2.0);
    let data = mrc.read_all().unwrap();
    // 6 + 8 electrons (electrons per Å³ × 8 Å³ per voxel).
    let electrons = data.iter().map(|&v| f64::from(v)).sum::<f64>() * 8.0;
    assert!((electrons - 14.0).abs() < 0.01, "{electrons}");
    // Centre of mass on voxel 8: C at −5.71 Å, O at +4.29 Å; the density is highest there.
    let value = |x: usize| data[(8 * 16 + 8) * 16 + x];
    let (carbon, oxygen) = (value(5), value(10));
    assert!(
        oxygen > carbon && carbon > 4.0 * value(8).abs(),
        "{carbon} {oxygen}"
    );
}

/// The error of `cryoflux project` of `map` into `stack` at the poses of `poses` (plus `extra`
/// flags), which must fail.
fn project_fails(map: &Path, stack: &Path, poses: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "project",
        "--i",
        map.to_str().unwrap(),
        "--o",
        stack.to_str().unwrap(),
        "--ang",
        poses.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cryoflux_fails(&args)
}
