//! Generic receive offload, the merging half of `napi_gro_receive` (net/core/gro.c): `dev_gro_receive`
//! holds up to [`MAX_GRO_SKBS`] flows, the protocol's `gro_receive` ([`inet`]: IPv4 then TCP) decides
//! whether a segment joins one, and `napi_gro_flush` / `napi_gro_complete` finish the held skbs. What
//! leaves here goes up through [`crate::napi::Napi`]'s `gro_normal_one` batching.
//!
//! The kernel keeps `GRO_HASH_BUCKETS` lists chosen by `skb_get_hash_raw`; e1000 sets no receive hash,
//! so every skb lands in bucket 0 and one list of 8 is exactly what it gets.

mod inet;

use crate::skb::Skb;
use crate::wire::ethernet;

/// `MAX_GRO_SKBS`: flows one list holds; a new one beyond it flushes the oldest (`gro_flush_oldest`).
pub const MAX_GRO_SKBS: usize = 8;
/// `GRO_LEGACY_MAX_SIZE` (the default `dev->gro_max_size`): a merge must leave the skb below it.
pub const GRO_LEGACY_MAX_SIZE: usize = 65536;
/// `CONFIG_HZ`: `napi_gro_flush(n, HZ >= 1000)` keeps the flows held since the current jiffy.
pub const HZ: u64 = 1000;
/// Bins of [`GroStats::segs_per_skb`]; the last also counts larger skbs.
const SEGS_BINS: usize = 65;

/// What `dev_gro_receive` did with an skb (`enum gro_result`).
#[derive(Debug)]
pub enum GroResult {
    /// `GRO_MERGED_FREE`: its data joined a held skb.
    Merged,
    /// `GRO_HELD`: it starts a held flow.
    Held,
    /// `GRO_NORMAL`: it goes up as it is.
    Normal(Skb),
}

/// GRO counters of one NAPI instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroStats {
    /// Segments merged into a held skb (`skb_gro_receive` succeeded).
    pub merged: u64,
    /// Held skbs completed and handed up (`napi_gro_complete`).
    pub flushes: u64,
    /// `segs_per_skb[n]`: completed skbs that carried `n` segments (`NAPI_GRO_CB(skb)->count`).
    pub segs_per_skb: Vec<u64>,
}

impl Default for GroStats {
    fn default() -> Self {
        GroStats {
            merged: 0,
            flushes: 0,
            segs_per_skb: vec![0; SEGS_BINS],
        }
    }
}

/// A held skb and its `NAPI_GRO_CB(p)`.
#[derive(Debug)]
struct Held {
    skb: Skb,
    /// `NAPI_GRO_CB(p)->age`: the jiffy it was held in.
    age: u64,
    /// `NAPI_GRO_CB(p)->count`: segments in it.
    count: u16,
    /// `NAPI_GRO_CB(p)->ip_fixedid`: the flow sends one IP id, not an incrementing one.
    ip_fixedid: bool,
}

/// `napi->gro_hash[0]`: the held skbs, oldest first (the kernel adds at the head and walks in reverse).
#[derive(Debug, Default)]
pub struct GroList {
    held: Vec<Held>,
    stats: GroStats,
}

impl GroList {
    /// `napi->gro_bitmask != 0`: some flow is held.
    pub fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    pub fn stats(&self) -> &GroStats {
        &self.stats
    }

    /// `dev_gro_receive` at jiffy `jiffies`: returns the skb it completed on the way (the flow `skb`
    /// ended, or the oldest making room), to go up before `skb` itself does, and what became of `skb`.
    pub fn dev_gro_receive(&mut self, mut skb: Skb, jiffies: u64) -> (Option<Skb>, GroResult) {
        // Only IPv4 registers a `gro_receive` here (`inet_gro_receive`); anything else goes up as is.
        let verdict = if skb.protocol == ethernet::ethertype::IPV4 {
            inet::inet_gro_receive(&self.held, &skb)
        } else {
            inet::Verdict::normal()
        };
        skb.csum_unnecessary |= verdict.csum_valid;
        let mut done = None;
        if let Some(i) = verdict.flow {
            let p = &mut self.held[i];
            p.ip_fixedid |= verdict.ip_fixedid;
            if verdict.merge {
                inet::tcp_gro_merge(&mut p.skb, skb.data());
                p.skb.gro_receive(skb, verdict.offset);
                p.count += 1;
                self.stats.merged += 1;
                if !verdict.complete_flow {
                    return (None, GroResult::Merged);
                }
                let p = self.held.remove(i);
                return (Some(self.complete(p)), GroResult::Merged);
            }
            if verdict.complete_flow {
                let p = self.held.remove(i);
                done = Some(self.complete(p));
            }
        }
        if verdict.flush {
            return (done, GroResult::Normal(skb));
        }
        if self.held.len() >= MAX_GRO_SKBS {
            // gro_flush_oldest. A flow completed above left room, so this never drops a `done`.
            let oldest = self.held.remove(0);
            done = Some(self.complete(oldest));
        }
        skb.gso_size = verdict.payload_len;
        self.held.push(Held {
            skb,
            age: jiffies,
            count: 1,
            ip_fixedid: false,
        });
        (done, GroResult::Held)
    }

    /// `napi_gro_flush(napi, flush_old)` at jiffy `jiffies`: completes the held skbs oldest first; with
    /// `flush_old`, only those held before this jiffy (`__napi_gro_flush_chain` stops at the first young
    /// one).
    pub fn napi_gro_flush(&mut self, flush_old: bool, jiffies: u64) -> Vec<Skb> {
        let keep = if flush_old {
            self.held.iter().position(|h| h.age == jiffies)
        } else {
            None
        };
        let old: Vec<Held> = self.held.drain(..keep.unwrap_or(self.held.len())).collect();
        old.into_iter().map(|p| self.complete(p)).collect()
    }

    /// `napi_gro_complete`: a single segment goes up untouched (`gso_size` cleared); a merged one gets
    /// the headers of the super-packet (`inet_gro_complete`, `tcp4_gro_complete`).
    fn complete(&mut self, p: Held) -> Skb {
        self.stats.flushes += 1;
        self.stats.segs_per_skb[usize::from(p.count).min(SEGS_BINS - 1)] += 1;
        let mut skb = p.skb;
        if p.count == 1 {
            skb.gso_size = 0;
        } else {
            inet::inet_gro_complete(&mut skb, p.count);
        }
        skb
    }
}

#[cfg(test)]
mod tests;
