//! Recursive descent over the tokens, following the rules of packetdrill's parser.y for the parts the
//! scripts use, including its semantic checks (sequence length, value ranges, what only outbound
//! packets may use).

use std::sync::Arc;

use crate::ast::*;
use crate::error::{ErrorKind, ParseError};
use crate::lexer::{lex, Tok, Token};

/// Deep enough for any real argument (a msghdr with a cmsg array is 4 levels), shallow enough that
/// garbage like `[[[[...` cannot overflow the stack.
const MAX_DEPTH: usize = 32;

pub fn parse(file: Arc<str>, src: &str) -> Result<Script> {
    let lexed = lex(file.clone(), src)?;
    let mut p = Parser {
        tokens: lexed.tokens,
        pos: 0,
        depth: 0,
    };
    let mut script = p.script(file)?;
    script.comments = lexed.comments;
    Ok(script)
}

struct Parser {
    /// Always ends with `Tok::Eof`, which is never consumed.
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

type Result<T> = std::result::Result<T, ParseError>;

fn err(span: &Span, kind: ErrorKind) -> ParseError {
    ParseError::Syntax {
        span: span.clone(),
        kind,
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if token.tok != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        let token = self.peek();
        err(
            &token.span,
            ErrorKind::Unexpected {
                expected: expected.to_string(),
                found: token.tok.to_string(),
            },
        )
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w == word)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.is_punct(c);
        if hit {
            self.next();
        }
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.is_word(word);
        if hit {
            self.next();
        }
        hit
    }

    fn expect_punct(&mut self, c: char) -> Result<Span> {
        if self.is_punct(c) {
            Ok(self.next().span)
        } else {
            Err(self.unexpected(&format!("`{c}`")))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<Span> {
        if self.is_word(word) {
            Ok(self.next().span)
        } else {
            Err(self.unexpected(&format!("`{word}`")))
        }
    }

    fn script(&mut self, file: Arc<str>) -> Result<Script> {
        let mut options = Vec::new();
        while let Tok::Opt { name, value } = &self.peek().tok {
            options.push(ScriptOption {
                span: self.peek().span.clone(),
                name: name.clone(),
                value: value.clone(),
            });
            self.next();
        }
        let init_command = self.untimed_command();
        let mut events = Vec::new();
        let mut cleanup_command = None;
        loop {
            let token = self.peek().clone();
            match &token.tok {
                Tok::Eof if events.is_empty() => return Err(self.unexpected("an event")),
                Tok::Eof => break,
                Tok::Opt { name, .. } => {
                    return Err(err(&token.span, ErrorKind::MisplacedOption(name.clone())));
                }
                Tok::Backquoted(_) if events.is_empty() => {
                    return Err(err(&token.span, ErrorKind::MisplacedCommand));
                }
                Tok::Backquoted(_) => {
                    cleanup_command = self.untimed_command();
                    if self.peek().tok != Tok::Eof {
                        return Err(err(&token.span, ErrorKind::MisplacedCommand));
                    }
                }
                _ => events.push(self.event()?),
            }
        }
        Ok(Script {
            file,
            options,
            init_command,
            events,
            cleanup_command,
            comments: Vec::new(),
        })
    }

    fn untimed_command(&mut self) -> Option<Command> {
        let Tok::Backquoted(text) = &self.peek().tok else {
            return None;
        };
        let command = Command {
            span: self.peek().span.clone(),
            text: text.clone(),
        };
        self.next();
        Some(command)
    }

    fn event(&mut self) -> Result<Event> {
        let span = self.peek().span.clone();
        let time = self.time_spec()?;
        let token = self.peek().clone();
        let action = match &token.tok {
            Tok::Punct('<') | Tok::Punct('>') => Action::Packet(self.packet()?),
            Tok::Ellipsis | Tok::Word(_) => Action::Syscall(self.syscall()?),
            Tok::Backquoted(text) => {
                self.next();
                Action::Command(Command {
                    span: token.span.clone(),
                    text: text.clone(),
                })
            }
            Tok::Code(code) => {
                self.next();
                Action::Python(PythonBlock {
                    span: token.span.clone(),
                    code: code.clone(),
                })
            }
            _ => {
                return Err(self.unexpected(
                    "a packet (`<` or `>`), a system call, a shell command or a %{ }% block",
                ))
            }
        };
        let outbound = matches!(&action, Action::Packet(p) if p.direction == Direction::Outbound);
        if !outbound {
            match time {
                Time::Any => return Err(err(&span, ErrorKind::OutboundOnly("event time `*`"))),
                Time::AbsoluteRange { .. } | Time::RelativeRange { .. } => {
                    return Err(err(&span, ErrorKind::OutboundOnly("an event time range")))
                }
                Time::Absolute(_) | Time::Relative(_) => {}
            }
        }
        Ok(Event { span, time, action })
    }

    fn time_spec(&mut self) -> Result<Time> {
        const EXPECTED: &str = "an event time (e.g. `0`, `+.1`, `0.1~0.2`, `*`)";
        let start_span = self.peek().span.clone();
        if self.eat_punct('*') {
            return Ok(Time::Any);
        }
        let relative = self.eat_punct('+');
        let start = self.time(if relative {
            "a time after `+`"
        } else {
            EXPECTED
        })?;
        if !self.eat_punct('~') {
            return Ok(if relative {
                Time::Relative(start)
            } else {
                Time::Absolute(start)
            });
        }
        if relative {
            self.expect_punct('+')?;
        }
        let end = self.time("the end of the time range")?;
        if end < start {
            return Err(err(&start_span, ErrorKind::BackwardsRange));
        }
        Ok(if relative {
            Time::RelativeRange { start, end }
        } else {
            Time::AbsoluteRange { start, end }
        })
    }

    /// Seconds as written (`2`, `.1`, `0.200`) to microseconds; digits past the sixth decimal are
    /// dropped, as packetdrill's float-to-integer conversion does.
    fn time(&mut self, expected: &str) -> Result<u64> {
        let token = self.peek().clone();
        let text = match &token.tok {
            Tok::Int { value, hex: false } => value.to_string(),
            Tok::Float(text) => text.clone(),
            _ => return Err(self.unexpected(expected)),
        };
        if text.starts_with('-') {
            return Err(self.unexpected("a time that is not negative"));
        }
        let (secs, frac) = text.split_once('.').unwrap_or((&text, ""));
        let micros: String = frac.chars().chain("000000".chars()).take(6).collect();
        let secs = if secs.is_empty() {
            Some(0)
        } else {
            secs.parse::<u64>().ok()
        };
        let total = secs
            .and_then(|s| s.checked_mul(1_000_000))
            .and_then(|us| us.checked_add(micros.parse().ok()?))
            .ok_or_else(|| {
                err(
                    &token.span,
                    ErrorKind::OutOfRange {
                        what: "time in seconds",
                        value: text.clone(),
                        max: u64::MAX / 1_000_000,
                    },
                )
            })?;
        self.next();
        Ok(total)
    }

    /// A non-negative integer that must fit `max`, e.g. a sequence number or a window.
    fn uint(&mut self, what: &'static str, max: u64) -> Result<u64> {
        let token = self.peek().clone();
        let Tok::Int { value, .. } = token.tok else {
            return Err(self.unexpected(&format!("{what} (an integer)")));
        };
        let fits = u64::try_from(value).ok().filter(|v| *v <= max);
        let Some(value) = fits else {
            return Err(err(
                &token.span,
                ErrorKind::OutOfRange {
                    what,
                    value: value.to_string(),
                    max,
                },
            ));
        };
        self.next();
        Ok(value)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32> {
        self.uint(what, u32::MAX.into()).map(|v| v as u32)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16> {
        self.uint(what, u16::MAX.into()).map(|v| v as u16)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8> {
        self.uint(what, u8::MAX.into()).map(|v| v as u8)
    }

    fn packet(&mut self) -> Result<Packet> {
        let start = self.next();
        let direction = if start.tok == Tok::Punct('<') {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let ip = self.ip_info()?;
        if let Some(IpInfo {
            span,
            kind: IpInfoKind::EctAny,
        }) = &ip
        {
            if direction == Direction::Inbound {
                return Err(err(span, ErrorKind::OutboundOnly("`ect01`")));
            }
        }
        let flags = self.tcp_flags()?;
        let seq_span = self.peek().span.clone();
        let seq_start = self.u32("TCP start sequence number")?;
        self.expect_punct(':')?;
        let seq_end = self.u32("TCP end sequence number")?;
        self.expect_punct('(')?;
        let payload_len = self.u16("TCP payload size")?;
        self.expect_punct(')')?;
        if u64::from(seq_end) != u64::from(seq_start) + u64::from(payload_len) {
            return Err(err(
                &seq_span,
                ErrorKind::InconsistentSequence {
                    start: seq_start,
                    end: seq_end,
                    len: payload_len,
                },
            ));
        }
        let ack = if self.eat_word("ack") {
            Some(self.u32("TCP ack sequence number")?)
        } else {
            None
        };
        let win = if self.eat_word("win") {
            Some(self.u16("TCP window")?)
        } else {
            None
        };
        let urg = if self.eat_word("urg") {
            Some(self.u16("TCP urgent pointer")?)
        } else {
            None
        };
        if direction == Direction::Inbound && win.is_none() {
            return Err(err(&start.span, ErrorKind::InboundWithoutWindow));
        }
        let options = self.tcp_options()?;
        match &options {
            TcpOptions::Unchecked(span) if direction == Direction::Inbound => {
                return Err(err(
                    span,
                    ErrorKind::OutboundOnly("`<...>` for TCP options"),
                ));
            }
            TcpOptions::Unchecked(_) => {}
            TcpOptions::List(list) => {
                // packetdrill builds the header from the list, so it must fill whole 32-bit words.
                let bytes: usize = list.iter().map(|o| o.kind.wire_len()).sum();
                if bytes % 4 != 0 {
                    return Err(err(&list[0].span, ErrorKind::OptionsNotPadded(bytes)));
                }
                if bytes > 40 {
                    return Err(err(&list[0].span, ErrorKind::OptionsTooLong(bytes)));
                }
            }
        }
        Ok(Packet {
            span: start.span,
            direction,
            ip,
            flags,
            seq_start,
            seq_end,
            payload_len,
            ack,
            win,
            urg,
            options,
        })
    }

    /// `[ect0]` or `(tos 0x4)` before the flags.
    fn ip_info(&mut self) -> Result<Option<IpInfo>> {
        let close = match self.peek().tok {
            Tok::Punct('[') => ']',
            Tok::Punct('(') => ')',
            _ => return Ok(None),
        };
        self.next();
        let span = self.peek().span.clone();
        let kind = match &self.peek().tok {
            Tok::Word(w) if w == "tos" => {
                self.next();
                let token = self.peek().clone();
                if !matches!(token.tok, Tok::Int { hex: true, .. }) {
                    return Err(self.unexpected("a hexadecimal TOS byte (e.g. `0x4`)"));
                }
                IpInfoKind::Tos(self.u8("tos")?)
            }
            Tok::Word(w) if w == "ttl" => {
                self.next();
                IpInfoKind::Ttl(self.u8("ttl")?)
            }
            Tok::Word(w) => {
                let kind = match w.as_str() {
                    "noecn" => IpInfoKind::Ecn(Ecn::NotEct),
                    "ect0" => IpInfoKind::Ecn(Ecn::Ect0),
                    "ect1" => IpInfoKind::Ecn(Ecn::Ect1),
                    "ce" => IpInfoKind::Ecn(Ecn::Ce),
                    "ect01" => IpInfoKind::EctAny,
                    _ => return Err(self.unexpected(IP_INFO)),
                };
                self.next();
                kind
            }
            _ => return Err(self.unexpected(IP_INFO)),
        };
        self.expect_punct(close)?;
        Ok(Some(IpInfo { span, kind }))
    }

    /// A flags word with an optional trailing `.`, a lone `.`, or `-` for none.
    fn tcp_flags(&mut self) -> Result<TcpFlags> {
        let token = self.peek().clone();
        let mut flags = TcpFlags::default();
        match &token.tok {
            Tok::Punct('-') => {
                self.next();
                return Ok(flags);
            }
            Tok::Punct('.') => {}
            Tok::Word(word) => {
                for (i, c) in word.chars().enumerate() {
                    let bit = match c {
                        'F' => &mut flags.fin,
                        'S' => &mut flags.syn,
                        'R' => &mut flags.rst,
                        'P' => &mut flags.psh,
                        'U' => &mut flags.urg,
                        'E' => &mut flags.ece,
                        'W' => &mut flags.cwr,
                        'A' => &mut flags.ae,
                        _ => {
                            let span = Span {
                                col: token.span.col + i as u32,
                                ..token.span.clone()
                            };
                            return Err(err(&span, ErrorKind::UnknownTcpFlag(c)));
                        }
                    };
                    *bit = true;
                }
                self.next();
            }
            _ => return Err(self.unexpected("TCP flags (e.g. `S`, `.`, `P.`, `F.`, `-`)")),
        }
        flags.ack = self.eat_punct('.');
        Ok(flags)
    }

    fn tcp_options(&mut self) -> Result<TcpOptions> {
        if !self.is_punct('<') {
            return Ok(TcpOptions::List(Vec::new()));
        }
        let open = self.next();
        if self.peek().tok == Tok::Ellipsis {
            self.next();
            self.expect_punct('>')?;
            return Ok(TcpOptions::Unchecked(open.span));
        }
        let mut list = vec![self.tcp_option()?];
        while self.eat_punct(',') {
            list.push(self.tcp_option()?);
        }
        if !self.is_punct('>') {
            return Err(self.unexpected("`,` or `>`"));
        }
        self.next();
        Ok(TcpOptions::List(list))
    }

    fn tcp_option(&mut self) -> Result<TcpOption> {
        const EXPECTED: &str =
            "a TCP option (`nop`, `eol`, `mss`, `wscale`, `sackOK`, `sack`, `TS`)";
        let token = self.peek().clone();
        let Tok::Word(word) = &token.tok else {
            return Err(self.unexpected(EXPECTED));
        };
        let kind = match word.as_str() {
            "nop" => {
                self.next();
                TcpOptionKind::Nop
            }
            "eol" => {
                self.next();
                TcpOptionKind::Eol
            }
            "sackOK" => {
                self.next();
                TcpOptionKind::SackPermitted
            }
            "mss" => {
                self.next();
                TcpOptionKind::Mss(self.u16("mss value")?)
            }
            "wscale" => {
                self.next();
                TcpOptionKind::WindowScale(self.u8("window scale shift count")?)
            }
            "sack" => {
                self.next();
                let mut blocks = Vec::new();
                loop {
                    let left = self.u32("TCP SACK left sequence number")?;
                    self.expect_punct(':')?;
                    let right = self.u32("TCP SACK right sequence number")?;
                    blocks.push((left, right));
                    if !matches!(self.peek().tok, Tok::Int { .. }) {
                        break;
                    }
                }
                TcpOptionKind::Sack(blocks)
            }
            "TS" => {
                self.next();
                self.expect_word("val")?;
                let val = self.u32("ts val")?;
                self.expect_word("ecr")?;
                let ecr = self.u32("ecr val")?;
                TcpOptionKind::Timestamp { val, ecr }
            }
            _ => return Err(self.unexpected(EXPECTED)),
        };
        Ok(TcpOption {
            span: token.span,
            kind,
        })
    }

    fn syscall(&mut self) -> Result<Syscall> {
        let blocking_end = if self.peek().tok == Tok::Ellipsis {
            self.next();
            Some(self.time("the time a blocking call returns (e.g. `...0.200`)")?)
        } else {
            None
        };
        let token = self.peek().clone();
        let Tok::Word(name) = &token.tok else {
            return Err(self.unexpected("a system call name"));
        };
        self.next();
        self.expect_punct('(')?;
        let mut args = Vec::new();
        if !self.eat_punct(')') {
            args = self.expr_list(')')?;
        }
        self.expect_punct('=')?;
        let result = self.expr()?;
        let errno = if let Tok::Word(name) = &self.peek().tok {
            let name = name.clone();
            let span = self.next().span;
            Some(Errno {
                span,
                name,
                strerror: self.note()?,
            })
        } else {
            None
        };
        let note = if errno.is_some() { None } else { self.note()? };
        Ok(Syscall {
            span: token.span,
            name: name.clone(),
            blocking_end,
            args,
            result,
            errno,
            note,
        })
    }

    /// `(words ...)` after a result: packetdrill's word list, kept as the words joined by a space.
    fn note(&mut self) -> Result<Option<String>> {
        if !self.eat_punct('(') {
            return Ok(None);
        }
        let mut words = Vec::new();
        loop {
            match &self.peek().tok {
                Tok::Word(w) => words.push(w.clone()),
                Tok::Punct(')') if !words.is_empty() => break,
                _ if words.is_empty() => return Err(self.unexpected("a word")),
                _ => return Err(self.unexpected("a word or `)`")),
            }
            self.next();
        }
        self.next();
        Ok(Some(words.join(" ")))
    }

    /// Comma-separated expressions up to and including `close`.
    fn expr_list(&mut self, close: char) -> Result<Vec<Expr>> {
        let mut list = vec![self.expr()?];
        loop {
            if self.eat_punct(close) {
                return Ok(list);
            }
            if !self.eat_punct(',') {
                return Err(self.unexpected(&format!("`,` or `{close}`")));
            }
            list.push(self.expr()?);
        }
    }

    fn expr(&mut self) -> Result<Expr> {
        if self.depth >= MAX_DEPTH {
            return Err(err(&self.peek().span, ErrorKind::TooDeep(MAX_DEPTH)));
        }
        self.depth += 1;
        let expr = self.or_expr();
        self.depth -= 1;
        expr
    }

    fn or_expr(&mut self) -> Result<Expr> {
        let first = self.primary()?;
        if !self.is_punct('|') {
            return Ok(first);
        }
        let span = first.span.clone();
        let mut terms = vec![first];
        while self.eat_punct('|') {
            terms.push(self.primary()?);
        }
        Ok(Expr {
            span,
            kind: ExprKind::Or(terms),
        })
    }

    fn primary(&mut self) -> Result<Expr> {
        let token = self.peek().clone();
        let kind = match &token.tok {
            Tok::Ellipsis => {
                self.next();
                ExprKind::Ellipsis
            }
            Tok::Int { value, hex } => {
                self.next();
                ExprKind::Int {
                    value: *value,
                    hex: *hex,
                }
            }
            Tok::Word(w) => {
                self.next();
                ExprKind::Word(w.clone())
            }
            Tok::Str(_) => {
                let mut text = String::new();
                while let Tok::Str(s) = &self.peek().tok {
                    text.push_str(s);
                    self.next();
                }
                ExprKind::Str(text)
            }
            Tok::Punct('[') => ExprKind::Array(self.array()?),
            Tok::Punct('{') => {
                self.next();
                self.braced()?
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr {
            span: token.span,
            kind,
        })
    }

    /// After `{`: the shapes packetdrill's grammar gives a meaning to, told apart by their first
    /// token, else a generic struct.
    fn braced(&mut self) -> Result<ExprKind> {
        let field_follows = self.peek_at(1) == &Tok::Punct('=');
        if self.peek().tok == Tok::Ellipsis && self.peek_at(1) == &Tok::Punct(',') {
            self.next();
            self.next();
            let len = self.expr()?;
            self.expect_punct('}')?;
            return Ok(ExprKind::Iovec { len: Box::new(len) });
        }
        if self.is_word("msg_name") {
            return self.msghdr();
        }
        if self.is_word("cmsg_level") && field_follows {
            let level = self.field_value("cmsg_level")?;
            self.expect_punct(',')?;
            let kind = self.field_value("cmsg_type")?;
            self.expect_punct(',')?;
            let data = self.field_value("cmsg_data")?;
            self.expect_punct('}')?;
            return Ok(ExprKind::Cmsg(Box::new(Cmsg { level, kind, data })));
        }
        if self.is_word("fd") && field_follows {
            let fd = self.field_value("fd")?;
            self.expect_punct(',')?;
            let events = self.field_value("events")?;
            let revents = if self.eat_punct(',') {
                Some(self.field_value("revents")?)
            } else {
                None
            };
            self.expect_punct('}')?;
            return Ok(ExprKind::Pollfd(Box::new(Pollfd {
                fd,
                events,
                revents,
            })));
        }
        let mut fields = Vec::new();
        if self.eat_punct('}') {
            return Ok(ExprKind::Struct(fields));
        }
        loop {
            let span = self.peek().span.clone();
            let name = match &self.peek().tok {
                Tok::Word(w) if self.peek_at(1) == &Tok::Punct('=') => {
                    let name = w.clone();
                    self.next();
                    self.next();
                    Some(name)
                }
                _ => None,
            };
            let value = self.expr()?;
            fields.push(Field { span, name, value });
            if self.eat_punct('}') {
                return Ok(ExprKind::Struct(fields));
            }
            if !self.eat_punct(',') {
                return Err(self.unexpected("`,` or `}`"));
            }
        }
    }

    /// `name=expr`
    fn field_value(&mut self, name: &str) -> Result<Expr> {
        self.expect_word(name)?;
        self.expect_punct('=')?;
        self.expr()
    }

    /// `{msg_name(...)=..., msg_iov(N)=[...], msg_flags=F[, msg_control=[...]]}` after `{`.
    fn msghdr(&mut self) -> Result<ExprKind> {
        self.expect_word("msg_name")?;
        self.expect_punct('(')?;
        self.expect_ellipsis()?;
        self.expect_punct(')')?;
        self.expect_punct('=')?;
        self.expect_ellipsis()?;
        self.expect_punct(',')?;
        self.expect_word("msg_iov")?;
        self.expect_punct('(')?;
        if !matches!(self.peek().tok, Tok::Int { hex: false, .. }) {
            return Err(self.unexpected("the iovec count (an integer)"));
        }
        let iovlen = self.primary()?;
        self.expect_punct(')')?;
        self.expect_punct('=')?;
        let iov = self.array()?;
        self.expect_punct(',')?;
        let flags = self.field_value("msg_flags")?;
        let control = if self.eat_punct(',') {
            self.expect_word("msg_control")?;
            self.expect_punct('=')?;
            Some(self.array()?)
        } else {
            None
        };
        self.expect_punct('}')?;
        Ok(ExprKind::Msghdr(Box::new(Msghdr {
            iovlen,
            iov,
            flags,
            control,
        })))
    }

    fn expect_ellipsis(&mut self) -> Result<()> {
        if self.peek().tok != Tok::Ellipsis {
            return Err(self.unexpected("`...`"));
        }
        self.next();
        Ok(())
    }

    fn array(&mut self) -> Result<Vec<Expr>> {
        self.expect_punct('[')?;
        if self.eat_punct(']') {
            return Ok(Vec::new());
        }
        self.expr_list(']')
    }
}

const IP_INFO: &str = "an IP field (`noecn`, `ect0`, `ect1`, `ce`, `ect01`, `tos 0x..`, `ttl N`)";
