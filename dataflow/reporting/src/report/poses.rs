//! Particle poses of one iteration from its `*_data.star` (Euler angles in degrees, origins in
//! Å, RELION conventions), and how far they moved between two iterations.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, anyhow};
use cryoflux_formats::star::ParticleStar;
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use glam::DMat3;

/// Poses of every particle of one iteration, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Poses {
    /// rlnImageName of each particle (`N@stack.mrcs`), when the file has it.
    pub names: Option<Vec<String>>,
    /// rlnAngleRot, rlnAngleTilt, rlnAnglePsi per particle, degrees.
    pub angles: Vec<[f64; 3]>,
    /// rlnOriginXAngst, rlnOriginYAngst per particle, Å, when the file has them.
    pub origins_angst: Option<Vec<[f64; 2]>>,
}

impl Poses {
    /// Reads a particle file of any RELION generation; errors name the file and a missing
    /// angle column.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let star = ParticleStar::read(path).context("cannot read the particle file")?;
        let table = &star.particles;
        let column = |label: &str| {
            table.floats(label).ok_or_else(|| {
                anyhow!(
                    "{}: data_particles has no numeric {label} column",
                    path.display()
                )
            })
        };
        let (rot, tilt, psi) = (
            column("rlnAngleRot")?,
            column("rlnAngleTilt")?,
            column("rlnAnglePsi")?,
        );
        let angles = (0..table.rows())
            .map(|i| [rot[i], tilt[i], psi[i]])
            .collect();
        let origins_angst = match (
            table.floats("rlnOriginXAngst"),
            table.floats("rlnOriginYAngst"),
        ) {
            (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(&x, &y)| [x, y]).collect()),
            _ => None,
        };
        Ok(Self {
            names: table.texts("rlnImageName").map(<[String]>::to_vec),
            angles,
            origins_angst,
        })
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.angles.len()
    }

    /// True when the file holds no particles.
    pub fn is_empty(&self) -> bool {
        self.angles.is_empty()
    }

    /// |origin| of each particle, Å.
    pub fn offsets_angst(&self) -> Option<Vec<f64>> {
        let origins = self.origins_angst.as_ref()?;
        Some(origins.iter().map(|[x, y]| x.hypot(*y)).collect())
    }

    /// Viewing direction of each particle as (rot, tilt) in degrees, rot in [−180, 180],
    /// tilt in [0, 180], whatever range the file's angles were written in.
    pub fn directions_deg(&self) -> Vec<(f64, f64)> {
        self.matrices()
            .map(|a| {
                let d = a.row(2);
                (
                    d.y.atan2(d.x).to_degrees(),
                    d.z.clamp(-1.0, 1.0).acos().to_degrees(),
                )
            })
            .collect()
    }

    fn matrices(&self) -> impl Iterator<Item = DMat3> + '_ {
        self.angles
            .iter()
            .map(|&[rot, tilt, psi]| euler_to_matrix(rot, tilt, psi))
    }
}

/// Rotation angle (degrees) between each particle's pose in `before` and in `after`, the
/// smallest over the symmetry mates of `symmetry`. Particles are paired by rlnImageName when
/// both files have unique names, else by row when the counts agree; otherwise a reason why
/// they cannot be paired.
pub fn angle_changes(
    before: &Poses,
    after: &Poses,
    symmetry: &SymmetryGroup,
) -> Result<Vec<f64>, String> {
    let pairs = pair_rows(before, after)?;
    let (a, b): (Vec<DMat3>, Vec<DMat3>) =
        (before.matrices().collect(), after.matrices().collect());
    Ok(pairs
        .into_iter()
        .map(|(i, j)| symmetry.angular_distance(&a[i], &b[j]))
        .collect())
}

/// (row in `before`, row in `after`) of each particle found in both.
fn pair_rows(before: &Poses, after: &Poses) -> Result<Vec<(usize, usize)>, String> {
    if let (Some(old), Some(new)) = (&before.names, &after.names) {
        let index: HashMap<&str, usize> = old
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        if index.len() == old.len() {
            let pairs: Vec<(usize, usize)> = new
                .iter()
                .enumerate()
                .filter_map(|(j, n)| index.get(n.as_str()).map(|&i| (i, j)))
                .collect();
            if pairs.is_empty() {
                return Err("no particle (rlnImageName) is in both iterations".into());
            }
            return Ok(pairs);
        }
    }
    if before.len() == after.len() {
        Ok((0..after.len()).map(|i| (i, i)).collect())
    } else {
        Err(format!(
            "the iterations hold different particles ({} and {} rows, no unique rlnImageName)",
            before.len(),
            after.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poses(names: Option<&[&str]>, angles: &[[f64; 3]]) -> Poses {
        Poses {
            names: names.map(|n| n.iter().map(|s| s.to_string()).collect()),
            angles: angles.to_vec(),
            origins_angst: Some(vec![[3.0, 4.0]; angles.len()]),
        }
    }

    #[test]
    fn changes_pair_particles_by_name_and_respect_symmetry() {
        let before = poses(Some(&["1@a", "2@a"]), &[[0.0, 10.0, 0.0], [0.0, 90.0, 0.0]]);
        let after = poses(Some(&["2@a", "1@a"]), &[[0.0, 90.0, 5.0], [0.0, 30.0, 0.0]]);
        let changes = angle_changes(&before, &after, &SymmetryGroup::c1()).unwrap();
        assert!((changes[0] - 5.0).abs() < 1e-9 && (changes[1] - 20.0).abs() < 1e-9);
        let c4 = SymmetryGroup::parse("C4").unwrap();
        let turned = poses(None, &[[90.0, 10.0, 0.0], [0.0, 90.0, 0.0]]);
        let unnamed = poses(None, &before.angles);
        let changes = angle_changes(&unnamed, &turned, &c4).unwrap();
        assert!(changes.iter().all(|&c| c < 1e-9), "{changes:?}");
        let fewer = poses(None, &[[0.0, 0.0, 0.0]]);
        assert!(angle_changes(&unnamed, &fewer, &c4).is_err());
    }

    #[test]
    fn directions_are_canonical_and_offsets_are_lengths() {
        let p = poses(None, &[[190.0, -30.0, 0.0]]);
        let (rot, tilt) = p.directions_deg()[0];
        // tilt −30 at rot 190 views the same direction as tilt 30 at rot 10.
        assert!(
            (rot - 10.0).abs() < 1e-9 && (tilt - 30.0).abs() < 1e-9,
            "{rot} {tilt}"
        );
        assert_eq!(p.offsets_angst(), Some(vec![5.0]));
    }

    #[test]
    fn reads_a_data_star_and_names_a_missing_column() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("run_it001_data.star");
        let head = "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 1.8\n\n\
                    data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnAngleRot\n\
                    _rlnAngleTilt\n";
        std::fs::write(
            &good,
            format!("{head}_rlnAnglePsi\n_rlnOriginXAngst\n_rlnOriginYAngst\n1@s.mrcs 1 10 20 30 0.6 0.8\n"),
        )
        .unwrap();
        let p = Poses::read(&good).unwrap();
        assert_eq!(p.angles, vec![[10.0, 20.0, 30.0]]);
        assert_eq!(p.names, Some(vec!["1@s.mrcs".to_string()]));
        assert!((p.offsets_angst().unwrap()[0] - 1.0).abs() < 1e-12);
        let bad = dir.path().join("bad_data.star");
        std::fs::write(&bad, format!("{head}1@s.mrcs 1 10 20\n")).unwrap();
        let message = format!("{:#}", Poses::read(&bad).unwrap_err());
        assert!(
            message.contains("bad_data.star") && message.contains("rlnAnglePsi"),
            "{message}"
        );
    }
}
