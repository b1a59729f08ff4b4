//! UDP (net/ipv4/udp.c): `udp_rcv` → `__udp4_lib_rcv` (length and checksum checks, socket
//! lookup, `NoPorts` + ICMP port unreachable, `__udp_enqueue_schedule_skb` with the `sk_rcvbuf`
//! limit, `sk_data_ready`), `udp_recvmsg` (copy to user) and `udp_sendmsg` (autobind, route,
//! `sk_sndbuf`, copy from user, header and checksum). Counters are the `Udp:` line of
//! /proc/net/snmp.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use serde::Serialize;

use super::ipv4::{OutputFlow, TX_HEADROOM};
use super::route::NextHop;
use super::socket::{Datagram, SocketError, SocketId};
use super::Stack;
use crate::accounting::{DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::netdevice::NetXmit;
use crate::skb::Skb;
use crate::time::Cycle;
use crate::wire::icmp::IcmpError;
use crate::wire::ipv4::{protocol, Ipv4Packet, MAX_PACKET_LEN};
use crate::wire::udp::{self, UdpPacket, UdpRepr};

/// `CHECKSUM_BREAK` (include/linux/skbuff.h): without a hardware checksum, `udp4_csum_init` →
/// `__skb_checksum_validate_complete` verifies a datagram this short (UDP header included) at once;
/// a longer one is verified when it is read (`udp_recvmsg`).
pub const CHECKSUM_BREAK: usize = 76;

/// Largest UDP payload over IPv4: 65535 − 20 (IP) − 8 (UDP).
pub const MAX_PAYLOAD: usize = MAX_PACKET_LEN - 28;

/// `Udp:` counters of /proc/net/snmp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct UdpCounters {
    /// Datagrams read by applications (the kernel counts in `udp_recvmsg`).
    pub in_datagrams: u64,
    pub no_ports: u64,
    pub in_errors: u64,
    pub out_datagrams: u64,
    pub rcvbuf_errors: u64,
    pub sndbuf_errors: u64,
    pub in_csum_errors: u64,
    /// Broadcast or multicast datagrams no socket wanted (`UDP_MIB_IGNOREDMULTI`).
    pub ignored_multi: u64,
}

/// How a datagram is sent: `MSG_DONTWAIT` (or `O_NONBLOCK`) and the socket's `IP_RECVERR`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendFlags {
    /// A full send buffer fails with `EAGAIN` instead of sleeping.
    pub dontwait: bool,
    /// `IP_RECVERR`: a qdisc drop (`ENOBUFS`) is returned to the caller.
    pub recverr: bool,
}

/// One datagram as `recvfrom` returns it to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub payload: Vec<u8>,
    pub from: SocketAddrV4,
    /// Data copies the packet went through, the copy to user space included.
    pub copies: u32,
}

impl Stack {
    /// `udp_rcv` → `__udp4_lib_rcv`. Data starts at the UDP header; the network header is set.
    pub(super) fn udp_rcv(&mut self, ctx: &mut Ctx, mut skb: Skb) {
        ctx.stamp(skb.id, Stage::UdpRcv);
        ctx.charge(ctx.costs.udp_rcv_ns);
        let Some((src_ip, dst_ip)) = skb
            .network_header()
            .and_then(|h| Ipv4Packet::new_checked(h).ok())
            .map(|ip| (ip.src(), ip.dst()))
        else {
            self.udp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        };
        let (len, ports, csum_ok) = match UdpPacket::new_checked(skb.data()) {
            Ok(u) => (
                u.len(),
                UdpRepr::parse(&u),
                u.verify_checksum(src_ip, dst_ip),
            ),
            Err(_) => {
                // short_packet
                self.udp.in_errors += 1;
                return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooSmall));
            }
        };
        // udp4_csum_init: a checksum the NIC verified (CHECKSUM_UNNECESSARY, e1000_rx_checksum) is
        // not verified again, here or in udp_recvmsg. Without it (CHECKSUM_NONE) only a short datagram
        // is verified here; an unfiltered socket leaves the rest to udp_recvmsg
        // (`udp_lib_checksum_complete` in `udp_queue_rcv_one_skb` runs early only for a socket filter
        // or encapsulation, not modelled).
        let csum_valid = skb.csum_unnecessary || len <= CHECKSUM_BREAK;
        if csum_valid && !skb.csum_unnecessary && !csum_ok {
            // csum_error
            self.udp.in_csum_errors += 1;
            self.udp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::UdpCsum));
        }
        skb.trim(len);
        let from = SocketAddrV4::new(src_ip, ports.src_port);
        let to = SocketAddrV4::new(dst_ip, ports.dst_port);
        if self.is_broadcast(dst_ip) || dst_ip.is_multicast() {
            // RTCF_BROADCAST | RTCF_MULTICAST
            return self.udp4_lib_mcast_deliver(ctx, skb, from, to, csum_valid);
        }
        let Some(sock) = self.sockets.lookup(from, to) else {
            self.udp.no_ports += 1;
            self.icmp_send(ctx, &skb, IcmpError::PortUnreachable);
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NoSocket));
        };
        if skb.pull(udp::HEADER_LEN).is_err() {
            self.udp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooSmall));
        }
        self.udp_queue_rcv_skb(
            ctx,
            sock,
            Datagram {
                skb,
                from,
                csum_valid,
            },
        );
    }

    /// `__udp4_lib_mcast_deliver`: every matching socket gets the datagram, the last one the skb itself
    /// and each other one a clone (`skb_clone`: no copy), which here is a frame of its own so that each
    /// delivery has its one outcome. No socket: `IgnoredMulti`, and no ICMP error.
    fn udp4_lib_mcast_deliver(
        &mut self,
        ctx: &mut Ctx,
        mut skb: Skb,
        from: SocketAddrV4,
        to: SocketAddrV4,
        csum_valid: bool,
    ) {
        let socks = self.sockets.mcast_lookup(from, to);
        let Some((&last, others)) = socks.split_last() else {
            self.udp.ignored_multi += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NoSocket));
        };
        if skb.pull(udp::HEADER_LEN).is_err() {
            self.udp.in_errors += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooSmall));
        }
        for &sock in others {
            let mut clone = skb.clone_skb();
            clone.id = ctx.observer().new_frame_id();
            ctx.stamp(clone.id, Stage::UdpRcv);
            let dgram = Datagram {
                skb: clone,
                from,
                csum_valid,
            };
            self.udp_queue_rcv_skb(ctx, sock, dgram);
        }
        let dgram = Datagram {
            skb,
            from,
            csum_valid,
        };
        self.udp_queue_rcv_skb(ctx, last, dgram);
    }

    /// `udp_queue_rcv_skb` → `__udp_enqueue_schedule_skb` → `sk_data_ready`.
    fn udp_queue_rcv_skb(&mut self, ctx: &mut Ctx, sock: SocketId, dgram: Datagram) {
        ctx.charge(ctx.costs.socket_enqueue_ns);
        let id = dgram.skb.id;
        let s = self.sockets.get_mut(sock);
        match s.enqueue(dgram) {
            Ok(()) => {
                ctx.stamp(id, Stage::SocketEnqueue);
                s.data_ready(ctx.now);
            }
            Err(d) => {
                self.udp.rcvbuf_errors += 1;
                self.udp.in_errors += 1;
                Stack::finish(ctx, d.skb, Outcome::Dropped(DropReason::SocketRcvbuff));
            }
        }
    }

    /// `udp_recvmsg` for up to `batch` datagrams (`recvmmsg`): each is copied to user space,
    /// stamped [`Stage::AppRead`] and ends [`Outcome::Delivered`]. A datagram whose checksum was left
    /// unverified on receive is verified first (`udp_skb_csum_unnecessary` false →
    /// `skb_copy_and_csum_datagram_msg`); a bad one counts InCsumErrors and is dropped.
    pub(super) fn udp_recvmsg(
        &mut self,
        ctx: &mut Ctx,
        sock: SocketId,
        batch: usize,
    ) -> Vec<Received> {
        let port = self.sockets.get(sock).local.port();
        let mut out = Vec::new();
        while out.len() < batch {
            let Some(d) = self.sockets.get_mut(sock).dequeue() else {
                break;
            };
            if !d.csum_valid && !udp_lib_checksum_complete(&d.skb) {
                // csum_copy_err: counted, dropped, and the read goes on with the next datagram.
                self.udp.in_csum_errors += 1;
                self.udp.in_errors += 1;
                Stack::finish(ctx, d.skb, Outcome::Dropped(DropReason::UdpCsum));
                continue;
            }
            let payload = d.skb.data().to_vec();
            ctx.charge_copy(payload.len());
            ctx.stamp(d.skb.id, Stage::AppRead);
            self.udp.in_datagrams += 1;
            let copies = d.skb.copies + 1;
            Stack::finish(ctx, d.skb, Outcome::Delivered { port });
            out.push(Received {
                payload,
                from: d.from,
                copies,
            });
        }
        out
    }

    /// `sendto` on a UDP socket: the system call (its entry stamped [`Stage::SendTo`] on the new
    /// frame), then [`Stack::udp_sendmsg`]. `dst` of `None` uses the connected peer.
    pub(super) fn udp_sendto(
        &mut self,
        ctx: &mut Ctx,
        sock: SocketId,
        dst: Option<SocketAddrV4>,
        payload: &[u8],
        flags: SendFlags,
    ) -> Result<(), SocketError> {
        // The system call is paid whether or not it succeeds; the frame's SendTo stamp is its entry.
        let entered = ctx.now;
        ctx.charge(ctx.costs.sendto_syscall_ns);
        self.udp_sendmsg(ctx, sock, dst, payload, flags, entered)
    }

    /// `udp_sendmsg` for a call that entered the kernel at `entered` (a blocking sender resumes
    /// here after `sock_wait_for_wmem`): autobind, route, `sock_alloc_send_pskb` against
    /// `sk_sndbuf` (full: `EAGAIN`, which a blocking sender sleeps on instead), copy from user,
    /// header, `ip_local_out`. A qdisc drop (`NET_XMIT_DROP` → `ENOBUFS` in `udp_send_skb`) counts
    /// SndbufErrors and IP OutDiscards (`ip_send_skb`), and reaches the caller only with
    /// `IP_RECVERR`; otherwise `udp_send_skb` swallows it and the call succeeds.
    pub(super) fn udp_sendmsg(
        &mut self,
        ctx: &mut Ctx,
        sock: SocketId,
        dst: Option<SocketAddrV4>,
        payload: &[u8],
        flags: SendFlags,
        entered: Cycle,
    ) -> Result<(), SocketError> {
        let dst = dst
            .or(self.sockets.get(sock).remote)
            .ok_or(SocketError::DestAddrRequired)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(SocketError::MsgSize {
                len: payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        self.sockets.autobind(sock)?;
        let nh = self.route_output(*dst.ip())?;
        let src_ip = self.udp_source(sock);
        let s = self.sockets.get(sock);
        // sock_alloc_send_pskb: allocation proceeds while sk_wmem_alloc < sk_sndbuf; else
        // SOCK_NOSPACE and -EAGAIN (a blocking sender then sleeps in sock_wait_for_wmem).
        let wmem = Arc::clone(s.wmem());
        if !wmem.has_room() {
            wmem.set_nospace();
            if flags.dontwait {
                // udp_sendmsg `out:`: -EAGAIN with SOCK_NOSPACE counts UDP_MIB_SNDBUFERRORS.
                self.udp.sndbuf_errors += 1;
            }
            return Err(SocketError::WouldBlock {
                wmem_alloc: wmem.alloc(),
                sndbuf: wmem.sndbuf(),
            });
        }
        let repr = UdpRepr {
            src_port: s.local.port(),
            dst_port: dst.port(),
        };
        let tos = s.tos;
        let id = ctx.observer().new_frame_id();
        ctx.trace.stamp(id, Stage::SendTo, entered);
        ctx.charge(ctx.costs.udp_sendmsg_ns);
        // ip_make_skb + copy_from_user, then udp_send_skb writes the header.
        let mut skb = Skb::with_headroom(id, TX_HEADROOM, payload);
        ctx.charge_copy(payload.len());
        skb.set_owner_w(&wmem);
        skb.push(udp::HEADER_LEN);
        if repr.emit(skb.data_mut(), src_ip, *dst.ip()).is_err() {
            // The length was checked above; only a broken invariant gets here.
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooBig));
            return Err(SocketError::MsgSize {
                len: payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        skb.reset_transport_header();
        let flow = OutputFlow {
            src: src_ip,
            dst: *dst.ip(),
            protocol: protocol::UDP,
            tos,
            ttl: self.cfg.ip_default_ttl,
            dont_frag: false,
        };
        self.udp_send_skb(ctx, skb, flow, nh, flags)
    }

    /// `udp_send_skb` → `ip_send_skb`: OutDatagrams on success; `NET_XMIT_DROP` is `-ENOBUFS`
    /// (`net_xmit_errno`): IP OutDiscards and UDP SndbufErrors, returned only with `IP_RECVERR`.
    fn udp_send_skb(
        &mut self,
        ctx: &mut Ctx,
        skb: Skb,
        flow: OutputFlow,
        nh: NextHop,
        flags: SendFlags,
    ) -> Result<(), SocketError> {
        match self.ip_local_out(ctx, skb, flow, nh) {
            NetXmit::Success => {
                self.udp.out_datagrams += 1;
                Ok(())
            }
            NetXmit::Drop => {
                self.ip.out_discards += 1;
                self.udp.sndbuf_errors += 1;
                if flags.recverr {
                    Err(SocketError::NoBufs)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The source address a socket sends from (its bound address, else eth0's).
    fn udp_source(&self, sock: SocketId) -> Ipv4Addr {
        match *self.sockets.get(sock).local.ip() {
            ip if ip.is_unspecified() => self.cfg.address.addr,
            ip => ip,
        }
    }
}

/// `udp_lib_checksum_complete`: the UDP checksum of the datagram in `skb` (data at the payload; network
/// and transport headers set) against its IPv4 pseudo-header.
fn udp_lib_checksum_complete(skb: &Skb) -> bool {
    let ips = skb
        .network_header()
        .and_then(|h| Ipv4Packet::new_checked(h).ok())
        .map(|ip| (ip.src(), ip.dst()));
    let udp = skb
        .transport_header()
        .and_then(|h| UdpPacket::new_checked(h).ok());
    match (ips, udp) {
        (Some((src, dst)), Some(u)) => u.verify_checksum(src, dst),
        _ => false,
    }
}
