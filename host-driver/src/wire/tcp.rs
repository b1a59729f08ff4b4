//! TCP header and options (RFC 9293, `struct tcphdr` in include/uapi/linux/tcp.h; options as
//! `tcp_parse_options` reads them and `tcp_options_write` lays them out in net/ipv4/tcp_output.c).

use std::net::Ipv4Addr;

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::checksum::Checksum;
use super::ipv4::protocol;
use super::{header, out_buf, WireError};

/// Header without options.
pub const HEADER_LEN: usize = 20;
/// Largest header: data offset 15 words.
pub const MAX_HEADER_LEN: usize = 60;

/// Flag bits of the 13th and 14th header bytes (`TCPHDR_*` in include/net/tcp.h).
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Option kinds (`TCPOPT_*`).
mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW: u8 = 3;
    pub const SACK_PERM: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

/// `TCP_MAX_WSCALE`: RFC 7323 caps the shift at 14.
pub const MAX_WSCALE: u8 = 14;
/// Most SACK blocks one segment carries with timestamps on (`TCP_NUM_SACKS` is 4 without them).
pub const MAX_SACK_BLOCKS: usize = 4;

/// `struct tcphdr`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TcpHdr {
    pub src_port: U16,
    pub dst_port: U16,
    pub seq: U32,
    pub ack_seq: U32,
    /// Data offset (high 4 bits), reserved, then the flag byte.
    pub doff_flags: U16,
    pub window: U16,
    pub checksum: U16,
    pub urg_ptr: U16,
}

/// A checked view of one TCP segment (header, options and payload): the data offset covers at
/// least the fixed header and at most the bytes present (`tcp_v4_rcv`'s `doff` checks).
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<'a> {
    hdr: &'a TcpHdr,
    segment: &'a [u8],
    header_len: usize,
}

impl<'a> TcpPacket<'a> {
    /// `segment` is the IP payload, exactly as long as the IP header says.
    pub fn new_checked(segment: &'a [u8]) -> Result<TcpPacket<'a>, WireError> {
        const WHAT: &str = "tcp";
        let (hdr, _) = header::<TcpHdr>(WHAT, segment)?;
        let header_len = usize::from(hdr.doff_flags.get() >> 12) * 4;
        if header_len < HEADER_LEN {
            return Err(WireError::BadField {
                what: WHAT,
                field: "data offset",
                value: header_len as u32 / 4,
            });
        }
        if header_len > segment.len() {
            return Err(WireError::Truncated {
                what: WHAT,
                need: header_len,
                have: segment.len(),
            });
        }
        Ok(TcpPacket {
            hdr,
            segment,
            header_len,
        })
    }

    pub fn src_port(&self) -> u16 {
        self.hdr.src_port.get()
    }

    pub fn dst_port(&self) -> u16 {
        self.hdr.dst_port.get()
    }

    pub fn seq(&self) -> u32 {
        self.hdr.seq.get()
    }

    pub fn ack_seq(&self) -> u32 {
        self.hdr.ack_seq.get()
    }

    /// The flag byte (see [`flags`]).
    pub fn flags(&self) -> u8 {
        self.hdr.doff_flags.get() as u8
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags() & flag != 0
    }

    /// The window field, unscaled.
    pub fn window(&self) -> u16 {
        self.hdr.window.get()
    }

    pub fn checksum(&self) -> u16 {
        self.hdr.checksum.get()
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The whole segment, header included.
    pub fn segment(&self) -> &'a [u8] {
        self.segment
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.segment[self.header_len..]
    }

    /// Sequence space the segment occupies: payload plus one each for SYN and FIN
    /// (`TCP_SKB_CB(skb)->end_seq - seq`).
    pub fn seq_len(&self) -> u32 {
        self.payload().len() as u32
            + u32::from(self.has(flags::SYN))
            + u32::from(self.has(flags::FIN))
    }

    /// `tcp_v4_checksum_init` + `__skb_checksum_complete` over the pseudo-header: true if correct.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        Checksum::new()
            .pseudo_header(src, dst, protocol::TCP, self.segment.len() as u16)
            .add_bytes(self.segment)
            .finish()
            == 0
    }

    /// `tcp_parse_options`: the options, read as Linux reads them. MSS, window scale and
    /// SACK-permitted count only on a SYN; a malformed option ends the parse (what was read so far
    /// stands), as the kernel's loop does.
    pub fn options(&self) -> TcpOptions {
        TcpOptions::parse(
            &self.segment[HEADER_LEN..self.header_len],
            self.has(flags::SYN),
        )
    }
}

/// The options of one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// `TCPOPT_MSS` (SYN only).
    pub mss: Option<u16>,
    /// `TCPOPT_WINDOW` shift, capped at [`MAX_WSCALE`] as `tcp_parse_options` does (SYN only).
    pub wscale: Option<u8>,
    /// `TCPOPT_SACK_PERM` (SYN only).
    pub sack_permitted: bool,
    /// `TCPOPT_TIMESTAMP`: (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
    /// `TCPOPT_SACK` blocks (start, end).
    pub sack: Vec<(u32, u32)>,
}

impl TcpOptions {
    fn parse(mut opts: &[u8], syn: bool) -> TcpOptions {
        let mut o = TcpOptions::default();
        while let Some(&k) = opts.first() {
            match k {
                kind::EOL => break,
                kind::NOP => {
                    opts = &opts[1..];
                    continue;
                }
                _ => {}
            }
            let Some(&size) = opts.get(1) else { break };
            let size = usize::from(size);
            if size < 2 || size > opts.len() {
                break; // "silly options" / partial option
            }
            let body = &opts[2..size];
            match (k, body.len()) {
                (kind::MSS, 2) if syn => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (kind::WINDOW, 1) if syn => o.wscale = Some(body[0].min(MAX_WSCALE)),
                (kind::SACK_PERM, 0) if syn => o.sack_permitted = true,
                (kind::TIMESTAMP, 8) => {
                    let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                    o.timestamp = Some((val, ecr));
                }
                (kind::SACK, n) if n >= 8 && n % 8 == 0 => {
                    o.sack = body
                        .chunks_exact(8)
                        .map(|b| {
                            (
                                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                                u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                            )
                        })
                        .collect();
                }
                _ => {}
            }
            opts = &opts[size..];
        }
        o
    }

    /// Bytes [`TcpOptions::write`] lays out, a multiple of 4 (`tcp_syn_options` /
    /// `tcp_established_options` sizes).
    pub fn len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.timestamp.is_some() {
            n += 12; // SACK-permitted rides in the timestamp word's two leading bytes
        } else if self.sack_permitted {
            n += 4;
        }
        if self.wscale.is_some() {
            n += 4;
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.len();
        }
        n
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `tcp_options_write`: Linux's layout and order — MSS; SACK-permitted + timestamps as one
    /// 12-byte block (NOP NOP when SACK is not permitted); SACK-permitted alone as NOP NOP SACK_PERM;
    /// NOP + window scale; NOP NOP + SACK blocks. `out` is exactly [`TcpOptions::len`] bytes.
    fn write(&self, out: &mut [u8]) {
        let mut w = Vec::with_capacity(self.len());
        if let Some(mss) = self.mss {
            w.extend_from_slice(&[kind::MSS, 4]);
            w.extend_from_slice(&mss.to_be_bytes());
        }
        if let Some((val, ecr)) = self.timestamp {
            if self.sack_permitted {
                w.extend_from_slice(&[kind::SACK_PERM, 2]);
            } else {
                w.extend_from_slice(&[kind::NOP, kind::NOP]);
            }
            w.extend_from_slice(&[kind::TIMESTAMP, 10]);
            w.extend_from_slice(&val.to_be_bytes());
            w.extend_from_slice(&ecr.to_be_bytes());
        } else if self.sack_permitted {
            w.extend_from_slice(&[kind::NOP, kind::NOP, kind::SACK_PERM, 2]);
        }
        if let Some(ws) = self.wscale {
            w.extend_from_slice(&[kind::NOP, kind::WINDOW, 3, ws]);
        }
        if !self.sack.is_empty() {
            w.extend_from_slice(&[
                kind::NOP,
                kind::NOP,
                kind::SACK,
                2 + 8 * self.sack.len() as u8,
            ]);
            for (s, e) in &self.sack {
                w.extend_from_slice(&s.to_be_bytes());
                w.extend_from_slice(&e.to_be_bytes());
            }
        }
        out.copy_from_slice(&w);
    }
}

/// Every header field of a segment to send; the data offset and checksum are derived on emit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack_seq: u32,
    pub flags: u8,
    pub window: u16,
    pub options: TcpOptions,
}

impl TcpRepr {
    pub fn parse(p: &TcpPacket<'_>) -> TcpRepr {
        TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq(),
            ack_seq: p.ack_seq(),
            flags: p.flags(),
            window: p.window(),
            options: p.options(),
        }
    }

    /// Header plus options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// `__tcp_transmit_skb` + `tcp_v4_send_check`: `segment` is the header room
    /// ([`TcpRepr::header_len`] bytes) followed by the payload already in place; writes the header and
    /// options and the checksum over the pseudo-header, header and payload.
    pub fn emit(&self, segment: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<(), WireError> {
        const WHAT: &str = "tcp";
        let hlen = self.header_len();
        if hlen > MAX_HEADER_LEN || self.options.sack.len() > MAX_SACK_BLOCKS {
            return Err(WireError::BadField {
                what: WHAT,
                field: "options length",
                value: self.options.len() as u32,
            });
        }
        if segment.len() > usize::from(u16::MAX) {
            return Err(WireError::BadField {
                what: WHAT,
                field: "length",
                value: segment.len() as u32,
            });
        }
        let len = segment.len();
        let head = out_buf(WHAT, segment, hlen)?;
        let hdr = TcpHdr {
            src_port: self.src_port.into(),
            dst_port: self.dst_port.into(),
            seq: self.seq.into(),
            ack_seq: self.ack_seq.into(),
            doff_flags: (((hlen / 4) as u16) << 12 | u16::from(self.flags)).into(),
            window: self.window.into(),
            checksum: 0.into(),
            urg_ptr: 0.into(),
        };
        head[..HEADER_LEN].copy_from_slice(hdr.as_bytes());
        self.options.write(&mut head[HEADER_LEN..hlen]);
        let csum = Checksum::new()
            .pseudo_header(src, dst, protocol::TCP, len as u16)
            .add_bytes(segment)
            .finish();
        segment[16..18].copy_from_slice(&csum.to_be_bytes());
        Ok(())
    }

    /// Builds the segment: header, options and `payload`, checksummed for `src` → `dst`.
    pub fn to_bytes(
        &self,
        payload: &[u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Vec<u8>, WireError> {
        let mut seg = vec![0; self.header_len() + payload.len()];
        seg[self.header_len()..].copy_from_slice(payload);
        self.emit(&mut seg, src, dst)?;
        Ok(seg)
    }
}

/// Sequence-space comparisons modulo 2^32 (`before` / `after` in include/net/tcp.h).
pub fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

pub fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn syn() -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 5001,
            seq: 0xdead_beef,
            ack_seq: 0,
            flags: flags::SYN,
            window: 64240,
            options: TcpOptions {
                mss: Some(1460),
                wscale: Some(7),
                sack_permitted: true,
                timestamp: Some((100, 0)),
                sack: vec![],
            },
        }
    }

    #[test]
    fn syn_options_use_linux_layout_and_round_trip() {
        let r = syn();
        let seg = r.to_bytes(&[], SRC, DST).unwrap();
        assert_eq!(seg.len(), 40, "20 + MSS 4 + SACK_PERM/TS 12 + WS 4");
        assert_eq!(
            &seg[20..40],
            &[2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1, 3, 3, 7]
        );
        let p = TcpPacket::new_checked(&seg).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(SRC, Ipv4Addr::new(10, 0, 0, 9)));
        assert_eq!(TcpRepr::parse(&p), r);
        assert_eq!(p.seq_len(), 1);
    }

    #[test]
    fn etherparse_agrees_on_header_and_checksum() {
        let mut r = syn();
        r.flags = flags::ACK | flags::PSH;
        r.options = TcpOptions {
            timestamp: Some((7, 9)),
            sack: vec![(1000, 2000), (3000, 4000)],
            ..TcpOptions::default()
        };
        let seg = r.to_bytes(b"hello", SRC, DST).unwrap();
        let (h, payload) = etherparse::TcpHeader::from_slice(&seg).unwrap();
        assert_eq!(payload, b"hello");
        assert!(h.psh && h.ack && !h.syn);
        assert_eq!(h.sequence_number, r.seq);
        let expect = h
            .calc_checksum_ipv4_raw(SRC.octets(), DST.octets(), payload)
            .unwrap();
        assert_eq!(h.checksum, expect);
        let p = TcpPacket::new_checked(&seg).unwrap();
        let o = p.options();
        assert_eq!(o.mss, None, "MSS on a non-SYN is ignored");
        assert_eq!(o.sack, vec![(1000, 2000), (3000, 4000)]);
        assert_eq!(o.timestamp, Some((7, 9)));
    }

    #[test]
    fn bad_data_offset_and_malformed_options() {
        let mut seg = syn().to_bytes(&[], SRC, DST).unwrap();
        seg[12] = 0x40; // doff 4
        assert!(TcpPacket::new_checked(&seg).is_err());
        seg[12] = 0xf0; // doff 15 > 40 bytes
        assert!(TcpPacket::new_checked(&seg).is_err());
        // An option whose length runs past the header stops the parse; earlier options stand.
        let mut seg = syn().to_bytes(&[], SRC, DST).unwrap();
        seg[25] = 30;
        let o = TcpPacket::new_checked(&seg).unwrap().options();
        assert_eq!((o.mss, o.timestamp), (Some(1460), None));
        // A window scale beyond 14 is capped.
        let mut r = syn();
        r.options.wscale = Some(20);
        let seg = r.to_bytes(&[], SRC, DST).unwrap();
        assert_eq!(
            TcpPacket::new_checked(&seg).unwrap().options().wscale,
            Some(14)
        );
    }

    #[test]
    fn sequence_comparisons_wrap() {
        assert!(before(0xffff_fff0, 5));
        assert!(after(5, 0xffff_fff0));
        assert!(!before(5, 5));
    }
}
