//! Guinier plots: ln of the shell-mean amplitude against squared spatial frequency (Å⁻²), with
//! the fitted straight line whose slope gives the B-factor.

use cryoflux_kernels::resolution::guinier::{GuinierPoint, LineFit};

use super::{Axes, LineChart, REFERENCE, Series, colour};

/// A Guinier chart of named curves (shells with zero amplitude are left out), and the fitted
/// line `fit` drawn dashed across the plotted frequency range.
pub fn guinier_plot(
    title: &str,
    curves: &[(&str, &[GuinierPoint])],
    fit: Option<&LineFit>,
) -> LineChart {
    let mut series: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(i, (name, points))| Series {
            name: name.to_string(),
            points: points
                .iter()
                .filter_map(|p| p.log_amplitude.map(|y| (p.frequency_squared, y)))
                .collect(),
            colour: colour(i),
            width: 2,
            dashed: false,
            markers: false,
        })
        .collect();
    if let Some(fit) = fit {
        let x_max = curves
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.frequency_squared))
            .fold(0.0, f64::max);
        series.push(Series {
            name: format!("fit: B = {:.1} Å²", 4.0 * fit.slope),
            points: vec![
                (0.0, fit.intercept),
                (x_max, fit.intercept + fit.slope * x_max),
            ],
            colour: REFERENCE,
            width: 1,
            dashed: true,
            markers: false,
        });
    }
    LineChart::new(
        Axes::new(title, "resolution² (1/Å²)", "ln(amplitude)"),
        series,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_shells_are_skipped_and_the_fit_spans_the_plot() {
        let point = |shell: usize, y: Option<f64>| GuinierPoint {
            shell,
            resolution: 10.0 / shell as f64,
            frequency_squared: (shell as f64 / 10.0).powi(2),
            log_amplitude: y,
        };
        let points = [point(0, Some(1.0)), point(1, None), point(2, Some(-1.0))];
        let fit = LineFit {
            slope: -50.0,
            intercept: 1.0,
            r_squared: 1.0,
            points: 2,
        };
        let chart = guinier_plot("Guinier", &[("original", &points)], Some(&fit));
        let x = points[2].frequency_squared;
        assert_eq!(chart.series[0].points, vec![(0.0, 1.0), (x, -1.0)]);
        let line = &chart.series[1].points;
        assert_eq!((line[0], line[1].0), ((0.0, 1.0), x));
        assert!((line[1].1 + 1.0).abs() < 1e-12);
        assert!(chart.series[1].name.contains("-200.0"));
    }
}
