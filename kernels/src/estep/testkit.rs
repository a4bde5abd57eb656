//! Fixtures shared by the E-step tests: a deterministic "random-ish" volume of Gaussian blobs,
//! particles simulated from it at known poses (projection, CTF, shift, white noise), and
//! [`SearchScenario`], a whole particle search around such a particle.

use glam::DMat3;

use super::{
    CoarseOrientation, FourierWindow, MaskFill, Metric, OrientationPlan, ParticleInput,
    ParticleMask, ParticleSearch, PreparedParticle, TranslationGrid, TranslationSearch,
    global_orientations,
};
use crate::fourier::ctf::{Ctf, CtfParams, CtfVariant};
use crate::fourier::fft;
use crate::fourier::projector::{Projector, ProjectorOptions};
use crate::geometry::sampling::OrientationSampling;
use crate::geometry::symmetry::SymmetryGroup;
use crate::grid::test_noise::uniform;
use crate::grid::{Image, Volume};
use crate::random::SplitMix64;

/// Box size (pixels) and pixel size (Å) of the test particles.
pub(crate) const N: usize = 32;
pub(crate) const PIXEL: f64 = 3.0;

/// A map of 24 Gaussian blobs (widths 1.2–2.4 px) inside a ball of radius n/4 pixels.
pub(crate) fn blob_volume(n: usize, pixel_size: f64, seed: u64) -> Volume {
    let u = uniform(seed, 24 * 5);
    let blobs: Vec<([f64; 3], f64, f64)> = u
        .chunks(5)
        .map(|c| {
            let centre = [c[0], c[1], c[2]].map(|v| v as f64 * n as f64 * 0.45);
            let r = centre.iter().map(|v| v * v).sum::<f64>().sqrt();
            let limit = n as f64 / 4.0;
            let centre = if r > limit {
                centre.map(|v| v * limit / r)
            } else {
                centre
            };
            (centre, 1.8 + 1.2 * c[3] as f64, 1.0 + c[4] as f64)
        })
        .collect();
    Volume::from_fn(n, pixel_size, |x| {
        blobs
            .iter()
            .map(|(c, s, a)| {
                let d2: f64 = (0..3).map(|i| (x[i] - c[i]).powi(2)).sum();
                a * (-d2 / (2.0 * s * s)).exp()
            })
            .sum::<f64>() as f32
    })
    .unwrap()
}

/// The projector of [`blob_volume`] with RELION's defaults (padding 2, trilinear).
pub(crate) fn blob_projector(seed: u64) -> Projector {
    Projector::new(&blob_volume(N, PIXEL, seed), &ProjectorOptions::default()).unwrap()
}

/// A 300 kV CTF with Cs 2.7 mm, 10 % amplitude contrast and the given defocus (Å).
pub(crate) fn test_ctf(defocus_angst: f64) -> Ctf {
    Ctf::new(CtfParams {
        voltage_kv: 300.0,
        cs_mm: 2.7,
        amplitude_contrast: 0.1,
        defocus_u: defocus_angst,
        defocus_v: defocus_angst * 0.95,
        defocus_angle_deg: 30.0,
        ..CtfParams::default()
    })
    .unwrap()
}

/// The image of pose `a` with origin `origin_px` (the observed image is the CTF-modulated
/// projection moved by −origin), plus white noise of real-space standard deviation
/// `noise_std` from `seed`.
pub(crate) fn simulate(
    projector: &Projector,
    a: &DMat3,
    origin_px: [f64; 2],
    ctf: Option<&Ctf>,
    noise_std: f64,
    seed: u64,
) -> Image {
    let n = projector.geometry().ori_size;
    let p = projector.geometry().pixel_size;
    let mut f = projector.project(a, n).unwrap();
    if let Some(c) = ctf {
        let img = c.image(n, p, CtfVariant::default()).unwrap();
        f.data_mut()
            .iter_mut()
            .zip(img.data())
            .for_each(|(v, &c)| *v *= c);
    }
    crate::fourier::shift::shift(&mut f, [-origin_px[0] * p, -origin_px[1] * p]);
    let mut image = fft::inverse(&f);
    let mut g = SplitMix64::new(seed);
    image
        .data_mut()
        .iter_mut()
        .for_each(|v| *v += (noise_std * g.next_normal()) as f32);
    image
}

/// σ²(r) of white noise of real-space standard deviation `std` in an n box: std²/(2n²).
pub(crate) fn white_sigma2(n: usize, std: f64) -> Vec<f64> {
    vec![std * std / (2.0 * (n * n) as f64); n / 2 + 1]
}

/// A particle input with a 12-pixel mask (3-pixel edge).
pub(crate) fn particle_input<'a>(
    image: &'a Image,
    sigma2: &'a [f64],
    ctf: Option<Ctf>,
    rounded_offset_px: [i64; 2],
    fill: MaskFill,
) -> ParticleInput<'a> {
    ParticleInput {
        image,
        rounded_offset_px,
        mask: ParticleMask {
            radius_px: 12.0,
            edge_px: 3.0,
            fill,
        },
        ctf,
        ctf_variant: CtfVariant::default(),
        sigma2,
        scale: 1.0,
    }
}

/// Real-space standard deviation of an image.
pub(crate) fn image_std(image: &Image) -> f64 {
    let n = image.data().len() as f64;
    let mean = image.sum() / n;
    (image
        .data()
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// A known pose on the fine grid: child `child` of coarse orientation `coarse`, and fine
/// translation `child_t` of coarse translation `coarse_t`.
pub(crate) struct Truth {
    pub rotation: DMat3,
    pub translation_angst: [f64; 2],
}

impl Truth {
    pub(crate) fn on_fine_grid(
        plan: &OrientationPlan<'_>,
        grid: &TranslationGrid,
        coarse: CoarseOrientation,
        child: usize,
        coarse_t: usize,
        child_t: usize,
    ) -> Self {
        Self {
            rotation: plan.fine_matrices(&coarse).unwrap()[child],
            translation_angst: grid.fine_angst(coarse_t).unwrap()[child_t],
        }
    }

    /// The particle origin in pixels for a given rounded previous offset.
    pub(crate) fn origin_px(&self, rounded_offset_px: [i64; 2]) -> [f64; 2] {
        [0, 1].map(|i| rounded_offset_px[i] as f64 + self.translation_angst[i] / PIXEL)
    }
}

/// The search for one particle simulated at a known pose on the fine grid of a C1 search:
/// blob reference, HEALPix orientations (fine pass one order finer), a translation grid of
/// coarse step and range 2 pixels (5 coarse, 20 fine translations), a CTF-modulated particle
/// and the search settings. Each test states the fields it changes from
/// [`Default`](SearchScenario::default) and gets the built search from [`run`](Self::run).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchScenario {
    /// Seed of the reference's blob volume ([`blob_projector`]).
    pub projector_seed: u64,
    /// HEALPix order of the coarse orientation sampling.
    pub healpix_order: u32,
    /// Perturbation of every rotation of the orientation plan (degrees).
    pub perturbation_deg: f64,
    /// Perturbation of the translation grid (Å).
    pub translation_perturbation_angst: f64,
    /// The particle's rounded previous offset (pixels).
    pub rounded_offset_px: [i64; 2],
    /// The true pose: child `child` of coarse orientation `coarse` and fine translation
    /// `child_t` of coarse translation `coarse_t` ([`Truth::on_fine_grid`]).
    pub coarse: CoarseOrientation,
    /// See `coarse`.
    pub child: usize,
    /// See `coarse`.
    pub coarse_t: usize,
    /// See `coarse`.
    pub child_t: usize,
    /// Defocus of the particle's CTF (Å, [`test_ctf`]).
    pub defocus_angst: f64,
    /// Standard deviation of the particle's white noise model (σ²) relative to that of the
    /// clean image.
    pub noise_ratio: f64,
    /// `Some(seed)`: noise of that standard deviation is added to the image from `seed`;
    /// `None`: the image stays clean and only σ² assumes the noise.
    pub noise_seed: Option<u64>,
    /// `Some((a, b))`: the particle sees a·v + b instead of each pixel value v.
    pub grey: Option<(f32, f32)>,
    /// Current image size of the window (the fine pass; pixels, even).
    pub current_size: usize,
    /// How the particle's mask fills the outside.
    pub fill: MaskFill,
    /// Window size of the coarse pass (pixels, even).
    pub coarse_size: usize,
    /// Likelihood or cross-correlation search.
    pub metric: Metric,
}

impl Default for SearchScenario {
    /// Order 1, no perturbations, pose at coarse orientation 0 (prior 1) and translation 0,
    /// defocus 1 µm, a clean image with σ half its standard deviation, window 24 with a
    /// mean-filled mask, coarse size 12, d² search.
    fn default() -> Self {
        Self {
            projector_seed: 1,
            healpix_order: 1,
            perturbation_deg: 0.0,
            translation_perturbation_angst: 0.0,
            rounded_offset_px: [0, 0],
            coarse: CoarseOrientation {
                direction: 0,
                psi: 0,
                prior: 1.0,
            },
            child: 0,
            coarse_t: 0,
            child_t: 0,
            defocus_angst: 10000.0,
            noise_ratio: 0.5,
            noise_seed: None,
            grey: None,
            current_size: 24,
            fill: MaskFill::Mean,
            coarse_size: 12,
            metric: Metric::Diff2,
        }
    }
}

/// What [`SearchScenario::run`] built: the search (its projector, particle, plan, orientations
/// and translations), the true pose and the particle's window.
pub(crate) struct Scene<'a> {
    /// The search, adaptive fraction 0.999, no significance cap, no coarse bank.
    pub search: ParticleSearch<'a>,
    /// The pose the particle was simulated at.
    pub truth: Truth,
    /// The particle's window.
    pub window: &'a FourierWindow,
}

impl SearchScenario {
    /// Builds the scenario and runs `test` on it.
    pub(crate) fn run<R>(&self, test: impl FnOnce(Scene<'_>) -> R) -> R {
        let projector = blob_projector(self.projector_seed);
        let c1 = SymmetryGroup::parse("C1").unwrap();
        let sampling = OrientationSampling::new(self.healpix_order, &c1).unwrap();
        let plan = OrientationPlan::new(&sampling, 1, self.perturbation_deg).unwrap();
        let orientations = global_orientations(&sampling, None).unwrap();
        let offsets = TranslationSearch {
            range_angst: 2.0 * PIXEL,
            step_angst: 2.0 * PIXEL,
            perturbation_angst: self.translation_perturbation_angst,
            sigma_offset_angst: 10.0 * PIXEL,
            prior_centre_angst: [0.0, 0.0],
        };
        let rounded = self.rounded_offset_px;
        let grid = TranslationGrid::new(&offsets, 1, rounded, PIXEL).unwrap();
        let truth = Truth::on_fine_grid(
            &plan,
            &grid,
            self.coarse,
            self.child,
            self.coarse_t,
            self.child_t,
        );
        let ctf = test_ctf(self.defocus_angst);
        let origin = truth.origin_px(rounded);
        let image_with = |noise_std, seed| {
            simulate(
                &projector,
                &truth.rotation,
                origin,
                Some(&ctf),
                noise_std,
                seed,
            )
        };
        let clean = image_with(0.0, 0);
        let noise_std = self.noise_ratio * image_std(&clean);
        let image = match self.noise_seed {
            Some(seed) => image_with(noise_std, seed),
            None => clean,
        };
        let image = match self.grey {
            Some((a, b)) => {
                Image::from_vec(N, PIXEL, image.data().iter().map(|v| a * v + b).collect()).unwrap()
            }
            None => image,
        };
        let sigma2 = white_sigma2(N, noise_std);
        let window = FourierWindow::new(N, self.current_size).unwrap();
        let input = particle_input(&image, &sigma2, Some(ctf), rounded, self.fill);
        let particle = PreparedParticle::new(&window, &input).unwrap();
        let search = ParticleSearch {
            projector: &projector,
            particle: &particle,
            plan: &plan,
            orientations: &orientations,
            translations: &grid,
            coarse_size: self.coarse_size,
            coarse_bank: None,
            adaptive_fraction: 0.999,
            max_significant: None,
            metric: self.metric,
        };
        test(Scene {
            search,
            truth,
            window: &window,
        })
    }
}
