//! The defocus search: the normalised cross-correlation (CC) between the background-subtracted
//! amplitude spectrum and CTF² over the fitted band, maximised in three stages (CTFFIND4):
//! 1. an exhaustive 1D search of defocus (and phase shift, when asked) on the rotational
//!    average, assuming no astigmatism, on the settings' grid, then on a 10× finer grid around
//!    the best;
//! 2. a coarse 2D search of astigmatism (|U − V| up to four defocus steps) and its angle (every
//!    10°), as CTFFIND 4.1's "slower, more exhaustive search";
//! 3. Nelder–Mead refinement of mean defocus, half astigmatism, angle (and phase shift),
//!    restarted once, with U and V kept inside the searched defocus range.
//!
//! The score is CC − (U − V)² / (2 σ² N) with σ the expected astigmatism and N the number of
//! fitted Fourier pixels: CTFFIND's Gaussian restraint on astigmatism, weak unless |U − V| is
//! many σ. The figure of merit reported is the CC alone.

use super::CtfFindError;
use super::background::{BandPixel, BandSpectrum};
use super::profile::{FIT_QUALITY_THRESHOLD, FitProfile};
use super::settings::{CtfFindSettings, Microscope};
use super::simplex::minimise;
use crate::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use rayon::prelude::*;

/// Fourier pixels per parallel chunk of the CC sums (fixed, so sums do not depend on threads).
const CHUNK: usize = 2048;

/// Angle step of the coarse 2D search, degrees.
const ANGLE_STEP_DEG: f64 = 10.0;

/// Half-astigmatism steps of the coarse 2D search, in units of a quarter defocus step.
const ASTIGMATISM_STEPS: usize = 8;

/// The estimated CTF of a micrograph, in RELION's STAR conventions.
#[derive(Debug, Clone, PartialEq)]
pub struct CtfEstimate {
    /// Defocus along the major axis in Å, positive = underfocus, ≥ `defocus_v`
    /// (`rlnDefocusU`).
    pub defocus_u: f64,
    /// Defocus along the minor axis in Å (`rlnDefocusV`).
    pub defocus_v: f64,
    /// Angle of the U axis from x in degrees, in (−90°, 90°] (`rlnDefocusAngle`).
    pub defocus_angle_deg: f64,
    /// Phase shift in degrees, in [0°, 180°) (CTF² cannot tell φ from φ + 180°); 0 unless a
    /// phase-shift search was asked for, in which case the search range seeds the 1D search
    /// and the refinement is free (`rlnPhaseShift`).
    pub phase_shift_deg: f64,
    /// CC between the background-subtracted spectrum and the fitted CTF² over the band
    /// (`rlnCtfFigureOfMerit`), in [−1, 1].
    pub figure_of_merit: f64,
    /// Fit resolution in Å: where the 1D fit quality first drops below 0.75
    /// (`rlnCtfMaxResolution`).
    pub max_resolution_angstrom: f64,
    /// True when the 1D search's best defocus lay on an end of the searched range, so the true
    /// defocus may lie outside it.
    pub defocus_at_search_limit: bool,
    /// The 1D curves: frequency, equiphase average, fitted CTF², fit quality.
    pub profile: FitProfile,
}

impl CtfEstimate {
    /// The estimated CTF's parameters for `microscope` (no envelope, scale 1).
    pub fn ctf_params(&self, microscope: &Microscope) -> CtfParams {
        microscope.ctf_params(
            self.defocus_u,
            self.defocus_v,
            self.defocus_angle_deg,
            self.phase_shift_deg,
        )
    }
}

/// Estimates the CTF from a background-subtracted spectrum (built with the same `settings`,
/// e.g. by [`BandSpectrum::for_settings`]).
pub fn estimate_ctf(
    band: &BandSpectrum,
    microscope: &Microscope,
    settings: &CtfFindSettings,
) -> Result<CtfEstimate, CtfFindError> {
    settings.validate(microscope)?;
    let scorer = Scorer::new(
        band.fit_pixels(),
        *microscope,
        settings.expected_astigmatism,
    );
    let search = OneDimensionalSearch::new(band, *microscope, settings);
    let (mean_defocus, phase, at_limit) = search.best();

    let (lo, hi) = (settings.defocus_min, settings.defocus_max);
    let phase_free = settings.phase_shift.is_some();
    // Parameters: mean defocus (Å), half astigmatism (Å), angle (degrees), phase (degrees).
    let negative_score = |p: &[f64]| {
        let (u, v) = (p[0] + p[1].abs(), p[0] - p[1].abs());
        if u > hi || v < lo {
            return 1.0 + (u - hi).max(0.0) + (lo - v).max(0.0);
        }
        -scorer.score(u, v, p[2], if phase_free { p[3] } else { phase })
    };
    let mut start = vec![mean_defocus, 0.0, 0.0, phase];
    let mut best = negative_score(&start);
    let quarter = settings.defocus_step / 4.0;
    for k in 1..=ASTIGMATISM_STEPS {
        for a in 0..(180.0 / ANGLE_STEP_DEG) as usize {
            let candidate = [
                mean_defocus,
                k as f64 * quarter,
                a as f64 * ANGLE_STEP_DEG,
                phase,
            ];
            let value = negative_score(&candidate);
            if value < best {
                (best, start) = (value, candidate.to_vec());
            }
        }
    }
    let dims = if phase_free { 4 } else { 3 };
    let mut point = start[..dims].to_vec();
    for scale in [1.0, 0.25] {
        let steps = [100.0 * scale, 100.0 * scale, 10.0 * scale, 10.0 * scale];
        point = minimise(negative_score, &point, &steps[..dims], 1e-7, 400).point;
    }

    // U ≥ V by construction: the score reads the half astigmatism as |δ| along the angle.
    let (u, v, angle) = (
        point[0] + point[1].abs(),
        point[0] - point[1].abs(),
        point[2],
    );
    let phase = if phase_free { point[3] } else { phase }.rem_euclid(180.0);
    let ctf = Ctf::new(microscope.ctf_params(u, v, angle, phase))?;
    let profile = FitProfile::new(band, &ctf)?;
    Ok(CtfEstimate {
        defocus_u: u,
        defocus_v: v,
        defocus_angle_deg: wrap_angle(angle),
        phase_shift_deg: phase,
        figure_of_merit: scorer.cc(&ctf),
        max_resolution_angstrom: profile.fit_resolution(FIT_QUALITY_THRESHOLD),
        defocus_at_search_limit: at_limit,
        profile,
    })
}

/// `angle` (degrees) wrapped to (−90°, 90°].
fn wrap_angle(angle: f64) -> f64 {
    let a = angle.rem_euclid(180.0);
    if a > 90.0 { a - 180.0 } else { a }
}

/// CTF² evaluated without envelope.
fn ctf_squared(ctf: &Ctf, fx: f64, fy: f64) -> f64 {
    let variant = CtfVariant {
        damping: false,
        ..CtfVariant::default()
    };
    ctf.value(fx, fy, variant).powi(2)
}

/// The 2D score over the fitted band's pixels.
struct Scorer<'a> {
    pixels: &'a [BandPixel],
    /// Pixel values with zero mean and unit norm.
    normalised: Vec<f64>,
    microscope: Microscope,
    /// 1 / (2 σ² N) of the astigmatism restraint (Å⁻²), 0 without it.
    restraint: f64,
}

impl<'a> Scorer<'a> {
    fn new(
        pixels: &'a [BandPixel],
        microscope: Microscope,
        expected_astigmatism: Option<f64>,
    ) -> Self {
        let n = pixels.len() as f64;
        let mean = pixels.iter().map(|p| p.value).sum::<f64>() / n;
        let norm = pixels
            .iter()
            .map(|p| (p.value - mean).powi(2))
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        Self {
            pixels,
            normalised: pixels.iter().map(|p| (p.value - mean) / norm).collect(),
            microscope,
            restraint: expected_astigmatism.map_or(0.0, |s| 1.0 / (2.0 * s * s * n)),
        }
    }

    /// CC between the pixel values and CTF² of `ctf`.
    fn cc(&self, ctf: &Ctf) -> f64 {
        let partial: Vec<[f64; 3]> = self
            .pixels
            .par_chunks(CHUNK)
            .zip(self.normalised.par_chunks(CHUNK))
            .map(|(pixels, values)| {
                let mut s = [0.0; 3];
                for (p, &v) in pixels.iter().zip(values) {
                    let m = ctf_squared(ctf, p.fx, p.fy);
                    s[0] += m;
                    s[1] += m * m;
                    s[2] += v * m;
                }
                s
            })
            .collect();
        let [sum, sum2, cross] = partial
            .iter()
            .fold([0.0; 3], |a, s| [a[0] + s[0], a[1] + s[1], a[2] + s[2]]);
        let spread = (sum2 - sum * sum / self.pixels.len() as f64)
            .max(0.0)
            .sqrt();
        if spread > 0.0 { cross / spread } else { 0.0 }
    }

    /// CC minus the astigmatism restraint for defocus `u`, `v` (Å), angle and phase (degrees).
    fn score(&self, u: f64, v: f64, angle_deg: f64, phase_deg: f64) -> f64 {
        match Ctf::new(self.microscope.ctf_params(u, v, angle_deg, phase_deg)) {
            Ok(ctf) => self.cc(&ctf) - self.restraint * (u - v).powi(2),
            Err(_) => f64::NEG_INFINITY,
        }
    }
}

/// The exhaustive search on the rotational average of the fitted band.
struct OneDimensionalSearch<'a> {
    /// Shell frequency (Å⁻¹), mean value and pixel count, shells with pixels only.
    shells: Vec<(f64, f64, f64)>,
    microscope: Microscope,
    settings: &'a CtfFindSettings,
}

impl<'a> OneDimensionalSearch<'a> {
    fn new(band: &BandSpectrum, microscope: Microscope, settings: &'a CtfFindSettings) -> Self {
        let box_angstrom = band.box_size() as f64 * band.pixel_size();
        let shells_total = band.box_size() / 2 + 1;
        let (mut sum, mut count) = (vec![0.0; shells_total], vec![0.0; shells_total]);
        for p in band.fit_pixels() {
            let shell = ((p.fx * p.fx + p.fy * p.fy).sqrt() * box_angstrom).round() as usize;
            sum[shell] += p.value;
            count[shell] += 1.0;
        }
        let shells = (0..shells_total)
            .filter(|&s| count[s] > 0.0)
            .map(|s| (s as f64 / box_angstrom, sum[s] / count[s], count[s]))
            .collect();
        Self {
            shells,
            microscope,
            settings,
        }
    }

    /// Count-weighted CC between the shell means and CTF² at `defocus` (Å) and `phase` (deg).
    fn cc(&self, defocus: f64, phase: f64) -> f64 {
        let Ok(ctf) = Ctf::new(self.microscope.ctf_params(defocus, defocus, 0.0, phase)) else {
            return f64::NEG_INFINITY;
        };
        let (mut w, mut sv, mut sm, mut svv, mut smm, mut svm) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for &(u, v, c) in &self.shells {
            let m = ctf_squared(&ctf, u, 0.0);
            w += c;
            sv += c * v;
            sm += c * m;
            svv += c * v * v;
            smm += c * m * m;
            svm += c * v * m;
        }
        let cov = svm - sv * sm / w;
        let spread = ((svv - sv * sv / w) * (smm - sm * sm / w)).max(0.0).sqrt();
        if spread > 0.0 { cov / spread } else { 0.0 }
    }

    /// Best (mean defocus Å, phase shift degrees, best coarse defocus on a range end).
    fn best(&self) -> (f64, f64, bool) {
        let s = self.settings;
        let defoci = grid(s.defocus_min, s.defocus_max, s.defocus_step);
        let phases = s
            .phase_shift
            .map_or(vec![0.0], |p| grid(p.min_deg, p.max_deg, p.step_deg));
        let mut best = (f64::NEG_INFINITY, 0usize, 0.0);
        for (i, &d) in defoci.iter().enumerate() {
            for &phase in &phases {
                let cc = self.cc(d, phase);
                if cc > best.0 {
                    best = (cc, i, phase);
                }
            }
        }
        let (_, index, phase) = best;
        let at_limit = index == 0 || index + 1 == defoci.len();
        let centre = defoci[index];
        let fine_step = s.defocus_step / 10.0;
        let fine =
            (-10..=10).map(|k| (centre + k as f64 * fine_step).clamp(s.defocus_min, s.defocus_max));
        let (defocus, _) = fine.fold((centre, f64::NEG_INFINITY), |acc, d| {
            let cc = self.cc(d, phase);
            if cc > acc.1 { (d, cc) } else { acc }
        });
        (defocus, phase, at_limit)
    }
}

/// `min`, `min + step`, … up to `max` (inclusive within round-off).
fn grid(min: f64, max: f64, step: f64) -> Vec<f64> {
    let count = ((max - min) / step + 1e-9).floor() as usize + 1;
    (0..count).map(|i| min + i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctffind::spectrum::averaged_power_spectrum;
    use crate::ctffind::testkit::Simulation;
    use crate::grid::Plane;

    fn krios() -> Microscope {
        Microscope {
            voltage_kv: 300.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.1,
            pixel_size: 1.0,
        }
    }

    fn run(sim: &Simulation, settings: &CtfFindSettings) -> CtfEstimate {
        estimate_from_micrograph(&sim.render(), settings)
    }

    fn estimate_from_micrograph(micrograph: &Plane, settings: &CtfFindSettings) -> CtfEstimate {
        let power = averaged_power_spectrum(micrograph, settings.box_size).unwrap();
        let band = BandSpectrum::for_settings(&power, &krios(), settings).unwrap();
        estimate_ctf(&band, &krios(), settings).unwrap()
    }

    /// Signed angle difference in degrees, modulo 180°.
    fn angle_error(a: f64, b: f64) -> f64 {
        wrap_angle(a - b)
    }

    #[test]
    fn recovers_astigmatic_defocus_and_angle() {
        let sim = Simulation::krios((1024, 1024), (21000.0, 19500.0), 35.0, 1);
        let micrograph = sim.render();
        let start = std::time::Instant::now();
        let e = estimate_from_micrograph(&micrograph, &CtfFindSettings::default());
        let elapsed = start.elapsed();
        let free = run(
            &Simulation { ctf: None, ..sim },
            &CtfFindSettings::default(),
        );
        eprintln!(
            "ΔU {:+.1} Å, ΔV {:+.1} Å, Δangle {:+.2}°, FOM {:.3} (CTF-free {:.3}), fit res {:.2} Å, \
             {elapsed:?}",
            e.defocus_u - 21000.0,
            e.defocus_v - 19500.0,
            angle_error(e.defocus_angle_deg, 35.0),
            e.figure_of_merit,
            free.figure_of_merit,
            e.max_resolution_angstrom
        );
        assert!(
            (e.defocus_u - 21000.0).abs() < 100.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!(
            (e.defocus_v - 19500.0).abs() < 100.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!(angle_error(e.defocus_angle_deg, 35.0).abs() < 5.0);
        assert!(e.defocus_angle_deg > -90.0 && e.defocus_angle_deg <= 90.0);
        assert!(e.figure_of_merit > 0.25 && e.figure_of_merit > 5.0 * free.figure_of_merit.abs());
        assert!(!e.defocus_at_search_limit && e.phase_shift_deg == 0.0);
        assert!(
            e.max_resolution_angstrom < 8.0,
            "{}",
            e.max_resolution_angstrom
        );
        assert!(
            free.max_resolution_angstrom > 15.0,
            "{}",
            free.max_resolution_angstrom
        );
        let p = &e.profile;
        assert_eq!(p.frequency.len(), p.fit_quality.len());
        assert_eq!(p.frequency.len(), p.rotational_average.len());
        assert_eq!(p.frequency.len(), p.fitted_ctf_squared.len());
    }

    #[test]
    fn errors_over_five_seeds_and_defoci_stay_below_100_angstrom() {
        let cases = [
            (9000.0, 8500.0, -60.0),
            (15000.0, 14000.0, 10.0),
            (25000.0, 24200.0, 80.0),
            (32000.0, 31000.0, -20.0),
            (40000.0, 39500.0, 55.0),
        ];
        for (seed, &(u, v, angle)) in cases.iter().enumerate() {
            let sim = Simulation::krios((1024, 1024), (u, v), angle, 10 + seed as u64);
            let e = run(&sim, &CtfFindSettings::default());
            let (du, dv) = (e.defocus_u - u, e.defocus_v - v);
            let da = angle_error(e.defocus_angle_deg, angle);
            eprintln!(
                "seed {}: U {u} V {v} angle {angle}: ΔU {du:+.1} ΔV {dv:+.1} Δangle {da:+.2} \
                 FOM {:.3} res {:.2}",
                10 + seed,
                e.figure_of_merit,
                e.max_resolution_angstrom
            );
            assert!(du.abs() < 100.0 && dv.abs() < 100.0 && da.abs() < 5.0);
        }
    }

    #[test]
    fn recovers_a_90_degree_phase_shift_when_searching_for_it() {
        let mut sim = Simulation::krios((1024, 1024), (12000.0, 11000.0), -40.0, 3);
        if let Some(ctf) = sim.ctf.as_mut() {
            ctf.phase_shift_deg = 90.0;
        }
        let settings = CtfFindSettings {
            phase_shift: Some(Default::default()),
            ..CtfFindSettings::default()
        };
        let e = run(&sim, &settings);
        eprintln!(
            "phase {:.2}°, ΔU {:+.1}, ΔV {:+.1}, Δangle {:+.2}",
            e.phase_shift_deg,
            e.defocus_u - 12000.0,
            e.defocus_v - 11000.0,
            angle_error(e.defocus_angle_deg, -40.0)
        );
        assert!(
            (e.phase_shift_deg - 90.0).abs() < 5.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!((e.defocus_u - 12000.0).abs() < 100.0 && (e.defocus_v - 11000.0).abs() < 100.0);
        let unsearched = run(&sim, &CtfFindSettings::default());
        assert!(unsearched.figure_of_merit < e.figure_of_merit);
    }

    #[test]
    fn a_defocus_beyond_the_range_is_flagged_and_kept_inside_it() {
        let sim = Simulation::krios((1024, 1024), (21500.0, 21000.0), 0.0, 4);
        let settings = CtfFindSettings {
            defocus_max: 20000.0,
            ..CtfFindSettings::default()
        };
        let e = run(&sim, &settings);
        eprintln!(
            "beyond the range: U {:.1} V {:.1}",
            e.defocus_u, e.defocus_v
        );
        assert!(
            e.defocus_at_search_limit,
            "{} {} {}",
            e.defocus_u, e.defocus_v, e.defocus_angle_deg
        );
        assert!(
            e.defocus_u <= 20000.0 && e.defocus_v >= 5000.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
    }

    #[test]
    fn power_spectra_of_frame_groups_average_into_one_estimate() {
        let settings = CtfFindSettings::default();
        let spectra: Vec<Plane> = (0..3)
            .map(|group| {
                let sim = Simulation::krios((768, 768), (21000.0, 19500.0), 35.0, 20 + group);
                averaged_power_spectrum(&sim.render(), 512).unwrap()
            })
            .collect();
        let power = crate::ctffind::mean_power_spectrum(&spectra).unwrap();
        let band = BandSpectrum::for_settings(&power, &krios(), &settings).unwrap();
        let e = estimate_ctf(&band, &krios(), &settings).unwrap();
        eprintln!(
            "frame groups: ΔU {:+.1} ΔV {:+.1} Δangle {:+.2}",
            e.defocus_u - 21000.0,
            e.defocus_v - 19500.0,
            angle_error(e.defocus_angle_deg, 35.0)
        );
        assert!((e.defocus_u - 21000.0).abs() < 100.0 && (e.defocus_v - 19500.0).abs() < 100.0);
        assert!(angle_error(e.defocus_angle_deg, 35.0).abs() < 5.0);
    }

    #[test]
    fn a_non_square_micrograph_works() {
        let sim = Simulation::krios((1024, 640), (18000.0, 17000.0), 120.0, 5);
        let e = run(&sim, &CtfFindSettings::default());
        eprintln!(
            "1024 × 640: ΔU {:+.1} ΔV {:+.1} Δangle {:+.2}",
            e.defocus_u - 18000.0,
            e.defocus_v - 17000.0,
            angle_error(e.defocus_angle_deg, 120.0)
        );
        assert!(
            (e.defocus_u - 18000.0).abs() < 100.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!(
            (e.defocus_v - 17000.0).abs() < 100.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!(
            angle_error(e.defocus_angle_deg, 120.0).abs() < 5.0,
            "{} {} {}",
            e.defocus_u,
            e.defocus_v,
            e.defocus_angle_deg
        );
        assert!(
            (e.defocus_angle_deg - -60.0).abs() < 5.0,
            "wrapped to (−90, 90]"
        );
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let sim = Simulation::krios((512, 512), (21000.0, 19500.0), 35.0, 6);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let settings = CtfFindSettings::default();
        let a = one.install(|| run(&sim, &settings));
        let b = three.install(|| run(&sim, &settings));
        assert_eq!(a, b);
    }

    #[test]
    fn bad_settings_are_named() {
        let m = krios();
        let bad = [
            CtfFindSettings {
                box_size: 511,
                ..Default::default()
            },
            CtfFindSettings {
                max_resolution: 1.5,
                ..Default::default()
            },
            CtfFindSettings {
                min_resolution: 4.0,
                ..Default::default()
            },
            CtfFindSettings {
                defocus_max: 1000.0,
                ..Default::default()
            },
            CtfFindSettings {
                defocus_step: 0.0,
                ..Default::default()
            },
            CtfFindSettings {
                expected_astigmatism: Some(-1.0),
                ..Default::default()
            },
        ];
        for s in bad {
            assert!(
                matches!(s.validate(&m), Err(CtfFindError::BadSetting { .. })),
                "{s:?}"
            );
        }
        let bad_q0 = Microscope {
            amplitude_contrast: 2.0,
            ..m
        };
        assert!(CtfFindSettings::default().validate(&bad_q0).is_err());
        assert!(CtfFindSettings::default().validate(&m).is_ok());
    }

    #[test]
    fn angles_wrap_into_minus_90_to_90() {
        assert_eq!(wrap_angle(120.0), -60.0);
        assert_eq!(wrap_angle(-90.0), 90.0);
        assert_eq!(wrap_angle(90.0), 90.0);
        assert_eq!(wrap_angle(-270.0), 90.0);
    }
}
