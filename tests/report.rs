//! End to end: `cryoflux report` on a small cryoflux refinement and on a (trimmed) RELION 3.1
//! Refine3D job: the page is self-contained, has every figure, and — where Debian's chromium is
//! installed — loads in a real headless browser with every figure decoded.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::*;
use cryoflux_simulate::assets::default_map;
use cryoflux_simulate::{SimulationConfig, simulate};

/// Figure ids, in page order.
const FIGURES: [&str; 6] = [
    "resolution",
    "fsc",
    "angular_distribution",
    "offsets",
    "angle_change",
    "time",
];

/// Refines 100 simulated particles (box 48, HEALPix order 1, 2 iterations then the final one)
/// into `dir/Refine3D/job001`; returns the job directory.
fn small_refinement(dir: &Path) -> PathBuf {
    let config = SimulationConfig::typical(100, 3, 0.5);
    let summary = simulate(&default_map().unwrap(), &config, &dir.join("sim")).unwrap();
    let reference = bundled_map_float32(dir);
    let job = dir.join("Refine3D/job001");
    let root = job.join("run");
    cryoflux_ok(&strs(&small_refine_args(
        &summary.particles_star,
        &reference,
        &root,
        &["--iter", "2", "--j", "2"],
    )));
    job
}

/// Checks the page at `html` and its figure folder: every figure drawn, inlined as a PNG data
/// URI, written as PNG and SVG; nothing loaded from elsewhere. Returns the page text.
fn check_page(html: &Path) -> String {
    let text = std::fs::read_to_string(html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert!(!text.contains("Not available"), "a figure is missing");
    let stem = html.file_stem().unwrap().to_str().unwrap();
    let figures = html.with_file_name(format!("{stem}_figures"));
    for id in FIGURES {
        let at = text
            .find(&format!("<figure id=\"fig-{id}\">"))
            .unwrap_or_else(|| panic!("no figure {id}"));
        let img = &text[at..];
        assert!(
            img.contains("<img src=\"data:image/png;base64,iVBORw0KGgo"),
            "{id} is not an inlined PNG"
        );
        let png = std::fs::read(figures.join(format!("{id}.png"))).unwrap();
        assert_eq!(&png[..4], b"\x89PNG", "{id}.png");
        let svg = std::fs::read_to_string(figures.join(format!("{id}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{id}.svg");
    }
    assert_eq!(
        text.matches("src=\"").count(),
        text.matches("src=\"data:").count(),
        "every resource is inlined"
    );
    assert!(!text.contains("<script") && !text.contains("<link"));
    text
}

/// Loads `html` in headless chromium with a probe that counts decoded images; returns
/// (decoded, total), or `None` when chromium is not installed (and not required).
fn figures_decoded_in_chromium(html: &Path) -> Option<(usize, usize)> {
    if !have_tool("chromium") {
        return None;
    }
    let probe = "<script>window.addEventListener('load', () => {
        const images = Array.from(document.images);
        const decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
        const marker = document.createElement('p');
        marker.id = 'probe';
        marker.textContent = 'figures-decoded ' + decoded + ' of ' + images.length + ' end';
        document.body.appendChild(marker);
    });</script></body>";
    let page = std::fs::read_to_string(html).unwrap();
    let probed = html.with_file_name("probe.html");
    std::fs::write(&probed, page.replace("</body>", probe)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("file://{}", probed.canonicalize().unwrap().display()),
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    // The probe's paragraph (the script's own text also holds the words, not this element).
    let counts = dom
        .split("<p id=\"probe\">figures-decoded ")
        .nth(1)
        .and_then(|s| s.split(" end</p>").next())
        .unwrap_or_else(|| {
            panic!(
                "no probe result in chromium's DOM:\n{dom}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let mut numbers = counts.split(" of ").map(|n| n.parse::<usize>().unwrap());
    Some((numbers.next().unwrap(), numbers.next().unwrap()))
}

#[test]
fn report_of_a_cryoflux_refinement_has_every_figure_and_loads_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let job = small_refinement(dir.path());
    cryoflux_ok(&["report", job.to_str().unwrap()]);
    let html = job.join("report.html");
    let text = check_page(&html);
    assert!(text.contains("finished (run_model.star written)"), "{text}");
    assert!(text.contains("<th>Particles</th><td>100 (iteration 3)</td>"));
    assert!(text.contains("<th>Box</th><td>48 px (86.4 Å)</td>"));
    if let Some((decoded, total)) = figures_decoded_in_chromium(&html) {
        assert_eq!((decoded, total), (FIGURES.len(), FIGURES.len()));
    }
}

#[test]
fn report_reads_a_relion_refine3d_job() {
    // Files of a RELION 3.1.3 auto-refine of 200 simulated particles (box 48, 1.8 Å), trimmed:
    // see tests/fixtures/report_relion/README.md.
    let fixture = repo_file("tests/fixtures/report_relion");
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("Refine3D/job001");
    std::fs::create_dir_all(&job).unwrap();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".star") {
            continue;
        }
        let copy = job.join(&name);
        std::fs::copy(fixture.join(&name), &copy).unwrap();
        // Iterations 16, 17, 18 end 10 s and 13 s apart.
        let seconds = match &name[..9] {
            "run_it016" => 0.0,
            "run_it017" => 10.0,
            _ => 23.0,
        };
        let file = std::fs::File::options().write(true).open(&copy).unwrap();
        file.set_modified(t0 + Duration::from_secs_f64(seconds))
            .unwrap();
    }
    let html = dir.path().join("out/relion.html");
    cryoflux_ok(&[
        "report",
        job.join("run").to_str().unwrap(),
        "--o",
        html.to_str().unwrap(),
    ]);
    let text = check_page(&html);
    for expected in [
        "<td>4.55 Å (final model)</td>",
        "<th>Iterations</th><td>18</td>",
        "<th>Particles</th><td>60 (iteration 18)</td>",
        "<th>Symmetry</th><td>C1</td>",
        "<th>Pixel size</th><td>1.800 Å</td>",
        "<td>23.0 s in all, median 11.5 s per iteration (from file times)</td>",
        "Angular sampling: the coarse orientation step",
        "iteration 17 to its pose in iteration 18",
    ] {
        assert!(text.contains(expected), "missing {expected:?}");
    }
}

#[test]
fn missing_empty_and_foreign_job_directories_are_named_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("Refine3D/job404");
    let stderr = cryoflux_fails(&["report", missing.to_str().unwrap()]);
    assert!(
        stderr.contains("job404") && stderr.contains("no such job"),
        "{stderr}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let stderr = cryoflux_fails(&["report", empty.to_str().unwrap()]);
    assert!(stderr.contains("empty"), "{stderr}");
    std::fs::write(empty.join("particles.star"), "data_\n").unwrap();
    let stderr = cryoflux_fails(&["report", empty.to_str().unwrap()]);
    assert!(stderr.contains("no refinement iterations"), "{stderr}");
    assert!(
        !empty.join("report.html").exists(),
        "nothing written on failure"
    );
}
