//! Every run writes `wire.pcap`: for the scenarios where the host and the link partner talk (ping both
//! ways, UDP echo, fragmented datagrams) the capture holds every frame of both directions, and
//! Wireshark dissects it without a malformed packet or a bad checksum.

#[path = "support/tshark.rs"]
mod tshark;

use std::path::{Path, PathBuf};

use nicsim_scenario::scenario::Scenario;
use pcap_file::pcap::PcapReader;
use rstest::rstest;
use sim::runner::{self, RunOptions, WIRE_PCAP};

use tshark::tshark_check;

#[rstest]
#[case("ping_host_to_peer")]
#[case("ping_peer_to_host")]
#[case("udp_echo")]
#[case("udp_fragmented_4000")]
fn wire_capture_is_complete_and_dissects_cleanly(#[case] name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.yaml"));
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("wire_pcap")
        .join(name);
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
    .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert!(
        outcome.failures.is_empty(),
        "{name}: {:?}",
        outcome.failures
    );

    let pcap = out.join(WIRE_PCAP);
    let file = std::fs::File::open(&pcap).expect("wire.pcap written");
    let mut reader = PcapReader::new(file).expect("a pcap file");
    let mut frames = 0u64;
    while let Some(p) = reader.next_packet() {
        p.expect("a complete record");
        frames += 1;
    }
    // Both directions: what the NIC received (GPRC) and what it sent (GPTC).
    let r = &outcome.report;
    assert_eq!(frames, r.nic_stats["GPRC"] + r.nic_stats["GPTC"], "{name}");
    tshark_check(&pcap).unwrap_or_else(|e| panic!("{name}: {e}"));
}
