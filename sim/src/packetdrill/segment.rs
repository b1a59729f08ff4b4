//! The script's TCP segments on the wire: inbound (`<`) ones built byte for byte as written (the
//! options in the script's order, not Linux's), outbound (`>`) ones read back with their options in
//! the order the host wrote them, as packetdrill compares them.

use std::net::Ipv4Addr;

use host_driver::wire::build::{ipv4_frame, Ipv4FrameSpec};
use host_driver::wire::checksum::Checksum;
use host_driver::wire::ethernet::{self, ethertype, MacAddr};
use host_driver::wire::ipv4::{protocol, Ipv4Repr};
use host_driver::wire::tcp::{flags, HEADER_LEN};
use nicsim_packetdrill::{TcpFlags, TcpOptionKind};

/// The flag byte of `f` (AccECN's AE bit lives outside it and is never set here).
pub fn flag_byte(f: &TcpFlags) -> u8 {
    [
        (f.fin, flags::FIN),
        (f.syn, flags::SYN),
        (f.rst, flags::RST),
        (f.psh, flags::PSH),
        (f.ack, flags::ACK),
        (f.urg, flags::URG),
        (f.ece, flags::ECE),
        (f.cwr, flags::CWR),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit)
}

/// The flags as packetdrill writes them (`S.`, `P.`, `F.`, `R`, `.`).
pub fn flag_text(b: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::FIN, 'F'),
        (flags::SYN, 'S'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::URG, 'U'),
        (flags::ECE, 'E'),
        (flags::CWR, 'W'),
        (flags::ACK, '.'),
    ] {
        if b & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

/// One option with absolute numbers, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireOption {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamp {
        val: u32,
        ecr: u32,
    },
    /// A kind this runner does not name, with its body.
    Other(u8, Vec<u8>),
}

impl WireOption {
    /// The script's option, sequence numbers made absolute with `isn` (SACK blocks name the
    /// receiver's data).
    pub fn from_script(k: &TcpOptionKind, isn: u32) -> WireOption {
        match k {
            TcpOptionKind::Nop => WireOption::Nop,
            TcpOptionKind::Eol => WireOption::Eol,
            TcpOptionKind::Mss(m) => WireOption::Mss(*m),
            TcpOptionKind::WindowScale(w) => WireOption::WindowScale(*w),
            TcpOptionKind::SackPermitted => WireOption::SackPermitted,
            TcpOptionKind::Sack(b) => WireOption::Sack(
                b.iter()
                    .map(|&(l, r)| (isn.wrapping_add(l), isn.wrapping_add(r)))
                    .collect(),
            ),
            TcpOptionKind::Timestamp { val, ecr } => WireOption::Timestamp {
                val: *val,
                ecr: *ecr,
            },
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            WireOption::Nop => out.push(1),
            WireOption::Eol => out.push(0),
            WireOption::Mss(m) => {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&m.to_be_bytes());
            }
            WireOption::WindowScale(w) => out.extend_from_slice(&[3, 3, *w]),
            WireOption::SackPermitted => out.extend_from_slice(&[4, 2]),
            WireOption::Sack(blocks) => {
                out.extend_from_slice(&[5, 2 + 8 * blocks.len() as u8]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            WireOption::Timestamp { val, ecr } => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&val.to_be_bytes());
                out.extend_from_slice(&ecr.to_be_bytes());
            }
            WireOption::Other(kind, body) => {
                out.extend_from_slice(&[*kind, 2 + body.len() as u8]);
                out.extend_from_slice(body);
            }
        }
    }

    /// The options area in order; a malformed tail ends the list.
    fn parse_all(mut b: &[u8]) -> Vec<WireOption> {
        let mut v = Vec::new();
        while let Some(&kind) = b.first() {
            if kind <= 1 {
                v.push(if kind == 0 {
                    WireOption::Eol
                } else {
                    WireOption::Nop
                });
                b = &b[1..];
                continue;
            }
            let Some(&len) = b.get(1) else { break };
            let len = usize::from(len);
            if len < 2 || len > b.len() {
                break;
            }
            let body = &b[2..len];
            let be32 =
                |o: usize| u32::from_be_bytes([body[o], body[o + 1], body[o + 2], body[o + 3]]);
            v.push(match (kind, body.len()) {
                (2, 2) => WireOption::Mss(u16::from_be_bytes([body[0], body[1]])),
                (3, 1) => WireOption::WindowScale(body[0]),
                (4, 0) => WireOption::SackPermitted,
                (5, n) if n % 8 == 0 => {
                    WireOption::Sack((0..n / 8).map(|i| (be32(8 * i), be32(8 * i + 4))).collect())
                }
                (8, 8) => WireOption::Timestamp {
                    val: be32(0),
                    ecr: be32(4),
                },
                _ => WireOption::Other(kind, body.to_vec()),
            });
            b = &b[len..];
        }
        v
    }
}

/// Everything of an inbound segment.
#[derive(Debug, Clone)]
pub struct InboundSegment {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub tos: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub urg: u16,
    pub options: Vec<WireOption>,
    pub payload_len: usize,
}

impl InboundSegment {
    /// The Ethernet frame: IPv4 with DF (as Linux's peer sends), TTL 64, TCP checksummed.
    pub fn frame(&self, ip_id: u16) -> Vec<u8> {
        let mut opts = Vec::new();
        for o in &self.options {
            o.write(&mut opts);
        }
        let hlen = HEADER_LEN + opts.len();
        let mut seg = vec![0u8; hlen + self.payload_len];
        seg[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        seg[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        seg[4..8].copy_from_slice(&self.seq.to_be_bytes());
        seg[8..12].copy_from_slice(&self.ack.to_be_bytes());
        seg[12] = ((hlen / 4) as u8) << 4;
        seg[13] = self.flags;
        seg[14..16].copy_from_slice(&self.window.to_be_bytes());
        seg[18..20].copy_from_slice(&self.urg.to_be_bytes());
        seg[HEADER_LEN..hlen].copy_from_slice(&opts);
        let csum = Checksum::new()
            .pseudo_header(self.src, self.dst, protocol::TCP, seg.len() as u16)
            .add_bytes(&seg)
            .finish();
        seg[16..18].copy_from_slice(&csum.to_be_bytes());
        ipv4_frame(&Ipv4FrameSpec {
            src_mac: self.src_mac,
            dst_mac: self.dst_mac,
            ip: Ipv4Repr {
                src: self.src,
                dst: self.dst,
                protocol: protocol::TCP,
                ttl: 64,
                tos: self.tos,
                ident: ip_id,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: 0,
            },
            payload: &seg,
        })
        .expect("a script segment fits one frame")
    }
}

/// An outbound TCP segment as the host's transmit tap saw it.
#[derive(Debug, Clone)]
pub struct OutboundSegment {
    pub tos: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<WireOption>,
    pub payload_len: usize,
}

impl OutboundSegment {
    /// The TCP segment of an IPv4 frame captured with a short snap length (the payload length comes
    /// from the IP header), or `None` for anything else.
    pub fn parse(frame: &[u8]) -> Option<OutboundSegment> {
        let be16 = |b: &[u8], o: usize| Some(u16::from_be_bytes([*b.get(o)?, *b.get(o + 1)?]));
        let be32 = |b: &[u8], o: usize| Some(u32::from_be_bytes(b.get(o..o + 4)?.try_into().ok()?));
        if be16(frame, 12)? != ethertype::IPV4 {
            return None;
        }
        let ip = frame.get(ethernet::HEADER_LEN..)?;
        let ihl = usize::from(ip.first()? & 0x0f) * 4;
        if *ip.get(9)? != protocol::TCP {
            return None;
        }
        let total = usize::from(be16(ip, 2)?);
        let tcp = ip.get(ihl..)?;
        let doff = usize::from(tcp.get(12)? >> 4) * 4;
        Some(OutboundSegment {
            tos: *ip.get(1)?,
            src_port: be16(tcp, 0)?,
            dst_port: be16(tcp, 2)?,
            seq: be32(tcp, 4)?,
            ack: be32(tcp, 8)?,
            flags: *tcp.get(13)?,
            window: be16(tcp, 14)?,
            options: WireOption::parse_all(tcp.get(HEADER_LEN..doff)?),
            payload_len: total.checked_sub(ihl + doff)?,
        })
    }
}
