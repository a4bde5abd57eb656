//! The report page: one self-contained HTML file (no scripts, no external resources; figures
//! embedded as base64 PNG `data:` URIs) with a summary table at the top, notes about anything
//! missing, then the figures with captions and links to their PNG and SVG files.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::base64;
use super::charts::{duration_text, median};
use super::figures::{Figure, Slot};
use super::history::JobHistory;

/// The page's style sheet: a readable summary, figures in a responsive grid.
const STYLE: &str = "
body { font-family: system-ui, 'DejaVu Sans', sans-serif; color: #222; margin: 1.5em auto;
       max-width: 1900px; padding: 0 1.5em; background: #f7f7f7; }
h1 { margin-bottom: 0.1em; }
.sub { color: #666; margin-top: 0; word-break: break-all; }
table.summary { border-collapse: collapse; margin: 1em 0 1.5em; background: #fff;
                border: 1px solid #ddd; }
table.summary th { text-align: left; font-weight: normal; color: #555;
                   padding: 0.4em 1.5em 0.4em 0.8em; }
table.summary td { font-weight: 600; padding: 0.4em 0.8em 0.4em 0; }
table.summary tr.headline td { font-size: 1.5em; }
table.summary tr + tr { border-top: 1px solid #eee; }
.notes li { color: #9a3412; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
           gap: 1.5em; }
figure { margin: 0; padding: 0.8em 1em; background: #fff; border: 1px solid #ddd;
         border-radius: 6px; }
figure h2 { font-size: 1.1em; margin: 0 0 0.5em; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.5em; }
figure.missing p { color: #9a3412; }
";

/// The HTML text of the report of `history` with its figure `slots`; links to figure files
/// are relative to `page_dir`, the folder the page is written to.
pub fn page(history: &JobHistory, slots: &[Slot], page_dir: &Path) -> anyhow::Result<String> {
    let root = history.run.root.display().to_string();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Refinement report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Refinement report</h1>\n<p class=\"sub\">{} · written by cryoflux {}</p>\n",
        escape(&root),
        escape(&root),
        env!("CARGO_PKG_VERSION")
    );
    html += &summary_table(history);
    html += &notes(history, slots);
    html += "<div class=\"figures\">\n";
    for slot in slots {
        html += &match slot {
            Slot::Drawn(figure) => figure_html(figure, page_dir)?,
            Slot::Missing { id, title, reason } => format!(
                "<figure id=\"fig-{id}\" class=\"missing\">\n<h2>{}</h2>\n\
                 <p>Not available: {}.</p>\n</figure>\n",
                escape(title),
                escape(reason)
            ),
        };
    }
    html += "</div>\n</body>\n</html>\n";
    Ok(html)
}

/// The summary table: resolution, state, iterations, particles, symmetry, geometry, time.
fn summary_table(h: &JobHistory) -> String {
    let last = h.last().map_or(0, |i| i.number);
    let resolution = match (h.final_resolution(), &h.final_model) {
        (Some(r), Some(_)) => format!("{r:.2} Å (final model)"),
        (Some(r), None) => format!("{r:.2} Å (iteration {last})"),
        (None, _) => "unknown".into(),
    };
    let status = if h.final_model.is_some() {
        format!(
            "finished ({} written)",
            file_name(&h.run.file("_model.star"))
        )
    } else {
        format!("not finished (no final model file); last iteration {last}")
    };
    let particles = match &h.last_poses {
        Some(p) => format!("{} (iteration {})", p.poses.len(), p.number),
        None => "unknown (no particle file)".into(),
    };
    let symmetry = h
        .symmetry()
        .map_or("not recorded (no sampling file)".into(), str::to_string);
    let pixel = h
        .pixel_size()
        .map_or("unknown".into(), |p| format!("{p:.3} Å"));
    let box_size = match (h.box_size(), h.pixel_size()) {
        (Some(n), Some(p)) => format!("{n} px ({:.1} Å)", n as f64 * p),
        (Some(n), None) => format!("{n} px"),
        _ => "unknown".into(),
    };
    let seconds: Vec<f64> = h.seconds.iter().map(|&(_, s)| s).collect();
    let time = match median(&seconds) {
        Some(per) => format!(
            "{} in all, median {} per iteration (from file times)",
            duration_text(seconds.iter().sum()),
            duration_text(per)
        ),
        None => "unknown".into(),
    };
    let rows = [
        ("Final resolution", resolution),
        ("Status", status),
        ("Iterations", last.to_string()),
        ("Particles", particles),
        ("Symmetry", symmetry),
        ("Pixel size", pixel),
        ("Box", box_size),
        ("Time", time),
    ];
    let mut table = String::from("<table class=\"summary\">\n");
    for (i, (name, value)) in rows.iter().enumerate() {
        let class = if i == 0 { " class=\"headline\"" } else { "" };
        let _ = writeln!(
            table,
            "<tr{class}><th>{name}</th><td>{}</td></tr>",
            escape(value)
        );
    }
    table + "</table>\n"
}

/// A list of what could not be read or drawn (empty when everything is there).
fn notes(h: &JobHistory, slots: &[Slot]) -> String {
    let missing = slots.iter().filter_map(Slot::missing_note);
    let items: Vec<String> = h.notes.iter().cloned().chain(missing).collect();
    if items.is_empty() {
        return String::new();
    }
    let mut list = String::from("<ul class=\"notes\">\n");
    for item in items {
        let _ = writeln!(list, "<li>{}</li>", escape(&item));
    }
    list + "</ul>\n"
}

/// One figure: heading, the PNG inlined, caption and links to the files.
fn figure_html(figure: &Figure, page_dir: &Path) -> anyhow::Result<String> {
    let png = std::fs::read(&figure.png)
        .with_context(|| format!("{}: cannot read the figure back", figure.png.display()))?;
    let link = |path: &Path| {
        let relative = path.strip_prefix(page_dir).unwrap_or(path);
        escape(&relative.to_string_lossy())
    };
    Ok(format!(
        "<figure id=\"fig-{id}\">\n<h2>{title}</h2>\n\
         <img src=\"data:image/png;base64,{data}\" alt=\"{title}\">\n\
         <figcaption>{caption} <a href=\"{png}\">PNG</a> · <a href=\"{svg}\">SVG</a></figcaption>\n\
         </figure>\n",
        id = figure.id,
        title = escape(figure.title),
        data = base64::encode(&png),
        caption = escape(&figure.caption),
        png = link(&figure.png),
        svg = link(&figure.svg),
    ))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// `text` with HTML's special characters escaped (safe in text and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
