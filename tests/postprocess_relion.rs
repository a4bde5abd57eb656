//! End to end: `cryoflux postprocess` on synthetic half maps (box 64, FSC falling steeply near
//! 4.8 Å) against RELION 3.1.3's `relion_postprocess` (same resolution within one shell,
//! B-factor within 10 %, the same STAR blocks and labels, the deterministic curves equal), the
//! EMDB FSC XML and the plots, identical halves (a warning, not a failure), and bad inputs
//! (clear errors, nothing written).

mod common;

use std::path::Path;

use common::*;
use cryoflux_formats::star::Table;

/// Labels of a table, in order.
fn labels(table: &Table) -> Vec<String> {
    table.columns().iter().map(|c| c.label.clone()).collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Run our postprocess with the GUI's standard flags, output root `dir/ours/postprocess`.
fn run_ours(files: &HalfMapFiles, dir: &Path) -> (String, PostprocessStar) {
    let root = dir.join("ours/postprocess");
    let output = run_cryoflux(&[
        "postprocess",
        "--i",
        path_str(&files.half1),
        "--mask",
        path_str(&files.mask),
        "--auto_bfac",
        "--autob_lowres",
        "10",
        "--o",
        path_str(&root),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "cryoflux postprocess failed:\n{stderr}"
    );
    (
        stderr,
        PostprocessStar::read(&dir.join("ours/postprocess.star")),
    )
}

#[test]
fn resolution_and_bfactor_match_relion_postprocess() {
    if !have_tool("relion_postprocess") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = synthetic_half_maps(dir.path());
    std::fs::create_dir(dir.path().join("relion")).unwrap();
    // RELION also tries to build logfile.pdf with ghostscript; without it, it says so and goes
    // on, so only its STAR and XML files are used here.
    let _ = std::process::Command::new("relion_postprocess")
        .args([
            "--i",
            "run_half1_class001_unfil.mrc",
            "--mask",
            "mask.mrc",
            "--auto_bfac",
            "--autob_lowres",
            "10",
            "--o",
            "relion/postprocess",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let relion = PostprocessStar::read(&dir.path().join("relion/postprocess.star"));
    let (_, ours) = run_ours(&files, dir.path());

    let box_angstrom = 64.0 * 1.5;
    let (res_ours, res_relion) = (
        ours.number("rlnFinalResolution"),
        relion.number("rlnFinalResolution"),
    );
    let (b_ours, b_relion) = (
        ours.number("rlnBfactorUsedForSharpening"),
        relion.number("rlnBfactorUsedForSharpening"),
    );
    eprintln!(
        "resolution: ours {res_ours:.3} Å, RELION {res_relion:.3} Å; B-factor: ours \
         {b_ours:.1} Å², RELION {b_relion:.1} Å²"
    );
    let shells_apart = (box_angstrom / res_ours - box_angstrom / res_relion).abs();
    assert!(shells_apart <= 1.0 + 1e-9, "{shells_apart} shells apart");
    assert!(
        (b_ours - b_relion).abs() <= 0.1 * b_relion.abs(),
        "B-factor {b_ours} vs {b_relion}"
    );
    assert!(
        b_relion < -50.0,
        "the test data should need sharpening: {b_relion}"
    );

    // Same blocks and labels, in RELION's order.
    let pair_labels = |s: &PostprocessStar| -> Vec<String> {
        s.general.pairs.iter().map(|(l, _)| l.clone()).collect()
    };
    assert_eq!(pair_labels(&ours), pair_labels(&relion));
    assert_eq!(labels(&ours.fsc), labels(&relion.fsc));
    assert_eq!(labels(&ours.guinier), labels(&relion.guinier));
    let randomise_from = ours.number("rlnRandomiseFrom");
    assert!((randomise_from - relion.number("rlnRandomiseFrom")).abs() < 1e-5);
    let fraction = ours.number("rlnParticleBoxFractionSolventMask");
    assert!((fraction - relion.number("rlnParticleBoxFractionSolventMask")).abs() < 1e-4);

    // Curves that involve no random numbers agree to RELION's printed precision.
    let close = |label: &str, ours: &Table, theirs: &Table, tolerance: f64| {
        let (a, b) = (ours.floats(label).unwrap(), theirs.floats(label).unwrap());
        assert_eq!(a.len(), b.len(), "{label}");
        for (r, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tolerance, "{label}, shell {r}: {x} vs {y}");
        }
    };
    for label in [
        "rlnResolution",
        "rlnFourierShellCorrelationUnmaskedMaps",
        "rlnFourierShellCorrelationMaskedMaps",
        "rlnFourierShellCorrelationParticleMaskFraction",
    ] {
        close(label, &ours.fsc, &relion.fsc, 2e-5);
    }
    close(
        "rlnLogAmplitudesOriginal",
        &ours.guinier,
        &relion.guinier,
        1e-4,
    );

    // The EMDB XML files have the same shells.
    let count = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .matches("<coordinate>")
            .count()
    };
    let xml = |who: &str| dir.path().join(format!("{who}/postprocess_fsc.xml"));
    assert_eq!(count(&xml("ours")), count(&xml("relion")));
    assert_eq!(count(&xml("ours")), 33);
}

#[test]
fn outputs_are_emdb_ready_and_plotted() {
    let dir = tempfile::tempdir().unwrap();
    let files = synthetic_half_maps(dir.path());
    let (stderr, star) = run_ours(&files, dir.path());
    assert!(stderr.contains("final resolution"), "{stderr}");
    let out = dir.path().join("ours");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "RELION_JOB_EXIT_SUCCESS",
            "postprocess.mrc",
            "postprocess.star",
            "postprocess_fsc.png",
            "postprocess_fsc.svg",
            "postprocess_fsc.xml",
            "postprocess_guinier.png",
            "postprocess_guinier.svg",
            "postprocess_masked.mrc",
        ]
    );
    for png in ["postprocess_fsc.png", "postprocess_guinier.png"] {
        let bytes = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
    }
    let fsc_svg = std::fs::read_to_string(out.join("postprocess_fsc.svg")).unwrap();
    for curve in [
        "corrected",
        "unmasked",
        "phase-randomised masked",
        "FSC = 0.143",
    ] {
        assert!(fsc_svg.contains(curve), "FSC plot lacks {curve}");
    }
    assert!(
        fsc_svg.matches("<polyline").count() >= 4,
        "FSC curves not drawn"
    );
    let guinier_svg = std::fs::read_to_string(out.join("postprocess_guinier.svg")).unwrap();
    for curve in ["original", "FSC-weighted", "sharpened", "fit: B ="] {
        assert!(guinier_svg.contains(curve), "Guinier plot lacks {curve}");
    }

    // The XML: EMDB's root element and axes, one coordinate per shell with the corrected FSC.
    let xml = std::fs::read_to_string(out.join("postprocess_fsc.xml")).unwrap();
    assert!(xml.starts_with(
        "<fsc title=\"cryoflux masked-corrected FSC\" xaxis=\"Resolution (A-1)\" \
         yaxis=\"Correlation Coefficient\">\n"
    ));
    assert!(xml.ends_with("</fsc>\n"));
    let values = |tag: &str| -> Vec<f64> {
        xml.split(&format!("<{tag}>"))
            .skip(1)
            .map(|s| {
                s.split(&format!("</{tag}>"))
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    let (x, y) = (values("x"), values("y"));
    let corrected = star
        .fsc
        .floats("rlnFourierShellCorrelationCorrected")
        .unwrap();
    assert_eq!((x.len(), y.len()), (33, 33));
    assert!(x.windows(2).all(|w| w[1] > w[0]));
    assert!(y.iter().zip(corrected).all(|(a, b)| (a - b).abs() < 1e-5));
    if have_python(&["xml.etree.ElementTree"]) {
        let check = format!(
            "import xml.etree.ElementTree as E; r = E.parse('{}').getroot(); \
             print(r.tag, r.get('xaxis'), len(r.findall('coordinate/x')))",
            out.join("postprocess_fsc.xml").display()
        );
        assert_eq!(python(&check).trim(), "fsc Resolution (A-1) 33");
    }

    // The maps: the sharpened map and its masked version, at the half maps' pixel size.
    let map = cryoflux_formats::mrc::MrcFile::open(out.join("postprocess.mrc")).unwrap();
    assert_eq!((map.dims(), map.voxel_size()[0]), ([64, 64, 64], 1.5));
    let masked = cryoflux_formats::mrc::MrcFile::open(out.join("postprocess_masked.mrc")).unwrap();
    let corner = masked.read_all().unwrap()[0];
    assert_eq!(corner, 0.0, "the mask is zero in the corner");
}

#[test]
fn identical_halves_are_processed_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let files = synthetic_half_maps(dir.path());
    let root = dir.path().join("same/postprocess");
    let output = run_cryoflux(&[
        "postprocess",
        "--i",
        path_str(&files.truth),
        "--half2",
        path_str(&files.truth),
        "--mask",
        path_str(&files.mask),
        "--o",
        path_str(&root),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("identical") && stderr.contains("suspicious"),
        "{stderr}"
    );
    let star = PostprocessStar::read(&dir.path().join("same/postprocess.star"));
    // FSC 1 everywhere: the resolution is Nyquist, and the B-factor undoes the truth's blur.
    assert_eq!(star.number("rlnFinalResolution"), 3.0);
    let b = star.number("rlnBfactorUsedForSharpening");
    assert!((b + 150.0).abs() < 5.0, "B = {b}");
}

#[test]
fn bad_inputs_are_refused_and_nothing_is_written() {
    use cryoflux_kernels::grid::Volume;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let noise = |n: usize, p: f64, seed: u64| {
        let mut rng = TestRng::new(seed);
        let data = (0..n * n * n).map(|_| rng.gaussian() as f32).collect();
        Volume::from_vec(n, p, data).unwrap()
    };
    let write = |name: &str, map: &Volume| {
        let path = d.join(name);
        write_test_map(&path, map);
        path.to_str().unwrap().to_string()
    };
    let half1 = write("a_half1.mrc", &noise(16, 2.0, 1));
    write("a_half2.mrc", &noise(16, 2.0, 2));
    let small = write("small.mrc", &noise(12, 2.0, 3));
    let other_pixel = write("pixel.mrc", &noise(16, 2.5, 4));
    let small_mask = write(
        "small_mask.mrc",
        &Volume::from_vec(12, 2.0, vec![1.0; 1728]).unwrap(),
    );
    let mut loud = Volume::from_vec(16, 2.0, vec![0.5; 4096]).unwrap();
    loud.data_mut()[100] = 1.5;
    let loud_mask = write("loud_mask.mrc", &loud);

    let out = d.join("out");
    let root = out.join("postprocess");
    let cases: [(&[&str], &str); 5] = [
        (&["--half2", &small], "same box"),
        (&["--half2", &other_pixel], "same pixel size"),
        (
            &["--mask", &small_mask],
            "the mask must have the half maps' box",
        ),
        (&["--mask", &loud_mask], "outside [0, 1]"),
        (&["--half2", "missing_half2.mrc"], "missing_half2.mrc"),
    ];
    for (extra, reason) in cases {
        let mut args = vec!["postprocess", "--i", half1.as_str(), "--o", path_str(&root)];
        args.extend_from_slice(extra);
        let output = run_cryoflux(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{extra:?} was accepted");
        assert!(stderr.contains(reason), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left output behind");
    }
    // A name without "half1" or "half2" needs --half2.
    let plain = write("plain.mrc", &noise(16, 2.0, 5));
    let output = run_cryoflux(&["postprocess", "--i", &plain, "--o", path_str(&root)]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--half2"));
}

#[test]
fn sharpening_without_random_steps_reproduces_relion_maps() {
    // With a given B-factor, no FSC weighting and a fixed low-pass, nothing depends on the
    // phase randomisation: the maps must be RELION's, voxel for voxel.
    if !have_tool("relion_postprocess") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    synthetic_half_maps(dir.path());
    let flags = [
        "--mask",
        "mask.mrc",
        "--adhoc_bfac",
        "-100",
        "--skip_fsc_weighting",
        "--low_pass",
        "6",
    ];
    std::fs::create_dir(dir.path().join("relion")).unwrap();
    let _ = std::process::Command::new("relion_postprocess")
        .args(["--i", "run_half1_class001_unfil.mrc", "--o", "relion/pp"])
        .args(flags)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let ours = cryoflux()
        .args([
            "postprocess",
            "--i",
            "run_half1_class001_unfil.mrc",
            "--o",
            "ours/pp",
        ])
        .args(flags)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    for name in ["pp.mrc", "pp_masked.mrc"] {
        let read = |who: &str| {
            let path = dir.path().join(who).join(name);
            cryoflux_formats::mrc::MrcFile::open(path)
                .unwrap()
                .read_all()
                .unwrap()
        };
        let (ours, relion) = (read("ours"), read("relion"));
        let scale = relion.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = ours
            .iter()
            .zip(&relion)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            worst <= 1e-5 * scale,
            "{name}: differs by {worst} (scale {scale})"
        );
    }
}
