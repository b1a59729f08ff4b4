//! The Python the suite's `%{ }%` blocks use, against `TCP_INFO`: `assert A op B[, message]`,
//! `name = E`, `name += E`, `name -= E` and `print(...)`, where an expression is an integer, a
//! `tcpi_*` field, `TCP_INFINITE_SSTHRESH`, or a variable an earlier block set (packetdrill runs all
//! of a script's blocks in one interpreter), joined by `+` and `-`. Anything else is unsupported.

use std::collections::BTreeMap;

use host_driver::stack::tcp::tcp_calls::TcpInfo;

/// `TCP_INFINITE_SSTHRESH` (include/net/tcp.h).
const TCP_INFINITE_SSTHRESH: i64 = 0x7fff_ffff;

#[derive(Debug, Default)]
pub struct Python {
    vars: BTreeMap<String, i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    Unsupported(String),
    Assert { expected: String, got: String },
}

impl Python {
    /// Runs one block with `info` as its `tcpi_*` names.
    pub fn run(&mut self, code: &str, info: &TcpInfo) -> Result<(), Error> {
        for stmt in code
            .split([';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            self.statement(stmt, info)?;
        }
        Ok(())
    }

    fn statement(&mut self, stmt: &str, info: &TcpInfo) -> Result<(), Error> {
        if stmt.starts_with("print(") {
            return Ok(());
        }
        if let Some(rest) = stmt.strip_prefix("assert ") {
            return self.assert(rest.split(',').next().unwrap_or(""), info);
        }
        for (op, f) in [
            ("+=", (|a, b| a + b) as fn(i64, i64) -> i64),
            ("-=", |a, b| a - b),
            ("=", |_, b| b),
        ] {
            if let Some((name, e)) = stmt.split_once(op) {
                let name = name.trim();
                if !is_name(name) {
                    return Err(unsupported(stmt));
                }
                let v = self.expr(e, info)?;
                let old = match op {
                    "=" => 0,
                    _ => *self.vars.get(name).ok_or_else(|| unsupported(stmt))?,
                };
                self.vars.insert(name.to_owned(), f(old, v));
                return Ok(());
            }
        }
        Err(unsupported(stmt))
    }

    /// `a op b [op c ...]`, a chained comparison as Python reads it.
    fn assert(&self, cond: &str, info: &TcpInfo) -> Result<(), Error> {
        const OPS: [&str; 6] = ["==", "!=", "<=", ">=", "<", ">"];
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        let mut rest = cond;
        while let Some((at, op)) = OPS
            .iter()
            .filter_map(|op| rest.find(op).map(|at| (at, *op)))
            .min_by_key(|&(at, op)| (at, std::cmp::Reverse(op.len())))
        {
            operands.push(&rest[..at]);
            ops.push(op);
            rest = &rest[at + op.len()..];
        }
        operands.push(rest);
        if ops.is_empty() {
            return Err(unsupported(cond));
        }
        let values = operands
            .iter()
            .map(|e| self.expr(e, info))
            .collect::<Result<Vec<_>, _>>()?;
        let holds = ops.iter().zip(values.windows(2)).all(|(op, v)| match *op {
            "==" => v[0] == v[1],
            "!=" => v[0] != v[1],
            "<=" => v[0] <= v[1],
            ">=" => v[0] >= v[1],
            "<" => v[0] < v[1],
            _ => v[0] > v[1],
        });
        if holds {
            return Ok(());
        }
        let got: Vec<String> = operands
            .iter()
            .zip(&values)
            .filter(|(e, _)| e.trim().parse::<i64>().is_err())
            .map(|(e, v)| format!("{} = {v}", e.trim()))
            .collect();
        Err(Error::Assert {
            expected: cond.trim().to_owned(),
            got: got.join(", "),
        })
    }

    /// `term ((+|-) term)*`.
    fn expr(&self, e: &str, info: &TcpInfo) -> Result<i64, Error> {
        let mut total = 0;
        let mut sign = 1;
        let mut term = String::new();
        for c in e.chars().chain(std::iter::once('+')) {
            if c == '+' || c == '-' {
                let t = term.trim();
                if !t.is_empty() {
                    total += sign * self.term(t, info)?;
                } else if c == '-' {
                    sign = -sign;
                    continue;
                }
                sign = if c == '-' { -1 } else { 1 };
                term.clear();
            } else {
                term.push(c);
            }
        }
        Ok(total)
    }

    fn term(&self, t: &str, info: &TcpInfo) -> Result<i64, Error> {
        if let Ok(v) = t.parse::<i64>() {
            return Ok(v);
        }
        if t == "TCP_INFINITE_SSTHRESH" {
            return Ok(TCP_INFINITE_SSTHRESH);
        }
        if let Some(v) = self.vars.get(t) {
            return Ok(*v);
        }
        tcpi(t, info).ok_or_else(|| Error::Unsupported(format!("Python name {t}")))
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn unsupported(stmt: &str) -> Error {
    Error::Unsupported(format!("Python statement `{stmt}`"))
}

/// The `tcpi_*` fields the host reports.
fn tcpi(name: &str, i: &TcpInfo) -> Option<i64> {
    let v = match name.strip_prefix("tcpi_")? {
        "state" => u64::from(i.state),
        "ca_state" => u64::from(i.ca_state),
        "retransmits" => u64::from(i.retransmits),
        "probes" => u64::from(i.probes),
        "backoff" => u64::from(i.backoff),
        "rto" => i.rto_us,
        "snd_mss" => u64::from(i.snd_mss),
        "rcv_mss" => u64::from(i.rcv_mss),
        "unacked" => u64::from(i.unacked),
        "sacked" => u64::from(i.sacked),
        "lost" => u64::from(i.lost),
        "retrans" => u64::from(i.retrans),
        "rtt" => u64::from(i.rtt_us),
        "rttvar" => u64::from(i.rttvar_us),
        "snd_ssthresh" => u64::from(i.snd_ssthresh),
        "snd_cwnd" => u64::from(i.snd_cwnd),
        "advmss" => u64::from(i.advmss),
        "reordering" => u64::from(i.reordering),
        "total_retrans" => u64::from(i.total_retrans),
        "min_rtt" => u64::from(i.min_rtt_us),
        "bytes_acked" => i.bytes_acked,
        "bytes_received" => i.bytes_received,
        "last_data_recv" => i.last_data_recv_ms,
        _ => return None,
    };
    Some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asserts_and_variables_carry_across_blocks() {
        let mut py = Python::default();
        let info = TcpInfo {
            snd_cwnd: 20,
            snd_ssthresh: 0x7fff_ffff,
            ..TcpInfo::default()
        };
        py.run("cwnd = 10", &info).unwrap();
        py.run(
            "print(tcpi_snd_cwnd); cwnd += 10; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd",
            &info,
        )
        .unwrap();
        py.run(
            "assert tcpi_snd_ssthresh == TCP_INFINITE_SSTHRESH, tcpi_snd_ssthresh",
            &info,
        )
        .unwrap();
        assert_eq!(
            py.run(
                "assert tcpi_snd_cwnd == 10, 'cwnd=%d' % tcpi_snd_cwnd",
                &info
            ),
            Err(Error::Assert {
                expected: "tcpi_snd_cwnd == 10".into(),
                got: "tcpi_snd_cwnd = 20".into()
            })
        );
        assert!(matches!(
            py.run("assert tcpi_busy_time > 0", &info),
            Err(Error::Unsupported(_))
        ));
    }
}
