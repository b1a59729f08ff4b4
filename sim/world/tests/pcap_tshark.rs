//! Wireshark as the judge of the bytes: a capture of host-built and peer-built frames (ARP, ICMP
//! echo request and reply, UDP, IPv4 fragments) must dissect without a malformed packet or a bad
//! checksum, and the check must catch damaged frames.

#[path = "../../tests/support/tshark.rs"]
mod tshark;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{
    arp_reply, arp_request, icmp_echo, udp_fragments, udp_frame, IcmpEchoSpec, Payload,
    UdpFrameSpec,
};
use host_driver::wire::ethernet::MacAddr;
use nicsim_world::capture::PcapWriter;
use nicsim_world::peer::{Peer, PeerConfig};

use tshark::tshark_check;

const CLOCK: Clock = Clock { ps_per_cycle: 6400 };
const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("pcap_tshark")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A conversation between host-built frames and the peer's answers, in wire order with cycles.
fn conversation() -> Vec<(Cycle, Vec<u8>)> {
    let cfg: PeerConfig = serde_norway::from_str(
        "udp: [{port: 7, mode: echo}]\nping: {count: 1, start_ns: 200000}\n",
    )
    .unwrap();
    let mut peer = Peer::new(&cfg, CLOCK, HOST_IP, 0).unwrap();
    let (peer_mac, peer_ip) = (peer.mac(), peer.ip());
    let udp = |payload| UdpFrameSpec {
        src_mac: HOST_MAC,
        dst_mac: peer_mac,
        src_ip: HOST_IP,
        dst_ip: peer_ip,
        src_port: 40000,
        dst_port: 7,
        payload,
        ttl: 64,
        ip_id: 9,
    };
    let echo = |seq, reply, from_host: bool| {
        let (src_mac, dst_mac, src_ip, dst_ip) = if from_host {
            (HOST_MAC, peer_mac, HOST_IP, peer_ip)
        } else {
            (peer_mac, HOST_MAC, peer_ip, HOST_IP)
        };
        icmp_echo(&IcmpEchoSpec {
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
        })
        .unwrap()
    };
    let mut host_frames = vec![
        arp_request(HOST_MAC, HOST_IP, peer_ip),
        echo(1, false, true),
        udp_frame(&udp(Payload::Len(33))).unwrap(),
    ];
    host_frames.extend(udp_fragments(&udp(Payload::Len(4000)), 1500).unwrap());

    let mut wire = Vec::new();
    let mut at: Cycle = 100;
    for f in host_frames {
        peer.on_frame(&f, None, at);
        wire.push((at, f));
        wire.extend(peer.poll(at).into_iter().map(|(f, nb)| (nb, f)));
        at += 1000;
    }
    // The peer's ping, and the host's reply to it.
    let due = peer.next_wake().expect("the ping is scheduled");
    let ping: Vec<(Cycle, Vec<u8>)> = peer.poll(due).into_iter().map(|(f, nb)| (nb, f)).collect();
    assert_eq!(
        ping.len(),
        1,
        "the host's MAC is known from its ARP request"
    );
    wire.extend(ping);
    wire.push((due + 2000, echo(1, true, true)));
    // And a gratuitous exchange the other way round.
    wire.push((due + 3000, arp_request(peer_mac, peer_ip, HOST_IP)));
    wire.push((due + 3100, arp_reply(HOST_MAC, HOST_IP, peer_mac, peer_ip)));
    wire
}

fn write(path: &Path, frames: &[(Cycle, Vec<u8>)]) {
    let mut w = PcapWriter::create(path, CLOCK).unwrap();
    for (at, f) in frames {
        w.write(*at, f);
    }
    w.finish().unwrap();
}

#[test]
fn host_and_peer_frames_dissect_cleanly() {
    let frames = conversation();
    assert!(
        frames.len() >= 16,
        "ARP, ICMP, UDP and fragments in both directions: {}",
        frames.len()
    );
    let path = scratch("clean").join("wire.pcap");
    write(&path, &frames);
    tshark_check(&path).unwrap();
}

#[test]
fn the_check_reports_bad_checksums_and_malformed_frames() {
    let mut frames = conversation();
    // In time order, index 2 (tshark's frame 3) is the host's echo request and index 4 (frame 5)
    // its UDP datagram; the last frame is an ARP reply.
    let n = frames.len();
    frames.sort_by_key(|f| f.0);
    frames[2].1[14 + 10] ^= 0x01; // IPv4 header checksum
    frames[4].1[14 + 20 + 6] ^= 0x01; // UDP checksum
    frames[n - 1].1.truncate(30); // an ARP packet cut short
    let path = scratch("damaged").join("wire.pcap");
    write(&path, &frames);
    let e = tshark_check(&path).unwrap_err();
    let lines: Vec<&str> = e.lines().skip(1).collect();
    let numbers: Vec<String> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        numbers,
        vec!["3".to_owned(), "5".to_owned(), n.to_string()],
        "{e}"
    );
    assert!(lines[0].contains("Bad checksum"), "{e}");
}
