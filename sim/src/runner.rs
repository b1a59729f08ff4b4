//! The scenario runner: builds the world and the host from a scenario, injects the traffic, runs the
//! one timeline until everything is quiet, then closes the books.
//!
//! Closing the books means: read the NIC's statistics registers through real MMIO, merge the NIC's
//! per-frame records with the host's by frame id into timelines, and check conservation, the law that
//! every frame that entered the wire ended exactly once (delivered, consumed, or dropped with a
//! reason). A frame that did not is a bug in the model, and the run fails naming it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::collections::BTreeSet;

use host_driver::accounting::{
    ConservationError, Consumer, DropReason, FrameId, FrameRecord, Outcome, Stage,
};
use host_driver::host::Host;
use host_driver::regs::STATISTICS;
use host_driver::stack::config::AppConfig;
use host_driver::time::{Clock, Cycle};

use nicsim_scenario::expect::Failure;
use nicsim_scenario::faults::Direction;
use nicsim_scenario::latency::{outcome_label, FrameTimeline};
use nicsim_scenario::peer::{PeerDrop, PeerVerdict};
use nicsim_scenario::replay;
use nicsim_scenario::report::{
    FaultHits, FrameEnd, Incomplete, Origins, OutputBounds, Report, ReportInputs, UnfinishedFrame,
};
use nicsim_scenario::scenario::locate::{Path as DocPath, Problem};
use nicsim_scenario::scenario::{self, Scenario, ScenarioError};
use nicsim_scenario::traffic::{self, Flow, WireFault};
use nicsim_world::capture::{self, PcapWriteError};
use nicsim_world::fault::Fault;
use nicsim_world::netem::Netem;
use nicsim_world::observer::NicRecord;
use nicsim_world::peer::Peer;
use nicsim_world::wave::{WaveConfig, WaveError, WaveOutput, WaveWindow};
use nicsim_world::world::{World, WorldConfig};

use crate::analysis::{self, plots};
use crate::interrupt;
use crate::ledger::{LedgerError, LedgerRow, LedgerWriter};

/// Files a run writes into its output folder.
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_TXT: &str = "report.txt";
pub const WAVE_FST: &str = "wave.fst";
pub const WIRE_PCAP: &str = "wire.pcap";

/// Where a run writes and what it records besides the reports.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out_dir: PathBuf,
    /// Dump the NIC's signals (scenario `trace` window) as wave.fst + wave.gtkw.
    pub wave: bool,
    /// Write the frame ledger (see [`ledger`]) here.
    pub frames: Option<PathBuf>,
}

/// A run that finished: its report and the expectations it missed.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: Report,
    pub failures: Vec<Failure>,
    /// The waveform written with `--wave`.
    pub wave: Option<WaveOutput>,
    /// Every file the run wrote, in the order written.
    pub outputs: Vec<PathBuf>,
}

/// How far a run has got, reported before each stretch of simulated time (each at most
/// `run.drain_ns` long). Only simulated quantities: the model never sees the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Cycles simulated so far.
    pub cycle: Cycle,
    /// The cycle `run.timeout_ns` stops the run at.
    pub deadline: Cycle,
    /// The scenario's frames that have entered the wire, of `planned`.
    pub on_wire: usize,
    pub planned: usize,
}

/// Why a run could not produce a trustworthy report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is unusable (found only when building the host or world).
    #[error(transparent)]
    Input(#[from] ScenarioError),
    /// The output folder cannot be written.
    #[error("writing {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Frames without exactly one terminal outcome: a bookkeeping bug in the NIC model or the host.
    #[error("BUG: conservation violated, {} frame(s) not accounted for exactly once:\n{}", .0.len(), list(.0))]
    Conservation(Vec<Unaccounted>),
    /// Frames the NIC sent that the attached link partner never gave a verdict.
    #[error("BUG: conservation violated, {} frame(s) transmitted to the link partner without a verdict: ids {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    NoPeerVerdict(Vec<FrameId>),
    /// The NIC or the host broke a bus rule (DMA outside a mapping, AXI protocol, MMIO error).
    #[error("the run hit {} bus fault(s):\n{}", .0.len(), list(.0))]
    Faults(Vec<Fault>),
    /// Per-frame records that cannot be analysed (see [`analysis::AnalysisError`]).
    #[error("BUG: analysing the run: {0}")]
    Analysis(#[from] analysis::AnalysisError),
    /// The waveform could not be written.
    #[error(transparent)]
    Wave(#[from] WaveError),
    /// The wire capture could not be written.
    #[error(transparent)]
    Pcap(#[from] PcapWriteError),
    /// The frame ledger could not be written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A frame that did not end exactly once, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unaccounted {
    pub id: FrameId,
    /// The last stage it was stamped at.
    pub last: Option<(Stage, Cycle)>,
    /// Every terminal recorded for it (none, or more than one).
    pub outcomes: Vec<(Outcome, Cycle)>,
}

impl std::fmt::Display for Unaccounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "frame {}: ", self.id)?;
        match self.last {
            Some((s, c)) => write!(f, "last stage {s} at cycle {c}, ")?,
            None => write!(f, "never stamped, ")?,
        }
        if self.outcomes.is_empty() {
            return write!(f, "no outcome");
        }
        let all: Vec<String> = self
            .outcomes
            .iter()
            .map(|(o, c)| format!("{} at cycle {c}", outcome_label(o)))
            .collect();
        write!(f, "{} outcomes: {}", self.outcomes.len(), all.join(", "))
    }
}

/// The `--wave` window of `scenario` in cycles: its `trace` section, or the whole run.
fn wave_config(scenario: &Scenario, clock: Clock, fst: PathBuf) -> WaveConfig {
    let t = &scenario.trace;
    let c = |ns: u64| clock.ns_to_cycles(ns);
    let window = match t.trigger {
        Some(on) => WaveWindow::Trigger {
            on,
            pre: c(t.pre_ns.unwrap_or(DEFAULT_TRIGGER_PRE_NS)),
            post: c(t.post_ns.unwrap_or(DEFAULT_TRIGGER_POST_NS)),
        },
        None => WaveWindow::Cycles {
            start: c(t.start_ns.unwrap_or(0)),
            end: t.stop_ns.map_or(Cycle::MAX, c),
            marker: t.marker_ns.map(c),
        },
    };
    WaveConfig { fst, window }
}

/// Default window around a trigger: enough to see the frame before it arrive and its consequences.
const DEFAULT_TRIGGER_PRE_NS: u64 = 2_000;
const DEFAULT_TRIGGER_POST_NS: u64 = 10_000;

/// Runs `scenario` (read from `path`, named in errors) and writes its reports into `opts.out_dir`.
pub fn run(scenario: &Scenario, path: &Path, opts: &RunOptions) -> Result<RunOutcome, RunError> {
    run_with_progress(scenario, path, opts, &mut |_| {})
}

/// [`run`], telling `progress` how far the simulation got as it goes.
pub fn run_with_progress(
    scenario: &Scenario,
    path: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunOutcome, RunError> {
    let input = |p: Problem| -> RunError {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        RunError::Input(scenario::located(&text, path, p))
    };
    let clock = Clock {
        ps_per_cycle: scenario.nic.ps_per_cycle(),
    };
    let frames = planned_frames(scenario, path, clock).map_err(input)?;
    prepare_out_dir(&opts.out_dir)?;
    // Created now, so a ledger that cannot be written fails before anything is simulated.
    let ledger = opts
        .frames
        .as_deref()
        .map(LedgerWriter::create)
        .transpose()?;
    let wave = opts
        .wave
        .then(|| wave_config(scenario, clock, opts.out_dir.join(WAVE_FST)));
    let mut sim = simulate(scenario, clock, &frames, wave, &input, progress)?;
    // A window opening before its trigger can only be recorded by a second, identical run.
    if let Some(replay) = sim
        .world
        .wave_replay()
        .cloned()
        .filter(|_| sim.stopped.is_none())
    {
        sim = simulate(scenario, clock, &frames, Some(replay), &input, progress)?;
    }
    let Simulated {
        mut world,
        host,
        injected,
        link_up,
        stopped,
    } = sim;
    let netem = world.netem();
    // The tap sits at the NIC's port: frames toward the host as the damaged cable delivered them
    // (copies and corrupted bytes included, lost ones absent), the NIC's frames as it sent them.
    let to_nic = injected
        .iter()
        .zip(&frames)
        .map(|(&id, f)| (id, &f.bytes[..]))
        .chain(
            world
                .partner()
                .into_iter()
                .flat_map(|p| p.injected().iter().map(|(id, b)| (*id, &b[..]))),
        )
        .map(|(id, b)| (id, netem.rewritten(id).unwrap_or(b)))
        .chain(
            copies(netem, Direction::ToHost)
                .filter_map(|(_, copy)| netem.rewritten(copy).map(|b| (copy, b))),
        );
    let pcap_path = opts.out_dir.join(WIRE_PCAP);
    let captured = capture::capture_wire(
        &pcap_path,
        clock,
        world.nic_records(),
        to_nic,
        world.tx_frames(),
        scenario
            .trace
            .pcap
            .max_frames
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    )?;
    let mut outputs = vec![pcap_path];
    // Every frame on the wire towards the NIC: the scenario's traffic and what the peer sent, each
    // with the copies the cable made of it.
    let mut traffic: BTreeSet<FrameId> = injected.iter().copied().collect();
    let mut peer_sent: BTreeSet<FrameId> = world
        .partner()
        .into_iter()
        .flat_map(|p| p.injected().iter().map(|&(id, _)| id))
        .collect();
    for (original, copy) in copies(netem, Direction::ToHost) {
        if traffic.contains(&original) {
            traffic.insert(copy);
        } else if peer_sent.contains(&original) {
            peer_sent.insert(copy);
        }
    }
    let wire: BTreeSet<FrameId> = traffic.union(&peer_sent).copied().collect();
    let (cable, cable_verdicts) = cable_fates(netem);
    let faults: Vec<FaultHits> = netem
        .hits()
        .into_iter()
        .enumerate()
        .map(|(rule, hits)| FaultHits { rule, hits })
        .collect();
    let wave = world.finish_wave()?;
    // The statistics reads below take simulated time too; the run proper ends here.
    let cycles = world.cycle();

    let nic_stats = STATISTICS
        .iter()
        .map(|r| {
            let lo = u64::from(world.read_reg(r.offset));
            let hi = r.high.map_or(0, |h| u64::from(world.read_reg(h)));
            (r.name.to_owned(), hi << 32 | lo)
        })
        .collect();
    let host_report = host.report();
    // Frames the host created (ARP, replies, sends) must end exactly once too, and so must the
    // cable's copies of them.
    let ended: Vec<FrameId> = wire
        .iter()
        .chain(host_report.frames.keys())
        .chain(cable.keys())
        .copied()
        .collect();
    let (timelines, lost) = merge(
        &ended,
        world.nic_records(),
        &host_report.frames,
        &cable,
        &host_report.conservation_errors,
    );
    // A frame the cable lost on its way to the partner ends there, as if the partner judged it.
    let verdicts = world.partner().map(|p| {
        if cable_verdicts.is_empty() {
            Cow::Borrowed(p.verdicts())
        } else {
            let mut v = p.verdicts().clone();
            v.extend(cable_verdicts);
            Cow::Owned(v)
        }
    });
    let (origins, unjudged) = origins(&timelines, &traffic, &peer_sent, verdicts.as_deref());
    // A run that stopped early still reports what it measured; the frames still under way are its
    // unfinished business, not a bookkeeping bug.
    let incomplete = match stopped {
        Some(reason) => Some(incomplete(reason, &lost, &unjudged)),
        None if !lost.is_empty() => return Err(RunError::Conservation(lost)),
        None if !unjudged.is_empty() => return Err(RunError::NoPeerVerdict(unjudged)),
        None => None,
    };
    // The cable's copies of NIC frames have no stage of their own to measure.
    let timelines: Vec<FrameTimeline> = timelines
        .into_iter()
        .filter(|t| {
            t.outcome != Outcome::Consumed(Consumer::Transmitted) || !cable.contains_key(&t.id)
        })
        .collect();
    if let (Some(ledger), Some(path)) = (ledger, &opts.frames) {
        let from_wire = WireOrigins {
            traffic: &traffic,
            peer: &peer_sent,
        };
        write_ledger(
            ledger, &timelines, &frames, &injected, from_wire, &world, &host,
        )?;
        outputs.push(path.clone());
    }
    let (spans, series) = host_activity(&host, link_up, cycles, clock);
    let tcp_series = tcp_flow_series(&host, link_up, cycles, clock);
    let analysis = analysis::analyse(
        &timelines,
        &spans,
        &series,
        &tcp_series,
        clock,
        scenario.trace.perfetto.frames,
    )?;
    analysis.write_outputs(&opts.out_dir)?;
    outputs.extend(
        [
            analysis::TRACE_FILE,
            analysis::LATENCY_PLOT_FILE,
            analysis::IRQ_POLLS_PLOT_FILE,
        ]
        .map(|f| opts.out_dir.join(f)),
    );
    if analysis.tcp_svg.is_some() {
        outputs.push(opts.out_dir.join(analysis::TCP_PLOT_FILE));
    }
    let cut = analysis.trace_cut;
    let report = Report::new(ReportInputs {
        scenario: &scenario.name,
        seed: scenario.seed,
        clock,
        cycles,
        link_up,
        timelines: timelines.iter().filter(|t| wire.contains(&t.id)).collect(),
        nic_stats,
        host: &host_report,
        latency: analysis.latency,
        peer: world.partner().map(Peer::stats),
        origins,
        faults,
        incomplete,
        outputs: OutputBounds {
            trace_frames: cut.frames,
            trace_frames_cut: cut.frames_cut,
            trace_until: cut.until,
            pcap_frames: captured.written as u64,
            pcap_frames_cut: captured.not_written as u64,
        },
    });
    for (name, text) in [
        (REPORT_JSON, report.to_json()),
        (REPORT_TXT, report.to_text()),
    ] {
        let path = opts.out_dir.join(name);
        write(&path, text)?;
        outputs.push(path);
    }
    if let Some(w) = &wave {
        outputs.extend([w.fst.clone(), w.gtkw.clone()]);
    }
    let failures = scenario.expect.check(&report);
    Ok(RunOutcome {
        report,
        failures,
        wave,
        outputs,
    })
}

/// The generated traffic and every replayed capture (a relative `file` taken from the scenario's
/// folder), in the order they enter the wire.
fn planned_frames(
    scenario: &Scenario,
    path: &Path,
    clock: Clock,
) -> Result<Vec<traffic::PlannedFrame>, Problem> {
    let mut frames = traffic::plan(&scenario.traffic, &scenario.host, scenario.seed, clock)?;
    for (flow, f) in scenario.traffic.iter().enumerate() {
        let Flow::Pcap(cfg) = f else { continue };
        let cfg = cfg.resolved(path.parent().unwrap_or(Path::new("")));
        let at = DocPath::default()
            .key("traffic")
            .index(flow)
            .key("pcap")
            .key("file");
        let replayed = replay::plan(&cfg, clock).map_err(|e| Problem::new(at, e.to_string()))?;
        frames.extend(replayed.into_iter().map(|r| traffic::PlannedFrame {
            not_before: r.not_before,
            bytes: r.bytes,
            fault: WireFault::None,
            flow,
            seq: r.index as u64,
        }));
    }
    frames.sort_by_key(|f| (f.not_before, f.flow, f.seq));
    Ok(frames)
}

/// A finished simulation, before its books are closed.
struct Simulated {
    world: World<Peer>,
    host: Host,
    injected: Vec<FrameId>,
    link_up: Cycle,
    /// Why it stopped before everything settled (timeout, a signal), if it did.
    stopped: Option<String>,
}

/// Builds the world and host, probes, injects `frames` and runs until everything settled.
fn simulate(
    scenario: &Scenario,
    clock: Clock,
    frames: &[traffic::PlannedFrame],
    wave: Option<WaveConfig>,
    input: &dyn Fn(Problem) -> RunError,
    progress: &mut dyn FnMut(Progress),
) -> Result<Simulated, RunError> {
    // The world and host check some values only when built; blame the section they come from.
    let at = |section: &str, e: String| input(Problem::new(DocPath::default().key(section), e));
    let host_cfg = scenario.host_config();
    let mut world = World::with_partner(WorldConfig {
        ps_per_cycle: clock.ps_per_cycle,
        bus: scenario.bus.clone(),
        pcie_one_way_ns: host_cfg.costs.pcie_one_way_ns,
        rx_fifo_bytes: None,
        wave,
    })
    .map_err(|e| at("bus", e.to_string()))?;
    let mut host = Host::new(host_cfg).map_err(|e| input(scenario::host_problem(e)))?;
    host.probe(&mut world)
        .map_err(|e| at("host", format!("driver probe failed: {e}")))?;

    // Traffic times count from the moment the interface is up (probe done).
    let link_up = world.cycle();
    if let Some(cfg) = &scenario.peer {
        let host_ip = scenario.host.stack.address.addr;
        let peer = Peer::with_seed(cfg, clock, host_ip, link_up, scenario.seed)
            .map_err(|e| at("peer", e.to_string()))?;
        world.attach_partner(peer);
    }
    world.install_netem(&scenario.faults, scenario.seed);
    let injected: Vec<FrameId> = frames
        .iter()
        .map(|f| world.inject(f.bytes.clone(), link_up + f.not_before, f.fault))
        .collect();
    let stopped = settle(scenario, clock, &mut world, &mut host, &injected, progress);
    if !world.faults().is_empty() {
        return Err(RunError::Faults(world.faults().to_vec()));
    }
    Ok(Simulated {
        world,
        host,
        injected,
        link_up,
        stopped,
    })
}

/// Runs until every frame is on the wire and has ended, every delivered datagram has been read, the
/// host's senders have sent everything, the peer has nothing left to do, and the NIC and buses are
/// idle; then `run.drain_ns` more, so late timers (ITR, RDTR/RADV) fire and
/// their effects are counted.
fn settle(
    scenario: &Scenario,
    clock: Clock,
    world: &mut World<Peer>,
    host: &mut Host,
    injected: &[FrameId],
    progress: &mut dyn FnMut(Progress),
) -> Option<String> {
    let drain = clock.ns_to_cycles(scenario.run.drain_ns).max(1);
    let deadline = clock.ns_to_cycles(scenario.run.timeout_ns);
    loop {
        progress(Progress {
            cycle: world.cycle(),
            deadline,
            on_wire: injected.len().saturating_sub(world.rx_queued()),
            planned: injected.len(),
        });
        if let Some(signal) = interrupt::received() {
            return Some(format!(
                "interrupted by {signal} at cycle {}",
                world.cycle()
            ));
        }
        match pending(world, host, injected) {
            None => {}
            Some(what) if world.cycle() >= deadline => {
                return Some(format!(
                    "not quiet after {} cycles (run.timeout_ns = {}): {what}",
                    world.cycle(),
                    scenario.run.timeout_ns
                ))
            }
            Some(_) => {
                let until = (world.cycle() + drain).min(deadline.max(world.cycle() + 1));
                world.run_host(host, until);
                continue;
            }
        }
        // Frames the cable held for reordering with too few frames after them go out now.
        if world.release_held() {
            continue;
        }
        let until = world.cycle() + drain;
        world.run_host(host, until);
        // Late timers may have made frames (a retransmitted ARP request, say): settle them too;
        // done once nothing is pending.
        pending(world, host, injected)?;
    }
}

/// What the run is still waiting for, or `None` when it is done.
fn pending(world: &World<Peer>, host: &Host, injected: &[FrameId]) -> Option<String> {
    if world.rx_queued() > 0 {
        return Some(format!(
            "{} frame(s) not yet on the wire",
            world.rx_queued()
        ));
    }
    if !world.quiescent() {
        return Some("the NIC or a bus is busy".into());
    }
    if !world.partner().is_none_or(Peer::idle) {
        return Some("the link partner has frames or timers pending".into());
    }
    if let Some(app) = unfinished_sender(host) {
        return Some(format!("application apps[{app}] has not sent everything"));
    }
    let trace = host.trace();
    // Frames the host holds, whoever sent them: a frame it created (ARP, reply, send) ends at TX
    // reclaim or a drop; a delivered one when the application reads it.
    let held = trace
        .frames()
        .iter()
        .filter(|&(&id, r)| match r.outcome {
            None => true,
            Some((Outcome::Delivered { .. }, _)) => trace.stamp_of(id, Stage::AppRead).is_none(),
            Some(_) => false,
        })
        .count();
    if held > 0 {
        return Some(format!(
            "{held} frame(s) in the host not yet sent, ended or read"
        ));
    }
    let nic = world.nic_records();
    let netem = world.netem();
    let open: Vec<FrameId> = injected
        .iter()
        .copied()
        .chain(copies(netem, Direction::ToHost).map(|(_, copy)| copy))
        // Lost on the cable, or held there until the rest has settled (see `settle`).
        .filter(|&id| !netem.wire_drops().contains_key(&id) && !netem.holds_to_host(id))
        .filter(|&id| {
            let nic_dropped = nic.get(&id).is_some_and(|r| r.dropped.is_some());
            let unread = matches!(trace.outcome_of(id), Some(Outcome::Delivered { .. }))
                && trace.stamp_of(id, Stage::AppRead).is_none();
            unread || (!nic_dropped && trace.outcome_of(id).is_none())
        })
        .collect();
    (!open.is_empty()).then(|| {
        let shown: Vec<String> = open.iter().take(8).map(ToString::to_string).collect();
        format!(
            "{} frame(s) not yet ended or read by the application (ids {}{})",
            open.len(),
            shown.join(", "),
            if open.len() > 8 { ", ..." } else { "" }
        )
    })
}

/// The first `udp_send` or `ping` application that has not made all its sends.
fn unfinished_sender(host: &Host) -> Option<usize> {
    let wants: Vec<(usize, u64)> = host
        .config()
        .apps
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match a {
            AppConfig::UdpSend(c) => Some((i, c.count)),
            AppConfig::Ping(c) => Some((i, c.count)),
            _ => None,
        })
        .collect();
    if wants.is_empty() {
        return None;
    }
    let apps = host.stack_counters().apps;
    wants
        .into_iter()
        .find(|&(i, count)| apps.get(i).is_some_and(|a| a.sent + a.send_errors < count))
        .map(|(i, _)| i)
}

/// Writes `contents` to a temporary name beside `path` and renames it into place, so a reader never
/// sees half a file and a failed run never leaves one behind.
fn write(path: &Path, contents: String) -> Result<(), RunError> {
    let output = |source| RunError::Output {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents).map_err(output)?;
    std::fs::rename(&tmp, path).map_err(output)
}

/// Makes `dir` and checks, before anything is simulated, that the run can write there; removes the
/// reports of an earlier run so that none is left looking current if this one fails.
fn prepare_out_dir(dir: &Path) -> Result<(), RunError> {
    let output = |path: &Path| {
        let path = path.to_owned();
        move |source| RunError::Output { path, source }
    };
    std::fs::create_dir_all(dir).map_err(output(dir))?;
    let probe = dir.join(".nicsim-write-check");
    std::fs::write(&probe, b"").map_err(output(dir))?;
    std::fs::remove_file(&probe).map_err(output(&probe))?;
    for name in [REPORT_JSON, REPORT_TXT] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(output(&path)(e)),
            _ => {}
        }
    }
    Ok(())
}

/// How many unfinished frames an incomplete report names one by one.
const UNFINISHED_LISTED: usize = 100;

/// What an early stop left under way: every frame that had not ended, with the stage it last reached.
fn incomplete(reason: String, lost: &[Unaccounted], unjudged: &[FrameId]) -> Incomplete {
    let frames = lost
        .iter()
        .map(|u| UnfinishedFrame {
            id: u.id,
            last_stage: u.last.map(|(s, _)| s),
            last_cycle: u.last.map(|(_, c)| c),
        })
        .chain(unjudged.iter().map(|&id| UnfinishedFrame {
            id,
            last_stage: Some(Stage::TxWire),
            last_cycle: None,
        }))
        .collect::<Vec<_>>();
    Incomplete {
        reason,
        unfinished: frames.len() as u64,
        frames: frames.into_iter().take(UNFINISHED_LISTED).collect(),
    }
}

/// One timeline per frame (injected ones and those the host created), NIC, host and cable
/// (`cable`: what the damaged cable decided alone) outcomes merged, checking that each frame,
/// whatever its origin, ended exactly once.
fn merge(
    injected: &[FrameId],
    nic: &BTreeMap<FrameId, NicRecord>,
    host: &BTreeMap<FrameId, FrameRecord>,
    cable: &BTreeMap<FrameId, (Outcome, Cycle)>,
    host_errors: &[ConservationError],
) -> (Vec<FrameTimeline>, Vec<Unaccounted>) {
    let wire: BTreeSet<FrameId> = injected.iter().copied().collect();
    let ids: BTreeSet<FrameId> = wire
        .iter()
        .chain(nic.keys())
        .chain(host.keys())
        .chain(cable.keys())
        .copied()
        .collect();
    let mut timelines = Vec::with_capacity(ids.len());
    let mut lost = Vec::new();
    for id in ids {
        let n = nic.get(&id);
        let h = host.get(&id);
        let mut stamps: Vec<(Stage, Cycle)> = n.map(|r| r.stamps.clone()).unwrap_or_default();
        stamps.extend(h.iter().flat_map(|r| r.stamps.iter().copied()));
        // Path order: the stage enum lists the receive and send paths in order.
        stamps.sort_by_key(|&(s, _)| s);
        let outcomes: Vec<(Outcome, Cycle)> = n
            .and_then(|r| r.dropped.map(|(reason, c)| (Outcome::Dropped(reason), c)))
            .into_iter()
            .chain(h.and_then(|r| r.outcome))
            .chain(cable.get(&id).copied())
            .chain(
                host_errors
                    .iter()
                    .filter(|e| e.id == id)
                    .map(|e| (e.second, e.at)),
            )
            .collect();
        match outcomes[..] {
            [(outcome, _)] => timelines.push(FrameTimeline {
                id,
                stamps,
                outcome,
            }),
            _ => lost.push(Unaccounted {
                id,
                last: stamps.iter().max_by_key(|&&(_, c)| c).copied(),
                outcomes,
            }),
        }
    }
    (timelines, lost)
}

/// The copies the cable made in `direction`, as (original, copy).
fn copies(netem: &Netem, direction: Direction) -> impl Iterator<Item = (FrameId, FrameId)> + '_ {
    netem
        .duplicates()
        .iter()
        .filter(move |d| d.direction == direction)
        .map(|d| (d.original, d.copy))
}

/// What the cable alone decided: the outcome of each frame it lost toward the host (`wire_drop`)
/// and of each copy it made of a NIC frame (transmitted, like its original, so the partner's verdict
/// ends it); and the partner-side verdict of each NIC frame it lost (`peer_wire_drop`).
#[allow(clippy::type_complexity)]
fn cable_fates(
    netem: &Netem,
) -> (
    BTreeMap<FrameId, (Outcome, Cycle)>,
    BTreeMap<FrameId, (PeerVerdict, Cycle)>,
) {
    let mut outcomes = BTreeMap::new();
    let mut verdicts = BTreeMap::new();
    for (&id, d) in netem.wire_drops() {
        match d.direction {
            Direction::ToHost => {
                outcomes.insert(id, (Outcome::Dropped(DropReason::WireDrop), d.at));
            }
            Direction::ToPeer => {
                verdicts.insert(id, (PeerVerdict::Dropped(PeerDrop::WireDrop), d.at));
            }
        }
    }
    for d in netem.duplicates() {
        if d.direction == Direction::ToPeer {
            outcomes.insert(d.copy, (Outcome::Consumed(Consumer::Transmitted), d.at));
        }
    }
    (outcomes, verdicts)
}

/// Each origin's balance: the scenario's traffic (`traffic`), what the link partner sent
/// (`peer_sent`), and every other frame, which the host created. A frame the NIC transmitted ends at
/// the link partner with its verdict when one is attached (else as transmitted, onto a bare wire);
/// a transmitted frame the partner never judged is returned apart (conservation is broken, unless the
/// run stopped early with it still on the wire).
fn origins(
    timelines: &[FrameTimeline],
    traffic: &BTreeSet<FrameId>,
    peer_sent: &BTreeSet<FrameId>,
    verdicts: Option<&BTreeMap<FrameId, (PeerVerdict, Cycle)>>,
) -> (Origins, Vec<FrameId>) {
    let mut o = Origins::default();
    let mut unjudged = Vec::new();
    for t in timelines {
        let Some(end) = frame_end(t, verdicts) else {
            unjudged.push(t.id);
            continue;
        };
        let balance = if traffic.contains(&t.id) {
            &mut o.wire
        } else if peer_sent.contains(&t.id) {
            &mut o.peer
        } else {
            &mut o.host
        };
        balance.end(end);
    }
    (o, unjudged)
}

/// How a frame ended: a frame the NIC transmitted ends with the link partner's verdict when one is
/// attached (`None` when the partner never judged it), else as transmitted, onto a bare wire.
fn frame_end(
    t: &FrameTimeline,
    verdicts: Option<&BTreeMap<FrameId, (PeerVerdict, Cycle)>>,
) -> Option<FrameEnd<'static>> {
    Some(match (t.outcome, verdicts) {
        (Outcome::Delivered { .. }, _) => FrameEnd::Delivered,
        (Outcome::Consumed(Consumer::Transmitted), Some(v)) => match v.get(&t.id)? {
            (PeerVerdict::Consumed(c), _) => FrameEnd::Consumed(c.name()),
            (PeerVerdict::Dropped(d), _) => FrameEnd::Dropped(d.name()),
        },
        (Outcome::Consumed(c), _) => FrameEnd::Consumed(c.name()),
        (Outcome::Dropped(r), _) => FrameEnd::Dropped(r.name()),
    })
}

/// Writes one ledger row per frame, in id order. Sizes come from the bytes each frame had on the
/// wire: the scenario's traffic, what the link partner sent, what the NIC transmitted.
/// The frames that entered the NIC from the cable, by origin, the cable's copies included.
#[derive(Clone, Copy)]
struct WireOrigins<'a> {
    traffic: &'a BTreeSet<FrameId>,
    peer: &'a BTreeSet<FrameId>,
}

fn write_ledger(
    mut ledger: LedgerWriter,
    timelines: &[FrameTimeline],
    frames: &[traffic::PlannedFrame],
    injected: &[FrameId],
    from_wire: WireOrigins,
    world: &World<Peer>,
    host: &Host,
) -> Result<(), RunError> {
    let planned: BTreeMap<FrameId, &traffic::PlannedFrame> =
        injected.iter().copied().zip(frames).collect();
    let peer_sent: BTreeMap<FrameId, usize> = world
        .partner()
        .into_iter()
        .flat_map(|p| p.injected().iter().map(|(id, b)| (*id, b.len())))
        .collect();
    let sent: BTreeMap<FrameId, usize> = world
        .tx_frames()
        .iter()
        .filter_map(|t| t.id.map(|id| (id, t.bytes.len())))
        .collect();
    let mut cpus: BTreeMap<FrameId, Vec<usize>> = BTreeMap::new();
    for span in host.cpu_spans() {
        if let Some(id) = span.frame {
            let list = cpus.entry(id).or_default();
            if list.last() != Some(&span.cpu) {
                list.push(span.cpu);
            }
        }
    }
    let verdicts = world.partner().map(Peer::verdicts);
    for t in timelines {
        let (origin, flow, size) = match (planned.get(&t.id), peer_sent.get(&t.id)) {
            (Some(f), _) => ("wire", Some(f.flow), Some(f.bytes.len())),
            (None, Some(&len)) => ("peer", None, Some(len)),
            // A copy the cable made (netem duplicate) of a traffic or partner frame.
            (None, None) if from_wire.traffic.contains(&t.id) => ("wire", None, None),
            (None, None) if from_wire.peer.contains(&t.id) => ("peer", None, None),
            (None, None) => ("host", None, sent.get(&t.id).copied()),
        };
        let (fate, reason) = match (t.outcome, frame_end(t, verdicts)) {
            (Outcome::Delivered { port }, _) => ("delivered", format!("port_{port}")),
            (_, Some(FrameEnd::Dropped(d))) => ("dropped", d.to_owned()),
            (_, Some(FrameEnd::Consumed(c))) => ("consumed", c.to_owned()),
            // Sent, and still on its way to the link partner when the run stopped.
            _ => ("consumed", Consumer::Transmitted.name().to_owned()),
        };
        ledger.write(&LedgerRow {
            id: t.id,
            origin: origin.to_owned(),
            flow,
            size,
            fate: fate.to_owned(),
            reason,
            cpus: cpus.remove(&t.id).unwrap_or_default(),
            stamps: t.stamps.clone(),
        })?;
    }
    Ok(ledger.finish()?)
}

/// Per host TCP connection, over `from..=to`: cwnd and packets in flight (mean per bucket) and
/// goodput (bytes acknowledged per bucket), three panels a flow.
fn tcp_flow_series(host: &Host, from: Cycle, to: Cycle, clock: Clock) -> Vec<analysis::Series> {
    let buckets = plots::Buckets::over(from, to, clock);
    let mut out = Vec::new();
    for (flow, samples) in host.tcp_flow_samples() {
        let points =
            |f: fn(&host_driver::stack::tcp::sock::TcpSample) -> f64| -> Vec<(Cycle, f64)> {
                samples.iter().map(|s| (s.at, f(s))).collect()
            };
        out.push(plots::mean_series(
            &format!("{flow} cwnd"),
            &points(|s| f64::from(s.cwnd)),
            buckets,
        ));
        out.push(plots::mean_series(
            &format!("{flow} in flight"),
            &points(|s| f64::from(s.in_flight)),
            buckets,
        ));
        let acked: Vec<(Cycle, f64)> = samples
            .windows(2)
            .map(|w| (w[1].at, (w[1].bytes_acked - w[0].bytes_acked) as f64))
            .collect();
        out.push(plots::sum_series(
            &format!("{flow} bytes acked"),
            &acked,
            buckets,
        ));
    }
    out
}

/// What each CPU did (for the Perfetto trace) and, over `from..=to`, interrupts and polls per time
/// bucket and the mean packets per poll in each (for the plot).
fn host_activity(
    host: &Host,
    from: Cycle,
    to: Cycle,
    clock: Clock,
) -> (Vec<analysis::Span>, Vec<analysis::Series>) {
    let spans = host
        .cpu_spans()
        .iter()
        .map(|s| analysis::Span {
            track: format!("CPU{}", s.cpu),
            name: s.name.to_string(),
            start: s.start,
            end: s.end,
            frame: s.frame,
        })
        .collect();
    let buckets = plots::Buckets::over(from, to, clock);
    let polls: Vec<(Cycle, f64)> = host
        .poll_series()
        .iter()
        .map(|&(c, n)| (c, f64::from(n)))
        .collect();
    let poll_cycles: Vec<Cycle> = polls.iter().map(|&(c, _)| c).collect();
    let series = vec![
        plots::rate_series("interrupts", host.irq_cycles(), buckets),
        plots::rate_series("polls", &poll_cycles, buckets),
        plots::mean_series("packets per poll", &polls, buckets),
    ];
    (spans, series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_driver::accounting::{Consumer, DropReason};

    fn nic(stamps: &[(Stage, Cycle)], dropped: Option<(DropReason, Cycle)>) -> NicRecord {
        NicRecord {
            stamps: stamps.to_vec(),
            dropped,
        }
    }

    fn host(stamps: &[(Stage, Cycle)], outcome: Option<(Outcome, Cycle)>) -> FrameRecord {
        FrameRecord {
            stamps: stamps.to_vec(),
            outcome,
        }
    }

    const DELIVERED: Outcome = Outcome::Delivered { port: 9 };

    #[test]
    fn nic_and_host_records_merge_into_one_timeline_per_frame() {
        let nics = BTreeMap::from([
            (
                0,
                nic(&[(Stage::WireStart, 1), (Stage::FifoCommit, 9)], None),
            ),
            (
                1,
                nic(
                    &[(Stage::WireStart, 20)],
                    Some((DropReason::NicCrcError, 28)),
                ),
            ),
        ]);
        let hosts = BTreeMap::from([
            (
                0,
                host(
                    &[(Stage::NapiPoll, 90), (Stage::AppRead, 300)],
                    Some((DELIVERED, 200)),
                ),
            ),
            // A frame the host created (a reply) and the NIC sent.
            (
                7,
                host(
                    &[(Stage::SendTo, 400)],
                    Some((Outcome::Consumed(Consumer::Transmitted), 900)),
                ),
            ),
        ]);
        let (t, lost) = merge(&[0, 1], &nics, &hosts, &BTreeMap::new(), &[]);
        assert!(lost.is_empty());
        let ids: Vec<FrameId> = t.iter().map(|t| t.id).collect();
        assert_eq!(ids, [0, 1, 7]);
        assert_eq!(
            t[0].stamps,
            [
                (Stage::WireStart, 1),
                (Stage::FifoCommit, 9),
                (Stage::NapiPoll, 90),
                (Stage::AppRead, 300)
            ]
        );
        assert_eq!(t[0].outcome, DELIVERED);
        assert_eq!(t[1].outcome, Outcome::Dropped(DropReason::NicCrcError));
    }

    #[test]
    fn a_frame_without_exactly_one_outcome_breaks_conservation() {
        let nics = BTreeMap::from([
            (
                0,
                nic(&[(Stage::WireStart, 1), (Stage::DmaWriteBack, 80)], None),
            ),
            (
                1,
                nic(
                    &[(Stage::WireStart, 20)],
                    Some((DropReason::NicFifoFull, 30)),
                ),
            ),
            (2, nic(&[(Stage::WireStart, 40)], None)),
        ]);
        let hosts = BTreeMap::from([
            (0, host(&[(Stage::NapiPoll, 90)], None)),
            (1, host(&[], Some((DELIVERED, 99)))),
            (2, host(&[], Some((DELIVERED, 120)))),
            // A frame the host created that never ended (the unresolvable neighbour of old).
            (9, host(&[(Stage::SendTo, 140)], None)),
        ]);
        let second = ConservationError {
            id: 2,
            first: DELIVERED,
            second: Outcome::Dropped(DropReason::SocketRcvbuff),
            at: 130,
        };
        let (_, lost) = merge(&[0, 1, 2, 3], &nics, &hosts, &BTreeMap::new(), &[second]);
        let shown: Vec<String> = lost.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "frame 0: last stage napi_poll at cycle 90, no outcome",
                "frame 1: last stage wire_start at cycle 20, 2 outcomes: dropped:nic_fifo_full at cycle 30, delivered:9 at cycle 99",
                "frame 2: last stage wire_start at cycle 40, 2 outcomes: delivered:9 at cycle 120, dropped:socket_rcvbuff at cycle 130",
                "frame 3: never stamped, no outcome",
                "frame 9: last stage send_to at cycle 140, no outcome",
            ]
        );
        let msg = RunError::Conservation(lost).to_string();
        assert!(
            msg.starts_with("BUG: conservation violated, 5 frame(s)"),
            "{msg}"
        );
    }

    fn timeline(id: FrameId, outcome: Outcome) -> FrameTimeline {
        FrameTimeline {
            id,
            stamps: Vec::new(),
            outcome,
        }
    }

    /// Every origin balances; a transmitted frame ends at the link partner's verdict.
    #[test]
    fn origins_balance_per_origin_and_transmitted_frames_end_at_the_peer() {
        use nicsim_scenario::peer::{PeerConsumer, PeerDrop};
        const SENT: Outcome = Outcome::Consumed(Consumer::Transmitted);
        let t = [
            timeline(1, DELIVERED),
            timeline(2, Outcome::Dropped(DropReason::NicCrcError)),
            timeline(3, Outcome::Consumed(Consumer::Arp)),
            timeline(10, SENT),
            timeline(11, SENT),
            timeline(12, Outcome::Dropped(DropReason::NeighFailed)),
        ];
        let traffic = BTreeSet::from([1, 2]);
        let peer = BTreeSet::from([3]);
        let verdicts = BTreeMap::from([
            (10, (PeerVerdict::Consumed(PeerConsumer::UdpSunk), 50)),
            (11, (PeerVerdict::Dropped(PeerDrop::BadFcs), 60)),
        ]);
        let (o, unjudged) = origins(&t, &traffic, &peer, Some(&verdicts));
        assert!(unjudged.is_empty());
        assert_eq!(
            (o.wire.injected, o.wire.delivered, o.wire.dropped),
            (2, 1, 1)
        );
        assert_eq!((o.peer.injected, o.peer.consumed), (1, 1));
        assert_eq!(
            (o.host.injected, o.host.consumed, o.host.dropped),
            (3, 1, 2)
        );
        assert_eq!(o.host.consumed_by["udp_sunk"], 1);
        assert_eq!(o.host.drops["peer_bad_fcs"], 1);
        assert_eq!(o.host.drops["neigh_failed"], 1);
        // Without a partner a sent frame ends on the bare wire.
        let (o, _) = origins(&t, &traffic, &peer, None);
        assert_eq!(o.host.consumed_by["transmitted"], 2);
        // With one, a sent frame it never judged is a conservation failure.
        let (_, ids) = origins(&t, &traffic, &peer, Some(&BTreeMap::new()));
        assert_eq!(ids, [10, 11]);
    }
}
