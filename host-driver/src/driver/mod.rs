//! The e1000-style network driver (drivers/net/ethernet/intel/e1000): `struct e1000_adapter` and its
//! NAPI poll, `e1000_clean`. Probe, ISR, RX and TX each live in their own module under the kernel's names.

pub mod isr;
pub mod itr;
pub mod probe;
pub mod ring;
pub mod rx;
pub mod tx;

use serde::Serialize;

use crate::config::NapiMode;
use crate::ctx::Ctx;
use crate::dma::MemError;
use crate::napi::{Napi, NapiPoll};
use crate::regs;
use crate::softnet::RxPath;
use crate::wire::ethernet::MacAddr;

pub use probe::{probe, ProbeError};

/// Driver counters, named like `ethtool -S` for e1000.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DriverStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Frames `e1000_copybreak` copied into a small skb, leaving the ring buffer posted.
    pub rx_copybreak: u64,
    /// Descriptors with errors, no EOP or a bad length.
    pub rx_errors: u64,
    /// `hw_csum_good`: frames the NIC reported with a good TCP/UDP checksum (`e1000_rx_checksum`).
    pub rx_csum_offload_good: u64,
    /// `hw_csum_err`: frames the NIC flagged with a TCP/UDP checksum error, left to the stack.
    pub rx_csum_offload_errors: u64,
    /// Frames the logic analyser could not name (`Observer::rx_frame_id` returned None).
    pub rx_untracked: u64,
    pub alloc_rx_buff_failed: u64,
    /// RDT writes (one per refill batch).
    pub rx_tail_writes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames dropped in `xmit_frame` (no memory to map, empty frame).
    pub tx_dropped: u64,
    /// `netif_stop_queue` calls.
    pub tx_queue_stopped: u64,
    /// `netif_wake_queue` calls (e1000 `restart_queue`).
    pub tx_restart_queue: u64,
    /// Times BQL stopped the queue (`netdev_tx_sent_queue` set `__QUEUE_STATE_STACK_XOFF`).
    pub tx_stack_xoff: u64,
    /// `byte_queue_limits/limit` at the end of the run: bytes BQL lets the ring hold in flight.
    pub bql_limit: u64,
    /// Highest `limit` `dql_completed` reached.
    pub bql_limit_peak: u64,
    /// `byte_queue_limits/limit_max`.
    pub bql_limit_max: u64,
    /// `byte_queue_limits/inflight` at the end of the run.
    pub bql_inflight: u64,
    /// Most bytes in flight on the ring at once.
    pub bql_inflight_peak: u64,
    /// TDT writes.
    pub tx_doorbells: u64,
    /// `e1000_intr` runs that found a cause.
    pub interrupts: u64,
    /// `e1000_intr` runs that read ICR = 0 (IRQ_NONE).
    pub spurious_interrupts: u64,
    /// Cause bits seen in ICR.
    pub icr_rxt0: u64,
    pub icr_txdw: u64,
    pub icr_rxo: u64,
    pub icr_rxdmt0: u64,
    pub icr_lsc: u64,
    /// Per-packet mode: ICS writes re-raising RXT0 because frames were still waiting.
    pub irq_rearms: u64,
    /// Driver NAPI polls.
    pub polls: u64,
    /// ITR writes by `e1000_set_itr` (dynamic interrupt moderation).
    pub itr_writes: u64,
    /// `e1000_set_itr` found a latency range other than the one in force.
    pub itr_class_changes: u64,
    /// ... into lowest_latency (70000 interrupts/s; never in conservative mode).
    pub itr_to_lowest_latency: u64,
    /// ... into low_latency (20000 interrupts/s).
    pub itr_to_low_latency: u64,
    /// ... into bulk_latency (4000 interrupts/s).
    pub itr_to_bulk_latency: u64,
    /// `adapter->itr` at the end: the interrupt rate last written (0 = off).
    pub itr_ints_per_sec: u64,
    /// `packets_per_poll[n]`: polls that harvested `n` RX frames (the last bin holds the full weight).
    pub packets_per_poll: Vec<u64>,
    /// GRO: segments merged into a held skb (`skb_gro_receive`).
    pub gro_merged: u64,
    /// GRO: held skbs completed and handed up (`napi_gro_complete`), merged or not.
    pub gro_flushes: u64,
    /// `gro_segs_per_skb[n]`: of those, how many carried `n` segments (the last bin: 64 or more).
    pub gro_segs_per_skb: Vec<u64>,
}

/// Driver bookkeeping went wrong (a host-memory operation on a ring failed, or a ring slot lost its
/// frame): a bug or a corrupted ring, recorded and reported instead of panicking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverFault {
    #[error("{what} (ring slot {slot}): {error}")]
    Memory {
        what: &'static str,
        slot: u16,
        error: MemError,
    },
    #[error("TX ring slot {slot} is in flight but holds no frame")]
    LostTxBuffer { slot: u16 },
}

/// `struct e1000_adapter`: the rings, the NAPI instance and the counters of one probed NIC.
#[derive(Debug)]
pub struct Adapter {
    pub rx: rx::RxRing,
    pub tx: tx::TxRing,
    pub napi: Napi,
    mode: NapiMode,
    /// `netdev->dev_addr`, for `eth_type_trans`.
    mac: MacAddr,
    /// The `copybreak` module parameter.
    copybreak: u32,
    /// Interrupt moderation (`itr_setting`, `itr`, `rx_itr`, `tx_itr`).
    pub itr: itr::Itr,
    pub stats: DriverStats,
    pub faults: Vec<DriverFault>,
}

impl Adapter {
    /// The `ethtool -S` counters with the TX queue's byte queue limit as sysfs shows it now.
    pub fn ethtool_stats(&self) -> DriverStats {
        let dql = self.tx.dql();
        DriverStats {
            bql_limit: u64::from(dql.limit()),
            bql_limit_peak: u64::from(dql.limit_peak()),
            bql_limit_max: u64::from(dql.limit_max()),
            bql_inflight: u64::from(dql.inflight()),
            bql_inflight_peak: u64::from(dql.inflight_peak()),
            gro_merged: self.napi.gro_stats().merged,
            gro_flushes: self.napi.gro_stats().flushes,
            gro_segs_per_skb: self.napi.gro_stats().segs_per_skb.clone(),
            ..self.stats.clone()
        }
    }
}

/// Registered with the NAPI core (`netif_napi_add(netdev, &adapter->napi, e1000_clean)`).
impl NapiPoll for Adapter {
    fn napi(&self) -> &Napi {
        &self.napi
    }

    /// `e1000_clean`: reclaim TX (not charged to the budget), harvest RX up to the weight, and complete
    /// NAPI with the interrupt re-enabled if the work fit. Returns the RX work done.
    fn poll(&mut self, ctx: &mut Ctx, up: &mut RxPath, weight: u32) -> u32 {
        let start = ctx.now;
        ctx.charge(ctx.costs.napi_poll_ns);
        let budget = match self.mode {
            NapiMode::Napi => weight,
            NapiMode::PerPacket => 1,
        };
        let tx_clean_complete = self.clean_tx_irq(ctx);
        let harvested = self.clean_rx_irq(ctx, up, budget);
        ctx.activity.poll(start, harvested);
        self.stats.polls += 1;
        let bin = (harvested as usize).min(self.stats.packets_per_poll.len() - 1);
        self.stats.packets_per_poll[bin] += 1;
        let work = if tx_clean_complete { harvested } else { budget };
        if work < budget && self.itr.dynamic() {
            self.itr.set_itr(ctx, &mut self.stats);
        }
        match self.mode {
            NapiMode::Napi if work < budget => {
                if self.napi.complete_done(ctx, up, work) {
                    isr::irq_enable(ctx);
                }
            }
            NapiMode::Napi => self.napi.poll_weight_done(ctx, up),
            NapiMode::PerPacket => {
                self.napi.complete_done(ctx, up, work);
                isr::irq_enable(ctx);
                if self.rx_frame_waiting(ctx) {
                    // Nothing new will interrupt for frames already written back: raise RXT0 ourselves.
                    ctx.mmio_write(regs::ICS, regs::ICR_RXT0);
                    self.stats.irq_rearms += 1;
                }
            }
        }
        ctx.span("e1000_clean", start, None);
        work
    }
}
