//! UDP sockets (`struct udp_sock` and the `udp_table` hash): bind, connect, autobind from the
//! ephemeral range, the scored lookup of `__udp4_lib_lookup`, and the receive queue with
//! `sk_rcvbuf` accounting of `__udp_enqueue_schedule_skb`.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use thiserror::Error;

use crate::skb::{Skb, SockWmem};
use crate::time::Cycle;

/// Index of a socket in the stack's table.
pub type SocketId = usize;

/// A failed socket call, with the errno the kernel would return.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SocketError {
    #[error("EADDRINUSE: {addr} is already bound")]
    AddrInUse { addr: SocketAddrV4 },
    #[error("EAGAIN: no free port in the ephemeral range {lo}..={hi}")]
    NoEphemeralPort { lo: u16, hi: u16 },
    #[error("ENETUNREACH: no route to {dst}")]
    NetUnreachable { dst: Ipv4Addr },
    #[error("EAGAIN: send buffer full ({wmem_alloc} of {sndbuf} bytes in flight)")]
    WouldBlock { wmem_alloc: usize, sndbuf: usize },
    #[error("ENOBUFS: the device queue dropped the datagram (NET_XMIT_DROP)")]
    NoBufs,
    #[error("EMSGSIZE: {len} bytes do not fit one datagram (max {max})")]
    MsgSize { len: usize, max: usize },
    #[error("EDESTADDRREQ: unconnected socket needs a destination")]
    DestAddrRequired,
    #[error("EBADF: no such socket")]
    BadFd,
    #[error("EINVAL: invalid argument for the socket's state")]
    InvalidArg,
    #[error("EADDRNOTAVAIL: {addr} is not an address of this host")]
    AddrNotAvail { addr: Ipv4Addr },
    #[error("EISCONN: already connected")]
    IsConnected,
    #[error("EINPROGRESS: connection in progress")]
    InProgress,
    #[error("ECONNREFUSED: connection refused")]
    ConnRefused,
    #[error("ECONNRESET: connection reset by peer")]
    ConnReset,
    #[error("ETIMEDOUT: connection timed out")]
    TimedOut,
    #[error("ENOTCONN: not connected")]
    NotConnected,
    #[error("EPIPE: the connection is shut down for writing")]
    Pipe,
}

/// A datagram waiting on a receive queue.
#[derive(Debug)]
pub struct Datagram {
    /// Data starts at the UDP payload.
    pub skb: Skb,
    pub from: SocketAddrV4,
    /// `skb->csum_valid`: the UDP checksum was verified on receive; if not, `udp_recvmsg` verifies it.
    pub csum_valid: bool,
}

#[derive(Debug)]
pub struct UdpSocket {
    /// Bound address; port 0 = not bound yet, address UNSPECIFIED = INADDR_ANY.
    pub local: SocketAddrV4,
    /// Connected peer (`connect`), matched exactly on receive.
    pub remote: Option<SocketAddrV4>,
    /// `sk_rcvbuf` in bytes of skb truesize.
    pub rcvbuf: usize,
    /// IP TOS of sent datagrams (`IP_TOS`).
    pub tos: u8,
    /// `SO_REUSEADDR` (`sk->sk_reuse`).
    pub reuseaddr: bool,
    rmem_alloc: usize,
    /// `sk_wmem_alloc` and `sk_sndbuf`, shared with the skbs charged to them.
    wmem: Arc<SockWmem>,
    queue: VecDeque<Datagram>,
    /// A reader sleeps in `recvfrom` (on `sk_wq`).
    reader_waiting: bool,
    /// When `sk_data_ready` woke the sleeping reader.
    woken_at: Option<Cycle>,
    /// `sk_drops`.
    drops: u64,
}

impl UdpSocket {
    /// `sk_rmem_alloc`.
    pub fn rmem_alloc(&self) -> usize {
        self.rmem_alloc
    }

    /// `sk_wmem_alloc`, `sk_sndbuf` and the writer's wait state.
    pub fn wmem(&self) -> &Arc<SockWmem> {
        &self.wmem
    }

    /// Datagrams queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn drops(&self) -> u64 {
        self.drops
    }

    /// `__udp_enqueue_schedule_skb`: refuses the skb only if the queue is already *over*
    /// `sk_rcvbuf` before adding it, so one datagram may overshoot (as the kernel allows).
    /// Charges `truesize` (`skb_set_owner_r`).
    pub fn enqueue(&mut self, dgram: Datagram) -> Result<(), Datagram> {
        if self.rmem_alloc > self.rcvbuf {
            self.drops += 1;
            return Err(dgram);
        }
        self.rmem_alloc += dgram.skb.truesize();
        self.queue.push_back(dgram);
        Ok(())
    }

    /// Takes the oldest datagram and uncharges it (`skb_consume_udp` → `udp_rmem_release`).
    pub fn dequeue(&mut self) -> Option<Datagram> {
        let d = self.queue.pop_front()?;
        self.rmem_alloc -= d.skb.truesize();
        Some(d)
    }

    /// The reader goes to sleep until `sk_data_ready`.
    pub fn wait_for_data(&mut self) {
        self.reader_waiting = true;
        self.woken_at = None;
    }

    /// `sk_data_ready` → `sock_def_readable`: wakes a sleeping reader. Returns true if one slept.
    pub fn data_ready(&mut self, now: Cycle) -> bool {
        if !self.reader_waiting {
            return false;
        }
        self.reader_waiting = false;
        self.woken_at = Some(now);
        true
    }

    /// When the sleeping reader was woken, if it was.
    pub fn woken_at(&self) -> Option<Cycle> {
        self.woken_at
    }

    /// The reader has run after its wake-up.
    pub fn clear_wakeup(&mut self) {
        self.woken_at = None;
    }
}

/// All UDP sockets of the host.
#[derive(Debug)]
pub struct SocketTable {
    socks: Vec<UdpSocket>,
    /// `ip_local_port_range`.
    range: (u16, u16),
    /// Next ephemeral port to try. The kernel starts at a random offset; a cursor keeps runs
    /// deterministic.
    cursor: u16,
}

impl SocketTable {
    pub fn new(range: (u16, u16)) -> SocketTable {
        SocketTable {
            socks: Vec::new(),
            range,
            cursor: range.0,
        }
    }

    /// `socket(AF_INET, SOCK_DGRAM, 0)`.
    pub fn socket(&mut self, rcvbuf: usize, sndbuf: usize) -> SocketId {
        self.socks.push(UdpSocket {
            local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            remote: None,
            rcvbuf,
            tos: 0,
            reuseaddr: false,
            rmem_alloc: 0,
            wmem: Arc::new(SockWmem::new(sndbuf)),
            queue: VecDeque::new(),
            reader_waiting: false,
            woken_at: None,
            drops: 0,
        });
        self.socks.len() - 1
    }

    pub fn get(&self, id: SocketId) -> &UdpSocket {
        &self.socks[id]
    }

    pub fn get_mut(&mut self, id: SocketId) -> &mut UdpSocket {
        &mut self.socks[id]
    }

    /// Another socket holds `addr`'s port on an overlapping address (`udp_lib_lport_inuse`: not if
    /// both set SO_REUSEADDR).
    fn in_use(&self, except: SocketId, addr: SocketAddrV4) -> bool {
        let reuse = self.socks[except].reuseaddr;
        self.socks.iter().enumerate().any(|(i, s)| {
            i != except
                && !(reuse && s.reuseaddr)
                && s.local.port() == addr.port()
                && (s.local.ip().is_unspecified()
                    || addr.ip().is_unspecified()
                    || s.local.ip() == addr.ip())
        })
    }

    /// `bind`; port 0 picks an ephemeral port (`udp_lib_get_port`).
    pub fn bind(&mut self, id: SocketId, addr: SocketAddrV4) -> Result<(), SocketError> {
        let addr = if addr.port() == 0 {
            SocketAddrV4::new(*addr.ip(), self.ephemeral_port(id, *addr.ip())?)
        } else {
            addr
        };
        if self.in_use(id, addr) {
            return Err(SocketError::AddrInUse { addr });
        }
        self.socks[id].local = addr;
        Ok(())
    }

    /// `inet_autobind`: binds an unbound socket to an ephemeral port on INADDR_ANY.
    pub fn autobind(&mut self, id: SocketId) -> Result<(), SocketError> {
        if self.socks[id].local.port() != 0 {
            return Ok(());
        }
        self.bind(id, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    }

    fn ephemeral_port(&mut self, id: SocketId, ip: Ipv4Addr) -> Result<u16, SocketError> {
        let (lo, hi) = self.range;
        let span = u32::from(hi - lo) + 1;
        for step in 0..span {
            let port = lo + ((u32::from(self.cursor - lo) + step) % span) as u16;
            if !self.in_use(id, SocketAddrV4::new(ip, port)) {
                self.cursor = if port == hi { lo } else { port + 1 };
                return Ok(port);
            }
        }
        Err(SocketError::NoEphemeralPort { lo, hi })
    }

    /// `connect`: fixes the peer; autobinds first.
    pub fn connect(&mut self, id: SocketId, remote: SocketAddrV4) -> Result<(), SocketError> {
        self.autobind(id)?;
        self.socks[id].remote = Some(remote);
        Ok(())
    }

    /// `__udp4_lib_lookup` / `compute_score`: among sockets bound to `dport`, skip any whose
    /// bound address or connected peer contradicts the packet; prefer the most specific
    /// (bound address +4, connected peer +4); the first created wins a tie.
    pub fn lookup(&self, src: SocketAddrV4, dst: SocketAddrV4) -> Option<SocketId> {
        let mut best: Option<(u32, SocketId)> = None;
        for (id, s) in self.socks.iter().enumerate() {
            if s.local.port() != dst.port() {
                continue;
            }
            let mut score = 0;
            if !s.local.ip().is_unspecified() {
                if s.local.ip() != dst.ip() {
                    continue;
                }
                score += 4;
            }
            if let Some(r) = s.remote {
                if r != src {
                    continue;
                }
                score += 4;
            }
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The sockets `__udp4_lib_mcast_deliver` hands a broadcast or multicast datagram to, in creation
    /// order: `__udp_is_mcast_sock` — bound to `dst`'s port, on INADDR_ANY or `dst`'s address, and not
    /// connected to another peer.
    pub fn mcast_lookup(&self, src: SocketAddrV4, dst: SocketAddrV4) -> Vec<SocketId> {
        (0..self.socks.len())
            .filter(|&id| {
                let s = &self.socks[id];
                s.local.port() == dst.port()
                    && (s.local.ip().is_unspecified() || s.local.ip() == dst.ip())
                    && s.remote.is_none_or(|r| r == src)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    fn dgram(id: u64, len: usize) -> Datagram {
        Datagram {
            csum_valid: true,
            skb: Skb::from_dma(id, vec![0; len]),
            from: sa("10.0.0.2:1000"),
        }
    }

    #[test]
    fn lookup_prefers_connected_then_bound_address() {
        let mut t = SocketTable::new((40000, 40010));
        let any = t.socket(1000, 1000);
        t.bind(any, sa("0.0.0.0:53")).unwrap();
        let conn = t.socket(1000, 1000);
        t.bind(conn, sa("10.0.0.1:54")).unwrap();
        t.connect(conn, sa("10.0.0.2:1000")).unwrap();
        let any54 = t.socket(1000, 1000);
        assert_eq!(
            t.bind(any54, sa("0.0.0.0:54")),
            Err(SocketError::AddrInUse {
                addr: sa("0.0.0.0:54")
            })
        );
        assert_eq!(t.lookup(sa("10.0.0.9:1"), sa("10.0.0.1:53")), Some(any));
        assert_eq!(t.lookup(sa("10.0.0.2:1000"), sa("10.0.0.1:54")), Some(conn));
        assert_eq!(
            t.lookup(sa("10.0.0.3:1000"), sa("10.0.0.1:54")),
            None,
            "wrong peer"
        );
        assert_eq!(t.lookup(sa("10.0.0.2:1000"), sa("10.0.0.1:55")), None);
    }

    #[test]
    fn autobind_walks_the_ephemeral_range_and_runs_out() {
        let mut t = SocketTable::new((40000, 40001));
        let a = t.socket(1, 1);
        let b = t.socket(1, 1);
        let c = t.socket(1, 1);
        t.autobind(a).unwrap();
        t.autobind(b).unwrap();
        assert_eq!(
            (t.get(a).local.port(), t.get(b).local.port()),
            (40000, 40001)
        );
        assert_eq!(
            t.autobind(c),
            Err(SocketError::NoEphemeralPort {
                lo: 40000,
                hi: 40001
            })
        );
        t.autobind(a).unwrap();
        assert_eq!(t.get(a).local.port(), 40000, "already bound: unchanged");
    }

    #[test]
    fn rcvbuf_allows_one_overshoot_then_drops() {
        let mut t = SocketTable::new((40000, 40001));
        let s = t.socket(1000, 1000);
        let sock = t.get_mut(s);
        sock.enqueue(dgram(1, 100)).unwrap();
        let first = sock.rmem_alloc();
        assert_eq!(first, 100 + crate::skb::SKB_OVERHEAD);
        sock.enqueue(dgram(2, 100)).unwrap();
        assert!(sock.rmem_alloc() > 1000, "second one overshoots");
        assert_eq!(sock.enqueue(dgram(3, 100)).unwrap_err().skb.id, 3);
        assert_eq!(sock.drops(), 1);
        assert_eq!(sock.dequeue().unwrap().skb.id, 1);
        assert_eq!(sock.rmem_alloc(), first);
    }

    #[test]
    fn data_ready_wakes_only_a_sleeping_reader() {
        let mut t = SocketTable::new((40000, 40001));
        let id = t.socket(1, 1);
        let s = t.get_mut(id);
        assert!(!s.data_ready(5), "nobody sleeps");
        s.wait_for_data();
        assert!(s.data_ready(7));
        assert_eq!(s.woken_at(), Some(7));
        assert!(!s.data_ready(8), "already awake");
        s.clear_wakeup();
        assert_eq!(s.woken_at(), None);
    }
}
