//! ICMP (net/ipv4/icmp.c, ping.c): `icmp_rcv` (echo → `icmp_echo` reply, echo reply →
//! `ping_rcv`, errors counted), `icmp_send` for errors with the kernel's suppression rules and
//! rate limits (`icmp_global_allow`, per-destination `icmpv4_xrlim_allow`), and ping sockets.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::ipv4::{OutputFlow, TX_HEADROOM};
use super::socket::SocketError;
use super::Stack;
use crate::accounting::{Consumer, DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::{PacketType, Skb};
use crate::time::{Clock, Cycle};
use crate::wire::build::Payload;
use crate::wire::icmp::{kind, IcmpError, IcmpPacket, IcmpRepr};
use crate::wire::ipv4::{protocol, Ipv4Packet};

/// `Icmp:` counters of /proc/net/snmp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct IcmpCounters {
    pub in_msgs: u64,
    pub in_errors: u64,
    pub in_csum_errors: u64,
    pub in_dest_unreachs: u64,
    pub in_time_excds: u64,
    pub in_echos: u64,
    pub in_echo_reps: u64,
    pub out_msgs: u64,
    pub out_rate_limit_global: u64,
    pub out_rate_limit_host: u64,
    pub out_dest_unreachs: u64,
    pub out_time_excds: u64,
    pub out_echos: u64,
    pub out_echo_reps: u64,
}

/// `IPTOS_PREC_INTERNETCONTROL`, ORed into the TOS of errors.
const TOS_INTERNETCONTROL: u8 = 0xc0;
/// RFC 1812 4.3.2.3: an error, IP header included, fits in 576 bytes.
const ERROR_MAX_LEN: usize = 576;
/// `XRLIM_BURST_FACTOR`: per-destination burst in units of `icmp_ratelimit`.
const XRLIM_BURST_FACTOR: u64 = 6;
/// `net.ipv4.icmp_ratelimit` default: 1000 ms between errors to one destination.
const ICMP_RATELIMIT_MS: u64 = 1000;

/// The two limits on ICMP errors.
#[derive(Debug, Clone)]
pub struct IcmpRateLimit {
    per_sec: u64,
    burst: u64,
    /// `icmp_global.credit`, and when it was last refilled.
    credit: u64,
    stamp: Cycle,
    cycles_per_sec: u64,
    /// Per-destination token buckets (`inet_peer.rate_tokens`, `rate_last`), in cycles.
    peers: BTreeMap<Ipv4Addr, (u64, Cycle)>,
    peer_interval: u64,
}

impl IcmpRateLimit {
    pub fn new(per_sec: u32, burst: u32, clock: Clock) -> IcmpRateLimit {
        IcmpRateLimit {
            per_sec: per_sec.into(),
            burst: burst.into(),
            credit: burst.into(),
            stamp: 0,
            cycles_per_sec: clock.ns_to_cycles(1_000_000_000),
            peers: BTreeMap::new(),
            peer_interval: clock.ns_to_cycles(ICMP_RATELIMIT_MS * 1_000_000),
        }
    }

    /// `icmp_global_allow`: refills `per_sec` credits per second up to `burst`, spends one.
    fn global_allow(&mut self, now: Cycle) -> bool {
        let refill = (now - self.stamp.min(now)) * self.per_sec / self.cycles_per_sec;
        if refill > 0 {
            self.credit = (self.credit + refill).min(self.burst);
            self.stamp = now;
        }
        if self.credit == 0 {
            return false;
        }
        self.credit -= 1;
        true
    }

    /// `inet_peer_xrlim_allow`: one error per `icmp_ratelimit` to `dst`, bursts of 6.
    fn peer_allow(&mut self, dst: Ipv4Addr, now: Cycle) -> bool {
        let cap = XRLIM_BURST_FACTOR * self.peer_interval;
        // A new peer starts with a full bucket (rate_last long ago).
        let (tokens, last) = self.peers.get(&dst).copied().unwrap_or((cap, now));
        let mut tokens = (tokens + (now - last.min(now))).min(cap);
        let allow = tokens >= self.peer_interval;
        if allow {
            tokens -= self.peer_interval;
        }
        self.peers.insert(dst, (tokens, now));
        allow
    }
}

/// A ping socket (`SOCK_DGRAM`, `IPPROTO_ICMP`) identified by its echo identifier.
#[derive(Debug, Clone, Default)]
pub struct PingSocket {
    /// Send time of each outstanding sequence number.
    outstanding: BTreeMap<u16, Cycle>,
    pub replies: u64,
    pub rtt_min: Option<Cycle>,
    pub rtt_max: Option<Cycle>,
    pub rtt_sum: Cycle,
}

impl Stack {
    /// `icmp_rcv`. Data starts at the ICMP header; the network header is set.
    pub(super) fn icmp_rcv(&mut self, ctx: &mut Ctx, skb: Skb) {
        ctx.stamp(skb.id, Stage::IcmpRcv);
        ctx.charge(ctx.costs.icmp_rcv_ns);
        self.icmp.in_msgs += 1;
        let Ok(p) = IcmpPacket::new_checked(skb.data()) else {
            self.icmp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooSmall));
        };
        if !p.verify_checksum() {
            self.icmp.in_csum_errors += 1;
            self.icmp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IcmpCsum));
        }
        let Some((src, dst, tos)) = skb
            .network_header()
            .and_then(|h| Ipv4Packet::new_checked(h).ok())
            .map(|ip| (ip.src(), ip.dst(), ip.tos()))
        else {
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        };
        let outcome = match IcmpRepr::parse(&p) {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                self.icmp.in_echos += 1;
                // icmp_echo_ignore_broadcasts = 1.
                if !self.is_broadcast(dst) && skb.pkt_type == PacketType::Host {
                    let reply = IcmpRepr::EchoReply { ident, seq, data };
                    self.icmp_push(ctx, &reply, src, tos);
                }
                Outcome::Consumed(Consumer::IcmpEcho)
            }
            IcmpRepr::EchoReply { ident, seq, .. } => {
                self.icmp.in_echo_reps += 1;
                self.ping_rcv(ctx.now, ident, seq)
            }
            IcmpRepr::DestUnreachable { .. } => {
                self.icmp.in_dest_unreachs += 1;
                Outcome::Consumed(Consumer::Icmp)
            }
            IcmpRepr::TimeExceeded { .. } => {
                self.icmp.in_time_excds += 1;
                Outcome::Consumed(Consumer::Icmp)
            }
            IcmpRepr::Other { .. } => Outcome::Consumed(Consumer::Icmp),
        };
        Stack::finish(ctx, skb, outcome)
    }

    /// `ping_rcv`: an echo reply for one of our ping sockets records its round trip.
    fn ping_rcv(&mut self, now: Cycle, ident: u16, seq: u16) -> Outcome {
        let Some(sock) = self.ping_socks.get_mut(&ident) else {
            return Outcome::Consumed(Consumer::Icmp);
        };
        let Some(sent) = sock.outstanding.remove(&seq) else {
            return Outcome::Consumed(Consumer::Icmp);
        };
        let rtt = now - sent;
        sock.replies += 1;
        sock.rtt_sum += rtt;
        sock.rtt_min = Some(sock.rtt_min.map_or(rtt, |m| m.min(rtt)));
        sock.rtt_max = Some(sock.rtt_max.map_or(rtt, |m| m.max(rtt)));
        Outcome::Consumed(Consumer::Ping)
    }

    /// `icmp_push_reply`: builds `msg` as a new frame to `dst` and sends it. Returns false if
    /// there is no route.
    fn icmp_push(&mut self, ctx: &mut Ctx, msg: &IcmpRepr<'_>, dst: Ipv4Addr, tos: u8) -> bool {
        let Ok(nh) = self.route_output(dst) else {
            return false;
        };
        let mut bytes = vec![0; msg.buffer_len()];
        if msg.emit(&mut bytes).is_err() {
            return false;
        }
        let skb = Skb::with_headroom(ctx.observer().new_frame_id(), TX_HEADROOM, &bytes);
        ctx.charge_copy(bytes.len());
        self.icmp.out_msgs += 1;
        match msg {
            IcmpRepr::EchoRequest { .. } => self.icmp.out_echos += 1,
            IcmpRepr::EchoReply { .. } => self.icmp.out_echo_reps += 1,
            IcmpRepr::DestUnreachable { .. } => self.icmp.out_dest_unreachs += 1,
            IcmpRepr::TimeExceeded { .. } => self.icmp.out_time_excds += 1,
            IcmpRepr::Other { .. } => {}
        }
        let flow = OutputFlow {
            src: self.cfg.address.addr,
            dst,
            protocol: protocol::ICMP,
            tos,
            ttl: self.cfg.ip_default_ttl,
            dont_frag: false,
        };
        self.ip_local_out(ctx, skb, flow, nh);
        true
    }

    /// `icmp_send` (`__icmp_send`): reports `error` about `offending` (network header set) to
    /// its sender, unless the kernel would stay silent: the packet was not unicast to us, was a
    /// non-first fragment or itself an ICMP error, came from a non-unicast source, or a rate
    /// limit says no.
    pub(super) fn icmp_send(&mut self, ctx: &mut Ctx, offending: &Skb, error: IcmpError) {
        let Some(ip) = offending
            .network_header()
            .and_then(|h| Ipv4Packet::new_checked(h).ok())
        else {
            return;
        };
        if offending.pkt_type != PacketType::Host
            || self.is_broadcast(ip.dst())
            || ip.dst().is_multicast()
            || ip.frag_offset() != 0
        {
            return;
        }
        let src = ip.src();
        if src.is_unspecified()
            || src.is_broadcast()
            || src.is_multicast()
            || self.is_broadcast(src)
        {
            return;
        }
        if ip.protocol() == protocol::ICMP {
            let is_error = IcmpPacket::new_checked(ip.payload())
                .is_ok_and(|p| !matches!(p.icmp_type(), kind::ECHO_REQUEST | kind::ECHO_REPLY));
            if is_error {
                return;
            }
        }
        if !self.icmp_limit.global_allow(ctx.now) {
            self.icmp.out_rate_limit_global += 1;
            return;
        }
        if !self.icmp_limit.peer_allow(src, ctx.now) {
            self.icmp.out_rate_limit_host += 1;
            return;
        }
        let whole = offending.network_header().unwrap_or_default();
        let room = ERROR_MAX_LEN - crate::wire::ipv4::HEADER_LEN - crate::wire::icmp::HEADER_LEN;
        let original = &whole[..whole.len().min(room).min(ip.total_len())];
        let msg = error.repr(original);
        let tos = (ip.tos() & 0x1e) | TOS_INTERNETCONTROL;
        self.icmp_push(ctx, &msg, src, tos);
    }

    /// Creates the ping socket for echo identifier `ident`.
    pub(super) fn ping_socket(&mut self, ident: u16) {
        self.ping_socks.insert(ident, PingSocket::default());
    }

    /// The ping socket of `ident`.
    pub(super) fn ping_sock(&self, ident: u16) -> Option<&PingSocket> {
        self.ping_socks.get(&ident)
    }

    /// `sendto` on a ping socket (`ping_v4_sendmsg`): an echo request with `size` data bytes to
    /// `dst`. The frame is stamped [`Stage::SendTo`] when the system call enters.
    pub(super) fn ping_sendmsg(
        &mut self,
        ctx: &mut Ctx,
        ident: u16,
        seq: u16,
        dst: Ipv4Addr,
        size: usize,
    ) -> Result<(), SocketError> {
        let entered = ctx.now;
        ctx.charge(ctx.costs.sendto_syscall_ns);
        let nh = self.route_output(dst)?;
        let payload = Payload::Len(size);
        let data = payload.bytes();
        let msg = IcmpRepr::EchoRequest {
            ident,
            seq,
            data: &data,
        };
        let mut bytes = vec![0; msg.buffer_len()];
        msg.emit(&mut bytes).map_err(|_| SocketError::MsgSize {
            len: size,
            max: crate::wire::ipv4::MAX_PACKET_LEN - 28,
        })?;
        let id = ctx.observer().new_frame_id();
        ctx.trace.stamp(id, Stage::SendTo, entered);
        let skb = Skb::with_headroom(id, TX_HEADROOM, &bytes);
        ctx.charge_copy(bytes.len());
        if let Some(sock) = self.ping_socks.get_mut(&ident) {
            sock.outstanding.insert(seq, ctx.now);
        }
        self.icmp.out_msgs += 1;
        self.icmp.out_echos += 1;
        let flow = OutputFlow {
            src: self.cfg.address.addr,
            dst,
            protocol: protocol::ICMP,
            tos: 0,
            ttl: self.cfg.ip_default_ttl,
            dont_frag: false,
        };
        self.ip_local_out(ctx, skb, flow, nh);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_limit_refills_per_second_up_to_burst() {
        let clock = Clock::default();
        let sec = clock.ns_to_cycles(1_000_000_000);
        let mut l = IcmpRateLimit::new(10, 3, clock);
        assert!((0..3).all(|_| l.global_allow(0)));
        assert!(!l.global_allow(0));
        assert!(l.global_allow(sec / 10), "one credit after 100 ms");
        assert!(!l.global_allow(sec / 10));
        assert_eq!(
            (0..10).filter(|_| l.global_allow(10 * sec)).count(),
            3,
            "capped at burst"
        );
    }

    #[test]
    fn per_destination_limit_bursts_six_then_one_per_interval() {
        let clock = Clock::default();
        let sec = clock.ns_to_cycles(1_000_000_000);
        let mut l = IcmpRateLimit::new(1000, 50, clock);
        let a = Ipv4Addr::new(10, 0, 0, 2);
        let b = Ipv4Addr::new(10, 0, 0, 3);
        assert_eq!((0..10).filter(|_| l.peer_allow(a, 0)).count(), 6);
        assert!(l.peer_allow(b, 0), "separate bucket per destination");
        assert!(!l.peer_allow(a, sec / 2));
        assert!(l.peer_allow(a, sec + sec / 2));
    }
}
