//! What a set of packetdrill scripts asks of a runner: every feature with how often it is used and by
//! how many scripts. `cargo run -p nicsim-packetdrill --example inventory [DIR]` (default
//! ../shared/packetdrill beside the repository).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nicsim_packetdrill::*;

/// feature -> (uses, scripts using it)
#[derive(Default)]
struct Tally(BTreeMap<String, (usize, BTreeSet<usize>)>);

impl Tally {
    fn add(&mut self, feature: impl Into<String>, script: usize) {
        let entry = self.0.entry(feature.into()).or_default();
        entry.0 += 1;
        entry.1.insert(script);
    }

    fn print(&self, title: &str) {
        println!("\n{title}");
        for (feature, (uses, scripts)) in &self.0 {
            println!(
                "  {feature:<58} {uses:>5} uses in {:>2} scripts",
                scripts.len()
            );
        }
    }
}

fn pkt_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            pkt_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "pkt") {
            out.push(path);
        }
    }
    Ok(())
}

fn word(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Word(w) => w.clone(),
        ExprKind::Int { value, .. } => value.to_string(),
        ExprKind::Or(terms) => terms.iter().map(word).collect::<Vec<_>>().join("|"),
        ExprKind::Ellipsis => "...".into(),
        _ => "(other)".into(),
    }
}

/// Names like `tcpi_snd_cwnd` or `TCP_CA_Open` mentioned in Python code.
fn python_names(code: &str, prefix: &str) -> BTreeSet<String> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Tallies a backquoted command by its program (and sysctl name), one line at a time, folding
/// `\`-continued lines.
fn shell_lines(text: &str, script: usize, tally: &mut Tally) {
    for line in text.replace("\\\n", " ").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let program = words.next().unwrap_or_default();
        let what = match program.rsplit('/').next().unwrap_or(program) {
            "sysctl" => {
                let names: Vec<_> = words
                    .filter(|w| w.contains('='))
                    .map(|w| w.split('=').next().unwrap_or(w).replace('/', "."))
                    .collect();
                format!("sysctl {}", names.join(" "))
            }
            "set_sysctls.py" => {
                let names: Vec<_> = words
                    .filter(|w| w.contains('='))
                    .map(|w| {
                        w.split('=')
                            .next()
                            .unwrap_or(w)
                            .trim_start_matches("/proc/sys/")
                    })
                    .collect();
                format!("set_sysctls.py {}", names.join(" "))
            }
            "tc" | "ethtool" | "echo" => line.split(" #").next().unwrap_or(line).to_string(),
            other => other.to_string(),
        };
        tally.add(what, script);
    }
}

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/packetdrill");
            dir.canonicalize().unwrap_or(dir)
        });
    let mut files = Vec::new();
    if let Err(e) = pkt_files(&dir, &mut files) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    files.sort();
    let mut t: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failed = false;
    for (i, file) in files.iter().enumerate() {
        let script = match parse_file(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        for o in &script.options {
            let value = o.value.as_deref().unwrap_or("");
            t.entry("options")
                .or_default()
                .add(format!("--{}={value}", o.name), i);
        }
        if let Some(c) = &script.init_command {
            let setup = t.entry("setup command lines").or_default();
            shell_lines(&c.text, i, setup);
            if !setup
                .0
                .iter()
                .all(|(line, (_, s))| line == "defaults.sh" || !s.contains(&i))
            {
                t.entry("scripts")
                    .or_default()
                    .add("setup runs more than defaults.sh", i);
            }
        }
        if let Some(c) = &script.cleanup_command {
            shell_lines(&c.text, i, t.entry("cleanup command lines").or_default());
        }
        for e in &script.events {
            let time = match e.time {
                Time::Absolute(_) => "absolute",
                Time::Relative(_) => "relative",
                Time::AbsoluteRange { .. } => "absolute range a~b",
                Time::RelativeRange { .. } => "relative range +a~+b",
                Time::Any => "any *",
            };
            t.entry("event times").or_default().add(time, i);
            match &e.action {
                Action::Command(c) => shell_lines(
                    &c.text,
                    i,
                    t.entry("timed shell command lines").or_default(),
                ),
                Action::Python(py) => {
                    let python = t.entry("python blocks").or_default();
                    python.add("%{ }% blocks", i);
                    let code = py.code.replace("\\\n", " ");
                    for stmt in code.split(['\n', ';']) {
                        let stmt = stmt.split('#').next().unwrap_or_default().trim();
                        let kind = match stmt.split_whitespace().next() {
                            None => continue,
                            Some("assert") if stmt.contains(" % ") => "assert with % message",
                            Some("assert") => "assert",
                            Some(w) if w.starts_with("print(") => "print(...)",
                            Some(_) => "other statement (assignment)",
                        };
                        python.add(format!("statement: {kind}"), i);
                    }
                    for name in python_names(&py.code, "tcpi_") {
                        t.entry("tcp_info fields (python)")
                            .or_default()
                            .add(name, i);
                    }
                    for name in python_names(&py.code, "TCP_") {
                        t.entry("constants (python)").or_default().add(name, i);
                    }
                }
                Action::Packet(p) => {
                    let dir = match p.direction {
                        Direction::Inbound => "<",
                        Direction::Outbound => ">",
                    };
                    let f = p.flags;
                    let flags: String = [
                        (f.fin, 'F'),
                        (f.syn, 'S'),
                        (f.rst, 'R'),
                        (f.psh, 'P'),
                        (f.urg, 'U'),
                        (f.ece, 'E'),
                        (f.cwr, 'W'),
                        (f.ae, 'A'),
                        (f.ack, '.'),
                    ]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, c)| *c)
                    .collect();
                    let flags = if flags.is_empty() { "-".into() } else { flags };
                    t.entry("packets")
                        .or_default()
                        .add(format!("{dir} {flags}"), i);
                    if let Some(ip) = &p.ip {
                        t.entry("packet IP fields")
                            .or_default()
                            .add(format!("{dir} {:?}", ip.kind), i);
                    }
                    let opts = t.entry("TCP options").or_default();
                    match &p.options {
                        TcpOptions::Unchecked(_) => opts.add(format!("{dir} <...>"), i),
                        TcpOptions::List(list) => {
                            for o in list {
                                let kind = match &o.kind {
                                    TcpOptionKind::Sack(b) => format!("sack ({} blocks)", b.len()),
                                    TcpOptionKind::Timestamp { .. } => "TS val ecr".into(),
                                    other => format!("{other:?}")
                                        .split('(')
                                        .next()
                                        .unwrap_or_default()
                                        .to_string(),
                                };
                                opts.add(format!("{dir} {kind}"), i);
                            }
                        }
                    }
                    if p.payload_len > 1460 {
                        t.entry("packets")
                            .or_default()
                            .add(format!("{dir} payload > 1460 (TSO/GRO)"), i);
                    }
                }
                Action::Syscall(s) => {
                    t.entry("syscalls").or_default().add(&s.name, i);
                    if s.blocking_end.is_some() {
                        t.entry("blocking syscalls (...)")
                            .or_default()
                            .add(&s.name, i);
                    }
                    if let Some(errno) = &s.errno {
                        t.entry("errnos")
                            .or_default()
                            .add(format!("{} {}", s.name, errno.name), i);
                    }
                    let arg = |n: usize| s.args.get(n).map(word).unwrap_or_default();
                    match s.name.as_str() {
                        "setsockopt" | "getsockopt" => t
                            .entry("socket options")
                            .or_default()
                            .add(format!("{} {} {}", s.name, arg(1), arg(2)), i),
                        "fcntl" | "ioctl" | "shutdown" => t
                            .entry("fcntl/ioctl/shutdown")
                            .or_default()
                            .add(format!("{} {}", s.name, arg(1)), i),
                        "send" | "sendto" | "recv" | "recvfrom" | "sendmsg" | "recvmsg" => {
                            t.entry("send/recv flags").or_default().add(
                                format!(
                                    "{} {}",
                                    s.name,
                                    arg(if s.name.ends_with("msg") { 2 } else { 3 })
                                ),
                                i,
                            )
                        }
                        _ => {}
                    }
                    let mut shapes = BTreeSet::new();
                    for a in &s.args {
                        let shape = match &a.kind {
                            ExprKind::Msghdr(m) if m.control.is_some() => "msghdr with msg_control",
                            ExprKind::Msghdr(_) => "msghdr",
                            ExprKind::Array(items)
                                if matches!(
                                    items.first().map(|e| &e.kind),
                                    Some(ExprKind::Pollfd(_))
                                ) =>
                            {
                                "[pollfd]"
                            }
                            ExprKind::Array(_) => "[value]",
                            ExprKind::Word(w) if w == "NULL" => "NULL",
                            ExprKind::Or(_) => "A|B",
                            ExprKind::Ellipsis => "...",
                            _ => continue,
                        };
                        shapes.insert(shape);
                    }
                    for shape in shapes {
                        t.entry("calls with argument shapes")
                            .or_default()
                            .add(format!("{} {shape}", s.name), i);
                    }
                }
            }
        }
    }
    println!("{} scripts under {}", files.len(), dir.display());
    for (title, tally) in &t {
        tally.print(title);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
