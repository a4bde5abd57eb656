//! e^x for the posterior weights exp(−(d² − min d²)), in plain f64 arithmetic that compilers
//! vectorise (the C library's `exp` is a call per sample; a global pass-1 weighs ~10⁶ samples
//! per particle).
//!
//! x = k·ln 2 + r with k = round(x/ln 2) and |r| ≤ ln 2 / 2 (ln 2 split in two parts so that
//! k·ln 2 is exact), e^r by its Taylor polynomial of degree 13 (truncation < 5·10⁻¹⁸), times
//! 2^k built from the exponent bits. Relative error within 3·10⁻¹⁶ of the correctly rounded
//! value (test), the same on every CPU (no fused multiply-add).

/// The smallest argument handled: e^x stays a normal f64 (2^−1022 ≈ e^−708.4).
pub(super) const MIN_ARG: f64 = -708.0;

/// ln 2 in two parts: the high one has 32 significant bits, so k·LN2_HI is exact for |k| < 2²⁰.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// Adding and subtracting 1.5·2⁵² rounds an f64 of magnitude < 2⁵¹ to the nearest integer.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// 1/n! for n = 0 … 13, the Taylor coefficients of e^r.
const TAYLOR: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut n = 1;
    while n < 14 {
        c[n] = c[n - 1] / n as f64;
        n += 1;
    }
    c
};

/// e^x for `MIN_ARG` ≤ x ≤ 0 (other arguments: an unspecified finite value).
#[inline(always)]
pub(super) fn exp(x: f64) -> f64 {
    let x = x.clamp(MIN_ARG, 0.0);
    let k = (x * std::f64::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = TAYLOR[13];
    for &c in TAYLOR[..13].iter().rev() {
        p = p * r + c;
    }
    // 2^k for −1022 ≤ k ≤ 0: the biased exponent k + 1023 in the exponent field.
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_library_exp_to_a_few_ulp() {
        let mut worst: f64 = 0.0;
        let steps = 200_000;
        for i in 0..=steps {
            let x = MIN_ARG * i as f64 / steps as f64;
            // Also points just around multiples of ln 2 / 2, where r is largest.
            for x in [x, x + 1e-9, x - 1e-9] {
                let x = x.clamp(MIN_ARG, 0.0);
                let (fast, std) = (exp(x), x.exp());
                worst = worst.max(((fast - std) / std).abs());
            }
        }
        assert!(worst < 3e-16, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) == exp(MIN_ARG));
    }
}
