//! The `nicsim` command line: `run`, `explain`, `sweep`, `check`, `list` and `packetdrill`.
//!
//! Exit status: 0 the scenario ran and its expectations held (or the files are valid), 1 an expectation
//! failed or the run broke an invariant (conservation, DMA fault, time-out), 2 bad input (a scenario
//! that does not parse or validate, an unusable output folder). Errors print their whole cause chain.
//! A sweep exits 0 when every run finished (missed expectations are only counted in sweep.csv, since
//! the swept values move them), 1 when a run broke an invariant, 2 for a bad key or value.
//! `packetdrill` exits 0 when no script failed (unsupported ones are listed, not failures), 1 when one
//! failed, 2 for a script that does not parse.

use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use host_driver::time::Clock;
use indicatif::{ProgressBar, ProgressStyle};

use crate::explain::{self, Pick};
use crate::ledger::LEDGER_FILE;
use crate::runner::{self, Progress, RunError, RunOptions};
use crate::sweep::{self, SweepOptions};
use nicsim_scenario::report::{report_schema, Report};
use nicsim_scenario::scenario::Scenario;

#[derive(Debug, Parser)]
#[command(
    name = "nicsim",
    version,
    about = "Co-simulate a Verilated NIC with a Linux-like host and report every stage a packet passes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write report.txt and report.json (plus the trace and plots) into a folder.
    Run {
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also dump the NIC's signals as wave.fst with a GTKWave save file wave.gtkw.
        #[arg(long)]
        wave: bool,
        /// Override the scenario's seed (it drives traffic jitter).
        #[arg(long)]
        seed: Option<u64>,
        /// No progress bar (it is shown only when stderr is a terminal anyway).
        #[arg(long)]
        quiet: bool,
        /// Write the frame ledger, one CSV row per frame, to FILE (default: frames.csv in the output
        /// folder, where `nicsim explain` looks).
        #[arg(long, value_name = "FILE")]
        frames: Option<Option<PathBuf>>,
    },
    /// Tell one frame's journey stage by stage from a run's frame ledger (`run --frames`).
    #[command(group(clap::ArgGroup::new("pick").required(true).args(["frame", "slowest", "dropped"])))]
    Explain {
        /// The run's output folder (its report.json gives the clock).
        out: PathBuf,
        /// The frame's id, as the reports number frames.
        frame: Option<u64>,
        /// The frame that took longest from its first stage to its last.
        #[arg(long)]
        slowest: bool,
        /// The first frame dropped with this reason (`nic_fifo_full`, `socket_rcvbuff`, ...).
        #[arg(long, value_name = "REASON")]
        dropped: Option<String>,
        /// The ledger, when not frames.csv in the output folder.
        #[arg(long, value_name = "FILE")]
        frames: Option<PathBuf>,
    },
    /// Run a scenario for every combination of parameter values; write each run's reports into its own
    /// folder, plus sweep.csv (one row per combination) and plots of p99 latency and drops.
    Sweep {
        scenario: PathBuf,
        /// A key (path into the scenario: host.napi_weight, traffic[0].udp.rate) and its values,
        /// comma-separated. Repeat for more keys; every combination runs.
        #[arg(long = "set", value_name = "KEY=V1,V2,...", required = true)]
        set: Vec<sweep::Param>,
        /// Output folder (default: out/<scenario name>-sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once (default: the number of cores).
        #[arg(long)]
        jobs: Option<NonZeroUsize>,
    },
    /// Validate scenario files without running them.
    Check {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// List the scenarios in a folder with their descriptions.
    List {
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Run Linux packetdrill scripts (.pkt) against the host's TCP through the NIC; write
    /// packetdrill.txt (pass, fail with the first mismatch, or unsupported with the feature).
    Packetdrill {
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
        /// Tolerance of event times in µs (a script's own --tolerance_usecs overrides it).
        #[arg(long, default_value_t = crate::packetdrill::DEFAULT_TOLERANCE_USECS)]
        tolerance_usecs: u64,
        /// Output folder for packetdrill.txt.
        #[arg(long, default_value = "out/packetdrill")]
        out: PathBuf,
    },
    /// Print the JSON Schema of report.json (docs/report.schema.json is a copy).
    Schema,
}

/// How a command ended; the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    Failed = 1,
    BadInput = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// Entry point of the `nicsim` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run {
            scenario,
            out,
            wave,
            seed,
            quiet,
            frames,
        } => run(&scenario, out, wave, seed, quiet, frames),
        Command::Explain {
            out,
            frame,
            slowest,
            dropped,
            frames,
        } => {
            let pick = match (frame, dropped) {
                (Some(id), _) => Pick::Id(id),
                (None, Some(reason)) => Pick::Dropped(reason),
                (None, None) => {
                    debug_assert!(slowest, "clap requires one of the three");
                    Pick::Slowest
                }
            };
            explain(&out, &pick, frames)
        }
        Command::Sweep {
            scenario,
            set,
            out,
            jobs,
        } => sweep(&scenario, &set, out, jobs),
        Command::Check { scenarios } => check(&scenarios),
        Command::List { dir } => list(&dir),
        Command::Packetdrill {
            scripts,
            tolerance_usecs,
            out,
        } => packetdrill(&scripts, tolerance_usecs, &out),
        Command::Schema => {
            print!("{}", report_schema());
            Status::Ok
        }
    };
    status.into()
}

fn packetdrill(scripts: &[PathBuf], tolerance_usecs: u64, out: &Path) -> Status {
    use crate::packetdrill::{run_all, RunAllError, Verdict, REPORT_FILE};
    match run_all(scripts, tolerance_usecs, out, &mut |r| {
        println!("{}", r.line())
    }) {
        Ok(reports) => {
            println!("wrote {}", out.join(REPORT_FILE).display());
            match reports
                .iter()
                .any(|r| matches!(r.verdict, Verdict::Fail { .. }))
            {
                true => Status::Failed,
                false => Status::Ok,
            }
        }
        Err(e @ (RunAllError::Parse(_) | RunAllError::Output { .. })) => {
            eprintln!("error: {e}");
            Status::BadInput
        }
    }
}

fn report_error(e: &anyhow::Error) {
    eprintln!("error: {e:#}");
}

fn run(
    path: &Path,
    out: Option<PathBuf>,
    wave: bool,
    seed: Option<u64>,
    quiet: bool,
    frames: Option<Option<PathBuf>>,
) -> Status {
    crate::interrupt::install();
    let mut scenario = match Scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            report_error(&anyhow::Error::new(e));
            return Status::BadInput;
        }
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let dir = out.unwrap_or_else(|| Path::new("out").join(&scenario.name));
    if let Err(e) = std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating output folder {}", dir.display()))
    {
        report_error(&e);
        return Status::BadInput;
    }
    let opts = RunOptions {
        out_dir: dir.clone(),
        wave,
        frames: frames.map(|f| f.unwrap_or_else(|| dir.join(LEDGER_FILE))),
    };
    let bar = progress_bar(quiet || !std::io::stderr().is_terminal());
    let clock = scenario.clock();
    let result = runner::run_with_progress(&scenario, path, &opts, &mut |p| {
        show_progress(&bar, &p, clock);
    });
    bar.finish_and_clear();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let status = match e {
                RunError::Input(_) | RunError::Output { .. } | RunError::Ledger(_) => {
                    Status::BadInput
                }
                _ => Status::Failed,
            };
            report_error(&anyhow::Error::new(e).context(format!("running {}", path.display())));
            return status;
        }
    };
    print_summary(&outcome.report, &dir);
    print_output_sizes(&outcome.outputs);
    if let Some(w) = &outcome.wave {
        println!(
            "waveform: cycles {}..{} in {} (open with: gtkwave {} {})",
            w.start,
            w.end,
            w.fst.display(),
            w.fst.display(),
            w.gtkw.display()
        );
    }
    if let Some(inc) = &outcome.report.incomplete {
        eprintln!(
            "run INCOMPLETE: {}; {} frame(s) unfinished; the reports in {} say what was measured",
            inc.reason,
            inc.unfinished,
            dir.display()
        );
        return Status::Failed;
    }
    if outcome.failures.is_empty() {
        println!("expectations: all held");
        Status::Ok
    } else {
        eprintln!("expectations FAILED ({}):", outcome.failures.len());
        for f in &outcome.failures {
            eprintln!("  {f}");
        }
        Status::Failed
    }
}

/// The progress bar of a run or sweep on stderr, hidden when `hidden` (not a terminal, or
/// `--quiet`).
fn progress_bar(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("[{bar:16}] {msg}, {elapsed} ETA {eta}")
        .expect("a valid template")
        .progress_chars("=> ");
    ProgressBar::new(0).with_style(style)
}

/// Moves `bar` to `p`: frames on the wire of those planned (simulated time of the timeout when the
/// scenario plans none), and how fast simulated time goes in wall time. Only this layer reads the
/// wall clock (through indicatif), never the model.
fn show_progress(bar: &ProgressBar, p: &Progress, clock: Clock) {
    if bar.is_hidden() {
        return;
    }
    let (pos, len) = if p.planned > 0 {
        (p.on_wire as u64, p.planned as u64)
    } else {
        (p.cycle, p.deadline)
    };
    bar.set_message(progress_message(p, clock, bar.elapsed().as_secs_f64()));
    bar.set_length(len);
    bar.set_position(pos);
}

/// `12/300 frames, 1.5 ms/100.0 ms simulated, 750 µs/s`: frames on the wire of those planned,
/// simulated time of the timeout, simulated µs per wall second.
fn progress_message(p: &Progress, clock: Clock, wall_secs: f64) -> String {
    let sim_us = clock.cycles_to_ns(p.cycle) / 1000.0;
    let speed = if wall_secs > 0.0 {
        format!(", {:.0} µs/s", sim_us / wall_secs)
    } else {
        String::new()
    };
    format!(
        "{}/{} frames, {}/{} simulated{speed}",
        p.on_wire,
        p.planned,
        sim_time(sim_us),
        sim_time(clock.cycles_to_ns(p.deadline) / 1000.0)
    )
}

/// Microseconds in the largest unit that keeps a whole part: `850.0 µs`, `1.2 ms`, `1.000 s`.
fn sim_time(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.3} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{us:.1} µs")
    }
}

/// Each file the run wrote with its size.
fn print_output_sizes(outputs: &[PathBuf]) {
    println!("outputs:");
    for p in outputs {
        match std::fs::metadata(p) {
            Ok(m) => println!(
                "  {}: {} ({} bytes)",
                p.display(),
                human_size(m.len()),
                m.len()
            ),
            Err(e) => println!("  {}: {e}", p.display()),
        }
    }
}

/// Bytes in decimal units: `512 B`, `12.3 kB`, `252.0 MB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn print_summary(r: &Report, dir: &Path) {
    let clock = host_driver::time::Clock {
        ps_per_cycle: r.ps_per_cycle,
    };
    println!(
        "{}: injected {}, delivered {}, consumed {}, dropped {} in {} cycles ({:.1} us)",
        r.scenario,
        r.injected,
        r.delivered,
        r.consumed,
        r.dropped,
        r.cycles,
        clock.cycles_to_ns(r.cycles) / 1000.0
    );
    if let Some(l) = &r.end_to_end {
        println!(
            "end to end (wire start → app read): p50 {} cycles = {:.1} ns, p99 {} cycles = {:.1} ns",
            l.p50, l.p50_ns, l.p99, l.p99_ns
        );
    }
    for (reason, n) in &r.drops {
        println!("dropped {n} x {reason}");
    }
    println!("report: {}", dir.join(runner::REPORT_TXT).display());
}

fn sweep(
    path: &Path,
    params: &[sweep::Param],
    out: Option<PathBuf>,
    jobs: Option<NonZeroUsize>,
) -> Status {
    // The folder name needs the scenario's name; the sweep itself reports a file that does not load.
    let dir = match out {
        Some(d) => d,
        None => match Scenario::load(path) {
            Ok(s) => Path::new("out").join(format!("{}-sweep", s.name)),
            Err(e) => {
                report_error(&anyhow::Error::new(e));
                return Status::BadInput;
            }
        },
    };
    let jobs =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN));
    let opts = SweepOptions { out_dir: dir, jobs };
    let bar = progress_bar(!std::io::stderr().is_terminal());
    let result = sweep::sweep_with_progress(path, params, &opts, &|done, all| {
        bar.set_length(all as u64);
        bar.set_position(done as u64);
        bar.set_message(format!("{done}/{all} runs"));
    });
    bar.finish_and_clear();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let status = if e.is_bad_input() {
                Status::BadInput
            } else {
                Status::Failed
            };
            report_error(&anyhow::Error::new(e).context(format!("sweeping {}", path.display())));
            return status;
        }
    };
    let mut status = Status::Ok;
    for row in &outcome.rows {
        match &row.result {
            Ok(s) => println!(
                "{}: delivered {}/{}, dropped {}, irqs {}, p99 {}",
                row.combo.dir.display(),
                s.delivered,
                s.injected,
                s.dropped,
                s.irqs,
                s.p99_ns.map_or("-".to_owned(), |ns| format!("{ns:.1} ns"))
            ),
            Err(e) => {
                eprintln!("error: {}: {}", row.combo.dir.display(), e.message);
                status = match (status, e.bad_input) {
                    (Status::BadInput, _) | (_, true) => Status::BadInput,
                    _ => Status::Failed,
                };
            }
        }
    }
    println!("table: {}", outcome.csv.display());
    for p in &outcome.plots {
        println!("plot: {}", p.display());
    }
    status
}

/// Prints the journey of the frame `pick` names, from the ledger of the run in `dir`.
fn explain(dir: &Path, pick: &Pick, frames: Option<PathBuf>) -> Status {
    let ledger = frames.unwrap_or_else(|| dir.join(LEDGER_FILE));
    let report = dir.join(runner::REPORT_JSON);
    let clock = std::fs::read_to_string(&report)
        .with_context(|| format!("reading {}", report.display()))
        .and_then(|text| {
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", report.display()))?;
            v["ps_per_cycle"]
                .as_u64()
                .map(|ps_per_cycle| Clock { ps_per_cycle })
                .with_context(|| format!("{}: no ps_per_cycle", report.display()))
        });
    let clock = match clock {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return Status::BadInput;
        }
    };
    match explain::find(&ledger, pick) {
        Ok(Some(row)) => {
            print!("{}", explain::render(&row, clock));
            Status::Ok
        }
        Ok(None) => {
            eprintln!("error: {}: no {pick}", ledger.display());
            Status::BadInput
        }
        Err(e) => {
            report_error(
                &anyhow::Error::new(e)
                    .context("reading the frame ledger (written by `nicsim run --frames`)"),
            );
            Status::BadInput
        }
    }
}

fn check(paths: &[PathBuf]) -> Status {
    let mut status = Status::Ok;
    for p in paths {
        match Scenario::load(p) {
            Ok(s) => println!("{}: ok ({})", p.display(), s.name),
            Err(e) => {
                report_error(&anyhow::Error::new(e));
                status = Status::BadInput;
            }
        }
    }
    status
}

fn list(dir: &Path) -> Status {
    let entries = match scenario_files(dir) {
        Ok(e) => e,
        Err(e) => {
            report_error(&e);
            return Status::BadInput;
        }
    };
    let mut status = Status::Ok;
    for p in entries {
        match Scenario::load(&p) {
            Ok(s) => {
                // The first sentence is the summary.
                let summary = s
                    .description
                    .split_inclusive(". ")
                    .next()
                    .unwrap_or("")
                    .trim_end();
                println!("{:<36} {summary}", p.display());
            }
            Err(e) => {
                report_error(&anyhow::Error::new(e));
                status = Status::BadInput;
            }
        }
    }
    status
}

/// The `*.yaml` files directly in `dir`, sorted by name.
fn scenario_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_in_simulated_units_and_sizes_in_decimal_ones() {
        let clock = Clock::default();
        let p = Progress {
            cycle: clock.ns_to_cycles(1_500_000),
            deadline: clock.ns_to_cycles(100_000_000),
            on_wire: 12,
            planned: 300,
        };
        assert_eq!(
            progress_message(&p, clock, 2.0),
            "12/300 frames, 1.5 ms/100.0 ms simulated, 750 µs/s"
        );
        assert_eq!(
            progress_message(&p, clock, 0.0),
            "12/300 frames, 1.5 ms/100.0 ms simulated"
        );
        assert_eq!(sim_time(850.0), "850.0 µs");
        assert_eq!(sim_time(2_000_000.0), "2.000 s");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(12_345), "12.3 kB");
        assert_eq!(human_size(252_000_000), "252.0 MB");
    }
}
