//! The link partner on its own: frames built by the host's wire builders go in, and what the peer
//! sends back is checked with etherparse, an independent parser.

use std::net::Ipv4Addr;

use etherparse::{IcmpEchoHeader, Icmpv4Type, LinkSlice, NetSlice, SlicedPacket, TransportSlice};
use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{
    arp_reply, arp_request, icmp_echo, ipv4_frame, udp_fragments, udp_frame, IcmpEchoSpec,
    Ipv4FrameSpec, Payload, UdpFrameSpec,
};
use host_driver::wire::ethernet::MacAddr;
use host_driver::wire::icmp::IcmpRepr;
use host_driver::wire::ipv4::{protocol, Ipv4Repr};
use nicsim_world::link::TxFrame;
use nicsim_world::peer::{Peer, PeerConfig, PeerConsumer, PeerDrop, PeerVerdict};

const CLOCK: Clock = Clock { ps_per_cycle: 6400 };
const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xfe]);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
/// The default 1 µs turnaround in 6.4 ns cycles, rounded up.
const TURNAROUND: Cycle = 157;
const CACHED: &str = "arp_cache: [{ip: 10.0.0.1, mac: \"02:00:00:00:00:01\"}]\n";

fn peer(yaml: &str) -> Peer {
    let cfg: PeerConfig = serde_norway::from_str(yaml).expect("peer config parses");
    Peer::new(&cfg, CLOCK, HOST_IP, 0).expect("peer config is valid")
}

fn consumed(c: PeerConsumer) -> PeerVerdict {
    PeerVerdict::Consumed(c)
}

fn dropped(d: PeerDrop) -> PeerVerdict {
    PeerVerdict::Dropped(d)
}

fn udp_spec(dst_port: u16, payload: Payload) -> UdpFrameSpec {
    UdpFrameSpec {
        src_mac: HOST_MAC,
        dst_mac: PEER_MAC,
        src_ip: HOST_IP,
        dst_ip: PEER_IP,
        src_port: 40000,
        dst_port,
        payload,
        ttl: 64,
        ip_id: 5,
    }
}

fn echo_spec(seq: u16, reply: bool, from_host: bool) -> IcmpEchoSpec {
    let (src_mac, dst_mac, src_ip, dst_ip) = if from_host {
        (HOST_MAC, PEER_MAC, HOST_IP, PEER_IP)
    } else {
        (PEER_MAC, HOST_MAC, PEER_IP, HOST_IP)
    };
    IcmpEchoSpec {
        src_mac,
        dst_mac,
        src_ip,
        dst_ip,
        ident: 1,
        seq,
        payload: Payload::Len(56),
        ttl: 64,
        ip_id: seq,
        reply,
    }
}

/// The host's echo reply to the peer's ping `seq`.
fn host_reply(seq: u16) -> Vec<u8> {
    let mut s = echo_spec(seq, true, true);
    s.payload = Payload::Len(56);
    icmp_echo(&s).unwrap()
}

/// Ethernet addresses, the IPv4 header (checksum verified) and the transport of `frame`.
fn parse_ipv4(frame: &[u8]) -> (MacAddr, MacAddr, etherparse::Ipv4Header, SlicedPacket<'_>) {
    let p = SlicedPacket::from_ethernet(frame).expect("etherparse reads the frame");
    let Some(LinkSlice::Ethernet2(eth)) = &p.link else {
        panic!("not Ethernet II")
    };
    let (src, dst) = (MacAddr(eth.source()), MacAddr(eth.destination()));
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        panic!("not IPv4: {:?}", p.net)
    };
    let h = ip.header().to_header();
    assert_eq!(
        ip.header().header_checksum(),
        h.calc_header_checksum(),
        "IPv4 header checksum"
    );
    (src, dst, h, p)
}

#[test]
fn arp_request_built_by_the_host_is_answered() {
    let mut p = peer("{}");
    let req = arp_request(HOST_MAC, HOST_IP, PEER_IP);
    assert_eq!(
        p.on_frame(&req, Some(3), 1000),
        consumed(PeerConsumer::ArpAnswered)
    );
    let out = p.poll(1000);
    assert_eq!(out.len(), 1);
    let (reply, not_before) = &out[0];
    assert_eq!(*not_before, 1000 + TURNAROUND);
    let parsed = SlicedPacket::from_ethernet(reply).unwrap();
    let Some(LinkSlice::Ethernet2(eth)) = &parsed.link else {
        panic!("not Ethernet II")
    };
    assert_eq!((eth.source(), eth.destination()), (PEER_MAC.0, HOST_MAC.0));
    assert_eq!(eth.ether_type(), etherparse::EtherType::ARP);
    let Some(NetSlice::Arp(arp)) = &parsed.net else {
        panic!("not ARP: {:?}", parsed.net)
    };
    assert_eq!(arp.operation(), etherparse::ArpOperation::REPLY);
    assert_eq!(arp.hw_addr_type(), etherparse::ArpHardwareId::ETHERNET);
    assert_eq!(arp.proto_addr_type(), etherparse::EtherType::IPV4);
    assert_eq!(arp.sender_hw_addr(), &PEER_MAC.0);
    assert_eq!(arp.sender_protocol_addr(), &PEER_IP.octets());
    assert_eq!(arp.target_hw_addr(), &HOST_MAC.0);
    assert_eq!(arp.target_protocol_addr(), &HOST_IP.octets());
    assert_eq!(reply.len(), 60, "padded to the minimum frame");

    // The request taught the peer the host's MAC: its echo reply needs no ARP of its own.
    let ping = icmp_echo(&echo_spec(1, false, true)).unwrap();
    assert_eq!(
        p.on_frame(&ping, Some(4), 5000),
        consumed(PeerConsumer::EchoAnswered)
    );
    let out = p.poll(5000);
    assert_eq!(out.len(), 1);
    let (_, dst, _, _) = parse_ipv4(&out[0].0);
    assert_eq!(dst, HOST_MAC);
    let s = p.stats();
    assert_eq!(
        (
            s.arp.requests_received,
            s.arp.replies_sent,
            s.arp.requests_sent
        ),
        (1, 1, 0)
    );
    assert_eq!(
        p.verdicts().get(&3).copied(),
        Some((consumed(PeerConsumer::ArpAnswered), 1000))
    );
}

#[test]
fn arp_not_for_the_peer_or_when_disabled_is_dropped_silently() {
    let mut p = peer("{}");
    let other = arp_request(HOST_MAC, HOST_IP, Ipv4Addr::new(10, 0, 0, 9));
    assert_eq!(p.on_frame(&other, None, 10), dropped(PeerDrop::ArpNotForUs));
    let unsolicited = arp_reply(HOST_MAC, HOST_IP, PEER_MAC, PEER_IP);
    assert_eq!(
        p.on_frame(&unsolicited, None, 20),
        dropped(PeerDrop::ArpUnsolicited)
    );
    assert!(p.poll(20).is_empty());

    let mut silent = peer("answer_arp: false\n");
    let req = arp_request(HOST_MAC, HOST_IP, PEER_IP);
    assert_eq!(
        silent.on_frame(&req, None, 10),
        dropped(PeerDrop::ArpDisabled)
    );
    assert!(silent.poll(10).is_empty());
}

#[test]
fn the_peer_resolves_the_host_with_arp_before_its_first_ping() {
    let mut p = peer("ping: {count: 1, start_ns: 64}\n");
    let start = 10; // 64 ns
    assert_eq!(p.next_wake(), Some(start));
    assert!(!p.idle());
    let out = p.poll(start);
    assert_eq!(
        out.len(),
        1,
        "only the ARP request: the ping waits for the host's MAC"
    );
    let (req, nb) = &out[0];
    assert_eq!(*nb, start);
    assert_eq!(
        req,
        &arp_request(PEER_MAC, PEER_IP, HOST_IP),
        "a broadcast who-has for the host"
    );

    let reply = arp_reply(HOST_MAC, HOST_IP, PEER_MAC, PEER_IP);
    assert_eq!(
        p.on_frame(&reply, Some(7), 900),
        consumed(PeerConsumer::ArpLearned)
    );
    let out = p.poll(900);
    assert_eq!(out.len(), 1);
    let (ping, nb) = &out[0];
    assert_eq!(*nb, 900 + TURNAROUND);
    let (src, dst, ip, parsed) = parse_ipv4(ping);
    assert_eq!((src, dst), (PEER_MAC, HOST_MAC));
    assert_eq!(
        (ip.source, ip.destination),
        (PEER_IP.octets(), HOST_IP.octets())
    );
    let Some(TransportSlice::Icmpv4(icmp)) = parsed.transport else {
        panic!("not ICMP")
    };
    assert_eq!(
        icmp.icmp_type(),
        Icmpv4Type::EchoRequest(IcmpEchoHeader { id: 1, seq: 1 })
    );
    assert_eq!(
        icmp.checksum(),
        icmp.header().icmp_type.calc_checksum(icmp.payload())
    );
    assert_eq!(icmp.payload().len(), 56);
    assert!(p.idle());

    assert_eq!(
        p.on_frame(&host_reply(1), Some(8), 2000),
        consumed(PeerConsumer::PingReply)
    );
    let ping = p.stats().ping;
    assert_eq!((ping.transmitted, ping.received, ping.lost), (1, 1, 0));
    // RTT counts from the ping's scheduled send, ARP resolution included.
    assert_eq!(ping.samples[0].rtt_cycles, 2000 - start);
    assert_eq!(ping.samples[0].reply_frame, Some(8));
}

#[test]
fn unanswered_arp_is_retransmitted_then_the_held_ping_is_dropped() {
    let mut p = peer("ping: {count: 1}\nneigh: {retrans_time_ms: 1, mcast_solicit: 3}\n");
    let retrans: Cycle = 156_250; // 1 ms
    let mut requests = Vec::new();
    while let Some(t) = p.next_wake() {
        for (f, nb) in p.poll(t) {
            assert_eq!(f, arp_request(PEER_MAC, PEER_IP, HOST_IP));
            requests.push(nb);
        }
    }
    assert_eq!(requests, vec![0, retrans, 2 * retrans]);
    assert!(p.idle());
    let s = p.stats();
    assert_eq!(
        (s.arp.requests_sent, s.arp.res_failed, s.arp.unres_discards),
        (3, 1, 1)
    );
    assert_eq!(
        (s.ping.transmitted, s.ping.received, s.ping.lost),
        (1, 0, 1)
    );
    assert_eq!(s.ping.rtt, None);
}

#[test]
fn echo_reply_has_valid_checksums_and_mirrors_the_request() {
    let mut p = peer(CACHED);
    let mut spec = echo_spec(7, false, true);
    spec.ident = 0xbeef;
    spec.payload = Payload::Len(100);
    let req = icmp_echo(&spec).unwrap();
    assert_eq!(
        p.on_frame(&req, None, 300),
        consumed(PeerConsumer::EchoAnswered)
    );
    let out = p.poll(300);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1, 300 + TURNAROUND);
    let (src, dst, ip, parsed) = parse_ipv4(&out[0].0);
    assert_eq!((src, dst), (PEER_MAC, HOST_MAC));
    assert_eq!(
        (ip.source, ip.destination, ip.time_to_live),
        (PEER_IP.octets(), HOST_IP.octets(), 64)
    );
    assert_eq!(ip.protocol, etherparse::IpNumber::ICMP);
    let Some(TransportSlice::Icmpv4(icmp)) = parsed.transport else {
        panic!("not ICMP")
    };
    assert_eq!(
        icmp.icmp_type(),
        Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0xbeef, seq: 7 })
    );
    assert_eq!(
        icmp.checksum(),
        icmp.header().icmp_type.calc_checksum(icmp.payload())
    );
    assert_eq!(icmp.payload(), &Payload::Len(100).bytes()[..]);
}

#[test]
fn frames_the_peer_cannot_take_are_dropped_with_a_reason() {
    let mut p = peer(&format!("answer_ping: false\n{CACHED}"));
    let req = icmp_echo(&echo_spec(1, false, true)).unwrap();
    assert_eq!(p.on_frame(&req, None, 1), dropped(PeerDrop::PingDisabled));

    let mut bad_icmp = req.clone();
    bad_icmp[14 + 20 + 8] ^= 0xff; // first data byte, checksum left alone
    let mut bad_ip = req.clone();
    bad_ip[14 + 8] = 1; // TTL changed, checksum left alone
    let mut other_mac = req.clone();
    other_mac[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x33]);
    let mut multicast = req.clone();
    multicast[..6].copy_from_slice(&[1, 0, 0x5e, 0, 0, 1]);
    let mut ipv6 = req.clone();
    ipv6[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    let mut other_ip = echo_spec(1, false, true);
    other_ip.dst_ip = Ipv4Addr::new(10, 0, 0, 77);
    let mut ping_on = peer(CACHED);
    for (frame, why) in [
        (bad_icmp, PeerDrop::IcmpCsum),
        (bad_ip, PeerDrop::IpCsum),
        (other_mac, PeerDrop::NotOurMac),
        (multicast, PeerDrop::NotOurMac),
        (ipv6, PeerDrop::UnknownEtherType),
        (icmp_echo(&other_ip).unwrap(), PeerDrop::NotOurIp),
        (req[..20].to_vec(), PeerDrop::Malformed),
        (req[..13].to_vec(), PeerDrop::Malformed),
        (
            icmp_echo(&echo_spec(5, true, true)).unwrap(),
            PeerDrop::UnexpectedEchoReply,
        ),
    ] {
        assert_eq!(
            ping_on.on_frame(&frame, None, 1),
            dropped(why),
            "{}",
            why.name()
        );
    }
    assert!(ping_on.poll(1).is_empty());
    let s = ping_on.stats();
    assert_eq!(s.received, 9);
    assert_eq!(s.verdicts.values().sum::<u64>(), 9);
    assert_eq!(s.verdicts.get("peer_not_our_mac"), Some(&2));
}

#[test]
fn the_mac_drops_frames_with_a_bad_fcs_or_a_tx_error() {
    let mut p = peer(CACHED);
    let bytes = icmp_echo(&echo_spec(1, false, true)).unwrap();
    let tx = |fcs_ok, error| TxFrame {
        id: Some(11),
        start: 50,
        end: 60,
        bytes: bytes.clone(),
        fcs_ok,
        error,
    };
    assert_eq!(p.on_wire(&tx(false, false)), dropped(PeerDrop::BadFcs));
    assert_eq!(p.on_wire(&tx(true, true)), dropped(PeerDrop::TxError));
    assert!(p.poll(60).is_empty());
    assert_eq!(
        p.on_wire(&tx(true, false)),
        consumed(PeerConsumer::EchoAnswered)
    );
    assert_eq!(
        p.poll(60)[0].1,
        60 + TURNAROUND,
        "the turnaround counts from the last beat"
    );
    assert_eq!(
        p.verdicts().get(&11),
        Some(&(consumed(PeerConsumer::EchoAnswered), 60))
    );
}

#[test]
fn ping_reports_min_avg_max_rtt_duplicates_and_losses() {
    let mut p = peer(&format!("ping: {{count: 4, interval_ns: 10000}}\n{CACHED}"));
    let interval: Cycle = 1563; // 10 µs
    let mut sent = Vec::new();
    while let Some(t) = p.next_wake() {
        sent.extend(p.poll(t).into_iter().map(|(_, nb)| nb));
    }
    assert_eq!(sent, vec![0, interval, 2 * interval, 3 * interval]);
    for (seq, rtt) in [(1u16, 100), (2, 200), (3, 300)] {
        let at = sent[usize::from(seq) - 1] + rtt;
        assert_eq!(
            p.on_frame(&host_reply(seq), None, at),
            consumed(PeerConsumer::PingReply)
        );
    }
    assert_eq!(
        p.on_frame(&host_reply(1), None, 9000),
        consumed(PeerConsumer::PingReply),
        "DUP!"
    );
    let mut corrupt = echo_spec(4, true, true);
    corrupt.payload = Payload::Bytes(vec![0xaa; 56]);
    assert_eq!(
        p.on_frame(&icmp_echo(&corrupt).unwrap(), None, 3 * interval + 50),
        consumed(PeerConsumer::PingReply)
    );
    let s = p.stats().ping;
    assert_eq!(
        (s.transmitted, s.received, s.duplicates, s.bad_data, s.lost),
        (4, 4, 1, 1, 0)
    );
    let rtt = s.rtt.unwrap();
    assert_eq!((rtt.min_cycles, rtt.max_cycles), (50, 300));
    assert!((rtt.avg_cycles - 162.5).abs() < 1e-9);
    assert!((rtt.min_ns - 320.0).abs() < 1e-9 && (rtt.max_ns - 1920.0).abs() < 1e-9);
    assert!((rtt.avg_ns - 1040.0).abs() < 1e-9);
}

#[test]
fn udp_echo_swaps_addresses_and_ports_and_sink_counts() {
    let mut p = peer(&format!(
        "udp: [{{port: 7, mode: echo}}, {{port: 9, mode: sink}}]\n{CACHED}"
    ));
    let frame = udp_frame(&udp_spec(7, Payload::Len(200))).unwrap();
    assert_eq!(
        p.on_frame(&frame, None, 40),
        consumed(PeerConsumer::UdpEchoed)
    );
    let out = p.poll(40);
    assert_eq!(out.len(), 1);
    let (src, dst, ip, parsed) = parse_ipv4(&out[0].0);
    assert_eq!((src, dst), (PEER_MAC, HOST_MAC));
    assert_eq!(
        (ip.source, ip.destination),
        (PEER_IP.octets(), HOST_IP.octets())
    );
    let Some(TransportSlice::Udp(u)) = parsed.transport else {
        panic!("not UDP")
    };
    assert_eq!((u.source_port(), u.destination_port()), (7, 40000));
    assert_eq!(u.payload(), &Payload::Len(200).bytes()[..]);
    assert_eq!(
        u.checksum(),
        u.to_header().calc_checksum_ipv4(&ip, u.payload()).unwrap()
    );

    let sink = udp_frame(&udp_spec(9, Payload::Len(30))).unwrap();
    assert_eq!(p.on_frame(&sink, None, 50), consumed(PeerConsumer::UdpSunk));
    let closed = udp_frame(&udp_spec(10, Payload::Len(30))).unwrap();
    assert_eq!(p.on_frame(&closed, None, 60), dropped(PeerDrop::NoListener));
    let mut bad = udp_frame(&udp_spec(9, Payload::Len(30))).unwrap();
    bad[14 + 20 + 8] ^= 1;
    assert_eq!(p.on_frame(&bad, None, 70), dropped(PeerDrop::UdpCsum));
    assert!(p.poll(70).is_empty());
    let s = p.stats();
    assert_eq!((s.udp[&7].datagrams, s.udp[&7].bytes), (1, 200));
    assert_eq!((s.udp[&9].datagrams, s.udp[&9].bytes), (1, 30));
    assert!(!s.udp.contains_key(&10));
}

/// Reassembles IPv4 fragments (in any order) into the datagram's payload, checking each header.
fn reassemble(frames: &[Vec<u8>]) -> (etherparse::Ipv4Header, Vec<u8>) {
    let mut data = Vec::new();
    let mut first = None;
    for f in frames {
        assert!(
            f.len() <= 1514,
            "fragment of {} bytes exceeds the MTU",
            f.len()
        );
        let (_, _, ip, parsed) = parse_ipv4(f);
        let Some(NetSlice::Ipv4(s)) = &parsed.net else {
            unreachable!()
        };
        let off = usize::from(ip.fragment_offset.value()) * 8;
        let payload = s.payload().payload;
        if data.len() < off + payload.len() {
            data.resize(off + payload.len(), 0);
        }
        data[off..off + payload.len()].copy_from_slice(payload);
        if off == 0 {
            first = Some(ip);
        }
    }
    (first.expect("a first fragment"), data)
}

#[test]
fn fragmented_datagram_is_reassembled_and_its_echo_fragmented_again() {
    let mut p = peer(&format!("udp: [{{port: 7, mode: echo}}]\n{CACHED}"));
    let spec = udp_spec(7, Payload::Len(3000));
    let mut frags = udp_fragments(&spec, 1500).unwrap();
    assert_eq!(frags.len(), 3);
    frags.swap(0, 2); // the last fragment first: order must not matter
    let verdicts: Vec<PeerVerdict> = frags
        .iter()
        .enumerate()
        .map(|(i, f)| p.on_frame(f, None, 100 * i as Cycle))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            consumed(PeerConsumer::Fragment),
            consumed(PeerConsumer::Fragment),
            consumed(PeerConsumer::UdpEchoed)
        ]
    );
    let out = p.poll(200);
    assert_eq!(
        out.len(),
        3,
        "3008 UDP bytes need three 1500-byte fragments"
    );
    assert!(out.iter().all(|(_, nb)| *nb == 200 + TURNAROUND));
    let frames: Vec<Vec<u8>> = out.into_iter().map(|(f, _)| f).collect();
    let (ip, datagram) = reassemble(&frames);
    let udp = etherparse::UdpSlice::from_slice(&datagram).unwrap();
    assert_eq!((udp.source_port(), udp.destination_port()), (7, 40000));
    assert_eq!(udp.payload(), &Payload::Len(3000).bytes()[..]);
    let mut whole = ip.clone();
    whole.set_payload_len(datagram.len()).unwrap();
    assert_eq!(
        udp.checksum(),
        udp.to_header()
            .calc_checksum_ipv4(&whole, udp.payload())
            .unwrap()
    );
    assert_eq!(p.stats().reassembly.datagrams, 1);
}

#[test]
fn duplicate_and_overlapping_fragments() {
    let mut p = peer(&format!("udp: [{{port: 9, mode: sink}}]\n{CACHED}"));
    let frag = |offset: usize, len: usize, more: bool| {
        ipv4_frame(&Ipv4FrameSpec {
            src_mac: HOST_MAC,
            dst_mac: PEER_MAC,
            ip: Ipv4Repr {
                src: HOST_IP,
                dst: PEER_IP,
                protocol: protocol::UDP,
                ttl: 64,
                tos: 0,
                ident: 42,
                dont_frag: false,
                more_frags: more,
                frag_offset: offset,
                payload_len: 0,
            },
            payload: &vec![0u8; len],
        })
        .unwrap()
    };
    assert_eq!(
        p.on_frame(&frag(0, 64, true), None, 1),
        consumed(PeerConsumer::Fragment)
    );
    assert_eq!(
        p.on_frame(&frag(0, 64, true), None, 2),
        dropped(PeerDrop::DuplicateFragment)
    );
    assert_eq!(
        p.on_frame(&frag(32, 64, true), None, 3),
        dropped(PeerDrop::BadFragment)
    );
    // The overlap discarded the queue: a new first fragment starts afresh.
    assert_eq!(
        p.on_frame(&frag(0, 64, true), None, 4),
        consumed(PeerConsumer::Fragment)
    );
    assert_eq!(
        p.on_frame(&frag(64, 12, true), None, 5),
        dropped(PeerDrop::BadFragment),
        "not a multiple of 8"
    );
    let s = p.stats().reassembly;
    assert_eq!((s.datagrams, s.discarded), (0, 2));
}

#[test]
fn incomplete_datagrams_expire_without_keeping_the_peer_busy() {
    let mut p = peer(&format!("ipfrag_time_ms: 1\n{CACHED}"));
    let frags = udp_fragments(&udp_spec(9, Payload::Len(2000)), 1500).unwrap();
    assert_eq!(
        p.on_frame(&frags[0], None, 100),
        consumed(PeerConsumer::Fragment)
    );
    assert!(p.idle());
    assert_eq!(p.next_wake(), Some(100 + 156_250));
    assert!(p.poll(100 + 156_250).is_empty());
    assert_eq!(p.stats().reassembly.timeouts, 1);
    assert_eq!(p.next_wake(), None);
}

#[test]
fn echoing_a_message_built_by_the_host_round_trips_through_icmp_repr() {
    // The reply data is the request data, whatever its length (odd lengths exercise the checksum).
    let mut p = peer(CACHED);
    let mut spec = echo_spec(2, false, true);
    spec.payload = Payload::Bytes(b"odd".to_vec());
    p.on_frame(&icmp_echo(&spec).unwrap(), None, 0);
    let (reply, _) = p.poll(0).remove(0);
    let ip = host_driver::wire::ipv4::Ipv4Packet::new_checked(&reply[14..]).unwrap();
    let icmp = host_driver::wire::icmp::IcmpPacket::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!(
        IcmpRepr::parse(&icmp),
        IcmpRepr::EchoReply {
            ident: 1,
            seq: 2,
            data: b"odd"
        }
    );
}

#[test]
fn configuration_defaults_and_errors() {
    let cfg: PeerConfig = serde_norway::from_str("{}").unwrap();
    assert_eq!(cfg, PeerConfig::default());
    let p = Peer::new(&cfg, CLOCK, HOST_IP, 0).unwrap();
    assert_eq!((p.mac(), p.ip()), (PEER_MAC, PEER_IP));
    assert_eq!(
        Peer::new(&cfg, CLOCK, PEER_IP, 0).unwrap().ip(),
        Ipv4Addr::new(10, 0, 0, 253)
    );

    let e = serde_norway::from_str::<PeerConfig>("anser_arp: true\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `anser_arp`"), "{e}");
    let e = serde_norway::from_str::<PeerConfig>("mac: \"zz\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a MAC address"), "{e}");
    let e = serde_norway::from_str::<PeerConfig>("udp: [{port: 7, mode: reflect}]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant `reflect`"), "{e}");

    for (yaml, field) in [
        ("udp: [{port: 7, mode: echo}, {port: 7, mode: sink}]", "udp[1].port"),
        ("ping: {count: 0}", "ping.count"),
        ("ping: {count: 1, size: 70000}", "ping.size"),
        ("mtu: 40", "mtu"),
        ("ip: 0.0.0.0", "ip"),
        ("mac: \"01:00:5e:00:00:01\"", "mac"),
        ("neigh: {mcast_solicit: 0}", "neigh.mcast_solicit"),
        ("arp_cache: [{ip: 10.0.0.1, mac: \"02:00:00:00:00:01\"}, {ip: 10.0.0.1, mac: \"02:00:00:00:00:02\"}]", "arp_cache[1].ip"),
    ] {
        let cfg: PeerConfig = serde_norway::from_str(yaml).unwrap();
        let e = Peer::new(&cfg, CLOCK, HOST_IP, 0).unwrap_err();
        assert_eq!(e.field, field, "{yaml}: {e}");
        assert!(e.to_string().starts_with(&format!("peer.{field}: ")), "{e}");
    }
}
