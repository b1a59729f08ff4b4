//! The write-back order contract, checked on the AXI bus itself: for every frame, all payload bursts
//! complete (B) before the descriptor write-back is issued, the write-back's B comes before `rx_wb`
//! and before the interrupt, and the DMA rules (INCR, 8-byte beats, <= 16 beats, no 4 KiB crossing)
//! hold for every burst.

mod support;

use std::collections::VecDeque;

use host_driver::desc::DESC_SIZE;
use host_driver::regs;
use host_driver::time::Cycle;
use nicsim_model::Pins;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::World;
use support::{frame, OUR_MAC};

#[derive(Debug, Clone, Copy)]
struct Write {
    addr: u64,
    beats: u64,
    issued: Cycle,
    done: Option<Cycle>,
}

#[derive(Debug, Default)]
struct BusLog {
    writes: Vec<Write>,
    /// Indices into `writes` waiting for their B, in order (no IDs: B comes back in AW order).
    pending: VecDeque<usize>,
    rx_wb: Vec<(u16, Cycle)>,
    irq_rise: Vec<Cycle>,
    last_irq: bool,
}

impl BusLog {
    /// One cycle: `inputs` are the pins driven into it, `outputs` what the NIC presented in it.
    fn sample(&mut self, at: Cycle, inputs: &Pins, outputs: &Pins) {
        if outputs.m_axi_awvalid && inputs.m_axi_awready {
            assert_eq!(outputs.m_axi_awsize, 3, "8-byte beats");
            assert_eq!(outputs.m_axi_awburst, 1, "INCR");
            let beats = outputs.m_axi_awlen as u64 + 1;
            assert!(beats <= 16, "at most 16 beats");
            let addr = outputs.m_axi_awaddr;
            assert_eq!(addr % 8, 0, "aligned");
            assert_eq!(
                addr / 4096,
                (addr + beats * 8 - 1) / 4096,
                "no 4 KiB crossing"
            );
            self.pending.push_back(self.writes.len());
            self.writes.push(Write {
                addr,
                beats,
                issued: at,
                done: None,
            });
        }
        if inputs.m_axi_bvalid && outputs.m_axi_bready {
            let i = self
                .pending
                .pop_front()
                .expect("a B without an outstanding write");
            self.writes[i].done = Some(at);
        }
        if outputs.rx_wb_valid {
            self.rx_wb.push((outputs.rx_wb_slot, at));
        }
        if outputs.irq && !self.last_irq {
            self.irq_rise.push(at);
        }
        self.last_irq = outputs.irq;
    }
}

fn run_logged(w: &mut World, log: &mut BusLog, cycles: Cycle) {
    for _ in 0..cycles {
        let inputs = w.pins().clone();
        let at = w.cycle();
        w.step();
        log.sample(at, &inputs, w.pins());
    }
}

#[test]
fn payload_completes_before_descriptor_write_back_before_interrupt() {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    w.write_reg(regs::IMS, regs::ICR_RXT0);
    w.read_reg(regs::STATUS);
    let lens = [64, 1514, 333, 60, 1000, 129];
    let now = w.cycle();
    for (i, &len) in lens.iter().enumerate() {
        w.inject(frame(OUR_MAC, len, i as u8), now, WireFault::None);
    }
    let mut log = BusLog::default();
    run_logged(&mut w, &mut log, 5000);
    assert!(w.quiescent(), "all frames done within the window");

    let got = ring.harvest(&mut w);
    assert_eq!(got.len(), lens.len());
    assert_eq!(log.rx_wb.len(), lens.len());
    let desc_area = ring.base..ring.base + ring.len as u64 * DESC_SIZE as u64;
    for r in &got {
        let slot = r.slot;
        let buf = ring.bufs[slot as usize];
        let payload: Vec<&Write> = log
            .writes
            .iter()
            .filter(|wr| wr.addr >= buf && wr.addr < buf + regs::RX_BUFFER_SIZE as u64)
            .collect();
        let bytes: u64 = payload.iter().map(|wr| wr.beats * 8).sum();
        assert!(
            bytes >= r.bytes.len() as u64,
            "slot {slot}: payload bursts cover the frame"
        );
        let desc_addr = ring.base + slot as u64 * DESC_SIZE as u64 + 8;
        let wb: Vec<&Write> = log
            .writes
            .iter()
            .filter(|wr| wr.addr == desc_addr)
            .collect();
        assert_eq!(wb.len(), 1, "slot {slot}: one write-back beat at +8");
        let wb = wb[0];
        assert_eq!(wb.beats, 1);
        let last_payload_b = payload
            .iter()
            .map(|wr| wr.done.expect("payload B"))
            .max()
            .expect("payload");
        assert!(
            wb.issued > last_payload_b,
            "slot {slot}: write-back issued at {} before the payload's last B at {last_payload_b}",
            wb.issued
        );
        let wb_done = wb.done.expect("write-back B");
        let (_, probe) = log
            .rx_wb
            .iter()
            .find(|(s, _)| *s == slot)
            .expect("rx_wb pulse");
        assert!(
            *probe > wb_done,
            "slot {slot}: rx_wb before the write-back's B"
        );
    }
    assert!(log
        .writes
        .iter()
        .all(|wr| desc_area.contains(&wr.addr) || wr.done.is_some()));
    let first_wb_done = log
        .writes
        .iter()
        .filter(|wr| desc_area.contains(&wr.addr))
        .filter_map(|wr| wr.done)
        .min()
        .expect("a write-back");
    let first_irq = *log.irq_rise.first().expect("RXT0 raised the interrupt");
    assert!(
        first_irq > first_wb_done,
        "interrupt at {first_irq} before the first write-back B at {first_wb_done}"
    );
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

#[test]
fn payload_lands_in_memory_no_earlier_than_its_b_response() {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    let data = frame(OUR_MAC, 200, 0x40);
    let now = w.cycle();
    w.inject(data.clone(), now, WireFault::None);
    let buf = ring.bufs[0];
    let mut log = BusLog::default();
    // The cycle at whose start the host first sees payload bytes in the buffer.
    let mut visible_at = None;
    while visible_at.is_none() {
        let seen = host_driver::platform::Platform::memory(&mut w)
            .slice(buf, 8)
            .expect("buffer")
            .iter()
            .any(|&b| b != 0);
        if seen {
            visible_at = Some(w.cycle());
        }
        run_logged(&mut w, &mut log, 1);
        assert!(w.cycle() < now + 2000, "no payload write");
    }
    let first_b = log
        .writes
        .first()
        .and_then(|wr| wr.done)
        .expect("the payload's B");
    assert_eq!(
        visible_at,
        Some(first_b),
        "payload visible in the cycle its B response is given"
    );
    support::settle(&mut w);
    assert_eq!(ring.harvest(&mut w)[0].bytes, data);
}
