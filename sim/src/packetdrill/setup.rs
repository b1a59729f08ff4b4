//! A script's shell lines: `defaults.sh` (read from the suite and run line by line), `sysctl` and
//! `set_sysctls.py` assignments mapped onto the host's [`TcpSysctl`], and the lines that set
//! Linux mechanisms this host does not have to the value that leaves them out of the picture
//! (no TSO, no pacing, no ECN, no Fast Open). Anything else is unsupported, naming the line.

use std::path::Path;

use host_driver::stack::tcp::sysctl::TcpSysctl;

/// Why a shell line cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// Applies the backquoted `text` of a script at `script_dir` to `tcp`.
pub fn apply_command(
    text: &str,
    script_dir: &Path,
    tcp: &mut TcpSysctl,
) -> Result<(), Unsupported> {
    for line in text.replace("\\\n", " ").lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        apply_line(line, script_dir, tcp)?;
    }
    Ok(())
}

fn apply_line(line: &str, dir: &Path, tcp: &mut TcpSysctl) -> Result<(), Unsupported> {
    let unsupported = || Unsupported(format!("shell line `{line}`"));
    // Output redirections change nothing the host sees.
    let cmd = line
        .trim_end_matches("> /dev/null 2>&1")
        .trim_end_matches("2>/dev/null")
        .trim();
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match words.as_slice() {
        [script] if script.ends_with("defaults.sh") => {
            let path = dir.join(script);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Unsupported(format!("`{line}`: {}: {e}", path.display())))?;
            apply_command(&text, path.parent().unwrap_or(dir), tcp)
        }
        // Fast Open cookies: this host has no Fast Open.
        ["ip", "tcp_metrics", "flush", "all"] => Ok(()),
        // The host's qdisc is a FIFO already.
        ["tc", "qdisc", "add", "dev", "tun0", "root", "pfifo"] => Ok(()),
        ["sysctl", "-q", ..] => {
            for a in assignments(&cmd["sysctl -q".len()..]) {
                set(&a.0.replace('.', "/"), &a.1, tcp).ok_or_else(unsupported)?;
            }
            Ok(())
        }
        [py, ..] if py.ends_with("set_sysctls.py") => {
            for (k, v) in assignments(&cmd[py.len()..]) {
                set(k.trim_start_matches("/proc/sys/"), &v, tcp).ok_or_else(unsupported)?;
            }
            Ok(())
        }
        _ => Err(unsupported()),
    }
}

/// `a.b=v c.d="x y"` pairs, with `$((a*b))` evaluated.
fn assignments(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some((k, v)) = rest.split_once('=') {
        let (value, tail) = match v.strip_prefix('"') {
            Some(q) => q.split_once('"').unwrap_or((q, "")),
            None => v.split_once(' ').unwrap_or((v, "")),
        };
        out.push((k.trim().to_owned(), expand_arith(value)));
        rest = tail.trim();
    }
    out
}

/// Shell arithmetic of the form `$((a*b*...))` inside `s`.
fn expand_arith(s: &str) -> String {
    s.split_whitespace()
        .map(
            |w| match w.strip_prefix("$((").and_then(|w| w.strip_suffix("))")) {
                Some(e) => e
                    .split('*')
                    .map(|f| f.trim().parse::<u64>().unwrap_or(0))
                    .product::<u64>()
                    .to_string(),
                None => w.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// One sysctl (`net/ipv4/tcp_x`) onto the host; `None` if it has no meaning here at `value`.
fn set(key: &str, value: &str, tcp: &mut TcpSysctl) -> Option<()> {
    let num = || value.parse::<u64>().ok();
    let flag = || num().map(|n| n != 0);
    let triple = || {
        let v: Vec<usize> = value
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        <[usize; 3]>::try_from(v).ok()
    };
    let name = key.strip_prefix("net/ipv4/")?;
    match name {
        "tcp_rmem" => tcp.rmem = triple()?,
        "tcp_wmem" => tcp.wmem = triple()?,
        "tcp_timestamps" => tcp.timestamps = flag()?,
        "tcp_sack" => tcp.sack = flag()?,
        "tcp_dsack" => tcp.dsack = flag()?,
        "tcp_window_scaling" => tcp.window_scaling = flag()?,
        "tcp_syn_retries" => tcp.syn_retries = num()? as u32,
        "tcp_synack_retries" => tcp.synack_retries = num()? as u32,
        "tcp_retries2" => tcp.retries2 = num()? as u32,
        "tcp_reordering" => tcp.reordering = num()? as u32,
        "tcp_slow_start_after_idle" => tcp.slow_start_after_idle = flag()?,
        "tcp_moderate_rcvbuf" => tcp.moderate_rcvbuf = flag()?,
        "tcp_early_retrans" => tcp.early_retrans = num()? as u32,
        "tcp_recovery" => tcp.recovery = num()? as u32,
        "tcp_congestion_control" if matches!(value, "cubic" | "reno") => {
            tcp.congestion_control = value.to_owned()
        }
        // No TSO: the TSO sizing knobs have nothing to size.
        "tcp_tso_win_divisor" | "tcp_min_tso_segs" => {
            num()?;
        }
        // Mechanisms the host lacks, at the value that turns them off (or Linux's default).
        "tcp_ecn" if value == "0" => {}
        "tcp_ecn_option" | "tcp_fastopen" | "tcp_fastopen_key" | "tcp_frto" | "tcp_fack" => {}
        "tcp_pacing_ss_ratio" if value == "200" => {}
        "tcp_pacing_ca_ratio" if value == "120" => {}
        "tcp_notsent_lowat" if value == "4294967295" => {}
        "tcp_syncookies" if value == "1" => {}
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_lines_map_onto_the_host() {
        let mut tcp = TcpSysctl::default();
        apply_command(
            "sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\nsysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1",
            Path::new("."),
            &mut tcp,
        )
        .unwrap();
        assert_eq!(tcp.rmem, [4096, 540_000, 15 * 1024 * 1024]);
        assert_eq!((tcp.early_retrans, tcp.recovery), (4, 1));
        let e = apply_command(
            "tc qdisc replace dev tun0 root fq",
            Path::new("."),
            &mut tcp,
        );
        assert!(e.unwrap_err().0.contains("tc qdisc replace"));
        assert!(apply_command("sysctl -q net.ipv4.tcp_ecn=1", Path::new("."), &mut tcp).is_err());
        apply_command(
            "set_sysctls.py /proc/sys/net/ipv4/tcp_wmem=\"4096 50000 4194304\" \\\n   /proc/sys/net/ipv4/tcp_min_tso_segs=10",
            Path::new("."),
            &mut tcp,
        )
        .unwrap();
        assert_eq!(tcp.wmem, [4096, 50_000, 4_194_304]);
    }
}
