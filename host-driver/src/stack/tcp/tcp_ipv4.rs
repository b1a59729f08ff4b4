//! net/ipv4/tcp_ipv4.c: `tcp_v4_rcv` (checksum, header, ehash then listener lookup, RST for no
//! socket, TIME_WAIT), `tcp_v4_conn_request` for a SYN on a listener, and `tcp_v4_connect`.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use super::sock::{AckState, Rack, RxOpt, TcpSock, TcpSockId, TcpState, Wait};
use super::sysctl::TcpSysctl;
use super::tcp_cong::{tcp_ca_find, CongState};
use super::tcp_input::{tcp_init_from_syn, tcp_sync_mss};
use super::tcp_output::{tcp_full_space, tcp_select_initial_window};
use super::{consts, tcp_now_us, Segment};
use crate::accounting::{Consumer, DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::{Skb, SockWmem};
use crate::stack::socket::SocketError;
use crate::stack::Stack;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::tcp::{flags, TcpPacket, TcpRepr};

impl Stack {
    /// `tcp_v4_rcv`: data starts at the TCP header, the network header is set.
    pub(in crate::stack) fn tcp_v4_rcv(&mut self, ctx: &mut Ctx, mut skb: Skb) {
        ctx.stamp_skb(&skb, Stage::TcpV4Rcv);
        ctx.charge(ctx.costs.tcp_v4_rcv_ns);
        self.tcp_mib.in_segs += 1;
        let Some((src_ip, dst_ip)) = skb
            .network_header()
            .and_then(|h| Ipv4Packet::new_checked(h).ok())
            .map(|ip| (ip.src(), ip.dst()))
        else {
            self.tcp_mib.in_errs += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpInhdr));
        };
        let parsed = TcpPacket::new_checked(skb.data()).map(|p| {
            let csum_ok = skb.csum_unnecessary || p.verify_checksum(src_ip, dst_ip);
            (
                TcpRepr::parse(&p),
                p.header_len(),
                p.payload().len(),
                p.seq_len(),
                csum_ok,
            )
        });
        let Ok((th, hlen, payload_len, seq_len, csum_ok)) = parsed else {
            self.tcp_mib.in_errs += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::PktTooSmall));
        };
        if !csum_ok {
            // csum_error: InCsumErrors and InErrs.
            self.tcp_mib.in_csum_errors += 1;
            self.tcp_mib.in_errs += 1;
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::TcpCsum));
        }
        if self.is_broadcast(dst_ip) || dst_ip.is_multicast() {
            return Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
        }
        let _ = skb.pull(hlen);
        let local = SocketAddrV4::new(dst_ip, th.dst_port);
        let remote = SocketAddrV4::new(src_ip, th.src_port);
        let seg = Segment {
            th,
            payload_len: payload_len as u32,
            seq_len,
            local,
            remote,
            skb,
        };
        let Some(sk) = self.tcp.lookup(local, remote) else {
            // no_tcp_socket: RST unless the segment is itself an RST.
            self.tcp_v4_send_reset(ctx, local, remote, &seg.th, seg.seq_len);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::NoSocket));
        };
        let tp = self.tcp.get_mut(sk).expect("looked up");
        tp.segs_in += 1;
        match tp.state {
            TcpState::Listen => self.tcp_v4_conn_request(ctx, sk, seg),
            TcpState::TimeWait => self.tcp_timewait_state_process(ctx, sk, seg),
            _ => self.tcp_rcv_state_process(ctx, sk, seg),
        }
    }

    /// `tcp_rcv_state_process` in LISTEN → `tcp_v4_conn_request` → `tcp_conn_request`: a SYN makes
    /// a new socket in SYN_RECV (Linux's request sock, here a full socket) which answers with a
    /// SYN-ACK. A full accept queue drops the SYN (`ListenOverflows`, `ListenDrops`).
    fn tcp_v4_conn_request(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        let th = &seg.th;
        if th.flags & flags::RST != 0 {
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpReset));
        }
        if th.flags & flags::ACK != 0 {
            // An ACK to a listener with no request: RST (tcp_v4_do_rcv → tcp_v4_send_reset).
            self.tcp_v4_send_reset(ctx, seg.local, seg.remote, &seg.th, seg.seq_len);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpFlags));
        }
        if th.flags & flags::SYN == 0 || th.flags & flags::FIN != 0 {
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpFlags));
        }
        let listener = self.tcp.get(sk).expect("listener");
        let pending = self
            .tcp
            .ids()
            .into_iter()
            .filter(|&i| {
                self.tcp
                    .get(i)
                    .is_some_and(|s| s.parent == Some(sk) && s.state == TcpState::SynRecv)
            })
            .count() as u32;
        if listener.accept_queue.len() as u32 >= listener.backlog
            || pending >= self.cfg.tcp.max_syn_backlog
        {
            self.tcp_ext.listen_overflows += 1;
            self.tcp_ext.listen_drops += 1;
            return Stack::finish(
                ctx,
                seg.skb,
                Outcome::Dropped(DropReason::TcpListenOverflow),
            );
        }
        let (rcvbuf, sndbuf, nodelay, user_mss) = (
            listener.rcvbuf,
            listener.sndbuf,
            listener.nodelay,
            listener.user_mss,
        );
        let mut child = self.tcp_new_sock(ctx, rcvbuf, sndbuf);
        child.state = TcpState::SynRecv;
        child.local = seg.local;
        child.remote = seg.remote;
        child.parent = Some(sk);
        child.nodelay = nodelay;
        child.user_mss = user_mss;
        child.iss = self.secure_tcp_seq(seg.local, seg.remote, ctx);
        child.tsoffset = self.secure_tcp_ts_off(seg.local, seg.remote);
        child.cong.snd_una = child.iss;
        child.cong.snd_nxt = child.iss;
        child.write_seq = child.iss;
        tcp_init_from_syn(&mut child, &seg, &self.cfg.tcp);
        let mtu_mss = self.tcp_mtu_to_mss();
        tcp_init_rcv_side(&mut child, mtu_mss, &self.cfg.tcp);
        tcp_sync_mss(&mut child, mtu_mss);
        let child = self.tcp.insert(child);
        self.tcp.hash(child);
        self.tcp_mib.passive_opens += 1;
        ctx.stamp_skb(&seg.skb, Stage::TcpRcvEstablished);
        Stack::finish(ctx, seg.skb, Outcome::Consumed(Consumer::Tcp));
        self.tcp_send_synack(ctx, child);
    }

    /// `tcp_timewait_state_process`: a retransmitted FIN is ACKed again (restarting TIME_WAIT), a
    /// new SYN above the old sequence space may reopen the port (here: dropped; see docs/tcp.md),
    /// an RST kills the TIME_WAIT socket (RFC 1337 off, as Linux's default), anything else gets an ACK.
    fn tcp_timewait_state_process(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        let tw_len = ctx.clock.ns_to_cycles(consts::TCP_TIMEWAIT_LEN_US * 1000);
        let tp = self.tcp.get_mut(sk).expect("time-wait");
        if seg.th.flags & flags::RST != 0 {
            self.tcp_ext.tcp_timewait_killed += 1;
            self.tcp_destroy_sock(sk);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpReset));
        }
        if seg.th.flags & flags::FIN != 0 {
            tp.tw_deadline = Some(ctx.now + tw_len);
        }
        self.tcp_send_ack(ctx, sk);
        Stack::finish(
            ctx,
            seg.skb,
            Outcome::Dropped(DropReason::TcpTimewaitSocket),
        );
    }

    /// `tcp_v4_connect`: autobind, ISN (`secure_tcp_seq`), SYN_SENT, then `tcp_connect` sends the SYN.
    pub(in crate::stack) fn tcp_v4_connect(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        remote: SocketAddrV4,
    ) -> Result<(), SocketError> {
        self.route_output(*remote.ip())?;
        let tp = self.tcp.get(sk).ok_or(SocketError::BadFd)?;
        if tp.state != TcpState::Close || tp.remote.port() != 0 {
            return Err(SocketError::IsConnected);
        }
        let mut local = tp.local;
        if local.ip().is_unspecified() {
            local.set_ip(self.cfg.address.addr);
        }
        if local.port() == 0 {
            local.set_port(self.tcp_ephemeral_port(sk, *local.ip(), remote)?);
        }
        let iss = self.secure_tcp_seq(local, remote, ctx);
        let tsoff = self.secure_tcp_ts_off(local, remote);
        let mtu_mss = self.tcp_mtu_to_mss();
        let tp = self.tcp.get_mut(sk).expect("checked");
        tp.local = local;
        tp.remote = remote;
        tp.state = TcpState::SynSent;
        tp.iss = iss;
        tp.tsoffset = tsoff;
        tp.cong.snd_una = iss;
        tp.cong.snd_nxt = iss;
        tp.write_seq = iss;
        tp.rx_opt.mss_clamp = consts::TCP_MSS_DEFAULT as u16;
        tcp_init_rcv_side(tp, mtu_mss, &self.cfg.tcp);
        tcp_sync_mss(tp, mtu_mss);
        self.tcp.hash(sk);
        self.tcp_connect(ctx, sk);
        Ok(())
    }

    /// `__inet_hash_connect`: the first free port of `ip_local_port_range` for this 4-tuple.
    fn tcp_ephemeral_port(
        &mut self,
        sk: TcpSockId,
        ip: Ipv4Addr,
        remote: SocketAddrV4,
    ) -> Result<u16, SocketError> {
        let (lo, hi) = self.cfg.ip_local_port_range;
        let span = u32::from(hi - lo) + 1;
        for step in 0..span {
            let port = lo + ((u32::from(self.tcp_port_cursor - lo) + step) % span) as u16;
            let local = SocketAddrV4::new(ip, port);
            if !self.tcp.port_in_use(sk, local, false)
                && self.tcp.lookup_exact(local, remote).is_none()
            {
                self.tcp_port_cursor = if port == hi { lo } else { port + 1 };
                return Ok(port);
            }
        }
        Err(SocketError::NoEphemeralPort { lo, hi })
    }

    /// `tcp_init_sock` + `sk_alloc`: a closed socket with the default buffers.
    pub(super) fn tcp_new_sock(&self, ctx: &Ctx, rcvbuf: usize, sndbuf: usize) -> TcpSock {
        let mss = consts::TCP_MSS_DEFAULT;
        let ca = tcp_ca_find(&self.cfg.tcp.congestion_control)
            .unwrap_or_else(|| tcp_ca_find("reno").expect("reno is built in"));
        let unset = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        TcpSock {
            state: TcpState::Close,
            local: unset,
            remote: unset,
            parent: None,
            accept_queue: VecDeque::new(),
            backlog: 0,
            orphan: false,
            iss: 0,
            snd_wnd: 0,
            snd_wl1: 0,
            max_window: 0,
            write_seq: 0,
            write_queue: VecDeque::new(),
            wmem_queued: 0,
            sndbuf,
            wmem: Arc::new(SockWmem::new(sndbuf)),
            fin_queued: false,
            tsq_throttled: false,
            irs: 0,
            rcv_nxt: 0,
            rcv_wnd: 0,
            rcv_wup: 0,
            copied_seq: 0,
            rcv_ssthresh: 0,
            window_clamp: 0,
            rcvbuf,
            rmem_alloc: 0,
            receive_queue: VecDeque::new(),
            ofo: BTreeMap::new(),
            ofo_last: None,
            dsack: None,
            rcvq_space: (0, 0, ctx.now),
            fin_received: false,
            rx_opt: RxOpt {
                mss_clamp: mss as u16,
                ..RxOpt::default()
            },
            advmss: mss,
            user_mss: 0,
            tsoffset: 0,
            mdev_us: 0,
            mdev_max_us: 0,
            rttvar_us: 0,
            rtt_seq: 0,
            min_rtt_us: 0,
            rto_us: consts::TCP_TIMEOUT_INIT_US,
            backoff: 0,
            retransmits: 0,
            total_retrans: 0,
            timer: None,
            retrans_stamp: None,
            sacked_out: 0,
            lost_out: 0,
            retrans_out: 0,
            high_seq: 0,
            reordering: self.cfg.tcp.reordering,
            prr_delivered: 0,
            prr_out: 0,
            prior_ssthresh: 0,
            undo_marker: None,
            rack: Rack::default(),
            tlp_high_seq: None,
            cong: CongState::new(mss, tcp_now_us(ctx)),
            ca,
            ack: AckState::default(),
            nodelay: false,
            cork: false,
            reuseaddr: false,
            shut_rd: false,
            shut_wr: false,
            err: None,
            wait: Wait::default(),
            rcvbuf_locked: false,
            sndbuf_locked: false,
            segs_in: 0,
            segs_out: 0,
            data_segs_in: 0,
            data_segs_out: 0,
            bytes_acked: 0,
            bytes_received: 0,
            bytes_sent: 0,
            bytes_retrans: 0,
            delivered: 0,
            delivered_bytes: 0,
            last_data_recv: 0,
            rate_sample: (0, 0),
            rtx_bytes_peak: 0,
            rtx_skbs_peak: 0,
            tw_deadline: None,
            syn_retrans: 0,
            established_at: None,
            samples: Vec::new(),
        }
    }

    /// `secure_tcp_seq`: a keyed hash of the 4-tuple plus a 64 ns clock (`ktime_get_real_ns() >> 6`),
    /// keyed here by the scenario seed so runs are deterministic.
    pub(super) fn secure_tcp_seq(
        &self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        ctx: &Ctx,
    ) -> u32 {
        let h = tuple_hash(self.seed, local, remote);
        let ns = ctx.clock.cycles_to_ns_floor(ctx.now);
        (h as u32).wrapping_add((ns >> 6) as u32)
    }

    /// `secure_tcp_ts_off`: the per-connection timestamp offset (`tcp_timestamps` = 1).
    pub(super) fn secure_tcp_ts_off(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        (tuple_hash(self.seed ^ 0x7473_6f66, local, remote) >> 32) as u32
    }
}

/// `tcp_select_initial_window` and the buffer sizes a new connection starts with
/// (`tcp_init_buffer_space`): the MSS we announce, `window_clamp` from the largest buffer.
fn tcp_init_rcv_side(tp: &mut TcpSock, mtu_mss: u32, t: &TcpSysctl) {
    tp.advmss = mtu_mss;
    if tp.user_mss > 0 {
        tp.advmss = tp.advmss.min(u32::from(tp.user_mss));
    }
    tp.ack.rcv_mss = tp.advmss.min(consts::TCP_MSS_DEFAULT);
    tp.window_clamp = tcp_full_space(t.rmem[2].max(tp.rcvbuf), t.adv_win_scale);
    tcp_select_initial_window(t, tp);
}

/// SplitMix64 over the 4-tuple and a key: the stand-in for the kernel's siphash with a boot secret.
fn tuple_hash(key: u64, local: SocketAddrV4, remote: SocketAddrV4) -> u64 {
    let mut x = key
        ^ (u64::from(u32::from(*local.ip())) << 32 | u64::from(u32::from(*remote.ip())))
        ^ (u64::from(local.port()) << 16 | u64::from(remote.port())).rotate_left(40);
    for _ in 0..2 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x = z ^ (z >> 31);
    }
    x
}
