//! The two inner loops of E-step scoring, on split-complex f32 arrays over window pixels:
//! cross terms Re⟨A_r, X_k⟩ = Σ (a_re·x_re + a_im·x_im) of a tile of slices × images, and
//! weighted squared norms Σ g·|A_r|² of slices (units: those of the arrays' products).
//!
//! A tile of up to [`TILE_SLICES`] slices is crossed with its images [`TILE_IMAGES`] at a
//! time in one pass over the pixels: every loaded slice chunk serves several images and every
//! image chunk several slices, and the tile's accumulators are independent, so the fused
//! multiply-adds pipeline instead of waiting on one another.
//!
//! Every sum runs in [`LANES`] f32 lanes, each lane doing `acc = fma(a_im, x_im, fma(a_re,
//! x_re, acc))` (rounded once per fused multiply-add); every [`BLOCK`] pixels the f32 lanes
//! are added to f64 lanes, so that rounding does not grow with the window, and at the end the
//! f64 lanes are summed in lane order. A result therefore depends only on its own two arrays:
//! not on the tile it was computed in, not on the build. The kernels are written once over [`Lanes`]: x86-64 CPUs
//! with AVX2 and FMA run them on 256-bit registers, every other CPU on plain arrays with
//! `f32::mul_add` (correctly rounded everywhere, hence bitwise identical results; in software
//! on CPUs without FMA, slower).

/// Parallel lanes of the inner loops (one AVX register of f32).
pub(super) const LANES: usize = 8;
/// Pixels summed in f32 before the lanes are flushed into the f64 totals (256: d² of a box-64
/// particle within 1.1e-4 of float64, 1024: 3.7e-4, for ~4 % more speed).
const BLOCK: usize = 256;
/// Most slices crossed in one pass over the pixels.
pub(super) const TILE_SLICES: usize = 4;
/// Most images crossed in one pass over the pixels: 4 slices × 2 images keep 8 accumulators,
/// the tile's chunks and the loads in flight within the 16 AVX registers.
pub(super) const TILE_IMAGES: usize = 2;

/// A split-complex array on the window: (real parts, imaginary parts).
pub(super) type Split<'a> = (&'a [f32], &'a [f32]);

/// [`LANES`] f32 values and the operations the kernels need, each lane rounded as IEEE f32.
trait Lanes: Copy {
    fn zero() -> Self;
    fn load(v: &[f32; LANES]) -> Self;
    fn mul(self, b: Self) -> Self;
    /// self·b + c rounded once.
    fn mul_add(self, b: Self, c: Self) -> Self;
    fn to_array(self) -> [f32; LANES];
}

impl Lanes for [f32; LANES] {
    #[inline(always)]
    fn zero() -> Self {
        [0.0; LANES]
    }
    #[inline(always)]
    fn load(v: &[f32; LANES]) -> Self {
        *v
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        std::array::from_fn(|l| self[l] * b[l])
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        std::array::from_fn(|l| self[l].mul_add(b[l], c[l]))
    }
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        self
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LANES, Lanes};
    use std::arch::x86_64::{
        __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };

    /// One AVX register. Values of this type exist only inside the `#[target_feature(enable =
    /// "avx2,fma")]` functions of this file, which run after the CPU was checked for both.
    #[derive(Clone, Copy)]
    pub(super) struct Avx2(__m256);

    // SAFETY (every block below): the CPU supports AVX2 and FMA (see the type's doc); loads and
    // stores go through references to exactly LANES f32 values.
    impl Lanes for Avx2 {
        #[inline(always)]
        fn zero() -> Self {
            Avx2(unsafe { _mm256_setzero_ps() })
        }
        #[inline(always)]
        fn load(v: &[f32; LANES]) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(v.as_ptr()) })
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            Avx2(unsafe { _mm256_mul_ps(self.0, b.0) })
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
        }
        #[inline(always)]
        fn to_array(self) -> [f32; LANES] {
            let mut out = [0.0; LANES];
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), self.0) };
            out
        }
    }
}

/// Whether this CPU runs the AVX2/FMA build of the kernels.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// An array as whole chunks of LANES pixels and the zero-padded rest.
struct Chunked<'a> {
    re: &'a [[f32; LANES]],
    im: &'a [[f32; LANES]],
    tail: ([f32; LANES], [f32; LANES]),
}

impl<'a> Chunked<'a> {
    /// [`Chunked::new`] of each array (a loop rather than `array::map`, whose closure calls
    /// stay out of line).
    #[inline(always)]
    fn each<const N: usize>(x: [Split<'a>; N], n: usize) -> [Self; N] {
        let mut out = [const {
            Chunked {
                re: &[],
                im: &[],
                tail: ([0.0; LANES], [0.0; LANES]),
            }
        }; N];
        for (out, x) in out.iter_mut().zip(x) {
            *out = Chunked::new(x, n);
        }
        out
    }

    /// The first `n` pixels of `x` (both parts at least `n` long).
    #[inline(always)]
    fn new((re, im): Split<'a>, n: usize) -> Self {
        let split = |v: &'a [f32]| {
            let (whole, rest) = v[..n].as_chunks::<LANES>();
            // Lane by lane with a fixed trip count: a copy of rest.len() values compiles to a
            // call to memmove per array and call (3 % of a refinement's profile).
            let tail = std::array::from_fn(|l| rest.get(l).copied().unwrap_or(0.0));
            (whole, tail)
        };
        let ((re, re_tail), (im, im_tail)) = (split(re), split(im));
        Self {
            re,
            im,
            tail: (re_tail, im_tail),
        }
    }

    /// Chunk `c` (< n / LANES) as lanes.
    #[inline(always)]
    fn at<L: Lanes>(&self, c: usize) -> (L, L) {
        // SAFETY: c < n / LANES, the chunk count of both parts (the compiler does not see it
        // through the arrays of these).
        unsafe {
            (
                L::load(self.re.get_unchecked(c)),
                L::load(self.im.get_unchecked(c)),
            )
        }
    }
}

/// acc + a·x summed over the two parts, as two fused multiply-adds.
#[inline(always)]
fn step<L: Lanes>(acc: L, (ar, ai): (L, L), (xr, xi): (L, L)) -> L {
    ai.mul_add(xi, ar.mul_add(xr, acc))
}

/// Adds the f32 lanes to the f64 lanes of a total.
#[inline(always)]
fn flush(total: &mut [f64; LANES], lanes: [f32; LANES]) {
    total
        .iter_mut()
        .zip(lanes)
        .for_each(|(t, v)| *t += v as f64);
}

/// The sum of a total's f64 lanes, in lane order.
#[inline(always)]
fn sum(total: &[f64; LANES]) -> f64 {
    total.iter().sum()
}

/// Length every array of a kernel call is cut to: the shortest.
fn common_len<'a>(arrays: impl Iterator<Item = &'a Split<'a>>) -> usize {
    arrays.fold(usize::MAX, |n, x| n.min(x.0.len()).min(x.1.len()))
}

/// The blocks of `m` chunks: BLOCK/LANES chunks each, the last shorter; one empty block when
/// `m` = 0 (so that the partial chunk is still summed).
fn blocks(m: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let per_block = BLOCK / LANES;
    (0..m.div_ceil(per_block).max(1)).map(move |b| b * per_block..((b + 1) * per_block).min(m))
}

/// Re⟨a_r, x_k⟩ for the R × K tile, in one pass over the pixels.
#[inline(always)]
fn tile<L: Lanes, const R: usize, const K: usize>(
    a: [Split<'_>; R],
    x: [Split<'_>; K],
) -> [[f64; K]; R] {
    let n = common_len(a.iter().chain(&x));
    let (a, x) = (Chunked::each(a, n), Chunked::each(x, n));
    let mut total = [[[0.0f64; LANES]; K]; R];
    let m = n / LANES;
    for block in blocks(m) {
        let last = block.end == m;
        let mut acc = [[L::zero(); K]; R];
        for c in block {
            let av: [(L, L); R] = std::array::from_fn(|r| a[r].at(c));
            for k in 0..K {
                let xv = x[k].at(c);
                for r in 0..R {
                    acc[r][k] = step(acc[r][k], av[r], xv);
                }
            }
        }
        for r in 0..R {
            for k in 0..K {
                let mut lanes = acc[r][k].to_array();
                if last {
                    // The partial chunk, zero-padded: fma(0, 0, acc) = acc.
                    lanes = step(lanes, a[r].tail, x[k].tail);
                }
                flush(&mut total[r][k], lanes);
            }
        }
    }
    let mut sums = [[0.0; K]; R];
    for r in 0..R {
        for k in 0..K {
            sums[r][k] = sum(&total[r][k]);
        }
    }
    sums
}

/// (g·a_re, g·a_im).
#[inline(always)]
fn weighted<L: Lanes>(g: L, (re, im): (L, L)) -> (L, L) {
    (g.mul(re), g.mul(im))
}

/// Σ g·(a_re² + a_im²) for each of the R slices, in one pass over the pixels.
#[inline(always)]
fn norms<L: Lanes, const R: usize>(g: &[f32], a: [Split<'_>; R]) -> [f64; R] {
    let n = common_len(a.iter()).min(g.len());
    let (g, a) = (Chunked::new((g, g), n), Chunked::each(a, n));
    let mut total = [[0.0f64; LANES]; R];
    let m = n / LANES;
    for block in blocks(m) {
        let last = block.end == m;
        let mut acc = [L::zero(); R];
        for c in block {
            let g = g.at::<L>(c).0;
            for r in 0..R {
                let v = a[r].at(c);
                acc[r] = step(acc[r], weighted(g, v), v);
            }
        }
        for r in 0..R {
            let mut lanes = acc[r].to_array();
            if last {
                let v = a[r].tail;
                lanes = step(lanes, weighted(g.tail.0, v), v);
            }
            flush(&mut total[r], lanes);
        }
    }
    let mut sums = [0.0; R];
    for r in 0..R {
        sums[r] = sum(&total[r]);
    }
    sums
}

/// `out[r·images.len() + k]` = Re⟨slices[r], images[k]⟩, tile by tile.
#[inline(always)]
fn cross_terms_with<L: Lanes>(slices: &[Split<'_>], images: &[Split<'_>], out: &mut [f64]) {
    // Always inlined, like every helper here: a `put` left out of line lacks the caller's
    // `target_feature`s, so each AVX intrinsic in it becomes a call (measured: the dev
    // profile's E-step ran 15× slower than release).
    #[inline(always)]
    fn put<L: Lanes, const R: usize, const K: usize>(
        a: &[Split<'_>],
        x: &[Split<'_>],
        out: &mut [f64],
        stride: usize,
    ) {
        let v = tile::<L, R, K>(std::array::from_fn(|r| a[r]), std::array::from_fn(|k| x[k]));
        for (r, row) in v.iter().enumerate() {
            out[r * stride..r * stride + K].copy_from_slice(row);
        }
    }
    let stride = images.len();
    for (i, a) in slices.chunks(TILE_SLICES).enumerate() {
        for (j, x) in images.chunks(TILE_IMAGES).enumerate() {
            let out = &mut out[i * TILE_SLICES * stride + j * TILE_IMAGES..];
            match (a.len(), x.len()) {
                (1, 1) => put::<L, 1, 1>(a, x, out, stride),
                (2, 1) => put::<L, 2, 1>(a, x, out, stride),
                (3, 1) => put::<L, 3, 1>(a, x, out, stride),
                (4, 1) => put::<L, 4, 1>(a, x, out, stride),
                (1, _) => put::<L, 1, 2>(a, x, out, stride),
                (2, _) => put::<L, 2, 2>(a, x, out, stride),
                (3, _) => put::<L, 3, 2>(a, x, out, stride),
                _ => put::<L, 4, 2>(a, x, out, stride),
            }
        }
    }
}

/// `out[r]` = Σ g·|slices[r]|², tile by tile.
#[inline(always)]
fn weighted_norms_with<L: Lanes>(g: &[f32], slices: &[Split<'_>], out: &mut [f64]) {
    #[inline(always)]
    fn put<L: Lanes, const R: usize>(g: &[f32], a: &[Split<'_>], out: &mut [f64]) {
        out[..R].copy_from_slice(&norms::<L, R>(g, std::array::from_fn(|r| a[r])));
    }
    for (a, out) in slices.chunks(TILE_SLICES).zip(out.chunks_mut(TILE_SLICES)) {
        match a.len() {
            1 => put::<L, 1>(g, a, out),
            2 => put::<L, 2>(g, a, out),
            3 => put::<L, 3>(g, a, out),
            _ => put::<L, 4>(g, a, out),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn cross_terms_avx2(slices: &[Split<'_>], images: &[Split<'_>], out: &mut [f64]) {
    cross_terms_with::<avx2::Avx2>(slices, images, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn weighted_norms_avx2(g: &[f32], slices: &[Split<'_>], out: &mut [f64]) {
    weighted_norms_with::<avx2::Avx2>(g, slices, out)
}

/// Re⟨slices[r], images[k]⟩ into `out[r·images.len() + k]` (`out` at least slices × images
/// long), each over the common length of its two arrays' parts; see the module doc.
pub(super) fn cross_terms(slices: &[Split<'_>], images: &[Split<'_>], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { cross_terms_avx2(slices, images, out) };
    }
    cross_terms_with::<[f32; LANES]>(slices, images, out)
}

/// Σ g·(a_re² + a_im²) of each slice into `out[r]` (`out` at least as long as `slices`), over
/// the common length of `g` and the slice's parts; see the module doc.
pub(super) fn weighted_norms(g: &[f32], slices: &[Split<'_>], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { weighted_norms_avx2(g, slices, out) };
    }
    weighted_norms_with::<[f32; LANES]>(g, slices, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split-complex arrays `count` × (`len` re, `len` im) of uniform noise.
    fn arrays(seed: u64, count: usize, len: usize) -> Vec<Vec<f32>> {
        crate::grid::test_noise::uniform(seed, 2 * count * len)
            .chunks(len)
            .map(<[f32]>::to_vec)
            .collect()
    }

    fn splits(v: &[Vec<f32>]) -> Vec<Split<'_>> {
        v.chunks(2).map(|p| (&p[0][..], &p[1][..])).collect()
    }

    #[test]
    fn sums_are_bitwise_identical_for_any_tiling_and_build() {
        let v = arrays(6, 11, 3001);
        let s = splits(&v);
        let (a, x) = (&s[..5], &s[5..]);
        let singles: Vec<u64> = a
            .iter()
            .flat_map(|&a| {
                x.iter().map(move |&x| {
                    let mut one = [0.0];
                    cross_terms(&[a], &[x], &mut one);
                    one[0].to_bits()
                })
            })
            .collect();
        let mut tiled = vec![0.0; a.len() * x.len()];
        cross_terms(a, x, &mut tiled);
        assert_eq!(
            tiled.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            singles
        );
        let mut portable = vec![0.0; a.len() * x.len()];
        cross_terms_with::<[f32; LANES]>(a, x, &mut portable);
        assert_eq!(portable, tiled);

        let g = &v[0];
        let mut norms = vec![0.0; a.len()];
        weighted_norms(g, a, &mut norms);
        let mut portable = vec![0.0; a.len()];
        weighted_norms_with::<[f32; LANES]>(g, a, &mut portable);
        assert_eq!(portable, norms);
        for (r, &a) in a.iter().enumerate() {
            let mut one = [0.0];
            weighted_norms(g, &[a], &mut one);
            assert_eq!(one[0].to_bits(), norms[r].to_bits());
        }
    }

    #[test]
    fn sums_match_plain_f64_sums_for_any_length() {
        let v = arrays(4, 4, 2500);
        for len in [0, 1, 7, 8, 9, 1023, 1024, 1025, 2500] {
            let cut = |i: usize, len: usize| (&v[2 * i][..len], &v[2 * i + 1][..len]);
            let g = &v[6][..len];
            // The longer image is cut to the common length.
            let (a, xs) = ([cut(0, len)], [cut(1, len), cut(2, (len + 5).min(2500))]);
            let mut fast = [0.0; 2];
            cross_terms(&a, &xs, &mut fast);
            let mut norm = [0.0];
            weighted_norms(g, &a, &mut norm);
            let f64s = |i: usize, j: usize| v[i][j] as f64;
            let mut slow = [0.0; 2];
            let mut scale = [0.0; 2];
            for (k, (s, sc)) in slow.iter_mut().zip(&mut scale).enumerate() {
                for j in 0..len {
                    let terms = [
                        f64s(0, j) * f64s(2 * k + 2, j),
                        f64s(1, j) * f64s(2 * k + 3, j),
                    ];
                    *s += terms[0] + terms[1];
                    *sc += terms[0].abs() + terms[1].abs();
                }
            }
            let slow_norm: f64 = (0..len)
                .map(|j| g[j] as f64 * (f64s(0, j).powi(2) + f64s(1, j).powi(2)))
                .sum();
            let norm_scale: f64 = (0..len)
                .map(|j| g[j].abs() as f64 * (f64s(0, j).powi(2) + f64s(1, j).powi(2)))
                .sum();
            for k in 0..2 {
                assert!(
                    (fast[k] - slow[k]).abs() <= 1e-6 * scale[k].max(1e-30),
                    "{len} {k}: {} {}",
                    fast[k],
                    slow[k]
                );
            }
            assert!(
                (norm[0] - slow_norm).abs() <= 1e-6 * norm_scale.max(1e-30),
                "{len}: {} {slow_norm}",
                norm[0]
            );
        }
    }
}
