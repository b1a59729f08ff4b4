//! Whole frames (Ethernet without FCS) for the simulator's traffic generator and link partners.
//!
//! Frames are what a real sender's MAC puts on the wire minus the FCS (the simulator appends it):
//! shorter frames are zero-padded to `ETH_ZLEN` (60 bytes), checksums are correct, and every
//! header is emitted through the same `Repr::emit` the stack uses.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use super::arp::{self, ArpOp, ArpRepr};
use super::ethernet::{self, ethertype, EthernetRepr, MacAddr};
use super::icmp::IcmpRepr;
use super::ipv4::{self, fragment_slices, protocol, Ipv4Repr};
use super::udp::{self, UdpRepr};
use super::WireError;

/// The payload of a generated datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `n` bytes of the pattern 0, 1, 2, … 255, 0, … (recognisable in a capture).
    Len(usize),
    /// Exactly these bytes.
    Bytes(Vec<u8>),
}

impl Payload {
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Payload::Len(n) => Cow::Owned((0..*n).map(|i| i as u8).collect()),
            Payload::Bytes(b) => Cow::Borrowed(b),
        }
    }
}

/// One UDP/IPv4/Ethernet datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpFrameSpec {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Payload,
    pub ttl: u8,
    pub ip_id: u16,
}

/// One IPv4 packet (or fragment) with an arbitrary header and payload, e.g. for overlapping or
/// out-of-order fragments. `ip.payload_len` is taken from `payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4FrameSpec<'a> {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub ip: Ipv4Repr,
    pub payload: &'a [u8],
}

/// An ICMP echo request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpEchoSpec {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub ident: u16,
    pub seq: u16,
    pub payload: Payload,
    pub ttl: u8,
    pub ip_id: u16,
    /// Echo reply instead of request.
    pub reply: bool,
}

/// An Ethernet frame of `body_len` payload bytes written by `fill`, padded to `ETH_ZLEN`.
fn ethernet_frame(
    eth: EthernetRepr,
    body_len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), WireError>,
) -> Result<Vec<u8>, WireError> {
    let len = ethernet::HEADER_LEN + body_len;
    let mut frame = vec![0; len.max(ethernet::MIN_FRAME_LEN)];
    eth.emit(&mut frame)?;
    fill(&mut frame[ethernet::HEADER_LEN..len])?;
    Ok(frame)
}

/// An IPv4 packet in an Ethernet frame.
pub fn ipv4_frame(spec: &Ipv4FrameSpec<'_>) -> Result<Vec<u8>, WireError> {
    let eth = EthernetRepr {
        src: spec.src_mac,
        dst: spec.dst_mac,
        ethertype: ethertype::IPV4,
    };
    let ip = Ipv4Repr {
        payload_len: spec.payload.len(),
        ..spec.ip
    };
    ethernet_frame(eth, ipv4::HEADER_LEN + spec.payload.len(), |buf| {
        ip.emit(buf)?;
        buf[ipv4::HEADER_LEN..].copy_from_slice(spec.payload);
        Ok(())
    })
}

/// The UDP header and payload of `spec`, checksummed.
pub fn udp_datagram(spec: &UdpFrameSpec) -> Result<Vec<u8>, WireError> {
    let payload = spec.payload.bytes();
    let mut d = vec![0; udp::HEADER_LEN + payload.len()];
    d[udp::HEADER_LEN..].copy_from_slice(&payload);
    UdpRepr {
        src_port: spec.src_port,
        dst_port: spec.dst_port,
    }
    .emit(&mut d, spec.src_ip, spec.dst_ip)?;
    Ok(d)
}

fn udp_ip_header(spec: &UdpFrameSpec) -> Ipv4Repr {
    Ipv4Repr {
        src: spec.src_ip,
        dst: spec.dst_ip,
        protocol: protocol::UDP,
        ttl: spec.ttl,
        tos: 0,
        ident: spec.ip_id,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        payload_len: 0,
    }
}

/// A complete UDP frame.
pub fn udp_frame(spec: &UdpFrameSpec) -> Result<Vec<u8>, WireError> {
    let datagram = udp_datagram(spec)?;
    ipv4_frame(&Ipv4FrameSpec {
        src_mac: spec.src_mac,
        dst_mac: spec.dst_mac,
        ip: udp_ip_header(spec),
        payload: &datagram,
    })
}

/// The UDP datagram of `spec` split into IPv4 fragments that fit `mtu` (in order; one frame if
/// it already fits).
pub fn udp_fragments(spec: &UdpFrameSpec, mtu: usize) -> Result<Vec<Vec<u8>>, WireError> {
    let datagram = udp_datagram(spec)?;
    let base = udp_ip_header(spec);
    fragment_slices(datagram.len(), mtu, 0, false)?
        .into_iter()
        .map(|f| {
            ipv4_frame(&Ipv4FrameSpec {
                src_mac: spec.src_mac,
                dst_mac: spec.dst_mac,
                ip: Ipv4Repr {
                    frag_offset: f.offset,
                    more_frags: f.more,
                    ..base
                },
                payload: &datagram[f.offset..f.offset + f.len],
            })
        })
        .collect()
}

fn arp_frame(dst: MacAddr, repr: ArpRepr) -> Vec<u8> {
    let eth = EthernetRepr {
        src: repr.sender_mac,
        dst,
        ethertype: ethertype::ARP,
    };
    let mut frame = vec![0; ethernet::MIN_FRAME_LEN];
    frame[..ethernet::HEADER_LEN].copy_from_slice(&eth.to_bytes());
    frame[ethernet::HEADER_LEN..ethernet::HEADER_LEN + arp::PACKET_LEN]
        .copy_from_slice(&repr.to_bytes());
    frame
}

/// "Who has `target_ip`? Tell `src_ip`", broadcast.
pub fn arp_request(src_mac: MacAddr, src_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    arp_frame(
        MacAddr::BROADCAST,
        ArpRepr {
            op: ArpOp::Request,
            sender_mac: src_mac,
            sender_ip: src_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        },
    )
}

/// "`src_ip` is at `src_mac`", unicast to the asker.
pub fn arp_reply(
    src_mac: MacAddr,
    src_ip: Ipv4Addr,
    dst_mac: MacAddr,
    dst_ip: Ipv4Addr,
) -> Vec<u8> {
    arp_frame(
        dst_mac,
        ArpRepr {
            op: ArpOp::Reply,
            sender_mac: src_mac,
            sender_ip: src_ip,
            target_mac: dst_mac,
            target_ip: dst_ip,
        },
    )
}

/// An ICMP echo request or reply frame.
pub fn icmp_echo(spec: &IcmpEchoSpec) -> Result<Vec<u8>, WireError> {
    let data = spec.payload.bytes();
    let icmp = if spec.reply {
        IcmpRepr::EchoReply {
            ident: spec.ident,
            seq: spec.seq,
            data: &data,
        }
    } else {
        IcmpRepr::EchoRequest {
            ident: spec.ident,
            seq: spec.seq,
            data: &data,
        }
    };
    let mut message = vec![0; icmp.buffer_len()];
    icmp.emit(&mut message)?;
    ipv4_frame(&Ipv4FrameSpec {
        src_mac: spec.src_mac,
        dst_mac: spec.dst_mac,
        ip: Ipv4Repr {
            src: spec.src_ip,
            dst: spec.dst_ip,
            protocol: protocol::ICMP,
            ttl: spec.ttl,
            tos: 0,
            ident: spec.ip_id,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        },
        payload: &message,
    })
}

#[cfg(test)]
mod tests {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    use super::*;
    use crate::wire::ipv4::Ipv4Packet;

    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn spec(payload: Payload) -> UdpFrameSpec {
        UdpFrameSpec {
            src_mac: A,
            dst_mac: B,
            src_ip: IP_A,
            dst_ip: IP_B,
            src_port: 4000,
            dst_port: 9,
            payload,
            ttl: 64,
            ip_id: 77,
        }
    }

    #[test]
    fn udp_frame_agrees_with_etherparse() {
        let frame = udp_frame(&spec(Payload::Len(100))).unwrap();
        assert_eq!(frame.len(), 14 + 20 + 8 + 100);
        let p = SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(etherparse::LinkSlice::Ethernet2(eth)) = p.link else {
            panic!("not ethernet: {:?}", p.link)
        };
        assert_eq!((eth.source(), eth.destination()), (A.0, B.0));
        let Some(NetSlice::Ipv4(ip)) = p.net else {
            panic!("not ipv4")
        };
        let h = ip.header();
        assert_eq!(
            (h.source(), h.destination(), h.ttl(), h.identification()),
            (IP_A.octets(), IP_B.octets(), 64, 77)
        );
        assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
        let Some(TransportSlice::Udp(u)) = p.transport else {
            panic!("not udp")
        };
        assert_eq!(
            (u.source_port(), u.destination_port(), u.length()),
            (4000, 9, 108)
        );
        let expected = u
            .to_header()
            .calc_checksum_ipv4(&h.to_header(), u.payload())
            .unwrap();
        assert_eq!(u.checksum(), expected);
        assert_eq!(u.payload(), &Payload::Len(100).bytes()[..]);
    }

    #[test]
    fn short_frames_are_padded_and_padding_is_outside_ip() {
        let frame = udp_frame(&spec(Payload::Bytes(b"hi".to_vec()))).unwrap();
        assert_eq!(frame.len(), ethernet::MIN_FRAME_LEN);
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        assert_eq!(ip.total_len(), 30);
    }

    #[test]
    fn fragments_reassemble_to_the_datagram() {
        let s = spec(Payload::Len(3000));
        let frags = udp_fragments(&s, 1500).unwrap();
        assert_eq!(frags.len(), 3);
        let mut data = vec![0u8; 3008];
        for (i, f) in frags.iter().enumerate() {
            let p = SlicedPacket::from_ethernet(f).unwrap();
            let Some(NetSlice::Ipv4(ip)) = p.net else {
                panic!("not ipv4")
            };
            let h = ip.header();
            assert!(f.len() - 14 <= 1500);
            assert_eq!(h.more_fragments(), i < 2);
            assert_eq!(h.identification(), 77);
            assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
            let off = usize::from(h.fragments_offset().value()) * 8;
            let payload = ip.payload().payload;
            data[off..off + payload.len()].copy_from_slice(payload);
        }
        assert_eq!(data, udp_datagram(&s).unwrap());
    }

    #[test]
    fn arp_frames_agree_with_etherparse() {
        let req = arp_request(A, IP_A, IP_B);
        let rep = arp_reply(B, IP_B, A, IP_A);
        for (frame, op, dst) in [
            (&req, etherparse::ArpOperation::REQUEST, MacAddr::BROADCAST),
            (&rep, etherparse::ArpOperation::REPLY, A),
        ] {
            assert_eq!(frame.len(), 60);
            let p = SlicedPacket::from_ethernet(frame).unwrap();
            let Some(etherparse::LinkSlice::Ethernet2(eth)) = &p.link else {
                panic!("not ethernet")
            };
            assert_eq!(eth.destination(), dst.0);
            let Some(NetSlice::Arp(arp)) = p.net else {
                panic!("not arp: {:?}", p.net)
            };
            assert_eq!(arp.operation(), op);
        }
    }

    #[test]
    fn icmp_echo_agrees_with_etherparse() {
        let frame = icmp_echo(&IcmpEchoSpec {
            src_mac: A,
            dst_mac: B,
            src_ip: IP_A,
            dst_ip: IP_B,
            ident: 0x99,
            seq: 3,
            payload: Payload::Len(56),
            ttl: 64,
            ip_id: 1,
            reply: false,
        })
        .unwrap();
        let p = SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
            panic!("not icmp")
        };
        assert_eq!(
            icmp.icmp_type(),
            etherparse::Icmpv4Type::EchoRequest(etherparse::IcmpEchoHeader { id: 0x99, seq: 3 })
        );
        assert_eq!(
            icmp.checksum(),
            icmp.header().icmp_type.calc_checksum(icmp.payload())
        );
    }

    #[test]
    fn oversize_datagram_is_an_error() {
        assert!(udp_frame(&spec(Payload::Len(65536))).is_err());
    }
}
