//! Everything a post-processing run writes, under an output root `R` (RELION's `--o`):
//! `R.mrc` (sharpened map), `R_masked.mrc` (times the mask), `R.star` ([`star`]),
//! `R_fsc.xml` ([`fsc_xml`], for EMDB), and `R_fsc.{png,svg}`, `R_guinier.{png,svg}`.
//! Every file is written atomically: a reader sees either no file or a complete one.

pub mod fsc_xml;
pub mod star;

use std::path::{Path, PathBuf};

use anyhow::Context;
use cryoflux_formats::atomic::write_text;
use cryoflux_formats::mrc::{WriteMode, write_volume};
use cryoflux_kernels::grid::Volume;

use super::Postprocessed;
use cryoflux_jobkit::plots::{LineChart, NamedCurve, Plot, fsc_plot, guinier_plot};
pub use star::InputNames;

/// Every ending [`write_all`] may append to the output root (`R.mrc`, `R_masked.mrc`, …), for
/// checks made before the run (no output may land on an input).
pub const OUTPUT_SUFFIXES: [&str; 8] = [
    ".mrc",
    "_masked.mrc",
    ".star",
    "_fsc.xml",
    "_fsc.png",
    "_fsc.svg",
    "_guinier.png",
    "_guinier.svg",
];

/// Writes every output of `run` under `root` (its directory is created if missing) and returns
/// the paths written.
pub fn write_all(
    root: &Path,
    run: &Postprocessed,
    names: &InputNames,
) -> anyhow::Result<Vec<PathBuf>> {
    if let Some(dir) = root.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the output directory", dir.display()))?;
    }
    let path = |suffix: &str| {
        let mut name = root.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let mut written = Vec::new();
    let mut record = |p: PathBuf| {
        written.push(p.clone());
        p
    };

    write_map(&record(path(".mrc")), &run.sharpened.map)?;
    if let Some(masked) = &run.masked_map {
        write_map(&record(path("_masked.mrc")), masked)?;
    }
    let star_path = record(path(".star"));
    star::postprocess_star(run, names)
        .write(&star_path)
        .context("cannot write the STAR file")?;

    let frequency = shell_frequencies(&run.sharpened.map, run.fsc.unmasked.len());
    let title = if run.fsc.uses_mask {
        "cryoflux masked-corrected FSC"
    } else {
        "cryoflux unmasked FSC"
    };
    let xml = fsc_xml::fsc_xml(title, &frequency, &run.fsc.final_curve);
    let xml_path = record(path("_fsc.xml"));
    write_text(&xml_path, &xml)?;

    for (suffix, chart) in [
        ("_fsc", fsc_chart(run, &frequency)),
        ("_guinier", guinier_chart(run)),
    ] {
        chart.write_png(&record(path(&format!("{suffix}.png"))))?;
        chart.write_svg(&record(path(&format!("{suffix}.svg"))))?;
    }
    Ok(written)
}

fn write_map(path: &Path, map: &Volume) -> anyhow::Result<()> {
    let n = map.n();
    write_volume(
        path,
        map.data(),
        [n, n, n],
        map.pixel_size() as f32,
        WriteMode::Float32,
    )
    .with_context(|| format!("cannot write the map {}", path.display()))
}

/// Spatial frequency (Å⁻¹) of shells 0 … count−1, shell 0 at 1/999 Å⁻¹ as RELION writes it.
fn shell_frequencies(map: &Volume, count: usize) -> Vec<f64> {
    let box_angstrom = map.n() as f64 * map.pixel_size();
    (0..count)
        .map(|r| {
            if r == 0 {
                1.0 / 999.0
            } else {
                r as f64 / box_angstrom
            }
        })
        .collect()
}

fn fsc_chart(run: &Postprocessed, frequency: &[f64]) -> LineChart {
    let title = format!("Final resolution = {:.2} Å", run.fsc.resolution);
    fn curve<'a>(name: &'a str, values: &'a [f64]) -> NamedCurve<'a> {
        NamedCurve { name, values }
    }
    let curves = match &run.fsc.masked {
        Some(m) => vec![
            curve("unmasked", &run.fsc.unmasked),
            curve("masked", &m.masked),
            curve("phase-randomised masked", &m.randomised),
            curve("corrected", &run.fsc.final_curve),
        ],
        None => vec![curve("unmasked", &run.fsc.unmasked)],
    };
    fsc_plot(&title, frequency, &curves)
}

fn guinier_chart(run: &Postprocessed) -> LineChart {
    let g = &run.sharpened.guinier;
    let mut curves = vec![("original", g.original.as_slice())];
    let optional = [
        ("MTF-corrected", &g.mtf_corrected),
        ("FSC-weighted", &g.weighted),
        ("sharpened", &g.sharpened),
    ];
    curves.extend(
        optional
            .iter()
            .filter_map(|(name, c)| c.as_deref().map(|c| (*name, c))),
    );
    let title = format!("Guinier plot, B-factor {:.1} Å²", run.sharpened.bfactor);
    guinier_plot(&title, &curves, run.sharpened.fit.as_ref())
}
