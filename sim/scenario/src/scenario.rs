//! A scenario file: one YAML document describing the NIC, the host, the traffic and what to expect.
//!
//! Parsing is strict: every map denies unknown keys, and every error names the file, line and column.
//! Errors inside a value come from serde_norway with its location; errors that need several values at
//! once (found by [`Scenario::validate`]) are located afterwards with [`locate`].
//!
//! Top-level keys (see `scenarios/*.yaml` for worked examples):
//! - `name` (required; `[A-Za-z0-9_.-]`, names the output folder), `description` (its first sentence
//!   is what `nicsim list` shows), `seed` (default 1; drives traffic jitter and
//!   the wire's random faults).
//! - `nic`: the NIC as built: `clock_mhz` (default 156.25). What the driver programs (promiscuous
//!   mode, ITR, RDTR/RADV, ring sizes) is driver configuration and lives under `host`, as e1000's
//!   module parameters do.
//! - `bus`: host memory and DMA timing of the platform: `memory_bytes`, `dma_read_latency_ns`,
//!   `dma_write_latency_ns`. The PCIe one-way latency is `host.costs.pcie_one_way_ns`: one number for
//!   both the host's cost model and the MMIO path.
//! - `host`: `host_driver::config::HostConfig` as is (MAC, driver parameters, costs, sysctls, `stack`,
//!   `apps`).
//! - `traffic`: a list of flows from the link partner, each `- udp: {...}` (see [`UdpFlow`]) or
//!   `- pcap: {file, timing, start_ns}` (a capture replayed; a relative `file` is taken from the
//!   scenario's folder when the run starts). Times count from the end of the driver probe (link up).
//! - `peer`: the link partner that answers the host (ARP, ping, UDP echo/sink), see
//!   [`crate::peer::PeerConfig`]; without it nothing answers what the host sends.
//! - `faults`: damage on the cable in either direction (drop, duplicate, reorder, delay, corrupt),
//!   see [`crate::faults`].
//! - `run`: `drain_ns` (time simulated after everything settled), `timeout_ns` (simulated time limit).
//! - `trace`: the window `nicsim run --wave` records, and the bounds of trace.json (`perfetto`) and
//!   wire.pcap (`pcap`) (see [`TraceConfig`]).
//! - `expect`: see [`crate::expect::Expect`].

pub mod locate;
pub mod units;

use std::path::{Path as FsPath, PathBuf};

use host_driver::accounting::{DropReason, FrameId};
use host_driver::config::HostConfig;
use host_driver::host::HostError;
use host_driver::stack::{AppConfig, Stack};
use host_driver::time::Clock;
use serde::{Deserialize, Serialize};

use crate::expect::Expect;
use crate::faults::{self, FaultRule};
use crate::peer::PeerConfig;
use crate::replay;
use crate::traffic::{self, Flow};
use locate::{Path, Problem};

/// A scenario file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// A parsed and validated scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub nic: NicConfig,
    #[serde(default)]
    pub bus: BusConfig,
    #[serde(default)]
    pub host: HostConfig,
    #[serde(default, with = "serde_norway::with::singleton_map_recursive")]
    pub traffic: Vec<Flow>,
    #[serde(default)]
    pub peer: Option<PeerConfig>,
    #[serde(default, with = "serde_norway::with::singleton_map_recursive")]
    pub faults: Vec<FaultRule>,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub trace: TraceConfig,
    #[serde(default)]
    pub expect: Expect,
}

fn default_seed() -> u64 {
    1
}

/// The NIC as built: things the driver cannot program.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NicConfig {
    /// Core clock (`clk`), MHz. 156.25 MHz with a 64-bit data path carries 10 Gb/s.
    pub clock_mhz: f64,
}

impl Default for NicConfig {
    fn default() -> Self {
        NicConfig { clock_mhz: 156.25 }
    }
}

impl NicConfig {
    /// Clock period rounded to the nearest picosecond (156.25 MHz is exactly 6400 ps).
    pub fn ps_per_cycle(&self) -> u64 {
        (1e6 / self.clock_mhz).round() as u64
    }
}

impl Scenario {
    /// The one timeline's clock: the NIC's core clock.
    pub fn clock(&self) -> Clock {
        Clock {
            ps_per_cycle: self.nic.ps_per_cycle(),
        }
    }
}

/// Host memory and DMA timing seen by the NIC's AXI master.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// Size of host physical memory.
    pub memory_bytes: usize,
    /// AR handshake → first R beat: root complex + DRAM read, ~500 ns on PCIe Gen3 (Neugebauer et al.,
    /// SIGCOMM'18, Fig. 3).
    pub dma_read_latency_ns: u64,
    /// Last W beat → B response: a posted write acknowledged by the root complex.
    pub dma_write_latency_ns: u64,
}

/// Host memory is allocated whole when the world is built: at least 1 MiB (the driver's rings and
/// buffers), at most 16 GiB.
pub const MEMORY_BYTES: std::ops::RangeInclusive<usize> = 1 << 20..=16 << 30;
/// A DMA latency of more than a second is a typo, not a bus.
pub const MAX_DMA_LATENCY_NS: u64 = 1_000_000_000;

impl BusConfig {
    fn validate(&self, at: Path) -> Result<(), Problem> {
        if !MEMORY_BYTES.contains(&self.memory_bytes) {
            return Err(Problem::new(
                at.key("memory_bytes"),
                format!(
                    "{} bytes is outside {}..={}",
                    self.memory_bytes,
                    MEMORY_BYTES.start(),
                    MEMORY_BYTES.end()
                ),
            ));
        }
        for (key, ns) in [
            ("dma_read_latency_ns", self.dma_read_latency_ns),
            ("dma_write_latency_ns", self.dma_write_latency_ns),
        ] {
            if ns > MAX_DMA_LATENCY_NS {
                return Err(Problem::new(
                    at.key(key),
                    format!("{ns} ns is more than {MAX_DMA_LATENCY_NS}"),
                ));
            }
        }
        Ok(())
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            memory_bytes: 64 << 20,
            dma_read_latency_ns: 500,
            dma_write_latency_ns: 200,
        }
    }
}

/// When a run stops.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// After every frame is injected and the NIC and host are idle, simulate this much longer so late
    /// timers (ITR, RDTR/RADV, app wake-ups) fire before the books are closed.
    pub drain_ns: u64,
    /// A run not finished after this much simulated time fails.
    pub timeout_ns: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            drain_ns: 20_000,
            timeout_ns: 100_000_000,
        }
    }
}

/// What a run records beyond its reports. The waveform window dumped by `nicsim run --wave`: a fixed
/// window (`start_ns`/`stop_ns`/`marker_ns`, simulated time from reset) or one around a trigger
/// (`trigger`, `pre_ns`, `post_ns`); without either, the whole run is recorded. `perfetto` bounds
/// trace.json and `pcap` wire.pcap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    pub start_ns: Option<u64>,
    pub stop_ns: Option<u64>,
    pub marker_ns: Option<u64>,
    #[serde(with = "serde_norway::with::singleton_map_recursive")]
    pub trigger: Option<Trigger>,
    pub pre_ns: Option<u64>,
    pub post_ns: Option<u64>,
    pub perfetto: PerfettoConfig,
    pub pcap: PcapConfig,
}

/// How much of a run trace.json shows: the first `frames` frames to appear (by their first stage)
/// with their slices, and the CPUs' work until the last of them ended. The default keeps
/// the file to a few megabytes, which the Perfetto UI opens at once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerfettoConfig {
    pub frames: u64,
}

/// trace.json's default bound: some 0.8 KB of events per frame, 8.1 MB for overload_napi_itr at 300 000 frames.
pub const DEFAULT_PERFETTO_FRAMES: u64 = 10_000;

impl Default for PerfettoConfig {
    fn default() -> Self {
        PerfettoConfig {
            frames: DEFAULT_PERFETTO_FRAMES,
        }
    }
}

/// How much of the wire wire.pcap keeps: the first `max_frames` frames in time order (all without it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcapConfig {
    pub max_frames: Option<u64>,
}

/// What opens a triggered trace window; the probe observer fires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Trigger {
    /// The first frame the NIC drops for this reason (`trigger: {drop: nic_fifo_full}`).
    Drop(DropReason),
    /// The first hardware stage of the frame with this id, as the reports number frames (wire start
    /// for RX, TX DMA done for TX).
    Frame(FrameId),
}

impl Scenario {
    /// Reads, parses and validates `path`.
    pub fn load(path: &FsPath) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text, path)
    }

    /// Parses and validates `text`, naming `path` in errors.
    pub fn parse(text: &str, path: &FsPath) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_norway::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let message = e.to_string();
            let suffix = format!(" at line {line} column {column}");
            let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
            ScenarioError::Invalid {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        })?;
        let base = path.parent().unwrap_or(FsPath::new(""));
        scenario
            .validate(base)
            .map_err(|p| located(text, path, p))?;
        Ok(scenario)
    }

    /// Everything a run would reject before it simulates: values that need more than one key, the
    /// host's, stack's and applications' configuration, the bus, the link partner, every capture
    /// (read relative to `base`, the scenario's folder), the traffic and the expectations. Runs in
    /// constant memory for any frame count.
    pub fn validate(&self, base: &FsPath) -> Result<(), Problem> {
        let root = Path::default();
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            || self.name.starts_with('.')
        {
            return Err(Problem::new(
                root.key("name"),
                format!("name `{}` must be non-empty and use only A-Z a-z 0-9 _ . - (it names the output folder)", self.name),
            ));
        }
        if !(self.nic.clock_mhz.is_finite()
            && self.nic.clock_mhz > 0.0
            && self.nic.ps_per_cycle() >= 1)
        {
            return Err(Problem::new(
                root.key("nic").key("clock_mhz"),
                format!(
                    "clock_mhz must be a positive frequency of at most 1e6 MHz, got {}",
                    self.nic.clock_mhz
                ),
            ));
        }
        if self.run.timeout_ns == 0 {
            return Err(Problem::new(
                root.key("run").key("timeout_ns"),
                "timeout_ns must be positive",
            ));
        }
        if self.run.drain_ns > self.run.timeout_ns {
            return Err(Problem::new(
                root.key("run").key("drain_ns"),
                format!(
                    "drain_ns {} is longer than the whole run may take (timeout_ns {})",
                    self.run.drain_ns, self.run.timeout_ns
                ),
            ));
        }
        self.validate_trace(root.clone().key("trace"))?;
        self.bus.validate(root.clone().key("bus"))?;
        let host = self.host_config();
        host.validate().map_err(|e| host_problem(e.into()))?;
        Stack::new(&host.stack, host.mac, &host.apps, host.clock, host.seed)
            .map_err(|e| host_problem(e.into()))?;
        if let Some(peer) = &self.peer {
            peer.validate(host.stack.address.addr)
                .map_err(|e| Problem::new(at_field(root.clone().key("peer"), &e.field), e.why))?;
        }
        traffic::validate(&self.traffic, &self.host, self.clock())?;
        faults::validate(&self.faults)?;
        for (i, flow) in self.traffic.iter().enumerate() {
            if let Flow::Pcap(cfg) = flow {
                replay::plan(&cfg.resolved(base), self.clock()).map_err(|e| {
                    let at = root.clone().key("traffic").index(i).key("pcap").key("file");
                    Problem::new(at, e.to_string())
                })?;
            }
        }
        self.validate_tcp_streams(root.clone().key("expect").key("tcp_streams"))?;
        self.expect.validate(
            host.cpus,
            self.peer.is_some(),
            self.faults.len(),
            root.key("expect"),
        )
    }

    /// `expect: tcp_streams` names a host TCP application and a link-partner TCP endpoint that exist.
    fn validate_tcp_streams(&self, at: Path) -> Result<(), Problem> {
        let endpoints = self.peer.as_ref().map_or(0, |p| p.tcp.len());
        for (i, s) in self.expect.tcp_streams.iter().enumerate() {
            let tcp_app = self.host.apps.get(s.app).is_some_and(|a| {
                matches!(
                    a,
                    AppConfig::TcpBulk(_)
                        | AppConfig::TcpSink(_)
                        | AppConfig::TcpEcho(_)
                        | AppConfig::TcpRr(_)
                )
            });
            if !tcp_app {
                let why = format!("host.apps[{}] is not a TCP application", s.app);
                return Err(Problem::new(at.clone().index(i).key("app"), why));
            }
            if s.peer >= endpoints {
                let why = format!("peer.tcp has {endpoints} endpoint(s), no [{}]", s.peer);
                return Err(Problem::new(at.clone().index(i).key("peer"), why));
            }
        }
        Ok(())
    }

    /// The host's configuration on the scenario's clock.
    pub fn host_config(&self) -> HostConfig {
        HostConfig {
            clock: self.clock(),
            seed: self.seed,
            ..self.host.clone()
        }
    }

    fn validate_trace(&self, at: Path) -> Result<(), Problem> {
        let t = &self.trace;
        let window = [
            ("start_ns", t.start_ns),
            ("stop_ns", t.stop_ns),
            ("marker_ns", t.marker_ns),
        ];
        let around = [("pre_ns", t.pre_ns), ("post_ns", t.post_ns)];
        let (conflict, needs) = if t.trigger.is_some() {
            (&window[..], "a fixed window")
        } else {
            (&around[..], "`trigger`")
        };
        if let Some((key, _)) = conflict.iter().find(|(_, v)| v.is_some()) {
            let why = if t.trigger.is_some() {
                format!("`{key}` belongs to {needs}; a triggered window takes pre_ns/post_ns")
            } else {
                format!("`{key}` needs {needs}")
            };
            return Err(Problem::new(at.key(key), why));
        }
        if let (Some(a), Some(b)) = (t.start_ns, t.stop_ns) {
            if a >= b {
                return Err(Problem::new(
                    at.key("stop_ns"),
                    format!("stop_ns {b} must be after start_ns {a}"),
                ));
            }
        }
        if t.perfetto.frames == 0 {
            return Err(Problem::new(
                at.key("perfetto").key("frames"),
                "frames must be at least 1",
            ));
        }
        if t.pcap.max_frames == Some(0) {
            return Err(Problem::new(
                at.key("pcap").key("max_frames"),
                "max_frames must be at least 1; leave it out to capture every frame",
            ));
        }
        Ok(())
    }
}

/// A path below `at` written as `a.b[2].c`.
fn at_field(at: Path, field: &str) -> Path {
    field
        .split('.')
        .fold(at, |p, seg| match seg.split_once('[') {
            Some((key, rest)) => {
                let p = if key.is_empty() { p } else { p.key(key) };
                rest.split('[')
                    .filter_map(|i| i.trim_end_matches(']').parse().ok())
                    .fold(p, Path::index)
            }
            None => p.key(seg),
        })
}

/// A host configuration the host rejects, at its key: the host's own values under `host`, the
/// applications under `host.apps`, the stack's under `host.stack`.
pub fn host_problem(e: HostError) -> Problem {
    let host = Path::default().key("host");
    match e {
        HostError::Config(e) => Problem::new(at_field(host, e.field), e.why),
        HostError::Stack(e) if e.field.starts_with("apps") => {
            Problem::new(at_field(host, &e.field), e.why)
        }
        HostError::Stack(e) => Problem::new(at_field(host.key("stack"), &e.field), e.why),
        other => Problem::new(host, other.to_string()),
    }
}

/// `problem` as an error at its place in `text`.
pub fn located(text: &str, path: &FsPath, problem: Problem) -> ScenarioError {
    let (line, column) = locate::locate(text, &problem.at).unwrap_or((1, 1));
    ScenarioError::Invalid {
        path: path.to_owned(),
        line,
        column,
        message: format!("{}: {}", problem.at, problem.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::parse(text, FsPath::new("t.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn minimal_scenario_takes_defaults() {
        let s = parse("name: x\n").unwrap();
        assert_eq!((s.seed, s.nic.ps_per_cycle()), (1, 6400));
        assert!(s.traffic.is_empty());
        assert_eq!(s.run, RunConfig::default());
    }

    #[test]
    fn syntax_and_value_errors_carry_file_line_and_column() {
        let e = parse(
            "name: x\ntraffic:\n  - udp:\n      count: 3\n      dst_port: 9\n      rate: 5xx\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("t.yaml:6:13: traffic[0].udp.rate: bad rate `5xx`"),
            "{e}"
        );
        let e = parse("name: x\nbogus: 1\n").unwrap_err();
        assert!(e.starts_with("t.yaml:2:1: unknown field `bogus`"), "{e}");
        let e = parse("name: x\ntraffic:\n  - udp: {count: 1, dst_port: 9, dst_mac: \"zz\"}\n")
            .unwrap_err();
        assert!(e.starts_with("t.yaml:3:"), "{e}");
        assert!(e.contains("not a MAC address"), "{e}");
        let e = parse("name: x\ntraffic:\n  - tcp: {count: 1}\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:5: traffic[0]: unknown variant `tcp`"),
            "{e}"
        );
    }

    #[test]
    fn semantic_errors_are_located_at_the_offending_key() {
        let e =
            parse("name: x\ntraffic:\n  - udp:\n      count: 0\n      dst_port: 9\n").unwrap_err();
        assert!(e.starts_with("t.yaml:4:14: traffic[0].udp.count:"), "{e}");
        let e = parse("name: \"a b\"\n").unwrap_err();
        assert!(e.starts_with("t.yaml:1:7: name:"), "{e}");
        let e = parse("name: x\nnic:\n  clock_mhz: 0\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:14: nic.clock_mhz:"), "{e}");
    }

    #[test]
    fn tcp_streams_name_a_tcp_app_and_a_partner_endpoint() {
        let head = "name: x\nhost:\n  apps:\n    - {kind: udp_sink, port: 9}\n    - {kind: tcp_sink, listen: 5001}\n";
        let peer = "peer:\n  tcp:\n    - {connect: {port: 5001}, app: {bulk: {bytes: 10}}}\n";
        let e = parse(&format!(
            "{head}{peer}expect:\n  tcp_streams: [{{app: 0, peer: 0}}]\n"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.yaml:10:23: expect.tcp_streams[0].app:"),
            "{e}"
        );
        assert!(e.contains("host.apps[0] is not a TCP application"), "{e}");
        let e = parse(&format!(
            "{head}{peer}expect:\n  tcp_streams: [{{app: 1, peer: 1}}]\n"
        ))
        .unwrap_err();
        assert!(
            e.contains("expect.tcp_streams[0].peer: peer.tcp has 1 endpoint(s), no [1]"),
            "{e}"
        );
        parse(&format!(
            "{head}{peer}expect:\n  tcp_streams: [{{app: 1, peer: 0}}]\n"
        ))
        .unwrap();
    }

    #[test]
    fn host_values_checked_by_the_host_are_located_too() {
        let e = parse("name: x\nhost:\n  rx_ring: 7\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:12: host.rx_ring: 7 descriptors"),
            "{e}"
        );
    }

    #[test]
    fn trace_windows_are_fixed_or_triggered_not_both() {
        let s =
            parse("name: x\ntrace:\n  trigger: {drop: nic_fifo_full}\n  pre_ns: 100\n").unwrap();
        assert_eq!(
            s.trace.trigger,
            Some(Trigger::Drop(DropReason::NicFifoFull))
        );
        let s = parse("name: x\ntrace: {trigger: {frame: 3}}\n").unwrap();
        assert_eq!(s.trace.trigger, Some(Trigger::Frame(3)));
        let e = parse("name: x\ntrace:\n  trigger: {drop: nic_fifo_full}\n  start_ns: 5\n")
            .unwrap_err();
        assert!(
            e.starts_with("t.yaml:4:13: trace.start_ns: `start_ns` belongs to a fixed window"),
            "{e}"
        );
        let e = parse("name: x\ntrace:\n  pre_ns: 5\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:11: trace.pre_ns: `pre_ns` needs `trigger`"),
            "{e}"
        );
        let e = parse("name: x\ntrace: {start_ns: 9, stop_ns: 9}\n").unwrap_err();
        assert!(
            e.contains("trace.stop_ns: stop_ns 9 must be after start_ns 9"),
            "{e}"
        );
        let e = parse("name: x\ntrace: {trigger: {drop: bogus}}\n").unwrap_err();
        assert!(e.starts_with("t.yaml:2:"), "{e}");
    }

    #[test]
    fn output_bounds_default_and_reject_zero_at_their_key() {
        let s = parse("name: x\n").unwrap();
        assert_eq!(s.trace.perfetto.frames, DEFAULT_PERFETTO_FRAMES);
        assert_eq!(s.trace.pcap.max_frames, None);
        let s = parse("name: x\ntrace: {perfetto: {frames: 7}, pcap: {max_frames: 3}}\n").unwrap();
        assert_eq!(
            (s.trace.perfetto.frames, s.trace.pcap.max_frames),
            (7, Some(3))
        );
        let e = parse("name: x\ntrace:\n  perfetto: {frames: 0}\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:22: trace.perfetto.frames: frames must be at least 1"),
            "{e}"
        );
        let e = parse("name: x\ntrace:\n  pcap:\n    max_frames: 0\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:4:17: trace.pcap.max_frames: max_frames must be at least 1"),
            "{e}"
        );
        let e = parse("name: x\ntrace: {pcap: {max_frame: 2}}\n").unwrap_err();
        assert!(e.contains("unknown field `max_frame`"), "{e}");
    }

    #[test]
    fn every_name_in_expect_is_resolved_at_its_line() {
        let e = parse("name: x\npeer: {}\nexpect:\n  peer: {udp_snuk: 0}\n").unwrap_err();
        assert!(e.starts_with("t.yaml:4:"), "{e}");
        assert!(e.contains("unknown link partner verdict `udp_snuk`"), "{e}");
        let e = parse("name: x\nexpect:\n  driver: {tx_queue_stoped: 1}\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:"), "{e}");
        let e = parse("name: x\nhost: {cpus: 2}\nexpect:\n  cpus:\n    5: {hardirqs: 1}\n")
            .unwrap_err();
        assert!(
            e.starts_with("t.yaml:5:8: expect.cpus.5: CPU 5 does not exist (host.cpus = 2)"),
            "{e}"
        );
        let e = parse("name: x\nexpect:\n  peer: {sent: 1}\n").unwrap_err();
        assert!(
            e.contains("expect.peer.sent: link partner verdicts need a `peer:`"),
            "{e}"
        );
        let e = parse("name: x\nexpect:\n  end_to_end: {}\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:15: expect.end_to_end: an empty bound"),
            "{e}"
        );
        let e = parse("name: x\nexpect:\n  stages: {ip_rcv: {}}\n").unwrap_err();
        assert!(e.contains("expect.stages.ip_rcv: an empty bound"), "{e}");
    }

    #[test]
    fn check_rejects_what_the_run_would_reject() {
        let e = parse("name: x\nhost:\n  stack:\n    mtu: 0\n").unwrap_err();
        assert!(e.starts_with("t.yaml:4:10: host.stack.mtu:"), "{e}");
        let e = parse(
            "name: x\nhost:\n  apps:\n    - {kind: udp_sink, port: 9}\n    - {kind: udp_sink, port: 9}\n",
        )
        .unwrap_err();
        assert!(e.starts_with("t.yaml:5:"), "{e}");
        assert!(e.contains("host.apps[1].port"), "{e}");
        let e = parse("name: x\nbus:\n  memory_bytes: 0\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:17: bus.memory_bytes:"), "{e}");
        let e = parse("name: x\npeer:\n  ttl: 0\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:8: peer.ttl:"), "{e}");
        let e = parse("name: x\ntraffic:\n  - pcap: {file: absent.pcap}\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:"), "{e}");
        assert!(
            e.contains("traffic[0].pcap.file: absent.pcap: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_mac_is_reported_at_its_own_line() {
        let e = parse("name: x\nhost:\n  cpus: 1\n\n  mac: \"02:00:zz:00:00:01\"\n").unwrap_err();
        assert!(e.starts_with("t.yaml:5:8:"), "{e}");
        assert!(e.contains("not a MAC address"), "{e}");
    }

    #[test]
    fn validation_does_not_build_the_frames() {
        // A trillion frames would not fit in memory; checking them takes no time at all.
        let s =
            parse("name: x\ntraffic:\n  - udp: {count: 1000000000000, dst_port: 9, rate: 1Mpps}\n")
                .unwrap();
        assert_eq!(s.traffic.len(), 1);
    }

    #[test]
    fn faults_parse_with_every_selection_and_action() {
        use crate::faults::{Action, Direction, Protocol};
        let s = parse(
            "name: x\nfaults:\n  - {direction: to_host, match: {protocol: udp, dst_port: 5001, payload: true}, nth: 5, action: drop}\n  - {direction: to_peer, count: 2, action: duplicate}\n  - {direction: to_host, action: {reorder: 2}}\n  - {direction: to_host, probability: 0.25, action: {delay_ns: 700}}\n  - {direction: to_peer, action: corrupt}\n  - {direction: to_host, match: {protocol: tcp, flags: [syn, ack], payload: false}, nth: 1, action: drop}\n",
        )
        .unwrap();
        let f = &s.faults;
        assert_eq!(
            (
                f[0].direction,
                f[0].filter.protocol,
                f[0].filter.dst_port,
                f[0].nth
            ),
            (Direction::ToHost, Some(Protocol::Udp), Some(5001), Some(5))
        );
        let actions: Vec<Action> = f.iter().map(|r| r.action).collect();
        assert_eq!(
            actions,
            [
                Action::Drop,
                Action::Duplicate,
                Action::Reorder(2),
                Action::DelayNs(700),
                Action::Corrupt,
                Action::Drop
            ]
        );
        assert_eq!((f[1].count, f[3].probability), (Some(2), Some(0.25)));
        assert_eq!(
            f[5].filter.flags,
            [crate::faults::TcpFlag::Syn, crate::faults::TcpFlag::Ack]
        );
    }

    #[test]
    fn bad_faults_are_located_at_the_offending_key() {
        let e = parse("name: x\nfaults:\n  - direction: to_host\n    nth: 0\n    action: drop\n")
            .unwrap_err();
        assert!(
            e.starts_with("t.yaml:4:10: faults[0].nth: nth counts from 1"),
            "{e}"
        );
        let e = parse(
            "name: x\nfaults:\n  - direction: to_host\n    nth: 2\n    probability: 0.5\n    action: drop\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "t.yaml:5:18: faults[0].probability: `probability` cannot be combined with `nth`"
            ),
            "{e}"
        );
        let e =
            parse("name: x\nfaults:\n  - {direction: to_peer, probability: 1.5, action: drop}\n")
                .unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:39: faults[0].probability: 1.5 is outside (0, 1]"),
            "{e}"
        );
        let e = parse("name: x\nfaults:\n  - direction: to_host\n    action: {reorder: 0}\n")
            .unwrap_err();
        assert!(
            e.starts_with("t.yaml:4:23: faults[0].action.reorder:"),
            "{e}"
        );
        let e = parse(
            "name: x\nfaults:\n  - direction: to_host\n    match:\n      dst_port: 9\n    action: drop\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "t.yaml:5:17: faults[0].match.dst_port: `dst_port` needs `protocol: udp`"
            ),
            "{e}"
        );
        let e = parse(
            "name: x\nfaults:\n  - direction: to_peer\n    match: {protocol: udp, flags: [syn]}\n    action: drop\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("t.yaml:4:35: faults[0].match.flags: `flags` needs `protocol: tcp`"),
            "{e}"
        );
        let e = parse("name: x\nfaults:\n  - {direction: sideways, action: drop}\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:17: faults[0].direction: unknown variant `sideways`"),
            "{e}"
        );
        let e = parse("name: x\nfaults:\n  - {direction: to_host, action: mangle}\n").unwrap_err();
        assert!(e.starts_with("t.yaml:3:"), "{e}");
        assert!(e.contains("unknown variant `mangle`"), "{e}");
        let e = parse(
            "name: x\nfaults:\n  - {direction: to_host, action: drop}\nexpect:\n  faults: {0: 1, 1: 0}\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "t.yaml:5:21: expect.faults.1: fault rule 1 does not exist (1 in `faults:`)"
            ),
            "{e}"
        );
        let e = parse("name: x\nfaults:\n  - {direction: to_host, action: drop, when: 3}\n")
            .unwrap_err();
        assert!(e.contains("unknown field `when`"), "{e}");
    }

    #[test]
    fn the_drain_is_bounded_by_the_timeout() {
        let e = parse("name: x\nrun:\n  drain_ns: 18446744073709551615\n").unwrap_err();
        assert!(
            e.starts_with("t.yaml:3:13: run.drain_ns: drain_ns 18446744073709551615 is longer"),
            "{e}"
        );
    }
}
