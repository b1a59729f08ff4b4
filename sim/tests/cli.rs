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
