//! Receive checksum offload through the Verilated NIC (8254x SDM §3.2.9, RXCSUM): the IPv4 header
//! checksum and the TCP/UDP checksum with its pseudo-header, reported in the legacy descriptor's
//! status (IXSM, IPCS, TCPCS) and errors (IPE, TCPE). Every kind of frame the manual distinguishes,
//! then random frames with random damage against a reference, and back-to-back small frames at
//! line rate.

mod support;

use host_driver::accounting::Stage;
use host_driver::desc::{
    RXD_ERR_IPE, RXD_ERR_TCPE, RXD_STAT_DD, RXD_STAT_EOP, RXD_STAT_IPCS, RXD_STAT_IXSM,
    RXD_STAT_TCPCS,
};
use host_driver::regs;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::World;
use rstest::rstest;
use support::{RxRing, OUR_MAC, PEER_MAC};

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const BOTH: u32 = regs::RXCSUM_IPOFLD | regs::RXCSUM_TUOFLD;

/// One's complement sum of 16-bit big-endian words (odd tail padded with zero), folded.
fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc
}

/// What to build.
#[derive(Clone, Copy)]
struct Spec {
    proto: u8,
    payload: usize,
    /// IPv4 option bytes (a multiple of 4).
    options: usize,
    /// The flags/fragment-offset word.
    frag: u16,
    /// UDP: send checksum 0 ("no checksum").
    udp_no_csum: bool,
}

impl Spec {
    fn new(proto: u8, payload: usize) -> Spec {
        Spec {
            proto,
            payload,
            options: 0,
            frag: 0x4000, // DF
            udp_no_csum: false,
        }
    }
}

/// An Ethernet II / IPv4 frame (without FCS) with correct checksums, padded to 60 bytes with
/// non-zero padding (the NIC must stop at the IP total length).
fn build(s: Spec, seed: u8) -> Vec<u8> {
    let l4_hdr = match s.proto {
        TCP => 20,
        UDP | ICMP => 8,
        _ => 0,
    };
    let l4_len = l4_hdr + s.payload;
    let ihl = 20 + s.options;
    let tot = ihl + l4_len;
    let mut f = Vec::new();
    f.extend_from_slice(&OUR_MAC);
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    f.push(0x40 | (ihl / 4) as u8);
    f.push(0);
    f.extend_from_slice(&(tot as u16).to_be_bytes());
    f.extend_from_slice(&[0x12, seed]);
    f.extend_from_slice(&s.frag.to_be_bytes());
    f.extend_from_slice(&[64, s.proto, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 2, 10, 0, 0, 1]);
    f.extend(std::iter::repeat_n(1u8, s.options)); // NOP options
    let ip_sum = !(sum16(&f[14..14 + ihl], 0) as u16);
    f[24..26].copy_from_slice(&ip_sum.to_be_bytes());
    let l4 = 14 + ihl;
    match s.proto {
        TCP => {
            f.extend_from_slice(&[0x13, 0x88, 0x23, 0x28, 0, 0, 0, seed, 0, 0, 0, 1]);
            f.extend_from_slice(&[0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0]);
        }
        UDP => {
            f.extend_from_slice(&[0x13, 0x88, 0x23, 0x28]);
            f.extend_from_slice(&(l4_len as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0]);
        }
        ICMP => f.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, seed]),
        _ => {}
    }
    f.extend((0..s.payload).map(|i| seed.wrapping_mul(31).wrapping_add(i as u8)));
    let csum_at = match s.proto {
        TCP => Some(l4 + 16),
        UDP => Some(l4 + 6),
        _ => None,
    };
    if let Some(at) = csum_at {
        if !(s.proto == UDP && s.udp_no_csum) {
            let pseudo = sum16(&f[26..34], u32::from(s.proto) + l4_len as u32);
            let mut c = !(sum16(&f[l4..], pseudo) as u16);
            if s.proto == UDP && c == 0 {
                c = 0xFFFF;
            }
            f[at..at + 2].copy_from_slice(&c.to_be_bytes());
        }
    }
    while f.len() < 60 {
        f.push(0xA5);
    }
    f
}

/// The manual's verdict for a frame (without FCS) under RXCSUM, as (status, errors) without DD/EOP:
/// IPv4 without options, not fragmented and within the frame is checked; anything else is IXSM.
fn reference(f: &[u8], rxcsum: u32) -> (u8, u8) {
    let ipofld = rxcsum & regs::RXCSUM_IPOFLD != 0;
    let tuofld = rxcsum & regs::RXCSUM_TUOFLD != 0;
    let tot = usize::from(u16::from_be_bytes([f[16], f[17]]));
    let frag = u16::from_be_bytes([f[20], f[21]]);
    let eligible = f[12..14] == [0x08, 0x00]
        && f[14] == 0x45
        && frag & 0x3FFF == 0
        && tot >= 20
        && 14 + tot <= f.len();
    if !eligible || !(ipofld || tuofld) {
        return (RXD_STAT_IXSM, 0);
    }
    let proto = f[23];
    let (mut status, mut errors) = (0, 0);
    if ipofld {
        status |= RXD_STAT_IPCS;
        if sum16(&f[14..34], 0) != 0xFFFF {
            errors |= RXD_ERR_IPE;
        }
    }
    let shaped = (proto == TCP && tot >= 40) || (proto == UDP && tot >= 28);
    let udp_no_csum = proto == UDP && f[40..42] == [0, 0];
    if tuofld && shaped && !udp_no_csum {
        status |= RXD_STAT_TCPCS;
        let pseudo = sum16(&f[26..34], u32::from(proto) + tot as u32 - 20);
        if sum16(&f[34..14 + tot], pseudo) != 0xFFFF {
            errors |= RXD_ERR_TCPE;
        }
    }
    (status, errors)
}

/// A world with RX up (256 descriptors) and RXCSUM written.
fn world(rxcsum: u32) -> (World, RxRing) {
    let mut w = support::world();
    let ring = support::setup_rx(&mut w, 256, 255, 0);
    w.write_reg(regs::RXCSUM, rxcsum);
    w.read_reg(regs::STATUS);
    (w, ring)
}

/// Sends the frames back to back and returns each one's (status, errors) write-back, in order.
fn receive(w: &mut World, ring: &mut RxRing, frames: &[Vec<u8>]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    for batch in frames.chunks(200) {
        let now = w.cycle();
        for f in batch {
            w.inject(f.clone(), now, WireFault::None);
        }
        support::settle(w);
        let got = ring.harvest(w);
        let drops: Vec<_> = w.nic_records().values().filter_map(|r| r.dropped).collect();
        assert_eq!(got.len(), batch.len(), "every frame delivered: {drops:?}");
        for (g, f) in got.iter().zip(batch) {
            assert_eq!(&g.bytes, f, "payload unchanged");
            assert_eq!(
                g.status & (RXD_STAT_DD | RXD_STAT_EOP),
                RXD_STAT_DD | RXD_STAT_EOP
            );
            out.push((g.status & !(RXD_STAT_DD | RXD_STAT_EOP), g.errors));
        }
        let rdt = (ring.next_to_clean + ring.len - 1) % ring.len;
        w.write_reg(regs::RDT, u32::from(rdt));
    }
    assert!(w.faults().is_empty(), "{:?}", w.faults());
    out
}

const OK_BOTH: (u8, u8) = (RXD_STAT_IPCS | RXD_STAT_TCPCS, 0);
const NOT_CHECKED: (u8, u8) = (RXD_STAT_IXSM, 0);

#[rstest]
#[case::udp_good(Spec::new(UDP, 100), None, OK_BOTH)]
#[case::udp_good_padded(Spec::new(UDP, 3), None, OK_BOTH)]
#[case::udp_good_odd_long(Spec::new(UDP, 1471), None, OK_BOTH)]
#[case::udp_bad(Spec::new(UDP, 100), Some(50), (RXD_STAT_IPCS | RXD_STAT_TCPCS, RXD_ERR_TCPE))]
#[case::udp_bad_csum_field(Spec::new(UDP, 100), Some(41), (RXD_STAT_IPCS | RXD_STAT_TCPCS, RXD_ERR_TCPE))]
#[case::udp_bad_pseudo_header(Spec::new(UDP, 100), Some(29), (RXD_STAT_IPCS | RXD_STAT_TCPCS, RXD_ERR_IPE | RXD_ERR_TCPE))]
#[case::udp_no_checksum(Spec { udp_no_csum: true, ..Spec::new(UDP, 100) }, None, (RXD_STAT_IPCS, 0))]
#[case::tcp_good(Spec::new(TCP, 0), None, OK_BOTH)]
#[case::tcp_good_odd(Spec::new(TCP, 1001), None, OK_BOTH)]
#[case::tcp_good_full(Spec::new(TCP, 1460), None, OK_BOTH)]
#[case::tcp_bad(Spec::new(TCP, 1001), Some(14 + 20 + 20 + 1000), (RXD_STAT_IPCS | RXD_STAT_TCPCS, RXD_ERR_TCPE))]
#[case::ip_bad_l4_good(Spec::new(TCP, 10), Some(22), (RXD_STAT_IPCS | RXD_STAT_TCPCS, RXD_ERR_IPE))]
#[case::icmp_good(Spec::new(ICMP, 56), None, (RXD_STAT_IPCS, 0))]
#[case::icmp_ip_bad(Spec::new(ICMP, 56), Some(22), (RXD_STAT_IPCS, RXD_ERR_IPE))]
#[case::ip_options(Spec { options: 4, ..Spec::new(UDP, 100) }, None, NOT_CHECKED)]
#[case::ip_options_bad(Spec { options: 8, ..Spec::new(TCP, 100) }, Some(60), NOT_CHECKED)]
#[case::fragment_first(Spec { frag: 0x2000, ..Spec::new(UDP, 100) }, None, NOT_CHECKED)]
#[case::fragment_later(Spec { frag: 0x0010, ..Spec::new(UDP, 100) }, None, NOT_CHECKED)]
fn checksums_are_flagged_as_the_manual_says(
    #[case] spec: Spec,
    #[case] flip: Option<usize>,
    #[case] expected: (u8, u8),
) {
    let mut f = build(spec, 7);
    if let Some(at) = flip {
        f[at] ^= 0x10;
    }
    assert_eq!(reference(&f, BOTH), expected, "the reference agrees");
    let (mut w, mut ring) = world(BOTH);
    assert_eq!(receive(&mut w, &mut ring, &[f]), vec![expected]);
}

#[test]
fn non_ip_and_truncated_ip_are_not_checked() {
    let non_ip = support::frame(OUR_MAC, 200, 3);
    let mut arp_like = build(Spec::new(UDP, 100), 1);
    arp_like[12..14].copy_from_slice(&[0x08, 0x06]);
    let mut too_long = build(Spec::new(UDP, 100), 2);
    too_long[16..18].copy_from_slice(&2000u16.to_be_bytes()); // total length beyond the frame
    let mut ipv6_version = build(Spec::new(TCP, 100), 4);
    ipv6_version[14] = 0x65;
    let frames = vec![non_ip, arp_like, too_long, ipv6_version];
    let (mut w, mut ring) = world(BOTH);
    assert_eq!(receive(&mut w, &mut ring, &frames), vec![NOT_CHECKED; 4]);
}

#[rstest]
#[case::off(0, NOT_CHECKED, NOT_CHECKED)]
#[case::ip_only(regs::RXCSUM_IPOFLD, (RXD_STAT_IPCS, 0), (RXD_STAT_IPCS, 0))]
#[case::tcp_udp_only(regs::RXCSUM_TUOFLD, (RXD_STAT_TCPCS, 0), (RXD_STAT_TCPCS, RXD_ERR_TCPE))]
fn rxcsum_enables_each_check(
    #[case] rxcsum: u32,
    #[case] good: (u8, u8),
    #[case] bad_l4: (u8, u8),
) {
    let good_frame = build(Spec::new(TCP, 300), 5);
    let mut bad_frame = build(Spec::new(TCP, 300), 6);
    bad_frame[100] ^= 1;
    let (mut w, mut ring) = world(rxcsum);
    assert_eq!(
        receive(&mut w, &mut ring, &[good_frame, bad_frame]),
        vec![good, bad_l4]
    );
}

/// xorshift64*: the tests' own seeded generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random TCP/UDP frames of random size, half of them with one random byte of the IP datagram
/// damaged: every verdict equals the reference, and no frame whose checksum is wrong is reported
/// good (the damage is not always detectable by a one's complement sum, so "good" is re-verified).
#[test]
fn random_frames_and_damage_are_never_reported_good_when_bad() {
    let mut rng = Rng(0x0FF1_0AD5);
    let mut frames = Vec::new();
    for i in 0..600 {
        let proto = if rng.below(2) == 0 { TCP } else { UDP };
        let max = if proto == TCP { 1460 } else { 1472 };
        let mut f = build(Spec::new(proto, rng.below(max + 1)), i as u8);
        if rng.below(2) == 0 {
            let tot = usize::from(u16::from_be_bytes([f[16], f[17]]));
            let at = 14 + rng.below(tot);
            f[at] ^= 1 << rng.below(8);
        }
        frames.push(f);
    }
    let (mut w, mut ring) = world(BOTH);
    let got = receive(&mut w, &mut ring, &frames);
    let mut flagged = 0;
    for (f, &(status, errors)) in frames.iter().zip(&got) {
        assert_eq!((status, errors), reference(f, BOTH), "frame {f:02x?}");
        if status & RXD_STAT_TCPCS != 0 && errors & RXD_ERR_TCPE == 0 {
            let tot = usize::from(u16::from_be_bytes([f[16], f[17]]));
            let pseudo = sum16(&f[26..34], u32::from(f[23]) + tot as u32 - 20);
            assert_eq!(sum16(&f[34..14 + tot], pseudo), 0xFFFF, "reported good");
        }
        flagged += usize::from(errors != 0);
    }
    assert!(
        flagged > 200,
        "the damage was seen: {flagged} frames flagged"
    );
}

/// Minimum-size UDP frames back to back at line rate (8 bytes per cycle plus 20 bytes of preamble
/// and IFG): the checksum units never stall the receive path, every frame is checked and delivered.
#[test]
fn back_to_back_small_frames_are_all_checked_at_line_rate() {
    let frames: Vec<_> = (0..200)
        .map(|i| build(Spec::new(UDP, 18), i as u8))
        .collect();
    let (mut w, mut ring) = world(BOTH);
    let start = w.cycle();
    let got = receive(&mut w, &mut ring, &frames);
    assert!(got.iter().all(|&v| v == OK_BOTH));
    assert_eq!(w.read_reg(regs::MPC), 0, "no frame missed");
    assert_eq!(w.read_reg(regs::GPRC), 200);
    let recs = w.nic_records();
    let first = recs
        .values()
        .filter_map(|r| r.stamp_of(Stage::WireStart))
        .min()
        .expect("stamped");
    let last = recs
        .values()
        .filter_map(|r| r.stamp_of(Stage::FifoCommit))
        .max()
        .expect("committed");
    // 84 bytes on the wire per frame = 10.5 cycles.
    let cycles = last - first;
    assert!(
        cycles <= 200 * 21 / 2 + 40,
        "200 frames committed in {cycles} cycles from cycle {start}"
    );
}
