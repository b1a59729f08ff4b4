//! A simulated CPU: idle, or busy until a cycle. Work runs on it in atomic units (a hard IRQ, one
//! `__do_softirq` run, one application step), each starting when the CPU is free and the work is due.

use serde::Serialize;

use crate::time::Cycle;

/// What a CPU did over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CpuStats {
    /// Cycles spent running work.
    pub busy_cycles: Cycle,
    /// Hard interrupts taken (NIC vector).
    pub hardirqs: u64,
    /// `net_rx_action` runs.
    pub softirq_runs: u64,
    /// Application steps.
    pub app_runs: u64,
}

/// The kinds of work a CPU runs, in the order it prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    HardIrq,
    NetRxSoftirq,
    App,
}

#[derive(Debug, Clone, Default)]
pub struct Cpu {
    busy_until: Cycle,
    pub stats: CpuStats,
}

impl Cpu {
    pub fn busy_until(&self) -> Cycle {
        self.busy_until
    }

    pub fn is_free(&self, now: Cycle) -> bool {
        self.busy_until <= now
    }

    /// The CPU was busy from `start` to `end`.
    pub fn occupy(&mut self, start: Cycle, end: Cycle) {
        self.busy_until = end;
        self.stats.busy_cycles += end - start;
    }

    /// Records a unit of `work` that ran from `start` to `end`.
    pub fn ran(&mut self, work: Work, start: Cycle, end: Cycle) {
        self.occupy(start, end);
        match work {
            Work::HardIrq => self.stats.hardirqs += 1,
            Work::NetRxSoftirq => self.stats.softirq_runs += 1,
            Work::App => self.stats.app_runs += 1,
        }
    }
}
