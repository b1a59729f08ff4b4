//! The device as the core transmits through it (include/linux/netdevice.h, net/core/dev.c): the
//! [`NetDeviceOps`] a driver implements, `dev_hard_start_xmit`, and the core's part of the TX queue
//! ([`NetdevQueue`]). The stack's qdisc calls down through these, so the driver never calls up.

use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::time::Cycle;

/// `struct net_device_ops`, the part the transmit path uses (e1000: `e1000_netdev_ops`).
pub trait NetDeviceOps {
    /// `ndo_start_xmit`: put `skb` on the device's TX ring; the driver consumes it either way
    /// (`NETDEV_TX_OK`). `more` is `netdev_xmit_more()`: more frames follow at once, so the driver may
    /// hold the doorbell back.
    fn ndo_start_xmit(&mut self, ctx: &mut Ctx, skb: Skb, more: bool);
    /// `netif_xmit_stopped`: the driver stopped the queue (`netif_stop_queue`) until it has room again.
    fn netif_xmit_stopped(&self) -> bool;
}

/// `dev_hard_start_xmit` → `xmit_one` → `netdev_start_xmit` (net/core/dev.c): one skb to the driver.
pub fn dev_hard_start_xmit(ctx: &mut Ctx, dev: &mut dyn NetDeviceOps, skb: Skb, more: bool) {
    dev.ndo_start_xmit(ctx, skb, more);
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
