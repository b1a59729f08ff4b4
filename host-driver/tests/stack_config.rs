//! `stack:` and `apps:` configuration: parsing, defaults, and errors that name the problem.

mod stack_bench;
mod support;

use host_driver::stack::config::{Cidr, Hook, PortRange, RuleProtocol, Verdict};
use host_driver::stack::{AppConfig, Stack, StackConfig};
use host_driver::time::Clock;
use stack_bench::*;

fn parse(yaml: &str) -> Result<StackConfig, String> {
    serde_norway::from_str(yaml).map_err(|e| e.to_string())
}

#[test]
fn full_stack_section_parses() {
    let cfg = parse(
        "address: 192.168.1.10/24\n\
         gateway: 192.168.1.1\n\
         mtu: 9000\n\
         routes: [{dst: 10.0.0.0/8, via: 192.168.1.2}, {dst: 172.16.0.0/12}]\n\
         neighbours: [{ip: 192.168.1.1, mac: '02:00:00:00:00:fe'}]\n\
         neigh: {unres_qlen_bytes: 5000}\n\
         ip_forward: true\n\
         ip_local_port_range: [40000, 40100]\n\
         netfilter: [{hook: prerouting, protocol: udp, src: 10.0.0.0/8, dport: 53, action: accept}]\n\
         taps: [{name: dump, snaplen: 128}]\n",
    )
    .unwrap();
    cfg.validate().unwrap();
    assert_eq!(
        cfg.address,
        Cidr {
            addr: "192.168.1.10".parse().unwrap(),
            prefix_len: 24
        }
    );
    assert_eq!(
        cfg.neigh.retrans_time_ms, 1000,
        "unset fields keep defaults"
    );
    let r = &cfg.netfilter[0];
    assert_eq!(
        (r.hook, r.protocol, r.dport, r.action),
        (
            Hook::Prerouting,
            RuleProtocol::Udp,
            Some(PortRange { lo: 53, hi: 53 }),
            Verdict::Accept
        )
    );
    assert_eq!(cfg.taps[0].ring_frames, 4096);
}

#[test]
fn unknown_keys_and_bad_addresses_are_errors() {
    let e = parse("adress: 10.0.0.1/24\n").unwrap_err();
    assert!(e.contains("unknown field `adress`"), "{e}");
    let e = parse("address: 10.0.0.300/24\n").unwrap_err();
    assert!(e.contains("`10.0.0.300/24` is not an IPv4 prefix"), "{e}");
    let e = parse("neighbours: [{ip: 10.0.0.2, mac: '02:00'}]\n").unwrap_err();
    assert!(e.contains("is not a MAC address"), "{e}");
    let e =
        parse("netfilter: [{hook: input, dport: 9-1, protocol: udp, action: drop}]\n").unwrap_err();
    assert!(e.contains("not a port or port range"), "{e}");
    let e = serde_norway::from_str::<Vec<AppConfig>>("- {kind: udp_sink, port: 1, colour: red}\n")
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = serde_norway::from_str::<Vec<AppConfig>>("- {kind: tcp_sink, port: 1}\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `port`"), "{e}");
    let e = serde_norway::from_str::<Vec<AppConfig>>("- {kind: sctp_sink, port: 1}\n").unwrap_err();
    assert!(e.to_string().contains("unknown variant `sctp_sink`"), "{e}");
}

#[test]
fn semantic_errors_name_the_field() {
    let new = |stack: &str, apps: &str| {
        let cfg: StackConfig = parse(stack).unwrap();
        let apps: Vec<AppConfig> = serde_norway::from_str(apps).unwrap();
        Stack::new(&cfg, HOST_MAC, &apps, Clock::default(), 1)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert!(new("mtu: 20\n", "[]").unwrap_err().contains("`mtu`"));
    assert!(new("gateway: 10.9.9.9\n", "[]")
        .unwrap_err()
        .contains("`gateway`: 10.9.9.9 is not on-link"));
    assert!(
        new("netfilter: [{hook: input, dport: 5, action: drop}]\n", "[]")
            .unwrap_err()
            .contains("netfilter[0]")
    );
    let e = new(
        "",
        "- {kind: udp_sink, port: 53}\n- {kind: udp_echo, port: 53}\n",
    )
    .unwrap_err();
    assert!(
        e.contains("apps[1].port") && e.contains("EADDRINUSE"),
        "{e}"
    );
    let e = new(
        "",
        "- {kind: udp_send, dst: 10.0.0.2, port: 5, size: 70000, count: 1}\n",
    )
    .unwrap_err();
    assert!(e.contains("apps[0].size"), "{e}");
}

#[test]
fn polling_reader_reads_on_its_interval_without_wakeups() {
    let mut b = Bench::new(
        "",
        "- {kind: udp_sink, port: 9000, read_interval_ns: 100000, read_batch: 64}\n",
    );
    b.run_apps();
    let first = b.rx(udp(1, 9000, 10));
    let second = b.rx(udp(2, 9000, 10));
    assert_eq!(
        b.stack.next_app_wake(),
        Some(b.clock.ns_to_cycles(100_000) + b.clock.ns_to_cycles(b.costs.app_read_ns))
    );
    b.run_for(150_000);
    let app = &b.counters().apps[0];
    assert_eq!((app.received, app.wakeups, app.syscalls), (2, 0, 2));
    assert!(
        b.trace
            .stamp_of(first, host_driver::accounting::Stage::AppRead)
            .unwrap()
            >= b.clock.ns_to_cycles(100_000)
    );
    assert!(b.outcome(second).is_some());
}
