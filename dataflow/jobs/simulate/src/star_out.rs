//! Particle STAR files of written images, RELION 3.1 layout: `data_optics` (one group per
//! distinct microscope, with pixel and image size) and `data_particles` (image name, micrograph,
//! CTF, optics group and, for ground truth, the pose and the simulated intensity factors).

use cryoflux_formats::star::{Column, ColumnData, ParticleFormat, ParticleStar, StarFile, Table};
use cryoflux_jobkit::particles::Pose;
use cryoflux_kernels::fourier::ctf::CtfParams;

use super::intensity::IntensityFactors;

/// What the STAR file says about one written image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    /// `rlnImageName`, e.g. `000001@sim/particles.mrcs` (1-based index, path as RELION resolves
    /// it: relative to the directory the programs run in).
    pub image_name: String,
    /// `rlnMicrographName`, if the image belongs to a (simulated) micrograph.
    pub micrograph: Option<String>,
    /// The pose the image was made at.
    pub pose: Pose,
    /// The CTF applied to the image, if any.
    pub ctf: Option<CtfParams>,
    /// The intensity factors the image was made with (ground truth only).
    pub intensity: IntensityFactors,
}

/// Reads one per-particle CTF value (for the optional columns).
type CtfField = fn(&CtfParams) -> f64;

/// Reads one simulated intensity factor, if it was simulated.
type IntensityField = fn(&IntensityFactors) -> Option<f64>;

/// `value` rounded to `decimals` decimal places. Simulations draw their truth through this, so
/// that the STAR files are short and still state the truth exactly.
pub fn round_decimals(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// `rlnImageName` of image `index` (0-based) in `stack`: RELION's `000001@stack.mrcs`.
pub fn image_name(index: usize, stack: &str) -> String {
    format!("{:06}@{stack}", index + 1)
}

/// The particle file of `images` (all `image_size` pixels of `pixel_size` Å). Only the
/// ground truth (`truth`) has the pose columns (`rlnAngleRot/Tilt/Psi`,
/// `rlnOriginXAngst/YAngst`) and the simulated intensity factors (`rlnGroupScaleCorrection`,
/// `rlnNormCorrection`, each when every image has it), as a RELION extraction has neither.
pub fn particle_star(
    images: &[ImageRecord],
    pixel_size: f64,
    image_size: usize,
    truth: bool,
) -> StarFile {
    let (optics, groups) = optics_table(images, pixel_size, image_size);
    let mut columns = vec![Column::texts(
        "rlnImageName",
        images.iter().map(|r| r.image_name.clone()),
    )];
    if images.iter().all(|r| r.micrograph.is_some()) && !images.is_empty() {
        columns.push(Column::texts(
            "rlnMicrographName",
            images
                .iter()
                .map(|r| r.micrograph.clone().unwrap_or_default()),
        ));
    }
    let ctfs: Vec<CtfParams> = images.iter().filter_map(|r| r.ctf).collect();
    if ctfs.len() == images.len() && !ctfs.is_empty() {
        columns.push(Column::floats(
            "rlnDefocusU",
            ctfs.iter().map(|c| c.defocus_u),
        ));
        columns.push(Column::floats(
            "rlnDefocusV",
            ctfs.iter().map(|c| c.defocus_v),
        ));
        columns.push(Column::floats(
            "rlnDefocusAngle",
            ctfs.iter().map(|c| c.defocus_angle_deg),
        ));
        let defaults = CtfParams::default();
        let optional: [(&str, CtfField); 3] = [
            ("rlnPhaseShift", |c| c.phase_shift_deg),
            ("rlnCtfBfactor", |c| c.bfactor),
            ("rlnCtfScalefactor", |c| c.scale),
        ];
        for (label, get) in optional {
            if ctfs.iter().any(|c| get(c) != get(&defaults)) {
                columns.push(Column::floats(label, ctfs.iter().map(get)));
            }
        }
    }
    columns.push(Column {
        label: "rlnOpticsGroup".into(),
        data: ColumnData::Int(groups),
    });
    if truth {
        let poses = || images.iter().map(|r| r.pose);
        columns.push(Column::floats("rlnAngleRot", poses().map(|p| p.angles.rot)));
        columns.push(Column::floats(
            "rlnAngleTilt",
            poses().map(|p| p.angles.tilt),
        ));
        columns.push(Column::floats("rlnAnglePsi", poses().map(|p| p.angles.psi)));
        columns.push(Column::floats(
            "rlnOriginXAngst",
            poses().map(|p| p.origin[0]),
        ));
        columns.push(Column::floats(
            "rlnOriginYAngst",
            poses().map(|p| p.origin[1]),
        ));
        let factors: [(&str, IntensityField); 2] = [
            ("rlnGroupScaleCorrection", |f| f.group_scale),
            ("rlnNormCorrection", |f| f.norm),
        ];
        for (label, get) in factors {
            let values: Option<Vec<f64>> = images.iter().map(|r| get(&r.intensity)).collect();
            if let Some(values) = values.filter(|v| !v.is_empty()) {
                columns.push(Column::floats(label, values));
            }
        }
    }
    ParticleStar {
        optics,
        particles: table_of(columns),
        source_format: ParticleFormat::Relion31,
    }
    .into_star()
}

/// `data_optics` with one group per distinct (voltage, Cs, Q0) in order of first appearance
/// (one group without microscope columns when no image has a CTF), and each image's group.
fn optics_table(images: &[ImageRecord], pixel_size: f64, image_size: usize) -> (Table, Vec<i64>) {
    let mut scopes: Vec<[f64; 3]> = Vec::new();
    let groups = images
        .iter()
        .map(|r| {
            let Some(c) = r.ctf else { return 1 };
            let scope = [c.voltage_kv, c.cs_mm, c.amplitude_contrast];
            let index = scopes.iter().position(|s| *s == scope).unwrap_or_else(|| {
                scopes.push(scope);
                scopes.len() - 1
            });
            index as i64 + 1
        })
        .collect();
    let count = scopes.len().max(1);
    let mut columns = vec![
        Column::texts(
            "rlnOpticsGroupName",
            (1..=count).map(|g| format!("opticsGroup{g}")),
        ),
        Column::ints("rlnOpticsGroup", 1..=count as i64),
        Column::floats(
            "rlnMicrographOriginalPixelSize",
            (0..count).map(|_| pixel_size),
        ),
    ];
    if !scopes.is_empty() {
        columns.push(Column::floats("rlnVoltage", scopes.iter().map(|s| s[0])));
        columns.push(Column::floats(
            "rlnSphericalAberration",
            scopes.iter().map(|s| s[1]),
        ));
        columns.push(Column::floats(
            "rlnAmplitudeContrast",
            scopes.iter().map(|s| s[2]),
        ));
    }
    columns.push(Column::floats(
        "rlnImagePixelSize",
        (0..count).map(|_| pixel_size),
    ));
    columns.push(Column::ints("rlnImageSize", vec![image_size as i64; count]));
    columns.push(Column::ints("rlnImageDimensionality", vec![2; count]));
    (table_of(columns), groups)
}

fn table_of(columns: Vec<Column>) -> Table {
    // Every column above has one entry per image (or per group) and a distinct label.
    Table::from_columns(columns).unwrap_or_else(|| unreachable!("columns of equal length"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctfs::Microscope;
    use cryoflux_kernels::geometry::euler::EulerAngles;

    #[test]
    fn truth_file_reads_back_with_poses_ctf_and_optics_groups() {
        let scope = Microscope::default().params();
        let records: Vec<ImageRecord> = (0..3)
            .map(|i| ImageRecord {
                image_name: image_name(i, "sim/particles.mrcs"),
                micrograph: Some(format!("mic{i}.mrc")),
                pose: Pose {
                    angles: EulerAngles::new(10.0 * i as f64, 20.0, 30.0),
                    origin: [1.5, -0.25],
                },
                ctf: Some(CtfParams {
                    defocus_u: 15000.0 + i as f64,
                    defocus_v: 14000.0,
                    voltage_kv: if i == 2 { 200.0 } else { 300.0 },
                    ..scope
                }),
                intensity: IntensityFactors {
                    group_scale: None,
                    norm: Some(1.0 + 0.125 * i as f64),
                },
            })
            .collect();
        let text = particle_star(&records, 1.8, 48, true).to_string().unwrap();
        let star = StarFile::parse(&text, std::path::Path::new("t.star")).unwrap();
        let parts = star.block("particles").unwrap().table.as_ref().unwrap();
        assert_eq!(
            parts.texts("rlnImageName").unwrap()[2],
            "000003@sim/particles.mrcs"
        );
        assert_eq!(parts.floats("rlnAngleRot").unwrap(), &[0.0, 10.0, 20.0]);
        assert_eq!(parts.floats("rlnOriginYAngst").unwrap()[1], -0.25);
        assert_eq!(parts.floats("rlnDefocusU").unwrap()[1], 15001.0);
        assert_eq!(parts.ints("rlnOpticsGroup").unwrap(), &[1, 1, 2]);
        assert!(parts.column("rlnCtfBfactor").is_none());
        assert_eq!(
            parts.floats("rlnNormCorrection").unwrap(),
            &[1.0, 1.125, 1.25]
        );
        assert!(parts.column("rlnGroupScaleCorrection").is_none());
        let optics = star.block("optics").unwrap().table.as_ref().unwrap();
        assert_eq!(optics.floats("rlnVoltage").unwrap(), &[300.0, 200.0]);
        assert_eq!(optics.ints("rlnImageSize").unwrap(), &[48, 48]);
        let untruthful = particle_star(&records, 1.8, 48, false);
        let parts = untruthful
            .block("particles")
            .unwrap()
            .table
            .as_ref()
            .unwrap();
        assert!(parts.column("rlnAngleRot").is_none());
        assert!(parts.column("rlnNormCorrection").is_none());
    }
}
