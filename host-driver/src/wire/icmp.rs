//! ICMPv4 (RFC 792, `struct icmphdr` in include/uapi/linux/icmp.h): echo, destination
//! unreachable and time exceeded are modelled; other types parse as [`IcmpRepr::Other`].

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::checksum::internet_checksum;
use super::{header, out_buf, WireError};

pub const HEADER_LEN: usize = 8;

/// ICMP types (`ICMP_*`).
pub mod kind {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACH: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
}

/// Destination-unreachable codes (`ICMP_*` for type 3).
pub mod unreach {
    /// `ICMP_NET_UNREACH`.
    pub const NET: u8 = 0;
    /// `ICMP_PROT_UNREACH`.
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    /// `ICMP_FRAG_NEEDED`: DF set and the packet exceeds the next hop's MTU.
    pub const FRAG_NEEDED: u8 = 4;
}

/// Time-exceeded codes.
pub mod exceeded {
    /// `ICMP_EXC_TTL`.
    pub const TTL: u8 = 0;
    /// `ICMP_EXC_FRAGTIME`.
    pub const FRAGMENT_REASSEMBLY: u8 = 1;
}

/// `struct icmphdr`: type, code, checksum and the 4-byte type-specific word.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct IcmpHdr {
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: U16,
    pub rest: [u8; 4],
}

/// A checked view of an ICMP message (header plus data).
#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<'a> {
    hdr: &'a IcmpHdr,
    message: &'a [u8],
}

impl<'a> IcmpPacket<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<IcmpPacket<'a>, WireError> {
        let (hdr, _) = header::<IcmpHdr>("icmp", bytes)?;
        Ok(IcmpPacket {
            hdr,
            message: bytes,
        })
    }

    /// The whole message sums to zero.
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.message) == 0
    }

    pub fn icmp_type(&self) -> u8 {
        self.hdr.icmp_type
    }

    pub fn code(&self) -> u8 {
        self.hdr.code
    }

    pub fn data(&self) -> &'a [u8] {
        &self.message[HEADER_LEN..]
    }
}

/// An ICMP message. `original` is the offending datagram's IP header plus at least 8 bytes of
/// its payload, as RFC 792 requires errors to quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpRepr<'a> {
    EchoRequest {
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    DestUnreachable {
        code: u8,
        next_hop_mtu: u16,
        original: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        original: &'a [u8],
    },
    /// A type the stack does not act on (`icmp_discard`).
    Other {
        icmp_type: u8,
        code: u8,
    },
}

/// An ICMP error a host sends about a packet it received (the `type`/`code` pairs `icmp_send` is
/// called with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// `ICMP_PORT_UNREACH`: no UDP socket.
    PortUnreachable,
    /// `ICMP_PROT_UNREACH`: no `inet_protos` handler.
    ProtocolUnreachable,
    /// `ICMP_NET_UNREACH`: no route when forwarding.
    NetUnreachable,
    /// `ICMP_FRAG_NEEDED` with the next hop's MTU: DF set and too big to forward.
    FragNeeded { mtu: u16 },
    /// `ICMP_EXC_TTL`: TTL ran out while forwarding.
    TtlExceeded,
    /// `ICMP_EXC_FRAGTIME`: reassembly timed out.
    ReassemblyTimeExceeded,
}

impl IcmpError {
    /// The message reporting this error about `original` (the offending IP header and data).
    pub fn repr(self, original: &[u8]) -> IcmpRepr<'_> {
        let unreachable = |code, next_hop_mtu| IcmpRepr::DestUnreachable {
            code,
            next_hop_mtu,
            original,
        };
        match self {
            IcmpError::PortUnreachable => unreachable(unreach::PORT, 0),
            IcmpError::ProtocolUnreachable => unreachable(unreach::PROTOCOL, 0),
            IcmpError::NetUnreachable => unreachable(unreach::NET, 0),
            IcmpError::FragNeeded { mtu } => unreachable(unreach::FRAG_NEEDED, mtu),
            IcmpError::TtlExceeded => IcmpRepr::TimeExceeded {
                code: exceeded::TTL,
                original,
            },
            IcmpError::ReassemblyTimeExceeded => IcmpRepr::TimeExceeded {
                code: exceeded::FRAGMENT_REASSEMBLY,
                original,
            },
        }
    }
}

impl<'a> IcmpRepr<'a> {
    pub fn parse(p: &IcmpPacket<'a>) -> IcmpRepr<'a> {
        let r = p.hdr.rest;
        let hi = u16::from_be_bytes([r[0], r[1]]);
        let lo = u16::from_be_bytes([r[2], r[3]]);
        match p.icmp_type() {
            kind::ECHO_REQUEST => IcmpRepr::EchoRequest {
                ident: hi,
                seq: lo,
                data: p.data(),
            },
            kind::ECHO_REPLY => IcmpRepr::EchoReply {
                ident: hi,
                seq: lo,
                data: p.data(),
            },
            kind::DEST_UNREACH => IcmpRepr::DestUnreachable {
                code: p.code(),
                next_hop_mtu: lo,
                original: p.data(),
            },
            kind::TIME_EXCEEDED => IcmpRepr::TimeExceeded {
                code: p.code(),
                original: p.data(),
            },
            t => IcmpRepr::Other {
                icmp_type: t,
                code: p.code(),
            },
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                IcmpRepr::EchoRequest { data, .. } | IcmpRepr::EchoReply { data, .. } => data.len(),
                IcmpRepr::DestUnreachable { original, .. }
                | IcmpRepr::TimeExceeded { original, .. } => original.len(),
                IcmpRepr::Other { .. } => 0,
            }
    }

    /// Writes header and data with the checksum at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let word = |hi: u16, lo: u16| {
            let (h, l) = (hi.to_be_bytes(), lo.to_be_bytes());
            [h[0], h[1], l[0], l[1]]
        };
        let (icmp_type, code, rest, data): (u8, u8, [u8; 4], &[u8]) = match *self {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                (kind::ECHO_REQUEST, 0, word(ident, seq), data)
            }
            IcmpRepr::EchoReply { ident, seq, data } => {
                (kind::ECHO_REPLY, 0, word(ident, seq), data)
            }
            IcmpRepr::DestUnreachable {
                code,
                next_hop_mtu,
                original,
            } => (kind::DEST_UNREACH, code, word(0, next_hop_mtu), original),
            IcmpRepr::TimeExceeded { code, original } => {
                (kind::TIME_EXCEEDED, code, [0; 4], original)
            }
            IcmpRepr::Other { icmp_type, code } => (icmp_type, code, [0; 4], &[]),
        };
        let out = out_buf("icmp", buf, self.buffer_len())?;
        let hdr = IcmpHdr {
            icmp_type,
            code,
            checksum: U16::new(0),
            rest,
        };
        out[..HEADER_LEN].copy_from_slice(hdr.as_bytes());
        out[HEADER_LEN..].copy_from_slice(data);
        let sum = internet_checksum(out);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echo request id 0x1234 seq 1, data "abcd"; checksum ~(0800+1234+0001+6162+6364) = 0x2104.
    const ECHO: [u8; 12] = [
        8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd',
    ];

    #[test]
    fn echo_request_known_bytes() {
        let p = IcmpPacket::new_checked(&ECHO).unwrap();
        assert!(p.verify_checksum());
        let repr = IcmpRepr::parse(&p);
        assert_eq!(
            repr,
            IcmpRepr::EchoRequest {
                ident: 0x1234,
                seq: 1,
                data: b"abcd"
            }
        );
        let mut out = [0u8; 12];
        repr.emit(&mut out).unwrap();
        assert_eq!(out, ECHO);
    }

    #[test]
    fn errors_round_trip() {
        let original = [0x45u8; 28];
        for repr in [
            IcmpRepr::DestUnreachable {
                code: unreach::FRAG_NEEDED,
                next_hop_mtu: 1400,
                original: &original,
            },
            IcmpRepr::TimeExceeded {
                code: exceeded::TTL,
                original: &original,
            },
            IcmpRepr::EchoReply {
                ident: 7,
                seq: 9,
                data: &[],
            },
            IcmpRepr::Other {
                icmp_type: 13,
                code: 0,
            },
        ] {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = IcmpPacket::new_checked(&buf).unwrap();
            assert!(p.verify_checksum());
            assert_eq!(IcmpRepr::parse(&p), repr);
        }
    }

    #[test]
    fn short_input_and_output_are_errors() {
        assert!(IcmpPacket::new_checked(&ECHO[..7]).is_err());
        let repr = IcmpRepr::EchoReply {
            ident: 0,
            seq: 0,
            data: b"xyz",
        };
        assert!(matches!(
            repr.emit(&mut [0u8; 10]),
            Err(WireError::BufferTooSmall { .. })
        ));
    }
}
