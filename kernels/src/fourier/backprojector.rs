//! Insertion of 2D Fourier slices into 3D data and weight accumulators (refine.md §2.1, §2.2,
//! §2.7), the adjoint of [`crate::fourier::projector`].
//!
//! Accumulators are `f64` (complex data, real weights) on the projector's padded, centred grid,
//! so that summing hundreds of thousands of particles loses nothing; they form an Abelian group
//! under [`BackProjector::add`], so partial sums from any number of workers can be reduced in
//! any fixed order.

use crate::fourier::padded::PaddedGeometry;
use crate::grid::{
    CentredGrid, Complex64, FourierImage, FourierValue, FourierVolume, GridError, HalfGrid,
    Interpolation, half_width, wrapped_to_logical,
};
use glam::{DMat3, DVec3};
use rayon::prelude::*;

/// How a [`BackProjector`] is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackProjectorOptions {
    /// Padding factor (default 2); must match the projector's for consistent reconstructions.
    pub padding: usize,
    /// Largest inserted frequency, in shells of the unpadded box (default and maximum N/2).
    pub r_max: Option<usize>,
    /// Trilinear (default) or nearest-neighbour spreading.
    pub interpolation: Interpolation,
}

impl Default for BackProjectorOptions {
    /// Padding 2, Nyquist, trilinear (RELION's defaults).
    fn default() -> Self {
        Self {
            padding: 2,
            r_max: None,
            interpolation: Interpolation::Trilinear,
        }
    }
}

/// Accumulated Fourier data Σ CTF·X and weights Σ CTF² of one half set (or one worker's part).
#[derive(Debug, Clone, PartialEq)]
pub struct BackProjector {
    geometry: PaddedGeometry,
    data: CentredGrid<Complex64>,
    weight: CentredGrid<f64>,
}

impl BackProjector {
    /// Empty accumulators for a map of box `ori_size` (N, even) and `pixel_size` Å.
    pub fn new(
        ori_size: usize,
        pixel_size: f64,
        options: &BackProjectorOptions,
    ) -> Result<Self, GridError> {
        crate::grid::check_pixel_size("backprojector pixel size (Å)", pixel_size)?;
        let geometry = PaddedGeometry::new(
            ori_size,
            pixel_size,
            options.padding,
            options.r_max,
            options.interpolation,
        )?;
        let radius = options.padding * geometry.r_max;
        Ok(Self {
            geometry,
            data: CentredGrid::zeros(radius),
            weight: CentredGrid::zeros(radius),
        })
    }

    /// Rebuilds accumulators from their contents, e.g. after they crossed a process boundary:
    /// box `ori_size` (N, pixels), `pixel_size` Å, the layout `options` (its `r_max` as
    /// [`Self::geometry`] returned it) and the values of [`Self::data`] and [`Self::weight`] in
    /// storage order. Fails if the layout is invalid or the value counts do not match it.
    pub fn from_parts(
        ori_size: usize,
        pixel_size: f64,
        options: &BackProjectorOptions,
        data: &[Complex64],
        weight: &[f64],
    ) -> Result<Self, GridError> {
        let mut bp = Self::new(ori_size, pixel_size, options)?;
        let expected = bp.data.data().len();
        for (what, found) in [
            ("backprojector data values", data.len()),
            ("backprojector weight values", weight.len()),
        ] {
            if found != expected {
                return Err(GridError::Mismatch {
                    what,
                    expected: format!(
                        "{expected} values for box {ori_size}, padding {}, r_max {}",
                        bp.geometry.padding, bp.geometry.r_max
                    ),
                    found: format!("{found} values"),
                });
            }
        }
        bp.data.data_mut().copy_from_slice(data);
        bp.weight.data_mut().copy_from_slice(weight);
        Ok(bp)
    }

    /// The map's box (N, pixels) and pixel size (Å), the padding factor, the largest inserted
    /// frequency (shells of the unpadded box) and the interpolation used for insertion (and
    /// hence for the gridding correction).
    pub fn geometry(&self) -> &PaddedGeometry {
        &self.geometry
    }

    /// Accumulated data Σ CTF·X (padded, centred grid; pad³·N scaling of the projector).
    pub fn data(&self) -> &CentredGrid<Complex64> {
        &self.data
    }

    /// Accumulated weights Σ CTF² on the same grid.
    pub fn weight(&self) -> &CentredGrid<f64> {
        &self.weight
    }

    /// Inserts one particle: `image` is its centred transform already multiplied by its CTF
    /// (any even box whose integer frequencies are those of the N box), `weights` the matching
    /// CTF² (same shape), `a` its pose (RELION's matrix A). Pixels with kx = 0, ky < 0 are
    /// skipped (their Friedel mates carry the same information); frequencies beyond r_max are
    /// dropped.
    pub fn backproject(
        &mut self,
        image: &FourierImage,
        weights: &HalfGrid<f32, 2>,
        a: &DMat3,
    ) -> Result<(), GridError> {
        image.check_same_shape("backprojection weights vs image", weights)?;
        let n = image.n();
        let h = half_width(n);
        let r_in = self.geometry.r_max.min(n / 2) as i64;
        let pad = self.geometry.padding as f64;
        let (a0, a1) = (a.row(0) * pad, a.row(1) * pad);
        let max_r2 = (self.data.radius() * self.data.radius()) as f64;
        let rows = image.data().chunks(h).zip(weights.data().chunks(h));
        for (row, (values, ws)) in rows.enumerate() {
            let ky = wrapped_to_logical(row, n);
            for (kx, (v, &w)) in values.iter().zip(ws).enumerate() {
                let kx = kx as i64;
                if (kx == 0 && ky < 0) || kx * kx + ky * ky > r_in * r_in {
                    continue;
                }
                let q: DVec3 = a0 * kx as f64 + a1 * ky as f64;
                if q.length_squared() > max_r2 {
                    continue;
                }
                let value = Complex64::new(v.re as f64, v.im as f64);
                self.data
                    .splat(q.to_array(), value, self.geometry.interpolation);
                self.weight
                    .splat(q.to_array(), w as f64, self.geometry.interpolation);
            }
        }
        Ok(())
    }

    /// Adds another accumulator of the same layout (reduction of partial sums).
    pub fn add(&mut self, other: &Self) -> Result<(), GridError> {
        self.check_same_layout(other)?;
        self.data.add(&other.data)?;
        self.weight.add(&other.weight)
    }

    fn check_same_layout(&self, other: &Self) -> Result<(), GridError> {
        let layout = |b: &Self| {
            let g = &b.geometry;
            (g.ori_size, g.padding, g.r_max, g.interpolation)
        };
        if layout(self) == layout(other) {
            Ok(())
        } else {
            Err(GridError::Mismatch {
                what: "backprojector layouts (box, padding, r_max, interpolation)",
                expected: format!("{:?}", layout(self)),
                found: format!("{:?}", layout(other)),
            })
        }
    }

    /// RELION's `symmetriseReconstructions`: (a) makes the kx = 0 plane Hermitian by summing
    /// each pair (0, y, z), (0, −y, −z) (data conjugated) into both; (b) for a point group
    /// given by its operators `ops` (matrices acting on map coordinates, e.g.
    /// `SymmetryGroup::operators()`; identity matrices in the list are ignored), adds to every k
    /// within the inserted sphere the interpolated data and weight at R·k for each
    /// non-identity operator (no division by the group order). Call it (with `&[]` for C1)
    /// before [`crate::reconstruct`] and before taking FSCs.
    pub fn symmetrise(&mut self, ops: &[DMat3]) {
        hermitian_kx0(&mut self.data);
        hermitian_kx0(&mut self.weight);
        let ops: Vec<DMat3> = ops
            .iter()
            .filter(|r| !r.abs_diff_eq(DMat3::IDENTITY, 1e-9))
            .copied()
            .collect();
        if !ops.is_empty() {
            self.data = apply_point_group(&self.data, &ops, self.geometry.interpolation);
            self.weight = apply_point_group(&self.weight, &ops, self.geometry.interpolation);
        }
    }

    /// RELION's low-resolution join of the two half sets (`--low_resol_join_halves`): data and
    /// weights of both are replaced by their average at all padded-grid points within
    /// `radius_shells` (unpadded shells) of the origin.
    pub fn join_low_resolution(
        &mut self,
        other: &mut Self,
        radius_shells: f64,
    ) -> Result<(), GridError> {
        self.check_same_layout(other)?;
        let r = (self.geometry.padding as f64 * radius_shells).round();
        let r2 = (r * r) as i64;
        for i in 0..self.data.data().len() {
            let [x, y, z] = self.data.frequency(i);
            if x * x + y * y + z * z <= r2 {
                let d = (self.data.data()[i] + other.data.data()[i]) * 0.5;
                let w = (self.weight.data()[i] + other.weight.data()[i]) * 0.5;
                self.data.data_mut()[i] = d;
                other.data.data_mut()[i] = d;
                self.weight.data_mut()[i] = w;
                other.weight.data_mut()[i] = w;
            }
        }
        Ok(())
    }

    /// The boxcar-downsampled average D/W on the unpadded half array of box N
    /// (refine.md §3.1): avg(K) = Σ D(k) / Σ W(k) over padded k with round(k/pad) = K, zero where
    /// the weight sum is zero or |K| > r_max. The two halves' versions give the gold-standard FSC.
    pub fn downsampled_average(&self) -> Result<FourierVolume, GridError> {
        let n = self.geometry.ori_size;
        let mut num = HalfGrid::<Complex64, 3>::zeros(n, self.geometry.pixel_size)?;
        let mut den = HalfGrid::<f64, 3>::zeros(n, self.geometry.pixel_size)?;
        let pad = self.geometry.padding as f64;
        let r2 = (self.geometry.r_max * self.geometry.r_max) as i64;
        for i in 0..self.data.data().len() {
            let k = self.data.frequency(i);
            let big = k.map(|c| (c as f64 / pad).round() as i64);
            if big[0] * big[0] + big[1] * big[1] + big[2] * big[2] > r2 {
                continue;
            }
            if let Some(j) = num.index_of(big[0], big[1], big[2]) {
                num.data_mut()[j] += self.data.data()[i];
                den.data_mut()[j] += self.weight.data()[i];
            }
        }
        let values = num
            .data()
            .iter()
            .zip(den.data())
            .map(|(d, &w)| {
                if w > 0.0 {
                    crate::grid::Complex32::new((d.re / w) as f32, (d.im / w) as f32)
                } else {
                    Default::default()
                }
            })
            .collect();
        FourierVolume::from_vec(n, self.geometry.pixel_size, values)
    }
}

/// Sums each kx = 0 pair (0, y, z), (0, −y, −z) into both (the second conjugated).
fn hermitian_kx0<T: FourierValue>(grid: &mut CentredGrid<T>) {
    let r = grid.radius() as i64 + 1;
    for z in -r..=r {
        for y in -r..=r {
            if (z, y) <= (0, 0) {
                continue;
            }
            if let (Some(i), Some(j)) = (grid.index_of(0, y, z), grid.index_of(0, -y, -z)) {
                let mut s = grid.data()[i];
                s += grid.data()[j].conj();
                grid.data_mut()[i] = s;
                grid.data_mut()[j] = s.conj();
            }
        }
    }
}

/// Σ over the identity and `ops` of the grid read at R·k, for k inside the inserted sphere.
fn apply_point_group<T: FourierValue>(
    grid: &CentredGrid<T>,
    ops: &[DMat3],
    method: Interpolation,
) -> CentredGrid<T> {
    let mut out = grid.clone();
    let r2 = (grid.radius() * grid.radius()) as i64;
    let (nx, ny) = grid.dims();
    out.data_mut()
        .par_chunks_mut(nx * ny)
        .enumerate()
        .for_each(|(plane, values)| {
            for (local, v) in values.iter_mut().enumerate() {
                let [x, y, z] = grid.frequency(plane * nx * ny + local);
                if x * x + y * y + z * z > r2 {
                    continue;
                }
                let k = DVec3::new(x as f64, y as f64, z as f64);
                for op in ops {
                    *v += grid.interpolate((*op * k).to_array(), method);
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Complex32;

    fn constant_image(n: usize, value: Complex32) -> (FourierImage, HalfGrid<f32, 2>) {
        let mut img = FourierImage::zeros(n, 1.0).unwrap();
        img.data_mut().iter_mut().for_each(|v| *v = value);
        (
            img,
            HalfGrid::<f32, 2>::from_vec(n, 1.0, vec![1.0; HalfGrid::<f32, 2>::len_for(n)])
                .unwrap(),
        )
    }

    #[test]
    fn identity_pose_fills_the_kz0_plane_with_unit_weights() {
        let mut bp = BackProjector::new(8, 1.0, &BackProjectorOptions::default()).unwrap();
        let (img, w) = constant_image(8, Complex32::new(2.0, 0.0));
        bp.backproject(&img, &w, &DMat3::IDENTITY).unwrap();
        let i = bp.weight().index_of(2, 4, 0).unwrap(); // k = (1, 2) at padding 2
        assert_eq!(bp.weight().data()[i], 1.0);
        assert_eq!(bp.data().data()[i], Complex64::new(2.0, 0.0));
        let between = bp.weight().index_of(1, 4, 0).unwrap();
        assert_eq!(bp.weight().data()[between], 0.0);
        // Total weight = number of inserted pixels (disc of radius 4, minus kx = 0, ky < 0).
        let inserted = (0..=4i64)
            .flat_map(|x| (-3..=4i64).map(move |y| (x, y)))
            .filter(|&(x, y)| x * x + y * y <= 16 && !(x == 0 && y < 0))
            .count();
        let total: f64 = bp.weight().data().iter().sum();
        assert!((total - inserted as f64).abs() < 1e-9);
    }

    #[test]
    fn add_sums_and_rejects_other_layouts() {
        let mut a = BackProjector::new(8, 1.0, &BackProjectorOptions::default()).unwrap();
        let (img, w) = constant_image(8, Complex32::new(1.0, 1.0));
        a.backproject(
            &img,
            &w,
            &crate::geometry::euler::euler_to_matrix(10.0, 20.0, 30.0),
        )
        .unwrap();
        let mut b = a.clone();
        b.add(&a).unwrap();
        let sa: f64 = a.weight().data().iter().sum();
        let sb: f64 = b.weight().data().iter().sum();
        assert!((sb - 2.0 * sa).abs() < 1e-9);
        let other = BackProjector::new(
            8,
            1.0,
            &BackProjectorOptions {
                padding: 1,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(b.add(&other).is_err());
    }

    #[test]
    fn from_parts_rebuilds_the_accumulators_and_checks_counts() {
        let options = BackProjectorOptions {
            r_max: Some(3),
            interpolation: Interpolation::NearestNeighbour,
            ..Default::default()
        };
        let mut a = BackProjector::new(8, 1.5, &options).unwrap();
        let (img, w) = constant_image(8, Complex32::new(1.0, -2.0));
        a.backproject(
            &img,
            &w,
            &crate::geometry::euler::euler_to_matrix(10.0, 20.0, 30.0),
        )
        .unwrap();
        let layout = BackProjectorOptions {
            padding: a.geometry().padding,
            r_max: Some(a.geometry().r_max),
            interpolation: a.geometry().interpolation,
        };
        let (data, weight) = (a.data().data(), a.weight().data());
        let b = BackProjector::from_parts(8, 1.5, &layout, data, weight).unwrap();
        assert_eq!(a, b);
        let err = BackProjector::from_parts(8, 1.5, &layout, data, &weight[1..]).unwrap_err();
        assert!(err.to_string().contains("weight values"), "{err}");
        let wider = BackProjectorOptions {
            r_max: None,
            ..layout
        };
        assert!(BackProjector::from_parts(8, 1.5, &wider, data, weight).is_err());
    }

    #[test]
    fn symmetrise_makes_kx0_hermitian_and_c2_doubles_weight() {
        let mut bp = BackProjector::new(8, 1.0, &BackProjectorOptions::default()).unwrap();
        let (img, w) = constant_image(8, Complex32::new(1.0, 0.5));
        bp.backproject(
            &img,
            &w,
            &crate::geometry::euler::euler_to_matrix(0.0, 90.0, 0.0),
        )
        .unwrap();
        let before: f64 = bp.weight().data().iter().sum();
        let c2 = DMat3::from_rows(
            DVec3::new(-1.0, 0.0, 0.0),
            DVec3::new(0.0, -1.0, 0.0),
            DVec3::Z,
        );
        bp.symmetrise(&[c2]);
        let g = bp.data();
        let (i, j) = (g.index_of(0, 2, 3).unwrap(), g.index_of(0, -2, -3).unwrap());
        assert_eq!(g.data()[i], g.data()[j].conj());
        // The tilt-90 slice is the plane x = 0 … rotated by C2 about z onto itself.
        let after: f64 = bp.weight().data().iter().sum();
        assert!(after > 1.5 * before, "{after} vs {before}");
    }

    #[test]
    fn low_resolution_join_and_downsampled_average() {
        let opts = BackProjectorOptions::default();
        let mut a = BackProjector::new(8, 1.0, &opts).unwrap();
        let mut b = BackProjector::new(8, 1.0, &opts).unwrap();
        let (img, w) = constant_image(8, Complex32::new(3.0, 0.0));
        a.backproject(&img, &w, &DMat3::IDENTITY).unwrap();
        a.join_low_resolution(&mut b, 2.0).unwrap();
        let i = a.weight().index_of(2, 0, 0).unwrap();
        assert_eq!((a.weight().data()[i], b.weight().data()[i]), (0.5, 0.5));
        let j = a.weight().index_of(6, 0, 0).unwrap();
        assert_eq!((a.weight().data()[j], b.weight().data()[j]), (1.0, 0.0));
        let avg = a.downsampled_average().unwrap();
        assert_eq!(avg.value_at(3, 1, 0), Some(Complex32::new(3.0, 0.0)));
        assert_eq!(avg.value_at(1, 1, 1), Some(Complex32::default()));
    }
}
