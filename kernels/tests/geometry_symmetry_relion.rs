//! Our symmetry operators against RELION 3.1.3's, baked into `tests/data/relion_symmetry_ops.txt`
//! by `tests/data/generate_relion_fixtures.py` (`relion_refine --sym X --print_symmetry_ops`).

use std::collections::BTreeMap;

use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use glam::DMat3;

/// RELION prints 6 significant digits.
const PRINT_TOLERANCE: f64 = 2e-5;

/// Per group: (RELION's L is diag(1, 1, −1), R) for every operator, identity included.
fn relion_operators() -> BTreeMap<String, Vec<(bool, DMat3)>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/relion_symmetry_ops.txt"
    );
    let text = std::fs::read_to_string(path).expect("fixture relion_symmetry_ops.txt");
    let mut groups: BTreeMap<String, Vec<(bool, DMat3)>> = BTreeMap::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 11, "line {}: {line}", number + 1);
        let values: Vec<f64> = fields[2..].iter().map(|v| v.parse().unwrap()).collect();
        let r = DMat3::from_cols_array(&values.try_into().unwrap()).transpose();
        groups
            .entry(fields[0].to_string())
            .or_default()
            .push((fields[1] == "1", r));
    }
    groups
}

#[test]
fn operator_sets_equal_relions() {
    let relion = relion_operators();
    assert!(relion.len() >= 19, "fixture lists {} groups", relion.len());
    for (symbol, theirs) in &relion {
        let group = SymmetryGroup::parse(symbol).unwrap();
        assert_eq!(group.order(), theirs.len(), "{symbol}: operator count");
        let mut matched = vec![false; group.order()];
        for (flip, r) in theirs {
            let i = group
                .operators()
                .iter()
                .position(|ours| ours.abs_diff_eq(*r, PRINT_TOLERANCE))
                .unwrap_or_else(|| panic!("{symbol}: RELION operator missing from ours:\n{r}"));
            assert!(
                !matched[i],
                "{symbol}: two RELION operators match our operator {i}"
            );
            matched[i] = true;
            let expected_left = if *flip {
                DMat3::from_diagonal(glam::DVec3::new(1.0, 1.0, -1.0))
            } else {
                DMat3::IDENTITY
            };
            assert_eq!(
                group.relion_left(i),
                expected_left,
                "{symbol}: L of operator {i}"
            );
        }
    }
}
