//! Test double of the NIC, for host-only tests: a `Platform` that models just enough of the register and
//! descriptor contract of docs/interfaces.md in Rust (RX ring fill with write-back, TX ring drain, ICR/IMS
//! interrupt logic, fixed MMIO latencies), and the `Observer` that knows which frame is where. It is not
//! the NIC model; the simulator runs the real RTL.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;

use host_driver::accounting::{FrameId, Observer, Outcome};
use host_driver::config::HostConfig;
use host_driver::desc::{
    RxDesc, TxDesc, RXD_ERR_TCPE, RXD_STAT_DD, RXD_STAT_EOP, RXD_STAT_IXSM, RXD_STAT_TCPCS,
    TXD_CMD_EOP, TXD_CMD_RS, TXD_STAT_DD,
};
use host_driver::dma::{DmaFault, HostMemory};
use host_driver::host::Host;
use host_driver::platform::Platform;
use host_driver::regs;
use host_driver::time::Cycle;
use host_driver::wire::build::{self, Ipv4FrameSpec, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::MacAddr;
use host_driver::wire::ipv4::{self, Ipv4Packet, Ipv4Repr};
use host_driver::wire::tcp::{self, TcpOptions, TcpPacket, TcpRepr};
use host_driver::wire::udp::UdpPacket;
use zerocopy::{FromBytes, IntoBytes};

pub use host_driver::platform::MmioAccess as Mmio;

pub struct FakeNic {
    pub now: Cycle,
    mem: HostMemory,
    /// PCIe one-way latency in cycles.
    pub pcie: Cycle,
    /// Cycles the device takes to answer a read.
    pub response: Cycle,
    regs: HashMap<u32, u32>,
    icr: u32,
    ims: u32,
    pub log: Vec<Mmio>,
    /// Frames waiting for an RX descriptor (the RX FIFO).
    fifo: VecDeque<(FrameId, Vec<u8>)>,
    /// RX slot → the frame last written back there.
    rx_ids: HashMap<u16, FrameId>,
    /// Frame → the cycle its RX descriptor was written back.
    write_backs: HashMap<FrameId, Cycle>,
    tx_ids: HashMap<u16, FrameId>,
    next_host_id: FrameId,
    /// Drain the TX ring as soon as TDT is written.
    pub auto_tx: bool,
    /// Frames sent on the wire, with the id the driver posted.
    pub transmitted: Vec<(Option<FrameId>, Vec<u8>)>,
    pub faults: Vec<DmaFault>,
    /// Replaces the RX checksum verdict ({status, errors} bits) of every frame: a NIC that lies.
    pub rx_csum_override: Option<(u8, u8)>,
}

pub const MEMORY_BYTES: usize = 16 << 20;

impl FakeNic {
    pub fn new(pcie: Cycle, response: Cycle) -> FakeNic {
        FakeNic {
            now: 0,
            mem: HostMemory::new(HostMemory::DEFAULT_BASE, MEMORY_BYTES).expect("memory layout"),
            pcie,
            response,
            regs: HashMap::new(),
            icr: 0,
            ims: 0,
            log: Vec::new(),
            fifo: VecDeque::new(),
            rx_ids: HashMap::new(),
            write_backs: HashMap::new(),
            tx_ids: HashMap::new(),
            next_host_id: 1 << 40,
            auto_tx: true,
            transmitted: Vec::new(),
            faults: Vec::new(),
            rx_csum_override: None,
        }
    }

    pub fn reg(&self, off: u32) -> u32 {
        self.regs.get(&off).copied().unwrap_or(0)
    }

    pub fn irq(&self) -> bool {
        self.icr & self.ims != 0
    }

    pub fn ims(&self) -> u32 {
        self.ims
    }

    /// A frame arrives from the wire.
    pub fn receive(&mut self, id: FrameId, frame: Vec<u8>) {
        self.fifo.push_back((id, frame));
        self.dma_rx(self.now);
    }

    /// The cycle frame `id`'s RX descriptor was written back.
    pub fn write_back_of(&self, id: FrameId) -> Option<Cycle> {
        self.write_backs.get(&id).copied()
    }

    pub fn fifo_len(&self) -> usize {
        self.fifo.len()
    }

    fn ring(&self, lo: u32, hi: u32, len: u32) -> (u64, u16) {
        let base = u64::from(self.reg(lo)) | (u64::from(self.reg(hi)) << 32);
        (base, (self.reg(len) / 16) as u16)
    }

    /// The RX checksum bits (rtl/README.md, receive checksum offload) for what the driver looks at:
    /// with RXCSUM.TUOFLD, an IPv4 TCP or UDP packet without options and not fragmented gets TCPCS,
    /// and TCPE if its checksum is wrong (UDP with checksum 0: neither); anything else IXSM.
    fn rx_csum(&self, frame: &[u8]) -> (u8, u8) {
        if let Some(v) = self.rx_csum_override {
            return v;
        }
        let not_checked = (RXD_STAT_IXSM, 0);
        if self.reg(regs::RXCSUM) & regs::RXCSUM_TUOFLD == 0 || frame.get(12..14) != Some(&[8, 0]) {
            return not_checked;
        }
        let Ok(ip) = Ipv4Packet::new_checked(&frame[14..]) else {
            return not_checked;
        };
        if frame[14] != 0x45 || u16::from_be_bytes([frame[20], frame[21]]) & 0x3FFF != 0 {
            return not_checked;
        }
        let l4 = ip.payload();
        let good = match frame[23] {
            ipv4::protocol::TCP => TcpPacket::new_checked(l4)
                .ok()
                .map(|t| t.verify_checksum(ip.src(), ip.dst())),
            ipv4::protocol::UDP if l4.get(6..8) != Some(&[0, 0]) => UdpPacket::new_checked(l4)
                .ok()
                .map(|u| u.verify_checksum(ip.src(), ip.dst())),
            _ => None,
        };
        match good {
            Some(true) => (RXD_STAT_TCPCS, 0),
            Some(false) => (RXD_STAT_TCPCS, RXD_ERR_TCPE),
            None => (0, 0),
        }
    }

    /// Moves FIFO frames into posted RX buffers at cycle `at`: payload, then descriptor write-back, then the
    /// cause.
    fn dma_rx(&mut self, at: Cycle) {
        if self.reg(regs::RCTL) & regs::RCTL_EN == 0 {
            return;
        }
        let (base, count) = self.ring(regs::RDBAL, regs::RDBAH, regs::RDLEN);
        while self.reg(regs::RDH) != self.reg(regs::RDT) {
            let Some((id, frame)) = self.fifo.pop_front() else {
                break;
            };
            let head = self.reg(regs::RDH) as u16;
            let daddr = base + u64::from(head) * 16;
            let mut raw = [0u8; 16];
            if let Err(f) = self.mem.device_read(daddr, &mut raw) {
                self.faults.push(f);
                return;
            }
            let mut desc = RxDesc::read_from_bytes(&raw).expect("16 bytes");
            if let Err(f) = self.mem.device_write(desc.addr.get(), &frame) {
                self.faults.push(f);
                return;
            }
            desc.length.set(frame.len() as u16);
            let (status, errors) = self.rx_csum(&frame);
            desc.status = RXD_STAT_DD | RXD_STAT_EOP | status;
            desc.errors = errors;
            if let Err(f) = self.mem.device_write(daddr, desc.as_bytes()) {
                self.faults.push(f);
                return;
            }
            self.rx_ids.insert(head, id);
            self.write_backs.insert(id, at);
            self.regs.insert(regs::RDH, u32::from((head + 1) % count));
            self.icr |= regs::ICR_RXT0;
        }
    }

    /// Sends every frame posted between TDH and TDT, reading whole 8-byte beats like the real DMA engine.
    pub fn transmit(&mut self) {
        let (base, count) = self.ring(regs::TDBAL, regs::TDBAH, regs::TDLEN);
        let mut frame = Vec::new();
        while self.reg(regs::TDH) != self.reg(regs::TDT) {
            let head = self.reg(regs::TDH) as u16;
            let daddr = base + u64::from(head) * 16;
            let mut raw = [0u8; 16];
            if let Err(f) = self.mem.device_read(daddr, &mut raw) {
                self.faults.push(f);
                return;
            }
            let mut desc = TxDesc::read_from_bytes(&raw).expect("16 bytes");
            let (addr, len) = (desc.addr.get(), usize::from(desc.length.get()));
            let start = addr & !7;
            let end = (addr + len as u64).next_multiple_of(8);
            let mut beats = vec![0u8; (end - start) as usize];
            if let Err(f) = self.mem.device_read(start, &mut beats) {
                self.faults.push(f);
                return;
            }
            let skip = (addr - start) as usize;
            frame.extend_from_slice(&beats[skip..skip + len]);
            if desc.cmd & TXD_CMD_EOP != 0 {
                self.transmitted
                    .push((self.tx_ids.remove(&head), std::mem::take(&mut frame)));
            }
            if desc.cmd & TXD_CMD_RS != 0 {
                desc.status |= TXD_STAT_DD;
                if let Err(f) = self.mem.device_write(daddr, desc.as_bytes()) {
                    self.faults.push(f);
                    return;
                }
                self.icr |= regs::ICR_TXDW;
            }
            self.regs.insert(regs::TDH, u32::from((head + 1) % count));
        }
    }
}

impl Platform for FakeNic {
    fn now(&self) -> Cycle {
        self.now
    }

    fn mmio_read(&mut self, at: Cycle, off: u32) -> (u32, Cycle) {
        assert!(
            at >= self.now,
            "MMIO read issued in the past: at {at} < now {}",
            self.now
        );
        let val = match off {
            regs::ICR => std::mem::take(&mut self.icr),
            regs::IMS => self.ims,
            regs::STATUS => regs::STATUS_LU,
            _ => self.reg(off),
        };
        self.log.push(Mmio::Read { at, off, val });
        self.now = at + 2 * self.pcie + self.response;
        (val, self.now)
    }

    fn mmio_write(&mut self, at: Cycle, off: u32, val: u32) {
        self.log.push(Mmio::Write { at, off, val });
        match off {
            regs::IMS => self.ims |= val,
            regs::IMC => self.ims &= !val,
            regs::ICS => self.icr |= val,
            regs::CTRL => {
                self.regs.insert(off, val & !regs::CTRL_RST);
            }
            _ => {
                self.regs.insert(off, val);
            }
        }
        match off {
            // The write takes effect when it reaches the device.
            regs::RDT | regs::RCTL => self.dma_rx(at + self.pcie),
            regs::TDT if self.auto_tx => self.transmit(),
            _ => {}
        }
    }

    fn memory(&mut self) -> &mut HostMemory {
        &mut self.mem
    }
}

impl Observer for FakeNic {
    fn rx_frame_id(&mut self, slot: u16) -> Option<FrameId> {
        self.rx_ids.get(&slot).copied()
    }

    fn rx_write_back_cycle(&mut self, slot: u16) -> Option<Cycle> {
        let id = self.rx_ids.get(&slot)?;
        self.write_backs.get(id).copied()
    }

    fn tx_frame_posted(&mut self, slot: u16, id: FrameId) {
        self.tx_ids.insert(slot, id);
    }

    fn new_frame_id(&mut self) -> FrameId {
        self.next_host_id += 1;
        self.next_host_id
    }
}

/// The peer on the wire and the host's addresses (the stack's defaults).
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Port the test sink listens on.
pub const SINK_PORT: u16 = 9000;

/// A UDP datagram from the peer to the host.
pub fn udp_to_host(host_mac: MacAddr, src_port: u16, dst_port: u16, payload: usize) -> Vec<u8> {
    build::udp_frame(&UdpFrameSpec {
        src_mac: PEER_MAC,
        dst_mac: host_mac,
        src_ip: PEER_IP,
        dst_ip: HOST_IP,
        src_port,
        dst_port,
        payload: Payload::Len(payload),
        ttl: 64,
        ip_id: src_port,
    })
    .expect("valid frame")
}

/// A TCP segment from the peer's port `src_port` to the host's port 5001: `payload` bytes of sequence
/// space from `seq` (byte `i` is `(seq + i) as u8`), ACK set plus `flags`, a timestamp option, DF set
/// and the IP id `seq / 1448` (incrementing per full segment).
pub fn tcp_to_host(
    host_mac: MacAddr,
    src_port: u16,
    seq: u32,
    payload: usize,
    flags: u8,
) -> Vec<u8> {
    let data: Vec<u8> = (0..payload).map(|i| (seq as usize + i) as u8).collect();
    let segment = TcpRepr {
        src_port,
        dst_port: 5001,
        seq,
        ack_seq: 1,
        flags: tcp::flags::ACK | flags,
        window: 512,
        options: TcpOptions {
            timestamp: Some((100, 200)),
            ..TcpOptions::default()
        },
    }
    .to_bytes(&data, PEER_IP, HOST_IP)
    .expect("valid segment");
    build::ipv4_frame(&Ipv4FrameSpec {
        src_mac: PEER_MAC,
        dst_mac: host_mac,
        ip: Ipv4Repr {
            src: PEER_IP,
            dst: HOST_IP,
            protocol: ipv4::protocol::TCP,
            ttl: 64,
            tos: 0,
            ident: (seq / 1448) as u16,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        },
        payload: &segment,
    })
    .expect("valid frame")
}

/// A host with a UDP sink on [`SINK_PORT`], the fake NIC, and scheduled wire arrivals.
pub struct Sim {
    pub host: Host,
    pub nic: FakeNic,
    arrivals: BTreeMap<(Cycle, FrameId), Vec<u8>>,
    next_wire_id: FrameId,
}

/// PCIe one-way latency of the fake, in cycles (≈ 448 ns at 6.4 ns).
pub const PCIE_CYCLES: Cycle = 70;
/// Device read response time of the fake, in cycles.
pub const RESPONSE_CYCLES: Cycle = 4;

impl Sim {
    pub fn new(cfg: HostConfig) -> Sim {
        let mut nic = FakeNic::new(PCIE_CYCLES, RESPONSE_CYCLES);
        let mut host = Host::new(cfg).expect("valid host config");
        host.probe(&mut nic).expect("probe");
        Sim {
            host,
            nic,
            arrivals: BTreeMap::new(),
            next_wire_id: 1,
        }
    }

    /// Schedules `frame` to arrive from the wire at cycle `at`; returns its wire frame id.
    pub fn arrive(&mut self, at: Cycle, frame: Vec<u8>) -> FrameId {
        let id = self.next_wire_id;
        self.next_wire_id += 1;
        self.arrivals.insert((at, id), frame);
        id
    }

    /// Runs host and device until nothing is left to do before `end`.
    pub fn run_until(&mut self, end: Cycle) {
        for _ in 0..10_000_000 {
            while let Some(entry) = self.arrivals.first_entry() {
                if entry.key().0 > self.nic.now {
                    break;
                }
                let ((_, id), frame) = entry.remove_entry();
                self.nic.receive(id, frame);
            }
            let irq = self.nic.irq();
            let mut wake = self.host.service(&mut self.nic, irq);
            if self.nic.irq() {
                // The fake applies posted writes at once, so an unmask (or ICS) inside `service` raised the
                // line again: present it, as the simulator does when it sees the level change.
                wake = self.host.service(&mut self.nic, true);
            }
            let arrival = self.arrivals.keys().next().map(|k| k.0);
            let next = match (wake, arrival) {
                (Some(w), Some(a)) => w.min(a),
                (w, a) => match w.or(a) {
                    Some(t) => t,
                    None => return,
                },
            };
            if next > end {
                self.nic.now = self.nic.now.max(end);
                return;
            }
            self.nic.now = self.nic.now.max(next);
        }
        panic!("simulation did not settle");
    }

    /// Terminal outcome of every frame the host recorded.
    pub fn outcomes(&self) -> Vec<(FrameId, Option<Outcome>)> {
        self.host
            .trace()
            .frames()
            .iter()
            .map(|(id, r)| (*id, r.outcome.map(|(o, _)| o)))
            .collect()
    }
}

/// `cfg` with a UDP sink on [`SINK_PORT`] whose receive buffer never fills.
pub fn with_sink(cfg: HostConfig) -> HostConfig {
    let app = serde_norway::from_str("kind: udp_sink\nport: 9000\nrcvbuf: 1000000000\n")
        .expect("app config");
    HostConfig {
        apps: vec![app],
        ..cfg
    }
}

/// Schedules `n` datagrams to the sink at cycle `at` (distinct source ports); returns their ids.
pub fn burst(sim: &mut Sim, at: Cycle, n: u16) -> Vec<FrameId> {
    let mac = sim.host.config().mac;
    (0..n)
        .map(|i| sim.arrive(at, udp_to_host(mac, 10_000 + i, SINK_PORT, 64)))
        .collect()
}

/// Every id ended exactly once and nothing ended twice.
pub fn assert_conserved(sim: &Sim, ids: &[FrameId]) {
    let trace = sim.host.trace();
    assert_eq!(trace.conservation_errors(), &[]);
    for id in ids {
        assert!(
            trace.outcome_of(*id).is_some(),
            "frame {id} has no terminal outcome"
        );
    }
}
