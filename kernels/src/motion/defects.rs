//! Detector defects and hot pixels of movie frames, as `relion_run_motioncorr --use_own`:
//! a bad-pixel mask from a MotionCor2 defect list (rectangles `x y w h`, px) or a defect map
//! (nonzero = bad), hot pixels found on the sum of the gain-corrected frames, and every bad pixel
//! of every frame replaced by a random good neighbour. Coordinates in pixels, origin (0, 0).

use crate::grid::{GridError, Plane};
use crate::random::SplitMix64;

/// RELION's hot-pixel threshold in standard deviations above the mean of the frame sum (its log
/// prints `Hotpixel threshold = mean + 6·std`, one pass, mean and std over all pixels, bad ones
/// included; checked on a Poisson movie with RELION 3.1.3).
pub const HOT_PIXEL_SIGMA: f64 = 6.0;

/// Half side (px) of the square window searched for good neighbours of a bad pixel (RELION
/// 3.1.3 with one-pixel defects: every pick lies within ±2 px in x and y, 300 sites × 3 frames).
pub const NEIGHBOUR_RADIUS: usize = 2;

/// Good neighbours needed in the window; with fewer, the pixel gets Gaussian noise with the
/// mean and standard deviation of the whole frame. In RELION 3.1.3, pixels of a 9 × 9 defect
/// with 9 good pixels in their window take a neighbour and those with 5 get noise (whose spread
/// is that of all pixels, bad ones included); 6 is the threshold we take in between.
pub const MIN_GOOD_NEIGHBOURS: usize = 6;

/// Which pixels of a `width` × `height` frame are bad (row-major, like [`Plane`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPixelMask {
    width: usize,
    height: usize,
    bad: Vec<bool>,
    /// The row-major indices of the bad pixels, ascending.
    indices: Vec<usize>,
}

impl BadPixelMask {
    /// A mask with no bad pixel.
    pub fn none(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            bad: vec![false; width * height],
            indices: Vec::new(),
        }
    }

    /// The pixels covered by MotionCor2 defect rectangles, each [x, y, w, h]: top-left pixel
    /// (x, y) and size w × h, in px; the parts of rectangles that reach beyond the frame are
    /// ignored.
    pub fn from_rectangles(
        width: usize,
        height: usize,
        rectangles: impl IntoIterator<Item = [usize; 4]>,
    ) -> Self {
        let mut bad = vec![false; width * height];
        for [rx, ry, rw, rh] in rectangles {
            for y in ry..(ry.saturating_add(rh)).min(height) {
                for x in rx..(rx.saturating_add(rw)).min(width) {
                    bad[y * width + x] = true;
                }
            }
        }
        Self::from_flags(width, height, bad)
    }

    /// The pixels of a defect map that are nonzero (RELION: "1 means bad").
    pub fn from_defect_map(map: &Plane) -> Self {
        let bad = map.data().iter().map(|&v| v != 0.0).collect();
        Self::from_flags(map.width(), map.height(), bad)
    }

    /// The mask of row-major flags `bad` (true = bad) of a `width` × `height` frame.
    fn from_flags(width: usize, height: usize, bad: Vec<bool>) -> Self {
        let indices = bad
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| b.then_some(i))
            .collect();
        Self {
            width,
            height,
            bad,
            indices,
        }
    }

    /// Marks pixel (x, y) bad; pixels outside the mask are ignored.
    pub fn mark(&mut self, x: usize, y: usize) {
        if x < self.width && y < self.height {
            let index = y * self.width + x;
            if !self.bad[index] {
                self.bad[index] = true;
                let at = self.indices.partition_point(|&i| i < index);
                self.indices.insert(at, index);
            }
        }
    }

    /// The row-major indices (y·width + x) of the bad pixels, ascending.
    pub fn bad_indices(&self) -> &[usize] {
        &self.indices
    }

    /// Whether pixel (x, y) is bad (pixels outside the mask are not).
    pub fn is_bad(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.bad[y * self.width + x]
    }

    /// Number of bad pixels.
    pub fn count(&self) -> usize {
        self.indices.len()
    }

    /// Width (px).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height (px).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Checks that `frame` has the mask's size.
    fn check_frame(&self, frame: &Plane) -> Result<(), GridError> {
        if (frame.width(), frame.height()) == (self.width, self.height) {
            return Ok(());
        }
        Err(GridError::Mismatch {
            what: "bad-pixel mask (defect file or map)",
            expected: format!("the frame size {} × {} px", frame.width(), frame.height()),
            found: format!("{} × {} px", self.width, self.height),
        })
    }
}

/// Hot pixels of `sum` (the sum of the gain-corrected frames, before any replacement): pixels
/// above mean + `sigma`·std of all pixels (one pass; RELION uses [`HOT_PIXEL_SIGMA`]) that are
/// not already bad in `known` (RELION counts a hot pixel of the defect file as a defect, not as
/// a hot pixel). Returned as (x, y) px in row-major order, the order of RELION's
/// `data_hot_pixels` table. A mask of another size is an error.
pub fn detect_hot_pixels(
    sum: &Plane,
    known: &BadPixelMask,
    sigma: f64,
) -> Result<Vec<(usize, usize)>, GridError> {
    known.check_frame(sum)?;
    let (mean, std) = sum.mean_std();
    let threshold = mean + sigma * std;
    let width = sum.width();
    Ok(sum
        .data()
        .iter()
        .zip(&known.bad)
        .enumerate()
        .filter(|(_, (v, bad))| f64::from(**v) > threshold && !**bad)
        .map(|(i, _)| (i % width, i / width))
        .collect())
}

/// Replaces every bad pixel of `frame` (number `frame_index` of the movie) by the value of a
/// good pixel drawn at random within ±[`NEIGHBOUR_RADIUS`] px, or, with fewer than
/// [`MIN_GOOD_NEIGHBOURS`] good ones there, by a normal deviate with the mean and standard
/// deviation of the whole frame (bad pixels included, as RELION). Draws come from
/// `SplitMix64::keyed(seed, [frame_index, pixel index])`, so the result depends on nothing
/// else. Only good pixels are read, so replacements never feed each other. A mask of another
/// size is an error.
pub fn replace_bad_pixels(
    frame: &mut Plane,
    mask: &BadPixelMask,
    seed: u64,
    frame_index: usize,
) -> Result<(), GridError> {
    mask.check_frame(frame)?;
    let (width, height) = (frame.width(), frame.height());
    let good_neighbours = |index: usize| {
        let (x, y) = (index % width, index / width);
        let xs = x.saturating_sub(NEIGHBOUR_RADIUS)..(x + NEIGHBOUR_RADIUS + 1).min(width);
        (y.saturating_sub(NEIGHBOUR_RADIUS)..(y + NEIGHBOUR_RADIUS + 1).min(height))
            .flat_map(move |ny| xs.clone().map(move |nx| ny * width + nx))
            .filter(|&i| !mask.bad[i])
    };
    // The frame's statistics (a full pass) only if some pixel has too few good neighbours.
    let fallback = mask
        .indices
        .iter()
        .any(|&i| good_neighbours(i).count() < MIN_GOOD_NEIGHBOURS)
        .then(|| frame.mean_std());
    let mut good = Vec::with_capacity((2 * NEIGHBOUR_RADIUS + 1).pow(2));
    for &index in &mask.indices {
        let mut random = SplitMix64::keyed(seed, &[frame_index as u64, index as u64]);
        good.clear();
        good.extend(good_neighbours(index).map(|i| frame.data()[i]));
        frame.data_mut()[index] = match fallback {
            Some((mean, std)) if good.len() < MIN_GOOD_NEIGHBOURS => {
                (mean + std * random.next_normal()) as f32
            }
            _ => good[random.below(good.len())],
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Poisson(λ) count by inversion of the cumulative distribution (small λ).
    fn poisson(random: &mut SplitMix64, lambda: f64) -> f32 {
        let u = random.next_unit();
        let (mut k, mut p) = (0u32, (-lambda).exp());
        let mut cumulative = p;
        while u > cumulative && k < 1000 {
            k += 1;
            p *= lambda / f64::from(k);
            cumulative += p;
        }
        k as f32
    }

    fn poisson_movie(width: usize, height: usize, frames: usize, lambda: f64) -> Vec<Plane> {
        (0..frames)
            .map(|f| {
                let mut random = SplitMix64::keyed(9, &[f as u64]);
                let counts = (0..width * height)
                    .map(|_| poisson(&mut random, lambda))
                    .collect();
                Plane::from_vec(width, height, counts).unwrap()
            })
            .collect()
    }

    #[test]
    fn injected_hot_pixels_are_found_and_nothing_else() {
        let (w, h) = (128, 96);
        let mut movie = poisson_movie(w, h, 8, 2.0);
        let hot = [(100, 3), (10, 20), (77, 50), (0, 95)];
        for frame in &mut movie {
            for &(x, y) in &hot {
                frame.data_mut()[y * w + x] += 12.0;
            }
        }
        let mut sum = Plane::zeros(w, h);
        for frame in &movie {
            for (s, v) in sum.data_mut().iter_mut().zip(frame.data()) {
                *s += v;
            }
        }
        // Sum ~ Poisson(16): std 4, threshold ≈ 16 + 24 = 40; hot pixels carry ≈ 16 + 96.
        let none = BadPixelMask::none(w, h);
        let found = detect_hot_pixels(&sum, &none, HOT_PIXEL_SIGMA).unwrap();
        assert_eq!(found, vec![(100, 3), (10, 20), (77, 50), (0, 95)]);
        // A hot pixel already in the defect list is not reported again.
        let mut known = none.clone();
        known.mark(10, 20);
        let found = detect_hot_pixels(&sum, &known, HOT_PIXEL_SIGMA).unwrap();
        assert_eq!(found, vec![(100, 3), (77, 50), (0, 95)]);
        assert!(detect_hot_pixels(&sum, &BadPixelMask::none(4, 4), HOT_PIXEL_SIGMA).is_err());
    }

    #[test]
    fn masks_come_from_rectangles_and_maps() {
        let rects = [[1, 0, 2, 1], [4, 2, 9, 9]];
        let mask = BadPixelMask::from_rectangles(6, 4, rects);
        assert_eq!(mask.count(), 2 + 2 * 2);
        assert!(mask.is_bad(1, 0) && mask.is_bad(2, 0) && !mask.is_bad(3, 0));
        assert!(mask.is_bad(5, 3) && !mask.is_bad(3, 3));
        let map = Plane::from_fn(6, 4, |x, y| if (x, y) == (3, 1) { 1.0 } else { 0.0 });
        let from_map = BadPixelMask::from_defect_map(&map);
        assert_eq!(from_map.count(), 1);
        assert!(from_map.is_bad(3, 1));
    }

    #[test]
    fn replacement_leaves_no_bad_value_and_is_deterministic() {
        let (w, h) = (40, 30);
        let bad_value = -1000.0;
        let mut mask = BadPixelMask::from_rectangles(w, h, [[0, 10, w, 1], [20, 20, 8, 8]]);
        mask.mark(5, 5);
        let frame = Plane::from_fn(w, h, |x, y| {
            if mask.is_bad(x, y) {
                bad_value
            } else {
                (x + 2 * y) as f32
            }
        });
        let mut a = frame.clone();
        replace_bad_pixels(&mut a, &mask, 7, 3).unwrap();
        assert!(a.data().iter().all(|&v| v != bad_value && v.is_finite()));
        // Pixels with enough good neighbours take the value of one within ±2 px: the bad row,
        // the isolated pixel and the corners of the block.
        let picked = |x: usize, y: usize| {
            let v = a.get(x, y).unwrap();
            (y.saturating_sub(2)..(y + 3).min(h)).any(|ny| {
                (x.saturating_sub(2)..(x + 3).min(w))
                    .any(|nx| !mask.is_bad(nx, ny) && frame.get(nx, ny) == Some(v))
            })
        };
        assert!((0..w).all(|x| picked(x, 10)));
        assert!(picked(5, 5) && picked(20, 20) && picked(27, 27));
        // The centre of the block has no good pixel within ±2 px: noise, not a (whole-numbered)
        // pixel value from further away.
        assert_ne!(a.get(23, 23).unwrap().fract(), 0.0);
        // Good pixels are untouched.
        assert_eq!(a.get(3, 3), frame.get(3, 3));
        let mut b = frame.clone();
        replace_bad_pixels(&mut b, &mask, 7, 3).unwrap();
        assert_eq!(a, b);
        let mut other_frame = frame.clone();
        replace_bad_pixels(&mut other_frame, &mask, 7, 4).unwrap();
        assert_ne!(a, other_frame);
        let small = BadPixelMask::none(4, 4);
        assert!(replace_bad_pixels(&mut b, &small, 7, 3).is_err());
    }
}
