//! Receive overload through the Verilated NIC: an exhausted ring makes the head frame wait (RNBC once)
//! and the frames behind it overflow the RX FIFO (MPC, RXO); slow DMA overflows the FIFO with a ring
//! that has room. Every wire frame ends either written back or dropped as FIFO_FULL.

mod support;

use host_driver::accounting::{DropReason, FrameId, Stage};
use host_driver::regs;
use host_driver::wire::ethernet::{FCS_LEN, WIRE_OVERHEAD_BYTES};
use nicsim_model::{BEAT_BYTES, RX_FIFO_DEPTH_BYTES};
use nicsim_scenario::scenario::BusConfig;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::{World, WorldConfig};
use support::{frame, OUR_MAC};

/// Cycles `n` frames of `len` bytes (without FCS) take on the wire, plus a margin for the last verdict.
fn wire_cycles(n: u64, len: usize) -> u64 {
    n * (len as u64 + FCS_LEN as u64 + WIRE_OVERHEAD_BYTES).div_ceil(BEAT_BYTES) + 200
}

/// Splits `ids` into (written back, dropped as FIFO_FULL) and checks nothing else happened to them.
fn outcomes(w: &World, ids: &[FrameId]) -> (Vec<FrameId>, Vec<FrameId>) {
    let (mut written, mut missed) = (Vec::new(), Vec::new());
    for &id in ids {
        let rec = &w.nic_records()[&id];
        match (rec.dropped, rec.stamp_of(Stage::DmaWriteBack)) {
            (None, Some(_)) => written.push(id),
            (Some((DropReason::NicFifoFull, _)), None) => {
                assert_eq!(
                    rec.stamp_of(Stage::FifoCommit),
                    None,
                    "a missed frame was never committed"
                );
                missed.push(id);
            }
            other => panic!("frame {id}: unexpected outcome {other:?}"),
        }
    }
    (written, missed)
}

#[test]
fn exhausted_ring_counts_rnbc_once_then_missed_frames() {
    let mut w = support::world();
    // No descriptor handed to the NIC: RDT = RDH = 0.
    let mut ring = support::setup_rx(&mut w, 32, 0, 0);
    let len = 1514;
    let n = 2 * RX_FIFO_DEPTH_BYTES as u64 / len as u64;
    let start = w.cycle();
    let ids: Vec<FrameId> = (0..n)
        .map(|i| w.inject(frame(OUR_MAC, len, i as u8), start, WireFault::None))
        .collect();
    w.run_until(start + wire_cycles(n, len));

    let committed = ids
        .iter()
        .filter(|id| w.nic_records()[id].stamp_of(Stage::FifoCommit).is_some())
        .count();
    assert!(
        committed > 0 && (committed as u64) < n,
        "the FIFO took some frames: {committed} of {n}"
    );
    assert!(
        committed * len <= RX_FIFO_DEPTH_BYTES as usize,
        "no more than the FIFO holds: {committed} frames"
    );
    assert_eq!(
        w.read_reg(regs::RNBC),
        1,
        "only the head frame waited for a descriptor"
    );
    let mpc = w.read_reg(regs::MPC) as usize;
    assert_eq!(mpc + committed, n as usize);
    assert_ne!(
        w.read_reg(regs::ICR) & regs::ICR_RXO,
        0,
        "receiver overrun cause"
    );

    // Hand the NIC descriptors: the waiting frames drain in wire order.
    w.write_reg(regs::RDT, 31);
    support::settle(&mut w);
    let (written, missed) = outcomes(&w, &ids);
    assert_eq!(written.len(), committed);
    assert_eq!(missed.len(), mpc);
    let got = ring.harvest(&mut w);
    let got_ids: Vec<FrameId> = got.iter().map(|r| r.id.expect("mapped")).collect();
    assert_eq!(got_ids, written, "written back in wire order");
    for r in &got {
        assert_eq!(r.bytes.len(), len);
    }
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

#[test]
fn slow_dma_overflows_the_fifo_with_descriptors_available() {
    let base = support::config();
    let mut w = World::new(WorldConfig {
        bus: BusConfig {
            dma_write_latency_ns: 50_000,
            ..base.bus
        },
        ..base
    })
    .expect("world");
    let mut ring = support::setup_rx(&mut w, 256, 255, 0);
    let (len, n) = (1514, 64);
    let start = w.cycle();
    let ids: Vec<FrameId> = (0..n)
        .map(|i| w.inject(frame(OUR_MAC, len, i as u8), start, WireFault::None))
        .collect();
    support::settle(&mut w);

    let (written, missed) = outcomes(&w, &ids);
    assert!(
        !missed.is_empty(),
        "50 µs DMA writes cannot keep up with line rate"
    );
    assert_eq!(w.read_reg(regs::MPC) as usize, missed.len());
    assert_eq!(w.read_reg(regs::GPRC) as usize, written.len());
    assert_eq!(w.read_reg(regs::RNBC), 0, "descriptors were always there");
    let got = ring.harvest(&mut w);
    assert_eq!(got.len(), written.len());
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}
