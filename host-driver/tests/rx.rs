//! Receive path: ISR, NAPI polling and budgets, ring refill, interrupt-per-packet mode, DMA checks and
//! the timing the cost table implies.

mod support;

use host_driver::accounting::Stage;
use host_driver::config::{HostConfig, NapiMode, Sysctl};
use host_driver::costs::Costs;
use host_driver::desc::RxDesc;
use host_driver::dma::{DmaDir, DmaFault, HostMemory};
use host_driver::driver::isr::IMS_ENABLE_MASK;
use host_driver::platform::Platform;
use host_driver::regs::*;
use host_driver::time::Clock;
use rstest::rstest;
use support::{assert_conserved, burst, with_sink, Mmio, Sim, PCIE_CYCLES, RESPONSE_CYCLES};

fn sim(cfg: HostConfig) -> Sim {
    let mut sim = Sim::new(with_sink(cfg));
    sim.nic.log.clear();
    sim
}

fn writes_to(sim: &Sim, reg: u32) -> Vec<u32> {
    sim.nic
        .log
        .iter()
        .filter_map(|m| match *m {
            Mmio::Write { off, val, .. } if off == reg => Some(val),
            _ => None,
        })
        .collect()
}

#[test]
/// The bus sequence is a contract test (tests/contract), run here and on the RTL; this pins the timing.
fn isr_stamps_follow_the_irq_on_an_idle_cpu() {
    let mut sim = sim(HostConfig::default());
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 1);
    sim.run_until(t + 1_000_000);

    let stats = &sim.host.report().driver;
    assert_eq!((stats.interrupts, stats.polls, stats.rx_packets), (1, 1, 1));
    assert_eq!(sim.nic.ims(), IMS_ENABLE_MASK);
    assert_conserved(&sim, &ids);

    let tr = sim.host.trace();
    let at = |s| {
        tr.stamp_of(ids[0], s)
            .unwrap_or_else(|| panic!("no {s} stamp"))
    };
    assert_eq!(
        at(Stage::Irq),
        t + Clock::default().ns_to_cycles(Costs::default().msi_delivery_ns),
        "an idle CPU takes the interrupt once its MSI is delivered"
    );
    let order = [
        Stage::Irq,
        Stage::Isr,
        Stage::NapiPoll,
        Stage::GroReceive,
        Stage::NetifReceive,
    ];
    assert!(
        order.windows(2).all(|w| at(w[0]) < at(w[1])),
        "stages out of order"
    );
}

#[test]
fn isr_timing_is_the_sum_of_its_costs_and_mmio_round_trips() {
    let mut sim = sim(HostConfig::default());
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 1);
    sim.run_until(t + 1_000_000);

    let c = Costs::default();
    let clk = Clock::default();
    let rtt = 2 * PCIE_CYCLES + RESPONSE_CYCLES;
    // MSI delivery, irq entry, ICR read, handler body, IMC write, STATUS flush read.
    let isr = clk.ns_to_cycles(c.msi_delivery_ns)
        + clk.ns_to_cycles(c.irq_entry_ns)
        + rtt
        + clk.ns_to_cycles(c.isr_ns)
        + clk.ns_to_cycles(c.mmio_write_ns)
        + rtt;
    let tr = sim.host.trace();
    assert_eq!(tr.stamp_of(ids[0], Stage::Isr), Some(t + isr));
    let report = sim.host.report();
    assert_eq!(report.cpus[0].stats.hardirqs, 1);
    assert_eq!(report.cpus[0].stats.softirq_runs, 1);
}

#[test]
fn spurious_interrupt_reads_zero_and_changes_nothing() {
    let mut sim = sim(HostConfig::default());
    let entry = sim
        .host
        .service(&mut sim.nic, true)
        .expect("the MSI is on its way");
    assert!(sim.nic.log.is_empty(), "nothing before the MSI lands");
    // The MSI was sent: the handler runs even though the line is low by the time it lands.
    sim.nic.now = entry;
    sim.host.service(&mut sim.nic, false);
    assert_eq!(sim.host.report().driver.spurious_interrupts, 1);
    assert_eq!(sim.nic.log.len(), 1, "only the ICR read: {:?}", sim.nic.log);
    assert_eq!(sim.nic.ims(), IMS_ENABLE_MASK);
}

/// `napi_poll` / `net_rx_action` (net/core/dev.c, since 3.19): a NAPI that used its whole weight goes on
/// the repoll list and is polled in the next round, so each `net_rx_action` polls the one device NAPI
/// once; `__do_softirq` restarts for the next round, and no round spends the 300-packet budget.
#[test]
fn net_rx_action_repolls_a_full_napi_in_the_next_round() {
    let mut sim = sim(HostConfig::default());
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 200);
    sim.run_until(t + 10_000_000);
    let r = sim.host.report();
    assert_eq!(r.driver.rx_packets, 200);
    assert_eq!(r.driver.polls, 4);
    assert_eq!(r.driver.packets_per_poll[64], 3);
    assert_eq!(r.driver.packets_per_poll[8], 1);
    assert_eq!(
        r.driver.interrupts, 1,
        "NAPI: one interrupt for the whole burst"
    );
    assert_eq!(
        r.cpus[0].stats.softirq_runs, 4,
        "one net_rx_action per poll"
    );
    assert_eq!(
        r.cpus[0].stats.ksoftirqd_runs, 0,
        "4 rounds < MAX_SOFTIRQ_RESTART"
    );
    assert_eq!(r.cpus[0].softnet_stat.time_squeeze, 0);
    assert_eq!(r.cpus[0].softnet_stat.processed, 200);
    assert_conserved(&sim, &ids);
}

/// `net_rx_action`: squeezes come from the packet budget (below the weight, so each full poll spends it)
/// or from simulated time spent, never from the host's clock.
#[rstest]
#[case::packet_budget(Sysctl { netdev_budget: 32, ..Sysctl::default() }, 100, 3)]
#[case::time_budget(Sysctl { netdev_budget_usecs: 20, ..Sysctl::default() }, 1000, 3)]
fn exhausted_budget_counts_time_squeeze(
    #[case] sysctl: Sysctl,
    #[case] per_packet_ns: u64,
    #[case] squeezes: u64,
) {
    let cfg = HostConfig {
        sysctl,
        costs: Costs {
            driver_rx_per_packet_ns: per_packet_ns,
            ..Costs::default()
        },
        ..HostConfig::default()
    };
    let mut sim = sim(cfg);
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 200);
    sim.run_until(t + 100_000_000);
    let r = sim.host.report();
    assert_eq!(r.cpus[0].softnet_stat.time_squeeze, squeezes);
    assert_eq!(r.cpus[0].stats.softirq_runs, squeezes + 1);
    assert_eq!(
        r.driver.polls, 4,
        "squeezing does not change the polls, only when they run"
    );
    assert_eq!(r.driver.rx_packets, 200);
    assert_conserved(&sim, &ids);
}

/// `__do_softirq` (kernel/softirq.c): after `MAX_SOFTIRQ_RESTART` rounds with work still pending it wakes
/// ksoftirqd, which finishes the burst; no `net_rx_action` ran out of budget, so `time_squeeze` stays 0.
#[test]
fn do_softirq_hands_a_1000_frame_burst_to_ksoftirqd_without_time_squeeze() {
    let mut sim = sim(HostConfig {
        rx_ring: 1024,
        ..HostConfig::default()
    });
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 1000);
    sim.run_until(t + 100_000_000);
    let r = sim.host.report();
    assert_eq!(r.driver.rx_packets, 1000);
    assert_eq!(r.cpus[0].softnet_stat.time_squeeze, 0);
    assert_eq!(r.driver.packets_per_poll[64], 15);
    assert_eq!(r.cpus[0].stats.softirq_runs, 16);
    assert!(
        r.cpus[0].stats.ksoftirqd_runs >= 1,
        "rounds 11.. run in ksoftirqd"
    );
    let irq_rounds = 10;
    let ksoftirqd_polls = sim.host.poll_series().len() - irq_rounds;
    assert_eq!(ksoftirqd_polls, 6);
    assert_conserved(&sim, &ids);
}

/// A frame written back while the NAPI round of an earlier interrupt is still going (interrupts masked,
/// softirq squeezed and resumed) is harvested by that round but was not announced by its interrupt.
#[test]
fn only_frames_written_back_before_the_interrupt_carry_its_stamps() {
    let cfg = HostConfig {
        sysctl: Sysctl {
            netdev_budget_usecs: 20,
            ..Sysctl::default()
        },
        costs: Costs {
            driver_rx_per_packet_ns: 1000,
            ..Costs::default()
        },
        ..HostConfig::default()
    };
    let mut sim = sim(cfg);
    let t = sim.nic.now + 10_000;
    let early = burst(&mut sim, t, 200);
    // 200 frames at 1 µs each keep the round busy for 200 µs; this one comes 100 µs in.
    let late_at = t + Clock::default().ns_to_cycles(100_000);
    let late = sim.arrive(
        late_at,
        support::udp_to_host(sim.host.config().mac, 1, 9000, 64),
    );
    sim.run_until(t + 100_000_000);
    let all: Vec<_> = early.iter().copied().chain([late]).collect();
    assert_conserved(&sim, &all);

    assert!(sim.host.report().cpus[0].softnet_stat.time_squeeze > 0);
    let tr = sim.host.trace();
    // The first round harvests the late frame; its cause, latched in ICR while masked, raises a second
    // interrupt once the round re-enables them, and that one finds nothing.
    let [irq, second] = sim.host.irq_cycles() else {
        panic!("two interrupts expected: {:?}", sim.host.irq_cycles());
    };
    let (irq, second) = (*irq, *second);
    assert!(tr.stamp_of(late, Stage::NapiPoll) < Some(second));
    assert_eq!(sim.host.poll_series().last().map(|p| p.1), Some(0));
    for id in &early {
        assert_eq!(tr.stamp_of(*id, Stage::Irq), Some(irq));
        assert!(tr.stamp_of(*id, Stage::Isr).is_some());
    }
    let late_wb = sim
        .nic
        .write_back_of(late)
        .expect("late frame written back");
    assert!(late_wb > irq);
    assert_eq!(tr.stamp_of(late, Stage::Irq), None);
    assert_eq!(tr.stamp_of(late, Stage::Isr), None);
    assert!(tr.stamp_of(late, Stage::NapiPoll) > Some(late_wb));
    for id in &all {
        if let Some(irq) = tr.stamp_of(*id, Stage::Irq) {
            assert!(sim.nic.write_back_of(*id) <= Some(irq), "frame {id}");
        }
    }
}

#[test]
fn refill_writes_rdt_once_per_batch_and_wraps_the_ring() {
    let mut sim = sim(HostConfig {
        rx_ring: 64,
        rx_refill_batch: 16,
        copybreak: 0,
        ..HostConfig::default()
    });
    let in_use = sim.nic.memory().bytes_in_use();
    let t = sim.nic.now + 10_000;
    let mut ids = burst(&mut sim, t, 40);
    sim.run_until(t + 10_000_000);
    // 63 posted at probe; 40 harvested: refills of 16, 16, then the remaining 8 at the end of the poll.
    assert_eq!(writes_to(&sim, RDT), vec![15, 31, 39]);

    for round in 1..=5 {
        let at = sim.nic.now + 100_000 * round;
        ids.extend(burst(&mut sim, at, 40));
    }
    sim.run_until(sim.nic.now + 1_000_000_000);
    let r = sim.host.report();
    assert_eq!(r.driver.rx_packets, 240, "six bursts wrap the 64-slot ring");
    assert_eq!(
        *writes_to(&sim, RDT).last().expect("RDT writes"),
        (63 + 240) % 64
    );
    assert!(r.driver_faults.is_empty(), "{:?}", r.driver_faults);
    assert_conserved(&sim, &ids);
    let mem = sim.nic.memory();
    assert_eq!(
        mem.bytes_in_use(),
        in_use,
        "every harvested buffer was freed and replaced"
    );
    assert_eq!(mem.mapping_count(), 63 + 2);
}

#[test]
fn frames_wait_in_the_fifo_when_the_ring_is_full() {
    let mut sim = sim(HostConfig {
        rx_ring: 16,
        rx_refill_batch: 4,
        ..HostConfig::default()
    });
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 50);
    sim.run_until(t + 100_000_000);
    assert_eq!(sim.nic.fifo_len(), 0);
    assert_eq!(sim.host.report().driver.rx_packets, 50);
    assert_conserved(&sim, &ids);
}

#[test]
fn per_packet_mode_takes_one_interrupt_per_frame() {
    let mut sim = sim(HostConfig {
        napi_mode: NapiMode::PerPacket,
        ..HostConfig::default()
    });
    let t = sim.nic.now + 10_000;
    let ids = burst(&mut sim, t, 10);
    sim.run_until(t + 100_000_000);
    let r = sim.host.report();
    assert_eq!(r.driver.interrupts, 10);
    assert_eq!(r.cpus[0].stats.hardirqs, 10);
    assert_eq!(
        r.driver.irq_rearms, 9,
        "ICS re-raised RXT0 for each frame already waiting"
    );
    assert_eq!(r.driver.packets_per_poll[1], 10);
    assert_eq!(writes_to(&sim, ICS), vec![ICR_RXT0; 9]);
    assert_conserved(&sim, &ids);
}

#[test]
fn device_access_outside_a_mapping_is_a_dma_fault() {
    let mut sim = sim(HostConfig {
        rx_ring: 32,
        ..HostConfig::default()
    });
    let base = u64::from(sim.nic.reg(RDBAL)) | (u64::from(sim.nic.reg(RDBAH)) << 32);
    let mem = sim.nic.memory();
    let slot0: RxDesc = mem.read_obj(base).expect("descriptor");
    let buf = slot0.addr.get();
    // Read from an RX buffer: mapped FROM_DEVICE only.
    let mut b = [0u8; 8];
    assert_eq!(
        mem.device_read(buf, &mut b),
        Err(DmaFault {
            addr: buf,
            len: 8,
            dir: DmaDir::ToDevice
        })
    );
    // A burst running off the end of a buffer into its neighbour crosses two mappings.
    assert_eq!(
        mem.device_write(buf + 2040, &[0; 16]),
        Err(DmaFault {
            addr: buf + 2040,
            len: 16,
            dir: DmaDir::FromDevice
        })
    );
    // A corrupted descriptor pointing at memory nobody mapped: the device's write faults.
    let wild = HostMemory::DEFAULT_BASE + (12 << 20);
    mem.write_obj(base, &RxDesc::for_buffer(wild))
        .expect("corrupt descriptor");
    let t = sim.nic.now + 10_000;
    let frame_len = {
        let ids = burst(&mut sim, t, 1);
        sim.run_until(t + 1_000_000);
        assert!(
            sim.host.trace().outcome_of(ids[0]).is_none(),
            "the frame never reached the host"
        );
        support::udp_to_host(sim.host.config().mac, 10_000, support::SINK_PORT, 64).len()
    };
    assert_eq!(
        sim.nic.faults,
        vec![DmaFault {
            addr: wild,
            len: frame_len,
            dir: DmaDir::FromDevice
        }]
    );
}

#[test]
fn identical_runs_give_identical_reports() {
    let run = || {
        let mut sim = sim(HostConfig {
            rx_ring: 64,
            ..HostConfig::default()
        });
        let t = sim.nic.now + 1000;
        for k in 0..20u64 {
            burst(&mut sim, t + k * 7_919, (k % 7 + 1) as u16);
        }
        sim.run_until(t + 100_000_000);
        format!("{:?}", sim.host.report())
    };
    assert_eq!(run(), run());
}

/// A hard IRQ preempts an application step on its CPU (`common_interrupt` runs whatever the CPU is
/// doing): the second frame's interrupt is taken `msi_delivery_ns` after its write-back, in the middle
/// of the reader's 200 µs step, not after it; the step finishes late by the interrupt's length.
#[test]
fn hard_irq_preempts_an_application_step() {
    let cfg = HostConfig {
        costs: Costs {
            app_read_ns: 200_000,
            ..Costs::default()
        },
        ..HostConfig::default()
    };
    let mut sim = sim(cfg);
    let clk = Clock::default();
    let t = sim.nic.now + 10_000;
    let first = burst(&mut sim, t, 1);
    let late_at = t + clk.ns_to_cycles(50_000);
    let late = sim.arrive(
        late_at,
        support::udp_to_host(sim.host.config().mac, 1, 9000, 64),
    );
    sim.run_until(t + 100_000_000);
    assert_conserved(&sim, &[first[0], late]);
    let tr = sim.host.trace();
    let wb = sim.nic.write_back_of(late).expect("written back");
    let irq = tr
        .stamp_of(late, Stage::Irq)
        .expect("announced by its own interrupt");
    assert_eq!(irq, wb + clk.ns_to_cycles(Costs::default().msi_delivery_ns));
    let spans = sim.host.cpu_spans();
    let step = spans
        .iter()
        .find(|s| s.name == "udp_sink" && s.start <= wb && wb < s.end)
        .expect("a reader step spans the write-back");
    assert!(irq < step.end, "taken inside the step, not after it");
    assert!(tr.stamp_of(late, Stage::AppRead) > Some(step.end));
    assert_eq!(sim.host.report().driver.interrupts, 2);
}

/// `e1000_copybreak` (copybreak 256): each 64-byte frame is copied into a small skb (one counted copy,
/// a small truesize) and its buffer stays posted, so refills allocate nothing; only the slot probe left
/// empty gets a buffer, when the ring wraps onto it. With copybreak 0 every frame takes its buffer.
#[test]
fn e1000_copybreak_copies_small_frames_and_reuses_their_buffers() {
    let run = |copybreak: u32| {
        let mut sim = sim(HostConfig {
            rx_ring: 64,
            copybreak,
            ..HostConfig::default()
        });
        let in_use = sim.nic.memory().bytes_in_use();
        let t = sim.nic.now + 10_000;
        let ids = burst(&mut sim, t, 100);
        sim.run_until(t + 10_000_000);
        assert_conserved(&sim, &ids);
        let r = sim.host.report();
        let grown = sim.nic.memory().bytes_in_use() - in_use;
        let app = &r.stack.apps[0];
        (
            r.driver.rx_copybreak,
            grown,
            app.received_copies,
            app.received,
        )
    };
    assert_eq!(
        run(256),
        (100, RX_BUFFER_SIZE, 200, 100),
        "copybreak copy + copy to user"
    );
    assert_eq!(run(0), (0, 0, 100, 100), "only the copy to user");
}
