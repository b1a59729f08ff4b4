//! IP reassembly and forwarding.

mod stack_bench;
mod support;

use etherparse::{Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};
use host_driver::accounting::{Consumer, DropReason, FrameId, Outcome, Stage};
use host_driver::wire::build::{self, Ipv4FrameSpec};
use host_driver::wire::ipv4::{Ipv4Packet, Ipv4Repr};
use stack_bench::*;

const SINK: &str = "- {kind: udp_sink, port: 9000}\n";

/// The 3000-byte datagram to the sink as 1500-MTU fragments (1480 + 1480 + 48 bytes).
fn fragments() -> Vec<Vec<u8>> {
    build::udp_fragments(&udp_spec(5000, 9000, 3000), 1500).unwrap()
}

fn outcomes(b: &Bench, ids: &[FrameId]) -> Vec<Option<Outcome>> {
    ids.iter().map(|&id| b.outcome(id)).collect()
}

#[test]
fn fragments_in_any_order_are_reassembled_and_delivered() {
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut b = Bench::new("", SINK);
        b.run_apps();
        let f = fragments();
        let ids: Vec<_> = order.iter().map(|&i| b.rx(f[i].clone())).collect();
        b.run_apps();
        let last = *ids.last().unwrap();
        assert_eq!(
            b.outcome(last),
            Some(Outcome::Delivered { port: 9000 }),
            "order {order:?}"
        );
        for id in &ids[..2] {
            assert_eq!(
                b.outcome(*id),
                Some(Outcome::Consumed(Consumer::Reassembled))
            );
        }
        let app = &b.counters().apps[0];
        assert_eq!((app.received, app.received_bytes), (1, 3000));
        let ip = b.counters().ip;
        assert_eq!((ip.reasm_reqds, ip.reasm_oks, ip.reasm_fails), (3, 1, 0));
        assert!(b.stages(last).contains(&Stage::UdpRcv));
        b.assert_conserved();
    }
}

#[test]
fn exact_duplicate_is_dropped_alone() {
    let mut b = Bench::new("", SINK);
    b.run_apps();
    let f = fragments();
    let a = b.rx(f[0].clone());
    let dup = b.rx(f[0].clone());
    let rest: Vec<_> = f[1..].iter().map(|x| b.rx(x.clone())).collect();
    b.run_apps();
    assert_eq!(b.outcome(dup), Some(Outcome::Dropped(DropReason::DupFrag)));
    assert_eq!(b.outcome(a), Some(Outcome::Consumed(Consumer::Reassembled)));
    assert_eq!(b.outcome(rest[1]), Some(Outcome::Delivered { port: 9000 }));
}

fn fragment(offset: usize, more: bool, payload: &[u8]) -> Vec<u8> {
    build::ipv4_frame(&Ipv4FrameSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        ip: Ipv4Repr {
            src: PEER_IP,
            dst: HOST_IP,
            protocol: 17,
            ttl: 64,
            tos: 0,
            ident: 4242,
            dont_frag: false,
            more_frags: more,
            frag_offset: offset,
            payload_len: 0,
        },
        payload,
    })
    .unwrap()
}

#[test]
fn overlap_kills_the_whole_queue() {
    let mut b = Bench::new("", SINK);
    let a = b.rx(fragment(0, true, &[0; 16]));
    let c = b.rx(fragment(8, true, &[1; 16]));
    assert_eq!(
        outcomes(&b, &[a, c]),
        [Some(Outcome::Dropped(DropReason::DupFrag)); 2]
    );
    let ip = b.counters().ip;
    assert_eq!((ip.reasm_overlaps, ip.reasm_fails), (1, 1));
    b.assert_conserved();
}

#[test]
fn contradicting_last_fragment_is_invalid() {
    let mut b = Bench::new("", SINK);
    let a = b.rx(fragment(16, false, &[0; 16])); // datagram ends at 32
    let c = b.rx(fragment(40, true, &[0; 8])); // data beyond the end
    assert_eq!(
        outcomes(&b, &[a, c]),
        [Some(Outcome::Dropped(DropReason::NotSpecified)); 2]
    );
}

#[test]
fn incomplete_datagram_times_out_with_icmp() {
    let mut b = Bench::new(&format!("{STATIC_PEER}ipfrag_time_ms: 1\n"), SINK);
    let f = fragments();
    let first = b.rx(f[0].clone());
    let third = b.rx(f[2].clone());
    let queued = b.trace.stamp_of(first, Stage::IpLocalDeliver).unwrap();
    let c = &b.costs;
    let expires = queued
        + b.clock.ns_to_cycles(c.ip_local_deliver_ns)
        + b.clock.ns_to_cycles(c.ip_defrag_ns)
        + b.clock.ns_to_cycles(1_000_000);
    assert_eq!(
        b.stack.next_timer(),
        Some(expires),
        "ipfrag_time after the first fragment was queued"
    );
    b.run_for(2_000_000);
    assert_eq!(
        outcomes(&b, &[first, third]),
        [Some(Outcome::Dropped(DropReason::FragReasmTimeout)); 2]
    );
    let ip = b.counters().ip;
    assert_eq!((ip.reasm_timeout, ip.reasm_fails), (1, 1));
    let tx = b.tx();
    let p = SlicedPacket::from_ethernet(&tx[0].1).unwrap();
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
        panic!("not icmp")
    };
    assert!(matches!(
        icmp.icmp_type(),
        Icmpv4Type::TimeExceeded(
            etherparse::icmpv4::TimeExceededCode::FragmentReassemblyTimeExceeded
        )
    ));
    b.assert_conserved();
}

#[test]
fn reassembly_memory_limit_refuses_new_queues() {
    let mut b = Bench::new("ipfrag_high_thresh: 3000\n", SINK);
    let f = fragments();
    let first = b.rx(f[0].clone()); // 1514 + 576 bytes of truesize
    let mut other = udp_spec(5001, 9000, 3000);
    other.ip_id = 99;
    let g = build::udp_fragments(&other, 1500).unwrap();
    let refused = b.rx(g[0].clone());
    assert_eq!(b.outcome(first), None, "still queued");
    assert_eq!(
        b.outcome(refused),
        Some(Outcome::Dropped(DropReason::NotSpecified))
    );
    assert_eq!(b.counters().ip.reasm_fails, 1);
}

fn routed_frame(ttl: u8, dont_frag: bool, len: usize) -> Vec<u8> {
    build::ipv4_frame(&Ipv4FrameSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        ip: Ipv4Repr {
            src: PEER_IP,
            dst: "10.0.0.3".parse().unwrap(),
            protocol: 17,
            ttl,
            tos: 0,
            ident: 7,
            dont_frag,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        },
        payload: &vec![0xab; len],
    })
    .unwrap()
}

const ROUTER: &str = "ip_forward: true\nneighbours: [{ip: 10.0.0.2, mac: '02:00:00:00:00:02'}, {ip: 10.0.0.3, mac: '02:00:00:00:00:03'}]\n";

#[test]
fn forwarding_decrements_ttl_and_keeps_the_checksum_valid() {
    let mut b = Bench::new(ROUTER, "");
    let id = b.rx(routed_frame(64, false, 100));
    let tx = b.tx();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].0, id, "the forwarded frame keeps its id");
    assert_eq!(
        b.stages(id),
        [
            Stage::NetifReceive,
            Stage::IpRcv,
            Stage::IpForward,
            Stage::IpOutput,
            Stage::QdiscEnqueue
        ]
    );
    let frame = &tx[0].1;
    assert_eq!(frame[..6], [2, 0, 0, 0, 0, 3]);
    let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
    assert_eq!(ip.ttl(), 63);
    assert!(ip.verify_checksum());
    assert_eq!(b.counters().ip.forw_datagrams, 1);
}

/// `ip_forward`'s `too_many_hops`: ICMP time exceeded, InHdrErrors, `SKB_DROP_REASON_IP_INHDR`.
#[test]
fn ip_forward_too_many_hops_is_ip_inhdr_and_sends_time_exceeded() {
    let mut b = Bench::new(ROUTER, "");
    let id = b.rx(routed_frame(1, false, 100));
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IpInhdr)));
    let tx = b.tx();
    let p = SlicedPacket::from_ethernet(&tx[0].1).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        panic!()
    };
    assert_eq!(ip.header().destination(), PEER_IP.octets());
    assert_eq!(tx[0].1[15], 0xc0, "TOS IPTOS_PREC_INTERNETCONTROL");
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
        panic!()
    };
    assert!(matches!(
        icmp.icmp_type(),
        Icmpv4Type::TimeExceeded(etherparse::icmpv4::TimeExceededCode::TtlExceededInTransit)
    ));
    assert_eq!(b.counters().icmp.out_time_excds, 1);
    assert_eq!(b.counters().ip.in_hdr_errors, 1);
}

#[test]
fn too_big_with_df_needs_fragmentation() {
    let mut b = Bench::new(&format!("{ROUTER}mtu: 576\n"), "");
    let id = b.rx(routed_frame(64, true, 1000));
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::PktTooBig)));
    let tx = b.tx();
    let p = SlicedPacket::from_ethernet(&tx[0].1).unwrap();
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
        panic!()
    };
    assert_eq!(
        icmp.icmp_type(),
        Icmpv4Type::DestinationUnreachable(
            etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: 576 }
        )
    );
}

#[test]
fn too_big_without_df_is_fragmented_on_the_way_out() {
    let mut b = Bench::new(&format!("{ROUTER}mtu: 576\n"), "");
    let id = b.rx(routed_frame(64, false, 1000));
    assert_eq!(b.outcome(id), Some(Outcome::Consumed(Consumer::Fragmented)));
    let tx = b.tx();
    assert_eq!(tx.len(), 2);
    let total: usize = tx
        .iter()
        .map(|(_, f)| Ipv4Packet::new_checked(&f[14..]).unwrap().payload().len())
        .sum();
    assert_eq!(total, 1000);
    assert!(tx
        .iter()
        .all(|(_, f)| Ipv4Packet::new_checked(&f[14..]).unwrap().ttl() == 63));
    assert_eq!(b.counters().ip.frag_creates, 2);
}

/// `ip_error` with ENETUNREACH on the forward path: InNoRoutes, `SKB_DROP_REASON_IP_INNOROUTES`.
#[test]
fn ip_error_forwarding_without_a_route_is_ip_innoroutes() {
    let mut b = Bench::new(ROUTER, "");
    let mut f = routed_frame(64, false, 10);
    f[30..34].copy_from_slice(&[192, 168, 9, 9]);
    fix_ip_checksum(&mut f);
    let id = b.rx(f);
    assert_eq!(
        b.outcome(id),
        Some(Outcome::Dropped(DropReason::IpInnoroutes))
    );
    assert_eq!(b.counters().ip.in_no_routes, 1);
    assert_eq!(b.counters().icmp.out_dest_unreachs, 1);
}
