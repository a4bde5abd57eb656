//! Splitting one STAR line into tokens, without allocating.
//!
//! Tokens are separated by spaces or tabs. A `#` at the start of a token begins a comment that
//! runs to the end of the line (`#` inside a token, as in `x#y`, is kept). A token starting with
//! `"` or `'` is quoted: STAR's rule is that the same quote closes it only when followed by
//! whitespace or the end of the line, so `'it's'` is the value `it's` and `""` is the empty value.

/// One token of a line: its text (without quotes) and whether it was quoted. Quoted tokens are
/// always values, never keywords or labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token's characters, quotes removed.
    pub text: &'a str,
    /// True for `"…"` and `'…'` tokens.
    pub quoted: bool,
}

/// A quote that no matching quote closes before the end of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnterminatedQuote {
    /// The quote character, `"` or `'`.
    pub quote: char,
    /// 1-based character column of the opening quote.
    pub column: usize,
}

/// Iterator over the tokens of one line (which must not contain the line break).
pub struct Tokens<'a> {
    line: &'a str,
    position: usize,
}

impl<'a> Tokens<'a> {
    /// Tokens of `line`.
    pub fn new(line: &'a str) -> Self {
        Tokens { line, position: 0 }
    }
}

/// Whitespace between tokens: STAR's space and tab, plus the other ASCII blanks (a stray `\r`,
/// vertical tab, form feed) so that they never end up inside a value.
pub fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, UnterminatedQuote>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.line.as_bytes();
        let mut start = self.position;
        while start < bytes.len() && is_blank(bytes[start]) {
            start += 1;
        }
        match bytes.get(start) {
            None | Some(b'#') => {
                self.position = bytes.len();
                None
            }
            Some(&quote @ (b'"' | b'\'')) => {
                let closing = (start + 1..bytes.len()).find(|&i| {
                    bytes[i] == quote && bytes.get(i + 1).is_none_or(|&next| is_blank(next))
                });
                match closing {
                    Some(end) => {
                        self.position = end + 1;
                        Some(Ok(Token {
                            text: &self.line[start + 1..end],
                            quoted: true,
                        }))
                    }
                    None => {
                        self.position = bytes.len();
                        let column = self.line[..start].chars().count() + 1;
                        Some(Err(UnterminatedQuote {
                            quote: char::from(quote),
                            column,
                        }))
                    }
                }
            }
            Some(_) => {
                let mut end = start + 1;
                while end < bytes.len() && !is_blank(bytes[end]) {
                    end += 1;
                }
                self.position = end;
                Some(Ok(Token {
                    text: &self.line[start..end],
                    quoted: false,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<(&str, bool)> {
        Tokens::new(line)
            .map(|t| t.map(|t| (t.text, t.quoted)).unwrap())
            .collect()
    }

    #[test]
    fn splits_on_spaces_and_tabs() {
        assert_eq!(
            texts("  a\tbb  c "),
            [("a", false), ("bb", false), ("c", false)]
        );
        assert_eq!(texts(""), []);
        assert_eq!(texts(" \t "), []);
    }

    #[test]
    fn comments_start_only_at_token_start() {
        assert_eq!(texts("_rlnImageName #1"), [("_rlnImageName", false)]);
        assert_eq!(texts("x#y # rest"), [("x#y", false)]);
        assert_eq!(texts("# whole line"), []);
    }

    #[test]
    fn quotes_close_only_before_whitespace() {
        assert_eq!(texts(r#""a b" 'c d'"#), [("a b", true), ("c d", true)]);
        assert_eq!(texts(r#""" x"#), [("", true), ("x", false)]);
        assert_eq!(texts("'it's' z"), [("it's", true), ("z", false)]);
        assert_eq!(texts(r#""say "hi"""#), [(r#"say "hi""#, true)]);
        assert_eq!(texts("a\"b"), [("a\"b", false)]);
    }

    #[test]
    fn unterminated_quote_reports_its_column() {
        let result: Vec<_> = Tokens::new("ab \"cd e").collect();
        assert_eq!(
            result.last(),
            Some(&Err(UnterminatedQuote {
                quote: '"',
                column: 4
            }))
        );
        let result: Vec<_> = Tokens::new("'x'y").collect();
        assert_eq!(
            result,
            [Err(UnterminatedQuote {
                quote: '\'',
                column: 1
            })]
        );
    }
}
