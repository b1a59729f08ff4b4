//! `bench <frames>`: simulated cycles per second of the co-simulation — the Verilated NIC on the World
//! timeline with the real host (driver, NAPI, stack, a UDP sink on port 9000) — on the traffic of
//! `sim/tb/cpp_harness.cpp`: `<frames>` 64-byte UDP frames at 10 GbE line rate, 02:00:00:00:00:02 →
//! 02:00:00:00:00:01, 10.0.0.2:5000 → 10.0.0.1:9000, payload zeros, DMA latency 128 cycles.
//!
//! Prints one line in the harness's format, for `tools/bench.sh`:
//! `cycles=<n> frames_delivered=<n> seconds=<process CPU time> cycles_per_sec=<x>`.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use host_driver::accounting::Stage;
use host_driver::config::HostConfig;
use host_driver::host::Host;
use host_driver::stack::config::UdpSinkConfig;
use host_driver::stack::AppConfig;
use host_driver::wire::build::{udp_frame, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::MacAddr;
use nicsim_scenario::scenario::BusConfig;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::{World, WorldConfig};

/// The harness's DMA latency (128 cycles of 6.4 ns).
const DMA_LATENCY_NS: u64 = 819;
/// Cycles simulated between two looks at whether the run is over.
const CHUNK: u64 = 10_000;

fn main() -> ExitCode {
    let frames: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("usage: bench <frames>   (frames >= 1)");
            return ExitCode::from(2);
        }
    };
    match run(frames) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(frames: u64) -> Result<(), Box<dyn std::error::Error>> {
    let host_cfg = HostConfig {
        apps: vec![AppConfig::UdpSink(UdpSinkConfig {
            port: 9000,
            bind: None,
            rcvbuf: None,
            read_batch: 64,
            per_read_ns: 0,
            read_interval_ns: None,
            reuseaddr: false,
        })],
        ..HostConfig::default()
    };
    let mut world = World::new(WorldConfig {
        bus: BusConfig {
            dma_read_latency_ns: DMA_LATENCY_NS,
            dma_write_latency_ns: DMA_LATENCY_NS,
            ..BusConfig::default()
        },
        pcie_one_way_ns: host_cfg.costs.pcie_one_way_ns,
        ..WorldConfig::default()
    })?;
    let mut host = Host::new(host_cfg)?;
    host.probe(&mut world)?;

    let frame = udp_frame(&UdpFrameSpec {
        src_mac: MacAddr([0x02, 0, 0, 0, 0, 0x02]),
        dst_mac: MacAddr([0x02, 0, 0, 0, 0, 0x01]),
        src_ip: Ipv4Addr::new(10, 0, 0, 2),
        dst_ip: Ipv4Addr::new(10, 0, 0, 1),
        src_port: 5000,
        dst_port: 9000,
        // 14 + 20 + 8 + 18 = 60 bytes, 64 on the wire with the FCS.
        payload: Payload::Bytes(vec![0; 18]),
        ttl: 64,
        ip_id: 0,
    })?;
    let start = world.cycle();
    for _ in 0..frames {
        world.inject(frame.clone(), start, WireFault::None);
    }

    let t0 = cpu_seconds();
    while !(world.rx_queued() == 0 && world.quiescent()) {
        let until = world.cycle() + CHUNK;
        world.run_host(&mut host, until);
    }
    let seconds = cpu_seconds() - t0;
    let cycles = world.cycle() - start;
    let delivered = world
        .nic_records()
        .values()
        .filter(|r| r.stamp_of(Stage::DmaWriteBack).is_some())
        .count();
    if let Some(f) = world.faults().first() {
        return Err(format!("bus fault: {f}").into());
    }
    println!(
        "cycles={cycles} frames_delivered={delivered} seconds={seconds:.3} cycles_per_sec={:.0}",
        cycles as f64 / seconds
    );
    Ok(())
}

/// Process CPU time, like the harness's `std::clock()`: insensitive to other load on the machine.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is always supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}
