//! GRO through the real driver and NAPI (net/core/gro.c, net/ipv4/tcp_offload.c): TCP segments from
//! the wire merge into one skb, every merged frame still ends exactly once with the skb's outcome, and
//! `features: {generic-receive-offload: false}` turns merging off.

mod support;

use host_driver::accounting::{DropReason, FrameId, Outcome, Stage};
use host_driver::config::HostConfig;
use host_driver::driver::DriverStats;
use host_driver::wire::tcp::flags;
use support::{assert_conserved, tcp_to_host, udp_to_host, with_sink, Sim, SINK_PORT};

const MSS: usize = 1448;

/// `n` full segments of one flow from port `sport`, all on the wire by cycle `at`.
fn segments(sim: &mut Sim, at: u64, sport: u16, n: u32) -> Vec<FrameId> {
    let mac = sim.host.config().mac;
    (0..n)
        .map(|i| sim.arrive(at, tcp_to_host(mac, sport, i * MSS as u32, MSS, 0)))
        .collect()
}

fn driver(sim: &Sim) -> DriverStats {
    sim.host.adapter().expect("probed").ethtool_stats()
}

fn no_socket() -> Option<Outcome> {
    Some(Outcome::Dropped(DropReason::NoSocket))
}

/// No socket listens, so `tcp_v4_rcv` drops the one super-packet as no_socket (answering with one
/// RST), and with it every frame merged into it, at the same cycle; each is stamped at gro_receive
/// and at every stage the super-packet passed.
#[test]
fn a_burst_of_one_flow_goes_up_as_one_skb_and_every_frame_ends_with_it() {
    let mut sim = Sim::new(HostConfig::default());
    let ids = segments(&mut sim, 1000, 40_000, 8);
    sim.run_until(10_000_000);
    assert_conserved(&sim, &ids);
    let trace = sim.host.trace();
    let ends: Vec<_> = ids
        .iter()
        .map(|&id| trace.frame(id).and_then(|r| r.outcome))
        .collect();
    assert!(
        ends.iter().all(|e| e.map(|(o, _)| o) == no_socket()),
        "{ends:?}"
    );
    assert!(ends
        .windows(2)
        .all(|w| w[0].map(|e| e.1) == w[1].map(|e| e.1)));
    for stage in [
        Stage::GroReceive,
        Stage::NetifReceive,
        Stage::IpRcv,
        Stage::IpLocalDeliver,
        Stage::TcpV4Rcv,
    ] {
        assert!(
            ids.iter().all(|&id| trace.stamp_of(id, stage).is_some()),
            "{stage}"
        );
    }
    let first_ip_rcv = trace.stamp_of(ids[0], Stage::IpRcv);
    assert!(ids
        .iter()
        .all(|&id| trace.stamp_of(id, Stage::IpRcv) == first_ip_rcv));
    assert_eq!(sim.host.stack_counters().tcp.in_segs, 1);
    let d = driver(&sim);
    assert_eq!((d.gro_merged, d.gro_flushes), (7, 1));
    assert_eq!(d.gro_segs_per_skb[8], 1);
}

/// `generic-receive-offload: false` (`netif_elide_gro`): every segment goes up alone.
#[test]
fn with_gro_off_nothing_merges() {
    let cfg: HostConfig =
        serde_norway::from_str("features: {generic-receive-offload: false}\n").expect("config");
    let mut sim = Sim::new(cfg);
    let ids = segments(&mut sim, 1000, 40_000, 8);
    sim.run_until(10_000_000);
    assert_conserved(&sim, &ids);
    assert!(ids
        .iter()
        .all(|&id| sim.host.trace().outcome_of(id) == no_socket()));
    assert_eq!(sim.host.stack_counters().tcp.in_segs, 8);
    let d = driver(&sim);
    assert_eq!((d.gro_merged, d.gro_flushes), (0, 0));
}

#[test]
fn features_default_to_gro_on_and_reject_unknown_flags() {
    let cfg: HostConfig = serde_norway::from_str("features: {}\n").expect("config");
    assert!(cfg.features.generic_receive_offload);
    assert!(HostConfig::default().features.generic_receive_offload);
    let e = serde_norway::from_str::<HostConfig>("features: {gro: true}\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `gro`"), "{e}");
}

/// UDP passes GRO untouched between the merges of two interleaved TCP flows; PSH, a short segment and
/// an out-of-order one each end a merge; nothing is lost or ended twice.
#[test]
fn mixed_traffic_is_conserved() {
    let mut sim = Sim::new(with_sink(HostConfig::default()));
    let mac = sim.host.config().mac;
    let mut tcp = Vec::new();
    for i in 0..6u32 {
        for sport in [40_000, 40_001] {
            let seq = i * MSS as u32;
            let (len, fl) = match (sport, i) {
                (40_000, 2) => (MSS, flags::PSH),
                (40_001, 3) => (100, 0),
                _ => (MSS, 0),
            };
            tcp.push(sim.arrive(1000, tcp_to_host(mac, sport, seq, len, fl)));
        }
    }
    // Port 40_000's seventh segment skips one.
    tcp.push(sim.arrive(1000, tcp_to_host(mac, 40_000, 7 * MSS as u32, MSS, 0)));
    let udp: Vec<FrameId> = (0..3)
        .map(|i| sim.arrive(1000, udp_to_host(mac, 10_000 + i, SINK_PORT, 64)))
        .collect();
    sim.run_until(10_000_000);
    assert_conserved(&sim, &tcp);
    assert_conserved(&sim, &udp);
    let trace = sim.host.trace();
    assert!(tcp.iter().all(|&id| trace.outcome_of(id) == no_socket()));
    assert!(udp
        .iter()
        .all(|&id| trace.outcome_of(id) == Some(Outcome::Delivered { port: SINK_PORT })));
    // 40_000: [0,1,2 PSH] [3,4,5] [7]; 40_001: [0..3 short] [4,5].
    let d = driver(&sim);
    assert_eq!(d.gro_flushes, 5);
    assert_eq!(d.gro_merged, 13 - 5);
    assert_eq!(sim.host.stack_counters().tcp.in_segs, 5);
}

/// With a `gro_flush_timeout`, `napi_complete_done` keeps this jiffy's flows held and arms
/// `napi_watchdog`; its poll finds no work and flushes them.
#[test]
fn gro_flush_timeout_holds_flows_until_the_watchdog_polls() {
    let cfg: HostConfig = serde_norway::from_str("gro_flush_timeout_ns: 20000\n").expect("config");
    let mut sim = Sim::new(cfg);
    let ids = segments(&mut sim, 1000, 40_000, 4);
    sim.run_until(10_000_000);
    assert_conserved(&sim, &ids);
    let d = driver(&sim);
    assert_eq!((d.gro_merged, d.gro_flushes), (3, 1));
    let timeout = sim.host.config().clock.ns_to_cycles(20_000);
    let trace = sim.host.trace();
    let (_, ended) = trace.frame(ids[3]).and_then(|r| r.outcome).expect("ended");
    let held = trace.stamp_of(ids[3], Stage::GroReceive).expect("stamped");
    assert!(ended - held >= timeout, "held {held}, ended {ended}");
}
