//! Netfilter's five IPv4 hooks (`NF_HOOK` in net/ipv4/*, `ipt_do_table`): per hook an ordered
//! rule list; the first rule whose matches all hold decides ACCEPT or DROP, otherwise the
//! chain policy ACCEPT applies. Each rule counts the packets and bytes it matched (`iptables -vL`).

use std::net::Ipv4Addr;

use serde::Serialize;

use super::config::{Hook, PortRange, RuleConfig, RuleProtocol, Verdict};
use super::Stack;
use crate::accounting::{DropReason, Outcome};
use crate::ctx::Ctx;
use crate::skb::Skb;
use crate::wire::ipv4::{protocol, Ipv4Packet};
use crate::wire::udp::UdpPacket;

/// The fields rules match on, read from the packet at the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    /// UDP ports; absent for other protocols and for non-first fragments.
    pub ports: Option<(u16, u16)>,
    /// IP total length, for the byte counters.
    pub len: usize,
}

impl Flow {
    /// Reads the flow of the IPv4 packet at the start of `ip`; `None` if it is not one.
    pub fn of(ip: &[u8]) -> Option<Flow> {
        let p = Ipv4Packet::new_checked(ip).ok()?;
        let ports = (p.protocol() == protocol::UDP && p.frag_offset() == 0)
            .then(|| UdpPacket::new_checked(p.payload()).ok())
            .flatten()
            .map(|u| (u.src_port(), u.dst_port()));
        Some(Flow {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            ports,
            len: p.total_len(),
        })
    }
}

/// A rule and its counters, as `iptables -vL` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RuleCounters {
    pub hook: Hook,
    pub action: Verdict,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
struct Rule {
    cfg: RuleConfig,
    packets: u64,
    bytes: u64,
}

impl Rule {
    fn matches(&self, hook: Hook, f: &Flow) -> bool {
        let c = &self.cfg;
        let port = |range: Option<PortRange>, port: Option<u16>| match (range, port) {
            (None, _) => true,
            (Some(r), Some(p)) => r.contains(p),
            (Some(_), None) => false,
        };
        c.hook == hook
            && match c.protocol {
                RuleProtocol::Any => true,
                RuleProtocol::Udp => f.protocol == protocol::UDP,
                RuleProtocol::Icmp => f.protocol == protocol::ICMP,
            }
            && c.src.is_none_or(|n| n.contains(f.src))
            && c.dst.is_none_or(|n| n.contains(f.dst))
            && port(c.sport, f.ports.map(|p| p.0))
            && port(c.dport, f.ports.map(|p| p.1))
    }
}

#[derive(Debug, Clone)]
pub struct Netfilter {
    rules: Vec<Rule>,
}

impl Netfilter {
    pub fn new(rules: &[RuleConfig]) -> Netfilter {
        Netfilter {
            rules: rules
                .iter()
                .map(|cfg| Rule {
                    cfg: cfg.clone(),
                    packets: 0,
                    bytes: 0,
                })
                .collect(),
        }
    }

    /// Some rule sits on `hook`. Hooks without rules cost nothing, as with the kernel's static keys.
    pub fn active(&self, hook: Hook) -> bool {
        self.rules.iter().any(|r| r.cfg.hook == hook)
    }

    /// Traverses `hook`'s rules for `flow`.
    pub fn verdict(&mut self, hook: Hook, flow: &Flow) -> Verdict {
        match self.rules.iter_mut().find(|r| r.matches(hook, flow)) {
            Some(r) => {
                r.packets += 1;
                r.bytes += flow.len as u64;
                r.cfg.action
            }
            None => Verdict::Accept,
        }
    }

    pub fn counters(&self) -> Vec<RuleCounters> {
        self.rules
            .iter()
            .map(|r| RuleCounters {
                hook: r.cfg.hook,
                action: r.cfg.action,
                packets: r.packets,
                bytes: r.bytes,
            })
            .collect()
    }
}

impl Stack {
    /// `NF_HOOK(NFPROTO_IPV4, hook, ...)`: `Some(skb)` to continue (ACCEPT), `None` once the skb
    /// was dropped (`NF_DROP` → `kfree_skb_reason(NETFILTER_DROP)`).
    pub(super) fn nf_hook(&mut self, ctx: &mut Ctx, hook: Hook, skb: Skb) -> Option<Skb> {
        if !self.netfilter.active(hook) {
            return Some(skb);
        }
        ctx.charge(ctx.costs.netfilter_hook_ns);
        let flow = skb.network_header().and_then(Flow::of);
        match flow.map(|f| self.netfilter.verdict(hook, &f)) {
            Some(Verdict::Drop) => {
                Stack::finish(ctx, skb, Outcome::Dropped(DropReason::NetfilterDrop));
                None
            }
            Some(Verdict::Accept) | None => Some(skb),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build::{udp_frame, Payload, UdpFrameSpec};
    use crate::wire::ethernet::MacAddr;

    fn rule(
        hook: Hook,
        protocol: RuleProtocol,
        dport: Option<PortRange>,
        action: Verdict,
    ) -> RuleConfig {
        RuleConfig {
            hook,
            protocol,
            src: None,
            dst: None,
            sport: None,
            dport,
            action,
        }
    }

    fn udp_flow(dport: u16) -> Flow {
        let frame = udp_frame(&UdpFrameSpec {
            src_mac: MacAddr::ZERO,
            dst_mac: MacAddr::ZERO,
            src_ip: Ipv4Addr::new(10, 0, 0, 2),
            dst_ip: Ipv4Addr::new(10, 0, 0, 1),
            src_port: 1000,
            dst_port: dport,
            payload: Payload::Len(10),
            ttl: 64,
            ip_id: 1,
        })
        .unwrap();
        Flow::of(&frame[14..]).unwrap()
    }

    #[test]
    fn flow_reads_addresses_and_ports() {
        let f = udp_flow(53);
        assert_eq!(
            (f.src, f.dst, f.protocol, f.ports, f.len),
            (
                Ipv4Addr::new(10, 0, 0, 2),
                Ipv4Addr::new(10, 0, 0, 1),
                17,
                Some((1000, 53)),
                38
            )
        );
    }

    #[test]
    fn first_match_decides_and_counts() {
        let mut nf = Netfilter::new(&[
            rule(
                Hook::Input,
                RuleProtocol::Udp,
                Some(PortRange { lo: 50, hi: 60 }),
                Verdict::Drop,
            ),
            rule(Hook::Input, RuleProtocol::Any, None, Verdict::Accept),
        ]);
        assert!(nf.active(Hook::Input) && !nf.active(Hook::Output));
        assert_eq!(nf.verdict(Hook::Input, &udp_flow(53)), Verdict::Drop);
        assert_eq!(nf.verdict(Hook::Input, &udp_flow(80)), Verdict::Accept);
        assert_eq!(
            nf.verdict(Hook::Prerouting, &udp_flow(53)),
            Verdict::Accept,
            "policy"
        );
        let c = nf.counters();
        assert_eq!((c[0].packets, c[0].bytes, c[1].packets), (1, 38, 1));
    }

    #[test]
    fn port_rules_do_not_match_portless_packets() {
        let mut nf = Netfilter::new(&[rule(
            Hook::Input,
            RuleProtocol::Udp,
            Some(PortRange { lo: 53, hi: 53 }),
            Verdict::Drop,
        )]);
        let mut f = udp_flow(53);
        f.ports = None;
        assert_eq!(nf.verdict(Hook::Input, &f), Verdict::Accept);
    }
}
