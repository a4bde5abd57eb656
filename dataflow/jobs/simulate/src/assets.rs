//! Density maps for simulation and projection: the bundled ground-truth map and maps read from
//! MRC files, both as cubic kernel [`Volume`]s (box N even, voxel size in Å).
//!
//! The bundled map is HIV-1 protease (PDB 1HPV, 1551 atoms, ~57 Å across) in a 48-voxel box at
//! 1.8 Å/voxel, electrons per Å³, band-limited below 0.95 Nyquist, float16 (mode 12); it was
//! made by `tools/pdb_to_map.py`, whose header records its provenance. The demo map is the
//! heat-labile enterotoxin (PDB 1TII, an asymmetric AB5 toxin, 5469 atoms, ~110 Å across) in a
//! 48-voxel box at 3.0 Å/voxel, made the same way: HIV-1 protease is a nearly C2-symmetric
//! dimer, so half of its particles could legitimately be refined to the 2-fold-related pose,
//! which would blur a demo's angular errors.

use cryoflux_formats::mrc::MrcFile;
use cryoflux_jobkit::maps::volume_from_mrc;
use cryoflux_kernels::grid::Volume;

/// File name of the bundled map, shown in messages and STAR headers.
pub const DEFAULT_MAP_NAME: &str = "1hpv_box48_1.8A.mrc";

const DEFAULT_MAP: &[u8] = include_bytes!("../assets/1hpv_box48_1.8A.mrc");

/// File name of the bundled demo map.
pub const DEMO_MAP_NAME: &str = "1tii_box48_3.0A.mrc";

const DEMO_MAP: &[u8] = include_bytes!("../assets/1tii_box48_3.0A.mrc");

/// The bundled map (box 48, 1.8 Å/voxel).
pub fn default_map() -> anyhow::Result<Volume> {
    bundled(DEFAULT_MAP_NAME, DEFAULT_MAP)
}

/// The bundled demo map (PDB 1TII, box 48, 3.0 Å/voxel).
pub fn demo_map() -> anyhow::Result<Volume> {
    bundled(DEMO_MAP_NAME, DEMO_MAP)
}

fn bundled(name: &str, bytes: &'static [u8]) -> anyhow::Result<Volume> {
    let mrc = MrcFile::from_bytes(format!("<bundled {name}>"), bytes.to_vec())?;
    volume_from_mrc(&mrc, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_map_is_the_centred_protease() {
        let map = default_map().unwrap();
        assert_eq!(map.n(), 48);
        assert_eq!(map.pixel_size(), 1.8);
        // Electrons: ~10211 in all (sum × voxel volume), centre of mass on voxel 24.
        let electrons = map.sum() * 1.8f64.powi(3);
        assert!((electrons - 10211.0).abs() < 50.0, "{electrons}");
        let mut centre = [0.0; 3];
        for (i, &v) in map.data().iter().enumerate() {
            let r = Volume::logical_of(48, i);
            for k in 0..3 {
                centre[k] += v.max(0.0) as f64 * r[k] as f64;
            }
        }
        let total: f64 = map.data().iter().map(|&v| v.max(0.0) as f64).sum();
        assert!(centre.iter().all(|c| (c / total).abs() < 0.1), "{centre:?}");
    }
}
