//! The compact, centred 3D Fourier half grid of the projector and backprojector, with
//! trilinear / nearest-neighbour reads (projection) and their adjoint writes (insertion).

use super::GridError;
use rustfft::num_complex::{Complex32, Complex64};
use std::ops::AddAssign;

/// How values are read from (or spread onto) a [`CentredGrid`] at non-integer frequencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interpolation {
    /// Trilinear interpolation from the 8 neighbours (RELION's default).
    #[default]
    Trilinear,
    /// The nearest grid point (RELION's `--NN`).
    NearestNeighbour,
}

/// A value that can live on a Fourier grid: scaled by a real weight, conjugated for Friedel
/// mates (a no-op for real weights), and summed.
pub trait FourierValue: Copy + Default + Send + Sync + AddAssign {
    /// `self · w`.
    fn scale(self, w: f64) -> Self;
    /// Complex conjugate (identity for real values).
    fn conj(self) -> Self;
}

impl FourierValue for Complex32 {
    fn scale(self, w: f64) -> Self {
        self * w as f32
    }
    fn conj(self) -> Self {
        Complex32::conj(&self)
    }
}

impl FourierValue for Complex64 {
    fn scale(self, w: f64) -> Self {
        self * w
    }
    fn conj(self) -> Self {
        Complex64::conj(&self)
    }
}

impl FourierValue for f64 {
    fn scale(self, w: f64) -> Self {
        self * w
    }
    fn conj(self) -> Self {
        self
    }
}

/// A 3D Fourier half grid centred on the origin (RELION's projector layout): integer
/// frequencies kx = 0 … R+1, ky, kz = −(R+1) … R+1, in units of the *padded* box; values
/// beyond radius R are zero and only serve as interpolation neighbours. Index
/// `((kz+R+1)·(2R+3) + ky+R+1)·(R+2) + kx`.
#[derive(Debug, Clone, PartialEq)]
pub struct CentredGrid<T> {
    radius: usize,
    data: Vec<T>,
}

impl<T: FourierValue> CentredGrid<T> {
    /// An all-zero grid holding frequencies up to `radius` padded voxels.
    pub fn zeros(radius: usize) -> Self {
        let (nx, ny) = (radius + 2, 2 * radius + 3);
        Self {
            radius,
            data: vec![T::default(); nx * ny * ny],
        }
    }

    /// Largest stored frequency radius R (padded voxels).
    pub fn radius(&self) -> usize {
        self.radius
    }

    /// Values in storage order (kx fastest, then ky, then kz, each offset as documented above).
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// Values in storage order, for in-place edits.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Number of values along kx (R+2) and along ky or kz (2R+3).
    pub fn dims(&self) -> (usize, usize) {
        (self.radius + 2, 2 * self.radius + 3)
    }

    /// Storage index of frequency (kx ≥ 0, ky, kz), or `None` outside the grid.
    pub fn index_of(&self, kx: i64, ky: i64, kz: i64) -> Option<usize> {
        let (nx, ny) = self.dims();
        let off = self.radius as i64 + 1;
        let (y, z) = (ky + off, kz + off);
        if kx < 0 || kx >= nx as i64 || y < 0 || y >= ny as i64 || z < 0 || z >= ny as i64 {
            return None;
        }
        Some((z as usize * ny + y as usize) * nx + kx as usize)
    }

    /// Frequency (kx, ky, kz) of storage index `index`.
    pub fn frequency(&self, index: usize) -> [i64; 3] {
        let (nx, ny) = self.dims();
        let off = self.radius as i64 + 1;
        let kx = (index % nx) as i64;
        let ky = ((index / nx) % ny) as i64 - off;
        let kz = (index / (nx * ny)) as i64 - off;
        [kx, ky, kz]
    }

    /// Value at real-valued frequency `q` (padded voxels), using the Friedel mate conj(G(−q))
    /// when q_x < 0; neighbours outside the grid count as zero.
    pub fn interpolate(&self, q: [f64; 3], method: Interpolation) -> T {
        let (q, flip) = friedel(q);
        let value = match (method, self.trilinear_cell(q)) {
            (Interpolation::Trilinear, Some((i, [fx, fy, fz]))) => {
                // Fast path: all 8 neighbours inside the grid.
                let (nx, ny) = self.dims();
                let d = &self.data;
                let lerp = |a: T, b: T, f: f64| {
                    let mut r = a.scale(1.0 - f);
                    r += b.scale(f);
                    r
                };
                let plane = |i: usize| {
                    lerp(
                        lerp(d[i], d[i + 1], fx),
                        lerp(d[i + nx], d[i + nx + 1], fx),
                        fy,
                    )
                };
                lerp(plane(i), plane(i + nx * ny), fz)
            }
            _ => {
                let mut acc = T::default();
                for_each_neighbour(q, method, |[x, y, z], w| {
                    if let Some(i) = self.index_of(x, y, z) {
                        acc += self.data[i].scale(w);
                    }
                });
                acc
            }
        };
        if flip { value.conj() } else { value }
    }

    /// Adds `value` at real-valued frequency `q`, spread over the same neighbours and weights
    /// that [`interpolate`](Self::interpolate) reads (its adjoint); Friedel-flipped for q_x < 0.
    pub fn splat(&mut self, q: [f64; 3], value: T, method: Interpolation) {
        let (q, flip) = friedel(q);
        let value = if flip { value.conj() } else { value };
        if let (Interpolation::Trilinear, Some((i, [fx, fy, fz]))) =
            (method, self.trilinear_cell(q))
        {
            let (nx, ny) = self.dims();
            let d = &mut self.data;
            let (v0, v1) = (value.scale(1.0 - fz), value.scale(fz));
            for (base, vz) in [(i, v0), (i + nx * ny, v1)] {
                let (r0, r1) = (vz.scale(1.0 - fy), vz.scale(fy));
                for (row, vy) in [(base, r0), (base + nx, r1)] {
                    d[row] += vy.scale(1.0 - fx);
                    d[row + 1] += vy.scale(fx);
                }
            }
            return;
        }
        for_each_neighbour(q, method, |[x, y, z], w| {
            if let Some(i) = self.index_of(x, y, z) {
                self.data[i] += value.scale(w);
            }
        });
    }

    /// For q_x ≥ 0: storage index of the lower corner of q's trilinear cell and q's fractional
    /// position in it, when the whole cell lies inside the grid.
    fn trilinear_cell(&self, q: [f64; 3]) -> Option<(usize, [f64; 3])> {
        let (nx, ny) = self.dims();
        let off = self.radius as f64 + 1.0;
        let base = [q[0].floor(), (q[1] + off).floor(), (q[2] + off).floor()];
        let inside = base[0] >= 0.0
            && base[0] + 1.0 < nx as f64
            && base[1] >= 0.0
            && base[1] + 1.0 < ny as f64
            && base[2] >= 0.0
            && base[2] + 1.0 < ny as f64;
        inside.then(|| {
            let i = (base[2] as usize * ny + base[1] as usize) * nx + base[0] as usize;
            (
                i,
                [q[0] - base[0], q[1] + off - base[1], q[2] + off - base[2]],
            )
        })
    }

    /// Adds another grid of the same radius value by value (accumulator reduction).
    pub fn add(&mut self, other: &Self) -> Result<(), GridError> {
        if self.radius != other.radius {
            return Err(GridError::Mismatch {
                what: "centred Fourier grids to add",
                expected: format!("radius {}", self.radius),
                found: format!("radius {}", other.radius),
            });
        }
        self.data
            .iter_mut()
            .zip(&other.data)
            .for_each(|(a, &b)| *a += b);
        Ok(())
    }
}

/// Maps q to its Friedel mate when q_x < 0; says whether it did.
fn friedel(q: [f64; 3]) -> ([f64; 3], bool) {
    if q[0] < 0.0 {
        ([-q[0], -q[1], -q[2]], true)
    } else {
        (q, false)
    }
}

/// Calls `f(corner, weight)` for the interpolation neighbours of `q`.
fn for_each_neighbour(q: [f64; 3], method: Interpolation, mut f: impl FnMut([i64; 3], f64)) {
    match method {
        Interpolation::NearestNeighbour => {
            f(q.map(|c| c.round() as i64), 1.0);
        }
        Interpolation::Trilinear => {
            let base = q.map(|c| c.floor());
            let frac = [q[0] - base[0], q[1] - base[1], q[2] - base[2]];
            let b = base.map(|c| c as i64);
            for corner in 0..8 {
                let mut w = 1.0;
                let mut at = b;
                for axis in 0..3 {
                    if corner >> axis & 1 == 1 {
                        w *= frac[axis];
                        at[axis] += 1;
                    } else {
                        w *= 1.0 - frac[axis];
                    }
                }
                if w != 0.0 {
                    f(at, w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trilinear_reproduces_a_linear_function_and_splat_is_its_adjoint() {
        let mut g = CentredGrid::<f64>::zeros(4);
        for i in 0..g.data().len() {
            let [x, y, z] = g.frequency(i);
            assert_eq!(g.index_of(x, y, z), Some(i));
            g.data_mut()[i] = 1.0 + 0.5 * x as f64 - 0.25 * y as f64 + 0.125 * z as f64;
        }
        let q = [1.3, -0.7, 2.2];
        let v = g.interpolate(q, Interpolation::Trilinear);
        assert!((v - (1.0 + 0.65 + 0.175 + 0.275)).abs() < 1e-12);
        // Friedel: real values are read from −q.
        let v_neg = g.interpolate([-1.3, 0.7, -2.2], Interpolation::Trilinear);
        assert!((v_neg - v).abs() < 1e-12);
        // <interpolate(g), 1> == <g, splat(1)>
        let mut s = CentredGrid::<f64>::zeros(4);
        s.splat(q, 1.0, Interpolation::Trilinear);
        let dot: f64 = s.data().iter().zip(g.data()).map(|(a, b)| a * b).sum();
        assert!((dot - v).abs() < 1e-12);
        assert!((s.data().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn friedel_conjugates_complex_values_and_nn_picks_nearest() {
        let mut g = CentredGrid::<Complex64>::zeros(3);
        let i = g.index_of(1, 2, -1).unwrap();
        g.data_mut()[i] = Complex64::new(1.0, 3.0);
        let v = g.interpolate([-1.2, -1.9, 0.8], Interpolation::NearestNeighbour);
        assert_eq!(v, Complex64::new(1.0, -3.0));
        let mut other = CentredGrid::<Complex64>::zeros(2);
        assert!(g.add(&other).is_err());
        other = g.clone();
        g.add(&other).unwrap();
        assert_eq!(g.data()[i], Complex64::new(2.0, 6.0));
    }
}
