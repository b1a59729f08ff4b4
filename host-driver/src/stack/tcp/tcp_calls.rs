//! net/ipv4/tcp.c and af_inet.c: the socket calls on a TCP socket — `socket`, `bind`, `listen`,
//! `accept`, `connect`, `tcp_sendmsg` (copy 1: user data into write-queue skbs), `tcp_recvmsg`
//! (the copy to user, which frees each skb read), `shutdown`, `close` (RST when unread data is
//! left), the options and ioctls, and `tcp_get_info` (`TCP_INFO`, `ss -ti`).
//!
//! Calls never block here: a call that would sleep returns [`SocketError::WouldBlock`] and the
//! caller (an application) sleeps on the socket's [`super::sock::Wait`] until it is woken.

use std::net::SocketAddrV4;

use super::sock::{SockErr, TcpSample, TcpSock, TcpSockId, TcpSockInfo, TcpState, TxSkb};
use super::tcp_input::tcp_window_now;
use super::{consts, tcp_now_us};
use crate::accounting::{Outcome, Stage};
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::stack::socket::SocketError;
use crate::stack::Stack;
use crate::time::Cycle;
use crate::wire::tcp::flags::PSH;

/// `SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// `tcp_sendmsg` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpSendFlags {
    /// `MSG_MORE`: more data follows, hold a partial segment (like `TCP_CORK` for one call).
    pub more: bool,
}

/// The socket options the host's TCP implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpSockOpt {
    /// `SO_RCVBUF` (the kernel doubles the value and locks autotuning).
    RcvBuf(usize),
    SndBuf(usize),
    ReuseAddr(bool),
    NoDelay(bool),
    Cork(bool),
    /// `TCP_MAXSEG`.
    MaxSeg(u16),
}

/// `struct tcp_info` fields (include/uapi/linux/tcp.h) the reports and scripts read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: u8,
    pub ca_state: u8,
    pub retransmits: u32,
    pub probes: u32,
    pub backoff: u32,
    pub rto_us: u64,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    pub unacked: u32,
    pub sacked: u32,
    pub lost: u32,
    pub retrans: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    pub snd_ssthresh: u32,
    pub snd_cwnd: u32,
    pub advmss: u32,
    pub reordering: u32,
    pub total_retrans: u32,
    pub min_rtt_us: u32,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub last_data_recv_ms: u64,
}

impl Stack {
    /// `socket(AF_INET, SOCK_STREAM, 0)`: buffers from `tcp_rmem[1]` / `tcp_wmem[1]`.
    pub fn tcp_socket(&mut self, ctx: &Ctx) -> TcpSockId {
        let (r, w) = (self.cfg.tcp.rmem[1], self.cfg.tcp.wmem[1]);
        let tp = self.tcp_new_sock(ctx, r, w);
        self.tcp.insert(tp)
    }

    /// `inet_bind`: port 0 stays unbound until `listen`/`connect` pick one.
    pub fn tcp_bind(&mut self, sk: TcpSockId, addr: SocketAddrV4) -> Result<(), SocketError> {
        let tp = self.tcp.get(sk).ok_or(SocketError::BadFd)?;
        if tp.local.port() != 0 || tp.state != TcpState::Close {
            return Err(SocketError::InvalidArg);
        }
        if !addr.ip().is_unspecified() && *addr.ip() != self.cfg.address.addr {
            return Err(SocketError::AddrNotAvail { addr: *addr.ip() });
        }
        if addr.port() != 0 && self.tcp.port_in_use(sk, addr, tp.reuseaddr) {
            return Err(SocketError::AddrInUse { addr });
        }
        self.tcp.get_mut(sk).expect("checked").local = addr;
        self.tcp.bind(sk, addr);
        Ok(())
    }

    /// `inet_listen`: LISTEN with a backlog capped at `somaxconn`.
    pub fn tcp_listen(&mut self, sk: TcpSockId, backlog: u32) -> Result<(), SocketError> {
        let somaxconn = self.cfg.tcp.somaxconn;
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        if tp.state != TcpState::Close && tp.state != TcpState::Listen {
            return Err(SocketError::InvalidArg);
        }
        if tp.local.port() == 0 {
            return Err(SocketError::InvalidArg);
        }
        tp.state = TcpState::Listen;
        tp.backlog = backlog.min(somaxconn);
        let port = tp.local.port();
        self.tcp.listen(sk, port);
        Ok(())
    }

    /// `inet_csk_accept`: the oldest established child, or `EAGAIN` (a blocking caller sleeps).
    pub fn tcp_accept(&mut self, sk: TcpSockId) -> Result<TcpSockId, SocketError> {
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        if tp.state != TcpState::Listen {
            return Err(SocketError::InvalidArg);
        }
        let Some(child) = tp.accept_queue.pop_front() else {
            tp.wait.sleep();
            return Err(SocketError::WouldBlock {
                wmem_alloc: 0,
                sndbuf: 0,
            });
        };
        if let Some(c) = self.tcp.get_mut(child) {
            c.parent = None;
        }
        Ok(child)
    }

    /// `connect`: sends the SYN; the connection completes later (`EINPROGRESS`), when the
    /// socket's waiter is woken in ESTABLISHED or with an error.
    pub fn tcp_connect_call(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        remote: SocketAddrV4,
    ) -> Result<(), SocketError> {
        self.tcp_v4_connect(ctx, sk, remote)?;
        self.tcp.get_mut(sk).expect("connected").wait.sleep();
        Ok(())
    }

    /// The result of a connect in progress: `Ok` once established, the socket error, or
    /// `EALREADY`/`EAGAIN` while the handshake runs (`inet_wait_for_connect`).
    pub fn tcp_connect_result(&mut self, sk: TcpSockId) -> Result<(), SocketError> {
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        if let Some(e) = tp.err.take() {
            return Err(e.into());
        }
        match tp.state {
            TcpState::SynSent | TcpState::SynRecv => {
                tp.wait.sleep();
                Err(SocketError::InProgress)
            }
            TcpState::Close => Err(SocketError::ConnRefused),
            _ => Ok(()),
        }
    }

    /// `tcp_sendmsg_locked`: copies `data` into skbs of up to one MSS each (`size_goal` without
    /// TSO), appending to the last unsent skb while it has room (copy 1, charged per byte), while
    /// `sk_wmem_queued` < `sk_sndbuf` (`sk_stream_memory_free`); then `tcp_push`. Returns the bytes
    /// accepted; none with a full buffer is `EAGAIN` (the writer sleeps in `sk_stream_wait_memory`).
    pub fn tcp_sendmsg(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        data: &[u8],
        flags: TcpSendFlags,
    ) -> Result<usize, SocketError> {
        let entered = ctx.now;
        ctx.charge(ctx.costs.sendto_syscall_ns);
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        if let Some(e) = tp.err.take() {
            return Err(e.into());
        }
        if tp.shut_wr || !matches!(tp.state, TcpState::Established | TcpState::CloseWait) {
            return Err(match tp.state {
                TcpState::SynSent | TcpState::SynRecv => SocketError::WouldBlock {
                    wmem_alloc: tp.wmem_queued,
                    sndbuf: tp.sndbuf,
                },
                TcpState::Close | TcpState::Listen if tp.established_at.is_none() => {
                    SocketError::NotConnected
                }
                _ => SocketError::Pipe,
            });
        }
        let mss = Stack::tcp_current_mss(tp) as usize;
        let mut copied = 0;
        while copied < data.len() {
            if tp.wmem_queued >= tp.sndbuf {
                break;
            }
            // Append to the tail skb if it is unsent and below size_goal.
            let room = match tp.write_queue.back() {
                Some(t) if !t.sent && t.flags == 0 && t.payload_len() < mss => {
                    mss - t.payload_len()
                }
                _ => 0,
            };
            let n = if room > 0 { room } else { mss }.min(data.len() - copied);
            let chunk = &data[copied..copied + n];
            if room > 0 {
                let tail = tp.write_queue.back_mut().expect("tail");
                let before = tail.skb.truesize();
                tail.skb.put(n).copy_from_slice(chunk);
                tail.end_seq = tail.end_seq.wrapping_add(n as u32);
                tp.wmem_queued += tail.skb.truesize().saturating_sub(before);
            } else {
                let id = ctx.observer().new_frame_id();
                ctx.trace.stamp(id, Stage::TcpSendmsg, entered);
                // sk_stream_alloc_skb: headroom for every header, room for a full segment.
                let skb = Skb::with_headroom_capacity(id, consts::MAX_TCP_HEADER, chunk, mss);
                tp.wmem_queued += skb.truesize();
                let seq = tp.write_seq;
                tp.write_queue.push_back(TxSkb {
                    seq,
                    end_seq: seq.wrapping_add(n as u32),
                    flags: 0,
                    skb,
                    sacked: 0,
                    tx_time: ctx.now,
                    sent: false,
                    delivered_at_send: 0,
                    delivered_stamp: 0,
                });
            }
            ctx.charge_copy(n);
            tp.write_seq = tp.write_seq.wrapping_add(n as u32);
            copied += n;
        }
        if copied == 0 {
            tp.wait.sleep();
            return Err(SocketError::WouldBlock {
                wmem_alloc: tp.wmem_queued,
                sndbuf: tp.sndbuf,
            });
        }
        ctx.charge(ctx.costs.tcp_sendmsg_ns);
        if !flags.more {
            // tcp_push → tcp_mark_push: the write's last skb carries PSH.
            if let Some(tail) = tp.write_queue.back_mut().filter(|t| !t.sent) {
                tail.flags |= PSH;
            }
        }
        let cork = tp.cork;
        tp.cork = cork || flags.more;
        self.tcp_push_pending_frames(ctx, sk);
        if let Some(tp) = self.tcp.get_mut(sk) {
            tp.cork = cork;
        }
        Ok(copied)
    }

    /// `tcp_recvmsg_locked`: copies up to `max` bytes to the user (the copy is charged), freeing
    /// each skb read to its end (its frame ends [`Outcome::Delivered`], stamped
    /// [`Stage::AppRead`]); `Ok(empty)` at end of stream; `EAGAIN` when nothing is queued (a
    /// blocking reader sleeps until `sk_data_ready`). Then `tcp_rcv_space_adjust` and
    /// `tcp_cleanup_rbuf` (a window update when reading opened the window a lot).
    pub fn tcp_recvmsg(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        max: usize,
    ) -> Result<Vec<u8>, SocketError> {
        ctx.charge(ctx.costs.app_read_ns);
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        let port = tp.local.port();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(head) = tp.receive_queue.front_mut() else {
                break;
            };
            let offset = tp.copied_seq.wrapping_sub(head.seq) as usize;
            let avail = head.skb.len().saturating_sub(offset);
            let n = avail.min(max - out.len());
            out.extend_from_slice(&head.skb.data()[offset..offset + n]);
            tp.copied_seq = tp.copied_seq.wrapping_add(n as u32);
            if offset + n >= head.skb.len() {
                let rx = tp.receive_queue.pop_front().expect("head");
                if rx.fin {
                    tp.copied_seq = tp.copied_seq.wrapping_add(1);
                }
                tp.rmem_alloc = tp.rmem_alloc.saturating_sub(rx.skb.truesize());
                ctx.stamp_skb(&rx.skb, Stage::AppRead);
                Stack::finish(ctx, rx.skb, Outcome::Delivered { port });
                if rx.fin {
                    break;
                }
            }
        }
        ctx.charge_copy(out.len());
        if out.is_empty() {
            if let Some(e) = tp.err.take() {
                return Err(e.into());
            }
            if tp.fin_received || tp.shut_rd || tp.state == TcpState::Close {
                // End of stream: the FIN's sequence number is read too.
                tp.copied_seq = tp.rcv_nxt;
                return Ok(out);
            }
            tp.wait.sleep();
            return Err(SocketError::WouldBlock {
                wmem_alloc: 0,
                sndbuf: 0,
            });
        }
        self.tcp_rcv_space_adjust(ctx, sk);
        self.tcp_cleanup_rbuf(ctx, sk, out.len());
        Ok(out)
    }

    /// `tcp_cleanup_rbuf`: after a read, ACK if one is owed for more than a segment, or if the
    /// window we could now offer is at least twice what the peer sees (`rcv_window_now`).
    fn tcp_cleanup_rbuf(&mut self, ctx: &mut Ctx, sk: TcpSockId, copied: usize) {
        let adv = self.cfg.tcp.adv_win_scale;
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let mut time_to_ack =
            tp.ack.pending && tp.rcv_nxt.wrapping_sub(tp.rcv_wup) > tp.ack.rcv_mss;
        if copied > 0 && !time_to_ack && !tp.fin_received {
            let (now, new) = tcp_window_now(tp, adv);
            if 2 * now <= tp.window_clamp && new != 0 && new >= 2 * now {
                time_to_ack = true;
            }
        }
        if time_to_ack && tp.is_synchronized() {
            self.tcp_send_ack(ctx, sk);
        }
    }

    /// `tcp_shutdown`: `SHUT_WR` sends the FIN (`tcp_close_state`); `SHUT_RD` only marks the socket.
    pub fn tcp_shutdown(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        how: Shutdown,
    ) -> Result<(), SocketError> {
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        if !tp.is_synchronized() && tp.state != TcpState::SynSent {
            return Err(SocketError::NotConnected);
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            tp.shut_rd = true;
            tp.wait.wake(ctx.now);
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) && !tp.shut_wr {
            tp.shut_wr = true;
            if tcp_close_state(tp) {
                self.tcp_send_fin(ctx, sk);
            }
        }
        Ok(())
    }

    /// `tcp_close`: unread data aborts the connection with an RST (RFC 2525, `TCPAbortOnClose`);
    /// otherwise the FIN goes out and TCP finishes the close alone (the socket is orphaned). A
    /// listener's not-yet-accepted children are reset too.
    pub fn tcp_close(&mut self, ctx: &mut Ctx, sk: TcpSockId) -> Result<(), SocketError> {
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        tp.orphan = true;
        tp.shut_rd = true;
        match tp.state {
            TcpState::Listen => {
                let children: Vec<TcpSockId> = tp.accept_queue.drain(..).collect();
                let embryos: Vec<TcpSockId> = self
                    .tcp
                    .ids()
                    .into_iter()
                    .filter(|&c| self.tcp.get(c).is_some_and(|s| s.parent == Some(sk)))
                    .collect();
                for c in children.into_iter().chain(embryos) {
                    self.tcp_send_active_reset(ctx, c);
                    if let Some(t) = self.tcp.get_mut(c) {
                        t.orphan = true;
                    }
                    self.tcp_done(ctx, c);
                }
                self.tcp_done(ctx, sk);
                return Ok(());
            }
            TcpState::Close | TcpState::SynSent => {
                self.tcp_done(ctx, sk);
                return Ok(());
            }
            _ => {}
        }
        let unread = tp.receive_queue.iter().any(|r| {
            let off = tp.copied_seq.wrapping_sub(r.seq) as usize;
            r.skb.len() > off
        });
        if unread {
            self.tcp_ext.tcp_abort_on_close += 1;
            self.tcp_send_active_reset(ctx, sk);
            self.tcp_done(ctx, sk);
            return Ok(());
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.shut_wr = true;
        if tcp_close_state(tp) {
            self.tcp_send_fin(ctx, sk);
        }
        Ok(())
    }

    /// `setsockopt` on a TCP socket.
    pub fn tcp_setsockopt(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        opt: TcpSockOpt,
    ) -> Result<(), SocketError> {
        let (rmem_max, wmem_max) = (self.cfg.rmem_max(), self.cfg.wmem_max());
        let tp = self.tcp.get_mut(sk).ok_or(SocketError::BadFd)?;
        let mut push = false;
        match opt {
            // sock_setsockopt: the value is doubled for bookkeeping overhead, capped by the
            // net.core maxima, and autotuning stops.
            TcpSockOpt::RcvBuf(v) => {
                tp.rcvbuf = (v.min(rmem_max) * 2).max(consts::SOCK_MIN_RCVBUF);
                tp.rcvbuf_locked = true;
            }
            TcpSockOpt::SndBuf(v) => {
                tp.sndbuf = (v.min(wmem_max) * 2).max(consts::SOCK_MIN_SNDBUF);
                tp.sndbuf_locked = true;
            }
            TcpSockOpt::ReuseAddr(b) => tp.reuseaddr = b,
            TcpSockOpt::NoDelay(b) => {
                tp.nodelay = b;
                push = b;
            }
            TcpSockOpt::Cork(b) => {
                tp.cork = b;
                push = !b;
            }
            TcpSockOpt::MaxSeg(m) => {
                if !(consts::TCP_MIN_MSS as u16..=consts::MAX_TCP_WINDOW as u16).contains(&m) {
                    return Err(SocketError::InvalidArg);
                }
                tp.user_mss = m;
            }
        }
        if push && tp.state == TcpState::Established {
            self.tcp_push_pending_frames(ctx, sk);
        }
        Ok(())
    }

    /// `getsockopt(TCP_MAXSEG)`: the current MSS once connected, else the user's or the default.
    pub fn tcp_maxseg(&self, sk: TcpSockId) -> Result<u32, SocketError> {
        let tp = self.tcp.get(sk).ok_or(SocketError::BadFd)?;
        Ok(if tp.is_synchronized() {
            tp.cong.mss_cache
        } else if tp.user_mss > 0 {
            u32::from(tp.user_mss)
        } else {
            consts::TCP_MSS_DEFAULT
        })
    }

    /// `ioctl(SIOCINQ)` and `ioctl(SIOCOUTQ)`.
    pub fn tcp_ioctl_inq_outq(&self, sk: TcpSockId) -> Result<(u32, u32), SocketError> {
        let tp = self.tcp.get(sk).ok_or(SocketError::BadFd)?;
        if tp.state == TcpState::Listen {
            return Err(SocketError::InvalidArg);
        }
        Ok((tp.inq(), tp.outq()))
    }

    /// `getsockopt(TCP_INFO)`.
    pub fn tcp_info(&self, ctx: &Ctx, sk: TcpSockId) -> Result<TcpInfo, SocketError> {
        let tp = self.tcp.get(sk).ok_or(SocketError::BadFd)?;
        let now_us = tcp_now_us(ctx);
        Ok(TcpInfo {
            state: tcp_state_number(tp.state),
            ca_state: tp.cong.ca_state as u8,
            retransmits: tp.retransmits,
            probes: 0,
            backoff: tp.backoff,
            rto_us: tp.rto_us << tp.backoff.min(16),
            snd_mss: tp.cong.mss_cache,
            rcv_mss: tp.ack.rcv_mss,
            unacked: tp.cong.packets_out,
            sacked: tp.sacked_out,
            lost: tp.lost_out,
            retrans: tp.retrans_out,
            rtt_us: tp.cong.srtt_us >> 3,
            rttvar_us: tp.mdev_us >> 2,
            snd_ssthresh: tp.cong.snd_ssthresh,
            snd_cwnd: tp.cong.snd_cwnd,
            advmss: tp.advmss,
            reordering: tp.reordering,
            total_retrans: tp.total_retrans,
            min_rtt_us: tp.min_rtt_us,
            bytes_acked: tp.bytes_acked,
            bytes_received: tp.bytes_received,
            last_data_recv_ms: now_us
                .saturating_sub(ctx.clock.cycles_to_ns_floor(tp.last_data_recv) / 1000)
                / 1000,
        })
    }

    /// `CurrEstab`: sockets in ESTABLISHED or CLOSE_WAIT.
    pub(in crate::stack) fn tcp_curr_estab(&self) -> u64 {
        self.tcp
            .ids()
            .into_iter()
            .filter(|&sk| {
                self.tcp.get(sk).is_some_and(|tp| {
                    matches!(tp.state, TcpState::Established | TcpState::CloseWait)
                })
            })
            .count() as u64
    }

    /// The socket's retransmissions so far.
    pub fn tcp_total_retrans(&self, sk: TcpSockId) -> u32 {
        self.tcp.get(sk).map_or(0, |tp| tp.total_retrans)
    }

    /// The socket's state, for applications.
    pub fn tcp_state(&self, sk: TcpSockId) -> Option<TcpState> {
        self.tcp.get(sk).map(|tp| tp.state)
    }

    /// When a sleeper on `sk` was woken (data, space, connection or error).
    pub fn tcp_woken_at(&self, sk: TcpSockId) -> Option<Cycle> {
        self.tcp.get(sk).and_then(|tp| tp.wait.woken_at)
    }

    /// The woken process runs: its wake-up is consumed.
    pub fn tcp_clear_wakeup(&mut self, sk: TcpSockId) {
        if let Some(tp) = self.tcp.get_mut(sk) {
            tp.wait.woken_at = None;
        }
    }

    /// Every connection's samples over time (closed ones first), named `local → remote`.
    pub fn tcp_flow_samples(&self) -> Vec<(String, Vec<TcpSample>)> {
        let live = self
            .tcp
            .ids()
            .into_iter()
            .filter_map(|sk| self.tcp.get(sk))
            .filter(|tp| !tp.samples.is_empty())
            .map(|tp| (tp.flow_name(), tp.samples.clone()));
        self.tcp
            .closed_samples
            .iter()
            .cloned()
            .chain(live)
            .collect()
    }

    /// `ss -tin` for every socket, live and closed, in creation order.
    pub fn tcp_sockets(&self) -> Vec<TcpSockInfo> {
        let live = self
            .tcp
            .ids()
            .into_iter()
            .filter_map(|sk| self.tcp.get(sk))
            .map(tcp_get_info);
        self.tcp.closed.iter().cloned().chain(live).collect()
    }
}

/// `tcp_close_state`: the state after the application's FIN; true if a FIN must be sent.
fn tcp_close_state(tp: &mut TcpSock) -> bool {
    let (next, fin) = match tp.state {
        TcpState::Established | TcpState::SynRecv => (TcpState::FinWait1, true),
        TcpState::CloseWait => (TcpState::LastAck, true),
        s => (s, false),
    };
    tp.state = next;
    fin
}

/// `TCP_ESTABLISHED` = 1 ... `TCP_CLOSING` = 11 (include/net/tcp_states.h).
fn tcp_state_number(s: TcpState) -> u8 {
    match s {
        TcpState::Established => 1,
        TcpState::SynSent => 2,
        TcpState::SynRecv => 3,
        TcpState::FinWait1 => 4,
        TcpState::FinWait2 => 5,
        TcpState::TimeWait => 6,
        TcpState::Close => 7,
        TcpState::CloseWait => 8,
        TcpState::LastAck => 9,
        TcpState::Listen => 10,
        TcpState::Closing => 11,
    }
}

/// `tcp_get_info` as `ss -ti` prints it.
pub(super) fn tcp_get_info(tp: &TcpSock) -> TcpSockInfo {
    let ms = |us: u64| us as f64 / 1000.0;
    let (bytes, us) = tp.rate_sample;
    TcpSockInfo {
        state: tp.state,
        local: tp.local.to_string(),
        remote: tp.remote.to_string(),
        cwnd: tp.cong.snd_cwnd,
        ssthresh: tp.cong.snd_ssthresh,
        rtt_ms: ms(u64::from(tp.cong.srtt_us >> 3)),
        rttvar_ms: ms(u64::from(tp.mdev_us >> 2)),
        rto_ms: ms(tp.rto_us),
        mss: tp.cong.mss_cache,
        rcv_space: tp.rcvq_space.0 as u32,
        retrans: tp.total_retrans,
        bytes_sent: tp.bytes_sent,
        bytes_acked: tp.bytes_acked,
        bytes_received: tp.bytes_received,
        bytes_retrans: tp.bytes_retrans,
        segs_in: tp.segs_in,
        segs_out: tp.segs_out,
        data_segs_in: tp.data_segs_in,
        data_segs_out: tp.data_segs_out,
        delivery_rate_bps: (bytes * 8 * 1_000_000).checked_div(us).unwrap_or(0),
        rtx_queue_peak_bytes: tp.rtx_bytes_peak,
        rtx_queue_peak_skbs: tp.rtx_skbs_peak,
        congestion_control: tp.ca.name(),
    }
}

impl From<SockErr> for SocketError {
    fn from(e: SockErr) -> SocketError {
        match e {
            SockErr::ConnRefused => SocketError::ConnRefused,
            SockErr::ConnReset => SocketError::ConnReset,
            SockErr::TimedOut => SocketError::TimedOut,
        }
    }
}
