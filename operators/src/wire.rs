//! Serde stand-ins for kernel types that timely's exchange bounds require (every exchanged
//! record must be `Serialize + Deserialize`) but that cannot cross a process boundary yet.
//!
//! Within one process timely hands records between worker threads as typed values and never
//! calls these functions. A multi-process run would: it fails with a clear message, because
//! `cryoflux_kernels::backprojector::BackProjector` has no public constructor from raw arrays
//! (a kernels addition that multi-process refinement needs).

/// `#[serde(with = "crate::wire::backprojector")]` for a `BackProjector` field.
pub mod backprojector {
    use cryoflux_kernels::backprojector::BackProjector;
    use serde::{Deserializer, Serializer, de, ser};

    const MESSAGE: &str = "a BackProjector cannot be sent to another process yet \
        (cryoflux-kernels has no constructor from raw arrays); run refine in one process";

    /// Refuses to serialise (see the module doc).
    pub fn serialize<S: Serializer>(_: &BackProjector, _: S) -> Result<S::Ok, S::Error> {
        Err(<S::Error as ser::Error>::custom(MESSAGE))
    }

    /// Refuses to deserialise (see the module doc).
    pub fn deserialize<'de, D: Deserializer<'de>>(_: D) -> Result<BackProjector, D::Error> {
        Err(<D::Error as de::Error>::custom(MESSAGE))
    }
}
