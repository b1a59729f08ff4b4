//! Opens a run's waveform and save file in real GTKWave under Xvfb and checks that every signal the
//! save file lists is displayed (GTKWave silently drops entries it cannot resolve, so compare counts)
//! and that the trigger marker is set. Needs `xvfb-run` and `gtkwave` (Debian: xvfb, gtkwave).

use std::fs;
use std::path::Path;
use std::process::Command;

/// Signal lines of a .gtkw file: everything that is not a directive (`[..]`), a display flag (`@..`),
/// the zoom/marker line (`*..`) or a group bracket (`-..`).
fn listed_signals(gtkw: &str) -> Vec<&str> {
    gtkw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['[', '@', '*', '-']))
        .collect()
}

#[test]
fn gtkwave_displays_every_signal_of_the_save_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gtkwave_headless");
    let dir = dir.as_path();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ring_too_small.yaml");
    let run = Command::new(env!("CARGO_BIN_EXE_nicsim"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(dir)
        .arg("--wave")
        .output()
        .expect("run nicsim");
    assert!(
        run.status.success(),
        "nicsim: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let gtkw = fs::read_to_string(dir.join("wave.gtkw")).expect("wave.gtkw written");
    let listed = listed_signals(&gtkw);
    assert!(
        listed.len() > 50,
        "save file lists only {} signals",
        listed.len()
    );
    let marker = gtkw
        .lines()
        .find(|l| l.starts_with('*'))
        .expect("zoom/marker line");
    let marker_ps: i64 = marker.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(marker_ps > 0, "no marker at the trigger: {marker}");

    let shown = dir.join("displayed.txt");
    let shot = dir.join("shot.png");
    let script = dir.join("check.tcl");
    fs::write(
        &script,
        format!(
            "set f [open \"{}\" w]\nforeach s [gtkwave::getDisplayedSignals] {{ puts $f $s }}\nclose $f\n\
             gtkwave::/File/Grab_To_File {}\ngtkwave::/File/Quit\n",
            shown.display(),
            shot.display()
        ),
    )
    .unwrap();
    let gtk = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x1000x24", "gtkwave", "-S"])
        .arg(&script)
        .arg(dir.join("wave.fst"))
        .arg(dir.join("wave.gtkw"))
        .output()
        .expect("xvfb-run gtkwave (apt-get install xvfb xauth gtkwave)");
    assert!(
        gtk.status.success(),
        "gtkwave: {}",
        String::from_utf8_lossy(&gtk.stderr)
    );

    let displayed =
        fs::read_to_string(&shown).expect("the Tcl script listed the displayed signals");
    let displayed: Vec<&str> = displayed.lines().collect();
    assert_eq!(
        displayed.len(),
        listed.len(),
        "GTKWave displayed {} of the {} signals in wave.gtkw",
        displayed.len(),
        listed.len()
    );
    assert!(
        fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "no screenshot"
    );
}
