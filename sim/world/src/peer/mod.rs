//! The link partner: the box at the other end of the cable, as a small scriptable IPv4 host.
//!
//! It receives what the NIC sends (`m_axis_tx`, FCS checked by its MAC) and answers like a Linux box
//! would at the protocol level: `arp_process` (answers requests for its address, learns from replies),
//! `icmp_echo` (answers pings), UDP ports that echo (`inetd`'s echo service) or sink (`discard`), and
//! `ip_defrag` for fragmented datagrams, and TCP through smoltcp (`tcp`: listening or connecting
//! endpoints running sink, echo, bulk or request/response applications; RST for any other port).
//! It can also run `ping` against the host. Its own neighbour table resolves the host's MAC with
//! real ARP unless `arp_cache` pins it.
//!
//! Every frame it receives gets one [`PeerVerdict`]: consumed (and how) or dropped (and why, named
//! `peer_*` like the kernel's drop reasons). Responses leave `turnaround_ns` after the request's last
//! byte arrived: the peer's own receive-to-send time, not modelled stage by stage.
//!
//! In a run the peer is attached to the world (`crate::world::World::attach_partner`), which serves it
//! every cycle through [`Peer::due`] / [`Peer::exchange`], so its frames start on the cycle they are
//! due even while the host CPU stalls on an MMIO read. Stand-alone (tests, other drivers), feed it
//! with [`Peer::on_frame`] and take its frames with [`Peer::poll`] at [`Peer::next_wake`].
//!
//! Its configuration, the scenario's `peer:` section, is `nicsim_scenario::peer::PeerConfig`.

pub mod arp;
pub mod icmp;
mod reassembly;
mod tcp;
pub mod udp;

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use host_driver::accounting::FrameId;
use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{ipv4_frame, Ipv4FrameSpec};
use host_driver::wire::ethernet::{ethertype, EthernetFrame, MacAddr};
use host_driver::wire::ipv4::{fragment_slices, protocol, Ipv4Packet, Ipv4Repr};
use host_driver::wire::WireError;

pub use nicsim_scenario::peer::{
    PeerConfig, PeerConsumer, PeerDrop, PeerError, PeerStats, PeerVerdict, UdpMode,
};

use crate::link::{LinkPartner, TxFrame};

use self::arp::{Neighbours, Output};
use self::icmp::Pinger;
use self::reassembly::Reassembly;
use self::tcp::Tcp;

/// smoltcp's random seed (initial sequence numbers) when the caller gives none: the scenario's
/// default `seed`.
pub const DEFAULT_SEED: u64 = 1;

/// The link partner.
#[derive(Debug)]
pub struct Peer {
    mac: MacAddr,
    ip: Ipv4Addr,
    mtu: usize,
    ttl: u8,
    answer_arp: bool,
    answer_ping: bool,
    turnaround: Cycle,
    clock: Clock,
    ports: BTreeMap<u16, UdpMode>,
    neigh: Neighbours,
    pinger: Option<Pinger>,
    reassembly: Reassembly,
    tcp: Tcp,
    /// IP id of the next datagram the peer sends.
    ip_ident: u16,
    /// Frames ready for the wire with their earliest cycle, in the order they were made.
    out: VecDeque<(Vec<u8>, Cycle)>,
    verdicts: BTreeMap<FrameId, (PeerVerdict, Cycle)>,
    stats: PeerStats,
    /// Frames of the NIC's TX capture already delivered, and the frames the peer injected.
    tx_seen: usize,
    injected: Vec<(FrameId, Vec<u8>)>,
}

/// An IPv4 datagram the peer sends: header fields and the L4 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Datagram {
    dst: Ipv4Addr,
    protocol: u8,
    payload: Vec<u8>,
}

impl Peer {
    /// A peer for a host at `host_ip`, on the clock `clock`; its scheduled times (`ping.start_ns`)
    /// count from cycle `origin` (link up). TCP takes [`DEFAULT_SEED`], see [`Peer::with_seed`].
    pub fn new(
        cfg: &PeerConfig,
        clock: Clock,
        host_ip: Ipv4Addr,
        origin: Cycle,
    ) -> Result<Peer, PeerError> {
        Peer::with_seed(cfg, clock, host_ip, origin, DEFAULT_SEED)
    }

    /// [`Peer::new`] with smoltcp's random seed (its initial sequence numbers) from `seed`, the
    /// scenario's: the same configuration and seed give byte-identical frames.
    pub fn with_seed(
        cfg: &PeerConfig,
        clock: Clock,
        host_ip: Ipv4Addr,
        origin: Cycle,
        seed: u64,
    ) -> Result<Peer, PeerError> {
        cfg.validate(host_ip)?;
        let ip = cfg.ip_for(host_ip);
        let ports = cfg.udp.iter().map(|p| (p.port, p.mode)).collect();
        let neigh = Neighbours::new(&cfg.neigh, &cfg.arp_cache, clock);
        let pinger = cfg
            .ping
            .as_ref()
            .map(|p| Pinger::new(p, clock, origin, host_ip));
        Ok(Peer {
            mac: cfg.mac,
            ip,
            mtu: cfg.mtu,
            ttl: cfg.ttl,
            answer_arp: cfg.answer_arp,
            answer_ping: cfg.answer_ping,
            turnaround: clock.ns_to_cycles(cfg.turnaround_ns),
            clock,
            ports,
            neigh,
            pinger,
            reassembly: Reassembly::new(
                clock.ns_to_cycles(cfg.ipfrag_time_ms.saturating_mul(1_000_000)),
            ),
            tcp: Tcp::new(&cfg.tcp, clock, ip, host_ip, cfg.mtu, origin, seed),
            ip_ident: 0,
            out: VecDeque::new(),
            verdicts: BTreeMap::new(),
            stats: PeerStats::default(),
            tx_seen: 0,
            injected: Vec::new(),
        })
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    /// A frame as the link partner's MAC received it: dropped on a bad FCS or a TX error flag,
    /// else handled by [`Peer::on_frame`] at its last beat.
    pub fn on_wire(&mut self, tx: &TxFrame) -> PeerVerdict {
        let dropped = if !tx.fcs_ok {
            Some(PeerDrop::BadFcs)
        } else if tx.error {
            Some(PeerDrop::TxError)
        } else {
            None
        };
        match dropped {
            Some(d) => self.record(tx.id, tx.end, PeerVerdict::Dropped(d)),
            None => self.on_frame(&tx.bytes, tx.id, tx.end),
        }
    }

    /// Handles `frame` (Ethernet, FCS stripped) whose last byte arrived at cycle `at`; `id` is the
    /// host's frame id when the platform knows it. Responses are queued for [`Peer::poll`].
    pub fn on_frame(&mut self, frame: &[u8], id: Option<FrameId>, at: Cycle) -> PeerVerdict {
        let verdict = self.receive(frame, id, at);
        self.record(id, at, verdict)
    }

    fn record(&mut self, id: Option<FrameId>, at: Cycle, verdict: PeerVerdict) -> PeerVerdict {
        self.stats.received += 1;
        *self.stats.verdicts.entry(verdict.name()).or_default() += 1;
        if let Some(id) = id {
            self.verdicts.insert(id, (verdict, at));
        }
        verdict
    }

    /// `eth_type_trans` + `netif_receive_skb`: the MAC filter, then dispatch by EtherType.
    fn receive(&mut self, frame: &[u8], id: Option<FrameId>, at: Cycle) -> PeerVerdict {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        if eth.dst() != self.mac && !eth.dst().is_broadcast() {
            return PeerVerdict::Dropped(PeerDrop::NotOurMac);
        }
        match eth.ethertype() {
            ethertype::ARP => self.arp_rcv(eth.payload(), at),
            ethertype::IPV4 => self.ip_rcv(eth.payload(), id, at),
            _ => PeerVerdict::Dropped(PeerDrop::UnknownEtherType),
        }
    }

    /// `ip_rcv` + `ip_local_deliver`: header checks, our address, reassembly, `inet_protos`.
    fn ip_rcv(&mut self, bytes: &[u8], id: Option<FrameId>, at: Cycle) -> PeerVerdict {
        let Ok(ip) = Ipv4Packet::new_checked(bytes) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        if !ip.verify_checksum() {
            return PeerVerdict::Dropped(PeerDrop::IpCsum);
        }
        if ip.dst() != self.ip {
            return PeerVerdict::Dropped(PeerDrop::NotOurIp);
        }
        let repr = Ipv4Repr::parse(&ip);
        if !ip.is_fragment() {
            return self.deliver(&repr, ip.payload(), id, at);
        }
        match self.reassembly.add(&repr, ip.payload(), at) {
            Ok(Some(datagram)) => {
                let repr = Ipv4Repr {
                    payload_len: datagram.len(),
                    ..repr
                };
                self.deliver(&repr, &datagram, id, at)
            }
            Ok(None) => PeerVerdict::Consumed(PeerConsumer::Fragment),
            Err(d) => PeerVerdict::Dropped(d),
        }
    }

    fn deliver(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        id: Option<FrameId>,
        at: Cycle,
    ) -> PeerVerdict {
        match ip.protocol {
            protocol::ICMP => self.icmp_rcv(ip, payload, id, at),
            protocol::UDP => self.udp_rcv(ip, payload, at),
            protocol::TCP => self.tcp_rcv(ip, payload, at),
            _ => PeerVerdict::Dropped(PeerDrop::UnknownIpProto),
        }
    }

    /// Sends `d`, ready at cycle `ready`: `ip_output` with fragmentation to the peer's MTU, through
    /// `neigh_resolve_output` (held while the destination's MAC is being resolved).
    fn ip_send(&mut self, d: Datagram, ready: Cycle) {
        let dst = d.dst;
        match self.neigh.output(d, ready) {
            Output::Send(d, mac) => self.emit_datagram(&d, mac, ready),
            Output::Held { request: true } => self.send_arp_request(dst, ready),
            Output::Held { request: false } => {}
        }
    }

    /// Builds the frames of `d` to `mac` and queues them for cycle `ready`.
    fn emit_datagram(&mut self, d: &Datagram, mac: MacAddr, ready: Cycle) {
        let ident = self.ip_ident;
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let base = Ipv4Repr {
            src: self.ip,
            dst: d.dst,
            protocol: d.protocol,
            ttl: self.ttl,
            tos: 0,
            ident,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        };
        let frames: Result<Vec<Vec<u8>>, WireError> =
            fragment_slices(d.payload.len(), self.mtu, 0, false).and_then(|slices| {
                slices
                    .into_iter()
                    .map(|f| {
                        ipv4_frame(&Ipv4FrameSpec {
                            src_mac: self.mac,
                            dst_mac: mac,
                            ip: Ipv4Repr {
                                frag_offset: f.offset,
                                more_frags: f.more,
                                ..base
                            },
                            payload: &d.payload[f.offset..f.offset + f.len],
                        })
                    })
                    .collect()
            });
        // The peer only builds datagrams from payloads that arrived in one (≤ 65535-byte IPv4
        // datagram) and an MTU checked in `new`, so building cannot fail.
        let frames = frames.expect("peer datagrams fit IPv4");
        for f in frames {
            self.queue(f, ready);
        }
    }

    fn queue(&mut self, frame: Vec<u8>, ready: Cycle) {
        self.stats.sent += 1;
        self.out.push_back((frame, ready));
    }

    /// Frames the peer wants on the wire, each with the cycle before which it must not start.
    /// Runs the peer's timers due by `now` (pings, ARP retransmissions, reassembly expiry, TCP)
    /// first.
    pub fn poll(&mut self, now: Cycle) -> Vec<(Vec<u8>, Cycle)> {
        self.reassembly.expire(now);
        self.tcp_timers(now);
        self.neigh_timers(now);
        self.ping_timers(now);
        let late = self.out.iter().filter(|&&(_, nb)| nb < now).count() as u64;
        self.stats.sent_late += late;
        self.out.drain(..).collect()
    }

    /// The next cycle at which [`Peer::poll`] has timed work to do.
    pub fn next_wake(&self) -> Option<Cycle> {
        [
            self.neigh.next_timer(),
            self.pinger.as_ref().and_then(Pinger::next_send),
            self.reassembly.next_timer(),
            self.tcp.next_wake(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Nothing to send and nothing scheduled, except expiry of incomplete datagrams (which would
    /// otherwise keep a run going for `ipfrag_time`) and TCP timers of connections waiting only
    /// for the host or over (TIME_WAIT would keep it going 10 s).
    pub fn idle(&self) -> bool {
        self.out.is_empty()
            && self.neigh.next_timer().is_none()
            && self.pinger.as_ref().and_then(Pinger::next_send).is_none()
            && self.tcp.idle()
    }

    pub fn stats(&self) -> PeerStats {
        let mut s = self.stats.clone();
        s.arp = self.neigh.stats;
        s.reassembly = self.reassembly.stats();
        if let Some(p) = &self.pinger {
            s.ping = p.stats(self.clock);
        }
        s.tcp = self.tcp.stats();
        s
    }

    /// The verdict and arrival cycle of every received frame that had an id.
    pub fn verdicts(&self) -> &BTreeMap<FrameId, (PeerVerdict, Cycle)> {
        &self.verdicts
    }

    /// Frames the peer put on the wire, with the ids the world gave them, in order.
    pub fn injected(&self) -> &[(FrameId, Vec<u8>)] {
        &self.injected
    }
}

impl LinkPartner for Peer {
    /// Whether [`Peer::exchange`] has work at cycle `horizon`, given that the NIC has sent
    /// `tx_frames` frames so far: a new frame arrived, a frame is waiting, or a timer is due.
    fn due(&self, horizon: Cycle, tx_frames: usize) -> bool {
        tx_frames > self.tx_seen
            || !self.out.is_empty()
            || self.next_wake().is_some_and(|w| w <= horizon)
    }

    /// One exchange with the wire, for the world to call each cycle [`Peer::due`] says so: hands the
    /// peer the frames of `tx` (everything the NIC sent so far) it has not seen, then returns what
    /// it sends up to cycle `horizon` (see [`Peer::poll`]). The caller injects them and reports each
    /// one's id with [`Peer::sent`].
    fn exchange(&mut self, horizon: Cycle, tx: &[TxFrame]) -> Vec<(Vec<u8>, Cycle)> {
        for f in tx.get(self.tx_seen..).unwrap_or_default() {
            self.on_wire(f);
        }
        self.tx_seen = tx.len();
        self.poll(horizon)
    }

    /// The world injected `frame` as `id`.
    fn sent(&mut self, id: FrameId, frame: Vec<u8>) {
        self.injected.push((id, frame));
    }
}
