//! TCP over IPv4, one module per kernel file it mirrors (net/ipv4/):
//!
//! | module | kernel file | what |
//! |---|---|---|
//! | [`sock`] | include/linux/tcp.h, net/ipv4/inet_hashtables.c | `struct tcp_sock`, ehash and listeners |
//! | [`tcp_calls`] | tcp.c, af_inet.c | the socket calls: sendmsg, recvmsg, close, shutdown, options, `tcp_get_info` |
//! | [`tcp_ipv4`] | tcp_ipv4.c | `tcp_v4_rcv`, lookup, `tcp_v4_send_reset`, `tcp_v4_connect` |
//! | [`tcp_input`] | tcp_input.c | the state machine, ACK processing, receive queues, loss detection |
//! | [`tcp_output`] | tcp_output.c | `tcp_write_xmit`, `tcp_transmit_skb`, ACKs, SYNs, probes |
//! | [`tcp_timer`] | tcp_timer.c | RTO, delayed ACK, zero-window probe, TLP, TIME_WAIT |
//! | [`tcp_cong`], [`tcp_cubic`] | tcp_cong.c, tcp_cubic.c | Reno and CUBIC with HyStart |
//! | [`sysctl`] | Documentation/networking/ip-sysctl.rst | `net.ipv4.tcp_*` |
//!
//! Times inside TCP are the kernel's: `tcp_mstamp` in µs and jiffies at HZ = 1000, converted from
//! the CPU's cycle clock at each event.

pub mod sock;
pub mod sysctl;
pub mod tcp_calls;
pub mod tcp_cong;
pub mod tcp_cubic;
pub mod tcp_input;
pub mod tcp_ipv4;
pub mod tcp_output;
pub mod tcp_timer;

use std::net::SocketAddrV4;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::wire::tcp::TcpRepr;

/// The kernel's TCP constants (include/net/tcp.h), times in µs.
pub mod consts {
    /// `TCP_RTO_MIN`: 200 ms.
    pub const TCP_RTO_MIN_US: u64 = 200_000;
    /// `TCP_RTO_MAX`: 120 s.
    pub const TCP_RTO_MAX_US: u64 = 120_000_000;
    /// `TCP_TIMEOUT_INIT`: 1 s (RFC 6298).
    pub const TCP_TIMEOUT_INIT_US: u64 = 1_000_000;
    /// `TCP_TIMEOUT_MIN`: 2 jiffies, the floor of a loss probe timeout (10 ms in `tcp_schedule_loss_probe`).
    pub const TCP_TIMEOUT_MIN_US: u64 = 10_000;
    /// `TCP_DELACK_MAX`: 200 ms.
    pub const TCP_DELACK_MAX_US: u64 = 200_000;
    /// `TCP_ATO_MIN` (and `TCP_DELACK_MIN`): 40 ms.
    pub const TCP_ATO_MIN_US: u64 = 40_000;
    /// `TCP_TIMEWAIT_LEN`: 60 s.
    pub const TCP_TIMEWAIT_LEN_US: u64 = 60_000_000;
    /// `TCP_MSS_DEFAULT`: RFC 1122's 536 when the peer announces none.
    pub const TCP_MSS_DEFAULT: u32 = 536;
    /// `TCP_MIN_MSS`.
    pub const TCP_MIN_MSS: u32 = 88;
    /// `MAX_TCP_WINDOW`: the largest `TCP_MAXSEG`.
    pub const MAX_TCP_WINDOW: u32 = 32767;
    /// `TCP_MAX_QUICKACKS`.
    pub const TCP_MAX_QUICKACKS: u32 = 16;
    /// Initial receive window in segments (`tcp_select_initial_window`: `TCP_INIT_CWND` × 2 × MSS
    /// rounded, 10 segments with the default buffers).
    pub const TCP_INIT_RCV_WND_SEGS: u32 = 10;
    /// `MAX_TCP_HEADER`: headroom of a TCP skb, room for every header below TCP.
    pub const MAX_TCP_HEADER: usize = 128 + 32;
    /// `SOCK_MIN_RCVBUF` / `SOCK_MIN_SNDBUF` (2 × `TCP_SKB_MIN_TRUESIZE`).
    pub const SOCK_MIN_RCVBUF: usize = 2304;
    pub const SOCK_MIN_SNDBUF: usize = 4608;
}

/// A received segment as `tcp_v4_rcv` hands it on: the header, its lengths and ends, and the skb
/// with data at the payload (`TCP_SKB_CB`).
#[derive(Debug)]
pub struct Segment {
    pub th: TcpRepr,
    pub payload_len: u32,
    /// Payload plus SYN and FIN.
    pub seq_len: u32,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub skb: Skb,
}

/// `tcp_clock_us()` on this CPU's clock.
pub fn tcp_now_us(ctx: &Ctx) -> u64 {
    ctx.clock.cycles_to_ns_floor(ctx.now) / 1000
}

/// `tcp_time_stamp_ts`: the millisecond timestamp clock plus the connection's offset.
pub fn tcp_time_stamp(ctx: &Ctx, tsoffset: u32) -> u32 {
    ((tcp_now_us(ctx) / 1000) as u32).wrapping_add(tsoffset)
}

/// `Tcp:` counters of /proc/net/snmp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TcpCounters {
    pub active_opens: u64,
    pub passive_opens: u64,
    pub attempt_fails: u64,
    pub estab_resets: u64,
    /// Sockets in ESTABLISHED or CLOSE_WAIT at the end (`CurrEstab`).
    pub curr_estab: u64,
    pub in_segs: u64,
    pub out_segs: u64,
    pub retrans_segs: u64,
    pub in_errs: u64,
    pub out_rsts: u64,
    pub in_csum_errors: u64,
}

/// The `TcpExt:` counters of /proc/net/netstat that `netstat -s` shows (the `LINUX_MIB_*` the host's
/// TCP moves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TcpExtCounters {
    /// RTO expiries (`TCPTimeouts`).
    #[serde(rename = "TCPTimeouts")]
    pub tcp_timeouts: u64,
    /// Retransmissions in fast recovery.
    #[serde(rename = "TCPFastRetrans")]
    pub tcp_fast_retrans: u64,
    /// Retransmissions after an RTO (loss state).
    #[serde(rename = "TCPSlowStartRetrans")]
    pub tcp_slow_start_retrans: u64,
    /// Tail loss probes sent (RFC 8985).
    #[serde(rename = "TCPLossProbes")]
    pub tcp_loss_probes: u64,
    /// Losses repaired by a probe.
    #[serde(rename = "TCPLossProbeRecovery")]
    pub tcp_loss_probe_recovery: u64,
    /// Fast recoveries entered with SACK / without.
    #[serde(rename = "TCPSackRecovery")]
    pub tcp_sack_recovery: u64,
    #[serde(rename = "TCPRenoRecovery")]
    pub tcp_reno_recovery: u64,
    /// Retransmissions the device queue refused.
    #[serde(rename = "TCPRetransFail")]
    pub tcp_retrans_fail: u64,
    /// SYN or SYN-ACK retransmissions.
    #[serde(rename = "TCPSynRetrans")]
    pub tcp_syn_retrans: u64,
    /// D-SACKs sent for old and for out-of-order duplicates; D-SACKs received.
    #[serde(rename = "TCPDSACKOldSent")]
    pub tcp_dsack_old_sent: u64,
    #[serde(rename = "TCPDSACKOfoSent")]
    pub tcp_dsack_ofo_sent: u64,
    #[serde(rename = "TCPDSACKRecv")]
    pub tcp_dsack_recv: u64,
    /// The delayed-ACK timer sent an ACK (`DelayedACKs`).
    #[serde(rename = "DelayedACKs")]
    pub delayed_acks: u64,
    /// A duplicate arrived: our ACK was probably lost (`DelayedACKLost`).
    #[serde(rename = "DelayedACKLost")]
    pub delayed_ack_lost: u64,
    /// Header prediction: in-order data and pure ACKs the fast path took (`TCPHPHits`, `TCPHPAcks`).
    #[serde(rename = "TCPHPHits")]
    pub tcp_hp_hits: u64,
    #[serde(rename = "TCPHPAcks")]
    pub tcp_hp_acks: u64,
    /// Segments queued out of order, and duplicates of queued ones.
    #[serde(rename = "TCPOFOQueue")]
    pub tcp_ofo_queue: u64,
    #[serde(rename = "TCPOFOMerge")]
    pub tcp_ofo_merge: u64,
    /// Data dropped for a zero window, and for a full receive buffer.
    #[serde(rename = "TCPZeroWindowDrop")]
    pub tcp_zero_window_drop: u64,
    #[serde(rename = "TCPRcvQDrop")]
    pub tcp_rcv_q_drop: u64,
    /// Our advertised window went to zero, and opened again.
    #[serde(rename = "TCPToZeroWindowAdv")]
    pub tcp_to_zero_window_adv: u64,
    #[serde(rename = "TCPFromZeroWindowAdv")]
    pub tcp_from_zero_window_adv: u64,
    /// New data segments sent (retransmissions excluded).
    #[serde(rename = "TCPOrigDataSent")]
    pub tcp_orig_data_sent: u64,
    /// Zero-window probes sent.
    #[serde(rename = "TCPWinProbe")]
    pub tcp_window_probes: u64,
    /// Connections aborted by close with unread data, and by too many retransmissions.
    #[serde(rename = "TCPAbortOnClose")]
    pub tcp_abort_on_close: u64,
    #[serde(rename = "TCPAbortOnTimeout")]
    pub tcp_abort_on_timeout: u64,
    /// RFC 5961 challenge ACKs sent.
    #[serde(rename = "TCPChallengeACK")]
    pub tcp_challenge_ack: u64,
    /// TIME_WAIT sockets that expired, and that an RST killed (`TWKilled`).
    #[serde(rename = "TW")]
    pub time_waited: u64,
    #[serde(rename = "TWKilled")]
    pub tcp_timewait_killed: u64,
    /// SYNs dropped for a full accept queue.
    pub listen_overflows: u64,
    pub listen_drops: u64,
    /// Segments rejected by PAWS.
    #[serde(rename = "PAWSEstab")]
    pub paws_estab_rejected: u64,
    /// `tcp_write_xmit` stopped by TSQ (`TCPTSQThrottled` is not a kernel MIB; the kernel only
    /// sets `TSQ_THROTTLED`, counted here to make TSQ visible).
    #[serde(rename = "TSQThrottled")]
    pub tcp_tsq_throttled: u64,
}
