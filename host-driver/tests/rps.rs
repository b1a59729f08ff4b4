//! RPS: steering to another CPU's backlog, IPIs, and drops above `netdev_max_backlog`.

mod support;

use host_driver::accounting::{DropReason, Outcome};
use host_driver::config::{HostConfig, Sysctl};
use support::{assert_conserved, burst, with_sink, Sim};

#[test]
fn backlog_over_max_drops_and_counts_on_the_target_cpu() {
    let cfg = with_sink(HostConfig {
        cpus: 2,
        rps_cpus: vec![1],
        sysctl: Sysctl {
            netdev_max_backlog: 10,
            ..Sysctl::default()
        },
        ..HostConfig::default()
    });
    let mut sim = Sim::new(cfg);
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 64);
    sim.run_until(t + 100_000_000);

    let r = sim.host.report();
    let (cpu0, cpu1) = (r.cpus[0].softnet_stat, r.cpus[1].softnet_stat);
    // All 64 are steered during one poll on CPU 0; the kernel accepts while qlen <= max_backlog: 11.
    assert_eq!(cpu1.dropped, 53);
    assert_eq!(cpu1.processed, 11);
    assert_eq!(
        cpu1.received_rps, 1,
        "one IPI at the end of CPU 0's softirq run"
    );
    assert_eq!(cpu0.processed, 0);
    assert_eq!(r.cpus[1].stats.softirq_runs, 1);
    let dropped = ids
        .iter()
        .filter(|id| {
            sim.host.trace().outcome_of(**id) == Some(Outcome::Dropped(DropReason::CpuBacklog))
        })
        .count();
    assert_eq!(dropped, 53);
    assert_conserved(&sim, &ids);
}

#[test]
fn flows_spread_over_the_rps_cpus_and_backlog_runs_after_the_ipi() {
    let cfg = with_sink(HostConfig {
        cpus: 3,
        rps_cpus: vec![1, 2],
        ..HostConfig::default()
    });
    let mut sim = Sim::new(cfg);
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 64);
    sim.run_until(t + 100_000_000);
    let r = sim.host.report();
    let (p1, p2) = (
        r.cpus[1].softnet_stat.processed,
        r.cpus[2].softnet_stat.processed,
    );
    assert_eq!(p1 + p2, 64);
    assert!(
        p1 > 10 && p2 > 10,
        "64 flows should land on both CPUs: {p1} / {p2}"
    );
    assert_eq!(r.cpus[0].softnet_stat.processed, 0);
    let trace = sim.host.trace();
    let ipi = host_driver::time::Clock::default()
        .ns_to_cycles(host_driver::costs::Costs::default().ipi_ns);
    for id in &ids {
        let gro = trace
            .stamp_of(*id, host_driver::accounting::Stage::GroReceive)
            .expect("gro");
        let (_, ended) = trace.frame(*id).and_then(|f| f.outcome).expect("outcome");
        assert!(
            ended >= gro + ipi,
            "frame {id} processed on the target before the IPI could land"
        );
    }
    assert_conserved(&sim, &ids);
}
