//! CPU activity spans and the IRQ / NAPI-poll series the host records for the trace and plots.

mod support;

use host_driver::accounting::{Outcome, Stage};
use host_driver::activity::CpuSpan;
use host_driver::config::HostConfig;
use host_driver::time::Cycle;
use support::{assert_conserved, burst, with_sink, Sim};

fn named<'a>(spans: &'a [CpuSpan], name: &str) -> Vec<&'a CpuSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn contains(outer: &CpuSpan, inner: &CpuSpan) -> bool {
    outer.cpu == inner.cpu && outer.start <= inner.start && inner.end <= outer.end
}

/// Some span named one of `names` on the same CPU contains `inner`.
fn inside(spans: &[CpuSpan], inner: &CpuSpan, names: &[&str]) -> bool {
    spans
        .iter()
        .any(|o| names.contains(&o.name) && o != inner && contains(o, inner))
}

/// A burst steered by RPS from CPU 0 (interrupt, NAPI) to CPU 1 (backlog), read by a sink on CPU 1.
fn rps_run() -> (Sim, Vec<u64>) {
    let cfg = with_sink(HostConfig {
        cpus: 2,
        rps_cpus: vec![1],
        app_cpu: 1,
        ..HostConfig::default()
    });
    let mut sim = Sim::new(cfg);
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 100);
    sim.run_until(t + 100_000_000);
    assert_conserved(&sim, &ids);
    (sim, ids)
}

#[test]
fn spans_nest_and_the_outermost_cover_each_cpus_busy_time() {
    let (sim, _) = rps_run();
    let spans = sim.host.cpu_spans();
    let report = sim.host.report();
    for (cpu, line) in report.cpus.iter().enumerate() {
        let mine: Vec<&CpuSpan> = spans.iter().filter(|s| s.cpu == cpu).collect();
        for a in &mine {
            assert!(a.end > a.start, "{a:?} took no time");
            for b in &mine {
                let disjoint = a.end <= b.start || b.end <= a.start;
                assert!(
                    disjoint || contains(a, b) || contains(b, a),
                    "{a:?} and {b:?} overlap without nesting"
                );
            }
        }
        let outermost: Cycle = mine
            .iter()
            .filter(|s| !mine.iter().any(|o| o != *s && contains(o, s)))
            .map(|s| s.end - s.start)
            .sum();
        assert_eq!(outermost, line.stats.busy_cycles, "CPU {cpu}");
    }
}

#[test]
fn each_unit_poll_and_frame_has_its_span_where_it_ran() {
    let (sim, ids) = rps_run();
    let spans = sim.host.cpu_spans();
    let r = sim.host.report();

    let on = |name: &str, cpu: usize| named(spans, name).iter().filter(|s| s.cpu == cpu).count();
    assert_eq!(on("e1000_probe", 0), 1);
    assert_eq!(on("e1000_intr", 0) as u64, r.cpus[0].stats.hardirqs);
    assert_eq!(on("e1000_intr", 1), 0);
    for cpu in 0..2 {
        assert_eq!(
            on("net_rx_action", cpu) as u64,
            r.cpus[cpu].stats.softirq_runs
        );
    }
    assert_eq!(on("e1000_clean", 0) as u64, r.driver.polls);
    assert_eq!(on("e1000_clean", 1), 0);
    assert!(on("process_backlog", 1) > 0);
    assert!(on("udp_sink", 1) > 0);

    for s in named(spans, "e1000_clean")
        .into_iter()
        .chain(named(spans, "process_backlog"))
    {
        assert!(
            inside(spans, s, &["net_rx_action"]),
            "{s:?} outside net_rx_action"
        );
    }
    // Each frame went through the core receive path once, on the RPS CPU, inside a backlog poll.
    let per_frame = named(spans, "__netif_receive_skb_core");
    assert_eq!(per_frame.len(), ids.len());
    for id in &ids {
        let s = per_frame
            .iter()
            .find(|s| s.frame == Some(*id))
            .unwrap_or_else(|| panic!("no span for frame {id}"));
        assert_eq!(s.cpu, 1);
        assert!(inside(spans, s, &["process_backlog"]), "{s:?}");
        assert_eq!(
            sim.host.trace().outcome_of(*id),
            Some(Outcome::Delivered { port: 9000 })
        );
    }
}

#[test]
fn irq_and_poll_series_follow_the_interrupts_and_polls() {
    let mut sim = Sim::new(with_sink(HostConfig::default()));
    let t1 = sim.nic.now + 10_000;
    let t2 = t1 + 1_000_000;
    let first = burst(&mut sim, t1, 100);
    let second = burst(&mut sim, t2, 5);
    sim.run_until(t2 + 1_000_000);
    let all: Vec<u64> = first.iter().chain(&second).copied().collect();
    assert_conserved(&sim, &all);

    let spans = sim.host.cpu_spans();
    let intr: Vec<Cycle> = named(spans, "e1000_intr").iter().map(|s| s.start).collect();
    assert_eq!(sim.host.irq_cycles(), intr.as_slice());
    let irq_of = |id: u64| sim.host.trace().stamp_of(id, Stage::Irq);
    assert_eq!(
        sim.host.irq_cycles(),
        &[irq_of(first[0]).unwrap(), irq_of(second[0]).unwrap()],
        "one interrupt per burst, the one its frames were stamped with"
    );

    // The weight splits the first burst over two polls.
    let packets: Vec<u32> = sim.host.poll_series().iter().map(|p| p.1).collect();
    assert_eq!(packets, [64, 36, 5]);
    let poll_starts: Vec<Cycle> = sim.host.poll_series().iter().map(|p| p.0).collect();
    let clean: Vec<Cycle> = named(spans, "e1000_clean")
        .iter()
        .map(|s| s.start)
        .collect();
    assert_eq!(poll_starts, clean);
    assert!(poll_starts[0] > sim.host.irq_cycles()[0]);
    assert!(poll_starts[2] > sim.host.irq_cycles()[1]);
}
