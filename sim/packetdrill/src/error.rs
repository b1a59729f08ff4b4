//! Why a script did not parse, and where.

use std::path::PathBuf;

use crate::ast::Span;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Displays as `file:line:col: message`.
    #[error("{span}: {kind}")]
    Syntax { span: Span, kind: ErrorKind },
}

impl ParseError {
    /// Where the script is wrong; `None` for an I/O error.
    pub fn span(&self) -> Option<&Span> {
        match self {
            ParseError::Io { .. } => None,
            ParseError::Syntax { span, .. } => Some(span),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("expected {expected}, found {found}")]
    Unexpected { expected: String, found: String },
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("{what} {value} out of range (at most {max})")]
    OutOfRange {
        what: &'static str,
        value: String,
        max: u64,
    },
    #[error("unknown TCP flag `{0}` (flags are F S R P . U E W A, or - for none)")]
    UnknownTcpFlag(char),
    #[error("inconsistent sequence numbers: {start}:{end} but length {len}")]
    InconsistentSequence { start: u32, end: u32, len: u16 },
    #[error("time range is backwards")]
    BackwardsRange,
    #[error("{0} can only be used with outbound packets")]
    OutboundOnly(&'static str),
    #[error("window must be specified for inbound packets (`win N`)")]
    InboundWithoutWindow,
    #[error("TCP options take {0} bytes, not a multiple of 4 (pad with `nop`)")]
    OptionsNotPadded(usize),
    #[error("TCP options take {0} bytes, more than the 40 a TCP header holds")]
    OptionsTooLong(usize),
    #[error("command-line option `--{0}` after the first command or event")]
    MisplacedOption(String),
    #[error("a shell command without a time must be the first or the last line of the script")]
    MisplacedCommand,
    #[error("expressions nested deeper than {0} levels")]
    TooDeep(usize),
}
