//! Optics groups (`data_optics` rows): the image geometry (pixel size in Å, box in pixels) and
//! the microscope constants (voltage, Cs, amplitude contrast) shared by a group's particles.

use std::path::Path;

use anyhow::bail;
use cryoflux_formats::star::{OPTICS_BLOCK, Table};

use super::columns::Columns;

/// One optics group of a particle file.
#[derive(Debug, Clone, PartialEq)]
pub struct OpticsGroup {
    /// The group's number as the particles name it (`rlnOpticsGroup`, usually 1, 2, …).
    pub number: i64,
    /// Pixel size of the particle images in Å (`rlnImagePixelSize`).
    pub pixel_size: f64,
    /// Side of the square particle images in pixels (`rlnImageSize`); `None` when the file does
    /// not record it (upgraded RELION 3.0 files): the stacks' headers then decide.
    pub image_size: Option<usize>,
    /// Acceleration voltage in kV (`rlnVoltage`), if recorded.
    pub voltage_kv: Option<f64>,
    /// Spherical aberration in mm (`rlnSphericalAberration`), if recorded.
    pub cs_mm: Option<f64>,
    /// Amplitude contrast Q0 in [0, 1] (`rlnAmplitudeContrast`), if recorded.
    pub amplitude_contrast: Option<f64>,
}

/// The optics groups of `table` (block `data_optics` of `path`), in file order. Needs
/// `rlnOpticsGroup` and `rlnImagePixelSize`; the pixel size must be positive and an
/// `rlnImageSize` present must be a positive even number.
pub fn read_optics_groups(table: &Table, path: &Path) -> anyhow::Result<Vec<OpticsGroup>> {
    let columns = Columns::new(table, path, OPTICS_BLOCK);
    let [pixel] = columns.required(["rlnImagePixelSize"], "to know the images' pixel size")?;
    let Some(numbers) = columns.ints("rlnOpticsGroup") else {
        bail!(
            "{}: block data_optics lacks the integer column rlnOpticsGroup",
            path.display()
        );
    };
    let sizes = columns.numbers("rlnImageSize");
    let optional = |label: &str| columns.numbers(label);
    let (voltage, cs, q0) = (
        optional("rlnVoltage"),
        optional("rlnSphericalAberration"),
        optional("rlnAmplitudeContrast"),
    );
    let mut groups = Vec::with_capacity(numbers.len());
    for (row, &number) in numbers.iter().enumerate() {
        let where_ = || {
            format!(
                "{}: data_optics row {} (group {number})",
                path.display(),
                row + 1
            )
        };
        let pixel_size = pixel[row];
        if !(pixel_size.is_finite() && pixel_size > 0.0) {
            bail!(
                "{}: rlnImagePixelSize is {pixel_size}; expected a positive size in Å",
                where_()
            );
        }
        let image_size = match sizes.as_ref().map(|s| s[row]) {
            None => None,
            // 0 is what an upgraded RELION 3.0 file holds for "not known yet".
            Some(0.0) => None,
            Some(s) if s > 0.0 && s.fract() == 0.0 && (s as usize).is_multiple_of(2) => {
                Some(s as usize)
            }
            Some(s) => bail!(
                "{}: rlnImageSize is {s}; expected a positive even number of pixels",
                where_()
            ),
        };
        groups.push(OpticsGroup {
            number,
            pixel_size,
            image_size,
            voltage_kv: voltage.as_ref().map(|v| v[row]),
            cs_mm: cs.as_ref().map(|v| v[row]),
            amplitude_contrast: q0.as_ref().map(|v| v[row]),
        });
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::star::{Column, ColumnData};

    fn optics(pixel: f64, size: i64) -> Table {
        Table::from_columns(vec![
            Column {
                label: "rlnOpticsGroup".into(),
                data: ColumnData::Int(vec![1, 2]),
            },
            Column {
                label: "rlnImagePixelSize".into(),
                data: ColumnData::Float(vec![1.5, pixel]),
            },
            Column {
                label: "rlnImageSize".into(),
                data: ColumnData::Int(vec![64, size]),
            },
            Column {
                label: "rlnVoltage".into(),
                data: ColumnData::Float(vec![300.0, 200.0]),
            },
        ])
        .unwrap()
    }

    #[test]
    fn groups_carry_geometry_and_microscope_constants() {
        let groups = read_optics_groups(&optics(2.0, 0), Path::new("o.star")).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].image_size, Some(64));
        assert_eq!(groups[1].image_size, None, "0 means not known");
        assert_eq!(groups[1].voltage_kv, Some(200.0));
        assert_eq!(groups[1].cs_mm, None);
    }

    #[test]
    fn bad_pixel_or_box_sizes_name_the_row() {
        let message = read_optics_groups(&optics(0.0, 64), Path::new("o.star"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("o.star: data_optics row 2 (group 2)"),
            "{message}"
        );
        let message = read_optics_groups(&optics(1.0, 63), Path::new("o.star"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("rlnImageSize is 63"), "{message}");
    }
}
