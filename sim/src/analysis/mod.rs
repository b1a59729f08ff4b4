//! Post-run analysis: per-stage latency and the critical path, a Perfetto trace, and SVG plots.
//!
//! The runner merges the NIC's probe stamps and the host's software stamps into one [`FrameTimeline`]
//! per frame, adds what each hardware unit and CPU was doing ([`Span`]) and time series ([`Series`]),
//! and calls [`analyse`]. Everything here is a pure function of those inputs: same run, same bytes out.

pub mod perfetto;
pub mod plots;

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use host_driver::accounting::FrameId;
use host_driver::time::{Clock, Cycle};
use serde::Serialize;

use nicsim_scenario::latency::{self, FrameTimeline, LatencyReport, TimelineError};
pub use perfetto::{ChromeTrace, TraceCut};
pub use plots::sweep_plot;

/// What a hardware unit or a CPU was doing over a cycle range (e.g. track "CPU0", name "e1000_intr" /
/// "net_rx_action"; track "RX DMA", name "frame 17"). Spans on one track may nest (a poll inside
/// `net_rx_action`); spans that overlap without nesting are drawn on extra lanes of that track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub track: String,
    pub name: String,
    pub start: Cycle,
    pub end: Cycle,
    /// The frame this work was for, when it was for exactly one.
    pub frame: Option<FrameId>,
}

/// Time series for plots: (cycle, value) events, e.g. each IRQ, and packets handled per NAPI poll.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(Cycle, f64)>,
}

/// Inputs the analysis cannot make sense of; each names the frame, span or row at fault.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Timeline(#[from] TimelineError),
    #[error("span `{name}` on track `{track}` ends at cycle {end}, before it starts at {start}")]
    SpanReversed {
        track: String,
        name: String,
        start: Cycle,
        end: Cycle,
    },
    #[error("sweep row {row}: `{key}` {problem}")]
    SweepKey {
        row: usize,
        key: String,
        problem: &'static str,
    },
    #[error("drawing {plot}: {message}")]
    Plot { plot: &'static str, message: String },
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Everything the analysis produced for one run.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Per-hop latency, end-to-end latency and critical path: the part that goes into report.json.
    pub latency: LatencyReport,
    /// Chrome trace-event JSON (`trace.json`), bounded to the first frames.
    pub trace: ChromeTrace,
    /// What the trace kept of the run.
    pub trace_cut: TraceCut,
    /// Per-hop latency histograms (`latency.svg`).
    pub latency_svg: String,
    /// Interrupts and packets per poll over time (`irq_polls.svg`).
    pub irq_polls_svg: String,
    /// Per TCP flow: cwnd, packets in flight and goodput over time (`tcp.svg`), when there are flows.
    pub tcp_svg: Option<String>,
}

/// File names [`Analysis::write_outputs`] writes into the run folder.
pub const TRACE_FILE: &str = "trace.json";
pub const LATENCY_PLOT_FILE: &str = "latency.svg";
pub const IRQ_POLLS_PLOT_FILE: &str = "irq_polls.svg";
pub const TCP_PLOT_FILE: &str = "tcp.svg";

/// Analyses one run: latency and critical path over delivered and transmitted frames, the trace of
/// the first `trace_frames` frames and their spans (see [`perfetto::first_frames`]), and the plots.
pub fn analyse(
    timelines: &[FrameTimeline],
    spans: &[Span],
    series: &[Series],
    tcp_series: &[Series],
    clock: Clock,
    trace_frames: u64,
) -> Result<Analysis, AnalysisError> {
    let latency = latency::latency_report(timelines, clock)?;
    let (shown, shown_spans, trace_cut) = perfetto::first_frames(timelines, spans, trace_frames);
    let trace = perfetto::chrome_trace(&shown, &shown_spans, clock)?;
    let latency_svg = plots::latency_histograms(&latency, clock)?;
    let irq_polls_svg = plots::time_series(IRQ_POLLS_PLOT_FILE, series, clock)?;
    let tcp_svg = (!tcp_series.is_empty())
        .then(|| plots::time_series(TCP_PLOT_FILE, tcp_series, clock))
        .transpose()?;
    Ok(Analysis {
        latency,
        trace,
        trace_cut,
        latency_svg,
        irq_polls_svg,
        tcp_svg,
    })
}

impl Analysis {
    /// Writes `trace.json`, `latency.svg` and `irq_polls.svg` into `dir` (which must exist) and returns
    /// the latency and critical-path text for report.txt.
    pub fn write_outputs(&self, dir: &Path) -> Result<String, AnalysisError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| AnalysisError::Io { path, source }
        };
        // The trace can run to millions of events: streamed, never held as one string.
        let path = dir.join(TRACE_FILE);
        let mut out = BufWriter::new(File::create(&path).map_err(io(&path))?);
        serde_json::to_writer(&mut out, &self.trace)
            .map_err(std::io::Error::from)
            .and_then(|()| out.flush())
            .map_err(io(&path))?;
        for (name, svg) in [
            (LATENCY_PLOT_FILE, Some(&self.latency_svg)),
            (IRQ_POLLS_PLOT_FILE, Some(&self.irq_polls_svg)),
            (TCP_PLOT_FILE, self.tcp_svg.as_ref()),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        {
            let path = dir.join(name);
            std::fs::write(&path, svg).map_err(io(&path))?;
        }
        Ok(self.latency.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::accounting::{Outcome, Stage};

    pub(crate) fn delivered(id: FrameId, stamps: &[(Stage, Cycle)]) -> FrameTimeline {
        FrameTimeline {
            id,
            stamps: stamps.to_vec(),
            outcome: Outcome::Delivered { port: 5001 },
        }
    }

    #[test]
    fn repeated_frame_or_stage_is_an_error_naming_it() {
        let a = delivered(3, &[(Stage::WireStart, 0), (Stage::AppRead, 10)]);
        let err = analyse(&[a.clone(), a], &[], &[], &[], Clock::default(), u64::MAX).unwrap_err();
        assert!(
            matches!(
                err,
                AnalysisError::Timeline(TimelineError::DuplicateFrame { frame: 3 })
            ),
            "{err}"
        );

        let b = delivered(
            4,
            &[(Stage::WireStart, 0), (Stage::Irq, 5), (Stage::Irq, 7)],
        );
        let err = analyse(&[b], &[], &[], &[], Clock::default(), u64::MAX).unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame 4: stage irq stamped twice (cycles 5 and 7)"
        );
    }

    #[test]
    fn degenerate_runs_still_draw_and_repeat_byte_for_byte() {
        // One frame that took no time, one IRQ, one span on a CPU.
        let frames = [delivered(1, &[(Stage::WireStart, 5), (Stage::AppRead, 5)])];
        let spans = [Span {
            track: "CPU0".into(),
            name: "e1000_intr".into(),
            start: 5,
            end: 5,
            frame: None,
        }];
        let series = [Series {
            name: "interrupts".into(),
            points: vec![(5, 1.0)],
        }];
        let run = || analyse(&frames, &spans, &series, &[], Clock::default(), u64::MAX).unwrap();
        let (a, b) = (run(), run());
        let json = |a: &Analysis| serde_json::to_string(&a.trace).unwrap();
        assert_eq!(json(&a), json(&b));
        assert_eq!(a.latency_svg, b.latency_svg);
        assert_eq!(a.irq_polls_svg, b.irq_polls_svg);
        let p50 = &a.latency.paths[0].points[0];
        assert_eq!((p50.end_to_end, p50.window), (0, 1));
        assert!(p50.shares.is_empty(), "no time, no shares");
        assert!(a.latency_svg.contains("end-to-end wire_start → app_read"));
    }

    #[test]
    fn write_outputs_writes_three_files_and_returns_the_report_text() {
        let frames: Vec<_> = (0..10)
            .map(|i| {
                delivered(
                    i,
                    &[
                        (Stage::WireStart, i * 100),
                        (Stage::FifoCommit, i * 100 + 20),
                        (Stage::DmaWriteBack, i * 100 + 50 + i),
                        (Stage::AppRead, i * 100 + 300),
                    ],
                )
            })
            .collect();
        let series = [Series {
            name: "packets per poll".into(),
            points: vec![(60, 1.0), (260, 3.0)],
        }];
        let analysis = analyse(&frames, &[], &series, &[], Clock::default(), u64::MAX).unwrap();
        let dir = std::env::temp_dir().join(format!("nicsim-analysis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = analysis.write_outputs(&dir).unwrap();
        assert!(text.contains("wire_start → app_read"), "{text}");
        let trace: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(TRACE_FILE)).unwrap()).unwrap();
        assert!(trace["traceEvents"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
        for svg in [LATENCY_PLOT_FILE, IRQ_POLLS_PLOT_FILE] {
            assert!(std::fs::read_to_string(dir.join(svg))
                .unwrap()
                .starts_with("<svg"));
        }
        std::fs::remove_dir_all(&dir).unwrap();

        let missing = dir.join("absent");
        let err = analysis.write_outputs(&missing).unwrap_err();
        assert!(matches!(err, AnalysisError::Io { .. }), "{err}");
    }
}
