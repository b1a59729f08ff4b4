//! SVG plots (plotters' SVG backend without font features: text is written as `<text>` elements that
//! the viewer lays out, so nothing here needs a system font).
//!
//! - [`latency_histograms`]: one log-x histogram per hop and per path end-to-end, as small multiples;
//! - [`time_series`]: one panel per series (interrupts and polls per time bucket, see [`rate_series`],
//!   and packets per poll per bucket, [`mean_series`]) over a shared time axis;
//! - [`sweep_plot`]: one line per value of a parameter, for `nicsim sweep`.

use std::cmp::Ordering;

use host_driver::time::{Clock, Cycle};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

use super::{AnalysisError, Series};
use nicsim_scenario::latency::{LatencyReport, LatencyStats};

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

const FONT: &str = "sans-serif";
const HISTOGRAM_COLUMNS: usize = 3;
const HISTOGRAM_PANEL: (u32, u32) = (440, 260);
const SERIES_PANEL: (u32, u32) = (1000, 240);
const SWEEP_SIZE: (u32, u32) = (900, 560);
/// Tableau 10: line colours that stay apart on white.
const COLOURS: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// Renders into an SVG string; `plot` names the figure in errors.
fn render(
    plot: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<String, AnalysisError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|e| AnalysisError::Plot {
                plot,
                message: e.to_string(),
            })?;
    }
    Ok(svg)
}

/// A panel that only says why there is nothing to plot.
fn note(area: &Area, message: &str) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        message.to_owned(),
        (w as i32 / 2, h as i32 / 2),
        TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
}

/// `lo..hi` widened by 5 % each side, or by 1 when it is (nearly) a single value.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let pad = (hi - lo) * 0.05;
    if pad <= f64::EPSILON * hi.abs().max(1.0) {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo - pad, hi + pad)
    }
}

/// Axis label without trailing zeros: `2000`, `0.5`, `6.4`.
fn tick_label(v: &f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Ticks for a log axis over `lo..hi` (`0 < lo < hi`): 1-2-5 in each decade, or every integer mantissa
/// when that gives fewer than three.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    for mantissas in [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        ticks.clear();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            ticks.extend(
                mantissas
                    .iter()
                    .map(|m| m * decade)
                    .filter(|v| (lo..=hi).contains(v)),
            );
            decade *= 10.0;
        }
        if ticks.len() >= 3 {
            break;
        }
    }
    ticks
}

/// Latency histograms of every hop and every path's end-to-end, three to a row (`latency.svg`).
pub fn latency_histograms(report: &LatencyReport, clock: Clock) -> Result<String, AnalysisError> {
    let panels: Vec<(String, &LatencyStats)> = report
        .hops
        .iter()
        .map(|h| (h.hop.label(), &h.stats))
        .chain(
            report
                .paths
                .iter()
                .map(|p| (format!("end-to-end {}", p.label()), &p.end_to_end)),
        )
        .collect();
    let rows = panels.len().div_ceil(HISTOGRAM_COLUMNS).max(1);
    let columns = panels.len().clamp(1, HISTOGRAM_COLUMNS);
    let size = (
        HISTOGRAM_PANEL.0 * columns as u32,
        HISTOGRAM_PANEL.1 * rows as u32,
    );
    render("latency.svg", size, |root| {
        if panels.is_empty() {
            return note(root, "no delivered or transmitted frames");
        }
        for (area, (label, stats)) in root.split_evenly((rows, columns)).iter().zip(&panels) {
            histogram_panel(area, label, stats, clock)?;
        }
        Ok(())
    })
}

fn histogram_panel(area: &Area, label: &str, stats: &LatencyStats, clock: Clock) -> DrawResult {
    let ns = clock.cycles_to_ns(1);
    // A log axis has no zero: zero-cycle samples are drawn as the half cycle below one cycle.
    let left = |lo: Cycle| if lo == 0 { 0.5 * ns } else { lo as f64 * ns };
    let (Some(first), Some(last)) = (stats.histogram.first(), stats.histogram.last()) else {
        return note(area, label);
    };
    let top = stats.histogram.iter().map(|b| b.count).max().unwrap_or(0);
    // Half an octave of room each side, so a one-bucket distribution is a bar, not the whole panel.
    let (x_lo, x_hi) = (left(first.lo) / 1.5, last.hi as f64 * ns * 1.5);
    let x_axis = (x_lo..x_hi)
        .log_scale()
        .with_key_points(log_ticks(x_lo, x_hi));
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{label} · n {} · p50 {} · p99 {}",
                stats.count,
                duration(stats.p50_ns),
                duration(stats.p99_ns)
            ),
            (FONT, 14),
        )
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(x_axis, 0..top + top / 8 + 1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(1)
        .x_desc("ns")
        .y_desc("frames")
        .y_labels(5)
        .x_label_formatter(&tick_label)
        .draw()?;
    chart.draw_series(stats.histogram.iter().map(|b| {
        Rectangle::new(
            [(left(b.lo), 0), (b.hi as f64 * ns, b.count)],
            COLOURS[0].filled(),
        )
    }))?;
    // Percentile markers, labelled on opposite sides so equal percentiles stay legible.
    for (name, at, colour, side) in [
        ("p50", stats.p50_ns, COLOURS[4], HPos::Right),
        ("p99", stats.p99_ns, COLOURS[2], HPos::Left),
    ] {
        let x = at.max(left(first.lo));
        let line = PathElement::new(vec![(x, 0), (x, top)], colour.stroke_width(2));
        let style = TextStyle::from((FONT, 12).into_font())
            .color(&colour)
            .pos(Pos::new(side, VPos::Bottom));
        let text = Text::new(format!(" {name} "), (x, top), style);
        chart.draw_series(std::iter::once(line))?;
        chart.draw_series(std::iter::once(text))?;
    }
    Ok(())
}

/// A latency for captions: ns below a microsecond, else µs or ms.
fn duration(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// Buckets a run's window is cut into for a rate: enough to show ITR and NAPI phases, few enough that
/// each bucket holds several events.
pub const RATE_BUCKETS: u64 = 200;

/// A run's window `from..=to` cut into buckets of a round width (1, 2 or 5 × 10^k ns) of about
/// 1/[`RATE_BUCKETS`] of it, for series that stay [`RATE_BUCKETS`] points long however long the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    from: Cycle,
    to: Cycle,
    width: Cycle,
    width_ns: u64,
}

impl Buckets {
    pub fn over(from: Cycle, to: Cycle, clock: Clock) -> Buckets {
        let window_ns = clock.cycles_to_ns(to.saturating_sub(from)).max(1.0);
        let width_ns = round_width(window_ns / RATE_BUCKETS as f64);
        Buckets {
            from,
            to,
            width: clock.ns_to_cycles(width_ns).max(1),
            width_ns,
        }
    }

    fn len(&self) -> usize {
        (self.to.saturating_sub(self.from) / self.width + 1) as usize
    }

    /// The bucket of cycle `c`, if it is in the window.
    fn of(&self, c: Cycle) -> Option<usize> {
        (self.from..=self.to)
            .contains(&c)
            .then(|| ((c - self.from) / self.width) as usize)
    }

    fn start(&self, i: usize) -> Cycle {
        self.from + i as u64 * self.width
    }

    /// `5 µs`, `200 ns`.
    fn width_label(&self) -> String {
        if self.width_ns >= 1000 {
            format!("{} µs", self.width_ns / 1000)
        } else {
            format!("{} ns", self.width_ns)
        }
    }
}

/// `events` (cycles, e.g. each interrupt) as counts per bucket: a rate, named with the bucket
/// (`interrupts per 5 µs`). Each point is a bucket's start and its count; empty buckets are 0.
pub fn rate_series(what: &str, events: &[Cycle], buckets: Buckets) -> Series {
    let ones: Vec<(Cycle, f64)> = events.iter().map(|&c| (c, 1.0)).collect();
    sum_series(what, &ones, buckets)
}

/// The mean value of `points` (e.g. packets per poll) in each bucket that has any, named with the
/// bucket (`packets per poll, mean per 5 µs`).
pub fn mean_series(what: &str, points: &[(Cycle, f64)], buckets: Buckets) -> Series {
    let mut sums = vec![(0.0, 0u64); buckets.len()];
    for &(c, v) in points {
        if let Some(i) = buckets.of(c) {
            sums[i].0 += v;
            sums[i].1 += 1;
        }
    }
    Series {
        name: format!("{what}, mean per {}", buckets.width_label()),
        points: sums
            .into_iter()
            .enumerate()
            .filter(|&(_, (_, n))| n > 0)
            .map(|(i, (sum, n))| (buckets.start(i), sum / n as f64))
            .collect(),
    }
}

/// The sum of `points` (e.g. bytes acknowledged) in each bucket: a rate, named with the bucket
/// (`bytes acked per 5 µs`).
pub fn sum_series(what: &str, points: &[(Cycle, f64)], buckets: Buckets) -> Series {
    let mut sums = vec![0.0; buckets.len()];
    for &(c, v) in points {
        if let Some(i) = buckets.of(c) {
            sums[i] += v;
        }
    }
    Series {
        name: format!("{what} per {}", buckets.width_label()),
        points: sums
            .into_iter()
            .enumerate()
            .map(|(i, v)| (buckets.start(i), v))
            .collect(),
    }
}

/// The smallest of 1, 2, 5 × 10^k ns at least `ns`.
fn round_width(ns: f64) -> u64 {
    let mut decade = 1u64;
    loop {
        for m in [1, 2, 5] {
            if (m * decade) as f64 >= ns {
                return m * decade;
            }
        }
        decade *= 10;
    }
}

/// One panel per series, stacked over a shared time axis in microseconds (`irq_polls.svg`,
/// `tcp.svg`, named by `plot`). Each point is a stem from zero to its value: rates (interrupts per
/// bucket) and means (packets per poll per bucket) read as histograms over time.
pub fn time_series(
    plot: &'static str,
    series: &[Series],
    clock: Clock,
) -> Result<String, AnalysisError> {
    let us = |c: Cycle| clock.cycles_to_ns(c) / 1000.0;
    let cycles = || series.iter().flat_map(|s| s.points.iter().map(|&(c, _)| c));
    let span = cycles().min().zip(cycles().max());
    let panels = series.len().max(1) as u32;
    render(plot, (SERIES_PANEL.0, SERIES_PANEL.1 * panels), |root| {
        let Some((first, last)) = span else {
            return note(root, "no time series recorded");
        };
        let (x_lo, x_hi) = padded(us(first), us(last));
        for (area, s) in root.split_evenly((series.len(), 1)).iter().zip(series) {
            let values = || s.points.iter().map(|&(_, v)| v);
            let (lo, hi) = (values().fold(0.0, f64::min), values().fold(0.0, f64::max));
            let mean = values().sum::<f64>() / s.points.len().max(1) as f64;
            let (_, y_hi) = padded(lo, hi);
            let caption = format!(
                "{}: {} points, mean {mean:.2}, max {hi}",
                s.name,
                s.points.len()
            );
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 15))
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(x_lo..x_hi, lo.min(0.0)..y_hi)?;
            chart
                .configure_mesh()
                .max_light_lines(1)
                .x_desc("µs")
                .y_desc(s.name.as_str())
                .x_labels(10)
                .y_labels(5)
                .x_label_formatter(&tick_label)
                .y_label_formatter(&tick_label)
                .draw()?;
            // One polyline per series: up each stem and back down to the baseline.
            let stems = s
                .points
                .iter()
                .flat_map(|&(c, v)| [(us(c), 0.0), (us(c), v), (us(c), 0.0)]);
            chart.draw_series(std::iter::once(PathElement::new(
                stems.collect::<Vec<_>>(),
                COLOURS[0],
            )))?;
        }
        Ok(())
    })
}

/// A row's field: a JSON pointer when `key` starts with `/` (`/latency/paths/0/end_to_end/p99_ns`),
/// else a top-level field name.
fn field<'a>(row: &'a Value, key: &str) -> Option<&'a Value> {
    if key.starts_with('/') {
        row.pointer(key)
    } else {
        row.get(key)
    }
}

/// Orders series values: numbers by value, then everything else by its text.
fn series_order(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.to_string().cmp(&b.to_string()),
    }
}

/// Line chart of `y_key` against `x_key`, one line per distinct value of `series_key`, from sweep rows
/// (JSON objects, e.g. one run's parameters and report each). Keys are field names or JSON pointers.
pub fn sweep_plot(
    rows: &[Value],
    x_key: &str,
    series_key: &str,
    y_key: &str,
) -> Result<String, AnalysisError> {
    let missing = |row, key: &str, problem| AnalysisError::SweepKey {
        row,
        key: key.to_owned(),
        problem,
    };
    let mut lines: Vec<(Value, Vec<(f64, f64)>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let number = |key| {
            field(row, key)
                .ok_or_else(|| missing(i, key, "is missing"))?
                .as_f64()
                .ok_or_else(|| missing(i, key, "is not a number"))
        };
        let point = (number(x_key)?, number(y_key)?);
        let group = field(row, series_key).ok_or_else(|| missing(i, series_key, "is missing"))?;
        if !(group.is_number() || group.is_string() || group.is_boolean()) {
            return Err(missing(i, series_key, "is not a number, string or boolean"));
        }
        match lines.iter_mut().find(|(g, _)| g == group) {
            Some((_, points)) => points.push(point),
            None => lines.push((group.clone(), vec![point])),
        }
    }
    lines.sort_by(|a, b| series_order(&a.0, &b.0));
    for (_, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    }

    let all = || lines.iter().flat_map(|(_, p)| p.iter().copied());
    let bounds = |f: fn((f64, f64)) -> f64| {
        all()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (x_lo, x_hi) = bounds(|p| p.0);
    let (y_lo, y_hi) = bounds(|p| p.1);
    render("sweep plot", SWEEP_SIZE, |root| {
        if lines.is_empty() {
            return note(root, "no sweep rows");
        }
        let (x_lo, x_hi) = padded(x_lo, x_hi);
        // The y axis starts at zero unless some value is negative.
        let (y_min, y_max) = padded(y_lo.min(0.0), y_hi);
        let y_min = if y_lo >= 0.0 { 0.0 } else { y_min };
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{y_key} against {x_key}"), (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_lo..x_hi, y_min..y_max)?;
        chart
            .configure_mesh()
            .max_light_lines(1)
            .x_desc(x_key)
            .y_desc(y_key)
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .draw()?;
        for (i, (group, points)) in lines.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let label = match group {
                Value::String(s) => format!("{series_key} = {s}"),
                other => format!("{series_key} = {other}"),
            };
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::delivered;
    use host_driver::accounting::Stage::*;
    use nicsim_scenario::latency::latency_report;
    use serde_json::json;

    #[test]
    fn rate_series_counts_events_per_round_bucket() {
        let clock = Clock::default();
        // 1 ms window at 6.4 ns: 1/200 of it is 5 µs, 781 cycles.
        let to = clock.ns_to_cycles(1_000_000);
        let bucket = clock.ns_to_cycles(5_000);
        let events = [0, 1, 2, bucket, bucket + 5, to, to + 1];
        let buckets = Buckets::over(0, to, clock);
        let s = rate_series("interrupts", &events, buckets);
        assert_eq!(s.name, "interrupts per 5 µs");
        assert_eq!(s.points[0], (0, 3.0));
        assert_eq!(s.points[1], (bucket, 2.0));
        assert!(s.points[2..s.points.len() - 1]
            .iter()
            .all(|&(_, v)| v == 0.0));
        assert_eq!(s.points.last().map(|p| p.1), Some(1.0));
        assert_eq!(
            s.points.iter().map(|p| p.1).sum::<f64>(),
            6.0,
            "cycle {} is outside",
            to + 1
        );
        assert_eq!(round_width(0.3), 1);
        assert_eq!(round_width(1200.0), 2000);
        let polls = [(0, 4.0), (1, 2.0), (bucket * 3, 64.0), (to + 1, 9.0)];
        let m = mean_series("packets per poll", &polls, buckets);
        assert_eq!(m.name, "packets per poll, mean per 5 µs");
        assert_eq!(m.points, [(0, 3.0), (bucket * 3, 64.0)]);
        let svg = time_series("irq_polls.svg", &[s, m], clock).unwrap();
        assert!(svg.contains("interrupts per 5 µs"), "{svg}");
    }

    /// Checks that `svg` is one well-formed XML element tree (tags balance, attributes quoted) and
    /// returns how many elements it has of each name.
    fn check_xml(svg: &str) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        let mut open: Vec<String> = Vec::new();
        let mut rest = svg.trim_start();
        if rest.starts_with("<?xml") {
            rest = &rest[rest.find("?>").expect("unterminated declaration") + 2..];
        }
        let mut roots = 0;
        while let Some(lt) = rest.find('<') {
            assert!(!rest[..lt].contains('>'), "stray '>' in text");
            let gt = rest[lt..].find('>').expect("unterminated tag") + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    open.pop().as_deref(),
                    Some(name.trim()),
                    "mismatched </{name}>"
                );
                continue;
            }
            let name: String = tag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            assert!(!name.is_empty(), "empty tag name");
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in <{tag}>"
            );
            if open.is_empty() {
                roots += 1;
            }
            *counts.entry(name.clone()).or_default() += 1;
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed elements {open:?}");
        assert_eq!(roots, 1, "exactly one root element");
        assert!(rest.trim().is_empty());
        counts
    }

    #[test]
    fn latency_histograms_have_a_panel_per_hop_and_path() {
        let frames: Vec<_> = (0..50)
            .map(|i| {
                delivered(
                    i,
                    &[
                        (WireStart, 0),
                        (FifoCommit, 100 + i),
                        (DmaWriteBack, 200 + 3 * i),
                        (AppRead, 2000),
                    ],
                )
            })
            .collect();
        let report = latency_report(&frames, Clock::default()).unwrap();
        let svg = latency_histograms(&report, Clock::default()).unwrap();
        let tags = check_xml(&svg);
        assert!(tags["rect"] >= 4 * 2, "bars in every panel: {tags:?}");
        for label in [
            "wire_start → fifo_commit · n 50 · p50 793.6 ns · p99 953.6 ns",
            "fifo_commit → dma_write_back · n 50",
            "dma_write_back → app_read · n 50",
            "end-to-end wire_start → app_read · n 50 · p50 12.80 µs",
            " p50 ",
            " p99 ",
        ] {
            assert!(svg.contains(label), "missing {label}");
        }
        let empty = latency_report(&[], Clock::default()).unwrap();
        let svg = latency_histograms(&empty, Clock::default()).unwrap();
        check_xml(&svg);
        assert!(svg.contains("no delivered or transmitted frames"));
    }

    #[test]
    fn time_series_share_one_axis_with_a_panel_each() {
        let series = [
            Series {
                name: "interrupts".into(),
                points: (0..20).map(|i| (i * 1000, 1.0)).collect(),
            },
            Series {
                name: "packets per poll".into(),
                points: vec![(500, 4.0), (5_500, 64.0), (19_000, 7.0)],
            },
        ];
        let svg = time_series("irq_polls.svg", &series, Clock::default()).unwrap();
        check_xml(&svg);
        assert!(svg.contains("interrupts: 20 points, mean 1.00, max 1"));
        assert!(svg.contains("packets per poll: 3 points, mean 25.00, max 64"));
        let stems = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(r##"stroke="#4E79A7""##));
        assert_eq!(stems.count(), 2, "one stem line per series");
        let svg = time_series("irq_polls.svg", &[], Clock::default()).unwrap();
        check_xml(&svg);
        assert!(svg.contains("no time series recorded"));
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(640.0), "640.0 ns");
        assert_eq!(duration(64_665.6), "64.67 µs");
        assert_eq!(duration(2_500_000.0), "2.50 ms");
    }

    #[test]
    fn axis_ticks_are_readable() {
        assert_eq!(tick_label(&2000.0), "2000");
        assert_eq!(tick_label(&6.4), "6.4");
        assert_eq!(tick_label(&0.0), "0");
        assert_eq!(
            log_ticks(3.0, 2500.0),
            [5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]
        );
        assert_eq!(log_ticks(700.0, 1900.0), [700.0, 800.0, 900.0, 1000.0]);
    }

    #[test]
    fn sweep_plot_draws_a_line_per_series_value_in_order() {
        let rows: Vec<Value> = [(64, 0), (64, 100), (8, 0), (64, 50), (8, 100)]
            .iter()
            .map(|&(weight, itr)| json!({"napi_weight": weight, "itr": itr, "report": {"p99_ns": 1000.0 + f64::from(itr) * weight as f64}}))
            .collect();
        let svg = sweep_plot(&rows, "itr", "napi_weight", "/report/p99_ns").unwrap();
        check_xml(&svg);
        let w8 = svg.find("napi_weight = 8").expect("legend for weight 8");
        let w64 = svg.find("napi_weight = 64").expect("legend for weight 64");
        assert!(w8 < w64, "numeric series order");
        assert!(svg.contains("/report/p99_ns against itr"));
        assert_eq!(svg.matches("<circle").count(), rows.len());
    }

    #[test]
    fn sweep_rows_without_the_keys_are_errors_naming_the_row() {
        let rows = [
            json!({"itr": 1, "w": 64, "p99": 5}),
            json!({"itr": "fast", "w": 64, "p99": 5}),
        ];
        let err = sweep_plot(&rows, "itr", "w", "p99").unwrap_err();
        assert_eq!(err.to_string(), "sweep row 1: `itr` is not a number");
        let err = sweep_plot(&rows[..1], "itr", "w", "drops").unwrap_err();
        assert_eq!(err.to_string(), "sweep row 0: `drops` is missing");
        let err =
            sweep_plot(&[json!({"itr": 1, "w": [1], "p99": 5})], "itr", "w", "p99").unwrap_err();
        assert_eq!(
            err.to_string(),
            "sweep row 0: `w` is not a number, string or boolean"
        );
        assert!(sweep_plot(&[], "itr", "w", "p99")
            .unwrap()
            .contains("no sweep rows"));
        let one = sweep_plot(
            &[json!({"itr": 0, "w": "off", "p99": 0})],
            "itr",
            "w",
            "p99",
        )
        .unwrap();
        check_xml(&one);
        assert!(one.contains("w = off"));
    }
}
