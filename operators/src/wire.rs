//! Serde encodings of kernel types that cross process boundaries in a multi-process run
//! (timely serialises every exchanged or broadcast record with bincode; within one process it
//! hands typed values between threads and never calls these functions). The round trips are
//! tested with the records that carry these types (`refine::records`).

/// `#[serde(with = "crate::wire::backprojector")]` for a `BackProjector` field: its layout
/// (box N in pixels, pixel size in Å, padding, r_max in unpadded shells, interpolation) and its
/// accumulated values in storage order, rebuilt with `BackProjector::from_parts`. Values are
/// written from the accumulators in place (no copy of the grids on the sending side).
pub mod backprojector {
    use cryoflux_kernels::fourier::backprojector::{BackProjector, BackProjectorOptions};
    use cryoflux_kernels::grid::{Complex64, Interpolation};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    /// What is sent, borrowing the accumulators.
    #[derive(Serialize)]
    struct Outgoing<'a> {
        ori_size: usize,
        pixel_size: f64,
        padding: usize,
        r_max: usize,
        nearest_neighbour: bool,
        data: Interleaved<'a>,
        weight: &'a [f64],
    }

    /// What is received; `data` interleaves real and imaginary parts.
    #[derive(Deserialize)]
    struct Incoming {
        ori_size: usize,
        pixel_size: f64,
        padding: usize,
        r_max: usize,
        nearest_neighbour: bool,
        data: Vec<f64>,
        weight: Vec<f64>,
    }

    /// Complex values as one sequence re₀, im₀, re₁, im₁, …
    struct Interleaved<'a>(&'a [Complex64]);

    impl Serialize for Interleaved<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(2 * self.0.len()))?;
            for c in self.0 {
                seq.serialize_element(&c.re)?;
                seq.serialize_element(&c.im)?;
            }
            seq.end()
        }
    }

    /// Writes the layout and the accumulated values of `bp`.
    pub fn serialize<S: Serializer>(bp: &BackProjector, serializer: S) -> Result<S::Ok, S::Error> {
        Outgoing {
            ori_size: bp.geometry().ori_size,
            pixel_size: bp.geometry().pixel_size,
            padding: bp.geometry().padding,
            r_max: bp.geometry().r_max,
            nearest_neighbour: bp.geometry().interpolation == Interpolation::NearestNeighbour,
            data: Interleaved(bp.data().data()),
            weight: bp.weight().data(),
        }
        .serialize(serializer)
    }

    /// Reads what [`serialize`] wrote; fails on an invalid layout or wrong value counts.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BackProjector, D::Error> {
        let parts = Incoming::deserialize(deserializer)?;
        if parts.data.len() % 2 != 0 {
            return Err(de::Error::custom(format!(
                "backprojector data: {} numbers; expected (re, im) pairs",
                parts.data.len()
            )));
        }
        let data: Vec<Complex64> = parts
            .data
            .chunks_exact(2)
            .map(|c| Complex64::new(c[0], c[1]))
            .collect();
        let options = BackProjectorOptions {
            padding: parts.padding,
            r_max: Some(parts.r_max),
            interpolation: if parts.nearest_neighbour {
                Interpolation::NearestNeighbour
            } else {
                Interpolation::Trilinear
            },
        };
        BackProjector::from_parts(
            parts.ori_size,
            parts.pixel_size,
            &options,
            &data,
            &parts.weight,
        )
        .map_err(de::Error::custom)
    }
}
