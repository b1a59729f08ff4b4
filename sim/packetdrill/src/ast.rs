//! The typed form of a packetdrill script. Every node a runner reports on carries a [`Span`]. Numbers
//! are kept as written (relative sequence numbers, microseconds); giving them meaning is the runner's
//! job.

use std::fmt;
use std::sync::Arc;

/// Where a node starts: file, 1-based line and 1-based column (in characters; a tab counts as one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A whole script, in packetdrill's order: options, an optional untimed setup command, the events, an
/// optional untimed cleanup command.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    pub file: Arc<str>,
    /// `--name=value` lines before the first command or event (packetdrill's command-line options).
    pub options: Vec<ScriptOption>,
    /// The untimed backquoted command before the first event (usually `defaults.sh` and sysctls).
    pub init_command: Option<Command>,
    pub events: Vec<Event>,
    /// The untimed backquoted command after the last event (e.g. a sysctl restore).
    pub cleanup_command: Option<Command>,
    /// `//` and `/* */` comments, in file order, for runners that quote the context of a failure.
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOption {
    pub span: Span,
    /// Without the leading `--`.
    pub name: String,
    /// The text after `=`, unquoted if it was a `"string"`; `None` for a bare `--flag`.
    pub value: Option<String>,
}

/// A backquoted shell command, its text exactly as between the backquotes (newlines and `\`
/// continuations included).
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub span: Span,
    /// Without the `//` or `/* */` delimiters.
    pub text: String,
    pub block: bool,
}

/// One timed line of the timeline; `span` is where its time is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub span: Span,
    pub time: Time,
    pub action: Action,
}

/// When an event happens, in microseconds. Relative times count from the previous event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// `0.100`
    Absolute(u64),
    /// `+.1`
    Relative(u64),
    /// `0.1~0.2` (outbound packets only)
    AbsoluteRange { start: u64, end: u64 },
    /// `+0~+0.2` (outbound packets only)
    RelativeRange { start: u64, end: u64 },
    /// `*` (outbound packets only)
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Packet(Packet),
    Syscall(Syscall),
    /// A timed backquoted command, e.g. `+0 \`tc qdisc replace ...\``.
    Command(Command),
    /// A `%{ ... }%` block: Python run by packetdrill against `tcp_info` (`tcpi_*` names). A runner
    /// without a Python interpreter reports these as unsupported.
    Python(PythonBlock),
}

#[derive(Clone, Debug, PartialEq)]
pub struct PythonBlock {
    pub span: Span,
    /// Between `%{` and `}%`, with surrounding spaces and tabs trimmed as packetdrill does.
    pub code: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the remote side sends it to the host under test.
    Inbound,
    /// `>`: the host under test must send it.
    Outbound,
}

/// A TCP segment; `span` is where its direction is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    pub span: Span,
    pub direction: Direction,
    /// `[ect0]`, `(tos 0x4)`, ... before the flags.
    pub ip: Option<IpInfo>,
    pub flags: TcpFlags,
    /// `start:end(len)`, relative to the initial sequence number; `end == start + len` is checked.
    pub seq_start: u32,
    pub seq_end: u32,
    pub payload_len: u16,
    /// `ack N`; `None` when absent.
    pub ack: Option<u32>,
    /// `win N`, required on inbound packets; `None` on an outbound one: packetdrill does not check it.
    pub win: Option<u16>,
    /// `urg N`.
    pub urg: Option<u16>,
    /// Checked to fill whole 32-bit words and at most 40 bytes ([`TcpOptionKind::wire_len`]).
    pub options: TcpOptions,
}

/// The TCP flags as written: `S`, `.` (ACK), `P.`, `F.`, `R`, `SEW`, or `-` for none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub fin: bool,
    pub syn: bool,
    pub rst: bool,
    pub psh: bool,
    pub ack: bool,
    pub urg: bool,
    /// `E`
    pub ece: bool,
    /// `W`
    pub cwr: bool,
    /// `A` (AccECN's AE bit)
    pub ae: bool,
}

/// The IP header fields a packet line may pin, written in `[...]` or `(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct IpInfo {
    pub span: Span,
    pub kind: IpInfoKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpInfoKind {
    /// `noecn`, `ect0`, `ect1`, `ce`: the ECN codepoint must be exactly this.
    Ecn(Ecn),
    /// `ect01`: either ECT codepoint (outbound packets only).
    EctAny,
    /// `tos 0x..`: the whole TOS byte.
    Tos(u8),
    /// `ttl N`
    Ttl(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ecn {
    NotEct,
    Ect0,
    Ect1,
    Ce,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TcpOptions {
    /// `<...>`: do not check the options (outbound packets only).
    Unchecked(Span),
    /// `<mss 1460,nop,...>`, empty when the line has no `<...>` part.
    List(Vec<TcpOption>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TcpOption {
    pub span: Span,
    pub kind: TcpOptionKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOptionKind {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// `sack 1:2 3:4`: (left, right) edges, relative like the sequence numbers.
    Sack(Vec<(u32, u32)>),
    /// `TS val V ecr E`
    Timestamp {
        val: u32,
        ecr: u32,
    },
}

impl TcpOptionKind {
    /// Bytes on the wire, kind and length octets included.
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOptionKind::Nop | TcpOptionKind::Eol => 1,
            TcpOptionKind::SackPermitted => 2,
            TcpOptionKind::WindowScale(_) => 3,
            TcpOptionKind::Mss(_) => 4,
            TcpOptionKind::Timestamp { .. } => 10,
            TcpOptionKind::Sack(blocks) => 2 + 8 * blocks.len(),
        }
    }
}

/// A system call and its expected outcome; `span` is where its name is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Syscall {
    pub span: Span,
    pub name: String,
    /// `+0...0.200 accept(...)`: the call blocks and returns at this time, in microseconds, on the same
    /// base as the event's start (absolute for an absolute start, relative to the previous event for a
    /// relative one, as packetdrill's `adjust_relative_event_times` does).
    pub blocking_end: Option<u64>,
    pub args: Vec<Expr>,
    /// The value after `=` (`0`, `-1`, `0x2`, `...`).
    pub result: Expr,
    /// `EINPROGRESS (Operation now in progress)`.
    pub errno: Option<Errno>,
    /// A trailing `(...)` without an errno, e.g. `= 0x2 (flags O_RDWR)`.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Errno {
    pub span: Span,
    pub name: String,
    /// The parenthesised text, e.g. `Connection refused`; packetdrill ignores it.
    pub strerror: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `...`: packetdrill fills in or ignores the value.
    Ellipsis,
    /// A decimal or `0x` integer; `hex` keeps how it was written.
    Int { value: i64, hex: bool },
    /// A named constant, e.g. `SOCK_STREAM`, `NULL`.
    Word(String),
    /// `"text"` (adjacent strings are concatenated, as in C).
    Str(String),
    /// `A|B|C`, flattened in written order.
    Or(Vec<Expr>),
    /// `[a, b]`, e.g. an option value `[1]` or a socklen `[4]`.
    Array(Vec<Expr>),
    /// `{a=1, b}` when it is none of the shapes below.
    Struct(Vec<Field>),
    /// `{..., 1000}`: an iovec with an unspecified base and this length.
    Iovec { len: Box<Expr> },
    /// `{msg_name(...)=..., msg_iov(N)=[...], msg_flags=F[, msg_control=[...]]}`.
    Msghdr(Box<Msghdr>),
    /// `{cmsg_level=L, cmsg_type=T, cmsg_data=D}`.
    Cmsg(Box<Cmsg>),
    /// `{fd=F, events=E[, revents=R]}`.
    Pollfd(Box<Pollfd>),
}

/// One member of a `{...}` struct: `name=value`, or a bare value.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub span: Span,
    pub name: Option<String>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Msghdr {
    /// The `N` of `msg_iov(N)`.
    pub iovlen: Expr,
    pub iov: Vec<Expr>,
    pub flags: Expr,
    /// `None` when `msg_control` is absent.
    pub control: Option<Vec<Expr>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cmsg {
    pub level: Expr,
    pub kind: Expr,
    pub data: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pollfd {
    pub fd: Expr,
    pub events: Expr,
    /// `None` when absent (packetdrill then expects 0).
    pub revents: Option<Expr>,
}
