//! Global alignment of a stack of movie frames, with the semantics of RELION 3.1.3's own
//! motion correction (`relion_run_motioncorr --use_own`).
//!
//! Units: shifts in pixels of the frames given (unbinned movie pixels unless the caller binned
//! them), B-factor in px², frequencies in cycles per pixel.
//!
//! One iteration: the reference is the sum of all (already shifted) frames; each frame is
//! cross-correlated with (reference − that frame) on a Fourier-cropped grid, weighted by
//! `exp(−2·B·d²)` (the `2` because both images carry the envelope `exp(−B·d²)`), with
//! RELION's `d² = (ky/H)² + (kx/(W/2+1))²` for the half-array indices (kx, ky) of a W × H
//! frame. Note the **quirk**: ky/H is the frequency in cycles/px, but kx/(W/2+1) is about
//! twice the frequency in cycles/px, so the envelope is four times stronger along x than
//! along y (in k²). The peak is searched within ±50 px (`max_shift`, converted to CC-grid
//! pixels and limited to half the CC grid), refined by a 3-point parabola per axis, scaled
//! back to frame pixels, and re-referenced so that frame 0 does not move. The frames are then
//! shifted by the update; iterations stop after `max_iter` or once the RMS update over all
//! frames falls below 0.5 px. Only the cropped spectra take part: each frame is cropped to the
//! CC grid once and its crop is shifted (the phase ramp of a frame-px shift restricted to the
//! crop's frequencies), so an iteration costs the CC grid, not the frame.
//!
//! A shift is the translation that *aligns* a frame: applied to frame f (content moved by
//! +shift, see [`shift_plane`]) it brings the frame onto frame 0. If the specimen moved by +d
//! in frame f, its shift is −d.

use crate::fourier::fft::plane::inverse;
use crate::fourier::shift::shift_plane;
use crate::grid::{Complex32, GridError, Plane, PlaneSpectrum, wrapped_to_logical};
use rayon::prelude::*;

/// FFT-friendly sizes RELION 3.1.3 rounds the cross-correlation grid up to (px); requests
/// beyond the last are kept as they are.
const GOOD_CC_SIZES: [usize; 41] = [
    192, 216, 256, 288, 324, 384, 432, 486, 512, 576, 648, 768, 800, 864, 972, 1024, 1296, 1536,
    1728, 1944, 2048, 2304, 2592, 3072, 3200, 3456, 3888, 4096, 4608, 5000, 5184, 6144, 6250, 6400,
    6912, 7776, 8192, 9216, 10240, 12288, 12500,
];

/// Settings of [`align_frames`], named after `relion_run_motioncorr`'s options.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignSettings {
    /// `--bfactor`: B-factor of the Gaussian envelope, in px² of the frames given (RELION
    /// divides the user's value by the square of the early-binning factor). Default 150.
    pub bfactor: f64,
    /// `--ccf_downsample`: size of the cross-correlation grid as a fraction of the frame
    /// (0 < r ≤ 1), or 0 for automatic: `sqrt(−ln 1e−8 / (2·B))`, where the envelope has
    /// fallen to 1e−8. Default 0.
    pub ccf_downsample: f64,
    /// `--max_iter`: maximum number of alignment iterations. Default 5.
    pub max_iter: usize,
    /// Largest shift searched per iteration, in frame px (RELION: 50, not an option).
    pub max_shift: f64,
    /// Convergence threshold on the RMS shift update over all frames, in px (RELION: 0.5,
    /// not an option).
    pub tolerance: f64,
}

impl Default for AlignSettings {
    fn default() -> Self {
        Self {
            bfactor: 150.0,
            ccf_downsample: 0.0,
            max_iter: 5,
            max_shift: 50.0,
            tolerance: 0.5,
        }
    }
}

/// The result of [`align_frames`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// Per frame, the accumulated shift [x, y] in px that aligns it onto frame 0; frame 0 is
    /// always [0, 0].
    pub shifts: Vec<[f64; 2]>,
    /// Whether the RMS update fell below the tolerance within `max_iter` iterations.
    pub converged: bool,
    /// Number of iterations run.
    pub iterations: usize,
}

/// The cross-correlation grid (width, height) in px that RELION uses for a `width` × `height`
/// frame: the requested fraction (`ccf_downsample`, or automatic from the B-factor in px²)
/// of each side, rounded up to an FFT-friendly size, at most the frame, made even.
pub fn cc_grid_size(width: usize, height: usize, bfactor: f64, ccf_downsample: f64) -> [usize; 2] {
    let scale = if ccf_downsample <= 0.0 {
        (-(1e-8f64).ln() / (2.0 * bfactor)).sqrt()
    } else {
        ccf_downsample
    };
    let side = |n: usize| {
        let request = (n as f64 * scale) as usize;
        let good = GOOD_CC_SIZES
            .iter()
            .copied()
            .find(|&g| g >= request)
            .unwrap_or(request)
            .min(n);
        good + good % 2
    };
    [side(width), side(height)]
}

/// Aligns `frames` (spectra of equally sized, even-sized frames, from
/// [`crate::fourier::fft::plane::forward`]) onto frame 0: the shifts (px) that move each frame
/// onto frame 0. The frames themselves are left as they are (apply the shifts with
/// [`super::frames::apply_global_shifts`] or sum with [`super::frames::sum_aligned`]). Frames are
/// processed in parallel; the result does not depend on the number of threads.
pub fn align_frames(
    frames: &[PlaneSpectrum],
    settings: &AlignSettings,
) -> Result<Alignment, GridError> {
    check_settings(settings)?;
    let Some(first) = frames.first() else {
        return Err(GridError::Mismatch {
            what: "frames to align",
            expected: "at least one frame".into(),
            found: "none".into(),
        });
    };
    let (width, height) = (first.width(), first.height());
    if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
        return Err(GridError::Mismatch {
            what: "frame size to align",
            expected: "positive even width and height (RELION: \"Patch size must be even\")".into(),
            found: format!("{width} × {height} px"),
        });
    }
    if let Some((f, other)) = frames
        .iter()
        .enumerate()
        .find(|(_, s)| s.width() != width || s.height() != height)
    {
        return Err(GridError::Mismatch {
            what: "frame sizes to align",
            expected: format!("every frame {width} × {height} px like frame 0"),
            found: format!("frame {f} is {} × {} px", other.width(), other.height()),
        });
    }
    let grid = CcGrid::new(width, height, settings);
    let mut crops: Vec<PlaneSpectrum> = frames.par_iter().map(|f| grid.crop(f)).collect();
    let mut shifts = vec![[0.0; 2]; frames.len()];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < settings.max_iter && !converged {
        iterations += 1;
        let reference = grid.reference(&crops);
        let peaks: Vec<[f64; 2]> = crops.par_iter().map(|f| grid.peak(&reference, f)).collect();
        let update: Vec<[f64; 2]> = peaks
            .iter()
            .map(|p| [p[0] - peaks[0][0], p[1] - peaks[0][1]])
            .collect();
        for (total, u) in shifts.iter_mut().zip(&update) {
            total[0] += u[0];
            total[1] += u[1];
        }
        crops
            .par_iter_mut()
            .zip(&update)
            .skip(1)
            .for_each(|(f, u)| shift_plane(f, grid.to_crop_px(*u)));
        let sum_sq: f64 = update.iter().map(|u| u[0] * u[0] + u[1] * u[1]).sum();
        converged = (sum_sq / frames.len() as f64).sqrt() < settings.tolerance;
    }
    Ok(Alignment {
        shifts,
        converged,
        iterations,
    })
}

fn check_settings(settings: &AlignSettings) -> Result<(), GridError> {
    let bad = |what, value, expected| {
        Err(GridError::OutOfRange {
            what,
            value,
            expected,
        })
    };
    if !settings.bfactor.is_finite() || settings.bfactor <= 0.0 {
        return bad("--bfactor (px²)", settings.bfactor, "> 0");
    }
    if !(0.0..=1.0).contains(&settings.ccf_downsample) {
        return bad(
            "--ccf_downsample",
            settings.ccf_downsample,
            "0 (automatic) or a fraction up to 1",
        );
    }
    if settings.max_iter == 0 {
        return bad("--max_iter", 0.0, "at least 1");
    }
    if settings.max_shift.is_nan() || settings.max_shift < 1.0 {
        return bad("maximum shift (px)", settings.max_shift, "at least 1 px");
    }
    if settings.tolerance.is_nan() || settings.tolerance < 0.0 {
        return bad("convergence tolerance (px)", settings.tolerance, ">= 0");
    }
    Ok(())
}

/// The Fourier-cropped cross-correlation grid of one frame size: its size, the B-factor
/// envelope on its half array and the peak search range (CC-grid px).
struct CcGrid {
    frame: [usize; 2],
    size: [usize; 2],
    weight: Vec<f32>,
    search: i64,
}

impl CcGrid {
    fn new(width: usize, height: usize, settings: &AlignSettings) -> Self {
        let size = cc_grid_size(width, height, settings.bfactor, settings.ccf_downsample);
        let scale = (width as f64 / size[0] as f64).max(height as f64 / size[1] as f64);
        let limit = (size[0].min(size[1]) / 2) as i64 - 1;
        let mut search = (settings.max_shift / scale) as i64;
        if 2 * search + 1 > size[0] as i64 || 2 * search + 1 > size[1] as i64 {
            search = limit;
        }
        let columns = PlaneSpectrum::columns_for(size[0]);
        let frame_columns = PlaneSpectrum::columns_for(width) as f64;
        let weight = (0..columns * size[1])
            .map(|i| {
                let ky = wrapped_to_logical(i / columns, size[1]) as f64 / height as f64;
                let kx = (i % columns) as f64 / frame_columns;
                (-2.0 * settings.bfactor * (ky * ky + kx * kx)).exp() as f32
            })
            .collect();
        Self {
            frame: [width, height],
            size,
            weight,
            search,
        }
    }

    /// The frame's spectrum restricted to the CC grid's frequencies (the cropped half array).
    fn crop(&self, frame: &PlaneSpectrum) -> PlaneSpectrum {
        let columns = PlaneSpectrum::columns_for(self.size[0]);
        let frame_columns = frame.columns();
        let mut values = Vec::with_capacity(self.weight.len());
        for row in 0..self.size[1] {
            let ky = wrapped_to_logical(row, self.size[1]);
            let source = ky.rem_euclid(self.frame[1] as i64) as usize * frame_columns;
            values.extend_from_slice(&frame.data()[source..source + columns]);
        }
        PlaneSpectrum::from_vec(self.size[0], self.size[1], values)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// A shift in frame px as a shift in CC-grid px: the same phase ramp on the crop.
    fn to_crop_px(&self, shift: [f64; 2]) -> [f64; 2] {
        [
            shift[0] * self.size[0] as f64 / self.frame[0] as f64,
            shift[1] * self.size[1] as f64 / self.frame[1] as f64,
        ]
    }

    /// The sum of all cropped frames, summed in frame order.
    fn reference(&self, crops: &[PlaneSpectrum]) -> Vec<Complex32> {
        (0..self.weight.len())
            .into_par_iter()
            .map(|i| crops.iter().map(|f| f.data()[i]).sum())
            .collect()
    }

    /// The sub-pixel peak (frame px) of the weighted cross-correlation of a cropped frame with
    /// (reference − frame): the shift that moves the frame onto the others.
    fn peak(&self, reference: &[Complex32], crop: &PlaneSpectrum) -> [f64; 2] {
        let values = reference
            .iter()
            .zip(&self.weight)
            .enumerate()
            .map(|(i, (r, w))| {
                let f = crop.data()[i];
                (r - f) * f.conj() * *w
            })
            .collect();
        let spectrum = PlaneSpectrum::from_vec(self.size[0], self.size[1], values)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let cc = inverse(&spectrum);
        let [x, y] = refined_peak(&cc, self.search);
        [
            x * self.frame[0] as f64 / self.size[0] as f64,
            y * self.frame[1] as f64 / self.size[1] as f64,
        ]
    }
}

/// The maximum of a periodic map within ±`search` px of the origin (first maximum in
/// row-major order from (−search, −search)), refined per axis by the vertex of the parabola
/// through it and its two neighbours, in map px.
fn refined_peak(cc: &Plane, search: i64) -> [f64; 2] {
    let (w, h) = (cc.width() as i64, cc.height() as i64);
    let at =
        |x: i64, y: i64| f64::from(cc.data()[(y.rem_euclid(h) * w + x.rem_euclid(w)) as usize]);
    let mut best = (0, 0, f64::NEG_INFINITY);
    for y in -search..=search {
        for x in -search..=search {
            let v = at(x, y);
            if v > best.2 {
                best = (x, y, v);
            }
        }
    }
    let (px, py, top) = best;
    let vertex = |pos: i64, minus: f64, plus: f64| {
        let curvature = plus + minus - 2.0 * top;
        if curvature.abs() > 1e-15 {
            pos as f64 - 0.5 * (plus - minus) / curvature
        } else {
            pos as f64
        }
    };
    [
        vertex(px, at(px - 1, py), at(px + 1, py)),
        vertex(py, at(px, py - 1), at(px, py + 1)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::test_movie::{Movie, rms_error};

    #[test]
    fn cc_grid_follows_relion_rounding() {
        // B = 150: automatic fraction sqrt(18.42/300) = 0.248; 4096 → 1015 → 1024.
        assert_eq!(cc_grid_size(4096, 4096, 150.0, 0.0), [1024, 1024]);
        // Small frames round up to 192, never beyond the frame.
        assert_eq!(cc_grid_size(512, 256, 150.0, 0.0), [192, 192]);
        assert_eq!(cc_grid_size(100, 160, 150.0, 0.0), [100, 160]);
        assert_eq!(cc_grid_size(3838, 3710, 150.0, 0.5), [1944, 1944]);
        assert_eq!(cc_grid_size(1000, 800, 150.0, 0.1), [192, 192]);
        assert_eq!(cc_grid_size(4000, 4000, 150.0, 0.9), [3888, 3888]);
    }

    #[test]
    fn parabolic_refinement_finds_the_vertex() {
        // A paraboloid with its vertex at (2.3, −1.6) on a 16 × 16 periodic map.
        let cc = Plane::from_fn(16, 16, |x, y| {
            let dx = if x > 8 { x as f64 - 16.0 } else { x as f64 } - 2.3;
            let dy = if y > 8 { y as f64 - 16.0 } else { y as f64 } + 1.6;
            (100.0 - dx * dx - 2.0 * dy * dy) as f32
        });
        let [x, y] = refined_peak(&cc, 5);
        assert!((x - 2.3).abs() < 1e-4 && (y + 1.6).abs() < 1e-4, "{x} {y}");
    }

    #[test]
    fn recovers_sub_pixel_shifts_under_noise() {
        let movie = Movie::drifting(256, 16, 11, 8.0);
        let frames = movie.spectra();
        let alignment = align_frames(&frames, &AlignSettings::default()).unwrap();
        let error = rms_error(&alignment.shifts, &movie.aligning_shifts());
        eprintln!(
            "global alignment 256² × 16, {} iterations: RMS error {error:.4} px",
            alignment.iterations
        );
        assert!(alignment.converged);
        assert!(error < 0.1, "RMS error {error} px");
    }

    #[test]
    fn content_moved_by_plus_three_gives_minus_three() {
        // Five still frames and a sixth whose content moved by +3 px in x. (With only two
        // frames RELION's scheme oscillates: each frame's reference is the other frame.)
        // Iterated to convergence: after RELION's single 0.5-px iteration the still frames'
        // peaks are still pulled ~0.1 px towards the moved one by the broad CC peak.
        let mut displacements = [[0.0, 0.0]; 6];
        displacements[5] = [3.0, 0.0];
        let movie = Movie::with_displacements(128, &displacements, 3, 0.0);
        let frames = movie.spectra();
        let settings = AlignSettings {
            tolerance: 1e-3,
            max_iter: 30,
            ..AlignSettings::default()
        };
        let alignment = align_frames(&frames, &settings).unwrap();
        let [x, y] = alignment.shifts[5];
        assert!((x + 3.0).abs() < 0.02 && y.abs() < 0.02, "{x} {y}");
        assert!(
            alignment.shifts[..5]
                .iter()
                .all(|s| s[0].abs() < 0.02 && s[1].abs() < 0.02)
        );
        assert_eq!(alignment.shifts[0], [0.0, 0.0]);
    }

    #[test]
    fn same_answer_with_one_thread() {
        let movie = Movie::drifting(128, 6, 5, 4.0);
        let frames = movie.spectra();
        let settings = AlignSettings::default();
        let a = align_frames(&frames, &settings).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| align_frames(&frames, &settings)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_is_an_error() {
        let settings = AlignSettings::default();
        assert!(align_frames(&[], &settings).is_err());
        let odd = vec![PlaneSpectrum::zeros(31, 32)];
        assert!(align_frames(&odd, &settings).is_err());
        let mixed = vec![PlaneSpectrum::zeros(32, 32), PlaneSpectrum::zeros(32, 30)];
        assert!(align_frames(&mixed, &settings).is_err());
        let negative = AlignSettings {
            bfactor: -1.0,
            ..settings
        };
        let ok = vec![PlaneSpectrum::zeros(32, 32)];
        assert!(align_frames(&ok, &negative).is_err());
    }
}
