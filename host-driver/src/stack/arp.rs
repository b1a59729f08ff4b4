//! ARP (net/ipv4/arp.c): `arp_rcv` / `arp_process` answer requests for our address and feed the
//! neighbour table; `arp_send` builds requests and replies and queues them with
//! `dev_queue_xmit` (`arp_xmit`).

use std::net::Ipv4Addr;

use super::Stack;
use crate::accounting::{Consumer, DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::{PacketType, Skb, NET_SKB_PAD};
use crate::wire::arp::{self, ArpOp, ArpPacket, ArpRepr};
use crate::wire::ethernet::{ethertype, MacAddr};

impl Stack {
    /// `arp_rcv` → `arp_process`. Data starts at the ARP header.
    pub(super) fn arp_rcv(&mut self, ctx: &mut Ctx, skb: Skb) {
        ctx.stamp(skb.id, Stage::ArpRcv);
        ctx.charge(ctx.costs.arp_rcv_ns);
        let Ok(arp) = ArpPacket::new_checked(skb.data()).map(|p| ArpRepr::parse(&p)) else {
            self.arp.invalid += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
        };
        // arp_process: a multicast or broadcast sender is bogus; frames for another host are
        // consumed without effect.
        if arp.sender_ip.is_multicast()
            || arp.sender_ip.is_broadcast()
            || arp.sender_mac.is_multicast()
        {
            self.arp.invalid += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
        }
        if skb.pkt_type == PacketType::OtherHost {
            return Stack::finish(ctx, skb, Outcome::Consumed(Consumer::Arp));
        }
        let for_us = arp.target_ip == self.cfg.address.addr;
        match arp.op {
            ArpOp::Request => {
                self.arp.requests_received += 1;
                // The sender of a request to us is about to talk to us: create its entry.
                self.neigh_update(ctx, arp.sender_ip, arp.sender_mac, for_us);
                if for_us {
                    self.arp_send(
                        ctx,
                        ArpOp::Reply,
                        arp.sender_mac,
                        arp.sender_ip,
                        arp.sender_mac,
                    );
                }
            }
            ArpOp::Reply => {
                self.arp.replies_received += 1;
                // Unsolicited replies only refresh existing entries (arp_accept = 0).
                self.neigh_update(ctx, arp.sender_ip, arp.sender_mac, false);
            }
        }
        Stack::finish(ctx, skb, Outcome::Consumed(Consumer::Arp));
    }

    /// `arp_send_dst`: builds an ARP packet from us to (`target_ip`, `target_mac`) in a frame for
    /// `dst_mac` and queues it.
    pub(super) fn arp_send(
        &mut self,
        ctx: &mut Ctx,
        op: ArpOp,
        dst_mac: MacAddr,
        target_ip: Ipv4Addr,
        target_mac: MacAddr,
    ) {
        let repr = ArpRepr {
            op,
            sender_mac: self.mac,
            sender_ip: self.cfg.address.addr,
            target_mac,
            target_ip,
        };
        let mut skb = Skb::alloc(ctx.observer().new_frame_id(), NET_SKB_PAD, arp::PACKET_LEN);
        skb.data_mut().copy_from_slice(&repr.to_bytes());
        skb.reset_network_header();
        self.dev_hard_header(&mut skb, dst_mac, ethertype::ARP);
        match op {
            ArpOp::Request => self.arp.requests_sent += 1,
            ArpOp::Reply => self.arp.replies_sent += 1,
        }
        self.dev_queue_xmit(ctx, skb);
    }
}
