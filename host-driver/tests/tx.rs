//! Transmit path: `xmit_frame` posting and doorbells, queue stop/wake, reclaim, multi-descriptor frames.

mod support;

use host_driver::accounting::{Consumer, Outcome, Stage};
use host_driver::config::HostConfig;
use host_driver::platform::Platform;
use host_driver::regs::TDT;
use support::{Sim, PEER_MAC};

/// A host sending `count` datagrams of `size` bytes to the peer at once (static neighbour: no ARP).
fn sender(count: u64, size: usize, extra: &str) -> HostConfig {
    serde_norway::from_str(&format!(
        "tx_ring: 64\n{extra}\
         stack: {{ mtu: 9000, neighbours: [{{ ip: 10.0.0.2, mac: \"02:00:00:00:00:02\" }}] }}\n\
         apps: [{{ kind: udp_send, dst: 10.0.0.2, port: 7, size: {size}, count: {count} }}]\n"
    ))
    .expect("host config")
}

/// BQL out of the way (`limit_min` far above what the ring holds).
const NO_BQL: &str = "bql_limit_min: 100000000\n";

/// `e1000_xmit_frame` stops the queue after posting unless `MAX_SKB_FRAGS + 7` = 24 descriptors stay
/// free (`e1000_maybe_stop_tx`); `e1000_clean_tx_irq` wakes it once `TX_WAKE_THRESHOLD` = 32 are
/// free again.
#[test]
fn e1000_maybe_stop_tx_keeps_24_in_reserve_and_clean_tx_irq_wakes_at_32() {
    let mut sim = Sim::new(sender(200, 64, NO_BQL));
    let in_use = sim.nic.memory().bytes_in_use();
    sim.nic.auto_tx = false;
    sim.run_until(u64::MAX);
    // adj_limit starts at 0: the first frame stops the queue (STACK_XOFF) until it completes.
    assert_eq!(sim.nic.reg(TDT), 1);
    assert_eq!(sim.host.report().driver.tx_stack_xoff, 1);
    sim.nic.transmit();
    sim.run_until(u64::MAX);

    // 63 usable slots, the first reclaimed; the queue stops once fewer than 24 are free: after
    // 40 more frames.
    let r = sim.host.report();
    assert_eq!(r.driver.tx_queue_stopped, 1);
    assert_eq!(sim.nic.reg(TDT), 41);
    assert!(sim.host.adapter().is_some_and(|a| a.tx.is_stopped()));
    assert_eq!(
        r.stack.qdisc.requeues, 0,
        "the reserve leaves room: never busy"
    );

    sim.nic.auto_tx = true;
    sim.nic.transmit();
    sim.run_until(u64::MAX);

    let r = sim.host.report();
    assert_eq!(sim.nic.transmitted.len(), 200);
    assert_eq!(r.driver.tx_packets, 200);
    assert!(r.driver.tx_restart_queue >= 1);
    // Frames that waited in the qdisc go out in batches behind one TDT write each (xmit_more).
    assert!(
        r.driver.tx_doorbells < 200,
        "{} doorbells for 200 frames",
        r.driver.tx_doorbells
    );
    assert!(r.driver_faults.is_empty(), "{:?}", r.driver_faults);
    let trace = sim.host.trace();
    for (id, frame) in &sim.nic.transmitted {
        let id = id.expect("every posted frame was tagged with its id");
        assert_eq!(frame[..6], PEER_MAC.0);
        assert_eq!(
            trace.outcome_of(id),
            Some(Outcome::Consumed(Consumer::Transmitted))
        );
        let at = |s| {
            trace
                .stamp_of(id, s)
                .unwrap_or_else(|| panic!("frame {id}: no {s}"))
        };
        assert!(
            at(Stage::StartXmit) <= at(Stage::Doorbell)
                && at(Stage::Doorbell) < at(Stage::TxReclaim)
        );
    }
    assert_eq!(trace.conservation_errors(), &[]);
    assert_eq!(
        sim.nic.memory().bytes_in_use(),
        in_use,
        "every TX buffer was unmapped and freed"
    );
}

/// `netdev_tx_sent_queue` stops the queue (`__QUEUE_STATE_STACK_XOFF`) while more bytes are in
/// flight than the byte queue limit allows; `netdev_tx_completed_queue` → `dql_completed` grows the
/// limit as the queue starves and restarts it.
#[test]
fn netdev_tx_sent_queue_stops_above_the_dql_limit_and_dql_completed_grows_it() {
    let mut sim = Sim::new(sender(100, 64, ""));
    sim.nic.auto_tx = false;
    sim.run_until(u64::MAX);
    let r = sim.host.report();
    // 64 B payload + UDP 8 + IP 20 + Ethernet 14 = 106 B in flight against a limit of 0.
    assert_eq!(sim.nic.reg(TDT), 1);
    assert_eq!((r.driver.bql_inflight, r.driver.bql_limit), (106, 0));
    assert_eq!((r.driver.tx_stack_xoff, r.driver.tx_queue_stopped), (1, 0));
    sim.nic.auto_tx = true;
    sim.nic.transmit();
    sim.run_until(u64::MAX);
    let r = sim.host.report();
    assert_eq!(sim.nic.transmitted.len(), 100);
    assert_eq!(r.driver.bql_inflight, 0);
    assert!(r.driver.bql_limit_peak >= 106, "{:?}", r.driver);
    assert!(r.driver.bql_inflight_peak >= 106);
    assert_eq!(
        r.driver.bql_limit_max,
        u64::from(host_driver::dql::DQL_MAX_LIMIT)
    );
    assert_eq!(r.stack.qdisc.dropped, 0);
}

/// With less reserve than a frame needs (`count + 2` descriptors), `e1000_xmit_frame` returns
/// `NETDEV_TX_BUSY` and the qdisc requeues the skb (`dev_requeue_skb`): counted as a requeue, sent
/// once the queue wakes, never dropped.
#[test]
fn e1000_xmit_frame_busy_is_requeued_by_dev_requeue_skb_not_dropped() {
    let cfg = format!("{NO_BQL}tx_ring: 8\ntx_stop_threshold: 1\ntx_wake_threshold: 4\n");
    let cfg: HostConfig = serde_norway::from_str(&format!(
        "{cfg}stack: {{ neighbours: [{{ ip: 10.0.0.2, mac: \"02:00:00:00:00:02\" }}] }}\n\
         apps: [{{ kind: udp_send, dst: 10.0.0.2, port: 7, size: 64, count: 20 }}]\n"
    ))
    .expect("host config");
    let mut sim = Sim::new(cfg);
    sim.nic.auto_tx = false;
    sim.run_until(u64::MAX);
    sim.nic.transmit();
    sim.run_until(u64::MAX);
    // 7 usable slots: five frames leave 2 free, fewer than the 3 the sixth needs.
    let r = sim.host.report();
    assert_eq!(sim.nic.reg(TDT), 6);
    assert_eq!((r.stack.qdisc.requeues, r.driver.tx_queue_stopped), (1, 1));
    sim.nic.auto_tx = true;
    sim.nic.transmit();
    sim.run_until(u64::MAX);
    let r = sim.host.report();
    assert_eq!(sim.nic.transmitted.len(), 20);
    assert!(r.stack.qdisc.requeues >= 2);
    assert_eq!((r.driver.tx_dropped, r.stack.qdisc.dropped), (0, 0));
    assert_eq!(
        r.stack.qdisc.sent, 20,
        "a requeued frame is not dequeued twice"
    );
    let trace = sim.host.trace();
    for (id, _) in &sim.nic.transmitted {
        assert_eq!(
            trace.outcome_of(id.expect("tagged")),
            Some(Outcome::Consumed(Consumer::Transmitted))
        );
    }
    assert_eq!(trace.conservation_errors(), &[]);
}

#[test]
fn a_jumbo_frame_spans_descriptors_of_at_most_4_kib() {
    let mut sim = Sim::new(sender(1, 8000, ""));
    sim.run_until(u64::MAX);
    // 8000 B payload + UDP 8 + IP 20 + Ethernet 14 = 8042 B: two descriptors (4096 + 3946).
    assert_eq!(sim.nic.reg(TDT), 2);
    assert_eq!(sim.nic.transmitted.len(), 1);
    let (id, frame) = &sim.nic.transmitted[0];
    assert_eq!(frame.len(), 8042);
    assert_eq!(
        sim.host.trace().outcome_of(id.expect("tagged")),
        Some(Outcome::Consumed(Consumer::Transmitted))
    );
}
