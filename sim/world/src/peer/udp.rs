//! The peer's UDP (`udp_rcv` with a fixed socket table): each configured port either echoes every
//! datagram back to its sender (the RFC 862 echo service) or discards it (RFC 863 discard); any
//! other port has no listener.

use host_driver::time::Cycle;
use host_driver::wire::ipv4::{protocol, Ipv4Repr};
use host_driver::wire::udp::{UdpPacket, UdpRepr, HEADER_LEN};

use nicsim_scenario::peer::UdpMode;

use super::{Datagram, Peer, PeerConsumer, PeerDrop, PeerVerdict};

impl Peer {
    /// `__udp4_lib_rcv`: length and checksum, then the port.
    pub(super) fn udp_rcv(&mut self, ip: &Ipv4Repr, payload: &[u8], at: Cycle) -> PeerVerdict {
        let Ok(udp) = UdpPacket::new_checked(payload) else {
            return PeerVerdict::Dropped(PeerDrop::Malformed);
        };
        if !udp.verify_checksum(ip.src, ip.dst) {
            return PeerVerdict::Dropped(PeerDrop::UdpCsum);
        }
        let Some(&mode) = self.ports.get(&udp.dst_port()) else {
            return PeerVerdict::Dropped(PeerDrop::NoListener);
        };
        let port = self.stats.udp.entry(udp.dst_port()).or_default();
        port.datagrams += 1;
        port.bytes += udp.payload().len() as u64;
        match mode {
            UdpMode::Sink => PeerVerdict::Consumed(PeerConsumer::UdpSunk),
            UdpMode::Echo => {
                let mut reply = vec![0; HEADER_LEN + udp.payload().len()];
                reply[HEADER_LEN..].copy_from_slice(udp.payload());
                UdpRepr {
                    src_port: udp.dst_port(),
                    dst_port: udp.src_port(),
                }
                .emit(&mut reply, self.ip, ip.src)
                .expect("the echo is as long as a datagram that arrived");
                let d = Datagram {
                    dst: ip.src,
                    protocol: protocol::UDP,
                    payload: reply,
                };
                self.ip_send(d, at + self.turnaround);
                PeerVerdict::Consumed(PeerConsumer::UdpEchoed)
            }
        }
    }
}
