//! The Linux packetdrill scripts in /work/shared/packetdrill (GPL-2.0, kept outside this repository):
//! all parse, and a few parse into exactly the expected AST.

use std::path::{Path, PathBuf};

use nicsim_packetdrill::*;

/// `../shared/packetdrill` beside the repository; `None` (and a note on stderr) when it is absent.
fn scripts_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/packetdrill");
    if let Ok(dir) = dir.canonicalize() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: packetdrill scripts not found at {} (expected ../shared/packetdrill beside the repository)",
            dir.display()
        );
        None
    }
}

fn pkt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            pkt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "pkt") {
            out.push(path);
        }
    }
}

fn script(rel: &str) -> Option<Script> {
    let dir = scripts_dir()?;
    Some(parse_file(dir.join(rel)).unwrap_or_else(|e| panic!("{e}")))
}

fn line(span: &Span) -> (u32, u32) {
    (span.line, span.col)
}

fn syscall(event: &Event) -> &Syscall {
    match &event.action {
        Action::Syscall(s) => s,
        other => panic!("{}: not a syscall: {other:?}", event.span),
    }
}

fn packet(event: &Event) -> &Packet {
    match &event.action {
        Action::Packet(p) => p,
        other => panic!("{}: not a packet: {other:?}", event.span),
    }
}

/// The expression without spans, for compact comparisons.
fn show(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(show).collect::<Vec<_>>().join(", ");
    match &e.kind {
        ExprKind::Ellipsis => "...".into(),
        ExprKind::Int { value, hex: false } => value.to_string(),
        ExprKind::Int { value, hex: true } => format!("{value:#x}"),
        ExprKind::Word(w) => w.clone(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Or(terms) => terms.iter().map(show).collect::<Vec<_>>().join("|"),
        ExprKind::Array(items) => format!("[{}]", list(items)),
        ExprKind::Struct(fields) => {
            let fields: Vec<_> = fields
                .iter()
                .map(|f| match &f.name {
                    Some(n) => format!("{n}={}", show(&f.value)),
                    None => show(&f.value),
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        ExprKind::Iovec { len } => format!("iov({})", show(len)),
        ExprKind::Msghdr(m) => format!(
            "msghdr(iov({})=[{}], flags={}, control={:?})",
            show(&m.iovlen),
            list(&m.iov),
            show(&m.flags),
            m.control.as_deref().map(list)
        ),
        ExprKind::Cmsg(c) => format!(
            "cmsg({}, {}, {})",
            show(&c.level),
            show(&c.kind),
            show(&c.data)
        ),
        ExprKind::Pollfd(p) => format!(
            "pollfd({}, {}, {:?})",
            show(&p.fd),
            show(&p.events),
            p.revents.as_ref().map(show)
        ),
    }
}

#[test]
fn all_scripts_parse() {
    let Some(dir) = scripts_dir() else { return };
    let mut files = Vec::new();
    pkt_files(&dir, &mut files);
    assert_eq!(files.len(), 58, "the suite holds 58 scripts");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| parse_file(f).err().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Handshake packets with options, a blocking connect, and a relative time that starts a line.
#[test]
fn blocking_connect() {
    let Some(s) = script("tcp/blocking/blocking-connect.pkt") else {
        return;
    };
    assert!(s.file.ends_with("tcp/blocking/blocking-connect.pkt"));
    assert!(s.options.is_empty());
    let init = s.init_command.as_ref().unwrap();
    assert_eq!(init.text, "../common/defaults.sh");
    assert_eq!(line(&init.span), (3, 1));
    assert_eq!(s.cleanup_command, None);
    assert_eq!(s.events.len(), 5);

    let connect = &s.events[1];
    assert_eq!(line(&connect.span), (8, 3));
    assert_eq!(connect.time, Time::Relative(100_000));
    let call = syscall(connect);
    assert_eq!(call.name, "connect");
    assert_eq!(line(&call.span), (8, 15));
    assert_eq!(call.blocking_end, Some(200_000));
    assert_eq!(
        call.args.iter().map(show).collect::<Vec<_>>(),
        ["3", "...", "..."]
    );
    assert_eq!(show(&call.result), "0");
    assert_eq!((&call.errno, &call.note), (&None, &None));

    let syn = packet(&s.events[2]);
    assert_eq!(s.events[2].time, Time::Relative(0));
    assert_eq!(line(&syn.span), (10, 7));
    assert_eq!(syn.direction, Direction::Outbound);
    assert_eq!(
        syn.flags,
        TcpFlags {
            syn: true,
            ..TcpFlags::default()
        }
    );
    assert_eq!((syn.seq_start, syn.seq_end, syn.payload_len), (0, 0, 0));
    assert_eq!(
        (syn.ack, syn.win, syn.urg, &syn.ip),
        (None, None, None, &None)
    );
    let TcpOptions::List(options) = &syn.options else {
        panic!("checked options expected")
    };
    let kinds: Vec<_> = options.iter().map(|o| o.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            TcpOptionKind::Mss(1460),
            TcpOptionKind::SackPermitted,
            TcpOptionKind::Timestamp { val: 100, ecr: 0 },
            TcpOptionKind::Nop,
            TcpOptionKind::WindowScale(8),
        ]
    );
    assert_eq!(line(&options[2].span), (10, 35));

    let synack = packet(&s.events[3]);
    assert_eq!(synack.direction, Direction::Inbound);
    assert!(synack.flags.syn && synack.flags.ack && !synack.flags.fin);
    assert_eq!((synack.ack, synack.win), (Some(1), Some(5792)));
    assert_eq!(
        synack.options,
        TcpOptions::List(vec![
            TcpOption {
                span: Span {
                    line: 11,
                    col: 35,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::Mss(1460)
            },
            TcpOption {
                span: Span {
                    line: 11,
                    col: 44,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
            TcpOption {
                span: Span {
                    line: 11,
                    col: 48,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::WindowScale(2)
            },
            TcpOption {
                span: Span {
                    line: 11,
                    col: 57,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
            TcpOption {
                span: Span {
                    line: 11,
                    col: 61,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
            TcpOption {
                span: Span {
                    line: 11,
                    col: 65,
                    ..synack.span.clone()
                },
                kind: TcpOptionKind::SackPermitted
            },
        ])
    );
}

/// Options in the header, a multi-line setup command, a blocking write and a cleanup command.
#[test]
fn blocking_write() {
    let Some(s) = script("tcp/blocking/blocking-write.pkt") else {
        return;
    };
    assert_eq!(s.options.len(), 1);
    assert_eq!(s.options[0].name, "tolerance_usecs");
    assert_eq!(s.options[0].value.as_deref(), Some("10000"));
    assert_eq!(line(&s.options[0].span), (2, 1));
    let init = s.init_command.as_ref().unwrap();
    assert_eq!(
        init.text,
        "../common/defaults.sh\n ../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10\n"
    );
    assert_eq!(line(&init.span), (4, 1));
    let cleanup = s.cleanup_command.as_ref().unwrap();
    assert_eq!(cleanup.text, "/tmp/sysctl_restore_${PPID}.sh");
    assert_eq!(line(&cleanup.span), (34, 1));

    let getsockopt = syscall(&s.events[9]);
    assert_eq!(getsockopt.name, "getsockopt");
    assert_eq!(
        getsockopt.args.iter().map(show).collect::<Vec<_>>(),
        ["4", "SOL_SOCKET", "SO_SNDBUF", "[42000]", "[4]"]
    );
    let write = &s.events[10];
    assert_eq!(line(&write.span), (24, 4));
    assert_eq!(write.time, Time::Relative(0));
    let write = syscall(write);
    assert_eq!(write.blocking_end, Some(300_000));
    assert_eq!(show(&write.result), "61000");
    assert!(s
        .comments
        .iter()
        .any(|c| c.text == " this write() blocks" && line(&c.span) == (24, 47) && !c.block));
}

/// An errno with its strerror, a `|` flag combination, a note without errno, `<...>`.
#[test]
fn errno_flags_and_notes() {
    let Some(s) = script("tcp/close/close-on-syn-sent.pkt") else {
        return;
    };
    let fcntl = syscall(&s.events[1]);
    assert_eq!(show(&fcntl.args[2]), "O_RDWR|O_NONBLOCK");
    assert_eq!(line(&fcntl.args[2].span), (7, 25));
    let connect = syscall(&s.events[2]);
    assert_eq!(show(&connect.result), "-1");
    let errno = connect.errno.as_ref().unwrap();
    assert_eq!(errno.name, "EINPROGRESS");
    assert_eq!(errno.strerror.as_deref(), Some("Operation now in progress"));
    assert_eq!(line(&errno.span), (9, 33));
    assert!(matches!(
        packet(&s.events[3]).options,
        TcpOptions::Unchecked(_)
    ));
    let rst = packet(&s.events[6]);
    assert!(rst.flags.rst && !rst.flags.ack);

    let Some(s) = script("tcp/tcp_info/tcp-info-sndbuf-limited.pkt") else {
        return;
    };
    let getfl = syscall(&s.events[1]);
    assert_eq!(show(&getfl.result), "0x2");
    assert_eq!(getfl.errno, None);
    assert_eq!(getfl.note.as_deref(), Some("flags O_RDWR"));
}

/// A msghdr with iovecs and a cmsg, spread over several lines.
#[test]
fn recvmsg_with_cmsg() {
    let Some(s) = script("tcp/inq/client.pkt") else {
        return;
    };
    let recvmsg = &s.events[10];
    assert_eq!(line(&recvmsg.span), (23, 4));
    let call = syscall(recvmsg);
    assert_eq!(call.name, "recvmsg");
    assert_eq!(
        show(&call.args[1]),
        "msghdr(iov(1)=[iov(1000)], flags=0, control=Some(\"cmsg(SOL_TCP, TCP_CM_INQ, 9000)\"))"
    );
    let ExprKind::Msghdr(m) = &call.args[1].kind else {
        panic!()
    };
    assert_eq!(line(&m.iov[0].span), (24, 19));
    assert_eq!(line(&m.control.as_ref().unwrap()[0].span), (26, 20));
    assert_eq!(show(&call.result), "1000");

    let Some(s) = script("tcp/nagle/sendmsg_msg_more.pkt") else {
        return;
    };
    let three = s
        .events
        .iter()
        .find(|e| line(&e.span) == (27, 2))
        .map(syscall)
        .unwrap();
    assert_eq!(
        show(&three.args[1]),
        "msghdr(iov(3)=[iov(100), iov(200), iov(195)], flags=0, control=None)"
    );
    assert_eq!(show(&three.args[2]), "MSG_MORE");
}

/// Relative ranges on outbound packets, SACK blocks and a blocking poll with a pollfd.
#[test]
fn ranges_sack_and_poll() {
    let Some(s) = script("tcp/fast_retransmit/fr-4pkt-fack-last-byte.pkt") else {
        return;
    };
    let tlp = s.events.iter().find(|e| line(&e.span) == (26, 3)).unwrap();
    assert_eq!(
        tlp.time,
        Time::RelativeRange {
            start: 100_000,
            end: 105_000
        }
    );
    let tlp = packet(tlp);
    assert_eq!(
        (tlp.seq_start, tlp.seq_end, tlp.payload_len),
        (3001, 4001, 1000)
    );
    assert!(tlp.flags.psh && tlp.flags.ack);

    let Some(s) = script("tcp/sack/sack-shift-sacked-2-6-8-3-9-nofack.pkt") else {
        return;
    };
    let ack = packet(s.events.iter().find(|e| line(&e.span) == (25, 1)).unwrap());
    let TcpOptions::List(options) = &ack.options else {
        panic!()
    };
    assert_eq!(
        options[0].kind,
        TcpOptionKind::Sack(vec![(2001, 3001), (6001, 7001), (8001, 9001)])
    );

    let Some(s) = script("tcp/notsent_lowat/notsent-lowat-setsockopt.pkt") else {
        return;
    };
    let poll = s.events.iter().find(|e| line(&e.span) == (28, 4)).unwrap();
    let call = syscall(poll);
    assert_eq!(call.blocking_end, Some(40_000));
    assert_eq!(
        call.args.iter().map(show).collect::<Vec<_>>(),
        ["[pollfd(4, POLLOUT, Some(\"POLLOUT\"))]", "1", "1000"]
    );
}

/// A timed shell command, python blocks (one line and several), ECN marks and `-` flags.
#[test]
fn commands_python_and_ecn() {
    let Some(s) = script("tcp/cubic/cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt")
    else {
        return;
    };
    let tc = s.events.iter().find(|e| line(&e.span) == (33, 1)).unwrap();
    assert_eq!(tc.time, Time::Relative(0));
    let Action::Command(cmd) = &tc.action else {
        panic!()
    };
    assert_eq!(cmd.text, "tc qdisc replace dev tun0 root pfifo limit 0");
    assert_eq!(line(&cmd.span), (33, 4));
    let py = s.events.iter().find(|e| line(&e.span) == (22, 4)).unwrap();
    assert_eq!(
        py.action,
        Action::Python(PythonBlock {
            span: Span {
                line: 22,
                col: 8,
                ..py.span.clone()
            },
            code: "assert tcpi_sacked == 2, tcpi_sacked".into()
        })
    );

    let Some(s) = script("tcp/cwnd_moderation/cwnd-moderation-ecn-enter-cwr-no-moderation-700.pkt")
    else {
        return;
    };
    let syn = packet(&s.events[4]);
    assert!(syn.flags.syn && syn.flags.ece && syn.flags.cwr && !syn.flags.ack);
    let ack = packet(&s.events[6]);
    assert_eq!(ack.ip.as_ref().unwrap().kind, IpInfoKind::Ecn(Ecn::Ect1));
    assert_eq!(line(&ack.ip.as_ref().unwrap().span), (15, 10));
    let ece = packet(&s.events[11]);
    assert_eq!(ece.ip.as_ref().unwrap().kind, IpInfoKind::Ecn(Ecn::NotEct));
    assert!(ece.flags.ece && ece.flags.ack && !ece.flags.cwr);
    let Action::Python(py) = &s.events[12].action else {
        panic!()
    };
    assert!(py
        .code
        .starts_with("\nassert tcpi_ca_state == TCP_CA_CWR, tcpi_ca_state\n"));
    assert!(py
        .code
        .ends_with("assert tcpi_snd_cwnd == 4, tcpi_snd_cwnd\n"));

    let Some(s) = script("tcp/validate/validate-established-no-flags.pkt") else {
        return;
    };
    let none = packet(&s.events[8]);
    assert_eq!(none.flags, TcpFlags::default());
    assert_eq!((none.ack, none.win), (None, Some(20000)));
}

#[test]
fn io_error_names_the_file() {
    let e = parse_file("/nonexistent/x.pkt").unwrap_err();
    assert!(e.span().is_none());
    assert!(e.to_string().starts_with("/nonexistent/x.pkt: "), "{e}");
}
