//! net/ipv4/tcp_output.c: segments leave through `tcp_write_xmit` → `tcp_transmit_skb`, which
//! sends a clone of the write-queue skb (the original stays for retransmission) down
//! `ip_queue_xmit`; ACKs, SYN/SYN-ACKs, FINs, RSTs, window probes and loss probes are built here.

use std::net::SocketAddrV4;

use super::sock::{sacked, TcpSock, TcpSockId, TcpState, TimerKind, TxSkb};
use super::sysctl::TcpSysctl;
use super::tcp_cong::{CaEvent, CaState};
use super::{consts, tcp_now_us, tcp_time_stamp};
use crate::accounting::{DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::netdevice::NetXmit;
use crate::skb::Skb;
use crate::stack::ipv4::OutputFlow;
use crate::stack::Stack;
use crate::time::Cycle;
use crate::wire::ipv4::protocol;
use crate::wire::tcp::{after, before, flags, TcpOptions, TcpRepr, MAX_SACK_BLOCKS};

/// IP + TCP headers without options.
pub const TCP_IP_HEADERS: u32 = 40;

/// What one call of [`Stack::tcp_transmit_skb`] sends.
enum Xmit {
    /// Write-queue skb at this index; `retrans` for a retransmission.
    Queued { idx: usize, retrans: bool },
    /// A segment without data of its own: pure ACK, RST or window probe.
    Control { seq: u32, flags: u8 },
}

impl Stack {
    /// `tcp_mtu_to_mss`: the route MTU less IP and TCP headers, never below 48 (`TCP_MIN_SND_MSS`
    /// less options).
    pub(super) fn tcp_mtu_to_mss(&self) -> u32 {
        (self.cfg.mtu as u32).saturating_sub(TCP_IP_HEADERS).max(48)
    }

    /// `tcp_current_mss`: the MSS less the options every segment carries (timestamps: 12).
    pub(super) fn tcp_current_mss(tp: &TcpSock) -> u32 {
        let opts = if tp.rx_opt.tstamp_ok { 12 } else { 0 };
        tp.cong.mss_cache.saturating_sub(opts).max(1)
    }

    /// `__tcp_transmit_skb` + `ip_queue_xmit`: builds the header for `what` and sends it. A data
    /// segment goes down as a clone (`skb_clone`, no data copy) of the write-queue original: the
    /// first transmission under the original's frame id (it ends when the original is freed at the
    /// ACK), a retransmission as a frame of its own. Returns what the device queue did.
    fn tcp_transmit_skb(&mut self, ctx: &mut Ctx, sk: TcpSockId, what: Xmit) -> NetXmit {
        let now_us = tcp_now_us(ctx);
        let sysctl = &self.cfg.tcp;
        let Some(tp) = self.tcp.get_mut(sk) else {
            return NetXmit::Success;
        };
        tp.cong.now_us = now_us;
        let tsval = tcp_time_stamp(ctx, tp.tsoffset);
        let (src, dst) = (tp.local, tp.remote);
        let (seq, seg_flags, mut skb) = match what {
            Xmit::Queued { idx, retrans } => {
                let seg = &mut tp.write_queue[idx];
                let mut clone = seg.skb.clone_nohdr();
                if retrans || seg.sent {
                    clone.id = ctx.observer().new_frame_id();
                    ctx.stamp(clone.id, Stage::TcpRetransmitSkb);
                } else {
                    // SKB_FCLONE_CLONE: the original on the retransmit queue ends this frame.
                    clone.fclone = true;
                    ctx.stamp(clone.id, Stage::TcpTransmitSkb);
                }
                seg.tx_time = ctx.now;
                seg.sent = true;
                (seg.seq, seg.flags, clone)
            }
            Xmit::Control { seq, flags } => {
                let id = ctx.observer().new_frame_id();
                ctx.stamp(id, Stage::TcpTransmitSkb);
                (seq, flags, Skb::alloc(id, consts::MAX_TCP_HEADER, 0))
            }
        };
        let syn = seg_flags & flags::SYN != 0;
        // Every segment but the active opener's SYN and its RSTs carries an ACK.
        let mut tcp_flags = seg_flags;
        if tp.state != TcpState::SynSent {
            tcp_flags |= flags::ACK;
        }
        let (options, window) = if syn {
            // RFC 7323 2.2: the window of a SYN is never scaled.
            (
                tcp_syn_options(sysctl, tp, tsval),
                tp.rcv_wnd.min(65535) as u16,
            )
        } else {
            let opts = tcp_established_options(tp, tsval);
            let old = tp.rcv_wnd;
            let w = tcp_select_window(tp, sysctl.adv_win_scale);
            // tcp_select_window's MIB: the advertised window closes or reopens.
            if w == 0 && old != 0 {
                self.tcp_ext.tcp_to_zero_window_adv += 1;
            } else if w != 0 && old == 0 {
                self.tcp_ext.tcp_from_zero_window_adv += 1;
            }
            (opts, w)
        };
        let ack_seq = if tcp_flags & flags::ACK != 0 {
            tp.rcv_nxt
        } else {
            0
        };
        let repr = TcpRepr {
            src_port: src.port(),
            dst_port: dst.port(),
            seq,
            ack_seq,
            flags: tcp_flags,
            window,
            options,
        };
        if tcp_flags & flags::ACK != 0 {
            tcp_event_ack_sent(tp);
        }
        tp.data_segs_out += u64::from(!skb.is_empty());
        tp.segs_out += 1;
        self.tcp_mib.out_segs += 1;
        ctx.charge(ctx.costs.tcp_transmit_skb_ns);
        skb.push(repr.header_len());
        if repr.emit(skb.data_mut(), *src.ip(), *dst.ip()).is_err() {
            // Headers are bounded by construction; only a broken invariant gets here.
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
            return NetXmit::Drop;
        }
        skb.reset_transport_header();
        self.ip_queue_xmit(ctx, sk, skb)
    }

    /// `ip_queue_xmit`: route, then `ip_local_out` with DF set (path MTU discovery is on,
    /// `IP_PMTUDISC_WANT`). The clone is charged to `sk_wmem_alloc` (`skb_set_owner_w` with
    /// `tcp_wfree`), which TSQ watches.
    fn ip_queue_xmit(&mut self, ctx: &mut Ctx, sk: TcpSockId, mut skb: Skb) -> NetXmit {
        ctx.stamp(skb.id, Stage::IpQueueXmit);
        let Some(tp) = self.tcp.get(sk) else {
            return NetXmit::Success;
        };
        let (src, dst) = (*tp.local.ip(), *tp.remote.ip());
        skb.set_owner_w(&tp.wmem.clone());
        let Ok(nh) = self.route_output(dst) else {
            self.ip.out_no_routes += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpOutnoroutes));
            return NetXmit::Drop;
        };
        let flow = OutputFlow {
            src,
            dst,
            protocol: protocol::TCP,
            tos: 0,
            ttl: self.cfg.ip_default_ttl,
            dont_frag: true,
        };
        self.ip_local_out(ctx, skb, flow, nh)
    }

    /// `tcp_write_xmit`: sends queued skbs while cwnd (`tcp_cwnd_test`), the peer's window
    /// (`tcp_snd_wnd_test`), Nagle and cork (`tcp_nagle_test`) and TSQ (`tcp_small_queue_check`)
    /// allow. `push_one` sends at most one (a loss probe). Returns whether nothing could be sent
    /// although data waits.
    pub(super) fn tcp_write_xmit(&mut self, ctx: &mut Ctx, sk: TcpSockId, push_one: bool) -> bool {
        let mut sent = 0;
        loop {
            let Some(tp) = self.tcp.get_mut(sk) else {
                return false;
            };
            let Some(idx) = tp.send_head() else {
                break;
            };
            let seg_len = tp.write_queue[idx].len();
            let is_fin = tp.write_queue[idx].flags & flags::FIN != 0;
            let in_flight = tp.in_flight();
            if in_flight >= tp.cong.snd_cwnd {
                tp.cong.is_cwnd_limited = true;
                break;
            }
            // tcp_snd_wnd_test: the segment must fit the peer's window (a FIN is exempt of its 1).
            let end = tp.write_queue[idx]
                .end_seq
                .wrapping_sub(u32::from(is_fin && seg_len > 1));
            let wnd_end = tp.cong.snd_una.wrapping_add(tp.snd_wnd);
            if after(end, wnd_end)
                && !(is_fin && seg_len == 1 && !after(tp.write_queue[idx].seq, wnd_end))
            {
                break;
            }
            // tcp_nagle_test: a sub-MSS segment waits while data is unacknowledged (Nagle) or while
            // corked, unless it carries the FIN or TCP_NODELAY is set and nothing corks.
            let mss = Stack::tcp_current_mss(tp);
            let payload = tp.write_queue[idx].payload_len() as u32;
            let last = idx + 1 == tp.write_queue.len();
            if payload < mss && last && !is_fin {
                let nagle = !tp.nodelay && tp.cong.packets_out > 0;
                if tp.cork || nagle {
                    break;
                }
            }
            // tcp_small_queue_check: at most limit_output_bytes (or two skbs) in the qdisc/device.
            let limit = self
                .cfg
                .tcp
                .limit_output_bytes
                .max(2 * tp.write_queue[idx].skb.truesize());
            if tp.wmem.alloc() > limit {
                tp.tsq_throttled = true;
                self.tcp_ext.tcp_tsq_throttled += 1;
                break;
            }
            let tx_start = tp.cong.packets_out == 0;
            if tx_start {
                let now = tcp_now_us(ctx);
                tp.cong.now_us = now;
                let ca = &mut tp.ca;
                ca.cwnd_event(&mut tp.cong, CaEvent::TxStart);
            }
            self.tcp_send_new(ctx, sk, idx);
            sent += 1;
            if push_one {
                break;
            }
        }
        let Some(tp) = self.tcp.get_mut(sk) else {
            return false;
        };
        if sent > 0 {
            // tcp_cwnd_validate.
            tp.cong.max_packets_out = tp.cong.max_packets_out.max(tp.cong.packets_out);
            if tp.in_flight() < tp.cong.snd_cwnd {
                tp.cong.is_cwnd_limited = false;
            }
            self.tcp_schedule_loss_probe(ctx, sk);
            return false;
        }
        tp.send_head().is_some() && tp.cong.packets_out == 0
    }

    /// The write-queue skb at `idx` goes out for the first time and is accounted as sent.
    fn tcp_send_new(&mut self, ctx: &mut Ctx, sk: TcpSockId, idx: usize) {
        let first = Xmit::Queued {
            idx,
            retrans: false,
        };
        self.tcp_transmit_skb(ctx, sk, first);
        self.tcp_event_new_data_sent(ctx, sk, idx);
    }

    /// `tcp_event_new_data_sent`: `snd_nxt` advances, `packets_out` counts the segment, the RTO is
    /// armed if it was not, and `lsndtime` is stamped (`tcp_event_data_sent`).
    fn tcp_event_new_data_sent(&mut self, ctx: &mut Ctx, sk: TcpSockId, idx: usize) {
        let rto = self.tcp_rto_cycles(sk, ctx);
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let seg = &tp.write_queue[idx];
        let (end, bytes) = (seg.end_seq, seg.payload_len());
        let prior_packets = tp.cong.packets_out;
        tp.cong.snd_nxt = end;
        tp.cong.packets_out += 1;
        tp.bytes_sent += bytes as u64;
        if bytes > 0 {
            self.tcp_ext.tcp_orig_data_sent += 1;
        }
        tp.cong.lsndtime = tp.cong.tcp_jiffies32();
        if prior_packets == 0 || tp.timer.is_none() {
            tp.timer = Some((TimerKind::Retrans, ctx.now + rto));
        }
        let (b, n) = rtx_queue_size(tp);
        tp.rtx_bytes_peak = tp.rtx_bytes_peak.max(b);
        tp.rtx_skbs_peak = tp.rtx_skbs_peak.max(n);
    }

    /// `tcp_tsq_handler` (the TSQ tasklet, run from the softirq after TX completion freed clones):
    /// every throttled socket whose clones left the device below the limit sends again.
    pub fn tcp_tsq_handler(&mut self, ctx: &mut Ctx) {
        let limit = self.cfg.tcp.limit_output_bytes;
        for sk in self.tcp.ids() {
            let Some(tp) = self.tcp.get_mut(sk) else {
                continue;
            };
            if tp.tsq_throttled && tp.wmem.alloc() <= limit {
                tp.tsq_throttled = false;
                self.tcp_push_pending_frames(ctx, sk);
            }
        }
    }

    /// `tcp_push`: the application's data goes out (`tcp_push_pending_frames`), or a zero-window
    /// probe timer is armed when the peer's window is closed (`tcp_check_probe_timer`).
    pub(super) fn tcp_push_pending_frames(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let stuck = self.tcp_write_xmit(ctx, sk, false);
        if stuck {
            self.tcp_check_probe_timer(ctx, sk);
        }
    }

    /// `tcp_check_probe_timer`: nothing in flight, data waiting: probe the window after an RTO.
    pub(super) fn tcp_check_probe_timer(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let rto = self.tcp_rto_cycles(sk, ctx);
        if let Some(tp) = self.tcp.get_mut(sk) {
            if tp.cong.packets_out == 0 && tp.timer.is_none() && tp.send_head().is_some() {
                tp.timer = Some((TimerKind::Probe0, ctx.now + rto));
            }
        }
    }

    /// `tcp_rearm_rto`: the retransmission timer restarts from now, or stops with nothing in flight.
    pub(super) fn tcp_rearm_rto(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let rto = self.tcp_rto_cycles(sk, ctx);
        if let Some(tp) = self.tcp.get_mut(sk) {
            tp.timer = (tp.cong.packets_out > 0).then_some((TimerKind::Retrans, ctx.now + rto));
        }
    }

    /// `inet_csk_rto_backoff`-aware RTO of `sk` in cycles.
    pub(super) fn tcp_rto_cycles(&self, sk: TcpSockId, ctx: &Ctx) -> Cycle {
        self.tcp.get(sk).map_or(0, |tp| {
            let us = (tp.rto_us << tp.backoff.min(16)).min(consts::TCP_RTO_MAX_US);
            ctx.clock.ns_to_cycles(us * 1000)
        })
    }

    /// `tcp_schedule_loss_probe` (RFC 8985 7.2): with TLP on and the RTO armed for data in
    /// flight, a probe timeout of 2·SRTT (plus the worst delayed ACK when one segment is out), at
    /// least 10 ms and not after the RTO, replaces the RTO timer.
    pub(super) fn tcp_schedule_loss_probe(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        if self.cfg.tcp.early_retrans < 3 {
            return;
        }
        let rto = self.tcp_rto_cycles(sk, ctx);
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let armed_rto = matches!(tp.timer, Some((TimerKind::Retrans, _)));
        if !armed_rto
            || !matches!(tp.cong.ca_state, CaState::Open | CaState::Cwr)
            || !tp.rx_opt.sack_ok
            || tp.tlp_high_seq.is_some()
            || tp.cong.srtt_us == 0
        {
            return;
        }
        let srtt = u64::from(tp.cong.srtt_us >> 3);
        let mut pto_us = 2 * srtt;
        if tp.cong.packets_out == 1 {
            pto_us += consts::TCP_DELACK_MAX_US;
        }
        pto_us = pto_us.max(consts::TCP_TIMEOUT_MIN_US);
        let pto = ctx.clock.ns_to_cycles(pto_us * 1000);
        let rto_at = tp.timer.map_or(ctx.now + rto, |(_, at)| at);
        let at = (ctx.now + pto).min(rto_at);
        tp.timer = Some((TimerKind::LossProbe, at));
    }

    /// `tcp_send_loss_probe`: new data if the window allows, else the last sent segment again.
    pub(super) fn tcp_send_loss_probe(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let before_nxt = tp.cong.snd_nxt;
        let has_new = tp.send_head().is_some();
        self.tcp_ext.tcp_loss_probes += 1;
        if has_new {
            self.tcp_write_xmit(ctx, sk, true);
        }
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        if tp.cong.snd_nxt == before_nxt {
            let Some(idx) = tp.rtx_len().checked_sub(1) else {
                return;
            };
            self.tcp_retransmit_skb(ctx, sk, idx);
        }
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        tp.tlp_high_seq = Some(tp.cong.snd_nxt);
        self.tcp_rearm_rto(ctx, sk);
    }

    /// `__tcp_retransmit_skb` for the write-queue skb at `idx`: `RetransSegs`, the scoreboard's
    /// RETRANS bit, and `retrans_stamp` for `tcp_write_timeout`.
    pub(super) fn tcp_retransmit_skb(&mut self, ctx: &mut Ctx, sk: TcpSockId, idx: usize) -> bool {
        let Some(tp) = self.tcp.get_mut(sk) else {
            return false;
        };
        let Some(seg) = tp.write_queue.get(idx) else {
            return false;
        };
        if seg.sacked & sacked::ACKED != 0 {
            return false;
        }
        let bytes = seg.payload_len() as u64;
        if self.tcp_transmit_skb(ctx, sk, Xmit::Queued { idx, retrans: true }) == NetXmit::Drop {
            self.tcp_ext.tcp_retrans_fail += 1;
            return false;
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        let seg = &mut tp.write_queue[idx];
        if seg.sacked & sacked::RETRANS == 0 {
            tp.retrans_out += 1;
        }
        seg.sacked |= sacked::RETRANS | sacked::EVER_RETRANS;
        tp.total_retrans += 1;
        tp.bytes_retrans += bytes;
        tp.retrans_stamp.get_or_insert(ctx.now);
        self.tcp_mib.retrans_segs += 1;
        true
    }

    /// `tcp_xmit_retransmit_queue`: retransmits segments marked lost and not yet retransmitted, as
    /// cwnd (or PRR's `sndcnt`) allows.
    pub(super) fn tcp_xmit_retransmit_queue(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        loop {
            let Some(tp) = self.tcp.get(sk) else {
                return;
            };
            if tp.in_flight() >= tp.cong.snd_cwnd {
                return;
            }
            let Some(idx) = tp.write_queue.iter().take_while(|s| s.sent).position(|s| {
                s.sacked & sacked::LOST != 0 && s.sacked & (sacked::RETRANS | sacked::ACKED) == 0
            }) else {
                return;
            };
            if !self.tcp_retransmit_skb(ctx, sk, idx) {
                return;
            }
            let fast = self
                .tcp
                .get(sk)
                .is_some_and(|tp| tp.cong.ca_state == CaState::Recovery);
            if fast {
                self.tcp_ext.tcp_fast_retrans += 1;
            } else {
                self.tcp_ext.tcp_slow_start_retrans += 1;
            }
            if idx == 0 {
                self.tcp_rearm_rto(ctx, sk);
            }
        }
    }

    /// `tcp_send_ack`: a pure ACK now.
    pub(super) fn tcp_send_ack(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get(sk) else {
            return;
        };
        let seq = tp.cong.snd_nxt;
        self.tcp_transmit_skb(ctx, sk, Xmit::Control { seq, flags: 0 });
    }

    /// `tcp_send_delayed_ack`: arms the delayed-ACK timer `ato` from now, at most
    /// `TCP_DELACK_MAX` (an interactive connection) and never later than a timer already armed.
    pub(super) fn tcp_send_delayed_ack(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let max = ctx.clock.ns_to_cycles(consts::TCP_DELACK_MAX_US * 1000);
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let ato = tp.ack.ato.min(max);
        let at = ctx.now + ato;
        tp.ack.pending = true;
        tp.ack.timer = Some(tp.ack.timer.map_or(at, |t| t.min(at)));
    }

    /// `tcp_connect`: the SYN goes on the write queue (it is retransmitted like data) and out.
    pub(super) fn tcp_connect(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        self.tcp_queue_control(ctx, sk, flags::SYN);
        self.tcp_mib.active_opens += 1;
        self.tcp_transmit_syn(ctx, sk);
    }

    /// The SYN (or SYN-ACK) goes out at once, outside any window (`tcp_connect` and
    /// `tcp_send_synack` call `tcp_transmit_skb` directly), and arms the RTO.
    fn tcp_transmit_syn(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(idx) = self.tcp.get(sk).and_then(TcpSock::send_head) else {
            return;
        };
        self.tcp_send_new(ctx, sk, idx);
    }

    /// `tcp_send_synack` / `tcp_make_synack` for a socket in SYN_RECV: its SYN-ACK is the SYN on its
    /// write queue, sent with ACK.
    pub(super) fn tcp_send_synack(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        self.tcp_queue_control(ctx, sk, flags::SYN);
        self.tcp_transmit_syn(ctx, sk);
    }

    /// `tcp_send_fin`: the FIN rides on the last queued unsent skb if there is one, else goes on
    /// a new one.
    pub(super) fn tcp_send_fin(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        if tp.fin_queued {
            return;
        }
        tp.fin_queued = true;
        match tp.write_queue.back_mut() {
            Some(last) if !last.sent => {
                last.flags |= flags::FIN;
                last.end_seq = last.end_seq.wrapping_add(1);
                tp.write_seq = tp.write_seq.wrapping_add(1);
            }
            _ => self.tcp_queue_control(ctx, sk, flags::FIN),
        }
        self.tcp_push_pending_frames(ctx, sk);
    }

    /// Queues a SYN or FIN skb of its own (one sequence number, no data) at `write_seq`.
    fn tcp_queue_control(&mut self, ctx: &mut Ctx, sk: TcpSockId, f: u8) {
        let id = ctx.observer().new_frame_id();
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        let seq = if f & flags::SYN != 0 {
            tp.iss
        } else {
            tp.write_seq
        };
        let skb = Skb::alloc(id, consts::MAX_TCP_HEADER, 0);
        tp.wmem_queued += skb.truesize();
        tp.write_queue.push_back(TxSkb {
            seq,
            end_seq: seq.wrapping_add(1),
            flags: f,
            skb,
            sacked: 0,
            tx_time: ctx.now,
            sent: false,
            delivered_at_send: 0,
            delivered_stamp: 0,
        });
        tp.write_seq = seq.wrapping_add(1);
    }

    /// `tcp_send_active_reset`: an RST at `snd_nxt` (abortive close, `SO_LINGER` 0, unread data).
    pub(super) fn tcp_send_active_reset(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get(sk) else {
            return;
        };
        let seq = tp.cong.snd_nxt;
        self.tcp_mib.out_rsts += 1;
        self.tcp_transmit_skb(
            ctx,
            sk,
            Xmit::Control {
                seq,
                flags: flags::RST,
            },
        );
    }

    /// `tcp_write_wakeup` / `tcp_xmit_probe_skb`: a zero-window probe. Data that fits the window
    /// is sent; otherwise an ACK with the out-of-window sequence `snd_una - 1` makes the peer
    /// answer with its current window.
    pub(super) fn tcp_send_probe0(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get(sk) else {
            return;
        };
        if tp.snd_wnd > 0 && tp.send_head().is_some() {
            self.tcp_write_xmit(ctx, sk, true);
            return;
        }
        let seq = tp.cong.snd_una.wrapping_sub(1);
        self.tcp_ext.tcp_window_probes += 1;
        self.tcp_transmit_skb(ctx, sk, Xmit::Control { seq, flags: 0 });
    }

    /// `tcp_v4_send_reset` for a segment no socket wants (or a bad one): RFC 9293 3.10.7.1 —
    /// with ACK set, RST at its ACK number; otherwise RST|ACK acknowledging its sequence space.
    pub(super) fn tcp_v4_send_reset(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        th: &TcpRepr,
        seq_len: u32,
    ) {
        if th.flags & flags::RST != 0 {
            return;
        }
        let (seq, ack_seq, f) = if th.flags & flags::ACK != 0 {
            (th.ack_seq, 0, flags::RST)
        } else {
            (0, th.seq.wrapping_add(seq_len), flags::RST | flags::ACK)
        };
        let repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq,
            ack_seq,
            flags: f,
            window: 0,
            options: TcpOptions::default(),
        };
        self.tcp_mib.out_rsts += 1;
        self.tcp_send_stateless(ctx, local, remote, &repr);
    }

    /// `tcp_v4_send_ack` for a TIME_WAIT socket or a stateless answer: builds and sends `repr`.
    pub(super) fn tcp_send_stateless(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        repr: &TcpRepr,
    ) {
        let id = ctx.observer().new_frame_id();
        ctx.stamp(id, Stage::TcpTransmitSkb);
        self.tcp_mib.out_segs += 1;
        let mut skb = Skb::alloc(id, consts::MAX_TCP_HEADER, 0);
        skb.push(repr.header_len());
        if repr
            .emit(skb.data_mut(), *local.ip(), *remote.ip())
            .is_err()
        {
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NotSpecified));
            return;
        }
        skb.reset_transport_header();
        let Ok(nh) = self.route_output(*remote.ip()) else {
            self.ip.out_no_routes += 1;
            Stack::finish(ctx, skb, Outcome::Dropped(DropReason::IpOutnoroutes));
            return;
        };
        let flow = OutputFlow {
            src: *local.ip(),
            dst: *remote.ip(),
            protocol: protocol::TCP,
            tos: 0,
            ttl: self.cfg.ip_default_ttl,
            dont_frag: true,
        };
        self.ip_local_out(ctx, skb, flow, nh);
    }
}

/// `tcp_select_initial_window`: the SYN's window (unscaled, at most 65535) and our window
/// scale, the smallest shift that lets the window reach `tcp_rmem[2]`.
pub(super) fn tcp_select_initial_window(t: &TcpSysctl, tp: &mut TcpSock) {
    let space = tcp_full_space(tp.rcvbuf, t.adv_win_scale);
    let mss = tp.advmss;
    let mut wnd = space.min(tp.window_clamp);
    // Round to a whole number of segments.
    if wnd > mss {
        wnd = wnd / mss * mss;
    }
    let mut wscale = 0u8;
    if t.window_scaling {
        let mut max = t.rmem[2].max(tp.rcvbuf) as u32;
        while max > 65535 && wscale < crate::wire::tcp::MAX_WSCALE {
            max >>= 1;
            wscale += 1;
        }
    }
    tp.rx_opt.rcv_wscale = wscale;
    // Linux advertises an initial window of 10 segments rounded (TCP_INIT_CWND * mss) when
    // the space allows, which is what `rcv_wnd` starts at.
    let init = (consts::TCP_INIT_RCV_WND_SEGS * mss).min(wnd);
    tp.rcv_wnd = if wscale == 0 { init.min(65535) } else { init };
    tp.rcv_ssthresh = tp.rcv_wnd;
}

/// `__tcp_select_window` + `tcp_select_window`: the window to advertise from the free receive
/// space, rounded to the MSS (or the scaling granularity) and never shrinking what was offered.
/// Returns the field value, scaled down by our window shift.
pub(super) fn tcp_select_window(tp: &mut TcpSock, adv_win_scale: i32) -> u16 {
    let cur = tcp_receive_window(tp);
    let mss = tp.ack.rcv_mss.max(1).min(tp.advmss);
    let full = tcp_full_space(tp.rcvbuf, adv_win_scale).min(tp.window_clamp);
    let free = tcp_space(tp.rcvbuf, tp.rmem_alloc, adv_win_scale);
    let mut window = if free < (full / 2).max(1) && free < mss {
        0 // memory pressure: advertise zero rather than a silly window
    } else {
        let free = free.min(tp.rcv_ssthresh);
        if tp.rx_opt.rcv_wscale > 0 {
            let g = 1u32 << tp.rx_opt.rcv_wscale;
            free.div_ceil(g) * g
        } else if free > mss {
            free / mss * mss
        } else {
            free
        }
    };
    if window < cur {
        // Never shrink the offered window (RFC 7323 2.4).
        window = cur.next_multiple_of(1 << tp.rx_opt.rcv_wscale);
    }
    window = window.min(65535u32 << tp.rx_opt.rcv_wscale);
    tp.rcv_wnd = window;
    tp.rcv_wup = tp.rcv_nxt;
    (window >> tp.rx_opt.rcv_wscale) as u16
}

/// `tcp_syn_options` / `tcp_synack_options`: MSS, and what the sysctls (and on a SYN-ACK, the
/// peer's SYN) allow.
fn tcp_syn_options(t: &TcpSysctl, tp: &TcpSock, tsval: u32) -> TcpOptions {
    let synack = tp.state == TcpState::SynRecv;
    TcpOptions {
        mss: Some(tp.advmss as u16),
        wscale: (t.window_scaling && (!synack || tp.rx_opt.wscale_ok))
            .then_some(tp.rx_opt.rcv_wscale),
        sack_permitted: t.sack && (!synack || tp.rx_opt.sack_ok),
        timestamp: (t.timestamps && (!synack || tp.rx_opt.tstamp_ok))
            .then_some((tsval, tp.rx_opt.ts_recent)),
        sack: Vec::new(),
    }
}

/// `tcp_established_options`: timestamps and the SACK blocks, a DSACK first.
fn tcp_established_options(tp: &TcpSock, tsval: u32) -> TcpOptions {
    let mut sack: Vec<(u32, u32)> = tp.dsack.into_iter().collect();
    if tp.rx_opt.sack_ok {
        sack.extend(tcp_ofo_blocks(tp));
    }
    let max = if tp.rx_opt.tstamp_ok {
        MAX_SACK_BLOCKS - 1
    } else {
        MAX_SACK_BLOCKS
    };
    sack.truncate(max);
    TcpOptions {
        timestamp: tp.rx_opt.tstamp_ok.then_some((tsval, tp.rx_opt.ts_recent)),
        sack,
        ..TcpOptions::default()
    }
}

/// `tcp_event_ack_sent`: the owed ACK is paid; quickack credit is spent.
fn tcp_event_ack_sent(tp: &mut TcpSock) {
    tp.ack.quick = tp.ack.quick.saturating_sub(1);
    tp.ack.pending = false;
    tp.ack.timer = None;
    tp.dsack = None;
}

/// `tcp_receive_window`: what is left of the window last advertised.
pub(super) fn tcp_receive_window(tp: &TcpSock) -> u32 {
    let left = tp.rcv_wup.wrapping_add(tp.rcv_wnd).wrapping_sub(tp.rcv_nxt) as i32;
    left.max(0) as u32
}

/// `tcp_full_space` / `tcp_win_from_space`: the part of a buffer usable as window.
pub(super) fn tcp_full_space(rcvbuf: usize, adv_win_scale: i32) -> u32 {
    tcp_win_from_space(rcvbuf, adv_win_scale)
}

fn tcp_win_from_space(space: usize, adv_win_scale: i32) -> u32 {
    let space = space.min(i32::MAX as usize) as u64;
    let w = if adv_win_scale <= 0 {
        space >> (-adv_win_scale)
    } else {
        space - (space >> adv_win_scale)
    };
    w.min(u64::from(u32::MAX)) as u32
}

/// `tcp_space`: window from the free part of the receive buffer.
pub(super) fn tcp_space(rcvbuf: usize, rmem_alloc: usize, adv_win_scale: i32) -> u32 {
    tcp_win_from_space(rcvbuf.saturating_sub(rmem_alloc), adv_win_scale)
}

/// The SACK blocks of the out-of-order queue, contiguous runs merged, most recent first as
/// `tcp_sack_new_ofo_skb` keeps `selective_acks`.
fn tcp_ofo_blocks(tp: &TcpSock) -> Vec<(u32, u32)> {
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    for s in tp.ofo.values() {
        match blocks.last_mut() {
            Some(b) if !before(b.1, s.seq) => {
                if after(s.end_seq(), b.1) {
                    b.1 = s.end_seq();
                }
            }
            _ => blocks.push((s.seq, s.end_seq())),
        }
    }
    // Most recently received block first.
    if let Some(last) = tp.ofo_last {
        if let Some(pos) = blocks
            .iter()
            .position(|b| !before(last, b.0) && before(last, b.1))
        {
            let b = blocks.remove(pos);
            blocks.insert(0, b);
        }
    }
    blocks
}

/// Bytes and skbs on the retransmit queue (sent, not yet acknowledged).
pub(super) fn rtx_queue_size(tp: &TcpSock) -> (usize, usize) {
    tp.write_queue
        .iter()
        .take_while(|s| s.sent)
        .fold((0, 0), |(b, n), s| (b + s.skb.truesize(), n + 1))
}
