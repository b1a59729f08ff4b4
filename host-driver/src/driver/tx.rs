//! Transmit: `e1000_xmit_frame` (`ndo_start_xmit`: map, fill descriptors, doorbell, stop the queue when
//! nearly full) and `e1000_clean_tx_irq` (reclaim written-back frames, wake the queue).
//!
//! The qdisc lives in the stack, which calls down through [`NetDeviceOps`]; the doorbell waits while
//! the stack says more frames follow (`xmit_more`), so a batch costs one TDT write.

use crate::accounting::{Consumer, DropReason, FrameId, Outcome, Stage};
use crate::ctx::Ctx;
use crate::desc::{TxDesc, TXD_CMD_EOP, TXD_CMD_IFCS, TXD_CMD_RS, TXD_STAT_DD};
use crate::dma::{DmaDir, MemError};
use crate::netdevice::NetDeviceOps;
use crate::regs;
use crate::skb::Skb;

use super::ring::Ring;
use super::{Adapter, DriverFault};

/// Largest buffer piece one TX descriptor carries (`E1000_MAX_DATA_PER_TXD`).
pub const MAX_DATA_PER_TXD: usize = 1 << 12;

/// The NIC reads whole 8-byte beats, so frames are mapped in whole bus words.
const TX_MAP_GRANULE: usize = 8;

/// `struct e1000_tx_buffer` of a frame's first slot: its mapping, EOP slot and frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TxBuffer {
    dma: u64,
    map_len: usize,
    /// `next_to_watch`: the EOP descriptor whose DD completes the frame.
    eop: u16,
    id: FrameId,
    len: usize,
}

/// `struct e1000_tx_ring` plus the queue state (`netif_stop_queue` / `netif_wake_queue`).
#[derive(Debug)]
pub struct TxRing {
    pub ring: Ring,
    buffers: Vec<Option<TxBuffer>>,
    stopped: bool,
    stop_threshold: u16,
    wake_threshold: u16,
    /// Frames posted since the last doorbell.
    unannounced: Vec<FrameId>,
}

impl TxRing {
    pub fn new(ring: Ring, stop_threshold: u16, wake_threshold: u16) -> TxRing {
        TxRing {
            buffers: vec![None; usize::from(ring.count())],
            ring,
            stopped: false,
            stop_threshold,
            wake_threshold,
            unannounced: Vec::new(),
        }
    }

    /// `netif_queue_stopped`.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }
}

/// The stack transmits through these (`e1000_netdev_ops`).
impl NetDeviceOps for Adapter {
    /// `e1000_xmit_frame`, then the doorbell unless more frames follow and the queue is still awake
    /// (`if (!netdev_xmit_more() || netif_xmit_stopped(...)) writel(tdt)`).
    fn ndo_start_xmit(&mut self, ctx: &mut Ctx, skb: Skb, more: bool) {
        if let Some(id) = self.xmit_frame(ctx, skb) {
            self.tx.unannounced.push(id);
        }
        if !more || self.tx.stopped {
            self.tx_doorbell(ctx);
        }
    }

    fn netif_xmit_stopped(&self) -> bool {
        self.tx.stopped
    }
}

impl Adapter {
    /// Writes TDT for the frames posted since the last doorbell, if any.
    fn tx_doorbell(&mut self, ctx: &mut Ctx) {
        if self.tx.unannounced.is_empty() {
            return;
        }
        let at = ctx.now;
        // wmb(): descriptors are in memory before the doorbell.
        ctx.mmio_write(regs::TDT, u32::from(self.tx.ring.next_to_use()));
        self.stats.tx_doorbells += 1;
        for id in self.tx.unannounced.drain(..) {
            ctx.trace.stamp(id, Stage::Doorbell, at);
        }
    }

    /// `e1000_xmit_frame` without the doorbell: map the frame, one descriptor per piece of at most
    /// [`MAX_DATA_PER_TXD`] bytes, RS and EOP on the last. Returns the frame id if it was posted.
    fn xmit_frame(&mut self, ctx: &mut Ctx, skb: Skb) -> Option<FrameId> {
        ctx.charge(ctx.costs.xmit_frame_ns);
        let id = skb.id;
        let len = skb.len();
        let pieces = len.div_ceil(MAX_DATA_PER_TXD);
        if len == 0 {
            self.stats.tx_dropped += 1;
            ctx.end(id, Outcome::Dropped(DropReason::PacketTooSmall));
            return None;
        }
        if pieces > usize::from(self.tx.ring.unused()) {
            self.netif_stop_queue();
            self.stats.tx_dropped += 1;
            ctx.end(id, Outcome::Dropped(DropReason::TxRingFull));
            return None;
        }
        let map_len = len.next_multiple_of(TX_MAP_GRANULE);
        let dma = match map_frame(ctx, skb.data(), map_len) {
            Ok(dma) => dma,
            Err(_) => {
                self.stats.tx_dropped += 1;
                ctx.end(id, Outcome::Dropped(DropReason::TxDmaMapError));
                return None;
            }
        };
        let first = self.tx.ring.next_to_use();
        let mut eop = first;
        for (n, off) in (0..len).step_by(MAX_DATA_PER_TXD).enumerate() {
            let piece = (len - off).min(MAX_DATA_PER_TXD);
            let last = n + 1 == pieces;
            let cmd = TXD_CMD_IFCS | if last { TXD_CMD_EOP | TXD_CMD_RS } else { 0 };
            eop = self.tx.ring.take_next_to_use();
            let desc = TxDesc::new(dma + off as u64, piece as u16, cmd);
            if let Err(error) = ctx
                .plat()
                .memory()
                .write_obj(self.tx.ring.desc_addr(eop), &desc)
            {
                self.faults.push(DriverFault::Memory {
                    what: "write TX descriptor",
                    slot: eop,
                    error,
                });
            }
        }
        self.tx.buffers[usize::from(first)] = Some(TxBuffer {
            dma,
            map_len,
            eop,
            id,
            len,
        });
        ctx.probe().trace_xmit_frame(eop, id);
        if self.tx.ring.unused() < self.tx.stop_threshold {
            self.netif_stop_queue();
        }
        Some(id)
    }

    fn netif_stop_queue(&mut self) {
        if !self.tx.stopped {
            self.tx.stopped = true;
            self.stats.tx_queue_stopped += 1;
        }
    }

    /// `e1000_clean_tx_irq`: reclaim every frame whose EOP descriptor is done, at most a ring's worth of
    /// descriptors; wake the queue once enough are free. Returns false if the limit was hit (more may wait).
    pub fn clean_tx_irq(&mut self, ctx: &mut Ctx) -> bool {
        let limit = self.tx.ring.count();
        let mut count: u16 = 0;
        while count < limit && self.tx.ring.in_flight() > 0 {
            let i = self.tx.ring.next_to_clean();
            let Some(buf) = self.tx.buffers[usize::from(i)] else {
                self.faults.push(DriverFault::LostTxBuffer { slot: i });
                break;
            };
            let done = ctx
                .plat()
                .memory()
                .read_obj::<TxDesc>(self.tx.ring.desc_addr(buf.eop))
                .is_ok_and(|d| d.status & TXD_STAT_DD != 0);
            if !done {
                break;
            }
            ctx.charge(ctx.costs.tx_reclaim_per_packet_ns);
            self.tx.buffers[usize::from(i)] = None;
            loop {
                let j = self.tx.ring.take_next_to_clean();
                count += 1;
                if let Err(error) = ctx
                    .plat()
                    .memory()
                    .write_obj(self.tx.ring.desc_addr(j), &TxDesc::default())
                {
                    self.faults.push(DriverFault::Memory {
                        what: "clear TX descriptor",
                        slot: j,
                        error,
                    });
                }
                if j == buf.eop {
                    break;
                }
            }
            let mem = ctx.plat().memory();
            if let Err(error) = mem
                .unmap(buf.dma, buf.map_len, DmaDir::ToDevice)
                .and_then(|_| mem.free(buf.dma))
            {
                self.faults.push(DriverFault::Memory {
                    what: "unmap TX buffer",
                    slot: i,
                    error,
                });
            }
            self.stats.tx_packets += 1;
            self.stats.tx_bytes += buf.len as u64;
            ctx.stamp(buf.id, Stage::TxReclaim);
            ctx.end(buf.id, Outcome::Consumed(Consumer::Transmitted));
        }
        if self.tx.stopped && self.tx.ring.unused() >= self.tx.wake_threshold {
            self.tx.stopped = false;
            self.stats.tx_restart_queue += 1;
        }
        count < limit
    }
}

/// Places the frame in host memory and maps it for the device (`dma_map_single(DMA_TO_DEVICE)`).
fn map_frame(ctx: &mut Ctx, data: &[u8], map_len: usize) -> Result<u64, MemError> {
    let mem = ctx.plat().memory();
    let dma = mem.alloc(map_len, TX_MAP_GRANULE)?;
    let mapped = mem
        .write(dma, data)
        .and_then(|_| mem.map(dma, map_len, DmaDir::ToDevice));
    if let Err(e) = mapped {
        mem.free(dma)?;
        return Err(e);
    }
    Ok(dma)
}
