//! `pfifo_fast` (net/sched/sch_generic.c), the default root qdisc of a single-queue device:
//! three FIFO bands picked by `skb->priority`, dequeued strictly band 0 first, at most
//! `txqueuelen` packets in all; a full qdisc drops the new packet (`qdisc_drop`). And
//! [`Stack::qdisc_run`], which dequeues into the device through its `ndo_start_xmit` and
//! requeues a frame the driver hands back busy (`dev_requeue_skb`).

use std::collections::VecDeque;

use serde::Serialize;

use super::Stack;
use crate::ctx::Ctx;
use crate::netdevice::{NetDeviceOps, NetdevTx};
use crate::skb::Skb;

/// `sch_generic.c: prio2band`: TC priority → band.
const PRIO2BAND: [usize; 16] = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

/// `route.c: ip_tos2prio`, indexed by `IPTOS_TOS(tos) >> 1`: best effort 0, bulk 2,
/// interactive bulk 4, interactive 6.
const TOS2PRIO: [u32; 16] = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4];

/// `rt_tos2priority`: the `skb->priority` a socket's TOS selects.
pub fn tos_to_priority(tos: u8) -> u32 {
    TOS2PRIO[usize::from((tos & 0x1e) >> 1)]
}

/// `tc -s qdisc show dev eth0`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct QdiscCounters {
    /// Packets accepted.
    pub enqueued: u64,
    /// Packets handed to the driver.
    pub sent: u64,
    /// Packets dropped because the qdisc was full.
    pub dropped: u64,
    /// Packets the driver handed back with `NETDEV_TX_BUSY` and the qdisc requeued
    /// (`dev_requeue_skb`: `qstats.requeues`, tc's "requeues").
    pub requeues: u64,
    /// Highest backlog seen, in packets.
    pub backlog_max: u64,
}

#[derive(Debug)]
pub struct PfifoFast {
    /// `q->gso_skb`: a requeued skb, sent before anything in the bands.
    requeued: VecDeque<Skb>,
    bands: [VecDeque<Skb>; 3],
    limit: usize,
    counters: QdiscCounters,
}

impl PfifoFast {
    pub fn new(limit: usize) -> PfifoFast {
        PfifoFast {
            requeued: VecDeque::new(),
            bands: Default::default(),
            limit,
            counters: QdiscCounters::default(),
        }
    }

    /// Packets queued (`q.qlen`), a requeued one included.
    pub fn backlog(&self) -> usize {
        self.requeued.len() + self.bands.iter().map(VecDeque::len).sum::<usize>()
    }

    /// `pfifo_fast_enqueue`; a full qdisc hands the packet back for the caller to drop.
    pub fn enqueue(&mut self, skb: Skb) -> Result<(), Skb> {
        if self.backlog() >= self.limit {
            self.counters.dropped += 1;
            return Err(skb);
        }
        let band = PRIO2BAND[(skb.priority & 15) as usize];
        self.bands[band].push_back(skb);
        self.counters.enqueued += 1;
        self.counters.backlog_max = self.counters.backlog_max.max(self.backlog() as u64);
        Ok(())
    }

    /// `dequeue_skb`: a requeued skb first (already counted as sent), else `pfifo_fast_dequeue`,
    /// the head of the first non-empty band.
    pub fn dequeue(&mut self) -> Option<Skb> {
        if let Some(skb) = self.requeued.pop_front() {
            return Some(skb);
        }
        let skb = self.bands.iter_mut().find_map(VecDeque::pop_front)?;
        self.counters.sent += 1;
        Some(skb)
    }

    /// `dev_requeue_skb` (net/sched/sch_generic.c): the driver returned `NETDEV_TX_BUSY`; keep the
    /// skb at the head (`q->gso_skb`), count a requeue, and retry when the queue wakes.
    pub fn dev_requeue_skb(&mut self, skb: Skb) {
        self.requeued.push_back(skb);
        self.counters.requeues += 1;
    }

    pub fn counters(&self) -> QdiscCounters {
        self.counters
    }
}

impl Stack {
    /// `qdisc_run` → `__qdisc_run` → `qdisc_restart` → `sch_direct_xmit` (net/sched/sch_generic.c):
    /// under `HARD_TX_LOCK`, dequeue while the device's queue is awake and hand each frame to
    /// `dev_hard_start_xmit`, telling the driver whether more follow (`xmit_more`), so it rings
    /// the doorbell once for the batch. A frame the driver refuses (`NETDEV_TX_BUSY`) is requeued
    /// (`dev_requeue_skb`), never dropped, and the run ends until the queue wakes.
    pub fn qdisc_run(&mut self, ctx: &mut Ctx, dev: &mut dyn NetDeviceOps) {
        if dev.netif_xmit_stopped() {
            return;
        }
        self.txq.hard_tx_lock(ctx);
        while !dev.netif_xmit_stopped() {
            let Some(skb) = self.qdisc.dequeue() else {
                break;
            };
            let more = self.qdisc.backlog() > 0;
            if let NetdevTx::Busy(skb) = self.dev_hard_start_xmit(ctx, dev, skb, more) {
                self.qdisc.dev_requeue_skb(skb);
                break;
            }
        }
        self.txq.hard_tx_unlock(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skb(id: u64, tos: u8) -> Skb {
        let mut s = Skb::from_dma(id, vec![0; 60]);
        s.priority = tos_to_priority(tos);
        s
    }

    #[test]
    fn tos_maps_to_kernel_priorities() {
        assert_eq!(tos_to_priority(0x00), 0);
        assert_eq!(tos_to_priority(0x10), 6, "IPTOS_LOWDELAY is interactive");
        assert_eq!(tos_to_priority(0x08), 2, "IPTOS_THROUGHPUT is bulk");
        assert_eq!(tos_to_priority(0x18), 4);
    }

    #[test]
    fn bands_dequeue_in_priority_order_fifo_within() {
        let mut q = PfifoFast::new(10);
        for (id, tos) in [(1, 0x08), (2, 0x00), (3, 0x10), (4, 0x00), (5, 0x10)] {
            q.enqueue(skb(id, tos)).unwrap();
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.dequeue()).map(|s| s.id).collect();
        assert_eq!(order, vec![3, 5, 2, 4, 1]);
        assert_eq!(q.counters().sent, 5);
    }

    #[test]
    fn full_qdisc_drops_the_new_packet() {
        let mut q = PfifoFast::new(2);
        q.enqueue(skb(1, 0)).unwrap();
        q.enqueue(skb(2, 0x10)).unwrap();
        assert_eq!(q.enqueue(skb(3, 0x10)).unwrap_err().id, 3);
        assert_eq!(
            q.counters(),
            QdiscCounters {
                enqueued: 2,
                sent: 0,
                dropped: 1,
                requeues: 0,
                backlog_max: 2
            }
        );
    }

    /// `dev_requeue_skb`: the refused skb goes out first next time, is counted as a requeue and
    /// not again as sent, and stays in the backlog meanwhile.
    #[test]
    fn dev_requeue_skb_sends_the_refused_skb_first() {
        let mut q = PfifoFast::new(10);
        q.enqueue(skb(1, 0)).unwrap();
        q.enqueue(skb(2, 0)).unwrap();
        let first = q.dequeue().unwrap();
        q.dev_requeue_skb(first);
        assert_eq!(q.backlog(), 2);
        let order: Vec<u64> = std::iter::from_fn(|| q.dequeue()).map(|s| s.id).collect();
        assert_eq!(order, vec![1, 2]);
        assert_eq!((q.counters().sent, q.counters().requeues), (2, 1));
    }
}
