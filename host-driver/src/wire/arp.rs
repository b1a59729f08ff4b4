//! ARP for IPv4 over Ethernet (RFC 826, `struct arphdr` + `struct arp_eth` body).

use std::net::Ipv4Addr;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::ethernet::{ethertype, MacAddr};
use super::{header, out_buf, WireError};

/// Ethernet/IPv4 ARP packet length.
pub const PACKET_LEN: usize = 28;
/// `ARPHRD_ETHER`.
const HTYPE_ETHERNET: u16 = 1;

/// `struct arphdr` followed by the Ethernet/IPv4 addresses.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ArpHdr {
    pub htype: U16,
    pub ptype: U16,
    pub hlen: u8,
    pub plen: u8,
    pub oper: U16,
    pub sha: [u8; 6],
    pub spa: [u8; 4],
    pub tha: [u8; 6],
    pub tpa: [u8; 4],
}

/// `ARPOP_REQUEST` / `ARPOP_REPLY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOp {
    Request,
    Reply,
}

/// A checked ARP packet: Ethernet hardware, IPv4 protocol, request or reply (what `arp_rcv`
/// accepts; anything else it drops).
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<'a> {
    hdr: &'a ArpHdr,
}

impl<'a> ArpPacket<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<ArpPacket<'a>, WireError> {
        const WHAT: &str = "arp";
        let (hdr, _) = header::<ArpHdr>(WHAT, bytes)?;
        let bad = |field, value: u32| WireError::BadField {
            what: WHAT,
            field,
            value,
        };
        if hdr.htype.get() != HTYPE_ETHERNET {
            return Err(bad("hardware type", hdr.htype.get().into()));
        }
        if hdr.ptype.get() != ethertype::IPV4 {
            return Err(bad("protocol type", hdr.ptype.get().into()));
        }
        if hdr.hlen != 6 {
            return Err(bad("hardware length", hdr.hlen.into()));
        }
        if hdr.plen != 4 {
            return Err(bad("protocol length", hdr.plen.into()));
        }
        if !matches!(hdr.oper.get(), 1 | 2) {
            return Err(bad("operation", hdr.oper.get().into()));
        }
        Ok(ArpPacket { hdr })
    }

    pub fn op(&self) -> ArpOp {
        if self.hdr.oper.get() == 1 {
            ArpOp::Request
        } else {
            ArpOp::Reply
        }
    }
}

/// The fields of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub op: ArpOp,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub fn parse(p: &ArpPacket<'_>) -> ArpRepr {
        ArpRepr {
            op: p.op(),
            sender_mac: MacAddr(p.hdr.sha),
            sender_ip: Ipv4Addr::from(p.hdr.spa),
            target_mac: MacAddr(p.hdr.tha),
            target_ip: Ipv4Addr::from(p.hdr.tpa),
        }
    }

    /// Writes the 28-byte packet at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        out_buf("arp", buf, PACKET_LEN)?.copy_from_slice(&self.to_bytes());
        Ok(())
    }

    /// The 28 packet bytes.
    pub fn to_bytes(&self) -> [u8; PACKET_LEN] {
        let hdr = ArpHdr {
            htype: U16::new(HTYPE_ETHERNET),
            ptype: U16::new(ethertype::IPV4),
            hlen: 6,
            plen: 4,
            oper: U16::new(match self.op {
                ArpOp::Request => 1,
                ArpOp::Reply => 2,
            }),
            sha: self.sender_mac.0,
            spa: self.sender_ip.octets(),
            tha: self.target_mac.0,
            tpa: self.target_ip.octets(),
        };
        let mut out = [0; PACKET_LEN];
        out.copy_from_slice(hdr.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who has 10.0.0.2? Tell 10.0.0.1 (02:00:00:00:00:01).
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0,
        0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ];

    #[test]
    fn parse_and_emit_round_trip() {
        let repr = ArpRepr::parse(&ArpPacket::new_checked(&REQUEST).unwrap());
        assert_eq!(
            repr,
            ArpRepr {
                op: ArpOp::Request,
                sender_mac: MacAddr([2, 0, 0, 0, 0, 1]),
                sender_ip: Ipv4Addr::new(10, 0, 0, 1),
                target_mac: MacAddr::ZERO,
                target_ip: Ipv4Addr::new(10, 0, 0, 2),
            }
        );
        let mut out = [0u8; 28];
        repr.emit(&mut out).unwrap();
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn unsupported_formats_are_rejected() {
        for (idx, val, field) in [
            (1, 6, "hardware type"),
            (3, 0xdd, "protocol type"),
            (4, 8, "hardware length"),
            (5, 16, "protocol length"),
            (7, 3, "operation"),
        ] {
            let mut b = REQUEST;
            b[idx] = val;
            assert!(
                matches!(ArpPacket::new_checked(&b), Err(WireError::BadField { field: f, .. }) if f == field),
                "{field}"
            );
        }
        assert!(matches!(
            ArpPacket::new_checked(&REQUEST[..27]),
            Err(WireError::Truncated { .. })
        ));
    }
}
