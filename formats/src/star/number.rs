//! Number parsing for STAR cells: a fast, exactly rounded path for the plain decimals RELION
//! writes (`15000.500000`, `-2.25`, `1.000000e-07`), falling back to the standard library for
//! everything else (`nan`, `inf`, long mantissas, large exponents).

/// Powers of ten that are exact in an `f64` (10⁰ … 10²²).
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parse a real number. Accepts what `str::parse::<f64>` accepts (including `nan`, `inf`,
/// `1.`, `.5`, `+1`, exponents); `None` for anything else. The result is correctly rounded.
pub fn parse_f64(text: &str) -> Option<f64> {
    fast_decimal(text.as_bytes()).or_else(|| text.parse().ok())
}

/// Parse an integer. Plain integers (`-12`, `+3`, `000123`) are read exactly; numbers written
/// as floats are accepted when they are integral and fit in an `i64` (`1.000000`, `2e3`), since
/// RELION sometimes writes integer labels with a decimal point. `None` otherwise.
pub fn parse_i64(text: &str) -> Option<i64> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(value);
    }
    let value = parse_f64(text)?;
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value)).then_some(value as i64)
}

/// Clinger's fast path: a decimal with at most 19 digits whose mantissa fits in 53 bits and
/// whose decimal exponent is within ±22 is one exact multiplication or division away from the
/// correctly rounded result. `None` when the text is not such a decimal.
fn fast_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, rest) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let integer_digits = take_digits(rest, &mut mantissa);
    let mut index = integer_digits;
    let mut fraction_digits = 0;
    if rest.get(index) == Some(&b'.') {
        fraction_digits = take_digits(&rest[index + 1..], &mut mantissa);
        index += 1 + fraction_digits;
    }
    let digits = integer_digits + fraction_digits;
    if digits == 0 || digits > 19 {
        return None;
    }
    let exponent = match rest.get(index) {
        None => 0,
        Some(b'e' | b'E') => small_exponent(&rest[index + 1..])?,
        Some(_) => return None,
    };
    let power = exponent - fraction_digits as i32;
    if mantissa > 1 << 53 || !(-22..=22).contains(&power) {
        return None;
    }
    let magnitude = mantissa as f64;
    let value = if power >= 0 {
        magnitude * EXACT_POWERS_OF_TEN[power as usize]
    } else {
        magnitude / EXACT_POWERS_OF_TEN[(-power) as usize]
    };
    Some(if negative { -value } else { value })
}

/// Accumulate the leading decimal digits of `bytes` into `mantissa` (wrapping once there are
/// more than 19, which the caller rejects); returns how many there were.
fn take_digits(bytes: &[u8], mantissa: &mut u64) -> usize {
    let mut count = 0;
    for &byte in bytes {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(digit));
        count += 1;
    }
    count
}

/// The exponent after `e`: optional sign and one to three digits.
fn small_exponent(bytes: &[u8]) -> Option<i32> {
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let mut value = 0i32;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(digit - b'0');
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_decimals_take_the_fast_path_and_are_exact() {
        for text in [
            "15000.500000",
            "-2.25",
            "0.1",
            "300",
            "1.000000e-07",
            "+4.5E3",
            "1.",
            ".5",
        ] {
            assert_eq!(
                fast_decimal(text.as_bytes()),
                Some(text.parse::<f64>().unwrap()),
                "{text}"
            );
        }
    }

    #[test]
    fn special_values_fall_back_to_std() {
        assert!(parse_f64("nan").unwrap().is_nan());
        assert!(parse_f64("-nan").unwrap().is_nan());
        assert_eq!(parse_f64("inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64("1e300"), Some(1e300));
        assert_eq!(
            parse_f64("12345678901234567890123"),
            Some(12345678901234567890123.0)
        );
        assert!(parse_f64("-0.0").unwrap().is_sign_negative());
    }

    #[test]
    fn non_numbers_are_rejected() {
        for text in [
            "", ".", "-", "1e", "1e+", "abc", "1.2.3", "1,5", "0x10", "1_0", "12a", "e5",
        ] {
            assert_eq!(parse_f64(text), None, "{text:?}");
        }
    }

    #[test]
    fn integers_accept_integral_floats_only() {
        assert_eq!(parse_i64("-12"), Some(-12));
        assert_eq!(parse_i64("000123"), Some(123));
        assert_eq!(parse_i64("1.000000"), Some(1));
        assert_eq!(parse_i64("2e3"), Some(2000));
        assert_eq!(parse_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64("1.5"), None);
        assert_eq!(parse_i64("nan"), None);
        assert_eq!(parse_i64("inf"), None);
        assert_eq!(parse_i64("1e19"), None);
        assert_eq!(parse_i64("x"), None);
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_shortest_and_fixed_forms(x in any::<f64>()) {
            for text in [format!("{x}"), format!("{x:e}"), format!("{x:.6}"), format!("{x:.6e}")] {
                let expected: f64 = text.parse().unwrap();
                let parsed = parse_f64(&text).unwrap();
                prop_assert!(parsed.to_bits() == expected.to_bits() || (parsed.is_nan() && expected.is_nan()), "{}", text);
            }
        }

        #[test]
        fn agrees_with_std_on_short_decimals(int in 0u64..10_000_000, frac in 0u32..1_000_000, exp in -30i32..30) {
            let text = format!("{int}.{frac:06}e{exp}");
            prop_assert_eq!(parse_f64(&text), Some(text.parse::<f64>().unwrap()));
        }
    }
}
