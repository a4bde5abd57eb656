//! File names in cryoSPARC datasets as RELION needs them: the leading `>` cryoSPARC writes on
//! exported paths removed (as pyem does), optionally the 21-digit uid prefixes cryoSPARC puts on
//! file names (`012345678901234567890_mic.mrc`, pyem's `--strip-uid`), and micrographs
//! optionally moved into another directory (pyem's `--micrograph-path`).

/// How file names are rewritten.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRewrite {
    /// Remove every `<21 digits>_` uid prefix from image and micrograph names.
    pub strip_uid: bool,
    /// Replace the directory of micrograph names by this one (the base name is kept).
    pub micrograph_dir: Option<String>,
}

impl PathRewrite {
    /// A particle stack's name (`blob/path`).
    pub fn stack(&self, raw: &str) -> String {
        let path = raw.strip_prefix('>').unwrap_or(raw);
        if self.strip_uid {
            strip_uids(path)
        } else {
            path.to_owned()
        }
    }

    /// A micrograph's name (`location/micrograph_path`).
    pub fn micrograph(&self, raw: &str) -> String {
        let path = self.stack(raw);
        match &self.micrograph_dir {
            None => path,
            Some(dir) => {
                let base = path.rsplit('/').next().unwrap_or(&path);
                format!("{}/{base}", dir.trim_end_matches('/'))
            }
        }
    }
}

/// Digits in a cryoSPARC uid prefix.
const UID_DIGITS: usize = 21;

/// `path` without any `<21 ASCII digits>_` run (pyem's pattern `[0-9]{21}_`, every match).
fn strip_uids(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = &bytes[i..];
        let is_uid = run.len() > UID_DIGITS
            && run[..UID_DIGITS].iter().all(u8::is_ascii_digit)
            && run[UID_DIGITS] == b'_';
        if is_uid {
            i += UID_DIGITS + 1;
        } else {
            let c = path[i..].chars().next().expect("i is on a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "012345678901234567890";

    #[test]
    fn exported_paths_lose_their_leading_marker_only() {
        let plain = PathRewrite::default();
        assert_eq!(plain.stack(">J3/extract/a.mrcs"), "J3/extract/a.mrcs");
        assert_eq!(plain.stack("J3/x>y.mrcs"), "J3/x>y.mrcs");
    }

    #[test]
    fn uid_prefixes_are_stripped_when_asked() {
        let strip = PathRewrite {
            strip_uid: true,
            micrograph_dir: None,
        };
        let name = format!("J3/{UID}_mic_{UID}_b.mrc");
        assert_eq!(strip.stack(&name), "J3/mic_b.mrc");
        // 20 digits are not a uid.
        assert_eq!(
            strip.stack("J3/01234567890123456789_a"),
            "J3/01234567890123456789_a"
        );
        assert_eq!(PathRewrite::default().stack(&name), name);
    }

    #[test]
    fn micrographs_move_to_the_given_directory() {
        let moved = PathRewrite {
            strip_uid: true,
            micrograph_dir: Some("MotionCorr/job002/Movies/".into()),
        };
        assert_eq!(
            moved.micrograph(&format!(">J2/motion/{UID}_m1.mrc")),
            "MotionCorr/job002/Movies/m1.mrc"
        );
    }
}
