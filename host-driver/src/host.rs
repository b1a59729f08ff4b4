//! The host: CPUs, the probed NIC driver, per-CPU softnet data, the stack and its applications, on one
//! simulated timeline. The simulator calls [`Host::probe`] once, then [`Host::service`] whenever the cycle
//! reaches the wake-up it returned or the interrupt level changes, and finally [`Host::report`].
//!
//! Scheduling: each CPU runs one atomic unit at a time. A unit starts at the platform's current cycle and
//! advances the CPU's local time by its charged costs and MMIO stalls; the CPU is then busy until that
//! time, except that interrupt-context work (a hard IRQ and the softirq on its exit) preempts an
//! application step, whose completion then moves back by the interrupt's length ([`Cpu::ran`]). A CPU prefers the NIC interrupt (if routed to it; it reaches the CPU `msi_delivery_ns` after the
//! device raised it), then `__do_softirq` on the exit of an interrupt that left NET_RX_SOFTIRQ pending,
//! then its tasks — ksoftirqd, once `__do_softirq` has handed it the rest, and the application — which the
//! fair scheduler ([`CfsRq`]) shares out by virtual runtime.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::accounting::{ConservationError, FrameId, FrameRecord, Trace};
use crate::activity::{Activity, CpuSpan};
use crate::config::{ConfigError, HostConfig};
use crate::cpu::{Cpu, CpuStats, Work};
use crate::ctx::{Ctx, Testbench};
use crate::driver::{self, Adapter, DriverStats, ProbeError};
use crate::sched::{CfsRq, Task};
use crate::softirq::{self, DoSoftirq, SoftirqNext};
use crate::softnet::{RxPath, SoftnetData, SoftnetStat};
use crate::stack::packet_tap::TapRecord;
use crate::stack::syscall::{SysCall, SysCompletion};
use crate::stack::{Stack, StackConfigError, StackCounters};
use crate::time::Cycle;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Stack(#[from] StackConfigError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("probe: the NIC is already probed")]
    AlreadyProbed,
}

/// One CPU's line in the report.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct CpuReport {
    #[serde(flatten)]
    pub stats: CpuStats,
    pub softnet_stat: SoftnetStat,
}

/// Everything the host measured.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// Driver counters: interrupts, polls, packets per poll, ring and queue events.
    pub driver: DriverStats,
    /// Driver bookkeeping failures (empty in a healthy run).
    pub driver_faults: Vec<String>,
    pub stack: StackCounters,
    pub cpus: Vec<CpuReport>,
    /// Per-frame software stamps and terminal outcomes.
    pub frames: BTreeMap<FrameId, FrameRecord>,
    pub conservation_errors: Vec<ConservationError>,
}

pub struct Host {
    cfg: HostConfig,
    cpus: Vec<Cpu>,
    softnet: Vec<SoftnetData>,
    adapter: Option<Adapter>,
    stack: Stack,
    trace: Trace,
    activity: Activity,
    /// Per-CPU fair runqueue of ksoftirqd and the application.
    cfs: Vec<CfsRq>,
    /// The cycle the NIC raised the interrupt not yet taken (the MSI is on its way to the CPU).
    irq_raised: Option<Cycle>,
    /// The next cycle the applications want to run.
    app_wake: Option<Cycle>,
}

impl Host {
    pub fn new(cfg: HostConfig) -> Result<Host, HostError> {
        cfg.validate()?;
        let stack = Stack::new(&cfg.stack, cfg.mac, &cfg.apps, cfg.clock, cfg.seed)?;
        Ok(Host {
            cpus: vec![Cpu::default(); cfg.cpus],
            softnet: (0..cfg.cpus).map(|_| SoftnetData::new(cfg.cpus)).collect(),
            adapter: None,
            stack,
            trace: Trace::default(),
            activity: Activity::default(),
            cfs: (0..cfg.cpus)
                .map(|_| CfsRq::new(cfg.cpus, cfg.clock))
                .collect(),
            irq_raised: None,
            app_wake: None,
            cfg,
        })
    }

    /// `e1000_probe` + `e1000_open` on the interrupt CPU, starting now; applications start once it is done.
    pub fn probe(&mut self, testbench: &mut dyn Testbench) -> Result<(), HostError> {
        if self.adapter.is_some() {
            return Err(HostError::AlreadyProbed);
        }
        let cpu = self.cfg.irq_cpu;
        let start = testbench.plat().now().max(self.cpus[cpu].busy_until());
        let mut ctx = Ctx {
            cpu,
            now: start,
            testbench,
            costs: &self.cfg.costs,
            clock: self.cfg.clock,
            trace: &mut self.trace,
            activity: &mut self.activity,
        };
        let adapter = driver::probe(&mut ctx, &self.cfg)?;
        ctx.span("e1000_probe", start, None);
        let end = ctx.now;
        self.cpus[cpu].occupy(start, end);
        self.adapter = Some(adapter);
        // Applications start once the interface is up.
        self.app_wake = self.stack.next_wake().map(|w| w.max(end));
        Ok(())
    }

    /// Runs every unit of work that can start at `plat.now()` given the interrupt level `irq`, and
    /// returns the next cycle the host needs to run (None: only an interrupt can wake it).
    pub fn service(&mut self, testbench: &mut dyn Testbench, irq: bool) -> Option<Cycle> {
        self.adapter.as_ref()?;
        if irq && self.irq_raised.is_none() {
            self.irq_raised = Some(testbench.plat().now());
        }
        loop {
            let now = testbench.plat().now();
            let Some((cpu, work)) = self.next_unit(now) else {
                break;
            };
            self.run(testbench, cpu, work, now);
        }
        self.next_wake()
    }

    /// The cycle the raised NIC interrupt enters the CPU: MSI delivery after the device raised it.
    fn irq_entry(&self) -> Option<Cycle> {
        let msi = self.cfg.clock.ns_to_cycles(self.cfg.costs.msi_delivery_ns);
        self.irq_raised.map(|r| r + msi)
    }

    /// The first CPU (by index) that is free and has work due at `now`, and that work.
    fn next_unit(&mut self, now: Cycle) -> Option<(usize, Work)> {
        let irq_due = self.irq_entry().is_some_and(|e| e <= now);
        (0..self.cpus.len()).find_map(|cpu| {
            // Interrupt-context work may preempt an application step; tasks need the CPU free.
            if self.cpus[cpu].interruptible_from() > now {
                return None;
            }
            let free = self.cpus[cpu].is_free(now);
            let sd = &self.softnet[cpu];
            if irq_due && cpu == self.cfg.irq_cpu {
                return Some((cpu, Work::HardIrq));
            }
            if cpu == self.cfg.irq_cpu && self.napi_timer().is_some_and(|t| t <= now) {
                return Some((cpu, Work::NapiWatchdog));
            }
            if let Some(run) = sd.softirq_run {
                // The next round of the `__do_softirq` under way (bottom halves are off: no task runs).
                return match run.in_ksoftirqd {
                    true => free.then_some((cpu, Work::Ksoftirqd)),
                    false => Some((cpu, Work::Softirq)),
                };
            }
            if sd.irq_exit_at().is_some_and(|e| e <= now) && sd.pending(now) {
                return Some((cpu, Work::Softirq));
            }
            if !free || self.interrupt_in_flight(cpu, now) {
                return None;
            }
            let app = cpu == self.cfg.app_cpu && self.app_wake.is_some_and(|w| w <= now);
            let task = self.cfs[cpu].pick_next_entity(sd.ksoftirqd_should_run(now), app)?;
            Some((
                cpu,
                match task {
                    Task::Ksoftirqd => Work::Ksoftirqd,
                    Task::App => Work::App,
                },
            ))
        })
    }

    /// An interrupt is on its way to `cpu` (the NIC's MSI, an IPI landing): a task does not start, as
    /// the interrupt would preempt it within nanoseconds and a step's effects (reading the socket) take
    /// place at its start in this model, so starting it would hand it the whole step.
    fn interrupt_in_flight(&self, cpu: usize, now: Cycle) -> bool {
        self.in_flight_until(cpu).is_some_and(|t| t > now)
    }

    /// When the last interrupt on its way to `cpu` arrives.
    fn in_flight_until(&self, cpu: usize) -> Option<Cycle> {
        let msi = self.irq_entry().filter(|_| cpu == self.cfg.irq_cpu);
        msi.max(self.softnet[cpu].irq_exit_at())
    }

    /// When the device NAPI's `napi_watchdog` hrtimer fires (pinned to the CPU that polls it).
    fn napi_timer(&self) -> Option<Cycle> {
        self.adapter.as_ref().and_then(|a| a.napi.timer())
    }

    /// The earliest cycle at which some CPU has work due.
    fn next_wake(&self) -> Option<Cycle> {
        let irq_entry = self.irq_entry();
        (0..self.cpus.len())
            .filter_map(|cpu| {
                let free = self.cpus[cpu].busy_until();
                let irq_free = self.cpus[cpu].interruptible_from();
                let sd = &self.softnet[cpu];
                let irq_due = [irq_entry, self.napi_timer()]
                    .into_iter()
                    .flatten()
                    .filter(|_| cpu == self.cfg.irq_cpu)
                    .min()
                    .map(|e| e.max(irq_free));
                let softirq_due = match (sd.irq_exit_at(), sd.raised_at()) {
                    _ if sd.softirq_run.is_some_and(|r| r.in_ksoftirqd) => Some(free),
                    _ if sd.softirq_run.is_some() => Some(irq_free),
                    (Some(e), Some(r)) => Some(e.max(r).max(irq_free)),
                    _ => None,
                };
                // Tasks wait for the CPU and for any interrupt on its way to it.
                let task_free = self.in_flight_until(cpu).map_or(free, |t| t.max(free));
                let ksoftirqd_due = sd
                    .raised_at()
                    .filter(|_| sd.ksoftirqd_woken())
                    .map(|r| r.max(task_free));
                let app_due = self
                    .app_wake
                    .filter(|_| cpu == self.cfg.app_cpu)
                    .map(|w| w.max(task_free));
                [irq_due, softirq_due, ksoftirqd_due, app_due]
                    .into_iter()
                    .flatten()
                    .min()
            })
            .min()
    }

    fn run(&mut self, testbench: &mut dyn Testbench, cpu: usize, work: Work, start: Cycle) {
        let Some(adapter) = self.adapter.as_mut() else {
            return;
        };
        let mut ctx = Ctx {
            cpu,
            now: start,
            testbench,
            costs: &self.cfg.costs,
            clock: self.cfg.clock,
            trace: &mut self.trace,
            activity: &mut self.activity,
        };
        match work {
            Work::HardIrq => {
                self.irq_raised = None;
                ctx.activity.irq(start);
                adapter.intr(&mut ctx, &mut self.softnet[cpu]);
                ctx.span("e1000_intr", start, None);
                self.softnet[cpu].irq_exit(ctx.now);
            }
            Work::NapiWatchdog => {
                // hrtimer interrupt entry (the local APIC timer vector), then the callback.
                ctx.charge(ctx.costs.irq_entry_ns);
                adapter.napi.watchdog(&mut ctx, &mut self.softnet[cpu]);
                ctx.span("napi_watchdog", start, None);
                self.softnet[cpu].irq_exit(ctx.now);
            }
            Work::Softirq | Work::Ksoftirqd => {
                let sd = &mut self.softnet[cpu];
                let mut run = sd.softirq_run.take().unwrap_or_else(|| {
                    let in_ksoftirqd = work == Work::Ksoftirqd;
                    self.cpus[cpu].stats.ksoftirqd_runs += u64::from(in_ksoftirqd);
                    DoSoftirq::new(start, self.cfg.clock, in_ksoftirqd)
                });
                // One round of `__do_softirq`: pending bits cleared, then the handlers.
                sd.softirq_entry();
                let mut up = RxPath {
                    stack: &mut self.stack,
                    softnet: &mut self.softnet,
                    rps_cpus: &self.cfg.rps_cpus,
                    sysctl: &self.cfg.sysctl,
                };
                softirq::net_rx_action(&mut ctx, adapter, &mut up);
                // TASKLET_SOFTIRQ: TSQ resumes sockets whose clones TX reclaim freed.
                self.stack.tcp_tsq_handler(&mut ctx);
                // NET_TX_SOFTIRQ: replies queued by the stack, frames waiting for a woken queue.
                let tx = ctx.now;
                self.stack.qdisc_run(&mut ctx, adapter);
                ctx.span("net_tx_action", tx, None);
                let sd = &mut self.softnet[cpu];
                match run.after_round(ctx.now, sd.pending(ctx.now)) {
                    SoftirqNext::Restart => sd.softirq_run = Some(run),
                    SoftirqNext::WakeKsoftirqd => sd.wakeup_softirqd(),
                    SoftirqNext::Done => sd.ksoftirqd_sleep(),
                }
                // A socket may have become readable, waking its reader.
                self.app_wake = self.stack.next_wake();
            }
            Work::App => {
                self.stack.run_apps(&mut ctx);
                // `__dev_queue_xmit` → `__qdisc_run` for what the applications queued.
                let tx = ctx.now;
                self.stack.qdisc_run(&mut ctx, adapter);
                ctx.span("qdisc_run", tx, None);
                // A step that neither spent time nor waits for later would be re-run forever at this cycle.
                self.app_wake = self.stack.next_wake().map(|w| w.max(start + 1));
            }
        }
        let end = ctx.now;
        self.cpus[cpu].ran(work, start, end);
        match work {
            Work::Ksoftirqd => self.cfs[cpu].update_curr(Task::Ksoftirqd, end - start),
            Work::App => self.cfs[cpu].update_curr(Task::App, end - start),
            Work::HardIrq | Work::NapiWatchdog | Work::Softirq => {}
        }
    }

    /// A script's system call, to start at `at` on the application CPU (see [`crate::stack::syscall`]);
    /// the testbench must call [`Host::service`] by then.
    pub fn submit_syscall(&mut self, call: SysCall, at: Cycle, blocking: bool) {
        self.stack.submit_syscall(call, at, blocking);
        self.app_wake = self.stack.next_wake();
    }

    /// The script's call that returned since the last look.
    pub fn take_syscall_completion(&mut self) -> Option<SysCompletion> {
        self.stack.take_syscall_completion()
    }

    pub fn syscall_in_flight(&self) -> bool {
        self.stack.syscall_in_flight()
    }

    /// Everything the packet taps captured since the last drain, per tap name.
    pub fn drain_taps(&mut self) -> Vec<(String, Vec<TapRecord>)> {
        self.stack.drain_taps()
    }

    /// Counters, per-CPU figures and every frame's stamps and outcome.
    pub fn report(&self) -> HostReport {
        let (driver, driver_faults) = match &self.adapter {
            Some(a) => (
                a.ethtool_stats(),
                a.faults.iter().map(ToString::to_string).collect(),
            ),
            None => (DriverStats::default(), Vec::new()),
        };
        HostReport {
            driver,
            driver_faults,
            stack: self.stack_counters(),
            cpus: self
                .cpus
                .iter()
                .zip(&self.softnet)
                .map(|(c, sd)| CpuReport {
                    stats: c.stats,
                    softnet_stat: sd.stat,
                })
                .collect(),
            frames: self.trace.frames().clone(),
            conservation_errors: self.trace.conservation_errors().to_vec(),
        }
    }

    /// The stack's `/proc/net/snmp`-style counters alone, without copying every frame's record.
    /// Each TCP connection's cwnd, in-flight and bytes-acked samples over time.
    pub fn tcp_flow_samples(&self) -> Vec<(String, Vec<crate::stack::tcp::sock::TcpSample>)> {
        self.stack.tcp_flow_samples()
    }

    pub fn stack_counters(&self) -> StackCounters {
        self.stack.counters()
    }

    /// What each CPU ran so far (see [`CpuSpan`] for the names), in the order the work finished.
    pub fn cpu_spans(&self) -> &[CpuSpan] {
        self.activity.spans()
    }

    /// Each device NAPI poll so far: the cycle it started and the RX descriptors it harvested.
    pub fn poll_series(&self) -> &[(Cycle, u32)] {
        self.activity.polls()
    }

    /// The cycle of each hard interrupt a CPU took so far (spurious ones included, as in
    /// [`CpuStats::hardirqs`]).
    pub fn irq_cycles(&self) -> &[Cycle] {
        self.activity.irqs()
    }

    /// The per-frame trace so far (stamps and outcomes), without copying it.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    pub fn config(&self) -> &HostConfig {
        &self.cfg
    }

    /// The probed adapter (rings, NAPI state, counters), for inspection.
    pub fn adapter(&self) -> Option<&Adapter> {
        self.adapter.as_ref()
    }

    /// Per-CPU softnet data.
    pub fn softnet(&self) -> &[SoftnetData] {
        &self.softnet
    }
}
