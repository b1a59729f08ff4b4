//! The IPv4 and TCP `gro_receive` / `gro_complete` callbacks: net/ipv4/af_inet.c `inet_gro_receive`,
//! `inet_gro_complete`; include/net/gro.h `inet_gro_flush`; net/ipv4/tcp_offload.c `tcp4_gro_receive`,
//! `tcp_gro_receive`, `tcp4_gro_complete`. They decide, [`super::GroList`] acts.

use std::net::Ipv4Addr;

use super::{Held, GRO_LEGACY_MAX_SIZE};
use crate::skb::Skb;
use crate::wire::checksum::{internet_checksum, Checksum};
use crate::wire::ipv4::{self, protocol, Ipv4Packet};
use crate::wire::tcp::{flags, TcpPacket};

/// The reserved ("evil") bit of the IPv4 flags: `inet_gro_receive` flushes on anything but DF there.
const IP_CE: u16 = 0x8000;

/// What the callbacks decided for one skb against the held flows.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// The held flow of the same 4-tuple (`tcp_gro_lookup`), by index.
    pub flow: Option<usize>,
    /// `skb_gro_receive` into that flow (`NAPI_GRO_CB(skb)->same_flow`).
    pub merge: bool,
    /// The flow is completed now (the `pp` returned to `dev_gro_receive`).
    pub complete_flow: bool,
    /// `NAPI_GRO_CB(skb)->flush`: not merged, the skb goes up as it is rather than being held.
    pub flush: bool,
    /// `skb_gro_checksum_validate` verified the TCP checksum (`CHECKSUM_UNNECESSARY` from now on).
    pub csum_valid: bool,
    /// `inet_gro_flush` found the flow's second segment repeating the first one's IP id.
    pub ip_fixedid: bool,
    /// IP and TCP header bytes before the payload (`skb_gro_offset` after the pulls).
    pub offset: usize,
    /// TCP payload bytes (`skb_gro_len`), the flow's `gso_size` if it is held.
    pub payload_len: u16,
}

impl Verdict {
    /// No offload takes it: up as it is, no flow touched.
    pub fn normal() -> Verdict {
        Verdict {
            flush: true,
            ..Verdict::default()
        }
    }
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `tcp_flag_word` bits (include/net/tcp.h): the 32-bit word at TCP offset 12 holds data offset,
/// flags and window, so a changed window or header length is a mismatch too.
fn flag_bit(flag: u8) -> u32 {
    u32::from(flag) << 16
}

/// `inet_gro_receive`: only a TCP packet with a plain 20-byte header (`*(u8 *)iph == 0x45`), not a
/// fragment, with a good header checksum is considered; it may not merge (`flush`) if its total
/// length does not cover the skb exactly (Ethernet padding) or a flag other than DF is set.
pub(super) fn inet_gro_receive(held: &[Held], skb: &Skb) -> Verdict {
    let data = skb.data();
    let Ok(iph) = Ipv4Packet::new_checked(data) else {
        return Verdict::normal();
    };
    if iph.protocol() != protocol::TCP
        || data[0] != 0x45
        || iph.is_fragment()
        || !iph.verify_checksum()
    {
        return Verdict::normal();
    }
    let frag_off = u16::from_be_bytes([data[6], data[7]]);
    let flush = iph.total_len() != data.len() || frag_off & IP_CE != 0;
    tcp4_gro_receive(held, skb, &iph, flush)
}

/// `tcp4_gro_receive`: with no checksum offload (CHECKSUM_NONE) `skb_gro_checksum_validate` sums the
/// segment in software unless it will not merge anyway; a bad sum sends it up alone, for TCP to drop,
/// and leaves the held flow alone. Then `tcp_gro_pull_header` and `tcp_gro_receive`.
fn tcp4_gro_receive(held: &[Held], skb: &Skb, iph: &Ipv4Packet<'_>, flush: bool) -> Verdict {
    // skb_gro_len: everything after the IP header, padding included.
    let segment = &skb.data()[ipv4::HEADER_LEN..];
    let mut v = Verdict::default();
    if !flush {
        // A checksum the NIC verified (CHECKSUM_UNNECESSARY, e1000_rx_checksum) is not summed again.
        if !skb.csum_unnecessary {
            let sum = Checksum::new()
                .pseudo_header(iph.src(), iph.dst(), protocol::TCP, segment.len() as u16)
                .add_bytes(segment)
                .finish();
            if sum != 0 {
                return Verdict::normal();
            }
        }
        v.csum_valid = true;
    }
    let Ok(th) = TcpPacket::new_checked(segment) else {
        return Verdict::normal();
    };
    tcp_gro_receive(held, skb, iph, &th, flush, v)
}

/// `tcp_gro_receive`: a segment merges into its flow when it continues the sequence, carries the same
/// ACK, flag word (but CWR, FIN, PSH; CWR itself refuses), options and IP fields (`inet_gro_flush`),
/// and no more payload than the flow's first segment (`gso_size`), and the skb stays below
/// `GRO_LEGACY_MAX_SIZE`. A mismatch completes the flow and the segment may start a new one; a segment
/// shorter than `gso_size` or with URG, PSH, RST, SYN or FIN completes the flow (after merging) and is
/// never held itself.
fn tcp_gro_receive(
    held: &[Held],
    skb: &Skb,
    iph: &Ipv4Packet<'_>,
    th: &TcpPacket<'_>,
    flush: bool,
    mut v: Verdict,
) -> Verdict {
    let segment = th.segment();
    let thlen = th.header_len();
    let len = segment.len() - thlen;
    v.offset = ipv4::HEADER_LEN + thlen;
    v.payload_len = len as u16;
    let flag_word = word(segment, 12);
    let mut mss = 1;
    v.flow = tcp_gro_lookup(held, skb, iph, th);
    if let Some(i) = v.flow {
        let p = &held[i];
        let pd = p.skb.data();
        let th2 = &pd[ipv4::HEADER_LEN..];
        let th2len = usize::from(th2[12] >> 4) * 4;
        let keep = flag_bit(flags::CWR) | flag_bit(flags::FIN) | flag_bit(flags::PSH);
        let mut mismatch = flag_word & flag_bit(flags::CWR) != 0;
        mismatch |= (flag_word ^ word(th2, 12)) & !keep != 0;
        mismatch |= th.ack_seq() != word(th2, 8);
        mismatch |= th2.get(20..thlen) != Some(&segment[20..thlen]);
        let (network, fixedid) = inet_gro_flush(iph, pd, p.count, p.ip_fixedid);
        mismatch |= network;
        v.ip_fixedid = fixedid;
        mss = usize::from(p.skb.gso_size);
        mismatch |= len.wrapping_sub(1) >= mss;
        let held_payload = pd.len() - ipv4::HEADER_LEN - th2len;
        mismatch |= word(th2, 4).wrapping_add(held_payload as u32) != th.seq();
        // skb_gro_receive: -E2BIG at gro_max_size, or when the skb itself may not merge.
        v.merge = !mismatch && !flush && pd.len() + len < GRO_LEGACY_MAX_SIZE;
        if !v.merge {
            mss = 1;
        }
    }
    // out_check_final
    let ends = flags::URG | flags::PSH | flags::RST | flags::SYN | flags::FIN;
    let last = len < mss || th.flags() & ends != 0;
    v.complete_flow = v.flow.is_some() && (!v.merge || last);
    v.flush = flush || last;
    v
}

/// `gro_list_prepare` (same Ethernet header), `inet_gro_receive` (same protocol and addresses; only
/// TCP is ever held) and `tcp_gro_lookup` (same ports): the held flow `skb` belongs to.
fn tcp_gro_lookup(
    held: &[Held],
    skb: &Skb,
    iph: &Ipv4Packet<'_>,
    th: &TcpPacket<'_>,
) -> Option<usize> {
    let mac = |s: &Skb| s.mac_header().and_then(|m| m.get(..14)).map(<[u8]>::to_vec);
    let eth = mac(skb);
    let ports = word(th.segment(), 0);
    held.iter().position(|p| {
        let d = p.skb.data();
        mac(&p.skb) == eth
            && d[12..20] == skb.data()[12..20]
            && word(d, ipv4::HEADER_LEN) == ports
            && iph.protocol() == d[9]
    })
}

/// `inet_gro_flush` (include/net/gro.h, 6.10+) of segment `iph` against the flow's first header `iph2`
/// after `count` segments: TTL, TOS and DF must match, and the IP id must be the first one plus
/// `count`, or stay fixed if the second segment (with DF) repeated it. Returns the mismatch and whether
/// this segment made the flow fixed-id.
fn inet_gro_flush(iph: &Ipv4Packet<'_>, iph2: &[u8], count: u16, fixedid: bool) -> (bool, bool) {
    let df = iph.dont_frag();
    if iph.ttl() != iph2[8] || iph.tos() != iph2[1] || df != (iph2[6] & 0x40 != 0) {
        return (true, false);
    }
    let ipid_offset = iph
        .ident()
        .wrapping_sub(u16::from_be_bytes([iph2[4], iph2[5]]));
    let becomes_fixed = count == 1 && df && ipid_offset == 0;
    let mismatch = if (fixedid || becomes_fixed) && df {
        ipid_offset != 0
    } else {
        ipid_offset != count
    };
    (mismatch, becomes_fixed)
}

/// The merged segment's FIN and PSH carry over to the super-packet (`tcp_flag_word(th2) |= flags &
/// (TCP_FLAG_FIN | TCP_FLAG_PSH)`).
pub(super) fn tcp_gro_merge(p: &mut Skb, seg: &[u8]) {
    let at = ipv4::HEADER_LEN + 13;
    let carried = seg[at] & (flags::FIN | flags::PSH);
    p.data_mut()[at] |= carried;
}

/// `inet_gro_complete` + `tcp4_gro_complete` for a skb of `count` segments: the IP total length of the
/// super-packet with its header checksum redone, the TCP checksum field left holding the pseudo-header
/// sum (`~tcp_v4_check(len, saddr, daddr, 0)`, as `CHECKSUM_PARTIAL` wants), `gso_segs`, and the skb
/// marked verified: every segment's checksum was checked before it merged.
pub(super) fn inet_gro_complete(skb: &mut Skb, count: u16) {
    let len = skb.len();
    let d = skb.data_mut();
    d[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    d[10..12].fill(0);
    let check = internet_checksum(&d[..ipv4::HEADER_LEN]);
    d[10..12].copy_from_slice(&check.to_be_bytes());
    let addr = |at: usize| Ipv4Addr::new(d[at], d[at + 1], d[at + 2], d[at + 3]);
    let tcp_len = (len - ipv4::HEADER_LEN) as u16;
    let pseudo = !Checksum::new()
        .pseudo_header(addr(12), addr(16), protocol::TCP, tcp_len)
        .finish();
    let at = ipv4::HEADER_LEN + 16;
    d[at..at + 2].copy_from_slice(&pseudo.to_be_bytes());
    skb.gso_segs = count;
    skb.csum_unnecessary = true;
}
