//! What each simulated CPU ran and when — the view ftrace's `function_graph` tracer gives of a real
//! kernel — plus the NAPI-poll and hard-IRQ event series, for a Perfetto trace and plots.
//!
//! Code records a span when the work it models returns (see [`crate::ctx::Ctx::span`]), so a nested span
//! (a poll inside `net_rx_action`) is recorded before the span that contains it. Recording is one `Vec`
//! push per unit of work or per frame: no lookups, no allocation beyond the vectors' growth.

use serde::Serialize;

use crate::accounting::FrameId;
use crate::time::Cycle;

/// One stretch of work on one CPU, named after the kernel function it models. Spans on one CPU nest or
/// follow each other; the outermost ones are the CPU's atomic units and together cover its busy time.
///
/// Names: `e1000_probe`; `e1000_intr` (hard IRQ, spurious ones included); `net_rx_action` containing
/// `e1000_clean` (one NAPI poll) and `process_backlog` (one RPS backlog poll), each containing
/// `__netif_receive_skb_core` spans for single frames; `net_tx_action` (frames queued during the softirq
/// posted to the TX ring); in process context `run_timer_softirq` (expired ARP and reassembly timers), one
/// span per application step named after its kind (`udp_sink`, `udp_echo`, `udp_send`, `ping`), and
/// `qdisc_run` (frames the applications queued posted to the TX ring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CpuSpan {
    pub cpu: usize,
    pub name: &'static str,
    pub start: Cycle,
    pub end: Cycle,
    /// The frame this work was for, when it was for exactly one.
    pub frame: Option<FrameId>,
}

/// Spans and event series of one run.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    spans: Vec<CpuSpan>,
    polls: Vec<(Cycle, u32)>,
    irqs: Vec<Cycle>,
}

impl Activity {
    /// Records `span`; one that took no time is left out, as there is nothing to draw.
    pub fn span(&mut self, span: CpuSpan) {
        if span.end > span.start {
            self.spans.push(span);
        }
    }

    /// A device NAPI poll (`e1000_clean`) that started at `at` harvested `packets` RX descriptors.
    pub fn poll(&mut self, at: Cycle, packets: u32) {
        self.polls.push((at, packets));
    }

    /// A CPU took the NIC's hard interrupt at `at`.
    pub fn irq(&mut self, at: Cycle) {
        self.irqs.push(at);
    }

    /// Every span, in the order the work finished.
    pub fn spans(&self) -> &[CpuSpan] {
        &self.spans
    }

    /// Each device NAPI poll: the cycle it started and the RX descriptors it harvested, in time order.
    pub fn polls(&self) -> &[(Cycle, u32)] {
        &self.polls
    }

    /// The cycle of each hard interrupt taken, in time order.
    pub fn irqs(&self) -> &[Cycle] {
        &self.irqs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_that_took_no_time_are_left_out() {
        let mut a = Activity::default();
        let span = |start, end| CpuSpan {
            cpu: 1,
            name: "net_tx_action",
            start,
            end,
            frame: None,
        };
        a.span(span(10, 10));
        a.span(span(10, 25));
        assert_eq!(a.spans(), &[span(10, 25)]);
    }
}
