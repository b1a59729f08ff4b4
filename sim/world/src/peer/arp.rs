//! The peer's ARP: `arp_process` (answer requests for its address, learn the asker, take replies
//! for addresses it is resolving) and its neighbour table (net/core/neighbour.c: packets wait on
//! `arp_queue` while the entry is INCOMPLETE, the request is retransmitted every `retrans_time`, and
//! after `mcast_solicit` requests the entry fails and its packets are dropped).

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use host_driver::stack::config::{NeighConfig, NeighbourConfig};
use host_driver::time::{Clock, Cycle};
use host_driver::wire::arp::{ArpOp, ArpPacket, ArpRepr};
use host_driver::wire::build::{arp_reply, arp_request};
use host_driver::wire::ethernet::MacAddr;

use nicsim_scenario::peer::ArpStats;

use super::{Datagram, Peer, PeerConsumer, PeerDrop, PeerVerdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Requests sent so far and when the next is due.
    Incomplete {
        probes: u32,
        next_probe: Cycle,
    },
    Reachable(MacAddr),
    /// From `arp_cache`; ARP never changes it.
    Permanent(MacAddr),
}

#[derive(Debug)]
struct Entry {
    state: State,
    queue: VecDeque<Datagram>,
    queue_bytes: usize,
}

/// What `neigh_resolve_output` did with a datagram.
#[derive(Debug)]
pub(super) enum Output {
    /// The neighbour is known: send now.
    Send(Datagram, MacAddr),
    /// Queued until the neighbour resolves; `request` when a first ARP request must go out.
    Held { request: bool },
}

/// The peer's neighbour table.
#[derive(Debug)]
pub(super) struct Neighbours {
    entries: BTreeMap<Ipv4Addr, Entry>,
    retrans: Cycle,
    mcast_solicit: u32,
    unres_qlen_bytes: usize,
    pub(super) stats: ArpStats,
}

impl Neighbours {
    /// A table holding `permanent` entries (a configuration `PeerConfig::validate` accepted).
    pub(super) fn new(
        cfg: &NeighConfig,
        permanent: &[NeighbourConfig],
        clock: Clock,
    ) -> Neighbours {
        let entries = permanent
            .iter()
            .map(|n| {
                let e = Entry {
                    state: State::Permanent(n.mac),
                    queue: VecDeque::new(),
                    queue_bytes: 0,
                };
                (n.ip, e)
            })
            .collect();
        Neighbours {
            entries,
            retrans: clock.ns_to_cycles(cfg.retrans_time_ms.saturating_mul(1_000_000)),
            mcast_solicit: cfg.mcast_solicit,
            unres_qlen_bytes: cfg.unres_qlen_bytes,
            stats: ArpStats::default(),
        }
    }

    /// `neigh_resolve_output` for `d`, ready at `now`.
    pub(super) fn output(&mut self, d: Datagram, now: Cycle) -> Output {
        let first = !self.entries.contains_key(&d.dst);
        let retrans = self.retrans;
        let e = self.entries.entry(d.dst).or_insert_with(|| Entry {
            state: State::Incomplete {
                probes: 1,
                next_probe: now + retrans,
            },
            queue: VecDeque::new(),
            queue_bytes: 0,
        });
        match e.state {
            State::Reachable(mac) | State::Permanent(mac) => return Output::Send(d, mac),
            State::Incomplete { .. } => {}
        }
        e.queue_bytes += d.payload.len();
        e.queue.push_back(d);
        // `__neigh_event_send`: over the limit, the oldest packets go.
        while e.queue_bytes > self.unres_qlen_bytes {
            let Some(old) = e.queue.pop_front() else {
                break;
            };
            e.queue_bytes -= old.payload.len();
            self.stats.unres_discards += 1;
        }
        Output::Held { request: first }
    }

    /// `neigh_update`: `ip` is at `mac`. Creates the entry only if `create`; returns the packets
    /// that were waiting, or `None` when there was no entry to update.
    fn update(&mut self, ip: Ipv4Addr, mac: MacAddr, create: bool) -> Option<VecDeque<Datagram>> {
        if !create && !self.entries.contains_key(&ip) {
            return None;
        }
        let e = self.entries.entry(ip).or_insert_with(|| Entry {
            state: State::Reachable(mac),
            queue: VecDeque::new(),
            queue_bytes: 0,
        });
        if !matches!(e.state, State::Permanent(_)) {
            e.state = State::Reachable(mac);
        }
        e.queue_bytes = 0;
        Some(std::mem::take(&mut e.queue))
    }

    /// `neigh_timer_handler` at `now`: addresses whose request is due again; entries out of tries
    /// fail and drop their packets.
    fn timers(&mut self, now: Cycle) -> Vec<Ipv4Addr> {
        let mut again = Vec::new();
        let mut failed = Vec::new();
        for (&ip, e) in &mut self.entries {
            let State::Incomplete { probes, next_probe } = e.state else {
                continue;
            };
            if next_probe > now {
                continue;
            }
            if probes >= self.mcast_solicit {
                failed.push(ip);
            } else {
                e.state = State::Incomplete {
                    probes: probes + 1,
                    next_probe: next_probe + self.retrans,
                };
                again.push(ip);
            }
        }
        for ip in failed {
            if let Some(e) = self.entries.remove(&ip) {
                self.stats.res_failed += 1;
                self.stats.unres_discards += e.queue.len() as u64;
            }
        }
        again
    }

    pub(super) fn next_timer(&self) -> Option<Cycle> {
        self.entries
            .values()
            .filter_map(|e| match e.state {
                State::Incomplete { next_probe, .. } => Some(next_probe),
                _ => None,
            })
            .min()
    }
}

impl Peer {
    /// `arp_rcv` + `arp_process`.
    pub(super) fn arp_rcv(&mut self, bytes: &[u8], at: Cycle) -> PeerVerdict {
        let Ok(p) = ArpPacket::new_checked(bytes) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        let arp = ArpRepr::parse(&p);
        if !self.answer_arp {
            return PeerVerdict::Dropped(PeerDrop::ArpDisabled);
        }
        let ready = at + self.turnaround;
        match arp.op {
            ArpOp::Request => {
                self.neigh.stats.requests_received += 1;
                if arp.target_ip != self.ip {
                    return PeerVerdict::Dropped(PeerDrop::ArpNotForUs);
                }
                // A request for us creates the asker's entry: the reply and what follows go to it.
                let held = self
                    .neigh
                    .update(arp.sender_ip, arp.sender_mac, true)
                    .unwrap_or_default();
                self.neigh.stats.replies_sent += 1;
                let reply = arp_reply(self.mac, self.ip, arp.sender_mac, arp.sender_ip);
                self.queue(reply, ready);
                self.release(held, arp.sender_mac, ready);
                PeerVerdict::Consumed(PeerConsumer::ArpAnswered)
            }
            ArpOp::Reply => {
                self.neigh.stats.replies_received += 1;
                match self.neigh.update(arp.sender_ip, arp.sender_mac, false) {
                    Some(held) => {
                        self.release(held, arp.sender_mac, ready);
                        PeerVerdict::Consumed(PeerConsumer::ArpLearned)
                    }
                    None => PeerVerdict::Dropped(PeerDrop::ArpUnsolicited),
                }
            }
        }
    }

    /// Sends the packets that waited for `mac`.
    fn release(&mut self, held: VecDeque<Datagram>, mac: MacAddr, ready: Cycle) {
        for d in held {
            self.emit_datagram(&d, mac, ready);
        }
    }

    /// Broadcasts "who has `ip`?" at cycle `at`.
    pub(super) fn send_arp_request(&mut self, ip: Ipv4Addr, at: Cycle) {
        self.neigh.stats.requests_sent += 1;
        let req = arp_request(self.mac, self.ip, ip);
        self.queue(req, at);
    }

    /// Retransmits requests due by `now`, each at the cycle it was due.
    pub(super) fn neigh_timers(&mut self, now: Cycle) {
        while let Some(due) = self.neigh.next_timer().filter(|&t| t <= now) {
            for ip in self.neigh.timers(due) {
                self.send_arp_request(ip, due);
            }
        }
    }
}
