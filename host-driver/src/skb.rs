//! `struct sk_buff`: one buffer with headroom that describes a packet at every layer.
//!
//! Mirrors include/linux/skbuff.h: `data`/`tail` offsets into a shared buffer, `skb_push` /
//! `skb_pull` / `skb_put` / `skb_trim` move them instead of copying, `skb_clone` shares the buffer,
//! and writing into a shared buffer first unshares it (`skb_cow`). Every real data copy is counted
//! in [`Skb::copies`], which is what the reports show as "copies per packet".

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use thiserror::Error;

use crate::accounting::FrameId;
use crate::time::Cycle;

/// `SKB_DATA_ALIGN` (include/linux/skbuff.h): rounded up to `SMP_CACHE_BYTES` (64 on x86-64).
pub const fn skb_data_align(n: usize) -> usize {
    (n + 63) & !63
}

/// `sizeof(struct sk_buff)` on x86-64, 6.x.
const SIZEOF_SK_BUFF: usize = 232;
/// `sizeof(struct skb_shared_info)` on x86-64, 6.x.
const SIZEOF_SKB_SHARED_INFO: usize = 320;

/// Bytes of bookkeeping a kernel skb costs beyond its data: `SKB_DATA_ALIGN(sizeof(struct sk_buff))`
/// plus `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`, 256 + 320. Counted in [`Skb::truesize`],
/// which socket buffers are charged with (`skb->truesize`).
pub const SKB_OVERHEAD: usize =
    skb_data_align(SIZEOF_SK_BUFF) + skb_data_align(SIZEOF_SKB_SHARED_INFO);

/// `SKB_TRUESIZE(X)`: what an skb whose head holds `x` bytes of buffer costs.
pub const fn skb_truesize(x: usize) -> usize {
    x + SKB_OVERHEAD
}

/// A fixed truesize as stored in an [`Skb`] (it is never 0: the overhead alone is 576 bytes).
fn truesize_of(bytes: usize) -> Option<NonZeroU32> {
    NonZeroU32::new(u32::try_from(bytes).unwrap_or(u32::MAX))
}

/// A buffer offset as an skb stores it; buffers never reach 4 GiB.
fn offset32(off: usize) -> u32 {
    u32::try_from(off).expect("skb buffer below 4 GiB")
}

/// `NET_IP_ALIGN`: 2 bytes so the IP header after the 14-byte Ethernet header is 4-byte aligned.
pub const NET_IP_ALIGN: usize = 2;

/// Headroom `netdev_alloc_skb` reserves on a freshly allocated skb (`NET_SKB_PAD`).
pub const NET_SKB_PAD: usize = 64;

/// `skb->pkt_type`, set by `eth_type_trans` from the destination MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PacketType {
    /// `PACKET_HOST`: addressed to us.
    #[default]
    Host,
    /// `PACKET_BROADCAST`.
    Broadcast,
    /// `PACKET_MULTICAST`.
    Multicast,
    /// `PACKET_OTHERHOST`: another station's unicast seen in promiscuous mode.
    OtherHost,
    /// `PACKET_OUTGOING`: a frame we send, as seen by a tap.
    Outgoing,
}

/// An operation asked for more bytes than the skb holds.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SkbError {
    /// `skb_pull` / `pskb_may_pull` past the end of the data.
    #[error("skb {id}: cannot pull {want} bytes, only {have} in data")]
    Pull {
        id: FrameId,
        want: usize,
        have: usize,
    },
    /// A header offset was set to a position outside the buffer's current data.
    #[error("skb {id}: header offset {off} outside data [{data}, {tail}]")]
    HeaderOffset {
        id: FrameId,
        off: usize,
        data: usize,
        tail: usize,
    },
}

/// A sending socket's write-memory accounting (`sk_wmem_alloc`, `sk_sndbuf`, `SOCK_NOSPACE`), shared
/// by the socket and every skb charged to it, so whoever frees the skb (qdisc drop, TX reclaim, ...)
/// runs the destructor.
#[derive(Debug)]
pub struct SockWmem {
    alloc: AtomicUsize,
    sndbuf: usize,
    /// `SOCK_NOSPACE`: a sender found the buffer full and waits for `sk_write_space`.
    nospace: AtomicBool,
    /// When `sk_write_space` woke the waiting sender (`u64::MAX`: not woken).
    write_space_at: AtomicU64,
}

impl SockWmem {
    pub fn new(sndbuf: usize) -> SockWmem {
        SockWmem {
            alloc: AtomicUsize::new(0),
            sndbuf,
            nospace: AtomicBool::new(false),
            write_space_at: AtomicU64::new(u64::MAX),
        }
    }

    /// `sk_wmem_alloc`: truesize of the socket's skbs not yet freed.
    pub fn alloc(&self) -> usize {
        self.alloc.load(Ordering::Relaxed)
    }

    /// `sk_sndbuf`.
    pub fn sndbuf(&self) -> usize {
        self.sndbuf
    }

    /// The allocation test of `sock_alloc_send_pskb`: `sk_wmem_alloc < sk_sndbuf`.
    pub fn has_room(&self) -> bool {
        self.alloc() < self.sndbuf
    }

    /// `sock_writeable`: `sk_wmem_alloc < sk_sndbuf / 2`, the point `sock_def_write_space` wakes a
    /// writer at (it can make "significant" progress).
    pub fn sock_writeable(&self) -> bool {
        self.alloc() < self.sndbuf >> 1
    }

    /// `sock_alloc_send_pskb` found no room: `set_bit(SOCK_NOSPACE)`; the sender sleeps in
    /// `sock_wait_for_wmem` until [`SockWmem::write_space_at`].
    pub fn set_nospace(&self) {
        self.nospace.store(true, Ordering::Relaxed);
        self.write_space_at.store(u64::MAX, Ordering::Relaxed);
    }

    /// When `sk_write_space` woke the sleeping sender, if it has.
    pub fn write_space_at(&self) -> Option<Cycle> {
        match self.write_space_at.load(Ordering::Relaxed) {
            u64::MAX => None,
            at => Some(at),
        }
    }

    /// The woken sender ran.
    pub fn clear_write_space(&self) {
        self.write_space_at.store(u64::MAX, Ordering::Relaxed);
    }

    fn charge(&self, amount: usize) {
        self.alloc.fetch_add(amount, Ordering::Relaxed);
    }

    /// `sock_wfree`: uncharge `amount`; at a known time `now`, `sock_def_write_space_wfree` then
    /// wakes a sender waiting with `SOCK_NOSPACE` once the socket is writeable.
    fn sock_wfree(&self, amount: usize, now: Option<Cycle>) {
        self.alloc.fetch_sub(amount, Ordering::Relaxed);
        if let Some(now) = now {
            if self.sock_writeable() && self.nospace.swap(false, Ordering::Relaxed) {
                self.write_space_at.store(now, Ordering::Relaxed);
            }
        }
    }
}

/// `skb->destructor = sock_wfree`: the sending socket's `sk_wmem_alloc` charge for this skb.
/// [`Skb::free`] releases it at a known time (and may wake the writer); dropping an skb any other
/// way still uncharges it, without waking anyone.
#[derive(Debug)]
struct WmemCharge {
    wmem: Arc<SockWmem>,
    amount: usize,
}

impl Drop for WmemCharge {
    fn drop(&mut self) {
        if self.amount > 0 {
            self.wmem.sock_wfree(self.amount, None);
        }
    }
}

/// A packet buffer. `buf[data..tail]` is the packet as the current layer sees it; bytes before
/// `data` are headroom (already-pulled headers on receive, room for headers on send).
#[derive(Debug)]
pub struct Skb {
    /// Frame this buffer carries, for stamps and the terminal outcome.
    pub id: FrameId,
    /// Data copies made of this packet so far (allocation with payload, unshare, fragment, ...).
    pub copies: u32,
    /// `skb->protocol`: EtherType in host order, set by `eth_type_trans` or the sender.
    pub protocol: u16,
    /// `skb->pkt_type`.
    pub pkt_type: PacketType,
    /// `skb->priority`: the qdisc band selector on send (from the IP TOS).
    pub priority: u32,
    /// `skb_shinfo(skb)->gso_size`: payload bytes per segment of a GRO super-packet (0: not one).
    pub gso_size: u16,
    /// `skb_shinfo(skb)->gso_segs`: segments GRO merged into it (0: not a super-packet).
    pub gso_segs: u16,
    /// `skb->ip_summed == CHECKSUM_UNNECESSARY` (or GRO's `CHECKSUM_PARTIAL`): the transport checksum
    /// was verified before the protocol saw the skb, so it must not verify it again.
    pub csum_unnecessary: bool,
    /// The frames GRO merged behind `id`, in sequence order: what `skb_shinfo(skb)->frag_list` and the
    /// page fragments hold. Whoever ends the skb ends them too ([`Skb::frame_ids`]). A boxed slice (no
    /// allocation while empty) keeps `Skb` small.
    frag_ids: Box<[FrameId]>,
    /// `SKB_FCLONE_CLONE`: a TCP transmit clone carrying the frame of the original that stays on
    /// the retransmit queue; freeing it does not end the frame ([`crate::ctx::Ctx::end_skb`]).
    pub fclone: bool,
    buf: Arc<Vec<u8>>,
    data: usize,
    tail: usize,
    /// Header offsets into `buf`, 32-bit as the kernel keeps them narrow (`__u16 mac_header`), so that
    /// an `Skb` stays small.
    mac_off: Option<u32>,
    network_off: Option<u32>,
    transport_off: Option<u32>,
    owner: Option<WmemCharge>,
    /// The headroom belongs to this clone alone (`skb_header_release`, as `tcp_transmit_skb`
    /// clones): pushing headers into it is no data copy, though the simulator copies the bytes.
    header_private: bool,
    /// `skb->truesize` fixed by the receive constructors, which size it from the buffer the driver
    /// allocated rather than from the bytes in it.
    /// (A `NonZeroU32` keeps `Skb` small.)
    fixed_truesize: Option<NonZeroU32>,
}

impl Skb {
    /// `alloc_skb` + `skb_reserve(headroom)` + `skb_put_data(payload)`: the payload is copied in
    /// (one copy, e.g. `copy_from_user` in `udp_sendmsg`).
    pub fn with_headroom(id: FrameId, headroom: usize, payload: &[u8]) -> Skb {
        let mut buf = vec![0; headroom + payload.len()];
        buf[headroom..].copy_from_slice(payload);
        Skb {
            copies: 1,
            ..Skb::bare(id, buf, headroom)
        }
    }

    /// `alloc_skb` + `skb_reserve(headroom)` + `skb_put(len)`: `len` zeroed bytes for headers the
    /// stack writes itself (ARP, ICMP); nothing is copied.
    pub fn alloc(id: FrameId, headroom: usize, len: usize) -> Skb {
        Skb::bare(id, vec![0; headroom + len], headroom)
    }

    /// The driver hands a received DMA buffer to the stack without copying (page flip /
    /// `build_skb`): the frame starts at offset 0 and there is no headroom.
    pub fn from_dma(id: FrameId, frame: Vec<u8>) -> Skb {
        Skb::bare(id, frame, 0)
    }

    /// `napi_build_skb` over a whole receive buffer of `buffer_size` bytes (e1000's 2048): no copy,
    /// and the skb costs the entire buffer, `SKB_TRUESIZE(buffer_size)`, however short the frame.
    pub fn napi_build_skb(id: FrameId, frame: Vec<u8>, buffer_size: usize) -> Skb {
        Skb {
            fixed_truesize: truesize_of(skb_truesize(buffer_size)),
            ..Skb::bare(id, frame, 0)
        }
    }

    /// `napi_alloc_skb(len)` + `skb_put_data` (e1000_copybreak): a small skb with `NET_SKB_PAD +
    /// NET_IP_ALIGN` headroom and `frame` copied in (one copy); its truesize is that small head,
    /// `SKB_TRUESIZE(SKB_DATA_ALIGN(NET_SKB_PAD + NET_IP_ALIGN + len))`.
    pub fn napi_alloc_skb_copy(id: FrameId, frame: &[u8]) -> Skb {
        let headroom = NET_SKB_PAD + NET_IP_ALIGN;
        Skb {
            fixed_truesize: truesize_of(skb_truesize(skb_data_align(headroom + frame.len()))),
            ..Skb::with_headroom(id, headroom, frame)
        }
    }

    fn bare(id: FrameId, buf: Vec<u8>, data: usize) -> Skb {
        let tail = buf.len();
        Skb {
            id,
            copies: 0,
            protocol: 0,
            pkt_type: PacketType::Host,
            priority: 0,
            gso_size: 0,
            gso_segs: 0,
            csum_unnecessary: false,
            frag_ids: Box::default(),
            fclone: false,
            buf: Arc::new(buf),
            data,
            tail,
            mac_off: None,
            network_off: None,
            transport_off: None,
            owner: None,
            header_private: false,
            fixed_truesize: None,
        }
    }

    /// `skb_set_owner_w`: charges `truesize` to a socket's `sk_wmem_alloc` until this skb is freed.
    pub fn set_owner_w(&mut self, wmem: &Arc<SockWmem>) {
        let amount = self.truesize();
        wmem.charge(amount);
        self.owner = Some(WmemCharge {
            wmem: Arc::clone(wmem),
            amount,
        });
    }

    /// The socket write memory this skb is charged to, if a socket owns it.
    pub fn owner_w(&self) -> Option<&Arc<SockWmem>> {
        self.owner.as_ref().map(|o| &o.wmem)
    }

    /// `kfree_skb` / `consume_skb` at cycle `now`: runs the destructor (`sock_wfree`), which may
    /// wake a sender waiting for send-buffer space (`sk_write_space`).
    pub fn free(mut self, now: Cycle) {
        if let Some(mut charge) = self.owner.take() {
            charge
                .wmem
                .sock_wfree(std::mem::take(&mut charge.amount), Some(now));
        }
    }

    /// Every wire or host frame this skb carries: its own, then those GRO merged into it.
    pub fn frame_ids(&self) -> impl Iterator<Item = FrameId> + '_ {
        std::iter::once(self.id).chain(self.frag_ids.iter().copied())
    }

    /// `skb_gro_receive` (net/core/gro.c): `seg`'s data from `offset` on joins the end of this skb, its
    /// frames join [`Skb::frame_ids`] and its buffer's truesize is charged here, less the `sk_buff`
    /// the kernel frees (`SKB_DATA_ALIGN(sizeof(struct sk_buff))`). The kernel moves the page, so no
    /// copy is counted.
    pub fn gro_receive(&mut self, seg: Skb, offset: usize) {
        let truesize = self.truesize() + seg.truesize() - skb_data_align(SIZEOF_SK_BUFF);
        let tail = self.tail;
        let buf = Arc::make_mut(&mut self.buf);
        buf.truncate(tail);
        buf.extend_from_slice(&seg.data()[offset..]);
        self.tail = buf.len();
        self.fixed_truesize = truesize_of(truesize);
        let mut ids = std::mem::take(&mut self.frag_ids).into_vec();
        ids.extend(seg.frame_ids());
        self.frag_ids = ids.into_boxed_slice();
    }

    /// The packet from the current layer on.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.data..self.tail]
    }

    /// Writable packet data; unshares a cloned buffer first (`skb_cow`, counted as a copy).
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (data, tail) = (self.data, self.tail);
        &mut self.buf_mut()[data..tail]
    }

    /// `skb->len`.
    pub fn len(&self) -> usize {
        self.tail - self.data
    }

    /// No data left.
    pub fn is_empty(&self) -> bool {
        self.tail == self.data
    }

    /// `skb_headroom`.
    pub fn headroom(&self) -> usize {
        self.data
    }

    /// `skb_tailroom`.
    pub fn tailroom(&self) -> usize {
        self.buf.len() - self.tail
    }

    /// `skb->truesize`: buffer plus bookkeeping, what a socket's receive buffer is charged.
    pub fn truesize(&self) -> usize {
        self.fixed_truesize
            .map_or_else(|| skb_truesize(self.buf.len()), |t| t.get() as usize)
    }

    /// The buffer is shared with a clone (`skb_cloned`).
    pub fn is_cloned(&self) -> bool {
        Arc::strong_count(&self.buf) > 1
    }

    /// `skb_push`: prepend `n` bytes (a header on send) and return them for writing. Without
    /// enough headroom the head is reallocated (`pskb_expand_head`, counted as a copy) rather
    /// than failing like `skb_under_panic`.
    pub fn push(&mut self, n: usize) -> &mut [u8] {
        if self.data < n {
            self.expand_head(n - self.data + NET_SKB_PAD);
        }
        self.data -= n;
        let (data, end) = (self.data, self.data + n);
        &mut self.buf_mut()[data..end]
    }

    /// `skb_pull`: strip `n` bytes from the front (a header on receive) and return them.
    pub fn pull(&mut self, n: usize) -> Result<&[u8], SkbError> {
        if n > self.len() {
            return Err(SkbError::Pull {
                id: self.id,
                want: n,
                have: self.len(),
            });
        }
        let start = self.data;
        self.data += n;
        Ok(&self.buf[start..self.data])
    }

    /// `skb_put`: append `n` zeroed bytes at the tail and return them for writing; grows the
    /// buffer (counted as a copy) when tailroom is short.
    pub fn put(&mut self, n: usize) -> &mut [u8] {
        let start = self.tail;
        if self.tailroom() < n {
            match Arc::get_mut(&mut self.buf) {
                // Room left at allocation (`sk_stream_alloc_skb`): no reallocation.
                Some(b) if b.len() == start && b.capacity() >= start + n => b.resize(start + n, 0),
                _ => {
                    let mut buf = Vec::with_capacity(start + n);
                    buf.extend_from_slice(&self.buf[..start]);
                    buf.resize(start + n, 0);
                    self.buf = Arc::new(buf);
                    self.copies += 1;
                }
            }
        }
        self.tail += n;
        let out = &mut self.buf_mut()[start..start + n];
        out.fill(0);
        out
    }

    /// `skb_trim` / `pskb_trim_rcsum`: cut the data to `len` bytes (e.g. Ethernet padding behind
    /// the IP total length). A `len` at or above the current length changes nothing.
    pub fn trim(&mut self, len: usize) {
        if len < self.len() {
            self.tail = self.data + len;
        }
    }

    /// `skb_clone`: a second skb over the same buffer (no data copy), e.g. for an AF_PACKET tap.
    pub fn clone_skb(&self) -> Skb {
        Skb {
            id: self.id,
            copies: self.copies,
            protocol: self.protocol,
            pkt_type: self.pkt_type,
            priority: self.priority,
            gso_size: self.gso_size,
            gso_segs: self.gso_segs,
            csum_unnecessary: self.csum_unnecessary,
            frag_ids: self.frag_ids.clone(),
            fclone: false,
            header_private: false,
            buf: Arc::clone(&self.buf),
            data: self.data,
            tail: self.tail,
            mac_off: self.mac_off,
            network_off: self.network_off,
            transport_off: self.transport_off,
            // skb_clone leaves the destructor unset: only the original holds the socket charge.
            owner: None,
            fixed_truesize: self.fixed_truesize,
        }
    }

    /// `skb_clone` + `skb_header_release` (`tcp_transmit_skb`): a clone whose headers may be
    /// written without counting a copy of the shared payload.
    pub fn clone_nohdr(&self) -> Skb {
        Skb {
            header_private: true,
            ..self.clone_skb()
        }
    }

    /// `sk_stream_alloc_skb` + copy from user: `headroom` for headers, `payload` copied in (one
    /// copy), room for `capacity` payload bytes so later sends can append without reallocating.
    pub fn with_headroom_capacity(
        id: FrameId,
        headroom: usize,
        payload: &[u8],
        capacity: usize,
    ) -> Skb {
        let mut buf = Vec::with_capacity(headroom + capacity.max(payload.len()));
        buf.resize(headroom, 0);
        buf.extend_from_slice(payload);
        Skb {
            copies: 1,
            ..Skb::bare(id, buf, headroom)
        }
    }

    /// `skb_copy`: a private copy of the whole buffer under frame `id` (counted as one copy). The copy
    /// is a frame of its own: the frames merged into the original stay the original's to end.
    pub fn copy_skb(&self, id: FrameId) -> Skb {
        Skb {
            id,
            copies: self.copies + 1,
            frag_ids: Box::default(),
            buf: Arc::new(self.buf.as_ref().clone()),
            ..self.clone_skb()
        }
    }

    /// `skb_reset_mac_header`: the link header starts at `data`.
    pub fn reset_mac_header(&mut self) {
        self.mac_off = Some(offset32(self.data));
    }

    /// `skb_reset_network_header`: the network header starts at `data`.
    pub fn reset_network_header(&mut self) {
        self.network_off = Some(offset32(self.data));
    }

    /// `skb_reset_transport_header`: the transport header starts at `data`.
    pub fn reset_transport_header(&mut self) {
        self.transport_off = Some(offset32(self.data));
    }

    /// `skb_set_transport_header(skb, offset)`: transport header `offset` bytes after `data`.
    pub fn set_transport_header(&mut self, offset: usize) -> Result<(), SkbError> {
        let off = self.data + offset;
        self.check_off(off)?;
        self.transport_off = Some(offset32(off));
        Ok(())
    }

    /// Bytes from the link header to the tail (`skb_mac_header`), if one was marked.
    pub fn mac_header(&self) -> Option<&[u8]> {
        self.mac_off.map(|o| &self.buf[o as usize..self.tail])
    }

    /// Bytes from the network header to the tail (`skb_network_header`), if one was marked.
    pub fn network_header(&self) -> Option<&[u8]> {
        self.network_off.map(|o| &self.buf[o as usize..self.tail])
    }

    /// Bytes from the transport header to the tail (`skb_transport_header`), if one was marked.
    pub fn transport_header(&self) -> Option<&[u8]> {
        self.transport_off.map(|o| &self.buf[o as usize..self.tail])
    }

    /// `skb_network_offset`: network header position relative to `data` (negative once pulled).
    pub fn network_offset(&self) -> Option<isize> {
        self.network_off.map(|o| o as isize - self.data as isize)
    }

    /// `skb_transport_offset`: transport header position relative to `data`.
    pub fn transport_offset(&self) -> Option<isize> {
        self.transport_off.map(|o| o as isize - self.data as isize)
    }

    fn check_off(&self, off: usize) -> Result<(), SkbError> {
        if off > self.tail {
            return Err(SkbError::HeaderOffset {
                id: self.id,
                off,
                data: self.data,
                tail: self.tail,
            });
        }
        Ok(())
    }

    /// The buffer for writing; a shared buffer is copied first (`skb_cow`).
    fn buf_mut(&mut self) -> &mut Vec<u8> {
        if self.is_cloned() && !std::mem::take(&mut self.header_private) {
            self.copies += 1;
        }
        Arc::make_mut(&mut self.buf)
    }

    /// `pskb_expand_head`: a new buffer with `extra` more bytes of headroom; offsets move along.
    fn expand_head(&mut self, extra: usize) {
        let mut buf = vec![0; extra + self.buf.len()];
        buf[extra..].copy_from_slice(&self.buf);
        self.buf = Arc::new(buf);
        self.copies += 1;
        self.data += extra;
        self.tail += extra;
        for o in [
            &mut self.mac_off,
            &mut self.network_off,
            &mut self.transport_off,
        ]
        .into_iter()
        .flatten()
        {
            *o += offset32(extra);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_headroom_counts_one_copy_and_reserves_room() {
        let skb = Skb::with_headroom(7, 32, b"payload");
        assert_eq!(skb.copies, 1);
        assert_eq!(skb.headroom(), 32);
        assert_eq!(skb.data(), b"payload");
        assert_eq!(skb.truesize(), 32 + 7 + SKB_OVERHEAD);
    }

    #[test]
    fn napi_build_skb_costs_skb_truesize_of_the_whole_buffer() {
        // SKB_TRUESIZE(2048) = 2048 + SKB_DATA_ALIGN(232) + SKB_DATA_ALIGN(320).
        let skb = Skb::napi_build_skb(1, vec![0; 60], 2048);
        assert_eq!((skb.truesize(), skb.copies), (2048 + 256 + 320, 0));
    }

    #[test]
    fn napi_alloc_skb_copy_for_e1000_copybreak_is_small_and_counts_the_copy() {
        let skb = Skb::napi_alloc_skb_copy(1, &[7; 60]);
        assert_eq!(skb.copies, 1);
        assert_eq!(skb.headroom(), NET_SKB_PAD + NET_IP_ALIGN);
        // SKB_DATA_ALIGN(64 + 2 + 60) = 128.
        assert_eq!(skb.truesize(), 128 + 576);
        assert_eq!(skb.data(), &[7; 60]);
    }

    #[test]
    fn from_dma_is_zero_copy() {
        let skb = Skb::from_dma(1, vec![1, 2, 3]);
        assert_eq!(skb.copies, 0);
        assert_eq!(skb.len(), 3);
        assert_eq!(skb.headroom(), 0);
    }

    #[test]
    fn push_then_pull_round_trips_headers() {
        let mut skb = Skb::with_headroom(1, 20, b"data");
        skb.push(4).copy_from_slice(b"hdr:");
        assert_eq!(skb.data(), b"hdr:data");
        assert_eq!(skb.pull(4).unwrap(), b"hdr:");
        assert_eq!(skb.data(), b"data");
        assert_eq!(skb.copies, 1, "push within headroom copies nothing");
    }

    #[test]
    fn push_beyond_headroom_expands_and_keeps_offsets() {
        let mut skb = Skb::with_headroom(1, 2, b"xy");
        skb.reset_network_header();
        skb.push(8).copy_from_slice(b"ethernet");
        assert_eq!(skb.data(), b"ethernetxy");
        assert_eq!(skb.network_header().unwrap(), b"xy");
        assert_eq!(skb.network_offset(), Some(8));
        assert_eq!(skb.copies, 2, "allocation + head expansion");
    }

    #[test]
    fn pull_past_end_is_an_error() {
        let mut skb = Skb::from_dma(9, vec![0; 10]);
        assert_eq!(
            skb.pull(11),
            Err(SkbError::Pull {
                id: 9,
                want: 11,
                have: 10
            })
        );
        assert_eq!(skb.len(), 10, "failed pull leaves data untouched");
    }

    #[test]
    fn trim_cuts_padding_only() {
        let mut skb = Skb::from_dma(1, b"abcdef".to_vec());
        skb.trim(10);
        assert_eq!(skb.len(), 6);
        skb.trim(4);
        assert_eq!(skb.data(), b"abcd");
    }

    #[test]
    fn put_appends_zeroed_bytes() {
        let mut skb = Skb::with_headroom(1, 0, b"ab");
        skb.put(2).copy_from_slice(b"cd");
        assert_eq!(skb.data(), b"abcd");
        assert_eq!(skb.copies, 2, "growing the tail reallocates");
    }

    #[test]
    fn clone_shares_until_written() {
        let mut skb = Skb::from_dma(5, b"shared".to_vec());
        let tap = skb.clone_skb();
        assert!(skb.is_cloned() && tap.is_cloned());
        assert_eq!(tap.id, 5);
        assert_eq!(skb.copies, 0, "clone copies no data");
        skb.data_mut()[0] = b'S';
        assert_eq!(skb.copies, 1, "writing a shared buffer unshares it");
        assert_eq!(skb.data(), b"Shared");
        assert_eq!(tap.data(), b"shared");
        assert!(!tap.is_cloned());
    }

    #[test]
    fn copy_skb_is_private_and_counted() {
        let skb = Skb::from_dma(1, b"abc".to_vec());
        let copy = skb.copy_skb(2);
        assert!(!skb.is_cloned());
        assert_eq!((copy.id, copy.copies, copy.data()), (2, 1, &b"abc"[..]));
    }

    #[test]
    fn wmem_charge_is_released_when_the_skb_is_freed() {
        let wmem = Arc::new(SockWmem::new(10_000));
        let mut skb = Skb::with_headroom(1, 64, &[0; 100]);
        skb.set_owner_w(&wmem);
        assert_eq!(wmem.alloc(), skb.truesize());
        let clone = skb.clone_skb();
        assert!(clone.owner_w().is_none());
        drop(skb);
        assert_eq!(wmem.alloc(), 0);
        drop(clone);
    }

    /// `sock_wfree` → `sock_def_write_space_wfree`: a sender waiting with `SOCK_NOSPACE` is woken
    /// only once `sock_writeable` (`sk_wmem_alloc < sk_sndbuf / 2`), at the free's time.
    #[test]
    fn sock_wfree_wakes_the_writer_once_sock_writeable() {
        let wmem = Arc::new(SockWmem::new(1900));
        let skbs: Vec<Skb> = (0..3)
            .map(|id| {
                let mut skb = Skb::with_headroom(id, 64, &[0; 10]);
                skb.set_owner_w(&wmem);
                skb
            })
            .collect();
        assert!(!wmem.has_room(), "3 x 650 >= 1900");
        wmem.set_nospace();
        let mut skbs = skbs.into_iter();
        skbs.next().unwrap().free(10);
        assert!(wmem.has_room());
        assert_eq!(wmem.write_space_at(), None, "1300 is not below 950");
        skbs.next().unwrap().free(20);
        assert_eq!(wmem.write_space_at(), Some(20));
        skbs.next().unwrap().free(30);
        assert_eq!(wmem.write_space_at(), Some(20), "woken once");
        wmem.clear_write_space();
        assert_eq!((wmem.alloc(), wmem.write_space_at()), (0, None));
    }

    #[test]
    fn header_offsets_follow_pulls() {
        let mut skb = Skb::from_dma(1, (0u8..40).collect());
        skb.reset_mac_header();
        skb.pull(14).unwrap();
        skb.reset_network_header();
        skb.set_transport_header(20).unwrap();
        assert_eq!(skb.mac_header().unwrap()[0], 0);
        assert_eq!(skb.network_header().unwrap()[0], 14);
        assert_eq!(skb.transport_header().unwrap()[0], 34);
        assert_eq!(skb.transport_offset(), Some(20));
        assert!(matches!(
            skb.set_transport_header(100),
            Err(SkbError::HeaderOffset { .. })
        ));
    }
}
