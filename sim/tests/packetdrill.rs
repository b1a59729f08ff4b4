//! Linux's packetdrill scripts (`../shared/packetdrill/`) against the host's TCP through the NIC.
//!
//! `packetdrill_pass.txt` pins the scripts that pass. `make test` runs those not marked `slow` (a
//! regression fails the test) and parses every script; the whole suite takes minutes of wall time per simulated second, so
//! it runs under `make packetdrill` (`NICSIM_PACKETDRILL=all`), which also writes
//! `out/packetdrill/packetdrill.txt` and prints the scripts that pass but are not pinned yet.

use std::path::{Path, PathBuf};

use sim::packetdrill::{run_all, Verdict, DEFAULT_TOLERANCE_USECS};

fn suite_dir() -> PathBuf {
    std::env::var_os("NICSIM_PACKETDRILL_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/packetdrill"),
        PathBuf::from,
    )
}

fn scripts(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable suite").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pkt") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The pinned list: script paths relative to the suite, each with whether it is marked `slow`
/// (a minute or more of wall time: only `make packetdrill` runs it); `#` comments.
fn pinned() -> Vec<(String, bool)> {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packetdrill_pass.txt");
    std::fs::read_to_string(list)
        .expect("sim/tests/packetdrill_pass.txt")
        .lines()
        .filter_map(|l| {
            let mut words = l.split('#').next().unwrap_or("").split_whitespace();
            let path = words.next()?.to_owned();
            Some((path, words.next() == Some("slow")))
        })
        .collect()
}

fn relative(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}

#[test]
fn packetdrill_suite() {
    let dir = suite_dir();
    if !dir.is_dir() {
        eprintln!("skipped: no packetdrill suite at {}", dir.display());
        return;
    }
    let all = scripts(&dir);
    for s in &all {
        if let Err(e) = nicsim_packetdrill::parse_file(s) {
            panic!("{e}");
        }
    }
    let pinned = pinned();
    let whole = std::env::var("NICSIM_PACKETDRILL").is_ok_and(|v| v == "all");
    let run: Vec<PathBuf> = match whole {
        true => all,
        false => pinned
            .iter()
            .filter(|(_, slow)| !slow)
            .map(|(p, _)| dir.join(p))
            .collect(),
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../out/packetdrill");
    let reports = run_all(&run, DEFAULT_TOLERANCE_USECS, &out, &mut |r| {
        eprintln!("{}", r.line())
    })
    .expect("every script parses");
    let mut regressions = Vec::new();
    for r in &reports {
        let rel = relative(&dir, &r.path);
        let pass = r.verdict == Verdict::Pass;
        match (pinned.iter().any(|(p, _)| *p == rel), pass) {
            (true, false) => regressions.push(r.line()),
            (false, true) => eprintln!("newly passing, add to packetdrill_pass.txt: {rel}"),
            _ => {}
        }
    }
    assert!(
        regressions.is_empty(),
        "pinned scripts no longer pass:\n{}",
        regressions.join("\n")
    );
}
