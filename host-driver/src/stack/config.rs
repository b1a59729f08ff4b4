//! The `stack:` and `apps:` parts of a scenario's host: interface address, routes, static
//! neighbours, net.ipv4 sysctls, netfilter rules, packet taps and applications.
//!
//! Every struct denies unknown fields and has kernel defaults. Addresses are strings
//! (`10.0.0.1`, `10.0.0.0/24`, `02:00:00:00:00:01`) parsed with errors that name the value.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use crate::stack::tcp_app::TcpAppConfig;
use crate::wire::ethernet::MacAddr;

/// An IPv4 prefix `a.b.c.d/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Cidr {
    /// Matches every address.
    pub const ANY: Cidr = Cidr {
        addr: Ipv4Addr::UNSPECIFIED,
        prefix_len: 0,
    };

    pub fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// The subnet's directed broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) ^ u32::from(self.addr)) & self.mask() == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// A string that is not `a.b.c.d` or `a.b.c.d/len`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not an IPv4 prefix (expected a.b.c.d/len with len 0..=32, or a.b.c.d)")]
pub struct BadCidr(pub String);

impl FromStr for Cidr {
    type Err = BadCidr;
    /// A bare address is a /32.
    fn from_str(s: &str) -> Result<Cidr, BadCidr> {
        let bad = || BadCidr(s.to_owned());
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().map_err(|_| bad())?),
            None => (s, 32),
        };
        if len > 32 {
            return Err(bad());
        }
        Ok(Cidr {
            addr: addr.parse().map_err(|_| bad())?,
            prefix_len: len,
        })
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One static route (`ip route add DST [via GW]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub dst: Cidr,
    /// Gateway; absent = the destination is on-link.
    #[serde(default)]
    pub via: Option<Ipv4Addr>,
}

/// A permanent neighbour entry (`ip neigh add IP lladdr MAC nud permanent`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourConfig {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
}

/// The neighbour (ARP) parameters of `net.ipv4.neigh.eth0.*`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeighConfig {
    /// `unres_qlen_bytes`: bytes (truesize) of packets held per unresolved neighbour; the
    /// kernel default is `SK_WMEM_MAX` = 212992.
    pub unres_qlen_bytes: usize,
    /// `retrans_time_ms`: interval between ARP requests for an unresolved neighbour (1000).
    pub retrans_time_ms: u64,
    /// `mcast_solicit`: broadcast requests before the entry fails (3).
    pub mcast_solicit: u32,
}

impl Default for NeighConfig {
    fn default() -> Self {
        NeighConfig {
            unres_qlen_bytes: 212_992,
            retrans_time_ms: 1000,
            mcast_solicit: 3,
        }
    }
}

/// Netfilter hook a rule is attached to (the chain of the `filter`/`raw`/`mangle` tables it lives in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// `NF_INET_PRE_ROUTING`.
    Prerouting,
    /// `NF_INET_LOCAL_IN`.
    Input,
    /// `NF_INET_FORWARD`.
    Forward,
    /// `NF_INET_LOCAL_OUT`.
    Output,
    /// `NF_INET_POST_ROUTING`.
    Postrouting,
}

/// Protocol a rule matches (`-p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleProtocol {
    #[default]
    Any,
    Udp,
    Icmp,
}

/// `-j ACCEPT` / `-j DROP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accept,
    Drop,
}

/// An inclusive port range (`--dport 5000` or `--dport 5000:5010`), written `5000` or `5000-5010`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub fn contains(&self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PortRange, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(u16),
            Range(String),
        }
        let bad = |s: &str| {
            serde::de::Error::custom(format!(
                "`{s}` is not a port or port range (expected 5000 or 5000-5010)"
            ))
        };
        match Raw::deserialize(d)? {
            Raw::One(p) => Ok(PortRange { lo: p, hi: p }),
            Raw::Range(s) => {
                let (lo, hi) = s.split_once('-').unwrap_or((&s, &s));
                let lo: u16 = lo.trim().parse().map_err(|_| bad(&s))?;
                let hi: u16 = hi.trim().parse().map_err(|_| bad(&s))?;
                if lo > hi {
                    return Err(bad(&s));
                }
                Ok(PortRange { lo, hi })
            }
        }
    }
}

/// One iptables-like rule: every given match must hold for `action` to apply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub hook: Hook,
    #[serde(default)]
    pub protocol: RuleProtocol,
    #[serde(default)]
    pub src: Option<Cidr>,
    #[serde(default)]
    pub dst: Option<Cidr>,
    /// Source port (UDP only).
    #[serde(default)]
    pub sport: Option<PortRange>,
    /// Destination port (UDP only).
    #[serde(default)]
    pub dport: Option<PortRange>,
    pub action: Verdict,
}

/// An AF_PACKET tap (what `tcpdump -i eth0` opens).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TapConfig {
    pub name: String,
    /// Only this EtherType (`socket(AF_PACKET, SOCK_RAW, htons(proto))`); absent = `ETH_P_ALL`.
    #[serde(default)]
    pub ethertype: Option<u16>,
    /// Bytes captured per frame (`-s`); default 262144 like tcpdump.
    #[serde(default = "default_snaplen")]
    pub snaplen: usize,
    /// Frames the capture ring holds before it drops (`tp_frame_nr`; `tp_drops` counts the rest).
    #[serde(default = "default_tap_ring")]
    pub ring_frames: usize,
}

fn default_snaplen() -> usize {
    262_144
}

fn default_tap_ring() -> usize {
    4096
}

/// The protocol stack of the host's one interface (eth0).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackConfig {
    /// eth0's address and prefix (`ip addr add 10.0.0.1/24 dev eth0`).
    pub address: Cidr,
    /// Default gateway (`ip route add default via ...`).
    pub gateway: Option<Ipv4Addr>,
    /// eth0's MTU.
    pub mtu: usize,
    pub routes: Vec<RouteConfig>,
    pub neighbours: Vec<NeighbourConfig>,
    pub neigh: NeighConfig,
    /// `net.ipv4.ip_forward`.
    pub ip_forward: bool,
    /// `net.ipv4.ip_default_ttl`.
    pub ip_default_ttl: u8,
    /// `net.core.rmem_default`: a socket's `sk_rcvbuf` unless the app sets SO_RCVBUF.
    pub rmem_default: usize,
    /// `net.core.wmem_default`: a socket's `sk_sndbuf`.
    pub wmem_default: usize,
    /// `net.ipv4.ip_local_port_range`: ephemeral ports for autobind.
    pub ip_local_port_range: (u16, u16),
    /// `net.ipv4.ipfrag_high_thresh`: bytes (truesize) reassembly queues may hold.
    pub ipfrag_high_thresh: usize,
    /// `net.ipv4.ipfrag_time` in milliseconds (the kernel's is in seconds, 30): a reassembly
    /// queue older than this is dropped and ICMP time exceeded sent.
    pub ipfrag_time_ms: u64,
    /// `net.ipv4.icmp_msgs_per_sec`: global ICMP error rate limit (token bucket refill).
    pub icmp_msgs_per_sec: u32,
    /// `net.ipv4.icmp_msgs_burst`: bucket depth.
    pub icmp_msgs_burst: u32,
    /// eth0's `txqueuelen`: packets the pfifo_fast qdisc holds.
    pub txqueuelen: usize,
    pub netfilter: Vec<RuleConfig>,
    pub taps: Vec<TapConfig>,
    /// `net.ipv4.tcp_*` and `net.core.somaxconn`.
    pub tcp: crate::stack::tcp::sysctl::TcpSysctl,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            address: Cidr {
                addr: Ipv4Addr::new(10, 0, 0, 1),
                prefix_len: 24,
            },
            gateway: None,
            mtu: 1500,
            routes: Vec::new(),
            neighbours: Vec::new(),
            neigh: NeighConfig::default(),
            ip_forward: false,
            ip_default_ttl: 64,
            rmem_default: 212_992,
            wmem_default: 212_992,
            ip_local_port_range: (32768, 60999),
            ipfrag_high_thresh: 4 * 1024 * 1024,
            ipfrag_time_ms: 30_000,
            icmp_msgs_per_sec: 1000,
            icmp_msgs_burst: 50,
            txqueuelen: 1000,
            netfilter: Vec::new(),
            taps: Vec::new(),
            tcp: crate::stack::tcp::sysctl::TcpSysctl::default(),
        }
    }
}

/// `udp_sink`: binds a port and reads datagrams (`recvmmsg` of up to `read_batch`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpSinkConfig {
    pub port: u16,
    /// Local address to bind; absent = INADDR_ANY.
    #[serde(default)]
    pub bind: Option<Ipv4Addr>,
    /// SO_RCVBUF in bytes of skb truesize; absent = `rmem_default`.
    #[serde(default)]
    pub rcvbuf: Option<usize>,
    /// Datagrams one read system call returns at most (1 = `recvfrom`, more = `recvmmsg`).
    #[serde(default = "one")]
    pub read_batch: usize,
    /// Application work per datagram after it is read.
    #[serde(default)]
    pub per_read_ns: u64,
    /// A polling (slow) reader: non-blocking reads every this many ns instead of sleeping
    /// until data arrives.
    #[serde(default)]
    pub read_interval_ns: Option<u64>,
    /// SO_REUSEADDR before bind: sinks that all set it may share the port (each then gets its own
    /// copy of a broadcast or multicast datagram).
    #[serde(default)]
    pub reuseaddr: bool,
}

/// `udp_echo`: answers every datagram to its sender with the same payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpEchoConfig {
    pub port: u16,
    #[serde(default)]
    pub rcvbuf: Option<usize>,
}

/// `udp_send`: sends `count` datagrams of `size` payload bytes every `interval_ns`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpSendConfig {
    pub dst: Ipv4Addr,
    pub port: u16,
    pub size: usize,
    pub count: u64,
    #[serde(default)]
    pub interval_ns: u64,
    /// First send this long after the start.
    #[serde(default)]
    pub start_ns: u64,
    /// Source port; absent = an ephemeral port (`inet_autobind`).
    #[serde(default)]
    pub src_port: Option<u16>,
    /// IP TOS byte (selects the pfifo_fast band).
    #[serde(default)]
    pub tos: u8,
    /// `connect()` to the destination first and send without an address (replies are then
    /// matched on the full 4-tuple).
    #[serde(default)]
    pub connect: bool,
    /// Send with `MSG_DONTWAIT`: a full send buffer returns `EAGAIN` (counted, the datagram is
    /// not sent) instead of putting the sender to sleep until TX reclaim frees space.
    #[serde(default)]
    pub nonblocking: bool,
    /// `IP_RECVERR`: a datagram the qdisc drops fails the call with `ENOBUFS` (without it
    /// `udp_send_skb` counts SndbufErrors and reports success).
    #[serde(default)]
    pub recverr: bool,
}

/// `ping`: ICMP echo requests through a ping socket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingConfig {
    pub dst: Ipv4Addr,
    pub count: u64,
    #[serde(default = "default_ping_interval")]
    pub interval_ns: u64,
    /// ICMP data bytes (`-s`, 56 like ping).
    #[serde(default = "default_ping_size")]
    pub size: usize,
    #[serde(default)]
    pub start_ns: u64,
}

fn one() -> usize {
    1
}

fn default_ping_interval() -> u64 {
    1_000_000
}

fn default_ping_size() -> usize {
    56
}

/// One application process on the host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppConfig {
    UdpSink(UdpSinkConfig),
    UdpEcho(UdpEchoConfig),
    UdpSend(UdpSendConfig),
    Ping(PingConfig),
    /// iperf3-like bulk transfer: send `bytes` (or for `duration_ns`), or `receive: true`.
    TcpBulk(TcpAppConfig),
    /// Reads and discards everything a connection brings.
    TcpSink(TcpAppConfig),
    /// Echoes every byte back.
    TcpEcho(TcpAppConfig),
    /// netperf TCP_RR: the client sends `request` bytes and waits for `response` bytes, `count`
    /// times; the server answers.
    TcpRr(TcpAppConfig),
}

/// A stack configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stack config `{field}`: {why}")]
pub struct StackConfigError {
    pub field: String,
    pub why: String,
}

pub(crate) fn config_error(field: impl Into<String>, why: impl Into<String>) -> StackConfigError {
    StackConfigError {
        field: field.into(),
        why: why.into(),
    }
}

impl StackConfig {
    /// `net.core.rmem_max` and `net.core.wmem_max` (`SO_RCVBUF`/`SO_SNDBUF` caps): the kernel's
    /// default equals `rmem_default`/`wmem_default`, 212992.
    pub fn rmem_max(&self) -> usize {
        self.rmem_default
    }

    pub fn wmem_max(&self) -> usize {
        self.wmem_default
    }

    /// Checks the values the stack relies on.
    pub fn validate(&self) -> Result<(), StackConfigError> {
        use crate::wire::ipv4::{MAX_PACKET_LEN, MIN_MTU};
        if !(MIN_MTU..=MAX_PACKET_LEN).contains(&self.mtu) {
            return Err(config_error(
                "mtu",
                format!("{} is outside {MIN_MTU}..={MAX_PACKET_LEN}", self.mtu),
            ));
        }
        if self.address.prefix_len == 0 || self.address.addr.is_unspecified() {
            return Err(config_error(
                "address",
                format!("{} is not a usable interface address", self.address),
            ));
        }
        let (lo, hi) = self.ip_local_port_range;
        if lo == 0 || lo > hi {
            return Err(config_error(
                "ip_local_port_range",
                format!("({lo}, {hi}) must be a non-empty range of nonzero ports"),
            ));
        }
        for (field, v) in [
            ("ip_default_ttl", u64::from(self.ip_default_ttl)),
            ("rmem_default", self.rmem_default as u64),
            ("wmem_default", self.wmem_default as u64),
            ("txqueuelen", self.txqueuelen as u64),
            ("ipfrag_time_ms", self.ipfrag_time_ms),
            ("neigh.retrans_time_ms", self.neigh.retrans_time_ms),
            ("neigh.mcast_solicit", u64::from(self.neigh.mcast_solicit)),
        ] {
            if v == 0 {
                return Err(config_error(field, "must be at least 1"));
            }
        }
        self.tcp.validate()?;
        for (i, t) in self.taps.iter().enumerate() {
            if t.ring_frames == 0 || t.snaplen == 0 {
                return Err(config_error(
                    format!("taps[{i}]"),
                    "snaplen and ring_frames must be at least 1",
                ));
            }
        }
        for (i, r) in self.netfilter.iter().enumerate() {
            if (r.sport.is_some() || r.dport.is_some()) && r.protocol != RuleProtocol::Udp {
                return Err(config_error(
                    format!("netfilter[{i}]"),
                    "sport/dport need `protocol: udp`",
                ));
            }
        }
        Ok(())
    }
}

impl AppConfig {
    /// The kind's name in scenario files.
    pub fn kind_name(&self) -> &'static str {
        match self {
            AppConfig::UdpSink(_) => "udp_sink",
            AppConfig::UdpEcho(_) => "udp_echo",
            AppConfig::UdpSend(_) => "udp_send",
            AppConfig::Ping(_) => "ping",
            AppConfig::TcpBulk(_) => "tcp_bulk",
            AppConfig::TcpSink(_) => "tcp_sink",
            AppConfig::TcpEcho(_) => "tcp_echo",
            AppConfig::TcpRr(_) => "tcp_rr",
        }
    }

    /// Checks one application's values; `index` names it in errors.
    pub fn validate(&self, index: usize) -> Result<(), StackConfigError> {
        let field = |name: &str| format!("apps[{index}].{name}");
        match self {
            AppConfig::UdpSink(c) => {
                if c.port == 0 {
                    return Err(config_error(field("port"), "must be nonzero"));
                }
                if c.read_batch == 0 {
                    return Err(config_error(field("read_batch"), "must be at least 1"));
                }
                if c.read_interval_ns == Some(0) {
                    return Err(config_error(
                        field("read_interval_ns"),
                        "must be at least 1",
                    ));
                }
            }
            AppConfig::UdpEcho(c) => {
                if c.port == 0 {
                    return Err(config_error(field("port"), "must be nonzero"));
                }
            }
            AppConfig::UdpSend(c) => {
                if c.port == 0 {
                    return Err(config_error(field("port"), "must be nonzero"));
                }
                if c.size > crate::wire::ipv4::MAX_PACKET_LEN - 28 {
                    return Err(config_error(
                        field("size"),
                        format!("{} exceeds the largest UDP payload 65507", c.size),
                    ));
                }
            }
            AppConfig::TcpBulk(c)
            | AppConfig::TcpSink(c)
            | AppConfig::TcpEcho(c)
            | AppConfig::TcpRr(c) => c.validate(index, self)?,
            AppConfig::Ping(c) => {
                if c.interval_ns == 0 {
                    return Err(config_error(field("interval_ns"), "must be at least 1"));
                }
                if c.size > crate::wire::ipv4::MAX_PACKET_LEN - 28 {
                    return Err(config_error(
                        field("size"),
                        format!("{} exceeds the largest ICMP payload 65507", c.size),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing_and_matching() {
        let c: Cidr = "10.1.2.3/16".parse().unwrap();
        assert_eq!(c.network(), Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 1, 255, 255));
        assert!(c.contains(Ipv4Addr::new(10, 1, 200, 1)));
        assert!(!c.contains(Ipv4Addr::new(10, 2, 0, 1)));
        assert!(Cidr::ANY.contains(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!("1.2.3.4".parse::<Cidr>().unwrap().prefix_len, 32);
        for bad in ["10.0.0.0/33", "10.0.0/8", "10.0.0.0/x", ""] {
            assert_eq!(bad.parse::<Cidr>(), Err(BadCidr(bad.into())));
        }
    }

    #[test]
    fn defaults_validate() {
        StackConfig::default().validate().unwrap();
    }

    #[test]
    fn bad_values_name_the_field() {
        let cfg = StackConfig {
            mtu: 40,
            ..StackConfig::default()
        };
        assert_eq!(cfg.validate().unwrap_err().field, "mtu");
        let app = AppConfig::UdpSink(UdpSinkConfig {
            port: 9,
            bind: None,
            rcvbuf: None,
            read_batch: 0,
            per_read_ns: 0,
            read_interval_ns: None,
            reuseaddr: false,
        });
        assert_eq!(app.validate(2).unwrap_err().field, "apps[2].read_batch");
    }
}
