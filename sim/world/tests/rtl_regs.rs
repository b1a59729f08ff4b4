//! `host_driver::regs` against the RTL register file, through real AXI4-Lite accesses: every
//! read/write register keeps what was written at its offset (within its implemented bits) without
//! disturbing any other, and the read-only / read-clear registers read as documented after reset.

mod support;

use host_driver::regs::{self, Access, REGISTERS};
use rstest::rstest;

/// Bits a read returns of what was written, per RW register (rtl/README.md, register map).
/// Enable bits are left out so writing patterns does not start DMA from a garbage ring.
fn implemented_bits(name: &str) -> u32 {
    match name {
        "CTRL" => !regs::CTRL_RST,
        "ITR" | "RDT" | "RDTR" | "RADV" | "TDT" | "RDH" | "TDH" => 0xFFFF,
        "IMS" => regs::ICR_ALL,
        "RCTL" => !(regs::RCTL_SBP | regs::RCTL_EN),
        "TCTL" => !regs::TCTL_EN,
        "RDBAL" | "TDBAL" => 0xFFFF_FFF0,
        "RDLEN" | "TDLEN" => 0x000F_FF80,
        "RLPML" => 0x07FF,
        "RXCSUM" => 0x03FF,
        "RAH0" => regs::RAH_AV | 0xFFFF,
        "RDBAH" | "TDBAH" | "RXDCTL" | "RAL0" => 0xFFFF_FFFF,
        other => panic!("RW register {other} has no entry in the test's bit table"),
    }
}

/// A distinct pattern per register, so a write landing at the wrong offset shows up elsewhere.
fn pattern(i: usize) -> u32 {
    0x9E37_79B9u32.wrapping_mul(i as u32 + 1) ^ 0x5A5A_0F0F
}

#[test]
fn every_read_write_register_reads_back_at_its_offset() {
    let mut w = support::world();
    let rw: Vec<_> = REGISTERS
        .iter()
        .filter(|r| r.access == Access::ReadWrite)
        .collect();
    assert!(rw.len() >= 20, "the map lists the e1000 RW registers");
    for (i, r) in rw.iter().enumerate() {
        w.write_reg(r.offset, pattern(i) & implemented_bits(r.name));
    }
    for (i, r) in rw.iter().enumerate() {
        let expected = pattern(i) & implemented_bits(r.name);
        assert_eq!(
            w.read_reg(r.offset),
            expected,
            "{} at {:#06x}: read-back differs",
            r.name,
            r.offset
        );
    }
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

#[test]
fn read_only_and_counters_after_reset() {
    let mut w = support::world();
    for r in REGISTERS {
        let v = w.read_reg(r.offset);
        match (r.access, r.name) {
            (Access::ReadOnly, "STATUS") => {
                assert_eq!(v & regs::STATUS_LU, regs::STATUS_LU, "link up")
            }
            (Access::ReadWrite, "RLPML") => assert_eq!(v, regs::RLPML_DEFAULT),
            (Access::ReadWrite | Access::ReadClear | Access::WriteOnly, _) => {
                assert_eq!(v, 0, "{} at {:#06x} is not 0 after reset", r.name, r.offset)
            }
            (Access::ReadOnly, other) => panic!("unexpected RO register {other}"),
        }
    }
}

#[rstest]
#[case::below_max(1000, 1000)]
#[case::at_max(regs::RLPML_MAX, regs::RLPML_MAX)]
#[case::clamped(5000, regs::RLPML_MAX)]
fn rlpml_is_clamped_to_one_buffer(#[case] written: u32, #[case] read: u32) {
    let mut w = support::world();
    w.write_reg(regs::RLPML, written);
    assert_eq!(w.read_reg(regs::RLPML), read);
}

#[test]
fn multicast_table_entries_are_independent() {
    let mut w = support::world();
    for i in 0..regs::MTA_LEN {
        w.write_reg(regs::mta(i), pattern(i as usize));
    }
    for i in 0..regs::MTA_LEN {
        assert_eq!(w.read_reg(regs::mta(i)), pattern(i as usize), "MTA[{i}]");
    }
}

#[test]
fn soft_reset_restores_reset_values_and_clears_itself() {
    let mut w = support::world();
    w.write_reg(regs::RDT, 7);
    w.write_reg(regs::RLPML, 1000);
    w.write_reg(regs::CTRL, regs::CTRL_RST);
    assert_eq!(
        w.read_reg(regs::CTRL) & regs::CTRL_RST,
        0,
        "RST self-clears"
    );
    assert_eq!(w.read_reg(regs::RDT), 0);
    assert_eq!(w.read_reg(regs::RLPML), regs::RLPML_DEFAULT);
}

#[test]
fn mmio_read_costs_two_pcie_crossings_plus_the_bus() {
    use host_driver::platform::Platform;
    let mut w = support::world();
    let at = w.cycle() + 10;
    let (v, done) = w.mmio_read(at, regs::STATUS);
    assert_eq!(v & regs::STATUS_LU, regs::STATUS_LU);
    let one_way = w.clock().ns_to_cycles(100);
    // AR is taken in the cycle it arrives and R comes registered in the next one.
    assert_eq!(done - at, 2 * one_way + 1, "read round trip");
}
