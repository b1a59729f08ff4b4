//! The traffic generator: turns a scenario's flows into frames with the cycle each may enter the wire.
//!
//! Plays the part of a traffic generator on the link partner (e.g. a pktgen/TRex port). At line rate
//! every frame of a flow is ready at its start and the wire injector paces them back to back; a slower
//! rate sets each frame's `not_before` cycle. Jitter, when asked for, comes from a PRNG seeded by the
//! scenario seed, so the same seed gives the same frames at the same cycles.

use std::net::Ipv4Addr;

use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::{udp_frame, Payload, UdpFrameSpec};
use host_driver::wire::ethernet::{MacAddr, FCS_LEN, HEADER_LEN};
use host_driver::wire::{ipv4, udp};

use crate::scenario::{Fault, Flow, Path, Problem, Scenario, UdpFlow};

/// MAC address of the link partner that sends the generated traffic.
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xfe]);

/// Smallest frame on the wire, FCS included (IEEE 802.3 `minFrameSize`).
pub const MIN_WIRE_FRAME: u64 = 64;

/// One frame ready to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFrame {
    /// Earliest cycle its first beat may enter the NIC.
    pub not_before: Cycle,
    /// Ethernet frame without FCS (the wire appends it).
    pub bytes: Vec<u8>,
    pub fault: Fault,
    /// Index of its flow in `traffic`, and its sequence number in the flow.
    pub flow: usize,
    pub seq: u64,
}

/// Bytes a UDP/IPv4 datagram adds around its payload on the wire, FCS included.
const UDP_FRAME_OVERHEAD: u64 = (HEADER_LEN + ipv4::HEADER_LEN + udp::HEADER_LEN + FCS_LEN) as u64;

/// Every frame of every flow, in the order they enter the wire (by `not_before`, then flow, then
/// sequence), or the first flow that cannot be built, with where it is.
pub fn plan(s: &Scenario) -> Result<Vec<PlannedFrame>, Problem> {
    let clock = Clock {
        ps_per_cycle: s.nic.ps_per_cycle(),
    };
    let mut rng = SplitMix64::new(s.seed);
    let mut frames = Vec::new();
    for (i, flow) in s.traffic.iter().enumerate() {
        // Captures are read when the run starts, relative to the scenario file (see `runner`).
        let Flow::Udp(f) = flow else { continue };
        let at = Path::default().key("traffic").index(i).key("udp");
        plan_udp(s, f, i, &at, clock, &mut rng, &mut frames)?;
    }
    frames.sort_by_key(|f| (f.not_before, f.flow, f.seq));
    Ok(frames)
}

fn plan_udp(
    s: &Scenario,
    f: &UdpFlow,
    flow: usize,
    at: &Path,
    clock: Clock,
    rng: &mut SplitMix64,
    out: &mut Vec<PlannedFrame>,
) -> Result<(), Problem> {
    if f.count == 0 {
        return Err(Problem::new(
            at.clone().key("count"),
            "count must be at least 1",
        ));
    }
    let payload_len = match (f.size, f.payload_len) {
        (Some(_), Some(_)) => {
            return Err(Problem::new(
                at.clone().key("payload_len"),
                "give `size` or `payload_len`, not both",
            ))
        }
        (Some(size), None) if size < MIN_WIRE_FRAME => {
            return Err(Problem::new(
                at.clone().key("size"),
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
                at.clone().key("every_nth"),
                "every_nth must be at least 1",
            ))
        }
        (Fault::None, Some(_)) => {
            return Err(Problem::new(
                at.clone().key("every_nth"),
                "every_nth needs a `fault` to apply",
            ))
        }
        _ => {}
    }
    let host_ip = s.host.stack.address.addr;
    let spec = UdpFrameSpec {
        src_mac: f.src_mac.unwrap_or(PEER_MAC),
        dst_mac: f.dst_mac.unwrap_or(s.host.mac),
        src_ip: f.src_ip.unwrap_or_else(|| peer_ip(host_ip)),
        dst_ip: f.dst_ip.unwrap_or(host_ip),
        src_port: f.src_port,
        dst_port: f.dst_port,
        payload: Payload::Len(payload_len as usize),
        ttl: f.ttl,
        ip_id: 0,
    };
    let start_ps = u128::from(f.start_ns) * 1000;
    let jitter_ps = f.jitter_ns.saturating_mul(1000);
    for seq in 0..f.count {
        // The IP id increments per datagram, as a Linux sender's does per socket.
        let frame_spec = UdpFrameSpec {
            ip_id: seq as u16,
            ..spec.clone()
        };
        let bytes = udp_frame(&frame_spec)
            .map_err(|e| Problem::new(at.clone(), format!("cannot build the datagram: {e}")))?;
        let wire_bytes = (bytes.len() + FCS_LEN) as u64;
        let offset = f.rate.offset_ps(seq, wire_bytes).unwrap_or(0);
        let jitter = if jitter_ps == 0 {
            0
        } else {
            rng.next_u64() % jitter_ps.saturating_add(1)
        };
        let ps = start_ps + offset + u128::from(jitter);
        let not_before =
            u64::try_from(ps.div_ceil(u128::from(clock.ps_per_cycle))).map_err(|_| {
                Problem::new(
                    at.clone().key("rate"),
                    "the flow runs past the end of representable time",
                )
            })?;
        let faulty = f.every_nth.is_none_or(|n| (seq + 1) % n == 0);
        out.push(PlannedFrame {
            not_before,
            bytes,
            fault: if faulty { f.fault } else { Fault::None },
            flow,
            seq,
        });
    }
    Ok(())
}

/// The link partner's default address: the host's with the last octet 254 (253 if that is the host).
pub fn peer_ip(host: Ipv4Addr) -> Ipv4Addr {
    let [a, b, c, d] = host.octets();
    Ipv4Addr::new(a, b, c, if d == 254 { 253 } else { 254 })
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

    fn plan_of(yaml: &str) -> Result<Vec<PlannedFrame>, String> {
        let s: Scenario = serde_norway::from_str(yaml).map_err(|e| e.to_string())?;
        plan(&s).map_err(|p| format!("{}: {}", p.at, p.message))
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
            .all(|f| f.not_before == 10 && f.bytes.len() == 124 && f.fault == Fault::None));
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
            .filter(|f| f.fault == Fault::BadFcs)
            .map(|f| f.seq)
            .collect();
        assert_eq!(faulty, [2, 5]);
        let f = plan_of("name: t\ntraffic:\n  - udp: {count: 2, dst_port: 9, fault: phy_error}\n")
            .unwrap();
        assert!(f.iter().all(|f| f.fault == Fault::PhyError));
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
