//! IPv4 header (RFC 791, `struct iphdr` in include/uapi/linux/ip.h) and fragmentation arithmetic.

use std::net::Ipv4Addr;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::checksum::{internet_checksum, Checksum};
use super::{header, out_buf, WireError};

/// Header length without options.
pub const HEADER_LEN: usize = 20;
/// `IP_DF`.
pub const FLAG_DF: u16 = 0x4000;
/// `IP_MF`.
pub const FLAG_MF: u16 = 0x2000;
/// `IP_OFFSET`: fragment offset in 8-byte units.
pub const FRAG_OFFSET_MASK: u16 = 0x1fff;
/// Largest IPv4 datagram (total length is 16 bits).
pub const MAX_PACKET_LEN: usize = 65535;
/// RFC 791: every host must accept a 68-byte datagram unfragmented; no link may have a smaller MTU.
pub const MIN_MTU: usize = 68;

/// IP protocol numbers the stack knows (`IPPROTO_*`).
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
}

/// `struct iphdr`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Ipv4Hdr {
    pub ver_ihl: u8,
    pub tos: u8,
    pub total_len: U16,
    pub ident: U16,
    pub frag: U16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: U16,
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

/// A checked view of an IPv4 packet: version 4, IHL within the buffer, total length within the
/// buffer (`ip_rcv_core`'s checks). The payload ends at the total length, so link padding is excluded.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<'a> {
    hdr: &'a Ipv4Hdr,
    header: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Ipv4Packet<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Ipv4Packet<'a>, WireError> {
        const WHAT: &str = "ipv4";
        let (hdr, _) = header::<Ipv4Hdr>(WHAT, bytes)?;
        let version = hdr.ver_ihl >> 4;
        if version != 4 {
            return Err(WireError::BadField {
                what: WHAT,
                field: "version",
                value: version.into(),
            });
        }
        let header_len = usize::from(hdr.ver_ihl & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(WireError::BadField {
                what: WHAT,
                field: "header length",
                value: header_len as u32,
            });
        }
        let total = usize::from(hdr.total_len.get());
        if total < header_len {
            return Err(WireError::BadField {
                what: WHAT,
                field: "total length",
                value: total as u32,
            });
        }
        if total > bytes.len() {
            return Err(WireError::TruncatedPayload {
                what: WHAT,
                declared: total,
                have: bytes.len(),
            });
        }
        Ok(Ipv4Packet {
            hdr,
            header: &bytes[..header_len],
            payload: &bytes[header_len..total],
        })
    }

    /// The header sums to zero (`ip_fast_csum(iph, iph->ihl) == 0`).
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.header) == 0
    }

    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.hdr.src)
    }

    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.hdr.dst)
    }

    pub fn protocol(&self) -> u8 {
        self.hdr.protocol
    }

    pub fn ttl(&self) -> u8 {
        self.hdr.ttl
    }

    pub fn tos(&self) -> u8 {
        self.hdr.tos
    }

    pub fn ident(&self) -> u16 {
        self.hdr.ident.get()
    }

    pub fn dont_frag(&self) -> bool {
        self.hdr.frag.get() & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.hdr.frag.get() & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(self.hdr.frag.get() & FRAG_OFFSET_MASK) * 8
    }

    /// Part of a fragmented datagram (`ip_is_fragment`).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    pub fn header_len(&self) -> usize {
        self.header.len()
    }

    /// Header plus payload: the IP total length.
    pub fn total_len(&self) -> usize {
        self.header.len() + self.payload.len()
    }

    /// Header including options.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }

    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// The fields of an IPv4 header (options are not kept; emitted headers have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub tos: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// Fragment offset in bytes; a multiple of 8.
    pub frag_offset: usize,
    pub payload_len: usize,
}

impl Ipv4Repr {
    pub fn parse(p: &Ipv4Packet<'_>) -> Ipv4Repr {
        Ipv4Repr {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            payload_len: p.payload().len(),
        }
    }

    /// Writes a 20-byte header with its checksum at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        const WHAT: &str = "ipv4";
        let total = HEADER_LEN + self.payload_len;
        if total > MAX_PACKET_LEN {
            return Err(WireError::BadField {
                what: WHAT,
                field: "total length",
                value: total as u32,
            });
        }
        if self.frag_offset % 8 != 0 || self.frag_offset / 8 > usize::from(FRAG_OFFSET_MASK) {
            return Err(WireError::BadField {
                what: WHAT,
                field: "fragment offset",
                value: self.frag_offset as u32,
            });
        }
        let mut frag = (self.frag_offset / 8) as u16;
        if self.dont_frag {
            frag |= FLAG_DF;
        }
        if self.more_frags {
            frag |= FLAG_MF;
        }
        let mut hdr = Ipv4Hdr {
            ver_ihl: 0x45,
            tos: self.tos,
            total_len: U16::new(total as u16),
            ident: U16::new(self.ident),
            frag: U16::new(frag),
            ttl: self.ttl,
            protocol: self.protocol,
            checksum: U16::new(0),
            src: self.src.octets(),
            dst: self.dst.octets(),
        };
        hdr.checksum = U16::new(internet_checksum(hdr.as_bytes()));
        out_buf(WHAT, buf, HEADER_LEN)?.copy_from_slice(hdr.as_bytes());
        Ok(())
    }
}

/// `ip_decrease_ttl`: decrements the TTL of the header at the start of `buf` and patches the
/// checksum incrementally (RFC 1624), returning the new TTL. A TTL already 0 is left alone.
pub fn decrease_ttl(buf: &mut [u8]) -> Result<u8, WireError> {
    let have = buf.len();
    let (hdr, _) = Ipv4Hdr::mut_from_prefix(buf).map_err(|_| WireError::Truncated {
        what: "ipv4",
        need: HEADER_LEN,
        have,
    })?;
    if hdr.ttl == 0 {
        return Ok(0);
    }
    let old = u16::from_be_bytes([hdr.ttl, hdr.protocol]);
    hdr.ttl -= 1;
    let new = u16::from_be_bytes([hdr.ttl, hdr.protocol]);
    // HC' = ~(~HC + ~m + m')
    let sum = Checksum::new()
        .add_u16(!hdr.checksum.get())
        .add_u16(!old)
        .add_u16(new)
        .finish();
    hdr.checksum = U16::new(sum);
    Ok(hdr.ttl)
}

/// One piece of a fragmented payload: bytes `offset..offset + len`, `more` set on all but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentSlice {
    pub offset: usize,
    pub len: usize,
    pub more: bool,
}

/// `ip_fragment`'s arithmetic: splits `payload_len` bytes (starting at fragment offset
/// `base_offset`, with `base_more` the original MF flag) into pieces that fit `mtu` with a
/// 20-byte header; every piece but the last carries a multiple of 8 bytes.
pub fn fragment_slices(
    payload_len: usize,
    mtu: usize,
    base_offset: usize,
    base_more: bool,
) -> Result<Vec<FragmentSlice>, WireError> {
    if mtu < MIN_MTU {
        return Err(WireError::BadField {
            what: "ipv4 fragmentation",
            field: "mtu",
            value: mtu as u32,
        });
    }
    let max = (mtu - HEADER_LEN) & !7;
    let mut out = Vec::with_capacity(payload_len.div_ceil(max).max(1));
    let mut off = 0;
    loop {
        let len = (payload_len - off).min(max);
        let last = off + len == payload_len;
        out.push(FragmentSlice {
            offset: base_offset + off,
            len,
            more: !last || base_more,
        });
        off += len;
        if last {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 115-byte UDP packet 192.168.0.1 -> 192.168.0.199, DF, TTL 64, checksum 0xb861.
    const HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    fn packet() -> Vec<u8> {
        let mut p = HDR.to_vec();
        p.resize(0x73 + 6, 0xee); // 6 bytes of link padding behind the datagram
        p
    }

    #[test]
    fn parse_known_header() {
        let bytes = packet();
        let p = Ipv4Packet::new_checked(&bytes).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 0x73 - 20, "padding excluded");
        assert_eq!(
            Ipv4Repr::parse(&p),
            Ipv4Repr {
                src: Ipv4Addr::new(192, 168, 0, 1),
                dst: Ipv4Addr::new(192, 168, 0, 199),
                protocol: protocol::UDP,
                ttl: 64,
                tos: 0,
                ident: 0,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: 95,
            }
        );
        assert!(!p.is_fragment());
    }

    #[test]
    fn emit_round_trips_known_bytes() {
        let bytes = packet();
        let repr = Ipv4Repr::parse(&Ipv4Packet::new_checked(&bytes).unwrap());
        let mut out = [0u8; 20];
        repr.emit(&mut out).unwrap();
        assert_eq!(out, HDR);
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let mut b = packet();
        b[0] = 0x65;
        assert!(matches!(
            Ipv4Packet::new_checked(&b),
            Err(WireError::BadField {
                field: "version",
                value: 6,
                ..
            })
        ));
        b[0] = 0x44;
        assert!(matches!(
            Ipv4Packet::new_checked(&b),
            Err(WireError::BadField {
                field: "header length",
                value: 16,
                ..
            })
        ));
        b[0] = 0x45;
        b[2..4].copy_from_slice(&400u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&b).unwrap_err(),
            WireError::TruncatedPayload {
                what: "ipv4",
                declared: 400,
                have: 121
            }
        );
        b[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert!(matches!(
            Ipv4Packet::new_checked(&b),
            Err(WireError::BadField {
                field: "total length",
                ..
            })
        ));
        assert!(matches!(
            Ipv4Packet::new_checked(&b[..19]),
            Err(WireError::Truncated {
                need: 20,
                have: 19,
                ..
            })
        ));
        let mut c = packet();
        c[8] = 63; // TTL changed without fixing the checksum
        assert!(!Ipv4Packet::new_checked(&c).unwrap().verify_checksum());
    }

    #[test]
    fn options_are_skipped() {
        let mut b = vec![
            0x46, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        b.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        b.extend_from_slice(&[8, 0, 0, 0]);
        let c = internet_checksum(&b[..24]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        let p = Ipv4Packet::new_checked(&b).unwrap();
        assert!(p.verify_checksum());
        assert_eq!((p.header_len(), p.payload()), (24, &[8u8, 0, 0, 0][..]));
    }

    #[test]
    fn decrease_ttl_keeps_checksum_valid() {
        let mut b = packet();
        assert_eq!(decrease_ttl(&mut b).unwrap(), 63);
        let p = Ipv4Packet::new_checked(&b).unwrap();
        assert_eq!(p.ttl(), 63);
        assert!(p.verify_checksum());
        let mut z = HDR;
        z[8] = 0;
        assert_eq!(decrease_ttl(&mut z).unwrap(), 0);
    }

    #[test]
    fn emit_rejects_bad_offsets_and_lengths() {
        let mut r = Ipv4Repr::parse(&Ipv4Packet::new_checked(&packet()).unwrap());
        r.frag_offset = 12;
        assert!(r.emit(&mut [0; 20]).is_err());
        r.frag_offset = 0;
        r.payload_len = 65536;
        assert!(r.emit(&mut [0; 20]).is_err());
    }

    #[test]
    fn fragment_slices_follow_ip_fragment() {
        let s = fragment_slices(3000, 1500, 0, false).unwrap();
        assert_eq!(
            s,
            vec![
                FragmentSlice {
                    offset: 0,
                    len: 1480,
                    more: true
                },
                FragmentSlice {
                    offset: 1480,
                    len: 1480,
                    more: true
                },
                FragmentSlice {
                    offset: 2960,
                    len: 40,
                    more: false
                },
            ]
        );
        // Refragmenting a middle fragment keeps MF on its last piece.
        let r = fragment_slices(100, 68, 800, true).unwrap();
        assert_eq!(r.iter().map(|f| f.len).sum::<usize>(), 100);
        assert!(r.iter().all(|f| f.more && f.offset % 8 == 0));
        assert_eq!(fragment_slices(0, 1500, 0, false).unwrap().len(), 1);
        assert!(fragment_slices(100, 40, 0, false).is_err());
    }
}
