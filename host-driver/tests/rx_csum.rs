//! Receive checksum offload in the driver (`e1000_configure_rx` RXCSUM, `e1000_rx_checksum`) and its
//! use by the stack: a TCP/UDP checksum the NIC reports good makes the skb `CHECKSUM_UNNECESSARY` and
//! UDP, GRO and TCP do not verify it again; a flagged error is counted (`rx_csum_offload_errors`) and
//! left to the stack, which finds and counts it itself; `rx-checksumming: false` turns it all off.

mod support;

use host_driver::accounting::{DropReason, Outcome};
use host_driver::config::HostConfig;
use host_driver::desc::{RXD_ERR_IPE, RXD_ERR_TCPE, RXD_STAT_IPCS, RXD_STAT_TCPCS};
use host_driver::regs;
use support::{assert_conserved, udp_to_host, with_sink, Mmio, Sim, SINK_PORT};

fn sim(features: &str) -> Sim {
    let cfg: HostConfig =
        serde_norway::from_str(&format!("features: {{{features}}}\n")).expect("config");
    Sim::new(with_sink(cfg))
}

/// `n` datagrams of `payload` bytes to the sink (longer than `CHECKSUM_BREAK`, so that without offload
/// UDP verifies them when they are read), the first `bad` of them with a payload byte flipped.
fn send(sim: &mut Sim, n: u16, bad: u16, payload: usize) -> Vec<u64> {
    let mac = sim.host.config().mac;
    let t = sim.nic.now + 10_000;
    let ids = (0..n)
        .map(|i| {
            let mut f = udp_to_host(mac, 10_000 + i, SINK_PORT, payload);
            if i < bad {
                f[60] ^= 0x01;
            }
            sim.arrive(t, f)
        })
        .collect();
    sim.run_until(t + 10_000_000);
    ids
}

#[test]
fn rx_checksumming_defaults_on_and_probe_sets_tuofld() {
    assert!(HostConfig::default().features.rx_checksumming);
    let on = sim("");
    assert_eq!(on.nic.reg(regs::RXCSUM), regs::RXCSUM_TUOFLD);
    // e1000_configure_rx reads RXCSUM and writes it back with TUOFL set or cleared.
    assert!(on
        .nic
        .log
        .iter()
        .any(|m| matches!(*m, Mmio::Read { off, .. } if off == regs::RXCSUM)));
    let off = sim("rx-checksumming: false");
    assert_eq!(off.nic.reg(regs::RXCSUM), 0);
}

#[test]
fn good_checksums_are_trusted_and_errors_counted_and_left_to_the_stack() {
    let mut s = sim("");
    let ids = send(&mut s, 20, 3, 500);
    assert_conserved(&s, &ids);
    let r = s.host.report();
    assert_eq!(r.driver.rx_csum_offload_good, 17);
    assert_eq!(r.driver.rx_csum_offload_errors, 3);
    let u = &r.stack.udp;
    assert_eq!(
        (u.in_datagrams, u.in_csum_errors),
        (17, 3),
        "software found the 3"
    );
    for id in &ids[..3] {
        assert_eq!(
            s.host.trace().outcome_of(*id),
            Some(Outcome::Dropped(DropReason::UdpCsum))
        );
    }
}

/// A NIC that reports every checksum good: the corrupted datagrams are delivered, which shows UDP did
/// not verify them again (`udp4_csum_init` with `CHECKSUM_UNNECESSARY`).
#[test]
fn checksum_unnecessary_skips_udp_verification() {
    let mut s = sim("");
    s.nic.rx_csum_override = Some((RXD_STAT_TCPCS | RXD_STAT_IPCS, 0));
    let ids = send(&mut s, 10, 10, 500);
    assert_conserved(&s, &ids);
    let r = s.host.report();
    assert_eq!(r.driver.rx_csum_offload_good, 10);
    assert_eq!(
        (r.stack.udp.in_datagrams, r.stack.udp.in_csum_errors),
        (10, 0)
    );
}

/// IPE alone is not looked at by `e1000_rx_checksum`; a checksum error bit never drops the frame in
/// the driver (only `E1000_RXD_ERR_FRAME_ERR_MASK` does).
#[test]
fn checksum_error_bits_do_not_drop_in_the_driver() {
    let mut s = sim("");
    s.nic.rx_csum_override = Some((RXD_STAT_TCPCS | RXD_STAT_IPCS, RXD_ERR_IPE | RXD_ERR_TCPE));
    let ids = send(&mut s, 5, 0, 500);
    assert_conserved(&s, &ids);
    let r = s.host.report();
    assert_eq!(r.driver.rx_errors, 0);
    assert_eq!(r.driver.rx_csum_offload_errors, 5);
    assert_eq!(r.stack.udp.in_datagrams, 5, "the stack verified them: good");
}

#[test]
fn rx_checksumming_off_leaves_every_checksum_to_software() {
    let mut s = sim("rx-checksumming: false");
    let ids = send(&mut s, 20, 3, 500);
    assert_conserved(&s, &ids);
    let r = s.host.report();
    assert_eq!(
        (
            r.driver.rx_csum_offload_good,
            r.driver.rx_csum_offload_errors
        ),
        (0, 0)
    );
    assert_eq!(
        (r.stack.udp.in_datagrams, r.stack.udp.in_csum_errors),
        (17, 3)
    );
}
