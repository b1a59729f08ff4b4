//! The destination address filter (rtl/README.md, "Destination filter"): own unicast, other unicast,
//! broadcast and multicast under RCTL.UPE / MPE / BAM and the MTA hash, and RCTL.EN clear.

mod support;

use host_driver::accounting::DropReason;
use host_driver::regs;
use nicsim_scenario::traffic::WireFault;
use rstest::rstest;
use support::{frame, BROADCAST, OUR_MAC};

const OTHER_UNICAST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x77];
const MULTICAST: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];

/// The MTA bit e1000 (MO = 0) uses for `dst`: hash = (byte5 << 4) | (byte4 >> 4).
fn mta_bit(dst: [u8; 6]) -> (u32, u32) {
    let hash = ((dst[5] as u32) << 4) | (dst[4] as u32 >> 4);
    (hash >> 5, hash & 31)
}

#[rstest]
#[case::own_unicast(OUR_MAC, 0, false, true)]
#[case::other_unicast(OTHER_UNICAST, 0, false, false)]
#[case::other_unicast_promiscuous(OTHER_UNICAST, regs::RCTL_UPE, false, true)]
#[case::broadcast_without_bam(BROADCAST, 0, false, false)]
#[case::broadcast_with_bam(BROADCAST, regs::RCTL_BAM, false, true)]
#[case::multicast_not_in_table(MULTICAST, 0, false, false)]
#[case::multicast_in_table(MULTICAST, 0, true, true)]
#[case::multicast_promiscuous(MULTICAST, regs::RCTL_MPE, false, true)]
#[case::broadcast_is_not_multicast_promiscuous(BROADCAST, regs::RCTL_MPE, false, false)]
fn destination_filter(
    #[case] dst: [u8; 6],
    #[case] rctl: u32,
    #[case] in_mta: bool,
    #[case] accepted: bool,
) {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, rctl);
    if in_mta {
        let (word, bit) = mta_bit(dst);
        w.write_reg(regs::mta(word), 1 << bit);
    }
    // Posted writes land one PCIe crossing later: a read behind them makes sure they did.
    w.read_reg(regs::STATUS);
    let now = w.cycle();
    let id = w.inject(frame(dst, 80, 3), now, WireFault::None);
    support::settle(&mut w);

    let got = ring.harvest(&mut w);
    let rec = &w.nic_records()[&id];
    if accepted {
        assert_eq!(got.len(), 1);
        assert_eq!(rec.dropped, None);
        assert_eq!(w.read_reg(regs::FLTC), 0);
    } else {
        assert!(got.is_empty());
        assert_eq!(rec.dropped.map(|d| d.0), Some(DropReason::NicAddressFilter));
        assert_eq!(w.read_reg(regs::FLTC), 1);
    }
    let expect_bprc = accepted && dst == BROADCAST;
    let expect_mprc = accepted && dst == MULTICAST;
    assert_eq!(w.read_reg(regs::BPRC), expect_bprc as u32);
    assert_eq!(w.read_reg(regs::MPRC), expect_mprc as u32);
}

#[test]
fn receiver_disabled_filters_everything() {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, regs::RCTL_UPE | regs::RCTL_BAM);
    w.write_reg(regs::RCTL, 0);
    w.read_reg(regs::STATUS);
    let now = w.cycle();
    let a = w.inject(frame(OUR_MAC, 64, 1), now, WireFault::None);
    let b = w.inject(frame(BROADCAST, 64, 2), now, WireFault::None);
    support::settle(&mut w);
    assert!(ring.harvest(&mut w).is_empty());
    for id in [a, b] {
        assert_eq!(
            w.nic_records()[&id].dropped.map(|d| d.0),
            Some(DropReason::NicAddressFilter)
        );
    }
    assert_eq!(w.read_reg(regs::FLTC), 2);
}

#[test]
fn unicast_needs_address_valid() {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    let rah = w.read_reg(regs::RAH0);
    w.write_reg(regs::RAH0, rah & !regs::RAH_AV);
    w.read_reg(regs::STATUS);
    let now = w.cycle();
    w.inject(frame(OUR_MAC, 64, 1), now, WireFault::None);
    support::settle(&mut w);
    assert!(ring.harvest(&mut w).is_empty());
    assert_eq!(w.read_reg(regs::FLTC), 1);
}
