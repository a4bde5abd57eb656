//! MRC data modes: how one voxel is stored on disk (MRC2014 word 4, `MODE`).
//!
//! cryoflux reads modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and 12 (IEEE float16) and
//! converts every voxel to `f32`; it writes modes 2 and 12 only. The complex modes 3 and 4 and
//! IMOD's packed 4-bit mode 101 are recognised (so the error says what the file is) but refused.

/// Storage type of one voxel in an MRC file. Values are densities in arbitrary units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Mode 0: 8-bit integer. MRC2014 says signed; see [`super::Header::int8_signed`].
    Int8,
    /// Mode 1: 16-bit signed integer.
    Int16,
    /// Mode 2: 32-bit IEEE float.
    Float32,
    /// Mode 6: 16-bit unsigned integer.
    Uint16,
    /// Mode 12: 16-bit IEEE float (binary16), RELION 4's `--float16` output.
    Float16,
}

impl Mode {
    /// Every mode cryoflux reads, in code order.
    pub const ALL: [Mode; 5] = [
        Mode::Int8,
        Mode::Int16,
        Mode::Float32,
        Mode::Uint16,
        Mode::Float16,
    ];

    /// The mode for MRC code `code`, or `None` when cryoflux cannot read it.
    pub fn from_code(code: i32) -> Option<Mode> {
        Mode::ALL.into_iter().find(|mode| mode.code() == code)
    }

    /// The MRC `MODE` number (0, 1, 2, 6 or 12).
    pub fn code(self) -> i32 {
        match self {
            Mode::Int8 => 0,
            Mode::Int16 => 1,
            Mode::Float32 => 2,
            Mode::Uint16 => 6,
            Mode::Float16 => 12,
        }
    }

    /// Bytes one voxel occupies on disk.
    pub fn bytes_per_voxel(self) -> usize {
        match self {
            Mode::Int8 => 1,
            Mode::Int16 | Mode::Uint16 | Mode::Float16 => 2,
            Mode::Float32 => 4,
        }
    }

    /// Short human name of the storage type: "int8", "int16", "float32", "uint16", "float16".
    pub fn name(self) -> &'static str {
        match self {
            Mode::Int8 => "int8",
            Mode::Int16 => "int16",
            Mode::Float32 => "float32",
            Mode::Uint16 => "uint16",
            Mode::Float16 => "float16",
        }
    }

    /// Whether voxels of this mode can hold NaN or infinity.
    pub fn is_float(self) -> bool {
        matches!(self, Mode::Float32 | Mode::Float16)
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mode {} ({})", self.code(), self.name())
    }
}

/// What a mode code that cryoflux refuses means, for the error message; `None` if the code is
/// not an MRC mode at all.
pub(crate) fn unsupported_mode_name(code: i32) -> Option<&'static str> {
    match code {
        3 => Some("complex int16"),
        4 => Some("complex float32"),
        101 => Some("packed 4-bit"),
        _ => None,
    }
}

/// The readable mode codes as text, for error messages.
pub(crate) const READABLE_CODES: &str = "0, 1, 2, 6 or 12";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for mode in Mode::ALL {
            assert_eq!(Mode::from_code(mode.code()), Some(mode));
        }
        for code in [-1, 3, 4, 5, 7, 101, 154285104] {
            assert_eq!(Mode::from_code(code), None, "code {code}");
        }
    }

    #[test]
    fn sizes_and_names() {
        assert_eq!(Mode::Float16.bytes_per_voxel(), 2);
        assert_eq!(Mode::Float32.bytes_per_voxel(), 4);
        assert_eq!(Mode::Int8.bytes_per_voxel(), 1);
        assert_eq!(Mode::Float16.to_string(), "mode 12 (float16)");
        assert!(Mode::Float16.is_float() && !Mode::Uint16.is_float());
        assert_eq!(unsupported_mode_name(4), Some("complex float32"));
        assert_eq!(unsupported_mode_name(7), None);
    }
}
