//! The frame ledger (`nicsim run --frames`): one CSV row per frame, streamed to disk through a
//! `BufWriter` and never held whole in memory, for pandas (`pd.read_csv`) and duckdb
//! (`read_csv_auto`).
//!
//! Columns, one type each: `id` (integer), `origin` (`wire`, `peer` or `host`: who created the frame),
//! `flow` (integer index into the scenario's `traffic`, empty for frames it did not plan), `size`
//! (bytes on the wire without FCS, empty for a host frame that never reached it), `fate`
//! (`delivered`, `consumed`, `dropped`), `reason` (the drop reason or consumer name, `port_N` for a
//! datagram delivered to port N; a transmitted frame ends with the link partner's verdict), `cpus`
//! (the CPUs whose work was for this frame, in order: `CPU0`, or `CPU0>CPU1` under RPS; empty when
//! none; never a bare number, so readers always type it as text), then one column per [`Stage`] in path order, named as the reports name stages, holding the
//! cycle the frame passed it (empty when it did not).
//!
//! The host hands over its per-frame records only when the run ends, so the runner writes the rows
//! then, in frame id order, one at a time.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use host_driver::accounting::{FrameId, Stage};
use host_driver::time::Cycle;

/// The ledger's default name in the output folder (`--frames` without a file).
pub const LEDGER_FILE: &str = "frames.csv";

/// The columns before the stages.
const FIXED: [&str; 7] = ["id", "origin", "flow", "size", "fate", "reason", "cpus"];

/// One frame's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub id: FrameId,
    pub origin: String,
    pub flow: Option<usize>,
    pub size: Option<usize>,
    pub fate: String,
    pub reason: String,
    pub cpus: Vec<usize>,
    /// The stages passed with their cycles, in path order.
    pub stamps: Vec<(Stage, Cycle)>,
}

/// A ledger that cannot be written or read, naming the file (and the line).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Writes rows as they come.
#[derive(Debug)]
pub struct LedgerWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl LedgerWriter {
    /// Creates (truncates) `path` and writes the header row.
    pub fn create(path: &Path) -> Result<LedgerWriter, LedgerError> {
        let io = |source| LedgerError::Io {
            path: path.to_owned(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(io)?);
        let header: Vec<&str> = FIXED
            .iter()
            .copied()
            .chain(Stage::ALL.iter().map(|s| s.name()))
            .collect();
        writeln!(out, "{}", header.join(",")).map_err(io)?;
        Ok(LedgerWriter {
            path: path.to_owned(),
            out,
        })
    }

    /// Appends one row.
    pub fn write(&mut self, row: &LedgerRow) -> Result<(), LedgerError> {
        let opt = |v: Option<usize>| v.map_or(String::new(), |v| v.to_string());
        let cpus: Vec<String> = row.cpus.iter().map(|c| format!("CPU{c}")).collect();
        let mut cells = vec![
            row.id.to_string(),
            row.origin.clone(),
            opt(row.flow),
            opt(row.size),
            row.fate.clone(),
            row.reason.clone(),
            cpus.join(">"),
        ];
        cells.extend(Stage::ALL.iter().map(|&stage| {
            row.stamps
                .iter()
                .find(|&&(s, _)| s == stage)
                .map_or(String::new(), |(_, c)| c.to_string())
        }));
        writeln!(self.out, "{}", cells.join(",")).map_err(|source| LedgerError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes and closes the file.
    pub fn finish(mut self) -> Result<(), LedgerError> {
        self.out.flush().map_err(|source| LedgerError::Io {
            path: self.path,
            source,
        })
    }
}

/// Reads a ledger row by row (one row in memory at a time), calling `visit` on each until it returns
/// `false`. Stage columns are found by name, so a ledger written with other stages still reads.
pub fn read(path: &Path, mut visit: impl FnMut(LedgerRow) -> bool) -> Result<(), LedgerError> {
    let io = |source| LedgerError::Io {
        path: path.to_owned(),
        source,
    };
    let bad = |line: usize, message: String| LedgerError::Malformed {
        path: path.to_owned(),
        line,
        message,
    };
    let mut lines = BufReader::new(File::open(path).map_err(io)?).lines();
    let header = lines.next().transpose().map_err(io)?.unwrap_or_default();
    let columns: Vec<&str> = header.split(',').collect();
    if columns.get(..FIXED.len()) != Some(&FIXED[..]) {
        return Err(bad(1, format!("not a frame ledger: header `{header}`")));
    }
    let stages: Vec<Option<Stage>> = columns[FIXED.len()..]
        .iter()
        .map(|c| c.parse().ok())
        .collect();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(io)?;
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != columns.len() {
            return Err(bad(
                n,
                format!("{} cells, the header has {}", cells.len(), columns.len()),
            ));
        }
        let number = |cell: &str, what: &str| {
            cell.parse::<u64>()
                .map_err(|_| bad(n, format!("{what} `{cell}` is not a number")))
        };
        let optional = |cell: &str, what: &str| {
            (!cell.is_empty())
                .then(|| number(cell, what).map(|v| v as usize))
                .transpose()
        };
        let mut stamps = Vec::new();
        for (cell, stage) in cells[FIXED.len()..].iter().zip(&stages) {
            if let (Some(stage), false) = (stage, cell.is_empty()) {
                stamps.push((*stage, number(cell, stage.name())?));
            }
        }
        let cpus = cells[6]
            .split('>')
            .filter(|c| !c.is_empty())
            .map(|c| number(c.strip_prefix("CPU").unwrap_or(c), "cpu").map(|v| v as usize))
            .collect::<Result<_, _>>()?;
        let row = LedgerRow {
            id: number(cells[0], "id")?,
            origin: cells[1].to_owned(),
            flow: optional(cells[2], "flow")?,
            size: optional(cells[3], "size")?,
            fate: cells[4].to_owned(),
            reason: cells[5].to_owned(),
            cpus,
            stamps,
        };
        if !visit(row) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_with_one_column_per_stage() {
        let path = std::env::temp_dir().join(format!("nicsim-ledger-{}.csv", std::process::id()));
        let rows = [
            LedgerRow {
                id: 0,
                origin: "wire".into(),
                flow: Some(1),
                size: Some(60),
                fate: "delivered".into(),
                reason: "port_5001".into(),
                cpus: vec![0, 1],
                stamps: vec![(Stage::WireStart, 10), (Stage::AppRead, 900)],
            },
            LedgerRow {
                id: 7,
                origin: "host".into(),
                flow: None,
                size: None,
                fate: "dropped".into(),
                reason: "neigh_failed".into(),
                cpus: vec![],
                stamps: vec![(Stage::SendTo, 40)],
            },
        ];
        let mut w = LedgerWriter::create(&path).unwrap();
        for r in &rows {
            w.write(r).unwrap();
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let header = text.lines().next().unwrap();
        assert!(
            header.starts_with("id,origin,flow,size,fate,reason,cpus,wire_start,fifo_commit,"),
            "{header}"
        );
        assert_eq!(header.split(',').count(), FIXED.len() + Stage::ALL.len());
        assert!(text
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("7,host,,,dropped,neigh_failed,,"));
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("0,wire,1,60,delivered,port_5001,CPU0>CPU1,10,,"));
        let mut back = Vec::new();
        read(&path, |r| {
            back.push(r);
            true
        })
        .unwrap();
        assert_eq!(back, rows);
        std::fs::write(&path, "id,origin\n").unwrap();
        let e = read(&path, |_| true).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":1: not a frame ledger: header `id,origin`"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
