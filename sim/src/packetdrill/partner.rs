//! The script's remote side at the far end of the link: it sends the `<` segments the runner hands
//! it at their cycles. The host knows its address from a permanent neighbour entry (as packetdrill's
//! tun device needs no ARP), so nothing the host sends needs an answer.

use std::collections::VecDeque;

use host_driver::accounting::FrameId;
use host_driver::time::Cycle;
use nicsim_world::link::{LinkPartner, TxFrame};

#[derive(Debug, Default)]
pub struct ScriptedPartner {
    /// Frames to send, in cycle order.
    queue: VecDeque<(Vec<u8>, Cycle)>,
}

impl ScriptedPartner {
    /// Sends `frame` at cycle `at` (the runner hands them over in script order).
    pub fn send_at(&mut self, frame: Vec<u8>, at: Cycle) {
        self.queue.push_back((frame, at));
    }
}

impl LinkPartner for ScriptedPartner {
    fn due(&self, horizon: Cycle, _: usize) -> bool {
        self.queue.front().is_some_and(|&(_, at)| at <= horizon)
    }

    fn exchange(&mut self, horizon: Cycle, _: &[TxFrame]) -> Vec<(Vec<u8>, Cycle)> {
        let mut out = Vec::new();
        while self.queue.front().is_some_and(|&(_, at)| at <= horizon) {
            out.extend(self.queue.pop_front());
        }
        out
    }

    fn sent(&mut self, _: FrameId, _: Vec<u8>) {}
}
