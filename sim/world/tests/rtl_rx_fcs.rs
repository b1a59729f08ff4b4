//! RX MAC frame checks through the Verilated NIC: FCS good and bad for every position of the last
//! byte in the last beat (all tkeep endings), runts, oversize against RLPML and PHY errors — each
//! with its counter and its per-frame NIC record.

mod support;

use host_driver::accounting::{DropReason, Stage};
use host_driver::regs;
use nicsim_scenario::traffic::WireFault;
use rstest::rstest;
use support::{frame, OUR_MAC};

/// Frame lengths without FCS from 60 to 67: with the FCS, 64..71 bytes end on each of the 8 lanes.
#[rstest]
fn fcs_is_checked_and_stripped_for_every_last_beat_ending(
    #[values(60, 61, 62, 63, 64, 65, 66, 67, 1000, 1514)] len: usize,
    #[values(WireFault::None, WireFault::BadFcs)] fault: WireFault,
) {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    let data = frame(OUR_MAC, len, len as u8);
    let now = w.cycle();
    let id = w.inject(data.clone(), now, fault);
    support::settle(&mut w);

    let got = ring.harvest(&mut w);
    let rec = w
        .nic_records()
        .get(&id)
        .cloned()
        .expect("a record for the frame");
    assert!(rec.stamp_of(Stage::WireStart).is_some());
    if fault == WireFault::None {
        assert_eq!(got.len(), 1, "one frame written back");
        assert_eq!(got[0].bytes, data, "payload without FCS, byte exact");
        assert_eq!(
            got[0].id,
            Some(id),
            "rx_frame_id maps the slot to the wire frame"
        );
        assert_eq!(rec.dropped, None);
        let (start, commit, wb) = (
            rec.stamp_of(Stage::WireStart).unwrap(),
            rec.stamp_of(Stage::FifoCommit).expect("committed"),
            rec.stamp_of(Stage::DmaWriteBack).expect("written back"),
        );
        assert!(start < commit && commit < wb, "stages in order: {rec:?}");
        assert_eq!(w.read_reg(regs::GPRC), 1);
        assert_eq!(w.read_reg(regs::CRCERRS), 0);
        assert_eq!(
            w.read_reg(regs::GORCL),
            len as u32 + 4,
            "good octets include the FCS"
        );
    } else {
        assert!(got.is_empty(), "a bad frame is never written to the host");
        assert_eq!(rec.dropped.map(|d| d.0), Some(DropReason::NicCrcError));
        assert_eq!(w.read_reg(regs::CRCERRS), 1);
        assert_eq!(w.read_reg(regs::GPRC), 0);
    }
    assert_eq!(w.read_reg(regs::TPR), 1);
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

#[rstest]
#[case::runt(59, WireFault::None, 1518, DropReason::NicRunt, regs::RUC)]
#[case::runt_beats_bad_fcs(40, WireFault::BadFcs, 1518, DropReason::NicRunt, regs::RUC)]
#[case::oversize(1515, WireFault::None, 1518, DropReason::NicOversize, regs::ROC)]
#[case::oversize_lower_rlpml(200, WireFault::None, 200, DropReason::NicOversize, regs::ROC)]
#[case::phy_error(100, WireFault::PhyError, 1518, DropReason::NicPhyError, regs::RXERRC)]
#[case::phy_error_beats_bad_length(
    30,
    WireFault::PhyError,
    1518,
    DropReason::NicPhyError,
    regs::RXERRC
)]
fn length_and_phy_errors_are_dropped_and_counted(
    #[case] len: usize,
    #[case] fault: WireFault,
    #[case] rlpml: u32,
    #[case] reason: DropReason,
    #[case] counter: u32,
) {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    w.write_reg(regs::RLPML, rlpml);
    w.read_reg(regs::STATUS);
    // A good frame after the bad one proves the MAC recovered.
    let now = w.cycle() + 10;
    let bad = w.inject(frame(OUR_MAC, len, 1), now, fault);
    let good = w.inject(frame(OUR_MAC, 64, 2), now, WireFault::None);
    support::settle(&mut w);

    assert_eq!(w.nic_records()[&bad].dropped.map(|d| d.0), Some(reason));
    let got = ring.harvest(&mut w);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, Some(good));
    assert_eq!(w.read_reg(counter), 1);
    assert_eq!(w.read_reg(regs::GPRC), 1);
    assert_eq!(w.read_reg(regs::TPR), 2);
}

#[test]
fn frame_of_exactly_rlpml_is_accepted() {
    let mut w = support::world();
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    let data = frame(OUR_MAC, 1514, 9);
    let now = w.cycle();
    w.inject(data.clone(), now, WireFault::None);
    support::settle(&mut w);
    let got = ring.harvest(&mut w);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bytes, data);
    assert_eq!(w.read_reg(regs::ROC), 0);
}
