//! Trace windows on the Verilated NIC: the FST holds the real hierarchy (checked with `wellen`), every
//! signal group of the GTKWave save file finds its block, and a trigger either records from the trigger
//! on or hands back the exact window for a deterministic re-run.

mod support;

use std::path::PathBuf;

use host_driver::accounting::{DropReason, Stage};
use nicsim_scenario::scenario::Trigger;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::wave::{grouped_signals, WaveConfig, WaveWindow, GROUPS, TOP_SCOPE};
use nicsim_world::world::{World, WorldConfig};
use support::{frame, OUR_MAC};

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("test output dir");
    dir
}

fn traced_world(fst: PathBuf, window: WaveWindow) -> World {
    World::new(WorldConfig {
        wave: Some(WaveConfig { fst, window }),
        ..support::config()
    })
    .expect("world")
}

/// Every `TOP.nic_top…` name in the save file, without its bit range.
fn save_file_signals(gtkw: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(gtkw)
        .expect("save file")
        .lines()
        .filter(|l| l.starts_with(TOP_SCOPE))
        .map(|l| l.split('[').next().unwrap_or(l).to_string())
        .collect()
}

#[test]
fn cycle_window_writes_fst_and_grouped_save_file() {
    let fst = out_dir("wave_window").join("wave.fst");
    let mut w = traced_world(
        fst.clone(),
        WaveWindow::Cycles {
            start: 20,
            end: 900,
            marker: Some(100),
        },
    );
    let mut ring = support::setup_rx(&mut w, 16, 15, 0);
    let now = w.cycle();
    w.inject(frame(OUR_MAC, 128, 1), now, WireFault::None);
    w.run_until(1000);
    assert!(w.quiescent());
    assert_eq!(ring.harvest(&mut w).len(), 1);
    let out = w.finish_wave().expect("wave").expect("a waveform");
    assert_eq!((out.start, out.end, out.marker), (20, 900, Some(100)));

    // The hierarchy Verilator wrote, read independently of the save-file builder.
    let header = wellen::viewers::read_header_from_file(&out.fst, &wellen::LoadOptions::default())
        .expect("FST");
    let h = &header.hierarchy;
    let names: Vec<String> = h.all_vars().map(|v| h[v].full_name(h)).collect();
    for port in [
        "clk",
        "s_axis_rx_tdata",
        "m_axi_awaddr",
        "s_axil_araddr",
        "irq",
        "rx_evt_code",
    ] {
        let want = format!("{TOP_SCOPE}.{port}");
        assert!(names.contains(&want), "{want} missing from the FST");
    }
    // Each group of the save file found its block, by instance or by port prefix.
    let groups = grouped_signals(&out.fst).expect("groups");
    assert_eq!(groups.len(), GROUPS.len());
    for (name, signals) in &groups {
        assert!(!signals.is_empty(), "group {name} matched no signal");
    }
    for instance in ["rx_mac", "rx_fifo", "rx_dma", "tx_", "regs", "arbiter"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(&format!("{TOP_SCOPE}.")) && n.contains(instance)),
            "no instance matching {instance}"
        );
    }
    // Every entry of the save file is a signal of the FST.
    let listed = save_file_signals(&out.gtkw);
    assert!(
        listed.len() > 50,
        "save file lists {} signals",
        listed.len()
    );
    for s in &listed {
        assert!(names.contains(s), "save file names {s}, not in the FST");
    }
    let text = std::fs::read_to_string(&out.gtkw).expect("save file");
    let marker_ps = (100 * 6400).to_string();
    assert!(
        text.lines()
            .any(|l| l.starts_with('*') && l.split(' ').nth(1) == Some(marker_ps.as_str())),
        "primary marker at cycle 100"
    );
}

#[test]
fn trigger_without_margin_records_from_the_drop_on() {
    let fst = out_dir("wave_trigger").join("wave.fst");
    let mut w = traced_world(
        fst,
        WaveWindow::Trigger {
            on: Trigger::Drop(DropReason::NicCrcError),
            pre: 0,
            post: 300,
        },
    );
    support::setup_rx(&mut w, 16, 15, 0);
    let now = w.cycle();
    w.inject(frame(OUR_MAC, 64, 1), now, WireFault::None);
    let bad = w.inject(frame(OUR_MAC, 64, 2), now, WireFault::BadFcs);
    support::settle(&mut w);
    let dropped_at = w.nic_records()[&bad].dropped.expect("dropped").1;
    let out = w.finish_wave().expect("wave").expect("a waveform");
    assert_eq!(out.marker, Some(dropped_at));
    assert_eq!(out.start, dropped_at + 1);
    assert!(out.end > out.start);
    assert!(w.wave_replay().is_none());
}

#[test]
fn trigger_with_margin_hands_back_the_window_for_a_rerun() {
    let run = |window: WaveWindow, dir: &str| {
        let fst = out_dir(dir).join("wave.fst");
        let mut w = traced_world(fst, window);
        support::setup_rx(&mut w, 16, 15, 0);
        let now = w.cycle();
        let id = w.inject(frame(OUR_MAC, 64, 1), now + 100, WireFault::None);
        support::settle(&mut w);
        let start = w.nic_records()[&id]
            .stamp_of(Stage::WireStart)
            .expect("on the wire");
        (w, start)
    };
    let (mut first, wire_start) = run(
        WaveWindow::Trigger {
            on: Trigger::Frame(0),
            pre: 50,
            post: 200,
        },
        "wave_replay",
    );
    assert_eq!(
        first.finish_wave().expect("wave"),
        None,
        "nothing recorded in the finding run"
    );
    let replay = first.wave_replay().cloned().expect("a replay window");
    assert_eq!(
        replay.window,
        WaveWindow::Cycles {
            start: wire_start - 50,
            end: wire_start + 200,
            marker: Some(wire_start)
        }
    );
    // The re-run is deterministic: the frame starts on the same cycle, now inside the window.
    let (mut second, again) = run(replay.window, "wave_replay");
    assert_eq!(again, wire_start);
    let out = second.finish_wave().expect("wave").expect("a waveform");
    assert_eq!(out.marker, Some(wire_start));
}
