//! What code running on one simulated CPU can do: spend time, stamp frames, touch registers, fire
//! tracepoints.
//!
//! A `Ctx` lives for one atomic unit of work (an ISR, a softirq run, an application step). Its `now` is the
//! CPU's local clock: it advances by charged costs and by MMIO reads, which stall until the response is back.

use crate::accounting::{FrameId, Observer, Outcome, Probe, Stage, Trace};
use crate::activity::{Activity, CpuSpan};
use crate::costs::Costs;
use crate::platform::Platform;
use crate::skb::Skb;
use crate::time::{Clock, Cycle};

/// Everything outside the host that host code reaches: the bus ([`Platform`]) and, out of band, the
/// logic analyser ([`Observer`]). In the simulator both are the one world (the analyser may run the clock
/// to catch up with a write-back), so a [`Ctx`] holds one object and lends either view.
pub trait Testbench {
    fn plat(&mut self) -> &mut dyn Platform;
    fn observer(&mut self) -> &mut dyn Observer;
}

impl<T: Platform + Observer> Testbench for T {
    fn plat(&mut self) -> &mut dyn Platform {
        self
    }

    fn observer(&mut self) -> &mut dyn Observer {
        self
    }
}

pub struct Ctx<'a> {
    /// The CPU this work runs on.
    pub cpu: usize,
    /// This CPU's local time.
    pub now: Cycle,
    pub testbench: &'a mut dyn Testbench,
    pub costs: &'a Costs,
    pub clock: Clock,
    pub trace: &'a mut Trace,
    pub activity: &'a mut Activity,
}

impl Ctx<'_> {
    /// The bus: MMIO and host memory.
    pub fn plat(&mut self) -> &mut dyn Platform {
        self.testbench.plat()
    }

    /// The logic analyser, for frame ids.
    pub fn observer(&mut self) -> &mut dyn Observer {
        self.testbench.observer()
    }

    /// A tracepoint firing now on this CPU.
    pub fn probe(&mut self) -> Probe<'_> {
        Probe {
            observer: self.testbench.observer(),
            trace: self.trace,
            now: self.now,
        }
    }

    /// The CPU is busy for `ns`.
    pub fn charge(&mut self, ns: u64) {
        self.now += self.clock.ns_to_cycles(ns);
    }

    /// The CPU copies `bytes` bytes.
    pub fn charge_copy(&mut self, bytes: usize) {
        let ps = (bytes as u64).saturating_mul(self.costs.copy_ps_per_byte);
        self.now += self.clock.ps_to_cycles(ps);
    }

    /// Stamps `stage` for frame `id` at the current local time.
    pub fn stamp(&mut self, id: FrameId, stage: Stage) {
        self.trace.stamp(id, stage, self.now);
    }

    /// Stamps `stage` now for every frame `skb` carries ([`Skb::frame_ids`]): the segments of a GRO
    /// super-packet pass each stage when it does.
    pub fn stamp_skb(&mut self, skb: &Skb, stage: Stage) {
        for id in skb.frame_ids() {
            self.trace.stamp(id, stage, self.now);
        }
    }

    /// Ends frame `id` with `outcome` at the current local time. For a frame that has an skb, use
    /// [`Ctx::end_skb`].
    pub fn end(&mut self, id: FrameId, outcome: Outcome) {
        self.trace.end(id, outcome, self.now);
    }

    /// `kfree_skb_reason` / `consume_skb`: ends every frame `skb` carries (its own and those GRO merged
    /// into it, [`Skb::frame_ids`]) with `outcome` now, and frees it (its destructor, `sock_wfree`, may
    /// wake a sender waiting for send-buffer space). Every skb's life ends here.
    ///
    /// A TCP transmit clone (`skb.fclone`) ends no frame: the original on the retransmit queue
    /// carries the same frame and ends it when it is freed.
    pub fn end_skb(&mut self, skb: Skb, outcome: Outcome) {
        if !skb.fclone {
            for id in skb.frame_ids() {
                self.trace.end(id, outcome, self.now);
            }
        }
        skb.free(self.now);
    }

    /// This CPU ran `name` (for `frame`, if for exactly one) from `start` until now.
    pub fn span(&mut self, name: &'static str, start: Cycle, frame: Option<FrameId>) {
        self.activity.span(CpuSpan {
            cpu: self.cpu,
            name,
            start,
            end: self.now,
            frame,
        });
    }

    /// Uncached MMIO read: the CPU stalls until the response is back.
    pub fn mmio_read(&mut self, off: u32) -> u32 {
        let now = self.now;
        let (value, done) = self.plat().mmio_read(now, off);
        self.now = self.now.max(done);
        value
    }

    /// Posted MMIO write: leaves at the current time, costs the CPU only its issue time.
    pub fn mmio_write(&mut self, off: u32, val: u32) {
        let now = self.now;
        self.plat().mmio_write(now, off, val);
        self.charge(self.costs.mmio_write_ns);
    }
}
