//! RELION point-group symbols (`--sym`): parsing, case-insensitively, into [`PointGroup`].

use std::fmt;

use super::SymmetryError;

/// Largest n accepted in Cn, Dn, Sn, … (RELION reads at most two digits).
pub const MAX_FOLD: u32 = 99;

/// One of RELION's four implemented icosahedral settings (I5 is declared by RELION but not
/// implemented). They differ in how the icosahedron is oriented in the map frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcosahedralSetting {
    /// I1: 2-fold along x, "no-Crowther 222" (Heymann et al. 2005 standard).
    I1,
    /// I2 (also plain "I"): 2-fold along z, Crowther 222.
    I2,
    /// I3: 5-fold along z ("52" setting), 2-fold in the xz plane at negative x.
    I3,
    /// I4: another "52" setting, 2-fold in the xz plane at positive x.
    I4,
}

/// A point group with RELION's axis conventions (refine.md §6.1). `n` is the order of the
/// principal axis, always along map z; for Dn the 2-folds include the map x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointGroup {
    /// Cn: n-fold rotation about z (C1 = no symmetry).
    Cn(u32),
    /// Ci: inversion centre only.
    Ci,
    /// Cs: mirror plane ⟂ z only.
    Cs,
    /// Cnv: n-fold about z plus a mirror plane ⟂ y.
    Cnv(u32),
    /// Cnh: n-fold about z plus a mirror plane ⟂ z.
    Cnh(u32),
    /// Sn (n even): RELION generates it from an (n/2)-fold about z plus inversion.
    Sn(u32),
    /// Dn: n-fold about z plus a 2-fold about x.
    Dn(u32),
    /// Dnv: Dn plus a mirror plane ⟂ x.
    Dnv(u32),
    /// Dnh: Dn plus a mirror plane ⟂ z.
    Dnh(u32),
    /// T: tetrahedral, 3-fold about z.
    T,
    /// Td: T plus a mirror plane.
    Td,
    /// Th: T (2-fold mirrored through the origin) plus inversion.
    Th,
    /// O: octahedral, 4-fold about z, 3-fold about (1, 1, 1).
    O,
    /// Oh: O plus a mirror plane ⟂ (0, 1, 1).
    Oh,
    /// I, I1–I4: icosahedral (60 rotations) in the given setting.
    I(IcosahedralSetting),
    /// Ih, I1h–I4h: icosahedral plus a mirror plane (120 operators).
    Ih(IcosahedralSetting),
}

impl PointGroup {
    /// Parses a RELION symmetry symbol, case-insensitively, ignoring surrounding white space:
    /// C1, Cn, Ci, Cs, Cnv, Cnh, Sn (n even), Dn, Dnv, Dnh, T, Td, Th, O, Oh, I, I1–I4, Ih,
    /// I1h–I4h, with 1 ≤ n ≤ 99.
    pub fn parse(symbol: &str) -> Result<Self, SymmetryError> {
        let trimmed = symbol.trim();
        let upper = trimmed.to_ascii_uppercase();
        let unknown = || SymmetryError::UnknownSymmetry(trimmed.to_string());
        let fixed = match upper.as_str() {
            "CI" => Some(Self::Ci),
            "CS" => Some(Self::Cs),
            "T" => Some(Self::T),
            "TD" => Some(Self::Td),
            "TH" => Some(Self::Th),
            "O" => Some(Self::O),
            "OH" => Some(Self::Oh),
            "I" | "I2" => Some(Self::I(IcosahedralSetting::I2)),
            "I1" => Some(Self::I(IcosahedralSetting::I1)),
            "I3" => Some(Self::I(IcosahedralSetting::I3)),
            "I4" => Some(Self::I(IcosahedralSetting::I4)),
            "IH" | "I2H" => Some(Self::Ih(IcosahedralSetting::I2)),
            "I1H" => Some(Self::Ih(IcosahedralSetting::I1)),
            "I3H" => Some(Self::Ih(IcosahedralSetting::I3)),
            "I4H" => Some(Self::Ih(IcosahedralSetting::I4)),
            "I5" | "I5H" => {
                return Err(SymmetryError::Unsupported {
                    symbol: trimmed.to_string(),
                    reason: "RELION declares the I5 setting but does not implement it",
                });
            }
            _ => None,
        };
        if let Some(group) = fixed {
            return Ok(group);
        }
        let mut chars = upper.chars();
        let family = chars.next().ok_or_else(unknown)?;
        let rest = chars.as_str();
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, suffix) = rest.split_at(digits_end);
        if digits.is_empty() || digits.len() > 2 {
            return Err(unknown());
        }
        let n: u32 = digits.parse().map_err(|_| unknown())?;
        if n == 0 || n > MAX_FOLD {
            return Err(SymmetryError::Unsupported {
                symbol: trimmed.to_string(),
                reason: "the rotation order n must be between 1 and 99",
            });
        }
        let group = match (family, suffix) {
            ('C', "") => Self::Cn(n),
            ('C', "V") => Self::Cnv(n),
            ('C', "H") => Self::Cnh(n),
            ('D', "") => Self::Dn(n),
            ('D', "V") => Self::Dnv(n),
            ('D', "H") => Self::Dnh(n),
            ('S', "") if n.is_multiple_of(2) => Self::Sn(n),
            ('S', "") => {
                return Err(SymmetryError::Unsupported {
                    symbol: trimmed.to_string(),
                    reason: "Sn needs an even n",
                });
            }
            _ => return Err(unknown()),
        };
        Ok(group)
    }

    /// Number of operators in the group, identity included (RELION's closure gives this many).
    pub fn order(self) -> usize {
        match self {
            Self::Cn(n) | Self::Sn(n) => n as usize,
            Self::Ci | Self::Cs => 2,
            Self::Cnv(n) | Self::Cnh(n) | Self::Dn(n) => 2 * n as usize,
            Self::Dnv(n) | Self::Dnh(n) => 4 * n as usize,
            Self::T => 12,
            Self::Td | Self::Th | Self::O => 24,
            Self::Oh => 48,
            Self::I(_) => 60,
            Self::Ih(_) => 120,
        }
    }

    /// True for the trivial group C1.
    pub fn is_c1(self) -> bool {
        self == Self::Cn(1)
    }
}

impl fmt::Display for IcosahedralSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digit = match self {
            Self::I1 => 1,
            Self::I2 => 2,
            Self::I3 => 3,
            Self::I4 => 4,
        };
        write!(f, "I{digit}")
    }
}

/// Canonical RELION spelling, e.g. `C4`, `D2h`, `I2`, `I3h` (plain "I" prints as `I2`).
impl fmt::Display for PointGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cn(n) => write!(f, "C{n}"),
            Self::Ci => f.write_str("Ci"),
            Self::Cs => f.write_str("Cs"),
            Self::Cnv(n) => write!(f, "C{n}v"),
            Self::Cnh(n) => write!(f, "C{n}h"),
            Self::Sn(n) => write!(f, "S{n}"),
            Self::Dn(n) => write!(f, "D{n}"),
            Self::Dnv(n) => write!(f, "D{n}v"),
            Self::Dnh(n) => write!(f, "D{n}h"),
            Self::T => f.write_str("T"),
            Self::Td => f.write_str("Td"),
            Self::Th => f.write_str("Th"),
            Self::O => f.write_str("O"),
            Self::Oh => f.write_str("Oh"),
            Self::I(setting) => write!(f, "{setting}"),
            Self::Ih(setting) => write!(f, "{setting}h"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_families_case_insensitively() {
        let cases = [
            ("c1", PointGroup::Cn(1)),
            (" C12 ", PointGroup::Cn(12)),
            ("ci", PointGroup::Ci),
            ("Cs", PointGroup::Cs),
            ("c3V", PointGroup::Cnv(3)),
            ("C2h", PointGroup::Cnh(2)),
            ("s4", PointGroup::Sn(4)),
            ("D7", PointGroup::Dn(7)),
            ("d2v", PointGroup::Dnv(2)),
            ("D3H", PointGroup::Dnh(3)),
            ("t", PointGroup::T),
            ("Td", PointGroup::Td),
            ("TH", PointGroup::Th),
            ("o", PointGroup::O),
            ("Oh", PointGroup::Oh),
            ("I", PointGroup::I(IcosahedralSetting::I2)),
            ("i1", PointGroup::I(IcosahedralSetting::I1)),
            ("I3", PointGroup::I(IcosahedralSetting::I3)),
            ("I4", PointGroup::I(IcosahedralSetting::I4)),
            ("ih", PointGroup::Ih(IcosahedralSetting::I2)),
            ("I1h", PointGroup::Ih(IcosahedralSetting::I1)),
        ];
        for (symbol, expected) in cases {
            assert_eq!(PointGroup::parse(symbol).unwrap(), expected, "{symbol}");
        }
    }

    #[test]
    fn display_round_trips() {
        for symbol in [
            "C1", "C13", "Ci", "Cs", "C4v", "C2h", "S6", "D5", "D2v", "D3h", "T", "Td",
        ] {
            let group = PointGroup::parse(symbol).unwrap();
            assert_eq!(group.to_string(), symbol);
            assert_eq!(PointGroup::parse(&group.to_string()).unwrap(), group);
        }
        assert_eq!(PointGroup::parse("i").unwrap().to_string(), "I2");
        assert_eq!(PointGroup::parse("i4H").unwrap().to_string(), "I4h");
    }

    #[test]
    fn rejects_bad_symbols_with_helpful_messages() {
        for bad in [
            "X7", "", "C", "C0", "C100", "D2x", "S3", "I5", "I6", "Q", "C-2", "Oh1",
        ] {
            let err = PointGroup::parse(bad).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(bad.trim()), "{bad}: {message}");
        }
        let message = PointGroup::parse("X7").unwrap_err().to_string();
        assert!(
            message.contains("Dnh") && message.contains("I1h"),
            "{message}"
        );
        assert!(matches!(
            PointGroup::parse("S3"),
            Err(SymmetryError::Unsupported { .. })
        ));
        assert!(matches!(
            PointGroup::parse("X7"),
            Err(SymmetryError::UnknownSymmetry(s)) if s == "X7"
        ));
    }
}
