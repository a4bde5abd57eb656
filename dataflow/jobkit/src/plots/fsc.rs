//! FSC curves against spatial frequency (Å⁻¹), with the 0.143 gold-standard threshold.

use super::{Axes, LineChart, REFERENCE, Series, colour};

/// One named curve over Fourier shells 0 … n/2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NamedCurve<'a> {
    /// Legend text.
    pub name: &'a str,
    /// One value per shell.
    pub values: &'a [f64],
}

/// FSC threshold drawn as a dashed reference line.
const THRESHOLD: f64 = 0.143;

/// An FSC chart: `curves` against the spatial frequency of each shell (`frequency[r]` Å⁻¹),
/// the last one drawn thick and on top (put the curve the resolution comes from last), plus the
/// 0.143 line.
pub fn fsc_plot(title: &str, frequency: &[f64], curves: &[NamedCurve]) -> LineChart {
    let mut series: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(i, curve)| Series {
            name: curve.name.to_string(),
            points: frequency
                .iter()
                .copied()
                .zip(curve.values.iter().copied())
                .collect(),
            colour: if i + 1 == curves.len() {
                colour(0)
            } else {
                colour(i + 1)
            },
            width: if i + 1 == curves.len() { 3 } else { 2 },
            dashed: false,
            markers: false,
        })
        .collect();
    let last = frequency.last().copied().unwrap_or(0.0);
    series.push(Series {
        name: format!("FSC = {THRESHOLD}"),
        points: vec![(0.0, THRESHOLD), (last, THRESHOLD)],
        colour: REFERENCE,
        width: 1,
        dashed: true,
        markers: false,
    });
    LineChart {
        y_range: Some(-0.1..1.05),
        ..LineChart::new(
            Axes::new(title, "resolution (1/Å)", "Fourier shell correlation"),
            series,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_follow_the_frequencies_and_the_threshold_spans_them() {
        let frequency = [0.0, 0.1, 0.2];
        let corrected = [1.0, 0.5, 0.1];
        let chart = fsc_plot(
            "FSC",
            &frequency,
            &[NamedCurve {
                name: "corrected",
                values: &corrected,
            }],
        );
        assert_eq!(chart.series.len(), 2);
        assert_eq!(chart.series[0].points[1], (0.1, 0.5));
        assert_eq!(chart.series[0].width, 3);
        assert!(chart.series[1].dashed);
        assert_eq!(chart.series[1].points, vec![(0.0, 0.143), (0.2, 0.143)]);
    }
}
