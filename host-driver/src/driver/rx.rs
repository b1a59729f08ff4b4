//! Receive: `e1000_clean_rx_irq` (harvest written-back descriptors in order, up to the budget) and
//! `e1000_alloc_rx_buffers` (post fresh 2048-byte buffers, one RDT write per batch).
//!
//! A harvested frame longer than `copybreak` (256) is handed to the skb with its whole buffer
//! (`napi_build_skb`): the bytes move into the skb without a counted copy and the slot gets a newly
//! allocated buffer. A shorter one is copied into a small skb (`e1000_copybreak`, one counted copy)
//! and its buffer stays mapped in the slot, re-posted by the next refill without allocating.
//! `e1000_receive_skb` runs `eth_type_trans` before handing the skb to GRO.

use crate::accounting::{DropReason, FrameId, Outcome};
use crate::ctx::Ctx;
use crate::desc::{
    RxDesc, RXD_ERR_FRAME_ERR_MASK, RXD_ERR_TCPE, RXD_STAT_DD, RXD_STAT_EOP, RXD_STAT_IXSM,
    RXD_STAT_TCPCS,
};
use crate::dma::{DmaDir, MemError};
use crate::regs::{self, RX_BUFFER_SIZE};
use crate::skb::Skb;
use crate::softnet::RxPath;
use crate::stack::ethernet::eth_type_trans;

use super::ring::Ring;
use super::{Adapter, DriverFault};

/// Alignment of RX buffers (a cache line, as `netdev_alloc_skb` data on x86).
const RX_BUFFER_ALIGN: usize = 64;

/// `struct e1000_rx_ring`: descriptors plus the buffer posted in each slot.
#[derive(Debug)]
pub struct RxRing {
    pub ring: Ring,
    buffers: Vec<Option<u64>>,
    /// Refill (and write RDT) every this many harvested descriptors (`E1000_RX_BUFFER_WRITE`).
    refill_batch: u16,
}

impl RxRing {
    pub fn new(ring: Ring, refill_batch: u16) -> RxRing {
        RxRing {
            buffers: vec![None; usize::from(ring.count())],
            ring,
            refill_batch,
        }
    }

    /// Physical address of the buffer posted in `slot`.
    pub fn buffer(&self, slot: u16) -> Option<u64> {
        self.buffers.get(usize::from(slot)).copied().flatten()
    }
}

impl Adapter {
    /// `e1000_clean_rx_irq`: returns the number of descriptors harvested (at most `budget`).
    pub fn clean_rx_irq(&mut self, ctx: &mut Ctx, up: &mut RxPath, budget: u32) -> u32 {
        let mut work = 0;
        let mut cleaned: u16 = 0;
        while work < budget && self.rx.ring.in_flight() > 0 {
            let i = self.rx.ring.next_to_clean();
            let addr = self.rx.ring.desc_addr(i);
            let desc: RxDesc = match ctx.plat().memory().read_obj(addr) {
                Ok(d) => d,
                Err(e) => return self.fault(work, "read RX descriptor", i, e),
            };
            if desc.status & RXD_STAT_DD == 0 {
                break;
            }
            ctx.charge(ctx.costs.driver_rx_per_packet_ns);
            self.rx.ring.take_next_to_clean();
            work += 1;
            cleaned += 1;

            let (id, tracked) = ctx.probe().trace_clean_rx_irq(i, self.napi.round());
            self.stats.rx_untracked += u64::from(!tracked);

            let skb = match self.take_rx_buffer(ctx, i, desc, id) {
                Ok(s) => s,
                Err(e) => {
                    self.faults.push(DriverFault::Memory {
                        what: "take RX buffer",
                        slot: i,
                        error: e,
                    });
                    None
                }
            };
            match skb {
                Some(mut skb) => {
                    self.rx_checksum(desc, &mut skb);
                    self.stats.rx_packets += 1;
                    self.stats.rx_bytes += skb.len() as u64;
                    // e1000_receive_skb: skb->protocol = eth_type_trans(skb, netdev).
                    if eth_type_trans(&mut skb, self.mac) {
                        self.napi.gro_receive(ctx, up, skb);
                    } else {
                        ctx.end_skb(skb, Outcome::Dropped(DropReason::PktTooSmall));
                    }
                }
                None => {
                    self.stats.rx_errors += 1;
                    ctx.end(id, Outcome::Dropped(DropReason::NotSpecified));
                }
            }
            if cleaned >= self.rx.refill_batch {
                self.alloc_rx_buffers(ctx, cleaned);
                cleaned = 0;
            }
        }
        let unused = self.rx.ring.unused();
        if unused > 0 {
            self.alloc_rx_buffers(ctx, unused);
        }
        work
    }

    /// The skb for the frame in slot `i` (frame `id`), after clearing its descriptor: a copy into a
    /// small skb if it is no longer than `copybreak` (`e1000_copybreak`: `dma_sync_single_for_cpu`, the
    /// buffer stays posted in the slot), else the buffer itself, unmapped (`napi_build_skb`). None if
    /// the descriptor reports an error or a length no single buffer can hold (the buffer is freed).
    fn take_rx_buffer(
        &mut self,
        ctx: &mut Ctx,
        i: u16,
        desc: RxDesc,
        id: FrameId,
    ) -> Result<Option<Skb>, MemError> {
        let len = usize::from(desc.length.get());
        let good = desc.errors & RXD_ERR_FRAME_ERR_MASK == 0
            && desc.status & RXD_STAT_EOP != 0
            && (1..=RX_BUFFER_SIZE).contains(&len);
        let copybreak = good && len <= self.copybreak as usize;
        let mem = ctx.plat().memory();
        mem.write_obj(self.rx.ring.desc_addr(i), &RxDesc::default())?;
        let slot = &mut self.rx.buffers[usize::from(i)];
        let Some(buf) = *slot else {
            return Ok(None);
        };
        if copybreak {
            let skb = Skb::napi_alloc_skb_copy(id, mem.slice(buf, len)?);
            ctx.charge_copy(len);
            self.stats.rx_copybreak += 1;
            return Ok(Some(skb));
        }
        *slot = None;
        mem.unmap(buf, RX_BUFFER_SIZE, DmaDir::FromDevice)?;
        let frame = if good {
            Some(mem.slice(buf, len)?.to_vec())
        } else {
            None
        };
        mem.free(buf)?;
        Ok(frame.map(|f| Skb::napi_build_skb(id, f, RX_BUFFER_SIZE)))
    }

    /// `e1000_rx_checksum`: a good TCP/UDP checksum reported by the NIC makes the skb
    /// `CHECKSUM_UNNECESSARY`; a flagged error is counted and left to the stack to find and count;
    /// IXSM (not checked) or no TCPCS leaves the skb `CHECKSUM_NONE`. IPE is not looked at (the IP
    /// layer always verifies its header). With `rx-checksumming` off RXCSUM.TUOFLD is clear, so the NIC
    /// reports neither TCPCS nor TCPE.
    fn rx_checksum(&mut self, desc: RxDesc, skb: &mut Skb) {
        if desc.status & RXD_STAT_IXSM != 0 {
            return;
        }
        if desc.errors & RXD_ERR_TCPE != 0 {
            self.stats.rx_csum_offload_errors += 1;
            return;
        }
        if desc.status & RXD_STAT_TCPCS != 0 {
            skb.csum_unnecessary = true;
            self.stats.rx_csum_offload_good += 1;
        }
    }

    /// `e1000_alloc_rx_buffers`: post up to `count` fresh buffers at `next_to_use` and write RDT once.
    /// Returns how many were posted (fewer when host memory runs out: `alloc_rx_buff_failed`).
    pub fn alloc_rx_buffers(&mut self, ctx: &mut Ctx, count: u16) -> u16 {
        let mut filled = 0;
        while filled < count && self.rx.ring.unused() > 0 {
            let i = self.rx.ring.next_to_use();
            if let Some(buf) = self.rx.buffers[usize::from(i)] {
                // `if (buffer_info->rxbuf.data) goto skip;`: the copybroken buffer is posted again.
                let addr = self.rx.ring.desc_addr(i);
                if let Err(error) = ctx
                    .plat()
                    .memory()
                    .write_obj(addr, &RxDesc::for_buffer(buf))
                {
                    self.faults.push(DriverFault::Memory {
                        what: "re-post RX buffer",
                        slot: i,
                        error,
                    });
                    break;
                }
            } else {
                ctx.charge(ctx.costs.alloc_rx_buffer_ns);
                match post_rx_buffer(ctx, &self.rx.ring, i) {
                    Ok(buf) => self.rx.buffers[usize::from(i)] = Some(buf),
                    Err(_) => {
                        self.stats.alloc_rx_buff_failed += 1;
                        break;
                    }
                }
            }
            self.rx.ring.take_next_to_use();
            filled += 1;
        }
        if filled > 0 {
            // wmb(): descriptors are in memory before the tail moves.
            ctx.mmio_write(regs::RDT, u32::from(self.rx.ring.next_to_use()));
            self.stats.rx_tail_writes += 1;
        }
        filled
    }

    /// True if the descriptor at `next_to_clean` is already written back.
    pub fn rx_frame_waiting(&self, ctx: &mut Ctx) -> bool {
        let ring = &self.rx.ring;
        ring.in_flight() > 0
            && ctx
                .plat()
                .memory()
                .read_obj::<RxDesc>(ring.desc_addr(ring.next_to_clean()))
                .is_ok_and(|d| d.status & RXD_STAT_DD != 0)
    }

    fn fault(&mut self, work: u32, what: &'static str, slot: u16, error: MemError) -> u32 {
        self.faults.push(DriverFault::Memory { what, slot, error });
        work
    }
}

/// Allocates and maps one buffer and writes its descriptor.
fn post_rx_buffer(ctx: &mut Ctx, ring: &Ring, i: u16) -> Result<u64, MemError> {
    let mem = ctx.plat().memory();
    let buf = mem.alloc(RX_BUFFER_SIZE, RX_BUFFER_ALIGN)?;
    let mapped = mem
        .map(buf, RX_BUFFER_SIZE, DmaDir::FromDevice)
        .and_then(|_| mem.write_obj(ring.desc_addr(i), &RxDesc::for_buffer(buf)));
    if let Err(e) = mapped {
        // Leave nothing behind for a slot that stays empty.
        let _ = mem.unmap(buf, RX_BUFFER_SIZE, DmaDir::FromDevice);
        mem.free(buf)?;
        return Err(e);
    }
    Ok(buf)
}
