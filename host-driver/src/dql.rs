//! Byte queue limits: `struct dql` and its algorithm (lib/dynamic_queue_limits.c,
//! include/linux/dynamic_queue_limits.h), used by a TX queue through `netdev_tx_sent_queue` /
//! `netdev_tx_completed_queue` (include/linux/netdevice.h).
//!
//! The driver reports bytes it posts (`dql_queued`) and bytes the NIC finished (`dql_completed`);
//! the limit grows when the queue ran dry while it was over the limit (starvation) and shrinks by
//! the smallest slack seen over `slack_hold_time`. While more bytes are in flight than the limit
//! allows (`dql_avail` < 0) the stack stops feeding the queue (`__QUEUE_STATE_STACK_XOFF`).

use crate::time::Cycle;

/// `DQL_MAX_OBJECT`: the largest count one call may queue.
const DQL_MAX_OBJECT: u32 = u32::MAX / 16;
/// `DQL_MAX_LIMIT`: the default (and largest) `max_limit`.
pub const DQL_MAX_LIMIT: u32 = (DQL_MAX_OBJECT - 1) / 2;

/// `struct dql`. Counts are 32-bit and wrap, as in the kernel.
#[derive(Debug, Clone)]
pub struct Dql {
    num_queued: u32,
    adj_limit: u32,
    last_obj_cnt: u32,
    limit: u32,
    num_completed: u32,
    prev_ovlimit: u32,
    prev_num_queued: u32,
    prev_last_obj_cnt: u32,
    lowest_slack: u32,
    slack_start_time: Cycle,
    max_limit: u32,
    min_limit: u32,
    slack_hold_time: Cycle,
    limit_peak: u32,
    inflight_peak: u32,
}

/// `POSDIFF(A, B)`: `A - B` if positive, else 0.
fn posdiff(a: u32, b: u32) -> u32 {
    if (a.wrapping_sub(b) as i32) > 0 {
        a.wrapping_sub(b)
    } else {
        0
    }
}

/// `AFTER_EQ(A, B)`: `A` is at or after `B` in wrapping order.
fn after_eq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

impl Dql {
    /// `dql_init(dql, hold_time)` + `dql_reset` at cycle `now`, with `limit_min` written to sysfs
    /// (the default is 0): limit = `min_limit`, bounds `min_limit..DQL_MAX_LIMIT` (a netdev queue
    /// uses `hold_time` = HZ, one second). `adj_limit` starts at 0, so the first bytes queued
    /// stop the queue until their completion sets it.
    pub fn dql_init(hold_time: Cycle, min_limit: u32, now: Cycle) -> Dql {
        let min_limit = min_limit.min(DQL_MAX_LIMIT);
        Dql {
            num_queued: 0,
            adj_limit: 0,
            last_obj_cnt: 0,
            limit: min_limit,
            num_completed: 0,
            prev_ovlimit: 0,
            prev_num_queued: 0,
            prev_last_obj_cnt: 0,
            lowest_slack: u32::MAX,
            slack_start_time: now,
            max_limit: DQL_MAX_LIMIT,
            min_limit,
            slack_hold_time: hold_time,
            limit_peak: min_limit,
            inflight_peak: 0,
        }
    }

    /// `dql_queued`: `count` more bytes are in flight.
    pub fn dql_queued(&mut self, count: u32) {
        debug_assert!(count <= DQL_MAX_OBJECT);
        self.last_obj_cnt = count;
        self.num_queued = self.num_queued.wrapping_add(count);
        self.inflight_peak = self.inflight_peak.max(self.inflight());
    }

    /// `dql_avail`: bytes that may still be queued before the limit (negative: over it).
    pub fn dql_avail(&self) -> i64 {
        i64::from(self.adj_limit.wrapping_sub(self.num_queued) as i32)
    }

    /// Bytes queued and not completed.
    pub fn inflight(&self) -> u32 {
        self.num_queued.wrapping_sub(self.num_completed)
    }

    /// `dql_completed`: `count` bytes finished at cycle `now`; adapts the limit.
    pub fn dql_completed(&mut self, count: u32, now: Cycle) {
        let num_queued = self.num_queued;
        debug_assert!(count <= num_queued.wrapping_sub(self.num_completed));
        let completed = self.num_completed.wrapping_add(count);
        let mut limit = self.limit;
        let mut ovlimit = posdiff(num_queued.wrapping_sub(self.num_completed), limit);
        let inprogress = num_queued.wrapping_sub(completed);
        let prev_inprogress = self.prev_num_queued.wrapping_sub(self.num_completed);
        let all_prev_completed = after_eq(completed, self.prev_num_queued);

        if (ovlimit != 0 && inprogress == 0) || (self.prev_ovlimit != 0 && all_prev_completed) {
            // Starved while over the limit: grow by what was sent and completed in the last
            // interval plus the previous over-limit.
            limit = limit
                .wrapping_add(posdiff(completed, self.prev_num_queued))
                .wrapping_add(self.prev_ovlimit);
            self.slack_start_time = now;
            self.lowest_slack = u32::MAX;
        } else if inprogress != 0 && prev_inprogress != 0 && !all_prev_completed {
            // Busy the whole interval: the excess above what prevents starvation is slack.
            let slack = posdiff(
                limit.wrapping_add(self.prev_ovlimit),
                completed.wrapping_sub(self.num_completed).wrapping_mul(2),
            );
            let slack_last_objs = if self.prev_ovlimit != 0 {
                posdiff(self.prev_last_obj_cnt, self.prev_ovlimit)
            } else {
                0
            };
            let slack = slack.max(slack_last_objs);
            self.lowest_slack = self.lowest_slack.min(slack);
            if now > self.slack_start_time + self.slack_hold_time {
                limit = posdiff(limit, self.lowest_slack);
                self.slack_start_time = now;
                self.lowest_slack = u32::MAX;
            }
        }

        let limit = limit.clamp(self.min_limit, self.max_limit);
        if limit != self.limit {
            self.limit = limit;
            ovlimit = 0;
        }
        self.limit_peak = self.limit_peak.max(limit);
        self.adj_limit = limit.wrapping_add(completed);
        self.prev_ovlimit = ovlimit;
        self.prev_last_obj_cnt = self.last_obj_cnt;
        self.num_completed = completed;
        self.prev_num_queued = num_queued;
    }

    /// `limit`: bytes the queue may hold in flight now.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// `limit_max`: the bound the limit never exceeds.
    pub fn limit_max(&self) -> u32 {
        self.max_limit
    }

    /// Highest limit reached so far.
    pub fn limit_peak(&self) -> u32 {
        self.limit_peak
    }

    /// Most bytes in flight at once so far.
    pub fn inflight_peak(&self) -> u32 {
        self.inflight_peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dql_completed` grows the limit when the queue starved while over it: the first frame
    /// overshoots the initial limit 0, its completion empties the queue and raises the limit to
    /// the bytes completed.
    #[test]
    fn dql_completed_grows_the_limit_on_starvation() {
        let mut d = Dql::dql_init(1000, 0, 0);
        assert_eq!(d.dql_avail(), 0);
        d.dql_queued(1500);
        assert!(
            d.dql_avail() < 0,
            "over the limit: the stack stops the queue"
        );
        d.dql_completed(1500, 10);
        assert_eq!(d.limit(), 1500);
        assert_eq!(d.dql_avail(), 1500);
        // Two frames queued back to back, over the limit, all completed: starved again.
        d.dql_queued(1500);
        d.dql_queued(1500);
        d.dql_completed(3000, 20);
        assert_eq!(d.limit(), 4500, "limit + completed + prev_ovlimit");
        assert_eq!(d.inflight(), 0);
        assert_eq!(d.inflight_peak(), 3000);
    }

    /// `dql_completed` shrinks the limit by the lowest slack once `slack_hold_time` has passed
    /// with the queue busy throughout.
    #[test]
    fn dql_completed_shrinks_the_limit_by_slack_after_the_hold_time() {
        let mut d = Dql::dql_init(100, 0, 0);
        d.dql_queued(10_000);
        d.dql_completed(10_000, 1);
        assert_eq!(d.limit(), 10_000);
        // Keep 2000-3000 bytes in flight, completing 1000 at a time: slack 10000 - 2*1000.
        d.dql_queued(3000);
        d.dql_completed(1000, 50);
        d.dql_queued(1000);
        d.dql_completed(1000, 90);
        assert_eq!(d.limit(), 10_000, "within the hold time");
        d.dql_queued(1000);
        d.dql_completed(1000, 200);
        assert_eq!(d.limit(), 2000, "10000 minus the lowest slack 8000");
        assert_eq!(d.limit_peak(), 10_000);
    }
}
