//! Simulated time: one timeline counted in cycles of the NIC core clock.
//!
//! Every host cost is configured in nanoseconds (or picoseconds per byte) and converted here, in one place,
//! so the simulator and the host agree on rounding: a duration always rounds *up* to whole cycles, since a
//! CPU cannot finish work before the cycle in which it completes.

use serde::{Deserialize, Serialize};

/// Cycles of the NIC core clock (`clk`).
pub type Cycle = u64;

/// 156.25 MHz: 6.4 ns per cycle, the 10GBASE-R core clock for a 64-bit data path.
pub const DEFAULT_PS_PER_CYCLE: u64 = 6400;

/// Converts between wall durations and cycles of the one clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    /// Clock period in picoseconds; must be nonzero (checked by [`Clock::new`] and the host config).
    pub ps_per_cycle: u64,
}

/// A clock period of zero picoseconds cannot describe a clock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("clock period must be at least 1 ps per cycle, got 0")]
pub struct ZeroClockPeriod;

impl Default for Clock {
    fn default() -> Self {
        Clock {
            ps_per_cycle: DEFAULT_PS_PER_CYCLE,
        }
    }
}

impl Clock {
    pub fn new(ps_per_cycle: u64) -> Result<Clock, ZeroClockPeriod> {
        if ps_per_cycle == 0 {
            return Err(ZeroClockPeriod);
        }
        Ok(Clock { ps_per_cycle })
    }

    /// `ceil(ns * 1000 / ps_per_cycle)`.
    pub fn ns_to_cycles(&self, ns: u64) -> Cycle {
        self.ps_to_cycles(ns.saturating_mul(1000))
    }

    /// `ceil(ps / ps_per_cycle)`.
    pub fn ps_to_cycles(&self, ps: u64) -> Cycle {
        ps.div_ceil(self.ps_per_cycle)
    }

    pub fn cycles_to_ns(&self, cycles: Cycle) -> f64 {
        cycles as f64 * self.ps_per_cycle as f64 / 1000.0
    }

    /// Whole nanoseconds elapsed in `cycles` (truncated), for budgets kept in integer nanoseconds.
    pub fn cycles_to_ns_floor(&self, cycles: Cycle) -> u64 {
        cycles.saturating_mul(self.ps_per_cycle) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_round_up_to_whole_cycles() {
        let c = Clock::default();
        assert_eq!(c.ns_to_cycles(0), 0);
        assert_eq!(c.ns_to_cycles(6), 1);
        assert_eq!(c.ns_to_cycles(64), 10);
        assert_eq!(c.ns_to_cycles(65), 11);
        assert_eq!(c.ps_to_cycles(6400), 1);
        assert_eq!(c.ps_to_cycles(6401), 2);
        assert!((c.cycles_to_ns(10) - 64.0).abs() < 1e-9);
        assert_eq!(c.cycles_to_ns_floor(3), 19);
    }

    #[test]
    fn zero_period_is_rejected() {
        assert_eq!(Clock::new(0), Err(ZeroClockPeriod));
        assert_eq!(Clock::new(8000).map(|c| c.ns_to_cycles(8)), Ok(1));
    }
}
