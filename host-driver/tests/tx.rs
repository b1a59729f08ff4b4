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

#[test]
fn queue_stops_near_full_and_wakes_after_reclaim() {
    let mut sim = Sim::new(sender(200, 64, ""));
    let in_use = sim.nic.memory().bytes_in_use();
    sim.nic.auto_tx = false;
    sim.run_until(u64::MAX);

    // 63 usable slots; the queue stops once fewer than 21 are free: after 43 frames.
    let r = sim.host.report();
    assert_eq!(r.driver.tx_queue_stopped, 1);
    assert_eq!(sim.nic.reg(TDT), 43);
    assert!(sim.host.adapter().is_some_and(|a| a.tx.is_stopped()));

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
