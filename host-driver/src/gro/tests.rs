use std::net::Ipv4Addr;

use super::*;
use crate::accounting::FrameId;
use crate::skb::skb_truesize;
use crate::stack::ethernet::eth_type_trans;
use crate::wire::build::{ipv4_frame, Ipv4FrameSpec};
use crate::wire::ethernet::MacAddr;
use crate::wire::ipv4::{protocol, Ipv4Packet, Ipv4Repr};
use crate::wire::tcp::{flags, TcpOptions, TcpPacket, TcpRepr};

const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const PEER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const MSS: usize = 1448;

/// One data segment of a flow from the peer's port `sport`, as the driver hands it to GRO.
#[derive(Clone)]
struct Seg {
    sport: u16,
    seq: u32,
    len: usize,
    flags: u8,
    tsval: u32,
    window: u16,
    ip_id: u16,
}

impl Seg {
    fn nth(i: u32) -> Seg {
        Seg {
            sport: 40_000,
            seq: 1000 + i * MSS as u32,
            len: MSS,
            flags: flags::ACK,
            tsval: 7,
            window: 512,
            ip_id: i as u16,
        }
    }

    fn payload(&self) -> Vec<u8> {
        (0..self.len)
            .map(|i| (self.seq as usize + i) as u8)
            .collect()
    }

    fn frame(&self) -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: self.sport,
            dst_port: 5001,
            seq: self.seq,
            ack_seq: 1,
            flags: self.flags,
            window: self.window,
            options: TcpOptions {
                timestamp: Some((self.tsval, 3)),
                ..TcpOptions::default()
            },
        }
        .to_bytes(&self.payload(), PEER, HOST)
        .unwrap();
        ipv4_frame(&Ipv4FrameSpec {
            src_mac: PEER_MAC,
            dst_mac: HOST_MAC,
            ip: Ipv4Repr {
                src: PEER,
                dst: HOST,
                protocol: protocol::TCP,
                ttl: 64,
                tos: 0,
                ident: self.ip_id,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: 0,
            },
            payload: &tcp,
        })
        .unwrap()
    }

    fn skb(&self, id: FrameId) -> Skb {
        skb_of(id, self.frame())
    }
}

fn skb_of(id: FrameId, frame: Vec<u8>) -> Skb {
    let mut skb = Skb::napi_build_skb(id, frame, 2048);
    assert!(eth_type_trans(&mut skb, HOST_MAC));
    skb
}

/// Feeds `segs` (frame ids 1, 2, ...) in one jiffy; returns what went up, in order, then the flush.
fn feed(gro: &mut GroList, segs: &[Seg]) -> Vec<Skb> {
    let mut up = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let (done, result) = gro.dev_gro_receive(s.skb(i as FrameId + 1), 0);
        up.extend(done);
        if let GroResult::Normal(skb) = result {
            up.push(skb);
        }
    }
    up.extend(gro.napi_gro_flush(false, 0));
    up
}

fn ids(skb: &Skb) -> Vec<FrameId> {
    skb.frame_ids().collect()
}

fn tcp_payload(skb: &Skb) -> Vec<u8> {
    let ip = Ipv4Packet::new_checked(skb.data()).unwrap();
    TcpPacket::new_checked(ip.payload())
        .unwrap()
        .payload()
        .to_vec()
}

fn flow(n: u32) -> Vec<Seg> {
    (0..n).map(Seg::nth).collect()
}

#[test]
fn in_order_segments_become_one_super_packet() {
    let segs = flow(5);
    let mut gro = GroList::default();
    let up = feed(&mut gro, &segs);
    assert_eq!(up.len(), 1);
    let skb = &up[0];
    assert_eq!(ids(skb), [1, 2, 3, 4, 5]);
    let want: Vec<u8> = segs.iter().flat_map(Seg::payload).collect();
    assert_eq!(tcp_payload(skb), want);
    let ip = Ipv4Packet::new_checked(skb.data()).unwrap();
    assert_eq!(ip.total_len(), 20 + 32 + 5 * MSS);
    assert_eq!(ip.total_len(), skb.len());
    assert!(
        ip.verify_checksum(),
        "inet_gro_complete redoes the header checksum"
    );
    assert_eq!((skb.gso_size, skb.gso_segs), (MSS as u16, 5));
    assert!(skb.csum_unnecessary);
    assert_eq!(skb.copies, 0, "GRO moves pages, it copies nothing");
    // Five 2048-byte buffers, less the four sk_buffs skb_gro_receive frees.
    assert_eq!(skb.truesize(), 5 * skb_truesize(2048) - 4 * 256);
    let s = gro.stats();
    assert_eq!((s.merged, s.flushes, s.segs_per_skb[5]), (4, 1, 1));
}

#[test]
fn a_single_held_segment_goes_up_untouched() {
    let mut gro = GroList::default();
    let up = feed(&mut gro, &flow(1));
    assert_eq!(ids(&up[0]), [1]);
    assert_eq!((up[0].gso_size, up[0].gso_segs), (0, 0));
    assert_eq!(up[0].data(), &Seg::nth(0).frame()[14..]);
}

#[test]
fn an_out_of_order_segment_completes_the_flow_and_starts_another() {
    let mut segs = flow(4);
    segs.swap(2, 3);
    let mut gro = GroList::default();
    let up = feed(&mut gro, &segs);
    let got: Vec<_> = up.iter().map(ids).collect();
    assert_eq!(got, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn psh_merges_then_ends_the_flow() {
    let mut segs = flow(5);
    segs[2].flags |= flags::PSH;
    let mut gro = GroList::default();
    let mut up = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let (done, result) = gro.dev_gro_receive(s.skb(i as FrameId + 1), 0);
        assert!(matches!(result, GroResult::Merged | GroResult::Held));
        up.extend(done);
    }
    assert_eq!(up.len(), 1, "completed at the PSH segment");
    assert_eq!(ids(&up[0]), [1, 2, 3]);
    let th = &up[0].data()[20..];
    assert_ne!(
        th[13] & flags::PSH,
        0,
        "PSH carries over to the super-packet"
    );
    let rest = gro.napi_gro_flush(false, 0);
    assert_eq!(rest.iter().map(ids).collect::<Vec<_>>(), [vec![4, 5]]);
}

#[test]
fn a_different_timestamp_option_completes_the_flow() {
    let mut segs = flow(3);
    segs[2].tsval = 8;
    let mut gro = GroList::default();
    let got: Vec<_> = feed(&mut gro, &segs).iter().map(ids).collect();
    assert_eq!(got, [vec![1, 2], vec![3]]);
}

/// `skb_gro_checksum_validate` trusts `CHECKSUM_UNNECESSARY` from the NIC (`e1000_rx_checksum`): the
/// segment is not summed again, so one whose bytes were changed after the NIC checked it still merges.
#[test]
fn a_checksum_the_nic_verified_is_not_summed_again() {
    let segs = flow(2);
    let mut gro = GroList::default();
    let (_, r) = gro.dev_gro_receive(segs[0].skb(1), 0);
    assert!(matches!(r, GroResult::Held));
    let mut changed = segs[1].frame();
    let last = changed.len() - 1;
    changed[last] ^= 0xff;
    let mut skb = skb_of(2, changed);
    skb.csum_unnecessary = true;
    let (done, r) = gro.dev_gro_receive(skb, 0);
    assert!(done.is_none());
    assert!(matches!(r, GroResult::Merged), "{r:?}");
    let flushed = gro.napi_gro_flush(false, 0);
    assert_eq!(flushed.iter().map(ids).collect::<Vec<_>>(), [vec![1, 2]]);
    assert!(flushed[0].csum_unnecessary);
}

#[test]
fn a_bad_checksum_goes_up_alone_unverified_and_leaves_the_flow_held() {
    let segs = flow(3);
    let mut gro = GroList::default();
    let (_, r) = gro.dev_gro_receive(segs[0].skb(1), 0);
    assert!(matches!(r, GroResult::Held));
    let mut bad = segs[1].frame();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    let (done, r) = gro.dev_gro_receive(skb_of(2, bad), 0);
    assert!(done.is_none());
    let GroResult::Normal(skb) = r else {
        panic!("bad checksum merged: {r:?}")
    };
    assert_eq!(ids(&skb), [2]);
    assert!(!skb.csum_unnecessary, "left for TCP to verify and drop");
    assert_eq!(
        gro.napi_gro_flush(false, 0)
            .iter()
            .map(ids)
            .collect::<Vec<_>>(),
        [vec![1]]
    );
}

#[test]
fn the_super_packet_stays_below_64k() {
    let segs = flow(50);
    let mut gro = GroList::default();
    let up = feed(&mut gro, &segs);
    // 52 header bytes + 45 * 1448 = 65212; a 46th segment would reach 66660.
    let got: Vec<usize> = up.iter().map(|s| ids(s).len()).collect();
    assert_eq!(got, [45, 5]);
    assert!(up.iter().all(|s| s.len() < GRO_LEGACY_MAX_SIZE));
}

#[test]
fn interleaved_flows_merge_separately() {
    let a = flow(3);
    let b: Vec<Seg> = flow(3)
        .into_iter()
        .map(|s| Seg { sport: 40_001, ..s })
        .collect();
    let segs = [&a[0], &b[0], &a[1], &b[1], &a[2], &b[2]].map(Seg::clone);
    let mut gro = GroList::default();
    let got: Vec<_> = feed(&mut gro, &segs).iter().map(ids).collect();
    assert_eq!(got, [vec![1, 3, 5], vec![2, 4, 6]]);
}

#[test]
fn a_ninth_flow_flushes_the_oldest() {
    let segs: Vec<Seg> = (0..9)
        .map(|i| Seg {
            sport: 40_000 + i,
            ..Seg::nth(0)
        })
        .collect();
    let mut gro = GroList::default();
    for (i, s) in segs.iter().enumerate().take(8) {
        let (done, _) = gro.dev_gro_receive(s.skb(i as FrameId + 1), 0);
        assert!(done.is_none());
    }
    let (done, r) = gro.dev_gro_receive(segs[8].skb(9), 0);
    assert!(matches!(r, GroResult::Held));
    assert_eq!(done.map(|s| ids(&s)), Some(vec![1]));
}

#[test]
fn an_incrementing_ip_id_must_keep_incrementing() {
    let mut segs = flow(3);
    segs[2].ip_id = 7;
    let mut gro = GroList::default();
    let got: Vec<_> = feed(&mut gro, &segs).iter().map(ids).collect();
    assert_eq!(got, [vec![1, 2], vec![3]]);
    // A flow that repeats its id with DF set is fixed-id.
    let segs: Vec<Seg> = flow(3).into_iter().map(|s| Seg { ip_id: 9, ..s }).collect();
    let got: Vec<_> = feed(&mut gro, &segs).iter().map(ids).collect();
    assert_eq!(got, [vec![1, 2, 3]]);
}

#[test]
fn a_pure_ack_is_not_held() {
    let ack = Seg {
        len: 0,
        ..Seg::nth(0)
    };
    let mut gro = GroList::default();
    let (_, r) = gro.dev_gro_receive(ack.skb(1), 0);
    assert!(matches!(r, GroResult::Normal(_)));
    assert!(!gro.has_held());
}

#[test]
fn napi_gro_flush_of_old_flows_keeps_this_jiffys() {
    let mut gro = GroList::default();
    let a = Seg::nth(0);
    let b = Seg {
        sport: 40_001,
        ..Seg::nth(0)
    };
    gro.dev_gro_receive(a.skb(1), 4);
    gro.dev_gro_receive(b.skb(2), 5);
    let old = gro.napi_gro_flush(true, 5);
    assert_eq!(old.iter().map(ids).collect::<Vec<_>>(), [vec![1]]);
    assert!(gro.has_held());
}

/// The window shares `tcp_flag_word` with the flags, so a window update ends the merge and the new
/// window starts another; a segment with CWR never joins a flow, but may start one.
#[test]
fn a_window_update_or_cwr_completes_the_flow() {
    let mut window = flow(3);
    window[1].window = 1024;
    window[2].window = 1024;
    let mut cwr = flow(3);
    cwr[1].flags |= flags::CWR;
    for segs in [window, cwr] {
        let mut gro = GroList::default();
        let got: Vec<_> = feed(&mut gro, &segs).iter().map(ids).collect();
        assert_eq!(got, [vec![1], vec![2, 3]]);
    }
}

/// Bytes behind the IP packet (Ethernet padding of a minimum-size frame) make the IP length disagree
/// with the skb: `inet_gro_receive` flushes it, so it completes its flow and goes up unmerged and
/// unverified.
#[test]
fn a_padded_segment_completes_its_flow_and_goes_up_alone() {
    let mut segs = flow(2);
    segs[1].len = 4;
    let mut padded = segs[1].frame();
    padded.extend([0; 6]);
    let mut gro = GroList::default();
    gro.dev_gro_receive(segs[0].skb(1), 0);
    let (done, r) = gro.dev_gro_receive(skb_of(2, padded), 0);
    assert_eq!(done.map(|s| ids(&s)), Some(vec![1]));
    let GroResult::Normal(skb) = r else {
        panic!("padded segment not passed up: {r:?}")
    };
    assert!(!skb.csum_unnecessary);
    assert!(!gro.has_held());
}
