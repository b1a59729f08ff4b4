//! Transmit checksum offload through the Verilated NIC (8254x SDM, TCP/IP context descriptor with
//! IPCSS/IPCSO/IPCSE and TUCSS/TUCSO/TUCSE, data descriptors with POPTS IXSM/TXSM): frames posted
//! with the IP checksum zero and the TCP/UDP checksum holding the pseudo-header sum (as Linux leaves
//! a `CHECKSUM_PARTIAL` skb) leave with both checksums right, checked by etherparse, for random
//! payload sizes, split over several descriptors at any buffer alignment; frames without POPTS leave
//! untouched.

mod support;

use etherparse::{Ipv4Header, TcpHeader, UdpHeader};
use host_driver::desc::{ChecksumContext, TXD_CMD_TCP, TXD_POPTS_IXSM, TXD_POPTS_TXSM};
use nicsim_world::world::World;
use support::{OUR_MAC, PEER_MAC};

const TCP: u8 = 6;
const UDP: u8 = 17;

fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// An IPv4 TCP or UDP frame as the stack hands it over for offload: IP checksum 0, the transport
/// checksum field holding the folded pseudo-header sum (`~tcp_v4_check(len, saddr, daddr, 0)`).
fn partial_frame(proto: u8, payload: usize, seed: u8) -> Vec<u8> {
    let l4_len = if proto == TCP { 20 } else { 8 } + payload;
    let tot = 20 + l4_len;
    let mut f = Vec::new();
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&OUR_MAC);
    f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
    f.extend_from_slice(&(tot as u16).to_be_bytes());
    f.extend_from_slice(&[0x34, seed, 0x40, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    if proto == TCP {
        f.extend_from_slice(&[0x23, 0x28, 0x13, 0x89, 0, 0, 1, seed, 0, 0, 0, 7]);
        f.extend_from_slice(&[0x50, 0x18, 0x01, 0x00, 0, 0, 0, 0]);
    } else {
        f.extend_from_slice(&[0x23, 0x28, 0x13, 0x89]);
        f.extend_from_slice(&(l4_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    }
    f.extend((0..payload).map(|i| seed.wrapping_add((i * 7) as u8)));
    let pseudo = fold(0x0A00 + 0x0001 + 0x0A00 + 0x0002 + u32::from(proto) + l4_len as u32);
    let at = if proto == TCP { 50 } else { 40 };
    f[at..at + 2].copy_from_slice(&pseudo.to_be_bytes());
    f
}

fn context(proto: u8) -> ChecksumContext {
    ChecksumContext {
        ipcss: 14,
        ipcso: 24,
        ipcse: 33,
        tucss: 34,
        tucso: if proto == TCP { 50 } else { 40 },
        tucse: 0,
    }
}

/// The frame on the wire is the posted one with both checksums filled in and valid.
fn check_sent(sent: &[u8], posted: &[u8]) {
    assert_eq!(sent.len(), posted.len(), "TCTL.PSP off: no padding");
    let (ip, rest) = Ipv4Header::from_slice(&sent[14..]).expect("IPv4");
    assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IP checksum");
    let l4 = &rest[..usize::from(ip.total_len) - 20];
    if ip.protocol.0 == TCP {
        let (th, data) = TcpHeader::from_slice(l4).expect("TCP");
        assert_eq!(
            th.checksum,
            th.calc_checksum_ipv4(&ip, data).unwrap(),
            "TCP checksum"
        );
    } else {
        let (uh, data) = UdpHeader::from_slice(l4).expect("UDP");
        assert_ne!(uh.checksum, 0, "a computed UDP checksum is never sent as 0");
        assert_eq!(
            uh.checksum,
            uh.calc_checksum_ipv4(&ip, data).unwrap(),
            "UDP checksum"
        );
    }
    // Only the two checksum fields differ from what was posted.
    let at = if posted[23] == TCP { 50 } else { 40 };
    for (i, (a, b)) in sent.iter().zip(posted).enumerate() {
        if ![24, 25, at, at + 1].contains(&i) {
            assert_eq!(a, b, "byte {i} changed");
        }
    }
}

fn world() -> (World, support::TxRing) {
    let mut w = support::world();
    let ring = support::setup_tx(&mut w, 256, 0);
    (w, ring)
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

#[test]
fn random_tcp_and_udp_frames_leave_with_correct_checksums() {
    let (mut w, mut ring) = world();
    let mut rng = Rng(0x7C5C_0FF1);
    let mut posted = Vec::new();
    for batch in 0..4 {
        for i in 0..50 {
            let proto = if rng.below(2) == 0 { TCP } else { UDP };
            let max = if proto == TCP { 1460 } else { 1472 };
            let f = partial_frame(proto, rng.below(max + 1), (batch * 50 + i) as u8);
            let tucmd = if proto == TCP { TXD_CMD_TCP } else { 0 };
            // Split into up to three buffers at random points, at a random misalignment.
            let a = rng.below(f.len() + 1);
            let b = a + rng.below(f.len() - a + 1);
            let pieces: Vec<&[u8]> = [&f[..a], &f[a..b], &f[b..]]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            let popts = TXD_POPTS_IXSM | TXD_POPTS_TXSM;
            ring.send_offload(&mut w, context(proto), tucmd, &pieces, popts, rng.below(8));
            posted.push(f);
        }
        support::settle(&mut w);
    }
    let sent = w.tx_frames();
    assert_eq!(sent.len(), posted.len());
    for (s, p) in sent.iter().zip(&posted) {
        assert!(s.fcs_ok, "the FCS covers the inserted checksums");
        check_sent(&s.bytes, p);
    }
    assert!(w.faults().is_empty(), "{:?}", w.faults());
}

/// Every payload length 0..=40 (every position of the frame's end relative to the checksum words
/// and the 8-byte beats), both protocols, then a frame without POPTS: it leaves as posted.
#[test]
fn every_short_length_and_no_popts() {
    let (mut w, mut ring) = world();
    let mut posted = Vec::new();
    for payload in 0..=40 {
        for proto in [TCP, UDP] {
            let f = partial_frame(proto, payload, payload as u8);
            let tucmd = if proto == TCP { TXD_CMD_TCP } else { 0 };
            ring.send_offload(
                &mut w,
                context(proto),
                tucmd,
                &[&f],
                TXD_POPTS_IXSM | TXD_POPTS_TXSM,
                0,
            );
            posted.push(f);
        }
    }
    let plain = partial_frame(UDP, 100, 1);
    ring.send_offload(&mut w, context(UDP), 0, &[&plain], 0, 0);
    support::settle(&mut w);
    let sent = w.tx_frames();
    assert_eq!(sent.len(), posted.len() + 1);
    for (s, p) in sent.iter().zip(&posted) {
        check_sent(&s.bytes, p);
    }
    assert_eq!(
        sent.last().unwrap().bytes,
        plain,
        "no POPTS: nothing inserted"
    );
}

/// TXSM alone leaves the IP checksum as posted; IXSM alone leaves the TCP/UDP field as posted.
#[test]
fn ixsm_and_txsm_act_alone() {
    let (mut w, mut ring) = world();
    let f = partial_frame(TCP, 200, 3);
    ring.send_offload(&mut w, context(TCP), TXD_CMD_TCP, &[&f], TXD_POPTS_TXSM, 0);
    ring.send_offload(&mut w, context(TCP), TXD_CMD_TCP, &[&f], TXD_POPTS_IXSM, 0);
    support::settle(&mut w);
    let sent = w.tx_frames();
    assert_eq!(sent[0].bytes[24..26], [0, 0], "IP checksum untouched");
    assert_ne!(sent[0].bytes[50..52], f[50..52], "TCP checksum inserted");
    assert_ne!(sent[1].bytes[24..26], [0, 0], "IP checksum inserted");
    assert_eq!(sent[1].bytes[50..52], f[50..52], "TCP checksum untouched");
    let (ip, _) = Ipv4Header::from_slice(&sent[1].bytes[14..]).unwrap();
    assert_eq!(ip.header_checksum, ip.calc_header_checksum());
}
