//! The peer's ICMP: `icmp_echo` answers echo requests, and a `ping` (iputils) that sends echo
//! requests to the host on a fixed schedule and times each reply.
//!
//! RTT is measured the way ping measures it, from the moment the request is handed to the stack
//! (its scheduled send time, so ARP resolution of a first ping counts, as it does for real) to the
//! reply's last byte arriving at the peer.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use host_driver::accounting::FrameId;
use host_driver::time::{Clock, Cycle};
use host_driver::wire::build::Payload;
use host_driver::wire::icmp::{IcmpPacket, IcmpRepr};
use host_driver::wire::ipv4::{protocol, Ipv4Repr};

use nicsim_scenario::peer::PingConfig;

use nicsim_scenario::peer::{PingSample, PingStats, RttSummary};

use super::{Datagram, Peer, PeerConsumer, PeerDrop, PeerVerdict};

/// The peer's ping process.
#[derive(Debug)]
pub(super) struct Pinger {
    dst: Ipv4Addr,
    ident: u16,
    count: u32,
    data: Vec<u8>,
    first: Cycle,
    interval: Cycle,
    /// Requests sent so far (the next has seq `sent + 1`).
    sent: u32,
    /// Send cycle of each outstanding or answered request, by seq, and whether it was answered.
    requests: BTreeMap<u16, (Cycle, bool)>,
    stats: PingStats,
}

impl Pinger {
    /// A ping of a configuration `PeerConfig::validate` accepted.
    pub(super) fn new(cfg: &PingConfig, clock: Clock, origin: Cycle, host: Ipv4Addr) -> Pinger {
        Pinger {
            dst: cfg.dst.unwrap_or(host),
            ident: cfg.ident,
            count: cfg.count,
            data: Payload::Len(cfg.size).bytes().into_owned(),
            first: origin + clock.ns_to_cycles(cfg.start_ns),
            interval: clock.ns_to_cycles(cfg.interval_ns),
            sent: 0,
            requests: BTreeMap::new(),
            stats: PingStats::default(),
        }
    }

    /// Cycle the next request is due, if any is left.
    pub(super) fn next_send(&self) -> Option<Cycle> {
        (self.sent < self.count).then(|| self.first + Cycle::from(self.sent) * self.interval)
    }

    /// Takes the reply `ident`/`seq` from `src` arriving at `at`; false if it matches no request.
    fn reply(
        &mut self,
        src: Ipv4Addr,
        ident: u16,
        seq: u16,
        data: &[u8],
        frame: Option<FrameId>,
        at: Cycle,
    ) -> bool {
        if src != self.dst || ident != self.ident {
            return false;
        }
        let Some((sent, answered)) = self.requests.get_mut(&seq) else {
            return false;
        };
        if data != self.data {
            self.stats.bad_data += 1;
        }
        if *answered {
            self.stats.duplicates += 1;
            return true;
        }
        *answered = true;
        self.stats.received += 1;
        self.stats.samples.push(PingSample {
            seq,
            sent: *sent,
            received: at,
            rtt_cycles: at - *sent,
            reply_frame: frame,
        });
        true
    }

    pub(super) fn stats(&self, clock: Clock) -> PingStats {
        let mut s = self.stats.clone();
        s.lost = s.transmitted - s.received;
        let rtts = s.samples.iter().map(|p| p.rtt_cycles);
        if let (Some(min), Some(max)) = (rtts.clone().min(), rtts.clone().max()) {
            let avg = rtts.sum::<Cycle>() as f64 / s.samples.len() as f64;
            let ns_per_cycle = clock.ps_per_cycle as f64 / 1000.0;
            s.rtt = Some(RttSummary {
                min_cycles: min,
                avg_cycles: avg,
                max_cycles: max,
                min_ns: clock.cycles_to_ns(min),
                avg_ns: avg * ns_per_cycle,
                max_ns: clock.cycles_to_ns(max),
            });
        }
        s
    }
}

impl Peer {
    /// `icmp_rcv`: checksum, then echo requests answered and echo replies matched to pings.
    pub(super) fn icmp_rcv(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        id: Option<FrameId>,
        at: Cycle,
    ) -> PeerVerdict {
        let Ok(p) = IcmpPacket::new_checked(payload) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        if !p.verify_checksum() {
            return PeerVerdict::Dropped(PeerDrop::IcmpCsum);
        }
        match IcmpRepr::parse(&p) {
            IcmpRepr::EchoRequest { .. } if !self.answer_ping => {
                PeerVerdict::Dropped(PeerDrop::PingDisabled)
            }
            IcmpRepr::EchoRequest { ident, seq, data } => {
                let reply = IcmpRepr::EchoReply { ident, seq, data };
                self.ip_send(icmp_datagram(ip.src, &reply), at + self.turnaround);
                PeerVerdict::Consumed(PeerConsumer::EchoAnswered)
            }
            IcmpRepr::EchoReply { ident, seq, data } => {
                match self
                    .pinger
                    .as_mut()
                    .map(|pg| pg.reply(ip.src, ident, seq, data, id, at))
                {
                    Some(true) => PeerVerdict::Consumed(PeerConsumer::PingReply),
                    _ => PeerVerdict::Dropped(PeerDrop::UnexpectedEchoReply),
                }
            }
            _ => PeerVerdict::Consumed(PeerConsumer::Icmp),
        }
    }

    /// Sends the echo requests due by `now`, each at its scheduled cycle.
    pub(super) fn ping_timers(&mut self, now: Cycle) {
        while let Some(pg) = self.pinger.as_mut() {
            let Some(due) = pg.next_send().filter(|&t| t <= now) else {
                break;
            };
            pg.sent += 1;
            // iputils ping numbers requests from 1.
            let seq = pg.sent as u16;
            pg.requests.insert(seq, (due, false));
            pg.stats.transmitted += 1;
            let request = IcmpRepr::EchoRequest {
                ident: pg.ident,
                seq,
                data: &pg.data,
            };
            let d = icmp_datagram(pg.dst, &request);
            self.ip_send(d, due);
        }
    }
}

fn icmp_datagram(dst: Ipv4Addr, msg: &IcmpRepr<'_>) -> Datagram {
    let mut payload = vec![0; msg.buffer_len()];
    msg.emit(&mut payload)
        .expect("the buffer is sized by buffer_len");
    Datagram {
        dst,
        protocol: protocol::ICMP,
        payload,
    }
}
