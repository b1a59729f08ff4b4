//! `nicsim packetdrill SCRIPT...`: Linux's packetdrill TCP tests against the host's TCP, through
//! the Verilated NIC, in simulated time.
//!
//! The script's remote side is a [`ScriptedPartner`] on the link: its `<` segments are built as
//! written and put on the wire at their times. `>` segments are taken where Linux's packetdrill sees
//! them, at the host's transmit tap (`dev_queue_xmit_nit` from `dev_hard_start_xmit`), and compared
//! field by field (flags, sequence and ack numbers relative to each side's ISN, payload length,
//! window, options in order, TOS/ECN) and in time, with packetdrill's tolerance. System calls run on
//! the host's application CPU, one at a time, as packetdrill's system-call thread makes them
//! ([`host_driver::stack::syscall`]); a call written with a duration (`+0...0.2`) runs on while the
//! following events happen and must return within its window. Python blocks of the
//! `assert tcpi_x == N` kind are evaluated against `TCP_INFO`. The first mismatch ends the script as
//! a fail; the first feature this runner or host lacks ends it as unsupported, naming it.

mod partner;
mod python;
mod segment;
mod setup;

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use host_driver::config::HostConfig;
use host_driver::host::Host;
use host_driver::stack::config::{Cidr, NeighbourConfig, TapConfig};
use host_driver::stack::packet_tap::Direction as TapDirection;
use host_driver::stack::socket::SocketError;
use host_driver::stack::syscall::{SysCall, SysCompletion, SysRet};
use host_driver::stack::tcp::sock::TcpSockId;
use host_driver::stack::tcp::sysctl::TcpSysctl;
use host_driver::stack::tcp::tcp_calls::{Shutdown, TcpInfo, TcpSendFlags, TcpSockOpt};
use host_driver::time::{Clock, Cycle};
use host_driver::wire::ethernet::MacAddr;
use host_driver::wire::tcp::flags;
use nicsim_packetdrill::{
    Action, Direction, Ecn, Expr, ExprKind, IpInfoKind, Packet, ParseError, Script, Syscall,
    TcpOptions, Time,
};
use nicsim_world::world::{World, WorldConfig};

use partner::ScriptedPartner;
use python::Python;
use segment::{flag_byte, flag_text, InboundSegment, OutboundSegment, WireOption};

/// packetdrill's default tolerance for event times.
pub const DEFAULT_TOLERANCE_USECS: u64 = 4_000;
/// The file `nicsim packetdrill` writes.
pub const REPORT_FILE: &str = "packetdrill.txt";

const LOCAL_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const REMOTE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
/// packetdrill's default local address, with the remote side on the same link.
const LOCAL_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 2);
/// packetdrill's `bind(fd, ..., ...)` port and a remote port.
const LOCAL_PORT: u16 = 8080;
const REMOTE_PORT: u16 = 48_879;
/// The remote side's initial sequence number (packetdrill's is arbitrary too).
const REMOTE_ISN: u32 = 0x2d00_0000;
/// Simulated time between the interface coming up and the script's time 0.
const SETTLE_US: u64 = 100;
/// How long a `*` packet is waited for.
const ANY_TIME_WAIT_US: u64 = 2_000_000;
/// Simulation slice while waiting for a packet or a call.
const SLICE_US: u64 = 2;

/// What became of one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The first mismatch: the script's line, what it expected, what the host did.
    Fail {
        line: u32,
        expected: String,
        got: String,
    },
    /// The first thing this runner or host cannot do.
    Unsupported {
        line: u32,
        feature: String,
    },
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Unsupported { .. } => "unsupported",
        }
    }
}

/// One script's outcome, with the simulated time it covered and the wall time it took.
#[derive(Debug, Clone)]
pub struct ScriptReport {
    pub path: PathBuf,
    pub verdict: Verdict,
    pub simulated_us: u64,
    pub wall: Duration,
}

impl ScriptReport {
    /// One line of `packetdrill.txt`.
    pub fn line(&self) -> String {
        let head = format!("{} {}", self.verdict.label(), self.path.display());
        let times = format!(
            "[{:.3} s simulated, {:.1} s wall]",
            self.simulated_us as f64 / 1e6,
            self.wall.as_secs_f64()
        );
        match &self.verdict {
            Verdict::Pass => format!("{head} {times}"),
            Verdict::Fail {
                line,
                expected,
                got,
            } => format!("{head}:{line}: expected {expected}; got {got} {times}"),
            Verdict::Unsupported { line, feature } => {
                format!("{head}:{line}: unsupported: {feature} {times}")
            }
        }
    }
}

/// Runs `script` (parsed from `path`); `tolerance_usecs` is the command line's default, which the
/// script's own `--tolerance_usecs` overrides.
pub fn run_script(path: &Path, tolerance_usecs: u64) -> Result<ScriptReport, ParseError> {
    let script = nicsim_packetdrill::parse_file(path)?;
    let wall = Instant::now();
    let mut simulated_us = 0;
    let verdict = match Run::start(&script, path, tolerance_usecs) {
        Ok(mut run) => {
            let v = match run.events(&script) {
                Ok(()) => Verdict::Pass,
                Err(stop) => stop,
            };
            simulated_us = run.now_us();
            v
        }
        Err(stop) => stop,
    };
    Ok(ScriptReport {
        path: path.to_path_buf(),
        verdict,
        simulated_us,
        wall: wall.elapsed(),
    })
}

fn unsupported(line: u32, feature: impl Into<String>) -> Verdict {
    Verdict::Unsupported {
        line,
        feature: feature.into(),
    }
}

fn fail(line: u32, expected: impl Into<String>, got: impl Into<String>) -> Verdict {
    Verdict::Fail {
        line,
        expected: expected.into(),
        got: got.into(),
    }
}

/// A script fd.
#[derive(Debug, Clone, Copy)]
struct Fd {
    sk: TcpSockId,
    nonblock: bool,
}

/// A call written with a duration, running while later events happen.
#[derive(Debug)]
struct Blocking {
    line: u32,
    call: Syscall,
    /// When it must return, script µs.
    end_us: u64,
}

/// What is known of the connection under test.
#[derive(Debug, Default)]
struct Conn {
    local_isn: Option<u32>,
    local_port: u16,
    /// The latest outbound timestamp: (the script's TS val, the host's), to turn the script's
    /// `ecr` into the value the host sent.
    ts: Option<(u32, u32)>,
    /// The first outbound timestamp, the origin `--tcp_ts_tick_usecs` counts the host's TS val from.
    ts_first: Option<(u32, u32)>,
}

struct Run {
    world: World<ScriptedPartner>,
    host: Host,
    clock: Clock,
    t0: Cycle,
    tol_us: u64,
    /// `--tcp_ts_tick_usecs`: the host's TS val must advance like the script's, in ticks of this.
    ts_tick_us: Option<u64>,
    fds: BTreeMap<i64, Fd>,
    /// The socket `tcp_info` is read from: the last one accepted or connected.
    test_fd: Option<i64>,
    conn: Conn,
    /// Segments the host sent, not yet matched, with their tap cycle.
    tx: VecDeque<(Cycle, OutboundSegment)>,
    /// Segments put on the wire, and those the host's receive tap has seen.
    rx_sent: u64,
    rx_seen: u64,
    ip_id: u16,
    blocking: Option<Blocking>,
    python: Python,
}

impl Run {
    fn start(script: &Script, path: &Path, tolerance_usecs: u64) -> Result<Run, Verdict> {
        let mut tol_us = tolerance_usecs;
        let mut ts_tick_us = None;
        for o in &script.options {
            match (o.name.as_str(), o.value.as_deref().map(str::parse::<u64>)) {
                ("tolerance_usecs", Some(Ok(v))) => tol_us = v,
                ("tcp_ts_tick_usecs", Some(Ok(v))) if v > 0 => ts_tick_us = Some(v),
                _ => return Err(unsupported(o.span.line, format!("option --{}", o.name))),
            }
        }
        let mut tcp = TcpSysctl::default();
        if let Some(c) = &script.init_command {
            let dir = path.parent().unwrap_or(Path::new("."));
            setup::apply_command(&c.text, dir, &mut tcp)
                .map_err(|e| unsupported(c.span.line, e.0))?;
        }
        let mut cfg = HostConfig {
            mac: LOCAL_MAC,
            seed: 1,
            ..HostConfig::default()
        };
        cfg.stack.address = Cidr {
            addr: LOCAL_IP,
            prefix_len: 24,
        };
        cfg.stack.neighbours = vec![NeighbourConfig {
            ip: REMOTE_IP,
            mac: REMOTE_MAC,
        }];
        cfg.stack.taps = vec![TapConfig {
            name: "packetdrill".into(),
            ethertype: None,
            snaplen: 128,
            ring_frames: 1 << 20,
        }];
        cfg.stack.tcp = tcp;
        // packetdrill's tun device (without IFF_NAPI) hands every segment up alone.
        cfg.features.generic_receive_offload = false;
        let clock = cfg.clock;
        let bad = |e: String| unsupported(0, format!("host configuration: {e}"));
        let mut world = World::with_partner(WorldConfig {
            ps_per_cycle: clock.ps_per_cycle,
            pcie_one_way_ns: cfg.costs.pcie_one_way_ns,
            ..WorldConfig::default()
        })
        .map_err(|e| bad(e.to_string()))?;
        world.attach_partner(ScriptedPartner::default());
        let mut host = Host::new(cfg).map_err(|e| bad(e.to_string()))?;
        host.probe(&mut world).map_err(|e| bad(e.to_string()))?;
        let t0 = world.cycle() + clock.ns_to_cycles(SETTLE_US * 1000);
        let mut run = Run {
            world,
            host,
            clock,
            t0,
            tol_us,
            ts_tick_us,
            fds: BTreeMap::new(),
            test_fd: None,
            conn: Conn {
                local_port: LOCAL_PORT,
                ..Conn::default()
            },
            tx: VecDeque::new(),
            rx_sent: 0,
            rx_seen: 0,
            ip_id: 0,
            blocking: None,
            python: Python::default(),
        };
        run.advance_to(t0);
        run.tx.clear();
        Ok(run)
    }

    fn cycle_at(&self, us: u64) -> Cycle {
        self.t0 + self.clock.ns_to_cycles(us * 1000)
    }

    fn now_us(&self) -> u64 {
        self.us_of(self.world.cycle())
    }

    fn us_of(&self, c: Cycle) -> u64 {
        self.clock.cycles_to_ns_floor(c.saturating_sub(self.t0)) / 1000
    }

    /// Simulates up to cycle `until`, collecting what the host's taps saw.
    fn advance_to(&mut self, until: Cycle) {
        if until > self.world.cycle() {
            self.world.run_host(&mut self.host, until);
        }
        for (_, records) in self.host.drain_taps() {
            for r in records {
                let Some(seg) = OutboundSegment::parse(&r.data) else {
                    continue;
                };
                match r.direction {
                    TapDirection::Rx => self.rx_seen += 1,
                    TapDirection::Tx => self.tx.push_back((r.at, seg)),
                }
            }
        }
    }

    fn slice(&mut self) {
        let next = self.world.cycle() + self.clock.ns_to_cycles(SLICE_US * 1000);
        self.advance_to(next);
    }

    fn events(&mut self, script: &Script) -> Result<(), Verdict> {
        let mut base = 0u64;
        for ev in &script.events {
            let line = ev.span.line;
            let (start, end) = match ev.time {
                Time::Absolute(t) => (Some(t), Some(t)),
                Time::Relative(d) => (Some(base + d), Some(base + d)),
                Time::AbsoluteRange { start, end } => (Some(start), Some(end)),
                Time::RelativeRange { start, end } => (Some(base + start), Some(base + end)),
                Time::Any => (None, None),
            };
            match &ev.action {
                Action::Packet(p) if p.direction == Direction::Inbound => {
                    self.inbound(p, start.unwrap_or(0))
                }
                Action::Packet(p) => {
                    let at = self.outbound(p, line, start, end)?;
                    if start.is_none() {
                        base = at;
                    }
                }
                Action::Syscall(s) => {
                    // The duration's end is on the same base as the start.
                    let end_us = s.blocking_end.map(|e| match ev.time {
                        Time::Relative(_) => base + e,
                        _ => e,
                    });
                    self.syscall(s, line, start.unwrap_or(base), end_us)?
                }
                Action::Command(c) => {
                    return Err(unsupported(line, format!("timed shell line `{}`", c.text)))
                }
                Action::Python(b) => {
                    let at = start.unwrap_or(base);
                    self.advance_to(self.cycle_at(at));
                    self.wait_rx_taken(at + self.tol_us);
                    if self.blocking.is_some() {
                        return Err(unsupported(line, "a Python block while a call blocks"));
                    }
                    let info = self.tcp_info(line)?;
                    self.python.run(&b.code, &info).map_err(|e| match e {
                        python::Error::Unsupported(what) => unsupported(line, what),
                        python::Error::Assert { expected, got } => fail(line, expected, got),
                    })?;
                }
            }
            if let Some(s) = start {
                base = s;
            }
        }
        if let Some(b) = self.blocking.take() {
            self.finish_blocking(b)?;
        }
        Ok(())
    }

    /// `<`: built as written and put on the wire at `at_us`.
    fn inbound(&mut self, p: &Packet, at_us: u64) {
        let at = self.cycle_at(at_us);
        self.advance_to(at);
        let local_isn = self.conn.local_isn.unwrap_or(0);
        let options = match &p.options {
            TcpOptions::List(l) => l
                .iter()
                .map(|o| match WireOption::from_script(&o.kind, local_isn) {
                    WireOption::Timestamp { val, ecr } => WireOption::Timestamp {
                        val,
                        ecr: match self.conn.ts {
                            Some((script, live)) => ecr.wrapping_sub(script).wrapping_add(live),
                            None => ecr,
                        },
                    },
                    o => o,
                })
                .collect(),
            TcpOptions::Unchecked(_) => Vec::new(),
        };
        let seg = InboundSegment {
            src_mac: REMOTE_MAC,
            dst_mac: LOCAL_MAC,
            src: REMOTE_IP,
            dst: LOCAL_IP,
            tos: p.ip.as_ref().map_or(0, |i| tos_of(i.kind)),
            src_port: REMOTE_PORT,
            dst_port: self.conn.local_port,
            seq: REMOTE_ISN.wrapping_add(p.seq_start),
            ack: p.ack.map_or(0, |a| local_isn.wrapping_add(a)),
            flags: flag_byte(&p.flags),
            window: p.win.unwrap_or(0),
            urg: p.urg.unwrap_or(0),
            options,
            payload_len: usize::from(p.payload_len),
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        self.rx_sent += 1;
        let frame = seg.frame(self.ip_id);
        let at = at.max(self.world.cycle());
        self.world
            .partner_mut()
            .expect("attached")
            .send_at(frame, at);
    }

    /// `>`: the next segment the host transmitted, compared with the script; returns its time (µs).
    fn outbound(
        &mut self,
        p: &Packet,
        line: u32,
        start: Option<u64>,
        end: Option<u64>,
    ) -> Result<u64, Verdict> {
        let deadline = match end {
            Some(e) => e + self.tol_us,
            None => self.now_us() + ANY_TIME_WAIT_US,
        };
        let deadline = self.cycle_at(deadline);
        while self.tx.is_empty() && self.world.cycle() < deadline {
            self.slice();
        }
        let want = self.expected_text(p);
        let Some((at, seg)) = self.tx.pop_front() else {
            return Err(fail(
                line,
                format!("{want} at {}", secs(start.unwrap_or(0))),
                format!("no packet by {}", secs(self.now_us())),
            ));
        };
        let at_us = self.us_of(at);
        if seg.flags & flags::SYN != 0 {
            self.conn.local_isn = Some(seg.seq.wrapping_sub(p.seq_start));
            self.conn.local_port = seg.src_port;
        }
        let got = self.actual_text(&seg);
        // More than one segment's payload at the transmit tap needs TSO, which the host lacks.
        let tso = match usize::from(p.payload_len) > seg.payload_len && seg.payload_len > 0 {
            true => "; a TSO super-packet, the host has no TSO",
            false => "",
        };
        let mismatch = |what: &str| {
            fail(
                line,
                format!("{want} ({what}{tso})"),
                format!("{got} at {}", secs(at_us)),
            )
        };
        let local_isn = self.conn.local_isn.unwrap_or(0);
        if seg.dst_port != REMOTE_PORT {
            return Err(mismatch("destination port"));
        }
        if seg.flags != flag_byte(&p.flags) {
            return Err(mismatch("flags"));
        }
        if seg.seq.wrapping_sub(local_isn) != p.seq_start {
            return Err(mismatch("sequence number"));
        }
        if seg.payload_len != usize::from(p.payload_len) {
            return Err(mismatch("payload length"));
        }
        if let Some(a) = p.ack {
            if seg.ack.wrapping_sub(REMOTE_ISN) != a {
                return Err(mismatch("ack number"));
            }
        }
        if let Some(w) = p.win {
            if seg.window != w {
                return Err(mismatch("window"));
            }
        }
        if let Some(ip) = &p.ip {
            let ok = match ip.kind {
                IpInfoKind::Ecn(e) => seg.tos & 3 == ecn_bits(e),
                IpInfoKind::EctAny => matches!(seg.tos & 3, 1 | 2),
                IpInfoKind::Tos(t) => seg.tos == t,
                IpInfoKind::Ttl(_) => true,
            };
            if !ok {
                return Err(mismatch("IP TOS/ECN"));
            }
        }
        if let TcpOptions::List(l) = &p.options {
            let want: Vec<WireOption> = l
                .iter()
                .map(|o| WireOption::from_script(&o.kind, REMOTE_ISN))
                .collect();
            if !options_match(&want, &seg.options) {
                return Err(mismatch("options"));
            }
            let script_ts = want.iter().find_map(|o| match o {
                WireOption::Timestamp { val, .. } => Some(*val),
                _ => None,
            });
            let live_ts = seg.options.iter().find_map(|o| match o {
                WireOption::Timestamp { val, .. } => Some(*val),
                _ => None,
            });
            if let (Some(s), Some(l)) = (script_ts, live_ts) {
                self.conn.ts = Some((s, l));
                let (s0, l0) = *self.conn.ts_first.get_or_insert((s, l));
                if let Some(tick) = self.ts_tick_us {
                    let drift = l.wrapping_sub(l0).wrapping_sub(s.wrapping_sub(s0)) as i32;
                    if u64::from(drift.unsigned_abs()) > self.tol_us / tick + 1 {
                        return Err(mismatch("TS val"));
                    }
                }
            }
        }
        if let (Some(s), Some(e)) = (start, end) {
            if at_us + self.tol_us < s || at_us > e + self.tol_us {
                let when = match s == e {
                    true => secs(s),
                    false => format!("{}~{}", secs(s), secs(e)),
                };
                return Err(fail(
                    line,
                    format!("{want} at {when} (tolerance {})", secs(self.tol_us)),
                    format!("{got} at {}", secs(at_us)),
                ));
            }
        }
        Ok(at_us)
    }

    fn expected_text(&self, p: &Packet) -> String {
        let mut s = format!(
            "{} {}:{}({})",
            flag_text(flag_byte(&p.flags)),
            p.seq_start,
            p.seq_end,
            p.payload_len
        );
        if let Some(a) = p.ack {
            s += &format!(" ack {a}");
        }
        if let Some(w) = p.win {
            s += &format!(" win {w}");
        }
        if let TcpOptions::List(l) = &p.options {
            let opts: Vec<WireOption> = l
                .iter()
                .map(|o| WireOption::from_script(&o.kind, 0))
                .collect();
            s += &options_text(&opts, 0);
        }
        s
    }

    fn actual_text(&self, seg: &OutboundSegment) -> String {
        let seq = seg.seq.wrapping_sub(self.conn.local_isn.unwrap_or(0));
        let mut s = format!(
            "{} {}:{}({})",
            flag_text(seg.flags),
            seq,
            seq.wrapping_add(seg.payload_len as u32),
            seg.payload_len
        );
        if seg.flags & flags::ACK != 0 {
            s += &format!(" ack {}", seg.ack.wrapping_sub(REMOTE_ISN));
        }
        s += &format!(" win {}", seg.window);
        s + &options_text(&seg.options, REMOTE_ISN)
    }

    /// A system call at `start_us`; one written with a duration must return at `end_us`.
    fn syscall(
        &mut self,
        s: &Syscall,
        line: u32,
        start_us: u64,
        end_us: Option<u64>,
    ) -> Result<(), Verdict> {
        if let Some(b) = self.blocking.take() {
            self.finish_blocking(b)?;
        }
        self.advance_to(self.cycle_at(start_us));
        self.wait_rx_taken(start_us + self.tol_us);
        let (call, blocking) = match self.translate(s, line)? {
            Translated::Host(call, blocking) => (call, blocking),
            Translated::Local(ret) => return self.check(s, line, ret),
        };
        let at = self.world.cycle();
        self.host.submit_syscall(call, at, blocking);
        self.world.wake_host(at);
        match end_us {
            Some(end_us) => {
                self.blocking = Some(Blocking {
                    line,
                    call: s.clone(),
                    end_us,
                });
                Ok(())
            }
            None => {
                let c = self.wait_call(start_us + self.tol_us);
                let Some(c) = c else {
                    return Err(fail(
                        line,
                        format!("{} to return by {}", s.name, secs(start_us)),
                        format!("still blocked at {}", secs(self.now_us())),
                    ));
                };
                let ret = self.returned(s, c);
                self.check(s, line, ret)
            }
        }
    }

    /// Runs until the host's stack has taken every segment sent so far, at the latest by
    /// `deadline_us`: packetdrill's write to its tun device returns once the stack took the
    /// segment, while here it first crosses the wire, the NIC and NAPI (microseconds).
    fn wait_rx_taken(&mut self, deadline_us: u64) {
        let deadline = self.cycle_at(deadline_us);
        while self.rx_seen < self.rx_sent && self.world.cycle() < deadline {
            self.slice();
        }
    }

    /// Runs until the call in flight returns, at the latest by `deadline_us`.
    fn wait_call(&mut self, deadline_us: u64) -> Option<SysCompletion> {
        let deadline = self.cycle_at(deadline_us);
        loop {
            if let Some(c) = self.host.take_syscall_completion() {
                return Some(c);
            }
            if self.world.cycle() >= deadline {
                return None;
            }
            self.slice();
        }
    }

    fn finish_blocking(&mut self, b: Blocking) -> Result<(), Verdict> {
        let Some(c) = self.wait_call(b.end_us + self.tol_us) else {
            return Err(fail(
                b.line,
                format!("{} to return at {}", b.call.name, secs(b.end_us)),
                format!("still blocked at {}", secs(self.now_us())),
            ));
        };
        let at_us = self.us_of(c.at);
        if at_us + self.tol_us < b.end_us {
            return Err(fail(
                b.line,
                format!("{} to return at {}", b.call.name, secs(b.end_us)),
                format!("returned at {}", secs(at_us)),
            ));
        }
        let ret = self.returned(&b.call, c);
        self.check(&b.call, b.line, ret)
    }

    /// The value and errno a completed call gives the script; new fds get numbers here.
    fn returned(&mut self, s: &Syscall, c: SysCompletion) -> Ret {
        match c.result {
            Ok(SysRet::Sock(sk)) => {
                let fd = (3..).find(|f| !self.fds.contains_key(f)).expect("free fd");
                self.fds.insert(
                    fd,
                    Fd {
                        sk,
                        nonblock: false,
                    },
                );
                if s.name == "accept" {
                    self.test_fd = Some(fd);
                }
                Ret::value(fd)
            }
            Ok(SysRet::Done) => {
                if s.name == "close" {
                    if let Some(fd) = int_arg(s, 0) {
                        self.fds.remove(&fd);
                    }
                }
                if s.name == "connect" {
                    self.test_fd = int_arg(s, 0);
                }
                Ret::value(0)
            }
            Ok(SysRet::Bytes(n)) => Ret::value(n as i64),
            Ok(SysRet::OptValue(v)) => Ret {
                value: 0,
                errno: None,
                out: Some(i64::from(v)),
            },
            Ok(SysRet::InqOutq(inq, outq)) => Ret {
                value: 0,
                errno: None,
                out: Some(i64::from(match word_arg(s, 1) {
                    Some("SIOCOUTQ") => outq,
                    _ => inq,
                })),
            },
            Ok(SysRet::Info(_)) => Ret::value(0),
            Err(e) => {
                if s.name == "connect" && e == SocketError::InProgress {
                    self.test_fd = int_arg(s, 0);
                }
                Ret::error(errno_name(&e))
            }
        }
    }

    /// Compares what a call returned with what the script expects.
    fn check(&self, s: &Syscall, line: u32, ret: Ret) -> Result<(), Verdict> {
        let got = match ret.errno {
            Some(e) => format!("{} = {} ({e})", s.name, ret.value),
            None => format!("{} = {}", s.name, ret.value),
        };
        let value_ok = match &s.result.kind {
            ExprKind::Ellipsis => true,
            ExprKind::Int { value, .. } => *value == ret.value,
            _ => return Err(unsupported(line, format!("{} result form", s.name))),
        };
        let want_errno = s.errno.as_ref().map(|e| e.name.as_str());
        let expected = match want_errno {
            Some(e) => format!("{} = {} ({e})", s.name, expr_text(&s.result)),
            None => format!("{} = {}", s.name, expr_text(&s.result)),
        };
        if !value_ok || (want_errno.is_some() && want_errno != ret.errno) {
            return Err(fail(line, expected, got));
        }
        if let (Some(out), Some(want)) = (ret.out, out_arg(s)) {
            if out != want {
                return Err(fail(
                    line,
                    format!("{} value [{want}]", s.name),
                    format!("[{out}]"),
                ));
            }
        }
        Ok(())
    }

    /// `TCP_INFO` of the socket under test, read by a `getsockopt` now.
    fn tcp_info(&mut self, line: u32) -> Result<TcpInfo, Verdict> {
        let fd = self
            .test_fd
            .and_then(|f| self.fds.get(&f))
            .ok_or_else(|| unsupported(line, "a Python block with no connected socket"))?;
        let at = self.world.cycle();
        self.host.submit_syscall(SysCall::Info(fd.sk), at, false);
        self.world.wake_host(at);
        let deadline = self.now_us() + self.tol_us;
        match self.wait_call(deadline).map(|c| c.result) {
            Some(Ok(SysRet::Info(i))) => Ok(*i),
            other => Err(fail(line, "getsockopt(TCP_INFO) = 0", format!("{other:?}"))),
        }
    }

    fn fd(&self, s: &Syscall) -> Option<Fd> {
        int_arg(s, 0).and_then(|f| self.fds.get(&f).copied())
    }

    /// The host call a script call is, or what it returns without the host.
    fn translate(&mut self, s: &Syscall, line: u32) -> Result<Translated, Verdict> {
        let unsup = |what: &str| unsupported(line, what.to_string());
        let name = s.name.as_str();
        if name == "socket" {
            if word_arg(s, 1) != Some("SOCK_STREAM") {
                return Err(unsup("socket type other than SOCK_STREAM"));
            }
            return Ok(Translated::Host(SysCall::Socket, true));
        }
        let Some(fd) = self.fd(s) else {
            return Ok(Translated::Local(Ret::error("EBADF")));
        };
        let sk = fd.sk;
        let blocking = !fd.nonblock;
        if matches!(
            name,
            "write" | "send" | "sendto" | "read" | "recv" | "recvfrom"
        ) && matches!(s.args.get(1).map(|e| &e.kind), Some(ExprKind::Word(w)) if w == "NULL")
        {
            return Err(unsup(
                "a NULL buffer (the host has no user address space to fault)",
            ));
        }
        let call = match name {
            "bind" => SysCall::Bind(sk, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, LOCAL_PORT)),
            "listen" => SysCall::Listen(sk, int_arg(s, 1).unwrap_or(1).max(0) as u32),
            "accept" => SysCall::Accept(sk),
            "connect" => SysCall::Connect(sk, SocketAddrV4::new(REMOTE_IP, REMOTE_PORT)),
            "write" | "send" | "sendto" => {
                let len = int_arg(s, 2).ok_or_else(|| unsup("write length form"))?;
                let flags = match name {
                    "write" => TcpSendFlags::default(),
                    _ => send_flags(s.args.get(3)).ok_or_else(|| {
                        unsupported(
                            line,
                            format!("send flags {}", or_words(s.args.get(3)).join("|")),
                        )
                    })?,
                };
                SysCall::Send(sk, len as usize, flags)
            }
            "sendmsg" => {
                let Some(ExprKind::Msghdr(m)) = s.args.get(1).map(|e| &e.kind) else {
                    return Err(unsup("sendmsg without a msghdr"));
                };
                if m.control.is_some() {
                    return Err(unsup("sendmsg with msg_control"));
                }
                let mut len = 0;
                for iov in &m.iov {
                    match &iov.kind {
                        ExprKind::Iovec { len: l } => match l.kind {
                            ExprKind::Int { value, .. } => len += value as usize,
                            _ => return Err(unsup("iovec length form")),
                        },
                        _ => return Err(unsup("iovec form")),
                    }
                }
                let flags = send_flags(s.args.get(2)).ok_or_else(|| {
                    unsupported(
                        line,
                        format!("sendmsg flags {}", or_words(s.args.get(2)).join("|")),
                    )
                })?;
                SysCall::Send(sk, len, flags)
            }
            "read" | "recv" | "recvfrom" => {
                if name != "read"
                    && !matches!(
                        s.args.get(3).map(|e| &e.kind),
                        Some(ExprKind::Int { value: 0, .. })
                    )
                {
                    return Err(unsup("recv flags"));
                }
                let len = int_arg(s, 2).ok_or_else(|| unsup("read length form"))?;
                SysCall::Recv(sk, len as usize)
            }
            "close" => SysCall::Close(sk),
            "shutdown" => SysCall::Shutdown(
                sk,
                match word_arg(s, 1) {
                    Some("SHUT_RD") => Shutdown::Read,
                    Some("SHUT_WR") => Shutdown::Write,
                    Some("SHUT_RDWR") => Shutdown::Both,
                    _ => return Err(unsup("shutdown how")),
                },
            ),
            "setsockopt" => {
                let Some(v) = opt_value(s.args.get(3)) else {
                    let name = word_arg(s, 2).unwrap_or("?");
                    return Err(unsupported(line, format!("setsockopt {name} value form")));
                };
                let opt = match (word_arg(s, 1), word_arg(s, 2)) {
                    (Some("SOL_SOCKET"), Some("SO_REUSEADDR")) => TcpSockOpt::ReuseAddr(v != 0),
                    (Some("SOL_SOCKET"), Some("SO_SNDBUF")) => TcpSockOpt::SndBuf(v as usize),
                    (Some("SOL_SOCKET"), Some("SO_RCVBUF")) => TcpSockOpt::RcvBuf(v as usize),
                    (Some("SOL_TCP" | "IPPROTO_TCP"), Some("TCP_NODELAY")) => {
                        TcpSockOpt::NoDelay(v != 0)
                    }
                    (Some("SOL_TCP" | "IPPROTO_TCP"), Some("TCP_CORK")) => TcpSockOpt::Cork(v != 0),
                    (Some("SOL_TCP" | "IPPROTO_TCP"), Some("TCP_MAXSEG")) => {
                        TcpSockOpt::MaxSeg(v as u16)
                    }
                    (l, o) => {
                        return Err(unsupported(
                            line,
                            format!("setsockopt {} {}", l.unwrap_or("?"), o.unwrap_or("?")),
                        ))
                    }
                };
                SysCall::SetSockOpt(sk, opt)
            }
            "getsockopt" => match (word_arg(s, 1), word_arg(s, 2)) {
                (Some("SOL_TCP" | "IPPROTO_TCP"), Some("TCP_MAXSEG")) => SysCall::MaxSeg(sk),
                (Some("SOL_SOCKET"), Some("SO_SNDBUF")) => SysCall::SndBuf(sk),
                (l, o) => {
                    return Err(unsupported(
                        line,
                        format!("getsockopt {} {}", l.unwrap_or("?"), o.unwrap_or("?")),
                    ))
                }
            },
            "ioctl" => match word_arg(s, 1) {
                Some("SIOCINQ" | "SIOCOUTQ" | "FIONREAD") => SysCall::InqOutq(sk),
                _ => return Err(unsup("ioctl request")),
            },
            "fcntl" => return self.fcntl(s, line),
            other => return Err(unsupported(line, format!("system call {other}"))),
        };
        Ok(Translated::Host(call, blocking))
    }

    /// `fcntl(F_GETFL)` / `fcntl(F_SETFL, O_NONBLOCK)`: the file's flags, kept by the runner.
    fn fcntl(&mut self, s: &Syscall, line: u32) -> Result<Translated, Verdict> {
        const O_RDWR: i64 = 0x2;
        const O_NONBLOCK: i64 = 0x800;
        let fd = int_arg(s, 0).expect("checked");
        let f = self.fds.get_mut(&fd).expect("checked");
        match word_arg(s, 1) {
            Some("F_GETFL") => Ok(Translated::Local(Ret::value(
                O_RDWR | if f.nonblock { O_NONBLOCK } else { 0 },
            ))),
            Some("F_SETFL") => {
                let words = or_words(s.args.get(2));
                if words
                    .iter()
                    .any(|w| !matches!(w.as_str(), "O_RDWR" | "O_NONBLOCK"))
                {
                    return Err(unsupported(line, "fcntl flags"));
                }
                f.nonblock = words.iter().any(|w| w == "O_NONBLOCK");
                Ok(Translated::Local(Ret::value(0)))
            }
            _ => Err(unsupported(line, "fcntl command")),
        }
    }
}

enum Translated {
    /// Run on the host (blocking unless the fd is `O_NONBLOCK`).
    Host(SysCall, bool),
    /// Answered by the runner.
    Local(Ret),
}

/// What a call gave the script: its value, errno, and a value written through a pointer
/// (`getsockopt`, `ioctl`).
#[derive(Debug)]
struct Ret {
    value: i64,
    errno: Option<&'static str>,
    out: Option<i64>,
}

impl Ret {
    fn value(value: i64) -> Ret {
        Ret {
            value,
            errno: None,
            out: None,
        }
    }

    fn error(errno: &'static str) -> Ret {
        Ret {
            value: -1,
            errno: Some(errno),
            out: None,
        }
    }
}

fn errno_name(e: &SocketError) -> &'static str {
    match e {
        SocketError::AddrInUse { .. } => "EADDRINUSE",
        SocketError::NoEphemeralPort { .. } | SocketError::WouldBlock { .. } => "EAGAIN",
        SocketError::NetUnreachable { .. } => "ENETUNREACH",
        SocketError::NoBufs => "ENOBUFS",
        SocketError::MsgSize { .. } => "EMSGSIZE",
        SocketError::DestAddrRequired => "EDESTADDRREQ",
        SocketError::BadFd => "EBADF",
        SocketError::InvalidArg => "EINVAL",
        SocketError::AddrNotAvail { .. } => "EADDRNOTAVAIL",
        SocketError::IsConnected => "EISCONN",
        SocketError::InProgress => "EINPROGRESS",
        SocketError::ConnRefused => "ECONNREFUSED",
        SocketError::ConnReset => "ECONNRESET",
        SocketError::TimedOut => "ETIMEDOUT",
        SocketError::NotConnected => "ENOTCONN",
        SocketError::Pipe => "EPIPE",
    }
}

fn int_arg(s: &Syscall, i: usize) -> Option<i64> {
    match s.args.get(i)?.kind {
        ExprKind::Int { value, .. } => Some(value),
        _ => None,
    }
}

fn word_arg(s: &Syscall, i: usize) -> Option<&str> {
    match &s.args.get(i)?.kind {
        ExprKind::Word(w) => Some(w),
        _ => None,
    }
}

fn or_words(e: Option<&Expr>) -> Vec<String> {
    match e.map(|e| &e.kind) {
        Some(ExprKind::Word(w)) => vec![w.clone()],
        Some(ExprKind::Or(v)) => v.iter().flat_map(|e| or_words(Some(e))).collect(),
        _ => vec!["?".into()],
    }
}

/// `0` or `MSG_MORE`.
fn send_flags(e: Option<&Expr>) -> Option<TcpSendFlags> {
    match e.map(|e| &e.kind) {
        Some(ExprKind::Int { value: 0, .. }) => Some(TcpSendFlags::default()),
        Some(ExprKind::Word(w)) if w == "MSG_MORE" => Some(TcpSendFlags { more: true }),
        _ => None,
    }
}

/// An option value: `[1]` or `1`.
fn opt_value(e: Option<&Expr>) -> Option<i64> {
    match &e?.kind {
        ExprKind::Int { value, .. } => Some(*value),
        ExprKind::Array(v) if v.len() == 1 => opt_value(v.first()),
        _ => None,
    }
}

/// The value a `getsockopt`/`ioctl` expects written through its pointer argument.
fn out_arg(s: &Syscall) -> Option<i64> {
    match s.name.as_str() {
        "getsockopt" => opt_value(s.args.get(3)),
        "ioctl" => opt_value(s.args.get(2)),
        _ => None,
    }
}

fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Ellipsis => "...".into(),
        ExprKind::Int { value, .. } => value.to_string(),
        other => format!("{other:?}"),
    }
}

fn ecn_bits(e: Ecn) -> u8 {
    match e {
        Ecn::NotEct => 0,
        Ecn::Ect1 => 1,
        Ecn::Ect0 => 2,
        Ecn::Ce => 3,
    }
}

fn tos_of(k: IpInfoKind) -> u8 {
    match k {
        IpInfoKind::Ecn(e) => ecn_bits(e),
        IpInfoKind::EctAny => ecn_bits(Ecn::Ect0),
        IpInfoKind::Tos(t) => t,
        IpInfoKind::Ttl(_) => 0,
    }
}

/// packetdrill's comparison: the same options in the same order; the host's TS val is its own clock
/// and is not compared.
fn options_match(want: &[WireOption], got: &[WireOption]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| match (w, g) {
            (WireOption::Timestamp { ecr: we, .. }, WireOption::Timestamp { ecr: ge, .. }) => {
                we == ge
            }
            _ => w == g,
        })
}

fn options_text(opts: &[WireOption], isn: u32) -> String {
    if opts.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = opts
        .iter()
        .map(|o| match o {
            WireOption::Nop => "nop".into(),
            WireOption::Eol => "eol".into(),
            WireOption::Mss(m) => format!("mss {m}"),
            WireOption::WindowScale(w) => format!("wscale {w}"),
            WireOption::SackPermitted => "sackOK".into(),
            WireOption::Sack(b) => {
                let blocks: Vec<String> = b
                    .iter()
                    .map(|(l, r)| format!("{}:{}", l.wrapping_sub(isn), r.wrapping_sub(isn)))
                    .collect();
                format!("sack {}", blocks.join(" "))
            }
            WireOption::Timestamp { val, ecr } => format!("TS val {val} ecr {ecr}"),
            WireOption::Other(k, b) => format!("kind {k} len {}", b.len() + 2),
        })
        .collect();
    format!(" <{}>", parts.join(","))
}

fn secs(us: u64) -> String {
    format!("{:.6} s", us as f64 / 1e6)
}

/// Runs every script and writes `packetdrill.txt` into `out_dir`; a script that does not parse is
/// an error (the caller exits 2).
pub fn run_all(
    scripts: &[PathBuf],
    tolerance_usecs: u64,
    out_dir: &Path,
    progress: &mut dyn FnMut(&ScriptReport),
) -> Result<Vec<ScriptReport>, RunAllError> {
    let mut reports = Vec::new();
    for s in scripts {
        let r = run_script(s, tolerance_usecs)?;
        progress(&r);
        reports.push(r);
    }
    std::fs::create_dir_all(out_dir).map_err(|source| RunAllError::Output {
        path: out_dir.into(),
        source,
    })?;
    let path = out_dir.join(REPORT_FILE);
    let mut text: String = reports.iter().map(|r| r.line() + "\n").collect();
    let count = |l: &str| reports.iter().filter(|r| r.verdict.label() == l).count();
    text += &format!(
        "{} scripts: {} pass, {} fail, {} unsupported\n",
        reports.len(),
        count("pass"),
        count("fail"),
        count("unsupported")
    );
    std::fs::write(&path, text).map_err(|source| RunAllError::Output { path, source })?;
    Ok(reports)
}

#[derive(Debug, thiserror::Error)]
pub enum RunAllError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("writing {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}
