//! Damage on the cable, after Linux's `sch_netem`: the scenario's `faults:` rules
//! ([`nicsim_scenario::faults`]) applied to the frames of each direction as they travel.
//!
//! Toward the host, frames are judged in the order they are handed to the wire (the traffic plan in
//! time order, then the partner's frames as it sends them), before the PHY queues them; toward the
//! peer, in the order the NIC finished them, before the partner sees them. A dropped frame gets its
//! fate here ([`Netem::wire_drops`]); a duplicate is a new frame with its own id
//! ([`Netem::duplicates`]); a delayed or reordered frame keeps its id and arrives later.
//!
//! Held frames (`reorder`) go out after the next N frames of their direction that reach the line; a
//! frame held at the tail of a run, with fewer than N frames after it, is sent when everything else
//! has settled ([`Netem::release_held_to_host`], [`Netem::release_held_to_peer`]).

use std::collections::BTreeMap;

use host_driver::accounting::FrameId;
use host_driver::time::{Clock, Cycle};
use host_driver::wire::ethernet::{ethertype, EthernetFrame, HEADER_LEN as ETH_HEADER_LEN};
use host_driver::wire::ipv4::Ipv4Packet;
use nicsim_scenario::faults::{Action, Direction, FaultRule};
use nicsim_scenario::traffic::{SplitMix64, WireFault};

use crate::link::TxFrame;

/// A frame the wire lost, and where it was when it was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireDrop {
    pub direction: Direction,
    /// The cycle the frame was due on the line (toward the host) or finished by the NIC (toward
    /// the peer).
    pub at: Cycle,
}

/// A copy the wire made of frame `original`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate {
    pub direction: Direction,
    pub original: FrameId,
    pub copy: FrameId,
    /// When the copy was made: as for [`WireDrop::at`].
    pub at: Cycle,
}

/// A frame for the PHY toward the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToHost {
    pub id: FrameId,
    /// Without FCS.
    pub bytes: Vec<u8>,
    pub not_before: Cycle,
    /// The FCS or PHY damage the traffic plan asked for, kept by copies and held frames.
    pub fault: WireFault,
}

/// One rule with what it has seen so far.
#[derive(Debug)]
struct Rule {
    rule: FaultRule,
    /// Frames that passed its `match`.
    matched: u64,
    hits: u64,
    rng: SplitMix64,
}

impl Rule {
    /// Whether the rule picks `frame`, the next frame of its direction.
    fn picks(&mut self, frame: &[u8]) -> bool {
        if !self.rule.filter.matches(frame) {
            return false;
        }
        self.matched += 1;
        // Drawn for every matching frame, so one rule's picks do not depend on another's.
        let chance = self
            .rule
            .probability
            .is_none_or(|p| unit(&mut self.rng) < p);
        match self.rule.nth {
            Some(n) => self.matched == n,
            None => chance && self.rule.count.is_none_or(|c| self.hits < c),
        }
    }
}

/// A uniform draw in [0, 1) with 53 bits of precision.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A frame held back for reordering, with how many frames must pass it first.
#[derive(Debug)]
struct Held<T> {
    frame: T,
    after: u32,
}

/// The cable's damage, both directions.
#[derive(Debug)]
pub struct Netem {
    rules: Vec<Rule>,
    /// Picks the bit `corrupt` flips.
    corrupt_rng: SplitMix64,
    clock: Clock,
    held_to_host: Vec<Held<ToHost>>,
    /// NIC frames already judged.
    tx_seen: usize,
    held_to_peer: Vec<Held<TxFrame>>,
    /// Delayed or reordered frames toward the peer, by (arrival cycle, order made).
    in_flight: BTreeMap<(Cycle, u64), TxFrame>,
    in_flight_seq: u64,
    /// What reached the link partner, in arrival order.
    to_peer: Vec<TxFrame>,
    wire_drops: BTreeMap<FrameId, WireDrop>,
    duplicates: Vec<Duplicate>,
    /// Frames toward the host whose bytes the wire made or changed (copies, corrupted frames).
    rewritten: BTreeMap<FrameId, Vec<u8>>,
}

impl Netem {
    /// The wire of a scenario with `rules`; random picks and corrupted bits come from `seed`.
    pub fn new(rules: &[FaultRule], seed: u64, clock: Clock) -> Netem {
        // One stream per rule (and one for corruption), each a fixed function of the seed.
        let stream = |k: u64| SplitMix64::new(seed ^ k.wrapping_mul(0xd1b5_4a32_d192_ed03));
        Netem {
            rules: rules
                .iter()
                .enumerate()
                .map(|(i, r)| Rule {
                    rule: r.clone(),
                    matched: 0,
                    hits: 0,
                    rng: stream(i as u64 + 1),
                })
                .collect(),
            corrupt_rng: stream(0),
            clock,
            held_to_host: Vec::new(),
            tx_seen: 0,
            held_to_peer: Vec::new(),
            in_flight: BTreeMap::new(),
            in_flight_seq: 0,
            to_peer: Vec::new(),
            wire_drops: BTreeMap::new(),
            duplicates: Vec::new(),
            rewritten: BTreeMap::new(),
        }
    }

    /// No rules: a perfect cable, and the world skips this model altogether.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The action of the first rule of `direction` that picks `frame`; every rule of the direction
    /// sees the frame, so positions (`nth`) count every matching frame.
    fn judge(&mut self, direction: Direction, frame: &[u8]) -> Option<Action> {
        let mut action = None;
        for r in self
            .rules
            .iter_mut()
            .filter(|r| r.rule.direction == direction)
        {
            if r.picks(frame) && action.is_none() {
                r.hits += 1;
                action = Some(r.rule.action);
            }
        }
        action
    }

    /// Hits per rule, in `faults:` order.
    pub fn hits(&self) -> Vec<u64> {
        self.rules.iter().map(|r| r.hits).collect()
    }

    /// `frame` on its way to the host: returns what goes to the PHY, in order. `next_id` hands out
    /// ids for copies.
    pub fn to_host(
        &mut self,
        mut frame: ToHost,
        next_id: &mut dyn FnMut() -> FrameId,
    ) -> Vec<ToHost> {
        let mut out = Vec::new();
        let not_before = frame.not_before;
        match self.judge(Direction::ToHost, &frame.bytes) {
            None => out.push(frame),
            Some(Action::Drop) => {
                let drop = WireDrop {
                    direction: Direction::ToHost,
                    at: not_before,
                };
                self.wire_drops.insert(frame.id, drop);
                return out;
            }
            Some(Action::Duplicate) => {
                let copy = next_id();
                self.duplicates.push(Duplicate {
                    direction: Direction::ToHost,
                    original: frame.id,
                    copy,
                    at: not_before,
                });
                self.rewritten.insert(copy, frame.bytes.clone());
                out.push(ToHost {
                    id: copy,
                    ..frame.clone()
                });
                out.insert(0, frame);
            }
            Some(Action::Reorder(after)) => {
                self.held_to_host.push(Held { frame, after });
                return out;
            }
            Some(Action::DelayNs(ns)) => {
                frame.not_before += self.clock.ns_to_cycles(ns);
                out.push(frame);
            }
            Some(Action::Corrupt) => {
                corrupt(&mut frame.bytes, &mut self.corrupt_rng);
                self.rewritten.insert(frame.id, frame.bytes.clone());
                out.push(frame);
            }
        }
        // This frame passed every held one; those it was the last to pass follow it.
        for h in &mut self.held_to_host {
            h.after -= 1;
        }
        let (due, kept) = std::mem::take(&mut self.held_to_host)
            .into_iter()
            .partition::<Vec<_>, _>(|h| h.after == 0);
        self.held_to_host = kept;
        out.extend(due.into_iter().map(|h| ToHost {
            not_before: h.frame.not_before.max(not_before),
            ..h.frame
        }));
        out
    }

    /// Frames held toward the host that too few frames followed, for the PHY at `now`.
    pub fn release_held_to_host(&mut self, now: Cycle) -> Vec<ToHost> {
        std::mem::take(&mut self.held_to_host)
            .into_iter()
            .map(|h| ToHost {
                not_before: h.frame.not_before.max(now),
                ..h.frame
            })
            .collect()
    }

    /// Judges the frames the NIC finished since the last call (`tx`: all it sent so far) and lets
    /// through what arrives at the partner by cycle `horizon`. `next_id` hands out ids for copies.
    pub fn carry_to_peer(
        &mut self,
        tx: &[TxFrame],
        horizon: Cycle,
        next_id: &mut dyn FnMut() -> FrameId,
    ) {
        for f in tx.get(self.tx_seen..).unwrap_or_default() {
            let mut f = f.clone();
            match self.judge(Direction::ToPeer, &f.bytes) {
                None => self.arrive(f),
                Some(Action::Drop) => {
                    if let Some(id) = f.id {
                        let drop = WireDrop {
                            direction: Direction::ToPeer,
                            at: f.end,
                        };
                        self.wire_drops.insert(id, drop);
                    }
                }
                Some(Action::Duplicate) => {
                    let copy = TxFrame {
                        id: f.id.map(|original| {
                            let copy = next_id();
                            self.duplicates.push(Duplicate {
                                direction: Direction::ToPeer,
                                original,
                                copy,
                                at: f.end,
                            });
                            copy
                        }),
                        ..f.clone()
                    };
                    self.arrive(f);
                    self.to_peer.push(copy);
                }
                Some(Action::Reorder(after)) => self.held_to_peer.push(Held { frame: f, after }),
                Some(Action::DelayNs(ns)) => {
                    let d = self.clock.ns_to_cycles(ns);
                    f.start += d;
                    f.end += d;
                    self.send_in_flight(f);
                }
                Some(Action::Corrupt) => {
                    corrupt(&mut f.bytes, &mut self.corrupt_rng);
                    self.arrive(f);
                }
            }
        }
        self.tx_seen = tx.len();
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > horizon {
                break;
            }
            self.to_peer.push(entry.remove());
        }
    }

    /// `f` reaches the partner now, passing every held frame; those it was the last to pass follow
    /// it onto the line, one after another.
    fn arrive(&mut self, f: TxFrame) {
        let mut line_free = f.end + 1;
        self.to_peer.push(f);
        for h in &mut self.held_to_peer {
            h.after -= 1;
        }
        let (due, kept) = std::mem::take(&mut self.held_to_peer)
            .into_iter()
            .partition::<Vec<_>, _>(|h| h.after == 0);
        self.held_to_peer = kept;
        for h in due {
            let mut held = h.frame;
            let len = held.end - held.start;
            held.start = held.start.max(line_free);
            held.end = held.start + len;
            line_free = held.end + 1;
            self.send_in_flight(held);
        }
    }

    fn send_in_flight(&mut self, f: TxFrame) {
        self.in_flight.insert((f.end, self.in_flight_seq), f);
        self.in_flight_seq += 1;
    }

    /// Frames held toward the peer that too few frames followed: they arrive from cycle `now` on.
    pub fn release_held_to_peer(&mut self, now: Cycle) {
        for h in std::mem::take(&mut self.held_to_peer) {
            let mut f = h.frame;
            let len = f.end - f.start;
            f.start = f.start.max(now);
            f.end = f.start + len;
            self.send_in_flight(f);
        }
    }

    /// Whether frames are held for reordering (toward either side).
    pub fn holds(&self) -> bool {
        !self.held_to_host.is_empty() || !self.held_to_peer.is_empty()
    }

    /// Whether frame `id` is held toward the host for reordering.
    pub fn holds_to_host(&self, id: FrameId) -> bool {
        self.held_to_host.iter().any(|h| h.frame.id == id)
    }

    /// Frames toward the peer still on their (delayed) way.
    pub fn in_flight(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// Whether the partner has frames it has not been given: new NIC frames or an arrival due by
    /// `horizon`.
    pub fn peer_due(&self, tx_frames: usize, horizon: Cycle) -> bool {
        tx_frames > self.tx_seen
            || self
                .in_flight
                .first_key_value()
                .is_some_and(|(&(at, _), _)| at <= horizon)
    }

    /// What reached the link partner, in arrival order.
    pub fn to_peer(&self) -> &[TxFrame] {
        &self.to_peer
    }

    /// Every frame the wire lost, by id.
    pub fn wire_drops(&self) -> &BTreeMap<FrameId, WireDrop> {
        &self.wire_drops
    }

    /// Every copy the wire made, in the order made.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// The bytes frame `id` had on the line toward the host, when the wire made or changed them.
    pub fn rewritten(&self, id: FrameId) -> Option<&[u8]> {
        self.rewritten.get(&id).map(Vec::as_slice)
    }
}

/// Flips one bit of `frame`'s L4 segment (past the IPv4 header, within its total length, so not in
/// Ethernet padding) or, for anything but IPv4, past the Ethernet header. The FCS is computed later,
/// over the damaged bytes, as netem's corruption happens before the MAC.
fn corrupt(frame: &mut [u8], rng: &mut SplitMix64) {
    let span = EthernetFrame::new_checked(&*frame)
        .ok()
        .filter(|eth| eth.ethertype() == ethertype::IPV4)
        .and_then(|eth| Ipv4Packet::new_checked(eth.payload()).ok())
        .map(|ip| ETH_HEADER_LEN + ip.header_len()..ETH_HEADER_LEN + ip.total_len())
        .filter(|r| !r.is_empty())
        .unwrap_or(ETH_HEADER_LEN.min(frame.len())..frame.len());
    if span.is_empty() {
        return;
    }
    let bit = rng.next_u64() % (span.len() as u64 * 8);
    frame[span.start + (bit / 8) as usize] ^= 1 << (bit % 8);
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOCK: Clock = Clock { ps_per_cycle: 6400 };

    /// `faults:` as the scenario reads it (actions with a value are one-key maps).
    fn rules(yaml: &str) -> Vec<FaultRule> {
        let de = serde_norway::Deserializer::from_str(yaml);
        serde_norway::with::singleton_map_recursive::deserialize(de).unwrap()
    }

    /// A 60-byte IPv4 "frame" whose last byte names it.
    fn frame(n: u8) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[12..14].copy_from_slice(&ethertype::IPV4.to_be_bytes());
        f[14] = 0x45;
        f[16..18].copy_from_slice(&46u16.to_be_bytes());
        f[59] = n;
        f
    }

    /// Frames 0..n at cycles 10·i through the cable toward the host: (id, name, not_before).
    fn to_host(netem: &mut Netem, n: u8) -> Vec<(FrameId, u8, Cycle)> {
        let mut next = 100;
        let mut out = Vec::new();
        for i in 0..n {
            let f = ToHost {
                id: FrameId::from(i),
                bytes: frame(i),
                not_before: 10 * Cycle::from(i),
                fault: WireFault::None,
            };
            out.extend(netem.to_host(f, &mut || {
                next += 1;
                next - 1
            }));
        }
        out.into_iter()
            .map(|f| (f.id, f.bytes[59], f.not_before))
            .collect()
    }

    #[test]
    fn reorder_holds_a_frame_behind_the_next_n_and_the_tail_is_released() {
        let mut n = Netem::new(
            &rules("[{direction: to_host, nth: 2, action: {reorder: 2}}]"),
            1,
            CLOCK,
        );
        let names: Vec<u8> = to_host(&mut n, 5).iter().map(|f| f.1).collect();
        assert_eq!(names, [0, 2, 3, 1, 4]);
        assert_eq!(to_host(&mut n, 0), []);
        let mut n = Netem::new(
            &rules("[{direction: to_host, nth: 4, action: {reorder: 3}}]"),
            1,
            CLOCK,
        );
        assert_eq!(to_host(&mut n, 4).len(), 3);
        assert!(n.holds() && n.holds_to_host(3));
        let tail = n.release_held_to_host(500);
        assert_eq!((tail[0].id, tail[0].not_before), (3, 500));
    }

    #[test]
    fn drop_duplicate_and_delay_toward_the_host() {
        let mut n = Netem::new(
            &rules(
                "[{direction: to_host, nth: 1, action: drop},
                  {direction: to_host, nth: 2, action: duplicate},
                  {direction: to_host, nth: 3, action: {delay_ns: 64}}]",
            ),
            1,
            CLOCK,
        );
        let out = to_host(&mut n, 4);
        assert_eq!(out, [(1, 1, 10), (100, 1, 10), (2, 2, 30), (3, 3, 30)]);
        assert_eq!(n.wire_drops()[&0].direction, Direction::ToHost);
        assert_eq!(n.duplicates()[0].copy, 100);
        assert_eq!(n.rewritten(100), Some(&frame(1)[..]));
        assert_eq!(n.hits(), [1, 1, 1]);
    }

    #[test]
    fn count_caps_a_rule_and_probability_follows_the_seed() {
        let mut n = Netem::new(
            &rules("[{direction: to_host, count: 2, action: drop}]"),
            1,
            CLOCK,
        );
        assert_eq!(to_host(&mut n, 5).len(), 3);
        let lost = |seed| {
            let mut n = Netem::new(
                &rules("[{direction: to_host, probability: 0.3, action: drop}]"),
                seed,
                CLOCK,
            );
            to_host(&mut n, 100);
            n.wire_drops().keys().copied().collect::<Vec<_>>()
        };
        assert_eq!(lost(7), lost(7));
        assert_ne!(lost(7), lost(8));
        assert!((15..=45).contains(&lost(7).len()));
    }

    #[test]
    fn corruption_flips_one_bit_of_the_l4_segment() {
        for seed in 0..50 {
            let mut f = frame(9);
            corrupt(&mut f, &mut SplitMix64::new(seed));
            let diff: Vec<usize> = (0..60).filter(|&i| f[i] != frame(9)[i]).collect();
            assert_eq!(diff.len(), 1);
            assert!((34..60).contains(&diff[0]), "byte {}", diff[0]);
            assert_eq!((f[diff[0]] ^ frame(9)[diff[0]]).count_ones(), 1);
        }
    }

    fn tx(id: FrameId, start: Cycle) -> TxFrame {
        TxFrame {
            id: Some(id),
            start,
            end: start + 8,
            bytes: frame(id as u8),
            fcs_ok: true,
            error: false,
        }
    }

    #[test]
    fn toward_the_peer_a_delayed_frame_arrives_later_and_a_lost_one_never() {
        let mut n = Netem::new(
            &rules(
                "[{direction: to_peer, nth: 1, action: {delay_ns: 640}},
                  {direction: to_peer, nth: 2, action: drop}]",
            ),
            1,
            CLOCK,
        );
        let sent = [tx(0, 0), tx(1, 20), tx(2, 40)];
        let mut next = || unreachable!("no copies");
        n.carry_to_peer(&sent, 50, &mut next);
        let got: Vec<(Option<FrameId>, Cycle)> =
            n.to_peer().iter().map(|f| (f.id, f.end)).collect();
        assert_eq!(got, [(Some(2), 48)]);
        assert!(n.in_flight() && !n.peer_due(3, 107) && n.peer_due(3, 108));
        n.carry_to_peer(&sent, 108, &mut next);
        assert_eq!(n.to_peer()[1].end, 108);
        assert_eq!(n.wire_drops()[&1].direction, Direction::ToPeer);
    }
}
