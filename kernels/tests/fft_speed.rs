//! Throughput benchmarks of the FFTs and of `reconstruct` (ignored by default; run with
//! `cargo test -p cryoflux-kernels --release --test fft_speed -- --ignored --nocapture
//! --test-threads 1`). Each case prints the best of a few repetitions in milliseconds; set
//! `CRYOFLUX_BENCH_LARGE=1` to add the 256³ cases, which need ~1 GB and several seconds each.
//! On a shared machine wall times vary with the load; the CPU times (summed over all threads,
//! from Linux's /proc/self/task/*/schedstat) vary much less.

use cryoflux_kernels::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::euler::euler_to_matrix;
use cryoflux_kernels::fft::{self, FftFloat};
use cryoflux_kernels::grid::{HalfGrid, Image};
use cryoflux_kernels::reconstruct::{ReconstructOptions, reconstruct};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Instant;

/// Whether the large (256³, padded 256) cases run.
fn large() -> bool {
    std::env::var_os("CRYOFLUX_BENCH_LARGE").is_some()
}

/// CPU time (ms) used so far by all threads of this process (NaN where unavailable).
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        * 1e-6
}

/// Wall and CPU time (ms) of one run of `f`.
fn time_ms(f: impl FnOnce()) -> (f64, f64) {
    let (cpu, t) = (cpu_ms(), Instant::now());
    f();
    (t.elapsed().as_secs_f64() * 1e3, cpu_ms() - cpu)
}

/// Best wall and best CPU time (ms) of `reps` runs of `f`, after one warm-up run.
fn best_ms(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    (0..reps)
        .map(|_| time_ms(&mut f))
        .fold((f64::INFINITY, f64::INFINITY), |(w, c), (a, b)| {
            (w.min(a), c.min(b))
        })
}

/// Deterministic values in [−0.5, 0.5) (a linear congruential stream; quality is irrelevant).
fn noise(count: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..count)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn volume_round_trip<T: FftFloat>(n: usize, label: &str) {
    let data: Vec<T> = noise(n * n * n, n as u64)
        .iter()
        .map(|&v| T::from(v).unwrap())
        .collect();
    let reps = if n >= 256 { 2 } else { 5 };
    let mut best = [f64::INFINITY; 4];
    let mut err = T::zero();
    for _ in 0..=reps {
        let mut f = Vec::new();
        let (fw, fc) = time_ms(|| f = fft::forward_slice::<T, 3>(&data, n).unwrap());
        let mut back = Vec::new();
        let (iw, ic) = time_ms(|| back = fft::inverse_slice::<T, 3>(&f, n).unwrap());
        for (b, t) in best.iter_mut().zip([fw, fc, iw, ic]) {
            *b = b.min(t);
        }
        err = data
            .iter()
            .zip(&back)
            .map(|(a, b)| (*a - *b).abs())
            .fold(T::zero(), T::max);
    }
    let [fw, fc, iw, ic] = best;
    println!(
        "fft3d {label} {n}^3: r2c {fw:8.2} ms (cpu {fc:8.2}), c2r {iw:8.2} ms (cpu {ic:8.2}), \
         sum {:8.2} ms",
        fw + iw
    );
    assert!(err < T::from(1e-4).unwrap(), "round-trip error too large");
}

#[test]
#[ignore]
fn fft_3d_round_trips() {
    let sizes: &[usize] = if large() { &[64, 128, 256] } else { &[64, 128] };
    for &n in sizes {
        volume_round_trip::<f32>(n, "f32");
        volume_round_trip::<f64>(n, "f64");
    }
}

#[test]
#[ignore]
fn fft_2d_batches() {
    for (n, count) in [(64, 4000), (128, 1000), (256, 250)] {
        let images: Vec<Image> = (0..count)
            .map(|i| Image::from_vec(n, 1.0, noise(n * n, i as u64)).unwrap())
            .collect();
        let (ms, cpu) = best_ms(3, || {
            let sum: f32 = images
                .par_iter()
                .map(|img| fft::inverse(&fft::forward(img)).data()[0])
                .sum();
            black_box(sum);
        });
        println!(
            "fft2d f32 {n}^2 x {count}: r2c+c2r {ms:8.2} ms ({:6.2} µs per image; cpu {:6.2} µs)",
            ms * 1e3 / count as f64,
            cpu * 1e3 / count as f64
        );
    }
}

/// A backprojector of box `n` (padding 2) filled with `count` noise slices in spread poses.
fn filled_backprojector(n: usize, count: usize) -> BackProjector {
    let mut bp = BackProjector::new(n, 1.0, &BackProjectorOptions::default()).unwrap();
    let weights = HalfGrid::from_vec(n, 1.0, vec![1.0f32; HalfGrid::<f32, 2>::len_for(n)]).unwrap();
    for i in 0..count {
        let image = fft::forward(&Image::from_vec(n, 1.0, noise(n * n, i as u64)).unwrap());
        let golden = i as f64 * 137.507_764;
        let tilt = (1.0 - 2.0 * (i as f64 + 0.5) / count as f64)
            .acos()
            .to_degrees();
        let a = euler_to_matrix(golden % 360.0, tilt, (golden * 0.37) % 360.0);
        bp.backproject(&image, &weights, &a).unwrap();
    }
    bp.symmetrise(&[]);
    bp
}

#[test]
#[ignore]
fn reconstruct_default_gridding() {
    let sizes: &[usize] = if large() { &[64, 128] } else { &[64] };
    for &n in sizes {
        let bp = filled_backprojector(n, 200);
        let reps = if n >= 128 { 1 } else { 3 };
        let (ms, cpu) = best_ms(reps, || {
            black_box(reconstruct(&bp, &ReconstructOptions::default()).unwrap());
        });
        println!(
            "reconstruct N={n} (padded {}) gridding 10: {ms:9.1} ms (cpu {cpu:9.1} ms)",
            2 * n
        );
    }
}
