//! Per-CPU `struct softnet_data` and what NAPI hands received skbs to, from net/core/dev.c:
//! `netif_receive_skb` with RPS (`get_rps_cpu`, `enqueue_to_backlog`), the backlog NAPI
//! (`process_backlog`) and `net_rps_send_ipi`. [`crate::softirq`] runs the poll list above this.

use std::collections::VecDeque;

use bitvec::vec::BitVec;
use serde::Serialize;

use crate::accounting::{DropReason, Outcome};
use crate::config::Sysctl;
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::softirq::DoSoftirq;
use crate::stack::Stack;
use crate::time::Cycle;
use crate::wire::{ethernet, ipv4};

/// An entry of a CPU's poll list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NapiRef {
    /// The device NAPI the driver registered (`netif_napi_add`).
    Device,
    /// This CPU's RPS backlog (`process_backlog`).
    Backlog,
}

/// `/proc/net/softnet_stat` columns for one CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SoftnetStat {
    /// Skbs handed to `__netif_receive_skb_core` on this CPU.
    pub processed: u64,
    /// Skbs dropped because this CPU's backlog was over `netdev_max_backlog`.
    pub dropped: u64,
    /// `net_rx_action` runs that spent `netdev_budget` or `netdev_budget_usecs` (`sd->time_squeeze`).
    pub time_squeeze: u64,
    /// RPS IPIs this CPU received.
    pub received_rps: u64,
}

/// `struct softnet_data`: one per CPU.
#[derive(Debug, Default)]
pub struct SoftnetData {
    poll_list: VecDeque<NapiRef>,
    /// `input_pkt_queue`, each skb with the cycle it was enqueued at (it cannot be seen earlier).
    input_pkt_queue: VecDeque<(Cycle, Skb)>,
    /// `NAPI_STATE_SCHED` of the backlog NAPI.
    backlog_scheduled: bool,
    /// NET_RX_SOFTIRQ raised: runnable from this cycle.
    raised_at: Option<Cycle>,
    /// An interrupt (hard IRQ, IPI, hrtimer) returns at this cycle with the softirq pending, so
    /// `irq_exit` → `invoke_softirq` runs `__do_softirq` there and then.
    irq_exit_at: Option<Cycle>,
    /// `wakeup_softirqd`: this CPU's ksoftirqd is runnable and competes with tasks for the CPU.
    ksoftirqd_woken: bool,
    /// The `__do_softirq` between two of its rounds, if one is under way.
    pub softirq_run: Option<DoSoftirq>,
    /// `rps_ipi_list`: CPUs to IPI at the end of this CPU's softirq run.
    rps_ipi: BitVec,
    pub stat: SoftnetStat,
}

impl SoftnetData {
    pub fn new(cpus: usize) -> SoftnetData {
        SoftnetData {
            rps_ipi: BitVec::repeat(false, cpus),
            ..SoftnetData::default()
        }
    }

    /// `____napi_schedule`: add to the poll list and raise NET_RX_SOFTIRQ from `at`.
    pub fn schedule(&mut self, napi: NapiRef, at: Cycle) {
        self.poll_list.push_back(napi);
        self.raise(at);
    }

    /// `raise_softirq(NET_RX_SOFTIRQ)`, effective from `at`.
    pub fn raise(&mut self, at: Cycle) {
        self.raised_at = Some(self.raised_at.map_or(at, |r| r.min(at)));
    }

    /// The cycle from which NET_RX_SOFTIRQ is pending, if it is.
    pub fn raised_at(&self) -> Option<Cycle> {
        self.raised_at
    }

    /// `local_softirq_pending()` at `now`.
    pub fn pending(&self, now: Cycle) -> bool {
        self.raised_at.is_some_and(|r| r <= now)
    }

    /// `irq_exit` of an interrupt that returns at `at`: if NET_RX_SOFTIRQ is pending by then,
    /// `invoke_softirq` runs `__do_softirq` on the way out (kernel/softirq.c; since 6.5 it does so
    /// even when ksoftirqd is awake, the "let ksoftirqd do its job" shortcut being reverted).
    pub fn irq_exit(&mut self, at: Cycle) {
        if self.raised_at.is_some_and(|r| r <= at) {
            self.irq_exit_at = Some(self.irq_exit_at.map_or(at, |e| e.min(at)));
        }
    }

    /// An interrupt landing at `at` raises NET_RX_SOFTIRQ (RPS IPI, backlog wake-up); its
    /// `irq_exit` runs the softirq.
    pub fn raise_irq(&mut self, at: Cycle) {
        self.raise(at);
        self.irq_exit(at);
    }

    /// The cycle an interrupt exit will run `__do_softirq` at, if one is due.
    pub fn irq_exit_at(&self) -> Option<Cycle> {
        self.irq_exit_at
    }

    /// `wakeup_softirqd`: `__do_softirq` ran out of restarts or time with work pending.
    pub fn wakeup_softirqd(&mut self) {
        self.ksoftirqd_woken = true;
    }

    /// `ksoftirqd_should_run`: ksoftirqd is awake and the softirq is pending at `now`.
    pub fn ksoftirqd_should_run(&self, now: Cycle) -> bool {
        self.ksoftirqd_woken && self.pending(now)
    }

    /// ksoftirqd found nothing pending and went back to sleep (`smpboot_thread_fn`).
    pub fn ksoftirqd_sleep(&mut self) {
        self.ksoftirqd_woken = false;
    }

    /// True while ksoftirqd is awake.
    pub fn ksoftirqd_woken(&self) -> bool {
        self.ksoftirqd_woken
    }

    pub fn backlog_len(&self) -> usize {
        self.input_pkt_queue.len()
    }

    /// `__do_softirq`: the pending bit is cleared before the handlers run (`set_softirq_pending(0)`),
    /// and the interrupt exit that asked for this run is served.
    pub fn softirq_entry(&mut self) {
        self.raised_at = None;
        self.irq_exit_at = None;
    }

    /// `list_splice_init(&sd->poll_list, &list)`: `net_rx_action` works on a private list.
    pub fn poll_list_splice_init(&mut self) -> VecDeque<NapiRef> {
        std::mem::take(&mut self.poll_list)
    }

    /// The end of `net_rx_action`: what is left of its private `list`, then NAPIs scheduled meanwhile
    /// (`list_splice_tail_init(&sd->poll_list, &list)`), then the `repoll` list, become the poll list.
    pub fn poll_list_splice_back(&mut self, mut list: VecDeque<NapiRef>, repoll: Vec<NapiRef>) {
        list.append(&mut self.poll_list);
        list.extend(repoll);
        self.poll_list = list;
    }

    pub fn poll_list_is_empty(&self) -> bool {
        self.poll_list.is_empty()
    }

    /// The run ended with its budget or time spent: `sd->time_squeeze++`.
    pub fn time_squeeze(&mut self) {
        self.stat.time_squeeze += 1;
    }
}

/// What received skbs need above the driver: the stack, every CPU's backlog, the RPS map.
pub struct RxPath<'a> {
    pub stack: &'a mut Stack,
    pub softnet: &'a mut [SoftnetData],
    /// `rps_map`: target CPUs; empty = RPS off.
    pub rps_cpus: &'a [usize],
    pub sysctl: &'a Sysctl,
}

/// `netif_receive_skb_internal`: steer by RPS or go straight to `__netif_receive_skb_core`.
pub fn netif_receive_skb(ctx: &mut Ctx, up: &mut RxPath, skb: Skb) {
    match get_rps_cpu(up.rps_cpus, &skb) {
        Some(cpu) => enqueue_to_backlog(ctx, up, cpu, skb),
        None => deliver(ctx, up, skb),
    }
}

/// `__netif_receive_skb_core` on this CPU.
fn deliver(ctx: &mut Ctx, up: &mut RxPath, skb: Skb) {
    up.softnet[ctx.cpu].stat.processed += 1;
    let (start, id) = (ctx.now, skb.id);
    up.stack.netif_receive_skb(ctx, skb);
    ctx.span("__netif_receive_skb_core", start, Some(id));
}

/// `get_rps_cpu`: `reciprocal_scale(flow hash, map length)`; no hash (not IPv4) means no steering, as the
/// kernel does for a zero `skb->hash`.
fn get_rps_cpu(rps_cpus: &[usize], skb: &Skb) -> Option<usize> {
    if rps_cpus.is_empty() || skb.protocol != ethernet::ethertype::IPV4 {
        return None;
    }
    let hash = flow_hash(skb.data())?;
    let i = (u64::from(hash) * rps_cpus.len() as u64) >> 32;
    rps_cpus.get(i as usize).copied()
}

/// The flow dissector's 4-tuple hash of an IPv4 packet (addresses, protocol, and ports when the first
/// fragment carries them). The kernel keys it with a random siphash seed; a fixed mix keeps runs
/// reproducible.
fn flow_hash(packet: &[u8]) -> Option<u32> {
    let ip = ipv4::Ipv4Packet::new_checked(packet).ok()?;
    let mut key = (u64::from(u32::from(ip.src())) << 32) | u64::from(u32::from(ip.dst()));
    key ^= u64::from(ip.protocol()) << 56;
    let has_ports = matches!(ip.protocol(), ipv4::protocol::UDP | ipv4::protocol::TCP);
    if has_ports && ip.frag_offset() == 0 {
        if let Some(p) = ip.payload().get(..4) {
            key ^= u64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])).rotate_left(17);
        }
    }
    // murmur3 fmix64: every input bit affects every output bit.
    key ^= key >> 33;
    key = key.wrapping_mul(0xff51_afd7_ed55_8ccd);
    key ^= key >> 33;
    key = key.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    key ^= key >> 33;
    Some((key as u32).max(1))
}

/// `enqueue_to_backlog`: queue on `cpu`'s `input_pkt_queue` and schedule its backlog NAPI, or drop when
/// the queue already holds more than `netdev_max_backlog` (the kernel tests `qlen <= max_backlog`).
fn enqueue_to_backlog(ctx: &mut Ctx, up: &mut RxPath, cpu: usize, skb: Skb) {
    ctx.charge(ctx.costs.rps_enqueue_ns);
    let sd = &mut up.softnet[cpu];
    if sd.input_pkt_queue.len() > up.sysctl.netdev_max_backlog as usize {
        sd.stat.dropped += 1;
        ctx.end_skb(skb, Outcome::Dropped(DropReason::CpuBacklog));
        return;
    }
    sd.input_pkt_queue.push_back((ctx.now, skb));
    if !sd.backlog_scheduled {
        sd.backlog_scheduled = true;
        if cpu == ctx.cpu {
            sd.schedule(NapiRef::Backlog, ctx.now);
        } else {
            // Remote: on the list now, raised when the IPI lands (`rps_ipi_queued`).
            sd.poll_list.push_back(NapiRef::Backlog);
            up.softnet[ctx.cpu].rps_ipi.set(cpu, true);
        }
    }
}

/// How a backlog poll ended.
pub enum BacklogPoll {
    /// Processed `work` skbs and used the whole quota: poll again.
    More(u32),
    /// Queue empty: the backlog NAPI completed.
    Done(u32),
    /// The next skb is enqueued at a later cycle than this CPU has reached.
    WaitUntil(u32, Cycle),
}

/// `process_backlog`: dequeue up to `dev_weight` skbs into the stack.
pub fn process_backlog(ctx: &mut Ctx, up: &mut RxPath) -> BacklogPoll {
    let quota = up.sysctl.dev_weight;
    let mut work = 0;
    while work < quota {
        let sd = &mut up.softnet[ctx.cpu];
        if let Some(&(at, _)) = sd.input_pkt_queue.front() {
            if at > ctx.now {
                return BacklogPoll::WaitUntil(work, at);
            }
        }
        let Some((_, skb)) = sd.input_pkt_queue.pop_front() else {
            sd.backlog_scheduled = false;
            return BacklogPoll::Done(work);
        };
        ctx.charge(ctx.costs.backlog_per_packet_ns);
        deliver(ctx, up, skb);
        work += 1;
    }
    BacklogPoll::More(work)
}

/// `net_rps_send_ipi`: wake every CPU this run queued backlog work for.
pub fn net_rps_send_ipi(ctx: &mut Ctx, up: &mut RxPath) {
    let targets: Vec<usize> = up.softnet[ctx.cpu].rps_ipi.iter_ones().collect();
    if targets.is_empty() {
        return;
    }
    up.softnet[ctx.cpu].rps_ipi.fill(false);
    let lands = ctx.now + ctx.clock.ns_to_cycles(ctx.costs.ipi_ns);
    for cpu in targets {
        up.softnet[cpu].stat.received_rps += 1;
        up.softnet[cpu].raise_irq(lands);
    }
}
