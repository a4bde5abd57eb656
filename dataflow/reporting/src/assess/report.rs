//! An [`Assessment`] as a short text table for people and as JSON for scripts (written
//! atomically). JSON numbers are degrees and Å as in the struct; a value that is not finite
//! (e.g. a resolution of shell 0) is `null`.

use std::fmt::Write as _;
use std::path::Path;

use cryoflux_formats::atomic::write_text;

use super::{Assessment, ErrorStats, FRAME_TOLERANCE_DEG, FscResolution, InFrame};

impl Assessment {
    /// A few lines: particle counts, error statistics, resolutions.
    pub fn table(&self) -> String {
        let p = &self.particles;
        let mut out = format!(
            "{} particles matched by rlnImageName ({} only in the refinement, {} only in the \
             truth); symmetry {}\n",
            p.matched, p.only_in_data, p.only_in_truth, self.symmetry
        );
        let _ = writeln!(
            out,
            "{:<18}{:>8}{:>8}{:>8}{:>8}",
            "", "mean", "median", "90%", "max"
        );
        stats_row(&mut out, "angular error (°)", &self.angular_error_deg);
        stats_row(&mut out, "offset error (Å)", &self.offset_error_angst);
        if let Some(f) = &self.against_truth {
            fsc_line(&mut out, "FSC against truth:", f);
        }
        if let Some(f) = &self.gold_standard {
            let _ = writeln!(
                out,
                "gold standard:     {:.2} Å at 0.143 (unfiltered half maps, unmasked)",
                f.at_0_143
            );
        }
        if let Some(own) = &self.in_frame {
            let frame = &own.frame;
            let _ = writeln!(
                out,
                "own frame: {}, rotated {:.1}° from the truth's; {:.0}% of the particles within \
                 {FRAME_TOLERANCE_DEG}° of it",
                if frame.mirrored {
                    "mirrored (opposite hand)"
                } else {
                    "same hand"
                },
                frame.angle_deg,
                100.0 * frame.fraction
            );
            stats_row(&mut out, "  angular error (°)", &own.angular_error_deg);
            if let Some(f) = &own.against_truth {
                fsc_line(&mut out, "  FSC against truth:", f);
            }
        }
        out
    }

    /// The numbers as one JSON object.
    pub fn to_json(&self) -> String {
        let p = &self.particles;
        format!(
            "{{\n  \"symmetry\": \"{}\",\n  \"particles_matched\": {},\n  \
             \"particles_only_in_data\": {},\n  \"particles_only_in_truth\": {},\n  \
             \"angular_error_deg\": {},\n  \"offset_error_angst\": {},\n  \
             \"against_truth\": {},\n  \"gold_standard\": {},\n  \"in_frame\": {}\n}}\n",
            self.symmetry,
            p.matched,
            p.only_in_data,
            p.only_in_truth,
            stats_json(&self.angular_error_deg),
            stats_json(&self.offset_error_angst),
            fsc_json(self.against_truth.as_ref()),
            fsc_json(self.gold_standard.as_ref()),
            self.in_frame.as_ref().map_or("null".into(), in_frame_json),
        )
    }

    /// Writes [`Self::to_json`] to `path` atomically.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = self.to_json();
        write_text(path, &text)?;
        Ok(())
    }
}

/// One row of the statistics table.
fn stats_row(out: &mut String, what: &str, s: &ErrorStats) {
    let _ = writeln!(
        out,
        "{what:<18}{:>8.2}{:>8.2}{:>8.2}{:>8.2}",
        s.mean, s.median, s.p90, s.max
    );
}

/// One line with an FSC's resolutions.
fn fsc_line(out: &mut String, what: &str, f: &FscResolution) {
    let _ = writeln!(
        out,
        "{what} {:.2} Å at 0.5, {:.2} Å at 0.143 (Nyquist {:.2} Å)",
        f.at_0_5, f.at_0_143, f.nyquist
    );
}

fn in_frame_json(own: &InFrame) -> String {
    format!(
        "{{\"mirrored\": {}, \"rotation_deg\": {}, \"fraction\": {}, \"angular_error_deg\": {}, \
         \"against_truth\": {}}}",
        own.frame.mirrored,
        number(own.frame.angle_deg),
        number(own.frame.fraction),
        stats_json(&own.angular_error_deg),
        fsc_json(own.against_truth.as_ref())
    )
}

fn stats_json(s: &ErrorStats) -> String {
    format!(
        "{{\"count\": {}, \"mean\": {}, \"median\": {}, \"p90\": {}, \"max\": {}}}",
        s.count,
        number(s.mean),
        number(s.median),
        number(s.p90),
        number(s.max)
    )
}

fn fsc_json(f: Option<&FscResolution>) -> String {
    f.map_or("null".into(), |f| {
        format!(
            "{{\"resolution_at_0.5_angst\": {}, \"resolution_at_0.143_angst\": {}, \
             \"nyquist_angst\": {}}}",
            number(f.at_0_5),
            number(f.at_0_143),
            number(f.nyquist)
        )
    })
}

/// A JSON number (Rust's shortest round-trip form), or `null` when not finite.
pub(crate) fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        "null".into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ParticleCounts;
    use super::*;

    fn example() -> Assessment {
        let stats = ErrorStats::of(&[1.0, 2.0, 3.0]).unwrap();
        Assessment {
            symmetry: "C1".into(),
            particles: ParticleCounts {
                matched: 3,
                only_in_data: 0,
                only_in_truth: 1,
            },
            angular_error_deg: stats,
            offset_error_angst: stats,
            against_truth: Some(FscResolution {
                at_0_5: 7.2,
                at_0_143: f64::INFINITY,
                nyquist: 3.6,
                curve: vec![1.0],
            }),
            gold_standard: None,
            in_frame: None,
        }
    }

    #[test]
    fn json_has_every_number_and_null_for_the_missing() {
        let json = example().to_json();
        for expected in [
            "\"particles_matched\": 3",
            "\"particles_only_in_truth\": 1",
            "\"mean\": 2.0",
            "\"resolution_at_0.5_angst\": 7.2",
            "\"resolution_at_0.143_angst\": null",
            "\"gold_standard\": null",
        ] {
            assert!(json.contains(expected), "{expected} missing from {json}");
        }
        let opens = json.matches('{').count();
        assert_eq!(opens, json.matches('}').count());
    }

    #[test]
    fn table_and_file() {
        let assessment = example();
        let table = assessment.table();
        assert!(
            table.contains("angular error (°)     2.00    2.00    2.80    3.00"),
            "{table}"
        );
        assert!(table.contains("7.20 Å at 0.5"), "{table}");
        assert!(!table.contains("gold standard"), "{table}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        assessment.write_json(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            assessment.to_json()
        );
    }
}
