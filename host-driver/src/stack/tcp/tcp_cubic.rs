//! CUBIC with HyStart (net/ipv4/tcp_cubic.c, Linux 6.x), in the kernel's fixed point.
//!
//! The window follows W(t) = C·(t − K)³ + W_max after each loss, with t in units of 1/1024 s
//! (`BICTCP_HZ`) and C = `bic_scale`·10/1024 ≈ 0.4; a Reno estimate keeps it TCP-friendly.
//! HyStart leaves slow start early when ACK trains stretch past half the minimum RTT or the
//! round's minimum RTT rises above `delay_min` by an eighth (clamped to 4–16 ms).

use super::tcp_cong::{
    tcp_cong_avoid_ai, tcp_in_slow_start, tcp_is_cwnd_limited, tcp_reno_undo_cwnd, tcp_slow_start,
    AckSample, CaEvent, CaState, CongState, CongestionOps, HZ,
};

/// `BICTCP_BETA_SCALE`: `beta` is in 1/1024.
pub const BICTCP_BETA_SCALE: u32 = 1024;
/// `BICTCP_HZ`: CUBIC's time unit is 2^-10 s.
const BICTCP_HZ: u32 = 10;
/// `HYSTART_ACK_TRAIN` bit of `hystart_detect`.
pub const HYSTART_ACK_TRAIN: u32 = 0x1;
/// `HYSTART_DELAY` bit of `hystart_detect`.
pub const HYSTART_DELAY: u32 = 0x2;
/// `HYSTART_MIN_SAMPLES`: RTT samples per round before the delay test runs.
const HYSTART_MIN_SAMPLES: u8 = 8;
/// `HYSTART_DELAY_MIN` / `HYSTART_DELAY_MAX` (µs): bounds of the delay-increase threshold.
const HYSTART_DELAY_MIN: u32 = 4000;
const HYSTART_DELAY_MAX: u32 = 16000;
/// `USEC_PER_SEC` / `USEC_PER_MSEC`.
const USEC_PER_SEC: u64 = 1_000_000;
const USEC_PER_MSEC: u64 = 1000;

/// The module parameters (/sys/module/tcp_cubic/parameters/*); `Default` is Linux's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CubicParams {
    pub fast_convergence: bool,
    /// Multiplicative decrease, in 1/1024.
    pub beta: u32,
    /// Applied at init only when HyStart is off; 0 keeps `TCP_INFINITE_SSTHRESH`.
    pub initial_ssthresh: u32,
    /// C scaled by 1024/10 (41 → C ≈ 0.4).
    pub bic_scale: u32,
    pub tcp_friendliness: bool,
    pub hystart: bool,
    /// [`HYSTART_ACK_TRAIN`] | [`HYSTART_DELAY`].
    pub hystart_detect: u32,
    /// HyStart runs only from this cwnd up.
    pub hystart_low_window: u32,
    /// Largest ACK spacing (µs) still counted as one train.
    pub hystart_ack_delta_us: u32,
}

impl Default for CubicParams {
    fn default() -> CubicParams {
        CubicParams {
            fast_convergence: true,
            beta: 717,
            initial_ssthresh: 0,
            bic_scale: 41,
            tcp_friendliness: true,
            hystart: true,
            hystart_detect: HYSTART_ACK_TRAIN | HYSTART_DELAY,
            hystart_low_window: 16,
            hystart_ack_delta_us: 2000,
        }
    }
}

/// `struct bictcp`, one per socket, plus the parameters and the factors `cubictcp_register`
/// precomputes from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cubic {
    /// Increase cwnd by 1 after this many ACKed packets.
    pub cnt: u32,
    /// W_max: cwnd before the last reduction (lowered by fast convergence).
    pub last_max_cwnd: u32,
    /// cwnd and jiffies of the last `bictcp_update` that recomputed `cnt`.
    pub last_cwnd: u32,
    pub last_time: u32,
    /// The curve's plateau (W_max, or cwnd when already above it).
    pub bic_origin_point: u32,
    /// K: time from epoch start to the plateau, in 2^-10 s.
    pub bic_k: u32,
    /// Minimum RTT seen (µs); 0 until the first sample.
    pub delay_min: u32,
    /// jiffies at the first ACK of congestion avoidance after a reduction; 0 = no epoch.
    pub epoch_start: u32,
    /// Packets ACKed since the Reno estimate last grew.
    pub ack_cnt: u32,
    /// The window Reno would have now (TCP-friendly region).
    pub tcp_cwnd: u32,
    /// HyStart: RTT samples taken this round.
    pub sample_cnt: u8,
    /// HyStart found the slow-start exit (until an RTO resets it).
    pub found: bool,
    /// HyStart: start of the round (`bictcp_clock_us`, µs as u32).
    pub round_start: u32,
    /// HyStart: the round ends when this `snd_nxt` is acked.
    pub end_seq: u32,
    /// HyStart: last ACK of the current train (µs as u32).
    pub last_ack: u32,
    /// HyStart: the round's minimum RTT (µs).
    pub curr_rtt: u32,
    params: CubicParams,
    beta_scale: u32,
    cube_rtt_scale: u32,
    cube_factor: u64,
}

impl Default for Cubic {
    fn default() -> Cubic {
        Cubic::new()
    }
}

/// `after(seq1, seq2)`: seq1 is later than seq2, modulo 2^32.
fn after(seq1: u32, seq2: u32) -> bool {
    (seq2.wrapping_sub(seq1) as i32) < 0
}

/// `usecs_to_jiffies` at HZ = 1000: rounds up.
fn usecs_to_jiffies(us: u32) -> u64 {
    u64::from(us).div_ceil(USEC_PER_MSEC)
}

/// `cubic_root`: cube root by a 64-entry table of the top bits and one Newton–Raphson step
/// (average error ~0.2%). Same integer steps as the kernel.
pub fn cubic_root(a: u64) -> u32 {
    // For x in [0..63]: v = cbrt(x << 18) - 1, cbrt(x) = (v[x] + 10) >> 6 (Willy Tarreau).
    const V: [u8; 64] = [
        0, 54, 54, 54, 118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156, 157, 161, 164,
        168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199, 200, 202, 204, 206, 209,
        211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229, 231, 232, 234, 236, 237, 239, 240,
        242, 244, 245, 246, 248, 250, 251, 252, 254,
    ];
    let fls = 64 - a.leading_zeros(); // fls64
    if fls < 7 {
        return (u32::from(V[a as usize]) + 35) >> 6;
    }
    let b = ((fls * 84) >> 8) - 1; // ≈ fls/3 - 1: the cube root's bit position
    let shift = (a >> (b * 3)) as usize;
    let x = ((u32::from(V[shift]) + 10) << b) >> 6;
    // x' = (2x + a/x²) / 3, with x(x-1) and ·341/1024 as the kernel approximates.
    let x = (2 * x).wrapping_add((a / (u64::from(x) * u64::from(x - 1))) as u32);
    (x.wrapping_mul(341)) >> 10
}

impl Cubic {
    /// CUBIC with Linux's default parameters.
    pub fn new() -> Cubic {
        Cubic::with_params(CubicParams::default())
    }

    /// `cubictcp_register`: precompute the scale factors, which assume an SRTT of 100 ms.
    pub fn with_params(params: CubicParams) -> Cubic {
        // Reno-friendly: Reno grows 3(1-β)/(1+β) as fast per ACK; ·8 for the >> 3 in update.
        let beta_scale =
            8 * (BICTCP_BETA_SCALE + params.beta) / 3 / (BICTCP_BETA_SCALE - params.beta);
        // 1024·C/rtt.
        let cube_rtt_scale = params.bic_scale * 10;
        // K = cbrt((W_max − cwnd)·rtt/C) in 2^-10 s: 2^(10 + 3·BICTCP_HZ) / (bic_scale·10).
        let cube_factor = (1u64 << (10 + 3 * BICTCP_HZ)) / u64::from(params.bic_scale * 10);
        Cubic {
            cnt: 0,
            last_max_cwnd: 0,
            last_cwnd: 0,
            last_time: 0,
            bic_origin_point: 0,
            bic_k: 0,
            delay_min: 0,
            epoch_start: 0,
            ack_cnt: 0,
            tcp_cwnd: 0,
            sample_cnt: 0,
            found: false,
            round_start: 0,
            end_seq: 0,
            last_ack: 0,
            curr_rtt: 0,
            params,
            beta_scale,
            cube_rtt_scale,
            cube_factor,
        }
    }

    /// `bictcp_reset`: everything but the HyStart round (the kernel's memset stops at it).
    fn bictcp_reset(&mut self) {
        self.cnt = 0;
        self.last_max_cwnd = 0;
        self.last_cwnd = 0;
        self.last_time = 0;
        self.bic_origin_point = 0;
        self.bic_k = 0;
        self.delay_min = 0;
        self.epoch_start = 0;
        self.ack_cnt = 0;
        self.tcp_cwnd = 0;
        self.found = false;
    }

    /// `bictcp_hystart_reset`: a new round ends when `snd_nxt` as of now is acked.
    fn bictcp_hystart_reset(&mut self, tp: &CongState) {
        let now = bictcp_clock_us(tp);
        self.round_start = now;
        self.last_ack = now;
        self.end_seq = tp.snd_nxt;
        self.curr_rtt = u32::MAX;
        self.sample_cnt = 0;
    }

    /// `bictcp_update`: recompute `cnt` (ACKs per cwnd increment) from the cubic curve and the
    /// Reno estimate.
    fn bictcp_update(&mut self, cwnd: u32, acked: u32, now: u32) {
        self.ack_cnt = self.ack_cnt.wrapping_add(acked);

        if self.last_cwnd == cwnd && (now.wrapping_sub(self.last_time) as i32) <= (HZ / 32) as i32 {
            return;
        }

        // The cubic part changes at most once per jiffy; a reduction zeroes epoch_start and so
        // forces it.
        if self.epoch_start == 0 || now != self.last_time {
            self.last_cwnd = cwnd;
            self.last_time = now;

            if self.epoch_start == 0 {
                self.epoch_start = now;
                self.ack_cnt = acked;
                self.tcp_cwnd = cwnd;
                if self.last_max_cwnd <= cwnd {
                    self.bic_k = 0;
                    self.bic_origin_point = cwnd;
                } else {
                    self.bic_k = cubic_root(
                        self.cube_factor
                            .wrapping_mul(u64::from(self.last_max_cwnd - cwnd)),
                    );
                    self.bic_origin_point = self.last_max_cwnd;
                }
            }

            // t = elapsed + one min RTT (aim where the curve will be when this ACK's data is
            // acked), in 2^-10 s. The s32 elapsed sign-extends as in the kernel.
            let elapsed = i64::from(now.wrapping_sub(self.epoch_start) as i32) as u64;
            let t = (elapsed.wrapping_add(usecs_to_jiffies(self.delay_min)) << BICTCP_HZ)
                / u64::from(HZ);
            let k = u64::from(self.bic_k);
            let offs = t.abs_diff(k);
            // C/rtt · (t − K)³, truncated to u32 as the kernel's `delta` is.
            let delta = (u64::from(self.cube_rtt_scale)
                .wrapping_mul(offs)
                .wrapping_mul(offs)
                .wrapping_mul(offs)
                >> (10 + 3 * BICTCP_HZ)) as u32;
            let bic_target = if t < k {
                self.bic_origin_point.wrapping_sub(delta)
            } else {
                self.bic_origin_point.wrapping_add(delta)
            };

            self.cnt = if bic_target > cwnd {
                cwnd / (bic_target - cwnd)
            } else {
                100 * cwnd // at or above the curve: grow very slowly
            };

            // Before any loss the curve has no plateau to aim at: at least 5% per RTT.
            if self.last_max_cwnd == 0 && self.cnt > 20 {
                self.cnt = 20;
            }
        }

        // TCP friendliness: grow tcp_cwnd by one per (cwnd · beta_scale / 8) ACKed packets,
        // Reno's rate for CUBIC's beta, and never be slower than it.
        if self.params.tcp_friendliness {
            let delta = (cwnd * self.beta_scale) >> 3;
            while self.ack_cnt > delta {
                self.ack_cnt -= delta;
                self.tcp_cwnd += 1;
            }
            if self.tcp_cwnd > cwnd {
                let max_cnt = cwnd / (self.tcp_cwnd - cwnd);
                if self.cnt > max_cnt {
                    self.cnt = max_cnt;
                }
            }
        }

        // At most 1 packet per 2 ACKed: 1.5x per RTT.
        self.cnt = self.cnt.max(2);
    }

    /// `hystart_ack_delay`: cushion for TSO/GRO aggregation, the time 4 · `sk_gso_max_size`
    /// takes at the pacing rate, at most 1 ms; none before a pacing rate exists.
    fn hystart_ack_delay(tp: &CongState) -> u32 {
        if tp.sk_pacing_rate == 0 {
            return 0;
        }
        USEC_PER_MSEC.min(u64::from(tp.sk_gso_max_size) * 4 * USEC_PER_SEC / tp.sk_pacing_rate)
            as u32
    }

    /// `hystart_update`: look for the slow-start exit in this RTT sample; on exit
    /// ssthresh = cwnd, so the next ACK is in congestion avoidance.
    fn hystart_update(&mut self, tp: &mut CongState, delay: u32) {
        if after(tp.snd_una, self.end_seq) {
            self.bictcp_hystart_reset(tp);
        }
        // Below the low window only the round is tracked (mainline since the January 2025 fix
        // "tcp_cubic: fix incorrect HyStart round start detection").
        if tp.snd_cwnd < self.params.hystart_low_window {
            return;
        }

        if self.params.hystart_detect & HYSTART_ACK_TRAIN != 0 {
            let now = bictcp_clock_us(tp);
            // ACKs closer than hystart_ack_delta_us belong to one train.
            if (now.wrapping_sub(self.last_ack) as i32) <= self.params.hystart_ack_delta_us as i32 {
                self.last_ack = now;
                // The sim has no fq qdisc, so `sk_pacing_status` is SK_PACING_NONE: a train
                // longer than delay_min/2 means the pipe is full.
                let threshold = (self.delay_min + Cubic::hystart_ack_delay(tp)) >> 1;
                // s32 compared with u32 in C: an unsigned comparison.
                if now.wrapping_sub(self.round_start) > threshold {
                    self.found = true;
                    tp.snd_ssthresh = tp.snd_cwnd;
                }
            }
        }

        if self.params.hystart_detect & HYSTART_DELAY != 0 {
            self.curr_rtt = self.curr_rtt.min(delay);
            if self.sample_cnt < HYSTART_MIN_SAMPLES {
                self.sample_cnt += 1;
            } else if self.curr_rtt
                > self.delay_min + (self.delay_min >> 3).clamp(HYSTART_DELAY_MIN, HYSTART_DELAY_MAX)
            {
                self.found = true;
                tp.snd_ssthresh = tp.snd_cwnd;
            }
        }
    }
}

/// `bictcp_clock_us`: `tcp_mstamp` truncated to u32.
fn bictcp_clock_us(tp: &CongState) -> u32 {
    tp.now_us as u32
}

impl CongestionOps for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    /// `cubictcp_init`.
    fn init(&mut self, tp: &mut CongState) {
        self.bictcp_reset();
        if self.params.hystart {
            self.bictcp_hystart_reset(tp);
        }
        if !self.params.hystart && self.params.initial_ssthresh != 0 {
            tp.snd_ssthresh = self.params.initial_ssthresh;
        }
    }

    /// `cubictcp_recalc_ssthresh`: end the epoch, remember W_max (lowered by fast convergence
    /// when this loss came below the last one: the flow is yielding to a newcomer), and cut to
    /// cwnd·beta.
    fn ssthresh(&mut self, tp: &CongState) -> u32 {
        self.epoch_start = 0;
        self.last_max_cwnd = if tp.snd_cwnd < self.last_max_cwnd && self.params.fast_convergence {
            tp.snd_cwnd * (BICTCP_BETA_SCALE + self.params.beta) / (2 * BICTCP_BETA_SCALE)
        } else {
            tp.snd_cwnd
        };
        (tp.snd_cwnd * self.params.beta / BICTCP_BETA_SCALE).max(2)
    }

    /// `cubictcp_cong_avoid`: slow start below ssthresh, then follow the curve with the
    /// leftover ACKs.
    fn cong_avoid(&mut self, tp: &mut CongState, _ack: u32, mut acked: u32) {
        if !tcp_is_cwnd_limited(tp) {
            return;
        }
        if tcp_in_slow_start(tp) {
            acked = tcp_slow_start(tp, acked);
            if acked == 0 {
                return;
            }
        }
        self.bictcp_update(tp.snd_cwnd, acked, tp.tcp_jiffies32());
        tcp_cong_avoid_ai(tp, self.cnt, acked);
    }

    /// `cubictcp_state`: an RTO forgets the curve and restarts HyStart.
    fn set_state(&mut self, tp: &mut CongState, new_state: CaState) {
        if new_state == CaState::Loss {
            self.bictcp_reset();
            self.bictcp_hystart_reset(tp);
        }
    }

    /// `cubictcp_cwnd_event`: after an application-limited idle period, shift epoch_start by
    /// the idle time so the curve resumes where it was instead of jumping ahead.
    fn cwnd_event(&mut self, tp: &mut CongState, ev: CaEvent) {
        if ev == CaEvent::TxStart {
            let now = tp.tcp_jiffies32();
            let delta = now.wrapping_sub(tp.lsndtime) as i32;
            if self.epoch_start != 0 && delta > 0 {
                self.epoch_start = self.epoch_start.wrapping_add(delta as u32);
                if after(self.epoch_start, now) {
                    self.epoch_start = now;
                }
            }
        }
    }

    /// `cubictcp_acked`: track delay_min and feed HyStart.
    fn pkts_acked(&mut self, tp: &mut CongState, sample: &AckSample) {
        if sample.rtt_us < 0 {
            return;
        }
        // Samples within 1 s of a reduction are inflated by the recovery's queue.
        if self.epoch_start != 0
            && (tp.tcp_jiffies32().wrapping_sub(self.epoch_start) as i32) < HZ as i32
        {
            return;
        }
        let delay = u32::try_from(sample.rtt_us).unwrap_or(u32::MAX).max(1);
        if self.delay_min == 0 || self.delay_min > delay {
            self.delay_min = delay;
        }
        if !self.found && tcp_in_slow_start(tp) && self.params.hystart {
            self.hystart_update(tp, delay);
        }
    }

    /// `tcp_reno_undo_cwnd`, as cubictcp registers.
    fn undo_cwnd(&mut self, tp: &CongState) -> u32 {
        tcp_reno_undo_cwnd(tp)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tcp_cong::TCP_INFINITE_SSTHRESH;
    use super::*;

    /// Exact ⌊∛a⌋.
    fn icbrt(a: u64) -> u64 {
        let (mut lo, mut hi) = (0u64, 2_642_246); // 2642245³ < 2^64 ≤ 2642246³
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if u128::from(mid).pow(3) <= u128::from(a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    #[test]
    fn cubic_root_matches_exact_roots() {
        let mut values: Vec<u64> = (0..=100_000).collect();
        for r in 1..=2000u64 {
            values.extend([r * r * r - 1, r * r * r, r * r * r + 1]);
        }
        // Pseudo-random over the whole range of cube_factor · (W_max − cwnd).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 40));
        }
        let (mut worst, mut sum, mut n) = (0.0f64, 0.0f64, 0u32);
        for &a in &values {
            let got = u64::from(cubic_root(a));
            let exact = icbrt(a);
            let err = got.abs_diff(exact);
            // The 6-bit table plus one Newton step (measured over 2M samples): off by at most 2
            // below 1000, by under 0.25% above; on average under the kernel's stated 0.195%.
            if exact < 1000 {
                assert!(err <= 2, "cubic_root({a}) = {got}, exact {exact}");
            } else {
                let rel = err as f64 / exact as f64;
                assert!(rel < 0.0025, "cubic_root({a}) = {got}, exact {exact}");
                worst = worst.max(rel);
                sum += rel;
                n += 1;
            }
        }
        assert!(n > 50_000 && worst > 0.0);
        assert!(
            sum / f64::from(n) < 0.001_95,
            "mean error {}",
            sum / f64::from(n)
        );
        // Exact on perfect cubes that K takes in practice.
        assert_eq!(cubic_root(0), 0);
        assert_eq!(cubic_root(1), 1);
        assert_eq!(cubic_root(27), 3);
        assert_eq!(cubic_root(1 << 30), 1 << 10);
    }

    #[test]
    fn register_scale_factors() {
        let ca = Cubic::new();
        assert_eq!(ca.beta_scale, 15); // 8·1741/3/307
        assert_eq!(ca.cube_rtt_scale, 410);
        assert_eq!(ca.cube_factor, (1u64 << 40) / 410);
    }

    /// A cwnd-limited flow with window `cwnd` at `now_us`.
    fn flow(cwnd: u32, now_us: u64) -> CongState {
        let mut tp = CongState::new(1448, now_us);
        tp.snd_cwnd = cwnd;
        tp.is_cwnd_limited = true;
        tp
    }

    #[test]
    fn loss_cuts_to_beta_and_fast_convergence_lowers_w_max() {
        let mut ca = Cubic::new();
        let mut tp = flow(100, 0);
        ca.init(&mut tp);
        assert_eq!(ca.ssthresh(&tp), 100 * 717 / 1024);
        assert_eq!(ca.ssthresh(&tp), 70);
        assert_eq!(ca.last_max_cwnd, 100);
        assert_eq!(ca.epoch_start, 0);
        // The next loss comes at 80 < W_max: W_max = 80·(1 + β)/2, ssthresh = 80·β.
        tp.snd_cwnd = 80;
        assert_eq!(ca.ssthresh(&tp), 56);
        assert_eq!(ca.last_max_cwnd, 80 * 1741 / 2048);
        assert_eq!(ca.last_max_cwnd, 68);
        // Without fast convergence W_max is the cwnd at loss.
        let mut ca = Cubic::with_params(CubicParams {
            fast_convergence: false,
            ..CubicParams::default()
        });
        tp.snd_cwnd = 100;
        ca.ssthresh(&tp);
        tp.snd_cwnd = 80;
        ca.ssthresh(&tp);
        assert_eq!(ca.last_max_cwnd, 80);
        // Tiny windows: at least 2.
        tp.snd_cwnd = 2;
        assert_eq!(ca.ssthresh(&tp), 2);
    }

    #[test]
    fn window_follows_the_cubic_curve_after_a_loss() {
        const RTT_US: u64 = 100_000;
        const W_MAX: u32 = 100;
        let mut ca = Cubic::new();
        let mut tp = flow(W_MAX, 0);
        ca.init(&mut tp);
        tp.snd_ssthresh = 50; // congestion avoidance: HyStart stays out of it
        ca.pkts_acked(
            &mut tp,
            &AckSample {
                pkts_acked: 1,
                rtt_us: RTT_US as i64,
                in_flight: W_MAX,
            },
        );
        assert_eq!(ca.delay_min, RTT_US as u32);
        // Loss at W_max: cwnd = ssthresh = 70 (tcp_enter_recovery … tcp_end_cwnd_reduction).
        tp.snd_ssthresh = ca.ssthresh(&tp);
        tp.snd_cwnd = tp.snd_ssthresh;
        let w0 = tp.snd_cwnd;

        // Real-valued CUBIC: C = 410/1024 pkt/s³, K = ∛((W_max − W0)/C).
        let c = 410.0 / 1024.0;
        let k = (f64::from(W_MAX - w0) / c).cbrt();
        let curve = |t: f64| c * (t - k).powi(3) + f64::from(W_MAX);

        let epoch_us = 1_000_000u64;
        tp.now_us = epoch_us;
        let mut checked = 0;
        // Each RTT every packet of the window is acked, the ACKs evenly spread over the RTT.
        while tp.now_us < epoch_us + ((k + 3.0) * 1e6) as u64 {
            let acks = tp.snd_cwnd;
            let step = RTT_US / u64::from(acks);
            for _ in 0..acks {
                ca.cong_avoid(&mut tp, 0, 1);
                tp.now_us += step;
            }
            // The kernel aims one delay_min ahead: t = elapsed + RTT.
            let t = (tp.now_us - epoch_us) as f64 / 1e6 + RTT_US as f64 / 1e6;
            let w = curve(t);
            // cnt = cwnd / (target − cwnd) closes the gap to the curve within the next window
            // of ACKs, and target is recomputed every jiffy, so the integer cwnd stays within
            // one packet of W(t). The fixed point (t truncated to 1 ms and 2^-10 s, K's ~0.2%
            // cube-root error ≈ 8 ms, at most 21 packets/s of slope) adds under 0.3.
            let err = (f64::from(tp.snd_cwnd) - w).abs();
            assert!(err < 1.3, "t={t:.2}s cwnd {} vs W(t) {w:.2}", tp.snd_cwnd);
            checked += 1;
        }
        assert!(checked > 60);
        assert_eq!(ca.bic_origin_point, W_MAX);
        assert_eq!(ca.bic_k, cubic_root(ca.cube_factor * u64::from(W_MAX - w0)));
        // Concave below W_max, plateau at K, convex beyond: 3 s past K, W = 100 + 0.4·27.
        assert!(tp.snd_cwnd > W_MAX + 8, "cwnd {}", tp.snd_cwnd);
    }

    #[test]
    fn first_epoch_before_any_loss_grows_at_least_5_percent_per_rtt() {
        let mut ca = Cubic::new();
        let mut tp = flow(100, 1_000_000);
        ca.init(&mut tp);
        tp.snd_ssthresh = 100;
        ca.cong_avoid(&mut tp, 0, 1);
        assert_eq!(ca.last_max_cwnd, 0);
        assert_eq!(ca.cnt, 20);
    }

    #[test]
    fn reno_friendly_estimate_caps_cnt() {
        let mut ca = Cubic::new();
        let mut tp = flow(100, 1_000_000);
        ca.init(&mut tp);
        tp.snd_ssthresh = 50;
        ca.last_max_cwnd = 100; // on the plateau: the cubic part barely grows
        ca.cong_avoid(&mut tp, 0, 1);
        assert!(ca.cnt > 1000, "cnt {}", ca.cnt);
        // Reno would have grown by 2 packets: 100·15/8 = 187 ACKed packets each.
        tp.now_us += 50_000;
        ca.cong_avoid(&mut tp, 0, 375);
        assert_eq!(ca.tcp_cwnd, 102);
        assert_eq!(ca.cnt, 50); // cwnd / (tcp_cwnd − cwnd)
                                // 1 + 375 credits at 50 per packet.
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (107, 26));
    }

    #[test]
    fn loss_state_resets_the_curve() {
        let mut ca = Cubic::new();
        let mut tp = flow(100, 1_000_000);
        ca.init(&mut tp);
        tp.snd_ssthresh = ca.ssthresh(&tp);
        tp.snd_cwnd = tp.snd_ssthresh;
        ca.cong_avoid(&mut tp, 0, 1);
        assert_ne!(ca.epoch_start, 0);
        ca.found = true;
        tp.snd_nxt = 12345;
        ca.set_state(&mut tp, CaState::Loss);
        assert_eq!((ca.last_max_cwnd, ca.epoch_start, ca.cnt), (0, 0, 0));
        assert!(!ca.found);
        assert_eq!(ca.end_seq, 12345);
        assert_eq!(ca.curr_rtt, u32::MAX);
        // Other transitions keep it.
        ca.last_max_cwnd = 7;
        ca.set_state(&mut tp, CaState::Recovery);
        assert_eq!(ca.last_max_cwnd, 7);
        tp.prior_cwnd = 100;
        assert_eq!(ca.undo_cwnd(&tp), 100);
    }

    #[test]
    fn tx_start_after_idle_shifts_epoch_start() {
        let mut ca = Cubic::new();
        let mut tp = flow(100, 10_000_000);
        ca.init(&mut tp);
        tp.snd_ssthresh = ca.ssthresh(&tp);
        tp.snd_cwnd = tp.snd_ssthresh;
        ca.cong_avoid(&mut tp, 0, 1);
        let epoch = ca.epoch_start;
        assert_eq!(epoch, tp.tcp_jiffies32());
        // 200 ms later the last data goes out; the app then stays idle for 3 s.
        tp.now_us += 200_000;
        tp.lsndtime = tp.tcp_jiffies32();
        tp.now_us += 3_000_000;
        ca.cwnd_event(&mut tp, CaEvent::TxStart);
        assert_eq!(ca.epoch_start, epoch.wrapping_add(3000));
        // The shift never moves the epoch past now.
        ca.epoch_start = tp.tcp_jiffies32().wrapping_sub(10);
        tp.lsndtime = tp.tcp_jiffies32().wrapping_sub(500);
        ca.cwnd_event(&mut tp, CaEvent::TxStart);
        assert_eq!(ca.epoch_start, tp.tcp_jiffies32());
        // No epoch yet (slow start): nothing to shift; other events do nothing.
        ca.epoch_start = 0;
        ca.cwnd_event(&mut tp, CaEvent::TxStart);
        assert_eq!(ca.epoch_start, 0);
        ca.epoch_start = 5;
        ca.cwnd_event(&mut tp, CaEvent::CwndRestart);
        assert_eq!(ca.epoch_start, 5);
    }

    fn rtt(us: i64) -> AckSample {
        AckSample {
            pkts_acked: 1,
            rtt_us: us,
            in_flight: 0,
        }
    }

    #[test]
    fn hystart_delay_exit_when_round_min_rtt_rises_past_threshold() {
        let mut ca = Cubic::new();
        let mut tp = flow(32, 1_000_000);
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        tp.snd_nxt = 1000;
        ca.init(&mut tp);
        assert_eq!(ca.end_seq, 1000);
        // ACKs 3 ms apart: never an ACK train.
        fn ack(ca: &mut Cubic, tp: &mut CongState, us: i64) {
            tp.now_us += 3000;
            ca.pkts_acked(tp, &rtt(us));
        }
        // Round 1: min RTT 100 ms. Threshold: 100 ms/8 = 12.5 ms (within 4–16 ms).
        for _ in 0..10 {
            ack(&mut ca, &mut tp, 100_000);
        }
        assert_eq!((ca.delay_min, ca.curr_rtt), (100_000, 100_000));
        // Round 2 (snd_una passed end_seq): 112.5 ms is not more than the threshold.
        tp.snd_una = 1001;
        tp.snd_nxt = 3000;
        for _ in 0..20 {
            ack(&mut ca, &mut tp, 112_500);
        }
        assert!(!ca.found);
        assert_eq!(ca.end_seq, 3000);
        // Round 3: 113 ms. The first 8 samples only fill the round; the 9th decides.
        tp.snd_una = 3001;
        tp.snd_nxt = 6000;
        for _ in 0..8 {
            ack(&mut ca, &mut tp, 113_000);
        }
        assert!(!ca.found);
        assert_eq!(ca.sample_cnt, HYSTART_MIN_SAMPLES);
        ack(&mut ca, &mut tp, 113_000);
        assert!(ca.found);
        assert_eq!(tp.snd_ssthresh, 32);
        assert!(!tcp_in_slow_start(&tp));
        // Out of slow start, the next ACK is congestion avoidance on the curve.
        ca.cong_avoid(&mut tp, 0, 1);
        assert_ne!(ca.epoch_start, 0);
    }

    #[test]
    fn hystart_delay_threshold_is_clamped() {
        // 10 ms min RTT: 1.25 ms is clamped up to 4 ms.
        let mut ca = Cubic::with_params(CubicParams {
            hystart_detect: HYSTART_DELAY,
            ..CubicParams::default()
        });
        let mut tp = flow(32, 1_000_000);
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        ca.init(&mut tp);
        for us in [10_000; 9] {
            ca.pkts_acked(&mut tp, &rtt(us));
        }
        tp.snd_una = 1;
        tp.snd_nxt = 50;
        for _ in 0..9 {
            ca.pkts_acked(&mut tp, &rtt(14_000));
        }
        assert!(!ca.found);
        tp.snd_una = 51;
        tp.snd_nxt = 100;
        for _ in 0..9 {
            ca.pkts_acked(&mut tp, &rtt(14_001));
        }
        assert!(ca.found);
    }

    #[test]
    fn hystart_ack_train_exit_past_half_min_rtt() {
        let mut ca = Cubic::new();
        let mut tp = flow(64, 1_000_000);
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        tp.snd_nxt = 64;
        ca.init(&mut tp);
        // First ACK of the next round, 100 ms later: it starts the round (and train) now.
        tp.now_us += 100_000;
        tp.snd_una = 65;
        tp.snd_nxt = 200;
        ca.pkts_acked(&mut tp, &rtt(100_000));
        assert_eq!(ca.round_start, tp.now_us as u32);
        // ACKs 1 ms apart at a steady RTT: the train passes delay_min/2 = 50 ms on the 51st.
        for i in 1..=50 {
            tp.now_us += 1000;
            ca.pkts_acked(&mut tp, &rtt(100_000));
            assert!(!ca.found, "exit after {i} ms");
        }
        tp.now_us += 1000;
        ca.pkts_acked(&mut tp, &rtt(100_000));
        assert!(ca.found);
        assert_eq!(tp.snd_ssthresh, 64);
        // Once found, HyStart stays out until an RTO resets it.
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        ca.pkts_acked(&mut tp, &rtt(100_000));
        assert_eq!(tp.snd_ssthresh, TCP_INFINITE_SSTHRESH);
    }

    #[test]
    fn hystart_ignores_spread_acks_small_windows_and_recent_reductions() {
        let mut ca = Cubic::new();
        let mut tp = flow(64, 1_000_000);
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        ca.init(&mut tp);
        // ACKs 3 ms apart never form a train, however long the round.
        for _ in 0..100 {
            tp.now_us += 3000;
            ca.pkts_acked(&mut tp, &rtt(100_000));
        }
        assert!(!ca.found);
        // Below hystart_low_window only the round is tracked.
        let mut ca = Cubic::new();
        let mut tp = flow(15, 1_000_000);
        tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
        ca.init(&mut tp);
        for us in [10_000; 9].into_iter().chain([50_000; 20]) {
            ca.pkts_acked(&mut tp, &rtt(us));
        }
        assert!(!ca.found);
        tp.snd_una = 10;
        tp.snd_nxt = 99;
        ca.pkts_acked(&mut tp, &rtt(50_000));
        assert_eq!(ca.end_seq, 99);
        // No RTT, or within 1 s of the epoch start: the sample is discarded.
        ca.pkts_acked(&mut tp, &rtt(-1));
        assert_eq!(ca.delay_min, 10_000);
        ca.epoch_start = tp.tcp_jiffies32().wrapping_sub(999);
        ca.pkts_acked(&mut tp, &rtt(5_000));
        assert_eq!(ca.delay_min, 10_000);
        ca.epoch_start = tp.tcp_jiffies32().wrapping_sub(1000);
        ca.pkts_acked(&mut tp, &rtt(5_000));
        assert_eq!(ca.delay_min, 5_000);
    }

    #[test]
    fn initial_ssthresh_only_without_hystart() {
        let params = CubicParams {
            initial_ssthresh: 100,
            ..CubicParams::default()
        };
        let mut tp = CongState::new(1448, 0);
        Cubic::with_params(params).init(&mut tp);
        assert_eq!(tp.snd_ssthresh, TCP_INFINITE_SSTHRESH);
        Cubic::with_params(CubicParams {
            hystart: false,
            ..params
        })
        .init(&mut tp);
        assert_eq!(tp.snd_ssthresh, 100);
    }
}
