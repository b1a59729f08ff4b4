//! UDP header (RFC 768, `struct udphdr` in include/uapi/linux/udp.h).

use std::net::Ipv4Addr;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::checksum::Checksum;
use super::ipv4::protocol;
use super::{header, out_buf, WireError};

pub const HEADER_LEN: usize = 8;

/// `struct udphdr`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct UdpHdr {
    pub src_port: U16,
    pub dst_port: U16,
    pub len: U16,
    pub checksum: U16,
}

/// A checked view of a UDP datagram: the length field covers at least the header and at most
/// the bytes present (`__udp4_lib_rcv`'s `ulen` checks). The datagram ends at that length.
#[derive(Debug, Clone, Copy)]
pub struct UdpPacket<'a> {
    hdr: &'a UdpHdr,
    datagram: &'a [u8],
}

impl<'a> UdpPacket<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<UdpPacket<'a>, WireError> {
        const WHAT: &str = "udp";
        let (hdr, _) = header::<UdpHdr>(WHAT, bytes)?;
        let len = usize::from(hdr.len.get());
        if len < HEADER_LEN {
            return Err(WireError::BadField {
                what: WHAT,
                field: "length",
                value: len as u32,
            });
        }
        if len > bytes.len() {
            return Err(WireError::TruncatedPayload {
                what: WHAT,
                declared: len,
                have: bytes.len(),
            });
        }
        Ok(UdpPacket {
            hdr,
            datagram: &bytes[..len],
        })
    }

    pub fn src_port(&self) -> u16 {
        self.hdr.src_port.get()
    }

    pub fn dst_port(&self) -> u16 {
        self.hdr.dst_port.get()
    }

    /// The checksum field; 0 means the sender did not compute one (allowed over IPv4).
    pub fn checksum(&self) -> u16 {
        self.hdr.checksum.get()
    }

    /// `udp4_csum_init` + `__skb_checksum_complete`: true if absent or correct.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0
            || Checksum::new()
                .pseudo_header(src, dst, protocol::UDP, self.hdr.len.get())
                .add_bytes(self.datagram)
                .finish()
                == 0
    }

    /// Header plus payload, as long as the length field says.
    pub fn len(&self) -> usize {
        self.datagram.len()
    }

    /// Always false: a checked datagram holds at least its header.
    pub fn is_empty(&self) -> bool {
        self.datagram.is_empty()
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.datagram[HEADER_LEN..]
    }
}

/// The ports of a UDP header; length and checksum are derived on emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
}

impl UdpRepr {
    pub fn parse(p: &UdpPacket<'_>) -> UdpRepr {
        UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        }
    }

    /// `udp_send_skb`: `datagram` is the header room followed by the payload already in place;
    /// writes the header with length and checksum over the pseudo-header and payload. A computed
    /// checksum of 0 is sent as 0xffff (`CSUM_MANGLED_0`), since 0 means "none".
    pub fn emit(&self, datagram: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<(), WireError> {
        const WHAT: &str = "udp";
        let len = datagram.len();
        if len < HEADER_LEN || len > usize::from(u16::MAX) {
            return Err(WireError::BadField {
                what: WHAT,
                field: "length",
                value: len as u32,
            });
        }
        let mut hdr = UdpHdr {
            src_port: U16::new(self.src_port),
            dst_port: U16::new(self.dst_port),
            len: U16::new(len as u16),
            checksum: U16::new(0),
        };
        let sum = Checksum::new()
            .pseudo_header(src, dst, protocol::UDP, len as u16)
            .add_bytes(hdr.as_bytes())
            .add_bytes(&datagram[HEADER_LEN..])
            .finish();
        hdr.checksum = U16::new(if sum == 0 { 0xffff } else { sum });
        out_buf(WHAT, datagram, HEADER_LEN)?.copy_from_slice(hdr.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    /// 10.0.0.1:1234 -> 10.0.0.2:5678, payload "hello"; checksum worked out by hand:
    /// pseudo 0a00+0001+0a00+0002+0011+000d, header 04d2+162e+000d, data 6865+6c6c+6f00.
    const DGRAM: [u8; 13] = [
        0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0d, 0x00, 0x00, b'h', b'e', b'l', b'l', b'o',
    ];

    fn expected_checksum() -> u16 {
        let words: [u32; 12] = [
            0x0a00, 0x0001, 0x0a00, 0x0002, 0x0011, 0x000d, 0x04d2, 0x162e, 0x000d, 0x6865, 0x6c6c,
            0x6f00,
        ];
        let mut s: u32 = words.iter().sum();
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    #[test]
    fn emit_matches_hand_computed_checksum_and_parses_back() {
        let mut d = DGRAM;
        UdpRepr {
            src_port: 1234,
            dst_port: 5678,
        }
        .emit(&mut d, SRC, DST)
        .unwrap();
        assert_eq!(u16::from_be_bytes([d[6], d[7]]), expected_checksum());
        let p = UdpPacket::new_checked(&d).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(SRC, Ipv4Addr::new(10, 0, 0, 3)));
        assert_eq!(
            UdpRepr::parse(&p),
            UdpRepr {
                src_port: 1234,
                dst_port: 5678
            }
        );
        assert_eq!(p.payload(), b"hello");
    }

    #[test]
    fn zero_checksum_means_none() {
        let p = UdpPacket::new_checked(&DGRAM).unwrap();
        assert_eq!(p.checksum(), 0);
        assert!(p.verify_checksum(SRC, DST));
    }

    #[test]
    fn length_field_is_checked() {
        let mut d = DGRAM.to_vec();
        d.push(0); // trailing byte beyond the length field is ignored
        assert_eq!(UdpPacket::new_checked(&d).unwrap().len(), 13);
        d[5] = 20;
        assert_eq!(
            UdpPacket::new_checked(&d).unwrap_err(),
            WireError::TruncatedPayload {
                what: "udp",
                declared: 20,
                have: 14
            }
        );
        d[5] = 7;
        assert!(matches!(
            UdpPacket::new_checked(&d),
            Err(WireError::BadField {
                field: "length",
                ..
            })
        ));
        assert!(matches!(
            UdpPacket::new_checked(&d[..7]),
            Err(WireError::Truncated { .. })
        ));
    }
}
