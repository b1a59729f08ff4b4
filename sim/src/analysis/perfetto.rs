//! Chrome trace-event JSON (the "JSON Array/Object Format" that ui.perfetto.dev and chrome://tracing
//! open): one process "NIC" with a thread per hardware unit, one process "Host" with a thread per CPU
//! (or whatever tracks the host's spans name), complete events ("X") for what each was doing, flow
//! arrows ("s"/"f") following each frame from track to track, and instant events ("i") for drops.
//!
//! Hardware units whose activity the runner did not supply as [`Span`]s are derived from the frame
//! stamps (measured spans for a unit replace the derived ones):
//! - wire RX: first beat (`wire_start`) to FIFO commit, which the MAC decides at the last beat;
//! - RX DMA: FIFO commit to descriptor write-back. The probes do not mark when the engine picks a frame
//!   up, so this is "queued or being written"; the engine keeps several frames in flight, which show
//!   as extra lanes;
//! - TX DMA: the doorbell write leaving the CPU (so the posted write's PCIe latency is included) to
//!   the frame being fully read into the TX FIFO (`tx_dma_done`);
//! - MAC/FIFO: `tx_dma_done` to the first beat on `m_axis_tx`, the frame waiting in the
//!   store-and-forward TX FIFO for the MAC (drawn only when it waited);
//! - wire TX: a zero-length slice at the first beat. No stamp marks the last beat, and the descriptor
//!   write-back does not wait for the wire (tx_wb.v), so only measured spans give wire TX its length.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use host_driver::accounting::{DropReason, FrameId, Outcome, Stage};
use host_driver::time::{Clock, Cycle};
use serde::Serialize;

use nicsim_scenario::latency::{outcome_label, FrameTimeline};

use super::{AnalysisError, Span};

pub const WIRE_RX: &str = "wire RX";
pub const MAC_FIFO: &str = "MAC/FIFO";
pub const RX_DMA: &str = "RX DMA";
pub const TX_DMA: &str = "TX DMA";
pub const WIRE_TX: &str = "wire TX";
/// The NIC's tracks, in display order (receive, then send, each in pipeline order). Span tracks with
/// other names belong to the host.
pub const NIC_UNITS: [&str; 5] = [WIRE_RX, RX_DMA, TX_DMA, MAC_FIFO, WIRE_TX];
/// Host thread for drops that no host span of the frame locates on a CPU.
pub const HOST_DROPS: &str = "drops";

const NIC_PID: u32 = 1;
const HOST_PID: u32 = 2;

/// Trace timestamps are microseconds; computed from whole picoseconds so one cycle of 6.4 ns prints
/// as exactly 0.0064.
fn micros(clock: Clock, cycles: Cycle) -> f64 {
    (u128::from(cycles) * u128::from(clock.ps_per_cycle)) as f64 / 1e6
}

/// Midpoint of a slice, where a flow event binds to it (or to a slice nested in it) without depending
/// on how a viewer orders events that share a timestamp.
fn micros_mid(clock: Clock, start: Cycle, end: Cycle) -> f64 {
    ((u128::from(start) + u128::from(end)) * u128::from(clock.ps_per_cycle)) as f64 / 2e6
}

fn stamp_of(t: &FrameTimeline, stage: Stage) -> Option<Cycle> {
    t.stamps.iter().find(|&&(s, _)| s == stage).map(|&(_, c)| c)
}

/// NIC unit spans derived from frame stamps, for the units not in `measured`.
fn nic_spans(timelines: &[FrameTimeline], measured: &BTreeSet<&str>) -> Vec<Span> {
    // (unit, from, to, name suffix, drawn when it lasted no time)
    const UNITS: [(&str, Stage, Stage, &str, bool); 5] = [
        (WIRE_RX, Stage::WireStart, Stage::FifoCommit, "", true),
        (RX_DMA, Stage::FifoCommit, Stage::DmaWriteBack, "", true),
        (TX_DMA, Stage::Doorbell, Stage::TxDmaDone, "", true),
        (
            MAC_FIFO,
            Stage::TxDmaDone,
            Stage::TxWire,
            " in TX FIFO",
            false,
        ),
        (WIRE_TX, Stage::TxWire, Stage::TxWire, " first beat", true),
    ];
    let mut out = Vec::new();
    for (unit, from, to, suffix, keep_empty) in UNITS {
        if measured.contains(unit) {
            continue;
        }
        for t in timelines {
            if let (Some(a), Some(b)) = (stamp_of(t, from), stamp_of(t, to)) {
                if b > a || (b == a && keep_empty) {
                    out.push(Span {
                        track: unit.to_owned(),
                        name: format!("frame {}{suffix}", t.id),
                        start: a,
                        end: b,
                        frame: Some(t.id),
                    });
                }
            }
        }
    }
    out
}

/// Chrome requires the slices of one thread to nest. Given one track's spans sorted by start (longest
/// first among equal starts), returns for each the first lane where it nests in or follows the spans
/// already there; lane 0 is the track's own thread, further lanes are extra threads.
fn pack_lanes(sorted: &[&Span]) -> Vec<usize> {
    // Per lane, the ends of the slices still open at the current start.
    let mut lanes: Vec<Vec<Cycle>> = Vec::new();
    sorted
        .iter()
        .map(|s| {
            for (i, open) in lanes.iter_mut().enumerate() {
                while open.last().is_some_and(|&e| e <= s.start) {
                    open.pop();
                }
                if open.last().is_none_or(|&e| e >= s.end) {
                    open.push(s.end);
                    return i;
                }
            }
            lanes.push(vec![s.end]);
            lanes.len() - 1
        })
        .collect()
}

/// Display order of tracks: NIC units in pipeline order, then host tracks in natural order (CPU2 before
/// CPU10).
fn track_order(track: &str) -> (u32, usize, &str, u64) {
    if let Some(i) = NIC_UNITS.iter().position(|&u| u == track) {
        return (NIC_PID, i, "", 0);
    }
    let digits = track.len() - track.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, number) = track.split_at(track.len() - digits);
    (
        HOST_PID,
        NIC_UNITS.len(),
        prefix,
        number.parse().unwrap_or(0),
    )
}

fn is_nic_drop(reason: DropReason) -> bool {
    matches!(
        reason,
        DropReason::NicCrcError
            | DropReason::NicRunt
            | DropReason::NicOversize
            | DropReason::NicAddressFilter
            | DropReason::NicFifoFull
            | DropReason::NicPhyError
    )
}

/// Event phases of the trace-event format that this trace uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Metadata: process and thread names and sort order.
    #[serde(rename = "M")]
    Metadata,
    /// A complete slice with `ts` and `dur`.
    #[serde(rename = "X")]
    Complete,
    #[serde(rename = "s")]
    FlowStart,
    #[serde(rename = "f")]
    FlowFinish,
    #[serde(rename = "i")]
    Instant,
}

/// The `args` object of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Args {
    Name {
        name: String,
    },
    SortIndex {
        sort_index: u32,
    },
    Frame {
        frame: FrameId,
        #[serde(skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
}

/// One trace event; fields a phase does not use are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEvent {
    pub ph: Phase,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cat: Option<&'static str>,
    pub pid: u32,
    pub tid: u32,
    /// Microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<f64>,
    /// Flow id, shared by a flow's start and finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Flow finish binding point: "e" = the enclosing slice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp: Option<&'static str>,
    /// Instant scope: "t" = thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Args>,
}

impl TraceEvent {
    fn new(ph: Phase, name: String, pid: u32, tid: u32) -> TraceEvent {
        TraceEvent {
            ph,
            name,
            cat: None,
            pid,
            tid,
            ts: None,
            dur: None,
            id: None,
            bp: None,
            s: None,
            args: None,
        }
    }

    fn metadata(name: &str, pid: u32, tid: u32, args: Args) -> TraceEvent {
        TraceEvent {
            args: Some(args),
            ..TraceEvent::new(Phase::Metadata, name.to_owned(), pid, tid)
        }
    }
}

/// Options of the JSON object format besides the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OtherData {
    pub ps_per_cycle: u64,
}

/// A whole trace in the JSON object format. Serialise it with `serde_json::to_writer` to stream it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChromeTrace {
    #[serde(rename = "traceEvents")]
    pub events: Vec<TraceEvent>,
    /// Viewers show nanoseconds: most hops are shorter than a microsecond.
    #[serde(rename = "displayTimeUnit")]
    pub display_time_unit: &'static str,
    #[serde(rename = "otherData")]
    pub other_data: OtherData,
}

/// What [`first_frames`] kept of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceCut {
    pub frames: u64,
    pub frames_cut: u64,
    /// When frames were cut: the last stamp of the last frame kept, where frame-less work stops.
    pub until: Option<Cycle>,
}

/// The part of a run a bounded trace shows: the `max_frames` frames that appeared first (by their
/// first stamp, then id; whatever their origin), their own spans, and the spans of no one frame
/// (interrupts, softirqs) that start by the last stamp of those frames.
pub fn first_frames<'a>(
    timelines: &'a [FrameTimeline],
    spans: &'a [Span],
    max_frames: u64,
) -> (Cow<'a, [FrameTimeline]>, Cow<'a, [Span]>, TraceCut) {
    let total = timelines.len() as u64;
    if total <= max_frames {
        let cut = TraceCut {
            frames: total,
            frames_cut: 0,
            until: None,
        };
        return (Cow::Borrowed(timelines), Cow::Borrowed(spans), cut);
    }
    let appeared = |t: &FrameTimeline| {
        let first = t.stamps.iter().map(|&(_, c)| c).min();
        (first.unwrap_or(Cycle::MAX), t.id)
    };
    let mut order: Vec<(Cycle, FrameId)> = timelines.iter().map(appeared).collect();
    order.sort_unstable();
    let ids: BTreeSet<FrameId> = order[..max_frames as usize]
        .iter()
        .map(|&(_, id)| id)
        .collect();
    let kept: Vec<FrameTimeline> = timelines
        .iter()
        .filter(|t| ids.contains(&t.id))
        .cloned()
        .collect();
    let until = kept
        .iter()
        .flat_map(|t| t.stamps.iter().map(|&(_, c)| c))
        .max()
        .unwrap_or(0);
    let spans = spans
        .iter()
        .filter(|s| s.frame.map_or(s.start <= until, |id| ids.contains(&id)))
        .cloned()
        .collect();
    let cut = TraceCut {
        frames: max_frames,
        frames_cut: total - max_frames,
        until: Some(until),
    };
    (Cow::Owned(kept), Cow::Owned(spans), cut)
}

/// A span of a host track that belongs to one frame: where a drop of that frame is drawn.
struct HostSlice<'a> {
    start: Cycle,
    end: Cycle,
    track: &'a str,
    lane: usize,
}

/// Builds the trace of a run.
pub fn chrome_trace(
    timelines: &[FrameTimeline],
    spans: &[Span],
    clock: Clock,
) -> Result<ChromeTrace, AnalysisError> {
    if let Some(s) = spans.iter().find(|s| s.end < s.start) {
        return Err(AnalysisError::SpanReversed {
            track: s.track.clone(),
            name: s.name.clone(),
            start: s.start,
            end: s.end,
        });
    }
    let measured: BTreeSet<&str> = spans.iter().map(|s| s.track.as_str()).collect();
    let derived = nic_spans(timelines, &measured);
    let outcomes: BTreeMap<FrameId, String> = timelines
        .iter()
        .map(|t| (t.id, outcome_label(&t.outcome)))
        .collect();

    // Per track, its spans in start order with their lanes.
    let mut tracks: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for s in spans.iter().chain(&derived) {
        tracks.entry(&s.track).or_default().push(s);
    }
    let mut placed: BTreeMap<&str, Vec<(&Span, usize)>> = BTreeMap::new();
    let mut host_slices: BTreeMap<FrameId, Vec<HostSlice>> = BTreeMap::new();
    for (track, mut list) in tracks {
        list.sort_by(|a, b| {
            (a.start, b.end, &a.name, a.frame).cmp(&(b.start, a.end, &b.name, b.frame))
        });
        let lanes = pack_lanes(&list);
        if track_order(track).0 == HOST_PID {
            for (s, &lane) in list.iter().zip(&lanes) {
                if let Some(id) = s.frame {
                    let (start, end) = (s.start, s.end);
                    host_slices.entry(id).or_default().push(HostSlice {
                        start,
                        end,
                        track,
                        lane,
                    });
                }
            }
        }
        placed.insert(track, list.into_iter().zip(lanes).collect());
    }

    // Drops: at the frame's last stamp, on wire RX for the NIC's, else on the thread of the frame's
    // latest host span that had begun by then.
    let mut drops: Vec<(FrameId, DropReason, Cycle, &str, usize)> = Vec::new();
    for t in timelines {
        let (Outcome::Dropped(reason), Some(at)) =
            (t.outcome, t.stamps.iter().map(|&(_, c)| c).max())
        else {
            continue;
        };
        let (track, lane) = if is_nic_drop(reason) {
            (WIRE_RX, 0)
        } else {
            host_slices
                .get(&t.id)
                .into_iter()
                .flatten()
                .filter(|h| h.start <= at)
                .max_by_key(|h| (h.start, h.end, track_order(h.track), h.lane))
                .map_or((HOST_DROPS, 0), |h| (h.track, h.lane))
        };
        drops.push((t.id, reason, at, track, lane));
    }
    for &(_, _, _, track, _) in &drops {
        placed.entry(track).or_default();
    }

    let mut order: Vec<&str> = placed.keys().copied().collect();
    order.sort_by_key(|t| track_order(t));

    let mut events = Vec::new();
    for (pid, name) in [(NIC_PID, "NIC"), (HOST_PID, "Host")] {
        let name = Args::Name {
            name: name.to_owned(),
        };
        events.push(TraceEvent::metadata("process_name", pid, 0, name));
        let sort_index = Args::SortIndex { sort_index: pid };
        events.push(TraceEvent::metadata(
            "process_sort_index",
            pid,
            0,
            sort_index,
        ));
    }
    let frame_args = |id: FrameId| Args::Frame {
        frame: id,
        outcome: outcomes.get(&id).cloned(),
    };
    let mut tids: BTreeMap<(&str, usize), (u32, u32)> = BTreeMap::new();
    // Per frame, the threads and times of its slices, for the flow arrows.
    let mut anchors: BTreeMap<FrameId, Vec<(Cycle, Cycle, u32, u32)>> = BTreeMap::new();
    let mut next_tid = 1u32;
    for track in order {
        let list = &placed[track];
        let pid = track_order(track).0;
        let lanes = list.iter().map(|&(_, lane)| lane + 1).max().unwrap_or(1);
        for lane in 0..lanes {
            let tid = next_tid;
            next_tid += 1;
            tids.insert((track, lane), (pid, tid));
            let name = if lane == 0 {
                track.to_owned()
            } else {
                format!("{track} #{}", lane + 1)
            };
            events.push(TraceEvent::metadata(
                "thread_name",
                pid,
                tid,
                Args::Name { name },
            ));
            let sort_index = Args::SortIndex { sort_index: tid };
            events.push(TraceEvent::metadata(
                "thread_sort_index",
                pid,
                tid,
                sort_index,
            ));
        }
        for &(s, lane) in list {
            let (pid, tid) = tids[&(track, lane)];
            if let Some(id) = s.frame {
                anchors
                    .entry(id)
                    .or_default()
                    .push((s.start, s.end, pid, tid));
            }
            events.push(TraceEvent {
                cat: Some(if pid == NIC_PID { "nic" } else { "host" }),
                ts: Some(micros(clock, s.start)),
                dur: Some(micros(clock, s.end - s.start)),
                args: s.frame.map(frame_args),
                ..TraceEvent::new(Phase::Complete, s.name.clone(), pid, tid)
            });
        }
    }

    // One arrow each time a frame's work moves to another thread: from its last slice on the old
    // thread to its first on the new one. Both ends bind to the slice enclosing their timestamp
    // ("bp": "e" for the finish).
    let mut flow_id = 0u64;
    for (id, mut list) in anchors {
        list.sort_unstable();
        for w in list.windows(2) {
            let ((a0, a1, from_pid, from_tid), (b0, b1, to_pid, to_tid)) = (w[0], w[1]);
            if (from_pid, from_tid) == (to_pid, to_tid) {
                continue;
            }
            flow_id += 1;
            let name = format!("frame {id}");
            events.push(TraceEvent {
                cat: Some("frame"),
                ts: Some(micros_mid(clock, a0, a1)),
                id: Some(flow_id),
                ..TraceEvent::new(Phase::FlowStart, name.clone(), from_pid, from_tid)
            });
            events.push(TraceEvent {
                cat: Some("frame"),
                ts: Some(micros_mid(clock, b0, b1)),
                id: Some(flow_id),
                bp: Some("e"),
                ..TraceEvent::new(Phase::FlowFinish, name, to_pid, to_tid)
            });
        }
    }

    for (id, reason, at, track, lane) in drops {
        let (pid, tid) = tids[&(track, lane)];
        events.push(TraceEvent {
            cat: Some("drop"),
            ts: Some(micros(clock, at)),
            s: Some("t"),
            args: Some(frame_args(id)),
            ..TraceEvent::new(Phase::Instant, format!("drop {reason}"), pid, tid)
        });
    }

    Ok(ChromeTrace {
        events,
        display_time_unit: "ns",
        other_data: OtherData {
            ps_per_cycle: clock.ps_per_cycle,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::accounting::Consumer;
    use serde_json::{json, Value};
    use Stage::*;

    /// The trace as a viewer reads it: serialised, then parsed back.
    fn trace_json(timelines: &[FrameTimeline], spans: &[Span]) -> Value {
        let trace = chrome_trace(timelines, spans, Clock::default()).unwrap();
        serde_json::from_str(&serde_json::to_string(&trace).unwrap()).unwrap()
    }

    fn frame(id: FrameId, stamps: &[(Stage, Cycle)], outcome: Outcome) -> FrameTimeline {
        FrameTimeline {
            id,
            stamps: stamps.to_vec(),
            outcome,
        }
    }

    fn cpu(track: &str, name: &str, start: Cycle, end: Cycle, frame: Option<FrameId>) -> Span {
        Span {
            track: track.into(),
            name: name.into(),
            start,
            end,
            frame,
        }
    }

    fn events(trace: &Value) -> &Vec<Value> {
        trace["traceEvents"].as_array().unwrap()
    }

    /// Thread names by (pid, tid).
    fn threads(trace: &Value) -> BTreeMap<(u64, u64), String> {
        events(trace)
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| {
                let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
                (key, e["args"]["name"].as_str().unwrap().to_owned())
            })
            .collect()
    }

    fn slices_on<'a>(trace: &'a Value, thread: &str) -> Vec<&'a Value> {
        let (pid, tid) = threads(trace)
            .into_iter()
            .find(|(_, n)| n == thread)
            .unwrap()
            .0;
        events(trace)
            .iter()
            .filter(|e| e["ph"] == "X" && e["pid"] == pid && e["tid"] == tid)
            .collect()
    }

    /// The structural rules a trace viewer relies on.
    fn check_well_formed(trace: &Value) {
        let threads = threads(trace);
        let mut by_thread: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
        let mut starts = BTreeMap::new();
        let mut finishes = BTreeMap::new();
        for e in events(trace) {
            let key = || (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            match e["ph"].as_str().unwrap() {
                "M" => {}
                "X" => {
                    assert!(
                        threads.contains_key(&key()),
                        "slice on an unnamed thread: {e}"
                    );
                    let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
                    assert!(dur >= 0.0);
                    by_thread.entry(key()).or_default().push((ts, ts + dur));
                }
                "s" => assert!(starts
                    .insert(e["id"].as_u64().unwrap(), e.clone())
                    .is_none()),
                "f" => assert!(finishes
                    .insert(e["id"].as_u64().unwrap(), e.clone())
                    .is_none()),
                "i" => assert!(threads.contains_key(&key())),
                other => panic!("unexpected phase {other}"),
            }
        }
        for (thread, slices) in &by_thread {
            assert!(
                slices.windows(2).all(|w| w[0].0 <= w[1].0),
                "ts not monotonic on {thread:?}"
            );
            let mut open: Vec<f64> = Vec::new();
            for &(ts, end) in slices {
                while open.last().is_some_and(|&e| e <= ts + 1e-9) {
                    open.pop();
                }
                assert!(
                    open.last().is_none_or(|&e| end <= e + 1e-9),
                    "slices overlap on {thread:?}"
                );
                open.push(end);
            }
        }
        assert_eq!(
            starts.keys().collect::<Vec<_>>(),
            finishes.keys().collect::<Vec<_>>()
        );
        for end in starts.values().chain(finishes.values()) {
            let key = (end["pid"].as_u64().unwrap(), end["tid"].as_u64().unwrap());
            let ts = end["ts"].as_f64().unwrap();
            assert!(
                by_thread[&key].iter().any(|&(a, b)| a <= ts && ts <= b),
                "flow end outside any slice: {end}"
            );
        }
    }

    #[test]
    fn receive_frames_become_nic_slices_cpu_slices_and_flows() {
        let frames = [
            frame(
                1,
                &[
                    (WireStart, 0),
                    (FifoCommit, 100),
                    (DmaWriteBack, 180),
                    (Irq, 200),
                    (AppRead, 900),
                ],
                Outcome::Delivered { port: 9 },
            ),
            // Committed while frame 1 is still being written: both are in flight in the DMA engine.
            frame(
                2,
                &[
                    (WireStart, 110),
                    (FifoCommit, 150),
                    (DmaWriteBack, 260),
                    (AppRead, 950),
                ],
                Outcome::Delivered { port: 9 },
            ),
        ];
        let spans = [
            cpu("CPU0", "net_rx_action", 250, 800, None),
            cpu("CPU0", "ip_rcv", 300, 350, Some(1)),
            cpu("CPU0", "ip_rcv", 360, 400, Some(2)),
            cpu("CPU10", "recvfrom", 880, 900, Some(1)),
            cpu("CPU2", "recvfrom", 930, 950, Some(2)),
        ];
        let trace = trace_json(&frames, &spans);
        check_well_formed(&trace);

        let names: Vec<_> = threads(&trace).into_values().collect();
        assert_eq!(
            names,
            [WIRE_RX, RX_DMA, "RX DMA #2", "CPU0", "CPU2", "CPU10"]
        );
        let times = |thread| -> Vec<(f64, f64)> {
            slices_on(&trace, thread)
                .iter()
                .map(|e| (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap()))
                .collect()
        };
        assert_eq!(times(RX_DMA), [(0.64, 0.512)], "commit to write-back");
        assert_eq!(times("RX DMA #2"), [(0.96, 0.704)]);
        let second = slices_on(&trace, "RX DMA #2");
        assert_eq!(second[0]["name"], "frame 2");
        assert_eq!(
            second[0]["args"],
            json!({"frame": 2, "outcome": "delivered:9"})
        );

        // Each frame visits wire RX, RX DMA, CPU0 and one more CPU: three arrows each.
        let flows = events(&trace).iter().filter(|e| e["ph"] == "s").count();
        assert_eq!(flows, 6);
    }

    #[test]
    fn overlapping_spans_go_to_extra_lanes_and_nested_ones_stay() {
        let spans = [
            cpu("CPU0", "net_rx_action", 0, 100, None),
            cpu("CPU0", "e1000_clean", 10, 90, None),
            cpu("CPU0", "late", 95, 120, None),
            cpu("CPU0", "later", 100, 130, None),
        ];
        let trace = trace_json(&[], &spans);
        check_well_formed(&trace);
        let lane0: Vec<_> = slices_on(&trace, "CPU0")
            .iter()
            .map(|e| e["name"].clone())
            .collect();
        assert_eq!(lane0, ["net_rx_action", "e1000_clean", "later"]);
        let lane1: Vec<_> = slices_on(&trace, "CPU0 #2")
            .iter()
            .map(|e| e["name"].clone())
            .collect();
        assert_eq!(lane1, ["late"]);
    }

    #[test]
    fn measured_unit_spans_replace_derived_ones_and_tx_units_are_derived() {
        let tx = frame(
            5,
            &[
                (SendTo, 0),
                (Doorbell, 100),
                (TxDmaDone, 300),
                (TxWire, 320),
                (TxWriteBack, 500),
            ],
            Outcome::Consumed(Consumer::Transmitted),
        );
        let derived = trace_json(std::slice::from_ref(&tx), &[]);
        check_well_formed(&derived);
        let wire = slices_on(&derived, WIRE_TX);
        assert_eq!(
            (wire[0]["name"].as_str(), wire[0]["dur"].as_f64()),
            (Some("frame 5 first beat"), Some(0.0))
        );

        let measured = [cpu(WIRE_TX, "frame 5", 320, 420, Some(5))];
        let trace = trace_json(&[tx], &measured);
        check_well_formed(&trace);
        let wire = slices_on(&trace, WIRE_TX);
        assert_eq!(wire.len(), 1);
        assert_eq!(wire[0]["dur"].as_f64(), Some(0.64));
        assert_eq!(slices_on(&trace, TX_DMA)[0]["ts"].as_f64(), Some(0.64));
        assert_eq!(slices_on(&trace, MAC_FIFO)[0]["name"], "frame 5 in TX FIFO");
    }

    #[test]
    fn drops_are_instants_on_the_unit_or_cpu_that_dropped() {
        let frames = [
            frame(
                1,
                &[(WireStart, 10)],
                Outcome::Dropped(DropReason::NicCrcError),
            ),
            frame(
                2,
                &[
                    (WireStart, 0),
                    (FifoCommit, 50),
                    (DmaWriteBack, 80),
                    (IpRcv, 400),
                ],
                Outcome::Dropped(DropReason::NoSocket),
            ),
            frame(
                3,
                &[
                    (WireStart, 0),
                    (FifoCommit, 60),
                    (DmaWriteBack, 90),
                    (IpRcv, 500),
                ],
                Outcome::Dropped(DropReason::IpCsum),
            ),
        ];
        let spans = [cpu("CPU1", "udp_rcv", 390, 410, Some(2))];
        let trace = trace_json(&frames, &spans);
        check_well_formed(&trace);
        let threads = threads(&trace);
        let drops: Vec<_> = events(&trace)
            .iter()
            .filter(|e| e["ph"] == "i")
            .map(|e| {
                let thread = &threads[&(e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap())];
                (
                    e["name"].as_str().unwrap().to_owned(),
                    thread.clone(),
                    e["args"]["frame"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            drops,
            [
                ("drop nic_crc_error".to_owned(), WIRE_RX.to_owned(), 1),
                ("drop no_socket".to_owned(), "CPU1".to_owned(), 2),
                ("drop ip_csum".to_owned(), HOST_DROPS.to_owned(), 3),
            ]
        );
    }

    #[test]
    fn a_bounded_trace_keeps_the_first_frames_and_the_work_until_they_ended() {
        let d = Outcome::Delivered { port: 9 };
        // Frame 4 appears first, though its id is last.
        let t: Vec<FrameTimeline> = (0..5)
            .map(|i| {
                let at = if i == 4 { 1 } else { i * 100 };
                frame(i, &[(WireStart, at), (AppRead, at + 50)], d)
            })
            .collect();
        let spans = [
            cpu("CPU0", "e1000_intr", 10, 20, None),
            cpu("CPU0", "net_rx_action", 160, 170, None),
            cpu("CPU0", "udp_rcv", 100, 120, Some(1)),
            cpu("CPU0", "udp_rcv", 300, 320, Some(3)),
        ];
        let (kept, kept_spans, cut) = first_frames(&t, &spans, 3);
        assert_eq!(
            cut,
            TraceCut {
                frames: 3,
                frames_cut: 2,
                until: Some(150)
            }
        );
        assert_eq!(kept.iter().map(|t| t.id).collect::<Vec<_>>(), [0, 1, 4]);
        let names: Vec<(&str, u64)> = kept_spans
            .iter()
            .map(|s| (s.name.as_str(), s.start))
            .collect();
        assert_eq!(names, [("e1000_intr", 10), ("udp_rcv", 100)]);
        let trace = trace_json(&kept, &kept_spans);
        assert!(!trace.to_string().contains("frame 3"), "{trace}");
        let (all, _, cut) = first_frames(&t, &spans, 5);
        assert_eq!((all.len(), cut.frames_cut, cut.until), (5, 0, None));
    }

    #[test]
    fn a_span_ending_before_it_starts_is_rejected() {
        let err =
            chrome_trace(&[], &[cpu("CPU0", "isr", 10, 5, None)], Clock::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "span `isr` on track `CPU0` ends at cycle 5, before it starts at 10"
        );
    }

    #[test]
    fn timestamps_are_exact_microseconds() {
        let clock = Clock::default();
        assert_eq!(micros(clock, 1), 0.0064);
        assert_eq!(micros(clock, 156_250_000), 1_000_000.0);
        assert_eq!(json!(micros(clock, 3)).to_string(), "0.0192");
    }
}
