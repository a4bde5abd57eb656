//! Writing one cell as STAR token text, the inverse of [`super::lexer`] and [`super::cells`]:
//! numbers in their shortest form that reads back to the same value, text quoted whenever the
//! bare form would be misread.

use std::fmt::Write;

use super::lexer::is_blank;

/// Append `value` in the shortest decimal form that parses back to exactly `value`. Magnitudes
/// below 10⁻⁵ or from 10¹⁶ up use exponent notation (`1.5e-7`); others are plain decimals that
/// always carry a point (`300.0`), so that readers guessing types (Python `starfile`) see a
/// real number. Non-finite values are written `nan`, `inf`, `-inf`.
pub fn push_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
    } else if value != 0.0 && !(1e-5..1e16).contains(&value.abs()) {
        // Writing to a String cannot fail.
        let _ = write!(out, "{value:e}");
    } else {
        let start = out.len();
        let _ = write!(out, "{value}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

/// Append an integer.
pub fn push_int(out: &mut String, value: i64) {
    let _ = write!(out, "{value}");
}

/// Text that no STAR quoting can represent: it holds a line break, or both quote characters
/// in closing position (a quote followed by whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unwritable;

/// Append `text` as one token: bare when that reads back unchanged, otherwise in double quotes,
/// or single quotes when the text holds `"` followed by whitespace.
pub fn push_text(out: &mut String, text: &str) -> Result<(), Unwritable> {
    if text.contains(['\n', '\r']) {
        return Err(Unwritable);
    }
    if !needs_quotes(text) {
        out.push_str(text);
        return Ok(());
    }
    let quote = [b'"', b'\'']
        .into_iter()
        .find(|&quote| !closes_inside(text, quote))
        .ok_or(Unwritable)?;
    let quote = char::from(quote);
    out.push(quote);
    out.push_str(text);
    out.push(quote);
    Ok(())
}

/// True when some `quote` inside `text` is followed by whitespace, so it would end a token
/// quoted with that character too early.
fn closes_inside(text: &str, quote: u8) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|pair| pair[0] == quote && is_blank(pair[1]))
}

/// Whether bare `text` would be read back as something else: empty, containing whitespace or
/// `#` (a comment to Python `starfile`), starting like a label, a quote or a STAR text field,
/// or spelling a reserved word (`data_…`, `loop_`, `stop_`, `save_…`, `global_`).
fn needs_quotes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    if matches!(first, b'_' | b'"' | b'\'' | b';')
        || bytes.iter().any(|&b| is_blank(b) || b == b'#')
    {
        return true;
    }
    let head = &bytes[..bytes.len().min(5)];
    head.eq_ignore_ascii_case(b"data_")
        || head.eq_ignore_ascii_case(b"save_")
        || text.eq_ignore_ascii_case("loop_")
        || text.eq_ignore_ascii_case("stop_")
        || text.eq_ignore_ascii_case("global_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::star::lexer::Tokens;

    fn float(value: f64) -> String {
        let mut out = String::new();
        push_float(&mut out, value);
        out
    }

    fn text(value: &str) -> Result<String, Unwritable> {
        let mut out = String::new();
        push_text(&mut out, value).map(|()| out)
    }

    #[test]
    fn floats_are_shortest_with_a_point_or_exponent() {
        assert_eq!(float(300.0), "300.0");
        assert_eq!(float(15000.5), "15000.5");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(1.5e20), "1.5e20");
        assert_eq!(float(f64::NAN), "nan");
        assert_eq!(float(f64::NEG_INFINITY), "-inf");
        assert_eq!(
            float(f64::MIN_POSITIVE).parse::<f64>(),
            Ok(f64::MIN_POSITIVE)
        );
    }

    #[test]
    fn plain_text_stays_bare() {
        assert_eq!(
            text("000001@Particles/mic1.mrcs").unwrap(),
            "000001@Particles/mic1.mrcs"
        );
        assert_eq!(text("opticsGroup1").unwrap(), "opticsGroup1");
        assert_eq!(text("a'b\"c").unwrap(), "a'b\"c");
    }

    #[test]
    fn awkward_text_is_quoted_and_reads_back() {
        for value in [
            "",
            "a b",
            "x#y",
            "_rln",
            "data_x",
            "LOOP_",
            "'q",
            "\"q",
            ";x",
            "it\" s",
            "tab\there",
        ] {
            let written = text(value).unwrap();
            let tokens: Vec<_> = Tokens::new(&written).map(Result::unwrap).collect();
            assert_eq!(tokens.len(), 1, "{value:?} written as {written}");
            assert_eq!(tokens[0].text, value);
            assert!(tokens[0].quoted);
        }
    }

    #[test]
    fn unrepresentable_text_is_refused() {
        assert_eq!(text("two\nlines"), Err(Unwritable));
        assert_eq!(text("a\" b' c"), Err(Unwritable));
    }
}
