//! Optics groups of imported particles: particles share a group when they share cryoSPARC's
//! exposure group (`ctf/exp_group_id`, 0 when absent) and every optics value RELION keeps per
//! group — pixel size (Å), box (px), voltage (kV), Cs (mm) and amplitude contrast. Groups are
//! numbered from 1 in the order of (exposure group, values), so exposure groups 0, 1, … with
//! one set of values each become optics groups 1, 2, … as in pyem (`exp_group_id + 1`).

use std::collections::BTreeMap;

use cryoflux_formats::star::Column;

/// The optics of one particle (or group).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optics {
    /// cryoSPARC's exposure group (`ctf/exp_group_id`), 0 when absent.
    pub exposure_group: u64,
    /// Pixel size of the particle images in Å (`blob/psize_A`).
    pub pixel_size: f64,
    /// Box size of the particle images in px (`blob/shape`).
    pub box_size: u64,
    /// Acceleration voltage in kV (`ctf/accel_kv`).
    pub voltage_kv: f64,
    /// Spherical aberration in mm (`ctf/cs_mm`).
    pub cs_mm: f64,
    /// Amplitude contrast, a fraction (`ctf/amp_contrast`).
    pub amplitude_contrast: f64,
}

impl Optics {
    /// A totally ordered key: the exposure group first, then the values.
    fn key(&self) -> [u64; 6] {
        [
            self.exposure_group,
            self.pixel_size.to_bits(),
            self.box_size,
            self.voltage_kv.to_bits(),
            self.cs_mm.to_bits(),
            self.amplitude_contrast.to_bits(),
        ]
    }
}

/// The distinct optics of `particles`, in group order, and each particle's group number
/// (`rlnOpticsGroup`, from 1).
pub fn group_optics(particles: &[Optics]) -> (Vec<Optics>, Vec<i64>) {
    let mut distinct: BTreeMap<[u64; 6], Optics> = BTreeMap::new();
    for optics in particles {
        distinct.entry(optics.key()).or_insert(*optics);
    }
    let numbers: BTreeMap<[u64; 6], i64> = distinct.keys().zip(1..).map(|(k, n)| (*k, n)).collect();
    let groups = distinct.into_values().collect();
    let assigned = particles.iter().map(|o| numbers[&o.key()]).collect();
    (groups, assigned)
}

/// The `data_optics` columns of `groups` (numbered from 1), in RELION 3.1's order for particles.
pub fn optics_columns(groups: &[Optics]) -> Vec<Column> {
    let each = |f: fn(&Optics) -> f64| groups.iter().map(f).collect::<Vec<_>>();
    vec![
        Column::texts(
            "rlnOpticsGroupName",
            (1..=groups.len()).map(|n| format!("opticsGroup{n}")),
        ),
        Column::ints("rlnOpticsGroup", 1..=groups.len() as i64),
        Column::floats("rlnVoltage", each(|o| o.voltage_kv)),
        Column::floats("rlnSphericalAberration", each(|o| o.cs_mm)),
        Column::floats("rlnAmplitudeContrast", each(|o| o.amplitude_contrast)),
        Column::floats("rlnImagePixelSize", each(|o| o.pixel_size)),
        Column::ints("rlnImageSize", groups.iter().map(|o| o.box_size as i64)),
        Column::ints("rlnImageDimensionality", groups.iter().map(|_| 2)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn optics(exposure_group: u64, pixel_size: f64) -> Optics {
        Optics {
            exposure_group,
            pixel_size,
            box_size: 64,
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
        }
    }

    #[test]
    fn exposure_groups_become_optics_groups_from_one() {
        let particles = [
            optics(1, 1.0),
            optics(0, 1.0),
            optics(1, 1.0),
            optics(2, 1.0),
        ];
        let (groups, numbers) = group_optics(&particles);
        assert_eq!(numbers, [2, 1, 2, 3]);
        assert_eq!(groups.len(), 3);
    }

    #[test]
    fn different_values_split_an_exposure_group() {
        let particles = [optics(0, 1.2), optics(0, 1.0), optics(0, 1.2)];
        let (groups, numbers) = group_optics(&particles);
        assert_eq!(numbers, [2, 1, 2]);
        assert_eq!(groups[0].pixel_size, 1.0);
    }
}
