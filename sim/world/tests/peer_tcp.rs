//! The peer's TCP (smoltcp) against itself: two peers wired back to back, frame by frame on a
//! simulated 10 GbE cable, one listening and one connecting. What crosses the wire is checked with
//! etherparse, an independent parser.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use host_driver::time::{Clock, Cycle};
use nicsim_world::peer::{Peer, PeerConfig, PeerDrop, PeerStats, PeerVerdict};

const CLOCK: Clock = Clock { ps_per_cycle: 6400 };
/// Side 0 stands where the host would be; side 1 is a default peer.
const IP0: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
/// Bound on every run: 2 s of simulated time (smoltcp's first retransmission timeouts are near 1 s).
const LIMIT: Cycle = 312_500_000;
/// The wire's bytes per cycle (10 Gb/s at 6.4 ns) and each frame's overhead on it: FCS, then
/// preamble + inter-frame gap.
const BYTES_PER_CYCLE: usize = 8;
const FCS: usize = 4;
const GAP: usize = 20;

/// Side 0: `10.0.0.1`, MAC `..:01`, its partner at `10.0.0.254`.
fn side0(yaml: &str) -> String {
    format!("ip: 10.0.0.1\nmac: \"02:00:00:00:00:01\"\n{yaml}")
}

fn peer(yaml: &str, partner: Ipv4Addr, seed: u64) -> Peer {
    let cfg: PeerConfig = serde_norway::from_str(yaml).expect("peer config parses");
    Peer::with_seed(&cfg, CLOCK, partner, 0, seed).expect("peer config is valid")
}

/// A frame put on the wire: which side sent it, its first cycle, its bytes.
type Sent = (usize, Cycle, Vec<u8>);

/// Two peers on one cable.
struct Cable {
    peers: [Peer; 2],
    /// Frames on the way to side `i`, with the cycle of their last byte.
    towards: [VecDeque<(Cycle, Vec<u8>)>; 2],
    /// First free cycle of each direction.
    free: [Cycle; 2],
    sent: Vec<Sent>,
    /// Drops the first frame side 1 sends for which this says so (given how many side 1 sent
    /// before it), to force a retransmission.
    drop_from_1: Option<fn(usize, &[u8]) -> bool>,
    sent_by_1: usize,
    verdicts: [Vec<PeerVerdict>; 2],
}

impl Cable {
    fn new(yaml0: &str, yaml1: &str, seed: u64) -> Cable {
        Cable {
            peers: [peer(&side0(yaml0), IP1, seed), peer(yaml1, IP0, seed + 1)],
            towards: [VecDeque::new(), VecDeque::new()],
            free: [0, 0],
            sent: Vec::new(),
            drop_from_1: None,
            sent_by_1: 0,
            verdicts: [Vec::new(), Vec::new()],
        }
    }

    /// Runs until both peers are idle and the cable is empty; returns the final cycle.
    fn run(&mut self) -> Cycle {
        let mut now = 0;
        loop {
            for side in 0..2 {
                for (frame, not_before) in self.peers[side].poll(now) {
                    let start = not_before.max(self.free[side]);
                    let len = frame.len().max(60) + FCS;
                    self.free[side] = start + (len + GAP).div_ceil(BYTES_PER_CYCLE) as Cycle;
                    let end = start + len.div_ceil(BYTES_PER_CYCLE) as Cycle;
                    self.sent.push((side, start, frame.clone()));
                    if side == 1 {
                        self.sent_by_1 += 1;
                        if self
                            .drop_from_1
                            .is_some_and(|drop| drop(self.sent_by_1 - 1, &frame))
                        {
                            self.drop_from_1 = None;
                            continue;
                        }
                    }
                    self.towards[1 - side].push_back((end, frame));
                }
            }
            let quiet = self.towards.iter().all(VecDeque::is_empty);
            if quiet && self.peers.iter().all(Peer::idle) {
                return now;
            }
            let next = [
                self.towards[0].front().map(|f| f.0),
                self.towards[1].front().map(|f| f.0),
                self.peers[0].next_wake(),
                self.peers[1].next_wake(),
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("not idle, so something is scheduled");
            assert!(next < LIMIT, "no end within {LIMIT} cycles");
            now = next.max(now);
            for side in 0..2 {
                while self.towards[side].front().is_some_and(|f| f.0 <= now) {
                    let (end, frame) = self.towards[side].pop_front().expect("checked");
                    let v = self.peers[side].on_frame(&frame, None, end);
                    self.verdicts[side].push(v);
                }
            }
        }
    }

    fn stats(&self, side: usize) -> PeerStats {
        self.peers[side].stats()
    }
}

/// The stream every generating application sends: byte `k` is `k mod 251`.
fn pattern_crc(len: u64) -> u32 {
    let bytes: Vec<u8> = (0..len).map(|k| (k % 251) as u8).collect();
    crc32fast::hash(&bytes)
}

/// Only TCP and ARP went to smoltcp and the neighbour code: no frame was dropped.
fn all_consumed(v: &[PeerVerdict]) {
    assert!(
        v.iter().all(|v| matches!(v, PeerVerdict::Consumed(_))),
        "{v:?}"
    );
}

/// The TCP flags and ports of `frame` (etherparse), if it is TCP.
fn tcp_of(frame: &[u8]) -> Option<(u16, u16, bool, bool, bool, usize)> {
    let p = SlicedPacket::from_ethernet(frame).expect("etherparse reads the frame");
    let Some(NetSlice::Ipv4(_)) = &p.net else {
        return None;
    };
    let Some(TransportSlice::Tcp(t)) = &p.transport else {
        return None;
    };
    Some((
        t.source_port(),
        t.destination_port(),
        t.syn(),
        t.rst(),
        t.fin(),
        t.payload().len(),
    ))
}

/// `frame` is TCP with a SACK option.
fn has_sack(frame: &[u8]) -> bool {
    let p = SlicedPacket::from_ethernet(frame).expect("etherparse reads the frame");
    let Some(TransportSlice::Tcp(t)) = &p.transport else {
        return false;
    };
    t.options_iterator().any(|o| {
        matches!(
            o,
            Ok(etherparse::TcpOptionElement::SelectiveAcknowledgement(..))
        )
    })
}

const BULK_1MB: &str =
    "tcp:\n  - {connect: {port: 5001, start_ns: 1000}, app: {bulk: {bytes: 1000000}}}\n";

#[test]
fn a_megabyte_crosses_intact_from_bulk_to_sink() {
    let mut c = Cable::new("tcp: [{listen: 5001, app: sink}]\n", BULK_1MB, 7);
    let end = c.run();
    let (rx, tx) = (c.stats(0), c.stats(1));
    let (server, client) = (&rx.tcp.endpoints[0], &tx.tcp.endpoints[0]);
    assert_eq!(client.bytes_sent, 1_000_000);
    assert_eq!(server.bytes_received, 1_000_000);
    assert_eq!(client.crc32_sent, pattern_crc(1_000_000));
    assert_eq!(server.crc32_received, client.crc32_sent);
    assert_eq!((server.bytes_sent, client.bytes_received), (0, 0));
    assert_eq!(server.local_port, 5001);
    assert_eq!(client.local_port, 49_152, "the first ephemeral port");
    assert_eq!(server.remote_port, Some(49_152));
    assert_eq!(client.remote_port, Some(5001));
    // The sender closed first, so it is the one left in TIME_WAIT.
    assert_eq!(client.state.name(), "TIME-WAIT");
    assert_eq!(server.state.name(), "CLOSE");
    // TIME_WAIT's 10 s timer is still set, but it does not keep a run going.
    assert!(c.peers[1].idle());
    let wake = c.peers[1].next_wake().expect("the TIME_WAIT timer");
    assert!(CLOCK.cycles_to_ns(wake - end) > 9.0e9, "{wake} {end}");
    let (est, closed) = (client.established.unwrap(), client.closed.unwrap());
    assert!(est < closed && closed <= end, "{est} {closed} {end}");
    // A megabyte at 10 Gb/s takes 0.8 ms (125 000 cycles) at least; with 1 µs turnarounds and
    // a 64 KiB window it should stay within a few times that.
    let took = closed - est;
    assert!((125_000..600_000).contains(&took), "took {took} cycles");
    assert_eq!(client.retransmitted_segments, 0);
    // 1460-byte segments (MTU 1500): at least 685 of them, plus SYN and FIN.
    assert!(client.segments_sent >= 687, "{}", client.segments_sent);
    assert_eq!(server.segments_received, client.segments_sent);
    all_consumed(&c.verdicts[0]);
    all_consumed(&c.verdicts[1]);
    assert!(rx.verdicts["tcp"] >= 687);
    let data = c
        .sent
        .iter()
        .filter_map(|(side, _, f)| tcp_of(f).filter(|_| *side == 1))
        .map(|t| t.5)
        .max();
    assert_eq!(data, Some(1460), "full-sized segments");
}

#[test]
fn echo_returns_every_byte() {
    let mut c = Cable::new(
        "tcp: [{listen: 7, app: echo}]\n",
        "tcp: [{connect: {port: 7}, app: {bulk: {bytes: 200000}}, rx_buffer: 16384}]\n",
        1,
    );
    c.run();
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    assert_eq!(client.bytes_sent, 200_000);
    assert_eq!(client.bytes_received, 200_000);
    assert_eq!(client.crc32_received, pattern_crc(200_000));
    assert_eq!(
        (server.bytes_received, server.bytes_sent),
        (200_000, 200_000)
    );
    assert_eq!(server.crc32_sent, server.crc32_received);
    assert_eq!(server.state.name(), "CLOSE");
}

#[test]
fn request_response_completes_every_transaction() {
    let mut c = Cable::new(
        "tcp: [{listen: 12865, app: {rr_server: {request: 64, response: 1000}}}]\n",
        "tcp: [{connect: {port: 12865}, app: {rr_client: {request: 64, response: 1000, count: 50}}}]\n",
        3,
    );
    c.run();
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    let (srr, crr) = (server.rr.unwrap(), client.rr.unwrap());
    assert_eq!((srr.transactions, crr.transactions), (50, 50));
    assert_eq!((client.bytes_sent, client.bytes_received), (3200, 50_000));
    assert_eq!((server.bytes_received, server.bytes_sent), (3200, 50_000));
    assert_eq!(server.crc32_received, pattern_crc(3200));
    assert_eq!(client.crc32_received, pattern_crc(50_000));
    assert!(srr.latency.is_none(), "the server does not time");
    let l = crr.latency.expect("50 samples");
    // Each transaction waits at least two turnarounds (157 cycles each) and two frame times.
    assert!(l.min_cycles >= 2 * 157, "{l:?}");
    assert!(l.min_cycles as f64 <= l.avg_cycles && l.avg_cycles <= l.max_cycles as f64);
    assert!(
        l.max_ns < 1_000_000.0,
        "no transaction waited for a timer: {l:?}"
    );
    assert_eq!(client.retransmitted_segments, 0);
}

#[test]
fn a_syn_to_a_closed_port_is_answered_with_rst() {
    let mut c = Cable::new(
        "tcp: [{listen: 5001, app: sink}]\n",
        "tcp: [{connect: {port: 9, src_port: 40000}, app: sink}]\n",
        1,
    );
    c.run();
    let (srv, cli) = (c.stats(0), c.stats(1));
    assert_eq!(srv.tcp.no_socket, 1);
    assert_eq!(srv.verdicts[PeerDrop::TcpNoSocket.name()], 1);
    assert!(c.verdicts[0].contains(&PeerVerdict::Dropped(PeerDrop::TcpNoSocket)));
    let e = &cli.tcp.endpoints[0];
    assert_eq!((e.state.name(), e.resets_received), ("CLOSE", 1));
    assert!(e.established.is_none());
    assert_eq!(srv.tcp.endpoints[0].state.name(), "LISTEN");
    let tcp: Vec<_> = c
        .sent
        .iter()
        .filter_map(|(side, _, f)| tcp_of(f).map(|t| (*side, t)))
        .collect();
    assert_eq!(
        tcp,
        vec![
            (1, (40000, 9, true, false, false, 0)),
            (0, (9, 40000, false, true, false, 0)),
        ]
    );
}

#[test]
fn a_bad_checksum_is_dropped_before_smoltcp() {
    let mut c = Cable::new("tcp: [{listen: 5001, app: sink}]\n", BULK_1MB, 1);
    c.run();
    let syn = c
        .sent
        .iter()
        .find(|(side, _, f)| *side == 1 && tcp_of(f).is_some_and(|t| t.2))
        .map(|s| s.2.clone())
        .expect("the client's SYN");
    let mut bad = syn.clone();
    // The TCP checksum's high byte: Ethernet 14 + IPv4 20 + 16.
    bad[14 + 20 + 16] ^= 0xff;
    let mut fresh = peer(
        &side0("tcp: [{listen: 5001, app: sink}]\narp_cache: [{ip: 10.0.0.254, mac: \"02:00:00:00:00:fe\"}]\n"),
        IP1,
        1,
    );
    assert_eq!(
        fresh.on_frame(&bad, Some(1), 100),
        PeerVerdict::Dropped(PeerDrop::TcpCsum)
    );
    assert!(fresh.idle(), "nothing handed to smoltcp");
    assert_eq!(
        fresh.on_frame(&syn, Some(2), 200),
        PeerVerdict::Consumed(nicsim_world::peer::PeerConsumer::Tcp)
    );
    // The SYN-ACK leaves one turnaround after the SYN's last byte.
    assert_eq!(fresh.next_wake(), Some(200 + 157));
    let out = fresh.poll(200 + 157);
    let synack: Vec<_> = out
        .iter()
        .filter_map(|(f, nb)| tcp_of(f).map(|t| (t, *nb)))
        .collect();
    assert_eq!(synack, vec![((5001, 49152, true, false, false, 0), 357)]);
}

#[test]
fn a_lost_segment_is_retransmitted_and_the_stream_still_arrives_whole() {
    let mut c = Cable::new("tcp: [{listen: 5001, app: sink}]\n", BULK_1MB, 7);
    // Frame 0 is the ARP request, 1 the SYN, 2 the handshake's ACK, then data.
    c.drop_from_1 = Some(|n, _| n == 20);
    c.run();
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    assert_eq!(server.bytes_received, 1_000_000);
    assert_eq!(server.crc32_received, pattern_crc(1_000_000));
    // The receiver SACKs, but smoltcp's sender ignores SACK: after three duplicate ACKs it goes
    // back to the hole and sends the whole 64 KiB window again.
    let sacks = c
        .sent
        .iter()
        .filter(|(side, _, f)| *side == 0 && has_sack(f))
        .count();
    assert!(sacks >= 3, "{sacks} ACKs with SACK blocks");
    assert_eq!(
        (client.retransmitted_segments, client.retransmitted_bytes),
        (45, 65_536),
        "{client:?}"
    );
    assert_eq!(server.segments_received + 1, client.segments_sent);
}

#[test]
fn a_bulk_by_duration_sends_for_that_long_then_closes() {
    let mut c = Cable::new(
        "tcp: [{listen: 5001, app: sink}]\n",
        "tcp: [{connect: {port: 5001}, app: {bulk: {duration_ns: 100000}}}]\n",
        1,
    );
    c.run();
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    // 100 µs at 10 Gb/s is 125 000 bytes of wire, ~118 000 of payload; the send buffer adds up to
    // 64 KiB written but not yet sent when the time is up.
    assert!(
        (50_000..200_000).contains(&client.bytes_sent),
        "{}",
        client.bytes_sent
    );
    assert_eq!(server.bytes_received, client.bytes_sent);
    assert_eq!(server.crc32_received, pattern_crc(client.bytes_sent));
    assert_eq!(client.state.name(), "TIME-WAIT");
}

#[test]
fn the_same_configuration_and_seed_give_the_same_frames() {
    let run = |seed| {
        let mut c = Cable::new("tcp: [{listen: 5001, app: sink}]\n", BULK_1MB, seed);
        let end = c.run();
        (end, c.sent)
    };
    let (a, b) = (run(5), run(5));
    assert!(a.1.len() > 1000);
    assert_eq!(a, b);
    let other = run(6);
    assert_ne!(
        a.1, other.1,
        "the seed picks smoltcp's initial sequence numbers"
    );
}

#[test]
fn a_lost_fin_is_sent_again_when_the_retransmission_timer_fires() {
    let mut c = Cable::new("tcp: [{listen: 5001, app: sink}]\n", BULK_1MB, 7);
    // Nothing follows the FIN, so no duplicate ACK can announce its loss: only the timer can.
    c.drop_from_1 = Some(|_, f| tcp_of(f).is_some_and(|t| t.4));
    c.run();
    let fins: Vec<Cycle> = c
        .sent
        .iter()
        .filter(|(side, _, f)| *side == 1 && tcp_of(f).is_some_and(|t| t.4))
        .map(|s| s.1)
        .collect();
    assert_eq!(fins.len(), 2, "{fins:?}");
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    // smoltcp arms the timer with the first data segment and does not restart it on partial
    // ACKs; by then its RTT estimate had one (sub-millisecond) sample after its 300 ms initial
    // guess: 263 ms + 4 × 141 ms = 827 ms from the start of the transfer.
    let ms = |c: Cycle| CLOCK.cycles_to_ns(c) / 1e6;
    let after = ms(fins[1] - client.established.unwrap());
    assert!((826.0..828.0).contains(&after), "{after} ms");
    assert!(
        ms(fins[1] - fins[0]) > 10.0,
        "at least smoltcp's minimum RTO"
    );
    assert_eq!(server.crc32_received, pattern_crc(1_000_000));
    assert_eq!(client.retransmitted_segments, 1);
    assert_eq!(client.state.name(), "TIME-WAIT");
    assert_eq!(server.state.name(), "CLOSE");
}

#[test]
fn without_delayed_acks_every_segment_is_acknowledged() {
    let mut c = Cable::new(
        "tcp: [{listen: 5001, app: sink, ack_delay_ns: 0}]\n",
        BULK_1MB,
        7,
    );
    c.run();
    let (server, client) = (&c.stats(0).tcp.endpoints[0], &c.stats(1).tcp.endpoints[0]);
    assert_eq!(server.crc32_received, pattern_crc(1_000_000));
    // SYN-ACK, one ACK per data segment, the FIN's ACK and the server's own FIN; against about
    // one per two segments with smoltcp's default 10 ms delay (the bulk test).
    assert!(
        server.segments_sent + 10 >= client.segments_sent,
        "{server:?} {client:?}"
    );
}

/// Payload bytes side 1 sent before side 0's first TCP frame after its SYN-ACK (the first ACK of
/// data) started: the sender's first flight.
fn first_flight(sent: &[Sent]) -> usize {
    let first_ack = sent
        .iter()
        .filter(|(side, _, f)| *side == 0 && tcp_of(f).is_some())
        .nth(1)
        .expect("an ACK of data")
        .1;
    sent.iter()
        .filter(|(side, start, _)| *side == 1 && *start < first_ack)
        .filter_map(|(_, _, f)| tcp_of(f))
        .map(|t| t.5)
        .sum()
}

#[test]
fn without_congestion_control_the_first_flight_is_the_receive_window() {
    // A 100 µs turnaround on the receiver: a round trip far above the 64 KiB window's worth.
    let mut c = Cable::new(
        "turnaround_ns: 100000\ntcp: [{listen: 5001, app: sink}]\n",
        "tcp: [{connect: {port: 5001}, app: {bulk: {bytes: 200000}}}]\n",
        1,
    );
    c.run();
    assert_eq!(
        c.stats(0).tcp.endpoints[0].crc32_received,
        pattern_crc(200_000)
    );
    // No slow start: 44 full segments, all of the 64 KiB window that whole segments fill.
    assert_eq!(first_flight(&c.sent), 44 * 1460);
}

#[test]
fn a_listener_is_idle_and_a_pending_connect_is_not() {
    let listener = peer(&side0("tcp: [{listen: 5001, app: sink}]\n"), IP1, 1);
    assert!(listener.idle());
    assert_eq!(listener.next_wake(), None);
    let client = peer(
        "tcp: [{connect: {port: 5001, start_ns: 6400}, app: {bulk: {bytes: 1}}}]\n",
        IP0,
        1,
    );
    assert!(!client.idle());
    assert_eq!(client.next_wake(), Some(1000), "the SYN's cycle");
}
