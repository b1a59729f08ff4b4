//! `struct napi_struct`, the poll a driver registers with it, and GRO (net/core/dev.c `napi_schedule`,
//! `__napi_poll`, `napi_complete_done`; net/core/gro.c `napi_gro_receive`, `gro_normal_list`).
//!
//! The core polls a device only through [`NapiPoll`], as `__napi_poll` calls `n->poll`: it never names
//! the driver.
//!
//! GRO here performs no merging: every skb is held on the NAPI's `rx_list` and handed up as a batch when
//! `gro_normal_batch` skbs have gathered, at the end of each poll and at `napi_complete_done` — the same
//! points the kernel flushes, so the stage and its batching delay are real.

use crate::accounting::{IrqRound, Stage};
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::softnet::{self, NapiRef, RxPath, SoftnetData};

/// One NAPI instance (the device's; per-CPU backlogs keep their state in [`SoftnetData`]).
#[derive(Debug)]
pub struct Napi {
    pub weight: u32,
    /// `NAPI_STATE_SCHED`: on a poll list or being polled.
    scheduled: bool,
    /// `napi->rx_list`: skbs GRO passed on, waiting to go up as a batch.
    rx_list: Vec<Skb>,
    round: Option<IrqRound>,
}

impl Napi {
    /// The instance `netif_napi_add_weight` initialises, polled with `weight`.
    pub fn new(weight: u32) -> Napi {
        Napi {
            weight,
            scheduled: false,
            rx_list: Vec::new(),
            round: None,
        }
    }

    pub fn is_scheduled(&self) -> bool {
        self.scheduled
    }

    /// The interrupt round in progress, if an interrupt scheduled this NAPI.
    pub fn round(&self) -> Option<IrqRound> {
        self.round
    }

    /// `napi_schedule_prep` + `____napi_schedule`: puts the device NAPI on this CPU's poll list and raises
    /// NET_RX_SOFTIRQ. Returns false if it was already scheduled.
    pub fn schedule(
        &mut self,
        ctx: &mut Ctx,
        sd: &mut SoftnetData,
        round: Option<IrqRound>,
    ) -> bool {
        if self.scheduled {
            return false;
        }
        ctx.charge(ctx.costs.napi_schedule_ns);
        self.scheduled = true;
        self.round = round;
        sd.schedule(NapiRef::Device, ctx.now);
        true
    }

    /// `napi_gro_receive`: no merge, so the skb joins `rx_list` (`gro_normal_one`).
    pub fn gro_receive(&mut self, ctx: &mut Ctx, up: &mut RxPath, skb: Skb) {
        ctx.charge(ctx.costs.gro_receive_ns);
        ctx.stamp(skb.id, Stage::GroReceive);
        self.rx_list.push(skb);
        if self.rx_list.len() >= up.sysctl.gro_normal_batch as usize {
            self.gro_normal_list(ctx, up);
        }
    }

    /// `gro_normal_list`: hands the held skbs up (`netif_receive_skb_list_internal`).
    pub fn gro_normal_list(&mut self, ctx: &mut Ctx, up: &mut RxPath) {
        for skb in std::mem::take(&mut self.rx_list) {
            ctx.charge(ctx.costs.gro_flush_per_packet_ns);
            softnet::netif_receive_skb(ctx, up, skb);
        }
    }

    /// `napi_complete_done`: flush GRO, leave the poll list state. Returns true, meaning the driver
    /// may re-enable its interrupt (the kernel returns false only for busy polling, not modelled).
    pub fn complete_done(&mut self, ctx: &mut Ctx, up: &mut RxPath) -> bool {
        ctx.charge(ctx.costs.napi_complete_ns);
        self.gro_normal_list(ctx, up);
        self.scheduled = false;
        self.round = None;
        true
    }
}

/// A driver's NAPI context as `netif_napi_add` registers it: the `struct napi_struct` the driver embeds
/// and its `poll` function (e1000: `e1000_clean`).
pub trait NapiPoll {
    /// The registered instance.
    fn napi(&self) -> &Napi;
    /// `napi->poll(napi, weight)`: does up to `weight` packets of work and returns how much it did,
    /// calling [`Napi::complete_done`] if it is finished.
    fn poll(&mut self, ctx: &mut Ctx, up: &mut RxPath, weight: u32) -> u32;
}

/// `__napi_poll` (net/core/dev.c): `work = n->poll(n, n->weight)`. Returns the work and whether the
/// instance is still scheduled, so goes back on the poll list.
pub fn napi_poll(ctx: &mut Ctx, n: &mut dyn NapiPoll, up: &mut RxPath) -> (u32, bool) {
    let weight = n.napi().weight;
    let work = n.poll(ctx, up, weight);
    (work, n.napi().is_scheduled())
}
