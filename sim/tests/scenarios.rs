//! Every scenario in `scenarios/` is a test: it runs green (expectations hold, every frame accounted
//! for), its report.json is valid against the published schema (docs/report.schema.json), and a
//! second run writes a byte-identical report.json.

use std::path::{Path, PathBuf};

use nicsim_scenario::scenario::Scenario;
use rstest::rstest;
use sim::explain::{self, Pick};
use sim::ledger;
use sim::runner::{self, RunOptions};

fn run_into(scenario: &Scenario, path: &Path, dir: PathBuf) -> (runner::RunOutcome, Vec<u8>) {
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = runner::run(
        scenario,
        path,
        &RunOptions {
            out_dir: dir.clone(),
            wave: false,
            frames: Some(dir.join(ledger::LEDGER_FILE)),
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    let json = std::fs::read(dir.join(runner::REPORT_JSON)).expect("report.json written");
    (outcome, json)
}

#[rstest]
fn scenario_runs_green_and_is_deterministic(#[files("../scenarios/*.yaml")] path: PathBuf) {
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("scenarios")
        .join(&scenario.name);
    let (first, json) = run_into(&scenario, &path, tmp.join("a"));
    assert!(
        first.failures.is_empty(),
        "{}: expectations failed:\n{}",
        path.display(),
        first
            .failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let r = &first.report;
    let o = &r.origins;
    assert!(
        r.injected + o.host.injected > 0,
        "{}: no traffic",
        path.display()
    );
    for (origin, b) in [("wire", &o.wire), ("peer", &o.peer), ("host", &o.host)] {
        assert_eq!(
            b.delivered + b.consumed + b.dropped,
            b.injected,
            "{}: {origin} frames do not balance",
            path.display()
        );
    }
    assert_eq!(o.wire.injected + o.peer.injected, r.injected);
    // Conservation: run() fails otherwise; the totals must agree with it.
    assert_eq!(
        r.delivered + r.consumed + r.dropped,
        r.injected,
        "{}",
        path.display()
    );
    assert_eq!(r.drops.values().sum::<u64>(), r.dropped);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .expect("the published schema compiles")
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{}: report.json does not match docs/report.schema.json:\n{}",
        path.display(),
        errors.join("\n")
    );
    check_ledger(r, &tmp.join("a").join(ledger::LEDGER_FILE));
    let (_, again) = run_into(&scenario, &path, tmp.join("b"));
    assert!(
        json == again,
        "{}: report.json differs between two runs",
        path.display()
    );
}

#[test]
fn the_schema_rejects_what_a_report_is_not() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(!v.is_valid(&serde_json::json!({})), "required keys");
    assert!(
        !v.is_valid(&serde_json::json!({"scenario": 3})),
        "a name is a string"
    );
}

/// The ledger has a row per frame whose fates add up to the report's, and `explain` tells the story
/// of its slowest frame and of its first.
fn check_ledger(r: &nicsim_scenario::report::Report, path: &Path) {
    let (mut rows, mut wire, mut dropped) = (0u64, 0u64, 0u64);
    let mut first = None;
    ledger::read(path, |row| {
        rows += 1;
        first.get_or_insert(row.id);
        if row.origin != "host" {
            wire += 1;
            dropped += u64::from(row.fate == "dropped");
        }
        assert!(!row.stamps.is_empty() || row.fate == "dropped", "{row:?}");
        true
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let o = &r.origins;
    assert_eq!(
        rows,
        o.wire.injected + o.peer.injected + o.host.injected,
        "{}",
        path.display()
    );
    assert_eq!(
        (wire, dropped),
        (r.injected, r.dropped),
        "{}",
        path.display()
    );
    let clock = host_driver::time::Clock {
        ps_per_cycle: r.ps_per_cycle,
    };
    for pick in [Pick::Slowest, Pick::Id(first.expect("a frame"))] {
        let row = explain::find(path, &pick).unwrap().expect("found");
        let story = explain::render(&row, clock);
        assert!(
            story.starts_with(&format!("frame {}: from ", row.id)),
            "{story}"
        );
        assert_eq!(
            story.lines().count(),
            row.stamps.len() + 2 + usize::from(!row.stamps.is_empty()),
            "{story}"
        );
    }
}
