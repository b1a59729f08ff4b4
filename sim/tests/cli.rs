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
