//! IPv4 (net/ipv4/ip_input.c, ip_output.c): `ip_rcv` with its header checks, the input routing
//! decision, `ip_local_deliver` through the `inet_protos` table, and the output chain
//! `ip_local_out` → `ip_output` → `ip_finish_output` (fragmentation) → `ip_finish_output2`
//! (neighbour). Counters are the `Ip:` and `IpExt:` lines of /proc/net/snmp and netstat.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::config::Hook;
use super::ethernet::Handler;
use super::qdisc::tos_to_priority;
use super::route::NextHop;
use super::socket::SocketError;
use super::Stack;
use crate::accounting::{DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::netdevice::NetXmit;
use crate::skb::{PacketType, Skb};
use crate::wire::checksum::internet_checksum;
use crate::wire::ethernet::ethertype;
use crate::wire::icmp::IcmpError;
use crate::wire::ipv4::{self, Ipv4Packet, Ipv4Repr};

/// `Ip:` counters of /proc/net/snmp plus the IP ones of `IpExt:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct IpCounters {
    pub in_receives: u64,
    pub in_hdr_errors: u64,
    pub in_addr_errors: u64,
    pub forw_datagrams: u64,
    pub in_unknown_protos: u64,
    pub in_delivers: u64,
    pub out_requests: u64,
    pub out_discards: u64,
    pub out_no_routes: u64,
    pub reasm_timeout: u64,
    pub reasm_reqds: u64,
    pub reasm_oks: u64,
    pub reasm_fails: u64,
    pub reasm_overlaps: u64,
    pub frag_oks: u64,
    pub frag_fails: u64,
    pub frag_creates: u64,
    pub in_no_routes: u64,
    pub in_truncated_pkts: u64,
    pub in_csum_errors: u64,
}

/// `inet_protos[]`: IP protocol number → receive handler (`inet_add_protocol`).
#[derive(Debug, Clone)]
pub struct InetProtos([Option<Handler>; 256]);

impl Default for InetProtos {
    fn default() -> Self {
        InetProtos([None; 256])
    }
}

/// The header fields a local sender chooses (`struct flowi4` + socket options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFlow {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub tos: u8,
    pub ttl: u8,
    /// DF: path MTU discovery (`IP_PMTUDISC_WANT`, what TCP sockets use).
    pub dont_frag: bool,
}

/// Headroom for locally built packets: Ethernet + IP + UDP headers fit in `NET_SKB_PAD`.
pub(super) const TX_HEADROOM: usize = crate::skb::NET_SKB_PAD;

impl Stack {
    /// `inet_add_protocol`.
    pub(super) fn inet_add_protocol(&mut self, protocol: u8, handler: Handler) {
        self.inet_protos.0[usize::from(protocol)] = Some(handler);
    }

    /// An address of this host (`RTN_LOCAL`) or a broadcast it accepts (`RTN_BROADCAST`).
    pub(super) fn is_local(&self, dst: Ipv4Addr) -> bool {
        dst == self.cfg.address.addr || self.is_broadcast(dst)
    }

    /// Limited or eth0's directed broadcast.
    pub(super) fn is_broadcast(&self, dst: Ipv4Addr) -> bool {
        dst.is_broadcast() || dst == self.cfg.address.broadcast()
    }

    fn drop(&mut self, ctx: &mut Ctx, skb: Skb, reason: DropReason) {
        Stack::finish(ctx, skb, Outcome::Dropped(reason));
    }

    /// `ip_rcv` / `ip_rcv_core`: header checks, trim of link padding, PRE_ROUTING, then the
    /// routing decision of `ip_rcv_finish`. Data starts at the IP header.
    pub(super) fn ip_rcv(&mut self, ctx: &mut Ctx, skb: Skb) {
        ctx.stamp_skb(&skb, Stage::IpRcv);
        ctx.charge(ctx.costs.ip_rcv_ns);
        let Some((skb, dst)) = self.ip_rcv_core(ctx, skb) else {
            return;
        };
        let Some(skb) = self.nf_hook(ctx, Hook::Prerouting, skb) else {
            return;
        };
        // ip_route_input_noref
        if self.is_local(dst) {
            self.ip_local_deliver(ctx, skb);
        } else if dst.is_multicast() {
            // No multicast group is joined on eth0: ip_route_input_rcu fails with -EINVAL and
            // ip_rcv_finish_core drops it unspecified, counting nothing.
            self.drop(ctx, skb, DropReason::NotSpecified);
        } else if self.cfg.ip_forward {
            self.ip_forward(ctx, skb);
        } else {
            // ip_error (net/ipv4/route.c) for EHOSTUNREACH with forwarding off:
            // IPSTATS_MIB_INADDRERRORS, SKB_DROP_REASON_IP_INADDRERRORS.
            self.ip.in_addr_errors += 1;
            self.drop(ctx, skb, DropReason::IpInaddrerrors);
        }
    }

    /// `ip_rcv_core` (net/ipv4/ip_input.c), in the kernel's order: a `PACKET_OTHERHOST` frame is dropped
    /// before it is counted; InReceives; the header must be pullable with version 4 and IHL ≥ 5
    /// (`inhdr_error`); the header checksum (`csum_error`: InCsumErrors and InHdrErrors); only then
    /// the total length against the skb (InTruncatedPkts) and the IHL; `pskb_trim_rcsum` drops link
    /// padding. Returns the trimmed skb, network and transport headers set, and its destination.
    fn ip_rcv_core(&mut self, ctx: &mut Ctx, mut skb: Skb) -> Option<(Skb, Ipv4Addr)> {
        if skb.pkt_type == PacketType::OtherHost {
            self.link.rx_otherhost_dropped += 1;
            self.drop(ctx, skb, DropReason::Otherhost);
            return None;
        }
        self.ip.in_receives += 1;
        let data = skb.data();
        let ihl = data.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
        let header_ok = data.len() >= ipv4::HEADER_LEN
            && data[0] >> 4 == 4
            && ihl >= ipv4::HEADER_LEN
            && data.len() >= ihl;
        if !header_ok {
            self.ip.in_hdr_errors += 1;
            self.drop(ctx, skb, DropReason::IpInhdr);
            return None;
        }
        if internet_checksum(&data[..ihl]) != 0 {
            self.ip.in_csum_errors += 1;
            self.ip.in_hdr_errors += 1;
            self.drop(ctx, skb, DropReason::IpCsum);
            return None;
        }
        let total_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
        if skb.len() < total_len {
            self.ip.in_truncated_pkts += 1;
            self.drop(ctx, skb, DropReason::PktTooSmall);
            return None;
        }
        if total_len < ihl {
            self.ip.in_hdr_errors += 1;
            self.drop(ctx, skb, DropReason::IpInhdr);
            return None;
        }
        skb.trim(total_len);
        skb.reset_network_header();
        if skb.set_transport_header(ihl).is_err() {
            self.ip.in_hdr_errors += 1;
            self.drop(ctx, skb, DropReason::IpInhdr);
            return None;
        }
        Some((skb, dst))
    }

    /// `ip_local_deliver`: reassembly, LOCAL_IN, then `ip_local_deliver_finish` /
    /// `ip_protocol_deliver_rcu` strips the IP header and calls the `inet_protos` handler.
    fn ip_local_deliver(&mut self, ctx: &mut Ctx, skb: Skb) {
        ctx.stamp_skb(&skb, Stage::IpLocalDeliver);
        ctx.charge(ctx.costs.ip_local_deliver_ns);
        let is_fragment = Ipv4Packet::new_checked(skb.data()).is_ok_and(|p| p.is_fragment());
        let skb = if is_fragment {
            match self.ip_defrag(ctx, skb) {
                Some(whole) => whole,
                None => return,
            }
        } else {
            skb
        };
        let Some(mut skb) = self.nf_hook(ctx, Hook::Input, skb) else {
            return;
        };
        let Ok((header_len, protocol)) =
            Ipv4Packet::new_checked(skb.data()).map(|p| (p.header_len(), p.protocol()))
        else {
            self.ip.in_hdr_errors += 1;
            return self.drop(ctx, skb, DropReason::IpInhdr);
        };
        match self.inet_protos.0[usize::from(protocol)] {
            Some(handler) => {
                self.ip.in_delivers += 1;
                if skb.pull(header_len).is_err() {
                    return self.drop(ctx, skb, DropReason::PktTooSmall);
                }
                skb.reset_transport_header();
                handler(self, ctx, skb);
            }
            None => {
                self.ip.in_unknown_protos += 1;
                self.icmp_send(ctx, &skb, IcmpError::ProtocolUnreachable);
                self.drop(ctx, skb, DropReason::IpNoproto);
            }
        }
    }

    /// `ip_route_output_flow`: next hop for `dst`, counting `OutNoRoutes` on failure.
    pub(super) fn route_output(&mut self, dst: Ipv4Addr) -> Result<NextHop, SocketError> {
        if self.is_broadcast(dst) {
            return Ok(NextHop {
                addr: dst,
                via_gateway: false,
            });
        }
        self.routes.lookup(dst).ok_or_else(|| {
            self.ip.out_no_routes += 1;
            SocketError::NetUnreachable { dst }
        })
    }

    /// The next IP identification.
    pub(super) fn next_ip_ident(&mut self) -> u16 {
        let id = self.ip_ident;
        self.ip_ident = self.ip_ident.wrapping_add(1);
        id
    }

    /// `__ip_local_out` → `ip_local_out`: prepends and checksums the IP header for `flow`
    /// (data starts at the transport header), runs LOCAL_OUT, then [`Stack::ip_output`]. Returns
    /// what the device queue did (`NET_XMIT_DROP` when the qdisc dropped it).
    pub(super) fn ip_local_out(
        &mut self,
        ctx: &mut Ctx,
        mut skb: Skb,
        flow: OutputFlow,
        nh: NextHop,
    ) -> NetXmit {
        let repr = Ipv4Repr {
            src: flow.src,
            dst: flow.dst,
            protocol: flow.protocol,
            ttl: flow.ttl,
            tos: flow.tos,
            ident: self.next_ip_ident(),
            dont_frag: flow.dont_frag,
            more_frags: false,
            frag_offset: 0,
            payload_len: skb.len(),
        };
        self.ip.out_requests += 1;
        if repr.emit(skb.push(ipv4::HEADER_LEN)).is_err() {
            // Only a payload beyond 65515 bytes gets here; senders check EMSGSIZE first.
            self.ip.out_discards += 1;
            self.drop(ctx, skb, DropReason::PktTooBig);
            return NetXmit::Success;
        }
        skb.reset_network_header();
        skb.protocol = ethertype::IPV4;
        skb.priority = tos_to_priority(flow.tos);
        let Some(skb) = self.nf_hook(ctx, Hook::Output, skb) else {
            return NetXmit::Success;
        };
        self.ip_output(ctx, skb, nh)
    }

    /// `ip_output` → POST_ROUTING → `ip_finish_output`: fragments packets above the MTU, then
    /// `ip_finish_output2` hands each to the neighbour layer. Data starts at the IP header.
    /// Returns the first failure of the fragments' transmissions (`ip_do_fragment`).
    pub(super) fn ip_output(&mut self, ctx: &mut Ctx, skb: Skb, nh: NextHop) -> NetXmit {
        ctx.stamp_skb(&skb, Stage::IpOutput);
        ctx.charge(ctx.costs.ip_output_ns);
        let Some(skb) = self.nf_hook(ctx, Hook::Postrouting, skb) else {
            return NetXmit::Success;
        };
        if skb.len() > self.cfg.mtu {
            let mut ret = NetXmit::Success;
            for frag in self.ip_fragment(ctx, skb) {
                ret = ret.and(self.neigh_output(ctx, frag, nh.addr));
            }
            ret
        } else {
            self.neigh_output(ctx, skb, nh.addr)
        }
    }
}
