//! Our coarse, symmetry-reduced direction lists against the ones RELION 3.1.3 writes to
//! `data_sampling_directions` of `run_it001_sampling.star`, baked into
//! `tests/data/relion_directions_<SYM>_o<ORDER>.txt` by `tests/data/generate_relion_fixtures.py`
//! (see that script for the exact `relion_refine` command).
//!
//! Set `CRYOFLUX_RELION_DIRECTIONS_DIR` to a folder of more files with the same naming (e.g. the
//! script's output for other groups) to compare those as well.

use std::path::{Path, PathBuf};

use cryoflux_kernels::geometry::euler::euler_to_direction;
use cryoflux_kernels::geometry::sampling::OrientationSampling;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;

/// Same direction when within this angle (degrees); RELION's file keeps 6 decimals, ours 4.
const TOLERANCE_DEG: f64 = 0.01;

struct Fixture {
    symmetry: String,
    order: u32,
    directions: Vec<(f64, f64)>,
}

fn read_fixtures(dir: &Path) -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("relion_directions_")
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (symmetry, order) = stem
                .trim_start_matches("relion_directions_")
                .rsplit_once("_o")
                .unwrap_or_else(|| panic!("{}: expected relion_directions_SYM_oN", path.display()));
            let text = std::fs::read_to_string(path).unwrap();
            let directions = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| {
                    let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                    (v[0], v[1])
                })
                .collect();
            Fixture {
                symmetry: symmetry.to_string(),
                order: order.parse().unwrap(),
                directions,
            }
        })
        .collect()
}

/// Largest angle (degrees) from a direction of `a` to its nearest in `b`, and whether the
/// nearest-neighbour map is one-to-one.
fn max_deviation(a: &[(f64, f64)], b: &[(f64, f64)]) -> (f64, bool) {
    let vb: Vec<_> = b.iter().map(|&(r, t)| euler_to_direction(r, t)).collect();
    let mut used = vec![false; b.len()];
    let mut worst: f64 = 0.0;
    let mut injective = true;
    for &(r, t) in a {
        let v = euler_to_direction(r, t);
        let (j, angle) = vb
            .iter()
            .enumerate()
            .map(|(j, w)| (j, v.angle_between(*w).to_degrees()))
            .fold((usize::MAX, f64::INFINITY), |best, x| {
                if x.1 < best.1 { x } else { best }
            });
        injective &= j != usize::MAX && !std::mem::replace(&mut used[j], true);
        worst = worst.max(angle);
    }
    (worst, injective)
}

fn compare(fixtures: &[Fixture]) {
    let mut failures = Vec::new();
    for f in fixtures {
        let symmetry = SymmetryGroup::parse(&f.symmetry).unwrap();
        let sampling = OrientationSampling::new(f.order, &symmetry).unwrap();
        let ours: Vec<(f64, f64)> = sampling
            .directions()
            .iter()
            .map(|d| (d.rot, d.tilt))
            .collect();
        let (dev, injective) = max_deviation(&f.directions, &ours);
        let (back, _) = max_deviation(&ours, &f.directions);
        let line = format!(
            "{} o{}: RELION {} ours {} max deviation {dev:.2e}/{back:.2e} deg",
            f.symmetry,
            f.order,
            f.directions.len(),
            ours.len()
        );
        println!("{line}");
        if ours.len() != f.directions.len()
            || !injective
            || dev > TOLERANCE_DEG
            || back > TOLERANCE_DEG
        {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "differences from RELION:\n{}",
        failures.join("\n")
    );
}

#[test]
fn directions_equal_relions_as_sets() {
    let fixtures = read_fixtures(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data"
    )));
    assert!(
        fixtures.len() >= 10,
        "only {} fixtures found",
        fixtures.len()
    );
    compare(&fixtures);
}

#[test]
fn directions_equal_extra_relion_lists() {
    if let Some(dir) = std::env::var_os("CRYOFLUX_RELION_DIRECTIONS_DIR") {
        compare(&read_fixtures(Path::new(&dir)));
    }
}
