//! Splits a script into tokens the way packetdrill's lexer.l does: whitespace (newlines included) only
//! separates tokens, `//` and `/* */` are comments, backquotes, `%{ }%` and `"..."` are single tokens.

use std::fmt;
use std::sync::Arc;

use crate::ast::{Comment, Span};
use crate::error::{ErrorKind, ParseError};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Int {
        value: i64,
        hex: bool,
    },
    /// A decimal with a point (`.1`, `0.200`), kept as text so times convert exactly.
    Float(String),
    Word(String),
    Str(String),
    Backquoted(String),
    Code(String),
    /// `--name` or `--name=value`; the value is taken raw because option values (addresses, paths)
    /// do not follow the script's token rules.
    Opt {
        name: String,
        value: Option<String>,
    },
    Ellipsis,
    Punct(char),
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Int { value, hex: false } => write!(f, "`{value}`"),
            Tok::Int { value, hex: true } => write!(f, "`{value:#x}`"),
            Tok::Float(text) | Tok::Word(text) => write!(f, "`{text}`"),
            Tok::Str(_) => f.write_str("a string"),
            Tok::Backquoted(_) => f.write_str("a shell command"),
            Tok::Code(_) => f.write_str("a %{ }% block"),
            Tok::Opt { name, .. } => write!(f, "`--{name}`"),
            Tok::Ellipsis => f.write_str("`...`"),
            Tok::Punct(c) => write!(f, "`{c}`"),
            Tok::Eof => f.write_str("end of file"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
}

struct Lexer<'a> {
    file: Arc<str>,
    src: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    line: u32,
    col: u32,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn lex(file: Arc<str>, src: &str) -> Result<Lexed, ParseError> {
    let mut lx = Lexer {
        file,
        src,
        pos: 0,
        line: 1,
        col: 1,
    };
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    loop {
        lx.skip_whitespace();
        let span = lx.span();
        let rest = lx.rest();
        let Some(c) = rest.chars().next() else {
            tokens.push(Token {
                tok: Tok::Eof,
                span,
            });
            return Ok(Lexed { tokens, comments });
        };
        let tok = if rest.starts_with("//") {
            lx.advance(2);
            let text = lx.take_while(|c| c != '\n');
            comments.push(Comment {
                span,
                text: text.to_string(),
                block: false,
            });
            continue;
        } else if let Some(body) = rest.strip_prefix("/*") {
            let Some(end) = body.find("*/") else {
                return Err(lx.error(span, ErrorKind::Unterminated("/* comment")));
            };
            let text = body[..end].to_string();
            lx.advance(end + 4);
            comments.push(Comment {
                span,
                text,
                block: true,
            });
            continue;
        } else if let Some(body) = rest.strip_prefix("%{") {
            let Some(end) = body.find("}%") else {
                return Err(lx.error(span, ErrorKind::Unterminated("%{ block (no `}%`)")));
            };
            let code = body[..end].trim_matches([' ', '\t']).to_string();
            lx.advance(end + 4);
            Tok::Code(code)
        } else if rest.starts_with("...") {
            lx.advance(3);
            Tok::Ellipsis
        } else if c == '`' || c == '"' {
            lx.quoted(c, span.clone())?
        } else if rest.starts_with("--") && rest[2..].starts_with(is_word_char) {
            lx.option()
        } else if c.is_ascii_digit()
            || (c == '.' && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
            || (c == '-' && starts_number(&rest[1..]))
        {
            lx.number(span.clone())?
        } else if is_word_char(c) {
            Tok::Word(lx.take_while(is_word_char).to_string())
        } else {
            lx.advance(c.len_utf8());
            Tok::Punct(c)
        };
        tokens.push(Token { tok, span });
    }
}

fn starts_number(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn span(&self) -> Span {
        Span {
            file: self.file.clone(),
            line: self.line,
            col: self.col,
        }
    }

    fn error(&self, span: Span, kind: ErrorKind) -> ParseError {
        ParseError::Syntax { span, kind }
    }

    /// Moves over `bytes` bytes (always a whole number of characters), counting lines and columns.
    fn advance(&mut self, bytes: usize) {
        for c in self.src[self.pos..self.pos + bytes].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.pos += bytes;
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let len = self.rest().find(|c| !keep(c)).unwrap_or(self.rest().len());
        self.advance(len);
        &self.src[start..start + len]
    }

    fn skip_whitespace(&mut self) {
        self.take_while(char::is_whitespace);
    }

    /// A backquoted command or a string: a backslash escapes the next character, and the text is kept
    /// raw, as packetdrill's `quoted()` does.
    fn quoted(&mut self, delim: char, span: Span) -> Result<Tok, ParseError> {
        let body = &self.rest()[1..];
        let mut escaped = false;
        let end = body.find(|c| {
            let hit = !escaped && c == delim;
            escaped = !escaped && c == '\\';
            hit
        });
        let Some(end) = end else {
            let what = if delim == '`' {
                "shell command (no closing backquote)"
            } else {
                "string (no closing `\"`)"
            };
            return Err(self.error(span, ErrorKind::Unterminated(what)));
        };
        let text = body[..end].to_string();
        self.advance(end + 2);
        Ok(if delim == '`' {
            Tok::Backquoted(text)
        } else {
            Tok::Str(text)
        })
    }

    fn option(&mut self) -> Tok {
        self.advance(2);
        let name = self.take_while(is_word_char).to_string();
        let value = if self.rest().starts_with('=') {
            self.advance(1);
            if self.rest().starts_with('"') {
                let body = &self.rest()[1..];
                let len = body.find('"').map_or(body.len(), |end| end + 1);
                let text = body[..len].trim_end_matches('"').to_string();
                self.advance(len + 1);
                Some(text)
            } else {
                Some(self.take_while(|c| !c.is_whitespace()).to_string())
            }
        } else {
            None
        };
        Tok::Opt { name, value }
    }

    /// `123`, `-1`, `0x2`, `.1`, `0.200`. A digit run glued to letters (e.g. `1abc`) is a word, as with
    /// flex's longest match.
    fn number(&mut self, span: Span) -> Result<Tok, ParseError> {
        let start = self.pos;
        if self.rest().starts_with('-') {
            self.advance(1);
        }
        let digits = self.take_while(is_word_char);
        let is_decimal = digits.bytes().all(|b| b.is_ascii_digit());
        if is_decimal
            && self.rest().starts_with('.')
            && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            self.advance(1);
            self.take_while(|c| c.is_ascii_digit());
            return Ok(Tok::Float(self.src[start..self.pos].to_string()));
        }
        let text = &self.src[start..self.pos];
        let out_of_range = || {
            self.error(
                span.clone(),
                ErrorKind::OutOfRange {
                    what: "integer",
                    value: text.to_string(),
                    max: i64::MAX as u64,
                },
            )
        };
        if is_decimal {
            let value = text.parse::<i64>().map_err(|_| out_of_range())?;
            return Ok(Tok::Int { value, hex: false });
        }
        let negative = text.starts_with('-');
        let unsigned = text.trim_start_matches('-');
        if let Some(hex) = unsigned.strip_prefix("0x") {
            if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let value = i64::from_str_radix(hex, 16).map_err(|_| out_of_range())?;
                let value = if negative { -value } else { value };
                return Ok(Tok::Int { value, hex: true });
            }
        }
        if negative {
            // `-1abc`: packetdrill would lex `-1` then a word; no script means that, so say so here.
            return Err(self.error(
                span,
                ErrorKind::Unexpected {
                    expected: "a number".into(),
                    found: format!("`{text}`"),
                },
            ));
        }
        Ok(Tok::Word(text.to_string()))
    }
}
