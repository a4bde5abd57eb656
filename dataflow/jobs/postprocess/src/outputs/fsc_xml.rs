//! The FSC curve as the EMDB deposition system takes it (`*_fsc.xml`): a root
//! `<fsc title=… xaxis="Resolution (A-1)" yaxis="Correlation Coefficient">` holding one
//! `<coordinate><x>spatial frequency, Å⁻¹</x><y>FSC</y></coordinate>` per shell, in the layout
//! `relion_postprocess` writes (shell 0 at 1/999 Å⁻¹).

use std::fmt::Write;

/// The XML document for `curve` (one value per shell) at spatial frequencies `frequency`
/// (Å⁻¹), under the plot title `title`.
pub fn fsc_xml(title: &str, frequency: &[f64], curve: &[f64]) -> String {
    let mut xml = format!(
        "<fsc title=\"{}\" xaxis=\"Resolution (A-1)\" yaxis=\"Correlation Coefficient\">\n",
        escape(title)
    );
    for (x, y) in frequency.iter().zip(curve) {
        // Writing to a String cannot fail.
        let _ = write!(
            xml,
            "  <coordinate>\n    <x>{}</x>\n    <y>{}</y>\n  </coordinate>\n",
            significant(*x),
            significant(*y)
        );
    }
    xml.push_str("</fsc>\n");
    xml
}

/// `value` rounded to 6 significant digits (what RELION's C++ streams print), written in
/// Rust's shortest form.
fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(5 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_relion() {
        let xml = fsc_xml(
            "a \"b\" & c",
            &[1.0 / 999.0, 0.0115740740],
            &[1.0, 0.99999412],
        );
        let expected = "<fsc title=\"a &quot;b&quot; &amp; c\" xaxis=\"Resolution (A-1)\" \
                        yaxis=\"Correlation Coefficient\">\n  <coordinate>\n    <x>0.001001</x>\n    \
                        <y>1</y>\n  </coordinate>\n  <coordinate>\n    <x>0.0115741</x>\n    \
                        <y>0.999994</y>\n  </coordinate>\n</fsc>\n";
        assert_eq!(xml, expected);
        assert_eq!(significant(-0.0241730), -0.024173);
    }
}
