//! A Linux-like IPv4 stack for one Ethernet interface (eth0), layered as the kernel's receive and
//! send paths are (net/core/dev.c, net/ipv4/).
//!
//! Receive: [`Stack::netif_receive_skb`] (`__netif_receive_skb_core`: taps, `ptype_base`) →
//! `ip_rcv` → `ip_local_deliver` (reassembly, `inet_protos`) → `udp_rcv` / `icmp_rcv` → socket
//! queue → application `recvfrom`; or `ip_forward`; `arp_rcv` for ARP.
//! Send: application `sendto` → `udp_sendmsg` → `ip_local_out` → `ip_output` (fragmentation) →
//! neighbour (ARP) → `dev_queue_xmit` into the qdisc; [`Stack::qdisc_run`] then hands the queued
//! frames down to the device's `ndo_start_xmit`.
//!
//! Each layer is an `impl Stack` block in the module named after it; its state and counters live
//! in fields of [`Stack`]. Every stage stamps the frame and charges its cost from
//! [`crate::costs::Costs`]; every frame ends in exactly one [`Outcome`].

pub mod app;
pub mod arp;
pub mod config;
pub mod ethernet;
pub mod forward;
pub mod fragment;
pub mod icmp;
pub mod ipv4;
pub mod neighbour;
pub mod netfilter;
pub mod packet_tap;
pub mod qdisc;
pub mod reassembly;
pub mod route;
pub mod socket;
pub mod syscall;
pub mod tcp;
pub mod tcp_app;
pub mod udp;

use std::collections::BTreeMap;

use serde::Serialize;

use self::app::{App, AppCounters};
pub use self::config::{
    AppConfig, PingConfig, StackConfig, StackConfigError, UdpEchoConfig, UdpSendConfig,
    UdpSinkConfig,
};
use self::ethernet::{LinkCounters, PacketType};
use self::icmp::{IcmpCounters, IcmpRateLimit, PingSocket};
use self::ipv4::{InetProtos, IpCounters};
use self::neighbour::{ArpCounters, NeighbourTable};
use self::netfilter::{Netfilter, RuleCounters};
use self::packet_tap::{PacketTap, TapCounters, TapRecord};
use self::qdisc::{PfifoFast, QdiscCounters};
use self::reassembly::Reassembly;
use self::route::RouteTable;
use self::socket::SocketTable;
use self::tcp::sock::{TcpSockInfo, TcpTable};
use self::tcp::{TcpCounters, TcpExtCounters};
use self::udp::UdpCounters;
use crate::accounting::Outcome;
use crate::ctx::Ctx;
use crate::netdevice::NetdevQueue;
use crate::skb::Skb;
use crate::time::{Clock, Cycle};
use crate::wire::ethernet::MacAddr;

/// The host's stack: every protocol's state and counters, the device's queue, the applications.
#[derive(Debug)]
pub struct Stack {
    mac: MacAddr,
    cfg: StackConfig,
    clock: Clock,
    ptype_base: Vec<PacketType>,
    inet_protos: InetProtos,
    taps: Vec<PacketTap>,
    link: LinkCounters,
    ip: IpCounters,
    /// Next IP identification (`ip_idents`; one counter keeps runs deterministic).
    ip_ident: u16,
    icmp: IcmpCounters,
    icmp_limit: IcmpRateLimit,
    /// Ping sockets by echo identifier.
    ping_socks: BTreeMap<u16, PingSocket>,
    udp: UdpCounters,
    sockets: SocketTable,
    routes: RouteTable,
    neigh: NeighbourTable,
    arp: ArpCounters,
    qdisc: PfifoFast,
    /// eth0's TX queue, the core's half (`_xmit_lock`).
    txq: NetdevQueue,
    frags: Reassembly,
    netfilter: Netfilter,
    /// TCP sockets, and the `Tcp:` and `TcpExt:` counters.
    tcp: TcpTable,
    tcp_mib: TcpCounters,
    tcp_ext: TcpExtCounters,
    /// Next ephemeral port `__inet_hash_connect` tries.
    tcp_port_cursor: u16,
    /// The scenario seed: keys the ISN and timestamp-offset hashes (`net_secret`).
    seed: u64,
    apps: Vec<App>,
    /// A script's system calls (packetdrill), on the application CPU.
    script: syscall::ScriptProc,
}

/// /proc/net/snmp-style counters of the whole stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StackCounters {
    pub link: LinkCounters,
    pub ip: IpCounters,
    pub icmp: IcmpCounters,
    pub udp: UdpCounters,
    pub arp: ArpCounters,
    pub qdisc: QdiscCounters,
    pub netfilter: Vec<RuleCounters>,
    pub taps: Vec<TapCounters>,
    pub tcp: TcpCounters,
    pub tcp_ext: TcpExtCounters,
    /// `ss -tin` of every TCP socket at the end, closed ones first.
    pub tcp_sockets: Vec<TcpSockInfo>,
    pub apps: Vec<AppCounters>,
}

impl Stack {
    /// Brings up eth0 with `cfg` and `mac`, registers the protocol handlers (`dev_add_pack`,
    /// `inet_add_protocol`) and starts `apps` (their sockets are created and bound now).
    /// `clock` converts the configured times (timeouts, app intervals) to cycles; `seed` keys
    /// TCP's initial sequence numbers and timestamp offsets.
    pub fn new(
        cfg: &StackConfig,
        mac: MacAddr,
        apps: &[AppConfig],
        clock: Clock,
        seed: u64,
    ) -> Result<Stack, StackConfigError> {
        cfg.validate()?;
        let mut stack = Stack {
            mac,
            cfg: cfg.clone(),
            clock,
            ptype_base: Vec::new(),
            inet_protos: InetProtos::default(),
            taps: cfg.taps.iter().map(PacketTap::new).collect(),
            link: LinkCounters::default(),
            ip: IpCounters::default(),
            ip_ident: 0,
            icmp: IcmpCounters::default(),
            icmp_limit: IcmpRateLimit::new(cfg.icmp_msgs_per_sec, cfg.icmp_msgs_burst, clock),
            ping_socks: BTreeMap::new(),
            udp: UdpCounters::default(),
            sockets: SocketTable::new(cfg.ip_local_port_range),
            routes: RouteTable::new(cfg.address, cfg.gateway, &cfg.routes)?,
            neigh: NeighbourTable::new(&cfg.neigh, &cfg.neighbours, clock),
            arp: ArpCounters::default(),
            qdisc: PfifoFast::new(cfg.txqueuelen),
            txq: NetdevQueue::default(),
            frags: Reassembly::new(
                cfg.ipfrag_high_thresh,
                clock.ns_to_cycles(cfg.ipfrag_time_ms.saturating_mul(1_000_000)),
            ),
            netfilter: Netfilter::new(&cfg.netfilter),
            tcp: TcpTable::default(),
            tcp_mib: TcpCounters::default(),
            tcp_ext: TcpExtCounters::default(),
            tcp_port_cursor: cfg.ip_local_port_range.0,
            seed,
            apps: Vec::new(),
            script: syscall::ScriptProc::default(),
        };
        stack.register_protocols();
        for (i, a) in apps.iter().enumerate() {
            a.validate(i)?;
            let app = App::start(&mut stack, i, a)?;
            stack.apps.push(app);
        }
        Ok(stack)
    }

    /// `inet_init`: `dev_add_pack(&ip_packet_type)`, `arp_init`, `inet_add_protocol` for UDP
    /// and ICMP.
    fn register_protocols(&mut self) {
        use crate::wire::ethernet::ethertype;
        use crate::wire::ipv4::protocol;
        self.dev_add_pack(ethertype::IPV4, Stack::ip_rcv);
        self.dev_add_pack(ethertype::ARP, Stack::arp_rcv);
        self.inet_add_protocol(protocol::TCP, Stack::tcp_v4_rcv);
        self.inet_add_protocol(protocol::UDP, Stack::udp_rcv);
        self.inet_add_protocol(protocol::ICMP, Stack::icmp_rcv);
    }

    /// eth0's hardware address.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// eth0's IPv4 address.
    pub fn address(&self) -> std::net::Ipv4Addr {
        self.cfg.address.addr
    }

    /// Frames waiting in the qdisc.
    pub fn tx_backlog(&self) -> usize {
        self.qdisc.backlog()
    }

    /// Process-context work on `ctx`'s CPU: first the stack timers that are due (see
    /// [`Stack::run_timers`]), then one step of every application whose time has come. Returns
    /// when an application or a timer next wants to run ([`Stack::next_wake`]).
    pub fn run_apps(&mut self, ctx: &mut Ctx) -> Option<Cycle> {
        let start = ctx.now;
        self.run_timers(ctx);
        ctx.span("run_timer_softirq", start, None);
        let mut apps = std::mem::take(&mut self.apps);
        for app in &mut apps {
            if app.ready_at(self).is_some_and(|t| t <= ctx.now) {
                let start = ctx.now;
                app.step(self, ctx);
                ctx.span(app.kind(), start, None);
            }
        }
        self.apps = apps;
        self.run_script_proc(ctx);
        self.next_wake()
    }

    /// Expired stack timers (ARP retransmission and failure, reassembly timeout), as the timer
    /// softirq runs them. Returns the next timer's cycle.
    pub fn run_timers(&mut self, ctx: &mut Ctx) -> Option<Cycle> {
        self.neigh_timers(ctx);
        self.frag_timers(ctx);
        self.tcp_timers(ctx);
        self.next_timer()
    }

    /// Earliest cycle an application is ready to run; changes after receive (a woken reader).
    pub fn next_app_wake(&self) -> Option<Cycle> {
        self.apps
            .iter()
            .filter_map(|a| a.ready_at(self))
            .chain(self.script.ready_at(self))
            .min()
    }

    /// Earliest pending stack timer.
    pub fn next_timer(&self) -> Option<Cycle> {
        [
            self.neigh.next_timer(),
            self.frags.next_timer(),
            self.tcp_next_timer(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// When the host should next call [`Stack::run_apps`] or [`Stack::run_timers`].
    pub fn next_wake(&self) -> Option<Cycle> {
        [self.next_app_wake(), self.next_timer()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Everything the taps captured since the last drain, per tap name.
    pub fn drain_taps(&mut self) -> Vec<(String, Vec<TapRecord>)> {
        self.taps
            .iter_mut()
            .map(|t| (t.name().to_owned(), t.drain()))
            .collect()
    }

    pub fn counters(&self) -> StackCounters {
        StackCounters {
            link: self.link,
            ip: self.ip,
            icmp: self.icmp,
            udp: self.udp,
            arp: self.arp,
            qdisc: self.qdisc.counters(),
            netfilter: self.netfilter.counters(),
            taps: self.taps.iter().map(PacketTap::counters).collect(),
            tcp: TcpCounters {
                curr_estab: self.tcp_curr_estab(),
                ..self.tcp_mib
            },
            tcp_ext: self.tcp_ext,
            tcp_sockets: self.tcp_sockets(),
            apps: self.apps.iter().map(|a| a.counters(self)).collect(),
        }
    }

    /// `kfree_skb_reason` / `consume_skb`: [`Ctx::end_skb`].
    fn finish(ctx: &mut Ctx, skb: Skb, outcome: Outcome) {
        ctx.end_skb(skb, outcome);
    }
}
