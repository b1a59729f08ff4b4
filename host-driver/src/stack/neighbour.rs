//! The neighbour table for ARP (net/core/neighbour.c, `arp_tbl`): `neigh_resolve_output`
//! holds packets of an unresolved neighbour on a bounded queue (`unres_qlen_bytes`; overflow
//! drops the oldest, `NEIGH_QUEUEFULL`), `neigh_timer_handler` retransmits the ARP request every
//! `retrans_time` and fails the entry after `mcast_solicit` tries (`NEIGH_FAILED`), and
//! `neigh_update` sends the held packets once the address is known.
//!
//! Resolved entries stay valid for the run (REACHABLE → STALE aging and unicast probes are not
//! modelled; simulated runs are far shorter than `base_reachable_time`).

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use serde::Serialize;

use super::config::{NeighConfig, NeighbourConfig};
use super::Stack;
use crate::accounting::{DropReason, Outcome};
use crate::ctx::Ctx;
use crate::netdevice::NetXmit;
use crate::skb::Skb;
use crate::time::{Clock, Cycle};
use crate::wire::arp::ArpOp;
use crate::wire::ethernet::{ethertype, MacAddr};

/// `NUD_*` states that are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nud {
    /// Request sent, waiting for a reply: `probes` sent so far, next one at `next_probe`.
    Incomplete { probes: u32, next_probe: Cycle },
    /// Learned from ARP.
    Reachable(MacAddr),
    /// Configured (`nud permanent`); ARP never changes it.
    Permanent(MacAddr),
}

#[derive(Debug)]
struct Neighbour {
    state: Nud,
    /// `arp_queue`: packets (data at the IP header) waiting for resolution.
    queue: VecDeque<Skb>,
    /// `arp_queue_len_bytes` (truesize).
    queue_bytes: usize,
}

/// ARP / neighbour counters (`ip -s neigh` totals and `/proc/net/stat/arp_cache`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ArpCounters {
    pub requests_sent: u64,
    pub replies_sent: u64,
    pub requests_received: u64,
    pub replies_received: u64,
    /// ARP packets `arp_rcv` rejected.
    pub invalid: u64,
    /// `unresolved_discards`: packets pushed off a full `arp_queue`.
    pub unres_discards: u64,
    /// Resolutions that gave up after `mcast_solicit` requests.
    pub res_failed: u64,
}

#[derive(Debug)]
pub struct NeighbourTable {
    entries: BTreeMap<Ipv4Addr, Neighbour>,
    unres_qlen_bytes: usize,
    retrans: Cycle,
    mcast_solicit: u32,
}

impl NeighbourTable {
    pub fn new(cfg: &NeighConfig, permanent: &[NeighbourConfig], clock: Clock) -> NeighbourTable {
        let entries = permanent
            .iter()
            .map(|n| {
                (
                    n.ip,
                    Neighbour {
                        state: Nud::Permanent(n.mac),
                        queue: VecDeque::new(),
                        queue_bytes: 0,
                    },
                )
            })
            .collect();
        NeighbourTable {
            entries,
            unres_qlen_bytes: cfg.unres_qlen_bytes,
            retrans: clock.ns_to_cycles(cfg.retrans_time_ms.saturating_mul(1_000_000)),
            mcast_solicit: cfg.mcast_solicit,
        }
    }

    /// The resolved MAC of `ip`, if any.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        match self.entries.get(&ip)?.state {
            Nud::Reachable(m) | Nud::Permanent(m) => Some(m),
            Nud::Incomplete { .. } => None,
        }
    }

    /// The next retransmission or failure.
    pub fn next_timer(&self) -> Option<Cycle> {
        self.entries
            .values()
            .filter_map(|n| match n.state {
                Nud::Incomplete { next_probe, .. } => Some(next_probe),
                _ => None,
            })
            .min()
    }
}

impl Stack {
    /// `neigh_output` / `neigh_resolve_output`: sends `skb` (data at the IP header) to `nexthop`'s
    /// MAC, or holds it while ARP resolves the address (a held packet is a success to the sender,
    /// even if a later packet pushes it off the queue).
    pub(super) fn neigh_output(
        &mut self,
        ctx: &mut Ctx,
        mut skb: Skb,
        nexthop: Ipv4Addr,
    ) -> NetXmit {
        if self.is_broadcast(nexthop) {
            self.dev_hard_header(&mut skb, MacAddr::BROADCAST, ethertype::IPV4);
            return self.dev_queue_xmit(ctx, skb);
        }
        if let Some(mac) = self.neigh.lookup(nexthop) {
            self.dev_hard_header(&mut skb, mac, ethertype::IPV4);
            return self.dev_queue_xmit(ctx, skb);
        }
        let new = !self.neigh.entries.contains_key(&nexthop);
        let limit = self.neigh.unres_qlen_bytes;
        let retrans = self.neigh.retrans;
        let n = self
            .neigh
            .entries
            .entry(nexthop)
            .or_insert_with(|| Neighbour {
                state: Nud::Incomplete {
                    probes: 1,
                    next_probe: ctx.now + retrans,
                },
                queue: VecDeque::new(),
                queue_bytes: 0,
            });
        // __neigh_event_send: make room by dropping the oldest held packets.
        let mut dropped = Vec::new();
        while n.queue_bytes + skb.truesize() > limit {
            let Some(old) = n.queue.pop_front() else {
                break;
            };
            n.queue_bytes -= old.truesize();
            dropped.push(old);
        }
        if n.queue_bytes + skb.truesize() > limit {
            dropped.push(skb);
        } else {
            n.queue_bytes += skb.truesize();
            n.queue.push_back(skb);
        }
        for old in dropped {
            self.arp.unres_discards += 1;
            Stack::finish(ctx, old, Outcome::Dropped(DropReason::NeighQueuefull));
        }
        if new {
            self.arp_send(
                ctx,
                ArpOp::Request,
                MacAddr::BROADCAST,
                nexthop,
                MacAddr::ZERO,
            );
        }
        NetXmit::Success
    }

    /// `neigh_update`: `ip` is at `mac`. With `create` a missing entry is made (the kernel
    /// creates one for the sender of a request addressed to us); a permanent entry never
    /// changes. Held packets are sent.
    pub(super) fn neigh_update(&mut self, ctx: &mut Ctx, ip: Ipv4Addr, mac: MacAddr, create: bool) {
        let queue = match self.neigh.entries.get_mut(&ip) {
            Some(n) => match n.state {
                Nud::Permanent(_) => return,
                _ => {
                    n.state = Nud::Reachable(mac);
                    n.queue_bytes = 0;
                    std::mem::take(&mut n.queue)
                }
            },
            None if create => {
                self.neigh.entries.insert(
                    ip,
                    Neighbour {
                        state: Nud::Reachable(mac),
                        queue: VecDeque::new(),
                        queue_bytes: 0,
                    },
                );
                VecDeque::new()
            }
            None => return,
        };
        for mut skb in queue {
            self.dev_hard_header(&mut skb, mac, ethertype::IPV4);
            self.dev_queue_xmit(ctx, skb);
        }
    }

    /// `neigh_timer_handler` for every INCOMPLETE entry whose time has come: another broadcast
    /// request, or after `mcast_solicit` of them, failure: held packets are dropped and the
    /// entry removed, so the next packet starts a fresh resolution.
    pub(super) fn neigh_timers(&mut self, ctx: &mut Ctx) {
        let due: Vec<Ipv4Addr> = self
            .neigh
            .entries
            .iter()
            .filter(|(_, n)| matches!(n.state, Nud::Incomplete { next_probe, .. } if next_probe <= ctx.now))
            .map(|(ip, _)| *ip)
            .collect();
        for ip in due {
            let Some(n) = self.neigh.entries.get_mut(&ip) else {
                continue;
            };
            let Nud::Incomplete { probes, .. } = n.state else {
                continue;
            };
            if probes >= self.neigh.mcast_solicit {
                self.arp.res_failed += 1;
                if let Some(n) = self.neigh.entries.remove(&ip) {
                    for skb in n.queue {
                        Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NeighFailed));
                    }
                }
            } else {
                n.state = Nud::Incomplete {
                    probes: probes + 1,
                    next_probe: ctx.now + self.neigh.retrans,
                };
                self.arp_send(ctx, ArpOp::Request, MacAddr::BROADCAST, ip, MacAddr::ZERO);
            }
        }
    }
}
