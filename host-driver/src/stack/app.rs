//! Application processes: their system-call loops on simulated time.
//!
//! A blocking reader sleeps in `recvfrom` until `sk_data_ready` wakes it and pays the
//! context switch (`wakeup_ns`) when it runs again; a polling reader makes non-blocking reads on
//! a timer; senders run on a timer, and a blocking sender whose send buffer is full sleeps in
//! `sendto` (`sock_wait_for_wmem`) until TX reclaim frees space (`sk_write_space`). Each step charges the system call (`app_read_ns`,
//! `sendto_syscall_ns`), the copies between user and kernel, and the application's own work.

use std::net::{Ipv4Addr, SocketAddrV4};

use serde::Serialize;

use super::config::{
    config_error, AppConfig, PingConfig, StackConfigError, UdpSendConfig, UdpSinkConfig,
};
use super::socket::{SocketError, SocketId};
use super::tcp_app::{TcpApp, TcpAppCounters, TcpStep};
use super::udp::SendFlags;
use super::Stack;
use crate::ctx::Ctx;
use crate::time::Cycle;
use crate::wire::build::Payload;

/// What an application did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AppCounters {
    /// Position in the scenario's `apps` list.
    pub app: usize,
    pub kind: &'static str,
    /// Bound UDP port (0 for ping).
    pub port: u16,
    /// Read or send system calls made.
    pub syscalls: u64,
    /// Times a sleeping reader was woken by `sk_data_ready`.
    pub wakeups: u64,
    pub received: u64,
    pub received_bytes: u64,
    /// Data copies of the received packets, copy to user space included.
    pub received_copies: u64,
    pub sent: u64,
    /// Sends that failed (`EAGAIN` included).
    pub send_errors: u64,
    /// `EAGAIN` returned to a non-blocking sender: the send buffer was full.
    pub send_eagain: u64,
    /// Times a blocking sender slept in `sock_wait_for_wmem` until TX reclaim made room.
    pub sndbuf_waits: u64,
    /// `sk_drops` of the app's socket (receive buffer overflows).
    pub socket_drops: u64,
    /// Ping only: replies and round-trip times in cycles.
    pub ping_replies: u64,
    pub rtt_min: Option<Cycle>,
    pub rtt_max: Option<Cycle>,
    pub rtt_mean: Option<f64>,
    /// TCP applications: bytes, stream checksums, goodput series, transactions.
    pub tcp: Option<TcpAppCounters>,
}

#[derive(Debug)]
enum Kind {
    UdpSink {
        sock: SocketId,
        cfg: UdpSinkConfig,
    },
    UdpEcho {
        sock: SocketId,
    },
    UdpSend {
        sock: SocketId,
        cfg: UdpSendConfig,
        interval: Cycle,
    },
    Ping {
        ident: u16,
        cfg: PingConfig,
        interval: Cycle,
    },
    Tcp {
        kind: &'static str,
        app: Box<TcpApp>,
    },
}

/// A `sendto` asleep in `sock_wait_for_wmem`: what it sends and when it entered the kernel.
#[derive(Debug)]
struct BlockedSend {
    sock: SocketId,
    dst: Option<SocketAddrV4>,
    payload: Vec<u8>,
    flags: SendFlags,
    entered: Cycle,
}

/// What one `sendto` did, as the application sees it.
enum Sent {
    /// Returned (successfully or with an error).
    Returned,
    /// Asleep until `sk_write_space`.
    Blocked,
}

/// One application process.
#[derive(Debug)]
pub struct App {
    index: usize,
    kind: Kind,
    /// Runs at this cycle on its own account (timer, or still busy with queued data); `None`
    /// while it sleeps on its socket or has finished.
    wake: Option<Cycle>,
    syscalls: u64,
    wakeups: u64,
    received: u64,
    received_bytes: u64,
    received_copies: u64,
    sent: u64,
    send_errors: u64,
    send_eagain: u64,
    sndbuf_waits: u64,
    /// Asleep in `sendto` for send-buffer space.
    blocked: Option<BlockedSend>,
}

impl App {
    /// Starts application `index`: creates and binds its socket.
    pub(super) fn start(
        stack: &mut Stack,
        index: usize,
        cfg: &AppConfig,
    ) -> Result<App, StackConfigError> {
        let clock = stack.clock;
        let ns = |ns: u64| clock.ns_to_cycles(ns);
        let bind = |stack: &mut Stack,
                    ip: Option<Ipv4Addr>,
                    port: u16,
                    rcvbuf: Option<usize>,
                    reuseaddr: bool| {
            let sock = stack.sockets.socket(
                rcvbuf.unwrap_or(stack.cfg.rmem_default),
                stack.cfg.wmem_default,
            );
            stack.sockets.get_mut(sock).reuseaddr = reuseaddr;
            let addr = SocketAddrV4::new(ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port);
            stack
                .sockets
                .bind(sock, addr)
                .map(|()| sock)
                .map_err(|e| config_error(format!("apps[{index}].port"), e.to_string()))
        };
        let (kind, wake) = match cfg {
            AppConfig::UdpSink(c) => {
                let sock = bind(stack, c.bind, c.port, c.rcvbuf, c.reuseaddr)?;
                (
                    Kind::UdpSink {
                        sock,
                        cfg: c.clone(),
                    },
                    Some(0),
                )
            }
            AppConfig::UdpEcho(c) => {
                let sock = bind(stack, None, c.port, c.rcvbuf, false)?;
                (Kind::UdpEcho { sock }, Some(0))
            }
            AppConfig::UdpSend(c) => {
                let sock = bind(stack, None, c.src_port.unwrap_or(0), None, false)?;
                stack.sockets.get_mut(sock).tos = c.tos;
                if c.connect {
                    stack
                        .sockets
                        .connect(sock, SocketAddrV4::new(c.dst, c.port))
                        .map_err(|e| {
                            config_error(format!("apps[{index}].connect"), e.to_string())
                        })?;
                }
                let kind = Kind::UdpSend {
                    sock,
                    cfg: c.clone(),
                    interval: ns(c.interval_ns),
                };
                (kind, (c.count > 0).then(|| ns(c.start_ns)))
            }
            AppConfig::TcpBulk(c)
            | AppConfig::TcpSink(c)
            | AppConfig::TcpEcho(c)
            | AppConfig::TcpRr(c) => {
                let start = ns(c.start_ns);
                let app = TcpApp::new(c, c.work(cfg, clock), start, ns(c.interval_ns));
                (
                    Kind::Tcp {
                        kind: cfg.kind_name(),
                        app: Box::new(app),
                    },
                    Some(start),
                )
            }
            AppConfig::Ping(c) => {
                let ident = u16::try_from(index + 1)
                    .map_err(|_| config_error(format!("apps[{index}]"), "too many applications"))?;
                stack.ping_socket(ident);
                let kind = Kind::Ping {
                    ident,
                    cfg: c.clone(),
                    interval: ns(c.interval_ns),
                };
                (kind, (c.count > 0).then(|| ns(c.start_ns)))
            }
        };
        Ok(App {
            index,
            kind,
            wake,
            syscalls: 0,
            wakeups: 0,
            received: 0,
            received_bytes: 0,
            received_copies: 0,
            sent: 0,
            send_errors: 0,
            send_eagain: 0,
            sndbuf_waits: 0,
            blocked: None,
        })
    }

    /// The receiving socket, for applications that read.
    fn reader_socket(&self) -> Option<SocketId> {
        match self.kind {
            Kind::UdpSink { sock, ref cfg } if cfg.read_interval_ns.is_none() => Some(sock),
            Kind::UdpEcho { sock } => Some(sock),
            _ => None,
        }
    }

    /// The application's kind as named in scenario files (`udp_sink`, `ping`, ...).
    pub(super) fn kind(&self) -> &'static str {
        match self.kind {
            Kind::UdpSink { .. } => "udp_sink",
            Kind::UdpEcho { .. } => "udp_echo",
            Kind::UdpSend { .. } => "udp_send",
            Kind::Ping { .. } => "ping",
            Kind::Tcp { kind, .. } => kind,
        }
    }

    /// When the application next runs: its own timer, or the moment `sk_data_ready` woke it; a
    /// sender asleep for send-buffer space runs when `sk_write_space` woke it.
    pub(super) fn ready_at(&self, stack: &Stack) -> Option<Cycle> {
        if let Some(b) = &self.blocked {
            return stack.sockets.get(b.sock).wmem().write_space_at();
        }
        if let Kind::Tcp { app, .. } = &self.kind {
            return match app.sleeping_on() {
                Some(sk) => stack.tcp_woken_at(sk),
                None => self.wake,
            };
        }
        let woken = self
            .reader_socket()
            .and_then(|s| stack.sockets.get(s).woken_at());
        match (self.wake, woken) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// One turn of the application's loop.
    pub(super) fn step(&mut self, stack: &mut Stack, ctx: &mut Ctx) {
        if let Some(b) = self.blocked.take() {
            // sock_wait_for_wmem returns: scheduled back in after sk_write_space.
            stack.sockets.get(b.sock).wmem().clear_write_space();
            self.wakeups += 1;
            ctx.charge(ctx.costs.wakeup_ns);
            let r = stack.udp_sendmsg(ctx, b.sock, b.dst, &b.payload, b.flags, b.entered);
            if let Sent::Blocked = self.sent(r, b) {
                return;
            }
            self.wake = match &self.kind {
                Kind::UdpSend { interval, cfg, .. } => {
                    self.next_send(ctx.now, *interval, cfg.count)
                }
                Kind::UdpEcho { sock } => keep_reading(stack, *sock, ctx.now),
                Kind::UdpSink { .. } | Kind::Ping { .. } | Kind::Tcp { .. } => self.wake,
            };
            return;
        }
        if let Kind::Tcp { app, .. } = &mut self.kind {
            let woken = app.sleeping_on().is_some();
            self.wakeups += u64::from(woken);
            self.wake = match app.step(stack, ctx, &mut self.syscalls) {
                TcpStep::At(t) => Some(t),
                TcpStep::Sleep | TcpStep::Done => None,
            };
            return;
        }
        if let Some(sock) = self.reader_socket() {
            if stack.sockets.get(sock).woken_at().is_some() {
                // Scheduled back in after sk_data_ready.
                stack.sockets.get_mut(sock).clear_wakeup();
                self.wakeups += 1;
                ctx.charge(ctx.costs.wakeup_ns);
            }
        }
        match &self.kind {
            Kind::UdpSink { sock, cfg } => {
                let (sock, batch, per_read_ns, interval) =
                    (*sock, cfg.read_batch, cfg.per_read_ns, cfg.read_interval_ns);
                self.read(stack, ctx, sock, batch, per_read_ns);
                self.wake = match interval {
                    Some(interval) => Some(ctx.now + ctx.clock.ns_to_cycles(interval)),
                    None => keep_reading(stack, sock, ctx.now),
                };
            }
            Kind::UdpEcho { sock } => {
                let sock = *sock;
                for d in self.read(stack, ctx, sock, 1, 0) {
                    let flags = SendFlags::default();
                    if let Sent::Blocked =
                        self.send(stack, ctx, sock, Some(d.from), d.payload, flags)
                    {
                        return;
                    }
                }
                self.wake = keep_reading(stack, sock, ctx.now);
            }
            Kind::UdpSend {
                sock,
                cfg,
                interval,
            } => {
                // A connected socket sends without an address.
                let dst = (!cfg.connect).then(|| SocketAddrV4::new(cfg.dst, cfg.port));
                let (sock, interval, count) = (*sock, *interval, cfg.count);
                let flags = SendFlags {
                    dontwait: cfg.nonblocking,
                    recverr: cfg.recverr,
                };
                let payload = Payload::Len(cfg.size).bytes().into_owned();
                if let Sent::Blocked = self.send(stack, ctx, sock, dst, payload, flags) {
                    // Asleep in sendto; the timer resumes after the send completes.
                    return;
                }
                self.wake = self.next_send(ctx.now, interval, count);
            }
            Kind::Ping {
                ident,
                cfg,
                interval,
            } => {
                let (ident, dst, size, interval, count) =
                    (*ident, cfg.dst, cfg.size, *interval, cfg.count);
                self.syscalls += 1;
                let seq = (self.sent + self.send_errors) as u16;
                match stack.ping_sendmsg(ctx, ident, seq, dst, size) {
                    Ok(()) => self.sent += 1,
                    Err(_) => self.send_errors += 1,
                }
                self.wake = self.next_send(ctx.now, interval, count);
            }
            Kind::Tcp { .. } => {}
        }
    }

    /// A sender's next turn: `interval` after the scheduled time of this one (a fixed rate), or
    /// at once if sending took longer; `None` after `count` attempts.
    fn next_send(&self, now: Cycle, interval: Cycle, count: u64) -> Option<Cycle> {
        (self.sent + self.send_errors < count).then(|| now.max(self.wake.unwrap_or(0) + interval))
    }

    /// `recvmmsg` of up to `batch` datagrams, then `per_read_ns` of work on each.
    fn read(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        sock: SocketId,
        batch: usize,
        per_read_ns: u64,
    ) -> Vec<super::udp::Received> {
        self.syscalls += 1;
        ctx.charge(ctx.costs.app_read_ns);
        let got = stack.udp_recvmsg(ctx, sock, batch);
        for d in &got {
            self.received += 1;
            self.received_bytes += d.payload.len() as u64;
            self.received_copies += u64::from(d.copies);
            ctx.charge(per_read_ns);
        }
        got
    }

    /// `sendto` (`dst` given) or `send` on a connected socket.
    fn send(
        &mut self,
        stack: &mut Stack,
        ctx: &mut Ctx,
        sock: SocketId,
        dst: Option<SocketAddrV4>,
        payload: Vec<u8>,
        flags: SendFlags,
    ) -> Sent {
        self.syscalls += 1;
        let entered = ctx.now;
        let r = stack.udp_sendto(ctx, sock, dst, &payload, flags);
        self.sent(
            r,
            BlockedSend {
                sock,
                dst,
                payload,
                flags,
                entered,
            },
        )
    }

    /// Accounts one `sendto` result; a full send buffer without `MSG_DONTWAIT` puts the sender to
    /// sleep (`sock_wait_for_wmem`) with the call `b` still to finish.
    fn sent(&mut self, r: Result<(), SocketError>, b: BlockedSend) -> Sent {
        match r {
            Ok(()) => self.sent += 1,
            Err(SocketError::WouldBlock { .. }) if !b.flags.dontwait => {
                self.sndbuf_waits += 1;
                self.blocked = Some(b);
                return Sent::Blocked;
            }
            Err(SocketError::WouldBlock { .. }) => {
                self.send_eagain += 1;
                self.send_errors += 1;
            }
            Err(_) => self.send_errors += 1,
        }
        Sent::Returned
    }

    pub(super) fn counters(&self, stack: &Stack) -> AppCounters {
        let sock = match &self.kind {
            Kind::UdpSink { sock, .. } | Kind::UdpEcho { sock } | Kind::UdpSend { sock, .. } => {
                Some(*sock)
            }
            Kind::Ping { .. } | Kind::Tcp { .. } => None,
        };
        let sock = sock.map(|s| stack.sockets.get(s));
        let ping = match self.kind {
            Kind::Ping { ident, .. } => stack.ping_sock(ident),
            _ => None,
        };
        let replies = ping.map_or(0, |p| p.replies);
        let tcp = match &self.kind {
            Kind::Tcp { app, .. } => Some(app.counters.clone()),
            _ => None,
        };
        let port = match &self.kind {
            Kind::Tcp { app, .. } => app.port(),
            _ => sock.map_or(0, |s| s.local.port()),
        };
        AppCounters {
            app: self.index,
            kind: self.kind(),
            port,
            syscalls: self.syscalls,
            wakeups: self.wakeups,
            received: self.received,
            received_bytes: self.received_bytes,
            received_copies: self.received_copies,
            sent: self.sent,
            send_errors: self.send_errors,
            send_eagain: self.send_eagain,
            sndbuf_waits: self.sndbuf_waits,
            socket_drops: sock.map_or(0, |s| s.drops()),
            ping_replies: replies,
            rtt_min: ping.and_then(|p| p.rtt_min),
            rtt_max: ping.and_then(|p| p.rtt_max),
            rtt_mean: ping
                .filter(|_| replies > 0)
                .map(|p| p.rtt_sum as f64 / replies as f64),
            tcp,
        }
    }
}

/// A blocking reader loops while data is queued (runs again at `now`), else sleeps on the socket.
fn keep_reading(stack: &mut Stack, sock: SocketId, now: Cycle) -> Option<Cycle> {
    let s = stack.sockets.get_mut(sock);
    if s.queued() > 0 {
        return Some(now);
    }
    s.wait_for_data();
    None
}
