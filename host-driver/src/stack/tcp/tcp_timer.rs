//! net/ipv4/tcp_timer.c: the retransmission timer (`tcp_retransmit_timer`, with SYN and SYN-ACK
//! retries, `tcp_write_timeout` and exponential backoff), the loss probe (`tcp_send_loss_probe`),
//! the zero-window probe (`tcp_probe_timer`), the delayed ACK (`tcp_delack_timer_handler`), and
//! the TIME_WAIT / FIN_WAIT_2 lifetimes (`inet_twsk_kill`, `tcp_keepalive_timer`'s orphan part).
//! They run when due from the timer softirq, like the stack's other timers.

use super::sock::{sacked, SockErr, TcpSockId, TcpState, TimerKind};
use super::tcp_cong::{CaEvent, CaState};
use super::tcp_input::tcp_set_ca_state;
use super::{consts, tcp_now_us};
use crate::ctx::Ctx;
use crate::stack::Stack;
use crate::time::Cycle;

impl Stack {
    /// Every TCP timer due by `ctx.now`, socket by socket in id order (deterministic).
    pub(in crate::stack) fn tcp_timers(&mut self, ctx: &mut Ctx) {
        for sk in self.tcp.ids() {
            let Some(tp) = self.tcp.get(sk) else { continue };
            if tp.tw_deadline.is_some_and(|t| t <= ctx.now) {
                if tp.state == TcpState::TimeWait {
                    self.tcp_ext.time_waited += 1;
                }
                // inet_twsk_kill, or tcp_keepalive_timer closing an orphaned FIN_WAIT_2.
                let tp = self.tcp.get_mut(sk).expect("live");
                tp.orphan = true;
                self.tcp_done(ctx, sk);
                continue;
            }
            if tp.ack.timer.is_some_and(|t| t <= ctx.now) {
                self.tcp_delack_timer_handler(ctx, sk);
            }
            let Some(tp) = self.tcp.get(sk) else { continue };
            if let Some((kind, at)) = tp.timer {
                if at <= ctx.now {
                    self.tcp.get_mut(sk).expect("live").timer = None;
                    match kind {
                        TimerKind::Retrans => self.tcp_retransmit_timer(ctx, sk),
                        TimerKind::LossProbe => self.tcp_send_loss_probe(ctx, sk),
                        TimerKind::Probe0 => self.tcp_probe_timer(ctx, sk),
                    }
                }
            }
        }
    }

    /// The earliest TCP timer of any socket.
    pub(in crate::stack) fn tcp_next_timer(&self) -> Option<Cycle> {
        self.tcp
            .ids()
            .into_iter()
            .filter_map(|sk| self.tcp.get(sk))
            .flat_map(|tp| [tp.timer.map(|(_, t)| t), tp.ack.timer, tp.tw_deadline])
            .flatten()
            .min()
    }

    /// `tcp_delack_timer_handler`: the owed ACK goes out (`DelayedACKs`); a bulk receiver's `ato`
    /// doubles up to the RTO, an interactive one leaves ping-pong mode.
    fn tcp_delack_timer_handler(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let rto = self.tcp_rto_cycles(sk, ctx);
        let ato_min = ctx.clock.ns_to_cycles(consts::TCP_ATO_MIN_US * 1000);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.ack.timer = None;
        if !tp.ack.pending || tp.state == TcpState::Close {
            return;
        }
        if tp.ack.pingpong {
            tp.ack.pingpong = false;
            tp.ack.ato = ato_min;
        } else {
            tp.ack.ato = (tp.ack.ato << 1).min(rto);
        }
        self.tcp_ext.delayed_acks += 1;
        self.tcp_send_ack(ctx, sk);
    }

    /// `tcp_retransmit_timer`: the RTO fired. SYN_SENT / SYN_RECV retry the SYN or SYN-ACK up to
    /// `tcp_syn_retries` / `tcp_synack_retries`; data enters loss (`tcp_enter_loss`: ssthresh from
    /// the congestion module, cwnd 1, every unSACKed segment lost) and the head is retransmitted,
    /// with the RTO doubled (`icsk_backoff`). Too many retries abort with ETIMEDOUT.
    fn tcp_retransmit_timer(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get(sk) else { return };
        if tp.cong.packets_out == 0 {
            return;
        }
        let limit = match tp.state {
            TcpState::SynSent => self.cfg.tcp.syn_retries,
            TcpState::SynRecv => self.cfg.tcp.synack_retries,
            _ => self.cfg.tcp.retries2,
        };
        if tp.retransmits >= limit {
            // tcp_write_timeout → tcp_write_err.
            self.tcp_ext.tcp_abort_on_timeout += 1;
            let tp = self.tcp.get_mut(sk).expect("live");
            tp.err = Some(SockErr::TimedOut);
            if tp.parent.is_some() && tp.state == TcpState::SynRecv {
                tp.orphan = true;
            }
            self.tcp_done(ctx, sk);
            return;
        }
        self.tcp_ext.tcp_timeouts += 1;
        let now_us = tcp_now_us(ctx);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.cong.now_us = now_us;
        if matches!(tp.state, TcpState::SynSent | TcpState::SynRecv) {
            tp.syn_retrans += 1;
            self.tcp_ext.tcp_syn_retrans += 1;
        } else {
            // tcp_enter_loss.
            if tp.cong.ca_state != CaState::Loss {
                tp.prior_ssthresh = tp.cong.snd_ssthresh;
                tp.cong.snd_ssthresh = tp.ca.ssthresh(&tp.cong);
                tp.ca.cwnd_event(&mut tp.cong, CaEvent::Loss);
            }
            tp.cong.snd_cwnd_cnt = 0;
            let mut lost = 0;
            for s in tp.write_queue.iter_mut().take_while(|s| s.sent) {
                if s.sacked & sacked::ACKED == 0 {
                    if s.sacked & sacked::LOST == 0 {
                        lost += 1;
                    }
                    s.sacked = (s.sacked & !sacked::RETRANS) | sacked::LOST;
                }
            }
            tp.lost_out += lost;
            tp.retrans_out = 0;
            // cwnd = packets in flight + 1: everything outstanding is now lost, so 1.
            tp.cong.snd_cwnd = tp.in_flight() + 1;
            tp.high_seq = tp.cong.snd_nxt;
            tp.tlp_high_seq = None;
            tcp_set_ca_state(tp, CaState::Loss);
        }
        // Retransmit the head, then back off.
        self.tcp_retransmit_skb(ctx, sk, 0);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.backoff += 1;
        tp.retransmits += 1;
        let rto = self.tcp_rto_cycles(sk, ctx);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.timer = Some((TimerKind::Retrans, ctx.now + rto));
    }

    /// `tcp_probe_timer`: the peer's window is still closed — probe (`tcp_send_probe0`) and back
    /// off, up to `tcp_retries2` probes.
    fn tcp_probe_timer(&mut self, ctx: &mut Ctx, sk: TcpSockId) {
        let Some(tp) = self.tcp.get(sk) else { return };
        if tp.cong.packets_out > 0 || tp.send_head().is_none() {
            return;
        }
        if tp.retransmits >= self.cfg.tcp.retries2 {
            let tp = self.tcp.get_mut(sk).expect("live");
            tp.err = Some(SockErr::TimedOut);
            self.tcp_done(ctx, sk);
            return;
        }
        self.tcp_send_probe0(ctx, sk);
        let tp = self.tcp.get_mut(sk).expect("live");
        tp.backoff += 1;
        tp.retransmits += 1;
        let rto = self.tcp_rto_cycles(sk, ctx);
        let tp = self.tcp.get_mut(sk).expect("live");
        if tp.cong.packets_out == 0 && tp.send_head().is_some() {
            tp.timer = Some((TimerKind::Probe0, ctx.now + rto));
        }
    }
}
