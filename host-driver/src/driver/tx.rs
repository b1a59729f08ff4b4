//! Transmit: `e1000_xmit_frame` (`ndo_start_xmit`: check room, map, fill descriptors, BQL, stop
//! the queue when nearly full, doorbell) and `e1000_clean_tx_irq` (reclaim written-back frames,
//! free their skbs, BQL completion, wake the queue).
//!
//! The qdisc lives in the stack, which calls down through [`NetDeviceOps`]; the doorbell waits while
//! the stack says more frames follow (`xmit_more`), so a batch costs one TDT write.

use crate::accounting::{Consumer, DropReason, FrameId, Outcome, Stage};
use crate::ctx::Ctx;
use crate::desc::{TxDesc, TXD_CMD_EOP, TXD_CMD_IFCS, TXD_CMD_RS, TXD_STAT_DD};
use crate::dma::{DmaDir, MemError};
use crate::dql::Dql;
use crate::netdevice::{NetDeviceOps, NetdevTx};
use crate::regs;
use crate::skb::Skb;
use crate::time::Cycle;

use super::ring::Ring;
use super::{Adapter, DriverFault};

/// Largest buffer piece one TX descriptor carries (`E1000_MAX_DATA_PER_TXD`).
pub const MAX_DATA_PER_TXD: usize = 1 << 12;

/// `MAX_SKB_FRAGS` (include/linux/skbuff.h, `CONFIG_MAX_SKB_FRAGS` default).
pub const MAX_SKB_FRAGS: u16 = 17;

/// `desc_needed` of `e1000_xmit_frame`: the queue stops unless this many descriptors stay free for
/// the next frame ("higher than other Intel drivers due to a number of workarounds").
pub const E1000_DESC_NEEDED: u16 = MAX_SKB_FRAGS + 7;

/// `TX_WAKE_THRESHOLD` of `e1000_clean_tx_irq`: free descriptors before a stopped queue wakes.
pub const TX_WAKE_THRESHOLD: u16 = 32;

/// The NIC reads whole 8-byte beats, so frames are mapped in whole bus words.
const TX_MAP_GRANULE: usize = 8;

/// `struct e1000_tx_buffer` of a frame's first slot: its mapping, EOP slot and the skb itself,
/// which stays with the ring (charged to its socket) until reclaim frees it.
#[derive(Debug)]
struct TxBuffer {
    dma: u64,
    map_len: usize,
    /// `next_to_watch`: the EOP descriptor whose DD completes the frame.
    eop: u16,
    skb: Skb,
}

/// `struct e1000_tx_ring` plus the state of its `netdev_queue`: `__QUEUE_STATE_DRV_XOFF`
/// (`netif_stop_queue` / `netif_wake_queue`), `__QUEUE_STATE_STACK_XOFF` and the byte queue limit.
#[derive(Debug)]
pub struct TxRing {
    pub ring: Ring,
    buffers: Vec<Option<TxBuffer>>,
    /// `__QUEUE_STATE_DRV_XOFF`.
    drv_xoff: bool,
    /// `__QUEUE_STATE_STACK_XOFF`: BQL stopped the queue.
    stack_xoff: bool,
    /// `desc_needed`: free descriptors kept for the next frame.
    stop_threshold: u16,
    /// `TX_WAKE_THRESHOLD`.
    wake_threshold: u16,
    /// `netdev_queue.dql`.
    dql: Dql,
    /// Frames posted since the last doorbell.
    unannounced: Vec<FrameId>,
}

impl TxRing {
    /// A ring stopping with `stop_threshold` descriptors in reserve and waking at
    /// `wake_threshold` free; the byte queue limit starts (`dql_init`) at `now` with its slack
    /// held for `bql_hold_time` (a netdev queue's is HZ, one second) and `limit_min` as its floor.
    pub fn new(
        ring: Ring,
        stop_threshold: u16,
        wake_threshold: u16,
        bql_hold_time: Cycle,
        bql_limit_min: u32,
        now: Cycle,
    ) -> TxRing {
        TxRing {
            buffers: std::iter::repeat_with(|| None)
                .take(usize::from(ring.count()))
                .collect(),
            ring,
            drv_xoff: false,
            stack_xoff: false,
            stop_threshold,
            wake_threshold,
            dql: Dql::dql_init(bql_hold_time, bql_limit_min, now),
            unannounced: Vec::new(),
        }
    }

    /// `netif_queue_stopped`: the driver stopped the queue.
    pub fn is_stopped(&self) -> bool {
        self.drv_xoff
    }

    /// The queue's byte queue limit.
    pub fn dql(&self) -> &Dql {
        &self.dql
    }
}

/// The stack transmits through these (`e1000_netdev_ops`).
impl NetDeviceOps for Adapter {
    /// `e1000_xmit_frame`.
    fn ndo_start_xmit(&mut self, ctx: &mut Ctx, skb: Skb, more: bool) -> NetdevTx {
        self.xmit_frame(ctx, skb, more)
    }

    /// `netif_xmit_stopped`: `QUEUE_STATE_ANY_XOFF`.
    fn netif_xmit_stopped(&self) -> bool {
        self.tx.drv_xoff || self.tx.stack_xoff
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

    /// `e1000_xmit_frame`: one descriptor per piece of at most [`MAX_DATA_PER_TXD`] bytes, RS and EOP
    /// on the last. Without `count + 2` free descriptors the queue stops and the skb goes back
    /// (`NETDEV_TX_BUSY`). After posting: `netdev_sent_queue`, `e1000_maybe_stop_tx` with
    /// `desc_needed` in reserve, and the doorbell unless more frames follow and the queue is awake
    /// (`if (!netdev_xmit_more() || netif_xmit_stopped(...)) writel(tdt)`).
    fn xmit_frame(&mut self, ctx: &mut Ctx, skb: Skb, more: bool) -> NetdevTx {
        ctx.charge(ctx.costs.xmit_frame_ns);
        let id = skb.id;
        let len = skb.len();
        if len == 0 {
            // `dev_kfree_skb_any`: SKB_DROP_REASON_NOT_SPECIFIED.
            self.stats.tx_dropped += 1;
            return self.dev_kfree_skb_any(ctx, skb);
        }
        let count = len.div_ceil(MAX_DATA_PER_TXD);
        // "need: count + 2 desc gap to keep tail from touching head, otherwise try next time"
        if self.e1000_maybe_stop_tx(u16::try_from(count + 2).unwrap_or(u16::MAX)) {
            // A stopped queue has its posted frames announced (the rule the doorbell below keeps);
            // e1000's reserve makes frames posted with xmit_more impossible here, a smaller
            // configured reserve would otherwise strand them.
            self.tx_doorbell(ctx);
            return NetdevTx::Busy(skb);
        }
        let map_len = len.next_multiple_of(TX_MAP_GRANULE);
        let dma = match map_frame(ctx, skb.data(), map_len) {
            Ok(dma) => dma,
            Err(_) => {
                // `e1000_tx_map` failed (`dma_mapping_error`): `dev_kfree_skb_any`.
                self.stats.tx_dropped += 1;
                return self.dev_kfree_skb_any(ctx, skb);
            }
        };
        let first = self.tx.ring.next_to_use();
        let mut eop = first;
        for (n, off) in (0..len).step_by(MAX_DATA_PER_TXD).enumerate() {
            let piece = (len - off).min(MAX_DATA_PER_TXD);
            let last = n + 1 == count;
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
        self.netdev_sent_queue(len);
        self.tx.buffers[usize::from(first)] = Some(TxBuffer {
            dma,
            map_len,
            eop,
            skb,
        });
        ctx.probe().trace_xmit_frame(eop, id);
        self.tx.unannounced.push(id);
        // Make sure there is space in the ring for the next send.
        self.e1000_maybe_stop_tx(self.tx.stop_threshold);
        if !more || self.netif_xmit_stopped() {
            self.tx_doorbell(ctx);
        }
        NetdevTx::Ok
    }

    /// `dev_kfree_skb_any` of a frame `e1000_xmit_frame` cannot send: `NETDEV_TX_OK`, skb freed.
    fn dev_kfree_skb_any(&mut self, ctx: &mut Ctx, skb: Skb) -> NetdevTx {
        ctx.end_skb(skb, Outcome::Dropped(DropReason::NotSpecified));
        NetdevTx::Ok
    }

    /// `e1000_maybe_stop_tx` / `__e1000_maybe_stop_tx`: stop the queue unless `size` descriptors
    /// are free; true if it stays stopped (nothing can free descriptors meanwhile here, so the
    /// re-check after `smp_mb()` never restarts it).
    fn e1000_maybe_stop_tx(&mut self, size: u16) -> bool {
        if self.tx.ring.unused() >= size {
            return false;
        }
        if !self.tx.drv_xoff {
            self.tx.drv_xoff = true;
            self.stats.tx_queue_stopped += 1;
        }
        true
    }

    /// `netdev_sent_queue` → `netdev_tx_sent_queue`: `dql_queued`, and above the limit
    /// `__QUEUE_STATE_STACK_XOFF`.
    fn netdev_sent_queue(&mut self, bytes: usize) {
        self.tx
            .dql
            .dql_queued(u32::try_from(bytes).unwrap_or(u32::MAX));
        if self.tx.dql.dql_avail() >= 0 {
            return;
        }
        if !self.tx.stack_xoff {
            self.tx.stack_xoff = true;
            self.stats.tx_stack_xoff += 1;
        }
    }

    /// `netdev_completed_queue` → `netdev_tx_completed_queue`: `dql_completed`, and once below the
    /// limit clear `__QUEUE_STATE_STACK_XOFF` (`netif_schedule_queue`).
    fn netdev_completed_queue(&mut self, bytes: usize, now: Cycle) {
        if bytes == 0 {
            return;
        }
        self.tx
            .dql
            .dql_completed(u32::try_from(bytes).unwrap_or(u32::MAX), now);
        if self.tx.dql.dql_avail() >= 0 {
            self.tx.stack_xoff = false;
        }
    }

    /// `e1000_clean_tx_irq`: reclaim every frame whose EOP descriptor is done, at most a ring's worth
    /// of descriptors, freeing each skb (`dev_kfree_skb_any` → `sock_wfree`); report the bytes to BQL
    /// (`netdev_completed_queue`); wake the queue if descriptors were cleaned and at least
    /// `TX_WAKE_THRESHOLD` are free (`E1000_DESC_UNUSED(tx_ring) >= TX_WAKE_THRESHOLD`). Returns
    /// false if the limit was hit (more may wait).
    pub fn clean_tx_irq(&mut self, ctx: &mut Ctx) -> bool {
        let limit = self.tx.ring.count();
        let mut count: u16 = 0;
        let mut bytes_compl = 0;
        while count < limit && self.tx.ring.in_flight() > 0 {
            let i = self.tx.ring.next_to_clean();
            let Some(eop) = self.tx.buffers[usize::from(i)].as_ref().map(|b| b.eop) else {
                self.faults.push(DriverFault::LostTxBuffer { slot: i });
                break;
            };
            let done = ctx
                .plat()
                .memory()
                .read_obj::<TxDesc>(self.tx.ring.desc_addr(eop))
                .is_ok_and(|d| d.status & TXD_STAT_DD != 0);
            if !done {
                break;
            }
            ctx.charge(ctx.costs.tx_reclaim_per_packet_ns);
            let Some(buf) = self.tx.buffers[usize::from(i)].take() else {
                break;
            };
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
            let len = buf.skb.len();
            self.stats.tx_packets += 1;
            self.stats.tx_bytes += len as u64;
            bytes_compl += len;
            ctx.stamp_skb(&buf.skb, Stage::TxReclaim);
            ctx.end_skb(buf.skb, Outcome::Consumed(Consumer::Transmitted));
        }
        self.netdev_completed_queue(bytes_compl, ctx.now);
        if count > 0 && self.tx.drv_xoff && self.tx.ring.unused() >= self.tx.wake_threshold {
            // netif_wake_queue → __netif_schedule: the qdisc runs again (NET_TX_SOFTIRQ).
            self.tx.drv_xoff = false;
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
