//! `napi_complete_done` and `napi_schedule_prep` (net/core/dev.c): `NAPI_STATE_MISSED`,
//! `napi_defer_hard_irqs` with `gro_flush_timeout`, and the kernel defaults that turn both off.

mod support;

use host_driver::accounting::Trace;
use host_driver::activity::Activity;
use host_driver::config::{HostConfig, Sysctl};
use host_driver::costs::Costs;
use host_driver::ctx::Ctx;
use host_driver::napi::Napi;
use host_driver::regs::IMS;
use host_driver::softnet::{RxPath, SoftnetData};
use host_driver::stack::{Stack, StackConfig};
use host_driver::time::Clock;
use support::{
    assert_conserved, burst, with_sink, FakeNic, Mmio, Sim, PCIE_CYCLES, RESPONSE_CYCLES,
};

/// Runs `f` with a CPU context and the receive path of a bare host (no applications).
fn with_ctx(f: impl FnOnce(&mut Ctx, &mut RxPath)) {
    let mut nic = FakeNic::new(PCIE_CYCLES, RESPONSE_CYCLES);
    let costs = Costs::default();
    let (mut trace, mut activity) = (Trace::default(), Activity::default());
    let mut ctx = Ctx {
        cpu: 0,
        now: 0,
        testbench: &mut nic,
        costs: &costs,
        clock: Clock::default(),
        trace: &mut trace,
        activity: &mut activity,
    };
    let cfg = HostConfig::default();
    let mut stack = Stack::new(&StackConfig::default(), cfg.mac, &[], cfg.clock, 1).expect("stack");
    let mut softnet = vec![SoftnetData::new(1)];
    let sysctl = Sysctl::default();
    let mut up = RxPath {
        stack: &mut stack,
        softnet: &mut softnet,
        rps_cpus: &[],
        sysctl: &sysctl,
    };
    f(&mut ctx, &mut up);
}

/// `napi_schedule_prep` during a poll sets `NAPI_STATE_MISSED`; `napi_complete_done` then keeps the
/// instance scheduled, puts it back on the poll list and tells the driver not to unmask.
#[test]
fn napi_complete_done_reschedules_on_napi_state_missed() {
    with_ctx(|ctx, up| {
        let mut napi = Napi::new(64, 0, 0);
        assert!(napi.schedule_prep());
        napi.schedule(ctx, &mut up.softnet[0], None);
        // net_rx_action takes the list private and polls; an interrupt schedules it meanwhile.
        assert_eq!(up.softnet[0].poll_list_splice_init().len(), 1);
        assert!(!napi.schedule_prep(), "already scheduled: missed");
        assert!(!napi.complete_done(ctx, up, 3));
        assert!(napi.is_scheduled());
        assert!(!up.softnet[0].poll_list_is_empty());
        assert!(up.softnet[0].pending(ctx.now));
        // The extra poll completes for real.
        up.softnet[0].poll_list_splice_init();
        assert!(napi.complete_done(ctx, up, 0));
        assert!(!napi.is_scheduled());
        assert!(up.softnet[0].poll_list_is_empty());
    });
}

/// `napi_complete_done` with `napi_defer_hard_irqs` 2 and a `gro_flush_timeout`: after a poll with work
/// the interrupt stays masked and `napi_watchdog` re-polls twice; the second empty poll re-enables.
#[test]
fn napi_complete_done_defers_hard_irqs_until_the_countdown_ends() {
    with_ctx(|ctx, up| {
        let mut napi = Napi::new(64, 2, 1000);
        assert!(napi.schedule_prep());
        napi.schedule(ctx, &mut up.softnet[0], None);
        up.softnet[0].poll_list_splice_init();
        assert!(!napi.complete_done(ctx, up, 5), "deferred");
        assert_eq!(napi.timer(), Some(ctx.now + 1000));
        for expect_unmask in [false, true] {
            napi.watchdog(ctx, &mut up.softnet[0]);
            assert!(napi.is_scheduled() && napi.timer().is_none());
            up.softnet[0].poll_list_splice_init();
            assert_eq!(napi.complete_done(ctx, up, 0), expect_unmask);
            assert_eq!(napi.timer().is_some(), !expect_unmask);
        }
    });
}

/// The kernel defaults (`napi_defer_hard_irqs` 0, `gro_flush_timeout` 0): complete and unmask at once.
#[test]
fn napi_complete_done_with_kernel_defaults_unmasks_at_once() {
    with_ctx(|ctx, up| {
        let cfg = HostConfig::default();
        assert_eq!((cfg.napi_defer_hard_irqs, cfg.gro_flush_timeout_ns), (0, 0));
        let mut napi = Napi::new(64, cfg.napi_defer_hard_irqs, 0);
        assert!(napi.schedule_prep());
        napi.schedule(ctx, &mut up.softnet[0], None);
        up.softnet[0].poll_list_splice_init();
        assert!(napi.complete_done(ctx, up, 7));
        assert_eq!(napi.timer(), None);
    });
}

/// End to end on the driver: one interrupt, a poll with the burst, then `napi_watchdog` polls every
/// `gro_flush_timeout` until the deferral runs out, and only then is IMS written.
#[test]
fn napi_watchdog_repolls_a_deferred_napi_before_the_unmask() {
    let mut sim = Sim::new(with_sink(HostConfig {
        napi_defer_hard_irqs: 2,
        gro_flush_timeout_ns: 20_000,
        ..HostConfig::default()
    }));
    sim.nic.log.clear();
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 10);
    sim.run_until(t + 10_000_000);
    let r = sim.host.report();
    assert_eq!(r.driver.interrupts, 1);
    let polls: Vec<u32> = sim.host.poll_series().iter().map(|p| p.1).collect();
    assert_eq!(polls, [10, 0, 0]);
    let gap = sim.host.poll_series()[2].0 - sim.host.poll_series()[1].0;
    assert!(gap >= Clock::default().ns_to_cycles(20_000), "{gap}");
    let ims_writes: Vec<_> = sim
        .nic
        .log
        .iter()
        .filter(|m| matches!(m, Mmio::Write { off: IMS, .. }))
        .collect();
    assert_eq!(ims_writes.len(), 1, "unmasked once, after the last poll");
    assert_conserved(&sim, &ids);
}
