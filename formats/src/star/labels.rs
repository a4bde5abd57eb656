//! Registry of the RELION labels cryoflux understands: each label's value type and physical unit.
//! Labels not listed here are read and written as text, unchanged.

/// The kind of value a label holds, which decides the column type on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Real number.
    Float,
    /// Integer.
    Int,
    /// Text (names, paths, `N@stack.mrcs` references).
    Text,
}

/// What cryoflux knows about one RELION label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelInfo {
    /// The label without its leading underscore, e.g. `rlnDefocusU`.
    pub name: &'static str,
    /// The value type.
    pub kind: ValueKind,
    /// The physical unit, e.g. `Å`, `degrees`, `kV`, `mm`, `pixels`; empty when dimensionless.
    pub unit: &'static str,
    /// One line saying what the value means.
    pub meaning: &'static str,
}

/// Look up a label (without the leading underscore).
pub fn lookup(name: &str) -> Option<&'static LabelInfo> {
    LABELS.iter().find(|info| info.name == name)
}

/// The value kind of `name`: its registry entry's kind, or text for unknown labels.
pub fn kind_of(name: &str) -> ValueKind {
    lookup(name).map_or(ValueKind::Text, |info| info.kind)
}

/// Every label in the registry.
pub static LABELS: &[LabelInfo] = &[];
