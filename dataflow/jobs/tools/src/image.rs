//! Everyday map and image operations, like `relion_image_handler`: Fourier
//! rescaling to a new pixel size, real-space re-boxing, raised-cosine low/high-pass filters,
//! B-factors, statistics, and the FSC between two maps.
//!
//! Order of operations (as relion_image_handler): filters (low-pass, high-pass, B-factor) on
//! the input grid, then `--rescale_angpix` (Fourier crop/pad), then `--new_box` (real-space
//! window around the centre, new pixels 0). On a stack (`.mrcs`) each image is processed alone.
//! RELION quirk reproduced: `--bfactor` also zeroes the frequencies beyond Nyquist (|k| > N/2,
//! the corners of the Fourier box).
//! `--stats` describes the input; `--fsc` compares the input with another map of the same box.

use std::path::PathBuf;

use anyhow::bail;
use cryoflux_kernels::fourier::fft;
use cryoflux_kernels::fourier::filter::{
    apply_bfactor, apply_radial, high_pass_angstrom, low_pass_angstrom,
};
use cryoflux_kernels::fourier::rescale::{rescale_to_pixel_size, rescaled_box, window_real};
use cryoflux_kernels::grid::RealGrid;
use cryoflux_kernels::resolution::fsc::{fsc_real, resolution_shell, shell_to_angstrom};

use cryoflux_jobkit::maps::{Grids, read_grids, write_grids};
use cryoflux_jobkit::memory::{ensure_available, float32_grid_bytes};

/// What `cryoflux image` does to a file (its flags).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSettings {
    /// Input map (.mrc), image, or stack of images (.mrcs).
    pub input: PathBuf,
    /// Output file (needed for any operation that changes the data).
    pub output: Option<PathBuf>,
    /// Pixel size of the input in Å, overriding its header.
    pub angpix: Option<f64>,
    /// Resample (Fourier crop or pad) to about this pixel size in Å; the new box is
    /// round(N·p/A) made even, and the exact new pixel size N·p/new box.
    pub rescale_angpix: Option<f64>,
    /// Crop or pad (with zeros) to this box in real space, keeping the centre.
    pub new_box: Option<usize>,
    /// Low-pass filter to this resolution in Å (raised-cosine edge).
    pub lowpass: Option<f64>,
    /// High-pass filter from this resolution in Å (raised-cosine edge).
    pub highpass: Option<f64>,
    /// Width of the filters' raised-cosine edge in Fourier shells.
    pub filter_edge_width: f64,
    /// Apply this B-factor in Å²: amplitudes × exp(−B·s²/4); negative sharpens.
    pub bfactor: Option<f64>,
    /// Print mean, standard deviation, minimum and maximum of the input (per image of a stack).
    pub stats: bool,
    /// Print the Fourier shell correlation between the input and this map or image.
    pub fsc: Option<PathBuf>,
}

impl ImageSettings {
    fn changes_data(&self) -> bool {
        self.rescale_angpix.is_some()
            || self.new_box.is_some()
            || self.lowpass.is_some()
            || self.highpass.is_some()
            || self.bfactor.is_some()
    }

    /// Refuses, before any work, an output larger than the memory available (the largest
    /// box the rescaling or `--new_box` makes, float32, times the images of a stack).
    fn check_memory(&self, input: &Grids) -> anyhow::Result<()> {
        let n = input.box_size();
        let rescaled = self
            .rescale_angpix
            .map_or(n, |p| rescaled_box(n, input.pixel_size(), p));
        let largest = rescaled.max(self.new_box.unwrap_or(0));
        let (dimensions, count) = match input {
            Grids::Volume(_) => (3, 1),
            Grids::Image(_) => (2, 1),
            Grids::Stack(images) => (2, images.len()),
        };
        let what = match dimensions {
            3 => format!("a {largest}³ float32 map"),
            _ => format!("{count} float32 image(s) of {largest}²"),
        };
        ensure_available(
            &what,
            float32_grid_bytes(largest, dimensions, count),
            "choose a smaller --new_box or a larger --rescale_angpix",
        )?;
        Ok(())
    }

    /// The input grid after the filters, the rescaling and the re-boxing.
    fn process<const D: usize>(&self, grid: RealGrid<D>) -> anyhow::Result<RealGrid<D>> {
        let mut grid = grid;
        if self.lowpass.is_some() || self.highpass.is_some() || self.bfactor.is_some() {
            let mut f = fft::forward(&grid);
            if let Some(d) = self.lowpass {
                low_pass_angstrom(&mut f, d, self.filter_edge_width)?;
            }
            if let Some(d) = self.highpass {
                high_pass_angstrom(&mut f, d, self.filter_edge_width)?;
            }
            if let Some(b) = self.bfactor {
                apply_bfactor(&mut f, b)?;
                // relion_image_handler zeroes the corners beyond Nyquist along with a B-factor.
                let nyquist = (f.n() / 2) as f64;
                apply_radial(&mut f, |k| if k <= nyquist { 1.0 } else { 0.0 });
            }
            grid = fft::inverse(&f);
        }
        if let Some(p) = self.rescale_angpix {
            grid = rescale_to_pixel_size(&grid, p)?;
        }
        if let Some(n) = self.new_box {
            grid = window_real(&grid, n, 0.0)?;
        }
        Ok(grid)
    }
}

/// Processes and writes the output; returns the text asked for (statistics, FSC table), for
/// standard output.
pub fn run(args: &ImageSettings) -> anyhow::Result<String> {
    let mut text = String::new();
    if args.changes_data() && args.output.is_none() {
        bail!("an operation that changes the data needs an output file (--o)");
    }
    if !args.changes_data() && args.output.is_none() && !args.stats && args.fsc.is_none() {
        bail!("nothing to do: give --o with an operation, --stats or --fsc");
    }
    let input = read_grids(&args.input, args.angpix)?;
    if args.stats {
        text += &stats_report(&args.input.display().to_string(), &input);
    }
    if let Some(other) = &args.fsc {
        let other_grids = read_grids(other, None)?;
        let curve = match (&input, &other_grids) {
            (Grids::Volume(a), Grids::Volume(b)) => fsc_real(a, b)?,
            (Grids::Image(a), Grids::Image(b)) => fsc_real(a, b)?,
            _ => bail!(
                "--fsc compares two maps or two images; {} is {} and {} is {}",
                args.input.display(),
                input.describe(),
                other.display(),
                other_grids.describe()
            ),
        };
        text += &fsc_table(&curve, input.box_size(), input.pixel_size());
    }
    if let Some(output) = &args.output {
        args.check_memory(&input)?;
        let result = match input {
            Grids::Volume(v) => Grids::Volume(args.process(v)?),
            Grids::Image(i) => Grids::Image(args.process(i)?),
            Grids::Stack(images) => Grids::Stack(
                images
                    .into_iter()
                    .map(|i| args.process(i))
                    .collect::<anyhow::Result<_>>()?,
            ),
        };
        write_grids(output, &result)?;
        tracing::info!(
            "wrote {} ({}, {} Å/px)",
            output.display(),
            result.describe(),
            result.pixel_size()
        );
    }
    Ok(text)
}

/// relion_image_handler's `--stats` line for each image (or the map): size, mean, population
/// standard deviation, minimum, maximum, pixel size.
fn stats_report(name: &str, grids: &Grids) -> String {
    let line = |label: String, data: &[f32], dims: [usize; 3], pixel: f64| {
        let count = data.len() as f64;
        let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / count;
        let var = data
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / count;
        let (min, max) = data
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        format!(
            "{label} : (x,y,z,n)= {} x {} x {} x 1 ; avg= {} stddev= {} minval= {min} \
             maxval= {max}; angpix = {pixel}\n",
            dims[0],
            dims[1],
            dims[2],
            mean as f32,
            var.sqrt() as f32
        )
    };
    let n = grids.box_size();
    match grids {
        Grids::Volume(v) => line(name.to_owned(), v.data(), [n; 3], v.pixel_size()),
        Grids::Image(i) => line(name.to_owned(), i.data(), [n, n, 1], i.pixel_size()),
        Grids::Stack(images) => images
            .iter()
            .enumerate()
            .map(|(k, i)| {
                line(
                    format!("{:06}@{name}", k + 1),
                    i.data(),
                    [n, n, 1],
                    i.pixel_size(),
                )
            })
            .collect(),
    }
}

/// The FSC curve as a table (shell, resolution in Å, FSC) and the resolutions where it first
/// drops below 0.5 and 0.143 (RELION's rule: the last shell before the drop).
fn fsc_table(curve: &[f64], n: usize, pixel: f64) -> String {
    let mut out = String::from("# shell  resolution_A         FSC\n");
    for (shell, value) in curve.iter().enumerate() {
        out += &format!(
            "{shell:7} {:13.4} {value:11.6}\n",
            shell_to_angstrom(shell, n, pixel)
        );
    }
    for threshold in [0.5, 0.143] {
        let shell = resolution_shell(curve, threshold);
        out += &format!(
            "# resolution at FSC = {threshold}: {:.4} Å (shell {shell})\n",
            shell_to_angstrom(shell, n, pixel)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsc_table_lists_shells_and_both_thresholds() {
        let curve = [1.0, 0.9, 0.6, 0.3, 0.1];
        let table = fsc_table(&curve, 8, 2.0);
        assert!(
            table.contains("      2        8.0000    0.600000\n"),
            "{table}"
        );
        assert!(table.contains("FSC = 0.5: 8.0000 Å (shell 2)"), "{table}");
        assert!(table.contains("FSC = 0.143: 5.3333 Å (shell 3)"), "{table}");
    }

    #[test]
    fn stats_are_population_moments() {
        let image =
            cryoflux_kernels::grid::Image::from_vec(4, 1.0, (0..16).map(|v| v as f32).collect())
                .unwrap();
        let report = stats_report("a.mrc", &Grids::Image(image));
        assert!(
            report.contains("avg= 7.5 stddev= 4.609772 minval= 0 maxval= 15"),
            "{report}"
        );
    }
}
