//! Interrupt moderation as e1000 does it (drivers/net/ethernet/intel/e1000/e1000_main.c): in the dynamic
//! modes of `InterruptThrottleRate` (e1000_param.c: 1 = dynamic, 3 = dynamic conservative, the default)
//! the poll classifies the traffic since the last interrupt into a latency range (`e1000_update_itr`)
//! and rewrites ITR for it (`e1000_set_itr`): lowest_latency 70000, low_latency 20000, bulk_latency 4000
//! interrupts per second. A fixed rate (100..=100000) is written once at `e1000_configure_rx`; 0 is off.
//!
//! `e1000_set_itr` pins the rate to 4000 on links slower than 1 Gb/s; this NIC's link is 10 Gb/s, so the
//! dynamic path always applies.

use serde::Serialize;

use crate::config::ItrSetting;
use crate::ctx::Ctx;
use crate::regs;

use super::DriverStats;

/// `enum latency_range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyRange {
    LowestLatency = 0,
    LowLatency = 1,
    BulkLatency = 2,
}

/// The moderation state of `struct e1000_adapter` (`itr_setting`, `itr`, `rx_itr`, `tx_itr`) and the
/// `total_{rx,tx}_{packets,bytes}` it works from, kept as counter snapshots taken at the interrupt.
#[derive(Debug, Clone)]
pub struct Itr {
    setting: ItrSetting,
    /// `adapter->itr`: the rate last written, interrupts per second.
    itr: u32,
    rx_itr: LatencyRange,
    tx_itr: LatencyRange,
    current: LatencyRange,
    /// (rx_packets, rx_bytes, tx_packets, tx_bytes) when `e1000_intr` zeroed the totals.
    totals_base: (u64, u64, u64, u64),
}

impl Itr {
    /// `e1000_check_options` (e1000_param.c): the dynamic modes start at 20000 interrupts per second.
    pub fn new(setting: ItrSetting) -> Itr {
        let itr = match setting {
            ItrSetting::Off => 0,
            ItrSetting::Dynamic | ItrSetting::DynamicConservative => 20_000,
            ItrSetting::Fixed(rate) => rate,
        };
        Itr {
            setting,
            itr,
            // kzalloc'd adapter: lowest_latency (0) until the first update.
            rx_itr: LatencyRange::LowestLatency,
            tx_itr: LatencyRange::LowestLatency,
            current: LatencyRange::LowestLatency,
            totals_base: (0, 0, 0, 0),
        }
    }

    /// The ITR register value `e1000_configure_rx` writes, if it writes one (`itr_setting != 0`):
    /// `1000000000 / (adapter->itr * 256)`.
    pub fn configure_value(&self) -> Option<u32> {
        (self.itr != 0).then(|| itr_register(self.itr))
    }

    /// `e1000_intr` zeroes `total_{tx,rx}_{bytes,packets}` as it schedules NAPI.
    pub fn reset_totals(&mut self, stats: &DriverStats) {
        self.totals_base = (
            stats.rx_packets,
            stats.rx_bytes,
            stats.tx_packets,
            stats.tx_bytes,
        );
    }

    /// `e1000_clean` calls `e1000_set_itr` before `napi_complete_done` when `itr_setting & 3`.
    pub fn dynamic(&self) -> bool {
        matches!(
            self.setting,
            ItrSetting::Dynamic | ItrSetting::DynamicConservative
        )
    }

    /// `e1000_set_itr`: classifies TX and RX since the interrupt, takes the higher range and writes ITR
    /// if the rate changes, stepping up towards a higher rate by a quarter of it at a time.
    pub fn set_itr(&mut self, ctx: &mut Ctx, stats: &mut DriverStats) {
        let (rxp, rxb, txp, txb) = self.totals_base;
        let conservative = self.setting == ItrSetting::DynamicConservative;
        let no_lowest = |r| match r {
            // conservative mode (itr 3) eliminates the lowest_latency setting
            LatencyRange::LowestLatency if conservative => LatencyRange::LowLatency,
            r => r,
        };
        self.tx_itr = no_lowest(e1000_update_itr(
            self.tx_itr,
            stats.tx_packets - txp,
            stats.tx_bytes - txb,
        ));
        self.rx_itr = no_lowest(e1000_update_itr(
            self.rx_itr,
            stats.rx_packets - rxp,
            stats.rx_bytes - rxb,
        ));
        let current = self.rx_itr.max(self.tx_itr);
        if current != self.current {
            stats.itr_class_changes += 1;
            match current {
                LatencyRange::LowestLatency => stats.itr_to_lowest_latency += 1,
                LatencyRange::LowLatency => stats.itr_to_low_latency += 1,
                LatencyRange::BulkLatency => stats.itr_to_bulk_latency += 1,
            }
            self.current = current;
        }
        let mut new_itr = match current {
            LatencyRange::LowestLatency => 70_000,
            LatencyRange::LowLatency => 20_000,
            LatencyRange::BulkLatency => 4_000,
        };
        if new_itr != self.itr {
            if new_itr > self.itr {
                new_itr = (self.itr + (new_itr >> 2)).min(new_itr);
            }
            self.itr = new_itr;
            ctx.mmio_write(regs::ITR, itr_register(new_itr));
            stats.itr_writes += 1;
        }
        stats.itr_ints_per_sec = u64::from(self.itr);
    }

    /// The latency range in force.
    pub fn current(&self) -> LatencyRange {
        self.current
    }
}

/// ITR in 256 ns units for `rate` interrupts per second.
fn itr_register(rate: u32) -> u32 {
    (1_000_000_000 / (u64::from(rate) * regs::ITR_UNIT_NS)) as u32
}

/// `e1000_update_itr`: the next latency range from the current one and the packets and bytes since
/// the interrupt (no packets: unchanged).
pub fn e1000_update_itr(itr_setting: LatencyRange, packets: u64, bytes: u64) -> LatencyRange {
    use LatencyRange::*;
    if packets == 0 {
        return itr_setting;
    }
    let per_packet = bytes / packets;
    match itr_setting {
        LowestLatency => {
            // jumbo frames get bulk treatment
            if per_packet > 8000 {
                BulkLatency
            } else if packets < 5 && bytes > 512 {
                LowLatency
            } else {
                LowestLatency
            }
        }
        // 50 usec aka 20000 ints/s
        LowLatency => {
            if bytes > 10000 {
                if per_packet > 8000 || packets < 10 || per_packet > 1200 {
                    BulkLatency
                } else if packets > 35 {
                    LowestLatency
                } else {
                    LowLatency
                }
            } else if per_packet > 2000 {
                BulkLatency
            } else if packets <= 2 && bytes < 512 {
                LowestLatency
            } else {
                LowLatency
            }
        }
        // 250 usec aka 4000 ints/s
        BulkLatency => {
            if bytes > 25000 {
                if packets > 35 {
                    LowLatency
                } else {
                    BulkLatency
                }
            } else if bytes < 6000 {
                LowLatency
            } else {
                BulkLatency
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LatencyRange::*;
    use super::*;

    /// `e1000_update_itr` moves between the ranges on the thresholds e1000_main.c uses.
    #[test]
    fn e1000_update_itr_follows_the_e1000_thresholds() {
        assert_eq!(e1000_update_itr(LowLatency, 0, 0), LowLatency);
        assert_eq!(e1000_update_itr(LowestLatency, 2, 600), LowLatency);
        assert_eq!(e1000_update_itr(LowestLatency, 1, 9000), BulkLatency);
        assert_eq!(e1000_update_itr(LowLatency, 1, 100), LowestLatency);
        assert_eq!(e1000_update_itr(LowLatency, 64, 64 * 60), LowLatency);
        assert_eq!(e1000_update_itr(LowLatency, 64, 64 * 1000), LowestLatency);
        assert_eq!(e1000_update_itr(LowLatency, 20, 20 * 1500), BulkLatency);
        assert_eq!(e1000_update_itr(BulkLatency, 40, 40 * 1000), LowLatency);
        assert_eq!(e1000_update_itr(BulkLatency, 10, 10 * 1000), BulkLatency);
        assert_eq!(e1000_update_itr(BulkLatency, 3, 300), LowLatency);
    }

    /// `e1000_set_itr`'s rate for each range, 256 ns units.
    #[test]
    fn e1000_set_itr_register_values() {
        assert_eq!(itr_register(20_000), 195);
        assert_eq!(itr_register(4_000), 976);
        assert_eq!(itr_register(70_000), 55);
    }
}
