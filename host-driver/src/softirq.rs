//! Softirqs (kernel/softirq.c, net/core/dev.c): `__do_softirq`, which runs pending softirqs and
//! restarts while more are raised, and NET_RX_SOFTIRQ's handler `net_rx_action`, which polls each
//! NAPI on this CPU's poll list: the device's through the instance its driver registered
//! ([`crate::napi::NapiPoll`]), the RPS backlog through `process_backlog`.
//!
//! Budgets are in simulated time: `netdev_budget_usecs` and `MAX_SOFTIRQ_TIME` are compared with the
//! CPU's local cycle count, so a run that spends too long (slow stack costs, many packets) is cut short
//! exactly as the kernel would cut it (the kernel counts in jiffies; this counts exact nanoseconds).

use std::collections::VecDeque;

use crate::ctx::Ctx;
use crate::napi::{self, NapiPoll};
use crate::softnet::{self, BacklogPoll, NapiRef, RxPath};
use crate::time::{Clock, Cycle};

/// `MAX_SOFTIRQ_RESTART` (kernel/softirq.c): handler rounds one `__do_softirq` may run.
pub const MAX_SOFTIRQ_RESTART: u32 = 10;
/// `MAX_SOFTIRQ_TIME` (kernel/softirq.c): `msecs_to_jiffies(2)`, in nanoseconds.
pub const MAX_SOFTIRQ_TIME_NS: u64 = 2_000_000;

/// One `__do_softirq` (kernel/softirq.c) in progress on a CPU: it runs the pending handlers, and while
/// a softirq is pending again afterwards it restarts, at most `MAX_SOFTIRQ_RESTART` rounds in all and
/// only while `MAX_SOFTIRQ_TIME` has not passed since it began; work still pending then is left to
/// ksoftirqd (`wakeup_softirqd`). Each round is its own unit of CPU work, so the device and the other
/// CPUs move on between rounds; this carries the restart state from one round to the next.
/// (`need_resched()`, the third restart condition, is not modelled: a woken task waits for the softirq
/// to finish, as it does on a CPU where the softirq interrupted that task.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoSoftirq {
    /// `end = jiffies + MAX_SOFTIRQ_TIME`.
    end: Cycle,
    /// `max_restart`, counted down after each round that leaves work pending.
    max_restart: u32,
    /// Running in ksoftirqd (`run_ksoftirqd`) rather than on an interrupt's exit.
    pub in_ksoftirqd: bool,
}

/// What `__do_softirq` does after a round of handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftirqNext {
    /// Nothing pending: the run is over.
    Done,
    /// Pending again, within the limits: `goto restart`.
    Restart,
    /// Pending again with the restarts or the time used up: `wakeup_softirqd`.
    WakeKsoftirqd,
}

impl DoSoftirq {
    /// `__do_softirq` entered at `now`.
    pub fn new(now: Cycle, clock: Clock, in_ksoftirqd: bool) -> DoSoftirq {
        DoSoftirq {
            end: now + clock.ns_to_cycles(MAX_SOFTIRQ_TIME_NS),
            max_restart: MAX_SOFTIRQ_RESTART,
            in_ksoftirqd,
        }
    }

    /// After a round ending at `now`, with a softirq `pending` again or not:
    /// `if (time_before(jiffies, end) && !need_resched() && --max_restart) goto restart;`.
    pub fn after_round(&mut self, now: Cycle, pending: bool) -> SoftirqNext {
        if !pending {
            return SoftirqNext::Done;
        }
        self.max_restart -= 1;
        if now < self.end && self.max_restart > 0 {
            SoftirqNext::Restart
        } else {
            SoftirqNext::WakeKsoftirqd
        }
    }
}

/// `net_rx_action` (net/core/dev.c): takes this CPU's poll list private and polls each NAPI on it once,
/// until the list is empty or `netdev_budget` packets / `netdev_budget_usecs` are spent (then
/// `time_squeeze` is counted). A NAPI that used its whole weight goes on the `repoll` list (`napi_poll`)
/// and is polled in the next run, not again in this one; the leftovers, the NAPIs scheduled meanwhile
/// and the repoll list become the poll list again and the softirq is re-raised. `dev` is the device
/// NAPI instance the driver registered.
pub fn net_rx_action(ctx: &mut Ctx, dev: &mut dyn NapiPoll, up: &mut RxPath) {
    let start = ctx.now;
    ctx.charge(ctx.costs.softirq_entry_ns);
    let cpu = ctx.cpu;
    let time_limit = ctx.now
        + ctx
            .clock
            .ns_to_cycles(up.sysctl.netdev_budget_usecs.saturating_mul(1000));
    let mut budget = i64::from(up.sysctl.netdev_budget);
    let mut list: VecDeque<NapiRef> = up.softnet[cpu].poll_list_splice_init();
    let mut repoll = Vec::new();
    let mut backlog_wait = None;
    while let Some(n) = list.pop_front() {
        let (work, again) = match n {
            NapiRef::Device => napi::napi_poll(ctx, dev, up),
            NapiRef::Backlog => {
                let poll_start = ctx.now;
                let poll = softnet::process_backlog(ctx, up);
                ctx.span("process_backlog", poll_start, None);
                match poll {
                    BacklogPoll::More(w) => (w, true),
                    BacklogPoll::Done(w) => (w, false),
                    BacklogPoll::WaitUntil(w, at) => {
                        backlog_wait = Some(at);
                        (w, false)
                    }
                }
            }
        };
        if again {
            repoll.push(n);
        }
        budget -= i64::from(work);
        if budget <= 0 || ctx.now >= time_limit {
            up.softnet[cpu].time_squeeze();
            break;
        }
    }
    let sd = &mut up.softnet[cpu];
    sd.poll_list_splice_back(list, repoll);
    if !sd.poll_list_is_empty() {
        sd.raise(ctx.now);
    }
    if let Some(at) = backlog_wait {
        // The next skb becomes visible at `at`, when its producer's IPI lands here.
        sd.schedule(NapiRef::Backlog, at);
        sd.irq_exit(at);
    }
    softnet::net_rps_send_ipi(ctx, up);
    ctx.span("net_rx_action", start, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `__do_softirq` (kernel/softirq.c): `--max_restart` allows `MAX_SOFTIRQ_RESTART` rounds in all.
    #[test]
    fn do_softirq_restarts_up_to_max_softirq_restart_rounds() {
        let mut run = DoSoftirq::new(0, Clock::default(), false);
        let rounds = (1..)
            .find(|_| run.after_round(1, true) != SoftirqNext::Restart)
            .expect("ends");
        assert_eq!(rounds, MAX_SOFTIRQ_RESTART);
        let mut run = DoSoftirq::new(0, Clock::default(), false);
        assert_eq!(run.after_round(1, false), SoftirqNext::Done);
    }

    /// `__do_softirq`: no restart once `MAX_SOFTIRQ_TIME` (2 ms) has passed, however few rounds ran.
    #[test]
    fn do_softirq_stops_restarting_after_max_softirq_time() {
        let clock = Clock::default();
        let mut run = DoSoftirq::new(1000, clock, false);
        let end = 1000 + clock.ns_to_cycles(MAX_SOFTIRQ_TIME_NS);
        assert_eq!(run.after_round(end - 1, true), SoftirqNext::Restart);
        assert_eq!(run.after_round(end, true), SoftirqNext::WakeKsoftirqd);
    }
}
