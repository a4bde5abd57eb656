//! End to end: `cryoflux import --do_cryosparc` on `.cs` files written by `cryosparc-tools` from
//! known RELION values, each converted to cryoSPARC's convention in Python by the forward
//! formulas (written here independently of the importer: RELION's ZYZ matrix A, rotation
//! vector of Aᵀ through a quaternion, shifts in px of the alignment, fractional coordinates
//! with y from the bottom). The imported STAR must give back the RELION values: rotations to
//! 1e-3°, origins, defoci, coordinates, names, subsets, optics groups. A second test does the
//! same for the true poses of `cryoflux simulate`, a third checks that bad input fails clearly
//! and writes nothing.
//!
//! The tests print a skip line without `python3` + `cryosparc-tools` + `starfile`, unless
//! `CRYOFLUX_REQUIRE_INTEROP=1`.

mod common;

use std::path::Path;

use common::{cryoflux_ok, have_python, python, run_cryoflux};
use cryoflux_formats::star::{Column, StarFile, Table};
use cryoflux_formats::table::read_parquet;
use cryoflux_kernels::geometry::euler::{euler_to_matrix, rotation_angle_between};

/// Python: RELION angles (degrees) → cryoSPARC rotation vectors (radians), shifts, locations;
/// and `write(path, rows)` saving a Dataset built from field → values.
const PY_FORWARD: &str = r#"
import numpy as np
from cryosparc.dataset import Dataset

def relion_matrix(rot, tilt, psi):
    a, b, g = np.radians([rot, tilt, psi])
    ca, sa, cb, sb, cg, sg = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(g), np.sin(g)
    return np.array([[cg*cb*ca - sg*sa, cg*cb*sa + sg*ca, -cg*sb],
                     [-sg*cb*ca - cg*sa, -sg*cb*sa + cg*ca, sg*sb],
                     [sb*ca, sb*sa, cb]])

def rotation_vector(r):
    # Quaternion of the proper rotation r (Shepperd's method), then angle·axis.
    t = np.trace(r)
    cands = [t, r[0,0], r[1,1], r[2,2]]
    k = int(np.argmax(cands))
    if k == 0:
        w = np.sqrt(1 + t) / 2
        x, y, z = (r[2,1]-r[1,2])/(4*w), (r[0,2]-r[2,0])/(4*w), (r[1,0]-r[0,1])/(4*w)
    elif k == 1:
        x = np.sqrt(1 + 2*r[0,0] - t) / 2
        w, y, z = (r[2,1]-r[1,2])/(4*x), (r[0,1]+r[1,0])/(4*x), (r[0,2]+r[2,0])/(4*x)
    elif k == 2:
        y = np.sqrt(1 + 2*r[1,1] - t) / 2
        w, x, z = (r[0,2]-r[2,0])/(4*y), (r[0,1]+r[1,0])/(4*y), (r[1,2]+r[2,1])/(4*y)
    else:
        z = np.sqrt(1 + 2*r[2,2] - t) / 2
        w, x, y = (r[1,0]-r[0,1])/(4*z), (r[0,2]+r[2,0])/(4*z), (r[1,2]+r[2,1])/(4*z)
    if w < 0:
        w, x, y, z = -w, -x, -y, -z
    s = np.sqrt(x*x + y*y + z*z)
    if s < 1e-15:
        return np.zeros(3)
    return 2 * np.arctan2(s, w) * np.array([x, y, z]) / s

def cs_pose(rot, tilt, psi):
    # cryoSPARC's pose is the rotation vector of R = Aᵀ (image → map).
    return rotation_vector(relion_matrix(rot, tilt, psi).T)

def write(path, fields, values):
    d = Dataset.allocate(len(values['uid']), fields=fields)
    for name, column in values.items():
        d[name] = column
    d.save(path)
"#;

/// Reads `dir/out/particles.star` (optics, particles).
fn read_output(star: &Path) -> (Table, Table) {
    let file = StarFile::read(star).unwrap();
    let table = |name: &str| file.block(name).unwrap().table.clone().unwrap();
    (table("optics"), table("particles"))
}

fn floats<'a>(table: &'a Table, label: &str) -> &'a [f64] {
    table
        .floats(label)
        .unwrap_or_else(|| panic!("no float column {label}"))
}

/// The largest rotation angle (degrees) between the poses of `got` and `want`.
fn worst_rotation_error(got: &Table, want: &Table) -> f64 {
    let angles = |t: &Table| -> Vec<_> {
        let [rot, tilt, psi] =
            ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"].map(|l| floats(t, l).to_vec());
        (0..rot.len())
            .map(|i| euler_to_matrix(rot[i], tilt[i], psi[i]))
            .collect()
    };
    angles(got)
        .iter()
        .zip(angles(want))
        .map(|(a, b)| rotation_angle_between(a, &b))
        .fold(0.0, f64::max)
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn known_relion_values_come_back_from_cryosparc_tools_files() {
    if !have_python(&["cryosparc", "numpy"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // 12 particles on 2 micrographs (4096 × 3072 px: nx 4096, ny 3072) in 2 exposure groups;
    // poses cover gimbal-lock neighbourhoods (tilt 0.3°, 179.9°) and rot/psi near ±180°.
    let script = format!(
        r#"{PY_FORWARD}
import json
n = 12
i = np.arange(n)
rot = np.array([10, -170, 179.5, 45, 0, -90, 33.3, 120, -45, 5, 150, -179.9])
tilt = np.array([20, 95, 0.3, 179.9, 90, 60, 150.5, 10, 45, 120, 89, 1])
psi = np.array([30, 179, -60, -150, 0, 90, -33, 170, -179.5, 75, -120, 10])
pixel = 1.06
origin_x = 0.37 * i - 2.0      # Å
origin_y = 1.5 - 0.29 * i
coord_x = 100 + 301 * i        # px
coord_y = 3000 - 241 * i
uid = 10**18 + 7919 * i
uid21 = '012345678901234567890'
group = i % 2
main = [('uid', '<u8'), ('blob/path', 'O'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)),
        ('blob/psize_A', '<f4'), ('ctf/exp_group_id', '<u4'), ('ctf/accel_kv', '<f4'),
        ('ctf/cs_mm', '<f4'), ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'),
        ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4'), ('ctf/phase_shift_rad', '<f4'),
        ('alignments3D/pose', '<f4', (3,)), ('alignments3D/shift', '<f4', (2,)),
        ('alignments3D/psize_A', '<f4'), ('alignments3D/split', '<u4'), ('alignments3D/class', '<u4')]
align_psize = 2.12   # the refinement ran on 2× binned particles
write('{d}/particles.cs', main, {{
    'uid': uid,
    'blob/path': [f'>J5/extract/{{uid21}}_mic{{k // 6}}_particles.mrcs' for k in i],
    'blob/idx': i % 6,
    'blob/shape': np.full((n, 2), 64),
    'blob/psize_A': pixel,
    'ctf/exp_group_id': group,
    'ctf/accel_kv': 300, 'ctf/cs_mm': np.where(group == 0, 2.7, 0.01), 'ctf/amp_contrast': 0.1,
    'ctf/df1_A': 15000 + 250.5 * i, 'ctf/df2_A': 14500 + 125.25 * i,
    'ctf/df_angle_rad': np.radians(-170 + 29 * i),
    'ctf/phase_shift_rad': np.radians(5.0 * i),
    'alignments3D/pose': np.array([cs_pose(*a) for a in zip(rot, tilt, psi)]),
    'alignments3D/shift': np.stack([origin_x, origin_y], axis=1) / align_psize,
    'alignments3D/psize_A': align_psize,
    'alignments3D/split': i % 2,
    'alignments3D/class': i % 3,
}})
# The passthrough has the locations, in another row order, plus an extra particle.
order = np.r_[n, np.arange(n)[::-1]]
uid_p = np.r_[uid, 5][order]
xs = np.r_[coord_x, 0][order]
ys = np.r_[coord_y, 0][order]
write('{d}/passthrough.cs', [('uid', '<u8'), ('location/micrograph_path', 'O'),
        ('location/micrograph_shape', '<u4', (2,)), ('location/center_x_frac', '<f4'),
        ('location/center_y_frac', '<f4')], {{
    'uid': uid_p,
    'location/micrograph_path': [f'J2/motioncorrected/{{uid21}}_mic{{k // 6 if k < n else 9}}.mrc' for k in order],
    'location/micrograph_shape': np.tile([3072, 4096], (n + 1, 1)),
    'location/center_x_frac': xs / 4096,
    'location/center_y_frac': 1 - ys / 3072,
}})
print(json.dumps({{'rot': rot.tolist(), 'tilt': tilt.tolist(), 'psi': psi.tolist(),
    'ox': origin_x.tolist(), 'oy': origin_y.tolist(), 'x': coord_x.tolist(), 'y': coord_y.tolist()}}))
"#
    );
    let truth: Vec<Vec<f64>> = {
        let text = python(&script);
        let keys = ["rot", "tilt", "psi", "ox", "oy", "x", "y"];
        keys.iter()
            .map(|k| {
                let start = text.find(&format!("\"{k}\": [")).unwrap() + k.len() + 5;
                let end = start + text[start..].find(']').unwrap();
                text[start..end]
                    .split(',')
                    .map(|v| v.trim().parse().unwrap())
                    .collect()
            })
            .collect()
    };
    let out = dir.path().join("Import/job003");
    cryoflux_ok(&[
        "import",
        "--do_cryosparc",
        "--i",
        &format!("{d}/particles.cs"),
        "--passthrough",
        &format!("{d}/passthrough.cs"),
        "--odir",
        out.to_str().unwrap(),
        "--strip_uid",
        "--micrograph_path",
        "MotionCorr/job002/Movies",
    ]);
    let (optics, particles) = read_output(&out.join("particles.star"));

    // Poses: the same rotations (any equivalent Euler triplet).
    let want = Table::from_columns(
        ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"]
            .iter()
            .zip(&truth)
            .map(|(label, values)| Column::floats(label, values.iter().copied()))
            .collect(),
    )
    .unwrap();
    let rotation_error = worst_rotation_error(&particles, &want);
    println!("worst rotation error {rotation_error:.2e}°");
    assert!(rotation_error < 1e-3, "{rotation_error}°");

    // Origins in Å (float32 shifts in px of the 2.12 Å alignment), coordinates in px.
    let origin_x = max_difference(floats(&particles, "rlnOriginXAngst"), &truth[3]);
    let origin_y = max_difference(floats(&particles, "rlnOriginYAngst"), &truth[4]);
    println!("worst origin error {:.2e} Å", origin_x.max(origin_y));
    assert!(origin_x.max(origin_y) < 1e-5);
    assert_eq!(floats(&particles, "rlnCoordinateX"), &truth[5][..]);
    assert_eq!(floats(&particles, "rlnCoordinateY"), &truth[6][..]);

    // CTF: defoci (Å), angles (degrees) within float32 precision.
    let n = 12;
    let expect = |f: fn(f64) -> f64| (0..n).map(|i| f(i as f64)).collect::<Vec<_>>();
    let defocus_u = max_difference(
        floats(&particles, "rlnDefocusU"),
        &expect(|i| 15000.0 + 250.5 * i),
    );
    let defocus_v = max_difference(
        floats(&particles, "rlnDefocusV"),
        &expect(|i| 14500.0 + 125.25 * i),
    );
    assert!(defocus_u.max(defocus_v) < 1e-9, "{defocus_u} {defocus_v}");
    let angle = max_difference(
        floats(&particles, "rlnDefocusAngle"),
        &expect(|i| -170.0 + 29.0 * i),
    );
    let phase = max_difference(floats(&particles, "rlnPhaseShift"), &expect(|i| 5.0 * i));
    assert!(angle.max(phase) < 1e-4, "{angle} {phase}");

    // Names, indices, subsets, classes, optics groups.
    let names = particles.texts("rlnImageName").unwrap();
    assert_eq!(names[0], "000001@J5/extract/mic0_particles.mrcs");
    assert_eq!(names[7], "000002@J5/extract/mic1_particles.mrcs");
    let micrographs = particles.texts("rlnMicrographName").unwrap();
    assert_eq!(micrographs[0], "MotionCorr/job002/Movies/mic0.mrc");
    assert_eq!(micrographs[11], "MotionCorr/job002/Movies/mic1.mrc");
    let subsets: Vec<i64> = (0..n).map(|i| i % 2 + 1).collect();
    assert_eq!(particles.ints("rlnRandomSubset").unwrap(), subsets);
    let classes: Vec<i64> = (0..n).map(|i| i % 3 + 1).collect();
    assert_eq!(particles.ints("rlnClassNumber").unwrap(), classes);
    assert_eq!(particles.ints("rlnOpticsGroup").unwrap(), subsets);
    assert_eq!(optics.ints("rlnOpticsGroup").unwrap(), [1, 2]);
    assert_eq!(optics.ints("rlnImageSize").unwrap(), [64, 64]);
    let cs = floats(&optics, "rlnSphericalAberration");
    assert!(
        (cs[0] - 2.7).abs() < 1e-6 && (cs[1] - 0.01).abs() < 1e-6,
        "{cs:?}"
    );
    assert!((floats(&optics, "rlnImagePixelSize")[0] - 1.06).abs() < 1e-6);

    // The Parquet twin holds the same particles.
    let parquet = read_parquet(&out.join("particles.parquet")).unwrap();
    assert_eq!(parquet.rows.num_rows(), n as usize);
    assert_eq!(parquet.main_block_name(), "particles");
}

#[test]
fn simulated_ground_truth_survives_the_round_trip_through_cryosparc() {
    if !have_python(&["cryosparc", "numpy", "starfile"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    cryoflux_ok(&["simulate", "--n", "50", "--o", sim.to_str().unwrap()]);
    let d = dir.path().display();
    // truth.star → particles.cs with the forward formulas (1.8 Å pixels, box 48, the images
    // at their 0-based index in particles.mrcs).
    python(&format!(
        r#"{PY_FORWARD}
import starfile
star = starfile.read('{d}/sim/truth.star')
optics, p = star['optics'], star['particles']
n = len(p)
pixel = float(optics['rlnImagePixelSize'][0])
size = int(optics['rlnImageSize'][0])
stack = [name.split('@') for name in p['rlnImageName']]
write('{d}/particles.cs', [('uid', '<u8'), ('blob/path', 'O'), ('blob/idx', '<u4'),
        ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4'), ('ctf/accel_kv', '<f4'),
        ('ctf/cs_mm', '<f4'), ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'),
        ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4'), ('alignments3D/pose', '<f4', (3,)),
        ('alignments3D/shift', '<f4', (2,)), ('alignments3D/split', '<u4')], {{
    'uid': np.arange(n) + 1000,
    'blob/path': [path for _, path in stack],
    'blob/idx': [int(k) - 1 for k, _ in stack],
    'blob/shape': np.full((n, 2), size),
    'blob/psize_A': pixel,
    'ctf/accel_kv': float(optics['rlnVoltage'][0]),
    'ctf/cs_mm': float(optics['rlnSphericalAberration'][0]),
    'ctf/amp_contrast': float(optics['rlnAmplitudeContrast'][0]),
    'ctf/df1_A': p['rlnDefocusU'], 'ctf/df2_A': p['rlnDefocusV'],
    'ctf/df_angle_rad': np.radians(p['rlnDefocusAngle']),
    'alignments3D/pose': np.array([cs_pose(*a) for a in
        zip(p['rlnAngleRot'], p['rlnAngleTilt'], p['rlnAnglePsi'])]),
    'alignments3D/shift': np.stack([p['rlnOriginXAngst'], p['rlnOriginYAngst']], axis=1) / pixel,
    'alignments3D/split': np.arange(n) % 2,
}})
"#
    ));
    let out = dir.path().join("Import");
    cryoflux_ok(&[
        "import",
        "--do_cryosparc",
        "--i",
        &format!("{d}/particles.cs"),
        "--odir",
        out.to_str().unwrap(),
    ]);
    let (optics, got) = read_output(&out.join("particles.star"));
    let (want_optics, want) = read_output(&sim.join("truth.star"));
    assert_eq!(got.texts("rlnImageName"), want.texts("rlnImageName"));
    let rotation_error = worst_rotation_error(&got, &want);
    let origin_error = ["rlnOriginXAngst", "rlnOriginYAngst"]
        .map(|l| max_difference(floats(&got, l), floats(&want, l)))
        .into_iter()
        .fold(0.0, f64::max);
    let defocus_error = ["rlnDefocusU", "rlnDefocusV"]
        .map(|l| max_difference(floats(&got, l), floats(&want, l)))
        .into_iter()
        .fold(0.0, f64::max);
    let angle_error = max_difference(
        floats(&got, "rlnDefocusAngle"),
        floats(&want, "rlnDefocusAngle"),
    );
    println!(
        "50 simulated particles: rotation {rotation_error:.2e}°, origin {origin_error:.2e} Å, \
         defocus {defocus_error:.2e} Å, astigmatism angle {angle_error:.2e}°"
    );
    // float32 storage: rotations ~1e-5°, origins ~1e-6 Å; defoci (two decimals in truth.star)
    // come back exactly as the shortest decimal of their float32.
    assert!(rotation_error < 1e-3, "{rotation_error}°");
    assert!(origin_error < 1e-4, "{origin_error} Å");
    assert!(defocus_error < 1e-9, "{defocus_error} Å");
    assert!(angle_error < 1e-4, "{angle_error}°");
    for label in ["rlnImagePixelSize", "rlnVoltage", "rlnAmplitudeContrast"] {
        let (a, b) = (floats(&optics, label)[0], floats(&want_optics, label)[0]);
        assert!((a - b).abs() < 1e-6, "{label}: {a} vs {b}");
    }
    assert_eq!(
        optics.ints("rlnImageSize"),
        want_optics.ints("rlnImageSize")
    );
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    if !have_python(&["cryosparc", "numpy"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    python(&format!(
        r#"{PY_FORWARD}
ctf = [('ctf/accel_kv', '<f4'), ('ctf/cs_mm', '<f4'), ('ctf/amp_contrast', '<f4'),
       ('ctf/df1_A', '<f4'), ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4')]
values = {{'uid': [1, 2, 3], 'blob/idx': [0, 1, 2], 'blob/shape': np.full((3, 2), 32),
          'blob/psize_A': 1.0, 'ctf/accel_kv': 300, 'ctf/cs_mm': 2.7, 'ctf/amp_contrast': 0.1,
          'ctf/df1_A': 1e4, 'ctf/df2_A': 1e4, 'ctf/df_angle_rad': 0}}
blob = [('uid', '<u8'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4')]
write('{d}/no_path.cs', blob + ctf, values)
write('{d}/good.cs', blob + [('blob/path', 'O')] + ctf, {{**values, 'blob/path': ['a.mrcs'] * 3}})
write('{d}/other.cs', [('uid', '<u8'), ('location/micrograph_path', 'O')],
      {{'uid': [1, 2], 'location/micrograph_path': ['m.mrc'] * 2}})
"#
    ));
    let out = dir.path().join("out");
    let fails = |args: &[&str], expected: &str| {
        let mut all = vec!["import", "--do_cryosparc", "--odir", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let output = run_cryoflux(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    };
    fails(&["--i", &format!("{d}/no_path.cs")], "\"blob/path\"");
    fails(
        &[
            "--i",
            &format!("{d}/good.cs"),
            "--passthrough",
            &format!("{d}/other.cs"),
        ],
        "has no particle with uid 3",
    );
    fails(&["--i", &format!("{d}/missing.cs")], "missing.cs");
}
