//! The device as the core transmits through it (include/linux/netdevice.h, net/core/dev.c): the
//! [`NetDeviceOps`] a driver implements, their return codes, and the core's part of the TX queue
//! ([`NetdevQueue`]). The stack's qdisc calls down through these (`dev_hard_start_xmit` lives in
//! the stack, beside the taps it feeds), so the driver never calls up.

use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::time::Cycle;

/// `netdev_tx_t`: what `ndo_start_xmit` did with the skb.
#[derive(Debug)]
pub enum NetdevTx {
    /// `NETDEV_TX_OK`: the driver took the skb (posted it, or freed it on an error).
    Ok,
    /// `NETDEV_TX_BUSY`: no room on the ring; the queue is stopped and the skb handed back for
    /// the qdisc to requeue (`dev_requeue_skb`).
    Busy(Skb),
}

/// `NET_XMIT_*`: what `dev_queue_xmit` (and the output path above it) did with an skb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetXmit {
    /// `NET_XMIT_SUCCESS`: queued (or held for the neighbour, or consumed on the way).
    Success,
    /// `NET_XMIT_DROP`: the qdisc dropped it; `net_xmit_errno` makes this `-ENOBUFS`.
    Drop,
}

impl NetXmit {
    /// The first failure of two transmissions (fragments of one datagram).
    pub fn and(self, other: NetXmit) -> NetXmit {
        if self == NetXmit::Drop {
            self
        } else {
            other
        }
    }
}

/// `struct net_device_ops`, the part the transmit path uses (e1000: `e1000_netdev_ops`).
pub trait NetDeviceOps {
    /// `ndo_start_xmit`: put `skb` on the device's TX ring. `more` is `netdev_xmit_more()`: more
    /// frames follow at once, so the driver may hold the doorbell back.
    fn ndo_start_xmit(&mut self, ctx: &mut Ctx, skb: Skb, more: bool) -> NetdevTx;
    /// `netif_xmit_stopped`: the driver (`netif_stop_queue`) or BQL (`__QUEUE_STATE_STACK_XOFF`)
    /// stopped the queue until there is room again.
    fn netif_xmit_stopped(&self) -> bool;
}

/// `struct netdev_queue` of the device's one TX queue, the core's half: `_xmit_lock`, which CPUs
/// transmitting at once contend for.
#[derive(Debug, Default)]
pub struct NetdevQueue {
    /// The CPU that last transmitted and the cycle it released `_xmit_lock`.
    xmit_lock_free_at: (usize, Cycle),
}

impl NetdevQueue {
    /// `HARD_TX_LOCK`: another CPU may hold the lock until later; spin until it is free. The CPU that
    /// held it last never waits for itself: the lock is taken with bottom halves off, so nothing on
    /// that CPU runs inside the critical section (an interrupt that preempts a task's step runs before
    /// the step's transmit, whose time lies ahead).
    pub fn hard_tx_lock(&self, ctx: &mut Ctx) {
        let (holder, free_at) = self.xmit_lock_free_at;
        if holder != ctx.cpu {
            ctx.now = ctx.now.max(free_at);
        }
    }

    /// `HARD_TX_UNLOCK`, now.
    pub fn hard_tx_unlock(&mut self, ctx: &Ctx) {
        self.xmit_lock_free_at = (ctx.cpu, ctx.now);
    }
}
