//! Damage on the cable, the scenario's `faults:` section: which frames of which direction the wire
//! drops, duplicates, reorders, delays or corrupts (nicsim_world's `netem` applies them, after
//! Linux's `sch_netem`).
//!
//! ```yaml
//! faults:
//!   - {direction: to_host, match: {protocol: udp, dst_port: 5001}, nth: 5, action: drop}
//!   - {direction: to_peer, match: {protocol: udp}, count: 2, action: duplicate}
//!   - {direction: to_host, nth: 3, action: {reorder: 2}}     # sent after the next 2 frames
//!   - {direction: to_host, probability: 0.01, action: {delay_ns: 5000}}
//!   - {direction: to_peer, match: {protocol: udp, payload: true}, nth: 1, action: corrupt}
//!   - {direction: to_peer, match: {protocol: tcp, payload: true}, nth: 5, action: drop}
//!   - {direction: to_host, match: {protocol: tcp, flags: [syn, ack]}, nth: 1, action: drop}
//! ```
//!
//! Selection, per rule: `nth: N` picks the N-th frame (from 1) of the direction that passes `match`;
//! otherwise every passing frame is picked, each with `probability` (drawn from the scenario's seed,
//! so runs repeat) when given, and at most `count` frames when given. Every rule sees every frame of
//! its direction; the first rule that picks a frame acts on it, and only that rule counts a hit.

use host_driver::wire::ethernet::{ethertype, EthernetFrame};
use host_driver::wire::icmp;
use host_driver::wire::ipv4::{protocol, Ipv4Packet};
use host_driver::wire::tcp::{self, TcpPacket};
use host_driver::wire::udp::UdpPacket;
use serde::Deserialize;

use crate::scenario::locate::{Path, Problem};

/// One entry of `faults:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub direction: Direction,
    /// Which frames the rule looks at; empty: every frame of the direction.
    #[serde(default, rename = "match")]
    pub filter: FrameMatch,
    /// Pick only the N-th matching frame, counted from 1.
    #[serde(default)]
    pub nth: Option<u64>,
    /// Pick at most this many frames.
    #[serde(default)]
    pub count: Option<u64>,
    /// Pick each matching frame with this probability.
    #[serde(default)]
    pub probability: Option<f64>,
    pub action: Action,
}

/// Which way a frame travels on the cable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the NIC's RX: the traffic generator's frames and the link partner's.
    ToHost,
    /// What the NIC transmits, on its way to the link partner.
    ToPeer,
}

/// What the wire does to a picked frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The frame never arrives.
    Drop,
    /// The frame arrives twice; the copy is a frame of its own (its own id) right behind it.
    Duplicate,
    /// The frame is held back and sent after the next N frames of its direction (or when the line
    /// goes idle, if fewer follow).
    Reorder(u32),
    /// The frame arrives this many ns later than it would have.
    DelayNs(u64),
    /// One bit of the frame's L4 segment (after the IPv4 header, within its total length; after the
    /// Ethernet header for anything else) is flipped at a seeded position, and the FCS recomputed, so
    /// the MAC accepts it and the receiver's transport checksum must catch it.
    Corrupt,
}

/// A frame's protocol as a filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Udp,
    Tcp,
    Icmp,
    Arp,
}

/// `match:` of a rule; every field given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrameMatch {
    pub protocol: Option<Protocol>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// Whether the L4 segment carries data (UDP/TCP payload, ICMP data after its 8-byte header).
    pub payload: Option<bool>,
    /// TCP flags that must all be set (`[syn]` also matches a SYN-ACK; `[syn, ack]` only it).
    pub flags: Vec<TcpFlag>,
}

/// A TCP header flag, as `flags:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpFlag {
    Fin,
    Syn,
    Rst,
    Psh,
    Ack,
    Urg,
    Ece,
    Cwr,
}

impl TcpFlag {
    fn bit(self) -> u8 {
        match self {
            TcpFlag::Fin => tcp::flags::FIN,
            TcpFlag::Syn => tcp::flags::SYN,
            TcpFlag::Rst => tcp::flags::RST,
            TcpFlag::Psh => tcp::flags::PSH,
            TcpFlag::Ack => tcp::flags::ACK,
            TcpFlag::Urg => tcp::flags::URG,
            TcpFlag::Ece => tcp::flags::ECE,
            TcpFlag::Cwr => tcp::flags::CWR,
        }
    }
}

/// The most a frame may be delayed: a second is a typo, not a cable.
pub const MAX_DELAY_NS: u64 = 1_000_000_000;

impl FaultRule {
    fn validate(&self, at: Path) -> Result<(), Problem> {
        if let Some(n) = self.nth {
            if n == 0 {
                return Err(Problem::new(at.key("nth"), "nth counts from 1"));
            }
            for (key, given) in [
                ("count", self.count.is_some()),
                ("probability", self.probability.is_some()),
            ] {
                if given {
                    return Err(Problem::new(
                        at.key(key),
                        format!("`{key}` cannot be combined with `nth`, which picks one frame"),
                    ));
                }
            }
        }
        if self.count == Some(0) {
            return Err(Problem::new(at.key("count"), "count must be at least 1"));
        }
        if let Some(p) = self.probability {
            if !(p > 0.0 && p <= 1.0) {
                return Err(Problem::new(
                    at.key("probability"),
                    format!("{p} is outside (0, 1]"),
                ));
            }
        }
        match self.action {
            Action::Reorder(0) => {
                return Err(Problem::new(
                    at.key("action").key("reorder"),
                    "reorder needs at least 1 frame to pass the held one",
                ))
            }
            Action::DelayNs(ns) if ns == 0 || ns > MAX_DELAY_NS => {
                return Err(Problem::new(
                    at.key("action").key("delay_ns"),
                    format!("{ns} ns is outside 1..={MAX_DELAY_NS}"),
                ))
            }
            _ => {}
        }
        self.filter.validate(at.key("match"))
    }
}

impl FrameMatch {
    fn validate(&self, at: Path) -> Result<(), Problem> {
        let ported = matches!(self.protocol, Some(Protocol::Udp | Protocol::Tcp));
        for (key, given) in [
            ("src_port", self.src_port.is_some()),
            ("dst_port", self.dst_port.is_some()),
        ] {
            if given && !ported {
                return Err(Problem::new(
                    at.key(key),
                    format!("`{key}` needs `protocol: udp` or `protocol: tcp`"),
                ));
            }
        }
        if !self.flags.is_empty() && self.protocol != Some(Protocol::Tcp) {
            return Err(Problem::new(
                at.key("flags"),
                "`flags` needs `protocol: tcp`",
            ));
        }
        if self.payload.is_some() && self.protocol == Some(Protocol::Arp) {
            return Err(Problem::new(
                at.key("payload"),
                "ARP has no L4 payload to test",
            ));
        }
        Ok(())
    }

    /// Whether `frame` (Ethernet, no FCS) passes every field given. Ports, payload and flags are read
    /// from a datagram's first fragment; later fragments carry no L4 header and pass only a filter
    /// that asks for none of them.
    pub fn matches(&self, frame: &[u8]) -> bool {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return *self == FrameMatch::default();
        };
        if eth.ethertype() == ethertype::ARP {
            return matches!(self.protocol, None | Some(Protocol::Arp)) && self.l4_free();
        }
        let ip = match Ipv4Packet::new_checked(eth.payload()) {
            Ok(ip) if eth.ethertype() == ethertype::IPV4 => ip,
            _ => return *self == FrameMatch::default(),
        };
        let proto = match ip.protocol() {
            protocol::UDP => Protocol::Udp,
            protocol::TCP => Protocol::Tcp,
            protocol::ICMP => Protocol::Icmp,
            _ => return self.protocol.is_none() && self.l4_free(),
        };
        if self.protocol.is_some_and(|p| p != proto) {
            return false;
        }
        if self.l4_free() {
            return true;
        }
        if ip.frag_offset() != 0 {
            return false;
        }
        let l4 = ip.payload();
        let (ports, has_payload, flags) = match proto {
            Protocol::Udp => match UdpPacket::new_checked(l4) {
                Ok(u) => (
                    Some((u.src_port(), u.dst_port())),
                    !u.payload().is_empty(),
                    0,
                ),
                Err(_) => return false,
            },
            Protocol::Tcp => match TcpPacket::new_checked(l4) {
                Ok(t) => (
                    Some((t.src_port(), t.dst_port())),
                    !t.payload().is_empty(),
                    t.flags(),
                ),
                Err(_) => return false,
            },
            Protocol::Icmp => (None, l4.len() > icmp::HEADER_LEN, 0),
            Protocol::Arp => unreachable!("ARP was handled above"),
        };
        let port_ok = |want: Option<u16>, got: Option<u16>| want.is_none() || want == got;
        port_ok(self.src_port, ports.map(|p| p.0))
            && port_ok(self.dst_port, ports.map(|p| p.1))
            && self.payload.is_none_or(|want| want == has_payload)
            && self.flags.iter().all(|f| flags & f.bit() != 0)
    }

    /// No field that needs the L4 header.
    fn l4_free(&self) -> bool {
        self.src_port.is_none()
            && self.dst_port.is_none()
            && self.payload.is_none()
            && self.flags.is_empty()
    }
}

/// Checks every rule of `faults:`, errors at `faults[i]....`.
pub fn validate(rules: &[FaultRule]) -> Result<(), Problem> {
    rules
        .iter()
        .enumerate()
        .try_for_each(|(i, r)| r.validate(Path::default().key("faults").index(i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::wire::build::{ipv4_frame, Ipv4FrameSpec};
    use host_driver::wire::ethernet::MacAddr;
    use host_driver::wire::ipv4::Ipv4Repr;
    use host_driver::wire::udp::UdpRepr;
    use std::net::Ipv4Addr;

    fn udp_frame(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 254), Ipv4Addr::new(10, 0, 0, 1));
        let mut l4 = vec![0; 8 + data.len()];
        l4[8..].copy_from_slice(data);
        UdpRepr { src_port, dst_port }
            .emit(&mut l4, src, dst)
            .unwrap();
        ipv4_frame(&Ipv4FrameSpec {
            src_mac: MacAddr([2, 0, 0, 0, 0, 0xfe]),
            dst_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            ip: Ipv4Repr {
                src,
                dst,
                protocol: protocol::UDP,
                ttl: 64,
                tos: 0,
                ident: 1,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
                payload_len: l4.len(),
            },
            payload: &l4,
        })
        .unwrap()
    }

    #[test]
    fn udp_fields_match_ports_and_payload() {
        let f = udp_frame(7, 5001, b"abc");
        let m = |yaml: &str| serde_norway::from_str::<FrameMatch>(yaml).unwrap();
        assert!(m("{}").matches(&f));
        assert!(m("{protocol: udp, dst_port: 5001, payload: true}").matches(&f));
        assert!(!m("{protocol: udp, src_port: 5001}").matches(&f));
        assert!(!m("{protocol: icmp}").matches(&f));
        assert!(!m("{protocol: udp, payload: false}").matches(&f));
        assert!(m("{protocol: udp, payload: false}").matches(&udp_frame(7, 5001, b"")));
        assert!(!m("{protocol: arp}").matches(&f));
    }

    /// A TCP segment in a frame: `data_words` 32-bit words of header, `flags`, `data` bytes after.
    fn tcp_frame(header_words: u8, flags: u8, data: usize) -> Vec<u8> {
        let mut f = udp_frame(1, 2, &vec![0; usize::from(header_words) * 4 + data - 8]);
        f[23] = protocol::TCP;
        let l4 = &mut f[34..];
        l4[..4].copy_from_slice(&[0x13, 0x89, 0, 80]);
        l4[12] = header_words << 4;
        l4[13] = flags;
        f
    }

    #[test]
    fn tcp_fields_match_ports_flags_and_the_payload_past_the_options() {
        let m = |yaml: &str| serde_norway::from_str::<FrameMatch>(yaml).unwrap();
        let data = tcp_frame(5, tcp::flags::ACK | tcp::flags::PSH, 4);
        assert!(m("{protocol: tcp, src_port: 5001, dst_port: 80, payload: true}").matches(&data));
        assert!(m("{protocol: tcp, flags: [ack, psh]}").matches(&data));
        assert!(!m("{protocol: tcp, flags: [syn]}").matches(&data));
        let syn_ack = tcp_frame(8, tcp::flags::SYN | tcp::flags::ACK, 0);
        assert!(m("{protocol: tcp, flags: [syn], payload: false}").matches(&syn_ack));
        assert!(!m("{protocol: tcp, payload: true}").matches(&syn_ack));
        assert!(!m("{protocol: udp}").matches(&syn_ack));
    }
}
