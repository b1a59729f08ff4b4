//! Driver tests that run on both implementations of the host's device traits: the register-level
//! double (`host-driver/tests/driver_contract.rs`) and the Verilated NIC in the world
//! (`sim/world/tests/driver_contract.rs`). What the driver does on the bus, and what becomes of the
//! frames, must be the same on both, so the double cannot drift away from the RTL.

use std::net::Ipv4Addr;

use host_driver::accounting::{Consumer, FrameId, Outcome};
use host_driver::config::HostConfig;
use host_driver::host::Host;
use host_driver::platform::MmioAccess;
use host_driver::regs::*;
use host_driver::time::Cycle;
use host_driver::wire::build::{udp_frame, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::MacAddr;

/// A NIC the host can be probed on, fed from the wire, and run with.
pub trait Device: Sized {
    /// The device with a host for `cfg` (on the device's clock) probed on it, MMIO recorded from the
    /// first access of the probe on.
    fn bring_up(cfg: HostConfig) -> Self;
    fn host(&self) -> &Host;
    fn now(&self) -> Cycle;
    fn mmio_log(&self) -> &[MmioAccess];
    fn clear_mmio_log(&mut self);
    /// `frame` (without FCS) arrives from the wire at cycle `at`; returns its frame id.
    fn arrive(&mut self, at: Cycle, frame: Vec<u8>) -> FrameId;
    /// Runs the device and the host up to cycle `end`.
    fn run_until(&mut self, end: Cycle);
    /// Bytes of host memory in live allocations.
    fn bytes_in_use(&mut self) -> usize;
}

const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SINK_PORT: u16 = 9000;

fn sink_host() -> HostConfig {
    serde_norway::from_str(&format!(
        "apps: [{{kind: udp_sink, port: {SINK_PORT}, rcvbuf: 1000000000}}]\n"
    ))
    .expect("host config")
}

fn datagram(host: &HostConfig, src_port: u16) -> Vec<u8> {
    udp_frame(&UdpFrameSpec {
        src_mac: PEER_MAC,
        dst_mac: host.mac,
        src_ip: PEER_IP,
        dst_ip: host.stack.address.addr,
        src_port,
        dst_port: SINK_PORT,
        payload: Payload::Len(18),
        ttl: 64,
        ip_id: 0,
    })
    .expect("a small datagram")
}

fn offsets(log: &[MmioAccess]) -> Vec<(char, u32)> {
    log.iter()
        .filter(|m| !(MTA..MTA + 4 * MTA_LEN).contains(&m.off()))
        .map(|m| match *m {
            MmioAccess::Read { off, .. } => ('R', off),
            MmioAccess::Write { off, .. } => ('W', off),
        })
        .collect()
}

/// `e1000_probe` + `e1000_open` in the kernel's order: reset, station address, multicast table, TX
/// ring, RX ring with the receiver off, RXCSUM (read-modify-write), receiver on, buffers posted (RDT),
/// interrupts unmasked.
pub fn probe_programs_registers_in_kernel_order<D: Device>() {
    let dev = D::bring_up(HostConfig {
        rx_ring: 64,
        tx_ring: 128,
        ..HostConfig::default()
    });
    let w = |off| ('W', off);
    let r = |off| ('R', off);
    assert_eq!(
        offsets(dev.mmio_log()),
        vec![
            w(IMC),
            w(CTRL),
            r(CTRL),
            w(IMC),
            r(ICR),
            w(RAL0),
            w(RAH0),
            w(TDBAL),
            w(TDBAH),
            w(TDLEN),
            w(TDH),
            w(TDT),
            w(TIDV),
            w(TADV),
            w(TCTL),
            w(RCTL),
            w(RDTR),
            w(RADV),
            w(ITR),
            w(RDBAL),
            w(RDBAH),
            w(RDLEN),
            w(RDH),
            w(RDT),
            r(RXCSUM),
            w(RXCSUM),
            w(RCTL),
            w(RDT),
            w(IMS),
            r(STATUS),
        ]
    );
    let mta_writes = dev
        .mmio_log()
        .iter()
        .filter(|m| (MTA..MTA + 4 * MTA_LEN).contains(&m.off()))
        .count();
    assert_eq!(mta_writes, MTA_LEN as usize);
}

/// `e1000_intr` reads ICR (RXT0 set) and masks with IMC; `e1000_clean` harvests the frame, refills
/// the ring (RDT) and unmasks with IMS at `napi_complete_done`.
pub fn one_frame_is_an_interrupt_a_poll_and_an_unmask<D: Device>() {
    let cfg = sink_host();
    let frame = datagram(&cfg, 10_000);
    let mut dev = D::bring_up(cfg);
    dev.clear_mmio_log();
    let t = dev.now() + 10_000;
    let id = dev.arrive(t, frame);
    dev.run_until(t + 1_000_000);
    assert_eq!(
        offsets(dev.mmio_log()),
        vec![
            ('R', ICR),
            ('W', IMC),
            ('R', STATUS),
            ('W', RDT),
            ('W', IMS),
            ('R', STATUS),
        ]
    );
    let icr = match dev.mmio_log()[0] {
        MmioAccess::Read { val, .. } => val,
        other => panic!("first access {other:?}"),
    };
    assert_ne!(icr & ICR_RXT0, 0, "ICR {icr:#x} names the receive timer");
    let d = &dev.host().report().driver;
    assert_eq!((d.interrupts, d.polls, d.rx_packets), (1, 1, 1));
    assert_eq!(
        dev.host().trace().outcome_of(id),
        Some(Outcome::Delivered { port: SINK_PORT })
    );
}

/// A burst of 200 back-to-back datagrams: every one reaches the socket, no poll takes more than its
/// weight, and every frame ends exactly once.
pub fn a_burst_reaches_the_socket_within_the_napi_weight<D: Device>() {
    let cfg = sink_host();
    let weight = u64::from(cfg.napi_weight);
    let frames: Vec<_> = (0..200).map(|i| datagram(&cfg, 10_000 + i)).collect();
    let mut dev = D::bring_up(cfg);
    let t = dev.now() + 10_000;
    let ids: Vec<FrameId> = frames.into_iter().map(|f| dev.arrive(t, f)).collect();
    dev.run_until(t + 1_000_000);
    let r = dev.host().report();
    assert_eq!(r.driver.rx_packets, 200);
    assert!(r.driver.polls * weight >= 200);
    assert_eq!(
        r.driver
            .packets_per_poll
            .iter()
            .skip(weight as usize + 1)
            .sum::<u64>(),
        0,
        "no poll harvested more than its weight"
    );
    let trace = dev.host().trace();
    assert_eq!(trace.conservation_errors(), &[]);
    for id in ids {
        assert_eq!(
            trace.outcome_of(id),
            Some(Outcome::Delivered { port: SINK_PORT })
        );
    }
}

/// 200 datagrams through a 64-descriptor TX ring: each is posted, sent and reclaimed
/// (`e1000_clean_tx_irq`), and every TX buffer is unmapped and freed again.
pub fn sent_frames_are_reclaimed_and_their_buffers_freed<D: Device>() {
    let cfg: HostConfig = serde_norway::from_str(&format!(
        "tx_ring: 64\n\
         stack: {{ neighbours: [{{ ip: {PEER_IP}, mac: \"{PEER_MAC}\" }}] }}\n\
         apps: [{{ kind: udp_send, dst: {PEER_IP}, port: 7, size: 64, count: 200 }}]\n"
    ))
    .expect("host config");
    let mut dev = D::bring_up(cfg);
    let in_use = dev.bytes_in_use();
    dev.run_until(dev.now() + 1_000_000);
    let r = dev.host().report();
    assert_eq!(r.driver.tx_packets, 200);
    assert!(r.driver_faults.is_empty(), "{:?}", r.driver_faults);
    let trace = dev.host().trace();
    assert_eq!(trace.conservation_errors(), &[]);
    let transmitted = r
        .frames
        .keys()
        .filter(|&&id| trace.outcome_of(id) == Some(Outcome::Consumed(Consumer::Transmitted)))
        .count();
    assert_eq!(transmitted, 200);
    assert_eq!(dev.bytes_in_use(), in_use, "every TX buffer freed");
}

/// Instantiates every contract test for the device type `$dev`.
#[macro_export]
macro_rules! driver_contract_tests {
    ($dev:ty) => {
        #[test]
        fn probe_programs_registers_in_kernel_order() {
            contract::probe_programs_registers_in_kernel_order::<$dev>();
        }
        #[test]
        fn one_frame_is_an_interrupt_a_poll_and_an_unmask() {
            contract::one_frame_is_an_interrupt_a_poll_and_an_unmask::<$dev>();
        }
        #[test]
        fn a_burst_reaches_the_socket_within_the_napi_weight() {
            contract::a_burst_reaches_the_socket_within_the_napi_weight::<$dev>();
        }
        #[test]
        fn sent_frames_are_reclaimed_and_their_buffers_freed() {
            contract::sent_frames_are_reclaimed_and_their_buffers_freed::<$dev>();
        }
    };
}
