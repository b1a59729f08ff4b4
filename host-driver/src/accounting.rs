//! Per-frame accounting: stage stamps and the one terminal outcome of every frame.
//!
//! Mirrors the kernel's drop-reason machinery (include/net/dropreason-core.h, `kfree_skb_reason`): every
//! frame the host touches ends exactly once, delivered, consumed or dropped with a named reason. The
//! simulator merges these host records with the NIC's own by [`FrameId`] and checks conservation.
//!
//! Which wire frame a descriptor carries is known only out of band, to the logic analyser on the NIC's
//! probe ports ([`Observer`]). Host code never asks it directly: it fires a tracepoint ([`Probe`]), as
//! the kernel's code calls `trace_*` hooks (include/trace/events/) and leaves the bookkeeping to them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::time::Cycle;

/// Identity of one frame, unique across wire-originated and host-originated frames.
pub type FrameId = u64;

/// The logic analyser's view of the device: out-of-band frame identity that no real host could read.
///
/// The simulator implements it from the NIC's probe ports, the tests on their register-level double.
pub trait Observer {
    /// Which wire frame the NIC wrote into RX slot `slot`.
    fn rx_frame_id(&mut self, slot: u16) -> Option<FrameId>;
    /// The cycle the NIC wrote back the descriptor of that frame (in RX slot `slot`).
    fn rx_write_back_cycle(&mut self, slot: u16) -> Option<Cycle>;
    /// The frame the driver just posted on the TX ring (EOP at `slot`).
    fn tx_frame_posted(&mut self, slot: u16, id: FrameId);
    /// A fresh id for a frame the host creates (ids are unique across wire and host).
    fn new_frame_id(&mut self) -> FrameId;
}

/// The interrupt that started the current NAPI round: frames the round harvests that were written back
/// before it reached the CPU are stamped with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqRound {
    /// The CPU took the interrupt.
    pub irq: Cycle,
    /// `e1000_intr` had read ICR and masked the NIC.
    pub isr: Cycle,
}

/// What a tracepoint sees when it fires: the logic analyser, the trace, and the CPU's local time.
pub struct Probe<'a> {
    pub observer: &'a mut dyn Observer,
    pub trace: &'a mut Trace,
    pub now: Cycle,
}

impl Probe<'_> {
    /// Tracepoint in `e1000_clean_rx_irq`, for the descriptor just harvested from RX slot `slot` during
    /// the NAPI round `round`: names its frame and stamps it. Returns the frame id and whether the
    /// analyser knew it (if not, the frame gets a fresh host id).
    pub fn trace_clean_rx_irq(self, slot: u16, round: Option<IrqRound>) -> (FrameId, bool) {
        let known = self.observer.rx_frame_id(slot);
        let id = known.unwrap_or_else(|| self.observer.new_frame_id());
        // The round's interrupt announced only frames written back by the time it reached the CPU;
        // a later one is found by a poll already under way (and a frame of unknown write-back time
        // cannot be attributed to it).
        if let Some(round) = round {
            if self
                .observer
                .rx_write_back_cycle(slot)
                .is_some_and(|wb| wb <= round.irq)
            {
                self.trace.stamp(id, Stage::Irq, round.irq);
                self.trace.stamp(id, Stage::Isr, round.isr);
            }
        }
        self.trace.stamp(id, Stage::NapiPoll, self.now);
        (id, known.is_some())
    }

    /// Tracepoint in `e1000_xmit_frame`: frame `id` is on the TX ring with its EOP descriptor in `eop`.
    pub fn trace_xmit_frame(self, eop: u16, id: FrameId) {
        self.trace.stamp(id, Stage::StartXmit, self.now);
        self.observer.tx_frame_posted(eop, id);
    }
}

/// A name that is not one of an enum's stable report names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}

/// Declares a fieldless enum whose variants have stable snake_case names, used in reports and YAML.
/// The names are the one source for `name()`, `FromStr`, `Display` and serde. Exported, so that every
/// crate naming verdicts, reasons or stages (the link partner's included) declares them the same way.
#[macro_export]
macro_rules! named_enum {
    ($(#[$m:meta])* pub enum $ty:ident ($kind:literal) { $( $(#[$vm:meta])* $v:ident => $n:literal, )* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $ty { $( $(#[$vm])* $v, )* }

        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];

            /// Stable snake_case name used in reports and scenario files.
            pub fn name(self) -> &'static str {
                match self { $($ty::$v => $n,)* }
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::accounting::UnknownName;
            fn from_str(s: &str) -> Result<Self, $crate::accounting::UnknownName> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| $crate::accounting::UnknownName { kind: $kind, name: s.to_owned() })
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl ::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "enum": [$($n),*] })
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

named_enum! {
    /// A point on a frame's path where its cycle is stamped.
    pub enum Stage ("stage") {
        // Hardware, stamped by the simulator from the probe ports.
        /// First beat on `s_axis_rx`.
        WireStart => "wire_start",
        /// Committed to the RX FIFO (`rx_evt_code` ACCEPT).
        FifoCommit => "fifo_commit",
        /// RX descriptor write-back complete (`rx_wb_valid`).
        DmaWriteBack => "dma_write_back",
        // Host receive.
        /// The interrupt reached the CPU (hard IRQ entry).
        Irq => "irq",
        /// `e1000_intr` ran for the interrupt that announced this frame.
        Isr => "isr",
        /// `e1000_clean_rx_irq` harvested the descriptor.
        NapiPoll => "napi_poll",
        /// `napi_gro_receive`.
        GroReceive => "gro_receive",
        /// `__netif_receive_skb_core`.
        NetifReceive => "netif_receive",
        /// `ip_rcv`.
        IpRcv => "ip_rcv",
        /// `ip_local_deliver`: routed to this host (after reassembly, before `inet_protos`).
        IpLocalDeliver => "ip_local_deliver",
        /// `ip_forward`: routed through this host.
        IpForward => "ip_forward",
        /// `arp_rcv`.
        ArpRcv => "arp_rcv",
        /// `icmp_rcv`.
        IcmpRcv => "icmp_rcv",
        /// `udp_rcv`.
        UdpRcv => "udp_rcv",
        /// `tcp_v4_rcv`.
        TcpV4Rcv => "tcp_v4_rcv",
        /// `tcp_rcv_established` (or the state machine's step that took it in).
        TcpRcvEstablished => "tcp_rcv_established",
        /// Queued on the socket receive queue (`__udp_enqueue_schedule_skb`, `tcp_queue_rcv`).
        SocketEnqueue => "socket_enqueue",
        /// `sk_data_ready`: the TCP data is in order and readable.
        TcpDataReady => "tcp_data_ready",
        /// `recvfrom` returned it to the application.
        AppRead => "app_read",
        // Host send.
        /// `sendto` entered the kernel.
        SendTo => "send_to",
        /// `tcp_sendmsg` copied it into a write-queue skb.
        TcpSendmsg => "tcp_sendmsg",
        /// `tcp_transmit_skb` sent its first clone.
        TcpTransmitSkb => "tcp_transmit_skb",
        /// `tcp_retransmit_skb`: a retransmission, a frame of its own.
        TcpRetransmitSkb => "tcp_retransmit_skb",
        /// `ip_queue_xmit`.
        IpQueueXmit => "ip_queue_xmit",
        /// `ip_output`.
        IpOutput => "ip_output",
        /// `dev_queue_xmit`: enqueued on the qdisc.
        QdiscEnqueue => "qdisc_enqueue",
        /// `e1000_xmit_frame` placed it on the TX ring.
        StartXmit => "start_xmit",
        /// The TDT doorbell write that covers it left the CPU.
        Doorbell => "doorbell",
        /// The NIC finished reading it into the TX FIFO (`tx_dma_valid`).
        TxDmaDone => "tx_dma_done",
        /// First beat on `m_axis_tx`.
        TxWire => "tx_wire",
        /// TX descriptor DD written back (`tx_wb_valid`).
        TxWriteBack => "tx_write_back",
        /// `e1000_clean_tx_irq` reclaimed its descriptors and freed it.
        TxReclaim => "tx_reclaim",
        /// `tcp_clean_rtx_queue` freed the original on the peer's ACK.
        TcpCleanRtxQueue => "tcp_clean_rtx_queue",
    }
}

named_enum! {
    /// Who consumed a frame that the stack handled without delivering it to a socket.
    pub enum Consumer ("consumer") {
        /// `arp_rcv` processed it (request answered or cache updated).
        Arp => "arp",
        /// `icmp_echo` answered it.
        IcmpEcho => "icmp_echo",
        /// `ping_rcv`: an echo reply matched to a ping socket.
        Ping => "ping",
        /// Any other ICMP message consumed by `icmp_rcv`.
        Icmp => "icmp",
        /// `ip_defrag`: this fragment's data now lives in the reassembled packet.
        Reassembled => "reassembled",
        /// `ip_fragment`: sent as new fragment skbs, each its own frame.
        Fragmented => "fragmented",
        /// A host-originated frame the NIC sent; ended by the driver at TX reclaim.
        Transmitted => "transmitted",
        /// TCP consumed it: a pure ACK, a SYN or another segment without data for the reader.
        Tcp => "tcp",
        /// `tcp_clean_rtx_queue`: the peer acknowledged the data; the original is freed.
        TcpAcked => "tcp_acked",
    }
}

named_enum! {
    /// Why a frame was dropped. Host reasons are the kernel's `enum skb_drop_reason`
    /// (include/net/dropreason-core.h) in lower case without `SKB_DROP_REASON_`; NIC drops are
    /// `nic_*`; `wire_drop` is the cable's. docs/drop-reasons.md lists each with its counter and the kernel function it mirrors.
    pub enum DropReason ("drop reason") {
        // Cable: set by the simulator's netem (a scenario `faults:` drop toward the host).
        /// Lost on the cable before the NIC's PHY: the NIC never saw it.
        WireDrop => "wire_drop",
        // NIC: set by the simulator from `rx_evt_code`.
        /// Bad FCS (CRCERRS).
        NicCrcError => "nic_crc_error",
        /// Shorter than 64 B incl. FCS (RUC).
        NicRunt => "nic_runt",
        /// Longer than RLPML (ROC).
        NicOversize => "nic_oversize",
        /// Destination MAC not accepted by the filter (FLTC).
        NicAddressFilter => "nic_address_filter",
        /// Did not fit in the RX FIFO (MPC).
        NicFifoFull => "nic_fifo_full",
        /// PHY error flagged on `tuser` (RXERRC).
        NicPhyError => "nic_phy_error",
        // Host.
        /// `SKB_DROP_REASON_NOT_SPECIFIED`: freed with plain `kfree_skb` / `dev_kfree_skb_any`
        /// (bad ARP, bad RX descriptor, empty or unmappable TX frame, reassembly failure).
        NotSpecified => "not_specified",
        /// `SKB_DROP_REASON_NO_SOCKET` (UDP NoPorts).
        NoSocket => "no_socket",
        /// `SKB_DROP_REASON_PKT_TOO_SMALL`: a header longer than the data.
        PktTooSmall => "pkt_too_small",
        /// `SKB_DROP_REASON_UDP_CSUM` (InCsumErrors).
        UdpCsum => "udp_csum",
        /// `SKB_DROP_REASON_NETFILTER_DROP`.
        NetfilterDrop => "netfilter_drop",
        /// `SKB_DROP_REASON_OTHERHOST`: another station's unicast seen in promiscuous mode.
        Otherhost => "otherhost",
        /// `SKB_DROP_REASON_IP_CSUM`.
        IpCsum => "ip_csum",
        /// `SKB_DROP_REASON_IP_INHDR`: bad version, IHL or length; TTL exhausted on forward.
        IpInhdr => "ip_inhdr",
        /// `SKB_DROP_REASON_IP_NOPROTO`: no `inet_protos` entry for the IP protocol.
        IpNoproto => "ip_noproto",
        /// `SKB_DROP_REASON_SOCKET_RCVBUFF` (RcvbufErrors).
        SocketRcvbuff => "socket_rcvbuff",
        /// `SKB_DROP_REASON_NEIGH_FAILED`: ARP resolution gave up.
        NeighFailed => "neigh_failed",
        /// `SKB_DROP_REASON_NEIGH_QUEUEFULL`: too many packets waiting for ARP resolution.
        NeighQueuefull => "neigh_queuefull",
        /// `SKB_DROP_REASON_QDISC_DROP`: the qdisc was full.
        QdiscDrop => "qdisc_drop",
        /// `SKB_DROP_REASON_CPU_BACKLOG`: RPS target's input_pkt_queue above `netdev_max_backlog`.
        CpuBacklog => "cpu_backlog",
        /// `SKB_DROP_REASON_UNHANDLED_PROTO`: no `ptype_base` entry for the EtherType.
        UnhandledProto => "unhandled_proto",
        /// `SKB_DROP_REASON_ICMP_CSUM`.
        IcmpCsum => "icmp_csum",
        /// `SKB_DROP_REASON_IP_INADDRERRORS`: not for this host and forwarding is off.
        IpInaddrerrors => "ip_inaddrerrors",
        /// `SKB_DROP_REASON_IP_INNOROUTES`: no route to forward it on.
        IpInnoroutes => "ip_innoroutes",
        /// `SKB_DROP_REASON_PKT_TOO_BIG`: larger than the MTU with DF set.
        PktTooBig => "pkt_too_big",
        /// `SKB_DROP_REASON_DUP_FRAG`: a fragment already queued, or overlapping one.
        DupFrag => "dup_frag",
        /// `SKB_DROP_REASON_FRAG_REASM_TIMEOUT`.
        FragReasmTimeout => "frag_reasm_timeout",
        /// `SKB_DROP_REASON_IP_OUTNOROUTES`: no route for a locally sent packet.
        IpOutnoroutes => "ip_outnoroutes",
        /// `SKB_DROP_REASON_TCP_CSUM` (TCP InCsumErrors).
        TcpCsum => "tcp_csum",
        /// `SKB_DROP_REASON_TCP_FLAGS`: flags the state does not accept (no ACK, stray SYN...).
        TcpFlags => "tcp_flags",
        /// `SKB_DROP_REASON_TCP_ZEROWINDOW`: data while our window is zero (TCPZeroWindowDrop).
        TcpZerowindow => "tcp_zerowindow",
        /// `SKB_DROP_REASON_TCP_OLD_DATA`: every byte was received before (a duplicate).
        TcpOldData => "tcp_old_data",
        /// `SKB_DROP_REASON_TCP_OVERWINDOW`: data beyond the window.
        TcpOverwindow => "tcp_overwindow",
        /// `SKB_DROP_REASON_TCP_OFOMERGE`: out-of-order data already queued.
        TcpOfomerge => "tcp_ofomerge",
        /// `SKB_DROP_REASON_TCP_INVALID_SEQUENCE`: not within the receive window.
        TcpInvalidSequence => "tcp_invalid_sequence",
        /// `SKB_DROP_REASON_TCP_OLD_SEQUENCE`: entirely before the window.
        TcpOldSequence => "tcp_old_sequence",
        /// `SKB_DROP_REASON_TCP_RESET`: an RST (acted on or challenged).
        TcpReset => "tcp_reset",
        /// `SKB_DROP_REASON_TCP_INVALID_SYN`: a SYN on a synchronized connection.
        TcpInvalidSyn => "tcp_invalid_syn",
        /// `SKB_DROP_REASON_TCP_CLOSE`: data after the connection's receive side closed.
        TcpClose => "tcp_close",
        /// `SKB_DROP_REASON_TCP_LISTEN_OVERFLOW`: the accept queue is full.
        TcpListenOverflow => "tcp_listen_overflow",
        /// `SKB_DROP_REASON_TCP_INVALID_ACK_SEQUENCE`: the ACK does not match our SYN.
        TcpInvalidAckSequence => "tcp_invalid_ack_sequence",
        /// `SKB_DROP_REASON_TCP_TOO_OLD_ACK`.
        TcpTooOldAck => "tcp_too_old_ack",
        /// `SKB_DROP_REASON_TCP_ACK_UNSENT_DATA`: acknowledges data never sent.
        TcpAckUnsentData => "tcp_ack_unsent_data",
        /// `SKB_DROP_REASON_TCP_RFC7323_PAWS`: an old timestamp (PAWSEstabRejected).
        TcpRfc7323Paws => "tcp_rfc7323_paws",
        /// `SKB_DROP_REASON_TCP_TIMEWAIT_SOCKET` (6.x names it so): handled by a TIME_WAIT socket.
        TcpTimewaitSocket => "tcp_timewait_socket",
        /// `SKB_DROP_REASON_SOCKET_CLOSE`: freed with the socket (write queue of a reset connection).
        SocketClose => "socket_close",
        /// `SKB_DROP_REASON_PROTO_MEM`: the receive buffer is full (TCPRcvQDrop).
        ProtoMem => "proto_mem",
    }
}

/// How a frame's life on the host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Queued to the socket bound to `port` (UDP destination port).
    Delivered {
        port: u16,
    },
    Consumed(Consumer),
    Dropped(DropReason),
}

/// A frame received a second terminal outcome: a bookkeeping bug in the host, reported, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConservationError {
    pub id: FrameId,
    pub first: Outcome,
    pub second: Outcome,
    pub at: Cycle,
}

/// Everything recorded about one frame on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrameRecord {
    /// First stamp of each stage, in the order they happened.
    pub stamps: Vec<(Stage, Cycle)>,
    /// The terminal outcome and when it happened.
    pub outcome: Option<(Outcome, Cycle)>,
}

/// Stage stamps and terminal outcomes of every frame the host touched.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    frames: BTreeMap<FrameId, FrameRecord>,
    errors: Vec<ConservationError>,
}

impl Trace {
    /// Records `stage` for `id` at `at`, keeping only the first stamp per (frame, stage): a later stamp
    /// (say a retransmitted doorbell) does not move the time the frame first reached the stage.
    pub fn stamp(&mut self, id: FrameId, stage: Stage, at: Cycle) {
        let rec = self.frames.entry(id).or_default();
        if !rec.stamps.iter().any(|&(s, _)| s == stage) {
            rec.stamps.push((stage, at));
        }
    }

    /// Records the one terminal outcome of `id`; a second one is kept as a [`ConservationError`].
    pub fn end(&mut self, id: FrameId, outcome: Outcome, at: Cycle) {
        let rec = self.frames.entry(id).or_default();
        match rec.outcome {
            None => rec.outcome = Some((outcome, at)),
            Some((first, _)) => self.errors.push(ConservationError {
                id,
                first,
                second: outcome,
                at,
            }),
        }
    }

    pub fn frame(&self, id: FrameId) -> Option<&FrameRecord> {
        self.frames.get(&id)
    }

    /// Cycle at which `id` first reached `stage`.
    pub fn stamp_of(&self, id: FrameId, stage: Stage) -> Option<Cycle> {
        let rec = self.frames.get(&id)?;
        rec.stamps
            .iter()
            .find(|&&(s, _)| s == stage)
            .map(|&(_, c)| c)
    }

    pub fn outcome_of(&self, id: FrameId) -> Option<Outcome> {
        self.frames.get(&id)?.outcome.map(|(o, _)| o)
    }

    /// All frames by id.
    pub fn frames(&self) -> &BTreeMap<FrameId, FrameRecord> {
        &self.frames
    }

    pub fn conservation_errors(&self) -> &[ConservationError] {
        &self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for r in DropReason::ALL {
            assert_eq!(r.name().parse::<DropReason>(), Ok(*r));
            assert!(seen.insert(r.name()), "duplicate name {}", r.name());
            assert!(r
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
        for s in Stage::ALL {
            assert_eq!(s.name().parse::<Stage>(), Ok(*s));
        }
        assert_eq!(
            "bogus".parse::<Consumer>(),
            Err(UnknownName {
                kind: "consumer",
                name: "bogus".into()
            })
        );
    }

    #[test]
    fn first_stamp_wins_and_second_end_is_a_conservation_error() {
        let mut t = Trace::default();
        t.stamp(7, Stage::NapiPoll, 100);
        t.stamp(7, Stage::NapiPoll, 200);
        t.stamp(7, Stage::IpRcv, 150);
        assert_eq!(t.stamp_of(7, Stage::NapiPoll), Some(100));
        assert_eq!(
            t.frame(7).map(|r| r.stamps.clone()),
            Some(vec![(Stage::NapiPoll, 100), (Stage::IpRcv, 150)])
        );
        t.end(7, Outcome::Delivered { port: 9 }, 300);
        t.end(7, Outcome::Dropped(DropReason::NoSocket), 310);
        assert_eq!(t.outcome_of(7), Some(Outcome::Delivered { port: 9 }));
        assert_eq!(
            t.conservation_errors(),
            &[ConservationError {
                id: 7,
                first: Outcome::Delivered { port: 9 },
                second: Outcome::Dropped(DropReason::NoSocket),
                at: 310
            }]
        );
    }
}
