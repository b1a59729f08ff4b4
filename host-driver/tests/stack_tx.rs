//! Send path of the stack: sendto → UDP → IP output → fragmentation → neighbour/ARP → qdisc.

mod stack_bench;
mod support;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use host_driver::accounting::{Consumer, DropReason, Outcome, Stage};
use host_driver::wire::build;
use host_driver::wire::ethernet::MacAddr;
use stack_bench::*;

fn sender(count: u64, size: usize, extra: &str) -> String {
    format!("- {{kind: udp_send, dst: 10.0.0.2, port: 7000, size: {size}, count: {count}, interval_ns: 1000{extra}}}\n")
}

/// (IP total length, MF, offset, UDP ports) of an Ethernet frame, checked with etherparse.
fn parse(frame: &[u8]) -> (u16, bool, u16, Option<(u16, u16)>) {
    let p = SlicedPacket::from_ethernet(frame).expect("parses");
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        panic!("not ipv4")
    };
    let h = ip.header();
    assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
    let ports = match &p.transport {
        Some(TransportSlice::Udp(u)) => {
            let sum = u
                .to_header()
                .calc_checksum_ipv4(&h.to_header(), u.payload())
                .unwrap();
            assert_eq!(u.checksum(), sum, "udp checksum");
            Some((u.source_port(), u.destination_port()))
        }
        _ => None,
    };
    (
        h.total_len(),
        h.more_fragments(),
        h.fragments_offset().value(),
        ports,
    )
}

#[test]
fn udp_send_to_a_known_neighbour() {
    let mut b = Bench::new(STATIC_PEER, &sender(3, 100, ""));
    b.run_for(10_000);
    let tx = b.tx();
    assert_eq!(tx.len(), 3);
    for (id, frame) in &tx {
        assert_eq!(frame[..6], PEER_MAC.0);
        assert_eq!(frame[6..12], HOST_MAC.0);
        let (len, mf, off, ports) = parse(frame);
        assert_eq!((len, mf, off), (128, false, 0));
        assert_eq!(
            ports,
            Some((32768, 7000)),
            "autobound to the first ephemeral port"
        );
        assert_eq!(
            b.stages(*id),
            [Stage::SendTo, Stage::IpOutput, Stage::QdiscEnqueue]
        );
    }
    let c = b.counters();
    assert_eq!(
        (c.udp.out_datagrams, c.ip.out_requests, c.apps[0].sent),
        (3, 3, 3)
    );
    assert_eq!((c.link.tx_packets, c.qdisc.sent), (3, 3));
    b.assert_conserved();
}

#[test]
fn sends_follow_the_interval() {
    let app = "- {kind: udp_send, dst: 10.0.0.2, port: 7, size: 10, count: 3, interval_ns: 10000, start_ns: 5000}\n";
    let mut b = Bench::new(STATIC_PEER, app);
    b.run_for(100_000);
    let sends: Vec<u64> = b
        .tx()
        .iter()
        .map(|(id, _)| b.trace.stamp_of(*id, Stage::SendTo).unwrap())
        .collect();
    let c = b.clock;
    let (start, every) = (c.ns_to_cycles(5000), c.ns_to_cycles(10_000));
    assert_eq!(sends, [start, start + every, start + 2 * every]);
}

#[test]
fn a_sender_slower_than_its_interval_falls_behind() {
    // Each send costs more than the 1000 ns interval, so sends go back to back.
    let mut b = Bench::new(STATIC_PEER, &sender(3, 10, ""));
    b.run_for(100_000);
    let sends: Vec<u64> = b
        .tx()
        .iter()
        .map(|(id, _)| b.trace.stamp_of(*id, Stage::SendTo).unwrap())
        .collect();
    let cost = b
        .clock
        .ns_to_cycles(b.costs.sendto_syscall_ns + b.costs.udp_sendmsg_ns);
    assert!(sends.windows(2).all(|w| w[1] - w[0] > cost), "{sends:?}");
}

#[test]
fn unknown_neighbour_is_resolved_by_arp_and_held_packets_flushed() {
    let mut b = Bench::new("", &sender(2, 10, ""));
    b.run_for(5_000);
    let tx = b.tx();
    assert_eq!(tx.len(), 1, "only the ARP request: {tx:02x?}");
    // The stack leaves padding to the NIC (TCTL.PSP): compare the 42 bytes of the ARP frame.
    assert_eq!(
        tx[0].1,
        build::arp_request(HOST_MAC, HOST_IP, PEER_IP)[..42]
    );
    let arp = b.rx(build::arp_reply(PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    assert_eq!(b.outcome(arp), Some(Outcome::Consumed(Consumer::Arp)));
    let tx = b.tx();
    assert_eq!(tx.len(), 2, "both held datagrams");
    assert!(tx.iter().all(|(_, f)| f[..6] == PEER_MAC.0));
    let a = b.counters().arp;
    assert_eq!((a.requests_sent, a.replies_received), (1, 1));
    b.assert_conserved();
}

#[test]
fn neighbour_queue_overflow_drops_the_oldest() {
    // Each 100-byte datagram is 64 + 128 + 576 = 768 bytes of truesize; two fit in 1600.
    let mut b = Bench::new("neigh: {unres_qlen_bytes: 1600}\n", &sender(4, 100, ""));
    b.run_for(10_000);
    let dropped: Vec<_> = b
        .trace
        .frames()
        .iter()
        .filter(|(_, r)| {
            r.outcome.map(|o| o.0) == Some(Outcome::Dropped(DropReason::NeighQueuefull))
        })
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(dropped.len(), 2);
    assert_eq!(b.counters().arp.unres_discards, 2);
    b.tx();
    b.rx(build::arp_reply(PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    let sent: Vec<_> = b.tx().into_iter().map(|(id, _)| id).collect();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|id| !dropped.contains(id))
            && dropped.iter().all(|d| sent.iter().all(|s| d < s)),
        "the newest survive"
    );
}

#[test]
fn unanswered_arp_retries_then_fails() {
    let mut b = Bench::new(
        "neigh: {retrans_time_ms: 1, mcast_solicit: 3}\n",
        &sender(1, 10, ""),
    );
    b.run_for(10_000_000);
    let tx = b.tx();
    assert_eq!(tx.len(), 3, "three broadcast requests");
    assert!(tx.iter().all(|(_, f)| f[..6] == MacAddr::BROADCAST.0));
    let failed = b
        .trace
        .frames()
        .values()
        .filter(|r| r.outcome.map(|o| o.0) == Some(Outcome::Dropped(DropReason::NeighFailed)))
        .count();
    assert_eq!(failed, 1);
    assert_eq!(b.counters().arp.res_failed, 1);
    assert_eq!(b.stack.next_timer(), None);
}

#[test]
fn off_subnet_goes_to_the_gateway_and_no_route_is_an_error() {
    let app = "- {kind: udp_send, dst: 192.168.1.1, port: 7, size: 10, count: 1}\n";
    let mut b = Bench::new("gateway: 10.0.0.254\n", app);
    b.run_for(1000);
    assert_eq!(
        b.tx()[0].1,
        build::arp_request(HOST_MAC, HOST_IP, "10.0.0.254".parse().unwrap())[..42]
    );
    let mut b = Bench::new("", app);
    b.run_for(1000);
    let c = b.counters();
    assert_eq!(
        (c.ip.out_no_routes, c.apps[0].send_errors, c.apps[0].sent),
        (1, 1, 0)
    );
    assert!(b.tx().is_empty());
}

#[test]
fn large_datagrams_are_fragmented() {
    let mut b = Bench::new(STATIC_PEER, &sender(1, 3000, ""));
    b.run_for(1000);
    let tx = b.tx();
    let frags: Vec<_> = tx.iter().map(|(_, f)| parse(f)).collect();
    assert_eq!(
        frags.iter().map(|f| (f.0, f.1, f.2)).collect::<Vec<_>>(),
        [(1500, true, 0), (1500, true, 185), (68, false, 370)]
    );
    let original = b
        .trace
        .frames()
        .iter()
        .find(|(_, r)| r.outcome.map(|o| o.0) == Some(Outcome::Consumed(Consumer::Fragmented)))
        .map(|(id, _)| *id)
        .expect("original consumed by fragmentation");
    assert_eq!(b.stages(original), [Stage::SendTo, Stage::IpOutput]);
    let c = b.counters().ip;
    assert_eq!((c.frag_oks, c.frag_creates), (1, 3));
    b.assert_conserved();
}

/// `udp_send_skb`: a qdisc drop is `NET_XMIT_DROP` → `-ENOBUFS` (`net_xmit_errno`), counted as
/// IP OutDiscards (`ip_send_skb`) and UDP SndbufErrors, and without `IP_RECVERR` swallowed: the
/// sender sees success.
#[test]
fn udp_send_skb_counts_a_qdisc_drop_as_sndbuf_error_and_enobufs_only_with_recverr() {
    for (recverr, sent, errors) in [("", 5, 0), (", recverr: true", 2, 3)] {
        let mut b = Bench::new(
            &format!("{STATIC_PEER}txqueuelen: 2\n"),
            &sender(5, 10, recverr),
        );
        b.run_for(100_000);
        assert_eq!(b.tx().len(), 2);
        let c = b.counters();
        assert_eq!((c.qdisc.dropped, c.link.tx_dropped), (3, 3));
        assert_eq!((c.udp.sndbuf_errors, c.ip.out_discards), (3, 3));
        assert_eq!(c.udp.out_datagrams, 2);
        assert_eq!((c.apps[0].sent, c.apps[0].send_errors), (sent, errors));
        b.assert_conserved();
    }
}

/// `sock_alloc_send_pskb`: while `sk_wmem_alloc >= sk_sndbuf` a blocking sender sleeps in
/// `sock_wait_for_wmem`; freeing the skbs at TX reclaim (`sock_wfree` → `sk_write_space`) wakes it
/// and the send completes. Nothing fails.
#[test]
fn sock_alloc_send_pskb_puts_a_blocking_sender_to_sleep_until_sock_wfree() {
    // truesize 64 + 18 + 576 = 658: sndbuf 1000 admits two before the driver frees any.
    let mut b = Bench::new(
        &format!("{STATIC_PEER}wmem_default: 1000\n"),
        &sender(4, 10, ""),
    );
    b.run_for(100_000);
    let c = b.counters();
    assert_eq!((c.apps[0].sent, c.apps[0].send_errors), (2, 0));
    assert_eq!((c.apps[0].sndbuf_waits, c.udp.sndbuf_errors), (1, 0));
    assert_eq!(b.tx().len(), 2, "reclaim frees them and wakes the sender");
    b.run_for(100_000);
    let c = b.counters();
    assert_eq!((c.apps[0].sent, c.apps[0].wakeups), (4, 1));
    assert_eq!(b.tx().len(), 2);
    b.assert_conserved();
}

/// `sock_alloc_send_pskb` with `MSG_DONTWAIT`: `-EAGAIN`, counted by `udp_sendmsg` as
/// SndbufErrors (SOCK_NOSPACE); the datagram is not sent.
#[test]
fn sock_alloc_send_pskb_returns_eagain_to_a_nonblocking_sender() {
    let mut b = Bench::new(
        &format!("{STATIC_PEER}wmem_default: 1000\n"),
        &sender(4, 10, ", nonblocking: true"),
    );
    b.run_for(100_000);
    let c = b.counters();
    assert_eq!(
        (c.apps[0].sent, c.apps[0].send_errors, c.apps[0].send_eagain),
        (2, 2, 2)
    );
    assert_eq!((c.udp.sndbuf_errors, c.apps[0].sndbuf_waits), (2, 0));
    assert_eq!(b.tx().len(), 2);
    b.assert_conserved();
}

#[test]
fn tos_selects_the_pfifo_fast_band() {
    let bulk = "- {kind: udp_send, dst: 10.0.0.2, port: 1, size: 10, count: 2, tos: 8}\n";
    let interactive =
        "- {kind: udp_send, dst: 10.0.0.2, port: 2, size: 10, count: 2, tos: 16, start_ns: 10}\n";
    let mut b = Bench::new(STATIC_PEER, &format!("{bulk}{interactive}"));
    b.run_for(100_000);
    let ports: Vec<u16> = b.tx().iter().map(|(_, f)| parse(f).3.unwrap().1).collect();
    assert_eq!(ports, [2, 2, 1, 1], "interactive band first");
}

#[test]
fn ping_measures_round_trips() {
    let mut b = Bench::new(
        STATIC_PEER,
        "- {kind: ping, dst: 10.0.0.2, count: 2, interval_ns: 1000000, size: 32}\n",
    );
    b.run_for(10);
    let req = b.tx();
    assert_eq!(req.len(), 1);
    let p = SlicedPacket::from_ethernet(&req[0].1).unwrap();
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else {
        panic!("not icmp")
    };
    let etherparse::Icmpv4Type::EchoRequest(echo) = icmp.icmp_type() else {
        panic!("not echo")
    };
    b.now += b.clock.ns_to_cycles(50_000);
    let reply = build::icmp_echo(&build::IcmpEchoSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        src_ip: PEER_IP,
        dst_ip: HOST_IP,
        ident: echo.id,
        seq: echo.seq,
        payload: build::Payload::Len(32),
        ttl: 64,
        ip_id: 3,
        reply: true,
    })
    .unwrap();
    let id = b.rx(reply);
    assert_eq!(b.outcome(id), Some(Outcome::Consumed(Consumer::Ping)));
    b.run_for(2_000_000);
    assert_eq!(b.tx().len(), 1, "second request");
    let app = &b.counters().apps[0];
    assert_eq!((app.sent, app.ping_replies), (2, 1));
    let rtt = app.rtt_min.unwrap();
    assert!(rtt >= b.clock.ns_to_cycles(50_000), "rtt {rtt}");
}

#[test]
fn echo_app_answers_the_sender() {
    let mut b = Bench::new(STATIC_PEER, "- {kind: udp_echo, port: 7}\n");
    b.run_apps();
    let id = b.rx(udp(4444, 7, 20));
    b.run_apps();
    assert_eq!(b.outcome(id), Some(Outcome::Delivered { port: 7 }));
    let tx = b.tx();
    assert_eq!(tx.len(), 1);
    let (len, _, _, ports) = parse(&tx[0].1);
    assert_eq!((len, ports), (48, Some((7, 4444))));
    let app = &b.counters().apps[0];
    assert_eq!((app.received, app.sent), (1, 1));
}

#[test]
fn connected_sender_sends_without_an_address_and_gets_matched_replies() {
    let app = "- {kind: udp_send, dst: 10.0.0.2, port: 7000, size: 10, count: 1, src_port: 6000, connect: true}\n";
    let mut b = Bench::new(STATIC_PEER, app);
    b.run_for(1000);
    let tx = b.tx();
    assert_eq!(parse(&tx[0].1).3, Some((6000, 7000)));
    // A datagram from the connected peer is queued; from anyone else the port is closed.
    let from_peer = b.rx(udp(7000, 6000, 4));
    let from_other = b.rx(udp(7001, 6000, 4));
    assert_eq!(b.outcome(from_peer), None, "queued on the connected socket");
    assert_eq!(
        b.outcome(from_other),
        Some(Outcome::Dropped(DropReason::NoSocket))
    );
}
