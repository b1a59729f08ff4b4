//! The host: CPUs, the probed NIC driver, per-CPU softnet data, the stack and its applications, on one
//! simulated timeline. The simulator calls [`Host::probe`] once, then [`Host::service`] whenever the cycle
//! reaches the wake-up it returned or the interrupt level changes, and finally [`Host::report`].
//!
//! Scheduling: each CPU runs one atomic unit at a time. A unit starts at the platform's current cycle and
//! advances the CPU's local time by its charged costs and MMIO stalls; the CPU is then busy until that
//! time. A CPU prefers the NIC interrupt (if routed to it), then NET_RX_SOFTIRQ, then applications — except
//! after a squeezed softirq run, when ksoftirqd lets a runnable task go first.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::accounting::{ConservationError, FrameId, FrameRecord, Trace};
use crate::activity::{Activity, CpuSpan};
use crate::config::{ConfigError, HostConfig};
use crate::cpu::{Cpu, CpuStats, Work};
use crate::ctx::{Ctx, Testbench};
use crate::driver::{self, Adapter, DriverStats, ProbeError};
use crate::softirq;
use crate::softnet::{RxPath, SoftnetData, SoftnetStat};
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
    /// The next cycle the applications want to run.
    app_wake: Option<Cycle>,
}

impl Host {
    pub fn new(cfg: HostConfig) -> Result<Host, HostError> {
        cfg.validate()?;
        let stack = Stack::new(&cfg.stack, cfg.mac, &cfg.apps, cfg.clock)?;
        Ok(Host {
            cpus: vec![Cpu::default(); cfg.cpus],
            softnet: (0..cfg.cpus).map(|_| SoftnetData::new(cfg.cpus)).collect(),
            adapter: None,
            stack,
            trace: Trace::default(),
            activity: Activity::default(),
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
        let mut irq_pending = irq;
        loop {
            let now = testbench.plat().now();
            let Some((cpu, work)) = self.next_unit(now, irq_pending) else {
                break;
            };
            if work == Work::HardIrq {
                irq_pending = false;
            }
            self.run(testbench, cpu, work, now);
        }
        self.next_wake(irq_pending)
    }

    /// The first CPU (by index) that is free and has work due at `now`, and that work.
    fn next_unit(&self, now: Cycle, irq: bool) -> Option<(usize, Work)> {
        (0..self.cpus.len()).find_map(|cpu| {
            if !self.cpus[cpu].is_free(now) {
                return None;
            }
            let sd = &self.softnet[cpu];
            let app = cpu == self.cfg.app_cpu && self.app_wake.is_some_and(|w| w <= now);
            let softirq = sd.raised_at().is_some_and(|r| r <= now);
            if irq && cpu == self.cfg.irq_cpu {
                Some((cpu, Work::HardIrq))
            } else if softirq && !(app && sd.deferred_to_ksoftirqd()) {
                Some((cpu, Work::NetRxSoftirq))
            } else if app {
                Some((cpu, Work::App))
            } else {
                None
            }
        })
    }

    /// The earliest cycle at which some CPU has work due.
    fn next_wake(&self, irq: bool) -> Option<Cycle> {
        (0..self.cpus.len())
            .filter_map(|cpu| {
                let free = self.cpus[cpu].busy_until();
                let irq_due = (irq && cpu == self.cfg.irq_cpu).then_some(free);
                let softirq_due = self.softnet[cpu].raised_at().map(|r| r.max(free));
                let app_due = self
                    .app_wake
                    .filter(|_| cpu == self.cfg.app_cpu)
                    .map(|w| w.max(free));
                [irq_due, softirq_due, app_due].into_iter().flatten().min()
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
                ctx.activity.irq(start);
                adapter.intr(&mut ctx, &mut self.softnet[cpu]);
                ctx.span("e1000_intr", start, None);
            }
            Work::NetRxSoftirq => {
                let mut up = RxPath {
                    stack: &mut self.stack,
                    softnet: &mut self.softnet,
                    rps_cpus: &self.cfg.rps_cpus,
                    sysctl: &self.cfg.sysctl,
                };
                softirq::net_rx_action(&mut ctx, adapter, &mut up);
                // NET_TX_SOFTIRQ: replies queued by the stack, frames waiting for a woken queue.
                let tx = ctx.now;
                self.stack.qdisc_run(&mut ctx, adapter);
                ctx.span("net_tx_action", tx, None);
                // A socket may have become readable, waking its reader.
                self.app_wake = self.stack.next_wake();
            }
            Work::App => {
                self.softnet[cpu].task_ran();
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
