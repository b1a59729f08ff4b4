//! `nicsim explain`: one frame's journey, stage by stage, from a run's frame ledger ([`crate::ledger`]):
//! the kernel or hardware function at each stage, its step in the reference path, the cycle, the
//! time in ns and since the stage before, and the CPUs that worked on the frame.

use std::fmt::Write as _;
use std::path::Path;

use host_driver::accounting::{FrameId, Stage};
use host_driver::time::Clock;

use crate::ledger::{self, LedgerError, LedgerRow};

/// Which side of the reference path a step is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Receive,
    Send,
}

/// The function that stamps `stage` (a kernel function, or the RTL block and signal for the NIC's
/// stages) and the step of shared/REFERENCE-PATH.md it belongs to: that file numbers the receive
/// path 1–12 ("3. DMA to the ring buffer", "11. UDP: udp_rcv") and the send path 1–6. This table is
/// the one place stages meet those numbers; a new stage must be placed here.
pub fn stage_function(stage: Stage) -> (&'static str, Side, u8) {
    use Side::{Receive as R, Send as S};
    match stage {
        Stage::WireStart => ("rx_mac: first beat on s_axis_rx", R, 1),
        Stage::FifoCommit => ("rx_fifo: frame committed (rx_evt_code ACCEPT)", R, 2),
        Stage::DmaWriteBack => ("rx_dma: descriptor written back (rx_wb_valid)", R, 3),
        Stage::Irq => ("hard IRQ entry", R, 4),
        Stage::Isr => ("e1000_intr", R, 4),
        Stage::NapiPoll => ("e1000_clean_rx_irq", R, 6),
        Stage::GroReceive => ("napi_gro_receive", R, 7),
        Stage::NetifReceive => ("__netif_receive_skb_core", R, 9),
        Stage::ArpRcv => ("arp_rcv", R, 9),
        Stage::IpRcv => ("ip_rcv", R, 10),
        Stage::IpLocalDeliver => ("ip_local_deliver", R, 10),
        Stage::IpForward => ("ip_forward", R, 10),
        Stage::IcmpRcv => ("icmp_rcv", R, 11),
        Stage::UdpRcv => ("udp_rcv", R, 11),
        Stage::TcpV4Rcv => ("tcp_v4_rcv", R, 11),
        Stage::TcpRcvEstablished => ("tcp_rcv_established", R, 11),
        Stage::SocketEnqueue => ("__udp_enqueue_schedule_skb / tcp_queue_rcv", R, 11),
        Stage::TcpDataReady => ("sk_data_ready (tcp_data_ready)", R, 11),
        Stage::AppRead => ("recvfrom / tcp_recvmsg", R, 12),
        Stage::SendTo => ("sendto", S, 1),
        Stage::TcpSendmsg => ("tcp_sendmsg", S, 2),
        Stage::TcpTransmitSkb => ("tcp_transmit_skb (the clone)", S, 2),
        Stage::TcpRetransmitSkb => ("tcp_retransmit_skb", S, 2),
        Stage::IpQueueXmit => ("ip_queue_xmit", S, 3),
        Stage::IpOutput => ("ip_output", S, 3),
        Stage::QdiscEnqueue => ("dev_queue_xmit", S, 4),
        Stage::StartXmit => ("e1000_xmit_frame", S, 5),
        Stage::Doorbell => ("TDT doorbell write (e1000_xmit_frame)", S, 5),
        Stage::TxDmaDone => ("tx_rd_resp: frame in the TX FIFO (tx_dma_valid)", S, 6),
        Stage::TxWire => ("tx_mac: first beat on m_axis_tx", S, 6),
        Stage::TxWriteBack => ("tx_wb: descriptor written back (tx_wb_valid)", S, 6),
        Stage::TxReclaim => ("e1000_clean_tx_irq", S, 6),
        Stage::TcpCleanRtxQueue => ("tcp_clean_rtx_queue (the original freed on the ACK)", S, 6),
    }
}

/// Which frame to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Id(FrameId),
    /// The frame with the longest first-to-last stage time (the lowest id among equals).
    Slowest,
    /// The first frame dropped for this reason.
    Dropped(String),
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pick::Id(id) => write!(f, "frame {id}"),
            Pick::Slowest => f.write_str("slowest frame"),
            Pick::Dropped(r) => write!(f, "frame dropped with reason `{r}`"),
        }
    }
}

/// First to last stamp, in cycles.
fn duration(row: &LedgerRow) -> u64 {
    let cycles = || row.stamps.iter().map(|&(_, c)| c);
    cycles().max().unwrap_or(0) - cycles().min().unwrap_or(0)
}

/// Finds the frame `pick` names in the ledger at `path`, reading it row by row.
pub fn find(path: &Path, pick: &Pick) -> Result<Option<LedgerRow>, LedgerError> {
    let mut found: Option<LedgerRow> = None;
    ledger::read(path, |row| match pick {
        Pick::Id(id) if row.id == *id => {
            found = Some(row);
            false
        }
        Pick::Dropped(reason) if row.fate == "dropped" && row.reason == *reason => {
            found = Some(row);
            false
        }
        Pick::Slowest if found.as_ref().is_none_or(|f| duration(&row) > duration(f)) => {
            found = Some(row);
            true
        }
        _ => true,
    })?;
    Ok(found)
}

/// One frame's story: a header line, then a row per stage in time order with its function, its
/// reference-path step, cycle, ns and the time since the stage before.
pub fn render(row: &LedgerRow, clock: Clock) -> String {
    let mut o = String::new();
    let size = row
        .size
        .map_or("size unknown".to_owned(), |s| format!("{s} bytes"));
    let flow = row.flow.map_or(String::new(), |f| format!(" flow {f},"));
    let cpus = match &row.cpus[..] {
        [] => "no CPU work recorded".to_owned(),
        [one] => format!("on CPU{one}"),
        many => {
            let names: Vec<String> = many.iter().map(|c| format!("CPU{c}")).collect();
            format!("on {}", names.join(" then "))
        }
    };
    // fmt::Write into a String cannot fail.
    let _ = writeln!(
        o,
        "frame {}: from {},{flow} {size}, {} ({}), {cpus}",
        row.id, row.origin, row.fate, row.reason
    );
    let _ = writeln!(
        o,
        "{:<16} {:<48} {:>5} {:>12} {:>14} {:>12}",
        "stage", "function", "step", "cycle", "ns", "+ns"
    );
    let mut stamps = row.stamps.clone();
    stamps.sort_by_key(|&(s, c)| (c, s));
    let mut previous = None;
    for &(stage, cycle) in &stamps {
        let (function, side, step) = stage_function(stage);
        let step = match side {
            Side::Receive => format!("RX {step}"),
            Side::Send => format!("TX {step}"),
        };
        let since = previous.map_or(String::new(), |p| {
            format!("+{:.1}", clock.cycles_to_ns(cycle - p))
        });
        let _ = writeln!(
            o,
            "{:<16} {function:<48} {step:>5} {cycle:>12} {:>14.1} {since:>12}",
            stage.name(),
            clock.cycles_to_ns(cycle)
        );
        previous = Some(cycle);
    }
    if let (Some(&(first, a)), Some(&(last, b))) = (stamps.first(), stamps.last()) {
        let _ = writeln!(
            o,
            "total {first} → {last}: {} cycles = {:.1} ns",
            b - a,
            clock.cycles_to_ns(b - a)
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_has_a_function_and_a_step_of_its_side() {
        for &stage in Stage::ALL {
            let (function, side, step) = stage_function(stage);
            assert!(!function.is_empty());
            let last = match side {
                Side::Receive => 12,
                Side::Send => 6,
            };
            assert!((1..=last).contains(&step), "{stage}: step {step}");
        }
    }

    #[test]
    fn a_story_lists_stages_in_time_order_with_the_time_between() {
        let row = LedgerRow {
            id: 4,
            origin: "wire".into(),
            flow: Some(0),
            size: Some(60),
            fate: "delivered".into(),
            reason: "port_5001".into(),
            cpus: vec![0, 1],
            stamps: vec![
                (Stage::WireStart, 100),
                (Stage::DmaWriteBack, 300),
                (Stage::AppRead, 1100),
            ],
        };
        let text = render(&row, Clock::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "frame 4: from wire, flow 0, 60 bytes, delivered (port_5001), on CPU0 then CPU1"
        );
        assert!(
            lines[2].starts_with("wire_start       rx_mac: first beat"),
            "{text}"
        );
        assert!(
            lines[3].contains(" RX 3 ") && lines[3].ends_with("+1280.0"),
            "{text}"
        );
        assert!(
            lines[4].starts_with("app_read") && lines[4].contains("recvfrom"),
            "{text}"
        );
        assert_eq!(
            lines[5],
            "total wire_start → app_read: 1000 cycles = 6400.0 ns"
        );
    }
}
