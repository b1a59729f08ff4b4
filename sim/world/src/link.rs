//! The 10 GbE link at the NIC's MAC: a PHY feeding `s_axis_rx` at line rate and the link partner
//! taking `m_axis_tx`.
//!
//! RX: frames get their FCS appended (or a wrong one, when asked), go 8 bytes per cycle, and every frame
//! also costs the 20 bytes of preamble, SFD and minimum IFG in byte time. The injector keeps the line's
//! ideal byte position, so a gap that ends inside a cycle leaves the rest of that cycle as credit for the
//! next frame (a deficit idle count): back-to-back 64-byte frames alternate 10 and 11 cycles and average
//! exactly 84/8. A line left idle keeps no credit.
//!
//! TX: beats are gathered into frames, the FCS checked and stripped, and the first beat's cycle kept.

use std::collections::BTreeMap;

use host_driver::accounting::FrameId;
use host_driver::time::Cycle;
use host_driver::wire::ethernet::{FCS_LEN, WIRE_OVERHEAD_BYTES};
use nicsim_model::{Pins, BEAT_BYTES};
use nicsim_scenario::traffic::WireFault;
use serde::Serialize;

/// Whatever answers at the far end of the link (nicsim's own is [`crate::peer::Peer`]). The world
/// serves it every cycle it is due, so its frames start on the cycle they are due even while the
/// host CPU stalls on an MMIO read.
pub trait LinkPartner {
    /// Whether [`LinkPartner::exchange`] has work at cycle `horizon`, given that the NIC has sent
    /// `tx_frames` frames so far.
    fn due(&self, horizon: Cycle, tx_frames: usize) -> bool;
    /// Hands the partner the frames of `tx` (everything the NIC sent so far) it has not seen, and
    /// returns what it sends up to cycle `horizon`, each with its earliest cycle. The world injects
    /// them and reports each one's id with [`LinkPartner::sent`].
    fn exchange(&mut self, horizon: Cycle, tx: &[TxFrame]) -> Vec<(Vec<u8>, Cycle)>;
    /// The world injected `frame` as `id`.
    fn sent(&mut self, id: FrameId, frame: Vec<u8>);
}

/// Nothing at the far end: what the NIC sends is captured and goes no further.
#[derive(Debug, Default)]
pub struct NoPartner;

impl LinkPartner for NoPartner {
    fn due(&self, _: Cycle, _: usize) -> bool {
        false
    }
    fn exchange(&mut self, _: Cycle, _: &[TxFrame]) -> Vec<(Vec<u8>, Cycle)> {
        Vec::new()
    }
    fn sent(&mut self, _: FrameId, _: Vec<u8>) {}
}

/// The Ethernet FCS of `frame` (CRC-32, IEEE 802.3), least significant byte first on the wire.
pub fn fcs(frame: &[u8]) -> [u8; 4] {
    crc32fast::hash(frame).to_le_bytes()
}

#[derive(Debug)]
struct RxFrame {
    id: FrameId,
    /// With FCS.
    bytes: Vec<u8>,
    tuser: bool,
}

/// The PHY side of `s_axis_rx`.
#[derive(Debug, Default)]
pub struct RxInjector {
    /// Frames waiting for the line, by (not-before cycle, order pushed): a frame the wire held back
    /// and pushed late goes after the frames it waited for, whatever its id.
    pending: BTreeMap<(Cycle, u64), RxFrame>,
    pushed: u64,
    cur: Option<RxFrame>,
    /// Byte offset of the next beat of `cur`.
    offset: usize,
    /// Ideal byte time (cycle × 8) at which the line is free for the next frame's first byte.
    line_free: u64,
    /// Cycles a beat was held because `s_axis_rx_tready` was low (a real PHY cannot wait).
    stall_cycles: u64,
}

/// What happened on `s_axis_rx` in one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxEvent {
    Idle,
    /// The first beat of frame `id` was taken.
    Start(FrameId),
    /// Another beat was taken.
    Beat,
}

impl RxInjector {
    /// Queues `frame_without_fcs` for the wire, not before cycle `not_before`.
    pub fn push(&mut self, id: FrameId, mut frame: Vec<u8>, not_before: Cycle, fault: WireFault) {
        let mut fcs = fcs(&frame);
        if fault == WireFault::BadFcs {
            fcs = fcs.map(|b| !b);
        }
        frame.extend_from_slice(&fcs);
        self.pushed += 1;
        self.pending.insert(
            (not_before, self.pushed),
            RxFrame {
                id,
                bytes: frame,
                tuser: fault == WireFault::PhyError,
            },
        );
    }

    /// No frame waiting or on the line.
    pub fn idle(&self) -> bool {
        self.cur.is_none() && self.pending.is_empty()
    }

    /// Frames still waiting for the line.
    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    pub fn stall_cycles(&self) -> u64 {
        self.stall_cycles
    }

    /// Takes the handshake of cycle `now` and drives the next beat for `now + 1`.
    #[inline]
    pub fn tick(&mut self, pins: &mut Pins, now: Cycle) -> RxEvent {
        let mut event = RxEvent::Idle;
        if let Some(cur) = &self.cur {
            if pins.s_axis_rx_tready {
                event = if self.offset == 0 {
                    RxEvent::Start(cur.id)
                } else {
                    RxEvent::Beat
                };
                self.offset += BEAT_BYTES as usize;
                if self.offset >= cur.bytes.len() {
                    self.cur = None;
                }
            } else {
                self.stall_cycles += 1;
            }
        }
        let next = now + 1;
        if self.cur.is_none() && !self.start_next(next) {
            pins.s_axis_rx_tvalid = false;
            return event;
        }
        let cur = self.cur.as_ref().expect("a frame is on the line");
        let end = (self.offset + BEAT_BYTES as usize).min(cur.bytes.len());
        let chunk = &cur.bytes[self.offset..end];
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let last = end == cur.bytes.len();
        pins.s_axis_rx_tvalid = true;
        pins.s_axis_rx_tdata = u64::from_le_bytes(word);
        pins.s_axis_rx_tkeep = (((1u16 << chunk.len()) - 1) & 0xFF) as u8;
        pins.s_axis_rx_tlast = last;
        pins.s_axis_rx_tuser = last && cur.tuser;
        event
    }

    /// Puts the next due frame on the line if its start falls in cycle `next`.
    fn start_next(&mut self, next: Cycle) -> bool {
        let Some((&(not_before, _), _)) = self.pending.first_key_value() else {
            return false;
        };
        let mut ideal = self.line_free.max(not_before * BEAT_BYTES);
        if ideal.div_ceil(BEAT_BYTES) < next {
            ideal = next * BEAT_BYTES;
        }
        if ideal.div_ceil(BEAT_BYTES) > next {
            return false;
        }
        let (_, frame) = self.pending.pop_first().expect("checked non-empty");
        self.line_free = ideal + frame.bytes.len() as u64 + WIRE_OVERHEAD_BYTES;
        self.offset = 0;
        self.cur = Some(frame);
        true
    }
}

/// One frame the NIC sent, as the link partner received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxFrame {
    /// The host frame it carries, when the driver told the platform (`tx_frame_posted`).
    pub id: Option<FrameId>,
    /// Cycle of the first beat.
    pub start: Cycle,
    /// Cycle of the last beat.
    pub end: Cycle,
    /// The frame without FCS (all bytes when it was shorter than an FCS).
    pub bytes: Vec<u8>,
    /// The FCS on the wire matched the bytes.
    pub fcs_ok: bool,
    /// `m_axis_tx_tuser` was set on some beat.
    pub error: bool,
}

/// The link partner's side of `m_axis_tx`: always ready (the MAC paces the line itself).
#[derive(Debug, Default)]
pub struct TxCapture {
    cur: Vec<u8>,
    start: Cycle,
    in_frame: bool,
    error: bool,
    id: Option<FrameId>,
    frames: Vec<TxFrame>,
}

impl TxCapture {
    pub fn init_pins(pins: &mut Pins) {
        pins.m_axis_tx_tready = true;
    }

    /// Takes the beat of cycle `now`; true when it was a frame's first beat (the caller then names the
    /// frame with [`TxCapture::label`]).
    #[inline]
    pub fn tick(&mut self, pins: &Pins, now: Cycle) -> bool {
        if !pins.m_axis_tx_tvalid {
            return false;
        }
        let first = !self.in_frame;
        if first {
            self.in_frame = true;
            self.start = now;
            self.error = false;
            self.id = None;
            self.cur.clear();
        }
        let n = pins.m_axis_tx_tkeep.trailing_ones() as usize;
        self.cur
            .extend_from_slice(&pins.m_axis_tx_tdata.to_le_bytes()[..n]);
        self.error |= pins.m_axis_tx_tuser;
        if pins.m_axis_tx_tlast {
            self.finish(now);
        }
        first
    }

    /// Names the frame whose first beat was just taken.
    pub fn label(&mut self, id: Option<FrameId>) {
        match (self.in_frame, self.frames.last_mut()) {
            (true, _) => self.id = id,
            // A one-beat frame already finished in the same tick.
            (false, Some(f)) => f.id = id,
            (false, None) => {}
        }
    }

    fn finish(&mut self, now: Cycle) {
        self.in_frame = false;
        let bytes = std::mem::take(&mut self.cur);
        let (fcs_ok, bytes) = if bytes.len() >= FCS_LEN {
            let split = bytes.len() - FCS_LEN;
            let ok = fcs(&bytes[..split]) == bytes[split..];
            let mut b = bytes;
            b.truncate(split);
            (ok, b)
        } else {
            (false, bytes)
        };
        self.frames.push(TxFrame {
            id: self.id,
            start: self.start,
            end: now,
            bytes,
            fcs_ok,
            error: self.error,
        });
    }

    /// Mid-frame on `m_axis_tx`.
    pub fn busy(&self) -> bool {
        self.in_frame
    }

    pub fn frames(&self) -> &[TxFrame] {
        &self.frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the injector alone with tready high and returns the cycles of each frame's first beat.
    fn starts(frames: &[(usize, Cycle)], cycles: Cycle) -> Vec<(FrameId, Cycle, Vec<u8>)> {
        let mut inj = RxInjector::default();
        for (i, &(len, nb)) in frames.iter().enumerate() {
            inj.push(i as FrameId, vec![i as u8; len], nb, WireFault::None);
        }
        let mut pins = Pins {
            s_axis_rx_tready: true,
            ..Pins::default()
        };
        let mut out: Vec<(FrameId, Cycle, Vec<u8>)> = Vec::new();
        // The tick at now = c drives cycle c + 1; the handshake is read at the next tick.
        inj.tick(&mut pins, 0);
        for c in 1..cycles {
            let valid = pins.s_axis_rx_tvalid;
            let (data, keep) = (pins.s_axis_rx_tdata, pins.s_axis_rx_tkeep);
            match inj.tick(&mut pins, c) {
                RxEvent::Start(id) => out.push((id, c, Vec::new())),
                RxEvent::Beat => {}
                RxEvent::Idle => assert!(!valid),
            }
            if valid {
                let n = keep.trailing_ones() as usize;
                assert_eq!(
                    keep.count_ones() as usize,
                    n,
                    "tkeep is contiguous from lane 0"
                );
                out.last_mut()
                    .expect("a frame started")
                    .2
                    .extend_from_slice(&data.to_le_bytes()[..n]);
            }
        }
        out
    }

    #[test]
    fn minimum_frames_alternate_10_and_11_cycles_at_line_rate() {
        let got = starts(&[(60, 0); 5], 80);
        let cycles: Vec<Cycle> = got.iter().map(|g| g.1).collect();
        assert_eq!(cycles, vec![1, 12, 22, 33, 43]);
        for (id, _, bytes) in &got {
            assert_eq!(bytes.len(), 64);
            assert_eq!(bytes[60..], fcs(&bytes[..60]));
            assert!(bytes[..60].iter().all(|&b| b == *id as u8));
        }
    }

    #[test]
    fn not_before_delays_and_an_idle_line_keeps_no_credit() {
        let got = starts(&[(60, 0), (60, 30), (100, 30)], 80);
        let cycles: Vec<Cycle> = got.iter().map(|g| g.1).collect();
        // 30 is after the first frame's 10.5 cycles: the second starts at 30 with no credit; the third
        // follows after 84 byte times (10.5 cycles) → 40.5 → 41.
        assert_eq!(cycles, vec![1, 30, 41]);
        assert_eq!(got[2].2.len(), 104);
    }

    #[test]
    fn bad_fcs_is_inverted_and_phy_error_sets_tuser_on_the_last_beat() {
        let mut inj = RxInjector::default();
        inj.push(7, vec![0x55; 65], 0, WireFault::PhyError);
        let mut pins = Pins {
            s_axis_rx_tready: true,
            ..Pins::default()
        };
        let mut tuser_beats = Vec::new();
        for c in 0..12 {
            inj.tick(&mut pins, c);
            if pins.s_axis_rx_tvalid {
                tuser_beats.push((
                    pins.s_axis_rx_tlast,
                    pins.s_axis_rx_tuser,
                    pins.s_axis_rx_tkeep,
                ));
            }
        }
        assert_eq!(tuser_beats.len(), 9);
        assert_eq!(tuser_beats[8], (true, true, 0b0001_1111));
        assert!(tuser_beats[..8]
            .iter()
            .all(|&(l, u, k)| !l && !u && k == 0xFF));

        let good = fcs(b"abc");
        let mut inj = RxInjector::default();
        inj.push(1, b"abc".to_vec(), 0, WireFault::BadFcs);
        inj.tick(&mut pins, 0);
        let bytes = pins.s_axis_rx_tdata.to_le_bytes();
        assert_eq!(&bytes[3..7], &good.map(|b| !b));
    }

    #[test]
    fn capture_strips_and_checks_the_fcs() {
        let mut frame = b"hello, link partner".to_vec();
        frame.extend_from_slice(&fcs(&frame));
        let mut cap = TxCapture::default();
        let mut pins = Pins::default();
        for (i, chunk) in frame.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            pins.m_axis_tx_tvalid = true;
            pins.m_axis_tx_tdata = u64::from_le_bytes(w);
            pins.m_axis_tx_tkeep = ((1u16 << chunk.len()) - 1) as u8;
            pins.m_axis_tx_tlast = (i + 1) * 8 >= frame.len();
            let first = cap.tick(&pins, 100 + i as Cycle);
            assert_eq!(first, i == 0);
            if first {
                cap.label(Some(42));
            }
        }
        let f = &cap.frames()[0];
        assert_eq!(
            (f.id, f.start, f.end, f.fcs_ok, f.error),
            (Some(42), 100, 102, true, false)
        );
        assert_eq!(f.bytes, b"hello, link partner");
    }
}
