//! NIC-side accounting from the probe ports (docs/interfaces.md, "Probe ports"): a logic analyser on
//! the NIC that turns one-cycle pulses into per-frame stage stamps and NIC drop outcomes.
//!
//! Pulses carry no frame id; they come in wire/FIFO order, so frames are matched with queues: frames
//! that started on the wire wait for their `rx_evt`, accepted frames for their `rx_wb`, TX frames whose
//! DMA finished for their first beat on `m_axis_tx`.

use std::collections::{BTreeMap, VecDeque};

use host_driver::accounting::{DropReason, FrameId, Stage};
use host_driver::time::Cycle;
use nicsim_model::{Pins, RxEventCode};
use nicsim_scenario::scenario::Trigger;
use serde::Serialize;

use crate::fault::Fault;

/// What the NIC did with one frame, as the probes showed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NicRecord {
    /// Hardware stages in the order they happened.
    pub stamps: Vec<(Stage, Cycle)>,
    /// The NIC dropped the frame: why and at which cycle (end of frame).
    pub dropped: Option<(DropReason, Cycle)>,
}

impl NicRecord {
    pub fn stamp_of(&self, stage: Stage) -> Option<Cycle> {
        self.stamps.iter().find(|s| s.0 == stage).map(|s| s.1)
    }
}

/// The drop a `rx_evt_code` stands for (`None`: the frame was accepted), or `None` for a code the
/// NIC does not define.
fn rx_verdict(code: u8) -> Option<Option<DropReason>> {
    Some(match RxEventCode::from_code(code)? {
        RxEventCode::Accept => None,
        RxEventCode::CrcError => Some(DropReason::NicCrcError),
        RxEventCode::Runt => Some(DropReason::NicRunt),
        RxEventCode::Oversize => Some(DropReason::NicOversize),
        RxEventCode::AddressFilter => Some(DropReason::NicAddressFilter),
        RxEventCode::FifoFull => Some(DropReason::NicFifoFull),
        RxEventCode::PhyError => Some(DropReason::NicPhyError),
    })
}

/// What the probes know about one TX ring slot.
#[derive(Debug, Clone, Copy, Default)]
struct TxSlot {
    /// The frame posted with its EOP here (kept until DD is written back: TX write-back stamp).
    id: Option<FrameId>,
    /// Posted and not yet read into the TX FIFO.
    dma_pending: bool,
}

/// What the probes know about one RX ring slot.
#[derive(Debug, Clone, Copy)]
struct RxSlot {
    id: FrameId,
    /// The driver has harvested it: the entry is the previous lap's until the next write-back.
    taken: bool,
}

/// The probe observer and its per-frame records.
#[derive(Debug, Default)]
pub struct Probes {
    records: BTreeMap<FrameId, NicRecord>,
    /// Frames on or past the wire, waiting for their `rx_evt`.
    rx_evt_wait: VecDeque<FrameId>,
    /// Accepted frames waiting for their descriptor write-back.
    rx_wb_wait: VecDeque<FrameId>,
    /// RX ring slot → frame the NIC last wrote there, and whether the driver has taken it.
    rx_slot: Vec<Option<RxSlot>>,
    /// TX ring EOP slot → frame the driver posted there, until its DD write-back.
    tx_slot: Vec<TxSlot>,
    /// Posted TX frames whose DMA has not finished.
    tx_posted: usize,
    /// TX frames in the TX FIFO (DMA done), waiting for their first beat, in FIFO order.
    tx_fifo: VecDeque<Option<FrameId>>,
    trigger: Option<Trigger>,
    fired: Option<Cycle>,
}

impl Probes {
    pub fn arm(&mut self, trigger: Trigger) {
        self.trigger = Some(trigger);
    }

    /// The cycle the trigger fired at, reported once.
    #[inline]
    pub fn take_fired(&mut self) -> Option<Cycle> {
        self.fired.take()
    }

    pub fn records(&self) -> &BTreeMap<FrameId, NicRecord> {
        &self.records
    }

    /// Frame `id`'s first beat entered the NIC.
    pub fn wire_start(&mut self, id: FrameId, at: Cycle) {
        self.rx_evt_wait.push_back(id);
        self.stamp(id, Stage::WireStart, at);
    }

    /// A TX frame's first beat left the NIC; returns the frame it is (FIFO order).
    pub fn tx_wire(&mut self, at: Cycle, faults: &mut Vec<Fault>) -> Option<FrameId> {
        match self.tx_fifo.pop_front() {
            Some(id) => {
                if let Some(id) = id {
                    self.stamp(id, Stage::TxWire, at);
                }
                id
            }
            None => {
                faults.push(Fault::ProbeOrder {
                    cycle: at,
                    probe: "m_axis_tx first beat",
                });
                None
            }
        }
    }

    pub fn tx_posted(&mut self, slot: u16, id: FrameId) {
        let s = slot as usize;
        if self.tx_slot.len() <= s {
            self.tx_slot.resize(s + 1, TxSlot::default());
        }
        let entry = &mut self.tx_slot[s];
        if !entry.dma_pending {
            self.tx_posted += 1;
        }
        *entry = TxSlot {
            id: Some(id),
            dma_pending: true,
        };
    }

    /// The frame written back into RX slot `slot` since the driver last took it from there, marked taken.
    pub fn take_rx_frame_id(&mut self, slot: u16) -> Option<FrameId> {
        let entry = self.rx_slot.get_mut(slot as usize)?.as_mut()?;
        (!std::mem::replace(&mut entry.taken, true)).then_some(entry.id)
    }

    /// True if RX slot `slot` holds a written-back frame the driver has not taken yet.
    pub fn rx_slot_fresh(&self, slot: u16) -> bool {
        matches!(self.rx_slot.get(slot as usize), Some(Some(e)) if !e.taken)
    }

    /// Accepted frames whose descriptor write-back the probes have not seen yet.
    pub fn rx_write_back_pending(&self) -> bool {
        !self.rx_wb_wait.is_empty()
    }

    /// When the descriptor of the frame last written to RX slot `slot` was written back.
    pub fn rx_write_back_cycle(&self, slot: u16) -> Option<Cycle> {
        let id = self.rx_slot.get(slot as usize).copied().flatten()?.id;
        self.records.get(&id)?.stamp_of(Stage::DmaWriteBack)
    }

    /// Frames between wire and write-back, or TX frames between posting and the wire.
    pub fn in_flight(&self) -> bool {
        !self.rx_evt_wait.is_empty()
            || !self.rx_wb_wait.is_empty()
            || self.tx_posted != 0
            || !self.tx_fifo.is_empty()
    }

    /// Samples the probe pulses of cycle `now`.
    #[inline]
    pub fn observe(&mut self, pins: &Pins, now: Cycle, faults: &mut Vec<Fault>) {
        if !(pins.rx_evt_valid | pins.rx_wb_valid | pins.tx_dma_valid | pins.tx_wb_valid) {
            return;
        }
        if pins.rx_evt_valid {
            self.rx_evt(pins.rx_evt_code, now, faults);
        }
        if pins.rx_wb_valid {
            match self.rx_wb_wait.pop_front() {
                Some(id) => {
                    let s = pins.rx_wb_slot as usize;
                    if self.rx_slot.len() <= s {
                        self.rx_slot.resize(s + 1, None);
                    }
                    self.rx_slot[s] = Some(RxSlot { id, taken: false });
                    self.stamp(id, Stage::DmaWriteBack, now);
                }
                None => faults.push(Fault::ProbeOrder {
                    cycle: now,
                    probe: "rx_wb_valid",
                }),
            }
        }
        if pins.tx_dma_valid {
            // Frames the driver did not name (no `tx_frame_posted`) still hold their place in the FIFO.
            let id = match self.tx_slot.get_mut(pins.tx_dma_slot as usize) {
                Some(slot) if slot.dma_pending => {
                    slot.dma_pending = false;
                    self.tx_posted -= 1;
                    slot.id
                }
                _ => None,
            };
            if let Some(id) = id {
                self.stamp(id, Stage::TxDmaDone, now);
            }
            self.tx_fifo.push_back(id);
        }
        if pins.tx_wb_valid {
            // The slot's frame is done with the ring; DD of a non-EOP descriptor names no frame.
            let id = self
                .tx_slot
                .get_mut(pins.tx_wb_slot as usize)
                .filter(|slot| !slot.dma_pending)
                .and_then(|slot| slot.id.take());
            if let Some(id) = id {
                self.stamp(id, Stage::TxWriteBack, now);
            }
        }
    }

    fn rx_evt(&mut self, code: u8, now: Cycle, faults: &mut Vec<Fault>) {
        let Some(verdict) = rx_verdict(code) else {
            faults.push(Fault::ProbeCode { cycle: now, code });
            return;
        };
        let Some(id) = self.rx_evt_wait.pop_front() else {
            faults.push(Fault::ProbeOrder {
                cycle: now,
                probe: "rx_evt_valid",
            });
            return;
        };
        match verdict {
            None => {
                self.rx_wb_wait.push_back(id);
                self.stamp(id, Stage::FifoCommit, now);
            }
            Some(reason) => {
                self.records.entry(id).or_default().dropped = Some((reason, now));
                if self.trigger == Some(Trigger::Drop(reason)) {
                    self.fire(now);
                }
            }
        }
    }

    fn stamp(&mut self, id: FrameId, stage: Stage, at: Cycle) {
        let rec = self.records.entry(id).or_default();
        let first = rec.stamps.is_empty();
        rec.stamps.push((stage, at));
        if first && self.trigger == Some(Trigger::Frame(id)) {
            self.fire(at);
        }
    }

    fn fire(&mut self, at: Cycle) {
        self.fired = Some(at);
        self.trigger = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulse(f: impl FnOnce(&mut Pins)) -> Pins {
        let mut p = Pins::default();
        f(&mut p);
        p
    }

    #[test]
    fn rx_pulses_map_to_frames_in_wire_order() {
        let mut pr = Probes::default();
        let mut faults = Vec::new();
        for (id, at) in [(10, 1), (11, 12), (12, 22)] {
            pr.wire_start(id, at);
        }
        let accept = pulse(|p| p.rx_evt_valid = true);
        let crc = pulse(|p| {
            p.rx_evt_valid = true;
            p.rx_evt_code = 1;
        });
        pr.observe(&accept, 9, &mut faults);
        pr.observe(&crc, 20, &mut faults);
        pr.observe(&accept, 30, &mut faults);
        for (slot, at) in [(5, 40), (6, 41)] {
            pr.observe(
                &pulse(|p| {
                    p.rx_wb_valid = true;
                    p.rx_wb_slot = slot;
                }),
                at,
                &mut faults,
            );
        }
        assert!(faults.is_empty());
        assert!(!pr.in_flight());
        assert!(pr.rx_slot_fresh(5) && pr.rx_slot_fresh(6));
        assert_eq!(
            (pr.take_rx_frame_id(5), pr.take_rx_frame_id(6)),
            (Some(10), Some(12))
        );
        // Taken once: until the next write-back the slot holds the previous lap's frame, never handed out again.
        assert_eq!(pr.take_rx_frame_id(5), None);
        assert!(!pr.rx_slot_fresh(5));
        assert_eq!(pr.rx_write_back_cycle(5), Some(40));
        let r = pr.records();
        assert_eq!(r[&11].dropped, Some((DropReason::NicCrcError, 20)));
        assert_eq!(
            r[&12].stamps,
            vec![
                (Stage::WireStart, 22),
                (Stage::FifoCommit, 30),
                (Stage::DmaWriteBack, 41)
            ]
        );
        // A pulse no frame explains is a fault, not a panic.
        pr.observe(&accept, 50, &mut faults);
        assert_eq!(
            faults,
            vec![Fault::ProbeOrder {
                cycle: 50,
                probe: "rx_evt_valid"
            }]
        );
    }

    #[test]
    fn tx_slots_survive_reuse_without_rs() {
        let mut pr = Probes::default();
        let mut faults = Vec::new();
        let dma = |slot| {
            pulse(|p| {
                p.tx_dma_valid = true;
                p.tx_dma_slot = slot;
            })
        };
        pr.tx_posted(3, 100);
        pr.observe(&dma(3), 10, &mut faults);
        assert_eq!(pr.tx_wire(15, &mut faults), Some(100));
        // The slot is reused before any write-back (no RS): the new frame is tracked anew.
        pr.tx_posted(3, 101);
        assert!(pr.in_flight());
        pr.observe(&dma(3), 30, &mut faults);
        pr.observe(
            &pulse(|p| {
                p.tx_wb_valid = true;
                p.tx_wb_slot = 3;
            }),
            31,
            &mut faults,
        );
        assert_eq!(pr.tx_wire(35, &mut faults), Some(101));
        assert!(!pr.in_flight() && faults.is_empty());
        assert_eq!(pr.records()[&101].stamp_of(Stage::TxWriteBack), Some(31));
        assert_eq!(pr.records()[&100].stamp_of(Stage::TxWriteBack), None);
    }

    #[test]
    fn frame_trigger_fires_once_on_the_first_stage() {
        let mut pr = Probes::default();
        pr.arm(Trigger::Frame(7));
        pr.wire_start(6, 3);
        assert_eq!(pr.take_fired(), None);
        pr.wire_start(7, 9);
        assert_eq!(pr.take_fired(), Some(9));
        assert_eq!(pr.take_fired(), None);
    }
}
