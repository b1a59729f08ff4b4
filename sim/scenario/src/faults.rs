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
//! ```
//!
//! Selection, per rule: `nth: N` picks the N-th frame (from 1) of the direction that passes `match`;
//! otherwise every passing frame is picked, each with `probability` (drawn from the scenario's seed,
//! so runs repeat) when given, and at most `count` frames when given. Every rule sees every frame of
//! its direction; the first rule that picks a frame acts on it, and only that rule counts a hit.

use host_driver::wire::ethernet::{ethertype, EthernetFrame};
use host_driver::wire::icmp;
use host_driver::wire::ipv4::{protocol, Ipv4Packet};
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
        if self.payload.is_some() && self.protocol == Some(Protocol::Arp) {
            return Err(Problem::new(
                at.key("payload"),
                "ARP has no L4 payload to test",
            ));
        }
        Ok(())
    }

    /// Whether `frame` (Ethernet, no FCS) passes every field given. Ports and payload are read from
    /// a datagram's first fragment; later fragments carry no L4 header and pass only a filter that
    /// asks for neither.
    pub fn matches(&self, frame: &[u8]) -> bool {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return *self == FrameMatch::default();
        };
        if eth.ethertype() == ethertype::ARP {
            return matches!(self.protocol, None | Some(Protocol::Arp))
                && self.src_port.is_none()
                && self.dst_port.is_none()
                && self.payload.is_none();
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
        let (ports, has_payload) = match proto {
            Protocol::Udp => match UdpPacket::new_checked(l4) {
                Ok(u) => (Some((u.src_port(), u.dst_port())), !u.payload().is_empty()),
                Err(_) => return false,
            },
            Protocol::Tcp => match tcp_ports_and_payload(l4) {
                Some((ports, data)) => (Some(ports), data),
                None => return false,
            },
            Protocol::Icmp => (None, l4.len() > icmp::HEADER_LEN),
            Protocol::Arp => unreachable!("ARP was handled above"),
        };
        let port_ok = |want: Option<u16>, got: Option<u16>| want.is_none() || want == got;
        port_ok(self.src_port, ports.map(|p| p.0))
            && port_ok(self.dst_port, ports.map(|p| p.1))
            && self.payload.is_none_or(|want| want == has_payload)
    }

    /// No field that needs the L4 header.
    fn l4_free(&self) -> bool {
        self.src_port.is_none() && self.dst_port.is_none() && self.payload.is_none()
    }
}

/// A TCP segment's ports and whether it carries data past its header (data offset × 4).
fn tcp_ports_and_payload(seg: &[u8]) -> Option<((u16, u16), bool)> {
    let header = usize::from(*seg.get(12)? >> 4) * 4;
    if header < 20 || seg.len() < header {
        return None;
    }
    let port = |i: usize| u16::from_be_bytes([seg[i], seg[i + 1]]);
    Some(((port(0), port(2)), seg.len() > header))
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

    #[test]
    fn tcp_header_length_decides_the_payload() {
        let mut seg = [0u8; 24];
        seg[..4].copy_from_slice(&[0x13, 0x89, 0, 80]);
        seg[12] = 5 << 4;
        assert_eq!(tcp_ports_and_payload(&seg), Some(((5001, 80), true)));
        seg[12] = 6 << 4;
        assert_eq!(tcp_ports_and_payload(&seg), Some(((5001, 80), false)));
        seg[12] = 7 << 4;
        assert_eq!(tcp_ports_and_payload(&seg), None);
    }
}
