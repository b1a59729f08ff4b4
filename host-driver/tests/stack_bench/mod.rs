//! A bench that drives [`Stack`] directly: frames in through `netif_receive_skb`, application
//! and timer work through `run_apps`, frames out through `qdisc_run` into a device that sends at
//! once, on one simulated CPU. The testbench is the driver tests' `FakeNic`, used only for frame ids.

#![allow(dead_code)] // each stack test file uses a different part of the bench

use std::net::Ipv4Addr;

use host_driver::accounting::{DropReason, FrameId, Outcome, Stage, Trace};
use host_driver::activity::Activity;
use host_driver::costs::Costs;
use host_driver::ctx::Ctx;
use host_driver::netdevice::{NetDeviceOps, NetdevTx};
use host_driver::skb::Skb;
use host_driver::stack::ethernet::eth_type_trans;
use host_driver::stack::{AppConfig, Stack, StackConfig, StackCounters};
use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{self, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::MacAddr;

use crate::support::FakeNic;

pub const HOST_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// `neighbours:` entry that makes the peer's MAC known without ARP.
pub const STATIC_PEER: &str = "neighbours: [{ip: 10.0.0.2, mac: '02:00:00:00:00:02'}]\n";

pub struct Bench {
    pub stack: Stack,
    pub nic: FakeNic,
    pub trace: Trace,
    pub activity: Activity,
    pub costs: Costs,
    pub clock: Clock,
    /// The CPU's local time.
    pub now: Cycle,
    next_wire_id: FrameId,
}

impl Bench {
    /// A stack from `stack_yaml` (a `stack:` section; empty for defaults) running `apps_yaml`
    /// (a YAML list; empty for none).
    pub fn new(stack_yaml: &str, apps_yaml: &str) -> Bench {
        Bench::with_mac(stack_yaml, apps_yaml, HOST_MAC)
    }

    /// A bench whose stack has station address `mac`.
    pub fn with_mac(stack_yaml: &str, apps_yaml: &str, mac: MacAddr) -> Bench {
        let cfg: StackConfig = if stack_yaml.trim().is_empty() {
            StackConfig::default()
        } else {
            serde_norway::from_str(stack_yaml).expect("stack config")
        };
        let apps: Vec<AppConfig> = if apps_yaml.trim().is_empty() {
            Vec::new()
        } else {
            serde_norway::from_str(apps_yaml).expect("apps config")
        };
        let clock = Clock::default();
        Bench {
            stack: Stack::new(&cfg, mac, &apps, clock, 1).expect("valid stack"),
            nic: FakeNic::new(70, 4),
            trace: Trace::default(),
            activity: Activity::default(),
            costs: Costs::default(),
            clock,
            now: 0,
            next_wire_id: 1,
        }
    }

    fn with_ctx<R>(&mut self, f: impl FnOnce(&mut Stack, &mut Ctx) -> R) -> R {
        let mut ctx = Ctx {
            cpu: 0,
            now: self.now,
            testbench: &mut self.nic,
            costs: &self.costs,
            clock: self.clock,
            trace: &mut self.trace,
            activity: &mut self.activity,
        };
        let r = f(&mut self.stack, &mut ctx);
        self.now = ctx.now;
        r
    }

    /// A frame arrives from the driver (as `from_dma`, after `eth_type_trans`); returns its id.
    pub fn rx(&mut self, frame: Vec<u8>) -> FrameId {
        let id = self.next_wire_id;
        self.next_wire_id += 1;
        let mut skb = Skb::from_dma(id, frame);
        self.with_ctx(|stack, ctx| {
            if eth_type_trans(&mut skb, stack.mac()) {
                stack.netif_receive_skb(ctx, skb);
            } else {
                ctx.end(id, Outcome::Dropped(DropReason::PktTooSmall));
            }
        });
        id
    }

    /// One `run_apps` call at the current time; returns the next wake.
    pub fn run_apps(&mut self) -> Option<Cycle> {
        self.with_ctx(|stack, ctx| stack.run_apps(ctx))
    }

    /// Runs applications and timers until nothing is due before `until` (ns from now).
    pub fn run_for(&mut self, ns: u64) {
        let end = self.now + self.clock.ns_to_cycles(ns);
        for _ in 0..1_000_000 {
            match self.run_apps() {
                Some(w) if w <= end => self.now = self.now.max(w),
                _ => {
                    self.now = self.now.max(end);
                    return;
                }
            }
        }
        panic!("applications did not settle");
    }

    /// Drains the qdisc, as the driver would, ending each frame as transmitted like TX reclaim.
    pub fn tx(&mut self) -> Vec<(FrameId, Vec<u8>)> {
        let mut wire = Wire(Vec::new());
        self.with_ctx(|stack, ctx| stack.qdisc_run(ctx, &mut wire));
        wire.0
    }

    pub fn outcome(&self, id: FrameId) -> Option<Outcome> {
        self.trace.outcome_of(id)
    }

    pub fn stages(&self, id: FrameId) -> Vec<Stage> {
        self.trace
            .frame(id)
            .map(|r| r.stamps.iter().map(|&(s, _)| s).collect())
            .unwrap_or_default()
    }

    pub fn counters(&self) -> StackCounters {
        self.stack.counters()
    }

    /// Every frame the trace saw ended once, and only once.
    pub fn assert_conserved(&self) {
        assert_eq!(self.trace.conservation_errors(), &[]);
        for (id, rec) in self.trace.frames() {
            assert!(rec.outcome.is_some(), "frame {id} has no outcome: {rec:?}");
        }
    }
}

/// The bench's device: sends and reclaims every frame the qdisc hands it at once (freeing the skb
/// as TX reclaim does), never stopping its queue.
struct Wire(Vec<(FrameId, Vec<u8>)>);

impl NetDeviceOps for Wire {
    fn ndo_start_xmit(&mut self, ctx: &mut Ctx, skb: Skb, _more: bool) -> NetdevTx {
        self.0.push((skb.id, skb.data().to_vec()));
        ctx.end_skb(
            skb,
            Outcome::Consumed(host_driver::accounting::Consumer::Transmitted),
        );
        NetdevTx::Ok
    }

    fn netif_xmit_stopped(&self) -> bool {
        false
    }
}

/// A UDP frame from the peer to the host.
pub fn udp(src_port: u16, dst_port: u16, payload: usize) -> Vec<u8> {
    build::udp_frame(&udp_spec(src_port, dst_port, payload)).expect("valid frame")
}

pub fn udp_spec(src_port: u16, dst_port: u16, payload: usize) -> UdpFrameSpec {
    UdpFrameSpec {
        src_mac: PEER_MAC,
        dst_mac: HOST_MAC,
        src_ip: PEER_IP,
        dst_ip: HOST_IP,
        src_port,
        dst_port,
        payload: Payload::Len(payload),
        ttl: 64,
        ip_id: src_port,
    }
}

/// Recomputes the IPv4 header checksum of an Ethernet frame after a test edited the header.
pub fn fix_ip_checksum(frame: &mut [u8]) {
    frame[24..26].fill(0);
    let c = host_driver::wire::checksum::internet_checksum(&frame[14..34]);
    frame[24..26].copy_from_slice(&c.to_be_bytes());
}
