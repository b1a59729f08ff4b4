//! A parser for Linux's packetdrill scripts (`.pkt`): [`parse_file`] and [`parse_str`] turn a script
//! into a [`Script`] whose nodes carry file:line:column [`Span`]s, or a [`ParseError`] that displays as
//! `file:line:col: message`.
//!
//! It follows packetdrill's own grammar (`gtests/net/packetdrill/lexer.l` and `parser.y`) for what
//! Linux's TCP scripts use: command-line options, setup/cleanup and timed shell commands, all time
//! forms, TCP packets with IP ECN/TOS/TTL fields and the mss, wscale, sackOK, sack, TS, nop and eol
//! options, system calls with blocking durations, errnos and notes, arrays, `|` flags, iovecs,
//! msghdrs, cmsgs, pollfds and generic structs, and `%{ }%` Python blocks (kept as text). Not
//! supported, because no script here uses them: UDP and ICMP packets, explicit IPv4/IPv6 addresses,
//! ports, GRE/MPLS/PSP encapsulation, the md5, Fast Open and AccECN options, AccECN flag digits,
//! sockaddr, linger, epoll and sock_extended_err structs, `inet_addr()`/`htons()` and `--define`
//! substitution. These fail with a positioned error rather than being misread.
//!
//! `cargo run -p nicsim-packetdrill --example inventory [DIR]` lists what a set of scripts asks of a
//! runner: system calls, socket options, `tcp_info` fields, shell lines, TCP options, time forms.

mod ast;
mod error;
mod lexer;
mod parser;

use std::path::Path;
use std::sync::Arc;

pub use ast::*;
pub use error::{ErrorKind, ParseError};

/// Reads and parses a script; spans name the file as `path` is written.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Script, ParseError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ParseError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(&path.display().to_string(), &text)
}

/// Parses script text; `name` is the file name that spans and errors report.
pub fn parse_str(name: &str, text: &str) -> Result<Script, ParseError> {
    parser::parse(Arc::from(name), text)
}
