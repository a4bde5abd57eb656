//! Patch alignment with RELION 3.1.3's geometry (`--patch_x`, `--patch_y`, `--group_frames`):
//! local shift observations (px) at patch centres (px) for the polynomial model.
//!
//! Geometry, as RELION logs it: the frame is cut into `patch_x × patch_y` non-overlapping
//! patches of `width / patch_x` × `height / patch_y` px (integer division; pixels left over at
//! the right and bottom are not used); a patch of odd size loses one pixel (its first if it
//! touches the frame's far edge, else its last), and its centre is pixel
//! `(start + end − 1) / 2` (integer division, end exclusive). Frames are grouped into
//! `n / group_frames` groups of `group_frames` consecutive frames, the last group taking the
//! remainder; the frames of a group are summed in real space, as `--group_frames`' help
//! says ("Average together this many frames"). **Deliberate difference**: RELION 3.1.3's
//! code keeps only the *last* frame of each group (its copy loop overwrites instead of
//! adding; with `--group_frames 3` on a 512² × 16 movie its local shifts match ours to
//! 9e−4 px only when we do the same), so grouped observations differ from RELION's.
//!
//! Each patch's groups are aligned with [`align_frames`] (patches whose alignment does not
//! converge are dropped, as in RELION). A group's shift is observed at its centre in time,
//! `start + size/2` (so frame f alone sits at f + 0.5, a RELION convention), relative to the
//! shift linearly interpolated (or extrapolated) to frame 0 through the group centres.

use super::align::{AlignSettings, align_frames};
use crate::fourier::fft::plane::forward;
use crate::grid::{GridError, Plane};
use rayon::prelude::*;
use std::ops::Range;

/// Settings of [`align_patches`], named after `relion_run_motioncorr`'s options.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchSettings {
    /// `--patch_x`: number of patches across (RELION aligns patches only when both counts
    /// are > 2).
    pub patch_x: usize,
    /// `--patch_y`: number of patches down.
    pub patch_y: usize,
    /// `--group_frames`: frames summed per alignment group (default 1).
    pub group_frames: usize,
    /// The alignment of each patch's groups (B-factor in px², as for the whole frame).
    pub align: AlignSettings,
}

/// One patch: its pixel ranges (end exclusive) and centre pixel, in frame px.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchWindow {
    /// Columns of the patch.
    pub x: Range<usize>,
    /// Rows of the patch.
    pub y: Range<usize>,
    /// Centre pixel (x, y).
    pub centre: [usize; 2],
}

/// One observed local shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchObservation {
    /// Patch centre (x, y), in frame px.
    pub centre: [f64; 2],
    /// Time of the observation, in frames from the first frame given (0-based; a group's
    /// centre `start + size/2`).
    pub frame: f64,
    /// Local shift (x, y) in px that aligns the patch, on top of the global alignment.
    pub shift: [f64; 2],
}

/// RELION's patches of a `width` × `height` px frame, row by row from the top left.
pub fn patch_windows(
    width: usize,
    height: usize,
    patch_x: usize,
    patch_y: usize,
) -> Result<Vec<PatchWindow>, GridError> {
    if patch_x == 0 || patch_y == 0 || width / patch_x < 2 || height / patch_y < 2 {
        return Err(GridError::Mismatch {
            what: "patch grid (--patch_x, --patch_y)",
            expected: format!(
                "at least one patch each way, each at least 2 × 2 px of the {width} × {height} px frame"
            ),
            found: format!("{patch_x} × {patch_y} patches"),
        });
    }
    let axis = |n: usize, count: usize, i: usize| {
        let size = n / count;
        let (mut start, mut end) = (i * size, (i * size + size).min(n));
        if (end - start) % 2 == 1 {
            if end == n {
                start += 1;
            } else {
                end -= 1;
            }
        }
        start..end
    };
    Ok((0..patch_y)
        .flat_map(|iy| (0..patch_x).map(move |ix| (ix, iy)))
        .map(|(ix, iy)| {
            let (x, y) = (axis(width, patch_x, ix), axis(height, patch_y, iy));
            let centre = [(x.start + x.end - 1) / 2, (y.start + y.end - 1) / 2];
            PatchWindow { x, y, centre }
        })
        .collect())
}

/// RELION's frame groups: `n_frames / group_frames` runs of `group_frames` frames, the last
/// one extended to the end.
pub fn frame_groups(n_frames: usize, group_frames: usize) -> Result<Vec<Range<usize>>, GridError> {
    if group_frames == 0 || group_frames > n_frames {
        return Err(GridError::Mismatch {
            what: "--group_frames",
            expected: format!("1 to the number of frames ({n_frames})"),
            found: group_frames.to_string(),
        });
    }
    let n_groups = n_frames / group_frames;
    Ok((0..n_groups)
        .map(|g| {
            let end = if g + 1 == n_groups {
                n_frames
            } else {
                (g + 1) * group_frames
            };
            g * group_frames..end
        })
        .collect())
}

/// Local shift observations of every converged patch (row by row, groups in order) of
/// `frames`, real-space frames already globally aligned. Patches run in parallel; the result
/// does not depend on the number of threads.
pub fn align_patches(
    frames: &[Plane],
    settings: &PatchSettings,
) -> Result<Vec<PatchObservation>, GridError> {
    let Some(first) = frames.first() else {
        return Err(GridError::Mismatch {
            what: "frames for patch alignment",
            expected: "at least one frame".into(),
            found: "none".into(),
        });
    };
    let (width, height) = (first.width(), first.height());
    if let Some(f) = frames
        .iter()
        .position(|p| p.width() != width || p.height() != height)
    {
        return Err(GridError::Mismatch {
            what: "frame sizes for patch alignment",
            expected: format!("every frame {width} × {height} px like frame 0"),
            found: format!(
                "frame {f} is {} × {} px",
                frames[f].width(),
                frames[f].height()
            ),
        });
    }
    let windows = patch_windows(width, height, settings.patch_x, settings.patch_y)?;
    let groups = frame_groups(frames.len(), settings.group_frames)?;
    let per_patch: Vec<Vec<PatchObservation>> = windows
        .par_iter()
        .map(|window| align_patch(frames, window, &groups, &settings.align))
        .collect::<Result<_, _>>()?;
    Ok(per_patch.into_iter().flatten().collect())
}

/// The observations of one patch, or none if its alignment did not converge.
fn align_patch(
    frames: &[Plane],
    window: &PatchWindow,
    groups: &[Range<usize>],
    settings: &AlignSettings,
) -> Result<Vec<PatchObservation>, GridError> {
    let spectra: Vec<_> = groups
        .iter()
        .map(|group| {
            let (w, h) = (window.x.len(), window.y.len());
            let mut sum = Plane::zeros(w, h);
            for frame in &frames[group.clone()] {
                let patch = frame
                    .crop(window.x.start, window.y.start, w, h)
                    .unwrap_or_else(|| unreachable!("patch windows lie inside the frame"));
                sum.data_mut()
                    .iter_mut()
                    .zip(patch.data())
                    .for_each(|(s, v)| *s += v);
            }
            forward(&sum)
        })
        .collect();
    let alignment = align_frames(&spectra, settings)?;
    if !alignment.converged {
        return Ok(Vec::new());
    }
    let times: Vec<f64> = groups
        .iter()
        .map(|g| g.start as f64 + g.len() as f64 / 2.0)
        .collect();
    let at_zero = extrapolate_to_zero(&times, &alignment.shifts);
    let centre = [window.centre[0] as f64, window.centre[1] as f64];
    Ok(times
        .iter()
        .zip(&alignment.shifts)
        .map(|(&frame, s)| PatchObservation {
            centre,
            frame,
            shift: [s[0] - at_zero[0], s[1] - at_zero[1]],
        })
        .collect())
}

/// The shift at frame 0 on the line through the first two group centres (the first group's
/// shift when there is only one group).
fn extrapolate_to_zero(times: &[f64], shifts: &[[f64; 2]]) -> [f64; 2] {
    if shifts.len() < 2 {
        return shifts[0];
    }
    let slope = |axis: usize| (shifts[1][axis] - shifts[0][axis]) / (times[1] - times[0]);
    [
        shifts[0][0] - times[0] * slope(0),
        shifts[0][1] - times[0] * slope(1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::align::align_frames;
    use crate::motion::frames::apply_global_shifts;
    use crate::motion::polynomial::{PolynomialMotion, fit_polynomial};
    use crate::motion::test_movie::{Movie, rms_error};

    #[test]
    fn geometry_matches_relions_log() {
        // relion_run_motioncorr --use_own --patch_x 5 --patch_y 5 on 512 × 512 logs
        // X range = [0, 102) … [408, 510), centres 50, 152, 254, 356, 458.
        let windows = patch_windows(512, 512, 5, 5).unwrap();
        assert_eq!(windows.len(), 25);
        assert_eq!(windows[0].x, 0..102);
        assert_eq!(windows[4].x, 408..510);
        let centres: Vec<usize> = windows[..5].iter().map(|w| w.centre[0]).collect();
        assert_eq!(centres, [50, 152, 254, 356, 458]);
        assert_eq!(windows[5].y, 102..204);
        // Odd patch sizes lose their last pixel, or their first at the far edge.
        let odd = patch_windows(15, 14, 3, 2).unwrap();
        assert_eq!((odd[0].x.clone(), odd[2].x.clone()), (0..4, 11..15));
        assert_eq!(odd[2].centre, [12, 2]);
        assert!(patch_windows(10, 10, 0, 3).is_err());
    }

    #[test]
    fn groups_match_relions_log() {
        // RELION, 16 frames in groups of 3: | 1 2 3 | 4 5 6 | 7 8 9 | 10 11 12 | 13 14 15 16 |
        let groups = frame_groups(16, 3).unwrap();
        assert_eq!(groups, [0..3, 3..6, 6..9, 9..12, 12..16]);
        assert_eq!(frame_groups(4, 1).unwrap().len(), 4);
        assert!(frame_groups(4, 5).is_err());
    }

    #[test]
    fn extrapolation_matches_relions_observations() {
        // RELION (group size 3, first two observations at z = 1.5, 4.5) wrote 0.018556 and
        // 0.055668: the frame-0 value lies on the line through the first two group shifts.
        let shifts = [[0.0, 0.0], [0.037112, 0.0]];
        let zero = extrapolate_to_zero(&[1.5, 4.5], &shifts);
        assert!((zero[0] + 0.018556).abs() < 1e-9);
    }

    #[test]
    fn grouped_observations_sit_at_group_centres() {
        // Uniform drift only: after global alignment every patch is still, so every local
        // observation is ~0; groups of 3 in 10 frames are [0, 3), [3, 6) and [6, 10), centres
        // 1.5, 4.5 and 8. (With only two groups each group's reference is the other one and
        // RELION's scheme doubles every shift.)
        let displacements: Vec<[f64; 2]> =
            (0..10).map(|f| [0.4 * f as f64, -0.3 * f as f64]).collect();
        let movie = Movie::with_displacements(256, &displacements, 8, 0.15);
        let mut spectra = movie.spectra();
        // Global alignment iterated to convergence, so that no residual drift is left for the
        // patches (RELION's 0.5 px stopping rule leaves ~0.1 px).
        let converged = AlignSettings {
            tolerance: 1e-3,
            max_iter: 30,
            ..AlignSettings::default()
        };
        let global = align_frames(&spectra, &converged).unwrap();
        apply_global_shifts(&mut spectra, &global.shifts).unwrap();
        let aligned: Vec<Plane> = spectra
            .iter()
            .map(crate::fourier::fft::plane::inverse)
            .collect();
        let settings = PatchSettings {
            patch_x: 3,
            patch_y: 3,
            group_frames: 3,
            align: AlignSettings::default(),
        };
        let observations = align_patches(&aligned, &settings).unwrap();
        assert_eq!(observations.len(), 9 * 3, "{observations:?}");
        let times: Vec<f64> = observations[..3].iter().map(|o| o.frame).collect();
        assert_eq!(times, [1.5, 4.5, 8.0]);
        assert_eq!(observations[0].centre, [41.0, 41.0]);
        for o in &observations {
            assert!(o.shift[0].abs() < 0.1 && o.shift[1].abs() < 0.1, "{o:?}");
        }
    }

    /// A known local field: −(global + polynomial) displacement, the polynomial with only the
    /// spatially zero-mean terms x, y, xy (so the global alignment sees the global drift).
    fn truth() -> PolynomialMotion {
        let mut coefficients = [0.0; 36];
        coefficients[3] = 0.8; // x·z, on x
        coefficients[4] = -0.02; // x·z², on x
        coefficients[15] = 0.5; // xy·z, on x
        coefficients[18 + 9] = -0.6; // y·z, on y
        coefficients[18 + 3] = 0.3; // x·z, on y
        coefficients[18 + 10] = 0.015; // y·z², on y
        PolynomialMotion { coefficients }
    }

    #[test]
    fn recovers_a_known_local_polynomial_field() {
        let (size, n_frames) = (512, 10);
        let model = truth();
        let field = move |x: f64, y: f64, f: usize| {
            let z = f as f64;
            let local = model.local_shift(x / size as f64 - 0.5, y / size as f64 - 0.5, z);
            let global = [-0.9 * z, 0.5 * z];
            [-(global[0] + local[0]), -(global[1] + local[1])]
        };
        let movie = Movie::with_field(size, n_frames, 21, 0.35, &field);
        let mut spectra = movie.spectra();
        let global = align_frames(&spectra, &AlignSettings::default()).unwrap();
        apply_global_shifts(&mut spectra, &global.shifts).unwrap();
        let truth_global: Vec<[f64; 2]> = (0..n_frames)
            .map(|f| [-0.9 * f as f64, 0.5 * f as f64])
            .collect();
        let aligned: Vec<Plane> = spectra
            .iter()
            .map(crate::fourier::fft::plane::inverse)
            .collect();
        let settings = PatchSettings {
            patch_x: 5,
            patch_y: 5,
            group_frames: 1,
            align: AlignSettings::default(),
        };
        let observations = align_patches(&aligned, &settings).unwrap();
        assert_eq!(observations.len(), 25 * n_frames);
        // A perfect measurement of frame f is truth(f) − truth(0) = truth(f); RELION then
        // subtracts the value at frame 0 of the line through the first two observations,
        // placed at z = 0.5 and 1.5, i.e. −truth(1)/2. So the expected observation is
        // truth(f) + truth(1)/2, at z = f + 0.5.
        let expected = |x: f64, y: f64, f: f64| {
            let (t, t1) = (model.local_shift(x, y, f), model.local_shift(x, y, 1.0));
            [t[0] + 0.5 * t1[0], t[1] + 0.5 * t1[1]]
        };
        let mut sum_sq = 0.0;
        let (mut dot, mut norm) = (0.0, 0.0);
        for o in &observations {
            let f = (o.frame - 0.5).round();
            let (x, y) = (
                o.centre[0] / size as f64 - 0.5,
                o.centre[1] / size as f64 - 0.5,
            );
            let t = expected(x, y, f);
            sum_sq += (o.shift[0] - t[0]).powi(2) + (o.shift[1] - t[1]).powi(2);
            dot += o.shift[0] * t[0] + o.shift[1] * t[1];
            norm += t[0] * t[0] + t[1] * t[1];
        }
        // RELION's patches are cut without tapering, so their edges (identical in every
        // frame) pull the cross-correlation peaks slightly towards zero: the observations are
        // the truth times a gain a little below 1.
        let gain = dot / norm;
        let field_rms = (norm / observations.len() as f64).sqrt();
        let observed = (sum_sq / observations.len() as f64).sqrt();
        let fit = fit_polynomial(&observations, size, size).unwrap();
        let mut model_sq = 0.0;
        let mut count = 0.0;
        for f in 0..n_frames {
            for (x, y) in [
                (-0.4, -0.4),
                (0.0, 0.0),
                (0.4, -0.3),
                (-0.3, 0.4),
                (0.4, 0.4),
            ] {
                let got = fit.motion.local_shift(x, y, f as f64 + 0.5);
                let want = expected(x, y, f as f64);
                model_sq += (got[0] - want[0]).powi(2) + (got[1] - want[1]).powi(2);
                count += 1.0;
            }
        }
        let modelled = (model_sq / count).sqrt();
        let global_error = rms_error(&global.shifts, &truth_global);
        eprintln!(
            "patches 5×5 on {size}² × {n_frames}: global RMS error {global_error:.3} px; local \
             field RMS {field_rms:.3} px, observations gain {gain:.3}, RMS error \
             {observed:.3} px; fitted model RMS error {modelled:.3} px, fit RMSD {:?} px",
            fit.rmsd
        );
        assert!(global_error < 0.05, "global RMS error {global_error} px");
        assert!((0.85..1.05).contains(&gain), "observation gain {gain}");
        assert!(observed < 0.25, "observations RMS error {observed} px");
        assert!(modelled < 0.2, "model RMS error {modelled} px");
    }
}
