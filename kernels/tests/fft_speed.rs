//! Throughput benchmarks of the FFTs and of `reconstruct` (ignored by default; run with
//! `cargo test -p cryoflux-kernels --release --test fft_speed -- --ignored --nocapture
//! --test-threads 1`). Each case prints the best of a few repetitions in milliseconds; set
//! `CRYOFLUX_BENCH_LARGE=1` to add the 256³ cases, which need ~1 GB and several seconds each.
//! On a shared machine wall times vary with the load; the CPU times (summed over all threads,
//! from Linux's /proc/self/task/*/schedstat) vary much less.

use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
use cryoflux_kernels::fourier::fft::{self, FftFloat};
use cryoflux_kernels::geometry::euler::euler_to_matrix;
use cryoflux_kernels::grid::{HalfGrid, Image};
use cryoflux_kernels::reconstruct::{Gridding, ReconstructOptions, reconstruct};
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
fn reconstruct_speed() {
    let sizes: &[usize] = if large() { &[64, 128] } else { &[64] };
    for &n in sizes {
        let bp = filled_backprojector(n, 200);
        let reps = if n >= 128 { 1 } else { 3 };
        for (label, gridding) in [
            ("gridding 10", Gridding::Iterative { iterations: 10 }),
            ("skip gridding", Gridding::Skip),
        ] {
            let options = ReconstructOptions {
                gridding,
                ..ReconstructOptions::default()
            };
            let (ms, cpu) = best_ms(reps, || {
                black_box(reconstruct(&bp, &options).unwrap());
            });
            println!(
                "reconstruct N={n} (padded {}) {label}: {ms:9.1} ms (cpu {cpu:9.1} ms)",
                2 * n
            );
        }
    }
}

/// Writes `images` (each n² samples, x fastest) as an MRC stack (mode 2, pixel size 1 Å).
fn write_mrc_stack(path: &std::path::Path, n: usize, images: &[Vec<f32>]) {
    let mut header = [0u8; 1024];
    let mut put =
        |word: usize, bytes: [u8; 4]| header[4 * word..4 * word + 4].copy_from_slice(&bytes);
    let (nx, nz) = (n as i32, images.len() as i32);
    for (word, value) in [(0, nx), (1, nx), (2, nz), (3, 2), (7, nx), (8, nx), (9, nz)] {
        put(word, value.to_le_bytes());
    }
    for (word, value) in [(10, n as f32), (11, n as f32), (12, nz as f32)] {
        put(word, value.to_le_bytes());
    }
    for (word, value) in [(13, 90.0f32), (14, 90.0), (15, 90.0)] {
        put(word, value.to_le_bytes());
    }
    for (word, value) in [(16, 1i32), (17, 2), (18, 3)] {
        put(word, value.to_le_bytes());
    }
    put(52, *b"MAP ");
    put(53, [0x44, 0x44, 0, 0]);
    let mut bytes = header.to_vec();
    for v in images.iter().flatten() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// Reads a mode-2 MRC volume of box n (x fastest).
fn read_mrc_volume(path: &std::path::Path, n: usize) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let word = |i: usize| i32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap());
    assert_eq!(
        (word(0), word(1), word(2), word(3)),
        (n as i32, n as i32, n as i32, 2)
    );
    let start = 1024 + word(23) as usize;
    bytes[start..start + 4 * n * n * n]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Wall and CPU seconds of a child process (CPU from /proc/self/stat's cutime + cstime, in
/// clock ticks of 10 ms).
fn time_child(command: &mut std::process::Command) -> (f64, f64) {
    let children_cpu = || {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // After the command name: state is field 3, cutime 16, cstime 17 (1-based).
        (fields[13].parse::<f64>().unwrap() + fields[14].parse::<f64>().unwrap()) / 100.0
    };
    let (cpu, t) = (children_cpu(), Instant::now());
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?} failed");
    (t.elapsed().as_secs_f64(), children_cpu() - cpu)
}

/// relion_reconstruct (FFTW, defaults: pad 2, trilinear, 10 gridding rounds) against the same
/// steps in cryoflux (image FFTs, insertion, reconstruct) on noise-free projections of a blob
/// phantom: box `CRYOFLUX_BENCH_RELION_N` (default 128), 300 poses. Skipped without RELION.
#[test]
#[ignore]
fn relion_reconstruct_comparison() {
    use cryoflux_kernels::fourier::projector::{Projector, ProjectorOptions};
    use cryoflux_kernels::grid::Volume;
    if !std::path::Path::new("/usr/bin/relion_reconstruct").exists() {
        println!("relion_reconstruct not installed: skipped");
        return;
    }
    let n: usize = std::env::var("CRYOFLUX_BENCH_RELION_N").map_or(128, |v| v.parse().unwrap());
    let count = 300;
    let blobs = [
        ([0.1, -0.05, 0.02], 0.05),
        ([-0.12, 0.08, -0.1], 0.03),
        ([0.0, 0.15, 0.1], 0.02),
    ];
    let truth = Volume::from_fn(n, 1.0, |[x, y, z]| {
        blobs
            .iter()
            .map(|&(c, s)| {
                let d2 = [x, y, z]
                    .iter()
                    .zip(c)
                    .map(|(a, b)| (a / n as f64 - b).powi(2))
                    .sum::<f64>();
                (-d2 / (2.0 * s * s)).exp() as f32
            })
            .sum()
    })
    .unwrap();
    let projector = Projector::new(&truth, &ProjectorOptions::default()).unwrap();
    let poses: Vec<[f64; 3]> = (0..count)
        .map(|i| {
            let golden = i as f64 * 137.507_764;
            let tilt = (1.0 - 2.0 * (i as f64 + 0.5) / count as f64)
                .acos()
                .to_degrees();
            [
                golden % 360.0 - 180.0,
                tilt,
                (golden * 0.37) % 360.0 - 180.0,
            ]
        })
        .collect();
    let images: Vec<Vec<f32>> = poses
        .iter()
        .map(|&[rot, tilt, psi]| {
            let slice = projector
                .project(&euler_to_matrix(rot, tilt, psi), n)
                .unwrap();
            fft::inverse(&slice).into_vec()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("cryoflux_relion_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_mrc_stack(&dir.join("p.mrcs"), n, &images);
    let mut star = format!(
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnOpticsGroupName\n_rlnImagePixelSize\n\
         _rlnImageSize\n_rlnImageDimensionality\n_rlnVoltage\n_rlnSphericalAberration\n\
         _rlnAmplitudeContrast\n1 opticsGroup1 1.0 {n} 2 300 2.7 0.1\n\n\
         data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
         _rlnOpticsGroup\n"
    );
    for (i, [rot, tilt, psi]) in poses.iter().enumerate() {
        star.push_str(&format!("{:06}@p.mrcs {rot} {tilt} {psi} 1\n", i + 1));
    }
    std::fs::write(dir.join("p.star"), star).unwrap();
    let (relion_wall, relion_cpu) = time_child(
        std::process::Command::new("/usr/bin/relion_reconstruct")
            .args(["--i", "p.star", "--o", "r.mrc"])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null()),
    );
    let mut map = None;
    let (wall, cpu) = time_ms(|| {
        let weights =
            HalfGrid::from_vec(n, 1.0, vec![1.0f32; HalfGrid::<f32, 2>::len_for(n)]).unwrap();
        let mut bp = BackProjector::new(n, 1.0, &BackProjectorOptions::default()).unwrap();
        for (image, &[rot, tilt, psi]) in images.iter().zip(&poses) {
            let f = fft::forward(&Image::from_vec(n, 1.0, image.clone()).unwrap());
            bp.backproject(&f, &weights, &euler_to_matrix(rot, tilt, psi))
                .unwrap();
        }
        bp.symmetrise(&[]);
        map = Some(reconstruct(&bp, &ReconstructOptions::default()).unwrap());
    });
    let ours = map.unwrap().into_vec();
    let relion = read_mrc_volume(&dir.join("r.mrc"), n);
    std::fs::remove_dir_all(&dir).unwrap();
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&ours), mean(&relion));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&a, &b) in ours.iter().zip(&relion) {
        let (a, b) = (a as f64 - ma, b as f64 - mb);
        (ab, aa, bb) = (ab + a * b, aa + a * a, bb + b * b);
    }
    let correlation = ab / (aa * bb).sqrt();
    println!(
        "reconstruct N={n}, {count} images: relion_reconstruct {relion_wall:.2} s wall, \
         {relion_cpu:.2} s cpu; cryoflux {:.2} s wall, {:.2} s cpu; wall ratio {:.1}x, \
         cpu ratio {:.1}x; map correlation {correlation:.5}",
        wall / 1e3,
        cpu / 1e3,
        relion_wall / (wall / 1e3),
        relion_cpu / (cpu / 1e3)
    );
    assert!(
        correlation > 0.99,
        "maps disagree: correlation {correlation}"
    );
}
