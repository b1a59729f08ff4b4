//! NIC-side accounting from the probe ports (docs/interfaces.md, "Probe ports"): a logic analyser on
//! the NIC that turns one-cycle pulses into per-frame stage stamps and NIC drop outcomes.
//!
//! Pulses carry no frame id; they come in wire/FIFO order, so frames are matched with queues: frames
//! that started on the wire wait for their `rx_evt`, accepted frames for their `rx_wb`, TX frames whose
//! DMA finished for their first beat on `m_axis_tx`.

use std::collections::{BTreeMap, VecDeque};

use host_driver::accounting::{DropReason, FrameId, Stage};
use host_driver::time::Cycle;
use serde::Serialize;

use crate::fault::Fault;
use crate::model::Pins;

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

/// `rx_evt_code` values.
fn rx_verdict(code: u8) -> Option<Option<DropReason>> {
    Some(match code {
        0 => None,
        1 => Some(DropReason::NicCrcError),
        2 => Some(DropReason::NicRunt),
        3 => Some(DropReason::NicOversize),
        4 => Some(DropReason::NicAddressFilter),
        5 => Some(DropReason::NicFifoFull),
        6 => Some(DropReason::NicPhyError),
        _ => return None,
    })
}

/// What a wave trigger waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The first NIC drop with this reason.
    Drop(DropReason),
    /// The first hardware stage of this frame (wire start for RX, TX DMA done for TX).
    Frame(FrameId),
}

/// The probe observer and its per-frame records.
#[derive(Debug, Default)]
pub struct Probes {
    records: BTreeMap<FrameId, NicRecord>,
    /// Frames on or past the wire, waiting for their `rx_evt`.
    rx_evt_wait: VecDeque<FrameId>,
    /// Accepted frames waiting for their descriptor write-back.
    rx_wb_wait: VecDeque<FrameId>,
    /// RX ring slot → frame the NIC last wrote there.
    rx_slot: Vec<Option<FrameId>>,
    /// TX ring EOP slot → frame the driver posted there.
    tx_slot: Vec<Option<FrameId>>,
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
            self.tx_slot.resize(s + 1, None);
        }
        if self.tx_slot[s].replace(id).is_none() {
            self.tx_posted += 1;
        }
    }

    pub fn rx_frame_id(&self, slot: u16) -> Option<FrameId> {
        self.rx_slot.get(slot as usize).copied().flatten()
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
                    self.rx_slot[s] = Some(id);
                    self.stamp(id, Stage::DmaWriteBack, now);
                }
                None => faults.push(Fault::ProbeOrder {
                    cycle: now,
                    probe: "rx_wb_valid",
                }),
            }
        }
        if pins.tx_dma_valid {
            let id = self
                .tx_slot
                .get(pins.tx_dma_slot as usize)
                .copied()
                .flatten();
            if let Some(id) = id {
                self.tx_posted -= 1;
                self.stamp(id, Stage::TxDmaDone, now);
            }
            self.tx_fifo.push_back(id);
        }
        if pins.tx_wb_valid {
            // The slot's frame is done with the ring: a later reuse of the slot posts a new one.
            if let Some(id) = self
                .tx_slot
                .get_mut(pins.tx_wb_slot as usize)
                .and_then(Option::take)
            {
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
