//! The peer on the real wire: attached to the world, it talks to the Verilated NIC and the host's
//! stack. The host pings the peer and sends it a fragmented datagram, the peer pings the
//! host; every frame the peer sent must end on the host, and the capture of the run must dissect
//! cleanly in Wireshark.

#[path = "../../tests/support/tshark.rs"]
mod tshark;

use std::path::PathBuf;

use host_driver::accounting::{Consumer, Outcome, Stage};
use host_driver::config::HostConfig;
use host_driver::host::Host;
use nicsim_world::capture::capture_wire;
use nicsim_world::peer::{Peer, PeerConfig};
use nicsim_world::world::{World, WorldConfig};
use pcap_file::pcap::PcapReader;

use tshark::tshark_check;

// Interrupts as they come (no moderation), so the exchange finishes within its window.
const HOST_YAML: &str = "
interrupt_throttle_rate: 0
rx_abs_int_delay: 0
apps:
  - {kind: ping, dst: 10.0.0.254, count: 2, interval_ns: 20000, start_ns: 2000}
  - {kind: udp_send, dst: 10.0.0.254, port: 9, size: 3000, count: 1, start_ns: 10000}
";

const PEER_YAML: &str = "
udp: [{port: 9, mode: sink}]
ping: {count: 2, interval_ns: 20000, start_ns: 30000}
";

#[test]
fn host_and_peer_ping_each_other_and_the_capture_is_clean() {
    let mut host_cfg: HostConfig = serde_norway::from_str(HOST_YAML).unwrap();
    let mut world = World::with_partner(WorldConfig {
        pcie_one_way_ns: host_cfg.costs.pcie_one_way_ns,
        ..WorldConfig::default()
    })
    .unwrap();
    let clock = world.clock();
    host_cfg.clock = clock;
    let host_ip = host_cfg.stack.address.addr;
    let mut host = Host::new(host_cfg).unwrap();
    host.probe(&mut world).unwrap();
    let link_up = world.cycle();
    let peer_cfg: PeerConfig = serde_norway::from_str(PEER_YAML).unwrap();
    world.attach_partner(Peer::new(&peer_cfg, clock, host_ip, link_up).unwrap());

    world.run_host(&mut host, link_up + clock.ns_to_cycles(150_000));
    let peer = world.partner().unwrap();
    assert!(
        peer.idle() && world.quiescent(),
        "everything finished within 150 µs"
    );
    assert!(world.faults().is_empty(), "{:?}", world.faults());

    let s = peer.stats();
    let verdicts: Vec<(&str, u64)> = s.verdicts.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(
        verdicts,
        vec![("arp_answered", 1), ("echo_answered", 2), ("fragment", 2), ("ping_reply", 2), ("udp_sunk", 1)],
        "the host ARPs for the peer, pings it, sends 3000 bytes in three fragments and answers its pings"
    );
    assert_eq!((s.udp[&9].datagrams, s.udp[&9].bytes), (1, 3000));
    assert_eq!(s.sent_late, 0, "every response left on its cycle");
    assert_eq!(
        s.arp.requests_sent, 0,
        "the host's own ARP request taught the peer its MAC"
    );
    assert_eq!(
        (s.ping.transmitted, s.ping.received, s.ping.lost),
        (2, 2, 0)
    );
    let rtt = s.ping.rtt.expect("two samples");
    // Two minimum frames on the wire each way alone take 2 × 84 bytes at 10 Gb/s (134.4 ns); the
    // host adds its interrupt, softirq and send path on top.
    assert!(rtt.min_ns > 134.4, "{rtt:?}");
    assert!(rtt.max_ns < 50_000.0, "{rtt:?}");

    // The peer is served every cycle: its answer to the host's ARP request (the NIC's first frame)
    // starts exactly one turnaround (1 µs = 157 cycles) after the request's last beat, and its first
    // ping exactly at its start time.
    let wire_start = |id| world.nic_records()[&id].stamp_of(Stage::WireStart).unwrap();
    let arp_request = &world.tx_frames()[0];
    assert_eq!(arp_request.bytes[12..14], [0x08, 0x06]);
    assert_eq!(wire_start(peer.injected()[0].0), arp_request.end + 157);
    let is_echo_request = |f: &[u8]| f[12..14] == [8, 0] && f[14 + 9] == 1 && f[14 + 20] == 8;
    let first_ping = peer
        .injected()
        .iter()
        .find(|(_, f)| is_echo_request(f))
        .unwrap()
        .0;
    assert_eq!(wire_start(first_ping), link_up + clock.ns_to_cycles(30_000));

    // Conservation for the peer's frames: every one entered the NIC and ended on the host.
    let trace = host.trace();
    let mut ends = std::collections::BTreeMap::new();
    for (id, _) in peer.injected() {
        let outcome = trace
            .outcome_of(*id)
            .unwrap_or_else(|| panic!("frame {id} never ended"));
        *ends.entry(format!("{outcome:?}")).or_insert(0) += 1;
    }
    let consumed = |c| format!("{:?}", Outcome::Consumed(c));
    assert_eq!(
        ends,
        [
            (consumed(Consumer::Arp), 1),
            (consumed(Consumer::IcmpEcho), 2),
            (consumed(Consumer::Ping), 2)
        ]
        .into(),
        "ARP reply, the peer's two echo requests and its two echo replies"
    );

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("peer_world");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wire.pcap");
    let rx = peer.injected().iter().map(|(id, f)| (*id, f.as_slice()));
    let written = capture_wire(
        &path,
        world.clock(),
        world.nic_records(),
        rx,
        world.tx_frames(),
        None,
    )
    .unwrap()
    .written;
    assert_eq!(written, peer.injected().len() + world.tx_frames().len());
    tshark_check(&path).unwrap();

    // The capture's timestamps are the wire cycles: every RX frame at its first beat into the NIC.
    let mut reader = PcapReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut stamps = Vec::new();
    while let Some(p) = reader.next_packet() {
        stamps.push(p.unwrap().timestamp.as_nanos() as u64);
    }
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "time order");
    for (id, _) in peer.injected() {
        let start = wire_start(*id);
        assert!(
            stamps.contains(&clock.cycles_to_ns_floor(start)),
            "frame {id} at cycle {start}"
        );
    }
}
