//! The `expect:` section of a scenario and its check against a finished run's [`Report`].
//!
//! Every expected value is a [`Bound`]: a number for an exact match or `{min, max}`. Latency bounds are
//! in nanoseconds, compared with the report's nanosecond figures.

use std::collections::BTreeMap;
use std::fmt;

use host_driver::accounting::{Consumer, DropReason, Stage};
use host_driver::driver::DriverStats;
use host_driver::regs::{statistic, STATISTICS};
use host_driver::stack::app::AppCounters;
use host_driver::stack::tcp_app::TcpAppCounters;
use host_driver::stack::StackCounters;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::latency::LatencyStats;
use crate::peer::{PeerConsumer, PeerDrop};
use crate::report::{to_value, Report};
use crate::scenario::locate::{Path, Problem};
use crate::scenario::units::Bound;

/// What a run must show for the scenario to pass. Absent keys are not checked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub injected: Option<Bound>,
    pub delivered: Option<Bound>,
    pub consumed: Option<Bound>,
    /// Total frames dropped, any reason.
    pub dropped: Option<Bound>,
    /// Drop reason → frames. When present it is the whole picture: a reason it does not list must not
    /// have dropped anything.
    pub drops: Option<BTreeMap<DropReason, Bound>>,
    /// Consumer (`arp`, `icmp_echo`, ...) → frames the stack consumed that way.
    #[serde(default)]
    pub consumed_by: BTreeMap<Consumer, Bound>,
    /// Statistics register (`GPRC`, `MPC`, `GORC`, ...) → value read at the end of the run.
    #[serde(default)]
    pub nic_stats: BTreeMap<StatName, Bound>,
    pub irqs: Option<Bound>,
    pub polls: Option<Bound>,
    /// Wire start → application read, in ns.
    pub end_to_end: Option<LatencyBounds>,
    /// Stage (`fifo_commit`, `irq`, ..., `app_read`) → latency of reaching it from the stage stamped just
    /// before, in ns. Every hop into the stage must meet the bounds (a frame found by a running poll
    /// reaches `napi_poll` from `dma_write_back`, one that raised an interrupt from `isr`).
    #[serde(default)]
    pub stages: BTreeMap<Stage, LatencyBounds>,
    /// CPU number → bounds on its line of the report.
    #[serde(default)]
    pub cpus: BTreeMap<usize, CpuBounds>,
    /// Driver `ethtool -S` counter (`tx_queue_stopped`, `tx_restart_queue`, ...) → value.
    #[serde(default)]
    pub driver: BTreeMap<DriverCounter, Bound>,
    /// Echo replies received by the host's `ping` applications, all together.
    pub host_ping_received: Option<Bound>,
    /// Link partner verdict (`echo_answered`, `udp_echoed`, `ping_reply`, `peer_bad_fcs`, ...) →
    /// frames, plus `sent` and `ping_received`. Needs a `peer` section.
    #[serde(default)]
    pub peer: BTreeMap<PeerKey, Bound>,
    /// Stack counter group (`qdisc`, `udp`, `ip`, ...) → counter (`requeues`, `SndbufErrors`, ...)
    /// → value, as the report's `stack` shows them.
    #[serde(default)]
    pub stack: BTreeMap<StackGroup, BTreeMap<StackCounter, Bound>>,
    /// Application index → its counters (`sent`, `send_eagain`, `sndbuf_waits`, ...).
    #[serde(default)]
    pub apps: BTreeMap<usize, BTreeMap<AppCounter, Bound>>,
    /// Per origin (`wire`, `peer`, `host`): bounds on its balance (report `origins`).
    #[serde(default)]
    pub origins: OriginsBounds,
    /// TCP byte streams checked end to end between a host application and a link-partner
    /// endpoint: each direction's byte count and CRC-32 must be equal at both ends.
    #[serde(default)]
    pub tcp_streams: Vec<TcpStream>,
    /// `faults:` rule index → frames it damaged (report `faults[i].hits`).
    #[serde(default)]
    pub faults: BTreeMap<usize, Bound>,
}

/// `expect: tcp_streams` entry: host application `app` talks to the partner's endpoint `peer`
/// (its index in `peer.tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpStream {
    pub app: usize,
    pub peer: usize,
}

/// `expect: origins`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginsBounds {
    pub wire: Option<OriginBounds>,
    pub peer: Option<OriginBounds>,
    pub host: Option<OriginBounds>,
}

/// Bounds on one origin's balance.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginBounds {
    pub injected: Option<Bound>,
    pub delivered: Option<Bound>,
    pub consumed: Option<Bound>,
    pub dropped: Option<Bound>,
    /// Drop reason (host, `nic_*` or `peer_*`) → frames; like the top-level `drops`, the whole
    /// picture when present.
    pub drops: Option<BTreeMap<OriginDrop, Bound>>,
}

/// Bounds on one CPU's line of the report: how busy it was, the work it ran, its softnet_stat.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuBounds {
    /// Busy cycles in percent of the simulated cycles ([`Report::busy_shares`]).
    pub busy_percent: Option<Bound>,
    pub hardirqs: Option<Bound>,
    pub softirq_runs: Option<Bound>,
    /// `__do_softirq` runs in ksoftirqd.
    pub ksoftirqd_runs: Option<Bound>,
    pub app_runs: Option<Bound>,
    #[serde(default)]
    pub softnet_stat: SoftnetBounds,
}

impl CpuBounds {
    /// The counters with a bound, by their name in the report.
    fn counters(&self) -> impl Iterator<Item = (&'static str, &Bound)> {
        [
            ("hardirqs", &self.hardirqs),
            ("softirq_runs", &self.softirq_runs),
            ("ksoftirqd_runs", &self.ksoftirqd_runs),
            ("app_runs", &self.app_runs),
        ]
        .into_iter()
        .filter_map(|(n, b)| b.as_ref().map(|b| (n, b)))
    }
}

/// Bounds on `/proc/net/softnet_stat` columns.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftnetBounds {
    pub processed: Option<Bound>,
    pub dropped: Option<Bound>,
    pub time_squeeze: Option<Bound>,
    pub received_rps: Option<Bound>,
}

impl SoftnetBounds {
    fn counters(&self) -> impl Iterator<Item = (&'static str, &Bound)> {
        [
            ("processed", &self.processed),
            ("dropped", &self.dropped),
            ("time_squeeze", &self.time_squeeze),
            ("received_rps", &self.received_rps),
        ]
        .into_iter()
        .filter_map(|(n, b)| b.as_ref().map(|b| (n, b)))
    }
}

/// Bounds on the statistics of a latency, each in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyBounds {
    pub min_ns: Option<Bound>,
    pub p50_ns: Option<Bound>,
    pub p99_ns: Option<Bound>,
    pub max_ns: Option<Bound>,
}

impl LatencyBounds {
    fn each(&self) -> impl Iterator<Item = (LatencyStat, &Bound)> {
        [
            (LatencyStat::Min, &self.min_ns),
            (LatencyStat::P50, &self.p50_ns),
            (LatencyStat::P99, &self.p99_ns),
            (LatencyStat::Max, &self.max_ns),
        ]
        .into_iter()
        .filter_map(|(s, b)| b.as_ref().map(|b| (s, b)))
    }

    fn is_empty(&self) -> bool {
        self.each().next().is_none()
    }
}

/// One of the statistics of a [`LatencyStats`] a bound can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LatencyStat {
    Min,
    P50,
    P99,
    Max,
}

impl LatencyStat {
    fn name(self) -> &'static str {
        match self {
            LatencyStat::Min => "min",
            LatencyStat::P50 => "p50",
            LatencyStat::P99 => "p99",
            LatencyStat::Max => "max",
        }
    }

    /// The statistic, in nanoseconds.
    fn of(self, l: &LatencyStats) -> f64 {
        match self {
            LatencyStat::Min => l.min_ns,
            LatencyStat::P50 => l.p50_ns,
            LatencyStat::P99 => l.p99_ns,
            LatencyStat::Max => l.max_ns,
        }
    }
}

/// Declares a string newtype whose `Deserialize` accepts only the names `$names()` lists, so a typo
/// in `expect:` is an error at its own line and column.
macro_rules! checked_name {
    ($(#[$m:meta])* $ty:ident, $what:literal, $names:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $ty(pub String);

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        let names: Vec<String> = $names;
                        if names.iter().any(|n| n == s) {
                            return Ok($ty(s.to_owned()));
                        }
                        Err(E::custom(format!(
                            "unknown {} `{s}`, expected one of {}",
                            $what,
                            names.join(", ")
                        )))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

checked_name!(
    /// The name of a NIC statistics register (`GPRC`, `GORC`, ...), from the register map.
    StatName,
    "NIC statistics register",
    STATISTICS.iter().map(|s| s.name.to_owned()).collect()
);

checked_name!(
    /// A driver counter that is a number in the report (`tx_queue_stopped`, ...): the names are
    /// `DriverStats`'s own fields.
    DriverCounter,
    "driver counter",
    scalar_fields(&to_value(&DriverStats::default()))
);

checked_name!(
    /// A link partner verdict (`udp_echoed`, `peer_bad_fcs`, ...), or `sent` / `ping_received`.
    PeerKey,
    "link partner verdict",
    PEER_TOTALS
        .iter()
        .copied()
        .chain(PeerConsumer::ALL.iter().map(|c| c.name()))
        .chain(PeerDrop::ALL.iter().map(|d| d.name()))
        .map(str::to_owned)
        .collect()
);

checked_name!(
    /// A group of the report's stack counters that holds plain numbers (`qdisc`, `udp`, `ip`, ...).
    StackGroup,
    "stack counter group",
    stack_groups().into_iter().map(|(g, _)| g).collect()
);

checked_name!(
    /// A counter of some stack counter group (`requeues`, `SndbufErrors`, ...).
    StackCounter,
    "stack counter",
    stack_groups().into_iter().flat_map(|(_, c)| c).collect()
);

checked_name!(
    /// A numeric counter of an application (`sent`, `send_errors`, `send_eagain`, ...), or of a
    /// TCP application's `tcp` part (`tcp.bytes_received`, `tcp.transactions`, ...).
    AppCounter,
    "application counter",
    scalar_fields(&to_value(&AppCounters::default()))
        .into_iter()
        .chain(
            scalar_fields(&to_value(&TcpAppCounters::default()))
                .into_iter()
                .map(|f| format!("tcp.{f}"))
        )
        .collect()
);

/// The stack counter groups that are objects of numbers, with their counters.
fn stack_groups() -> Vec<(String, Vec<String>)> {
    to_value(&StackCounters::default())
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.is_object())
                .map(|(g, v)| (g.clone(), scalar_fields(v)))
                .collect()
        })
        .unwrap_or_default()
}

checked_name!(
    /// A drop reason a frame of any origin can end with: the host's and NIC's, or the link
    /// partner's `peer_*`.
    OriginDrop,
    "drop reason",
    DropReason::ALL
        .iter()
        .map(|r| r.name())
        .chain(PeerDrop::ALL.iter().map(|d| d.name()))
        .map(str::to_owned)
        .collect()
);

/// `expect: peer` keys that are totals rather than verdicts.
const PEER_TOTALS: [&str; 2] = ["sent", "ping_received"];

/// The fields of a JSON object that hold plain numbers.
fn scalar_fields(v: &serde_json::Value) -> Vec<String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.is_u64())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

impl Expect {
    /// What can be checked before the run: every bound says something, every CPU exists on a host
    /// of `cpus` CPUs, and the link partner's verdicts are only expected when there `has_peer`.
    /// `at` is `expect`.
    /// Checks every name against the scenario: `cpus` CPUs, a link partner or not, `faults` rules.
    pub fn validate(
        &self,
        cpus: usize,
        has_peer: bool,
        faults: usize,
        at: Path,
    ) -> Result<(), Problem> {
        let empty = |at: Path| {
            Problem::new(
                at,
                "an empty bound checks nothing: give min_ns, p50_ns, p99_ns or max_ns",
            )
        };
        if self
            .end_to_end
            .as_ref()
            .is_some_and(LatencyBounds::is_empty)
        {
            return Err(empty(at.key("end_to_end")));
        }
        for (stage, b) in &self.stages {
            if b.is_empty() {
                return Err(empty(at.clone().key("stages").key(stage.name())));
            }
        }
        let groups = stack_groups();
        for (StackGroup(group), counters) in &self.stack {
            let known = groups.iter().find(|(g, _)| g == group).map(|(_, c)| c);
            for StackCounter(name) in counters.keys() {
                if !known.is_some_and(|c| c.contains(name)) {
                    return Err(Problem::new(
                        at.clone().key("stack").key(group).key(name),
                        format!("stack counter group `{group}` has no counter `{name}`"),
                    ));
                }
            }
        }
        if let Some(&cpu) = self.cpus.keys().find(|&&c| c >= cpus) {
            return Err(Problem::new(
                at.key("cpus").key(&cpu.to_string()),
                format!("CPU {cpu} does not exist (host.cpus = {cpus})"),
            ));
        }
        if let Some(&rule) = self.faults.keys().find(|&&r| r >= faults) {
            return Err(Problem::new(
                at.key("faults").key(&rule.to_string()),
                format!("fault rule {rule} does not exist ({faults} in `faults:`)"),
            ));
        }
        if !has_peer {
            if let Some(PeerKey(name)) = self.peer.keys().next() {
                return Err(Problem::new(
                    at.key("peer").key(name),
                    "link partner verdicts need a `peer:` section",
                ));
            }
        }
        Ok(())
    }
}

/// One expectation the run did not meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub what: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.what, self.expected, self.got
        )
    }
}

impl Expect {
    /// Every expectation `report` does not meet, in a fixed order.
    pub fn check(&self, report: &Report) -> Vec<Failure> {
        let mut out = Vec::new();
        let mut count = |what: String, bound: Option<&Bound>, got: u64| {
            out.extend(bound.and_then(|b| miss(what, b, got as f64, got.to_string())));
        };
        count("injected".into(), self.injected.as_ref(), report.injected);
        count(
            "delivered".into(),
            self.delivered.as_ref(),
            report.delivered,
        );
        count("consumed".into(), self.consumed.as_ref(), report.consumed);
        count("dropped".into(), self.dropped.as_ref(), report.dropped);
        if let Some(drops) = &self.drops {
            for (reason, b) in drops {
                let got = report.drops.get(reason.name()).copied().unwrap_or(0);
                count(format!("drops.{reason}"), Some(b), got);
            }
            for (name, &got) in &report.drops {
                if !drops.keys().any(|r| r.name() == name) {
                    count(
                        format!("drops.{name} (not listed)"),
                        Some(&Bound::exactly(0)),
                        got,
                    );
                }
            }
        }
        for (by, b) in &self.consumed_by {
            let got = report.consumed_by.get(by.name()).copied().unwrap_or(0);
            count(format!("consumed_by.{by}"), Some(b), got);
        }
        for (reg, b) in &self.nic_stats {
            debug_assert!(statistic(&reg.0).is_some());
            let got = report.nic_stats.get(&reg.0).copied().unwrap_or(0);
            count(format!("nic_stats.{}", reg.0), Some(b), got);
        }
        for (origin, bounds, got) in [
            ("wire", &self.origins.wire, &report.origins.wire),
            ("peer", &self.origins.peer, &report.origins.peer),
            ("host", &self.origins.host, &report.origins.host),
        ] {
            let Some(b) = bounds else { continue };
            for (name, bound, n) in [
                ("injected", &b.injected, got.injected),
                ("delivered", &b.delivered, got.delivered),
                ("consumed", &b.consumed, got.consumed),
                ("dropped", &b.dropped, got.dropped),
            ] {
                count(format!("origins.{origin}.{name}"), bound.as_ref(), n);
            }
            if let Some(drops) = &b.drops {
                for (OriginDrop(reason), bound) in drops {
                    let n = got.drops.get(reason).copied().unwrap_or(0);
                    count(format!("origins.{origin}.drops.{reason}"), Some(bound), n);
                }
                for (name, &n) in &got.drops {
                    if !drops.keys().any(|r| &r.0 == name) {
                        count(
                            format!("origins.{origin}.drops.{name} (not listed)"),
                            Some(&Bound::exactly(0)),
                            n,
                        );
                    }
                }
            }
        }
        count("irqs".into(), self.irqs.as_ref(), report.irqs);
        count("polls".into(), self.polls.as_ref(), report.polls);
        self.check_cpus(report, &mut out);
        self.check_send_path(report, &mut out);

        if let Some(bounds) = &self.end_to_end {
            check_latency(&mut out, "end_to_end", bounds, report.end_to_end.as_ref());
        }
        for (stage, bounds) in &self.stages {
            let hops: Vec<_> = report
                .latency
                .hops
                .iter()
                .filter(|h| h.hop.to == *stage)
                .collect();
            if hops.is_empty() {
                check_latency(&mut out, &format!("stages.{stage}"), bounds, None);
            }
            for h in hops {
                check_latency(
                    &mut out,
                    &format!("stages.{stage} ({})", h.hop.label()),
                    bounds,
                    Some(&h.stats),
                );
            }
        }
        out
    }
}

impl Expect {
    /// The driver's counters, the host's pings and the link partner's verdicts.
    fn check_send_path(&self, report: &Report, out: &mut Vec<Failure>) {
        let driver = to_value(&report.driver);
        for (name, bound) in &self.driver {
            let got = driver[&name.0].as_u64().unwrap_or(0);
            out.extend(miss(
                format!("driver.{}", name.0),
                bound,
                got as f64,
                got.to_string(),
            ));
        }
        for (&rule, bound) in &self.faults {
            let got = report
                .faults
                .iter()
                .find(|f| f.rule == rule)
                .map_or(0, |f| f.hits);
            out.extend(miss(
                format!("faults.{rule}"),
                bound,
                got as f64,
                got.to_string(),
            ));
        }
        if let Some(bound) = &self.host_ping_received {
            let got: u64 = report.host_ping.iter().map(|p| p.received).sum();
            out.extend(miss(
                "host_ping_received".into(),
                bound,
                got as f64,
                got.to_string(),
            ));
        }
        let stack = to_value(&report.stack);
        for (StackGroup(group), counters) in &self.stack {
            for (StackCounter(name), bound) in counters {
                let got = stack[group][name].as_u64();
                let what = format!("stack.{group}.{name}");
                match got {
                    Some(got) => out.extend(miss(what, bound, got as f64, got.to_string())),
                    None => out.push(Failure {
                        what,
                        expected: "a counter of that group".into(),
                        got: "none".into(),
                    }),
                }
            }
        }
        let apps = to_value(&report.stack.apps);
        for (&app, counters) in &self.apps {
            for (AppCounter(name), bound) in counters {
                let what = format!("apps.{app}.{name}");
                let got = match name.split_once('.') {
                    Some((part, field)) => &apps[app][part][field],
                    None => &apps[app][name.as_str()],
                };
                match got.as_u64() {
                    Some(got) => out.extend(miss(what, bound, got as f64, got.to_string())),
                    None => out.push(Failure {
                        what,
                        expected: "an application".into(),
                        got: "none".into(),
                    }),
                }
            }
        }
        self.check_tcp_streams(report, out);
        for (PeerKey(name), bound) in &self.peer {
            let what = format!("peer.{name}");
            let Some(peer) = &report.peer else {
                out.push(Failure {
                    what,
                    expected: "a link partner (`peer:`)".into(),
                    got: "none".into(),
                });
                continue;
            };
            let got = match name.as_str() {
                "sent" => peer.sent,
                "ping_received" => peer.ping.received,
                verdict => peer.verdicts.get(verdict).copied().unwrap_or(0),
            };
            out.extend(miss(what, bound, got as f64, got.to_string()));
        }
    }

    /// `tcp_streams`: what the host application sent, the partner's endpoint received (bytes and
    /// CRC-32), and the other way round.
    fn check_tcp_streams(&self, report: &Report, out: &mut Vec<Failure>) {
        for s in &self.tcp_streams {
            let what = format!("tcp_streams.app{}_peer{}", s.app, s.peer);
            let host = report.stack.apps.get(s.app).and_then(|a| a.tcp.as_ref());
            let peer = report
                .peer
                .as_ref()
                .and_then(|p| p.tcp.endpoints.get(s.peer));
            let (Some(h), Some(p)) = (host, peer) else {
                out.push(Failure {
                    what,
                    expected: "a host TCP application and a partner TCP endpoint".into(),
                    got: "none".into(),
                });
                continue;
            };
            let pairs = [
                (
                    "host→peer",
                    (h.bytes_sent, h.sent_crc32),
                    (p.bytes_received, p.crc32_received),
                ),
                (
                    "peer→host",
                    (p.bytes_sent, p.crc32_sent),
                    (h.bytes_received, h.received_crc32),
                ),
            ];
            for (dir, sent, got) in pairs {
                if sent != got {
                    out.push(Failure {
                        what: format!("{what}.{dir}"),
                        expected: format!("{} bytes, crc32 {:#010x}", sent.0, sent.1),
                        got: format!("{} bytes, crc32 {:#010x}", got.0, got.1),
                    });
                }
            }
        }
    }

    fn check_cpus(&self, report: &Report, out: &mut Vec<Failure>) {
        let cpus = to_value(&report.cpus);
        let lines = cpus.as_array().map_or(&[][..], Vec::as_slice);
        let busy = report.busy_shares();
        for (&cpu, b) in &self.cpus {
            let what = |name: &str| format!("cpus.{cpu}.{name}");
            let Some(line) = lines.get(cpu) else {
                out.push(Failure {
                    what: format!("cpus.{cpu}"),
                    expected: "a CPU".into(),
                    got: format!("{} CPU(s)", lines.len()),
                });
                continue;
            };
            if let Some(bound) = &b.busy_percent {
                let pct = busy[cpu] * 100.0;
                out.extend(miss(what("busy_percent"), bound, pct, format!("{pct:.1}")));
            }
            let softnet = &line["softnet_stat"];
            for (name, bound, got) in b
                .counters()
                .map(|(n, bound)| (n.to_owned(), bound, &line[n]))
                .chain(
                    b.softnet_stat
                        .counters()
                        .map(|(n, bound)| (format!("softnet_stat.{n}"), bound, &softnet[n])),
                )
            {
                let got = got.as_u64().unwrap_or(0);
                out.extend(miss(what(&name), bound, got as f64, got.to_string()));
            }
        }
    }
}

/// A failure of `what` when `got` (shown as `shown`) is outside `bound`.
fn miss(what: String, bound: &Bound, got: f64, shown: String) -> Option<Failure> {
    (!bound.holds(got)).then(|| Failure {
        what,
        expected: bound.to_string(),
        got: shown,
    })
}

fn check_latency(
    out: &mut Vec<Failure>,
    what: &str,
    bounds: &LatencyBounds,
    got: Option<&LatencyStats>,
) {
    let Some(l) = got else {
        out.push(Failure {
            what: what.to_owned(),
            expected: "a latency".into(),
            got: "no frame reached it".into(),
        });
        return;
    };
    for (stat, b) in bounds.each() {
        let ns = stat.of(l);
        if !b.holds(ns) {
            out.push(Failure {
                what: format!("{what}.{}_ns", stat.name()),
                expected: b.to_string(),
                got: format!("{ns:.1}"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;
    use host_driver::cpu::CpuStats;
    use host_driver::host::CpuReport;
    use host_driver::softnet::SoftnetStat;

    fn expect(yaml: &str) -> Expect {
        serde_norway::from_str(yaml).unwrap()
    }

    /// `expect: stack` and `apps` read the report's counters by group and name.
    #[test]
    fn stack_and_app_bounds_read_the_counters() {
        let e =
            expect("stack: {udp: {RcvbufErrors: 1, InDatagrams: 2}}\napps: {0: {received: 2}}\n");
        assert_eq!(e.check(&sample()), vec![]);
        let e = expect("stack: {qdisc: {requeues: 1}}\napps: {1: {sent: 0}}\n");
        let got: Vec<String> = e.check(&sample()).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "stack.qdisc.requeues: expected 1, got 0",
                "apps.1.sent: expected an application, got none",
            ]
        );
        assert!(serde_norway::from_str::<Expect>("stack: {qdisc: {bogus: 1}}\n").is_err());
    }

    /// `expect: origins` checks each origin's balance; its `drops` is the whole picture.
    #[test]
    fn origin_bounds_check_each_origins_balance() {
        let e = expect(
            "origins: {wire: {injected: 4}, host: {dropped: 1, drops: {neigh_failed: 1}}}\n",
        );
        assert_eq!(e.check(&sample()), vec![]);
        let e = expect("origins: {host: {injected: 2, drops: {peer_bad_fcs: 0}}}\n");
        let got: Vec<String> = e.check(&sample()).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "origins.host.injected: expected 2, got 1",
                "origins.host.drops.neigh_failed (not listed): expected 0, got 1",
            ]
        );
        assert!(
            serde_norway::from_str::<Expect>("origins: {host: {drops: {bogus: 1}}}\n").is_err()
        );
    }

    #[test]
    fn met_expectations_pass() {
        // sample(): end to end 100 and 200 cycles (640 and 1280 ns); wire_start → ip_rcv 10 and 20 cycles.
        let e = expect(
            "delivered: 2\ndropped: {min: 1}\ndrops: {socket_rcvbuff: 1, nic_crc_error: 1}\n\
             nic_stats: {GPRC: 3, MPC: 0}\nirqs: {max: 2}\nend_to_end: {p99_ns: {max: 1280}}\n\
             stages: {ip_rcv: {p50_ns: 64}}\n",
        );
        assert_eq!(e.check(&sample()), vec![]);
    }

    #[test]
    fn each_miss_names_what_was_expected_and_what_came() {
        let e = expect(
            "delivered: 3\ndrops: {socket_rcvbuff: 1}\nnic_stats: {CRCERRS: 0}\n\
             end_to_end: {max_ns: {max: 1000}}\nstages: {app_read: {max_ns: {max: 5}}, isr: {p50_ns: 1}}\n",
        );
        let got: Vec<String> = e.check(&sample()).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "delivered: expected 3, got 2",
                "drops.nic_crc_error (not listed): expected 0, got 1",
                "nic_stats.CRCERRS: expected 0, got 1",
                "end_to_end.max_ns: expected <= 1000, got 1280.0",
                "stages.isr: expected a latency, got no frame reached it",
                "stages.app_read (ip_rcv → app_read).max_ns: expected <= 5, got 1152.0",
            ]
        );
    }

    #[test]
    fn cpu_lines_are_checked_by_number() {
        let mut r = sample();
        // sample() simulates 1000 cycles.
        let cpu = |busy_cycles, hardirqs, dropped, time_squeeze| CpuReport {
            stats: CpuStats {
                busy_cycles,
                hardirqs,
                ..CpuStats::default()
            },
            softnet_stat: SoftnetStat {
                dropped,
                time_squeeze,
                ..SoftnetStat::default()
            },
        };
        r.cpus = vec![cpu(900, 2, 0, 3), cpu(100, 0, 7, 0)];
        let e = expect(
            "cpus: {0: {busy_percent: {min: 90}, hardirqs: 2, softnet_stat: {time_squeeze: 3}},\n\
             1: {busy_percent: {max: 10}, softnet_stat: {dropped: 7}}}\n",
        );
        assert_eq!(e.check(&r), vec![]);
        let e = expect(
            "cpus: {0: {busy_percent: {max: 50}, softnet_stat: {dropped: 1}}, 2: {hardirqs: 0}}\n",
        );
        let got: Vec<String> = e.check(&r).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "cpus.0.busy_percent: expected <= 50, got 90.0",
                "cpus.0.softnet_stat.dropped: expected 1, got 0",
                "cpus.2: expected a CPU, got 2 CPU(s)",
            ]
        );
    }

    #[test]
    fn consumers_and_stack_counters_are_checked_by_name() {
        let e = expect("consumed_by: {arp: 0}\nstack: {udp: {InDatagrams: 2, RcvbufErrors: 0}}\n");
        let got: Vec<String> = e.check(&sample()).iter().map(ToString::to_string).collect();
        assert_eq!(got, ["stack.udp.RcvbufErrors: expected 0, got 1"]);
        let wrong_group = expect("stack: {qdisc: {RcvbufErrors: 0}}\n")
            .validate(1, false, 0, Path::default().key("expect"))
            .unwrap_err();
        assert_eq!(
            wrong_group.message,
            "stack counter group `qdisc` has no counter `RcvbufErrors`"
        );
        for bad in [
            "stack: {udp: {InDatagram: 1}}",
            "stack: {Udp: {InDatagrams: 1}}",
            "consumed_by: {arpp: 1}",
        ] {
            assert!(
                serde_norway::from_str::<Expect>(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn names_are_checked_while_parsing() {
        for bad in [
            "nic_stats: {GPRCX: 1}",
            "drops: {socket_overflow: 1}",
            "stages: {wire_begin: {p50_ns: 1}}",
            "stages: {ip_rcv: {p90_ns: 1}}",
            "delivred: 1",
            "cpus: {0: {busy: 1}}",
            "cpus: {0: {softnet_stat: {squeezed: 1}}}",
        ] {
            assert!(
                serde_norway::from_str::<Expect>(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
