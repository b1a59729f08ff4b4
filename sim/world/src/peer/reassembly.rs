//! The peer's IPv4 reassembly (`ip_defrag`): fragments wait in a queue per (source, destination,
//! protocol, id) until the datagram is whole. An exact duplicate is dropped alone, any other overlap
//! or a contradictory end discards the whole queue (the kernel's rule since FragmentSmack), and a
//! queue older than `ipfrag_time` is discarded (the peer sends no ICMP time exceeded for it).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use host_driver::time::Cycle;
use host_driver::wire::ipv4::{Ipv4Repr, HEADER_LEN, MAX_PACKET_LEN};

use nicsim_scenario::peer::ReassemblyStats;

use super::PeerDrop;

#[derive(Debug, Default)]
struct Queue {
    /// First fragment's arrival: the queue expires `timeout` later.
    started: Cycle,
    /// Fragment data by offset.
    frags: BTreeMap<usize, Vec<u8>>,
    /// Datagram length, known once the last fragment (MF clear) arrived.
    end: Option<usize>,
}

type Key = (Ipv4Addr, Ipv4Addr, u8, u16);

#[derive(Debug)]
pub(super) struct Reassembly {
    queues: BTreeMap<Key, Queue>,
    timeout: Cycle,
    stats: ReassemblyStats,
}

impl Reassembly {
    pub(super) fn new(timeout: Cycle) -> Reassembly {
        Reassembly {
            queues: BTreeMap::new(),
            timeout,
            stats: ReassemblyStats::default(),
        }
    }

    /// Adds the fragment `ip` with `payload`, arrived at `at`: the whole datagram's payload when it
    /// completed one, `None` while incomplete, or why the fragment was dropped.
    pub(super) fn add(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        at: Cycle,
    ) -> Result<Option<Vec<u8>>, PeerDrop> {
        let key = (ip.src, ip.dst, ip.protocol, ip.ident);
        let q = self.queues.entry(key).or_insert_with(|| Queue {
            started: at,
            ..Queue::default()
        });
        let (off, end) = (ip.frag_offset, ip.frag_offset + payload.len());
        let dup = q.frags.get(&off).is_some_and(|b| b.len() == payload.len());
        if dup {
            return Err(PeerDrop::DuplicateFragment);
        }
        let overlaps = q.frags.iter().any(|(&o, b)| o < end && off < o + b.len());
        let bad_end = if ip.more_frags {
            // Every fragment but the last carries a multiple of 8 bytes (`ip_frag_queue`).
            payload.is_empty() || payload.len() % 8 != 0 || q.end.is_some_and(|e| end > e)
        } else {
            q.end.is_some_and(|e| e != end) || q.frags.iter().any(|(&o, b)| o + b.len() > end)
        };
        if overlaps || bad_end || HEADER_LEN + end > MAX_PACKET_LEN {
            self.queues.remove(&key);
            self.stats.discarded += 1;
            return Err(PeerDrop::BadFragment);
        }
        if !ip.more_frags {
            q.end = Some(end);
        }
        q.frags.insert(off, payload.to_vec());
        let Some(total) = q.end else { return Ok(None) };
        let mut cursor = 0;
        for (&o, b) in &q.frags {
            if o != cursor {
                return Ok(None);
            }
            cursor += b.len();
        }
        if cursor != total {
            return Ok(None);
        }
        let q = self
            .queues
            .remove(&key)
            .expect("the queue was just updated");
        self.stats.datagrams += 1;
        Ok(Some(q.frags.into_values().flatten().collect()))
    }

    /// Discards queues that expired by `now`.
    pub(super) fn expire(&mut self, now: Cycle) {
        let timeout = self.timeout;
        let before = self.queues.len();
        self.queues.retain(|_, q| q.started + timeout > now);
        self.stats.timeouts += (before - self.queues.len()) as u64;
    }

    pub(super) fn next_timer(&self) -> Option<Cycle> {
        self.queues.values().map(|q| q.started + self.timeout).min()
    }

    pub(super) fn stats(&self) -> ReassemblyStats {
        self.stats
    }
}
