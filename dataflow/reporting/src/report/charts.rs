//! The report's figures as plot descriptions built from a [`JobHistory`]: each builder returns
//! the plot and a caption, or why the run's files cannot give it.

use cryoflux_jobkit::plots::{
    Axes, Bar, BarChart, HeatMap, LineChart, NamedCurve, Panels, RGBColor, Series, colour,
    fsc_plot, histogram,
};

use super::directions::{direction_cells, tilt_bands};
use super::history::JobHistory;
use super::poses::angle_changes;
use cryoflux_kernels::geometry::symmetry::SymmetryGroup;

/// How many of the last iterations the FSC figure shows.
const FSC_ITERATIONS: usize = 3;
/// Fewest and most histogram bins.
const HISTOGRAM_BINS: (usize, usize) = (10, 60);
/// Fill colour of histograms and bars.
const BAR_COLOUR: RGBColor = RGBColor(60, 110, 180);

/// A figure, or why it cannot be drawn.
pub type Built<P> = Result<(P, String), String>;

/// Resolution (Å) per iteration, above the angular sampling step (°) when the run wrote
/// sampling files.
pub fn resolution(h: &JobHistory) -> Built<Panels> {
    let resolution: Vec<(f64, f64)> = h
        .iterations
        .iter()
        .map(|i| (f64::from(i.number), i.model.resolution_angst))
        .filter(|(_, r)| r.is_finite() && *r > 0.0)
        .collect();
    if resolution.is_empty() {
        return Err("no iteration records a finite resolution".into());
    }
    let sampling: Vec<(f64, f64)> = h
        .iterations
        .iter()
        .filter_map(|i| {
            Some((
                f64::from(i.number),
                i.sampling.as_ref()?.angular_step_deg()?,
            ))
        })
        .collect();
    let first = h.iterations.first().map_or(0, |i| i.number);
    let last = h.iterations.last().map_or(0, |i| i.number);
    let x_range = f64::from(first) - 0.5..f64::from(last) + 0.5;
    let panel = |title: &str, y_label: &str, name: &str, points: Vec<(f64, f64)>| LineChart {
        x_range: Some(x_range.clone()),
        ..LineChart::new(
            Axes::new(title, "iteration", y_label).with_integer_x(),
            vec![line(name, points)],
        )
    };
    let mut panels = vec![panel(
        "Resolution per iteration",
        "resolution (Å)",
        "rlnCurrentResolution (half 1)",
        resolution,
    )];
    let mut caption = "Resolution: rlnCurrentResolution of each iteration's half-1 model file \
                       (the working resolution the next iteration aligns to)."
        .to_string();
    if sampling.is_empty() {
        caption += " Angular sampling not shown: the run wrote no _itNNN_sampling.star files.";
    } else {
        panels.push(panel(
            "Angular sampling per iteration",
            "angular step (°)",
            "coarse step 360°/(6·2^HEALPix order)",
            sampling,
        ));
        caption += " Angular sampling: the coarse orientation step of the HEALPix order in \
                    each iteration's sampling file (finer oversampled steps not shown).";
    }
    Ok((Panels(panels), caption))
}

/// Gold-standard FSC curves of the last three iterations that have one.
pub fn fsc(h: &JobHistory) -> Built<LineChart> {
    let mut recent: Vec<_> = h
        .iterations
        .iter()
        .rev()
        .filter_map(|i| {
            let curve = i.model.fsc.as_ref()?;
            curve.fsc.iter().any(|&f| f != 0.0).then_some((
                i.number,
                i.model.resolution_angst,
                curve,
            ))
        })
        .take(FSC_ITERATIONS)
        .collect();
    recent.reverse();
    let Some(&(_, _, newest)) = recent.last() else {
        return Err("no iteration's model file has a gold-standard FSC table".into());
    };
    let names: Vec<String> = recent
        .iter()
        .map(|(number, res, _)| format!("iteration {number} ({res:.2} Å)"))
        .collect();
    let curves: Vec<NamedCurve> = recent
        .iter()
        .zip(&names)
        .map(|((_, _, curve), name)| NamedCurve {
            name,
            values: &curve.fsc,
        })
        .collect();
    let chart = fsc_plot(
        "Gold-standard FSC of the half maps",
        &newest.frequency,
        &curves,
    );
    let caption = "rlnGoldStandardFsc against rlnResolution (model_class_1 of the half-1 model \
                   files) for the last iterations, the newest thick and black; dashed: 0.143."
        .to_string();
    Ok((chart, caption))
}

/// Viewing directions of the last iteration on a rot × tilt map of equal-solid-angle bins.
pub fn angular_distribution(h: &JobHistory) -> Built<HeatMap> {
    let last = h
        .last_poses
        .as_ref()
        .filter(|p| !p.poses.is_empty())
        .ok_or("no iteration has a readable particle file (_itNNN_data.star)")?;
    let directions = last.poses.directions_deg();
    let bands = tilt_bands(directions.len());
    let map = HeatMap {
        axes: Axes::new(
            &format!(
                "Angular distribution, iteration {} ({} particles)",
                last.number,
                directions.len()
            ),
            "rot (°)",
            "tilt (°)",
        ),
        x_range: -180.0..180.0,
        y_range: 0.0..180.0,
        cells: direction_cells(&directions, bands),
        value_label: "particles per bin".into(),
    };
    let caption = format!(
        "Viewing directions (rlnAngleRot, rlnAngleTilt) of iteration {} counted in {}×{} bins \
         of equal solid angle (uniform in cos tilt), so colour is proportional to particles per \
         steradian; grey: no particle.",
        last.number,
        2 * bands,
        bands
    );
    Ok((map, caption))
}

/// Histogram of |origin| (Å) in the last iteration.
pub fn offsets(h: &JobHistory) -> Built<BarChart> {
    let last = h
        .last_poses
        .as_ref()
        .ok_or("no iteration has a readable particle file (_itNNN_data.star)")?;
    let offsets = last
        .poses
        .offsets_angst()
        .ok_or("the particle file has no rlnOriginXAngst/rlnOriginYAngst columns")?;
    let median = median(&offsets).ok_or("the particle file holds no particles")?;
    let chart = BarChart {
        axes: Axes::new(
            &format!("Offsets, iteration {} (median {median:.2} Å)", last.number),
            "|origin| (Å)",
            "particles",
        )
        .with_integer_y(),
        bars: histogram_from_zero(&offsets),
        colour: BAR_COLOUR,
    };
    let caption = format!(
        "Length of each particle's origin shift (rlnOriginXAngst, rlnOriginYAngst) in \
         iteration {}.",
        last.number
    );
    Ok((chart, caption))
}

/// Histogram of the rotation (°) between each particle's poses in the last two iterations
/// with particle files, symmetry mates counted as the same pose.
pub fn angle_change(h: &JobHistory) -> Built<BarChart> {
    let (Some(after), Some(before)) = (&h.last_poses, &h.previous_poses) else {
        return Err("needs the particle files (_itNNN_data.star) of two iterations".into());
    };
    let symbol = h.symmetry().unwrap_or("C1");
    let group = SymmetryGroup::parse(symbol).map_err(|e| format!("symmetry {symbol}: {e}"))?;
    let changes = angle_changes(&before.poses, &after.poses, &group)?;
    let median = median(&changes).ok_or("no particle is in both iterations")?;
    let chart = BarChart {
        axes: Axes::new(
            &format!(
                "Angle change, iteration {} → {} (median {median:.2}°)",
                before.number, after.number
            ),
            "rotation between the two poses (°)",
            "particles",
        )
        .with_integer_y(),
        bars: histogram_from_zero(&changes),
        colour: BAR_COLOUR,
    };
    let caption = format!(
        "Angle of the rotation taking each particle's pose in iteration {} to its pose in \
         iteration {} (rlnAngleRot/Tilt/Psi), the smallest over the {symbol} symmetry mates.",
        before.number, after.number
    );
    Ok((chart, caption))
}

/// Wall-clock seconds per iteration from file modification times.
pub fn time_per_iteration(h: &JobHistory) -> Built<BarChart> {
    if h.seconds.is_empty() {
        return Err("needs the files of two consecutive iterations with increasing times".into());
    }
    let total: f64 = h.seconds.iter().map(|(_, s)| s).sum();
    let chart = BarChart {
        axes: Axes::new(
            &format!("Time per iteration (total {})", duration_text(total)),
            "iteration",
            "seconds",
        )
        .with_integer_x(),
        bars: h
            .seconds
            .iter()
            .map(|&(it, seconds)| Bar {
                range: f64::from(it) - 0.4..f64::from(it) + 0.4,
                value: seconds,
            })
            .collect(),
        colour: BAR_COLOUR,
    };
    let caption = "Seconds between the newest file of each iteration and the newest file of \
                   the iteration before (file modification times, not a log: copies that did \
                   not keep the times show nonsense)."
        .to_string();
    Ok((chart, caption))
}

/// A human duration: seconds below two minutes, else minutes, else hours.
pub fn duration_text(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else if seconds < 7200.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// Median of the finite values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(0.5 * (sorted[n / 2 - 1] + sorted[n / 2])),
    }
}

/// Histogram of non-negative values from 0 to their maximum, with about √n bins.
fn histogram_from_zero(values: &[f64]) -> Vec<Bar> {
    let top = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let bins =
        ((values.len() as f64).sqrt().round() as usize).clamp(HISTOGRAM_BINS.0, HISTOGRAM_BINS.1);
    histogram(values, bins, 0.0..if top > 0.0 { top } else { 1.0 })
}

/// A solid blue line with markers.
fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        colour: colour(2),
        width: 2,
        dashed: false,
        markers: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_durations() {
        assert_eq!(median(&[3.0, 1.0, f64::NAN, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(duration_text(59.94), "59.9 s");
        assert_eq!(duration_text(600.0), "10.0 min");
        assert_eq!(duration_text(9000.0), "2.5 h");
    }

    #[test]
    fn histograms_from_zero_cover_every_value() {
        let values: Vec<f64> = (0..400).map(|i| f64::from(i) * 0.01).collect();
        let bars = histogram_from_zero(&values);
        assert_eq!(bars.len(), 20);
        assert_eq!(bars.iter().map(|b| b.value).sum::<f64>(), 400.0);
        assert_eq!(bars.last().unwrap().range.end, 3.99);
        assert_eq!(histogram_from_zero(&[0.0, 0.0]).len(), 10);
    }
}
