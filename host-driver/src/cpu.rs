//! A simulated CPU: idle, or busy until a cycle. Work runs on it in atomic units (a hard IRQ, one round
//! of `__do_softirq` on an interrupt's exit or in ksoftirqd, one application step), each starting when
//! the CPU is free and the work is due.

use serde::Serialize;

use crate::time::Cycle;

/// What a CPU did over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CpuStats {
    /// Cycles spent running work.
    pub busy_cycles: Cycle,
    /// Hard interrupts taken (NIC vector).
    pub hardirqs: u64,
    /// `net_rx_action` runs (one per round of `__do_softirq`, which may run several).
    pub softirq_runs: u64,
    /// `__do_softirq` runs in ksoftirqd (the rest ran on an interrupt's exit).
    pub ksoftirqd_runs: u64,
    /// Application steps.
    pub app_runs: u64,
}

/// The kinds of work a CPU runs, in the order it prefers them; the two tasks (ksoftirqd and the
/// application) share what is left by [`crate::sched::CfsRq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    HardIrq,
    /// The hrtimer interrupt running `napi_watchdog` (NAPI re-polled after `gro_flush_timeout`).
    NapiWatchdog,
    /// A round of `__do_softirq` from `irq_exit` (`invoke_softirq`).
    Softirq,
    /// A round of `__do_softirq` in `run_ksoftirqd`.
    Ksoftirqd,
    App,
}

impl Work {
    /// Interrupt context: a hard IRQ (NIC, hrtimer) or the `__do_softirq` its `irq_exit` runs. Such work
    /// preempts an application step in progress on its CPU.
    pub fn in_interrupt(self) -> bool {
        matches!(self, Work::HardIrq | Work::NapiWatchdog | Work::Softirq)
    }
}

/// One CPU. An application step runs as one unit, but interrupt-context work may start while it is in
/// progress: that work runs at once and the step's end moves later by as long as the interrupt took
/// (its effects inside the step keep their times; only its completion is delayed).
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    busy_until: Cycle,
    /// End of the last interrupt-context unit.
    irq_busy_until: Cycle,
    /// The unit in progress is an application step, which interrupts may preempt.
    preemptible: bool,
    pub stats: CpuStats,
}

impl Cpu {
    pub fn busy_until(&self) -> Cycle {
        self.busy_until
    }

    pub fn is_free(&self, now: Cycle) -> bool {
        self.busy_until <= now
    }

    /// When interrupt-context work can next start: when the CPU is free, or, during an application
    /// step, when the previous interrupt-context unit is done.
    pub fn interruptible_from(&self) -> Cycle {
        if self.preemptible {
            self.irq_busy_until.min(self.busy_until)
        } else {
            self.busy_until
        }
    }

    /// The CPU was busy from `start` to `end`.
    pub fn occupy(&mut self, start: Cycle, end: Cycle) {
        self.busy_until = end;
        self.stats.busy_cycles += end - start;
    }

    /// Records a unit of `work` that ran from `start` to `end`: interrupt-context work that preempted
    /// an application step pushes the step's end back by its own length.
    pub fn ran(&mut self, work: Work, start: Cycle, end: Cycle) {
        if work.in_interrupt() && self.busy_until > start {
            self.busy_until += end - start;
            self.stats.busy_cycles += end - start;
        } else {
            self.occupy(start, end);
            self.preemptible = work == Work::App;
        }
        if work.in_interrupt() {
            self.irq_busy_until = end;
        }
        match work {
            Work::HardIrq => self.stats.hardirqs += 1,
            Work::NapiWatchdog => {}
            Work::Softirq | Work::Ksoftirqd => self.stats.softirq_runs += 1,
            Work::App => self.stats.app_runs += 1,
        }
    }
}
