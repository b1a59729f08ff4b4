//! NET_RX_SOFTIRQ: `net_rx_action` (net/core/dev.c), which polls each NAPI on this CPU's poll list: the
//! device's through the instance its driver registered ([`crate::napi::NapiPoll`]), the RPS backlog
//! through `process_backlog`.
//!
//! Budgets are in simulated time: `netdev_budget_usecs` is compared with the CPU's local cycle count, so a
//! run that spends too long (slow stack costs, many packets) is squeezed exactly as the kernel would be.

use crate::ctx::Ctx;
use crate::napi::{self, NapiPoll};
use crate::softnet::{self, BacklogPoll, NapiRef, RxPath};

/// `net_rx_action`: poll every NAPI on this CPU's list until it is empty or `netdev_budget` packets /
/// `netdev_budget_usecs` are spent; then count `time_squeeze` and leave the softirq raised. `dev` is the
/// device NAPI instance the driver registered.
pub fn net_rx_action(ctx: &mut Ctx, dev: &mut dyn NapiPoll, up: &mut RxPath) {
    let start = ctx.now;
    ctx.charge(ctx.costs.softirq_entry_ns);
    let cpu = ctx.cpu;
    up.softnet[cpu].softirq_entry();
    let time_limit = ctx.now
        + ctx
            .clock
            .ns_to_cycles(up.sysctl.netdev_budget_usecs.saturating_mul(1000));
    let mut budget = i64::from(up.sysctl.netdev_budget);
    let mut backlog_wait = None;
    while let Some(n) = up.softnet[cpu].poll_list_pop() {
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
        budget -= i64::from(work);
        let sd = &mut up.softnet[cpu];
        if again {
            sd.poll_list_add_tail(n);
        }
        if sd.poll_list_is_empty() {
            break;
        }
        if budget <= 0 || ctx.now >= time_limit {
            sd.time_squeeze();
            break;
        }
    }
    let sd = &mut up.softnet[cpu];
    if !sd.poll_list_is_empty() {
        sd.raise(ctx.now);
    }
    if let Some(at) = backlog_wait {
        sd.schedule(NapiRef::Backlog, at);
    }
    softnet::net_rps_send_ipi(ctx, up);
    ctx.span("net_rx_action", start, None);
}
