//! Application processes on TCP sockets: `tcp_bulk` (iperf3-like: send or receive a byte count or
//! for a duration), `tcp_sink` (read and discard), `tcp_echo`, and `tcp_rr` (netperf TCP_RR:
//! request/response transactions). Each can be the client (`connect`) or the server (`listen`).
//!
//! A call that would block puts the process to sleep on its socket; `sk_data_ready`,
//! `sk_write_space`, the connection's state change or an accepted child wakes it, and it pays the
//! context switch (`wakeup_ns`) when it runs again. Each side keeps a CRC-32 of the byte stream
//! it sent and received, so a transfer can be checked end to end against the link partner.

use std::net::SocketAddrV4;

use serde::{Deserialize, Serialize};

use super::config::{config_error, AppConfig, StackConfigError};
use super::socket::SocketError;
use super::tcp::sock::TcpSockId;
use super::tcp::tcp_calls::{TcpSendFlags, TcpSockOpt};
use super::Stack;
use crate::ctx::Ctx;
use crate::time::Cycle;

/// What a `tcp_*` application does once connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpWork {
    /// Send `bytes` (or for `duration`), then close.
    BulkSend { bytes: u64, duration: Option<Cycle> },
    /// Read until the peer closes.
    Sink,
    /// Send back what arrives.
    Echo,
    /// Send a `request`-byte request, wait for a `response`-byte answer, `count` times.
    RrClient {
        request: usize,
        response: usize,
        count: u64,
    },
    /// Answer each `request`-byte request with `response` bytes.
    RrServer { request: usize, response: usize },
}

/// The scenario's description of one TCP application (the `tcp_*` kinds of `apps:`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpAppConfig {
    /// The client end: `connect: 10.0.0.2:5001`.
    #[serde(default)]
    pub connect: Option<SocketAddrV4>,
    /// The server end: `listen: 5001` (the first connection accepted is served).
    #[serde(default)]
    pub listen: Option<u16>,
    /// `tcp_bulk`: bytes to send (0 with `duration_ns` unset: receive instead).
    #[serde(default)]
    pub bytes: u64,
    /// `tcp_bulk`: send for this long instead of a byte count.
    #[serde(default)]
    pub duration_ns: Option<u64>,
    /// `tcp_bulk`: receive (the peer sends) rather than send.
    #[serde(default)]
    pub receive: bool,
    /// `tcp_rr`: request and response sizes and transactions (client).
    #[serde(default)]
    pub request: usize,
    #[serde(default)]
    pub response: usize,
    #[serde(default)]
    pub count: u64,
    /// Bytes per `write` / `read` system call.
    #[serde(default = "default_io_size")]
    pub write_size: usize,
    #[serde(default = "default_io_size")]
    pub read_size: usize,
    /// Start (client: connect; server: listen) this long after the interface is up.
    #[serde(default)]
    pub start_ns: u64,
    /// Goodput is reported per interval of this length.
    #[serde(default = "default_interval")]
    pub interval_ns: u64,
    #[serde(default)]
    pub nodelay: bool,
    /// `SO_SNDBUF` / `SO_RCVBUF` (bytes, doubled by the kernel; absent: autotuned from tcp_wmem/tcp_rmem).
    #[serde(default)]
    pub sndbuf: Option<usize>,
    #[serde(default)]
    pub rcvbuf: Option<usize>,
    /// Application work per read call (a slow reader leaves data queued).
    #[serde(default)]
    pub per_read_ns: u64,
}

impl TcpAppConfig {
    /// Checks one TCP application's values; `index` names it in errors.
    pub fn validate(&self, index: usize, kind: &AppConfig) -> Result<(), StackConfigError> {
        let field = |name: &str| format!("apps[{index}].{name}");
        match (self.connect, self.listen) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(config_error(
                    field("connect"),
                    "give exactly one of `connect` and `listen`",
                ))
            }
            (Some(a), None) if a.port() == 0 || a.ip().is_unspecified() => {
                return Err(config_error(
                    field("connect"),
                    format!("{a} is not a remote address"),
                ))
            }
            (None, Some(0)) => return Err(config_error(field("listen"), "must be a nonzero port")),
            _ => {}
        }
        for (name, v) in [
            ("write_size", self.write_size),
            ("read_size", self.read_size),
        ] {
            if !(1..=1 << 24).contains(&v) {
                return Err(config_error(
                    field(name),
                    format!("{v} is outside 1..=16777216"),
                ));
            }
        }
        if self.interval_ns == 0 {
            return Err(config_error(field("interval_ns"), "must be at least 1"));
        }
        match kind {
            AppConfig::TcpRr(_) => {
                if self.request == 0
                    || self.response == 0
                    || self.request > 1 << 24
                    || self.response > 1 << 24
                {
                    return Err(config_error(
                        field("request"),
                        "request and response must be 1..=16777216 bytes",
                    ));
                }
                if self.connect.is_some() && self.count == 0 {
                    return Err(config_error(
                        field("count"),
                        "a tcp_rr client needs count >= 1",
                    ));
                }
            }
            AppConfig::TcpBulk(_)
                if !self.receive && self.bytes == 0 && self.duration_ns.is_none() =>
            {
                return Err(config_error(
                    field("bytes"),
                    "a sending tcp_bulk needs `bytes` or `duration_ns`",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// What this application does once connected, for its kind.
    pub fn work(&self, kind: &AppConfig, clock: crate::time::Clock) -> TcpWork {
        match kind {
            AppConfig::TcpBulk(_) if self.receive => TcpWork::Sink,
            AppConfig::TcpBulk(_) => TcpWork::BulkSend {
                bytes: self.bytes,
                duration: self.duration_ns.map(|d| clock.ns_to_cycles(d)),
            },
            AppConfig::TcpEcho(_) => TcpWork::Echo,
            AppConfig::TcpRr(_) if self.connect.is_some() => TcpWork::RrClient {
                request: self.request,
                response: self.response,
                count: self.count,
            },
            AppConfig::TcpRr(_) => TcpWork::RrServer {
                request: self.request,
                response: self.response,
            },
            _ => TcpWork::Sink,
        }
    }
}

fn default_io_size() -> usize {
    65536
}

fn default_interval() -> u64 {
    10_000_000
}

/// What a TCP application did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpAppCounters {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// CRC-32 of the byte stream sent and of the stream received.
    pub sent_crc32: u32,
    pub received_crc32: u32,
    /// Cycle the connection was established and the application finished.
    pub connected_at: Option<Cycle>,
    pub finished_at: Option<Cycle>,
    /// The error that ended the connection (`ECONNREFUSED`, ...), if one did.
    pub error: Option<String>,
    /// Bytes received per `interval_ns` since the start (goodput series).
    pub received_per_interval: Vec<u64>,
    /// The socket's retransmissions.
    pub retransmits: u32,
    /// `tcp_rr`: completed transactions and their latencies (ns).
    pub transactions: u64,
    pub latency_ns: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for `start_ns`.
    Idle,
    Listening(TcpSockId),
    Connecting(TcpSockId),
    Connected(TcpSockId),
    /// The FIN is sent (or the connection failed); nothing more to do.
    Done,
}

/// One TCP application process.
#[derive(Debug)]
pub struct TcpApp {
    cfg: TcpAppConfig,
    work: TcpWork,
    phase: Phase,
    /// Bytes waiting to be written (echo replies, requests, responses, bulk chunks).
    pending: Vec<u8>,
    /// Bytes of the current request/response still expected.
    expect: usize,
    /// When the current transaction's request was written.
    txn_start: Option<Cycle>,
    start: Cycle,
    interval: Cycle,
    deadline: Option<Cycle>,
    sent_crc: crc32fast::Hasher,
    recv_crc: crc32fast::Hasher,
    pub counters: TcpAppCounters,
    /// Sleeping on this socket.
    sleeping_on: Option<TcpSockId>,
}

/// What one step asks of the scheduler.
pub enum TcpStep {
    /// Run again at this cycle.
    At(Cycle),
    /// Asleep until the socket wakes it.
    Sleep,
    /// Finished.
    Done,
}

impl TcpApp {
    pub fn new(cfg: &TcpAppConfig, work: TcpWork, start: Cycle, interval: Cycle) -> TcpApp {
        TcpApp {
            cfg: cfg.clone(),
            work,
            phase: Phase::Idle,
            pending: Vec::new(),
            expect: 0,
            txn_start: None,
            start,
            interval: interval.max(1),
            deadline: None,
            sent_crc: crc32fast::Hasher::new(),
            recv_crc: crc32fast::Hasher::new(),
            counters: TcpAppCounters::default(),
            sleeping_on: None,
        }
    }

    /// The socket this process sleeps on, if it sleeps.
    pub fn sleeping_on(&self) -> Option<TcpSockId> {
        self.sleeping_on
    }

    /// The connected socket, for the report.
    pub fn socket(&self) -> Option<TcpSockId> {
        match self.phase {
            Phase::Connected(s) | Phase::Connecting(s) | Phase::Listening(s) => Some(s),
            Phase::Idle | Phase::Done => None,
        }
    }

    /// The local port (the listener's or the connection's).
    pub fn port(&self) -> u16 {
        self.cfg
            .listen
            .or(self.cfg.connect.map(|a| a.port()))
            .unwrap_or(0)
    }

    /// One turn of the process: as many system calls as it can make without sleeping.
    pub fn step(&mut self, stack: &mut Stack, ctx: &mut Ctx, syscalls: &mut u64) -> TcpStep {
        if let Some(sk) = self.sleeping_on.take() {
            stack.tcp_clear_wakeup(sk);
            ctx.charge(ctx.costs.wakeup_ns);
        }
        loop {
            let r = match self.phase {
                Phase::Idle => self.open(stack, ctx, syscalls),
                Phase::Listening(l) => self.accept(stack, ctx, l, syscalls),
                Phase::Connecting(s) => self.connected(stack, ctx, s),
                Phase::Connected(s) => self.transfer(stack, ctx, s, syscalls),
                Phase::Done => return TcpStep::Done,
            };
            match r {
                Ok(true) => continue,
                Ok(false) => {
                    // Asleep on the current socket.
                    self.sleeping_on = self.socket();
                    return TcpStep::Sleep;
                }
                Err(step) => return step,
            }
        }
    }

    /// `socket` + options + `bind`/`listen` or `connect`.
    fn open(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        syscalls: &mut u64,
    ) -> Result<bool, TcpStep> {
        if ctx.now < self.start {
            return Err(TcpStep::At(self.start));
        }
        let sk = stack.tcp_socket(ctx);
        *syscalls += 1;
        let mut opts = vec![TcpSockOpt::NoDelay(self.cfg.nodelay)];
        opts.extend(self.cfg.sndbuf.map(TcpSockOpt::SndBuf));
        opts.extend(self.cfg.rcvbuf.map(TcpSockOpt::RcvBuf));
        for o in opts {
            *syscalls += 1;
            let _ = stack.tcp_setsockopt(ctx, sk, o);
        }
        let r = match (self.cfg.listen, self.cfg.connect) {
            (Some(port), _) => {
                *syscalls += 3;
                let _ = stack.tcp_setsockopt(ctx, sk, TcpSockOpt::ReuseAddr(true));
                stack
                    .tcp_bind(sk, SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, port))
                    .and_then(|()| stack.tcp_listen(sk, 128))
                    .map(|()| Phase::Listening(sk))
            }
            (None, addr) => {
                let addr = addr.unwrap_or(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
                *syscalls += 1;
                stack
                    .tcp_connect_call(ctx, sk, addr)
                    .map(|()| Phase::Connecting(sk))
            }
        };
        match r {
            Ok(p) => {
                self.phase = p;
                Ok(true)
            }
            Err(e) => Err(self.fail(ctx, e)),
        }
    }

    fn accept(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        l: TcpSockId,
        syscalls: &mut u64,
    ) -> Result<bool, TcpStep> {
        *syscalls += 1;
        match stack.tcp_accept(l) {
            Ok(sk) => {
                self.established(ctx, sk);
                Ok(true)
            }
            Err(SocketError::WouldBlock { .. }) => Ok(false),
            Err(e) => Err(self.fail(ctx, e)),
        }
    }

    fn connected(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        sk: TcpSockId,
    ) -> Result<bool, TcpStep> {
        match stack.tcp_connect_result(sk) {
            Ok(()) => {
                self.established(ctx, sk);
                Ok(true)
            }
            Err(SocketError::InProgress) => Ok(false),
            Err(e) => Err(self.fail(ctx, e)),
        }
    }

    fn established(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        self.phase = Phase::Connected(sk);
        self.counters.connected_at = Some(ctx.now);
        match self.work {
            TcpWork::BulkSend { duration, .. } => self.deadline = duration.map(|d| ctx.now + d),
            TcpWork::RrClient { .. } => self.next_request(ctx),
            TcpWork::RrServer { request, .. } => self.expect = request,
            TcpWork::Sink | TcpWork::Echo => {}
        }
    }

    /// `tcp_rr` client: the next request goes out (or the client closes after `count`).
    fn next_request(&mut self, ctx: &Ctx) {
        if let TcpWork::RrClient {
            request,
            response,
            count,
        } = self.work
        {
            if self.counters.transactions < count {
                self.pending = pattern(self.counters.bytes_sent, request);
                self.expect = response;
                self.txn_start = Some(ctx.now);
            }
        }
    }

    /// Writes what is pending, reads what arrived, and reacts; false when it must sleep.
    fn transfer(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        sk: TcpSockId,
        syscalls: &mut u64,
    ) -> Result<bool, TcpStep> {
        self.counters.retransmits = stack.tcp_total_retrans(sk);
        // Refill for a bulk sender.
        if let TcpWork::BulkSend { bytes, .. } = self.work {
            let expired = self.deadline.is_some_and(|d| ctx.now >= d);
            let left = if self.deadline.is_some() {
                if expired {
                    0
                } else {
                    u64::MAX
                }
            } else {
                bytes - self.counters.bytes_sent - self.pending.len() as u64
            };
            if self.pending.is_empty() && left > 0 {
                let n = (self.cfg.write_size as u64).min(left) as usize;
                self.pending = pattern(self.counters.bytes_sent, n);
            }
            if self.pending.is_empty() {
                return self.finish(stack, ctx, sk, syscalls);
            }
        }
        if !self.pending.is_empty() {
            *syscalls += 1;
            match stack.tcp_sendmsg(ctx, sk, &self.pending, TcpSendFlags::default()) {
                Ok(n) => {
                    self.sent_crc.update(&self.pending[..n]);
                    self.counters.bytes_sent += n as u64;
                    self.pending.drain(..n);
                    // A partial write loops: the next call sleeps on the full buffer.
                    return Ok(true);
                }
                Err(SocketError::WouldBlock { .. }) => return Ok(false),
                Err(e) => return Err(self.fail(ctx, e)),
            }
        }
        if matches!(self.work, TcpWork::RrClient { count, .. } if self.counters.transactions >= count)
        {
            return self.finish(stack, ctx, sk, syscalls);
        }
        *syscalls += 1;
        let max = if self.expect > 0 {
            self.expect.min(self.cfg.read_size)
        } else {
            self.cfg.read_size
        };
        match stack.tcp_recvmsg(ctx, sk, max) {
            Ok(data) if data.is_empty() => self.finish(stack, ctx, sk, syscalls),
            Ok(data) => {
                ctx.charge(self.cfg.per_read_ns);
                self.received(ctx, &data);
                Ok(true)
            }
            Err(SocketError::WouldBlock { .. }) => Ok(false),
            Err(e) => Err(self.fail(ctx, e)),
        }
    }

    fn received(&mut self, ctx: &Ctx, data: &[u8]) {
        self.recv_crc.update(data);
        self.counters.bytes_received += data.len() as u64;
        let bucket = (ctx.now.saturating_sub(self.start) / self.interval) as usize;
        let series = &mut self.counters.received_per_interval;
        if series.len() <= bucket {
            series.resize(bucket + 1, 0);
        }
        series[bucket] += data.len() as u64;
        match self.work {
            TcpWork::Echo => self.pending.extend_from_slice(data),
            TcpWork::RrServer { request, response } => {
                self.expect = self.expect.saturating_sub(data.len());
                if self.expect == 0 {
                    self.pending = pattern(self.counters.bytes_sent, response);
                    self.expect = request;
                    self.counters.transactions += 1;
                }
            }
            TcpWork::RrClient { .. } => {
                self.expect = self.expect.saturating_sub(data.len());
                if self.expect == 0 {
                    self.counters.transactions += 1;
                    if let Some(t) = self.txn_start.take() {
                        self.counters
                            .latency_ns
                            .push(ctx.clock.cycles_to_ns_floor(ctx.now - t));
                    }
                    self.next_request(ctx);
                }
            }
            TcpWork::BulkSend { .. } | TcpWork::Sink => {}
        }
    }

    /// `close`: the FIN goes out (or an RST if data is left unread); the application is done.
    fn finish(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        sk: TcpSockId,
        syscalls: &mut u64,
    ) -> Result<bool, TcpStep> {
        *syscalls += 1;
        let _ = stack.tcp_close(ctx, sk);
        self.done(ctx);
        Err(TcpStep::Done)
    }

    fn done(&mut self, ctx: &Ctx) {
        self.phase = Phase::Done;
        self.counters.finished_at = Some(ctx.now);
        self.counters.sent_crc32 = self.sent_crc.clone().finalize();
        self.counters.received_crc32 = self.recv_crc.clone().finalize();
    }

    fn fail(&mut self, ctx: &Ctx, e: SocketError) -> TcpStep {
        self.counters.error = Some(e.to_string());
        self.done(ctx);
        TcpStep::Done
    }
}

/// The bytes a sender writes at stream offset `offset`: a position-dependent pattern (so a
/// reordered or duplicated byte changes the receiver's CRC).
fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((offset + i) % 251) as u8)
        .collect()
}
