//! Interrupt registers through the Verilated NIC (e1000 semantics): ICS sets causes, IMS/IMC mask,
//! ICR reads and clears, `irq` = |(ICR & IMS); ITR spaces rising edges; RDTR delays RXT0.

mod support;

use host_driver::regs;
use host_driver::time::Cycle;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::World;
use rstest::rstest;
use support::{frame, OUR_MAC};

/// Lets posted writes land and the registered `irq` settle.
fn flush(w: &mut World) {
    w.read_reg(regs::STATUS);
    let end = w.cycle() + 4;
    w.run_until(end);
}

#[rstest]
#[case::txdw(regs::ICR_TXDW)]
#[case::txqe(regs::ICR_TXQE)]
#[case::lsc(regs::ICR_LSC)]
#[case::rxdmt0(regs::ICR_RXDMT0)]
#[case::rxo(regs::ICR_RXO)]
#[case::rxt0(regs::ICR_RXT0)]
fn cause_masking_and_read_to_clear(#[case] cause: u32) {
    let mut w = support::world();
    w.write_reg(regs::ICS, cause);
    flush(&mut w);
    assert!(!w.irq(), "masked cause does not interrupt");

    w.write_reg(regs::IMS, cause);
    flush(&mut w);
    assert!(w.irq(), "unmasked pending cause interrupts");
    assert_eq!(w.read_reg(regs::IMS), cause, "IMS reads the mask");

    w.write_reg(regs::IMC, cause);
    flush(&mut w);
    assert!(!w.irq(), "IMC masks it again");
    assert_eq!(w.read_reg(regs::IMS), 0);

    w.write_reg(regs::IMS, cause);
    flush(&mut w);
    assert!(w.irq());
    assert_eq!(w.read_reg(regs::ICR), cause, "ICR returns the cause");
    flush(&mut w);
    assert!(!w.irq(), "reading ICR cleared it");
    assert_eq!(w.read_reg(regs::ICR), 0);
}

#[test]
fn ims_and_imc_set_and_clear_only_the_written_bits() {
    let mut w = support::world();
    w.write_reg(regs::IMS, regs::ICR_RXT0 | regs::ICR_TXDW);
    w.write_reg(regs::IMS, regs::ICR_RXO);
    w.write_reg(regs::IMC, regs::ICR_TXDW);
    assert_eq!(w.read_reg(regs::IMS), regs::ICR_RXT0 | regs::ICR_RXO);
    w.write_reg(regs::IMS, 0xFFFF_FFFF);
    assert_eq!(
        w.read_reg(regs::IMS),
        regs::ICR_ALL,
        "only implemented causes"
    );
}

/// Cycles from each `irq` rising edge to the next, over `cycles`.
fn rising_edges(w: &mut World, cycles: Cycle, mut between: impl FnMut(&mut World)) -> Vec<Cycle> {
    let mut edges = Vec::new();
    let mut last = w.irq();
    let end = w.cycle() + cycles;
    while w.cycle() < end {
        w.step();
        if w.irq() && !last {
            edges.push(w.cycle());
            between(w);
        }
        last = w.irq();
    }
    edges
}

#[test]
fn itr_spaces_rising_edges() {
    let mut w = support::world();
    let itr = 10; // 10 × 256 ns = 400 cycles
    w.write_reg(regs::ITR, itr);
    w.write_reg(regs::IMS, regs::ICR_LSC);
    flush(&mut w);
    w.write_reg(regs::ICS, regs::ICR_LSC);
    // Every edge: acknowledge (read ICR) and raise the cause again at once.
    let edges = rising_edges(&mut w, 3000, |w| {
        w.read_reg(regs::ICR);
        w.write_reg(regs::ICS, regs::ICR_LSC);
    });
    assert!(edges.len() >= 3, "edges: {edges:?}");
    for pair in edges.windows(2) {
        assert!(
            pair[1] - pair[0] >= itr as Cycle * 40,
            "edges {pair:?} closer than ITR"
        );
    }
}

#[rstest]
#[case::immediate(0)]
#[case::delayed(4)]
fn rdtr_delays_rxt0_after_write_back(#[case] rdtr: u32) {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    w.write_reg(regs::RDTR, rdtr);
    w.write_reg(regs::IMS, regs::ICR_RXT0);
    flush(&mut w);
    let now = w.cycle();
    let id = w.inject(frame(OUR_MAC, 100, 1), now, WireFault::None);
    let mut last = false;
    let edge = loop {
        w.step();
        if w.irq() && !last {
            break w.cycle();
        }
        last = w.irq();
        assert!(w.cycle() < now + 20_000, "no interrupt");
    };
    let wb = w.nic_records()[&id]
        .stamp_of(host_driver::accounting::Stage::DmaWriteBack)
        .expect("written back before the interrupt");
    let delay = edge - wb;
    let timer = rdtr as Cycle * 160;
    assert!(
        delay >= timer && delay <= timer + 8,
        "RXT0 {delay} cycles after write-back, RDTR {timer}"
    );
    assert_eq!(ring.harvest(&mut w).len(), 1);
    assert_ne!(w.read_reg(regs::ICR) & regs::ICR_RXT0, 0);
}
