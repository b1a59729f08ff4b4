//! AF_PACKET taps (`dev_queue_xmit_nit` on send, the `ptype_all` walk in
//! `__netif_receive_skb_core` on receive, `tpacket_rcv` into the capture ring): what tcpdump on
//! the host sees. Each tap gets a clone of the skb and copies up to `snaplen` bytes into its
//! ring; a full ring drops the frame for that tap (`tp_drops`) until the consumer drains it.

use serde::Serialize;

use super::config::TapConfig;
use super::Stack;
use crate::accounting::FrameId;
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::time::Cycle;

/// Which way a tapped frame was going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rx,
    Tx,
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapRecord {
    pub at: Cycle,
    pub id: FrameId,
    pub direction: Direction,
    /// Length on the wire (without FCS).
    pub len: usize,
    /// The first `snaplen` bytes, from the Ethernet header on.
    pub data: Vec<u8>,
}

/// `getsockopt(PACKET_STATISTICS)` plus bytes copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TapCounters {
    pub name: String,
    /// `tp_packets`: frames captured.
    pub packets: u64,
    /// `tp_drops`: frames lost to a full ring.
    pub drops: u64,
}

#[derive(Debug)]
pub struct PacketTap {
    cfg: TapConfig,
    ring: Vec<TapRecord>,
    packets: u64,
    drops: u64,
}

impl PacketTap {
    pub fn new(cfg: &TapConfig) -> PacketTap {
        PacketTap {
            cfg: cfg.clone(),
            ring: Vec::new(),
            packets: 0,
            drops: 0,
        }
    }

    /// The tap's protocol filter accepts `ethertype`.
    pub fn wants(&self, ethertype: u16) -> bool {
        self.cfg.ethertype.is_none_or(|t| t == ethertype)
    }

    /// `packet_rcv` / `tpacket_rcv` for a clone whose data starts at the Ethernet header.
    /// Returns the bytes copied into the ring (0 if the ring was full).
    pub fn capture(&mut self, at: Cycle, clone: Skb, direction: Direction) -> usize {
        if self.ring.len() >= self.cfg.ring_frames {
            self.drops += 1;
            return 0;
        }
        // packet_rcv: `skb_push(skb, skb->data - skb_mac_header(skb))` shows the link header too.
        let frame = clone.mac_header().unwrap_or(clone.data());
        let data = frame[..frame.len().min(self.cfg.snaplen)].to_vec();
        let copied = data.len();
        self.ring.push(TapRecord {
            at,
            id: clone.id,
            direction,
            len: frame.len(),
            data,
        });
        self.packets += 1;
        copied
    }

    /// The consumer (tcpdump) reads everything captured so far, freeing the ring.
    pub fn drain(&mut self) -> Vec<TapRecord> {
        std::mem::take(&mut self.ring)
    }

    pub fn counters(&self) -> TapCounters {
        TapCounters {
            name: self.cfg.name.clone(),
            packets: self.packets,
            drops: self.drops,
        }
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }
}

impl Stack {
    /// `dev_queue_xmit_nit` / the `ptype_all` walk: every tap whose filter accepts the frame gets
    /// a clone and copies it into its ring. `skb` data starts at the Ethernet header.
    pub(super) fn deliver_to_taps(&mut self, ctx: &mut Ctx, skb: &Skb, direction: Direction) {
        for tap in self.taps.iter_mut().filter(|t| t.wants(skb.protocol)) {
            ctx.charge(ctx.costs.packet_tap_ns);
            let copied = tap.capture(ctx.now, skb.clone_skb(), direction);
            ctx.charge_copy(copied);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(ethertype: Option<u16>, snaplen: usize, ring_frames: usize) -> PacketTap {
        PacketTap::new(&TapConfig {
            name: "t".into(),
            ethertype,
            snaplen,
            ring_frames,
        })
    }

    #[test]
    fn snaplen_and_ring_limit() {
        let mut t = tap(None, 4, 2);
        let skb = Skb::from_dma(1, (0u8..10).collect());
        assert_eq!(t.capture(5, skb.clone_skb(), Direction::Rx), 4);
        assert_eq!(t.capture(6, skb.clone_skb(), Direction::Rx), 4);
        assert_eq!(t.capture(7, skb.clone_skb(), Direction::Rx), 0);
        assert_eq!((t.counters().packets, t.counters().drops), (2, 1));
        let recs = t.drain();
        assert_eq!(
            recs[0],
            TapRecord {
                at: 5,
                id: 1,
                direction: Direction::Rx,
                len: 10,
                data: vec![0, 1, 2, 3]
            }
        );
        assert_eq!(
            t.capture(8, skb.clone_skb(), Direction::Tx),
            4,
            "drained ring accepts again"
        );
    }

    #[test]
    fn ethertype_filter() {
        assert!(tap(Some(0x0806), 10, 1).wants(0x0806));
        assert!(!tap(Some(0x0806), 10, 1).wants(0x0800));
        assert!(tap(None, 10, 1).wants(0x86dd));
    }
}
