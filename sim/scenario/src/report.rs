//! The run report: counts, NIC and stack counters and latency, written as `report.json` (for tools and
//! tests) and `report.txt` (for people, in the style of `ethtool -S`, `/proc/net/snmp` and
//! `/proc/net/softnet_stat`).
//!
//! Latency statistics come from [`crate::analysis`] (nearest-rank percentiles: the p-th percentile of n
//! sorted samples is the sample at 1-based rank ⌈p·n/100⌉). Nothing here reads the wall clock, and the
//! JSON has a fixed key order (struct field order; maps sorted by key).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use host_driver::accounting::{FrameId, Outcome, Stage};
use host_driver::driver::DriverStats;
use host_driver::host::{CpuReport, HostReport};
use host_driver::regs::statistic;
use host_driver::stack::StackCounters;
use host_driver::time::{Clock, Cycle};
use schemars::JsonSchema;
use serde::Serialize;

use crate::latency::{FrameTimeline, LatencyReport, LatencyStats};
use crate::peer::PeerStats;

/// The run's results. Field order is the JSON key order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub ps_per_cycle: u64,
    /// Cycles simulated, from reset to the end of the drain.
    pub cycles: Cycle,
    /// Cycle the driver finished probing; traffic times count from here.
    pub link_up: Cycle,
    /// Frames put on the wire by the scenario's traffic; the counts below are about these frames.
    pub injected: u64,
    pub delivered: u64,
    pub consumed: u64,
    pub dropped: u64,
    /// Drop reason name → frames.
    pub drops: BTreeMap<String, u64>,
    /// Consumer name → frames.
    pub consumed_by: BTreeMap<String, u64>,
    /// Statistics register name → value, read through MMIO at the end of the run (64-bit pairs joined).
    pub nic_stats: BTreeMap<String, u64>,
    /// Hard interrupts taken, all CPUs.
    pub irqs: u64,
    /// Driver NAPI polls.
    pub polls: u64,
    /// RX frames harvested per driver poll, on average.
    pub packets_per_poll: f64,
    /// Data copies per datagram an application received (the copy to user space included).
    pub copies_per_packet: f64,
    /// Receive path wire start → application read, the headline latency.
    pub end_to_end: Option<LatencyStats>,
    /// Per-hop latency, every path's end-to-end and critical path.
    pub latency: LatencyReport,
    /// The driver's `ethtool -S` counters.
    pub driver: DriverStats,
    /// The stack's `/proc/net/snmp`-style counters.
    pub stack: StackCounters,
    /// Per CPU: busy cycles, work counts and the `/proc/net/softnet_stat` columns.
    pub cpus: Vec<CpuReport>,
    /// Round trips of each host `ping` application, in ns.
    pub host_ping: Vec<HostPing>,
    /// What the link partner received (verdict per frame), sent, and its ping round trips.
    pub peer: Option<PeerStats>,
    /// Conservation per origin: every frame the scenario's traffic, the link partner or the host
    /// stack created, and where each ended.
    pub origins: Origins,
    /// How many frames each `faults:` rule damaged, in the scenario's order (empty without faults).
    pub faults: Vec<FaultHits>,
    /// Present only when the run stopped before everything settled (timeout, SIGINT/SIGTERM): why,
    /// and the frames still under way. The figures above are what was measured until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// What the bounded outputs (trace.json, wire.pcap) kept and left out.
    pub outputs: OutputBounds,
}

/// What the bounded outputs kept of the run (scenario `trace.perfetto.frames`,
/// `trace.pcap.max_frames`); the figures of this report always cover every frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OutputBounds {
    /// Frames trace.json shows (the first to appear).
    pub trace_frames: u64,
    /// Frames left out of trace.json.
    pub trace_frames_cut: u64,
    /// When frames were cut: the cycle trace.json's CPU work stops at (the last stamp of its last
    /// frame).
    pub trace_until: Option<Cycle>,
    /// Frames written to wire.pcap (the first in time).
    pub pcap_frames: u64,
    /// Frames on the wire left out of wire.pcap.
    pub pcap_frames_cut: u64,
}

/// The balance of one origin: `injected` = `delivered` + `consumed` + `dropped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OriginBalance {
    /// Frames the origin created.
    pub injected: u64,
    /// Read by a host application.
    pub delivered: u64,
    /// Consumed by the host stack, or (for a host frame) by the link partner.
    pub consumed: u64,
    pub dropped: u64,
    /// Drop reason (host, `nic_*`, or the link partner's `peer_*`) → frames.
    pub drops: BTreeMap<String, u64>,
    /// Consumer (host, or the link partner's verdict) → frames.
    pub consumed_by: BTreeMap<String, u64>,
}

impl OriginBalance {
    /// Counts one frame's terminal state.
    pub fn end(&mut self, end: FrameEnd<'_>) {
        self.injected += 1;
        match end {
            FrameEnd::Delivered => self.delivered += 1,
            FrameEnd::Consumed(by) => {
                self.consumed += 1;
                *self.consumed_by.entry(by.to_owned()).or_default() += 1;
            }
            FrameEnd::Dropped(reason) => {
                self.dropped += 1;
                *self.drops.entry(reason.to_owned()).or_default() += 1;
            }
        }
    }
}

/// A frame's one terminal state, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEnd<'a> {
    Delivered,
    Consumed(&'a str),
    Dropped(&'a str),
}

/// Where the frames of a run came from: the scenario's traffic on the wire, the link partner, the
/// host stack (data, ARP, ICMP, replies, fragments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Origins {
    pub wire: OriginBalance,
    pub peer: OriginBalance,
    pub host: OriginBalance,
}

/// Why a run stopped early, and what it left unfinished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Incomplete {
    pub reason: String,
    /// Frames that had not ended, all of them.
    pub unfinished: u64,
    /// The first of them, each with the stage it last reached.
    pub frames: Vec<UnfinishedFrame>,
}

/// A frame still under way when the run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UnfinishedFrame {
    pub id: FrameId,
    pub last_stage: Option<Stage>,
    pub last_cycle: Option<Cycle>,
}

/// One host `ping` application's summary, as `ping` prints it at exit.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HostPing {
    /// Position in the scenario's `apps` list.
    pub app: usize,
    pub transmitted: u64,
    pub received: u64,
    pub rtt_min_ns: Option<f64>,
    pub rtt_avg_ns: Option<f64>,
    pub rtt_max_ns: Option<f64>,
}

/// One `faults:` rule's count: the frames it picked and damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FaultHits {
    /// Index in the scenario's `faults:` list.
    pub rule: usize,
    pub hits: u64,
}

/// What [`Report::new`] is made from.
pub struct ReportInputs<'a> {
    /// The scenario's name and seed.
    pub scenario: &'a str,
    pub seed: u64,
    pub clock: Clock,
    pub cycles: Cycle,
    pub link_up: Cycle,
    /// The timelines of the injected frames.
    pub timelines: Vec<&'a FrameTimeline>,
    pub nic_stats: BTreeMap<String, u64>,
    pub host: &'a HostReport,
    pub latency: LatencyReport,
    pub peer: Option<PeerStats>,
    pub origins: Origins,
    pub faults: Vec<FaultHits>,
    pub incomplete: Option<Incomplete>,
    pub outputs: OutputBounds,
}

impl Report {
    pub fn new(i: ReportInputs<'_>) -> Report {
        let (mut drops, mut consumed_by) = (BTreeMap::new(), BTreeMap::new());
        let (mut delivered, mut consumed, mut dropped) = (0, 0, 0);
        for t in &i.timelines {
            match t.outcome {
                Outcome::Delivered { .. } => delivered += 1,
                Outcome::Consumed(by) => {
                    consumed += 1;
                    *consumed_by.entry(by.name().to_owned()).or_default() += 1;
                }
                Outcome::Dropped(reason) => {
                    dropped += 1;
                    *drops.entry(reason.name().to_owned()).or_default() += 1;
                }
            }
        }
        let d = &i.host.driver;
        let harvested: u64 = d
            .packets_per_poll
            .iter()
            .enumerate()
            .map(|(n, &polls)| n as u64 * polls)
            .sum();
        let apps = &i.host.stack.apps;
        let received: u64 = apps.iter().map(|a| a.received).sum();
        let copies: u64 = apps.iter().map(|a| a.received_copies).sum();
        Report {
            scenario: i.scenario.to_owned(),
            seed: i.seed,
            ps_per_cycle: i.clock.ps_per_cycle,
            cycles: i.cycles,
            link_up: i.link_up,
            injected: i.timelines.len() as u64,
            delivered,
            consumed,
            dropped,
            drops,
            consumed_by,
            nic_stats: i.nic_stats,
            irqs: i.host.cpus.iter().map(|c| c.stats.hardirqs).sum(),
            polls: d.polls,
            packets_per_poll: ratio(harvested, d.polls),
            copies_per_packet: ratio(copies, received),
            end_to_end: receive_end_to_end(&i.latency),
            latency: i.latency,
            driver: d.clone(),
            stack: i.host.stack.clone(),
            cpus: i.host.cpus.clone(),
            host_ping: apps
                .iter()
                .filter(|a| a.kind == "ping")
                .map(|a| {
                    let ns = |c: Cycle| i.clock.cycles_to_ns(c);
                    HostPing {
                        app: a.app,
                        transmitted: a.sent,
                        received: a.ping_replies,
                        rtt_min_ns: a.rtt_min.map(ns),
                        rtt_avg_ns: a.rtt_mean.map(|m| m * i.clock.ps_per_cycle as f64 / 1000.0),
                        rtt_max_ns: a.rtt_max.map(ns),
                    }
                })
                .collect(),
            peer: i.peer,
            origins: i.origins,
            faults: i.faults,
            incomplete: i.incomplete,
            outputs: i.outputs,
        }
    }
}

impl Report {
    /// Per CPU, the share of the simulated cycles it spent busy, 0..=1. The driver probe, before
    /// link-up, counts on the IRQ CPU: a short run shows it, a long one hardly.
    pub fn busy_shares(&self) -> Vec<f64> {
        self.cpus
            .iter()
            .map(|c| ratio(c.stats.busy_cycles, self.cycles))
            .collect()
    }
}

/// `n / d`, 0 when nothing was counted.
fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Counters as a JSON tree, for the text report's generic layouts and for looking counters up by
/// the name a scenario's `expect:` gives: plain structs of numbers, which always serialise.
pub fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("counters are plain data")
}

/// The receive path's end-to-end latency in `latency`: wire start → application read.
pub fn receive_end_to_end(latency: &LatencyReport) -> Option<LatencyStats> {
    latency
        .paths
        .iter()
        .find(|p| p.from == Stage::WireStart && p.to == Stage::AppRead)
        .map(|p| p.end_to_end.clone())
}

/// Where the published schema of report.json lives, relative to the repository root.
pub const SCHEMA_FILE: &str = "docs/report.schema.json";

/// The JSON Schema (draft 2020-12) of report.json, generated from the [`Report`] types themselves,
/// so it cannot drift from what a run writes. `nicsim schema` prints it; [`SCHEMA_FILE`] is a copy a
/// test keeps equal to it.
pub fn report_schema() -> String {
    let mut s = serde_json::to_string_pretty(&schemars::schema_for!(Report))
        .expect("a schema is plain JSON");
    s.push('\n');
    s
}

impl Report {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("a report is plain data and always serialises");
        s.push('\n');
        s
    }

    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let clock = Clock {
            ps_per_cycle: self.ps_per_cycle,
        };
        let mhz = 1e6 / self.ps_per_cycle as f64;
        // fmt::Write into a String cannot fail.
        let _ = writeln!(o, "nicsim report: {} (seed {})", self.scenario, self.seed);
        if let Some(inc) = &self.incomplete {
            let _ = writeln!(
                o,
                "INCOMPLETE: {}; {} frame(s) unfinished",
                inc.reason, inc.unfinished
            );
            for f in &inc.frames {
                let at = match (f.last_stage, f.last_cycle) {
                    (Some(s), Some(c)) => format!("last at {s}, cycle {c}"),
                    (Some(s), None) => format!("last at {s}"),
                    _ => "never stamped".to_owned(),
                };
                let _ = writeln!(o, "    frame {}: {at}", f.id);
            }
        }
        let b = &self.outputs;
        if b.trace_frames_cut > 0 {
            let until = b
                .trace_until
                .map_or(String::new(), |c| format!(", CPU work until cycle {c}"));
            let _ = writeln!(
                o,
                "trace.json: first {} frame(s), {} left out (trace.perfetto.frames){until}",
                b.trace_frames, b.trace_frames_cut
            );
        }
        if b.pcap_frames_cut > 0 {
            let _ = writeln!(
                o,
                "wire.pcap: first {} frame(s), {} not written (trace.pcap.max_frames)",
                b.pcap_frames, b.pcap_frames_cut
            );
        }
        let _ = writeln!(
            o,
            "simulated {} cycles = {:.1} ns at {mhz} MHz",
            self.cycles,
            clock.cycles_to_ns(self.cycles)
        );
        let _ = writeln!(
            o,
            "\nframes: injected {}  delivered {}  consumed {}  dropped {}",
            self.injected, self.delivered, self.consumed, self.dropped
        );
        for (what, map) in [("drops", &self.drops), ("consumed by", &self.consumed_by)] {
            if !map.is_empty() {
                let _ = writeln!(o, "{what}:");
                for (k, v) in map {
                    let _ = writeln!(o, "    {k:<28}{v:>10}");
                }
            }
        }
        let _ = writeln!(o, "\nframes by origin:");
        for (origin, b) in [
            ("wire", &self.origins.wire),
            ("peer", &self.origins.peer),
            ("host", &self.origins.host),
        ] {
            let _ = writeln!(
                o,
                "    {origin:<6}injected {}  delivered {}  consumed {}  dropped {}",
                b.injected, b.delivered, b.consumed, b.dropped
            );
            for (k, v) in b.consumed_by.iter().chain(&b.drops) {
                let _ = writeln!(o, "        {k:<24}{v:>10}");
            }
        }
        if !self.faults.is_empty() {
            let _ = writeln!(o, "\nwire faults (netem):");
            for f in &self.faults {
                let _ = writeln!(o, "    rule {:<23}{:>10} hits", f.rule, f.hits);
            }
        }
        let _ = writeln!(o, "\nNIC statistics (ethtool -S):");
        for (reg, v) in &self.nic_stats {
            let name = statistic(reg).map_or(reg.as_str(), |s| s.ethtool);
            let _ = writeln!(o, "    {:<28}{v:>10}   ({reg})", format!("{name}:"));
        }
        let _ = writeln!(o, "\ndriver (ethtool -S):");
        render_flat(&mut o, &to_value(&self.driver));
        let _ = writeln!(
            o,
            "\ninterrupts {}  polls {}  packets/poll {:.2}  copies/packet {:.2}",
            self.irqs, self.polls, self.packets_per_poll, self.copies_per_packet
        );
        let _ = writeln!(o);
        o.push_str(&self.latency.render());
        render_snmp(&mut o, &to_value(&self.stack));
        render_cpus(&mut o, &to_value(&self.cpus));
        let ns = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        for p in &self.host_ping {
            let _ = writeln!(
                o,
                "\nhost ping (apps[{}]): {} transmitted, {} received, rtt min/avg/max = {}/{}/{} ns",
                p.app,
                p.transmitted,
                p.received,
                ns(p.rtt_min_ns),
                ns(p.rtt_avg_ns),
                ns(p.rtt_max_ns)
            );
        }
        if let Some(peer) = &self.peer {
            let _ = writeln!(o, "\nlink partner:");
            let _ = writeln!(
                o,
                "    received {}  sent {}  sent_late {}",
                peer.received, peer.sent, peer.sent_late
            );
            for (verdict, n) in &peer.verdicts {
                let _ = writeln!(o, "    {:<28}{n:>10}", format!("{verdict}:"));
            }
            render_flat(&mut o, &to_value(&peer.arp));
            render_flat(&mut o, &to_value(&peer.reassembly));
            for (port, st) in &peer.udp {
                let _ = writeln!(o, "    udp port {port}: {}", scalar(&to_value(st)));
            }
            let ping = &peer.ping;
            if ping.transmitted > 0 {
                let rtt = ping.rtt.as_ref().map_or("-".to_owned(), |r| {
                    format!(
                        "min/avg/max = {:.1}/{:.1}/{:.1} ns",
                        r.min_ns, r.avg_ns, r.max_ns
                    )
                });
                let _ = writeln!(
                    o,
                    "    ping: {} transmitted, {} received, {} lost, rtt {rtt}",
                    ping.transmitted, ping.received, ping.lost
                );
            }
        }
        o
    }
}

/// `name: value` lines; a list value is shown as its non-zero `index:count` entries (a histogram).
fn render_flat(o: &mut String, v: &serde_json::Value) {
    let Some(fields) = v.as_object() else { return };
    for (k, v) in fields {
        let shown = match v.as_array() {
            Some(bins) => bins
                .iter()
                .enumerate()
                .filter(|(_, c)| c.as_u64() != Some(0))
                .map(|(i, c)| format!("{i}:{}", scalar(c)))
                .collect::<Vec<_>>()
                .join(" "),
            None => scalar(v),
        };
        let _ = writeln!(o, "    {:<28}{shown:>10}", format!("{k}:"));
    }
}

/// `/proc/net/snmp` layout: for each protocol, a line of counter names and a line of values. A list
/// (per-app or per-rule counters) gets one `name[i]: key=value ...` line per entry.
fn render_snmp(o: &mut String, stack: &serde_json::Value) {
    let Some(groups) = stack.as_object() else {
        return;
    };
    let _ = writeln!(o, "\nstack counters (/proc/net/snmp):");
    for (group, counters) in groups {
        if let Some(cs) = counters.as_object() {
            let names: Vec<&str> = cs.keys().map(String::as_str).collect();
            let values: Vec<String> = cs.values().map(scalar).collect();
            let _ = writeln!(o, "    {group}: {}", names.join(" "));
            let _ = writeln!(o, "    {group}: {}", values.join(" "));
        } else if let Some(items) = counters.as_array() {
            for (i, item) in items.iter().enumerate() {
                let fields: Vec<String> = match item.as_object() {
                    Some(m) => m
                        .iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| format!("{k}={}", scalar(v)))
                        .collect(),
                    None => vec![scalar(item)],
                };
                let _ = writeln!(o, "    {group}[{i}]: {}", fields.join(" "));
            }
        } else {
            let _ = writeln!(o, "    {group}: {}", scalar(counters));
        }
    }
}

/// One row per CPU: its scalar columns, then each nested group (`softnet_stat`, laid out like
/// `/proc/net/softnet_stat`) as its own table.
fn render_cpus(o: &mut String, cpus: &serde_json::Value) {
    let Some(rows) = cpus.as_array() else { return };
    let Some(first) = rows.first().and_then(|r| r.as_object()) else {
        return;
    };
    let table = |o: &mut String,
                 title: &str,
                 pick: &dyn Fn(
        &serde_json::Value,
    ) -> Option<serde_json::Map<String, serde_json::Value>>| {
        let Some(cols) = pick(&rows[0]) else { return };
        let _ = writeln!(o, "\n{title}:");
        let names: Vec<String> = cols.keys().map(|k| format!("{k:>15}")).collect();
        let _ = writeln!(o, "    cpu{}", names.join(""));
        for (cpu, row) in rows.iter().enumerate() {
            let values: Vec<String> = pick(row)
                .map(|m| m.values().map(|v| format!("{:>15}", scalar(v))).collect())
                .unwrap_or_default();
            let _ = writeln!(o, "    {cpu:>3}{}", values.join(""));
        }
    };
    table(o, "CPUs", &|r| {
        r.as_object().map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_object())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    });
    for (group, v) in first {
        if v.is_object() {
            table(o, group, &|r| {
                r.get(group).and_then(|g| g.as_object().cloned())
            });
        }
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::latency::latency_report;
    use host_driver::cpu::CpuStats;
    use host_driver::softnet::SoftnetStat;
    use host_driver::stack::app::AppCounters;
    use host_driver::stack::udp::UdpCounters;

    /// A report of four frames: two delivered (end to end 100 and 200 cycles), two dropped.
    pub(crate) fn sample() -> Report {
        let clock = Clock::default();
        let frames: Vec<FrameTimeline> = [(1, 100), (2, 200)]
            .into_iter()
            .map(|(id, e2e)| FrameTimeline {
                id,
                stamps: vec![
                    (Stage::WireStart, 0),
                    (Stage::IpRcv, e2e / 10),
                    (Stage::AppRead, e2e),
                ],
                outcome: Outcome::Delivered { port: 9 },
            })
            .collect();
        let latency = latency_report(&frames, clock).unwrap();
        Report {
            scenario: "t".into(),
            seed: 1,
            ps_per_cycle: clock.ps_per_cycle,
            cycles: 1000,
            link_up: 100,
            injected: 4,
            delivered: 2,
            consumed: 0,
            dropped: 2,
            drops: [
                ("socket_rcvbuff".to_owned(), 1),
                ("nic_crc_error".to_owned(), 1),
            ]
            .into(),
            consumed_by: BTreeMap::new(),
            nic_stats: [("GPRC".to_owned(), 3), ("CRCERRS".to_owned(), 1)].into(),
            irqs: 2,
            polls: 2,
            packets_per_poll: 1.5,
            copies_per_packet: 1.0,
            end_to_end: receive_end_to_end(&latency),
            latency,
            driver: DriverStats {
                interrupts: 2,
                packets_per_poll: vec![0, 1, 1],
                ..DriverStats::default()
            },
            stack: StackCounters {
                udp: UdpCounters {
                    in_datagrams: 2,
                    rcvbuf_errors: 1,
                    ..UdpCounters::default()
                },
                apps: vec![AppCounters {
                    app: 0,
                    kind: "udp_sink",
                    port: 9,
                    syscalls: 2,
                    wakeups: 1,
                    received: 2,
                    received_bytes: 36,
                    received_copies: 2,
                    socket_drops: 1,
                    ..AppCounters::default()
                }],
                ..StackCounters::default()
            },
            cpus: vec![CpuReport {
                stats: CpuStats {
                    hardirqs: 2,
                    ..CpuStats::default()
                },
                softnet_stat: SoftnetStat {
                    processed: 3,
                    ..SoftnetStat::default()
                },
            }],
            host_ping: Vec::new(),
            peer: None,
            origins: Origins {
                wire: OriginBalance {
                    injected: 4,
                    delivered: 2,
                    dropped: 2,
                    drops: [
                        ("socket_rcvbuff".to_owned(), 1),
                        ("nic_crc_error".to_owned(), 1),
                    ]
                    .into(),
                    ..OriginBalance::default()
                },
                host: OriginBalance {
                    injected: 1,
                    dropped: 1,
                    drops: [("neigh_failed".to_owned(), 1)].into(),
                    ..OriginBalance::default()
                },
                ..Origins::default()
            },
            faults: vec![FaultHits { rule: 0, hits: 3 }],
            incomplete: None,
            outputs: OutputBounds {
                trace_frames: 3,
                trace_frames_cut: 2,
                trace_until: Some(900),
                pcap_frames: 5,
                pcap_frames_cut: 0,
            },
        }
    }

    #[test]
    fn text_report_has_its_sections() {
        let txt = sample().to_text();
        for needle in [
            "simulated 1000 cycles = 6400.0 ns at 156.25 MHz",
            "wire faults (netem):\n    rule 0                               3 hits",
            "frames: injected 4  delivered 2  consumed 0  dropped 2",
            "socket_rcvbuff",
            "rx_crc_errors:",
            "(CRCERRS)",
            "packets_per_poll:",
            "1:1 2:1",
            "wire_start → ip_rcv",
            "udp: IgnoredMulti InCsumErrors InDatagrams InErrors NoPorts OutDatagrams RcvbufErrors SndbufErrors",
            "udp: 0 0 2 0 0 0 1 0",
            "apps[0]: app=0 kind=udp_sink ping_replies=0 port=9 received=2",
            "copies/packet 1.00",
            "hardirqs",
            "softnet_stat:",
            "time_squeeze",
            "host  injected 1  delivered 0  consumed 0  dropped 1",
            "neigh_failed",
            "trace.json: first 3 frame(s), 2 left out (trace.perfetto.frames), CPU work until cycle 900",
        ] {
            assert!(txt.contains(needle), "missing {needle:?} in\n{txt}");
        }
        assert!(
            !txt.contains("wire.pcap:"),
            "nothing cut, nothing said:\n{txt}"
        );
    }

    #[test]
    fn the_published_schema_is_the_generated_one() {
        let published = include_str!("../../../docs/report.schema.json");
        assert!(
            published == report_schema(),
            "{SCHEMA_FILE} is stale: regenerate it with `target/release/nicsim schema > {SCHEMA_FILE}`"
        );
    }

    #[test]
    fn json_report_carries_the_headline_numbers() {
        let json: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(json["delivered"], 2);
        assert_eq!(json["drops"]["socket_rcvbuff"], 1);
        assert_eq!(json["nic_stats"]["GPRC"], 3);
        assert_eq!(json["end_to_end"]["max"], 200);
        assert_eq!(json["end_to_end"]["max_ns"], 1280.0);
        assert_eq!(json["origins"]["host"]["drops"]["neigh_failed"], 1);
        assert_eq!(json["origins"]["wire"]["injected"], 4);
        assert!(json["latency"]["hops"].is_array());
    }
}
