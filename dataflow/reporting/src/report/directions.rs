//! The angular distribution: viewing directions (rot, tilt in degrees) counted in bins of equal
//! solid angle — uniform in rot and in cos(tilt) — so a bin's count is proportional to the
//! particle density per steradian, on an equirectangular rot × tilt map.

use cryoflux_jobkit::plots::Cell;

/// Fewest and most tilt bands (rot gets twice as many bins).
const TILT_BANDS: (usize, usize) = (6, 36);
/// Aim for about this many particles per bin on average.
const PARTICLES_PER_BIN: usize = 5;

/// Number of tilt bands `b` for `particles` directions: about five particles per bin on
/// average over the `2·b²` bins, and 6 ≤ b ≤ 36.
pub fn tilt_bands(particles: usize) -> usize {
    let bands = ((particles / PARTICLES_PER_BIN) as f64 / 2.0)
        .sqrt()
        .round() as usize;
    bands.clamp(TILT_BANDS.0, TILT_BANDS.1)
}

/// Counts of `directions` (rot in [−180, 180], tilt in [0, 180], degrees) in `2·bands` rot
/// sectors × `bands` tilt bands of equal solid angle; one cell per bin, empty ones included.
pub fn direction_cells(directions: &[(f64, f64)], bands: usize) -> Vec<Cell> {
    let bands = bands.max(1);
    let sectors = 2 * bands;
    let mut counts = vec![0usize; sectors * bands];
    for &(rot, tilt) in directions {
        if !(rot.is_finite() && tilt.is_finite()) {
            continue;
        }
        let sector =
            (((rot + 180.0) / 360.0 * sectors as f64).floor().max(0.0) as usize).min(sectors - 1);
        let height = 0.5 * (1.0 - tilt.to_radians().cos());
        let band = ((height * bands as f64).floor().max(0.0) as usize).min(bands - 1);
        counts[band * sectors + sector] += 1;
    }
    let tilt_edge = |b: usize| {
        (1.0 - 2.0 * b as f64 / bands as f64)
            .clamp(-1.0, 1.0)
            .acos()
    };
    let rot_edge = |s: usize| -180.0 + 360.0 * s as f64 / sectors as f64;
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| {
            let (band, sector) = (i / sectors, i % sectors);
            Cell {
                x: rot_edge(sector)..rot_edge(sector + 1),
                y: tilt_edge(band).to_degrees()..tilt_edge(band + 1).to_degrees(),
                value: count as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_have_equal_solid_angle_and_count_each_direction_once() {
        let directions = [(-180.0, 0.0), (179.9, 180.0), (10.0, 100.0), (10.0, 91.0)];
        let cells = direction_cells(&directions, 2);
        assert_eq!(cells.len(), 8);
        assert_eq!(cells.iter().map(|c| c.value).sum::<f64>(), 4.0);
        // Two bands split the sphere at the equator; rot sectors are 90° wide.
        assert!((cells[0].y.end - 90.0).abs() < 1e-9 && cells[0].x == (-180.0..-90.0));
        assert_eq!(cells[0].value, 1.0); // (−180, 0)
        assert_eq!(cells[3].value, 0.0);
        assert_eq!(cells[4 + 2].value, 2.0); // tilt 100 and 91, rot 10: southern band
        assert_eq!(cells[4 + 3].value, 1.0); // (179.9, 180)
        // Solid angle of a bin: Δrot · Δcos(tilt) is the same for all bins.
        let area = |c: &Cell| {
            (c.x.end - c.x.start) * (c.y.start.to_radians().cos() - c.y.end.to_radians().cos())
        };
        let cells = direction_cells(&[], 6);
        assert!(
            cells
                .iter()
                .all(|c| (area(c) - area(&cells[0])).abs() < 1e-9)
        );
    }

    #[test]
    fn band_count_follows_the_particle_count() {
        assert_eq!(tilt_bands(100), 6);
        assert_eq!(tilt_bands(10_000), 32);
        assert_eq!(tilt_bands(10_000_000), 36);
    }
}
