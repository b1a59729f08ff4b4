//! `ip_forward` (net/ipv4/ip_forward.c) with `net.ipv4.ip_forward = 1`: TTL check (ICMP time
//! exceeded), MTU check for DF packets (ICMP fragmentation needed), `ip_decrease_ttl`, the
//! FORWARD hook, then `ip_output`. ICMP redirects for packets that leave through the interface
//! they came in on are not sent (`send_redirects` is not modelled).

use super::config::Hook;
use super::Stack;
use crate::accounting::{DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::{PacketType, Skb};
use crate::wire::icmp::IcmpError;
use crate::wire::ipv4::{decrease_ttl, Ipv4Packet};

impl Stack {
    /// Forwards `skb` (data at the IP header) that is not addressed to this host.
    pub(super) fn ip_forward(&mut self, ctx: &mut Ctx, mut skb: Skb) {
        ctx.stamp_skb(&skb, Stage::IpForward);
        ctx.charge(ctx.costs.ip_forward_ns);
        if skb.pkt_type != PacketType::Host {
            // `goto drop` with the reason still SKB_DROP_REASON_NOT_SPECIFIED.
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
        }
        let Ok((dst, ttl, df, len)) = Ipv4Packet::new_checked(skb.data())
            .map(|p| (p.dst(), p.ttl(), p.dont_frag(), p.total_len()))
        else {
            self.ip.in_hdr_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        };
        let Some(nh) = self.routes.lookup(dst) else {
            // ip_error with ENETUNREACH: IPSTATS_MIB_INNOROUTES, SKB_DROP_REASON_IP_INNOROUTES.
            self.ip.in_no_routes += 1;
            self.icmp_send(ctx, &skb, IcmpError::NetUnreachable);
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInnoroutes));
        };
        if ttl <= 1 {
            // ip_forward's too_many_hops: IPSTATS_MIB_INHDRERRORS, SKB_DROP_REASON_IP_INHDR.
            self.ip.in_hdr_errors += 1;
            self.icmp_send(ctx, &skb, IcmpError::TtlExceeded);
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        }
        if df && len > self.cfg.mtu {
            self.ip.frag_fails += 1;
            let mtu = u16::try_from(self.cfg.mtu).unwrap_or(u16::MAX);
            self.icmp_send(ctx, &skb, IcmpError::FragNeeded { mtu });
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooBig));
        }
        // skb_cow + ip_decrease_ttl; the header was validated above.
        if decrease_ttl(skb.data_mut()).is_err() {
            self.ip.in_hdr_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        }
        let Some(skb) = self.nf_hook(ctx, Hook::Forward, skb) else {
            return;
        };
        self.ip.forw_datagrams += 1;
        self.ip_output(ctx, skb, nh);
    }
}
