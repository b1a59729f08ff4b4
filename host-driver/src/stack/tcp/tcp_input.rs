//! net/ipv4/tcp_input.c: `tcp_rcv_state_process` (the RFC 9293 state machine with Linux's
//! choices), the `tcp_rcv_established` fast path, `tcp_ack` with `tcp_clean_rtx_queue` freeing the
//! originals, SACK tagging, RACK (RFC 8985) and duplicate-ACK loss detection, PRR (RFC 6937),
//! the receive and out-of-order queues, delayed-ACK scheduling and receive-buffer autotuning.

use super::sock::{sacked, RxSkb, SockErr, TcpSock, TcpSockId, TcpState, TimerKind};
use super::tcp_cong::{AckSample, CaEvent, CaState};
use super::tcp_output::{tcp_full_space, tcp_receive_window, tcp_select_window, tcp_space};
use super::{consts, tcp_now_us, Segment};
use crate::accounting::{Consumer, DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::stack::Stack;
use crate::time::Cycle;
use crate::wire::tcp::{after, before, flags};

/// What an ACK did (`FLAG_*` of tcp_input.c).
#[derive(Debug, Clone, Copy, Default)]
struct AckFlags {
    snd_una_advanced: bool,
    dupack: bool,
    sacked_new: bool,
    dsack: bool,
    win_update: bool,
    /// Newly acknowledged or SACKed segments (`acked_sacked`).
    acked_sacked: u32,
    newly_lost: bool,
}

impl Stack {
    /// `tcp_rcv_state_process` for a segment on socket `sk` (not LISTEN, which
    /// [`Stack::tcp_v4_rcv`] hands to [`Stack::tcp_conn_request`]). `skb`'s data is the payload.
    pub(super) fn tcp_rcv_state_process(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        let Some(tp) = self.tcp.get(sk) else {
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::NoSocket));
        };
        if tp.state == TcpState::SynSent {
            return self.tcp_rcv_synsent_state_process(ctx, sk, seg);
        }
        if tp.state == TcpState::Established
            && seg.th.flags & (flags::SYN | flags::RST | flags::FIN | flags::URG) == 0
            && seg.th.flags & flags::ACK != 0
        {
            return self.tcp_rcv_established(ctx, sk, seg);
        }
        self.tcp_rcv_slow_path(ctx, sk, seg);
    }

    /// `tcp_rcv_established`: header prediction — an in-order segment with the expected flags
    /// takes the fast path (`TCPHPHits` for data, `TCPHPAcks` for pure ACKs), the rest the slow
    /// path of `tcp_validate_incoming` → `tcp_ack` → `tcp_data_queue`.
    fn tcp_rcv_established(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        ctx.stamp_skb(&seg.skb, Stage::TcpRcvEstablished);
        let tp = self.tcp.get(sk).expect("live socket");
        let predicted = seg.th.seq == tp.rcv_nxt
            && seg.th.flags & (flags::PSH | flags::ACK) == seg.th.flags
            && !after(seg.th.ack_seq, tp.cong.snd_nxt)
            && tp.ofo.is_empty()
            && tp.cong.ca_state == CaState::Open
            && tp.sacked_out == 0
            && seg.th.options.sack.is_empty();
        if predicted {
            if seg.payload_len == 0 {
                self.tcp_ext.tcp_hp_acks += 1;
            } else if tcp_receive_window(tp) >= seg.payload_len {
                self.tcp_ext.tcp_hp_hits += 1;
            }
        }
        self.tcp_rcv_slow_path(ctx, sk, seg);
    }

    /// The slow path: `tcp_validate_incoming`, the ACK, the state transitions that ACKs drive,
    /// then the data (`tcp_data_queue`) and the ACK we owe (`tcp_ack_snd_check`).
    fn tcp_rcv_slow_path(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        if let Err(reason) = self.tcp_validate_incoming(ctx, sk, &seg) {
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(reason));
        }
        if seg.th.flags & flags::ACK == 0 {
            // tcp_rcv_state_process: a segment without ACK in a synchronized state is dropped.
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpFlags));
        }
        let state = self.tcp.get(sk).expect("live").state;
        if state == TcpState::SynRecv {
            let tp = self.tcp.get(sk).expect("live");
            let ok =
                !before(seg.th.ack_seq, tp.cong.snd_una) && !after(seg.th.ack_seq, tp.cong.snd_nxt);
            if !ok {
                self.tcp_v4_send_reset(ctx, seg.local, seg.remote, &seg.th, seg.seq_len);
                return Stack::finish(
                    ctx,
                    seg.skb,
                    Outcome::Dropped(DropReason::TcpInvalidAckSequence),
                );
            }
        }
        match self.tcp_ack(ctx, sk, &seg) {
            Ok(()) => {}
            Err(reason) => return Stack::finish(ctx, seg.skb, Outcome::Dropped(reason)),
        }
        let Some(tp) = self.tcp.get_mut(sk) else {
            // LAST_ACK's FIN was acknowledged: the socket is gone.
            return Stack::finish(ctx, seg.skb, Outcome::Consumed(Consumer::Tcp));
        };
        let fin_acked = tp.fin_queued && tp.write_queue.is_empty();
        match tp.state {
            TcpState::SynRecv => self.tcp_synrecv_established(ctx, sk, &seg),
            TcpState::FinWait1 if fin_acked => {
                tp.state = TcpState::FinWait2;
                if tp.orphan {
                    let t = ctx
                        .clock
                        .ns_to_cycles(self.cfg.tcp.fin_timeout_s * 1_000_000_000);
                    tp.tw_deadline = Some(ctx.now + t);
                }
                tp.wait.wake(ctx.now);
            }
            TcpState::Closing if fin_acked => self.tcp_time_wait(ctx, sk),
            TcpState::LastAck if fin_acked => {
                self.tcp_done(ctx, sk);
                return Stack::finish(ctx, seg.skb, Outcome::Consumed(Consumer::Tcp));
            }
            _ => {}
        }
        // Data and FIN.
        let tp = self.tcp.get(sk).expect("live");
        let takes_data = matches!(
            tp.state,
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
        );
        if seg.payload_len == 0 && seg.th.flags & flags::FIN == 0 || !takes_data {
            if takes_data || seg.payload_len == 0 {
                self.tcp_data_snd_check(ctx, sk);
                self.tcp_ack_snd_check(ctx, sk);
                return Stack::finish(ctx, seg.skb, Outcome::Consumed(Consumer::Tcp));
            }
            // Data after our side has seen the FIN (CLOSE_WAIT, LAST_ACK, CLOSING): ignored.
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpClose));
        }
        self.tcp_data_queue(ctx, sk, seg);
        self.tcp_data_snd_check(ctx, sk);
        self.tcp_ack_snd_check(ctx, sk);
    }

    /// `tcp_validate_incoming`: PAWS, the sequence check (`tcp_sequence`, out-of-window segments
    /// answered with a duplicate ACK), RST (RFC 5961: exact match resets, in-window gets a
    /// challenge ACK) and a SYN on a synchronized socket (challenge ACK).
    fn tcp_validate_incoming(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        seg: &Segment,
    ) -> Result<(), DropReason> {
        let tp = self.tcp.get_mut(sk).expect("live");
        // tcp_paws_discard: an older timestamp than ts_recent (RST exempt).
        if let (true, Some((tsval, _))) = (tp.rx_opt.tstamp_ok, seg.th.options.timestamp) {
            if (tsval.wrapping_sub(tp.rx_opt.ts_recent) as i32) < 0
                && seg.th.flags & flags::RST == 0
            {
                self.tcp_ext.paws_estab_rejected += 1;
                self.tcp_send_dupack(ctx, sk, seg);
                return Err(DropReason::TcpRfc7323Paws);
            }
        }
        let tp = self.tcp.get(sk).expect("live");
        let (seq, end_seq) = (seg.th.seq, seg.th.seq.wrapping_add(seg.seq_len));
        let wnd = tcp_receive_window(tp);
        let in_window = !before(end_seq, tp.rcv_wup) && !after(seq, tp.rcv_nxt.wrapping_add(wnd));
        if !in_window {
            let reason = if before(end_seq, tp.rcv_wup) {
                DropReason::TcpOldSequence
            } else {
                DropReason::TcpInvalidSequence
            };
            if seg.th.flags & flags::RST == 0 {
                self.tcp_send_dupack(ctx, sk, seg);
            }
            return Err(reason);
        }
        if seg.th.flags & flags::RST != 0 {
            if seq == tp.rcv_nxt {
                self.tcp_reset(ctx, sk);
                return Err(DropReason::TcpReset);
            }
            self.tcp_send_challenge_ack(ctx, sk);
            return Err(DropReason::TcpReset);
        }
        if seg.th.flags & flags::SYN != 0 {
            self.tcp_send_challenge_ack(ctx, sk);
            return Err(DropReason::TcpInvalidSyn);
        }
        Ok(())
    }

    /// `tcp_send_dupack`: an out-of-window or duplicate segment gets an immediate ACK (with a
    /// DSACK for data we already have, `tcp_dsack_set`).
    fn tcp_send_dupack(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: &Segment) {
        let tp = self.tcp.get_mut(sk).expect("live");
        let end = seg.th.seq.wrapping_add(seg.seq_len);
        if seg.seq_len > 0 && !after(end, tp.rcv_nxt) {
            self.tcp_ext.delayed_ack_lost += 1;
            tcp_enter_quickack_mode(tp);
            if tp.rx_opt.sack_ok && self.cfg.tcp.dsack {
                tp.dsack = Some((seg.th.seq, end));
                self.tcp_ext.tcp_dsack_old_sent += 1;
            }
        }
        self.tcp_send_ack(ctx, sk);
    }

    /// `tcp_send_challenge_ack` (RFC 5961 4.2, 5.2).
    fn tcp_send_challenge_ack(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        self.tcp_ext.tcp_challenge_ack += 1;
        self.tcp_send_ack(ctx, sk);
    }

    /// `tcp_reset`: the peer reset the connection — the error the caller sees depends on the state
    /// (ECONNREFUSED in SYN_SENT, EPIPE after our FIN, else ECONNRESET), then `tcp_done`.
    pub(super) fn tcp_reset(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.err = Some(match tp.state {
            TcpState::SynSent => SockErr::ConnRefused,
            _ => SockErr::ConnReset,
        });
        if matches!(tp.state, TcpState::Established | TcpState::CloseWait) {
            self.tcp_mib.estab_resets += 1;
        }
        self.tcp_done(ctx, sk);
    }

    /// `tcp_rcv_synsent_state_process`: the answer to our SYN.
    fn tcp_rcv_synsent_state_process(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        let th = &seg.th;
        let tp = self.tcp.get_mut(sk).expect("live");
        if th.flags & flags::ACK != 0 {
            // RFC 9293 3.10.7.3: the ACK must acknowledge our SYN exactly.
            if !after(th.ack_seq, tp.iss) || after(th.ack_seq, tp.cong.snd_nxt) {
                if th.flags & flags::RST == 0 {
                    self.tcp_v4_send_reset(ctx, seg.local, seg.remote, &seg.th, seg.seq_len);
                }
                return Stack::finish(
                    ctx,
                    seg.skb,
                    Outcome::Dropped(DropReason::TcpInvalidAckSequence),
                );
            }
            if th.flags & flags::RST != 0 {
                self.tcp_reset(ctx, sk);
                return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpReset));
            }
            if th.flags & flags::SYN == 0 {
                return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpFlags));
            }
            // SYN-ACK: learn the peer's options and sequence space.
            tcp_init_from_syn(tp, &seg, &self.cfg.tcp);
            if !tp.rx_opt.wscale_ok {
                tp.rx_opt.rcv_wscale = 0;
                tp.rcv_wnd = tp.rcv_wnd.min(65535);
            }
            let mtu_mss = self.tcp_mtu_to_mss();
            let tp = self.tcp.get_mut(sk).expect("live");
            tcp_sync_mss(tp, mtu_mss);
            // The SYN is acknowledged: tcp_ack frees it and takes the RTT sample.
            let _ = self.tcp_ack(ctx, sk, &seg);
            let tp = self.tcp.get_mut(sk).expect("live");
            tcp_finish_connect(tp, ctx.now);
            self.tcp_init_transfer(ctx, sk);
            ctx.stamp_skb(&seg.skb, Stage::TcpRcvEstablished);
            let tp = self.tcp.get_mut(sk).expect("live");
            if tp.send_head().is_some() {
                // Data queued while connecting (TCP_FASTOPEN aside) goes with the ACK.
                self.tcp_push_pending_frames(ctx, sk);
            }
            self.tcp_send_ack(ctx, sk);
            return Stack::finish(ctx, seg.skb, Outcome::Consumed(Consumer::Tcp));
        }
        if th.flags & flags::RST != 0 {
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpReset));
        }
        // A bare SYN (simultaneous open) is not supported: dropped as Linux drops a SYN it cannot
        // match to a request (documented deviation).
        Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpFlags))
    }

    /// The third step of the passive open (`tcp_check_req` → `tcp_v4_syn_recv_sock` →
    /// `inet_csk_complete_hashdance`): ESTABLISHED, onto the listener's accept queue.
    fn tcp_synrecv_established(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: &Segment) {
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.snd_wl1 = seg.th.seq;
        tp.snd_wnd = u32::from(seg.th.window) << tp.rx_opt.snd_wscale;
        tp.max_window = tp.max_window.max(tp.snd_wnd);
        tcp_finish_connect(tp, ctx.now);
        let parent = tp.parent;
        self.tcp_init_transfer(ctx, sk);
        if let Some(l) = parent.and_then(|p| self.tcp.get_mut(p)) {
            l.accept_queue.push_back(sk);
            l.wait.wake(ctx.now);
        }
    }

    /// `tcp_init_transfer`: congestion control starts (`tcp_init_congestion_control`), the
    /// buffers get their initial sizes (`tcp_init_buffer_space`).
    pub(super) fn tcp_init_transfer(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let now_us = tcp_now_us(ctx);
        let initcwnd = self.cfg.tcp.initcwnd;
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.cong.now_us = now_us;
        // The SYN may have been retransmitted: RFC 6298 5.7, the initial window is then 1
        // (tcp_init_transfer: `if (tp->total_retrans > 1 && tp->undo_marker) cwnd = 1`).
        tp.cong.snd_cwnd = if tp.syn_retrans > 0 { 1 } else { initcwnd };
        tp.ca.init(&mut tp.cong);
        tp.rcvq_space = (
            tp.rcv_wnd.min(10 * tp.advmss) as usize,
            tp.copied_seq,
            ctx.now,
        );
        if !tp.sndbuf_locked {
            tcp_sndbuf_expand(tp, self.cfg.tcp.wmem[2]);
        }
        tp.wait.wake(ctx.now);
    }

    /// `tcp_ack`: acceptability (`TCP_TOO_OLD_ACK`, `TCP_ACK_UNSENT_DATA`), the window update,
    /// SACK tagging, `tcp_clean_rtx_queue`, congestion control and loss recovery.
    fn tcp_ack(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: &Segment) -> Result<(), DropReason> {
        let now_us = tcp_now_us(ctx);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.cong.now_us = now_us;
        let ack = seg.th.ack_seq;
        let prior_snd_una = tp.cong.snd_una;
        if before(ack, prior_snd_una) {
            // An old ACK: harmless unless older than the largest window (RFC 5961 5.2).
            if before(ack, prior_snd_una.wrapping_sub(tp.max_window)) {
                self.tcp_send_challenge_ack(ctx, sk);
                return Err(DropReason::TcpTooOldAck);
            }
            return Ok(());
        }
        if after(ack, tp.cong.snd_nxt) {
            self.tcp_send_challenge_ack(ctx, sk);
            return Err(DropReason::TcpAckUnsentData);
        }
        // FLAG_UPDATE_TS_RECENT → tcp_replace_ts_recent, only for an acceptable ACK: a segment at
        // or before rcv_wup carries the TSval to echo.
        if let Some((tsval, _)) = seg.th.options.timestamp {
            if tp.rx_opt.tstamp_ok && !after(seg.th.seq, tp.rcv_wup) {
                tp.rx_opt.ts_recent = tsval;
            }
        }
        let mut fl = AckFlags::default();
        let prior_in_flight = tp.in_flight();
        // tcp_ack_update_window (RFC 9293 3.10.7.4: update only from a newer segment).
        let nwin = u32::from(seg.th.window)
            << if seg.th.flags & flags::SYN != 0 {
                0
            } else {
                tp.rx_opt.snd_wscale
            };
        if after(ack, prior_snd_una)
            || after(seg.th.seq, tp.snd_wl1)
            || seg.th.seq == tp.snd_wl1 && nwin > tp.snd_wnd
        {
            if tp.snd_wnd != nwin {
                fl.win_update = true;
                if nwin > tp.max_window {
                    tp.max_window = nwin;
                }
            }
            tp.snd_wnd = nwin;
            tp.snd_wl1 = seg.th.seq;
        }
        if !seg.th.options.sack.is_empty() && tp.rx_opt.sack_ok {
            let (acked, dsack) = tcp_sacktag_write_queue(tp, &seg.th.options.sack, ack);
            fl.sacked_new = acked > 0;
            fl.acked_sacked += acked;
            fl.dsack = dsack;
            if dsack {
                self.tcp_ext.tcp_dsack_recv += 1;
            }
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        if after(ack, prior_snd_una) {
            fl.snd_una_advanced = true;
            tp.cong.snd_una = ack;
            tp.retransmits = 0;
            tp.backoff = 0;
        } else if seg.payload_len == 0
            && !fl.win_update
            && tp.cong.packets_out > 0
            && seg.th.flags & (flags::SYN | flags::FIN) == 0
        {
            fl.dupack = true;
        }
        let (acked_pkts, rtt_us) = self.tcp_clean_rtx_queue(ctx, sk, prior_snd_una, seg);
        fl.acked_sacked += acked_pkts;
        let tp = self.tcp.get_mut(sk).expect("live");
        if let Some(rtt) = rtt_us {
            tcp_ack_update_rtt(tp, rtt, self.cfg.tcp.rto_min_us);
        }
        if acked_pkts > 0 || rtt_us.is_some() {
            let sample = AckSample {
                pkts_acked: acked_pkts,
                rtt_us: rtt_us.map_or(-1, |r| r as i64),
                in_flight: prior_in_flight,
            };
            tp.ca.pkts_acked(&mut tp.cong, &sample);
        }
        // RACK (RFC 8985 6.2) and the Reno duplicate-ACK count.
        if !tp.rx_opt.sack_ok && fl.dupack {
            tcp_add_reno_sack(tp);
            fl.acked_sacked += 1;
        }
        if self.cfg.tcp.recovery & 1 != 0 && tp.rx_opt.sack_ok {
            fl.newly_lost |= tcp_rack_mark_lost(tp, ctx.now, ctx.clock);
        }
        self.tcp_process_tlp_ack(sk, ack, fl);
        let tp = self.tcp.get_mut(sk).expect("live");
        let in_recovery = !matches!(tp.cong.ca_state, CaState::Open);
        if in_recovery || fl.dupack || fl.sacked_new || tp.sacked_out > 0 {
            self.tcp_fastretrans_alert(ctx, sk, fl);
        } else if fl.snd_una_advanced {
            tcp_cong_control(tp, ack, fl.acked_sacked);
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        if fl.snd_una_advanced {
            if tp.cong.packets_out == 0 {
                tp.timer = tp.timer.filter(|(k, _)| *k == TimerKind::Probe0);
            }
            // tcp_set_xmit_timer: the RTO restarts, and a loss probe replaces it when TLP allows.
            self.tcp_rearm_rto(ctx, sk);
            self.tcp_schedule_loss_probe(ctx, sk);
        }
        self.tcp_check_space(ctx, sk);
        let gap = ctx.clock.ns_to_cycles(super::sock::TCP_SAMPLE_GAP_NS);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.sample(ctx.now, gap);
        // The window opened: the zero-window probe timer stops (tcp_ack_probe).
        if tp.snd_wnd > 0 && matches!(tp.timer, Some((TimerKind::Probe0, _))) {
            tp.timer = None;
            tp.backoff = 0;
            self.tcp_rearm_rto(ctx, sk);
        }
        Ok(())
    }

    /// `tcp_clean_rtx_queue`: frees every original the ACK covers — stamped
    /// [`Stage::TcpCleanRtxQueue`] and ended [`Consumer::TcpAcked`] — and returns the segments
    /// acknowledged and an RTT sample (Karn: from a segment never retransmitted, else from the
    /// timestamp echo).
    fn tcp_clean_rtx_queue(
        &mut self,
        ctx: &mut Ctx,
        sk: TcpSockId,
        prior_snd_una: u32,
        seg: &Segment,
    ) -> (u32, Option<u64>) {
        let tp = self.tcp.get_mut(sk).expect("live");
        let ack = tp.cong.snd_una;
        let mut acked = 0;
        let mut seq_rtt: Option<Cycle> = None;
        let mut ever_retrans = false;
        let mut rate: Option<(u64, Cycle)> = None;
        while let Some(head) = tp.write_queue.front() {
            if !head.sent || after(head.end_seq, ack) {
                break;
            }
            let head = tp.write_queue.pop_front().expect("front exists");
            acked += 1;
            tp.cong.packets_out = tp.cong.packets_out.saturating_sub(1);
            if head.sacked & sacked::ACKED != 0 {
                tp.sacked_out = tp.sacked_out.saturating_sub(1);
            }
            if head.sacked & sacked::RETRANS != 0 {
                tp.retrans_out = tp.retrans_out.saturating_sub(1);
            }
            if head.sacked & sacked::LOST != 0 {
                tp.lost_out = tp.lost_out.saturating_sub(1);
            }
            if head.sacked & sacked::EVER_RETRANS != 0 {
                ever_retrans = true;
            } else if head.sacked & sacked::ACKED == 0 {
                seq_rtt = Some(ctx.now.saturating_sub(head.tx_time));
            }
            let bytes = head.payload_len() as u64;
            tp.bytes_acked += bytes;
            tp.delivered += 1;
            tp.delivered_bytes += bytes;
            rate = Some((head.delivered_at_send, head.delivered_stamp));
            if head.tx_time > tp.rack.mstamp {
                tp.rack.mstamp = head.tx_time;
                tp.rack.end_seq = head.end_seq;
            }
            tp.wmem_queued = tp.wmem_queued.saturating_sub(head.skb.truesize());
            ctx.charge(ctx.costs.tcp_clean_rtx_ns);
            ctx.stamp_skb(&head.skb, Stage::TcpCleanRtxQueue);
            Stack::finish(ctx, head.skb, Outcome::Consumed(Consumer::TcpAcked));
        }
        // Reno dupack credit is consumed by a cumulative ACK (tcp_remove_reno_sacks).
        if !tp.rx_opt.sack_ok && after(ack, prior_snd_una) {
            tp.sacked_out = tp.sacked_out.saturating_sub(acked);
        }
        if let Some((delivered_then, stamp)) = rate {
            // tcp_rate_gen: bytes delivered since the acknowledged segment was sent, over the time.
            let interval = ctx.clock.cycles_to_ns_floor(ctx.now.saturating_sub(stamp)) / 1000;
            if interval > 0 {
                tp.rate_sample = (tp.delivered_bytes - delivered_then, interval);
            }
        }
        let rtt_us = match (seq_rtt, ever_retrans && seq_rtt.is_none()) {
            (Some(c), _) => Some(ctx.clock.cycles_to_ns_floor(c) / 1000),
            (None, _) => {
                // tcp_ack_update_rtt: the timestamp echo gives a sample even after a retransmission.
                seg.th
                    .options
                    .timestamp
                    .filter(|_| tp.rx_opt.tstamp_ok && acked > 0)
                    .and_then(|(_, ecr)| {
                        let now_ms = super::tcp_time_stamp(ctx, tp.tsoffset);
                        let d = now_ms.wrapping_sub(ecr);
                        (ecr != 0 && (d as i32) >= 0).then(|| u64::from(d) * 1000)
                    })
            }
        };
        (acked, rtt_us.map(|r| r.max(1)))
    }

    /// `tcp_process_tlp_ack`: the probe's ACK. If it acknowledged past the probe without a DSACK,
    /// the probe repaired a real loss and cwnd is reduced (`TCPLossProbeRecovery`).
    fn tcp_process_tlp_ack(&mut self, sk: TcpSockId, ack: u32, fl: AckFlags) {
        let tp = self.tcp.get_mut(sk).expect("live");
        let Some(high) = tp.tlp_high_seq else {
            return;
        };
        if before(ack, high) {
            return;
        }
        tp.tlp_high_seq = None;
        if !fl.dsack && fl.snd_una_advanced && tp.retrans_stamp.is_some() {
            tcp_init_cwnd_reduction(tp);
            tcp_set_ca_state(tp, CaState::Cwr);
            tcp_end_cwnd_reduction(tp);
            tcp_set_ca_state(tp, CaState::Open);
            self.tcp_ext.tcp_loss_probe_recovery += 1;
        }
    }

    /// `tcp_fastretrans_alert`: enters fast recovery when loss is detected (lost segments marked by
    /// RACK, or `reordering` duplicate ACKs / SACKed segments: `tcp_time_to_recover`), reduces cwnd
    /// by PRR while in it, retransmits what is lost, and leaves recovery once `high_seq` is
    /// acknowledged.
    fn tcp_fastretrans_alert(&mut self, ctx: &mut Ctx, sk: TcpSockId, fl: AckFlags) {
        let reno = !self.tcp.get(sk).expect("live").rx_opt.sack_ok;
        let tp = self.tcp.get_mut(sk).expect("live");
        // Leaving recovery or loss once everything sent before it is acknowledged.
        if matches!(
            tp.cong.ca_state,
            CaState::Recovery | CaState::Loss | CaState::Cwr
        ) && !before(tp.cong.snd_una, tp.high_seq)
        {
            if tp.cong.ca_state != CaState::Loss {
                tcp_end_cwnd_reduction(tp);
            }
            tcp_set_ca_state(tp, CaState::Open);
            tp.retrans_stamp = None;
            if reno {
                tp.sacked_out = 0;
            }
        }
        match tp.cong.ca_state {
            CaState::Recovery => {
                if reno && fl.snd_una_advanced {
                    // NewReno partial ACK: the next hole is lost too (RFC 6582).
                    tcp_mark_head_lost(tp);
                }
                tcp_cwnd_reduction(tp, fl.acked_sacked, fl.newly_lost, fl.snd_una_advanced);
            }
            CaState::Loss => {
                if fl.snd_una_advanced {
                    tcp_cong_control(tp, tp.cong.snd_una, fl.acked_sacked);
                }
            }
            CaState::Open | CaState::Disorder | CaState::Cwr => {
                let dupthresh = tp.reordering;
                let time_to_recover = tp.lost_out > 0 || tp.sacked_out >= dupthresh;
                if !time_to_recover {
                    if tp.sacked_out > 0 || fl.dupack {
                        tcp_set_ca_state(tp, CaState::Disorder);
                    } else if tp.cong.ca_state == CaState::Disorder {
                        tcp_set_ca_state(tp, CaState::Open);
                    }
                    if fl.snd_una_advanced && tp.cong.ca_state != CaState::Cwr {
                        tcp_cong_control(tp, tp.cong.snd_una, fl.acked_sacked);
                    }
                    // RFC 3042 limited transmit: new data may go out on the first dupacks.
                    return;
                }
                // tcp_enter_recovery.
                if reno {
                    self.tcp_ext.tcp_reno_recovery += 1;
                } else {
                    self.tcp_ext.tcp_sack_recovery += 1;
                }
                tp.prior_ssthresh = tp.cong.snd_ssthresh;
                tp.undo_marker = Some(tp.cong.snd_una);
                tcp_init_cwnd_reduction(tp);
                tcp_set_ca_state(tp, CaState::Recovery);
                tp.high_seq = tp.cong.snd_nxt;
                if tp.lost_out == 0 {
                    tcp_mark_head_lost(tp);
                }
                tcp_cwnd_reduction(tp, fl.acked_sacked, true, fl.snd_una_advanced);
            }
        }
        self.tcp_xmit_retransmit_queue(ctx, sk);
    }

    /// `tcp_data_queue`: in-order data joins the receive queue (coalesced into the tail skb when
    /// it fits, `TCPRcvCoalesce`), the out-of-order queue drains into it, `sk_data_ready` wakes the
    /// reader; duplicates get a DSACK, out-of-order data goes to `tcp_data_queue_ofo`.
    fn tcp_data_queue(&mut self, ctx: &mut Ctx, sk: TcpSockId, mut seg: Segment) {
        let tp = self.tcp.get_mut(sk).expect("live");
        let fin = seg.th.flags & flags::FIN != 0;
        let end = seg.th.seq.wrapping_add(seg.seq_len);
        tcp_measure_rcv_mss(tp, seg.payload_len);
        if seg.payload_len > 0 {
            tp.data_segs_in += 1;
            tp.last_data_recv = ctx.now;
        }
        if !after(end, tp.rcv_nxt) && seg.seq_len > 0 {
            // Entirely old data: DSACK it (tcp_dsack_set) and ACK at once.
            self.tcp_send_dupack(ctx, sk, &seg);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpOldData));
        }
        if tcp_receive_window(tp) == 0 && seg.payload_len > 0 && seg.th.seq == tp.rcv_nxt {
            self.tcp_ext.tcp_zero_window_drop += 1;
            tcp_enter_quickack_mode(tp);
            self.tcp_send_ack(ctx, sk);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpZerowindow));
        }
        if after(seg.th.seq, tp.rcv_nxt.wrapping_add(tcp_receive_window(tp))) {
            tcp_enter_quickack_mode(tp);
            self.tcp_send_ack(ctx, sk);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpOverwindow));
        }
        if before(seg.th.seq, tp.rcv_nxt) {
            // Partial overlap: the old part is trimmed (and DSACKed), the rest queued.
            let old = tp.rcv_nxt.wrapping_sub(seg.th.seq);
            if tp.rx_opt.sack_ok && self.cfg.tcp.dsack {
                tp.dsack = Some((seg.th.seq, tp.rcv_nxt));
            }
            let _ = seg.skb.pull(old as usize);
            seg.th.seq = tp.rcv_nxt;
            seg.payload_len -= old;
        }
        // tcp_try_rmem_schedule: only a queue already over sk_rcvbuf refuses the skb (one may
        // overshoot, as `atomic_read(&sk->sk_rmem_alloc) > sk->sk_rcvbuf` allows).
        if tp.rmem_alloc > tp.rcvbuf && seg.payload_len > 0 {
            self.tcp_ext.tcp_rcv_q_drop += 1;
            self.tcp_send_ack(ctx, sk);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::ProtoMem));
        }
        if seg.th.seq != tp.rcv_nxt {
            return self.tcp_data_queue_ofo(ctx, sk, seg);
        }
        // In order.
        self.tcp_event_data_recv(ctx, sk, seg.payload_len);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.rcv_nxt = end;
        tp.bytes_received += u64::from(seg.payload_len);
        self.tcp_queue_rcv(
            ctx,
            sk,
            RxSkb {
                seq: seg.th.seq,
                skb: seg.skb,
                fin,
            },
        );
        if fin {
            self.tcp_fin(ctx, sk);
        }
        let drained = self.tcp_ofo_queue(ctx, sk);
        let tp = self.tcp.get_mut(sk).expect("live");
        if drained {
            // A hole was filled: ACK at once (ICSK_ACK_NOW).
            tp.ack.pending = true;
            tp.ack.quick = tp.ack.quick.max(1);
        }
        tcp_grow_window(tp);
        tp.wait.wake(ctx.now);
    }

    /// `tcp_queue_rcv` with `tcp_try_coalesce`: the payload joins the tail skb when the tail is
    /// not a FIN (its frame then ends with the tail's fate), else it is queued as it is.
    fn tcp_queue_rcv(&mut self, ctx: &mut Ctx, sk: TcpSockId, rx: RxSkb) {
        if rx.skb.is_empty() {
            // A bare FIN: TCP consumes it; `fin_received` marks the end of the stream.
            return Stack::finish(ctx, rx.skb, Outcome::Consumed(Consumer::Tcp));
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.rmem_alloc += rx.skb.truesize();
        ctx.stamp_skb(&rx.skb, Stage::SocketEnqueue);
        ctx.stamp_skb(&rx.skb, Stage::TcpDataReady);
        tp.receive_queue.push_back(rx);
    }

    /// `tcp_data_queue_ofo`: a segment beyond `rcv_nxt` waits in the out-of-order queue; a segment
    /// it already holds is a duplicate (`TCPOFOMerge`, DSACK); every out-of-order arrival is ACKed
    /// at once with SACK blocks.
    fn tcp_data_queue_ofo(&mut self, ctx: &mut Ctx, sk: TcpSockId, seg: Segment) {
        self.tcp_ext.tcp_ofo_queue += 1;
        let fin = seg.th.flags & flags::FIN != 0;
        let tp = self.tcp.get_mut(sk).expect("live");
        tcp_enter_quickack_mode(tp);
        let key = tp.rcv_ext(seg.th.seq);
        let end_key = key + u64::from(seg.seq_len);
        let covered = tp
            .ofo
            .range(..=key)
            .next_back()
            .is_some_and(|(&k, s)| k + u64::from(s.end_seq().wrapping_sub(s.seq)) >= end_key);
        if covered || tp.ofo.contains_key(&key) {
            self.tcp_ext.tcp_ofo_merge += 1;
            if tp.rx_opt.sack_ok && self.cfg.tcp.dsack {
                tp.dsack = Some((seg.th.seq, seg.th.seq.wrapping_add(seg.seq_len)));
                self.tcp_ext.tcp_dsack_ofo_sent += 1;
            }
            self.tcp_send_ack(ctx, sk);
            return Stack::finish(ctx, seg.skb, Outcome::Dropped(DropReason::TcpOfomerge));
        }
        tp.rmem_alloc += seg.skb.truesize();
        tp.ofo_last = Some(seg.th.seq);
        tp.bytes_received += u64::from(seg.payload_len);
        ctx.stamp_skb(&seg.skb, Stage::SocketEnqueue);
        tp.ofo.insert(
            key,
            RxSkb {
                seq: seg.th.seq,
                skb: seg.skb,
                fin,
            },
        );
        self.tcp_send_ack(ctx, sk);
    }

    /// `tcp_ofo_queue`: moves now-in-order skbs to the receive queue (trimming overlap). Returns
    /// whether any moved.
    fn tcp_ofo_queue(&mut self, ctx: &mut Ctx, sk: TcpSockId) -> bool {
        let mut moved = false;
        loop {
            let tp = self.tcp.get_mut(sk).expect("live");
            let next = tp.rcv_ext(tp.rcv_nxt);
            let Some((&k, _)) = tp.ofo.first_key_value() else {
                break;
            };
            if k > next {
                break;
            }
            let mut rx = tp.ofo.remove(&k).expect("first key");
            tp.rmem_alloc = tp.rmem_alloc.saturating_sub(rx.skb.truesize());
            if !after(rx.end_seq(), tp.rcv_nxt) {
                // Wholly duplicate by now.
                Stack::finish(ctx, rx.skb, Outcome::Dropped(DropReason::TcpOfomerge));
                continue;
            }
            let overlap = tp.rcv_nxt.wrapping_sub(rx.seq) as usize;
            if overlap > 0 {
                let _ = rx.skb.pull(overlap.min(rx.skb.len()));
                rx.seq = tp.rcv_nxt;
            }
            tp.rcv_nxt = rx.end_seq();
            let fin = rx.fin;
            self.tcp_queue_rcv(ctx, sk, rx);
            moved = true;
            if fin {
                self.tcp_fin(ctx, sk);
                break;
            }
        }
        moved
    }

    /// `tcp_fin`: the peer is done sending. ESTABLISHED → CLOSE_WAIT (interactive: the ACK is
    /// delayed), FIN_WAIT_1 → CLOSING, FIN_WAIT_2 → TIME_WAIT.
    fn tcp_fin(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.fin_received = true;
        tp.ack.pending = true;
        tp.wait.wake(ctx.now);
        match tp.state {
            TcpState::Established | TcpState::SynRecv => {
                tp.state = TcpState::CloseWait;
                tp.ack.pingpong = true;
            }
            TcpState::FinWait1 => {
                tp.state = TcpState::Closing;
                self.tcp_send_ack(ctx, sk);
            }
            TcpState::FinWait2 => {
                self.tcp_send_ack(ctx, sk);
                self.tcp_time_wait(ctx, sk);
            }
            _ => {}
        }
    }

    /// `tcp_event_data_recv`: the delayed-ACK estimator `ato` and quickack credit, as Linux
    /// adapts them to the inter-arrival time; also drives receive-buffer autotuning.
    fn tcp_event_data_recv(&mut self, ctx: &mut Ctx, sk: TcpSockId, len: u32) {
        if len == 0 {
            return;
        }
        let ato_min = ctx.clock.ns_to_cycles(consts::TCP_ATO_MIN_US * 1000);
        let rto = self.tcp_rto_cycles(sk, ctx);
        let tp = self.tcp.get_mut(sk).expect("live");
        if tp.ack.ato == 0 {
            tcp_incr_quickack(tp, consts::TCP_MAX_QUICKACKS);
            tp.ack.ato = ato_min;
        } else {
            let m = ctx.now.saturating_sub(tp.ack.lrcvtime);
            if m <= ato_min / 2 {
                tp.ack.ato = (tp.ack.ato >> 1) + ato_min / 2;
            } else if m < tp.ack.ato {
                tp.ack.ato = ((tp.ack.ato >> 1) + m).min(rto);
            } else if m > rto {
                tcp_incr_quickack(tp, consts::TCP_MAX_QUICKACKS);
            }
        }
        tp.ack.lrcvtime = ctx.now;
        tp.ack.pending = true;
    }

    /// `__tcp_ack_snd_check`: an ACK now if more than one full segment is unacknowledged and the
    /// window would not shrink, in quickack mode, or with out-of-order data; else the delayed ACK.
    pub(super) fn tcp_ack_snd_check(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let adv = self.cfg.tcp.adv_win_scale;
        let Some(tp) = self.tcp.get_mut(sk) else {
            return;
        };
        if !tp.ack.pending {
            return;
        }
        let unacked = tp.rcv_nxt.wrapping_sub(tp.rcv_wup);
        let window_ok = {
            let free = tcp_space(tp.rcvbuf, tp.rmem_alloc, adv).min(tp.rcv_ssthresh);
            free >= tp.rcv_wnd
        };
        let quick = tp.ack.quick > 0 && !tp.ack.pingpong;
        if unacked > tp.ack.rcv_mss && window_ok || quick || !tp.ofo.is_empty() {
            self.tcp_send_ack(ctx, sk);
        } else {
            self.tcp_send_delayed_ack(ctx, sk);
        }
    }

    /// `tcp_data_snd_check`: an ACK that opened cwnd or the window lets queued data go.
    fn tcp_data_snd_check(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        if self.tcp.get(sk).is_some_and(|tp| tp.send_head().is_some()) {
            self.tcp_push_pending_frames(ctx, sk);
        }
    }

    /// `tcp_check_space` → `tcp_new_space`: a writer blocked on the send buffer wakes once a third
    /// of it is free again (`sk_stream_write_space`).
    fn tcp_check_space(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let wmem_max = self.cfg.tcp.wmem[2];
        let tp = self.tcp.get_mut(sk).expect("live");
        if !tp.sndbuf_locked {
            tcp_sndbuf_expand(tp, wmem_max);
        }
        if tp.wmem_queued < tp.sndbuf * 2 / 3 {
            tp.wait.wake(ctx.now);
        }
    }

    /// `tcp_rcv_space_adjust` (DRS): once per RTT, a reader that copied more than the current space
    /// gets a bigger buffer, up to `tcp_rmem[2]` (`tcp_moderate_rcvbuf`).
    pub(super) fn tcp_rcv_space_adjust(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let (moderate, rmem_max, adv) = (
            self.cfg.tcp.moderate_rcvbuf,
            self.cfg.tcp.rmem[2],
            self.cfg.tcp.adv_win_scale,
        );
        let tp = self.tcp.get_mut(sk).expect("live");
        let (space, seq, start) = tp.rcvq_space;
        let rtt_us = u64::from(tp.cong.srtt_us >> 3).max(1);
        let elapsed = ctx.clock.cycles_to_ns_floor(ctx.now.saturating_sub(start)) / 1000;
        if elapsed < rtt_us {
            return;
        }
        let copied = tp.copied_seq.wrapping_sub(seq) as usize;
        if copied > space && moderate && !tp.rcvbuf_locked {
            let rcvwin = 2 * copied + 16 * tp.advmss as usize;
            // tcp_space_from_win: the buffer that yields `rcvwin` of window.
            let rcvbuf = match adv {
                a if a > 0 => rcvwin + (rcvwin >> (a as u32)).max(1),
                a => rcvwin << ((-a) as u32),
            }
            .min(rmem_max);
            if rcvbuf > tp.rcvbuf {
                tp.rcvbuf = rcvbuf;
                tp.window_clamp = tcp_full_space(rcvbuf, adv);
            }
        }
        tp.rcvq_space = (copied.max(space), tp.copied_seq, ctx.now);
    }

    /// `tcp_done`: CLOSE, timers stopped, queues purged (the write queue's originals end
    /// `socket_close`), the sleeper woken; an orphan's socket is freed at once.
    pub(super) fn tcp_done(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let tp = self.tcp.get_mut(sk).expect("live");
        if tp.state == TcpState::SynSent || tp.state == TcpState::SynRecv {
            self.tcp_mib.attempt_fails += 1;
        }
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.state = TcpState::Close;
        tp.timer = None;
        tp.ack.timer = None;
        tp.tw_deadline = None;
        tp.shut_rd = true;
        tp.shut_wr = true;
        tp.wait.wake(ctx.now);
        for s in tp.write_queue.drain(..) {
            Stack::finish(ctx, s.skb, Outcome::Dropped(DropReason::SocketClose));
        }
        tp.wmem_queued = 0;
        tp.cong.packets_out = 0;
        for (_, s) in std::mem::take(&mut tp.ofo) {
            Stack::finish(ctx, s.skb, Outcome::Dropped(DropReason::SocketClose));
        }
        if tp.orphan {
            for s in tp.receive_queue.drain(..) {
                Stack::finish(ctx, s.skb, Outcome::Dropped(DropReason::SocketClose));
            }
            self.tcp_destroy_sock(sk);
        }
    }

    /// `inet_csk_destroy_sock`: the socket leaves the tables; `ss` keeps its final line.
    pub(super) fn tcp_destroy_sock(&mut self, sk: TcpSockId) {
        if let Some(mut tp) = self.tcp.remove(sk) {
            self.tcp.closed.push(super::tcp_calls::tcp_get_info(&tp));
            if !tp.samples.is_empty() {
                let samples = std::mem::take(&mut tp.samples);
                self.tcp.closed_samples.push((tp.flow_name(), samples));
            }
        }
    }

    /// `tcp_time_wait`: TIME_WAIT for `TCP_TIMEWAIT_LEN` (60 s); the socket answers retransmitted
    /// FINs (`tcp_timewait_state_process`) until then.
    pub(super) fn tcp_time_wait(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let tw = ctx.clock.ns_to_cycles(consts::TCP_TIMEWAIT_LEN_US * 1000);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.state = TcpState::TimeWait;
        tp.timer = None;
        tp.ack.timer = None;
        tp.tw_deadline = Some(ctx.now + tw);
        tp.wait.wake(ctx.now);
    }
}

/// What a SYN or SYN-ACK teaches a new connection: the peer's options, its initial sequence number
/// (`irs`, and so `rcv_nxt`) and its window, unscaled as a SYN's always is (RFC 7323 2.2).
pub(super) fn tcp_init_from_syn(tp: &mut TcpSock, seg: &Segment, t: &super::sysctl::TcpSysctl) {
    tcp_parse_syn_options(tp, seg, t);
    tp.irs = seg.th.seq;
    tp.rcv_nxt = seg.th.seq.wrapping_add(1);
    tp.copied_seq = tp.rcv_nxt;
    tp.rcv_wup = tp.rcv_nxt;
    tp.snd_wl1 = seg.th.seq;
    tp.snd_wnd = u32::from(seg.th.window);
    tp.max_window = tp.snd_wnd;
}

/// `tcp_parse_options` on a SYN or SYN-ACK: what the peer offers, against what our sysctls allow.
fn tcp_parse_syn_options(tp: &mut TcpSock, seg: &Segment, t: &super::sysctl::TcpSysctl) {
    let o = &seg.th.options;
    tp.rx_opt.mss_clamp = o.mss.unwrap_or(consts::TCP_MSS_DEFAULT as u16).max(1);
    tp.rx_opt.sack_ok = t.sack && o.sack_permitted;
    tp.rx_opt.tstamp_ok = t.timestamps && o.timestamp.is_some();
    if let Some((tsval, _)) = o.timestamp {
        tp.rx_opt.ts_recent = tsval;
    }
    tp.rx_opt.wscale_ok = t.window_scaling && o.wscale.is_some();
    tp.rx_opt.snd_wscale = if tp.rx_opt.wscale_ok {
        o.wscale.unwrap_or(0)
    } else {
        0
    };
}

/// `tcp_sync_mss` for socket `tp` on a route whose MTU gives `mtu_mss`: `mss_cache` from the
/// peer's MSS clamp, `TCP_MAXSEG` and half the largest window seen.
pub(super) fn tcp_sync_mss(tp: &mut TcpSock, mtu_mss: u32) {
    let mut mss = mtu_mss.min(u32::from(tp.rx_opt.mss_clamp));
    if tp.user_mss > 0 {
        mss = mss.min(u32::from(tp.user_mss));
    }
    tp.cong.mss_cache = mss.max(consts::TCP_MIN_MSS.min(mss)).max(1);
}

/// `tcp_finish_connect` / the SYN_RECV → ESTABLISHED step: the state, and the time.
fn tcp_finish_connect(tp: &mut TcpSock, now: Cycle) {
    tp.state = TcpState::Established;
    tp.established_at = Some(now);
    // icsk_ack.lrcvtime starts at the handshake: TCP_INFO's last_data_recv counts from there.
    tp.last_data_recv = now;
    tp.timer = None;
    tp.retransmits = 0;
    tp.backoff = 0;
    tp.retrans_stamp = None;
}

/// `tcp_rtt_estimator` + `tcp_set_rto` (RFC 6298 with Linux's `mdev_max` filtering and the 200 ms
/// floor folded into `rttvar`).
pub(super) fn tcp_ack_update_rtt(tp: &mut TcpSock, mrtt_us: u64, rto_min_us: u64) {
    let m = mrtt_us.min(u64::from(u32::MAX / 8)) as i64;
    tp.min_rtt_us = if tp.min_rtt_us == 0 {
        m as u32
    } else {
        tp.min_rtt_us.min(m as u32)
    };
    let rto_min = rto_min_us as u32;
    let mut srtt = i64::from(tp.cong.srtt_us);
    if srtt != 0 {
        let mut m = m - (srtt >> 3);
        srtt += m;
        if m < 0 {
            m = -m;
            m -= i64::from(tp.mdev_us >> 2);
            if m > 0 {
                m >>= 3;
            }
        } else {
            m -= i64::from(tp.mdev_us >> 2);
        }
        tp.mdev_us = (i64::from(tp.mdev_us) + m).max(0) as u32;
        if tp.mdev_us > tp.mdev_max_us {
            tp.mdev_max_us = tp.mdev_us;
            if tp.mdev_max_us > tp.rttvar_us {
                tp.rttvar_us = tp.mdev_max_us;
            }
        }
        if after(tp.cong.snd_una, tp.rtt_seq) {
            if tp.mdev_max_us < tp.rttvar_us {
                tp.rttvar_us -= (tp.rttvar_us - tp.mdev_max_us) >> 2;
            }
            tp.rtt_seq = tp.cong.snd_nxt;
            tp.mdev_max_us = rto_min;
        }
    } else {
        srtt = m << 3;
        tp.mdev_us = (m << 1) as u32;
        tp.rttvar_us = tp.mdev_us.max(rto_min);
        tp.mdev_max_us = tp.rttvar_us;
        tp.rtt_seq = tp.cong.snd_nxt;
    }
    tp.cong.srtt_us = srtt.max(1) as u32;
    // __tcp_set_rto + tcp_bound_rto.
    tp.rto_us =
        (u64::from(tp.cong.srtt_us >> 3) + u64::from(tp.rttvar_us)).min(consts::TCP_RTO_MAX_US);
    // RACK's reordering window: a quarter of the minimum RTT (RFC 8985 6.2).
    tp.rack.reo_wnd_us = u64::from(tp.min_rtt_us / 4);
}

/// `tcp_sacktag_write_queue`: marks the sent skbs the SACK blocks cover. A block below
/// `snd_una` (or inside the cumulative ACK) is a DSACK (RFC 2883). Returns the skbs newly SACKed
/// and whether a DSACK came.
fn tcp_sacktag_write_queue(tp: &mut TcpSock, blocks: &[(u32, u32)], ack: u32) -> (u32, bool) {
    let mut newly = 0;
    let mut dsack = false;
    for (i, &(start, end)) in blocks.iter().enumerate() {
        if !after(end, start) {
            continue;
        }
        if i == 0
            && (!after(end, ack)
                || blocks
                    .get(1)
                    .is_some_and(|&(s2, e2)| !before(start, s2) && !after(end, e2)))
        {
            dsack = true;
            continue;
        }
        for s in tp.write_queue.iter_mut().take_while(|s| s.sent) {
            if !before(s.seq, start) && !after(s.end_seq, end) && s.sacked & sacked::ACKED == 0 {
                s.sacked |= sacked::ACKED;
                if s.sacked & sacked::LOST != 0 {
                    s.sacked &= !sacked::LOST;
                    tp.lost_out = tp.lost_out.saturating_sub(1);
                }
                if s.sacked & sacked::RETRANS != 0 {
                    s.sacked &= !sacked::RETRANS;
                    tp.retrans_out = tp.retrans_out.saturating_sub(1);
                }
                tp.sacked_out += 1;
                newly += 1;
                tp.delivered += 1;
                // RACK: the newest transmission delivered so far.
                if s.tx_time > tp.rack.mstamp {
                    tp.rack.mstamp = s.tx_time;
                    tp.rack.end_seq = s.end_seq;
                }
            }
        }
    }
    (newly, dsack)
}

/// `tcp_rack_detect_loss` (RFC 8985 6.2): an unSACKed segment sent more than `reo_wnd` before the
/// most recently delivered one is lost. Returns whether any was newly marked.
fn tcp_rack_mark_lost(tp: &mut TcpSock, now: Cycle, clock: crate::time::Clock) -> bool {
    if tp.rack.mstamp == 0 {
        return false;
    }
    let reo = clock.ns_to_cycles(tp.rack.reo_wnd_us * 1000);
    let mut newly = false;
    let mut lost = 0;
    for s in tp.write_queue.iter_mut().take_while(|s| s.sent) {
        if s.sacked & (sacked::ACKED | sacked::LOST) != 0 {
            continue;
        }
        if s.tx_time + reo < tp.rack.mstamp
            || s.tx_time < tp.rack.mstamp
                && !after(s.end_seq, tp.rack.end_seq)
                && s.tx_time + reo <= now
                && tp.sacked_out >= tp.reordering
        {
            if s.sacked & sacked::RETRANS != 0 {
                s.sacked &= !sacked::RETRANS;
                tp.retrans_out = tp.retrans_out.saturating_sub(1);
            }
            s.sacked |= sacked::LOST;
            lost += 1;
            newly = true;
        }
    }
    tp.lost_out += lost;
    newly
}

/// `tcp_add_reno_sack`: without SACK, each duplicate ACK counts as one segment delivered.
fn tcp_add_reno_sack(tp: &mut TcpSock) {
    let limit = tp.cong.packets_out.saturating_sub(1);
    tp.sacked_out = (tp.sacked_out + 1).min(limit);
}

/// `tcp_mark_head_lost`: the first segment not SACKed nor lost is lost.
fn tcp_mark_head_lost(tp: &mut TcpSock) {
    if let Some(s) =
        tp.write_queue.iter_mut().take_while(|s| s.sent).find(|s| {
            s.sacked & (sacked::ACKED | sacked::LOST) == 0 && s.sacked & sacked::RETRANS == 0
        })
    {
        s.sacked |= sacked::LOST;
        tp.lost_out += 1;
    }
}

/// `tcp_sndbuf_expand`: room for two windows of full-sized skbs (`per_mss` rounded to a power of
/// two as the allocator does), at least `TCP_INIT_CWND` and `reordering + 1` segments, up to
/// `tcp_wmem[2]`.
fn tcp_sndbuf_expand(tp: &mut TcpSock, wmem_max: usize) {
    let mss = u32::from(tp.rx_opt.mss_clamp).max(tp.cong.mss_cache) as usize;
    let per_mss = (mss + consts::MAX_TCP_HEADER + 320).next_power_of_two() + 256;
    let nr_segs = tp
        .cong
        .snd_cwnd
        .max(super::tcp_cong::TCP_INIT_CWND)
        .max(tp.reordering + 1) as usize;
    let sndmem = 2 * nr_segs * per_mss;
    if tp.sndbuf < sndmem {
        tp.sndbuf = sndmem.min(wmem_max);
    }
}

/// `tcp_set_ca_state`: the congestion module is told first (`set_state`).
pub(super) fn tcp_set_ca_state(tp: &mut TcpSock, state: CaState) {
    tp.ca.set_state(&mut tp.cong, state);
    tp.cong.ca_state = state;
}

/// `tcp_init_cwnd_reduction`: PRR starts (RFC 6937), ssthresh from the congestion module.
pub(super) fn tcp_init_cwnd_reduction(tp: &mut TcpSock) {
    tp.cong.prior_cwnd = tp.cong.snd_cwnd;
    tp.prr_delivered = 0;
    tp.prr_out = 0;
    tp.cong.snd_ssthresh = tp.ca.ssthresh(&tp.cong);
}

/// `tcp_cwnd_reduction`: PRR's sending allowance; cwnd becomes in-flight plus `sndcnt`.
fn tcp_cwnd_reduction(
    tp: &mut TcpSock,
    newly_acked_sacked: u32,
    newly_lost: bool,
    una_advanced: bool,
) {
    if newly_acked_sacked == 0 && !newly_lost {
        return;
    }
    let in_flight = tp.in_flight();
    let ssthresh = tp.cong.snd_ssthresh;
    let delta = i64::from(ssthresh) - i64::from(in_flight);
    tp.prr_delivered += newly_acked_sacked;
    let sndcnt: i64 = if delta < 0 {
        let dividend = u64::from(ssthresh) * u64::from(tp.prr_delivered)
            + u64::from(tp.cong.prior_cwnd.max(1))
            - 1;
        (dividend / u64::from(tp.cong.prior_cwnd.max(1))) as i64 - i64::from(tp.prr_out)
    } else if una_advanced && !newly_lost {
        // PRR-SSRB: slow start back up to ssthresh.
        (i64::from(tp.prr_delivered) - i64::from(tp.prr_out))
            .max(i64::from(newly_acked_sacked))
            .min(delta)
            + 1
    } else {
        delta.min(i64::from(newly_acked_sacked))
    };
    let sndcnt = sndcnt.max(i64::from(tp.prr_out == 0)).max(0) as u32;
    tp.cong.snd_cwnd = in_flight + sndcnt;
    tp.prr_out += sndcnt;
}

/// `tcp_end_cwnd_reduction`: cwnd settles at ssthresh.
pub(super) fn tcp_end_cwnd_reduction(tp: &mut TcpSock) {
    if tp.cong.snd_ssthresh < super::tcp_cong::TCP_INFINITE_SSTHRESH {
        tp.cong.snd_cwnd = tp.cong.snd_ssthresh;
        tp.ca.cwnd_event(&mut tp.cong, CaEvent::CompleteCwr);
    }
}

/// `tcp_cong_control` → `tcp_cong_avoid`: the congestion module grows cwnd (only when the flight
/// was cwnd-limited, `tcp_is_cwnd_limited`, which the module checks).
fn tcp_cong_control(tp: &mut TcpSock, ack: u32, acked: u32) {
    if acked > 0 {
        tp.ca.cong_avoid(&mut tp.cong, ack, acked);
    }
}

/// `tcp_enter_quickack_mode`: ACK the next segments at once.
pub(super) fn tcp_enter_quickack_mode(tp: &mut TcpSock) {
    tcp_incr_quickack(tp, consts::TCP_MAX_QUICKACKS);
    tp.ack.pingpong = false;
}

/// `tcp_incr_quickack`: credit for half the window's worth of segments, at most `max`.
fn tcp_incr_quickack(tp: &mut TcpSock, max: u32) {
    let quickacks = (tp.rcv_wnd / (2 * tp.ack.rcv_mss.max(1))).max(2);
    tp.ack.quick = tp.ack.quick.max(quickacks.min(max));
}

/// `tcp_measure_rcv_mss`: the peer's segment size, from full-sized arrivals.
fn tcp_measure_rcv_mss(tp: &mut TcpSock, len: u32) {
    if len >= tp.ack.rcv_mss {
        tp.ack.rcv_mss = len.min(tp.advmss);
    }
}

/// `tcp_grow_window`: `rcv_ssthresh` opens by two segments per arrival while the buffer allows.
fn tcp_grow_window(tp: &mut TcpSock) {
    if tp.rcv_ssthresh < tp.window_clamp && tp.rmem_alloc * 2 < tp.rcvbuf {
        tp.rcv_ssthresh = (tp.rcv_ssthresh + 2 * tp.advmss).min(tp.window_clamp);
    }
}

/// The window a FIN_WAIT or established socket would advertise now, for `tcp_cleanup_rbuf`.
pub(super) fn tcp_window_now(tp: &mut TcpSock, adv_win_scale: i32) -> (u32, u32) {
    let now = tcp_receive_window(tp);
    let (wnd, wup) = (tp.rcv_wnd, tp.rcv_wup);
    tcp_select_window(tp, adv_win_scale);
    let new = tp.rcv_wnd;
    tp.rcv_wnd = wnd;
    tp.rcv_wup = wup;
    (now, new)
}
