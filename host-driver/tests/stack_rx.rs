//! Receive path of the stack: every stage stamped in order, every drop point counted.

mod stack_bench;
mod support;

use std::net::Ipv4Addr;

use etherparse::{Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};
use host_driver::accounting::{Consumer, DropReason, Outcome, Stage};
use host_driver::wire::build::{self, Ipv4FrameSpec, UdpFrameSpec};
use host_driver::wire::ethernet::{ethertype, MacAddr};
use host_driver::wire::ipv4::Ipv4Repr;
use stack_bench::*;

const SINK: &str = "- {kind: udp_sink, port: 9000}\n";

#[test]
fn udp_datagram_reaches_the_sink_through_every_stage() {
    let mut b = Bench::new(STATIC_PEER, SINK);
    b.run_apps(); // the sink blocks in recvfrom
    let id = b.rx(udp(5000, 9000, 100));
    assert_eq!(b.outcome(id), None, "queued, not yet read");
    b.run_apps();
    assert_eq!(b.outcome(id), Some(Outcome::Delivered { port: 9000 }));
    assert_eq!(
        b.stages(id),
        [
            Stage::NetifReceive,
            Stage::IpRcv,
            Stage::IpLocalDeliver,
            Stage::UdpRcv,
            Stage::SocketEnqueue,
            Stage::AppRead
        ]
    );
    let rec = b.trace.frame(id).unwrap();
    assert!(
        rec.stamps.windows(2).all(|w| w[0].1 < w[1].1),
        "time advances: {rec:?}"
    );
    let c = b.counters();
    assert_eq!(
        (c.ip.in_receives, c.ip.in_delivers, c.udp.in_datagrams),
        (1, 1, 1)
    );
    let app = &c.apps[0];
    assert_eq!((app.received, app.received_bytes, app.wakeups), (1, 100, 1));
    assert_eq!(
        app.received_copies, 1,
        "zero-copy receive, one copy to user space"
    );
    b.assert_conserved();
}

#[test]
fn wakeup_cost_delays_the_read() {
    let mut b = Bench::new(STATIC_PEER, SINK);
    b.run_apps();
    let id = b.rx(udp(5000, 9000, 10));
    let queued = b.trace.stamp_of(id, Stage::SocketEnqueue).unwrap();
    b.run_apps();
    let read = b.trace.stamp_of(id, Stage::AppRead).unwrap();
    let min = b
        .clock
        .ns_to_cycles(b.costs.wakeup_ns + b.costs.app_read_ns);
    assert!(read - queued >= min, "read {read} queued {queued}");
}

#[test]
fn ethernet_padding_is_trimmed() {
    let mut b = Bench::new(STATIC_PEER, SINK);
    b.run_apps();
    let frame = udp(5000, 9000, 2);
    assert_eq!(frame.len(), 60, "padded on the wire");
    b.rx(frame);
    b.run_apps();
    assert_eq!(b.counters().apps[0].received_bytes, 2);
}

#[test]
fn read_batch_reads_several_datagrams_per_syscall() {
    let mut b = Bench::new(
        STATIC_PEER,
        "- {kind: udp_sink, port: 9000, read_batch: 4}\n",
    );
    b.run_apps();
    let ids: Vec<_> = (0..6).map(|i| b.rx(udp(5000 + i, 9000, 10))).collect();
    b.run_apps();
    b.run_apps();
    let c = b.counters();
    assert_eq!(
        (c.apps[0].received, c.apps[0].syscalls),
        (6, 3),
        "initial empty read + 4 + 2"
    );
    assert!(ids
        .iter()
        .all(|&id| b.outcome(id) == Some(Outcome::Delivered { port: 9000 })));
}

#[test]
fn full_receive_buffer_drops_with_rcvbuf_errors() {
    // Never read: the slow reader polls far in the future.
    let mut b = Bench::new(
        STATIC_PEER,
        "- {kind: udp_sink, port: 9000, rcvbuf: 3000, read_interval_ns: 1000000000}\n",
    );
    b.run_apps();
    let ids: Vec<_> = (0..6).map(|i| b.rx(udp(5000 + i, 9000, 1000))).collect();
    let dropped = ids
        .iter()
        .filter(|&&id| b.outcome(id) == Some(Outcome::Dropped(DropReason::SocketRcvbuff)))
        .count();
    // truesize = 1042 + 576: the second datagram overshoots 3000 (allowed), the rest are refused.
    assert_eq!(dropped, 4);
    let c = b.counters();
    assert_eq!(
        (c.udp.rcvbuf_errors, c.udp.in_errors, c.apps[0].socket_drops),
        (4, 4, 4)
    );
}

#[test]
fn bad_ip_checksum_is_counted_and_dropped() {
    let mut b = Bench::new("", "");
    let mut f = udp(1, 9000, 10);
    f[24] ^= 0xff;
    let id = b.rx(f);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IpCsum)));
    let ip = b.counters().ip;
    assert_eq!(
        (ip.in_receives, ip.in_csum_errors, ip.in_hdr_errors),
        (1, 1, 1)
    );
}

#[test]
fn bad_version_and_header_length_are_header_errors() {
    let mut b = Bench::new("", "");
    for (byte, value) in [(14, 0x65u8), (14, 0x44)] {
        let mut f = udp(1, 9000, 10);
        f[byte] = value;
        fix_ip_checksum(&mut f);
        let id = b.rx(f);
        assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IpInhdr)));
    }
    assert_eq!(b.counters().ip.in_hdr_errors, 2);
}

#[test]
fn total_length_beyond_the_frame_is_truncated() {
    let mut b = Bench::new("", "");
    let mut f = udp(1, 9000, 100);
    f[16..18].copy_from_slice(&1400u16.to_be_bytes());
    fix_ip_checksum(&mut f);
    let id = b.rx(f);
    assert_eq!(
        b.outcome(id),
        Some(Outcome::Dropped(DropReason::PktTooSmall))
    );
    assert_eq!(b.counters().ip.in_truncated_pkts, 1);
}

/// `ip_rcv_core` checks the header checksum before the total length: a truncated header with a bad
/// checksum is a checksum error, not a truncated packet.
#[test]
fn ip_rcv_core_checks_the_checksum_before_the_length() {
    let mut b = Bench::new("", "");
    let mut f = udp(1, 9000, 100);
    f[16..18].copy_from_slice(&1400u16.to_be_bytes());
    let id = b.rx(f);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IpCsum)));
    let ip = b.counters().ip;
    assert_eq!(
        (ip.in_receives, ip.in_csum_errors, ip.in_truncated_pkts),
        (1, 1, 0)
    );
}

/// `ip_rcv_core` drops a `PACKET_OTHERHOST` frame (promiscuous mode) before counting InReceives.
#[test]
fn ip_rcv_core_drops_otherhost_before_in_receives() {
    let mut b = Bench::new("", "");
    let mut f = udp(1, 9000, 10);
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    let id = b.rx(f);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::Otherhost)));
    let c = b.counters();
    assert_eq!((c.ip.in_receives, c.link.rx_otherhost_dropped), (0, 1));
}

/// `__udp4_lib_rcv` → `udp4_csum_init`: a datagram within `CHECKSUM_BREAK` (76 bytes) is verified on
/// receive and dropped there.
#[test]
fn udp4_csum_init_verifies_a_short_datagram_on_receive() {
    let mut b = Bench::new("", SINK);
    let mut f = udp(1, 9000, 10);
    f[45] ^= 0x01; // payload byte
    let id = b.rx(f);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::UdpCsum)));
    let u = b.counters().udp;
    assert_eq!((u.in_csum_errors, u.in_errors, u.in_datagrams), (1, 1, 0));
}

/// `udp_recvmsg`: a longer datagram to an unfiltered socket is queued unverified and its bad checksum is
/// found when it is read (`csum_copy_err`), after it spent receive buffer; the good one behind it is read.
#[test]
fn udp_recvmsg_verifies_a_deferred_checksum() {
    let mut b = Bench::new("", SINK);
    b.run_apps();
    let mut bad = udp(1, 9000, 500);
    bad[100] ^= 0x01;
    let bad = b.rx(bad);
    assert_eq!(b.outcome(bad), None, "queued: not verified yet");
    assert_eq!(b.counters().udp.in_csum_errors, 0);
    let good = b.rx(udp(2, 9000, 500));
    b.run_apps();
    assert_eq!(b.outcome(bad), Some(Outcome::Dropped(DropReason::UdpCsum)));
    assert_eq!(b.outcome(good), Some(Outcome::Delivered { port: 9000 }));
    let u = b.counters().udp;
    assert_eq!((u.in_csum_errors, u.in_errors, u.in_datagrams), (1, 1, 1));
    b.assert_conserved();
}

#[test]
fn unknown_ethertype_has_no_handler() {
    let mut b = Bench::new("", "");
    let mut f = udp(1, 9000, 10);
    f[12..14].copy_from_slice(&ethertype::IPV6.to_be_bytes());
    let id = b.rx(f);
    assert_eq!(
        b.outcome(id),
        Some(Outcome::Dropped(DropReason::UnhandledProto))
    );
    assert_eq!(b.counters().link.rx_nohandler, 1);
}

#[test]
/// `ip_error` with forwarding off: `IP_INADDRERRORS`, counted as InAddrErrors.
fn ip_error_without_forwarding_is_ip_inaddrerrors() {
    let mut b = Bench::new("", "");
    let mut spec = udp_spec(1, 9000, 10);
    spec.dst_ip = "10.0.0.77".parse().unwrap();
    let id = b.rx(build::udp_frame(&spec).unwrap());
    assert_eq!(
        b.outcome(id),
        Some(Outcome::Dropped(DropReason::IpInaddrerrors))
    );
    assert_eq!(b.counters().ip.in_addr_errors, 1);
}

#[test]
fn frame_for_another_mac_is_otherhost() {
    let mut b = Bench::new("", "");
    let mut spec = udp_spec(1, 9000, 10);
    spec.dst_mac = MacAddr([2, 0, 0, 0, 0, 0x99]);
    let id = b.rx(build::udp_frame(&spec).unwrap());
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::Otherhost)));
    assert_eq!(b.counters().link.rx_otherhost_dropped, 1);
}

fn icmp_of(frame: &[u8]) -> (Icmpv4Type, Vec<u8>) {
    let p = SlicedPacket::from_ethernet(frame).expect("parses");
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
        panic!("not ICMP: {frame:02x?}")
    };
    assert_eq!(
        icmp.checksum(),
        icmp.header().icmp_type.calc_checksum(icmp.payload())
    );
    (icmp.icmp_type(), icmp.payload().to_vec())
}

#[test]
fn no_socket_counts_no_ports_and_answers_port_unreachable() {
    let mut b = Bench::new(STATIC_PEER, "");
    let f = udp(1234, 9999, 10);
    let id = b.rx(f.clone());
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::NoSocket)));
    assert_eq!(b.counters().udp.no_ports, 1);
    let tx = b.tx();
    assert_eq!(tx.len(), 1);
    let (ty, quoted) = icmp_of(&tx[0].1);
    assert!(matches!(
        ty,
        Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Port)
    ));
    assert_eq!(
        quoted,
        f[14..14 + 20 + 8 + 10],
        "quotes the whole small datagram"
    );
    assert_eq!(b.counters().icmp.out_dest_unreachs, 1);
    b.assert_conserved();
}

#[test]
fn port_unreachable_is_rate_limited_per_destination() {
    let mut b = Bench::new(STATIC_PEER, "");
    for i in 0..20 {
        b.rx(udp(1000 + i, 9999, 10));
    }
    let c = b.counters();
    assert_eq!((c.udp.no_ports, c.icmp.out_dest_unreachs), (20, 6));
    assert_eq!(c.icmp.out_rate_limit_host, 14);
    assert_eq!(b.tx().len(), 6);
}

#[test]
fn unknown_ip_protocol_answers_protocol_unreachable() {
    let mut b = Bench::new(STATIC_PEER, "");
    let mut spec = udp_spec(1, 9000, 10);
    spec.src_port = 1;
    let mut f = build::udp_frame(&spec).unwrap();
    f[23] = 132; // SCTP
    fix_ip_checksum(&mut f);
    let id = b.rx(f);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IpNoproto)));
    assert_eq!(b.counters().ip.in_unknown_protos, 1);
    let (ty, _) = icmp_of(&b.tx()[0].1);
    assert!(matches!(
        ty,
        Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Protocol)
    ));
}

#[test]
fn echo_request_is_answered() {
    let mut b = Bench::new(STATIC_PEER, "");
    let req = build::icmp_echo(&build::IcmpEchoSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        src_ip: PEER_IP,
        dst_ip: HOST_IP,
        ident: 0x77,
        seq: 5,
        payload: build::Payload::Len(56),
        ttl: 64,
        ip_id: 1,
        reply: false,
    })
    .unwrap();
    let id = b.rx(req);
    assert_eq!(b.outcome(id), Some(Outcome::Consumed(Consumer::IcmpEcho)));
    let tx = b.tx();
    let p = SlicedPacket::from_ethernet(&tx[0].1).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        panic!("not ipv4")
    };
    assert_eq!(
        (ip.header().source(), ip.header().destination()),
        (HOST_IP.octets(), PEER_IP.octets())
    );
    let (ty, data) = icmp_of(&tx[0].1);
    assert_eq!(
        ty,
        Icmpv4Type::EchoReply(etherparse::IcmpEchoHeader { id: 0x77, seq: 5 })
    );
    assert_eq!(data, build::Payload::Len(56).bytes().to_vec());
    let c = b.counters().icmp;
    assert_eq!((c.in_echos, c.out_echo_reps), (1, 1));
}

#[test]
fn arp_request_for_us_is_answered_and_learned() {
    let mut b = Bench::new("", SINK);
    let id = b.rx(build::arp_request(PEER_MAC, PEER_IP, HOST_IP));
    assert_eq!(b.outcome(id), Some(Outcome::Consumed(Consumer::Arp)));
    assert_eq!(b.stages(id), [Stage::NetifReceive, Stage::ArpRcv]);
    let tx = b.tx();
    assert_eq!(tx.len(), 1);
    assert_eq!(
        tx[0].1[..42],
        build::arp_reply(HOST_MAC, HOST_IP, PEER_MAC, PEER_IP)[..42]
    );
    // The requester was learned: a reply to it needs no ARP of our own.
    b.rx(udp(1, 9999, 4));
    let (ty, _) = icmp_of(&b.tx()[0].1);
    assert!(matches!(ty, Icmpv4Type::DestinationUnreachable(_)));
    assert_eq!(b.counters().arp.requests_sent, 0);
}

#[test]
fn arp_request_for_someone_else_is_consumed_silently() {
    let mut b = Bench::new("", "");
    let id = b.rx(build::arp_request(
        PEER_MAC,
        PEER_IP,
        "10.0.0.50".parse().unwrap(),
    ));
    assert_eq!(b.outcome(id), Some(Outcome::Consumed(Consumer::Arp)));
    assert!(b.tx().is_empty());
    let mut bogus = build::arp_request(PEER_MAC, PEER_IP, HOST_IP);
    bogus[14 + 5] = 16; // protocol address length
    let id = b.rx(bogus);
    assert_eq!(
        b.outcome(id),
        Some(Outcome::Dropped(DropReason::NotSpecified))
    );
    assert_eq!(b.counters().arp.invalid, 1);
}

#[test]
fn broadcast_datagram_reaches_a_wildcard_socket() {
    let mut b = Bench::new("", SINK);
    b.run_apps();
    let mut spec = udp_spec(1, 9000, 10);
    spec.dst_mac = MacAddr::BROADCAST;
    spec.dst_ip = "10.0.0.255".parse().unwrap();
    let id = b.rx(build::udp_frame(&spec).unwrap());
    b.run_apps();
    assert_eq!(b.outcome(id), Some(Outcome::Delivered { port: 9000 }));
}

#[test]
fn no_port_unreachable_for_broadcast() {
    let mut b = Bench::new(STATIC_PEER, "");
    let mut spec = udp_spec(1, 9999, 10);
    spec.dst_mac = MacAddr::BROADCAST;
    spec.dst_ip = "255.255.255.255".parse().unwrap();
    let id = b.rx(build::udp_frame(&spec).unwrap());
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::NoSocket)));
    assert!(b.tx().is_empty());
}

#[test]
fn netfilter_input_rule_drops_and_counts() {
    let mut b = Bench::new(
        "netfilter: [{hook: input, protocol: udp, dport: 9000-9001, action: drop}]\n",
        SINK,
    );
    let dropped = b.rx(udp(1, 9000, 10));
    let passed = b.rx(udp(1, 9002, 10));
    assert_eq!(
        b.outcome(dropped),
        Some(Outcome::Dropped(DropReason::NetfilterDrop))
    );
    assert_eq!(
        b.outcome(passed),
        Some(Outcome::Dropped(DropReason::NoSocket))
    );
    let nf = &b.counters().netfilter[0];
    assert_eq!((nf.packets, nf.bytes), (1, 38));
}

/// Taps see a received frame in `__netif_receive_skb_core` and a sent one in `dev_hard_start_xmit`
/// (`dev_queue_xmit_nit`), when the qdisc hands it to the driver, not when it is enqueued.
#[test]
fn taps_see_sent_frames_at_dev_queue_xmit_nit_not_at_enqueue() {
    let mut b = Bench::new(
        &format!("{STATIC_PEER}taps: [{{name: all}}, {{name: arp, ethertype: 0x0806}}]\n"),
        "",
    );
    let f = udp(1, 9999, 10);
    b.rx(f.clone());
    b.rx(build::arp_request(PEER_MAC, PEER_IP, HOST_IP));
    let taps = b.stack.drain_taps();
    assert_eq!(taps[0].0, "all");
    assert_eq!(
        taps[0].1.len(),
        2,
        "udp in, arp in; the replies wait in the qdisc"
    );
    assert_eq!(taps[0].1[0].data, f);
    assert_eq!(b.stack.tx_backlog(), 2);
    let sent = b.tx();
    let taps = b.stack.drain_taps();
    assert_eq!(taps[0].1.len(), 2, "icmp out, arp out");
    assert_eq!(taps[0].1[1].data, sent[1].1);
    assert_eq!(taps[1].1.len(), 1);
    assert_eq!(b.counters().taps[1].packets, 2);
}

#[test]
fn icmp_with_bad_checksum_is_dropped() {
    let mut b = Bench::new("", "");
    let mut frame = build::ipv4_frame(&Ipv4FrameSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        ip: Ipv4Repr {
            src: PEER_IP,
            dst: HOST_IP,
            protocol: 1,
            ttl: 64,
            tos: 0,
            ident: 9,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        },
        payload: &[8, 0, 0, 0, 0, 1, 0, 1],
    })
    .unwrap();
    frame[36] = 0x12;
    let id = b.rx(frame);
    assert_eq!(b.outcome(id), Some(Outcome::Dropped(DropReason::IcmpCsum)));
    assert_eq!(b.counters().icmp.in_csum_errors, 1);
}

/// `__udp4_lib_mcast_deliver`: a broadcast datagram goes to every socket on its port (two sinks sharing
/// it with SO_REUSEADDR), each delivery a frame of its own; with no socket it is `IgnoredMulti`, with no
/// NoPorts and no ICMP error.
#[test]
fn udp4_lib_mcast_deliver_gives_a_broadcast_to_every_socket() {
    let two = "- {kind: udp_sink, port: 9000, reuseaddr: true}\n\
               - {kind: udp_sink, port: 9000, reuseaddr: true}\n";
    let mut b = Bench::new("", two);
    b.run_apps();
    let bcast = |dst_port| {
        build::udp_frame(&UdpFrameSpec {
            dst_mac: MacAddr::BROADCAST,
            dst_ip: Ipv4Addr::new(10, 0, 0, 255),
            ..udp_spec(1, dst_port, 20)
        })
        .expect("valid frame")
    };
    let id = b.rx(bcast(9000));
    b.run_apps();
    let c = b.counters();
    assert_eq!(
        c.apps.iter().map(|a| a.received).collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(b.outcome(id), Some(Outcome::Delivered { port: 9000 }));
    let nobody = b.rx(bcast(9001));
    assert_eq!(
        b.outcome(nobody),
        Some(Outcome::Dropped(DropReason::NoSocket))
    );
    let c = b.counters();
    assert_eq!((c.udp.ignored_multi, c.udp.no_ports), (1, 0));
    assert!(b.tx().is_empty(), "no ICMP port unreachable");
    b.assert_conserved();
}
