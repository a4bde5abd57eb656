//! Sizes checked against the memory available before a job allocates them, so that an absurd
//! request (a 4096³ box is 275 GB of float32) is refused with the size needed and the size
//! available instead of aborting in the allocator. Sizes are in bytes; messages in GB.
//! Available memory is `MemAvailable` of /proc/meminfo
//! ([`cryoflux_operators::refine::projections::available_memory_bytes`]); where that is
//! unknown, nothing is refused.

use cryoflux_operators::refine::projections::available_memory_bytes;

/// A request for more memory than is available.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{what} needs about {needed:.2} GB of memory but only {available:.2} GB is available; \
     {hint}"
)]
pub struct TooLarge {
    /// What would be allocated, with its size in the user's terms (e.g. "a 4096³ float32 map").
    pub what: String,
    /// Bytes needed, in GB.
    pub needed: f64,
    /// Bytes available now, in GB.
    pub available: f64,
    /// What the user can do about it.
    pub hint: String,
}

/// Bytes of a float32 grid with `box_size` pixels along each of its `dimensions` axes (times
/// `count` grids, e.g. the images of a stack).
pub fn float32_grid_bytes(box_size: usize, dimensions: u32, count: usize) -> f64 {
    4.0 * (box_size as f64).powi(dimensions as i32) * count as f64
}

/// Refuses `bytes` (named `what`) when they exceed the memory available now; `hint` says what
/// to change.
pub fn ensure_available(what: &str, bytes: f64, hint: &str) -> Result<(), TooLarge> {
    ensure_within(what, bytes, available_memory_bytes(), hint)
}

/// [`ensure_available`] against a given amount of `available` bytes (`None`: unknown).
pub fn ensure_within(
    what: &str,
    bytes: f64,
    available: Option<f64>,
    hint: &str,
) -> Result<(), TooLarge> {
    match available {
        Some(available) if bytes > available => Err(TooLarge {
            what: what.to_string(),
            needed: bytes / 1e9,
            available: available / 1e9,
            hint: hint.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_larger_than_the_memory_is_refused_with_both_sizes() {
        let bytes = float32_grid_bytes(4096, 3, 1);
        assert_eq!(bytes, 4.0 * 4096f64.powi(3));
        let error =
            ensure_within("a 4096³ map", bytes, Some(8e9), "use a smaller --new_box").unwrap_err();
        assert_eq!(
            error.to_string(),
            "a 4096³ map needs about 274.88 GB of memory but only 8.00 GB is available; use a \
             smaller --new_box"
        );
        assert!(ensure_within("a map", float32_grid_bytes(64, 3, 10), Some(8e9), "").is_ok());
        assert!(ensure_within("a map", bytes, None, "").is_ok());
        // No machine has an exabyte available.
        assert!(ensure_available("an exabyte", 1e18, "").is_err());
    }
}
