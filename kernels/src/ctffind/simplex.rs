//! A small Nelder–Mead simplex minimiser (standard coefficients: reflection 1, expansion 2,
//! contraction ½, shrink ½), deterministic and derivative-free.

/// Where a minimisation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The best point found (the parameters' own units).
    pub point: Vec<f64>,
    /// The function value there.
    pub value: f64,
    /// Function evaluations used.
    pub evaluations: usize,
}

/// Minimises `f` from `start`, with an initial simplex of `start` plus one step of `steps[i]`
/// along each axis i. Stops when the spread of the simplex values falls below `tolerance` or
/// after `max_evaluations` evaluations.
pub fn minimise(
    f: impl Fn(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    tolerance: f64,
    max_evaluations: usize,
) -> Minimum {
    let dim = start.len();
    let evaluations = std::cell::Cell::new(0usize);
    let eval = |p: &[f64]| {
        evaluations.set(evaluations.get() + 1);
        let v = f(p);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(dim + 1);
    simplex.push((start.to_vec(), eval(start)));
    for i in 0..dim {
        let mut p = start.to_vec();
        p[i] += steps[i];
        let v = eval(&p);
        simplex.push((p, v));
    }
    let along = |from: &[f64], to: &[f64], t: f64| -> Vec<f64> {
        from.iter().zip(to).map(|(a, b)| a + t * (b - a)).collect()
    };
    loop {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[dim].1);
        if (worst - best).abs() <= tolerance || evaluations.get() >= max_evaluations {
            break;
        }
        let mut centroid = vec![0.0; dim];
        for (p, _) in &simplex[..dim] {
            centroid
                .iter_mut()
                .zip(p)
                .for_each(|(c, x)| *c += x / dim as f64);
        }
        let worst_point = simplex[dim].0.clone();
        let reflected = along(&centroid, &worst_point, -1.0);
        let reflected_value = eval(&reflected);
        if reflected_value < best {
            let expanded = along(&centroid, &worst_point, -2.0);
            let expanded_value = eval(&expanded);
            simplex[dim] = if expanded_value < reflected_value {
                (expanded, expanded_value)
            } else {
                (reflected, reflected_value)
            };
        } else if reflected_value < simplex[dim - 1].1 {
            simplex[dim] = (reflected, reflected_value);
        } else {
            let contracted = if reflected_value < worst {
                along(&centroid, &reflected, 0.5)
            } else {
                along(&centroid, &worst_point, 0.5)
            };
            let contracted_value = eval(&contracted);
            if contracted_value < worst.min(reflected_value) {
                simplex[dim] = (contracted, contracted_value);
            } else {
                let best_point = simplex[0].0.clone();
                for vertex in simplex.iter_mut().skip(1) {
                    let p = along(&best_point, &vertex.0, 0.5);
                    let v = eval(&p);
                    *vertex = (p, v);
                }
            }
        }
    }
    let (point, value) = simplex.swap_remove(0);
    Minimum {
        point,
        value,
        evaluations: evaluations.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock_and_of_a_shifted_bowl() {
        let rosenbrock = |p: &[f64]| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2);
        let m = minimise(rosenbrock, &[-1.2, 1.0], &[0.5, 0.5], 1e-14, 5000);
        assert!(
            (m.point[0] - 1.0).abs() < 1e-3 && (m.point[1] - 1.0).abs() < 1e-3,
            "{m:?}"
        );
        let bowl =
            |p: &[f64]| (p[0] - 3.0).powi(2) + 2.0 * (p[1] + 1.0).powi(2) + (p[2] - 0.5).powi(2);
        let m = minimise(bowl, &[0.0; 3], &[1.0; 3], 1e-12, 2000);
        assert!(m.value < 1e-8 && m.evaluations <= 2000, "{m:?}");
    }
}
