//! `nicsim sweep`: a 2×2 matrix on a small scenario gives one CSV row per combination with each run's
//! own numbers, the same bytes whatever the number of parallel jobs, and bad keys exit 2 by name.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;

use sim::sweep::{self, Param, SweepOptions};

/// A few minimum-size datagrams back to back into a sink; the sweep varies how many and how the driver
/// takes them off the ring. Its expectation holds only for count 4, so every row misses it.
const SCENARIO: &str = "\
name: sweep_small
host:
  apps: [{kind: udp_sink, port: 5001}]
traffic:
  - udp: {count: 4, size: 64, dst_port: 5001}
expect:
  delivered: 4
";

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sweep")
        .join(name);
    // A previous run's files must not satisfy this one's checks.
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scenario_file(dir: &Path) -> PathBuf {
    let path = dir.join("small.yaml");
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

fn params() -> Vec<Param> {
    ["traffic[0].udp.count=2,6", "host.napi_mode=napi,per_packet"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect()
}

fn run(path: &Path, out: PathBuf, jobs: usize) -> String {
    let opts = SweepOptions {
        out_dir: out,
        jobs: NonZeroUsize::new(jobs).unwrap(),
    };
    let outcome = sweep::sweep(path, &params(), &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome.plots.iter().all(|p| p.exists()));
    std::fs::read_to_string(&outcome.csv).unwrap()
}

#[test]
fn a_two_by_two_sweep_writes_one_row_per_run_whatever_the_jobs() {
    let dir = tmp("matrix");
    let path = scenario_file(&dir);
    let serial = run(&path, dir.join("jobs1"), 1);
    let parallel = run(&path, dir.join("jobs2"), 2);
    assert_eq!(serial, parallel, "sweep.csv depends on --jobs");

    let lines: Vec<&str> = serial.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        header[..10],
        [
            "traffic[0].udp.count",
            "host.napi_mode",
            "status",
            "p50_ns",
            "p99_ns",
            "injected",
            "delivered",
            "dropped",
            "irqs",
            "polls"
        ]
    );
    assert_eq!(header[10..], ["cpu0.busy_share", "expectations_missed"]);
    let col = |row: &[&str], name: &str| -> String {
        row[header.iter().position(|h| *h == name).unwrap()].to_owned()
    };
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    let combos: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[0].to_owned(), r[1].to_owned()))
        .collect();
    assert_eq!(
        combos,
        [
            ("2".into(), "napi".into()),
            ("2".into(), "per_packet".into()),
            ("6".into(), "napi".into()),
            ("6".into(), "per_packet".into()),
        ]
    );
    for row in &rows {
        let count = row[0];
        assert_eq!(col(row, "status"), "expect_failed");
        assert_eq!(col(row, "expectations_missed"), "1");
        assert_eq!(col(row, "injected"), count);
        assert_eq!(col(row, "delivered"), count);
        assert_eq!(col(row, "dropped"), "0");
        let irqs: u64 = col(row, "irqs").parse().unwrap();
        // Interrupt per packet takes one IRQ per frame; NAPI harvests a back-to-back burst from one.
        if row[1] == "per_packet" {
            assert_eq!(irqs.to_string(), count);
        } else {
            assert_eq!(irqs, 1);
        }
        let (p50, p99): (f64, f64) = (
            col(row, "p50_ns").parse().unwrap(),
            col(row, "p99_ns").parse().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99, "{row:?}");
        let busy: f64 = col(row, "cpu0.busy_share").parse().unwrap();
        assert!(0.0 < busy && busy <= 1.0, "{row:?}");
    }
    // The per-packet driver pays interrupt entry and an ICR read per frame: later frames wait longer.
    let p99 = |i: usize| -> f64 { col(&rows[i], "p99_ns").parse().unwrap() };
    assert!(p99(3) > p99(2), "{serial}");

    // Each row is its run's report.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("jobs2/traffic_0_.udp.count=6,host.napi_mode=per_packet/report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(report["irqs"].to_string(), col(&rows[3], "irqs"));
    assert_eq!(
        report["end_to_end"]["p99_ns"].as_f64(),
        Some(p99(3)),
        "{report}"
    );
}

#[test]
fn a_bad_key_or_value_exits_2_naming_it() {
    let dir = tmp("bad");
    let path = scenario_file(&dir);
    let nicsim = |set: &str| {
        Command::new(env!("CARGO_BIN_EXE_nicsim"))
            .arg("sweep")
            .arg(&path)
            .args(["--set", set, "--out"])
            .arg(dir.join("out"))
            .output()
            .expect("nicsim starts")
    };
    for (set, named) in [
        (
            "host.napi_wieght=8,64",
            "--set host.napi_wieght=8: host: unknown field `napi_wieght`",
        ),
        (
            "host.napi_mode=napi,polling",
            "--set host.napi_mode=polling: host.napi_mode: unknown variant `polling`",
        ),
    ] {
        let o = nicsim(set);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(named), "{err}");
    }
    // Nothing ran: the combinations are checked before the first run.
    assert!(!dir.join("out").exists());
}
