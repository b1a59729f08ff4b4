//! Per-stage latency and the critical path: where a frame's end-to-end time goes.
//!
//! A *hop* is the time from one stamped stage to the next one that happened (`dma_write_back → irq`).
//! Frames skip stages (a frame found by a poll already running has no `irq`), so hops are keyed by both
//! ends. A stamp earlier than a stage the frame must already have passed (an `irq` before the frame's
//! own descriptor write-back) was not caused by the frame: it is left out of the frame's path and
//! counted in [`LatencyReport::ignored`], so a misattributing stamp shows up instead of bending the
//! numbers. The stages follow their declaration order, except that the NIC writes a TX descriptor
//! back, and the driver reclaims it, without waiting for the frame to reach the wire. Only frames that completed a path are measured: received frames delivered to a socket and
//! host frames the NIC transmitted. Frames are grouped into paths by their first and last stage, so the
//! receive and send paths get their own end-to-end distribution and critical path.
//!
//! Critical path method: for a percentile p of a path's end-to-end latency (nearest rank), take the
//! frames whose end-to-end rank lies within ±1 % of the path's frame count around p's rank (only the
//! percentile frame itself when fewer than 100 frames), and report each hop's *mean* over that window
//! and its share of the window's mean end-to-end. Each frame's hops add up exactly to its end-to-end
//! latency, so with means the shares add up to 100 % (a median of each hop would not).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use host_driver::accounting::{Consumer, FrameId, Outcome, Stage};
use host_driver::time::{Clock, Cycle};
use serde::Serialize;

use crate::histogram::{log_histogram, Bucket};

/// One frame's path across hardware and software, merged by the runner from NIC probes and host stamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameTimeline {
    pub id: FrameId,
    /// At most one stamp per stage, in path order. Analysis orders them by cycle (stably, so path order
    /// breaks ties): a hop is always measured from the stage that happened just before.
    pub stamps: Vec<(Stage, Cycle)>,
    pub outcome: Outcome,
}

/// Short stable label of an outcome for reports and trace args: `delivered:5001`, `consumed:arp`,
/// `dropped:nic_crc_error`.
pub fn outcome_label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Delivered { port } => format!("delivered:{port}"),
        Outcome::Consumed(by) => format!("consumed:{by}"),
        Outcome::Dropped(reason) => format!("dropped:{reason}"),
    }
}

/// Timelines the latency analysis cannot make sense of; each names the frame at fault.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("two timelines for frame {frame}")]
    DuplicateFrame { frame: FrameId },
    #[error("frame {frame}: stage {stage} stamped twice (cycles {first} and {second})")]
    DuplicateStage {
        frame: FrameId,
        stage: Stage,
        first: Cycle,
        second: Cycle,
    },
    #[error(
        "frame {frame} ended ({outcome}) without any stage stamp, so it has no path to measure"
    )]
    NoStamps { frame: FrameId, outcome: String },
}

/// The percentiles the critical path is reported for.
pub const CRITICAL_PERCENTILES: [u32; 2] = [50, 99];

/// One hop of a path: from the stage stamped before to this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Hop {
    pub from: Stage,
    pub to: Stage,
}

impl Hop {
    pub fn label(&self) -> String {
        format!("{} → {}", self.from, self.to)
    }
}

/// Distribution of one latency, in cycles and in nanoseconds. Percentiles are nearest-rank.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LatencyStats {
    pub count: usize,
    pub min: Cycle,
    pub p50: Cycle,
    pub p99: Cycle,
    pub max: Cycle,
    pub mean: f64,
    pub min_ns: f64,
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub max_ns: f64,
    pub mean_ns: f64,
    /// Log-spaced histogram in cycles (see [`super::histogram`]).
    pub histogram: Vec<Bucket>,
}

/// 0-based index of the nearest-rank `percent`-th percentile among `n >= 1` sorted samples.
fn rank_index(n: usize, percent: u32) -> usize {
    (n * percent as usize).div_ceil(100).clamp(1, n) - 1
}

impl LatencyStats {
    /// `None` for no samples.
    pub fn new(mut samples: Vec<Cycle>, clock: Clock) -> Option<LatencyStats> {
        samples.sort_unstable();
        let n = samples.len();
        let (&min, &max) = (samples.first()?, samples.last()?);
        let p50 = samples[rank_index(n, 50)];
        let p99 = samples[rank_index(n, 99)];
        let mean = samples.iter().map(|&c| c as f64).sum::<f64>() / n as f64;
        let ns_per_cycle = clock.cycles_to_ns(1);
        Some(LatencyStats {
            count: n,
            min,
            p50,
            p99,
            max,
            mean,
            min_ns: clock.cycles_to_ns(min),
            p50_ns: clock.cycles_to_ns(p50),
            p99_ns: clock.cycles_to_ns(p99),
            max_ns: clock.cycles_to_ns(max),
            mean_ns: mean * ns_per_cycle,
            histogram: log_histogram(&samples),
        })
    }
}

/// Latency of one hop over every measured frame that has it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HopLatency {
    pub hop: Hop,
    pub stats: LatencyStats,
}

/// A hop's part of the end-to-end time near one percentile.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Share {
    pub hop: Hop,
    /// Mean over the window's frames (0 for frames without this hop), cycles.
    pub mean: f64,
    pub mean_ns: f64,
    /// `mean` over the window's mean end-to-end, 0..=1.
    pub share: f64,
}

/// Where the time goes for frames near one end-to-end percentile.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CriticalPoint {
    pub percentile: u32,
    /// The percentile's end-to-end latency.
    pub end_to_end: Cycle,
    pub end_to_end_ns: f64,
    /// 1-based rank of the percentile frame and the number of frames averaged around it.
    pub rank: usize,
    pub window: usize,
    /// Mean end-to-end over the window, the denominator of every share.
    pub window_mean: f64,
    pub window_mean_ns: f64,
    /// Largest share first; empty when the window's frames took no time at all.
    pub shares: Vec<Share>,
}

/// End-to-end latency of one path (frames with the same first and last stage) and its critical path.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CriticalPath {
    pub from: Stage,
    pub to: Stage,
    pub end_to_end: LatencyStats,
    pub points: Vec<CriticalPoint>,
}

impl CriticalPath {
    /// `first_stage → last_stage`.
    pub fn label(&self) -> String {
        Hop {
            from: self.from,
            to: self.to,
        }
        .label()
    }
}

/// Stamps of one stage left out of frames' paths because they came before a stage the frame must
/// already have passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IgnoredStamps {
    pub stage: Stage,
    pub frames: usize,
    /// The first such frame, to look at in the trace.
    pub example: FrameId,
}

/// Latency results of one run.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LatencyReport {
    /// Frames measured (delivered or transmitted).
    pub frames: usize,
    /// By stage; empty when every stamp fits its frame's path.
    pub ignored: Vec<IgnoredStamps>,
    /// In path order: by destination stage, then source stage.
    pub hops: Vec<HopLatency>,
    /// By first, then last stage.
    pub paths: Vec<CriticalPath>,
}

/// Frames that completed a path: delivered to a socket, or sent by the NIC on the host's behalf.
fn completed(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Delivered { .. } | Outcome::Consumed(Consumer::Transmitted)
    )
}

/// Whether a frame must have passed `earlier` before it can reach `later`.
fn must_precede(earlier: Stage, later: Stage) -> bool {
    let wire_independent =
        earlier == Stage::TxWire && matches!(later, Stage::TxWriteBack | Stage::TxReclaim);
    earlier < later && !wire_independent
}

/// One measured frame: its hops and end-to-end latency, and the stages whose stamps were ignored.
struct Measured {
    id: FrameId,
    path: (Stage, Stage),
    end_to_end: Cycle,
    hops: Vec<(Hop, Cycle)>,
    ignored: Vec<Stage>,
}

fn measure(t: &FrameTimeline) -> Result<Measured, TimelineError> {
    let mut by_stage = t.stamps.clone();
    by_stage.sort_unstable();
    let mut stamps: Vec<(Stage, Cycle)> = Vec::with_capacity(by_stage.len());
    let mut ignored = Vec::new();
    for (stage, at) in by_stage {
        let caused = stamps
            .iter()
            .all(|&(kept, kept_at)| kept_at <= at || !must_precede(kept, stage));
        if caused {
            stamps.push((stage, at));
        } else {
            ignored.push(stage);
        }
    }
    // Stable: equal cycles keep path order.
    stamps.sort_by_key(|&(_, c)| c);
    let (&(first, start), &(last, end)) =
        stamps
            .first()
            .zip(stamps.last())
            .ok_or_else(|| TimelineError::NoStamps {
                frame: t.id,
                outcome: outcome_label(&t.outcome),
            })?;
    let hops = stamps
        .windows(2)
        .map(|w| {
            (
                Hop {
                    from: w[0].0,
                    to: w[1].0,
                },
                w[1].1 - w[0].1,
            )
        })
        .collect();
    Ok(Measured {
        id: t.id,
        path: (first, last),
        end_to_end: end - start,
        hops,
        ignored,
    })
}

/// Frame ids and stages must be unique: a repeat means the runner merged two records into one.
fn check_timelines(timelines: &[FrameTimeline]) -> Result<(), TimelineError> {
    let mut ids = BTreeSet::new();
    for t in timelines {
        if !ids.insert(t.id) {
            return Err(TimelineError::DuplicateFrame { frame: t.id });
        }
        for (i, &(stage, first)) in t.stamps.iter().enumerate() {
            if let Some(&(_, second)) = t.stamps[i + 1..].iter().find(|&&(s, _)| s == stage) {
                return Err(TimelineError::DuplicateStage {
                    frame: t.id,
                    stage,
                    first,
                    second,
                });
            }
        }
    }
    Ok(())
}

/// Per-hop and end-to-end latency and the critical path of every path taken by completed frames.
pub fn latency_report(
    timelines: &[FrameTimeline],
    clock: Clock,
) -> Result<LatencyReport, TimelineError> {
    check_timelines(timelines)?;
    let measured = timelines
        .iter()
        .filter(|t| completed(&t.outcome))
        .map(measure)
        .collect::<Result<Vec<_>, _>>()?;

    let mut by_hop: BTreeMap<(Stage, Stage), Vec<Cycle>> = BTreeMap::new();
    let mut by_path: BTreeMap<(Stage, Stage), Vec<&Measured>> = BTreeMap::new();
    let mut ignored: BTreeMap<Stage, IgnoredStamps> = BTreeMap::new();
    for m in &measured {
        for &stage in &m.ignored {
            ignored
                .entry(stage)
                .or_insert(IgnoredStamps {
                    stage,
                    frames: 0,
                    example: m.id,
                })
                .frames += 1;
        }
        for &(hop, d) in &m.hops {
            // Keyed (to, from) so hops list in path order of their destination.
            by_hop.entry((hop.to, hop.from)).or_default().push(d);
        }
        by_path.entry(m.path).or_default().push(m);
    }

    let hops = by_hop
        .into_iter()
        .filter_map(|((to, from), samples)| {
            Some(HopLatency {
                hop: Hop { from, to },
                stats: LatencyStats::new(samples, clock)?,
            })
        })
        .collect();
    let paths = by_path
        .into_iter()
        .filter_map(|((from, to), frames)| critical_path(from, to, frames, clock))
        .collect();
    Ok(LatencyReport {
        frames: measured.len(),
        ignored: ignored.into_values().collect(),
        hops,
        paths,
    })
}

fn critical_path(
    from: Stage,
    to: Stage,
    mut frames: Vec<&Measured>,
    clock: Clock,
) -> Option<CriticalPath> {
    let end_to_end = LatencyStats::new(frames.iter().map(|m| m.end_to_end).collect(), clock)?;
    frames.sort_by_key(|m| (m.end_to_end, m.id));
    let n = frames.len();
    let half = n / 100;
    let points = CRITICAL_PERCENTILES
        .iter()
        .map(|&percentile| {
            let r = rank_index(n, percentile);
            let window = &frames[r.saturating_sub(half)..=(r + half).min(n - 1)];
            critical_point(percentile, frames[r].end_to_end, r + 1, window, clock)
        })
        .collect();
    Some(CriticalPath {
        from,
        to,
        end_to_end,
        points,
    })
}

fn critical_point(
    percentile: u32,
    end_to_end: Cycle,
    rank: usize,
    window: &[&Measured],
    clock: Clock,
) -> CriticalPoint {
    let count = window.len() as f64;
    let window_mean = window.iter().map(|m| m.end_to_end as f64).sum::<f64>() / count;
    let mut totals: BTreeMap<Hop, Cycle> = BTreeMap::new();
    for m in window {
        for &(hop, d) in &m.hops {
            *totals.entry(hop).or_default() += d;
        }
    }
    let ns_per_cycle = clock.cycles_to_ns(1);
    let mut shares: Vec<Share> = if window_mean > 0.0 {
        totals
            .into_iter()
            .map(|(hop, total)| {
                let mean = total as f64 / count;
                Share {
                    hop,
                    mean,
                    mean_ns: mean * ns_per_cycle,
                    share: mean / window_mean,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    // Largest first; the stable sort keeps hop order among equals.
    shares.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    CriticalPoint {
        percentile,
        end_to_end,
        end_to_end_ns: clock.cycles_to_ns(end_to_end),
        rank,
        window: window.len(),
        window_mean,
        window_mean_ns: window_mean * ns_per_cycle,
        shares,
    }
}

/// Hops below this share are summed into one line of the text rendering (the JSON keeps them all).
const MIN_LISTED_SHARE: f64 = 0.01;

/// Width of a 100 % bar, in characters.
const BAR_WIDTH: usize = 24;

/// A bar of `fraction` (0..=1) of [`BAR_WIDTH`], in eighths of a character.
fn bar(fraction: f64) -> String {
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (fraction.clamp(0.0, 1.0) * (BAR_WIDTH * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    let partial = eighths % 8;
    if partial > 0 {
        s.push(PARTIAL[partial]);
    }
    format!("{s:<BAR_WIDTH$}")
}

impl LatencyReport {
    /// The report.txt section: per-hop table, then each path's end-to-end and critical path.
    pub fn render(&self) -> String {
        let rows: Vec<(String, &LatencyStats)> = self
            .hops
            .iter()
            .map(|h| (h.hop.label(), &h.stats))
            .chain(
                self.paths
                    .iter()
                    .map(|p| (format!("end-to-end {}", p.label()), &p.end_to_end)),
            )
            .collect();
        let width = rows
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "latency over {} delivered/transmitted frames (cycles | ns; percentiles nearest-rank)",
            self.frames
        );
        let _ = writeln!(
            out,
            "  {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} | {:>10} {:>10} {:>10} {:>10}",
            "hop", "n", "min", "p50", "p99", "max", "min", "p50", "p99", "max"
        );
        for (label, s) in &rows {
            let _ = writeln!(
                out,
                "  {label:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} | {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                s.count, s.min, s.p50, s.p99, s.max, s.min_ns, s.p50_ns, s.p99_ns, s.max_ns
            );
        }
        if !self.ignored.is_empty() {
            let list: Vec<String> = self
                .ignored
                .iter()
                .map(|i| {
                    format!(
                        "{} in {} frame(s), e.g. frame {}",
                        i.stage, i.frames, i.example
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  ignored stamps earlier than a stage their frame had to pass first: {}",
                list.join("; ")
            );
        }
        for p in &self.paths {
            let _ = writeln!(
                out,
                "\ncritical path {} ({} frames; hop mean / window mean end-to-end)",
                p.label(),
                p.end_to_end.count
            );
            for c in &p.points {
                let _ = writeln!(
                    out,
                    "  p{} end-to-end {} cycles = {:.1} ns; {} frame(s) around rank {}, mean {:.1} ns",
                    c.percentile, c.end_to_end, c.end_to_end_ns, c.window, c.rank, c.window_mean_ns
                );
                let (listed, rest) = c.shares.split_at(
                    c.shares
                        .iter()
                        .take_while(|s| s.share >= MIN_LISTED_SHARE)
                        .count(),
                );
                for s in listed {
                    let _ = writeln!(
                        out,
                        "    {:<width$} {:>5.1} % {} {:>10.1} ns",
                        s.hop.label(),
                        s.share * 100.0,
                        bar(s.share),
                        s.mean_ns
                    );
                }
                if !rest.is_empty() {
                    let share: f64 = rest.iter().map(|s| s.share).sum();
                    let mean_ns: f64 = rest.iter().map(|s| s.mean_ns).sum();
                    let label = format!("{} other hops", rest.len());
                    let _ = writeln!(
                        out,
                        "    {label:<width$} {:>5.1} % {} {mean_ns:>10.1} ns",
                        share * 100.0,
                        bar(share),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::accounting::DropReason;
    use Stage::*;

    fn delivered(id: FrameId, stamps: &[(Stage, Cycle)]) -> FrameTimeline {
        FrameTimeline {
            id,
            stamps: stamps.to_vec(),
            outcome: Outcome::Delivered { port: 5001 },
        }
    }

    #[test]
    fn outcome_labels_are_stable() {
        assert_eq!(
            outcome_label(&Outcome::Delivered { port: 7 }),
            "delivered:7"
        );
        assert_eq!(
            outcome_label(&Outcome::Dropped(DropReason::NicFifoFull)),
            "dropped:nic_fifo_full"
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(rank_index(1, 50), 0);
        assert_eq!(rank_index(1, 99), 0);
        assert_eq!(rank_index(10, 50), 4);
        assert_eq!(rank_index(10, 99), 9);
        assert_eq!(rank_index(100, 99), 98);
        assert_eq!(rank_index(200, 99), 197);
        let s = LatencyStats::new((1..=100).rev().collect(), Clock::default()).unwrap();
        assert_eq!((s.min, s.p50, s.p99, s.max), (1, 50, 99, 100));
        assert_eq!(s.mean, 50.5);
        assert_eq!(s.p99_ns, 99.0 * 6.4);
        assert!(LatencyStats::new(Vec::new(), Clock::default()).is_none());
    }

    /// A receive-path frame whose interrupt wait is `irq_wait` cycles.
    fn rx_frame(id: FrameId, irq_wait: Cycle) -> FrameTimeline {
        let t0 = id * 10_000;
        delivered(
            id,
            &[
                (WireStart, t0),
                (FifoCommit, t0 + 100),
                (DmaWriteBack, t0 + 200),
                (Irq, t0 + 200 + irq_wait),
                (Isr, t0 + 300 + irq_wait),
                (AppRead, t0 + 600 + irq_wait),
            ],
        )
    }

    #[test]
    fn hops_are_measured_per_stage_pair_and_only_for_completed_frames() {
        let polled = delivered(
            50,
            &[
                (WireStart, 0),
                (FifoCommit, 100),
                (DmaWriteBack, 150),
                (AppRead, 400),
            ],
        );
        let dropped = FrameTimeline {
            id: 51,
            stamps: vec![(WireStart, 0), (FifoCommit, 5)],
            outcome: Outcome::Dropped(DropReason::NoSocket),
        };
        let frames = [rx_frame(1, 40), rx_frame(2, 60), polled, dropped];
        let r = latency_report(&frames, Clock::default()).unwrap();
        assert_eq!(r.frames, 3);
        let labels: Vec<_> = r.hops.iter().map(|h| h.hop.label()).collect();
        assert_eq!(
            labels,
            [
                "wire_start → fifo_commit",
                "fifo_commit → dma_write_back",
                "dma_write_back → irq",
                "irq → isr",
                "dma_write_back → app_read",
                "isr → app_read",
            ]
        );
        let commit = &r.hops[0].stats;
        assert_eq!((commit.count, commit.min, commit.max), (3, 100, 100));
        let irq = &r.hops[2].stats;
        assert_eq!((irq.count, irq.min, irq.p50, irq.max), (2, 40, 40, 60));
        assert_eq!(r.paths.len(), 1);
        assert_eq!(r.paths[0].end_to_end.count, 3);
        assert_eq!(r.paths[0].end_to_end.max, 660);
    }

    #[test]
    fn stamps_are_measured_in_time_order() {
        // The write-back lands after the first beat on the wire: the hop follows time, not path order.
        let tx = FrameTimeline {
            id: 9,
            stamps: vec![
                (SendTo, 0),
                (Doorbell, 50),
                (TxDmaDone, 80),
                (TxWire, 120),
                (TxWriteBack, 100),
            ],
            outcome: Outcome::Consumed(Consumer::Transmitted),
        };
        let r = latency_report(&[tx], Clock::default()).unwrap();
        let hops: Vec<_> = r
            .hops
            .iter()
            .map(|h| (h.hop.label(), h.stats.min))
            .collect();
        assert!(
            hops.contains(&("tx_dma_done → tx_write_back".into(), 20)),
            "{hops:?}"
        );
        assert!(
            hops.contains(&("tx_write_back → tx_wire".into(), 20)),
            "{hops:?}"
        );
        assert_eq!((r.paths[0].from, r.paths[0].to), (SendTo, TxWire));
    }

    #[test]
    fn critical_path_shares_come_from_frames_near_the_percentile() {
        // 200 frames: 190 with a short interrupt wait, the 10 slowest wait 5000 cycles.
        let frames: Vec<_> = (0..200)
            .map(|i| rx_frame(i, if i < 190 { 50 } else { 5000 }))
            .collect();
        let r = latency_report(&frames, Clock::default()).unwrap();
        let path = &r.paths[0];
        let [p50, p99] = [&path.points[0], &path.points[1]];
        assert_eq!((p50.percentile, p50.rank, p50.window), (50, 100, 5));
        assert_eq!((p99.percentile, p99.rank, p99.window), (99, 198, 5));
        assert_eq!(p50.end_to_end, 650);
        assert_eq!(p99.end_to_end, 5600);

        for c in [p50, p99] {
            let total: f64 = c.shares.iter().map(|s| s.share).sum();
            assert!(
                (total - 1.0).abs() < 1e-12,
                "shares add up to 100 %: {total}"
            );
        }
        // Typical frame: the ISR-to-read hop (300 of 650 cycles) dominates; tail: the interrupt wait.
        assert_eq!(
            p50.shares[0].hop,
            Hop {
                from: Isr,
                to: AppRead
            }
        );
        assert_eq!(p50.shares[0].mean, 300.0);
        assert_eq!(
            p99.shares[0].hop,
            Hop {
                from: DmaWriteBack,
                to: Irq
            }
        );
        assert!((p99.shares[0].share - 5000.0 / 5600.0).abs() < 1e-12);

        let text = r.render();
        assert!(
            text.contains("critical path wire_start → app_read (200 frames"),
            "{text}"
        );
        let tail = text.split("p99 end-to-end").nth(1).unwrap();
        let first_share = tail.lines().nth(1).unwrap();
        assert!(
            first_share.contains("dma_write_back → irq") && first_share.contains("89.3 %"),
            "{text}"
        );
    }

    #[test]
    fn hops_under_one_percent_are_summed_in_the_text_only() {
        let f = delivered(
            1,
            &[
                (WireStart, 0),
                (FifoCommit, 992),
                (DmaWriteBack, 997),
                (AppRead, 1000),
            ],
        );
        let r = latency_report(&[f], Clock::default()).unwrap();
        assert_eq!(
            r.paths[0].points[0].shares.len(),
            3,
            "the JSON keeps every hop"
        );
        let text = r.render();
        let p50: Vec<&str> = text
            .split("p50 end-to-end")
            .nth(1)
            .unwrap()
            .lines()
            .skip(1)
            .take(2)
            .collect();
        assert!(
            p50[0].trim_start().starts_with("wire_start → fifo_commit")
                && p50[0].contains("99.2 %"),
            "{text}"
        );
        assert!(
            p50[1].trim_start().starts_with("2 other hops") && p50[1].contains("0.8 %"),
            "{text}"
        );
    }

    #[test]
    fn stamps_before_a_stage_the_frame_had_to_pass_are_ignored_and_counted() {
        // The interrupt that scheduled the poll fired before frame 2 even reached the wire.
        let early = delivered(
            2,
            &[
                (Irq, 100),
                (Isr, 150),
                (WireStart, 200),
                (FifoCommit, 300),
                (DmaWriteBack, 400),
                (NapiPoll, 500),
                (AppRead, 900),
            ],
        );
        // The interrupt fired while frame 3 was still being written: it announced an earlier frame.
        let during = delivered(
            3,
            &[
                (WireStart, 0),
                (FifoCommit, 100),
                (Irq, 150),
                (DmaWriteBack, 200),
                (AppRead, 600),
            ],
        );
        let r = latency_report(&[early, during, rx_frame(1, 40)], Clock::default()).unwrap();
        let ignored: Vec<_> = r
            .ignored
            .iter()
            .map(|i| (i.stage, i.frames, i.example))
            .collect();
        assert_eq!(ignored, [(Irq, 2, 2), (Isr, 1, 2)]);
        assert_eq!(r.paths.len(), 1, "every frame measured from wire_start");
        let hops: Vec<_> = r.hops.iter().map(|h| h.hop.label()).collect();
        assert!(
            hops.contains(&"dma_write_back → napi_poll".to_owned()),
            "{hops:?}"
        );
        for misattributed in [
            "irq → wire_start",
            "irq → dma_write_back",
            "isr → wire_start",
        ] {
            assert!(!hops.contains(&misattributed.to_owned()), "{hops:?}");
        }
        assert!(r.render().contains("ignored stamps earlier than a stage their frame had to pass first: irq in 2 frame(s), e.g. frame 2; isr in 1 frame(s), e.g. frame 2"));
    }

    #[test]
    fn a_completed_frame_without_stamps_is_an_error() {
        let empty = delivered(77, &[]);
        let err = latency_report(&[empty], Clock::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame 77 ended (delivered:5001) without any stage stamp, so it has no path to measure"
        );
    }

    #[test]
    fn bars_scale_in_eighths() {
        assert_eq!(bar(1.0).trim_end(), "█".repeat(BAR_WIDTH));
        assert_eq!(bar(0.0).trim_end(), "");
        assert_eq!(bar(1.0 / (BAR_WIDTH * 2) as f64).trim_end(), "▌");
        assert_eq!(bar(0.5).chars().count(), BAR_WIDTH);
    }
}
