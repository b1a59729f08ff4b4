//! Damage on the cable (`faults:`), run end to end: each action's effect on what the host and the
//! link partner got, read from the report and from wire.pcap (the tap at the NIC's port), with
//! conservation checked by the runner on every run.

use std::path::{Path, PathBuf};

use nicsim_scenario::report::Report;
use nicsim_scenario::scenario::Scenario;
use pcap_file::pcap::PcapReader;
use sim::runner::{self, RunOptions, WIRE_PCAP};

const HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// A scenario: `count` datagrams to the host's sink on port 5001 at 1 Mpps, the given seed and
/// `faults:` entries.
fn sink(count: u64, seed: u64, faults: &str) -> String {
    format!(
        "name: faults\nseed: {seed}\nhost:\n  mac: \"02:00:00:00:00:01\"\n  stack: {{address: 10.0.0.1/24}}\n  apps: [{{kind: udp_sink, port: 5001}}]\ntraffic:\n  - udp: {{count: {count}, payload_len: 200, dst_port: 5001, rate: 1Mpps, start_ns: 1000}}\nfaults:\n{faults}"
    )
}

/// `count` datagrams to the host's echo service; the partner sinks the echoes.
fn echo(count: u64, faults: &str) -> String {
    format!(
        "name: faults\nhost:\n  interrupt_throttle_rate: 0\n  rx_abs_int_delay: 0\n  mac: \"02:00:00:00:00:01\"\n  stack: {{address: 10.0.0.1/24}}\n  apps: [{{kind: udp_echo, port: 7}}]\ntraffic:\n  - udp: {{count: {count}, payload_len: 100, dst_port: 7, src_port: 40000, rate: 100Mbps, start_ns: 1000}}\npeer:\n  udp: [{{port: 40000, mode: sink}}]\nfaults:\n{faults}"
    )
}

/// A frame of wire.pcap toward the host: its timestamp (ns) and the traffic plan's sequence number
/// (the IPv4 identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arrival {
    ns: u64,
    seq: u16,
}

/// Runs `yaml` (named `tag` for its output folder): the report and the UDP frames the NIC received
/// from the traffic plan, in wire order.
fn run(tag: &str, yaml: &str) -> (Report, Vec<Arrival>) {
    let path = PathBuf::from(format!("{tag}.yaml"));
    let scenario = Scenario::parse(yaml, &path).unwrap_or_else(|e| panic!("{e}"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wire_faults")
        .join(tag);
    let _ = std::fs::remove_dir_all(&out);
    let outcome = runner::run(
        &scenario,
        &path,
        &RunOptions {
            out_dir: out.clone(),
            wave: false,
            frames: None,
        },
    )
    .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
    assert!(outcome.failures.is_empty(), "{tag}: {:?}", outcome.failures);
    let r = outcome.report;
    for b in [&r.origins.wire, &r.origins.peer, &r.origins.host] {
        assert_eq!(b.delivered + b.consumed + b.dropped, b.injected, "{tag}");
    }
    let file = std::fs::File::open(out.join(WIRE_PCAP)).expect("wire.pcap written");
    let mut reader = PcapReader::new(file).expect("a pcap file");
    let mut arrivals = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.expect("a complete record");
        let d = &p.data;
        // Toward the host, IPv4 UDP: the IP identification is the plan's sequence number.
        if d[0..6] == HOST_MAC && d[12..14] == [8, 0] && d[23] == 17 {
            arrivals.push(Arrival {
                ns: p.timestamp.as_nanos() as u64,
                seq: u16::from_be_bytes([d[18], d[19]]),
            });
        }
    }
    (r, arrivals)
}

fn seqs(a: &[Arrival]) -> Vec<u16> {
    a.iter().map(|a| a.seq).collect()
}

fn hits(r: &Report) -> Vec<u64> {
    r.faults.iter().map(|f| f.hits).collect()
}

#[test]
fn dropping_the_5th_frame_of_a_flow_ends_it_as_wire_drop() {
    let (r, a) = run(
        "drop",
        &sink(
            10,
            1,
            "  - {direction: to_host, match: {protocol: udp, dst_port: 5001}, nth: 5, action: drop}\n",
        ),
    );
    assert_eq!((r.injected, r.delivered, r.dropped), (10, 9, 1));
    assert_eq!(r.drops["wire_drop"], 1);
    assert_eq!(r.drops.len(), 1);
    assert_eq!(hits(&r), [1]);
    assert_eq!(seqs(&a), [0, 1, 2, 3, 5, 6, 7, 8, 9]);
    assert_eq!(r.nic_stats["GPRC"], 9);
}

#[test]
fn a_duplicate_is_one_more_frame_delivered() {
    let (r, a) = run(
        "duplicate",
        &sink(
            6,
            1,
            "  - {direction: to_host, match: {protocol: udp}, nth: 2, action: duplicate}\n",
        ),
    );
    assert_eq!((r.injected, r.delivered, r.dropped), (7, 7, 0));
    assert_eq!(seqs(&a), [0, 1, 1, 2, 3, 4, 5]);
}

#[test]
fn reorder_by_2_sends_the_frame_after_the_next_two() {
    let (r, a) = run(
        "reorder",
        &sink(
            6,
            1,
            "  - {direction: to_host, nth: 3, action: {reorder: 2}}\n",
        ),
    );
    assert_eq!((r.injected, r.delivered), (6, 6));
    assert_eq!(seqs(&a), [0, 1, 3, 4, 2, 5]);
    // Held at the tail, with fewer frames after it than asked: it goes out when the rest settled.
    let (r, a) = run(
        "reorder_tail",
        &sink(
            4,
            1,
            "  - {direction: to_host, nth: 3, action: {reorder: 5}}\n",
        ),
    );
    assert_eq!(r.delivered, 4);
    assert_eq!(seqs(&a), [0, 1, 3, 2]);
}

#[test]
fn delay_shifts_the_frames_arrival_by_the_delay() {
    let (_, clean) = run("delay_none", &sink(6, 1, "  []\n"));
    let (r, late) = run(
        "delay",
        &sink(
            6,
            1,
            "  - {direction: to_host, nth: 3, action: {delay_ns: 2500}}\n",
        ),
    );
    assert_eq!(r.delivered, 6);
    assert_eq!(seqs(&late), [0, 1, 3, 4, 2, 5]);
    let at = |a: &[Arrival], seq| a.iter().find(|a| a.seq == seq).unwrap().ns;
    let shift = at(&late, 2) - at(&clean, 2);
    // 2500 ns is 390.6 cycles of 6.4 ns: rounded to whole cycles.
    assert!(shift.abs_diff(2500) < 7, "shifted by {shift} ns");
    assert_eq!(at(&late, 1), at(&clean, 1));
}

#[test]
fn random_loss_repeats_with_the_seed_and_changes_with_another() {
    let lossy = "  - {direction: to_host, probability: 0.1, action: drop}\n";
    let (r1, a1) = run("loss_seed1_a", &sink(100, 1, lossy));
    let (r2, a2) = run("loss_seed1_b", &sink(100, 1, lossy));
    let (r3, a3) = run("loss_seed2", &sink(100, 2, lossy));
    assert_eq!(seqs(&a1), seqs(&a2));
    assert_eq!(r1.drops, r2.drops);
    let lost = r1.drops["wire_drop"];
    assert!((3..=20).contains(&lost), "{lost} of 100 lost at p = 0.1");
    assert_eq!(r1.delivered + lost, 100);
    assert_ne!(seqs(&a1), seqs(&a3));
    assert_eq!(r3.delivered + r3.drops["wire_drop"], 100);
}

#[test]
fn an_echo_lost_toward_the_peer_ends_on_the_peer_side() {
    let (r, _) = run(
        "to_peer_drop",
        &echo(
            4,
            "  - {direction: to_peer, match: {protocol: udp, payload: true}, nth: 2, action: drop}\n",
        ),
    );
    assert_eq!((r.delivered, r.dropped), (4, 0));
    let host = &r.origins.host;
    assert_eq!(host.drops["peer_wire_drop"], 1);
    assert_eq!(host.consumed_by["udp_sunk"], 3);
    let peer = r.peer.as_ref().expect("a peer");
    // The ARP request and three echoes: the lost echo never reached it.
    assert_eq!(peer.received, 4);
    assert_eq!(peer.verdicts["udp_sunk"], 3);
}

#[test]
fn an_echo_duplicated_toward_the_peer_is_sunk_twice() {
    let (r, _) = run(
        "to_peer_duplicate",
        &echo(
            3,
            "  - {direction: to_peer, match: {protocol: udp}, nth: 1, action: duplicate}\n",
        ),
    );
    let host = &r.origins.host;
    // The ARP request, three echoes and the cable's copy of the first.
    assert_eq!(host.injected, 5);
    assert_eq!(host.consumed_by["udp_sunk"], 4);
    assert_eq!(r.peer.as_ref().expect("a peer").udp[&40000].datagrams, 4);
}

#[test]
fn a_corrupted_datagram_fails_the_receivers_udp_checksum() {
    let (r, a) = run(
        "corrupt",
        &sink(4, 1, "  - {direction: to_host, nth: 2, action: corrupt}\n"),
    );
    assert_eq!((r.delivered, r.dropped), (3, 1));
    assert_eq!(r.drops["udp_csum"], 1);
    // The MAC took it: the FCS was recomputed over the damaged bytes.
    assert_eq!(r.nic_stats["CRCERRS"], 0);
    assert_eq!(seqs(&a), [0, 1, 2, 3]);
    let (r, _) = run(
        "corrupt_to_peer",
        &echo(
            2,
            "  - {direction: to_peer, match: {protocol: udp}, nth: 1, action: corrupt}\n",
        ),
    );
    assert_eq!(r.origins.host.drops["peer_udp_csum"], 1);
}

#[test]
fn a_lost_tcp_data_segment_is_retransmitted_and_a_delayed_syn_ack_still_connects() {
    let yaml = "name: faults\nhost:\n  mac: \"02:00:00:00:00:01\"\n  stack: {address: 10.0.0.1/24}\n  apps: [{kind: tcp_bulk, connect: '10.0.0.254:5001', bytes: 100000}]\npeer:\n  tcp: [{listen: 5001, app: sink}]\nfaults:\n  - {direction: to_peer, match: {protocol: tcp, payload: true}, nth: 5, action: drop}\n  - {direction: to_host, match: {protocol: tcp, flags: [syn, ack]}, nth: 1, action: {delay_ns: 3000}}\n";
    let (r, _) = run("tcp", yaml);
    assert_eq!(hits(&r), [1, 1]);
    let stack = nicsim_scenario::report::to_value(&r.stack);
    assert!(
        stack["tcp"]["RetransSegs"].as_u64().unwrap() >= 1,
        "{}",
        stack["tcp"]
    );
    assert_eq!(stack["tcp"]["CurrEstab"].as_u64(), Some(0));
    let app = &stack["apps"][0]["tcp"];
    assert_eq!(app["bytes_sent"].as_u64(), Some(100_000));
    assert!(app["error"].is_null(), "{app}");
}
