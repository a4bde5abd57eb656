//! The one validation of a worker-thread count (`--j` of every command): a whole number of
//! threads, at least 1.

/// Parses `--j N` for clap (`value_parser = worker_threads`): N must be a whole number ≥ 1;
/// 0 and anything else are refused with what was expected.
pub fn worker_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err(
            "0 worker threads can do no work; expected at least 1 (or leave --j out \
                      for the command's default)"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{text}' is not a number of worker threads; expected a whole number ≥ 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_non_numbers_are_refused_with_what_was_expected() {
        assert_eq!(worker_threads("4"), Ok(4));
        assert!(worker_threads("0").unwrap_err().contains("at least 1"));
        assert!(
            worker_threads("-2")
                .unwrap_err()
                .contains("whole number ≥ 1")
        );
        assert!(worker_threads("two").unwrap_err().contains("'two'"));
    }
}
