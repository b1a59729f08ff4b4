//! `struct napi_struct`, the poll a driver registers with it, and GRO's entry and exits (net/core/dev.c
//! `napi_schedule`, `__napi_poll`, `napi_complete_done`; net/core/gro.c `napi_gro_receive`,
//! `gro_normal_one`, `gro_normal_list`).
//!
//! The core polls a device only through [`NapiPoll`], as `__napi_poll` calls `n->poll`: it never names
//! the driver.
//!
//! [`crate::gro`] merges TCP segments into held flows; what it does not hold, and the held skbs it
//! completes, wait on the NAPI's `rx_list` and go up as a batch once `gro_normal_batch` segments have
//! gathered, at the end of each poll and at `napi_complete_done`.

use crate::accounting::{IrqRound, Stage};
use crate::ctx::Ctx;
use crate::gro::{GroList, GroResult, GroStats, HZ};
use crate::skb::Skb;
use crate::softnet::{self, NapiRef, RxPath, SoftnetData};
use crate::time::Cycle;

/// One NAPI instance (the device's; per-CPU backlogs keep their state in [`SoftnetData`]).
#[derive(Debug)]
pub struct Napi {
    pub weight: u32,
    /// `NAPI_STATE_SCHED`: on a poll list or being polled.
    scheduled: bool,
    /// `NAPI_STATE_MISSED`: a `napi_schedule` came while it was scheduled; it polls once more.
    missed: bool,
    /// `dev->napi_defer_hard_irqs` and the instance's countdown (`n->defer_hard_irqs_count`).
    defer_hard_irqs: u32,
    defer_hard_irqs_count: u32,
    /// `dev->gro_flush_timeout`, in cycles.
    gro_flush_timeout: Cycle,
    /// `n->timer` (`napi_watchdog`) armed to fire at this cycle.
    timer: Option<Cycle>,
    /// `NETIF_F_GRO` on the device (`netif_elide_gro` when off).
    gro: bool,
    /// `napi->gro_hash`: the held flows.
    gro_list: GroList,
    /// `napi->rx_list`: skbs GRO passed on, waiting to go up as a batch.
    rx_list: Vec<Skb>,
    /// `napi->rx_count`: segments on `rx_list` (a merged skb counts all of its own).
    rx_count: u32,
    round: Option<IrqRound>,
}

impl Napi {
    /// The instance `netif_napi_add_weight` initialises, polled with `weight`, on a device with
    /// `napi_defer_hard_irqs` and `gro_flush_timeout` (cycles).
    pub fn new(weight: u32, defer_hard_irqs: u32, gro_flush_timeout: Cycle) -> Napi {
        Napi {
            weight,
            scheduled: false,
            missed: false,
            defer_hard_irqs,
            defer_hard_irqs_count: 0,
            gro_flush_timeout,
            timer: None,
            gro: true,
            gro_list: GroList::default(),
            rx_list: Vec::new(),
            rx_count: 0,
            round: None,
        }
    }

    /// The device's `NETIF_F_GRO` (ethtool `generic-receive-offload`), on by default as e1000 sets it.
    pub fn with_gro(self, gro: bool) -> Napi {
        Napi { gro, ..self }
    }

    /// The GRO counters.
    pub fn gro_stats(&self) -> &GroStats {
        self.gro_list.stats()
    }

    pub fn is_scheduled(&self) -> bool {
        self.scheduled
    }

    /// The interrupt round in progress, if an interrupt scheduled this NAPI.
    pub fn round(&self) -> Option<IrqRound> {
        self.round
    }

    /// `napi_schedule_prep`: claims `NAPI_STATE_SCHED`; if it was already set, sets `NAPI_STATE_MISSED`
    /// instead (so the running poll goes round once more) and returns false.
    pub fn schedule_prep(&mut self) -> bool {
        if self.scheduled {
            self.missed = true;
            return false;
        }
        self.scheduled = true;
        true
    }

    /// `__napi_schedule` → `____napi_schedule` after a successful [`Napi::schedule_prep`]: puts the
    /// device NAPI on this CPU's poll list and raises NET_RX_SOFTIRQ. `round` is the interrupt that
    /// scheduled it, if one did.
    pub fn schedule(&mut self, ctx: &mut Ctx, sd: &mut SoftnetData, round: Option<IrqRound>) {
        ctx.charge(ctx.costs.napi_schedule_ns);
        self.round = round;
        sd.schedule(NapiRef::Device, ctx.now);
    }

    /// When `napi_watchdog` is due, if armed.
    pub fn timer(&self) -> Option<Cycle> {
        self.timer
    }

    /// `napi_watchdog` (the hrtimer `napi_complete_done` armed): schedules the instance again unless it
    /// already is.
    pub fn watchdog(&mut self, ctx: &mut Ctx, sd: &mut SoftnetData) {
        self.timer = None;
        if self.schedule_prep() {
            self.schedule(ctx, sd, None);
        } else {
            // Scheduled meanwhile: nothing to miss, it is polled anyway.
            self.missed = false;
        }
    }

    /// `napi_gro_receive` → `dev_gro_receive` ([`GroList::dev_gro_receive`]): the skb merges into a held
    /// flow, is held, or joins `rx_list` after any flow it completed. With GRO off every skb goes
    /// straight to `rx_list` (`GRO_NORMAL`).
    pub fn gro_receive(&mut self, ctx: &mut Ctx, up: &mut RxPath, skb: Skb) {
        ctx.charge(ctx.costs.gro_receive_ns);
        ctx.stamp(skb.id, Stage::GroReceive);
        if !self.gro {
            return self.gro_normal_one(ctx, up, skb);
        }
        let (done, result) = self.gro_list.dev_gro_receive(skb, jiffies(ctx));
        if let Some(p) = done {
            self.gro_normal_one(ctx, up, p);
        }
        if let GroResult::Normal(skb) = result {
            self.gro_normal_one(ctx, up, skb);
        }
    }

    /// `gro_normal_one`: queue on `rx_list`, counting the skb's segments; a full batch goes up.
    fn gro_normal_one(&mut self, ctx: &mut Ctx, up: &mut RxPath, skb: Skb) {
        self.rx_count += u32::from(skb.gso_segs.max(1));
        self.rx_list.push(skb);
        if self.rx_count >= up.sysctl.gro_normal_batch {
            self.gro_normal_list(ctx, up);
        }
    }

    /// `gro_normal_list`: hands the held skbs up (`netif_receive_skb_list_internal`).
    pub fn gro_normal_list(&mut self, ctx: &mut Ctx, up: &mut RxPath) {
        self.rx_count = 0;
        for skb in std::mem::take(&mut self.rx_list) {
            ctx.charge(ctx.costs.gro_flush_per_packet_ns);
            softnet::netif_receive_skb(ctx, up, skb);
        }
    }

    /// `napi_gro_flush(n, flush_old)`: the held flows (with `flush_old`, those held before this jiffy)
    /// join `rx_list`.
    fn napi_gro_flush(&mut self, ctx: &mut Ctx, up: &mut RxPath, flush_old: bool) {
        for skb in self.gro_list.napi_gro_flush(flush_old, jiffies(ctx)) {
            self.gro_normal_one(ctx, up, skb);
        }
    }

    /// The end of `__napi_poll` after a poll that used its whole weight (the instance stays scheduled):
    /// `napi_gro_flush(n, HZ >= 1000)` flushes only flows older than the current jiffy, then
    /// `gro_normal_list`.
    pub fn poll_weight_done(&mut self, ctx: &mut Ctx, up: &mut RxPath) {
        self.napi_gro_flush(ctx, up, HZ >= 1000);
        self.gro_normal_list(ctx, up);
    }

    /// `napi_complete_done` (net/core/dev.c) after a poll that did `work_done`: flush GRO and leave the
    /// scheduled state. Returns whether the driver may re-enable its interrupt:
    /// - a poll that did work with GRO flows held arms `napi_watchdog` after a non-zero
    ///   `gro_flush_timeout`, and flushes only the flows older than this jiffy (the rest wait for the
    ///   timer's poll);
    /// - with `napi_defer_hard_irqs` set, a poll that did work restarts the countdown, and while it runs
    ///   down a non-zero `gro_flush_timeout` also keeps the interrupt masked (false);
    /// - if a `napi_schedule` came during the poll (`NAPI_STATE_MISSED`), the instance stays scheduled and
    ///   goes back on the poll list (false).
    pub fn complete_done(&mut self, ctx: &mut Ctx, up: &mut RxPath, work_done: u32) -> bool {
        ctx.charge(ctx.costs.napi_complete_ns);
        let mut timeout = 0;
        if work_done > 0 {
            if self.gro_list.has_held() {
                timeout = self.gro_flush_timeout;
            }
            self.defer_hard_irqs_count = self.defer_hard_irqs;
        }
        let mut ret = true;
        if self.defer_hard_irqs_count > 0 {
            self.defer_hard_irqs_count -= 1;
            timeout = self.gro_flush_timeout;
            if timeout > 0 {
                ret = false;
            }
        }
        // Bounds how long a postponed poll keeps packets in GRO.
        self.napi_gro_flush(ctx, up, timeout > 0);
        self.gro_normal_list(ctx, up);
        self.round = None;
        if self.missed {
            // NAPI_STATE_SCHED stays set: poll once more.
            self.missed = false;
            let sd = &mut up.softnet[ctx.cpu];
            self.schedule(ctx, sd, None);
            return false;
        }
        self.scheduled = false;
        if timeout > 0 {
            self.timer = Some(ctx.now + timeout);
        }
        ret
    }
}

/// `jiffies` at this CPU's time, ticking at [`HZ`].
fn jiffies(ctx: &Ctx) -> u64 {
    ctx.clock.cycles_to_ns_floor(ctx.now) / (1_000_000_000 / HZ)
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

/// `napi_poll` / `__napi_poll` (net/core/dev.c): `work = n->poll(n, n->weight)`. Returns the work and
/// whether the instance goes on the repoll list: it used its whole weight and is still scheduled (one
/// that completed but missed a schedule is already back on the poll list).
pub fn napi_poll(ctx: &mut Ctx, n: &mut dyn NapiPoll, up: &mut RxPath) -> (u32, bool) {
    let weight = n.napi().weight;
    let work = n.poll(ctx, up, weight);
    (work, work >= weight && n.napi().is_scheduled())
}
