//! The Python literals a NumPy `.npy` header is written in: a dict of strings, booleans,
//! integers, tuples and lists (e.g. `{'descr': [('uid', '<u8')], 'fortran_order': False,
//! 'shape': (12,), }`). Only what `numpy.lib.format` writes is accepted.

/// One parsed Python literal.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    Str(String),
    Bool(bool),
    Int(i64),
    /// A tuple or a list (NumPy uses both; the difference does not matter here).
    Seq(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// Parse `text` as exactly one literal (surrounding whitespace allowed); the error says what
/// was expected at which character.
pub(super) fn parse(text: &str) -> Result<Literal, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = parser.value(0)?;
    parser.skip_space();
    if parser.at != parser.chars.len() {
        return Err(parser.expected("the end of the header"));
    }
    Ok(value)
}

/// Nesting deeper than any NumPy header is refused rather than risking the stack.
const MAX_DEPTH: usize = 32;

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn expected(&self, what: &str) -> String {
        let found = self
            .peek()
            .map_or_else(|| "the end".to_owned(), |c| format!("{c:?}"));
        format!("expected {what} at character {}, found {found}", self.at)
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        self.skip_space();
        match self.peek() {
            Some(quote @ ('\'' | '"')) => self.string(quote),
            Some('(') => Ok(Literal::Seq(self.items(')', depth)?)),
            Some('[') => Ok(Literal::Seq(self.items(']', depth)?)),
            Some('{') => self.dict(depth),
            Some(c) if c == '-' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.expected("a string, number, True/False, tuple, list or dict")),
        }
    }

    fn string(&mut self, quote: char) -> Result<Literal, String> {
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.expected("a closing quote")),
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(Literal::Str(text));
                }
                Some('\\') => {
                    self.at += 1;
                    let escaped = self.peek().ok_or_else(|| self.expected("an escape"))?;
                    text.push(escaped);
                    self.at += 1;
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn int(&mut self) -> Result<Literal, String> {
        let start = self.at;
        self.at += 1;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        // Python 2 era headers may write long integers as `12L`.
        let digits: String = self.chars[start..self.at].iter().collect();
        if self.peek() == Some('L') {
            self.at += 1;
        }
        digits
            .parse()
            .map(Literal::Int)
            .map_err(|_| format!("{digits:?} at character {start} is not an integer"))
    }

    fn word(&mut self) -> Result<Literal, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        match word.as_str() {
            "True" => Ok(Literal::Bool(true)),
            "False" => Ok(Literal::Bool(false)),
            _ => Err(format!(
                "{word:?} at character {start}; expected True, False, a string or a number"
            )),
        }
    }

    /// Comma-separated values up to `close` (trailing comma allowed), after the opening bracket.
    fn items(&mut self, close: char, depth: usize) -> Result<Vec<Literal>, String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(c) if c == close => {}
                _ => return Err(self.expected(&format!("',' or {close:?}"))),
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Literal, String> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.at += 1;
                return Ok(Literal::Dict(entries));
            }
            let key = self.value(depth + 1)?;
            self.skip_space();
            if self.peek() != Some(':') {
                return Err(self.expected("':'"));
            }
            self.at += 1;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some('}') => {}
                _ => return Err(self.expected("',' or '}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_numpy_header() {
        let text = "{'descr': [('uid', '<u8'), ('blob/shape', '<u4', (2,))], \
                    'fortran_order': False, 'shape': (3,), }   ";
        let s = |t: &str| Literal::Str(t.to_owned());
        assert_eq!(
            parse(text).unwrap(),
            Literal::Dict(vec![
                (
                    s("descr"),
                    Literal::Seq(vec![
                        Literal::Seq(vec![s("uid"), s("<u8")]),
                        Literal::Seq(vec![
                            s("blob/shape"),
                            s("<u4"),
                            Literal::Seq(vec![Literal::Int(2)])
                        ]),
                    ])
                ),
                (s("fortran_order"), Literal::Bool(false)),
                (s("shape"), Literal::Seq(vec![Literal::Int(3)])),
            ])
        );
    }

    #[test]
    fn rejects_what_numpy_never_writes() {
        for (text, needle) in [
            ("{'a': None}", "\"None\""),
            ("{'a' 1}", "expected ':'"),
            ("{'a': (1, 2}", "',' or ')'"),
            ("{'a': 'open", "closing quote"),
            ("{} x", "end of the header"),
            ("99999999999999999999", "not an integer"),
        ] {
            let message = parse(text).unwrap_err();
            assert!(message.contains(needle), "{text}: {message}");
        }
        let deep = "[".repeat(100);
        assert!(parse(&deep).unwrap_err().contains("nested"));
    }
}
