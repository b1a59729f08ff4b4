//! The fair scheduler between the tasks of one CPU (kernel/sched/fair.c, CFS): ksoftirqd and the
//! application process, both at nice 0, so each accrues virtual runtime at the rate it runs
//! (`update_curr`), the runnable one with the smallest vruntime runs next (`pick_next_entity`), and a
//! task that wakes up is placed no further back than half a scheduling latency behind the queue's
//! `min_vruntime` (`place_entity` with `GENTLE_FAIR_SLEEPERS`), so a sleeper gets a bounded head start.
//!
//! Each pick happens when a CPU is free: a task's unit of work (an application step, one
//! `__do_softirq` in ksoftirqd) runs to its end, then the scheduler picks again.

use crate::time::{Clock, Cycle};

/// `sysctl_sched_latency`: 6 ms, scaled by `1 + ilog2(ncpus)` (`sched_update_scaling`, SCHED_TUNABLESCALING_LOG).
const SCHED_LATENCY_NS: u64 = 6_000_000;

/// A task of the CPU's fair runqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `ksoftirqd/N`.
    Ksoftirqd,
    /// The application process pinned to this CPU.
    App,
}

/// `struct sched_entity`: its virtual runtime, and whether it was asleep at the last pick.
#[derive(Debug, Clone, Copy, Default)]
struct Entity {
    vruntime: Cycle,
    sleeping: bool,
}

/// `struct cfs_rq` of one CPU, for its two tasks.
#[derive(Debug, Clone)]
pub struct CfsRq {
    min_vruntime: Cycle,
    /// Half the scaled scheduling latency, in cycles: the most a sleeper is credited on wake-up.
    sleeper_credit: Cycle,
    ksoftirqd: Entity,
    app: Entity,
}

impl CfsRq {
    pub fn new(cpus: usize, clock: Clock) -> CfsRq {
        let factor = 1 + u64::from(cpus.clamp(1, 8).ilog2());
        CfsRq {
            min_vruntime: 0,
            sleeper_credit: clock.ns_to_cycles(SCHED_LATENCY_NS * factor / 2),
            ksoftirqd: Entity {
                sleeping: true,
                ..Entity::default()
            },
            app: Entity {
                sleeping: true,
                ..Entity::default()
            },
        }
    }

    fn entity(&mut self, t: Task) -> &mut Entity {
        match t {
            Task::Ksoftirqd => &mut self.ksoftirqd,
            Task::App => &mut self.app,
        }
    }

    /// `pick_next_task_fair` among the tasks runnable now (`ksoftirqd`, `app`): a task found runnable
    /// after sleeping is first placed (`place_entity`); ties go to the application. Tasks not runnable
    /// are marked asleep, to be placed when they wake.
    pub fn pick_next_entity(&mut self, ksoftirqd: bool, app: bool) -> Option<Task> {
        let runnable = [(Task::App, app), (Task::Ksoftirqd, ksoftirqd)];
        let floor = self.min_vruntime.saturating_sub(self.sleeper_credit);
        for (t, r) in runnable {
            let e = self.entity(t);
            if !r {
                e.sleeping = true;
            } else if e.sleeping {
                e.sleeping = false;
                e.vruntime = e.vruntime.max(floor);
            }
        }
        let pick = runnable
            .into_iter()
            .filter(|&(_, r)| r)
            .map(|(t, _)| t)
            .min_by_key(|&t| self.entity(t).vruntime)?;
        // update_min_vruntime: never backwards, follows the leftmost runnable entity.
        let v = self.entity(pick).vruntime;
        self.min_vruntime = self.min_vruntime.max(v);
        Some(pick)
    }

    /// `update_curr`: `task` ran for `cycles` (nice 0: vruntime advances one for one).
    pub fn update_curr(&mut self, task: Task, cycles: Cycle) {
        self.entity(task).vruntime += cycles;
    }

    /// The task's virtual runtime so far.
    pub fn vruntime(&self, task: Task) -> Cycle {
        match task {
            Task::Ksoftirqd => self.ksoftirqd.vruntime,
            Task::App => self.app.vruntime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rq() -> CfsRq {
        CfsRq::new(1, Clock::default())
    }

    /// `pick_next_entity` (kernel/sched/fair.c): with both runnable, the smaller vruntime runs, so two
    /// busy tasks alternate and share the CPU evenly.
    #[test]
    fn pick_next_entity_shares_the_cpu_between_ksoftirqd_and_the_app() {
        let mut rq = rq();
        let mut ran = [0u64; 2];
        for _ in 0..100 {
            let t = rq.pick_next_entity(true, true).expect("runnable");
            let cost = match t {
                Task::App => 300,
                Task::Ksoftirqd => 700,
            };
            ran[t as usize] += cost;
            rq.update_curr(t, cost);
        }
        let (k, a) = (ran[Task::Ksoftirqd as usize], ran[Task::App as usize]);
        assert!(k.abs_diff(a) <= 700, "ksoftirqd {k} vs app {a}");
    }

    /// `place_entity`: a task that slept long is credited at most half a scheduling latency, so it runs
    /// first but cannot monopolise the CPU.
    #[test]
    fn place_entity_bounds_a_sleepers_credit() {
        let mut rq = rq();
        assert_eq!(rq.pick_next_entity(true, false), Some(Task::Ksoftirqd));
        rq.update_curr(Task::Ksoftirqd, 10 * rq.sleeper_credit);
        assert_eq!(rq.pick_next_entity(true, false), Some(Task::Ksoftirqd));
        // The application wakes: it goes first, placed one credit behind min_vruntime.
        assert_eq!(rq.pick_next_entity(true, true), Some(Task::App));
        assert_eq!(
            rq.vruntime(Task::App),
            rq.vruntime(Task::Ksoftirqd) - rq.sleeper_credit
        );
        rq.update_curr(Task::App, rq.sleeper_credit + 1);
        assert_eq!(rq.pick_next_entity(true, true), Some(Task::Ksoftirqd));
    }
}
