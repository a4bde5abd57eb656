//! Exact Euclidean distance transform on a cubic grid (Felzenszwalb & Huttenlocher 2012):
//! squared distance, in pixels², from every voxel centre to the nearest marked voxel.

/// Squared distance from each voxel of an `n³` grid (x fastest) to the nearest voxel with
/// `marked[i] == true`; `f64::INFINITY` everywhere when nothing is marked.
pub fn squared_distance_to(marked: &[bool], n: usize) -> Vec<f64> {
    let mut d: Vec<f64> = marked
        .iter()
        .map(|&m| if m { 0.0 } else { f64::INFINITY })
        .collect();
    let mut line = vec![0.0; n];
    let mut out = vec![0.0; n];
    let mut scratch = Scratch::new(n);
    for stride in [1, n, n * n] {
        for start in 0..d.len() {
            // `start` is the first element of a line along this axis when its coordinate is 0.
            if (start / stride) % n != 0 {
                continue;
            }
            for (i, v) in line.iter_mut().enumerate() {
                *v = d[start + i * stride];
            }
            transform_line(&line, &mut out, &mut scratch);
            for (i, v) in out.iter().enumerate() {
                d[start + i * stride] = *v;
            }
        }
    }
    d
}

struct Scratch {
    vertex: Vec<usize>,
    boundary: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Self {
            vertex: vec![0; n],
            boundary: vec![0.0; n + 1],
        }
    }
}

/// 1D squared distance transform: out[q] = min_p (q − p)² + f[p] (lower envelope of parabolas).
fn transform_line(f: &[f64], out: &mut [f64], s: &mut Scratch) {
    let n = f.len();
    let finite: Vec<usize> = (0..n).filter(|&p| f[p].is_finite()).collect();
    if finite.is_empty() {
        out.iter_mut().for_each(|v| *v = f64::INFINITY);
        return;
    }
    let mut k = 0;
    s.vertex[0] = finite[0];
    s.boundary[0] = f64::NEG_INFINITY;
    s.boundary[1] = f64::INFINITY;
    let intersect = |q: usize, p: usize| {
        let (q, p) = (q as f64, p as f64);
        ((f[q as usize] + q * q) - (f[p as usize] + p * p)) / (2.0 * (q - p))
    };
    for &q in &finite[1..] {
        let mut x = intersect(q, s.vertex[k]);
        while x <= s.boundary[k] {
            k -= 1;
            x = intersect(q, s.vertex[k]);
        }
        k += 1;
        s.vertex[k] = q;
        s.boundary[k] = x;
        s.boundary[k + 1] = f64::INFINITY;
    }
    let mut k = 0;
    for (q, o) in out.iter_mut().enumerate() {
        while s.boundary[k + 1] < q as f64 {
            k += 1;
        }
        let p = s.vertex[k];
        *o = (q as f64 - p as f64).powi(2) + f[p];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_brute_force_on_a_small_grid() {
        let n = 7;
        let marked: Vec<bool> = (0..n * n * n).map(|i| i % 37 == 3 || i == 100).collect();
        let d = squared_distance_to(&marked, n);
        let coords = |i: usize| [(i % n) as f64, ((i / n) % n) as f64, (i / (n * n)) as f64];
        for (i, &got) in d.iter().enumerate() {
            let c = coords(i);
            let brute = (0..n * n * n)
                .filter(|&j| marked[j])
                .map(|j| {
                    let o = coords(j);
                    (c[0] - o[0]).powi(2) + (c[1] - o[1]).powi(2) + (c[2] - o[2]).powi(2)
                })
                .fold(f64::INFINITY, f64::min);
            assert_eq!(got, brute, "voxel {i}");
        }
        assert!(
            squared_distance_to(&[false; 8], 2)
                .iter()
                .all(|d| d.is_infinite())
        );
    }
}
