//! `struct tcp_sock` (include/linux/tcp.h) with its `inet_connection_sock` and `sock` parts, and the
//! established and listening hash tables (net/ipv4/inet_hashtables.c).

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use serde::Serialize;

use super::tcp_cong::{CongState, CongestionOps};
use crate::skb::{Skb, SockWmem};
use crate::time::Cycle;

/// Index of a TCP socket in the stack's table.
pub type TcpSockId = usize;

crate::named_enum! {
    /// `enum tcp_state` (include/net/tcp_states.h), named as `ss` prints them.
    pub enum TcpState ("tcp state") {
        Established => "ESTAB",
        SynSent => "SYN-SENT",
        SynRecv => "SYN-RECV",
        FinWait1 => "FIN-WAIT-1",
        FinWait2 => "FIN-WAIT-2",
        TimeWait => "TIME-WAIT",
        Close => "CLOSE",
        CloseWait => "CLOSE-WAIT",
        LastAck => "LAST-ACK",
        Listen => "LISTEN",
        Closing => "CLOSING",
    }
}

/// `TCPCB_*` scoreboard bits of a sent skb (`TCP_SKB_CB(skb)->sacked`).
pub mod sacked {
    pub const ACKED: u8 = 0x01;
    pub const RETRANS: u8 = 0x02;
    pub const LOST: u8 = 0x04;
    /// `TCPCB_EVER_RETRANS`.
    pub const EVER_RETRANS: u8 = 0x80;
}

/// One skb on the write queue (`sk_write_queue` + `tcp_rtx_queue`): the original, which stays
/// until `tcp_clean_rtx_queue` frees it on the peer's ACK. Data starts at the payload.
#[derive(Debug)]
pub struct TxSkb {
    pub seq: u32,
    pub end_seq: u32,
    /// `TCP_SKB_CB(skb)->tcp_flags`: SYN, FIN and PSH the segment carries.
    pub flags: u8,
    pub skb: Skb,
    pub sacked: u8,
    /// `skb->skb_mstamp_ns` of the latest transmission (cycles).
    pub tx_time: Cycle,
    /// Sent at least once.
    pub sent: bool,
    /// `tcp_rate_skb_sent`: bytes delivered, and when, as this skb was (last) sent.
    pub delivered_at_send: u64,
    pub delivered_stamp: Cycle,
}

impl TxSkb {
    pub fn len(&self) -> u32 {
        self.end_seq.wrapping_sub(self.seq)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn payload_len(&self) -> usize {
        self.skb.len()
    }
}

/// One skb on `sk_receive_queue` or the out-of-order queue; data starts at the payload.
#[derive(Debug)]
pub struct RxSkb {
    pub seq: u32,
    pub skb: Skb,
    pub fin: bool,
}

impl RxSkb {
    pub fn end_seq(&self) -> u32 {
        self.seq
            .wrapping_add(self.skb.len() as u32)
            .wrapping_add(u32::from(self.fin))
    }
}

/// What the retransmit timer (`icsk_retransmit_timer`) is armed for (`ICSK_TIME_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    Retrans,
    Probe0,
    LossProbe,
}

/// `struct inet_connection_sock::icsk_ack`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AckState {
    /// `ICSK_ACK_SCHED`: an ACK is owed.
    pub pending: bool,
    /// The delayed-ACK timer's deadline (`ICSK_ACK_TIMER`).
    pub timer: Option<Cycle>,
    /// `ato` in cycles.
    pub ato: Cycle,
    /// Segments still to be ACKed at once (`quick`).
    pub quick: u32,
    /// Interactive mode (`icsk_ack.pingpong` >= `TCP_PINGPONG_THRESH`).
    pub pingpong: bool,
    /// `lrcvtime`: when data last arrived.
    pub lrcvtime: Cycle,
    /// `rcv_mss`: the peer's estimated segment size.
    pub rcv_mss: u32,
}

/// The options this connection negotiated (`struct tcp_options_received`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RxOpt {
    pub tstamp_ok: bool,
    pub sack_ok: bool,
    pub wscale_ok: bool,
    /// The peer's window shift, applied to windows it sends.
    pub snd_wscale: u8,
    /// Our shift, applied to windows we send.
    pub rcv_wscale: u8,
    /// `ts_recent`: the TSval to echo.
    pub ts_recent: u32,
    /// `mss_clamp`: the peer's MSS (or `TCP_MAXSEG`).
    pub mss_clamp: u16,
}

/// A sleeping process on the socket's wait queue (`sk_sleep`): woken by `sk_data_ready`,
/// `sk_write_space`, `sk_state_change` or an accept.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wait {
    pub sleeping: bool,
    pub woken_at: Option<Cycle>,
}

impl Wait {
    pub fn sleep(&mut self) {
        self.sleeping = true;
        self.woken_at = None;
    }

    /// `sock_def_wakeup` and friends: wakes a sleeper at `now`.
    pub fn wake(&mut self, now: Cycle) {
        if self.sleeping {
            self.sleeping = false;
            self.woken_at = Some(now);
        }
    }
}

/// A socket error reported to the caller (`sk->sk_err`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockErr {
    ConnRefused,
    ConnReset,
    TimedOut,
}

/// RACK state (`struct tcp_sock::rack`, RFC 8985).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rack {
    /// Transmit time of the most recently sent segment that was delivered.
    pub mstamp: Cycle,
    pub end_seq: u32,
    /// The reordering window, µs: a quarter of the minimum RTT.
    pub reo_wnd_us: u64,
}

/// One point of a connection's congestion state over time, for the per-flow plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSample {
    pub at: Cycle,
    /// cwnd and packets in flight, in segments.
    pub cwnd: u32,
    pub in_flight: u32,
    /// Bytes acknowledged so far (goodput is its rate).
    pub bytes_acked: u64,
}

/// Samples are at least this many ns apart, which bounds them to 100 000 per simulated second.
pub const TCP_SAMPLE_GAP_NS: u64 = 10_000;

/// `struct tcp_sock`.
#[derive(Debug)]
pub struct TcpSock {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    /// The listener that owns this embryonic or not-yet-accepted socket.
    pub parent: Option<TcpSockId>,
    /// Listener: the accept queue (`icsk_accept_queue`) and its limit.
    pub accept_queue: VecDeque<TcpSockId>,
    pub backlog: u32,
    /// The application closed it; TCP finishes the close alone (`SOCK_DEAD`).
    pub orphan: bool,

    // Send sequence space.
    pub iss: u32,
    /// The peer's window, scaled.
    pub snd_wnd: u32,
    pub snd_wl1: u32,
    pub max_window: u32,
    /// `write_seq`: the end of the data queued by the application.
    pub write_seq: u32,
    /// `sk_write_queue` and the retransmit queue in one, by sequence; the first `sent_skbs` are
    /// the retransmit queue.
    pub write_queue: VecDeque<TxSkb>,
    /// `sk_wmem_queued` (bytes of truesize) against `sk_sndbuf`.
    pub wmem_queued: usize,
    pub sndbuf: usize,
    /// `sk_wmem_alloc`: clones in the qdisc and driver (TSQ's measure).
    pub wmem: Arc<SockWmem>,
    /// A FIN is queued (`tcp_send_fin` ran).
    pub fin_queued: bool,
    /// `TSQ_THROTTLED`: `tcp_write_xmit` stopped at `tcp_limit_output_bytes`; TX completion resumes it.
    pub tsq_throttled: bool,

    // Receive sequence space.
    pub irs: u32,
    pub rcv_nxt: u32,
    pub rcv_wnd: u32,
    /// `rcv_wup`: `rcv_nxt` when the window was last advertised.
    pub rcv_wup: u32,
    pub copied_seq: u32,
    pub rcv_ssthresh: u32,
    pub window_clamp: u32,
    pub rcvbuf: usize,
    /// `sk_rmem_alloc`.
    pub rmem_alloc: usize,
    pub receive_queue: VecDeque<RxSkb>,
    /// `out_of_order_queue`, keyed by the sequence relative to `irs` widened to 64 bits.
    pub ofo: BTreeMap<u64, RxSkb>,
    /// Start of the most recent out-of-order arrival: its SACK block goes first.
    pub ofo_last: Option<u32>,
    /// DSACK to send with the next ACK (`rx_opt.dsack` + `duplicate_sack`).
    pub dsack: Option<(u32, u32)>,
    /// `rcvq_space`: bytes copied to the user in the current measurement RTT, and its start.
    pub rcvq_space: (usize, u32, Cycle),
    /// The FIN arrived (`RCV_SHUTDOWN`).
    pub fin_received: bool,

    pub rx_opt: RxOpt,
    /// `advmss`: the MSS we announced.
    pub advmss: u32,
    /// `TCP_MAXSEG` set by the user (0: none).
    pub user_mss: u16,
    /// Timestamp offset (`tsoffset`).
    pub tsoffset: u32,

    // RTT and RTO (RFC 6298 as `tcp_rtt_estimator` keeps them).
    pub mdev_us: u32,
    pub mdev_max_us: u32,
    pub rttvar_us: u32,
    pub rtt_seq: u32,
    pub min_rtt_us: u32,
    /// `icsk_rto` in µs.
    pub rto_us: u64,
    pub backoff: u32,
    /// `icsk_retransmits`: consecutive RTO (or SYN) retransmissions.
    pub retransmits: u32,
    pub total_retrans: u32,
    pub timer: Option<(TimerKind, Cycle)>,
    /// `retrans_stamp`: first retransmission of the current episode (`tcp_write_timeout`).
    pub retrans_stamp: Option<Cycle>,

    // Loss recovery.
    pub sacked_out: u32,
    pub lost_out: u32,
    pub retrans_out: u32,
    pub high_seq: u32,
    pub reordering: u32,
    pub prr_delivered: u32,
    pub prr_out: u32,
    pub prior_ssthresh: u32,
    pub undo_marker: Option<u32>,
    pub rack: Rack,
    /// `tlp_high_seq`: a probe is outstanding up to here.
    pub tlp_high_seq: Option<u32>,
    /// cwnd, ssthresh, `snd_una`, `snd_nxt`, `packets_out`, `srtt_us`, `mss_cache` and the CA
    /// state: the fields congestion control shares, in one place.
    pub cong: CongState,
    pub ca: Box<dyn CongestionOps>,

    pub ack: AckState,

    // Socket options and state the application sees.
    pub nodelay: bool,
    pub cork: bool,
    pub reuseaddr: bool,
    pub shut_rd: bool,
    pub shut_wr: bool,
    pub err: Option<SockErr>,
    pub wait: Wait,
    /// `SO_RCVBUF` / `SO_SNDBUF` were set (`SOCK_RCVBUF_LOCK` / `SOCK_SNDBUF_LOCK`): no autotuning.
    pub rcvbuf_locked: bool,
    pub sndbuf_locked: bool,

    // TCP_INFO and ss -ti.
    pub segs_in: u64,
    pub segs_out: u64,
    pub data_segs_in: u64,
    pub data_segs_out: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub delivered: u32,
    /// Bytes delivered (cumulatively ACKed or SACKed), for the delivery rate.
    pub delivered_bytes: u64,
    /// The last data arrival (`tcpi_last_data_recv`).
    pub last_data_recv: Cycle,
    /// Delivery rate sample: bytes delivered and the interval (µs) of the latest sample.
    pub rate_sample: (u64, u64),
    /// Bytes and skbs held on the retransmit queue, and their peaks.
    pub rtx_bytes_peak: usize,
    pub rtx_skbs_peak: usize,
    /// TIME_WAIT (or orphaned FIN_WAIT_2) lifetime end.
    pub tw_deadline: Option<Cycle>,
    /// SYN / SYN-ACK retransmissions of this socket.
    pub syn_retrans: u32,
    /// Established at (for the report).
    pub established_at: Option<Cycle>,
    /// cwnd, in flight and bytes acknowledged over time, taken as ACKs arrive.
    pub samples: Vec<TcpSample>,
}

impl TcpSock {
    /// Bytes sent and not yet acknowledged (`tcp_packets_in_flight` counts segments).
    pub fn in_flight(&self) -> u32 {
        let out = self.cong.packets_out;
        out - (self.sacked_out + self.lost_out).min(out) + self.retrans_out
    }

    /// Sent skbs (the retransmit queue) are the head of the write queue.
    pub fn rtx_len(&self) -> usize {
        self.write_queue.iter().take_while(|s| s.sent).count()
    }

    /// The first unsent skb (`tcp_send_head`).
    pub fn send_head(&self) -> Option<usize> {
        self.write_queue.iter().position(|s| !s.sent)
    }

    /// Bytes the application may still read (`SIOCINQ`).
    pub fn inq(&self) -> u32 {
        let fin = u32::from(self.fin_received);
        self.rcv_nxt
            .wrapping_sub(self.copied_seq)
            .saturating_sub(fin)
    }

    /// Bytes queued and not acknowledged (`SIOCOUTQ`).
    pub fn outq(&self) -> u32 {
        self.write_seq.wrapping_sub(self.cong.snd_una)
    }

    /// The 64-bit offset of `seq` from `irs`, given that `seq` lies within 2^31 of `rcv_nxt`.
    pub fn rcv_ext(&self, seq: u32) -> u64 {
        let base = u64::from(self.rcv_nxt.wrapping_sub(self.irs));
        let delta = seq.wrapping_sub(self.rcv_nxt) as i32;
        base.wrapping_add_signed(i64::from(delta))
    }

    /// Takes a [`TcpSample`] at `now` unless the last one is under `gap` cycles old.
    pub fn sample(&mut self, now: Cycle, gap: Cycle) {
        if self.samples.last().is_some_and(|s| now < s.at + gap) {
            return;
        }
        self.samples.push(TcpSample {
            at: now,
            cwnd: self.cong.snd_cwnd,
            in_flight: self.in_flight(),
            bytes_acked: self.bytes_acked,
        });
    }

    /// `local → remote`, naming the flow in plots.
    pub fn flow_name(&self) -> String {
        format!("{} → {}", self.local, self.remote)
    }

    pub fn is_synchronized(&self) -> bool {
        !matches!(
            self.state,
            TcpState::SynSent | TcpState::SynRecv | TcpState::Listen | TcpState::Close
        )
    }
}

/// All TCP sockets: slots by id (a closed socket's slot is freed), the established hash by
/// 4-tuple and the listeners by port.
#[derive(Debug, Default)]
pub struct TcpTable {
    socks: Vec<Option<TcpSock>>,
    ehash: BTreeMap<(SocketAddrV4, SocketAddrV4), TcpSockId>,
    listeners: BTreeMap<u16, TcpSockId>,
    /// Ports bound by sockets that are not in the ehash or listening yet (`bind` before
    /// `connect` / `listen`).
    bound: BTreeMap<TcpSockId, SocketAddrV4>,
    /// Sockets that ever existed, for the report (`ss` at the end), and their samples.
    pub closed: Vec<TcpSockInfo>,
    pub closed_samples: Vec<(String, Vec<TcpSample>)>,
}

impl TcpTable {
    pub fn insert(&mut self, sock: TcpSock) -> TcpSockId {
        if let Some(i) = self.socks.iter().position(Option::is_none) {
            self.socks[i] = Some(sock);
            return i;
        }
        self.socks.push(Some(sock));
        self.socks.len() - 1
    }

    pub fn get(&self, id: TcpSockId) -> Option<&TcpSock> {
        self.socks.get(id).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, id: TcpSockId) -> Option<&mut TcpSock> {
        self.socks.get_mut(id).and_then(Option::as_mut)
    }

    pub fn ids(&self) -> Vec<TcpSockId> {
        (0..self.socks.len())
            .filter(|&i| self.socks[i].is_some())
            .collect()
    }

    /// `__inet_lookup_established` alone.
    pub fn lookup_exact(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<TcpSockId> {
        self.ehash.get(&(local, remote)).copied()
    }

    /// `__inet_lookup_established` then `__inet_lookup_listener` for a segment from `remote` to `local`.
    pub fn lookup(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<TcpSockId> {
        self.ehash
            .get(&(local, remote))
            .copied()
            .or_else(|| self.lookup_listener(local))
    }

    fn lookup_listener(&self, local: SocketAddrV4) -> Option<TcpSockId> {
        let id = *self.listeners.get(&local.port())?;
        let ip = *self.get(id)?.local.ip();
        (ip.is_unspecified() || ip == *local.ip()).then_some(id)
    }

    /// `inet_ehash_insort`.
    pub fn hash(&mut self, id: TcpSockId) {
        self.bound.remove(&id);
        if let Some(s) = self.get(id) {
            self.ehash.insert((s.local, s.remote), id);
        }
    }

    /// `inet_csk_listen_start`.
    pub fn listen(&mut self, id: TcpSockId, port: u16) {
        self.bound.remove(&id);
        self.listeners.insert(port, id);
    }

    pub fn bind(&mut self, id: TcpSockId, addr: SocketAddrV4) {
        self.bound.insert(id, addr);
    }

    /// `inet_csk_get_port`'s conflict test: another socket holds the port on an overlapping address,
    /// unless both set `SO_REUSEADDR` and neither listens.
    pub fn port_in_use(&self, id: TcpSockId, addr: SocketAddrV4, reuse: bool) -> bool {
        let overlap =
            |a: &Ipv4Addr| a.is_unspecified() || addr.ip().is_unspecified() || a == addr.ip();
        let listening = self.listeners.get(&addr.port()).is_some_and(|&l| l != id);
        let held = self
            .bound
            .iter()
            .chain(self.ehash.iter().map(|((l, _), i)| (i, l)))
            .filter(|&(&i, _)| i != id)
            .any(|(&i, l)| {
                l.port() == addr.port()
                    && overlap(l.ip())
                    && !(reuse && self.get(i).is_some_and(|s| s.reuseaddr))
            });
        listening || held
    }

    /// `inet_put_port` + `inet_unhash`: the socket leaves every table and its slot is freed.
    pub fn remove(&mut self, id: TcpSockId) -> Option<TcpSock> {
        let s = self.socks.get_mut(id)?.take()?;
        self.ehash.remove(&(s.local, s.remote));
        if self.listeners.get(&s.local.port()) == Some(&id) {
            self.listeners.remove(&s.local.port());
        }
        self.bound.remove(&id);
        Some(s)
    }
}

/// One socket as `ss -tin` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpSockInfo {
    pub state: TcpState,
    pub local: String,
    pub remote: String,
    pub cwnd: u32,
    pub ssthresh: u32,
    /// Smoothed RTT and its variance, ms.
    pub rtt_ms: f64,
    pub rttvar_ms: f64,
    pub rto_ms: f64,
    pub mss: u32,
    pub rcv_space: u32,
    pub retrans: u32,
    pub bytes_sent: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_retrans: u64,
    pub segs_in: u64,
    pub segs_out: u64,
    pub data_segs_in: u64,
    pub data_segs_out: u64,
    /// Latest delivery-rate sample, bits per second.
    pub delivery_rate_bps: u64,
    /// Peak bytes and skbs held on the retransmit queue.
    pub rtx_queue_peak_bytes: usize,
    pub rtx_queue_peak_skbs: usize,
    pub congestion_control: &'static str,
}
