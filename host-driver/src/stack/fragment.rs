//! `ip_fragment` / `ip_do_fragment` (net/ipv4/ip_output.c), slow path: a packet above the MTU is
//! cut into new skbs, each with a copy of the IP header and its slice of the payload. Each
//! fragment is a new frame (fresh id) and one counted copy; the original ends as
//! [`Consumer::Fragmented`].

use super::Stack;
use crate::accounting::{Consumer, DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::wire::ipv4::{self, fragment_slices, Ipv4Packet, Ipv4Repr};

impl Stack {
    /// Splits `skb` (data at the IP header) into fragments that fit eth0's MTU. A packet with DF
    /// set cannot be fragmented: it is dropped (`FragFails`) and an empty list returned.
    pub(super) fn ip_fragment(&mut self, ctx: &mut Ctx, skb: Skb) -> Vec<Skb> {
        let Ok(p) = Ipv4Packet::new_checked(skb.data()) else {
            self.ip.frag_fails += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
            return Vec::new();
        };
        if p.dont_frag() {
            self.ip.frag_fails += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooBig));
            return Vec::new();
        }
        let repr = Ipv4Repr::parse(&p);
        let payload = p.payload();
        let Ok(slices) = fragment_slices(
            payload.len(),
            self.cfg.mtu,
            repr.frag_offset,
            repr.more_frags,
        ) else {
            self.ip.frag_fails += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooBig));
            return Vec::new();
        };
        let base = repr.frag_offset;
        let mut out = Vec::with_capacity(slices.len());
        for f in slices {
            let piece = &payload[f.offset - base..f.offset - base + f.len];
            let mut frag = Skb::with_headroom(
                ctx.observer().new_frame_id(),
                super::ipv4::TX_HEADROOM,
                piece,
            );
            ctx.stamp(frag.id, Stage::IpOutput);
            frag.copies += skb.copies;
            ctx.charge_copy(piece.len());
            let hdr = Ipv4Repr {
                frag_offset: f.offset,
                more_frags: f.more,
                payload_len: f.len,
                ..repr
            };
            if hdr.emit(frag.push(ipv4::HEADER_LEN)).is_err() {
                // Offsets come from fragment_slices of a valid packet: always representable.
                self.ip.frag_fails += 1;
                Stack::finish(ctx, frag, Outcome::Dropped(DropReason::PktTooBig));
                continue;
            }
            frag.reset_network_header();
            frag.protocol = skb.protocol;
            frag.priority = skb.priority;
            if let Some(wmem) = skb.owner_w() {
                frag.set_owner_w(wmem);
            }
            self.ip.frag_creates += 1;
            out.push(frag);
        }
        self.ip.frag_oks += 1;
        Stack::finish(ctx, skb, Outcome::Consumed(Consumer::Fragmented));
        out
    }
}
