//! AXI4-Lite master for the NIC's register BAR: the CPU's MMIO through the PCIe root complex.
//!
//! Accesses leave the CPU at a cycle, cross PCIe one-way (`pcie_one_way` cycles) and reach the device in
//! issue order, one at a time on the bus. Writes are posted: nobody waits for their B response. A read
//! completes when its R handshake happens plus one more PCIe crossing back to the CPU.

use std::collections::VecDeque;

use host_driver::time::Cycle;

use crate::fault::Fault;
use nicsim_model::Pins;

/// AXI4-Lite address bits of the BAR (128 KiB).
const BAR_MASK: u32 = 0x1_FFFF;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Read,
    Write(u32),
}

#[derive(Debug, Clone, Copy)]
struct Op {
    /// Cycle the access reaches the device (issue + PCIe one-way).
    arrive: Cycle,
    offset: u32,
    kind: Kind,
    /// Read tag, to match the completion.
    tag: u64,
}

/// A finished register read as the CPU sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadDone {
    pub tag: u64,
    pub value: u32,
    /// Cycle the value is back at the CPU.
    pub at: Cycle,
}

/// The AXI4-Lite master.
#[derive(Debug)]
pub struct MmioMaster {
    one_way: Cycle,
    ops: VecDeque<Op>,
    /// The front op is on the bus.
    active: bool,
    /// Handshakes already done for the active op.
    addr_done: bool,
    data_done: bool,
    next_tag: u64,
    done: Option<ReadDone>,
}

impl MmioMaster {
    pub fn new(pcie_one_way: Cycle) -> MmioMaster {
        MmioMaster {
            one_way: pcie_one_way,
            ops: VecDeque::new(),
            active: false,
            addr_done: false,
            data_done: false,
            next_tag: 0,
            done: None,
        }
    }

    /// The master's always-ready response inputs, set once.
    pub fn init_pins(pins: &mut Pins) {
        pins.s_axil_bready = true;
        pins.s_axil_rready = true;
        pins.s_axil_wstrb = 0xF;
    }

    pub fn pcie_one_way(&self) -> Cycle {
        self.one_way
    }

    /// A posted write leaving the CPU at `at`.
    pub fn write(&mut self, at: Cycle, offset: u32, value: u32) {
        self.ops.push_back(Op {
            arrive: at + self.one_way,
            offset,
            kind: Kind::Write(value),
            tag: 0,
        });
    }

    /// A read leaving the CPU at `at`; returns the tag its [`ReadDone`] will carry.
    pub fn read(&mut self, at: Cycle, offset: u32) -> u64 {
        self.next_tag += 1;
        self.ops.push_back(Op {
            arrive: at + self.one_way,
            offset,
            kind: Kind::Read,
            tag: self.next_tag,
        });
        self.next_tag
    }

    /// When the last access queued so far reaches the device: a read queued now starts no earlier.
    pub fn last_arrival(&self) -> Option<Cycle> {
        self.ops.iter().map(|o| o.arrive).max()
    }

    /// The completion of read `tag`, once it happened.
    pub fn take_read(&mut self, tag: u64) -> Option<ReadDone> {
        match self.done {
            Some(d) if d.tag == tag => self.done.take(),
            _ => None,
        }
    }

    /// Abandons read `tag` (completion timeout): it stays queued but its answer will be dropped.
    pub fn abandon(&mut self, tag: u64) {
        if let Some(op) = self.ops.iter_mut().find(|o| o.tag == tag) {
            op.tag = 0;
        }
    }

    /// Nothing queued or on the bus.
    pub fn idle(&self) -> bool {
        self.ops.is_empty()
    }

    /// Takes the handshakes of cycle `now` and drives the master's outputs for `now + 1`.
    #[inline]
    pub fn tick(&mut self, pins: &mut Pins, now: Cycle, faults: &mut Vec<Fault>) {
        if self.ops.is_empty() {
            return;
        }
        if self.active {
            self.take_handshakes(pins, now, faults);
        }
        let next = now + 1;
        if !self.active {
            match self.ops.front() {
                Some(op) if op.arrive <= next => {
                    self.active = true;
                    self.addr_done = false;
                    self.data_done = false;
                }
                _ => return,
            }
        }
        let op = self.ops[0];
        let addr = op.offset & BAR_MASK;
        match op.kind {
            Kind::Read => {
                pins.s_axil_arvalid = !self.addr_done;
                pins.s_axil_araddr = addr;
            }
            Kind::Write(value) => {
                pins.s_axil_awvalid = !self.addr_done;
                pins.s_axil_awaddr = addr;
                pins.s_axil_wvalid = !self.data_done;
                pins.s_axil_wdata = value;
            }
        }
    }

    fn take_handshakes(&mut self, pins: &mut Pins, now: Cycle, faults: &mut Vec<Fault>) {
        let op = self.ops[0];
        let finished = match op.kind {
            Kind::Read => {
                self.addr_done |= pins.s_axil_arvalid && pins.s_axil_arready;
                if self.addr_done && pins.s_axil_rvalid {
                    if pins.s_axil_rresp != 0 {
                        faults.push(Fault::MmioError {
                            cycle: now,
                            offset: op.offset,
                            write: false,
                            resp: pins.s_axil_rresp,
                        });
                    }
                    if op.tag != 0 {
                        self.done = Some(ReadDone {
                            tag: op.tag,
                            value: pins.s_axil_rdata,
                            at: now + self.one_way,
                        });
                    }
                    true
                } else {
                    false
                }
            }
            Kind::Write(_) => {
                self.addr_done |= pins.s_axil_awvalid && pins.s_axil_awready;
                self.data_done |= pins.s_axil_wvalid && pins.s_axil_wready;
                if self.addr_done && self.data_done && pins.s_axil_bvalid {
                    if pins.s_axil_bresp != 0 {
                        faults.push(Fault::MmioError {
                            cycle: now,
                            offset: op.offset,
                            write: true,
                            resp: pins.s_axil_bresp,
                        });
                    }
                    true
                } else {
                    false
                }
            }
        };
        if finished {
            self.ops.pop_front();
            self.active = false;
            pins.s_axil_arvalid = false;
            pins.s_axil_awvalid = false;
            pins.s_axil_wvalid = false;
        }
    }
}
