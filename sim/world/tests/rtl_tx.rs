//! Transmit through the Verilated NIC: frames posted on the TX ring leave on `m_axis_tx` byte exact
//! with a correct FCS (padded to 60 bytes with TCTL.PSP), at line-rate spacing, with DD written back,
//! TX stage stamps in order and the TX counters.

mod support;

use host_driver::accounting::Stage;
use host_driver::desc::{TxDesc, DESC_SIZE, TXD_STAT_DD};
use host_driver::platform::Platform;
use host_driver::regs;
use host_driver::wire::ethernet::{FCS_LEN, WIRE_OVERHEAD_BYTES};
use nicsim_model::BEAT_BYTES;
use rstest::rstest;
use support::{frame, PEER_MAC};

#[rstest]
fn frames_leave_byte_exact_with_fcs(#[values(60, 61, 62, 63, 64, 65, 66, 67, 1514)] len: usize) {
    let mut w = support::world();
    let mut ring = support::setup_tx(&mut w, 16, 0);
    let data = frame(PEER_MAC, len, len as u8);
    let (id, slot) = ring.send(&mut w, &data);
    support::settle(&mut w);

    let sent = w.tx_frames();
    assert_eq!(sent.len(), 1);
    let f = &sent[0];
    assert_eq!(f.bytes, data);
    assert!(f.fcs_ok && !f.error);
    assert_eq!(f.id, Some(id));
    let rec = &w.nic_records()[&id];
    let dma = rec.stamp_of(Stage::TxDmaDone).expect("TX DMA done");
    let wire = rec.stamp_of(Stage::TxWire).expect("on the wire");
    let wb = rec.stamp_of(Stage::TxWriteBack).expect("DD written back");
    assert!(dma < wire, "{rec:?}");
    assert_eq!(wire, f.start);
    let desc: TxDesc = w
        .memory()
        .read_obj(ring.base + slot as u64 * DESC_SIZE as u64)
        .expect("descriptor");
    assert_ne!(desc.status & TXD_STAT_DD, 0, "DD set");
    assert!(wb >= dma);
    assert_eq!(w.read_reg(regs::GPTC), 1);
    assert_eq!(w.read_reg(regs::TPT), 1);
    assert_eq!(w.read_reg(regs::GOTCL), (len + FCS_LEN) as u32);
    assert_ne!(w.read_reg(regs::ICR) & regs::ICR_TXDW, 0, "TXDW raised");
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

#[rstest]
#[case::padded(regs::TCTL_PSP, 60)]
#[case::unpadded(0, 42)]
fn short_frames_are_padded_only_with_psp(#[case] tctl: u32, #[case] wire_len: usize) {
    let mut w = support::world();
    let mut ring = support::setup_tx(&mut w, 16, tctl);
    let data = frame(PEER_MAC, 42, 7);
    ring.send(&mut w, &data);
    support::settle(&mut w);
    let f = &w.tx_frames()[0];
    assert!(f.fcs_ok);
    assert_eq!(f.bytes.len(), wire_len);
    assert_eq!(f.bytes[..42], data[..]);
    assert!(f.bytes[42..].iter().all(|&b| b == 0), "zero padding");
}

#[test]
fn back_to_back_frames_keep_the_line_rate_gap() {
    let mut w = support::world();
    let mut ring = support::setup_tx(&mut w, 64, 0);
    let n = 20;
    let ids: Vec<_> = (0..n)
        .map(|i| ring.send(&mut w, &frame(PEER_MAC, 60, i as u8)).0)
        .collect();
    support::settle(&mut w);
    let sent = w.tx_frames();
    assert_eq!(
        sent.iter().map(|f| f.id).collect::<Vec<_>>(),
        ids.iter().copied().map(Some).collect::<Vec<_>>()
    );
    // 64 + 20 bytes per frame at 8 bytes per cycle: never faster than 10.5 cycles apart on average.
    let span = sent[n - 1].start - sent[0].start;
    let min_span = ((n as u64 - 1) * (64 + WIRE_OVERHEAD_BYTES)) / BEAT_BYTES;
    assert!(
        span >= min_span,
        "{n} frames in {span} cycles, line rate needs {min_span}"
    );
    for pair in sent.windows(2) {
        assert!(
            pair[1].start - pair[0].start >= 10,
            "gap below 10 cycles: {pair:?}"
        );
    }
}
