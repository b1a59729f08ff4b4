//! The traffic generator: turns a scenario's flows into frames with the cycle each may enter the wire.
//!
//! Plays the part of a traffic generator on the link partner (e.g. a pktgen/TRex port). At line rate
//! every frame of a flow is ready at its start and the wire injector paces them back to back; a slower
//! rate sets each frame's `not_before` cycle. Jitter, when asked for, comes from a PRNG seeded by the
//! scenario seed, so the same seed gives the same frames at the same cycles.

use std::net::Ipv4Addr;

use host_driver::config::HostConfig;
use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{udp_frame, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::{MacAddr, FCS_LEN, HEADER_LEN};
use host_driver::wire::{ipv4, udp};
use serde::{Deserialize, Serialize};

use crate::peer::{peer_ip, PEER_MAC};
use crate::replay::ReplayConfig;
use crate::scenario::locate::{Path, Problem};
use crate::scenario::units::Rate;

/// One traffic flow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Flow {
    Udp(UdpFlow),
    /// Replay of a capture file (`- pcap: {file, timing, start_ns}`), see [`crate::replay`].
    Pcap(ReplayConfig),
}

/// `count` UDP datagrams of one size, sent to the host (by default) at `rate` from `start_ns`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpFlow {
    pub count: u64,
    /// Frame size on the wire including the FCS (64.. bytes); or give `payload_len` instead.
    pub size: Option<u64>,
    /// UDP payload bytes.
    pub payload_len: Option<u64>,
    #[serde(default)]
    pub rate: Rate,
    #[serde(default)]
    pub start_ns: u64,
    /// Each frame leaves up to this much later than its slot, drawn from the scenario's seeded PRNG.
    #[serde(default)]
    pub jitter_ns: u64,
    /// Default: the link partner, `02:00:00:00:00:fe`.
    #[serde(default)]
    pub src_mac: Option<MacAddr>,
    /// Default: the host's MAC.
    #[serde(default)]
    pub dst_mac: Option<MacAddr>,
    /// Default: the host's address with the last octet 254 (253 if that is the host).
    pub src_ip: Option<Ipv4Addr>,
    /// Default: the host's address.
    pub dst_ip: Option<Ipv4Addr>,
    #[serde(default = "default_src_port")]
    pub src_port: u16,
    pub dst_port: u16,
    #[serde(default = "default_ttl")]
    pub ttl: u8,
    #[serde(default)]
    pub fault: WireFault,
    /// Apply `fault` to every n-th frame (n, 2n, ...) instead of every frame.
    pub every_nth: Option<u64>,
}

fn default_src_port() -> u16 {
    40000
}

fn default_ttl() -> u8 {
    64
}

/// What the wire does to a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFault {
    #[default]
    None,
    /// The FCS is inverted, so the NIC must count CRCERRS and drop it.
    BadFcs,
    /// The PHY flags an error (`s_axis_rx_tuser`) on the last beat.
    PhyError,
}

/// Smallest frame on the wire, FCS included (IEEE 802.3 `minFrameSize`).
pub const MIN_WIRE_FRAME: u64 = 64;

/// One frame ready to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFrame {
    /// Earliest cycle its first beat may enter the NIC.
    pub not_before: Cycle,
    /// Ethernet frame without FCS (the wire appends it).
    pub bytes: Vec<u8>,
    pub fault: WireFault,
    /// Index of its flow in `traffic`, and its sequence number in the flow.
    pub flow: usize,
    pub seq: u64,
}

/// Bytes a UDP/IPv4 datagram adds around its payload on the wire, FCS included.
const UDP_FRAME_OVERHEAD: u64 = (HEADER_LEN + ipv4::HEADER_LEN + udp::HEADER_LEN + FCS_LEN) as u64;

/// Checks every generated flow without building its frames: constant time and memory for any
/// `count`. Captures are checked by [`crate::replay::check`].
pub fn validate(flows: &[Flow], host: &HostConfig, clock: Clock) -> Result<(), Problem> {
    for (i, flow) in flows.iter().enumerate() {
        if let Flow::Udp(f) = flow {
            UdpPlan::new(f, host, udp_path(i), clock)?;
        }
    }
    Ok(())
}

/// Every frame of every generated flow, in the order they enter the wire (by `not_before`, then
/// flow, then sequence), or the first flow that cannot be built, with where it is.
pub fn plan(
    flows: &[Flow],
    host: &HostConfig,
    seed: u64,
    clock: Clock,
) -> Result<Vec<PlannedFrame>, Problem> {
    let mut rng = SplitMix64::new(seed);
    let mut frames = Vec::new();
    for (i, flow) in flows.iter().enumerate() {
        // Captures are read when the run starts, relative to the scenario file (see `runner`).
        let Flow::Udp(f) = flow else { continue };
        let plan = UdpPlan::new(f, host, udp_path(i), clock)?;
        for seq in 0..f.count {
            frames.push(plan.frame(i, seq, &mut rng));
        }
    }
    frames.sort_by_key(|f| (f.not_before, f.flow, f.seq));
    Ok(frames)
}

fn udp_path(flow: usize) -> Path {
    Path::default().key("traffic").index(flow).key("udp")
}

/// A checked UDP flow: everything needed to build its `seq`-th frame.
struct UdpPlan<'a> {
    flow: &'a UdpFlow,
    spec: UdpFrameSpec,
    /// Bytes of each frame on the wire, FCS included.
    wire_bytes: u64,
    clock: Clock,
}

impl<'a> UdpPlan<'a> {
    fn new(
        f: &'a UdpFlow,
        host: &HostConfig,
        at: Path,
        clock: Clock,
    ) -> Result<UdpPlan<'a>, Problem> {
        if f.count == 0 {
            return Err(Problem::new(at.key("count"), "count must be at least 1"));
        }
        let payload_len = match (f.size, f.payload_len) {
            (Some(_), Some(_)) => {
                return Err(Problem::new(
                    at.key("payload_len"),
                    "give `size` or `payload_len`, not both",
                ))
            }
            (Some(size), None) if size < MIN_WIRE_FRAME => {
                return Err(Problem::new(
                    at.key("size"),
                    format!(
                    "size {size} is below the {MIN_WIRE_FRAME}-byte minimum frame (FCS included)"
                ),
                ))
            }
            // Below 64 B the frame is padded, so sizes up to 64 carry as much payload as fits.
            (Some(size), None) => size.saturating_sub(UDP_FRAME_OVERHEAD),
            (None, Some(len)) => len,
            (None, None) => MIN_WIRE_FRAME - UDP_FRAME_OVERHEAD,
        };
        match (f.fault, f.every_nth) {
            (_, Some(0)) => {
                return Err(Problem::new(
                    at.key("every_nth"),
                    "every_nth must be at least 1",
                ))
            }
            (WireFault::None, Some(_)) => {
                return Err(Problem::new(
                    at.key("every_nth"),
                    "every_nth needs a `fault` to apply",
                ))
            }
            _ => {}
        }
        let host_ip = host.stack.address.addr;
        let spec = UdpFrameSpec {
            src_mac: f.src_mac.unwrap_or(PEER_MAC),
            dst_mac: f.dst_mac.unwrap_or(host.mac),
            src_ip: f.src_ip.unwrap_or_else(|| peer_ip(host_ip)),
            dst_ip: f.dst_ip.unwrap_or(host_ip),
            src_port: f.src_port,
            dst_port: f.dst_port,
            payload: Payload::Len(usize::try_from(payload_len).unwrap_or(usize::MAX)),
            ttl: f.ttl,
            ip_id: 0,
        };
        // Every frame of the flow has the same length: building the first shows whether all fit.
        let first = udp_frame(&spec)
            .map_err(|e| Problem::new(at.clone(), format!("cannot build the datagram: {e}")))?;
        let plan = UdpPlan {
            flow: f,
            spec,
            wire_bytes: (first.len() + FCS_LEN) as u64,
            clock,
        };
        // The last frame, with the most jitter, is the latest: if it fits in time, all do.
        if plan.not_before(f.count - 1, plan.jitter_ps()).is_none() {
            return Err(Problem::new(
                at.key("rate"),
                "the flow runs past the end of representable time",
            ));
        }
        Ok(plan)
    }

    fn jitter_ps(&self) -> u64 {
        self.flow.jitter_ns.saturating_mul(1000)
    }

    /// Earliest cycle of frame `seq` drawn `jitter` ps late.
    fn not_before(&self, seq: u64, jitter: u64) -> Option<Cycle> {
        let f = self.flow;
        let offset = f.rate.offset_ps(seq, self.wire_bytes).unwrap_or(0);
        let ps = u128::from(f.start_ns) * 1000 + offset + u128::from(jitter);
        u64::try_from(ps.div_ceil(u128::from(self.clock.ps_per_cycle))).ok()
    }

    /// Frame `seq` of flow number `flow`, its jitter drawn from `rng`.
    fn frame(&self, flow: usize, seq: u64, rng: &mut SplitMix64) -> PlannedFrame {
        let f = self.flow;
        // The IP id increments per datagram, as a Linux sender's does per socket.
        let spec = UdpFrameSpec {
            ip_id: seq as u16,
            ..self.spec.clone()
        };
        let bytes = udp_frame(&spec).expect("UdpPlan::new built a frame of this length");
        let jitter = match self.jitter_ps() {
            0 => 0,
            j => rng.next_u64() % j.saturating_add(1),
        };
        let faulty = f.every_nth.is_none_or(|n| (seq + 1) % n == 0);
        PlannedFrame {
            not_before: self
                .not_before(seq, jitter)
                .expect("UdpPlan::new checked the latest frame's time"),
            bytes,
            fault: if faulty { f.fault } else { WireFault::None },
            flow,
            seq,
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny PRNG whose whole state is one u64, so a seed fixes
/// every draw. Used only for traffic jitter.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn plan_of(yaml: &str) -> Result<Vec<PlannedFrame>, String> {
        let s: Scenario = serde_norway::from_str(yaml).map_err(|e| e.to_string())?;
        plan(&s.traffic, &s.host, s.seed, s.clock()).map_err(|p| format!("{}: {}", p.at, p.message))
    }

    #[test]
    fn line_rate_frames_are_all_ready_at_the_start_and_sized_with_fcs() {
        let f = plan_of(
            "name: t\ntraffic:\n  - udp: {count: 3, size: 128, dst_port: 9, start_ns: 64}\n",
        )
        .unwrap();
        assert_eq!(f.len(), 3);
        assert!(f
            .iter()
            .all(|f| f.not_before == 10 && f.bytes.len() == 124 && f.fault == WireFault::None));
        assert_eq!(f.iter().map(|f| f.seq).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn slower_rates_space_frames_and_flows_interleave_by_time() {
        // 1 Gb/s, 64 B frames: (64 + 20) * 8 bits = 672 ns = 105 cycles apart.
        let f = plan_of(
            "name: t\ntraffic:\n  - udp: {count: 3, rate: 1Gbps, dst_port: 9}\n  \
             - udp: {count: 2, rate: 1Mpps, start_ns: 100, dst_port: 7}\n",
        )
        .unwrap();
        let order: Vec<(usize, u64, Cycle)> =
            f.iter().map(|f| (f.flow, f.seq, f.not_before)).collect();
        // Flow 1 from 100 ns every 1000 ns: 15.6 and 171.9 cycles, rounded up.
        assert_eq!(
            order,
            [(0, 0, 0), (1, 0, 16), (0, 1, 105), (1, 1, 172), (0, 2, 210)]
        );
    }

    #[test]
    fn faults_hit_every_nth_frame() {
        let f = plan_of(
            "name: t\ntraffic:\n  - udp: {count: 6, dst_port: 9, fault: bad_fcs, every_nth: 3}\n",
        )
        .unwrap();
        let faulty: Vec<u64> = f
            .iter()
            .filter(|f| f.fault == WireFault::BadFcs)
            .map(|f| f.seq)
            .collect();
        assert_eq!(faulty, [2, 5]);
        let f = plan_of("name: t\ntraffic:\n  - udp: {count: 2, dst_port: 9, fault: phy_error}\n")
            .unwrap();
        assert!(f.iter().all(|f| f.fault == WireFault::PhyError));
    }

    #[test]
    fn jitter_depends_only_on_the_seed() {
        let yaml = |seed| {
            format!("name: t\nseed: {seed}\ntraffic:\n  - udp: {{count: 50, dst_port: 9, rate: 1Mpps, jitter_ns: 500}}\n")
        };
        let a = plan_of(&yaml(1)).unwrap();
        assert_eq!(a, plan_of(&yaml(1)).unwrap());
        assert_ne!(a, plan_of(&yaml(2)).unwrap());
        // Slot i starts at 156.25·i cycles; jitter adds at most 500 ns = 78.125 cycles.
        for f in &a {
            let slot = f.seq * 15625 / 100;
            assert!((slot..=slot + 80).contains(&f.not_before), "{f:?}");
        }
    }

    #[test]
    fn bad_flows_name_the_key() {
        let cases = [
            ("{count: 0, dst_port: 9}", "traffic[0].udp.count"),
            ("{count: 1, dst_port: 9, size: 63}", "traffic[0].udp.size"),
            (
                "{count: 1, dst_port: 9, size: 64, payload_len: 1}",
                "traffic[0].udp.payload_len",
            ),
            (
                "{count: 1, dst_port: 9, every_nth: 2}",
                "traffic[0].udp.every_nth",
            ),
            (
                "{count: 1, dst_port: 9, fault: bad_fcs, every_nth: 0}",
                "traffic[0].udp.every_nth",
            ),
            (
                "{count: 1, dst_port: 9, payload_len: 70000}",
                "traffic[0].udp",
            ),
        ];
        for (flow, at) in cases {
            let err = plan_of(&format!("name: t\ntraffic:\n  - udp: {flow}\n")).unwrap_err();
            assert!(err.starts_with(&format!("{at}: ")), "{flow}: {err}");
        }
    }

    #[test]
    fn default_addresses_target_the_host_from_the_link_partner() {
        assert_eq!(
            peer_ip(Ipv4Addr::new(10, 0, 0, 1)),
            Ipv4Addr::new(10, 0, 0, 254)
        );
        assert_eq!(
            peer_ip(Ipv4Addr::new(10, 0, 0, 254)),
            Ipv4Addr::new(10, 0, 0, 253)
        );
        let f = plan_of("name: t\ntraffic:\n  - udp: {count: 1, dst_port: 9}\n").unwrap();
        let host = host_driver::config::HostConfig::default();
        assert_eq!(&f[0].bytes[0..6], &host.mac.0);
        assert_eq!(&f[0].bytes[6..12], &PEER_MAC.0);
    }
}
