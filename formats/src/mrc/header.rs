//! The 1024-byte MRC2014 main header: parsing (either byte order, with checks that name the bad
//! field) and encoding.
//!
//! Layout, by byte offset: NX,NY,NZ 0; MODE 12; NXSTART.. 16; MX,MY,MZ 28; CELLA (Å) 40;
//! CELLB (degrees) 52; MAPC,MAPR,MAPS 64; DMIN,DMAX,DMEAN 76; ISPG 88; NSYMBT 92; EXTRA 96–195
//! (EXTTYP 104, NVERSION 108, IMOD stamp 152 and flags 156); ORIGIN (Å) 196; `MAP ` 208;
//! MACHST 212; RMS 216; NLABL 220; ten 80-byte labels 224–1023. Other EXTRA bytes are not kept.

use std::path::Path;

use super::codec::Endian;
use super::mode::{Mode, READABLE_CODES, unsupported_mode_name};
use super::stats::Stats;
use crate::error::{Error, Result};

/// Length of the MRC main header in bytes.
pub const HEADER_LEN: usize = 1024;
/// Largest NX, NY or NZ accepted; anything larger is taken for a corrupt or non-MRC header.
pub const MAX_DIM: usize = 1 << 24;
/// `NVERSION` of files following MRC2014 as published (year·10 + revision).
pub const MRC2014_VERSION: i32 = 20140;

const LABEL_LEN: usize = 80;
const MAX_LABELS: usize = 10;
/// The format stamp at byte 208 of every MRC2014 file.
pub(crate) const MAP_STAMP: [u8; 4] = *b"MAP ";
/// IMOD writes this at byte 152 and flags at 156; flag bit 0 set means mode-0 bytes are signed.
const IMOD_STAMP: i32 = 1146047817;
const IMOD_SIGNED_BYTES: i32 = 1;

/// Byte offsets of the header words.
mod at {
    pub const SIZE: usize = 0;
    pub const MODE: usize = 12;
    pub const START: usize = 16;
    pub const SAMPLING: usize = 28;
    pub const CELL_LENGTHS: usize = 40;
    pub const CELL_ANGLES: usize = 52;
    pub const AXIS_MAP: usize = 64;
    pub const DMIN: usize = 76;
    pub const DMAX: usize = 80;
    pub const DMEAN: usize = 84;
    pub const ISPG: usize = 88;
    pub const NSYMBT: usize = 92;
    pub const EXTTYP: usize = 104;
    pub const NVERSION: usize = 108;
    pub const IMOD_STAMP: usize = 152;
    pub const IMOD_FLAGS: usize = 156;
    pub const ORIGIN: usize = 196;
    pub const MAP: usize = 208;
    pub const MACHST: usize = 212;
    pub const RMS: usize = 216;
    pub const NLABL: usize = 220;
    pub const LABELS: usize = 224;
}

/// The MRC2014 main header, decoded to host numbers. Field names follow the specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Byte order of the file (from the machine stamp, or detected when the stamp is missing).
    pub endian: Endian,
    /// NX, NY, NZ: number of columns, rows and sections, fastest to slowest in the file (voxels).
    /// Which of X, Y, Z each is depends on [`Header::axis_map`]; for stacks NZ is the image count.
    pub size: [usize; 3],
    /// MODE: storage type of each voxel.
    pub mode: Mode,
    /// NXSTART, NYSTART, NZSTART: index of the first column/row/section in the unit cell (voxels).
    pub start: [i32; 3],
    /// MX, MY, MZ: number of sampling intervals along X, Y, Z of the unit cell (voxels).
    pub sampling: [i32; 3],
    /// CELLA: unit-cell lengths along X, Y, Z in Å.
    pub cell_lengths: [f32; 3],
    /// CELLB: unit-cell angles α, β, γ in degrees (90 for EM maps).
    pub cell_angles: [f32; 3],
    /// MAPC, MAPR, MAPS: which axis (1 = X, 2 = Y, 3 = Z) the columns, rows, sections run along.
    pub axis_map: [u8; 3],
    /// DMIN: minimum density as recorded in the header (may be stale or "unset" in other files).
    pub dmin: f32,
    /// DMAX: maximum density as recorded.
    pub dmax: f32,
    /// DMEAN: mean density as recorded.
    pub dmean: f32,
    /// ISPG: space group; 0 for image stacks, 1 for single volumes, 401–630 for volume stacks.
    pub ispg: i32,
    /// NSYMBT: length of the extended header that follows the main header, in bytes.
    pub nsymbt: usize,
    /// EXTTYP: four-character type of the extended header (`FEI1`, `SERI`, …), zero bytes if none.
    pub exttyp: [u8; 4],
    /// NVERSION: format version, 20140 or 20141 for MRC2014 files, often 0 in older ones.
    pub nversion: i32,
    /// Whether mode-0 bytes are signed. MRC2014 says signed; old IMOD files are unsigned and say
    /// so by carrying IMOD's stamp (byte 152) with flag bit 0 clear. Only that case reads unsigned.
    pub int8_signed: bool,
    /// ORIGIN: physical position of voxel (0,0,0) in Å along X, Y, Z.
    pub origin: [f32; 3],
    /// MAP: the format stamp, `MAP ` in conforming files.
    pub map_stamp: [u8; 4],
    /// MACHST: the machine stamp as found (`0x44 0x44 0 0` little-endian, `0x11 0x11 0 0` big).
    pub machine_stamp: [u8; 4],
    /// RMS: standard deviation of the densities about their mean, as recorded; negative = unset.
    pub rms: f32,
    /// Text labels (at most ten of 80 characters), trailing blanks removed.
    pub labels: Vec<String>,
}

impl Header {
    /// Parse the main header at the start of `bytes`, the contents of `path` (used in errors).
    ///
    /// The byte order is the machine stamp's; when the stamp is missing or contradicted by the
    /// header (MODE and NX/NY/NZ insane in that order but sane swapped) the other order is used.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Header> {
        let Some(raw) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(Error::binary(
                path,
                format!(
                    "file is {} bytes long, shorter than the {HEADER_LEN}-byte MRC header; \
                     not an MRC file or truncated",
                    bytes.len()
                ),
            ));
        };
        let endian = detect_endian(raw, path)?;
        let word = Words { raw, endian };
        let size = word.dims(path)?;
        let mode = word.mode(path)?;
        let axis_map = word.axis_map(path)?;
        let nsymbt = usize::try_from(word.i32(at::NSYMBT)).map_err(|_| {
            Error::binary(
                path,
                format!(
                    "NSYMBT (extended header length) = {}, expected 0 or a positive number of bytes",
                    word.i32(at::NSYMBT)
                ),
            )
        })?;
        let imod_flags = (word.i32(at::IMOD_STAMP) == IMOD_STAMP).then(|| word.i32(at::IMOD_FLAGS));
        Ok(Header {
            endian,
            size,
            mode,
            start: word.i32x3(at::START),
            sampling: word.i32x3(at::SAMPLING),
            cell_lengths: word.f32x3(at::CELL_LENGTHS),
            cell_angles: word.f32x3(at::CELL_ANGLES),
            axis_map,
            dmin: word.f32(at::DMIN),
            dmax: word.f32(at::DMAX),
            dmean: word.f32(at::DMEAN),
            ispg: word.i32(at::ISPG),
            nsymbt,
            exttyp: word.bytes(at::EXTTYP),
            nversion: word.i32(at::NVERSION),
            int8_signed: imod_flags.is_none_or(|flags| flags & IMOD_SIGNED_BYTES != 0),
            origin: word.f32x3(at::ORIGIN),
            map_stamp: word.bytes(at::MAP),
            machine_stamp: word.bytes(at::MACHST),
            rms: word.f32(at::RMS),
            labels: word.labels(),
        })
    }

    /// Encode the header as 1024 bytes in its own byte order. Labels beyond ten are dropped and
    /// each is cut to 80 bytes; an unsigned-int8 header carries IMOD's stamp to say so.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let e = self.endian;
        let mut put_i32 =
            |offset: usize, v: i32| out[offset..offset + 4].copy_from_slice(&e.i32_bytes(v));
        for axis in 0..3 {
            put_i32(at::SIZE + 4 * axis, self.size[axis] as i32);
            put_i32(at::START + 4 * axis, self.start[axis]);
            put_i32(at::SAMPLING + 4 * axis, self.sampling[axis]);
            put_i32(at::AXIS_MAP + 4 * axis, i32::from(self.axis_map[axis]));
        }
        put_i32(at::MODE, self.mode.code());
        put_i32(at::ISPG, self.ispg);
        put_i32(at::NSYMBT, self.nsymbt as i32);
        put_i32(at::NVERSION, self.nversion);
        if self.mode == Mode::Int8 && !self.int8_signed {
            put_i32(at::IMOD_STAMP, IMOD_STAMP);
        }
        let labels = &self.labels[..self.labels.len().min(MAX_LABELS)];
        put_i32(at::NLABL, labels.len() as i32);
        let mut put_f32 =
            |offset: usize, v: f32| out[offset..offset + 4].copy_from_slice(&e.f32_bytes(v));
        for axis in 0..3 {
            put_f32(at::CELL_LENGTHS + 4 * axis, self.cell_lengths[axis]);
            put_f32(at::CELL_ANGLES + 4 * axis, self.cell_angles[axis]);
            put_f32(at::ORIGIN + 4 * axis, self.origin[axis]);
        }
        put_f32(at::DMIN, self.dmin);
        put_f32(at::DMAX, self.dmax);
        put_f32(at::DMEAN, self.dmean);
        put_f32(at::RMS, self.rms);
        out[at::EXTTYP..at::EXTTYP + 4].copy_from_slice(&self.exttyp);
        out[at::MAP..at::MAP + 4].copy_from_slice(&self.map_stamp);
        out[at::MACHST..at::MACHST + 4].copy_from_slice(&self.machine_stamp);
        for (i, label) in labels.iter().enumerate() {
            let start = at::LABELS + i * LABEL_LEN;
            let text = &label.as_bytes()[..label.len().min(LABEL_LEN)];
            out[start..start + LABEL_LEN].fill(b' ');
            out[start..start + text.len()].copy_from_slice(text);
        }
        out
    }

    /// Voxel size along X, Y, Z in Å: cell length / sampling intervals. An axis whose MX/MY/MZ
    /// or cell length is zero, negative or not finite reports 0.0, meaning "not recorded".
    pub fn voxel_size(&self) -> [f32; 3] {
        std::array::from_fn(|axis| {
            let (cell, intervals) = (self.cell_lengths[axis], self.sampling[axis]);
            if intervals > 0 && cell.is_finite() && cell > 0.0 {
                cell / intervals as f32
            } else {
                0.0
            }
        })
    }

    /// The density statistics recorded in the header (DMIN, DMAX, DMEAN, RMS), unchecked.
    pub fn stats(&self) -> Stats {
        Stats {
            min: self.dmin,
            max: self.dmax,
            mean: self.dmean,
            rms: self.rms,
        }
    }

    /// Number of voxels in the data block (NX·NY·NZ), or `None` if it overflows `u64`.
    pub fn voxel_count(&self) -> Option<u64> {
        self.size
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
    }
}

/// Reads header words in one byte order.
struct Words<'a> {
    raw: &'a [u8; HEADER_LEN],
    endian: Endian,
}

impl Words<'_> {
    fn bytes(&self, offset: usize) -> [u8; 4] {
        [
            self.raw[offset],
            self.raw[offset + 1],
            self.raw[offset + 2],
            self.raw[offset + 3],
        ]
    }

    fn i32(&self, offset: usize) -> i32 {
        self.endian.i32(self.bytes(offset))
    }

    fn f32(&self, offset: usize) -> f32 {
        self.endian.f32(self.bytes(offset))
    }

    fn i32x3(&self, offset: usize) -> [i32; 3] {
        std::array::from_fn(|axis| self.i32(offset + 4 * axis))
    }

    fn f32x3(&self, offset: usize) -> [f32; 3] {
        std::array::from_fn(|axis| self.f32(offset + 4 * axis))
    }

    fn dims(&self, path: &Path) -> Result<[usize; 3]> {
        let raw = self.i32x3(at::SIZE);
        let mut size = [0usize; 3];
        for (axis, name) in ["NX", "NY", "NZ"].into_iter().enumerate() {
            size[axis] = usize::try_from(raw[axis])
                .ok()
                .filter(|&d| (1..=MAX_DIM).contains(&d))
                .ok_or_else(|| {
                    Error::binary(
                        path,
                        format!(
                            "{name} = {} ({} byte order), expected a size between 1 and {MAX_DIM}; \
                             header NX, NY, NZ = {}, {}, {}",
                            raw[axis],
                            endian_name(self.endian),
                            raw[0],
                            raw[1],
                            raw[2]
                        ),
                    )
                })?;
        }
        Ok(size)
    }

    fn mode(&self, path: &Path) -> Result<Mode> {
        let code = self.i32(at::MODE);
        Mode::from_code(code).ok_or_else(|| {
            let what = match unsupported_mode_name(code) {
                Some(name) => format!("MRC mode {code} ({name}) is not supported"),
                None => format!("unknown MRC mode {code}"),
            };
            Error::binary(
                path,
                format!("{what}; cryoflux reads modes {READABLE_CODES}"),
            )
        })
    }

    fn axis_map(&self, path: &Path) -> Result<[u8; 3]> {
        let raw = self.i32x3(at::AXIS_MAP);
        let mut sorted = raw;
        sorted.sort_unstable();
        if sorted != [1, 2, 3] {
            return Err(Error::binary(
                path,
                format!(
                    "MAPC, MAPR, MAPS = {}, {}, {}, expected a permutation of 1, 2, 3",
                    raw[0], raw[1], raw[2]
                ),
            ));
        }
        Ok(raw.map(|a| a as u8))
    }

    fn labels(&self) -> Vec<String> {
        let count = self.i32(at::NLABL).clamp(0, MAX_LABELS as i32) as usize;
        self.raw[at::LABELS..]
            .chunks_exact(LABEL_LEN)
            .take(count)
            .map(|label| {
                String::from_utf8_lossy(label)
                    .trim_end_matches([' ', '\0'])
                    .to_owned()
            })
            .collect()
    }

    /// Whether MODE and NX/NY/NZ are plausible in this byte order.
    fn look_sane(&self) -> bool {
        let code = self.i32(at::MODE);
        let known = Mode::from_code(code).is_some() || unsupported_mode_name(code).is_some();
        known
            && self
                .i32x3(at::SIZE)
                .iter()
                .all(|&d| d > 0 && d as usize <= MAX_DIM)
    }
}

fn endian_name(endian: Endian) -> &'static str {
    match endian {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    }
}

/// The byte order of the header: the machine stamp's if the header is sane in it, else whichever
/// order makes it sane. A file with neither a sane header nor MRC stamps is "not an MRC file";
/// one with stamps but a bad header gets the specific field errors in the stamped order.
fn detect_endian(raw: &[u8; HEADER_LEN], path: &Path) -> Result<Endian> {
    let stamp = [
        raw[at::MACHST],
        raw[at::MACHST + 1],
        raw[at::MACHST + 2],
        raw[at::MACHST + 3],
    ];
    let stamped = Endian::from_machine_stamp(stamp);
    let preferred = stamped.unwrap_or(Endian::Little);
    for endian in [preferred, preferred.swapped()] {
        if (Words { raw, endian }).look_sane() {
            return Ok(endian);
        }
    }
    if stamped.is_some() || raw[at::MAP..at::MAP + 4] == MAP_STAMP {
        return Ok(preferred);
    }
    let word = Words {
        raw,
        endian: Endian::Little,
    };
    let size = word.i32x3(at::SIZE);
    Err(Error::binary(
        path,
        format!(
            "not an MRC file: no 'MAP ' stamp, machine stamp {:02x} {:02x} {:02x} {:02x} \
             (expected 44 44 00 00 or 11 11 00 00), and MODE = {}, NX, NY, NZ = {}, {}, {} \
             are implausible in either byte order (expected MODE {READABLE_CODES} and sizes 1..={MAX_DIM})",
            stamp[0],
            stamp[1],
            stamp[2],
            stamp[3],
            word.i32(at::MODE),
            size[0],
            size[1],
            size[2]
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(endian: Endian) -> Header {
        Header {
            endian,
            size: [4, 3, 2],
            mode: Mode::Float32,
            start: [-2, 0, 5],
            sampling: [4, 3, 2],
            cell_lengths: [6.0, 4.5, 3.0],
            cell_angles: [90.0, 90.0, 90.0],
            axis_map: [2, 1, 3],
            dmin: -1.0,
            dmax: 2.0,
            dmean: 0.25,
            ispg: 1,
            nsymbt: 0,
            exttyp: *b"MRCO",
            nversion: MRC2014_VERSION,
            int8_signed: true,
            origin: [1.0, -2.0, 3.5],
            map_stamp: MAP_STAMP,
            machine_stamp: endian.machine_stamp(),
            rms: 0.75,
            labels: vec!["cryoflux".into(), "second label".into()],
        }
    }

    fn parse(bytes: &[u8]) -> Result<Header> {
        Header::parse(bytes, Path::new("x.mrc"))
    }

    fn message(result: Result<Header>) -> String {
        result.expect_err("expected an error").to_string()
    }

    #[test]
    fn round_trips_in_both_byte_orders() {
        for endian in [Endian::Little, Endian::Big] {
            let header = sample(endian);
            assert_eq!(parse(&header.to_bytes()).unwrap(), header);
        }
    }

    #[test]
    fn known_offsets() {
        let bytes = sample(Endian::Little).to_bytes();
        assert_eq!(&bytes[208..212], b"MAP ");
        assert_eq!(&bytes[212..216], &[0x44, 0x44, 0, 0]);
        assert_eq!(
            i32::from_le_bytes(bytes[108..112].try_into().unwrap()),
            20140
        );
        assert_eq!(i32::from_le_bytes(bytes[12..16].try_into().unwrap()), 2);
        assert_eq!(&bytes[224..232], b"cryoflux");
        assert_eq!(bytes[232], b' ');
    }

    #[test]
    fn voxel_size_is_cell_over_sampling() {
        let mut header = sample(Endian::Little);
        assert_eq!(header.voxel_size(), [1.5, 1.5, 1.5]);
        header.sampling[2] = 0;
        header.cell_lengths[1] = f32::NAN;
        assert_eq!(header.voxel_size(), [1.5, 0.0, 0.0]);
    }

    #[test]
    fn missing_stamp_falls_back_to_detected_order() {
        let mut header = sample(Endian::Big);
        header.machine_stamp = [0; 4];
        assert_eq!(parse(&header.to_bytes()).unwrap().endian, Endian::Big);
        // A wrong stamp is overruled when the header only makes sense the other way round.
        header.machine_stamp = Endian::Little.machine_stamp();
        assert_eq!(parse(&header.to_bytes()).unwrap().endian, Endian::Big);
    }

    #[test]
    fn unsigned_bytes_need_the_imod_stamp() {
        let mut header = sample(Endian::Little);
        header.mode = Mode::Int8;
        header.int8_signed = false;
        let bytes = header.to_bytes();
        assert_eq!(
            i32::from_le_bytes(bytes[152..156].try_into().unwrap()),
            IMOD_STAMP
        );
        assert!(!parse(&bytes).unwrap().int8_signed);
        let mut signed = bytes;
        signed[156] = 1;
        assert!(parse(&signed).unwrap().int8_signed);
        signed[152..160].fill(0);
        assert!(
            parse(&signed).unwrap().int8_signed,
            "no IMOD stamp: MRC2014 says signed"
        );
    }

    #[test]
    fn short_file() {
        let err = message(parse(&[0u8; 100]));
        assert!(
            err.contains("x.mrc") && err.contains("100 bytes") && err.contains("1024"),
            "{err}"
        );
    }

    #[test]
    fn unknown_and_unsupported_modes() {
        let mut bytes = sample(Endian::Little).to_bytes();
        bytes[12] = 7;
        let err = message(parse(&bytes));
        assert!(
            err.contains("unknown MRC mode 7") && err.contains("0, 1, 2, 6 or 12"),
            "{err}"
        );
        bytes[12] = 4;
        assert!(message(parse(&bytes)).contains("mode 4 (complex float32) is not supported"));
    }

    #[test]
    fn nonsense_dims() {
        for (offset, value, name) in [
            (0, 0i32, "NX = 0"),
            (4, -5, "NY = -5"),
            (8, 1 << 25, "NZ = 33554432"),
        ] {
            let mut bytes = sample(Endian::Little).to_bytes();
            bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
            let err = message(parse(&bytes));
            assert!(
                err.contains(name) && err.contains("expected a size between 1"),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_axis_map_and_extended_header_length() {
        let mut bytes = sample(Endian::Little).to_bytes();
        bytes[64] = 3;
        assert!(message(parse(&bytes)).contains("MAPC, MAPR, MAPS = 3, 1, 3"));
        let mut bytes = sample(Endian::Little).to_bytes();
        bytes[92..96].copy_from_slice(&(-8i32).to_le_bytes());
        assert!(message(parse(&bytes)).contains("NSYMBT (extended header length) = -8"));
    }

    #[test]
    fn non_mrc_file() {
        let text = b"data_optics\nloop_\n_rlnOpticsGroup #1\n".repeat(40);
        let err = message(parse(&text));
        assert!(err.starts_with("x.mrc: not an MRC file"), "{err}");
    }
}
