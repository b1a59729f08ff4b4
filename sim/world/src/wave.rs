//! Waveforms: FST tracing of the Verilated NIC over a window of cycles, and a GTKWave save file that
//! opens it with the signals grouped by hardware block.
//!
//! Tracing costs about 45× in simulation speed, so only a window is recorded: either fixed cycles, or
//! from a trigger (the first NIC drop of a reason, or a given frame's first hardware stage). A window
//! that starts *before* its trigger cannot be recorded in the run that finds the trigger; the run is
//! deterministic, so [`crate::world::World::wave_replay`] hands back the exact window for a re-run.
//!
//! The save file is built from the FST's own hierarchy (read back with `wellen`), so every name in it
//! is one GTKWave will find.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use host_driver::time::Cycle;
use serde::{Deserialize, Serialize};

use nicsim_model::Model;
use nicsim_scenario::scenario::Trigger;

/// What to record and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveConfig {
    /// The FST file; the GTKWave save file is written next to it with the extension `.gtkw`.
    pub fst: PathBuf,
    pub window: WaveWindow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WaveWindow {
    /// Cycles `[start, end)`, with an optional marker.
    Cycles {
        start: Cycle,
        end: Cycle,
        marker: Option<Cycle>,
    },
    /// From `pre` cycles before the trigger to `post` cycles after it, marker on the trigger.
    Trigger {
        on: Trigger,
        pre: Cycle,
        post: Cycle,
    },
}

/// A finished waveform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaveOutput {
    pub fst: PathBuf,
    pub gtkw: PathBuf,
    /// Cycles recorded, `[start, end)`.
    pub start: Cycle,
    pub end: Cycle,
    pub marker: Option<Cycle>,
}

#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error("wave: window [{start}, {end}) is empty")]
    EmptyWindow { start: Cycle, end: Cycle },
    #[error("wave: cannot open FST {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("wave: cannot read back FST {path}: {reason}")]
    ReadBack { path: PathBuf, reason: String },
    #[error("wave: cannot write GTKWave save file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the start cycle of a fixed window.
    Armed,
    /// Waiting for the trigger.
    Waiting,
    /// Recording `[start, end)`.
    Open {
        start: Cycle,
    },
    Done,
}

/// The trace window controller of one world.
#[derive(Debug)]
pub struct Wave {
    cfg: WaveConfig,
    ps_per_cycle: u64,
    state: State,
    /// The cycle at which [`Wave::at_cycle`] has something to do (start or end of the window).
    next_event: Cycle,
    end: Cycle,
    marker: Option<Cycle>,
    replay: Option<WaveConfig>,
    output: Option<WaveOutput>,
}

impl Wave {
    pub fn new(cfg: WaveConfig, ps_per_cycle: u64) -> Result<Wave, WaveError> {
        let (state, next_event, end, marker) = match cfg.window {
            WaveWindow::Cycles { start, end, marker } => {
                if end <= start {
                    return Err(WaveError::EmptyWindow { start, end });
                }
                (State::Armed, start, end, marker)
            }
            WaveWindow::Trigger { .. } => (State::Waiting, Cycle::MAX, Cycle::MAX, None),
        };
        Ok(Wave {
            cfg,
            ps_per_cycle,
            state,
            next_event,
            end,
            marker,
            replay: None,
            output: None,
        })
    }

    /// The trigger the probes must watch for, if any.
    pub fn trigger(&self) -> Option<Trigger> {
        match self.cfg.window {
            WaveWindow::Trigger { on, .. } => Some(on),
            WaveWindow::Cycles { .. } => None,
        }
    }

    /// The next cycle at which [`Wave::at_cycle`] must be called (before that cycle is simulated).
    #[inline]
    pub fn next_event(&self) -> Cycle {
        self.next_event
    }

    /// Opens or closes the trace before cycle `now` is simulated.
    pub fn at_cycle(&mut self, now: Cycle, model: &mut Model) -> Result<(), WaveError> {
        match self.state {
            State::Armed => self.open(now, model),
            State::Open { .. } if now >= self.end => self.close(now, model),
            _ => Ok(()),
        }
    }

    /// The trigger happened in cycle `at`.
    pub fn fire(&mut self, at: Cycle, model: &mut Model) -> Result<(), WaveError> {
        let WaveWindow::Trigger { pre, post, .. } = self.cfg.window else {
            return Ok(());
        };
        if self.state != State::Waiting {
            return Ok(());
        }
        self.marker = Some(at);
        if pre == 0 {
            self.end = at + 1 + post.max(1);
            self.open(at + 1, model)
        } else {
            self.replay = Some(WaveConfig {
                fst: self.cfg.fst.clone(),
                window: WaveWindow::Cycles {
                    start: at.saturating_sub(pre),
                    end: at + post.max(1),
                    marker: Some(at),
                },
            });
            self.state = State::Done;
            Ok(())
        }
    }

    /// Closes a window still open at the end of the run (it then ends at `now`).
    pub fn finish(&mut self, now: Cycle, model: &mut Model) -> Result<(), WaveError> {
        if let State::Open { .. } = self.state {
            self.close(now, model)?;
        }
        Ok(())
    }

    pub fn replay(&self) -> Option<&WaveConfig> {
        self.replay.as_ref()
    }

    pub fn output(&self) -> Option<&WaveOutput> {
        self.output.as_ref()
    }

    fn open(&mut self, now: Cycle, model: &mut Model) -> Result<(), WaveError> {
        let path = &self.cfg.fst;
        model
            .open_trace(&path.to_string_lossy())
            .map_err(|e| WaveError::Open {
                path: path.clone(),
                reason: e.what().to_string(),
            })?;
        self.state = State::Open { start: now };
        self.next_event = self.end;
        Ok(())
    }

    fn close(&mut self, now: Cycle, model: &mut Model) -> Result<(), WaveError> {
        let State::Open { start } = self.state else {
            return Ok(());
        };
        model.close_trace();
        self.state = State::Done;
        self.next_event = Cycle::MAX;
        let gtkw = self.cfg.fst.with_extension("gtkw");
        let text = save_file(&self.cfg.fst, start, now, self.marker, self.ps_per_cycle)?;
        fs::write(&gtkw, text).map_err(|source| WaveError::Write {
            path: gtkw.clone(),
            source,
        })?;
        self.output = Some(WaveOutput {
            fst: self.cfg.fst.clone(),
            gtkw,
            start,
            end: now,
            marker: self.marker,
        });
        Ok(())
    }
}

/// Signal groups of the save file: instances of `nic_top` whose name contains one of `blocks`, and
/// `nic_top`'s own ports that start with one of `ports` (instance names as in rtl/nic_top.v).
pub const GROUPS: &[(&str, &[&str], &[&str])] = &[
    ("RX MAC", &["rx_mac"], &["s_axis_rx_", "rx_evt_"]),
    ("RX FIFO", &["rx_fifo"], &[]),
    ("RX DMA", &["rx_dma"], &["rx_wb_"]),
    ("TX", &["tx_"], &["m_axis_tx_", "tx_dma_", "tx_wb_"]),
    ("Registers / IRQ", &["regs", "irq", "stats"], &["irq"]),
    ("AXI-Lite", &[], &["s_axil_"]),
    ("AXI DMA", &["arbiter"], &["m_axi_"]),
];

/// The scope of the design in a Verilator trace.
pub const TOP_SCOPE: &str = "TOP.nic_top";

/// GTKWave trace flags (gtkwave's TR_* bits): right-justified hex, right-justified binary, and a
/// blank row that opens or closes a group.
const FLAG_HEX: &str = "@22";
const FLAG_BIN: &str = "@28";
const FLAG_GROUP_BEGIN: &str = "@800200";
const FLAG_GROUP_END: &str = "@1000200";

/// One signal as GTKWave names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSignal {
    /// Full name with its bit range, e.g. `TOP.nic_top.m_axi_awaddr[63:0]`.
    pub name: String,
    pub width: u32,
}

/// The signals of the FST grouped per [`GROUPS`], in hierarchy order.
pub fn grouped_signals(fst: &Path) -> Result<Vec<(&'static str, Vec<TraceSignal>)>, WaveError> {
    let opts = wellen::LoadOptions {
        multi_thread: false,
        remove_scopes_with_empty_name: false,
    };
    let header =
        wellen::viewers::read_header_from_file(fst, &opts).map_err(|e| WaveError::ReadBack {
            path: fst.to_path_buf(),
            reason: e.to_string(),
        })?;
    let h = &header.hierarchy;
    let mut groups: Vec<(&'static str, Vec<TraceSignal>)> =
        GROUPS.iter().map(|g| (g.0, Vec::new())).collect();
    let prefix = format!("{TOP_SCOPE}.");
    for var_ref in h.all_vars() {
        let var = &h[var_ref];
        // Signals only: GTKWave does not list parameters or loop integers, and memory array elements
        // (FIFO storage) are bulk it names differently.
        let signal = matches!(
            var.var_type(),
            wellen::VarType::Wire
                | wellen::VarType::Reg
                | wellen::VarType::Logic
                | wellen::VarType::Bit
        );
        if !signal || var.name(h).starts_with('[') {
            continue;
        }
        let full = var.full_name(h);
        let Some(rest) = full.strip_prefix(&prefix) else {
            continue;
        };
        let group = match rest.split_once('.') {
            // Every block's clock and reset are the top's: listed once, at the top.
            Some(_) if matches!(var.name(h), "clk" | "rst") => None,
            Some((instance, _)) => GROUPS
                .iter()
                .position(|g| g.1.iter().any(|b| instance.contains(b))),
            None => GROUPS
                .iter()
                .position(|g| g.2.iter().any(|p| rest.starts_with(p))),
        };
        let Some(group) = group else {
            continue;
        };
        let width = var.length(h).unwrap_or(1);
        let name = match var.index() {
            Some(ix) if width > 1 => format!("{full}[{}:{}]", ix.msb(), ix.lsb()),
            _ => full,
        };
        groups[group].1.push(TraceSignal { name, width });
    }
    Ok(groups)
}

/// The GTKWave save file for the trace of cycles `[start, end)`.
fn save_file(
    fst: &Path,
    start: Cycle,
    end: Cycle,
    marker: Option<Cycle>,
    ps_per_cycle: u64,
) -> Result<String, WaveError> {
    let groups = grouped_signals(fst)?;
    let mut s = String::new();
    let ps = |c: Cycle| c * ps_per_cycle;
    // GTKWave's zoom is logarithmic: a view of 2^(-zoom - 7.64) ps per pixel (measured with GTKWave
    // 3.3.118 on a ps-resolution FST). Fit the window into the ~500-pixel wave pane.
    let span_ps = (ps(end - start)).max(1) as f64;
    let zoom = -((span_ps / 500.0).log2() + 7.64);
    let marker_ps = marker.map_or(-1, |m| ps(m) as i64);
    let _ = writeln!(
        s,
        "[*] nicsim waveform: cycles [{start}, {end}), {ps_per_cycle} ps per cycle"
    );
    let _ = writeln!(s, "[dumpfile] \"{}\"", fst.display());
    let _ = writeln!(s, "[timestart] {}", ps(start));
    // Primary marker, then named markers A..Z (A also on the trigger so it survives moving the primary).
    let mut markers = format!("*{zoom:.6} {marker_ps} {marker_ps}");
    for _ in 1..26 {
        markers.push_str(" -1");
    }
    let _ = writeln!(s, "{markers}");
    let _ = writeln!(s, "[treeopen] TOP.");
    let _ = writeln!(s, "[treeopen] {TOP_SCOPE}.");
    let _ = writeln!(s, "{FLAG_BIN}\n{TOP_SCOPE}.clk\n{TOP_SCOPE}.rst");
    for (name, signals) in groups.iter().filter(|g| !g.1.is_empty()) {
        let _ = writeln!(s, "{FLAG_GROUP_BEGIN}\n-{name}");
        for sig in signals {
            let flag = if sig.width > 1 { FLAG_HEX } else { FLAG_BIN };
            let _ = writeln!(s, "{flag}\n{}", sig.name);
        }
        let _ = writeln!(s, "{FLAG_GROUP_END}\n-{name}");
    }
    Ok(s)
}
