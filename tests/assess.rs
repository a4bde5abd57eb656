//! End to end: `cryoflux assess` on a simulation's truth against itself, against a copy with
//! known pose errors (rows shuffled, so matching by image name is exercised), and on half maps
//! whose FSC falls at a known resolution.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cryoflux_formats::star::{Column, ColumnData, ParticleStar, Table};

/// `truth.star` of 12 simulated particles in `dir/sim`.
fn simulated_truth(dir: &Path) -> PathBuf {
    let out = dir.join("sim");
    cryoflux_ok(&["simulate", "--o", out.to_str().unwrap(), "--n", "12"]);
    out.join("truth.star")
}

/// A copy of `truth` with rot + 10°, origins + (3, 4) Å and the rows in reverse order.
fn perturbed_copy(truth: &Path, out: &Path) {
    let mut star = ParticleStar::read(truth).unwrap();
    let columns = star
        .particles
        .columns()
        .iter()
        .map(|c| {
            let shift = match c.label.as_str() {
                "rlnAngleRot" => 10.0,
                "rlnOriginXAngst" => 3.0,
                "rlnOriginYAngst" => 4.0,
                _ => 0.0,
            };
            let data = match &c.data {
                ColumnData::Float(v) => {
                    ColumnData::Float(v.iter().rev().map(|x| x + shift).collect())
                }
                ColumnData::Int(v) => ColumnData::Int(v.iter().rev().copied().collect()),
                ColumnData::Text(v) => ColumnData::Text(v.iter().rev().cloned().collect()),
            };
            Column {
                label: c.label.clone(),
                data,
            }
        })
        .collect();
    star.particles = Table::from_columns(columns).unwrap();
    star.into_star().write(out).unwrap();
}

/// The number after `"key": ` in `json` (first occurrence after `section`).
fn json_number(json: &str, section: &str, key: &str) -> f64 {
    let rest = &json[json.find(section).unwrap()..];
    let rest = &rest[rest.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4..];
    rest.split([',', '}'])
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn pose_errors_are_zero_for_the_truth_and_known_for_a_perturbed_copy() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulated_truth(dir.path());
    let t = truth.to_str().unwrap();
    let json = dir.path().join("self.json");
    let table = cryoflux_ok(&[
        "assess",
        "--data",
        t,
        "--truth",
        t,
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(table.contains("12 particles matched"), "{table}");
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(
        json_number(&text, "angular_error_deg", "max") < 1e-4,
        "{text}"
    );
    assert_eq!(
        json_number(&text, "offset_error_angst", "max"),
        0.0,
        "{text}"
    );
    if have_python(&["json"]) {
        let parsed = python(&format!(
            "import json; print(json.load(open({:?}))['particles_matched'])",
            json.to_str().unwrap()
        ));
        assert_eq!(parsed.trim(), "12");
    }

    let perturbed = dir.path().join("perturbed.star");
    perturbed_copy(&truth, &perturbed);
    let json = dir.path().join("perturbed.json");
    cryoflux_ok(&[
        "assess",
        "--data",
        perturbed.to_str().unwrap(),
        "--truth",
        t,
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&json).unwrap();
    for stat in ["mean", "median", "p90", "max"] {
        let angle = json_number(&text, "angular_error_deg", stat);
        let offset = json_number(&text, "offset_error_angst", stat);
        assert!((angle - 10.0).abs() < 1e-3, "{stat} angular error {angle}");
        assert!((offset - 5.0).abs() < 1e-9, "{stat} offset error {offset}");
    }
    assert!(text.contains("\"in_frame\": null"), "{text}");

    // rot + 10° for every particle is one global rotation of the frame (A·Rz(10°)): --align
    // finds it, and in that frame the poses are exact.
    cryoflux_ok(&[
        "assess",
        "--data",
        perturbed.to_str().unwrap(),
        "--truth",
        t,
        "--align",
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains("\"mirrored\": false"), "{text}");
    assert!(
        (json_number(&text, "in_frame", "rotation_deg") - 10.0).abs() < 1e-3,
        "{text}"
    );
    assert_eq!(json_number(&text, "in_frame", "fraction"), 1.0, "{text}");
    assert!(json_number(&text, "in_frame", "max") < 1e-3, "{text}");
}

#[test]
fn resolutions_of_half_maps_and_against_truth() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulated_truth(dir.path());
    let t = truth.to_str().unwrap();
    let maps = synthetic_half_maps(dir.path());
    let (h1, h2, m) = (
        maps.half1.to_str().unwrap(),
        maps.half2.to_str().unwrap(),
        maps.truth.to_str().unwrap(),
    );
    let json = dir.path().join("maps.json");
    let table = cryoflux_ok(&[
        "assess",
        "--data",
        t,
        "--truth",
        t,
        "--map",
        h1,
        "--truth_map",
        m,
        "--half1",
        h1,
        "--half2",
        h2,
        "--json",
        json.to_str().unwrap(),
    ]);
    println!("{table}");
    let text = std::fs::read_to_string(&json).unwrap();
    // The halves' FSC crosses 0.143 near shell 20 of box 64 at 1.5 Å (4.8 Å); a half map
    // against the noise-free truth correlates better, so its FSC 0.5 lies in the same band.
    let gold = json_number(&text, "gold_standard", "resolution_at_0.143_angst");
    assert!((4.5..5.6).contains(&gold), "gold-standard {gold} Å");
    let versus_truth = json_number(&text, "against_truth", "resolution_at_0.5_angst");
    assert!(
        (4.5..6.5).contains(&versus_truth),
        "against truth {versus_truth} Å"
    );
    assert_eq!(json_number(&text, "against_truth", "nyquist_angst"), 3.0);

    let err = cryoflux_fails(&["assess", "--data", t, "--truth", t, "--map", h1]);
    assert!(err.contains("--truth_map"), "{err}");
}
