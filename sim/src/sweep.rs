//! `nicsim sweep`: one scenario run over every combination of parameter values (the cartesian
//! product of `--set key=v1,v2,...`), in parallel on local cores, summarised as one CSV row per run
//! plus two plots (end-to-end p99 latency and drops against the first numeric key).
//!
//! A key is a path into the scenario document as the scenario's own errors write it
//! (`host.napi_weight`, `host.costs.pcie_one_way_ns`, `traffic[0].udp.rate`); missing maps on the way
//! are created, so a default can be overridden without being spelled out in the file. A value is a
//! YAML scalar (`64`, `per_packet`, `1Mpps`). Every combination is checked as a whole scenario before
//! anything runs, so a bad key or value fails the sweep up front, named.
//!
//! Runs are independent and each is deterministic, so the CSV and plots do not depend on `--jobs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Map, Value as Json};
use serde_norway::{Mapping, Value as Yaml};

use crate::analysis::{plots, AnalysisError};
use crate::runner::{self, RunError, RunOptions};
use nicsim_scenario::report::Report;
use nicsim_scenario::scenario::locate::{Path as DocPath, Seg};
use nicsim_scenario::scenario::{Scenario, ScenarioError};

/// Files a sweep writes into its output folder, besides one run folder per combination.
pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_SVG: &str = "sweep.svg";
pub const SWEEP_DROPS_SVG: &str = "sweep_drops.svg";

/// One `--set key=v1,v2,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub at: DocPath,
    pub values: Vec<String>,
}

/// A `--set` argument that is not `key=v1,v2,...` with a well-formed key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--set `{arg}`: {why}")]
pub struct BadParam {
    pub arg: String,
    pub why: String,
}

impl FromStr for Param {
    type Err = BadParam;
    fn from_str(arg: &str) -> Result<Param, BadParam> {
        let bad = |why: String| BadParam {
            arg: arg.to_owned(),
            why,
        };
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key=v1,v2,... (e.g. host.napi_weight=16,64)".into()))?;
        let at = parse_key(key).map_err(bad)?;
        let values: Vec<String> = values.split(',').map(str::to_owned).collect();
        if values.iter().any(String::is_empty) {
            return Err(bad("empty value".into()));
        }
        if let Some(dup) = values
            .iter()
            .enumerate()
            .find_map(|(i, v)| values[..i].contains(v).then_some(v))
        {
            return Err(bad(format!("value `{dup}` given twice")));
        }
        Ok(Param {
            key: key.to_owned(),
            at,
            values,
        })
    }
}

/// `host.costs.mmio_write_ns` or `traffic[0].udp.rate` as a document path.
fn parse_key(key: &str) -> Result<DocPath, String> {
    let bad =
        || format!("key `{key}` is not a path such as host.napi_weight or traffic[0].udp.rate");
    let mut path = DocPath::default();
    for part in key.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad());
        }
        path = path.key(name);
        // Zero or more `[n]` after the name.
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner.split_once(']').ok_or_else(bad)?;
            path = path.index(index.parse().map_err(|_| bad())?);
            rest = after;
        }
        if !rest.is_empty() {
            return Err(bad());
        }
    }
    Ok(path)
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Load(#[from] ScenarioError),
    #[error("no --set given: a sweep needs at least one key with values")]
    NoParams,
    #[error("--set {key}: key given twice")]
    DuplicateKey { key: String },
    /// One key's value does not give a valid scenario on its own.
    #[error("--set {key}={value}: {why}")]
    Value {
        key: String,
        value: String,
        why: String,
    },
    /// Every value is valid alone but this combination is not.
    #[error("combination {combo}: {why}")]
    Combination { combo: String, why: String },
    #[error("combinations {a} and {b} would share the output folder {}", dir.display())]
    SameFolder { a: String, b: String, dir: PathBuf },
    #[error("writing {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plotting the sweep: {0}")]
    Plot(#[from] AnalysisError),
}

impl SweepError {
    /// Whether the input (scenario, keys, values) is at fault rather than the sweep itself.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, SweepError::Plot(_))
    }
}

/// Where a sweep writes and how many runs go at once.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub out_dir: PathBuf,
    pub jobs: NonZeroUsize,
}

/// One combination of values: its scenario and run folder.
#[derive(Debug, Clone)]
pub struct Combo {
    /// The value of each key, in `--set` order, as YAML.
    pub values: Vec<Yaml>,
    pub scenario: Scenario,
    pub dir: PathBuf,
}

impl Combo {
    /// `key=value,key=value`, naming the combination in messages.
    fn label(&self, params: &[Param]) -> String {
        params
            .iter()
            .zip(&self.values)
            .map(|(p, v)| format!("{}={}", p.key, scalar(v)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What one run measured, the sweep's view of its [`Report`].
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub p50_ns: Option<f64>,
    pub p99_ns: Option<f64>,
    pub injected: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub drops: BTreeMap<String, u64>,
    pub irqs: u64,
    pub polls: u64,
    /// Per CPU, busy cycles over simulated cycles ([`Report::busy_shares`]).
    pub busy: Vec<f64>,
    /// The scenario's expectations this run missed (swept values usually move them).
    pub expectations_missed: usize,
}

impl Summary {
    fn of(report: &Report, expectations_missed: usize) -> Summary {
        Summary {
            p50_ns: report.end_to_end.as_ref().map(|l| l.p50_ns),
            p99_ns: report.end_to_end.as_ref().map(|l| l.p99_ns),
            injected: report.injected,
            delivered: report.delivered,
            dropped: report.dropped,
            drops: report.drops.clone(),
            irqs: report.irqs,
            polls: report.polls,
            busy: report.busy_shares(),
            expectations_missed,
        }
    }
}

/// A run that did not produce a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The combination's scenario was rejected when building the host or world (exit status 2).
    pub bad_input: bool,
    pub message: String,
}

/// One combination's outcome, a row of the CSV.
#[derive(Debug, Clone)]
pub struct Row {
    pub combo: Combo,
    pub result: Result<Summary, RowError>,
}

/// A finished sweep: its rows in combination order and the files written.
#[derive(Debug)]
pub struct SweepOutcome {
    pub params: Vec<Param>,
    pub rows: Vec<Row>,
    pub csv: PathBuf,
    pub plots: Vec<PathBuf>,
}

/// Every combination of `params`' values applied to the scenario `text` (read from `path`), first key
/// slowest, each checked as a whole scenario.
pub fn combinations(
    text: &str,
    path: &Path,
    params: &[Param],
    out_dir: &Path,
) -> Result<Vec<Combo>, SweepError> {
    if params.is_empty() {
        return Err(SweepError::NoParams);
    }
    if let Some(p) = params
        .iter()
        .enumerate()
        .find_map(|(i, p)| params[..i].iter().any(|q| q.at == p.at).then_some(p))
    {
        return Err(SweepError::DuplicateKey { key: p.key.clone() });
    }
    let base = Scenario::parse(text, path)?;
    let doc: Yaml = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        ScenarioError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    // Each value alone first, so that a bad one is named rather than the first combination with it.
    let mut values: Vec<Vec<Yaml>> = Vec::with_capacity(params.len());
    for p in params {
        let mut parsed = Vec::with_capacity(p.values.len());
        for v in &p.values {
            let bad = |why: String| SweepError::Value {
                key: p.key.clone(),
                value: v.clone(),
                why,
            };
            let value: Yaml =
                serde_norway::from_str(v).map_err(|e| bad(format!("not a YAML value: {e}")))?;
            let mut one = doc.clone();
            set(&mut one, &p.at.0, value.clone(), &mut DocPath::default()).map_err(&bad)?;
            apply(&one, path).map_err(bad)?;
            parsed.push(value);
        }
        values.push(parsed);
    }
    let mut combos = Vec::new();
    let mut folders: BTreeMap<PathBuf, String> = BTreeMap::new();
    let total: usize = values.iter().map(Vec::len).product();
    for n in 0..total {
        // Mixed-radix digits of n, last key fastest.
        let mut rest = n;
        let mut pick = vec![Yaml::Null; params.len()];
        for (i, vs) in values.iter().enumerate().rev() {
            pick[i] = vs[rest % vs.len()].clone();
            rest /= vs.len();
        }
        let folder: Vec<String> = params
            .iter()
            .zip(&pick)
            .map(|(p, v)| folder_part(&format!("{}={}", p.key, scalar(v))))
            .collect();
        let dir = out_dir.join(folder.join(","));
        let mut combo = Combo {
            values: pick,
            scenario: base.clone(),
            dir,
        };
        let label = combo.label(params);
        let bad = |why: String| SweepError::Combination {
            combo: label.clone(),
            why,
        };
        // One key can sit inside another's value (`traffic` and `traffic[0].udp.count`).
        let mut combined = doc.clone();
        for (p, v) in params.iter().zip(&combo.values) {
            set(&mut combined, &p.at.0, v.clone(), &mut DocPath::default()).map_err(bad)?;
        }
        combo.scenario = apply(&combined, path).map_err(bad)?;
        if let Some(a) = folders.insert(combo.dir.clone(), label.clone()) {
            return Err(SweepError::SameFolder {
                a,
                b: label,
                dir: combo.dir,
            });
        }
        combos.push(combo);
    }
    Ok(combos)
}

/// `node` with `value` at `path` (creating missing maps); `at` is where `node` sits, for errors.
fn set(node: &mut Yaml, path: &[Seg], value: Yaml, at: &mut DocPath) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        *node = value;
        return Ok(());
    };
    let here = || {
        if at.0.is_empty() {
            "the document".to_owned()
        } else {
            format!("`{at}`")
        }
    };
    match seg {
        Seg::Key(k) => {
            if node.is_null() {
                *node = Yaml::Mapping(Mapping::new());
            }
            let Yaml::Mapping(map) = node else {
                return Err(format!("{} is {}, not a map", here(), kind(node)));
            };
            let child = map.entry(Yaml::String(k.clone())).or_insert(Yaml::Null);
            at.0.push(seg.clone());
            set(child, rest, value, at)
        }
        Seg::Index(i) => {
            let Yaml::Sequence(items) = node else {
                return Err(format!("{} is {}, not a list", here(), kind(node)));
            };
            let len = items.len();
            let where_ = here();
            let child = items
                .get_mut(*i)
                .ok_or_else(|| format!("{where_} has {len} entries, no [{i}]"))?;
            at.0.push(seg.clone());
            set(child, rest, value, at)
        }
    }
}

fn kind(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "empty",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a map",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// The scenario `doc` describes, or why it is not one (the scenario's own message, which names the
/// key; its line and column refer to the rewritten document, so they are left out).
fn apply(doc: &Yaml, path: &Path) -> Result<Scenario, String> {
    let text = serde_norway::to_string(doc).map_err(|e| e.to_string())?;
    Scenario::parse(&text, path).map_err(|e| match e {
        ScenarioError::Invalid { message, .. } => message,
        other => other.to_string(),
    })
}

/// A YAML scalar as the user wrote it (`64`, `per_packet`); anything else as YAML flow text.
fn scalar(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        other => serde_norway::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default(),
    }
}

/// A folder name part: characters a shell and every file system take unquoted; others become `_`.
fn folder_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.=+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs every combination of `params` on the scenario at `path`, `opts.jobs` at a time, and writes
/// one run folder per combination, `sweep.csv` and the plots into `opts.out_dir`.
pub fn sweep(
    path: &Path,
    params: &[Param],
    opts: &SweepOptions,
) -> Result<SweepOutcome, SweepError> {
    sweep_with_progress(path, params, opts, &|_, _| {})
}

/// [`sweep`], calling `finished(runs done, runs in all)` each time a run ends (from the thread
/// that ran it).
pub fn sweep_with_progress(
    path: &Path,
    params: &[Param],
    opts: &SweepOptions,
    finished: &(dyn Fn(usize, usize) + Sync),
) -> Result<SweepOutcome, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    let combos = combinations(&text, path, params, &opts.out_dir)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| SweepError::Output {
        path: opts.out_dir.clone(),
        source,
    })?;
    let results = run_all(&combos, path, opts.jobs, finished);
    let rows: Vec<Row> = combos
        .into_iter()
        .zip(results)
        .map(|(combo, result)| Row { combo, result })
        .collect();

    let table = Table::new(params, &rows);
    let csv = opts.out_dir.join(SWEEP_CSV);
    write(&csv, table.to_csv())?;
    let (x, series) = plot_axes(params);
    let mut written = Vec::new();
    for (file, y) in [(SWEEP_SVG, "p99_ns"), (SWEEP_DROPS_SVG, "dropped")] {
        let points: Vec<Json> = table
            .json
            .iter()
            .filter(|r| r.get(y).is_some_and(Json::is_number))
            .cloned()
            .collect();
        let svg = plots::sweep_plot(&points, &x, &series, y)?;
        let out = opts.out_dir.join(file);
        write(&out, svg)?;
        written.push(out);
    }
    Ok(SweepOutcome {
        params: params.to_vec(),
        rows,
        csv,
        plots: written,
    })
}

/// Runs `combos` on up to `jobs` threads, telling `finished` as each ends; results in combination
/// order.
fn run_all(
    combos: &[Combo],
    path: &Path,
    jobs: NonZeroUsize,
    finished: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Result<Summary, RowError>> {
    let next = AtomicUsize::new(0);
    let ended = AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<Summary, RowError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.get().min(combos.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = combos.get(i) else { break };
                        mine.push((i, run_one(c, path)));
                        finished(ended.fetch_add(1, Ordering::Relaxed) + 1, combos.len());
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, r)| r).collect()
}

fn run_one(combo: &Combo, path: &Path) -> Result<Summary, RowError> {
    let opts = RunOptions {
        out_dir: combo.dir.clone(),
        wave: false,
        frames: None,
    };
    runner::run(&combo.scenario, path, &opts)
        .map(|o| Summary::of(&o.report, o.failures.len()))
        .map_err(|e| RowError {
            bad_input: matches!(e, RunError::Input(_) | RunError::Output { .. }),
            message: format!("{:#}", anyhow::Error::new(e)),
        })
}

/// The x axis of the plots, the first key whose values are all numbers (else the combination
/// number), and what tells their lines apart: the only other key, else all other keys together, else
/// the scenario.
fn plot_axes(params: &[Param]) -> (String, String) {
    let numeric = |p: &Param| p.values.iter().all(|v| v.parse::<f64>().is_ok());
    let x = params.iter().position(numeric);
    let others: Vec<&Param> = params
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != x)
        .map(|(_, p)| p)
        .collect();
    let series = match others[..] {
        [] => SCENARIO.to_owned(),
        [one] => one.key.clone(),
        _ => SERIES.to_owned(),
    };
    let x = x.map_or(COMBO.to_owned(), |i| params[i].key.clone());
    (x, series)
}

/// Plot-only row fields: the scenario name, the combination's number and its non-x keys together.
const SCENARIO: &str = "scenario";
const COMBO: &str = "combo";
const SERIES: &str = "series";

/// The sweep's results as CSV columns and, for the plots, as JSON rows with the same fields.
struct Table {
    columns: Vec<String>,
    cells: Vec<Vec<String>>,
    json: Vec<Json>,
}

impl Table {
    fn new(params: &[Param], rows: &[Row]) -> Table {
        let ok = || rows.iter().filter_map(|r| r.result.as_ref().ok());
        let reasons: BTreeSet<&str> = ok()
            .flat_map(|s| s.drops.keys().map(String::as_str))
            .collect();
        let cpus = ok().map(|s| s.busy.len()).max().unwrap_or(0);
        let (x, _) = plot_axes(params);
        let mut columns: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
        columns.extend(
            [
                "status",
                "p50_ns",
                "p99_ns",
                "injected",
                "delivered",
                "dropped",
            ]
            .map(String::from),
        );
        columns.extend(reasons.iter().map(|r| format!("drops.{r}")));
        columns.extend(["irqs", "polls"].map(String::from));
        columns.extend((0..cpus).map(|c| format!("cpu{c}.busy_share")));
        columns.push("expectations_missed".into());

        let mut cells = Vec::with_capacity(rows.len());
        let mut json = Vec::with_capacity(rows.len());
        for (n, row) in rows.iter().enumerate() {
            let mut fields: Vec<Json> = row.combo.values.iter().map(yaml_to_json).collect();
            match &row.result {
                Ok(s) => {
                    let status = if s.expectations_missed == 0 {
                        "ok"
                    } else {
                        "expect_failed"
                    };
                    fields.push(json!(status));
                    fields.push(s.p50_ns.map_or(Json::Null, |v| json!(v)));
                    fields.push(s.p99_ns.map_or(Json::Null, |v| json!(v)));
                    fields.extend([s.injected, s.delivered, s.dropped].map(|v| json!(v)));
                    fields.extend(
                        reasons
                            .iter()
                            .map(|r| json!(s.drops.get(*r).copied().unwrap_or(0))),
                    );
                    fields.extend([s.irqs, s.polls].map(|v| json!(v)));
                    fields.extend(
                        (0..cpus).map(|c| s.busy.get(c).map_or(Json::Null, |&b| json!(round4(b)))),
                    );
                    fields.push(json!(s.expectations_missed));
                }
                Err(_) => {
                    fields.push(json!("error"));
                    fields.resize(columns.len(), Json::Null);
                }
            }
            cells.push(fields.iter().map(csv_cell).collect());
            let mut obj: Map<String, Json> = columns.iter().cloned().zip(fields).collect();
            obj.insert(SCENARIO.into(), json!(row.combo.scenario.name));
            obj.insert(COMBO.into(), json!(n));
            obj.insert(SERIES.into(), json!(series_label(params, &x, &row.combo)));
            json.push(Json::Object(obj));
        }
        Table {
            columns,
            cells,
            json,
        }
    }

    fn to_csv(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let escaped: Vec<String> = cells.iter().map(|c| csv_escape(c)).collect();
            // fmt::Write into a String cannot fail.
            let _ = writeln!(out, "{}", escaped.join(","));
        };
        line(&mut out, &self.columns);
        for row in &self.cells {
            line(&mut out, row);
        }
        out
    }
}

/// The values of every key but the plot's x key, for the plot's series when there are several.
fn series_label(params: &[Param], x: &str, combo: &Combo) -> String {
    params
        .iter()
        .zip(&combo.values)
        .filter(|(p, _)| p.key != x)
        .map(|(p, v)| format!("{}={}", p.key, scalar(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shares to four decimals: enough to compare runs, stable to print.
fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn yaml_to_json(v: &Yaml) -> Json {
    match v {
        Yaml::Number(n) => n
            .as_u64()
            .map(Json::from)
            .or_else(|| n.as_i64().map(Json::from))
            .or_else(|| n.as_f64().map(Json::from))
            .unwrap_or(Json::Null),
        Yaml::Bool(b) => json!(b),
        other => json!(scalar(other)),
    }
}

fn csv_cell(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write(path: &Path, contents: String) -> Result<(), SweepError> {
    std::fs::write(path, contents).map_err(|source| SweepError::Output {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: t\nhost:\n  apps:\n    - kind: udp_sink\n      port: 5001\ntraffic:\n  - udp: {count: 2, dst_port: 5001}\n";

    fn params(args: &[&str]) -> Vec<Param> {
        args.iter().map(|a| a.parse().unwrap()).collect()
    }

    fn combos(args: &[&str]) -> Result<Vec<Combo>, String> {
        combinations(DOC, Path::new("t.yaml"), &params(args), Path::new("out"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn keys_parse_into_document_paths() {
        let p: Param = "traffic[0].udp.rate=1Mpps,line".parse().unwrap();
        assert_eq!(p.at.to_string(), "traffic[0].udp.rate");
        assert_eq!(p.values, ["1Mpps", "line"]);
        for bad in [
            "host.napi_weight",
            "=1",
            "host..x=1",
            "host.x[=1",
            "host.x[a]=1",
            "host.x[0]y=1",
            "host x=1",
            "host.napi_weight=1,,2",
            "host.napi_weight=1,1",
        ] {
            assert!(bad.parse::<Param>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn combinations_run_first_key_slowest_with_defaults_created() {
        let c = combos(&["host.napi_weight=8,64", "host.costs.mmio_write_ns=100,300"]).unwrap();
        let got: Vec<(u32, u64)> = c
            .iter()
            .map(|c| {
                (
                    c.scenario.host.napi_weight,
                    c.scenario.host.costs.mmio_write_ns,
                )
            })
            .collect();
        assert_eq!(got, [(8, 100), (8, 300), (64, 100), (64, 300)]);
        assert_eq!(
            c[1].dir,
            Path::new("out/host.napi_weight=8,host.costs.mmio_write_ns=300")
        );
        let c = combos(&["traffic[0].udp.rate=1Mpps"]).unwrap();
        assert_eq!(c[0].dir, Path::new("out/traffic_0_.udp.rate=1Mpps"));
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let e = combos(&["host.napi_wieght=8"]).unwrap_err();
        assert!(
            e.starts_with("--set host.napi_wieght=8: host: unknown field `napi_wieght`"),
            "{e}"
        );
        let e = combos(&["host.napi_weight=0"]).unwrap_err();
        assert_eq!(
            e,
            "--set host.napi_weight=0: host.napi_weight: must be at least 1"
        );
        let e = combos(&["name.x=1"]).unwrap_err();
        assert_eq!(e, "--set name.x=1: `name` is a string, not a map");
        let e = combos(&["traffic[3].udp.count=1"]).unwrap_err();
        assert_eq!(
            e,
            "--set traffic[3].udp.count=1: `traffic` has 1 entries, no [3]"
        );
        let e = combos(&["host.rx_ring=32,64", "host.rx_refill_batch=8,48"]).unwrap_err();
        assert!(
            e.starts_with(
                "combination host.rx_ring=32,host.rx_refill_batch=48: host.rx_refill_batch:"
            ),
            "{e}"
        );
        let e = combos(&["traffic=[]", "traffic[0].udp.count=3"]).unwrap_err();
        assert_eq!(
            e,
            "combination traffic=[],traffic[0].udp.count=3: `traffic` has 0 entries, no [0]"
        );
        let e = combos(&["seed=1", "seed=2"]).unwrap_err();
        assert_eq!(e, "--set seed: key given twice");
    }

    #[test]
    fn plot_axes_take_the_first_numeric_key() {
        let axes = |args: &[&str]| plot_axes(&params(args));
        assert_eq!(
            axes(&["host.napi_mode=napi,per_packet", "seed=1,2"]),
            ("seed".into(), "host.napi_mode".into())
        );
        assert_eq!(axes(&["seed=1,2"]), ("seed".into(), "scenario".into()));
        assert_eq!(
            axes(&["host.napi_mode=napi", "seed=1", "host.cpus=1"]),
            ("seed".into(), "series".into())
        );
        assert_eq!(
            axes(&["host.napi_mode=napi,per_packet"]),
            ("combo".into(), "host.napi_mode".into())
        );
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_escape("64"), "64");
        assert_eq!(csv_escape("a,b"), "\"a,b\"");
        assert_eq!(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
