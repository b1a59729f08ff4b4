//! Small scripts: the grammar the Linux scripts do not happen to use, malformed input with exact
//! positions, and truncated or garbled real scripts (an error with a position, never a panic).

use std::path::Path;

use nicsim_packetdrill::*;

const SOCKET: &str = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";

fn parse(text: &str) -> Script {
    parse_str("t.pkt", text).unwrap_or_else(|e| panic!("{e}"))
}

/// The `file:line:col: message` of a script that must not parse.
fn error(text: &str) -> String {
    match parse_str("t.pkt", text) {
        Ok(script) => panic!("parsed: {script:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn syntax_errors_say_where_and_what() {
    let cases = [
        (
            "0 socket(..., SOCK_STREAM IPPROTO_TCP) = 3",
            "t.pkt:1:27: expected `,` or `)`, found `IPPROTO_TCP`",
        ),
        (
            "0 write(4, ..., 10",
            "t.pkt:1:19: expected `,` or `)`, found end of file",
        ),
        (
            "+0 > S 0:0(0) <mss 1460,foo 3>",
            "t.pkt:1:25: expected a TCP option (`nop`, `eol`, `mss`, `wscale`, `sackOK`, `sack`, `TS`), found `foo`",
        ),
        (
            "+0 < S 0:0(0) win 100 <mss 1000",
            "t.pkt:1:32: expected `,` or `>`, found end of file",
        ),
        (
            "+0 > [foo] S 0:0(0)",
            "t.pkt:1:7: expected an IP field (`noecn`, `ect0`, `ect1`, `ce`, `ect01`, `tos 0x..`, `ttl N`), found `foo`",
        ),
        (
            "0 close(3) = 0\n+0 frob",
            "t.pkt:2:8: expected `(`, found end of file",
        ),
        (
            "0 close(3) = 0\n+0 = 1",
            "t.pkt:2:4: expected a packet (`<` or `>`), a system call, a shell command or a %{ }% block, found `=`",
        ),
        (
            "close(3) = 0",
            "t.pkt:1:1: expected an event time (e.g. `0`, `+.1`, `0.1~0.2`, `*`), found `close`",
        ),
        (
            "-1 close(3) = 0",
            "t.pkt:1:1: expected a time that is not negative, found `-1`",
        ),
        (
            "+.1~.2 > . 1:1(0)",
            "t.pkt:1:5: expected `+`, found `.2`",
        ),
        (
            "0 close(3) = -1 EBADF (Bad",
            "t.pkt:1:27: expected a word or `)`, found end of file",
        ),
        (
            "0 write(4, ..., 99999999999999999999) = 0",
            "t.pkt:1:17: integer 99999999999999999999 out of range (at most 9223372036854775807)",
        ),
        (
            "99999999999999.5 close(3) = 0",
            "t.pkt:1:1: time in seconds 99999999999999.5 out of range (at most 18446744073709)",
        ),
        ("// nothing here\n", "t.pkt:2:1: expected an event, found end of file"),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "for {text:?}");
    }
}

#[test]
fn semantic_errors_say_where_and_what() {
    let cases = [
        (
            format!("{SOCKET}+0 < . 1:101(1000) ack 1 win 257"),
            "t.pkt:2:8: inconsistent sequence numbers: 1:101 but length 1000",
        ),
        (
            "+0 < SX 0:0(0) win 1".into(),
            "t.pkt:1:7: unknown TCP flag `X` (flags are F S R P . U E W A, or - for none)",
        ),
        (
            "+0 > S 0:0(0) <mss 70000>".into(),
            "t.pkt:1:20: mss value 70000 out of range (at most 65535)",
        ),
        (
            "+0 < S 0:0(0) win 65536".into(),
            "t.pkt:1:19: TCP window 65536 out of range (at most 65535)",
        ),
        (
            "+0 < S 0:0(0) win 1 <...>".into(),
            "t.pkt:1:21: `<...>` for TCP options can only be used with outbound packets",
        ),
        (
            "+0 < [ect01] S 0:0(0) win 1".into(),
            "t.pkt:1:7: `ect01` can only be used with outbound packets",
        ),
        (
            format!("{SOCKET}+0 < . 1:1(0) ack 1"),
            "t.pkt:2:4: window must be specified for inbound packets (`win N`)",
        ),
        (
            "+0 > S 0:0(0) <mss 1460,wscale 7>".into(),
            "t.pkt:1:16: TCP options take 7 bytes, not a multiple of 4 (pad with `nop`)",
        ),
        (
            "+0 > . 1:1(0) ack 1 <sack 1:2 3:4 5:6 7:8,TS val 1 ecr 2>".into(),
            "t.pkt:1:22: TCP options take 44 bytes, more than the 40 a TCP header holds",
        ),
        (
            "* close(3) = 0".into(),
            "t.pkt:1:1: event time `*` can only be used with outbound packets",
        ),
        (
            format!("{SOCKET}+.1~+.2 < . 1:1(0) ack 1 win 1"),
            "t.pkt:2:1: an event time range can only be used with outbound packets",
        ),
        (
            format!("{SOCKET}+.2~+.1 > . 1:1(0) ack 1"),
            "t.pkt:2:1: time range is backwards",
        ),
        (
            format!("{SOCKET}--mss=1000\n"),
            "t.pkt:2:1: command-line option `--mss` after the first command or event",
        ),
        (
            format!("{SOCKET}`echo hi`\n+0 close(3) = 0\n"),
            "t.pkt:2:1: a shell command without a time must be the first or the last line of the script",
        ),
        (
            "`a`\n`b`\n0 close(3) = 0".into(),
            "t.pkt:2:1: a shell command without a time must be the first or the last line of the script",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(&text), expected, "for {text:?}");
    }
}

#[test]
fn unterminated_tokens_point_at_their_start() {
    let cases = [
        (
            "`../common/defaults.sh\n0 close(3) = 0",
            "t.pkt:1:1: unterminated shell command (no closing backquote)",
        ),
        (
            "0 close(3) = 0\n\n   +0 %{ assert tcpi_snd_cwnd == 10\n",
            "t.pkt:3:7: unterminated %{ block (no `}%`)",
        ),
        (
            "0 close(3) = 0 /* never\nclosed",
            "t.pkt:1:16: unterminated /* comment",
        ),
        (
            "0 write(3, \"abc, 3) = 3",
            "t.pkt:1:12: unterminated string (no closing `\"`)",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "for {text:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("0 f({}", "[".repeat(100_000));
    assert_eq!(
        error(&text),
        "t.pkt:1:37: expressions nested deeper than 32 levels"
    );
}

/// Forms packetdrill accepts that none of the 58 scripts happen to use.
#[test]
fn grammar_beyond_the_suite() {
    let s = parse(concat!(
        "--verbose\n",
        "--define=\"A B\"\n",
        "/* block\n comment */\n",
        "0.100 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n",
        "0.1~0.2 > (tos 0x4) S. 0:0(0) ack 1 urg 5 <eol,nop,nop,nop>\n",
        "* > [ect01] . 1:1(0) ack 1\n",
        "+0 < (ttl 64) R 1:1(0) win 0\n",
        "+0 < [ce] . 1:1(0) ack 1 win 9\n",
        "+0 write(4, \"ab\" \"cd\", 4) = 4\n",
        "+0 getpid() = ...\n",
        "+0 f([], {1, x}, 0x10) = 0\n",
    ));
    assert_eq!(s.options[0].name, "verbose");
    assert_eq!(s.options[0].value, None);
    assert_eq!(s.options[1].name, "define");
    assert_eq!(s.options[1].value.as_deref(), Some("A B"));
    assert!(s.comments[0].block);
    assert_eq!(s.comments[0].text, " block\n comment ");
    assert_eq!((s.comments[0].span.line, s.comments[0].span.col), (3, 1));

    assert_eq!(s.events[0].time, Time::Absolute(100_000));
    assert_eq!(
        parse("1.0000019 close(3) = 0").events[0].time,
        Time::Absolute(1_000_001)
    );
    let Action::Syscall(call) = &s.events[0].action else {
        panic!()
    };
    let ExprKind::Struct(fields) = &call.args[3].kind else {
        panic!()
    };
    assert_eq!(fields[0].name.as_deref(), Some("onoff"));
    assert_eq!(
        fields[1].value.kind,
        ExprKind::Int {
            value: 0,
            hex: false
        }
    );
    assert_eq!((fields[1].span.line, fields[1].span.col), (5, 54));

    assert_eq!(
        s.events[1].time,
        Time::AbsoluteRange {
            start: 100_000,
            end: 200_000
        }
    );
    let Action::Packet(p) = &s.events[1].action else {
        panic!()
    };
    assert_eq!(p.ip.as_ref().unwrap().kind, IpInfoKind::Tos(4));
    assert_eq!(p.urg, Some(5));
    assert_eq!(
        p.options,
        TcpOptions::List(vec![
            TcpOption {
                span: Span {
                    line: 6,
                    col: 44,
                    ..p.span.clone()
                },
                kind: TcpOptionKind::Eol
            },
            TcpOption {
                span: Span {
                    line: 6,
                    col: 48,
                    ..p.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
            TcpOption {
                span: Span {
                    line: 6,
                    col: 52,
                    ..p.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
            TcpOption {
                span: Span {
                    line: 6,
                    col: 56,
                    ..p.span.clone()
                },
                kind: TcpOptionKind::Nop
            },
        ])
    );
    assert_eq!(s.events[2].time, Time::Any);
    let ip = |i: usize| match &s.events[i].action {
        Action::Packet(p) => p.ip.as_ref().unwrap().kind,
        _ => panic!(),
    };
    assert_eq!(ip(2), IpInfoKind::EctAny);
    assert_eq!(ip(3), IpInfoKind::Ttl(64));
    assert_eq!(ip(4), IpInfoKind::Ecn(Ecn::Ce));

    let call = |i: usize| match &s.events[i].action {
        Action::Syscall(c) => c,
        _ => panic!(),
    };
    assert_eq!(call(5).args[1].kind, ExprKind::Str("abcd".into()));
    assert!(call(6).args.is_empty());
    assert_eq!(call(6).result.kind, ExprKind::Ellipsis);
    let args: Vec<_> = call(7).args.iter().map(|a| a.kind.clone()).collect();
    assert_eq!(args[0], ExprKind::Array(vec![]));
    assert!(matches!(&args[1], ExprKind::Struct(f) if f.len() == 2 && f[1].name.is_none()));
    assert_eq!(
        args[2],
        ExprKind::Int {
            value: 16,
            hex: true
        }
    );
}

/// Every prefix and many one-character corruptions of real scripts: each either parses or fails
/// with a position inside the text, and nothing panics or hangs.
#[test]
fn truncated_and_garbled_scripts_fail_with_a_position() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/packetdrill");
    if !dir.is_dir() {
        eprintln!(
            "skipped: packetdrill scripts not found at {}",
            dir.display()
        );
        return;
    }
    let mut failures = 0;
    for rel in [
        "tcp/blocking/blocking-write.pkt",
        "tcp/inq/client.pkt",
        "tcp/cubic/cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt",
    ] {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        let lines = text.lines().count() as u32 + 1;
        let mut check = |variant: &str| {
            if let Err(e) = parse_str("v.pkt", variant) {
                failures += 1;
                let span = e.span().expect("a syntax error has a position");
                assert!(span.line >= 1 && span.line <= lines && span.col >= 1, "{e}");
                let prefix = format!("v.pkt:{}:{}: ", span.line, span.col);
                assert!(e.to_string().starts_with(&prefix), "{e}");
            }
        };
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for &cut in &boundaries {
            check(&text[..cut]);
        }
        for (n, &at) in boundaries.iter().enumerate().take(boundaries.len() - 1) {
            let next = boundaries[n + 1];
            for garbage in ["@", "(", "{", "<", "`", "%{", "/*", ".", ""] {
                check(&format!("{}{garbage}{}", &text[..at], &text[next..]));
            }
        }
    }
    assert!(
        failures > 1000,
        "corruptions should mostly fail: {failures}"
    );
}
