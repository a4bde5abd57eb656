//! The lexical layer of STAR, without allocating: splitting text into lines (`\n` or `\r\n`),
//! lines into tokens, recognising reserved words, and telling structure lines from value lines.
//!
//! Tokens are separated by spaces or tabs (or any other ASCII control character). A `#` at the
//! start of a token begins a comment that runs to the end of the line (`#` inside a token, as in
//! `x#y`, is kept). A token starting with `"` or `'` is quoted: STAR's rule is that the same
//! quote closes it only when followed by whitespace or the end of the line, so `'it's'` is the
//! value `it's` and `""` is the empty value.

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

/// Whitespace between tokens: STAR's space and tab, and every other ASCII control character
/// (a stray `\r`, form feed, NUL…), so that none of them ends up inside a bare value.
pub fn is_blank(byte: u8) -> bool {
    byte <= b' '
}

/// The reserved words of STAR that can start a line, matched case-insensitively.
pub enum Keyword<'a> {
    /// `data_NAME`, with the name.
    Data(&'a str),
    /// `loop_`.
    Loop,
    /// `stop_`.
    Stop,
    /// `save_…` frames and `global_`, which RELION's STAR does not use.
    Unsupported,
}

/// The reserved word `token` spells, if any (quoted tokens never do).
pub fn keyword<'a>(token: &Token<'a>) -> Option<Keyword<'a>> {
    let text = token.text;
    if token.quoted || !text.is_char_boundary(5.min(text.len())) {
        return None;
    }
    let (head, tail) = text.split_at(5.min(text.len()));
    if head.eq_ignore_ascii_case("data_") {
        Some(Keyword::Data(tail))
    } else if head.eq_ignore_ascii_case("loop_") && tail.is_empty() {
        Some(Keyword::Loop)
    } else if head.eq_ignore_ascii_case("stop_") && tail.is_empty() {
        Some(Keyword::Stop)
    } else if head.eq_ignore_ascii_case("save_") || text.eq_ignore_ascii_case("global_") {
        Some(Keyword::Unsupported)
    } else {
        None
    }
}

/// True for an unquoted `_label` token.
pub fn is_label(token: &Token<'_>) -> bool {
    !token.quoted && token.text.starts_with('_')
}

/// What a line holds, judged by its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Nothing but whitespace and comments.
    Blank,
    /// Values: a loop row (or a stray value, if no loop is open).
    Values,
    /// A reserved word or a `_label`.
    Structure,
}

/// Classify `line` by its first token. A line starting with an unterminated quote holds values
/// (whose reader reports the quote).
pub fn classify(line: &str) -> LineKind {
    match Tokens::new(line).next() {
        None => LineKind::Blank,
        Some(Ok(token)) if keyword(&token).is_some() || is_label(&token) => LineKind::Structure,
        Some(_) => LineKind::Values,
    }
}

/// The line starting at byte `offset` of `text` (without its `\n` or `\r\n`) and the offset of
/// the next line; `None` at the end of the text.
pub fn next_line(text: &str, offset: usize) -> Option<(&str, usize)> {
    let rest = text.get(offset..).filter(|rest| !rest.is_empty())?;
    let (line, next) = match rest.find('\n') {
        Some(end) => (&rest[..end], offset + end + 1),
        None => (rest, text.len()),
    };
    Some((line.strip_suffix('\r').unwrap_or(line), next))
}

/// What [`find`] looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seek {
    Blank,
    NonBlank,
}

/// Index of the first byte at or after `from` that is (or is not) blank; `bytes.len()` if none.
/// Scans eight bytes at a time: most of a STAR file is runs of digits and alignment spaces.
fn find(bytes: &[u8], mut from: usize, seek: Seek) -> usize {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(from..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        // High bit of each byte set where the byte is above b' ' (non-ASCII bytes included):
        // adding 0x5F to the low seven bits carries into the high bit exactly from 0x21 up.
        let non_blank = (((word & !HIGH_BITS) + 0x5F5F_5F5F_5F5F_5F5F) | word) & HIGH_BITS;
        let wanted = match seek {
            Seek::NonBlank => non_blank,
            Seek::Blank => !non_blank & HIGH_BITS,
        };
        if wanted != 0 {
            return from + (wanted.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < bytes.len() && is_blank(bytes[from]) != (seek == Seek::Blank) {
        from += 1;
    }
    from
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, UnterminatedQuote>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.line.as_bytes();
        let start = find(bytes, self.position, Seek::NonBlank);
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
                let end = find(bytes, start + 1, Seek::Blank);
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
    fn word_at_a_time_search_agrees_with_bytewise() {
        for byte in 0..=255u8 {
            for position in 0..11 {
                let mut bytes = vec![b'x'; 11];
                bytes[position] = byte;
                let blank = (0..11).find(|&i| is_blank(bytes[i])).unwrap_or(11);
                assert_eq!(
                    find(&bytes, 0, Seek::Blank),
                    blank,
                    "byte {byte} at {position}"
                );
                bytes.fill(b' ');
                bytes[position] = byte;
                let other = (0..11).find(|&i| !is_blank(bytes[i])).unwrap_or(11);
                assert_eq!(
                    find(&bytes, 0, Seek::NonBlank),
                    other,
                    "byte {byte} at {position}"
                );
            }
        }
    }

    #[test]
    fn lines_split_on_lf_and_crlf() {
        let text = "a\r\nb\n\nc";
        let mut offset = 0;
        let mut lines = Vec::new();
        while let Some((line, next)) = next_line(text, offset) {
            lines.push(line);
            offset = next;
        }
        assert_eq!(lines, ["a", "b", "", "c"]);
        assert_eq!(next_line("x\n", 2), None);
    }

    #[test]
    fn lines_are_classified_by_their_first_token() {
        assert_eq!(classify("  # comment"), LineKind::Blank);
        assert_eq!(classify("1@a.mrcs 3"), LineKind::Values);
        assert_eq!(classify("\"_quoted\" 3"), LineKind::Values);
        assert_eq!(classify("'unterminated"), LineKind::Values);
        assert_eq!(classify("_rlnImageName #1"), LineKind::Structure);
        assert_eq!(classify("Data_x"), LineKind::Structure);
        assert_eq!(classify("loop_"), LineKind::Structure);
        assert_eq!(classify("loop_x"), LineKind::Values);
        assert_eq!(classify("save_frame"), LineKind::Structure);
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
