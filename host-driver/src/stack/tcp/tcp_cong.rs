//! Pluggable congestion control (net/ipv4/tcp_cong.c, include/net/tcp.h): the
//! `tcp_congestion_ops` interface, the shared slow-start and additive-increase helpers, and Reno.
//!
//! Everything here is a pure function of [`CongState`], the slice of `tcp_sock` the kernel's
//! congestion modules read and write, so the algorithms can be driven by tests without a socket.

use super::tcp_cubic::Cubic;

/// `TCP_INFINITE_SSTHRESH`: slow start until the first loss.
pub const TCP_INFINITE_SSTHRESH: u32 = 0x7fff_ffff;
/// `TCP_INIT_CWND` (RFC 6928 initial window).
pub const TCP_INIT_CWND: u32 = 10;
/// The kernel's tick rate this simulation assumes (`CONFIG_HZ=1000`).
pub const HZ: u32 = 1000;
/// `INITIAL_JIFFIES`: jiffies start 300 s before wrapping, so a timestamp of 0 (which CUBIC's
/// `epoch_start` uses as "no epoch") is not hit at boot, as in the kernel.
const INITIAL_JIFFIES: u32 = 0u32.wrapping_sub(300 * HZ);
/// `GSO_LEGACY_MAX_SIZE`: `sk_gso_max_size` of a TCP socket (software GSO is always on).
pub const GSO_LEGACY_MAX_SIZE: u32 = 65536;

/// `TCP_CA_*`: the congestion-avoidance state machine (`icsk_ca_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaState {
    Open,
    Disorder,
    Cwr,
    Recovery,
    Loss,
}

/// `CA_EVENT_*`: events passed to `cwnd_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaEvent {
    /// First transmit when no packets are in flight.
    TxStart,
    /// Congestion window restart after idle (`tcp_cwnd_restart`).
    CwndRestart,
    /// End of CWR (`tcp_end_cwnd_reduction`).
    CompleteCwr,
    /// Loss timeout (`tcp_enter_loss`).
    Loss,
    /// ECT set, CE not set.
    EcnNoCe,
    /// Received CE.
    EcnIsCe,
}

/// The `struct tcp_sock` / `inet_connection_sock` / `struct sock` fields congestion control
/// reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CongState {
    pub snd_cwnd: u32,
    pub snd_ssthresh: u32,
    pub snd_cwnd_cnt: u32,
    pub snd_cwnd_clamp: u32,
    pub mss_cache: u32,
    pub packets_out: u32,
    pub max_packets_out: u32,
    /// Set by `tcp_cwnd_validate` when the last flight was limited by cwnd.
    pub is_cwnd_limited: bool,
    /// Smoothed RTT, µs << 3 as the kernel keeps it.
    pub srtt_us: u32,
    pub snd_nxt: u32,
    pub snd_una: u32,
    pub ca_state: CaState,
    /// cwnd before the current reduction (`tcp_init_cwnd_reduction`), for undo.
    pub prior_cwnd: u32,
    /// `tcp_mstamp` (µs) of the current event; [`CongState::tcp_jiffies32`] derives from it.
    pub now_us: u64,
    /// `lsndtime`: [`CongState::tcp_jiffies32`] of the last data sent (`tcp_event_data_sent`).
    pub lsndtime: u32,
    /// `sk_pacing_rate` in bytes/s (`tcp_update_pacing_rate`); 0 when not computed.
    pub sk_pacing_rate: u64,
    /// `sk_gso_max_size` (`sk_setup_caps`).
    pub sk_gso_max_size: u32,
}

impl CongState {
    /// A socket as `tcp_init_sock` leaves it: cwnd `TCP_INIT_CWND`, infinite ssthresh, no clamp.
    pub fn new(mss_cache: u32, now_us: u64) -> CongState {
        let mut tp = CongState {
            snd_cwnd: TCP_INIT_CWND,
            snd_ssthresh: TCP_INFINITE_SSTHRESH,
            snd_cwnd_cnt: 0,
            snd_cwnd_clamp: u32::MAX,
            mss_cache,
            packets_out: 0,
            max_packets_out: 0,
            is_cwnd_limited: false,
            srtt_us: 0,
            snd_nxt: 0,
            snd_una: 0,
            ca_state: CaState::Open,
            prior_cwnd: 0,
            now_us,
            lsndtime: 0,
            sk_pacing_rate: 0,
            sk_gso_max_size: GSO_LEGACY_MAX_SIZE,
        };
        tp.lsndtime = tp.tcp_jiffies32();
        tp
    }

    /// `tcp_jiffies32`: the event's time in 1 ms ticks, offset by `INITIAL_JIFFIES`.
    pub fn tcp_jiffies32(&self) -> u32 {
        INITIAL_JIFFIES.wrapping_add((self.now_us / 1000) as u32)
    }
}

/// `struct ack_sample`: what one ACK delivered (`tcp_clean_rtx_queue` → `pkts_acked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckSample {
    pub pkts_acked: u32,
    /// RTT of this ACK in µs, -1 if it carried none (e.g. only retransmitted data was acked).
    pub rtt_us: i64,
    pub in_flight: u32,
}

/// `struct tcp_congestion_ops`. Hooks the kernel leaves NULL for an algorithm default to doing
/// nothing here.
pub trait CongestionOps: std::fmt::Debug {
    /// `.name`, as `net.ipv4.tcp_congestion_control` spells it.
    fn name(&self) -> &'static str;
    /// `.init`, from `tcp_init_congestion_control` once the connection is established.
    fn init(&mut self, _tp: &mut CongState) {}
    /// `.ssthresh`: the slow-start threshold after a loss (`tcp_init_cwnd_reduction`,
    /// `tcp_enter_loss`).
    fn ssthresh(&mut self, tp: &CongState) -> u32;
    /// `.cong_avoid`: grow cwnd for `acked` newly delivered packets, `ack` the ACK's sequence.
    fn cong_avoid(&mut self, tp: &mut CongState, ack: u32, acked: u32);
    /// `.set_state`, from `tcp_set_ca_state` before `ca_state` changes.
    fn set_state(&mut self, _tp: &mut CongState, _new_state: CaState) {}
    /// `.cwnd_event`, from `tcp_ca_event`.
    fn cwnd_event(&mut self, _tp: &mut CongState, _ev: CaEvent) {}
    /// `.pkts_acked`: an ACK's RTT sample. May set `snd_ssthresh` (HyStart).
    fn pkts_acked(&mut self, _tp: &mut CongState, _sample: &AckSample) {}
    /// `.undo_cwnd`: the cwnd to restore after a spurious reduction (`tcp_undo_cwnd_reduction`).
    fn undo_cwnd(&mut self, tp: &CongState) -> u32;
}

/// `tcp_in_slow_start` (include/net/tcp.h).
pub fn tcp_in_slow_start(tp: &CongState) -> bool {
    tp.snd_cwnd < tp.snd_ssthresh
}

/// `tcp_is_cwnd_limited` (include/net/tcp.h): grow only if the last flight filled cwnd, or, in
/// slow start, until cwnd is twice the largest flight seen.
pub fn tcp_is_cwnd_limited(tp: &CongState) -> bool {
    if tp.is_cwnd_limited {
        return true;
    }
    if tcp_in_slow_start(tp) {
        return tp.snd_cwnd < tp.max_packets_out.saturating_mul(2);
    }
    false
}

/// `tcp_slow_start`: cwnd += acked, but not past ssthresh (nor the clamp). Returns the acks
/// left over past ssthresh, which the caller spends in congestion avoidance.
pub fn tcp_slow_start(tp: &mut CongState, acked: u32) -> u32 {
    let cwnd = tp.snd_cwnd.wrapping_add(acked).min(tp.snd_ssthresh);
    let left = acked.wrapping_sub(cwnd.wrapping_sub(tp.snd_cwnd));
    tp.snd_cwnd = cwnd.min(tp.snd_cwnd_clamp);
    left
}

/// `tcp_cong_avoid_ai`: cwnd += 1 per `w` packets acked, counting in `snd_cwnd_cnt`; credit
/// accumulated at a larger `w` first buys only one increment.
pub fn tcp_cong_avoid_ai(tp: &mut CongState, w: u32, acked: u32) {
    if tp.snd_cwnd_cnt >= w {
        tp.snd_cwnd_cnt = 0;
        tp.snd_cwnd += 1;
    }
    tp.snd_cwnd_cnt += acked;
    if tp.snd_cwnd_cnt >= w {
        let delta = tp.snd_cwnd_cnt / w;
        tp.snd_cwnd_cnt -= delta * w;
        tp.snd_cwnd += delta;
    }
    tp.snd_cwnd = tp.snd_cwnd.min(tp.snd_cwnd_clamp);
}

/// `tcp_reno_cong_avoid`: slow start below ssthresh, then +1 per cwnd acked.
pub fn tcp_reno_cong_avoid(tp: &mut CongState, _ack: u32, mut acked: u32) {
    if !tcp_is_cwnd_limited(tp) {
        return;
    }
    if tcp_in_slow_start(tp) {
        acked = tcp_slow_start(tp, acked);
        if acked == 0 {
            return;
        }
    }
    let w = tp.snd_cwnd;
    tcp_cong_avoid_ai(tp, w, acked);
}

/// `tcp_reno_ssthresh`: half the window, at least 2.
pub fn tcp_reno_ssthresh(tp: &CongState) -> u32 {
    (tp.snd_cwnd >> 1).max(2)
}

/// `tcp_reno_undo_cwnd`: back to the window before the reduction.
pub fn tcp_reno_undo_cwnd(tp: &CongState) -> u32 {
    tp.snd_cwnd.max(tp.prior_cwnd)
}

/// `tcp_reno`: Jacobson's slow start and congestion avoidance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reno;

impl CongestionOps for Reno {
    fn name(&self) -> &'static str {
        "reno"
    }

    fn ssthresh(&mut self, tp: &CongState) -> u32 {
        tcp_reno_ssthresh(tp)
    }

    fn cong_avoid(&mut self, tp: &mut CongState, ack: u32, acked: u32) {
        tcp_reno_cong_avoid(tp, ack, acked);
    }

    fn undo_cwnd(&mut self, tp: &CongState) -> u32 {
        tcp_reno_undo_cwnd(tp)
    }
}

/// `tcp_ca_find` (`net.ipv4.tcp_congestion_control`): a fresh, not yet initialised instance of
/// the named algorithm, or None for one this stack does not have.
pub fn tcp_ca_find(name: &str) -> Option<Box<dyn CongestionOps>> {
    match name {
        "cubic" => Some(Box::new(Cubic::new())),
        "reno" => Some(Box::new(Reno)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(cwnd: u32, ssthresh: u32) -> CongState {
        let mut tp = CongState::new(1448, 0);
        tp.snd_cwnd = cwnd;
        tp.snd_ssthresh = ssthresh;
        tp.is_cwnd_limited = true;
        tp
    }

    #[test]
    fn slow_start_doubles_per_round_of_acks() {
        let mut tp = limited(10, TCP_INFINITE_SSTHRESH);
        let mut reno = Reno;
        for expect in [20, 40, 80] {
            // One RTT: every packet of the window is acked, one ACK each.
            for _ in 0..tp.snd_cwnd {
                reno.cong_avoid(&mut tp, 0, 1);
            }
            assert_eq!(tp.snd_cwnd, expect);
        }
        assert_eq!(tp.snd_cwnd_cnt, 0);
    }

    #[test]
    fn slow_start_returns_leftover_past_ssthresh() {
        let mut tp = limited(10, 15);
        assert_eq!(tcp_slow_start(&mut tp, 8), 3);
        assert_eq!(tp.snd_cwnd, 15);
        // Below ssthresh nothing is left over.
        let mut tp = limited(10, 15);
        assert_eq!(tcp_slow_start(&mut tp, 4), 0);
        assert_eq!(tp.snd_cwnd, 14);
        // The clamp caps cwnd but the leftover is still what passed ssthresh.
        let mut tp = limited(10, 15);
        tp.snd_cwnd_clamp = 12;
        assert_eq!(tcp_slow_start(&mut tp, 8), 3);
        assert_eq!(tp.snd_cwnd, 12);
        // Reno spends the leftover in congestion avoidance: 3 of 15 counted.
        let mut tp = limited(10, 15);
        Reno.cong_avoid(&mut tp, 0, 8);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (15, 3));
    }

    #[test]
    fn reno_adds_one_per_window_acked() {
        let mut tp = limited(20, 10);
        for _ in 0..19 {
            Reno.cong_avoid(&mut tp, 0, 1);
        }
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (20, 19));
        Reno.cong_avoid(&mut tp, 0, 1);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (21, 0));
        for _ in 0..21 {
            Reno.cong_avoid(&mut tp, 0, 1);
        }
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (22, 0));
        // A stretch ACK of 50 at w = 22: two increments, 6 credits kept.
        Reno.cong_avoid(&mut tp, 0, 50);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (24, 6));
    }

    #[test]
    fn cong_avoid_ai_applies_credit_from_a_larger_w_gently() {
        let mut tp = limited(30, 10);
        tp.snd_cwnd_cnt = 25;
        // w dropped to 10 with 25 credits: one increment, credits restart from this ACK.
        tcp_cong_avoid_ai(&mut tp, 10, 1);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (31, 1));
        tp.snd_cwnd_clamp = 31;
        tcp_cong_avoid_ai(&mut tp, 10, 30);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (31, 1));
    }

    #[test]
    fn no_growth_unless_cwnd_limited() {
        let mut tp = limited(20, 10);
        tp.is_cwnd_limited = false;
        assert!(!tcp_is_cwnd_limited(&tp));
        Reno.cong_avoid(&mut tp, 0, 40);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (20, 0));
        // In slow start, growth continues while cwnd < 2 * the largest flight.
        let mut tp = limited(20, TCP_INFINITE_SSTHRESH);
        tp.is_cwnd_limited = false;
        tp.max_packets_out = 10;
        assert!(!tcp_is_cwnd_limited(&tp));
        tp.max_packets_out = 11;
        assert!(tcp_is_cwnd_limited(&tp));
        Reno.cong_avoid(&mut tp, 0, 2);
        assert_eq!(tp.snd_cwnd, 22);
        assert!(!tcp_is_cwnd_limited(&tp));
    }

    #[test]
    fn reno_ssthresh_and_undo() {
        let mut reno = Reno;
        assert_eq!(reno.ssthresh(&limited(20, 10)), 10);
        assert_eq!(reno.ssthresh(&limited(21, 10)), 10);
        assert_eq!(reno.ssthresh(&limited(3, 10)), 2);
        assert_eq!(reno.ssthresh(&limited(1, 10)), 2);
        let mut tp = limited(10, 10);
        tp.prior_cwnd = 20;
        assert_eq!(reno.undo_cwnd(&tp), 20);
        tp.snd_cwnd = 25;
        assert_eq!(reno.undo_cwnd(&tp), 25);
    }

    #[test]
    fn ca_find_by_sysctl_name() {
        assert_eq!(tcp_ca_find("cubic").map(|ca| ca.name()), Some("cubic"));
        assert_eq!(tcp_ca_find("reno").map(|ca| ca.name()), Some("reno"));
        assert!(tcp_ca_find("bbr").is_none());
        assert!(tcp_ca_find("").is_none());
    }

    #[test]
    fn new_socket_defaults() {
        let tp = CongState::new(1448, 5_000_000);
        assert_eq!(tp.snd_cwnd, TCP_INIT_CWND);
        assert_eq!(tp.snd_ssthresh, TCP_INFINITE_SSTHRESH);
        assert!(tcp_in_slow_start(&tp));
        // 5 s after boot is 5000 jiffies past INITIAL_JIFFIES.
        assert_eq!(tp.tcp_jiffies32().wrapping_sub(INITIAL_JIFFIES), 5000);
        assert_eq!(tp.lsndtime, tp.tcp_jiffies32());
    }
}
