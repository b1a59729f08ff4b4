//! `peer.tcp` in a scenario: what parses, and where a bad value is reported.

use std::path::Path;

use nicsim_scenario::peer::{TcpApp, TcpBulk, TcpConnect, TcpRrClient, TcpRrServer};
use nicsim_scenario::scenario::Scenario;

fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse(text, Path::new("t.yaml")).map_err(|e| e.to_string())
}

#[test]
fn every_endpoint_kind_parses() {
    let s = parse(
        "name: x
peer:
  tcp:
    - {listen: 5001, app: sink}
    - {listen: 7, app: echo, rx_buffer: 4096, tx_buffer: 8192, nagle: false, ack_delay_ns: 0}
    - {listen: 12865, app: {rr_server: {request: 1, response: 2}}}
    - {connect: {port: 5201, start_ns: 2000}, app: {bulk: {bytes: 1000000}}}
    - connect: {port: 5202, src_port: 40000}
      app: {bulk: {duration_ns: 500000}}
    - {connect: {port: 12866}, app: {rr_client: {request: 64, response: 128, count: 10}}}
",
    )
    .unwrap();
    let tcp = &s.peer.unwrap().tcp;
    assert_eq!(tcp.len(), 6);
    assert_eq!((tcp[0].listen, tcp[0].app), (Some(5001), TcpApp::Sink));
    assert_eq!((tcp[0].rx_buffer, tcp[0].tx_buffer), (65_536, 65_536));
    assert_eq!((tcp[0].nagle, tcp[0].ack_delay_ns), (true, 10_000_000));
    assert_eq!((tcp[1].nagle, tcp[1].ack_delay_ns), (false, 0));
    assert_eq!(
        (tcp[1].app, tcp[1].rx_buffer, tcp[1].tx_buffer),
        (TcpApp::Echo, 4096, 8192)
    );
    assert_eq!(
        tcp[2].app,
        TcpApp::RrServer(TcpRrServer {
            request: 1,
            response: 2
        })
    );
    assert_eq!(
        tcp[3].connect,
        Some(TcpConnect {
            port: 5201,
            start_ns: 2000,
            src_port: None
        })
    );
    assert_eq!(
        tcp[3].app,
        TcpApp::Bulk(TcpBulk {
            bytes: Some(1_000_000),
            duration_ns: None
        })
    );
    assert_eq!(tcp[3].local_port(3), 49_155, "ephemeral: 49152 + index");
    assert_eq!(tcp[4].local_port(4), 40_000);
    assert_eq!(
        tcp[5].app,
        TcpApp::RrClient(TcpRrClient {
            request: 64,
            response: 128,
            count: 10
        })
    );
}

#[test]
fn bad_values_are_reported_at_their_key() {
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 0, app: sink}\n").unwrap_err();
    assert!(
        e.starts_with("t.yaml:4:16: peer.tcp[0].listen: port 0 cannot be bound"),
        "{e}"
    );
    let e = parse(
        "name: x\npeer:\n  tcp:\n    - {listen: 9, app: sink}\n    - {listen: 9, app: echo}\n",
    )
    .unwrap_err();
    assert!(
        e.starts_with("t.yaml:5:16: peer.tcp[1].listen: local port 9 is bound by another endpoint"),
        "{e}"
    );
    let e = parse(
        "name: x\npeer:\n  tcp:\n    - connect: {port: 80}\n      app:\n        bulk: {bytes: 0}\n",
    )
    .unwrap_err();
    assert!(
        e.starts_with("t.yaml:6:23: peer.tcp[0].app.bulk.bytes: 0 is outside 1..="),
        "{e}"
    );
    let e = parse("name: x\npeer:\n  tcp:\n    - {connect: {port: 80}, app: {bulk: {}}}\n")
        .unwrap_err();
    assert!(
        e.contains("peer.tcp[0].app.bulk: needs exactly one of `bytes` and `duration_ns`"),
        "{e}"
    );
    let e =
        parse("name: x\npeer:\n  tcp:\n    - {listen: 5, app: sink, rx_buffer: 0}\n").unwrap_err();
    assert!(
        e.starts_with("t.yaml:4:41: peer.tcp[0].rx_buffer: 0 is outside"),
        "{e}"
    );
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 5, connect: {port: 6}, app: sink}\n")
        .unwrap_err();
    assert!(e.contains("exactly one of `listen` and `connect`"), "{e}");
    let e = parse(
        "name: x\npeer:\n  tcp:\n    - {connect: {port: 6}, app: {rr_client: {request: 1, response: 1, count: 0}}}\n",
    )
    .unwrap_err();
    assert!(
        e.contains("peer.tcp[0].app.rr_client.count: must be positive"),
        "{e}"
    );
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 5, app: sink, ack_delay_ns: 1500}\n")
        .unwrap_err();
    assert!(
        e.starts_with("t.yaml:4:44: peer.tcp[0].ack_delay_ns: 1500 is not whole microseconds"),
        "{e}"
    );
    // An ephemeral port taken by an explicit one.
    let e = parse(
        "name: x\npeer:\n  tcp:\n    - {connect: {port: 6}, app: sink}\n    - {connect: {port: 7, src_port: 49152}, app: sink}\n",
    )
    .unwrap_err();
    assert!(
        e.contains("peer.tcp[1].connect.src_port: local port 49152 is bound by another endpoint"),
        "{e}"
    );
}

#[test]
fn unknown_keys_and_apps_are_rejected() {
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 5, app: sink, mss: 536}\n").unwrap_err();
    assert!(e.contains("unknown field `mss`"), "{e}");
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 5, app: discard}\n").unwrap_err();
    assert!(e.contains("unknown variant `discard`"), "{e}");
    let e = parse("name: x\npeer:\n  tcp:\n    - {listen: 5, app: {bulk: {bytes: 1, size: 2}}}\n")
        .unwrap_err();
    assert!(e.contains("unknown field `size`"), "{e}");
}
