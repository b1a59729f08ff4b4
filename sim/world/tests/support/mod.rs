//! A minimal register-level driver for the RTL tests: programs the NIC through real MMIO, keeps one RX
//! ring and one TX ring in host memory, and reads what the NIC wrote back. Deliberately independent of
//! `host_driver`'s driver, so the RTL is checked against the contract and not against another model.

#![allow(dead_code)] // each test binary uses a different part of it

use host_driver::accounting::{FrameId, Observer};
use host_driver::desc::{
    ChecksumContext, RxDesc, TxDesc, DESC_SIZE, RXD_STAT_DD, RXD_STAT_EOP, TXD_CMD_EOP,
    TXD_CMD_IFCS, TXD_CMD_RS,
};
use host_driver::dma::DmaDir;
use host_driver::platform::Platform;
use host_driver::regs;
use host_driver::time::Cycle;
use nicsim_scenario::scenario::BusConfig;
use nicsim_world::world::{World, WorldConfig};

pub const OUR_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const BROADCAST: [u8; 6] = [0xFF; 6];
/// Bound on any wait in the tests: far beyond what a correct NIC needs.
pub const SETTLE_LIMIT: Cycle = 200_000;

/// The tests' configuration: short, distinct DMA latencies so tests run fast but still have several
/// transactions in flight.
pub fn config() -> WorldConfig {
    WorldConfig {
        bus: BusConfig {
            dma_read_latency_ns: 200,
            dma_write_latency_ns: 100,
            memory_bytes: 16 << 20,
        },
        pcie_one_way_ns: 100,
        ..WorldConfig::default()
    }
}

pub fn world() -> World {
    World::new(config()).expect("world")
}

/// An Ethernet frame without FCS: `dst`, `src`, EtherType 0x88B5 (local experimental), then `len - 14`
/// payload bytes counting up from `seed`.
pub fn frame(dst: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&[0x88, 0xB5]);
    f.extend((0..len.saturating_sub(14)).map(|i| seed.wrapping_add(i as u8)));
    f.truncate(len);
    f
}

/// The RX ring as the test driver keeps it.
pub struct RxRing {
    pub base: u64,
    pub len: u16,
    pub bufs: Vec<u64>,
    pub next_to_clean: u16,
}

/// One harvested RX descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub slot: u16,
    pub id: Option<FrameId>,
    pub bytes: Vec<u8>,
    /// The written-back status and errors bytes.
    pub status: u8,
    pub errors: u8,
}

/// Programs the receive side: a ring of `len` descriptors with 2048-byte buffers, `posted` of them
/// handed to the NIC (RDT), our MAC in RAL0/RAH0, RCTL = EN | `rctl`.
pub fn setup_rx(w: &mut World, len: u16, posted: u16, rctl: u32) -> RxRing {
    let mem = w.memory();
    let base = mem
        .alloc_coherent(len as usize * DESC_SIZE, 128)
        .expect("ring");
    let mut bufs = Vec::new();
    for slot in 0..len {
        let buf = mem
            .alloc(regs::RX_BUFFER_SIZE, regs::RX_BUFFER_SIZE)
            .expect("buffer");
        mem.map(buf, regs::RX_BUFFER_SIZE, DmaDir::FromDevice)
            .expect("map");
        mem.write_obj(
            base + slot as u64 * DESC_SIZE as u64,
            &RxDesc::for_buffer(buf),
        )
        .expect("descriptor");
        bufs.push(buf);
    }
    let mac = OUR_MAC;
    w.write_reg(regs::RDBAL, base as u32);
    w.write_reg(regs::RDBAH, (base >> 32) as u32);
    w.write_reg(regs::RDLEN, len as u32 * DESC_SIZE as u32);
    w.write_reg(regs::RDH, 0);
    w.write_reg(regs::RDT, posted as u32);
    w.write_reg(
        regs::RAL0,
        u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]),
    );
    w.write_reg(
        regs::RAH0,
        u16::from_le_bytes([mac[4], mac[5]]) as u32 | regs::RAH_AV,
    );
    w.write_reg(regs::RCTL, regs::RCTL_EN | rctl);
    // A read drains the posted writes ahead of it: the NIC is configured when this returns.
    w.read_reg(regs::STATUS);
    RxRing {
        base,
        len,
        bufs,
        next_to_clean: 0,
    }
}

impl RxRing {
    /// Takes every descriptor the NIC has completed, in ring order (as `e1000_clean_rx_irq`).
    pub fn harvest(&mut self, w: &mut World) -> Vec<Received> {
        let mut out = Vec::new();
        loop {
            let slot = self.next_to_clean;
            let at = self.base + slot as u64 * DESC_SIZE as u64;
            let d: RxDesc = w.memory().read_obj(at).expect("descriptor");
            if d.status & RXD_STAT_DD == 0 {
                return out;
            }
            assert_ne!(
                d.status & RXD_STAT_EOP,
                0,
                "one buffer per frame: EOP always set"
            );
            let bytes = w
                .memory()
                .slice(self.bufs[slot as usize], d.length.get() as usize)
                .expect("buffer")
                .to_vec();
            let id = w.rx_frame_id(slot);
            out.push(Received {
                slot,
                id,
                bytes,
                status: d.status,
                errors: d.errors,
            });
            w.memory()
                .write_obj(at, &RxDesc::for_buffer(self.bufs[slot as usize]))
                .expect("descriptor");
            self.next_to_clean = (slot + 1) % self.len;
        }
    }
}

/// The TX ring as the test driver keeps it.
pub struct TxRing {
    pub base: u64,
    pub len: u16,
    pub next_to_use: u16,
}

/// Programs the transmit side: a ring of `len` descriptors, TCTL = EN | `tctl`.
pub fn setup_tx(w: &mut World, len: u16, tctl: u32) -> TxRing {
    let base = w
        .memory()
        .alloc_coherent(len as usize * DESC_SIZE, 128)
        .expect("ring");
    w.write_reg(regs::TDBAL, base as u32);
    w.write_reg(regs::TDBAH, (base >> 32) as u32);
    w.write_reg(regs::TDLEN, len as u32 * DESC_SIZE as u32);
    w.write_reg(regs::TDH, 0);
    w.write_reg(regs::TDT, 0);
    w.write_reg(regs::TCTL, regs::TCTL_EN | tctl);
    w.read_reg(regs::STATUS);
    TxRing {
        base,
        len,
        next_to_use: 0,
    }
}

impl TxRing {
    /// Posts `data` as one frame in one descriptor (EOP | IFCS | RS) and rings the doorbell; returns
    /// the frame's id and slot.
    pub fn send(&mut self, w: &mut World, data: &[u8]) -> (FrameId, u16) {
        // Mapped in whole bus words: the NIC reads the 8-byte beats that cover the buffer.
        let map_len = data.len().next_multiple_of(8);
        let mem = w.memory();
        let buf = mem.alloc(map_len, 8).expect("buffer");
        mem.write(buf, data).expect("copy");
        mem.map(buf, map_len, DmaDir::ToDevice).expect("map");
        let slot = self.next_to_use;
        let desc = TxDesc::new(
            buf,
            data.len() as u16,
            TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS,
        );
        mem.write_obj(self.base + slot as u64 * DESC_SIZE as u64, &desc)
            .expect("descriptor");
        let id = w.new_frame_id();
        w.tx_frame_posted(slot, id);
        self.next_to_use = (slot + 1) % self.len;
        w.write_reg(regs::TDT, self.next_to_use as u32);
        (id, slot)
    }

    /// Posts a TCP/IP context descriptor then the frame in one data descriptor per piece (each buffer
    /// `misalign` bytes past an 8-byte boundary; the last one EOP | IFCS | RS), every data descriptor
    /// with `popts`, and rings the doorbell once; returns the frame's id.
    pub fn send_offload(
        &mut self,
        w: &mut World,
        ctx: ChecksumContext,
        tucmd: u8,
        pieces: &[&[u8]],
        popts: u8,
        misalign: usize,
    ) -> FrameId {
        let mut descs = vec![TxDesc::context(ctx, tucmd)];
        for (i, piece) in pieces.iter().enumerate() {
            let map_len = (misalign + piece.len()).next_multiple_of(8);
            let mem = w.memory();
            let buf = mem.alloc(map_len, 8).expect("buffer");
            mem.write(buf + misalign as u64, piece).expect("copy");
            mem.map(buf, map_len, DmaDir::ToDevice).expect("map");
            let last = i + 1 == pieces.len();
            let cmd = if last {
                TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS
            } else {
                0
            };
            descs.push(TxDesc::data(
                buf + misalign as u64,
                piece.len() as u16,
                cmd,
                popts,
            ));
        }
        let mut slot = self.next_to_use;
        for d in &descs {
            slot = self.next_to_use;
            w.memory()
                .write_obj(self.base + slot as u64 * DESC_SIZE as u64, d)
                .expect("descriptor");
            self.next_to_use = (slot + 1) % self.len;
        }
        let id = w.new_frame_id();
        w.tx_frame_posted(slot, id);
        w.write_reg(regs::TDT, self.next_to_use as u32);
        id
    }
}

/// Steps until the world is quiescent (panics past [`SETTLE_LIMIT`]: the NIC hung).
pub fn settle(w: &mut World) {
    let limit = w.cycle() + SETTLE_LIMIT;
    while !w.quiescent() {
        assert!(
            w.cycle() < limit,
            "no quiescence within {SETTLE_LIMIT} cycles"
        );
        w.step();
    }
    // Let timers and the last register effects play out.
    let end = w.cycle() + 200;
    w.run_until(end);
}
