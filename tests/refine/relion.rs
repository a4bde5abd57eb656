//! End to end: a short `cryoflux refine` (100 simulated particles on two micrographs, hence two
//! noise groups, box 48 of 1.8 Å, norm and scale corrections, two iterations and the final one)
//! writes RELION's Refine3D files (refine.md §8.1), and RELION
//! 3.1.3 and Python `starfile` read them:
//!
//! - `relion_refine --continue` reads every optimiser file with the sampling, particle and
//!   model files it names (both halves' models), and writes them back with our values;
//! - every label we write is one of RELION's (`relion_refine --print_metadata_labels`) with a
//!   value of its type, as Python `starfile` reads it;
//! - `relion_star_handler` reads every particle file;
//! - `relion_postprocess` on our unfiltered half maps finds our resolution (unmasked FSC
//!   0.143) within one shell;
//! - `relion_reconstruct` from our `run_data.star` gives our map (their FSC > 0.9 up to our
//!   gold-standard FSC 0.5 point).
//!
//! Every run works in its own folder with a relative output root, as RELION jobs do.

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use cryoflux_formats::star::{StarFile, Value};
use cryoflux_simulate::{SimulationConfig, simulate};

/// The output root, relative to the run's folder.
const ROOT: &str = "Refine3D/job001/run";

/// Box edge of the bundled map (Å): 48 pixels of 1.8 Å.
const BOX_ANGSTROM: f64 = 48.0 * 1.8;

/// A finished refinement in a temporary folder.
struct Run {
    dir: tempfile::TempDir,
    /// Iterations run, the final one included.
    iterations: usize,
    /// Final gold-standard resolution (Å), from `run_model.star`.
    resolution_angst: f64,
}

impl Run {
    /// `<folder>/<ROOT><suffix>`.
    fn file(&self, suffix: &str) -> std::path::PathBuf {
        self.dir.path().join(format!("{ROOT}{suffix}"))
    }
}

/// Simulates 100 particles from the bundled map and refines them from it (low-passed to
/// 30 Å) in a new folder.
fn refine() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let reference = bundled_map_float32(dir.path());
    let map = cryoflux_simulate::assets::default_map().unwrap();
    let simulated = simulate(
        &map,
        &SimulationConfig::typical(100, 3, 0.5),
        &dir.path().join("sim"),
    )
    .unwrap();
    let output = cryoflux()
        .current_dir(dir.path())
        .args(small_refine_args(
            &simulated.particles_star,
            &reference,
            ROOT,
            &["--iter", "2", "--j", "2", "--norm", "--scale"],
        ))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cryoflux refine failed:\n{log}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let iterations: usize = stdout
        .split("cryoflux refine: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no iteration count in:\n{stdout}"));
    let mut run = Run {
        dir,
        iterations,
        resolution_angst: f64::NAN,
    };
    let model = StarFile::read(&run.file("_model.star")).unwrap();
    run.resolution_angst = number(
        model
            .block("model_general")
            .unwrap()
            .pair("rlnCurrentResolution"),
    );
    run
}

fn number(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Float(v)) => *v,
        Some(Value::Int(v)) => *v as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

/// The files of refine.md §8.1 for a run of `iterations` (the final one included), except
/// iteration 0's STAR files (cryoflux writes only its maps) and the per-iteration unfiltered
/// maps of `--solvent_correct_fsc`.
fn expected_suffixes(iterations: usize) -> Vec<String> {
    let mut suffixes: Vec<String> = (1..=2)
        .map(|h| format!("_it000_half{h}_class001.mrc"))
        .collect();
    for it in 1..=iterations {
        let it = format!("_it{it:03}");
        for name in [
            "_data.star",
            "_data.parquet",
            "_optimiser.star",
            "_sampling.star",
        ] {
            suffixes.push(format!("{it}{name}"));
        }
        for h in 1..=2 {
            for name in ["_model.star", "_class001.mrc", "_class001_angdist.bild"] {
                suffixes.push(format!("{it}_half{h}{name}"));
            }
        }
    }
    for name in [
        "_data.star",
        "_data.parquet",
        "_model.star",
        "_sampling.star",
        "_optimiser.star",
        "_class001.mrc",
        "_class001_angdist.bild",
        "_half1_class001_unfil.mrc",
        "_half2_class001_unfil.mrc",
    ] {
        suffixes.push(name.to_string());
    }
    suffixes
}

/// Every STAR file of the run (relative to its folder).
fn star_files(run: &Run) -> Vec<String> {
    expected_suffixes(run.iterations)
        .into_iter()
        .filter(|s| s.ends_with(".star"))
        .map(|s| format!("{ROOT}{s}"))
        .collect()
}

#[test]
fn the_relion_file_list_is_written_and_python_starfile_reads_it() {
    let run = refine();
    assert_eq!(run.iterations, 3, "two iterations and the final one");
    for suffix in expected_suffixes(run.iterations) {
        let path = run.file(&suffix);
        assert!(path.is_file(), "missing {}", path.display());
    }
    // The optimiser of the last iteration says the run converged (the iteration limit).
    let optimiser = StarFile::read(&run.file("_it002_optimiser.star")).unwrap();
    let general = optimiser.block("optimiser_general").unwrap();
    assert_eq!(general.pair("rlnHasConverged"), Some(&Value::Int(1)));
    assert_eq!(
        general.pair("rlnModelStarFile2"),
        Some(&Value::Text(format!("{ROOT}_it002_half2_model.star")))
    );
    if !have_python(&["starfile"]) {
        return;
    }
    let seen = python_labels(&run);
    for file in star_files(&run) {
        let ours = StarFile::read(&run.dir.path().join(&file)).unwrap();
        let mut expected: Vec<(String, String)> = Vec::new();
        for block in &ours.blocks {
            for (label, _) in &block.pairs {
                expected.push((block.name.clone(), label.clone()));
            }
            for column in block.table.iter().flat_map(|t| t.columns()) {
                expected.push((block.name.clone(), column.label.clone()));
            }
        }
        let read: Vec<(String, String)> = seen[&file]
            .iter()
            .map(|(block, label, _)| (block.clone(), label.clone()))
            .collect();
        assert_eq!(
            read, expected,
            "{file}: starfile's blocks and labels differ"
        );
    }
}

/// (block, label, kind) per STAR file as Python `starfile` reads it; kind is `int`,
/// `float` or `str`.
fn python_labels(run: &Run) -> BTreeMap<String, Vec<(String, String, String)>> {
    let files = star_files(run);
    let script = format!(
        r#"
import os, starfile
os.chdir({dir:?})
for name in {files:?}:
    for block, data in starfile.read(name, always_dict=True).items():
        items = data.items() if isinstance(data, dict) else data.dtypes.items()
        for label, value in items:
            kind = getattr(value, "kind", None) or type(value).__name__
            kind = {{"i": "int", "int64": "int", "f": "float", "float64": "float", "O": "str"}}.get(kind, kind)
            print(name, block, label, kind, sep="\t")
"#,
        dir = run.dir.path().to_str().unwrap(),
    );
    let mut labels: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for line in python(&script).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        labels.entry(fields[0].to_string()).or_default().push((
            fields[1].to_string(),
            fields[2].to_string(),
            fields[3].to_string(),
        ));
    }
    labels
}

#[test]
fn relion_reads_every_output() {
    if !have_tool("relion_refine") || !have_python(&["starfile"]) {
        return;
    }
    let run = refine();
    labels_are_relions_with_values_of_their_type(&run);
    let mut optimisers: Vec<String> = (1..=run.iterations)
        .map(|it| format!("{ROOT}_it{it:03}_optimiser.star"))
        .collect();
    optimisers.push(format!("{ROOT}_optimiser.star"));
    for (k, optimiser) in optimisers.iter().enumerate() {
        relion_continue_reads(&run, optimiser, &format!("o{k}"));
    }
    if have_tool("relion_star_handler") {
        star_handler_reads_particles(&run);
    }
    let mask = sphere_mask(&run);
    if have_tool("relion_postprocess") {
        postprocess_finds_our_resolution(&run, &mask);
    }
    if have_tool("relion_reconstruct") {
        reconstruct_gives_our_map(&run);
    }
}

/// RELION 3.1.3's labels and their types (`double`, `int`, `bool`, `string`, …).
fn relion_label_types() -> BTreeMap<String, String> {
    let output = Command::new("relion_refine")
        .arg("--print_metadata_labels")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.trim_start().split_once(" (")?;
            let (kind, _) = rest.split_once(')')?;
            name.starts_with("rln")
                .then(|| (name.to_string(), kind.to_string()))
        })
        .collect()
}

fn labels_are_relions_with_values_of_their_type(run: &Run) {
    let types = relion_label_types();
    assert!(types.len() > 300, "only {} RELION labels", types.len());
    for (file, labels) in python_labels(run) {
        for (block, label, kind) in labels {
            let relion = types
                .get(&label)
                .unwrap_or_else(|| panic!("{file} data_{block}: {label} is not a RELION label"));
            let fits = match relion.as_str() {
                "int" | "bool" => kind == "int",
                "double" => kind == "int" || kind == "float",
                _ => true,
            };
            assert!(
                fits,
                "{file} data_{block}: {label} holds a {kind}; RELION expects {relion}"
            );
        }
    }
}

/// Runs RELION in the run's folder; returns stdout and stderr together.
fn relion(run: &Run, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(run.dir.path())
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn pair(star: &StarFile, block: &str, label: &str) -> Value {
    star.block(block)
        .and_then(|b| b.pair(label))
        .cloned()
        .unwrap_or_else(|| panic!("no {label} in data_{block}"))
}

fn text(value: Value) -> String {
    match value {
        Value::Text(t) => t,
        other => panic!("expected text, found {other:?}"),
    }
}

/// `relion_refine --continue optimiser` without MPI reads the optimiser file, the sampling,
/// particle and second model file it names, writes its own copies of them and then stops,
/// since splitting halves needs MPI. The copies must hold our values. Run twice: as written
/// (half 2's model) and with half 1's model in its place.
fn relion_continue_reads(run: &Run, optimiser: &str, tag: &str) {
    let star = StarFile::read(&run.dir.path().join(optimiser)).unwrap();
    let iteration = number(Some(&pair(
        &star,
        "optimiser_general",
        "rlnCurrentIteration",
    )));
    let models = [
        text(pair(&star, "optimiser_general", "rlnModelStarFile")),
        text(pair(&star, "optimiser_general", "rlnModelStarFile2")),
    ];
    let data = text(pair(
        &star,
        "optimiser_general",
        "rlnExperimentalDataStarFile",
    ));
    for (h, model) in models.iter().enumerate() {
        let mut copy = star.clone();
        let general = copy.block_mut("optimiser_general").unwrap();
        for (label, value) in &mut general.pairs {
            if label == "rlnModelStarFile2" {
                *value = Value::Text(model.clone());
            }
        }
        let out = format!("Continue/{tag}_half{}/run", h + 1);
        std::fs::create_dir_all(run.dir.path().join(&out).parent().unwrap()).unwrap();
        let input = format!("Continue/{tag}_half{}_optimiser.star", h + 1);
        copy.write(&run.dir.path().join(&input)).unwrap();
        let log = relion(run, "relion_refine", &["--continue", &input, "--o", &out]);
        assert!(
            log.contains("Reading in optimiser.star") && log.contains("without using MPI"),
            "relion_refine --continue {optimiser} (model {model}) did not read our files:\n{log}"
        );
        let written = |suffix: &str| {
            StarFile::read(
                &run.dir
                    .path()
                    .join(format!("{out}_it{:03}{suffix}", iteration as usize)),
            )
            .unwrap()
        };
        let (ours, theirs) = (
            StarFile::read(&run.dir.path().join(model)).unwrap(),
            written("_half0_model.star"),
        );
        let resolution =
            |s: &StarFile| number(Some(&pair(s, "model_general", "rlnCurrentResolution")));
        assert!((resolution(&ours) - resolution(&theirs)).abs() < 1e-4);
        let fsc = |s: &StarFile| {
            s.block("model_class_1")
                .unwrap()
                .table
                .as_ref()
                .unwrap()
                .floats("rlnGoldStandardFsc")
                .unwrap()
                .to_vec()
        };
        close(&fsc(&ours), &fsc(&theirs), 1e-5, "rlnGoldStandardFsc");
        let tilt = |s: &StarFile| {
            s.block("particles")
                .unwrap()
                .table
                .as_ref()
                .unwrap()
                .floats("rlnAngleTilt")
                .unwrap()
                .to_vec()
        };
        close(
            &tilt(&StarFile::read(&run.dir.path().join(&data)).unwrap()),
            &tilt(&written("_data.star")),
            1e-5,
            "rlnAngleTilt",
        );
    }
}

fn close(a: &[f64], b: &[f64], tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance,
            "{what}[{i}]: ours {x}, RELION {y}"
        );
    }
}

fn star_handler_reads_particles(run: &Run) {
    for file in star_files(run).iter().filter(|f| f.ends_with("_data.star")) {
        let out = format!(
            "StarHandler/{}",
            Path::new(file).file_name().unwrap().to_str().unwrap()
        );
        std::fs::create_dir_all(run.dir.path().join("StarHandler")).unwrap();
        run_tool(
            run.dir.path(),
            "relion_star_handler",
            &["--i", file, "--o", &out],
        );
        let rows = |path: &str| {
            cryoflux_formats::star::ParticleStar::read(&run.dir.path().join(path))
                .unwrap()
                .particles
                .rows()
        };
        assert_eq!(rows(&out), rows(file), "{file}");
    }
}

/// The sphere of the particle (radius 18 pixels, soft edge 5) as `MaskCreate/mask.mrc`.
fn sphere_mask(run: &Run) -> String {
    let mask = "MaskCreate/mask.mrc";
    std::fs::create_dir_all(run.dir.path().join("MaskCreate")).unwrap();
    let output = cryoflux()
        .current_dir(run.dir.path())
        .args([
            "mask",
            "--sphere_radius",
            "18",
            "--box",
            "48",
            "--angpix",
            "1.8",
            "--width_soft_edge",
            "5",
            "--o",
            mask,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cryoflux mask failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    mask.to_string()
}

fn postprocess_finds_our_resolution(run: &Run, mask: &str) {
    std::fs::create_dir_all(run.dir.path().join("PostProcess")).unwrap();
    // RELION also tries to make a PDF with ghostscript and says so when it cannot; only its
    // STAR file is used.
    let half1 = format!("{ROOT}_half1_class001_unfil.mrc");
    let log = relion(
        run,
        "relion_postprocess",
        &[
            "--i",
            &half1,
            "--mask",
            mask,
            "--angpix",
            "1.8",
            "--o",
            "PostProcess/postprocess",
        ],
    );
    let path = run.dir.path().join("PostProcess/postprocess.star");
    assert!(path.is_file(), "relion_postprocess wrote nothing:\n{log}");
    let star = PostprocessStar::read(&path);
    let unmasked = star
        .fsc
        .floats("rlnFourierShellCorrelationUnmaskedMaps")
        .unwrap();
    let relion_shell = (1..unmasked.len())
        .find(|&r| unmasked[r] < 0.143)
        .unwrap_or(unmasked.len())
        - 1;
    let our_shell = (BOX_ANGSTROM / run.resolution_angst).round() as usize;
    let final_resolution = star.number("rlnFinalResolution");
    eprintln!(
        "resolution: ours {:.2} Å (shell {our_shell}); relion_postprocess unmasked shell \
         {relion_shell}, final (masked) {final_resolution:.2} Å",
        run.resolution_angst
    );
    assert!(
        relion_shell.abs_diff(our_shell) <= 1,
        "RELION's unmasked FSC 0.143 shell {relion_shell}, ours {our_shell}"
    );
    assert!(
        BOX_ANGSTROM / final_resolution >= our_shell as f64 - 1.0,
        "RELION's final resolution {final_resolution} Å is worse than ours by more than a shell"
    );
}

/// RELION's reconstruction from our `run_data.star` agrees with our map: their FSC is above
/// 0.9 in every shell up to our gold-standard FSC 0.5 point. (Measured ≥ 0.955; psi angles
/// shuffled between particles fall to 0.55 by shell 3, origins of the wrong sign to 0.51 by
/// shell 5.) Real-space correlation is not used: our map is regularised (shells weighted by
/// τ²), RELION's is not.
fn reconstruct_gives_our_map(run: &Run) {
    std::fs::create_dir_all(run.dir.path().join("Reconstruct")).unwrap();
    let data = format!("{ROOT}_data.star");
    run_tool(
        run.dir.path(),
        "relion_reconstruct",
        &["--i", &data, "--o", "Reconstruct/relion.mrc", "--ctf"],
    );
    let model = StarFile::read(&run.file("_model.star")).unwrap();
    let gold = model
        .block("model_class_1")
        .and_then(|b| b.table.as_ref())
        .and_then(|t| t.floats("rlnGoldStandardFsc"))
        .unwrap()
        .to_vec();
    let shell_05 = (1..gold.len())
        .find(|&r| gold[r] < 0.5)
        .unwrap_or(gold.len())
        - 1;
    let fsc = cryoflux_fsc(
        &run.dir.path().join("Reconstruct/relion.mrc"),
        &run.file("_class001.mrc"),
    );
    eprintln!(
        "FSC(relion_reconstruct of our run_data.star, our map), shells 1..={shell_05}: {:.3?}",
        &fsc.values[1..=shell_05]
    );
    assert!(
        shell_05 >= 4,
        "our gold-standard FSC 0.5 shell is only {shell_05}"
    );
    for r in 1..=shell_05 {
        assert!(fsc.values[r] > 0.9, "shell {r}: FSC {}", fsc.values[r]);
    }
}
