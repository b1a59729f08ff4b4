//! The `nicsim` binary's contract: exit status and where it reports what.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nicsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nicsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("nicsim starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn out_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    // A previous run's files must not satisfy this one's checks.
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn check_reports_an_unknown_key_with_file_line_and_column() {
    let o = nicsim(&["check", "tests/data/bad_unknown_key.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("tests/data/bad_unknown_key.yaml:7:7: traffic[0].udp: unknown field `sise`"),
        "{err}"
    );
}

#[test]
fn check_reports_a_bad_value_at_the_value() {
    let o = nicsim(&["check", "tests/data/bad_value.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("tests/data/bad_value.yaml:7:13: traffic[0].udp.rate:"),
        "{err}"
    );
}

#[test]
fn check_locates_errors_found_after_parsing() {
    let o = nicsim(&["check", "tests/data/bad_semantic.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(
            "tests/data/bad_semantic.yaml:5:14: traffic[0].udp.count: count must be at least 1"
        ),
        "{err}"
    );
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let mut args = vec!["check".to_owned()];
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")).unwrap()
    {
        args.push(e.unwrap().path().to_string_lossy().into_owned());
    }
    assert!(args.len() > 1, "no scenarios found");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = nicsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches(": ok (").count(), args.len() - 1);
}

#[test]
fn list_shows_each_scenario_with_its_description() {
    let o = nicsim(&["list", "../scenarios"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("udp_single.yaml"), "{out}");
    assert!(
        out.lines().all(|l| l.split_whitespace().count() > 1),
        "a scenario without description:\n{out}"
    );
}

#[test]
fn a_missing_scenario_is_bad_input() {
    let o = nicsim(&["run", "tests/data/does_not_exist.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("does_not_exist.yaml: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_failed_expectation_exits_1_naming_expected_and_got() {
    let dir = out_dir("expect_fail");
    let o = nicsim(&[
        "run",
        "tests/data/expect_fail.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("delivered: expected 2, got 1"), "{err}");
    // The reports are written even when expectations fail, to show why.
    assert!(dir.join("report.json").is_file() && dir.join("report.txt").is_file());
}

#[test]
fn run_writes_reports_into_the_output_folder() {
    let dir = out_dir("udp_single");
    let o = nicsim(&[
        "run",
        "../scenarios/udp_single.yaml",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "7",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(json["delivered"], 1);
    assert!(stdout(&o).contains("expectations: all held"));
}

#[test]
fn wave_records_the_window_around_a_trigger() {
    let dir = out_dir("ring_too_small_wave");
    let o = nicsim(&[
        "run",
        "../scenarios/ring_too_small.yaml",
        "--wave",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // trace: 2 µs either side of the first missed frame = 313 cycles each way at 6.4 ns.
    let window = out
        .lines()
        .find_map(|l| l.strip_prefix("waveform: cycles "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|w| w.split_once(".."))
        .map(|(a, b)| (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()))
        .unwrap_or_else(|| panic!("no waveform line in\n{out}"));
    assert_eq!(window.1 - window.0, 626, "{out}");
    for f in ["wave.fst", "wave.gtkw"] {
        assert!(
            std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > 0),
            "{f} missing"
        );
    }
}

/// A long stream: 300 000 datagrams at 300 kpps, one second simulated.
const LONG_RUN: &str = "name: long_stream\n\
host:\n  interrupt_throttle_rate: 20000\n  stack: {address: 10.0.0.1/24}\n  \
apps: [{kind: udp_sink, port: 5001, read_batch: 64}]\n\
traffic:\n  - udp: {count: 300000, size: 64, rate: 300kpps, dst_port: 5001}\n";

fn scenario_file(name: &str, text: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn report_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn a_run_that_times_out_still_writes_its_report_marked_incomplete() {
    let yaml = format!("{LONG_RUN}run: {{timeout_ns: 2000000}}\n");
    let path = scenario_file("times_out", &yaml);
    let dir = out_dir("times_out");
    let o = nicsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run INCOMPLETE: not quiet after"),
        "{}",
        stderr(&o)
    );
    let r = report_json(&dir);
    let inc = &r["incomplete"];
    assert!(inc["reason"]
        .as_str()
        .unwrap()
        .contains("run.timeout_ns = 2000000"));
    assert!(inc["unfinished"].as_u64().unwrap() > 0);
    assert!(inc["frames"][0]["id"].is_u64());
    assert!(
        r["delivered"].as_u64().unwrap() > 0,
        "what was measured is kept"
    );
    let txt = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(txt.contains("INCOMPLETE: not quiet after"), "{txt}");
}

#[test]
fn an_interrupted_run_writes_a_complete_report_marked_incomplete() {
    let path = scenario_file("interrupted", LONG_RUN);
    let dir = out_dir("interrupted");
    let child = Command::new(env!("CARGO_BIN_EXE_nicsim"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The output folder appears once the handler is in place; then the run simulates for minutes,
    // and the user presses ^C a moment into it.
    while !dir.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: kill(2) on the child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report_json(&dir);
    let shown = format!("{}\n{r}", stderr(&o));
    assert!(
        r["incomplete"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("interrupted by SIGINT"),
        "{shown}"
    );
    assert!(r["injected"].as_u64().unwrap() > 0, "{shown}");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&r)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{shown}");
}

#[test]
fn an_output_folder_that_cannot_be_written_is_bad_input_before_any_simulation() {
    let o = nicsim(&["run", "../scenarios/udp_single.yaml", "--out", "/proc/self"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/proc/self"), "{}", stderr(&o));
    // A report left from an earlier run is removed before the run, never left looking current.
    let dir = out_dir("stale");
    std::fs::create_dir_all(dir.join("report.json")).unwrap();
    let o = nicsim(&[
        "run",
        "../scenarios/udp_single.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("BUG"), "{}", stderr(&o));
}

#[test]
fn a_run_lists_each_output_with_its_size_and_draws_no_progress_off_a_terminal() {
    let dir = out_dir("sizes");
    let o = nicsim(&[
        "run",
        "../scenarios/udp_single.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let listed: Vec<(String, u64)> = out
        .lines()
        .skip_while(|l| *l != "outputs:")
        .skip(1)
        .map_while(|l| l.strip_prefix("  "))
        .map(|l| {
            let (path, rest) = l.split_once(": ").unwrap();
            let bytes = rest.split('(').nth(1).unwrap().trim_end_matches(" bytes)");
            (path.to_owned(), bytes.parse().unwrap())
        })
        .collect();
    let names: Vec<String> = listed
        .iter()
        .map(|(p, _)| {
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "wire.pcap",
            "trace.json",
            "latency.svg",
            "irq_polls.svg",
            "report.json",
            "report.txt"
        ],
        "{out}"
    );
    for (path, bytes) in &listed {
        assert_eq!(std::fs::metadata(path).unwrap().len(), *bytes, "{path}");
    }
    // stderr is a pipe here: no bar, no carriage returns, nothing at all on a green run.
    assert_eq!(stderr(&o), "");
}

/// Runs `args` under a pseudo-terminal (util-linux `script`), returning what the terminal showed.
fn nicsim_on_a_terminal(args: &[&str]) -> Output {
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_nicsim"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("script (util-linux) runs")
}

#[test]
fn a_run_on_a_terminal_shows_frames_and_simulated_time_unless_quiet() {
    let dir = out_dir("progress");
    let o = nicsim_on_a_terminal(&[
        "run",
        "../scenarios/udp_burst_linerate.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let shown = stdout(&o);
    assert!(shown.contains("/256 frames, "), "{shown}");
    assert!(shown.contains("/100.0 ms simulated"), "{shown}");
    let o = nicsim_on_a_terminal(&[
        "run",
        "../scenarios/udp_burst_linerate.yaml",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stdout(&o).contains("frames, "), "{}", stdout(&o));
}

/// 40 datagrams in a burst, with trace.json and wire.pcap bounded.
const BOUNDED: &str = "name: bounded\n\
host:\n  stack: {address: 10.0.0.1/24}\n  apps: [{kind: udp_sink, port: 5001}]\n\
traffic:\n  - udp: {count: 40, size: 64, dst_port: 5001}\n\
trace:\n  perfetto: {frames: 5}\n  pcap: {max_frames: 12}\n";

#[test]
fn trace_and_pcap_keep_their_first_frames_and_the_report_says_what_was_cut() {
    let path = scenario_file("bounded", BOUNDED);
    let dir = out_dir("bounded");
    let o = nicsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trace.json")).unwrap()).unwrap();
    let frames: std::collections::BTreeSet<u64> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["args"]["frame"].as_u64())
        .collect();
    assert_eq!(
        frames,
        (0..5).collect(),
        "trace.json shows frames 0..5 only"
    );
    let r = report_json(&dir);
    let b = &r["outputs"];
    assert_eq!(
        (b["trace_frames"].as_u64(), b["trace_frames_cut"].as_u64()),
        (Some(5), Some(35))
    );
    assert_eq!(
        (b["pcap_frames"].as_u64(), b["pcap_frames_cut"].as_u64()),
        (Some(12), Some(28))
    );
    let mut pcap =
        pcap_file::pcap::PcapReader::new(std::fs::File::open(dir.join("wire.pcap")).unwrap())
            .unwrap();
    let mut packets = 0;
    while let Some(p) = pcap.next_packet() {
        p.unwrap();
        packets += 1;
    }
    assert_eq!(packets, 12);
    let txt = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(
        txt.contains("trace.json: first 5 frame(s), 35 left out"),
        "{txt}"
    );
    assert!(
        txt.contains("wire.pcap: first 12 frame(s), 28 not written"),
        "{txt}"
    );
    // The figures still cover every frame.
    assert_eq!(r["delivered"], 40);
}

#[test]
fn the_ledger_has_a_row_per_frame_and_explain_tells_a_dropped_ones_story() {
    let dir = out_dir("ledger");
    let o = nicsim(&[
        "run",
        "../scenarios/ring_too_small.yaml",
        "--frames",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("frames.csv: "), "listed with its size");
    let csv = std::fs::read_to_string(dir.join("frames.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[..7],
        ["id", "origin", "flow", "size", "fate", "reason", "cpus"]
    );
    assert!(header.contains(&"dma_write_back") && header.contains(&"app_read"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let r = report_json(&dir);
    assert_eq!(rows.len() as u64, r["injected"].as_u64().unwrap());
    // One type per column: every non-empty cell of a cycle column is an integer.
    for (i, name) in header.iter().enumerate().skip(7) {
        for row in &rows {
            assert!(
                row[i].is_empty() || row[i].parse::<u64>().is_ok(),
                "{name}: {:?}",
                row[i]
            );
        }
    }
    let fifo_full = rows
        .iter()
        .filter(|row| row[4] == "dropped" && row[5] == "nic_fifo_full")
        .count() as u64;
    assert_eq!(fifo_full, r["drops"]["nic_fifo_full"].as_u64().unwrap());

    let o = nicsim(&[
        "explain",
        dir.to_str().unwrap(),
        "--dropped",
        "nic_fifo_full",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let story = stdout(&o);
    let first = rows.iter().find(|row| row[5] == "nic_fifo_full").unwrap()[0];
    assert!(
        story.starts_with(&format!("frame {first}: from wire, flow 0, ")),
        "{story}"
    );
    assert!(story.contains("dropped (nic_fifo_full)"), "{story}");
    assert!(
        story.contains("wire_start       rx_mac: first beat on s_axis_rx"),
        "{story}"
    );

    let o = nicsim(&["explain", dir.to_str().unwrap(), "--slowest"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("recvfrom"), "{}", stdout(&o));
    let o = nicsim(&["explain", dir.to_str().unwrap(), "99999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("frames.csv: no frame 99999"),
        "{}",
        stderr(&o)
    );
    let o = nicsim(&["explain", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a frame must be picked");
}

#[test]
fn a_ledger_that_cannot_be_written_is_bad_input_before_any_simulation() {
    let dir = out_dir("ledger_unwritable");
    let o = nicsim(&[
        "run",
        "../scenarios/udp_single.yaml",
        "--frames",
        "/nonexistent-dir/frames.csv",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/nonexistent-dir/frames.csv"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("report.json").exists());
}

#[test]
fn a_sweep_on_a_terminal_shows_the_runs_done() {
    let dir = out_dir("sweep_progress");
    let o = nicsim_on_a_terminal(&[
        "sweep",
        "../scenarios/udp_single.yaml",
        "--set",
        "traffic[0].udp.size=64,128",
        "--jobs",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("/2 runs"), "{}", stdout(&o));
}

#[test]
fn packetdrill_reports_a_malformed_script_with_file_line_and_column() {
    let out = out_dir("packetdrill_bad");
    let o = nicsim(&[
        "packetdrill",
        "tests/data/bad_packetdrill.pkt",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("tests/data/bad_packetdrill.pkt:2:"),
        "{}",
        stderr(&o)
    );
}
