//! IPv4 reassembly (net/ipv4/ip_fragment.c, `ip_defrag` / `ip_frag_queue` / `ip_frag_reasm`,
//! with net/ipv4/inet_fragment.c): fragments wait in a queue per (source, destination,
//! protocol, id). Memory is bounded by `ipfrag_high_thresh` (truesize of all queued fragments),
//! a queue lives at most `ipfrag_time`, an exact duplicate is dropped alone and any other
//! overlap kills the whole queue (the post-FragmentSmack rule). Each completed datagram carries
//! the id of the fragment that completed it; the others end as [`Consumer::Reassembled`].
//!
//! The kernel chains fragments on `frag_list` instead of copying them, so no copy is counted.
//! IP options of the first fragment are not carried into the reassembled header.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::Stack;
use crate::accounting::{Consumer, DropReason, Outcome};
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::time::Cycle;
use crate::wire::icmp::IcmpError;
use crate::wire::ipv4::{self, Ipv4Packet, Ipv4Repr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct FragKey {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ident: u16,
}

#[derive(Debug)]
struct Fragment {
    offset: usize,
    end: usize,
    skb: Skb,
}

#[derive(Debug)]
struct FragQueue {
    /// Sorted by offset.
    frags: Vec<Fragment>,
    /// `q.len`: the highest end seen; the datagram length once the last fragment arrived.
    len: usize,
    last_in: bool,
    /// `q.meat`: payload bytes received.
    meat: usize,
    truesize: usize,
    expires: Cycle,
}

#[derive(Debug)]
pub struct Reassembly {
    queues: BTreeMap<FragKey, FragQueue>,
    /// `fqdir->mem`.
    mem: usize,
    high_thresh: usize,
    timeout: Cycle,
}

impl Reassembly {
    pub fn new(high_thresh: usize, timeout: Cycle) -> Reassembly {
        Reassembly {
            queues: BTreeMap::new(),
            mem: 0,
            high_thresh,
            timeout,
        }
    }

    /// When the oldest queue expires.
    pub fn next_timer(&self) -> Option<Cycle> {
        self.queues.values().map(|q| q.expires).min()
    }
}

/// How a new fragment relates to those already queued.
enum Fit {
    Fits,
    Duplicate,
    Overlaps,
}

impl Stack {
    /// `ip_defrag`: queues `skb` (data at the IP header of a fragment) and returns the whole
    /// datagram once this fragment completes it.
    pub(super) fn ip_defrag(&mut self, ctx: &mut Ctx, skb: Skb) -> Option<Skb> {
        ctx.charge(ctx.costs.ip_defrag_ns);
        self.frag_timers(ctx);
        self.ip.reasm_reqds += 1;
        let Ok(p) = Ipv4Packet::new_checked(skb.data()) else {
            self.ip.reasm_fails += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
            return None;
        };
        let key = FragKey {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            ident: p.ident(),
        };
        let offset = p.frag_offset();
        let more = p.more_frags();
        // A non-last fragment carries a multiple of 8 bytes; the kernel trims any excess.
        let end = offset + p.payload().len();
        let end = if more { end & !7 } else { end };
        let r = &mut self.frags;
        if !r.queues.contains_key(&key) && r.mem + skb.truesize() > r.high_thresh {
            // inet_frag_find refuses new queues above ipfrag_high_thresh.
            self.ip.reasm_fails += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
            return None;
        }
        let timeout = r.timeout;
        let q = r.queues.entry(key).or_insert_with(|| FragQueue {
            frags: Vec::new(),
            len: 0,
            last_in: false,
            meat: 0,
            truesize: 0,
            expires: ctx.now + timeout,
        });
        let consistent = if more {
            end > offset && !(q.last_in && end > q.len)
        } else {
            end >= q.len && !(q.last_in && end != q.len)
        };
        if !consistent {
            self.frag_kill(ctx, key, skb, DropReason::NotSpecified);
            return None;
        }
        let fit = q.frags.iter().fold(Fit::Fits, |fit, f| match fit {
            Fit::Fits if f.offset == offset && f.end == end => Fit::Duplicate,
            Fit::Fits if f.offset < end && offset < f.end => Fit::Overlaps,
            other => other,
        });
        match fit {
            Fit::Duplicate => {
                Stack::finish(ctx, skb, Outcome::Dropped(DropReason::DupFrag));
                return None;
            }
            Fit::Overlaps => {
                self.ip.reasm_overlaps += 1;
                self.frag_kill(ctx, key, skb, DropReason::DupFrag);
                return None;
            }
            Fit::Fits => {}
        }
        if !more {
            q.last_in = true;
        }
        q.len = q.len.max(end);
        q.meat += end - offset;
        q.truesize += skb.truesize();
        r.mem += skb.truesize();
        let at = q.frags.partition_point(|f| f.offset < offset);
        q.frags.insert(at, Fragment { offset, end, skb });
        if !(q.last_in && q.meat == q.len) {
            return None;
        }
        let q = self.frags.queues.remove(&key)?;
        self.frags.mem -= q.truesize;
        self.ip_frag_reasm(ctx, q, at)
    }

    /// `ip_frag_reasm`: one datagram from a complete queue; `completing` indexes the fragment
    /// that arrived last, whose id the datagram keeps.
    fn ip_frag_reasm(&mut self, ctx: &mut Ctx, q: FragQueue, completing: usize) -> Option<Skb> {
        let first = q.frags.first()?;
        let Ok(head) = Ipv4Packet::new_checked(first.skb.data()).map(|p| Ipv4Repr::parse(&p))
        else {
            self.ip.reasm_fails += 1;
            for f in q.frags {
                Stack::finish(ctx, f.skb, Outcome::Dropped(DropReason::NotSpecified));
            }
            return None;
        };
        let repr = Ipv4Repr {
            more_frags: false,
            frag_offset: 0,
            payload_len: q.len,
            ..head
        };
        let mut bytes = vec![0; ipv4::HEADER_LEN + q.len];
        if repr.emit(&mut bytes).is_err() {
            // Longer than 65535 bytes: ip_frag_reasm's "oversized IP packet".
            self.ip.reasm_fails += 1;
            for f in q.frags {
                Stack::finish(ctx, f.skb, Outcome::Dropped(DropReason::NotSpecified));
            }
            return None;
        }
        for f in &q.frags {
            let data = Ipv4Packet::new_checked(f.skb.data())
                .map(|p| p.payload())
                .unwrap_or_default();
            let piece = &data[..(f.end - f.offset).min(data.len())];
            let at = ipv4::HEADER_LEN + f.offset;
            bytes[at..at + piece.len()].copy_from_slice(piece);
        }
        let mut frags = q.frags;
        let last = frags.remove(completing).skb;
        let mut whole = Skb::with_headroom(last.id, last.headroom(), &bytes);
        whole.copies = frags
            .iter()
            .map(|f| f.skb.copies)
            .chain([last.copies])
            .max()
            .unwrap_or(0);
        whole.pkt_type = last.pkt_type;
        whole.protocol = last.protocol;
        whole.reset_network_header();
        for f in frags {
            Stack::finish(ctx, f.skb, Outcome::Consumed(Consumer::Reassembled));
        }
        drop(last);
        self.ip.reasm_oks += 1;
        Some(whole)
    }

    /// `inet_frag_kill` + `discard_qp`: drops the queue `key` and `skb` with `reason`.
    fn frag_kill(&mut self, ctx: &mut Ctx, key: FragKey, skb: Skb, reason: DropReason) {
        self.ip.reasm_fails += 1;
        if let Some(q) = self.frags.queues.remove(&key) {
            self.frags.mem -= q.truesize;
            for f in q.frags {
                Stack::finish(ctx, f.skb, Outcome::Dropped(reason));
            }
        }
        Stack::finish(ctx, skb, Outcome::Dropped(reason));
    }

    /// `ip_expire` for every queue past `ipfrag_time`: ReasmTimeout, ReasmFails, and ICMP time
    /// exceeded to the sender if the first fragment had arrived.
    pub(super) fn frag_timers(&mut self, ctx: &mut Ctx) {
        let due: Vec<FragKey> = self
            .frags
            .queues
            .iter()
            .filter(|(_, q)| q.expires <= ctx.now)
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let Some(q) = self.frags.queues.remove(&key) else {
                continue;
            };
            self.frags.mem -= q.truesize;
            self.ip.reasm_timeout += 1;
            self.ip.reasm_fails += 1;
            if let Some(first) = q.frags.first().filter(|f| f.offset == 0) {
                self.icmp_send(ctx, &first.skb, IcmpError::ReassemblyTimeExceeded);
            }
            for f in q.frags {
                Stack::finish(ctx, f.skb, Outcome::Dropped(DropReason::FragReasmTimeout));
            }
        }
    }
}
