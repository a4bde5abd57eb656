//! Per-particle pose errors of a refinement against the simulation truth.
//!
//! Particles are matched by `rlnImageName` (never by row order: refinement programs may sort or
//! drop particles). Names are compared as (slice number, file) with the slice number read as an
//! integer (`1@a.mrcs` = `000001@a.mrcs`) and `./` path components dropped; no other path
//! rewriting is done, so both files must name the stacks the same way.
//!
//! - Angular error (degrees): the smallest rotation angle between the refined pose and any
//!   symmetry mate of the true pose ([`SymmetryGroup::angular_distance`]).
//! - Offset error (Å): |origin_refined − origin_true| in the image plane (`rlnOriginXAngst/YAngst`;
//!   a file without origin columns has origins 0, as RELION reads it). No symmetry operator is
//!   needed: the group's operators fix the map origin, so every symmetry mate `A·R` of a pose
//!   projects the map exactly as `A` does, at the same origin.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use cryoflux_formats::star::{ImageName, ParticleStar, Table};
use cryoflux_formats::table::read_particle_table;
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;
use glam::DMat3;

/// One particle's pose as a refinement or a simulation wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// RELION's rotation matrix `A` of (rlnAngleRot, rlnAngleTilt, rlnAnglePsi).
    pub rotation: DMat3,
    /// (rlnOriginXAngst, rlnOriginYAngst) in Å.
    pub origin_angst: [f64; 2],
}

/// The particles of a STAR or Parquet particle file, keyed by image.
#[derive(Debug, Clone)]
pub struct PoseTable {
    /// The file read, for messages.
    pub path: PathBuf,
    /// `rlnImageName` of each row, as written.
    pub names: Vec<String>,
    /// Pose of each row.
    pub poses: Vec<Pose>,
}

impl PoseTable {
    /// Reads the poses of a particle file (STAR of any RELION generation, or Parquet).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let table = read_particle_table(path)?;
        let star = ParticleStar::from_star(table.to_star(path)?, path)?;
        Self::from_table(&star.particles, path)
    }

    /// The poses of a particle table; `path` names the file in errors.
    pub fn from_table(table: &Table, path: &Path) -> anyhow::Result<Self> {
        let shown = path.display();
        let names = table
            .texts("rlnImageName")
            .with_context(|| format!("{shown}: no rlnImageName column to match particles by"))?
            .to_vec();
        let angle = |label: &str| {
            table.floats(label).with_context(|| {
                format!("{shown}: no {label} column (degrees); expected refined or true poses")
            })
        };
        let (rot, tilt, psi) = (
            angle("rlnAngleRot")?,
            angle("rlnAngleTilt")?,
            angle("rlnAnglePsi")?,
        );
        let zeros = vec![0.0; table.rows()];
        let origin = |label: &str| table.floats(label).unwrap_or(&zeros);
        let (x, y) = (origin("rlnOriginXAngst"), origin("rlnOriginYAngst"));
        let poses = (0..table.rows())
            .map(|i| {
                let values = [rot[i], tilt[i], psi[i], x[i], y[i]];
                if values.iter().any(|v| !v.is_finite()) {
                    bail!(
                        "{shown}: particle row {} has a non-finite angle or origin {values:?}; \
                         expected finite degrees and Å",
                        i + 1
                    );
                }
                Ok(Pose {
                    rotation: euler_to_matrix(rot[i], tilt[i], psi[i]),
                    origin_angst: [x[i], y[i]],
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(PoseTable {
            path: path.to_path_buf(),
            names,
            poses,
        })
    }
}

/// Rows of a refinement paired with rows of the truth by image name.
#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    /// (refined row, truth row) for every image present in both files, in refined-row order.
    pub pairs: Vec<(usize, usize)>,
    /// Refined particles whose image is not in the truth.
    pub only_in_data: usize,
    /// True particles whose image is not in the refinement.
    pub only_in_truth: usize,
}

/// Pairs the rows of `data` with those of `truth` by image name; an error when a name repeats
/// within a file or when no image is in both.
pub fn match_by_image(data: &PoseTable, truth: &PoseTable) -> anyhow::Result<Matching> {
    let index = image_index(truth)?;
    image_index(data)?;
    let mut pairs = Vec::with_capacity(data.names.len());
    for (row, name) in data.names.iter().enumerate() {
        if let Some(&truth_row) = index.get(&image_key(name, &data.path, row)?) {
            pairs.push((row, truth_row));
        }
    }
    if pairs.is_empty() && !data.names.is_empty() {
        bail!(
            "no particle of {} is in {} (matched by rlnImageName); e.g. {:?} vs {:?}. Both files \
             must name the images the same way",
            data.path.display(),
            truth.path.display(),
            data.names[0],
            truth.names.first().map_or("", String::as_str),
        );
    }
    Ok(Matching {
        only_in_data: data.names.len() - pairs.len(),
        only_in_truth: truth.names.len() - pairs.len(),
        pairs,
    })
}

/// Per matched particle: (symmetry-aware angular error in degrees, offset error in Å).
pub fn pose_errors(
    data: &PoseTable,
    truth: &PoseTable,
    matching: &Matching,
    symmetry: &SymmetryGroup,
) -> (Vec<f64>, Vec<f64>) {
    matching
        .pairs
        .iter()
        .map(|&(d, t)| {
            let (refined, true_pose) = (&data.poses[d], &truth.poses[t]);
            let angle = symmetry.angular_distance(&refined.rotation, &true_pose.rotation);
            let [dx, dy] = [0, 1].map(|k| refined.origin_angst[k] - true_pose.origin_angst[k]);
            (angle, dx.hypot(dy))
        })
        .unzip()
}

/// Normalised image name: slice number (if any) and the file without `./` components.
type ImageKey = (Option<usize>, PathBuf);

fn image_key(name: &str, path: &Path, row: usize) -> anyhow::Result<ImageKey> {
    let parsed = ImageName::parse(name, path, row)?;
    let file = Path::new(parsed.file)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    Ok((parsed.index, file))
}

/// Image key → row, refusing a file that names one image twice.
fn image_index(table: &PoseTable) -> anyhow::Result<HashMap<ImageKey, usize>> {
    let mut index = HashMap::with_capacity(table.names.len());
    for (row, name) in table.names.iter().enumerate() {
        if let Some(first) = index.insert(image_key(name, &table.path, row)?, row) {
            bail!(
                "{}: particle rows {} and {} name the same image {name:?}; expected each image \
                 once",
                table.path.display(),
                first + 1,
                row + 1
            );
        }
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(path: &str, rows: &[(&str, [f64; 5])]) -> PoseTable {
        PoseTable {
            path: PathBuf::from(path),
            names: rows.iter().map(|(n, _)| n.to_string()).collect(),
            poses: rows
                .iter()
                .map(|(_, [r, t, p, x, y])| Pose {
                    rotation: euler_to_matrix(*r, *t, *p),
                    origin_angst: [*x, *y],
                })
                .collect(),
        }
    }

    #[test]
    fn particles_match_by_name_not_by_row() {
        let truth = table(
            "truth.star",
            &[
                ("000001@sim/p.mrcs", [0.0, 90.0, 0.0, 0.0, 0.0]),
                ("000002@sim/p.mrcs", [10.0, 45.0, 20.0, 1.0, 2.0]),
                ("000003@sim/p.mrcs", [30.0, 60.0, 50.0, 0.0, 0.0]),
            ],
        );
        let data = table(
            "run_data.star",
            &[
                ("2@./sim/p.mrcs", [20.0, 45.0, 20.0, 4.0, 6.0]),
                ("000001@sim/p.mrcs", [0.0, 90.0, 0.0, 0.0, 0.0]),
                ("000009@sim/p.mrcs", [0.0, 0.0, 0.0, 0.0, 0.0]),
            ],
        );
        let matching = match_by_image(&data, &truth).unwrap();
        assert_eq!(matching.pairs, vec![(0, 1), (1, 0)]);
        assert_eq!((matching.only_in_data, matching.only_in_truth), (1, 1));
        let (angles, offsets) = pose_errors(&data, &truth, &matching, &SymmetryGroup::c1());
        // rot + 10° is a rotation by 10° about the map z axis: A·Rz(10°).
        assert!((angles[0] - 10.0).abs() < 1e-9, "{angles:?}");
        assert!((offsets[0] - 5.0).abs() < 1e-12, "{offsets:?}");
        assert!(angles[1].abs() < 1e-6 && offsets[1] == 0.0);
    }

    #[test]
    fn symmetry_mates_have_no_angular_error() {
        let truth = table("t.star", &[("1@p.mrcs", [10.0, 30.0, 40.0, 0.0, 0.0])]);
        let data = table("d.star", &[("1@p.mrcs", [100.0, 30.0, 40.0, 0.0, 0.0])]);
        let matching = match_by_image(&data, &truth).unwrap();
        let c4 = SymmetryGroup::parse("C4").unwrap();
        assert!(pose_errors(&data, &truth, &matching, &c4).0[0] < 1e-6);
        let c1 = SymmetryGroup::c1();
        assert!((pose_errors(&data, &truth, &matching, &c1).0[0] - 90.0).abs() < 1e-6);
    }

    #[test]
    fn repeated_or_disjoint_names_are_errors() {
        let twice = table(
            "twice.star",
            &[("1@p.mrcs", [0.0; 5]), ("000001@p.mrcs", [0.0; 5])],
        );
        let other = table("other.star", &[("1@q.mrcs", [0.0; 5])]);
        let err = match_by_image(&other, &twice).unwrap_err().to_string();
        assert!(
            err.contains("twice.star") && err.contains("rows 1 and 2"),
            "{err}"
        );
        let single = table("single.star", &[("1@p.mrcs", [0.0; 5])]);
        let err = match_by_image(&other, &single).unwrap_err().to_string();
        assert!(err.contains("no particle of other.star"), "{err}");
        let bad = table("bad.star", &[("0@p.mrcs", [0.0; 5])]);
        assert!(match_by_image(&bad, &single).is_err());
    }
}
