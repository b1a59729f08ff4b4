//! `net.ipv4.tcp_*` and `net.core.somaxconn`, with the kernel's defaults
//! (Documentation/networking/ip-sysctl.rst, Linux 6.x). The scenario's `host.stack.tcp:` section.

use serde::Deserialize;

use crate::stack::config::{config_error, StackConfigError};

/// The TCP sysctls the host's TCP reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpSysctl {
    /// `tcp_rmem`: min, default, max receive buffer (bytes of truesize).
    pub rmem: [usize; 3],
    /// `tcp_wmem`: min, default, max send buffer.
    pub wmem: [usize; 3],
    /// `tcp_syn_retries`: SYN retransmissions before `connect` fails with ETIMEDOUT.
    pub syn_retries: u32,
    /// `tcp_synack_retries`.
    pub synack_retries: u32,
    /// `tcp_retries2`: RTO retransmissions of data before the connection is aborted.
    pub retries2: u32,
    /// `tcp_congestion_control`: `cubic` or `reno`.
    pub congestion_control: String,
    /// `tcp_sack`.
    pub sack: bool,
    /// `tcp_dsack`: report duplicates with D-SACK (RFC 2883).
    pub dsack: bool,
    /// `tcp_timestamps` (1: on, with random per-connection offsets; here the offset comes from the seed).
    pub timestamps: bool,
    /// `tcp_window_scaling`.
    pub window_scaling: bool,
    /// `tcp_early_retrans`: 3 enables TLP (RFC 8985 tail loss probes); 0 disables it.
    pub early_retrans: u32,
    /// `tcp_recovery`: bit 0 enables RACK loss detection.
    pub recovery: u32,
    /// `tcp_limit_output_bytes`: TSQ's limit of bytes a socket may have in the qdisc and device.
    pub limit_output_bytes: usize,
    /// `tcp_slow_start_after_idle`.
    pub slow_start_after_idle: bool,
    /// `tcp_moderate_rcvbuf`: receive-buffer autotuning (`tcp_rcv_space_adjust`).
    pub moderate_rcvbuf: bool,
    /// `tcp_adv_win_scale`: the share of the buffer advertised as window (1: half).
    pub adv_win_scale: i32,
    /// `tcp_fin_timeout` in seconds: FIN_WAIT_2 lifetime of an orphaned socket.
    pub fin_timeout_s: u64,
    /// `tcp_max_syn_backlog`.
    pub max_syn_backlog: u32,
    /// `tcp_reordering`: the initial duplicate-ACK threshold.
    pub reordering: u32,
    /// `tcp_init_cwnd` is not a sysctl (route `initcwnd`); `TCP_INIT_CWND` is 10.
    pub initcwnd: u32,
    /// `net.core.somaxconn`: cap on a listener's backlog.
    pub somaxconn: u32,
    /// The route's `rto_min` (`ip route ... rto_min`), µs; `TCP_RTO_MIN` (200 ms) by default.
    pub rto_min_us: u64,
}

impl Default for TcpSysctl {
    fn default() -> Self {
        TcpSysctl {
            rmem: [4096, 131_072, 6_291_456],
            wmem: [4096, 16_384, 4_194_304],
            syn_retries: 6,
            synack_retries: 5,
            retries2: 15,
            congestion_control: "cubic".into(),
            sack: true,
            dsack: true,
            rto_min_us: super::consts::TCP_RTO_MIN_US,
            timestamps: true,
            window_scaling: true,
            early_retrans: 3,
            recovery: 1,
            limit_output_bytes: 1_048_576,
            slow_start_after_idle: true,
            moderate_rcvbuf: true,
            adv_win_scale: 1,
            fin_timeout_s: 60,
            max_syn_backlog: 4096,
            reordering: 3,
            initcwnd: 10,
            somaxconn: 4096,
        }
    }
}

impl TcpSysctl {
    pub fn validate(&self) -> Result<(), StackConfigError> {
        let field = |n: &str| format!("tcp.{n}");
        for (name, v) in [("rmem", self.rmem), ("wmem", self.wmem)] {
            if v[0] == 0 || v[0] > v[1] || v[1] > v[2] || v[2] > 1 << 30 {
                return Err(config_error(
                    field(name),
                    format!("{v:?} must be 1 <= min <= default <= max <= 1073741824"),
                ));
            }
        }
        if super::tcp_cong::tcp_ca_find(&self.congestion_control).is_none() {
            return Err(config_error(
                field("congestion_control"),
                format!("`{}` is not one of cubic, reno", self.congestion_control),
            ));
        }
        if !(1..=255).contains(&self.syn_retries) || !(1..=255).contains(&self.synack_retries) {
            return Err(config_error(
                field("syn_retries"),
                "syn_retries and synack_retries must be 1..=255",
            ));
        }
        if !(-31..=31).contains(&self.adv_win_scale) || self.adv_win_scale == 0 {
            return Err(config_error(
                field("adv_win_scale"),
                "must be -31..=31 and not 0",
            ));
        }
        for (name, v, lo, hi) in [
            ("initcwnd", u64::from(self.initcwnd), 1, 1000),
            ("reordering", u64::from(self.reordering), 1, 300),
            ("somaxconn", u64::from(self.somaxconn), 1, 65535),
            ("max_syn_backlog", u64::from(self.max_syn_backlog), 1, 65535),
            ("retries2", u64::from(self.retries2), 1, 255),
            ("fin_timeout_s", self.fin_timeout_s, 1, 3600),
            (
                "limit_output_bytes",
                self.limit_output_bytes as u64,
                1,
                1 << 30,
            ),
            (
                "rto_min_us",
                self.rto_min_us,
                1000,
                super::consts::TCP_RTO_MAX_US,
            ),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(config_error(
                    field(name),
                    format!("{v} is outside {lo}..={hi}"),
                ));
            }
        }
        Ok(())
    }
}
