//! The peer's TCP: smoltcp, on simulated time, behind the peer's own IPv4.
//!
//! The peer keeps Ethernet, ARP, IPv4 and reassembly; smoltcp sees only whole IPv4 packets of
//! protocol TCP, through a `Medium::Ip` device whose queues the peer fills and drains. A segment
//! that arrived at cycle `at` is handed to smoltcp at `at + turnaround` (the peer's receive-to-send
//! time), and what smoltcp sends then leaves through [`Peer::ip_send`], so neighbour resolution and
//! the MTU stay the peer's. smoltcp's timers (retransmission, delayed ACK, TIME_WAIT) run on
//! `Instant`s made from simulated cycles (whole microseconds, smoltcp's resolution) and are part of
//! [`Peer::next_wake`].
//!
//! Each `peer.tcp` endpoint is one socket carrying one connection and one application (sink, echo,
//! bulk, rr client/server). Its byte streams are counted and CRC-32'd as the application wrote and
//! read them, so they compare with the host's; retransmissions are counted on the wire, since
//! smoltcp keeps no counters.
//!
//! Where smoltcp 0.12 differs from Linux (each one seen in `tests/peer_tcp.rs`):
//! - no congestion control: its Reno and Cubic cap each transmission at the congestion window, not
//!   the bytes in flight, so they are left out; the first flight is the whole receive window;
//! - SACK blocks are sent as a receiver but ignored as a sender: after three duplicate ACKs it goes
//!   back N, resending everything after the hole;
//! - retransmission timeout: 300 ms initial RTT guess, millisecond samples, 10 ms minimum, and the
//!   timer is armed by the first unacknowledged segment and not restarted by partial ACKs;
//! - no timestamps (its clock is a plain `fn() -> u32`, which cannot read simulated time); window
//!   scaling follows the receive buffer; the MSS is the MTU − 40 and cannot be set;
//! - delayed ACK (10 ms by default) with an immediate ACK every second full segment; TIME_WAIT 10 s;
//!   SYNs and data are retransmitted without limit.

use std::collections::VecDeque;
use std::fmt;
use std::net::Ipv4Addr;

use host_driver::time::{Clock, Cycle};
use host_driver::wire::ipv4::{protocol, Ipv4Packet, Ipv4Repr, HEADER_LEN};
use nicsim_scenario::peer::{
    RrStats, RttSummary, TcpApp, TcpEndpoint, TcpEndpointStats, TcpRole, TcpState, TcpStats,
};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, TcpPacket};

use super::{Datagram, Peer, PeerConsumer, PeerDrop, PeerVerdict};

/// The peer's TCP layer: a smoltcp interface, its sockets and the applications on them.
pub(super) struct Tcp {
    iface: Interface,
    device: Queues,
    sockets: SocketSet<'static>,
    endpoints: Vec<Endpoint>,
    /// Segments received (as IPv4 packets for smoltcp), each with the cycle smoltcp takes it.
    pending: VecDeque<(Cycle, Vec<u8>)>,
    host_ip: Ipv4Addr,
    clock: Clock,
    /// The cycle smoltcp was last polled at: its clock must not run backwards.
    now: Cycle,
    /// smoltcp's next timer, as of the last poll.
    timer: Option<Cycle>,
    no_socket: u64,
}

impl fmt::Debug for Tcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tcp")
            .field("endpoints", &self.endpoints)
            .field("pending", &self.pending.len())
            .field("now", &self.now)
            .field("timer", &self.timer)
            .finish_non_exhaustive()
    }
}

/// The `Medium::Ip` device between the peer and smoltcp: IPv4 packets in, IPv4 packets out.
struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    mtu: usize,
}

struct RxPacket(Vec<u8>);

struct TxSlot<'a>(&'a mut Vec<Vec<u8>>);

impl smoltcp::phy::RxToken for RxPacket {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl smoltcp::phy::TxToken for TxSlot<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0; len];
        let r = f(&mut packet);
        self.0.push(packet);
        r
    }
}

impl Device for Queues {
    type RxToken<'a> = RxPacket;
    type TxToken<'a> = TxSlot<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxPacket, TxSlot<'_>)> {
        let p = self.rx.pop_front()?;
        Some((RxPacket(p), TxSlot(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxSlot<'_>> {
        Some(TxSlot(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

/// One `peer.tcp` entry at run time.
#[derive(Debug)]
struct Endpoint {
    handle: SocketHandle,
    role: TcpRole,
    app: TcpApp,
    local_port: u16,
    /// Host port of a `connect`.
    connect_to: Option<u16>,
    /// Cycle of a `connect`'s SYN, until it has been sent.
    start: Option<Cycle>,
    run: AppRun,
    remote_port: Option<u16>,
    bytes_sent: u64,
    bytes_received: u64,
    crc_sent: crc32fast::Hasher,
    crc_received: crc32fast::Hasher,
    established: Option<Cycle>,
    closed: Option<Cycle>,
    /// The application called `close` (it sends nothing more).
    app_closed: bool,
    segments_sent: u64,
    segments_received: u64,
    /// One past the highest sequence number sent, to tell retransmissions.
    snd_max: Option<u32>,
    retransmitted_segments: u64,
    retransmitted_bytes: u64,
    resets_sent: u64,
    resets_received: u64,
}

/// How far an application got.
#[derive(Debug, Clone, Copy, Default)]
struct AppRun {
    /// rr: bytes of the current request written (client) or read (server).
    request: usize,
    /// rr: bytes of the current response read (client); responses still to write (server).
    response: u64,
    transactions: u64,
    /// rr client: when the current transaction's request was written.
    started: Cycle,
    latency_min: Cycle,
    latency_max: Cycle,
    latency_sum: u128,
}

/// Byte `k` of every stream the peer generates (bulk data, rr messages): a period of 251, prime,
/// so no segment boundary lines up with it.
fn pattern(k: u64) -> u8 {
    (k % 251) as u8
}

impl Tcp {
    pub(super) fn new(
        cfg: &[TcpEndpoint],
        clock: Clock,
        ip: Ipv4Addr,
        host_ip: Ipv4Addr,
        mtu: usize,
        origin: Cycle,
        seed: u64,
    ) -> Tcp {
        let mut device = Queues {
            rx: VecDeque::new(),
            tx: Vec::new(),
            mtu,
        };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut device, instant(clock, origin));
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::Ipv4(ip), 32))
                .expect("one address fits");
        });
        // Everything is one hop away, over the cable; the peer's IP layer picks the MAC.
        iface
            .routes_mut()
            .add_default_ipv4_route(host_ip)
            .expect("one route fits");
        let mut sockets = SocketSet::new(Vec::new());
        let endpoints = cfg
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut socket = tcp::Socket::new(
                    tcp::SocketBuffer::new(vec![0; e.rx_buffer]),
                    tcp::SocketBuffer::new(vec![0; e.tx_buffer]),
                );
                socket.set_nagle_enabled(e.nagle);
                socket.set_ack_delay(
                    Some(Duration::from_micros(e.ack_delay_ns / 1000))
                        .filter(|d| *d != Duration::ZERO),
                );
                let local_port = e.local_port(i);
                let role = match e.listen {
                    Some(port) => {
                        socket.listen(port).expect("a validated port can listen");
                        TcpRole::Listen
                    }
                    None => TcpRole::Connect,
                };
                Endpoint {
                    handle: sockets.add(socket),
                    role,
                    app: e.app,
                    local_port,
                    connect_to: e.connect.as_ref().map(|c| c.port),
                    start: e
                        .connect
                        .as_ref()
                        .map(|c| origin + clock.ns_to_cycles(c.start_ns)),
                    run: AppRun::default(),
                    remote_port: None,
                    bytes_sent: 0,
                    bytes_received: 0,
                    crc_sent: crc32fast::Hasher::new(),
                    crc_received: crc32fast::Hasher::new(),
                    established: None,
                    closed: None,
                    app_closed: false,
                    segments_sent: 0,
                    segments_received: 0,
                    snd_max: None,
                    retransmitted_segments: 0,
                    retransmitted_bytes: 0,
                    resets_sent: 0,
                    resets_received: 0,
                }
            })
            .collect();
        Tcp {
            iface,
            device,
            sockets,
            endpoints,
            pending: VecDeque::new(),
            host_ip,
            clock,
            now: origin,
            timer: None,
            no_socket: 0,
        }
    }

    /// The endpoint whose socket takes a segment from `src:src_port` to local `dst_port`: the
    /// connection of that 4-tuple, else a socket listening on the port.
    fn owner(&self, src: Ipv4Addr, src_port: u16, dst_port: u16) -> Option<usize> {
        let is = |e: &Endpoint, want_listen: bool| {
            let s = self.sockets.get::<tcp::Socket>(e.handle);
            if want_listen {
                s.is_listening() && e.local_port == dst_port
            } else {
                s.local_endpoint().is_some_and(|l| l.port == dst_port)
                    && s.remote_endpoint()
                        .is_some_and(|r| r.addr == IpAddress::Ipv4(src) && r.port == src_port)
            }
        };
        let e = &self.endpoints;
        (0..e.len())
            .find(|&i| is(&e[i], false))
            .or_else(|| (0..e.len()).find(|&i| is(&e[i], true)))
    }

    /// The earliest cycle at which there is TCP work: a segment to hand over, a SYN to send, a
    /// bulk deadline, a smoltcp timer.
    pub(super) fn next_wake(&self) -> Option<Cycle> {
        let deadlines = self.endpoints.iter().filter_map(|e| self.deadline(e));
        [
            self.pending.front().map(|p| p.0),
            self.endpoints.iter().filter_map(|e| e.start).min(),
            deadlines.min(),
            self.timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// When a `bulk: {duration_ns}` sender closes, while it still has to (and can: a connection
    /// reset under it has nothing left to close).
    fn deadline(&self, e: &Endpoint) -> Option<Cycle> {
        let open = || self.sockets.get::<tcp::Socket>(e.handle).may_send();
        match e.app {
            TcpApp::Bulk(b) if !e.app_closed && open() => {
                Some(e.established? + self.clock.ns_to_cycles(b.duration_ns?))
            }
            _ => None,
        }
    }

    /// Nothing for the peer to do until the host acts: every endpoint is finished, listening, or
    /// established with nothing unacknowledged and its own work done (a passive application waits
    /// for the host; the host's senders keep a run going themselves).
    pub(super) fn idle(&self) -> bool {
        self.pending.is_empty()
            && self.endpoints.iter().all(|e| {
                let s = self.sockets.get::<tcp::Socket>(e.handle);
                e.start.is_none()
                    && match s.state() {
                        tcp::State::Closed | tcp::State::Listen | tcp::State::TimeWait => true,
                        tcp::State::Established | tcp::State::CloseWait | tcp::State::FinWait2 => {
                            s.send_queue() == 0 && !e.has_work()
                        }
                        _ => false,
                    }
            })
    }

    pub(super) fn stats(&self) -> TcpStats {
        let endpoints = self
            .endpoints
            .iter()
            .map(|e| TcpEndpointStats {
                role: e.role,
                app: e.app.name(),
                local_port: e.local_port,
                remote_port: e.remote_port,
                state: state(self.sockets.get::<tcp::Socket>(e.handle).state()),
                bytes_sent: e.bytes_sent,
                bytes_received: e.bytes_received,
                crc32_sent: e.crc_sent.clone().finalize(),
                crc32_received: e.crc_received.clone().finalize(),
                established: e.established,
                closed: e.closed,
                segments_sent: e.segments_sent,
                segments_received: e.segments_received,
                retransmitted_segments: e.retransmitted_segments,
                retransmitted_bytes: e.retransmitted_bytes,
                resets_sent: e.resets_sent,
                resets_received: e.resets_received,
                rr: match e.app {
                    TcpApp::RrClient(_) | TcpApp::RrServer(_) => Some(RrStats {
                        transactions: e.run.transactions,
                        latency: self.latency(e),
                    }),
                    _ => None,
                },
            })
            .collect();
        TcpStats {
            endpoints,
            no_socket: self.no_socket,
        }
    }

    fn latency(&self, e: &Endpoint) -> Option<RttSummary> {
        let n = e.run.transactions;
        if !matches!(e.app, TcpApp::RrClient(_)) || n == 0 {
            return None;
        }
        let avg_cycles = e.run.latency_sum as f64 / n as f64;
        let ns = |c: Cycle| self.clock.cycles_to_ns(c);
        Some(RttSummary {
            min_cycles: e.run.latency_min,
            avg_cycles,
            max_cycles: e.run.latency_max,
            min_ns: ns(e.run.latency_min),
            avg_ns: avg_cycles * self.clock.ps_per_cycle as f64 / 1000.0,
            max_ns: ns(e.run.latency_max),
        })
    }
}

/// smoltcp's time for cycle `c`: whole microseconds, truncated (so a timer due at a microsecond
/// fires on the first cycle of it, see [`cycle_of`]).
fn instant(clock: Clock, c: Cycle) -> Instant {
    Instant::from_micros((clock.cycles_to_ns_floor(c) / 1000) as i64)
}

/// The first cycle at which smoltcp's clock reads `t`.
fn cycle_of(clock: Clock, t: Instant) -> Cycle {
    clock.ns_to_cycles(t.total_micros().max(0) as u64 * 1000)
}

fn state(s: tcp::State) -> TcpState {
    match s {
        tcp::State::Closed => TcpState::Close,
        tcp::State::Listen => TcpState::Listen,
        tcp::State::SynSent => TcpState::SynSent,
        tcp::State::SynReceived => TcpState::SynRecv,
        tcp::State::Established => TcpState::Established,
        tcp::State::FinWait1 => TcpState::FinWait1,
        tcp::State::FinWait2 => TcpState::FinWait2,
        tcp::State::CloseWait => TcpState::CloseWait,
        tcp::State::Closing => TcpState::Closing,
        tcp::State::LastAck => TcpState::LastAck,
        tcp::State::TimeWait => TcpState::TimeWait,
    }
}

/// Seq `a` is at or before `b`, modulo 2^32 (RFC 9293's comparison).
fn seq_le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

impl Endpoint {
    /// The application still has bytes of its own to send, or transactions to make.
    fn has_work(&self) -> bool {
        match self.app {
            TcpApp::Bulk(_) | TcpApp::RrClient(_) => !self.app_closed,
            TcpApp::Sink | TcpApp::Echo | TcpApp::RrServer(_) => false,
        }
    }

    fn wrote(&mut self, bytes: &[u8]) {
        self.bytes_sent += bytes.len() as u64;
        self.crc_sent.update(bytes);
    }

    fn read(&mut self, bytes: &[u8]) {
        self.bytes_received += bytes.len() as u64;
        self.crc_received.update(bytes);
    }

    /// Writes up to `n` pattern bytes (continuing the stream sent so far); returns how many fit.
    fn write_pattern(&mut self, s: &mut tcp::Socket<'_>, n: u64) -> u64 {
        let from = self.bytes_sent;
        let written = s
            .send(|buf| {
                let len = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                for (k, b) in buf[..len].iter_mut().enumerate() {
                    *b = pattern(from + k as u64);
                }
                (len, buf[..len].to_vec())
            })
            .unwrap_or_default();
        self.wrote(&written);
        written.len() as u64
    }

    /// Reads up to `n` bytes; returns them.
    fn read_up_to(&mut self, s: &mut tcp::Socket<'_>, n: usize) -> Vec<u8> {
        let got = s
            .recv(|buf| {
                let len = buf.len().min(n);
                (len, buf[..len].to_vec())
            })
            .unwrap_or_default();
        self.read(&got);
        got
    }

    fn close(&mut self, s: &mut tcp::Socket<'_>) {
        s.close();
        self.app_closed = true;
    }

    /// One step of the application at cycle `now`; whether it moved any byte or closed.
    fn run_app(&mut self, s: &mut tcp::Socket<'_>, now: Cycle, deadline: Option<Cycle>) -> bool {
        if !(s.may_send() || s.may_recv()) {
            return false;
        }
        if self.app_closed {
            // Closed for sending only (`shutdown(SHUT_WR)`): read on to the other side's FIN, so
            // its data still in flight is taken and the connection can end.
            return !self.read_up_to(s, usize::MAX).is_empty();
        }
        let before = (self.bytes_sent, self.bytes_received);
        // Whether the other side closed and everything it sent was read.
        let drained = |s: &tcp::Socket<'_>| !s.may_recv() && s.recv_queue() == 0;
        match self.app {
            TcpApp::Sink => {
                self.read_up_to(s, usize::MAX);
                if drained(s) {
                    self.close(s);
                }
            }
            TcpApp::Echo => {
                let room = s.send_capacity() - s.send_queue();
                let got = self.read_up_to(s, room);
                let sent = s.send_slice(&got).unwrap_or_default();
                debug_assert_eq!(sent, got.len(), "read no more than the send buffer takes");
                self.wrote(&got);
                if drained(s) {
                    self.close(s);
                }
            }
            TcpApp::Bulk(b) => {
                self.read_up_to(s, usize::MAX);
                let left = b.bytes.map_or(u64::MAX, |n| n - self.bytes_sent);
                let over = deadline.is_some_and(|d| now >= d);
                if !over && left > 0 {
                    self.write_pattern(s, left);
                }
                if over || self.bytes_sent == b.bytes.unwrap_or(u64::MAX) {
                    self.close(s);
                }
            }
            TcpApp::RrClient(r) => {
                if self.run.request == 0 && self.run.response == 0 {
                    self.run.started = now;
                }
                if self.run.request < r.request {
                    self.run.request +=
                        self.write_pattern(s, (r.request - self.run.request) as u64) as usize;
                }
                let want = r.response as u64 - self.run.response;
                self.run.response += self.read_up_to(s, want as usize).len() as u64;
                if self.run.response == r.response as u64 {
                    let latency = now - self.run.started;
                    let run = &mut self.run;
                    run.latency_min = if run.transactions == 0 {
                        latency
                    } else {
                        run.latency_min.min(latency)
                    };
                    run.latency_max = run.latency_max.max(latency);
                    run.latency_sum += u128::from(latency);
                    run.transactions += 1;
                    run.request = 0;
                    run.response = 0;
                    if run.transactions == u64::from(r.count) {
                        self.close(s);
                    } else {
                        // The next request leaves at once, as netperf's loop does.
                        self.run_app(s, now, deadline);
                    }
                } else if drained(s) {
                    self.close(s);
                }
            }
            TcpApp::RrServer(r) => {
                let got = self.read_up_to(s, usize::MAX).len();
                self.run.request += got;
                let done = self.run.request / r.request;
                self.run.request %= r.request;
                self.run.transactions += done as u64;
                self.run.response += (done * r.response) as u64;
                if self.run.response > 0 {
                    self.run.response -= self.write_pattern(s, self.run.response);
                }
                if drained(s) && self.run.response == 0 {
                    self.close(s);
                }
            }
        }
        before != (self.bytes_sent, self.bytes_received) || self.app_closed
    }
}

impl Peer {
    /// `tcp_v4_rcv` up to the socket lookup: length, checksum, then the endpoint; the segment goes
    /// to smoltcp `turnaround` after it arrived (smoltcp answers RST where no socket takes it).
    pub(super) fn tcp_rcv(&mut self, ip: &Ipv4Repr, payload: &[u8], at: Cycle) -> PeerVerdict {
        let Ok(seg) = TcpPacket::new_checked(payload) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        if !seg.verify_checksum(&IpAddress::Ipv4(ip.src), &IpAddress::Ipv4(ip.dst)) {
            return PeerVerdict::Dropped(PeerDrop::TcpCsum);
        }
        let tcp = &mut self.tcp;
        let owner = tcp.owner(ip.src, seg.src_port(), seg.dst_port());
        let mut packet = vec![0; HEADER_LEN + payload.len()];
        Ipv4Repr {
            frag_offset: 0,
            more_frags: false,
            payload_len: payload.len(),
            ..*ip
        }
        .emit(&mut packet)
        .expect("a datagram that arrived fits IPv4");
        packet[HEADER_LEN..].copy_from_slice(payload);
        tcp.pending.push_back((at + self.turnaround, packet));
        match owner {
            Some(i) => {
                let e = &mut tcp.endpoints[i];
                e.segments_received += 1;
                e.resets_received += u64::from(seg.rst());
                PeerVerdict::Consumed(PeerConsumer::Tcp)
            }
            None => {
                tcp.no_socket += 1;
                PeerVerdict::Dropped(PeerDrop::TcpNoSocket)
            }
        }
    }

    /// Runs TCP up to cycle `now`, event by event in time order (segments handed over, SYNs,
    /// bulk deadlines, smoltcp timers), each at its own cycle however late the caller polls.
    pub(super) fn tcp_timers(&mut self, now: Cycle) {
        while let Some(t) = self.tcp.next_wake().filter(|&t| t <= now) {
            let t = t.max(self.tcp.now);
            self.tcp_step(t);
        }
    }

    /// One smoltcp poll at cycle `t` and the applications after it, until nothing moves; then
    /// sends what smoltcp made.
    fn tcp_step(&mut self, t: Cycle) {
        let tcp = &mut self.tcp;
        tcp.now = t;
        while tcp.pending.front().is_some_and(|p| p.0 <= t) {
            let (_, packet) = tcp.pending.pop_front().expect("checked");
            tcp.device.rx.push_back(packet);
        }
        let host_ip = tcp.host_ip;
        for e in tcp
            .endpoints
            .iter_mut()
            .filter(|e| e.start.is_some_and(|s| s <= t))
        {
            e.start = None;
            let port = e.connect_to.expect("only connects have a start");
            tcp.sockets
                .get_mut::<tcp::Socket>(e.handle)
                .connect(
                    tcp.iface.context(),
                    (IpAddress::Ipv4(host_ip), port),
                    e.local_port,
                )
                .expect("a validated endpoint can connect");
        }
        let at = instant(tcp.clock, t);
        loop {
            tcp.iface.poll(at, &mut tcp.device, &mut tcp.sockets);
            let mut moved = false;
            for i in 0..tcp.endpoints.len() {
                let deadline = tcp.deadline(&tcp.endpoints[i]);
                let e = &mut tcp.endpoints[i];
                let s = tcp.sockets.get_mut::<tcp::Socket>(e.handle);
                moved |= e.run_app(s, t, deadline);
                e.observe(s, t);
            }
            if !moved {
                break;
            }
        }
        // Whatever was due at `t` has run: smoltcp's next chance is the next cycle.
        tcp.timer = tcp
            .iface
            .poll_at(at, &tcp.sockets)
            .map(|w| cycle_of(tcp.clock, w).max(t + 1));
        for packet in std::mem::take(&mut tcp.device.tx) {
            self.tcp_send(&packet, t);
        }
    }

    /// A packet smoltcp made: counted on its endpoint, then sent by the peer's IP layer.
    fn tcp_send(&mut self, packet: &[u8], t: Cycle) {
        let ip = Ipv4Packet::new_checked(packet).expect("smoltcp emits valid IPv4");
        if ip.protocol() == protocol::TCP {
            let seg = TcpPacket::new_checked(ip.payload()).expect("smoltcp emits valid TCP");
            let (src, dst) = (seg.src_port(), seg.dst_port());
            if let Some(e) = self
                .tcp
                .endpoints
                .iter_mut()
                .find(|e| e.local_port == src && e.remote_port == Some(dst))
            {
                e.segments_sent += 1;
                e.resets_sent += u64::from(seg.rst());
                let len = seg.segment_len() as u32;
                let end = (seg.seq_number().0 as u32).wrapping_add(len);
                match e.snd_max {
                    Some(max) if len > 0 && seq_le(end, max) => {
                        e.retransmitted_segments += 1;
                        e.retransmitted_bytes += seg.payload().len() as u64;
                    }
                    Some(max) if !seq_le(end, max) => e.snd_max = Some(end),
                    None => e.snd_max = Some(end),
                    Some(_) => {}
                }
            }
        }
        let d = Datagram {
            dst: ip.dst(),
            protocol: ip.protocol(),
            payload: ip.payload().to_vec(),
        };
        self.ip_send(d, t);
    }
}

impl Endpoint {
    /// Records the connection's milestones as of cycle `t`.
    fn observe(&mut self, s: &tcp::Socket<'_>, t: Cycle) {
        if self.remote_port.is_none() {
            self.remote_port = s.remote_endpoint().map(|r| r.port);
        }
        let st = s.state();
        if self.established.is_none()
            && !matches!(
                st,
                tcp::State::Closed
                    | tcp::State::Listen
                    | tcp::State::SynSent
                    | tcp::State::SynReceived
            )
        {
            self.established = Some(t);
        }
        if self.closed.is_none()
            && self.remote_port.is_some()
            && matches!(st, tcp::State::Closed | tcp::State::TimeWait)
        {
            self.closed = Some(t);
        }
    }
}
