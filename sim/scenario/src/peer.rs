//! The link partner's configuration, the `peer:` section of a scenario, and its validation.
//!
//! The link partner itself (nicsim_world's `peer`) takes a configuration this module has validated;
//! its address defaults live here, so the traffic planner and the partner agree on them.
//!
//! ```yaml
//! peer:
//!   mac: "02:00:00:00:00:fe"        # default
//!   ip: 10.0.0.254                  # default: the host's address with last octet 254 (253 if taken)
//!   turnaround_ns: 1000
//!   answer_arp: true
//!   answer_ping: true
//!   udp: [{port: 7, mode: echo}, {port: 9, mode: sink}]
//!   ping: {count: 10, interval_ns: 10000, size: 56, start_ns: 0}
//!   arp_cache: [{ip: 10.0.0.1, mac: "02:00:00:00:00:01"}]   # else the peer ARPs first
//!   tcp:                            # smoltcp sockets, one connection each
//!     - {listen: 5001, app: sink, rx_buffer: 262144, ack_delay_ns: 0, nagle: false}
//!     - {connect: {port: 5201, start_ns: 2000}, app: {bulk: {bytes: 1000000}}, tx_buffer: 131072}
//!     - {connect: {port: 12865, src_port: 40000}, app: {rr_client: {request: 1, response: 1, count: 100}}}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use host_driver::accounting::FrameId;
use host_driver::stack::config::{NeighConfig, NeighbourConfig};
use host_driver::time::Cycle;
use host_driver::wire::ethernet::MacAddr;
use host_driver::wire::ipv4::MIN_MTU;
use serde::{Deserialize, Serialize, Serializer};

/// The link partner's MAC unless `peer.mac` says otherwise.
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xfe]);

/// The link partner's default address: the host's with the last octet 254 (253 if that is the host).
pub fn peer_ip(host: Ipv4Addr) -> Ipv4Addr {
    let [a, b, c, d] = host.octets();
    Ipv4Addr::new(a, b, c, if d == 254 { 253 } else { 254 })
}

/// The `peer:` section of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerConfig {
    pub mac: MacAddr,
    /// Default: the host's address with the last octet 254 (253 if that is the host's).
    pub ip: Option<Ipv4Addr>,
    /// The peer's link MTU: it fragments larger replies to fit.
    pub mtu: usize,
    /// TTL of the packets it sends (Linux `ip_default_ttl`).
    pub ttl: u8,
    /// From a request's last byte on the wire to the response being ready to send. 1 µs is a
    /// kernel-bypass responder (DPDK testpmd-style); a Linux box answering a ping takes ~5–20 µs.
    pub turnaround_ns: u64,
    /// Answer ARP requests for `ip` (off: a box with `arp_ignore=8`, silent to ARP).
    pub answer_arp: bool,
    /// Answer echo requests (off: `net.ipv4.icmp_echo_ignore_all=1`).
    pub answer_ping: bool,
    pub udp: Vec<UdpPort>,
    /// The peer pings the host.
    pub ping: Option<PingConfig>,
    /// Permanent neighbour entries (`ip neigh add IP lladdr MAC nud permanent`); any other address
    /// is resolved with ARP before the peer sends to it.
    pub arp_cache: Vec<NeighbourConfig>,
    /// ARP retransmission and queueing (`net.ipv4.neigh.eth0.*`); `unres_qlen_bytes` counts the bytes
    /// of the IP packets held, since the peer has no skb truesize.
    pub neigh: NeighConfig,
    /// `net.ipv4.ipfrag_time`: an incomplete datagram is discarded after this long.
    pub ipfrag_time_ms: u64,
    /// TCP endpoints, run by smoltcp inside the peer.
    pub tcp: Vec<TcpEndpoint>,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            mac: PEER_MAC,
            ip: None,
            mtu: 1500,
            ttl: 64,
            turnaround_ns: 1000,
            answer_arp: true,
            answer_ping: true,
            udp: Vec::new(),
            ping: None,
            arp_cache: Vec::new(),
            neigh: NeighConfig::default(),
            ipfrag_time_ms: 30_000,
            tcp: Vec::new(),
        }
    }
}

/// A peer configuration that cannot work, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("peer.{field}: {why}")]
pub struct PeerError {
    pub field: String,
    pub why: String,
}

fn bad(field: impl Into<String>, why: impl Into<String>) -> PeerError {
    PeerError {
        field: field.into(),
        why: why.into(),
    }
}

/// What a port does with what it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UdpMode {
    /// Send the payload back, addresses and ports swapped.
    Echo,
    /// Count it and throw it away.
    Sink,
}

/// One entry of `peer.udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpPort {
    pub port: u16,
    pub mode: UdpMode,
}

/// `peer.ping`: `ping -c count -i interval -s size host`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingConfig {
    pub count: u32,
    /// Between requests. ping's own default of 1 s would make runs needlessly long; 100 µs still
    /// lets each exchange finish before the next one starts.
    #[serde(default = "default_interval_ns")]
    pub interval_ns: u64,
    /// ICMP data bytes (`-s`, default 56: an 84-byte IP packet).
    #[serde(default = "default_size")]
    pub size: usize,
    /// When the first request is sent, counted from link up.
    #[serde(default)]
    pub start_ns: u64,
    /// Echo identifier (ping uses its pid).
    #[serde(default = "default_ident")]
    pub ident: u16,
    /// Target; default the host's address.
    #[serde(default)]
    pub dst: Option<Ipv4Addr>,
}

fn default_interval_ns() -> u64 {
    100_000
}

fn default_size() -> usize {
    56
}

fn default_ident() -> u16 {
    1
}

/// Largest ICMP data that fits one IPv4 datagram (65535 − 20 − 8).
pub const MAX_PING_SIZE: usize = 65_507;

impl PeerConfig {
    /// The partner's address for a host at `host_ip`.
    pub fn ip_for(&self, host_ip: Ipv4Addr) -> Ipv4Addr {
        self.ip.unwrap_or_else(|| peer_ip(host_ip))
    }

    /// Every value the partner relies on, for a host at `host_ip`; errors name the key.
    pub fn validate(&self, host_ip: Ipv4Addr) -> Result<(), PeerError> {
        let ip = self.ip_for(host_ip);
        if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() {
            return Err(bad("ip", format!("{ip} is not a usable host address")));
        }
        if self.mac.is_multicast() || self.mac == MacAddr::ZERO {
            return Err(bad(
                "mac",
                format!("{} is not a unicast station address", self.mac),
            ));
        }
        if !(MIN_MTU..=usize::from(u16::MAX)).contains(&self.mtu) {
            return Err(bad(
                "mtu",
                format!("{} is outside {MIN_MTU}..=65535", self.mtu),
            ));
        }
        if self.ttl == 0 {
            return Err(bad("ttl", "a TTL of 0 would be dropped by the first hop"));
        }
        let mut ports = BTreeSet::new();
        for (i, p) in self.udp.iter().enumerate() {
            if p.port == 0 {
                return Err(bad(format!("udp[{i}].port"), "port 0 cannot be bound"));
            }
            if !ports.insert(p.port) {
                return Err(bad(
                    format!("udp[{i}].port"),
                    format!("port {} is listed twice", p.port),
                ));
            }
        }
        if self.neigh.mcast_solicit == 0 {
            return Err(bad(
                "neigh.mcast_solicit",
                "at least one ARP request is needed to resolve",
            ));
        }
        if self.neigh.retrans_time_ms == 0 {
            return Err(bad("neigh.retrans_time_ms", "must be positive"));
        }
        let mut pinned = BTreeSet::new();
        for (i, n) in self.arp_cache.iter().enumerate() {
            if n.mac.is_multicast() {
                return Err(bad(
                    format!("arp_cache[{i}].mac"),
                    format!("{} is not a unicast address", n.mac),
                ));
            }
            if !pinned.insert(n.ip) {
                return Err(bad(
                    format!("arp_cache[{i}].ip"),
                    format!("{} is listed twice", n.ip),
                ));
            }
        }
        if let Some(p) = &self.ping {
            p.validate()
                .map_err(|(f, why)| bad(format!("ping.{f}"), why))?;
        }
        self.validate_tcp()
    }

    /// Each endpoint on its own, then the local ports all endpoints bind, which must differ.
    fn validate_tcp(&self) -> Result<(), PeerError> {
        let mut local = BTreeSet::new();
        for (i, e) in self.tcp.iter().enumerate() {
            e.validate()
                .map_err(|(f, why)| bad(format!("tcp[{i}].{f}"), why))?;
            let port = e.local_port(i);
            if !local.insert(port) {
                let field = match (e.listen, e.connect.as_ref().and_then(|c| c.src_port)) {
                    (Some(_), _) => "listen",
                    (None, Some(_)) => "connect.src_port",
                    (None, None) => "connect",
                };
                return Err(bad(
                    format!("tcp[{i}].{field}"),
                    format!("local port {port} is bound by another endpoint"),
                ));
            }
        }
        Ok(())
    }
}

/// One entry of `peer.tcp`: a smoltcp socket that either listens (`listen: PORT`) or connects to
/// the host (`connect: {port, start_ns, src_port}`), and the application reading and writing it.
/// Each endpoint carries one connection: once it closed, its port answers RST.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpEndpoint {
    #[serde(default)]
    pub listen: Option<u16>,
    #[serde(default)]
    pub connect: Option<TcpConnect>,
    /// `app: sink` or `app: {bulk: {bytes: N}}`: a variant is a key, not a YAML tag.
    #[serde(with = "serde_norway::with::singleton_map")]
    pub app: TcpApp,
    /// Receive buffer (bytes): the largest window the peer advertises, window scaling included.
    #[serde(default = "default_tcp_buffer")]
    pub rx_buffer: usize,
    /// Send buffer (bytes): how much unacknowledged plus unsent data the peer keeps.
    #[serde(default = "default_tcp_buffer")]
    pub tx_buffer: usize,
    /// Nagle's algorithm: on, as smoltcp (and Linux without `TCP_NODELAY`) has it.
    #[serde(default = "default_nagle")]
    pub nagle: bool,
    /// Delayed-ACK timeout (smoltcp's default 10 ms); 0 acknowledges every segment at once.
    /// smoltcp counts whole microseconds.
    #[serde(default = "default_ack_delay_ns")]
    pub ack_delay_ns: u64,
}

/// `peer.tcp[].connect`: an active open to the host's address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpConnect {
    pub port: u16,
    /// When the SYN is sent, counted from link up.
    #[serde(default)]
    pub start_ns: u64,
    /// Default: [`EPHEMERAL_PORT_BASE`] + the endpoint's index in `peer.tcp`.
    #[serde(default)]
    pub src_port: Option<u16>,
}

/// What runs on a TCP endpoint once it is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TcpApp {
    /// Read and discard (RFC 863 discard); closes when the other side has.
    Sink,
    /// Send back what arrives (RFC 862 echo); closes when the other side has.
    Echo,
    /// Send a deterministic byte pattern, then close (iperf3's sender).
    Bulk(TcpBulk),
    /// `count` transactions of `request` bytes out and `response` bytes back, one at a time, then
    /// close (netperf TCP_RR's client).
    RrClient(TcpRrClient),
    /// Answers each `request` bytes with `response` bytes (netperf's TCP_RR server); closes when
    /// the other side has.
    RrServer(TcpRrServer),
}

/// `app: {bulk: ...}`: exactly one of `bytes` and `duration_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpBulk {
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Keep the send buffer full this long after the connection is established.
    #[serde(default)]
    pub duration_ns: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpRrClient {
    pub request: usize,
    pub response: usize,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpRrServer {
    pub request: usize,
    pub response: usize,
}

fn default_tcp_buffer() -> usize {
    65_536
}

fn default_nagle() -> bool {
    true
}

fn default_ack_delay_ns() -> u64 {
    10_000_000
}

/// RFC 9293 (3.8.6.3): an ACK must not be delayed 0.5 s or more.
pub const MAX_ACK_DELAY_NS: u64 = 500_000_000 - 1000;

/// Local port of a `connect` endpoint without `src_port`: this plus its index in `peer.tcp`
/// (the start of the IANA dynamic range, where Linux's `ip_local_port_range` also falls).
pub const EPHEMERAL_PORT_BASE: u16 = 49_152;

/// Largest socket buffer: smoltcp cannot scale a window past 1 GiB (RFC 7323's shift of 14).
pub const MAX_TCP_BUFFER: usize = 1 << 30;

/// Largest `bulk.bytes` (1 TiB), far beyond any simulated run.
pub const MAX_BULK_BYTES: u64 = 1 << 40;

/// Largest rr request or response (16 MiB).
pub const MAX_RR_MESSAGE: usize = 1 << 24;

impl TcpEndpoint {
    /// The port this endpoint binds, as `i`-th entry of `peer.tcp`.
    pub fn local_port(&self, i: usize) -> u16 {
        match (&self.listen, &self.connect) {
            (Some(port), _) => *port,
            (None, Some(c)) => c
                .src_port
                .unwrap_or_else(|| EPHEMERAL_PORT_BASE.saturating_add(i as u16)),
            (None, None) => 0,
        }
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        match (&self.listen, &self.connect) {
            (Some(_), Some(_)) | (None, None) => {
                return Err((
                    "listen",
                    "an endpoint needs exactly one of `listen` and `connect`".into(),
                ))
            }
            (Some(0), None) => return Err(("listen", "port 0 cannot be bound".into())),
            (None, Some(c)) if c.port == 0 => {
                return Err(("connect.port", "port 0 cannot be connected to".into()))
            }
            (None, Some(c)) if c.src_port == Some(0) => {
                return Err(("connect.src_port", "port 0 cannot be bound".into()))
            }
            _ => {}
        }
        for (key, size) in [("rx_buffer", self.rx_buffer), ("tx_buffer", self.tx_buffer)] {
            if !(1..=MAX_TCP_BUFFER).contains(&size) {
                return Err((key, format!("{size} is outside 1..={MAX_TCP_BUFFER}")));
            }
        }
        if self.ack_delay_ns % 1000 != 0 || self.ack_delay_ns > MAX_ACK_DELAY_NS {
            return Err((
                "ack_delay_ns",
                format!(
                    "{} is not whole microseconds within 0..={MAX_ACK_DELAY_NS}",
                    self.ack_delay_ns
                ),
            ));
        }
        self.app.validate()
    }
}

impl TcpApp {
    /// Stable name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            TcpApp::Sink => "sink",
            TcpApp::Echo => "echo",
            TcpApp::Bulk(_) => "bulk",
            TcpApp::RrClient(_) => "rr_client",
            TcpApp::RrServer(_) => "rr_server",
        }
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        let message = |key, n: usize| {
            if (1..=MAX_RR_MESSAGE).contains(&n) {
                Ok(())
            } else {
                Err((key, format!("{n} is outside 1..={MAX_RR_MESSAGE}")))
            }
        };
        match *self {
            TcpApp::Sink | TcpApp::Echo => Ok(()),
            TcpApp::Bulk(b) => match (b.bytes, b.duration_ns) {
                (Some(n), None) if !(1..=MAX_BULK_BYTES).contains(&n) => Err((
                    "app.bulk.bytes",
                    format!("{n} is outside 1..={MAX_BULK_BYTES}"),
                )),
                (None, Some(0)) => Err(("app.bulk.duration_ns", "must be positive".into())),
                (Some(_), None) | (None, Some(_)) => Ok(()),
                _ => Err((
                    "app.bulk",
                    "needs exactly one of `bytes` and `duration_ns`".into(),
                )),
            },
            TcpApp::RrClient(r) => {
                message("app.rr_client.request", r.request)?;
                message("app.rr_client.response", r.response)?;
                if r.count == 0 {
                    return Err(("app.rr_client.count", "must be positive".into()));
                }
                Ok(())
            }
            TcpApp::RrServer(r) => {
                message("app.rr_server.request", r.request)?;
                message("app.rr_server.response", r.response)
            }
        }
    }
}

impl PingConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.count == 0 || self.count > u32::from(u16::MAX) {
            return Err((
                "count",
                format!("{} is outside 1..=65535 (icmp_seq is 16 bits)", self.count),
            ));
        }
        if self.size > MAX_PING_SIZE {
            return Err((
                "size",
                format!(
                    "{} bytes do not fit one IPv4 datagram (max {MAX_PING_SIZE})",
                    self.size
                ),
            ));
        }
        if self.interval_ns == 0 && self.count > 1 {
            return Err((
                "interval_ns",
                "must be positive to send more than one request".into(),
            ));
        }
        Ok(())
    }
}

host_driver::named_enum! {
    /// How the link partner handled a frame it consumed.
    pub enum PeerConsumer ("peer consumer") {
        /// An ARP request for the peer's address, answered.
        ArpAnswered => "arp_answered",
        /// An ARP reply that resolved (or refreshed) a neighbour the peer was asking for.
        ArpLearned => "arp_learned",
        /// An echo request, answered.
        EchoAnswered => "echo_answered",
        /// The host's echo reply to one of the peer's pings.
        PingReply => "ping_reply",
        /// Another ICMP message (e.g. port unreachable), read and counted.
        Icmp => "icmp",
        /// A UDP datagram for an echo port, sent back.
        UdpEchoed => "udp_echoed",
        /// A UDP datagram for a sink port.
        UdpSunk => "udp_sunk",
        /// A TCP segment for one of the `tcp` endpoints, handed to smoltcp (which may still discard
        /// it, e.g. out of window, answering with an ACK as RFC 9293 asks).
        Tcp => "tcp",
        /// A fragment now held for reassembly (the fragment that completes a datagram gets the
        /// datagram's verdict instead).
        Fragment => "fragment",
    }
}

host_driver::named_enum! {
    /// Why the link partner dropped a frame (named `peer_*` like the kernel's drop reasons).
    pub enum PeerDrop ("peer drop reason") {
        /// Lost on the cable before the peer's MAC (a scenario `faults:` drop toward the peer):
        /// the peer never saw it, so its `received` does not count it.
        WireDrop => "peer_wire_drop",
        /// The FCS did not match (the peer MAC's `rx_crc_errors`).
        BadFcs => "peer_bad_fcs",
        /// `m_axis_tx_tuser` flagged the frame (the NIC aborted it).
        TxError => "peer_tx_error",
        /// Unicast to another MAC, or multicast.
        NotOurMac => "peer_not_our_mac",
        /// Too short or inconsistent for the header it claims.
        Malformed => "peer_malformed",
        /// Neither IPv4 nor ARP.
        UnknownEtherType => "peer_unknown_ether_type",
        /// `answer_arp` is off.
        ArpDisabled => "peer_arp_disabled",
        /// An ARP request for another address.
        ArpNotForUs => "peer_arp_not_for_us",
        /// An ARP reply nobody asked for (no `arp_accept`).
        ArpUnsolicited => "peer_arp_unsolicited",
        /// An IPv4 packet for another address.
        NotOurIp => "peer_not_our_ip",
        IpCsum => "peer_ip_csum",
        IcmpCsum => "peer_icmp_csum",
        UdpCsum => "peer_udp_csum",
        /// Checked before smoltcp (which would drop it silently), so the report can name it.
        TcpCsum => "peer_tcp_csum",
        /// A TCP segment for a port no endpoint has bound (or whose one connection is over):
        /// smoltcp answers it with RST, like a Linux box's `tcp_v4_send_reset` (SKB_DROP_REASON_NO_SOCKET).
        TcpNoSocket => "peer_tcp_no_socket",
        /// `answer_ping` is off.
        PingDisabled => "peer_ping_disabled",
        /// An echo reply matching no ping the peer sent.
        UnexpectedEchoReply => "peer_unexpected_echo_reply",
        /// No UDP port configured (a Linux box would count `NoPorts`).
        NoListener => "peer_no_listener",
        UnknownIpProto => "peer_unknown_ip_proto",
        /// A fragment identical to one already held.
        DuplicateFragment => "peer_duplicate_fragment",
        /// A fragment overlapping another, or contradicting the datagram's end: the whole datagram is
        /// discarded (the kernel's rule since FragmentSmack).
        BadFragment => "peer_bad_fragment",
    }
}

/// What happened to one frame the NIC sent, at the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerVerdict {
    Consumed(PeerConsumer),
    Dropped(PeerDrop),
}

impl PeerVerdict {
    /// Stable name for reports: the consumer's name, or the `peer_*` drop reason.
    pub fn name(self) -> &'static str {
        match self {
            PeerVerdict::Consumed(c) => c.name(),
            PeerVerdict::Dropped(d) => d.name(),
        }
    }
}

impl fmt::Display for PeerVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for PeerVerdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The link partner's counters, as the report shows them.
/// ARP counters (`ip -s neigh` totals, `/proc/net/stat/arp_cache`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ArpStats {
    pub requests_received: u64,
    pub replies_received: u64,
    pub requests_sent: u64,
    pub replies_sent: u64,
    /// Resolutions that gave up after `mcast_solicit` requests (`res_failed`).
    pub res_failed: u64,
    /// Packets dropped while waiting for resolution: pushed off a full queue (`unresolved_discards`)
    /// or still queued when the resolution failed.
    pub unres_discards: u64,
}

/// What one port received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PortStats {
    pub datagrams: u64,
    /// Payload bytes.
    pub bytes: u64,
}

/// Reassembly counters (`/proc/net/snmp` ReasmOKs / ReasmFails, split by cause).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ReassemblyStats {
    /// Datagrams completed.
    pub datagrams: u64,
    /// Queues discarded for an overlapping or contradictory fragment.
    pub discarded: u64,
    /// Queues that expired incomplete.
    pub timeouts: u64,
}

/// One answered ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PingSample {
    pub seq: u16,
    /// Scheduled send cycle of the request.
    pub sent: Cycle,
    /// Arrival cycle of the reply's last byte.
    pub received: Cycle,
    pub rtt_cycles: Cycle,
    /// The host frame that carried the reply, when known.
    pub reply_frame: Option<FrameId>,
}

/// Min/avg/max of the round-trip times, as ping prints them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RttSummary {
    pub min_cycles: Cycle,
    pub avg_cycles: f64,
    pub max_cycles: Cycle,
    pub min_ns: f64,
    pub avg_ns: f64,
    pub max_ns: f64,
}

/// ping's statistics block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PingStats {
    pub transmitted: u64,
    pub received: u64,
    /// Replies to a sequence already answered (ping's `DUP!`).
    pub duplicates: u64,
    /// Replies whose data differ from the request's (ping's "wrong data byte").
    pub bad_data: u64,
    /// Requests sent and not (yet) answered.
    pub lost: u64,
    pub rtt: Option<RttSummary>,
    pub samples: Vec<PingSample>,
}

/// Everything the peer counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PeerStats {
    /// Frames received from the NIC.
    pub received: u64,
    /// Received frames by verdict name.
    pub verdicts: BTreeMap<&'static str, u64>,
    /// Frames the peer sent.
    pub sent: u64,
    /// Of those, frames handed to the wire after the cycle they were due (the caller exchanged
    /// frames with the peer less often than every `turnaround_ns`).
    pub sent_late: u64,
    pub arp: ArpStats,
    /// Datagrams received per UDP port.
    pub udp: BTreeMap<u16, PortStats>,
    pub reassembly: ReassemblyStats,
    pub ping: PingStats,
    pub tcp: TcpStats,
}

host_driver::named_enum! {
    /// Which open a TCP endpoint does.
    pub enum TcpRole ("tcp role") {
        Listen => "listen",
        Connect => "connect",
    }
}

/// RFC 9293 connection states, named as `ss` prints them: the host's own vocabulary, so the two
/// ends of a connection read alike in the report.
pub use host_driver::stack::tcp::sock::TcpState;

/// The peer's TCP: its endpoints, and the segments no endpoint took.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpStats {
    /// One per entry of `peer.tcp`, in order.
    pub endpoints: Vec<TcpEndpointStats>,
    /// Segments for no endpoint (`peer_tcp_no_socket`), each answered with RST.
    pub no_socket: u64,
}

/// One TCP endpoint: its connection as seen from the peer. Counts and checksums cover the byte
/// streams (what the application wrote and read), so they compare with the host's.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpEndpointStats {
    pub role: TcpRole,
    pub app: &'static str,
    pub local_port: u16,
    /// The host's port once connected.
    pub remote_port: Option<u16>,
    /// State at the end of the run.
    pub state: TcpState,
    /// Bytes the application wrote into the socket.
    pub bytes_sent: u64,
    /// Bytes the application read from the socket.
    pub bytes_received: u64,
    /// CRC-32 (IEEE) of the stream sent and of the stream received.
    pub crc32_sent: u32,
    pub crc32_received: u32,
    /// Cycle the connection reached ESTABLISHED, and the cycle it left it for good (CLOSED or
    /// TIME_WAIT).
    pub established: Option<Cycle>,
    pub closed: Option<Cycle>,
    /// Segments smoltcp emitted and was handed on this connection.
    pub segments_sent: u64,
    pub segments_received: u64,
    /// Segments the peer sent again: their sequence range ended at or below the highest already
    /// sent (smoltcp keeps no such counter).
    pub retransmitted_segments: u64,
    pub retransmitted_bytes: u64,
    /// RST segments sent and received.
    pub resets_sent: u64,
    pub resets_received: u64,
    /// Request/response endpoints only.
    pub rr: Option<RrStats>,
}

/// netperf TCP_RR's numbers, from the peer's side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RrStats {
    pub transactions: u64,
    /// rr_client: from the request written to the last response byte read, which the peer does
    /// `turnaround_ns` after it arrived (`None` on a server, or before the first transaction
    /// completed).
    pub latency: Option<RttSummary>,
}
