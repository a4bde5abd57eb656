//! Conversion between the bytes of an MRC data block and `f32` densities, for every readable
//! mode in either byte order (decode), and for the two written modes in little-endian (encode).

use half::f16;

use super::mode::Mode;

/// Byte order of the numbers in an MRC file (header and data share one order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first; machine stamp `0x44 0x44` (or `0x44 0x41`). All modern files.
    Little,
    /// Most significant byte first; machine stamp `0x11 0x11`. Old SGI/IBM files; read only.
    Big,
}

impl Endian {
    /// The MRC2014 machine stamp (word 54) for this byte order.
    pub fn machine_stamp(self) -> [u8; 4] {
        match self {
            Endian::Little => [0x44, 0x44, 0x00, 0x00],
            Endian::Big => [0x11, 0x11, 0x00, 0x00],
        }
    }

    /// The byte order a machine stamp declares, or `None` for an unrecognised stamp.
    pub fn from_machine_stamp(stamp: [u8; 4]) -> Option<Endian> {
        match stamp {
            [0x44, 0x44 | 0x41, ..] => Some(Endian::Little),
            [0x11, 0x11, ..] => Some(Endian::Big),
            _ => None,
        }
    }

    /// The other byte order.
    pub fn swapped(self) -> Endian {
        match self {
            Endian::Little => Endian::Big,
            Endian::Big => Endian::Little,
        }
    }

    pub(crate) fn i32(self, bytes: [u8; 4]) -> i32 {
        match self {
            Endian::Little => i32::from_le_bytes(bytes),
            Endian::Big => i32::from_be_bytes(bytes),
        }
    }

    pub(crate) fn f32(self, bytes: [u8; 4]) -> f32 {
        f32::from_bits(self.i32(bytes) as u32)
    }

    fn u16(self, bytes: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(bytes),
            Endian::Big => u16::from_be_bytes(bytes),
        }
    }

    pub(crate) fn i32_bytes(self, value: i32) -> [u8; 4] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    pub(crate) fn f32_bytes(self, value: f32) -> [u8; 4] {
        self.i32_bytes(value.to_bits() as i32)
    }
}

/// How the voxels of one file are stored: mode, byte order and (mode 0 only) signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Encoding {
    pub mode: Mode,
    pub endian: Endian,
    pub int8_signed: bool,
}

impl Encoding {
    /// Convert `dst.len()` voxels from `src` (exactly `dst.len() * bytes_per_voxel` bytes).
    pub fn decode(&self, src: &[u8], dst: &mut [f32]) {
        debug_assert_eq!(src.len(), dst.len() * self.mode.bytes_per_voxel());
        let endian = self.endian;
        match self.mode {
            Mode::Int8 if self.int8_signed => map(src, dst, |[b]: [u8; 1]| f32::from(b as i8)),
            Mode::Int8 => map(src, dst, |[b]: [u8; 1]| f32::from(b)),
            Mode::Int16 => map(src, dst, |b| f32::from(endian.u16(b) as i16)),
            Mode::Uint16 => map(src, dst, |b| f32::from(endian.u16(b))),
            Mode::Float16 => map(src, dst, |b| f16::from_bits(endian.u16(b)).to_f32()),
            Mode::Float32 => map(src, dst, |b| endian.f32(b)),
        }
    }
}

fn map<const N: usize>(src: &[u8], dst: &mut [f32], convert: impl Fn([u8; N]) -> f32) {
    let (words, _) = src.as_chunks::<N>();
    for (value, word) in dst.iter_mut().zip(words) {
        *value = convert(*word);
    }
}

/// The value `value` becomes once stored in `mode` (float16 rounds to nearest even).
pub(crate) fn stored_value(mode: Mode, value: f32) -> f32 {
    match mode {
        Mode::Float16 => f16::from_f32(value).to_f32(),
        _ => value,
    }
}

/// Append `values` to `out` as little-endian `mode` words. Only float modes are written.
pub(crate) fn encode_le(mode: Mode, values: &[f32], out: &mut Vec<u8>) {
    out.reserve(values.len() * mode.bytes_per_voxel());
    match mode {
        Mode::Float16 => out.extend(
            values
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_bits().to_le_bytes()),
        ),
        _ => out.extend(values.iter().flat_map(|&v| v.to_le_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(mode: Mode, endian: Endian, int8_signed: bool, src: &[u8]) -> Vec<f32> {
        let mut dst = vec![0.0; src.len() / mode.bytes_per_voxel()];
        Encoding {
            mode,
            endian,
            int8_signed,
        }
        .decode(src, &mut dst);
        dst
    }

    #[test]
    fn decodes_every_mode_in_both_orders() {
        use Endian::*;
        assert_eq!(
            decode(Mode::Int8, Little, true, &[0xff, 0x7f, 0x80]),
            [-1.0, 127.0, -128.0]
        );
        assert_eq!(
            decode(Mode::Int8, Little, false, &[0xff, 0x7f, 0x80]),
            [255.0, 127.0, 128.0]
        );
        assert_eq!(
            decode(Mode::Int16, Little, true, &[0xfe, 0xff, 0x00, 0x01]),
            [-2.0, 256.0]
        );
        assert_eq!(
            decode(Mode::Int16, Big, true, &[0xff, 0xfe, 0x01, 0x00]),
            [-2.0, 256.0]
        );
        assert_eq!(decode(Mode::Uint16, Little, true, &[0xfe, 0xff]), [65534.0]);
        assert_eq!(decode(Mode::Uint16, Big, true, &[0xff, 0xfe]), [65534.0]);
        let third = 1.0f32 / 3.0;
        assert_eq!(
            decode(Mode::Float32, Little, true, &third.to_le_bytes()),
            [third]
        );
        assert_eq!(
            decode(Mode::Float32, Big, true, &third.to_be_bytes()),
            [third]
        );
        let half = f16::from_f32(-1.5).to_bits();
        assert_eq!(
            decode(Mode::Float16, Little, true, &half.to_le_bytes()),
            [-1.5]
        );
        assert_eq!(
            decode(Mode::Float16, Big, true, &half.to_be_bytes()),
            [-1.5]
        );
    }

    #[test]
    fn encode_then_decode_is_the_stored_value() {
        let values = [0.1f32, -3.0, 1.0e4, 65504.0];
        for mode in [Mode::Float32, Mode::Float16] {
            let mut bytes = Vec::new();
            encode_le(mode, &values, &mut bytes);
            let back = decode(mode, Endian::Little, true, &bytes);
            let expected: Vec<f32> = values.iter().map(|&v| stored_value(mode, v)).collect();
            assert_eq!(back, expected, "{mode}");
        }
        assert_ne!(stored_value(Mode::Float16, 0.1), 0.1);
    }

    #[test]
    fn machine_stamps() {
        assert_eq!(
            Endian::from_machine_stamp([0x44, 0x41, 0, 0]),
            Some(Endian::Little)
        );
        assert_eq!(
            Endian::from_machine_stamp([0x11, 0x11, 0, 0]),
            Some(Endian::Big)
        );
        assert_eq!(Endian::from_machine_stamp([0, 0, 0, 0]), None);
        assert_eq!(
            Endian::from_machine_stamp(Endian::Big.machine_stamp()),
            Some(Endian::Big)
        );
        assert_eq!(Endian::Little.swapped(), Endian::Big);
    }
}
