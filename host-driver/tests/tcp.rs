//! The host's TCP against itself: two stacks joined by a wire with a fixed delay, driven on one
//! simulated clock. Handshake, transfer in both directions with the stream checksum, loss and
//! its recovery, the RST of a closed port, close and TIME_WAIT, and conservation of every frame.

mod stack_bench;
mod support;

use host_driver::accounting::{Consumer, DropReason, FrameId, Outcome, Stage};
use host_driver::stack::tcp_app::TcpAppCounters;
use host_driver::time::Cycle;
use stack_bench::*;

/// Peer side's stack: 10.0.0.2 with the host's MAC pinned.
const PEER_STACK: &str =
    "address: 10.0.0.2/24\nneighbours: [{ip: 10.0.0.1, mac: '02:00:00:00:00:01'}]\n";

/// Two stacks and the frames in flight between them.
struct Pair {
    a: Bench,
    b: Bench,
    /// (arrival cycle, to b?, frame)
    wire: Vec<(Cycle, bool, Vec<u8>)>,
    latency: Cycle,
    /// Frames sent a→b, counted, and those the test drops.
    sent_ab: usize,
    drop_ab: Vec<usize>,
}

impl Pair {
    fn new(apps_a: &str, stack_b: &str, apps_b: &str) -> Pair {
        let a = Bench::new(STATIC_PEER, apps_a);
        let b = Bench::with_mac(stack_b, apps_b, PEER_MAC);
        let latency = a.clock.ns_to_cycles(20_000);
        Pair {
            a,
            b,
            wire: Vec::new(),
            latency,
            sent_ab: 0,
            drop_ab: Vec::new(),
        }
    }

    fn pump(&mut self) {
        for (id, f) in self.a.tx() {
            let _ = id;
            self.sent_ab += 1;
            if self.drop_ab.contains(&self.sent_ab) {
                continue;
            }
            self.wire.push((self.a.now + self.latency, true, f));
        }
        for (_, f) in self.b.tx() {
            self.wire.push((self.b.now + self.latency, false, f));
        }
    }

    /// Runs both stacks until `ns` of simulated time pass.
    fn run_for(&mut self, ns: u64) {
        let end = self.a.now.max(self.b.now) + self.a.clock.ns_to_cycles(ns);
        for _ in 0..10_000_000 {
            let wa = self.a.run_apps();
            let wb = self.b.run_apps();
            self.pump();
            let next_frame = self.wire.iter().map(|w| w.0).min();
            let now = self.a.now.max(self.b.now);
            let next = [wa, wb, next_frame]
                .into_iter()
                .flatten()
                .filter(|&t| t <= end)
                .min();
            let Some(t) = next else {
                self.a.now = end;
                self.b.now = end;
                return;
            };
            let t = t.max(now.min(t));
            self.a.now = self.a.now.max(t);
            self.b.now = self.b.now.max(t);
            let due: Vec<_> = {
                let (d, rest): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|w| w.0 <= t);
                self.wire = rest;
                d
            };
            for (_, to_b, f) in due {
                if to_b {
                    self.b.rx(f);
                } else {
                    self.a.rx(f);
                }
            }
            self.pump();
        }
        panic!("did not settle");
    }

    fn app(b: &Bench, i: usize) -> TcpAppCounters {
        b.counters().apps[i].tcp.clone().expect("a tcp app")
    }
}

fn conserved(b: &Bench) {
    b.assert_conserved();
}

#[test]
fn bulk_transfer_both_directions_with_equal_checksums() {
    // a sends 1 MB to b; b sends 300 kB back on a second connection.
    let mut p = Pair::new(
        "- {kind: tcp_bulk, connect: '10.0.0.2:5001', bytes: 1000000}\n- {kind: tcp_sink, listen: 5002}\n",
        PEER_STACK,
        "- {kind: tcp_sink, listen: 5001}\n- {kind: tcp_bulk, connect: '10.0.0.1:5002', bytes: 300000, start_ns: 1000}\n",
    );
    p.run_for(2_000_000_000);
    let (tx, rx) = (Pair::app(&p.a, 0), Pair::app(&p.b, 0));
    assert_eq!(tx.error, None);
    assert_eq!((tx.bytes_sent, rx.bytes_received), (1_000_000, 1_000_000));
    assert_eq!(tx.sent_crc32, rx.received_crc32);
    let (tx2, rx2) = (Pair::app(&p.b, 1), Pair::app(&p.a, 1));
    assert_eq!((tx2.bytes_sent, rx2.bytes_received), (300_000, 300_000));
    assert_eq!(tx2.sent_crc32, rx2.received_crc32);
    let c = p.a.counters();
    assert_eq!((c.tcp.active_opens, c.tcp.passive_opens), (1, 1));
    assert_eq!(c.tcp.retrans_segs, 0);
    conserved(&p.a);
    conserved(&p.b);
}

#[test]
fn one_lost_segment_is_fast_retransmitted() {
    let mut p = Pair::new(
        "- {kind: tcp_bulk, connect: '10.0.0.2:5001', bytes: 200000}\n",
        PEER_STACK,
        "- {kind: tcp_sink, listen: 5001}\n",
    );
    p.drop_ab = vec![10];
    p.run_for(2_000_000_000);
    let rx = Pair::app(&p.b, 0);
    assert_eq!(rx.bytes_received, 200_000);
    assert_eq!(rx.received_crc32, Pair::app(&p.a, 0).sent_crc32);
    let c = p.a.counters();
    assert_eq!(c.tcp.retrans_segs, 1, "{:?}", c.tcp_ext);
    assert_eq!(c.tcp_ext.tcp_sack_recovery, 1);
    assert_eq!(c.tcp_ext.tcp_timeouts, 0);
    conserved(&p.a);
    conserved(&p.b);
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let mut p = Pair::new(
        "- {kind: tcp_bulk, connect: '10.0.0.2:9', bytes: 10}\n",
        PEER_STACK,
        "",
    );
    p.run_for(100_000_000);
    let a = Pair::app(&p.a, 0);
    assert!(
        a.error
            .as_deref()
            .is_some_and(|e| e.starts_with("ECONNREFUSED")),
        "{a:?}"
    );
    assert_eq!(p.b.counters().tcp.out_rsts, 1);
    assert_eq!(p.a.counters().tcp.attempt_fails, 1);
    let syn_fate: Vec<Outcome> =
        p.b.trace
            .frames()
            .values()
            .filter_map(|r| r.outcome.map(|o| o.0))
            .collect();
    assert!(syn_fate.contains(&Outcome::Dropped(DropReason::NoSocket)));
    conserved(&p.a);
    conserved(&p.b);
}

#[test]
fn originals_are_held_until_acked_and_end_as_tcp_acked() {
    let mut p = Pair::new(
        "- {kind: tcp_bulk, connect: '10.0.0.2:5001', bytes: 50000}\n",
        PEER_STACK,
        "- {kind: tcp_sink, listen: 5001}\n",
    );
    p.run_for(1_000_000_000);
    // 50000 bytes in 1448-byte segments (MSS 1460 less 12 of timestamps): 35 data skbs, each
    // copied once by tcp_sendmsg, sent as a clone, and freed on the ACK after its TX reclaim.
    let data: Vec<FrameId> =
        p.a.trace
            .frames()
            .iter()
            .filter(|(_, r)| r.stamps.iter().any(|&(s, _)| s == Stage::TcpSendmsg))
            .map(|(&id, _)| id)
            .collect();
    assert_eq!(data.len(), 35);
    for id in data {
        assert_eq!(p.a.outcome(id), Some(Outcome::Consumed(Consumer::TcpAcked)));
        let st = p.a.stages(id);
        let pos = |s: Stage| {
            st.iter()
                .position(|&x| x == s)
                .unwrap_or_else(|| panic!("{s} missing in {st:?}"))
        };
        assert!(pos(Stage::TcpSendmsg) < pos(Stage::TcpTransmitSkb));
        assert!(pos(Stage::TcpTransmitSkb) < pos(Stage::IpQueueXmit));
        assert!(pos(Stage::IpQueueXmit) < pos(Stage::QdiscEnqueue));
        assert!(pos(Stage::QdiscEnqueue) < pos(Stage::TcpCleanRtxQueue));
    }
    let sock = &p.a.counters().tcp_sockets[0];
    assert!(sock.rtx_queue_peak_skbs >= 10, "{sock:?}");
    conserved(&p.a);
}
