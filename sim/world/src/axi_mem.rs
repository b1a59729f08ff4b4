//! AXI4 slave in front of host memory: the PCIe root complex and memory controller as the NIC's DMA
//! master sees them.
//!
//! Requests are accepted at once (AWREADY/ARREADY/WREADY held high) and served in order after a fixed
//! latency: a read's first R beat comes `read_latency` cycles after its AR handshake, then one beat per
//! cycle; a write lands in memory and its B response is raised `write_latency` cycles after the later of
//! its AW handshake and its WLAST beat. Landing at B time keeps the contract's order visible to the host:
//! a descriptor's DD can never be seen before the payload the NIC waited for.
//!
//! Each burst is checked once against the DMA rules (INCR, 8-byte beats, aligned, <= 16 beats, no 4 KiB
//! crossing) and against the DMA mappings; a violation is recorded as a [`Fault`] and answered SLVERR.

use std::collections::VecDeque;

use host_driver::dma::HostMemory;
use host_driver::time::Cycle;

use crate::fault::{AxiChannel, Fault, ProtocolViolation};
use nicsim_model::{Pins, BEAT_BYTES};

const RESP_OKAY: u8 = 0;
const RESP_SLVERR: u8 = 2;
const BURST_INCR: u8 = 1;
const SIZE_8_BYTES: u8 = 3;
const MAX_BEATS: u16 = 16;

/// An accepted address phase.
#[derive(Debug, Clone, Copy)]
struct Burst {
    /// Cycle the address handshake happened.
    at: Cycle,
    addr: u64,
    beats: u16,
    /// Passed the protocol checks.
    legal: bool,
}

/// A write whose address and data are both in, waiting for its latency.
#[derive(Debug, Clone, Copy)]
struct PendingWrite {
    due: Cycle,
    addr: u64,
    /// Data beats actually received (taken from the front of `w_beats`).
    beats: u16,
    legal: bool,
}

/// The DMA slave: owns no memory, serves bursts against the [`HostMemory`] it is handed every cycle.
#[derive(Debug)]
pub struct AxiMem {
    read_latency: Cycle,
    write_latency: Cycle,
    /// Accepted read bursts not yet on R.
    ar: VecDeque<Burst>,
    /// The read burst on R: its beats, the next beat index, its response.
    r_data: Vec<u64>,
    r_next: usize,
    r_resp: u8,
    r_active: bool,
    /// Accepted write addresses not yet matched with a complete data burst.
    aw: VecDeque<Burst>,
    /// W beats in arrival order, (data, strobe), consumed when their write lands.
    w_beats: VecDeque<(u64, u8)>,
    /// Beats of the W burst in progress.
    w_count: u16,
    /// Complete W bursts (beats, cycle of WLAST) not yet matched with an address.
    w_done: VecDeque<(u16, Cycle)>,
    /// Writes waiting for their B response, in order.
    b: VecDeque<PendingWrite>,
    b_active: bool,
    b_resp: u8,
    /// Reused byte buffer and per-beat strobes for one burst.
    scratch: Vec<u8>,
    strobes: Vec<u8>,
}

impl AxiMem {
    /// Latencies in cycles; a latency of 0 behaves as 1 (a response follows its request's cycle).
    pub fn new(read_latency: Cycle, write_latency: Cycle) -> AxiMem {
        AxiMem {
            read_latency: read_latency.max(1),
            write_latency: write_latency.max(1),
            ar: VecDeque::new(),
            r_data: Vec::with_capacity(MAX_BEATS as usize),
            r_next: 0,
            r_resp: RESP_OKAY,
            r_active: false,
            aw: VecDeque::new(),
            w_beats: VecDeque::new(),
            w_count: 0,
            w_done: VecDeque::new(),
            b: VecDeque::new(),
            b_active: false,
            b_resp: RESP_OKAY,
            scratch: Vec::with_capacity((MAX_BEATS as u64 * BEAT_BYTES) as usize),
            strobes: Vec::with_capacity(MAX_BEATS as usize),
        }
    }

    /// The slave's always-ready inputs, set once.
    pub fn init_pins(pins: &mut Pins) {
        pins.m_axi_awready = true;
        pins.m_axi_wready = true;
        pins.m_axi_arready = true;
    }

    /// No burst accepted and not yet answered.
    pub fn idle(&self) -> bool {
        !self.r_active
            && !self.b_active
            && self.ar.is_empty()
            && self.aw.is_empty()
            && self.b.is_empty()
            && self.w_beats.is_empty()
    }

    /// Takes the handshakes of cycle `now` from `pins` and drives the slave's outputs for `now + 1`.
    #[inline]
    pub fn tick(
        &mut self,
        pins: &mut Pins,
        now: Cycle,
        mem: &mut HostMemory,
        faults: &mut Vec<Fault>,
    ) {
        if pins.m_axi_arvalid || self.r_active || !self.ar.is_empty() {
            self.tick_read(pins, now, mem, faults);
        }
        if pins.m_axi_awvalid
            || pins.m_axi_wvalid
            || self.b_active
            || !self.b.is_empty()
            || !self.aw.is_empty()
        {
            self.tick_write(pins, now, mem, faults);
        }
    }

    fn tick_read(
        &mut self,
        pins: &mut Pins,
        now: Cycle,
        mem: &HostMemory,
        faults: &mut Vec<Fault>,
    ) {
        let next = now + 1;
        if pins.m_axi_arvalid {
            let burst = self.accept(
                now,
                AxiChannel::Read,
                pins.m_axi_araddr,
                pins.m_axi_arlen,
                pins.m_axi_arsize,
                pins.m_axi_arburst,
                faults,
            );
            self.ar.push_back(burst);
        }
        if self.r_active && pins.m_axi_rready {
            self.r_next += 1;
            self.r_active = self.r_next < self.r_data.len();
        }
        if !self.r_active {
            if let Some(&front) = self.ar.front() {
                if front.at + self.read_latency <= next {
                    self.ar.pop_front();
                    self.load_read(front, next, mem, faults);
                }
            }
        }
        pins.m_axi_rvalid = self.r_active;
        if self.r_active {
            pins.m_axi_rdata = self.r_data[self.r_next];
            pins.m_axi_rlast = self.r_next + 1 == self.r_data.len();
            pins.m_axi_rresp = self.r_resp;
        }
    }

    /// Fetches a whole read burst from memory (one mapping check) and puts it on R from `at`.
    fn load_read(&mut self, burst: Burst, at: Cycle, mem: &HostMemory, faults: &mut Vec<Fault>) {
        let len = burst.beats as usize * BEAT_BYTES as usize;
        self.scratch.clear();
        self.scratch.resize(len, 0);
        self.r_resp = RESP_OKAY;
        if !burst.legal {
            self.r_resp = RESP_SLVERR;
        } else if let Err(f) = mem.device_read(burst.addr, &mut self.scratch) {
            faults.push(Fault::dma(at, f));
            self.scratch.fill(0);
            self.r_resp = RESP_SLVERR;
        }
        self.r_data.clear();
        self.r_data.extend(
            self.scratch
                .chunks_exact(BEAT_BYTES as usize)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk"))),
        );
        self.r_next = 0;
        self.r_active = true;
    }

    fn tick_write(
        &mut self,
        pins: &mut Pins,
        now: Cycle,
        mem: &mut HostMemory,
        faults: &mut Vec<Fault>,
    ) {
        let next = now + 1;
        if pins.m_axi_wvalid {
            self.w_beats.push_back((pins.m_axi_wdata, pins.m_axi_wstrb));
            self.w_count += 1;
            if pins.m_axi_wlast {
                self.w_done.push_back((self.w_count, now));
                self.w_count = 0;
            }
        }
        if pins.m_axi_awvalid {
            let burst = self.accept(
                now,
                AxiChannel::Write,
                pins.m_axi_awaddr,
                pins.m_axi_awlen,
                pins.m_axi_awsize,
                pins.m_axi_awburst,
                faults,
            );
            self.aw.push_back(burst);
        }
        while !self.aw.is_empty() && !self.w_done.is_empty() {
            let a = self.aw.pop_front().expect("checked non-empty");
            let (beats, last_at) = self.w_done.pop_front().expect("checked non-empty");
            let mut legal = a.legal;
            if beats != a.beats {
                faults.push(Fault::Protocol {
                    cycle: last_at,
                    channel: AxiChannel::Write,
                    addr: a.addr,
                    violation: ProtocolViolation::WlastMismatch {
                        expected: a.beats,
                        got: beats,
                    },
                });
                legal = false;
            }
            self.b.push_back(PendingWrite {
                due: a.at.max(last_at) + self.write_latency,
                addr: a.addr,
                beats,
                legal,
            });
        }
        if self.b_active && pins.m_axi_bready {
            self.b_active = false;
        }
        if !self.b_active {
            if let Some(&front) = self.b.front() {
                if front.due <= next {
                    self.b.pop_front();
                    self.b_resp = self.land_write(front, next, mem, faults);
                    self.b_active = true;
                }
            }
        }
        pins.m_axi_bvalid = self.b_active;
        pins.m_axi_bresp = self.b_resp;
    }

    /// Writes a burst's strobed bytes into memory (one mapping check over the strobed span) and returns
    /// the B response.
    fn land_write(
        &mut self,
        w: PendingWrite,
        at: Cycle,
        mem: &mut HostMemory,
        faults: &mut Vec<Fault>,
    ) -> u8 {
        let len = w.beats as usize * BEAT_BYTES as usize;
        self.scratch.clear();
        self.scratch.resize(len, 0);
        self.strobes.clear();
        let (mut lo, mut hi, mut strobed) = (usize::MAX, 0, 0);
        for i in 0..w.beats as usize {
            let (data, strb) = self
                .w_beats
                .pop_front()
                .expect("a complete burst's beats are queued");
            self.scratch[i * 8..i * 8 + 8].copy_from_slice(&data.to_le_bytes());
            self.strobes.push(strb);
            if strb != 0 {
                lo = lo.min(i * 8 + strb.trailing_zeros() as usize);
                hi = hi.max(i * 8 + 8 - strb.leading_zeros() as usize);
                strobed += strb.count_ones() as usize;
            }
        }
        if !w.legal {
            return RESP_SLVERR;
        }
        if strobed == 0 {
            return RESP_OKAY;
        }
        let start = w.addr + lo as u64;
        if strobed != hi - lo {
            // Holes in the strobes: unstrobed lanes keep memory's bytes, so the span is written at once.
            if let Ok(old) = mem.slice(start, hi - lo) {
                for i in lo..hi {
                    if self.strobes[i / 8] & (1 << (i % 8)) == 0 {
                        self.scratch[i] = old[i - lo];
                    }
                }
            }
        }
        match mem.device_write(start, &self.scratch[lo..hi]) {
            Ok(()) => RESP_OKAY,
            Err(f) => {
                faults.push(Fault::dma(at, f));
                RESP_SLVERR
            }
        }
    }

    /// Checks one address phase against the DMA rules.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &self,
        at: Cycle,
        channel: AxiChannel,
        addr: u64,
        len: u8,
        size: u8,
        burst: u8,
        faults: &mut Vec<Fault>,
    ) -> Burst {
        let beats = len as u16 + 1;
        let violation = if size != SIZE_8_BYTES {
            Some(ProtocolViolation::Size(size))
        } else if burst != BURST_INCR {
            Some(ProtocolViolation::BurstType(burst))
        } else if addr % BEAT_BYTES != 0 {
            Some(ProtocolViolation::Unaligned)
        } else if beats > MAX_BEATS {
            Some(ProtocolViolation::TooLong(beats))
        } else if (addr & 0xFFF) + beats as u64 * BEAT_BYTES > 0x1000 {
            Some(ProtocolViolation::Crosses4K)
        } else {
            None
        };
        if let Some(violation) = violation {
            faults.push(Fault::Protocol {
                cycle: at,
                channel,
                addr,
                violation,
            });
        }
        Burst {
            at,
            addr,
            beats,
            legal: violation.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::dma::DmaDir;

    fn mem_with_buffer(dir: DmaDir) -> (HostMemory, u64) {
        let mut mem = HostMemory::new(HostMemory::DEFAULT_BASE, 1 << 16).expect("memory");
        let buf = mem.alloc(256, 4096).expect("buffer");
        mem.write(buf, &(0..=255).collect::<Vec<u8>>())
            .expect("fill");
        mem.map(buf, 256, dir).expect("map");
        (mem, buf)
    }

    /// Runs the slave for `cycles` with a master that presents `drive(cycle, pins)` each cycle.
    fn run(
        slave: &mut AxiMem,
        mem: &mut HostMemory,
        cycles: Cycle,
        mut drive: impl FnMut(Cycle, &mut Pins),
        mut seen: impl FnMut(Cycle, &Pins),
    ) -> Vec<Fault> {
        let mut pins = Pins::default();
        AxiMem::init_pins(&mut pins);
        pins.m_axi_rready = true;
        pins.m_axi_bready = true;
        let mut faults = Vec::new();
        for c in 0..cycles {
            drive(c, &mut pins);
            seen(c, &pins);
            slave.tick(&mut pins, c, mem, &mut faults);
        }
        faults
    }

    #[test]
    fn read_burst_comes_after_the_latency_one_beat_per_cycle() {
        let (mut mem, buf) = mem_with_buffer(DmaDir::ToDevice);
        let mut slave = AxiMem::new(5, 5);
        let mut beats = Vec::new();
        let faults = run(
            &mut slave,
            &mut mem,
            20,
            |c, p| {
                p.m_axi_arvalid = c == 2;
                p.m_axi_araddr = buf + 8;
                p.m_axi_arlen = 2;
                p.m_axi_arsize = 3;
                p.m_axi_arburst = 1;
            },
            |c, p| {
                if p.m_axi_rvalid {
                    beats.push((c, p.m_axi_rdata, p.m_axi_rlast, p.m_axi_rresp));
                }
            },
        );
        assert!(faults.is_empty());
        let word = |i: u64| u64::from_le_bytes(std::array::from_fn(|b| (i * 8 + b as u64) as u8));
        assert_eq!(
            beats,
            vec![
                (7, word(1), false, 0),
                (8, word(2), false, 0),
                (9, word(3), true, 0)
            ]
        );
        assert!(slave.idle());
    }

    #[test]
    fn write_lands_with_its_strobes_at_b_time() {
        let (mut mem, buf) = mem_with_buffer(DmaDir::FromDevice);
        let mut slave = AxiMem::new(3, 4);
        let mut b_at = None;
        let faults = run(
            &mut slave,
            &mut mem,
            12,
            |c, p| {
                p.m_axi_awvalid = c == 1;
                p.m_axi_awaddr = buf;
                p.m_axi_awlen = 1;
                p.m_axi_awsize = 3;
                p.m_axi_awburst = 1;
                p.m_axi_wvalid = c == 1 || c == 2;
                p.m_axi_wdata = u64::MAX;
                // A hole in the first beat's strobes (lane 2), the second beat's low half only.
                p.m_axi_wstrb = if c == 1 { 0b1111_1011 } else { 0b0000_1111 };
                p.m_axi_wlast = c == 2;
            },
            |c, p| {
                if p.m_axi_bvalid && b_at.is_none() {
                    b_at = Some((c, p.m_axi_bresp));
                }
            },
        );
        assert!(faults.is_empty());
        assert_eq!(b_at, Some((6, 0)), "B four cycles after WLAST");
        let got = mem.slice(buf, 16).expect("slice");
        assert_eq!(got[..8], [0xFF, 0xFF, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(got[8..], [0xFF, 0xFF, 0xFF, 0xFF, 12, 13, 14, 15]);
    }

    #[test]
    fn unmapped_access_and_rule_breaks_are_faults_answered_slverr() {
        let (mut mem, buf) = mem_with_buffer(DmaDir::FromDevice);
        let mut slave = AxiMem::new(1, 1);
        let mut resps = Vec::new();
        let faults = run(
            &mut slave,
            &mut mem,
            10,
            |c, p| {
                // cycle 1: a read of a write-only mapping; cycle 2: a read crossing 4 KiB.
                p.m_axi_arvalid = c == 1 || c == 2;
                p.m_axi_araddr = if c == 1 { buf } else { buf + 4096 - 8 };
                p.m_axi_arlen = if c == 1 { 0 } else { 1 };
                p.m_axi_arsize = 3;
                p.m_axi_arburst = 1;
            },
            |_, p| {
                if p.m_axi_rvalid && p.m_axi_rlast {
                    resps.push(p.m_axi_rresp);
                }
            },
        );
        assert_eq!(resps, vec![RESP_SLVERR, RESP_SLVERR]);
        // The first read is served (and faults) at cycle 2, the cycle the second is accepted.
        assert_eq!(
            faults,
            vec![
                Fault::Dma {
                    cycle: 2,
                    addr: buf,
                    len: 8,
                    dir: DmaDir::ToDevice
                },
                Fault::Protocol {
                    cycle: 2,
                    channel: AxiChannel::Read,
                    addr: buf + 4096 - 8,
                    violation: ProtocolViolation::Crosses4K
                },
            ]
        );
    }
}
