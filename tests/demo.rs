//! End to end: `cryoflux demo`, the README's main command, on a small particle count.

mod common;

use common::*;

/// The number printed after `label` up to " Å".
fn angstrom_after(report: &str, label: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in\n{report}"));
    line.rsplit(':')
        .next()
        .unwrap()
        .trim()
        .trim_end_matches('Å')
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn demo_reaches_near_nyquist_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let report = cryoflux_ok(&[
        "demo",
        "--o",
        out.to_str().unwrap(),
        "--n",
        "400",
        "--snr",
        "0.1",
        "--j",
        "2",
    ]);
    let gold = angstrom_after(&report, "gold-standard resolution");
    let truth = angstrom_after(&report, "resolution against the truth");
    let nyquist = angstrom_after(&report, "Nyquist");
    // 400 particles at SNR 0.1 with true poses carry information to within a few shells of
    // Nyquist (3.6 Å; measured 6.2 Å); a wrong sign, origin or CTF convention anywhere caps
    // this far lower (beyond 15 Å).
    assert_eq!(nyquist, 3.6);
    assert!(gold < 8.0, "gold-standard resolution {gold} Å\n{report}");
    assert!(
        truth < 7.0,
        "resolution against the truth {truth} Å\n{report}"
    );
    for file in [
        "Simulate/particles.star",
        "Simulate/truth.star",
        "Reconstruct/half1.mrc",
        "Reconstruct/full.mrc",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}
