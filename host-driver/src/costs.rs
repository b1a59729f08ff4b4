//! The host cost table: what each piece of software work costs in simulated time.
//!
//! Every default carries its source or rationale. Figures are for a ~3 GHz x86-64 server core running a
//! 6.x kernel with a PCIe Gen3 NIC; they are meant to be overridden per scenario (`host.costs`) when
//! modelling another machine. All durations are nanoseconds unless the name says otherwise.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Costs {
    // ---- PCIe / MMIO ----
    /// One-way PCIe latency between CPU and device, applied by the platform to each MMIO direction.
    /// Neugebauer et al., "Understanding PCIe performance for end host networking" (SIGCOMM'18) measure
    /// ~1 µs for a small uncached read round trip on Gen3; device response time adds a few cycles.
    pub pcie_one_way_ns: u64,
    /// CPU-side cost of a posted (uncached, write-combining off) MMIO write: the store retires once it is
    /// in the write buffer, ~100 ns including the serialising `wmb()` the driver issues before a doorbell.
    pub mmio_write_ns: u64,

    // ---- Hard IRQ ----
    /// MSI delivery, from the device raising its interrupt to the CPU taking it: the MSI is a posted
    /// memory write upstream over PCIe (one crossing, the ~450 ns one-way of `pcie_one_way_ns`,
    /// Neugebauer et al. SIGCOMM'18) plus interrupt remapping and local APIC acceptance (~50 ns). The CPU
    /// is free meanwhile.
    pub msi_delivery_ns: u64,
    /// IRQ entry on the CPU: IDT vector, `common_interrupt`/`handle_edge_irq` up to the handler, plus
    /// exit. Delivery and entry together are ~1 µs with ftrace irq:irq_handler_entry on server parts;
    /// this is that figure less `msi_delivery_ns`.
    pub irq_entry_ns: u64,
    /// Body of `e1000_intr` besides its MMIO accesses (bookkeeping, `napi_schedule_prep`).
    pub isr_ns: u64,
    /// `napi_schedule` → `____napi_schedule`: list_add to poll_list and raising NET_RX_SOFTIRQ.
    pub napi_schedule_ns: u64,

    // ---- Softirq / NAPI ----
    /// `__do_softirq` entry and `net_rx_action` setup (local_irq_disable/enable, list splice).
    pub softirq_entry_ns: u64,
    /// Per call of a NAPI `poll` callback besides per-packet work (`e1000_clean` prologue, TX reclaim scan).
    pub napi_poll_ns: u64,
    /// `napi_complete_done` including `gro_normal_list` flush bookkeeping.
    pub napi_complete_ns: u64,
    /// Per harvested RX descriptor in `e1000_clean_rx_irq`: read status, `dma_unmap_single`, `skb_put`,
    /// `eth_type_trans` prefetch; ~100 ns ≈ 300 cycles, in line with perf profiles of igb/e1000e.
    pub driver_rx_per_packet_ns: u64,
    /// Per buffer in `e1000_alloc_rx_buffers`: `netdev_alloc_skb_ip_align` (page-frag allocator fast path)
    /// plus `dma_map_single` without IOMMU; ~150 ns.
    pub alloc_rx_buffer_ns: u64,
    /// `napi_gro_receive` for one skb: the GRO list walk and, for TCP, the merge decision (the software
    /// checksum `tcp4_gro_receive` does without offload is not charged apart).
    pub gro_receive_ns: u64,
    /// `napi_gro_flush` / `gro_normal_list` handing one held skb up.
    pub gro_flush_per_packet_ns: u64,

    // ---- RPS ----
    /// `get_rps_cpu` + `enqueue_to_backlog` for one skb (hash, rps_map lookup, queue lock).
    pub rps_enqueue_ns: u64,
    /// Inter-processor interrupt to a remote CPU (`net_rps_send_ipi`): ~1 µs on one socket.
    pub ipi_ns: u64,
    /// `process_backlog` per dequeued skb (queue splice and re-lock).
    pub backlog_per_packet_ns: u64,

    // ---- Stack, receive ----
    /// `__netif_receive_skb_core`: taps check, `ptype_base` walk.
    pub netif_receive_ns: u64,
    /// `ip_rcv` + `ip_rcv_finish`: header checks, checksum of 20 B, route lookup cache hit.
    pub ip_rcv_ns: u64,
    /// `ip_local_deliver` + `inet_protos` dispatch.
    pub ip_local_deliver_ns: u64,
    /// `udp_rcv` → `__udp4_lib_rcv`: checksum offload absent, socket hash lookup.
    pub udp_rcv_ns: u64,
    /// `__udp_enqueue_schedule_skb`: receive-queue lock, rmem accounting.
    pub socket_enqueue_ns: u64,
    /// `sk_data_ready` waking a blocked reader: `try_to_wake_up` plus the context switch that follows
    /// (~2 µs on a loaded core, lmbench lat_ctx / futex wake-up measurements).
    pub wakeup_ns: u64,
    /// `arp_rcv` + `arp_process` (neighbour update, reply build).
    pub arp_rcv_ns: u64,
    /// `icmp_rcv` + `icmp_echo` reply construction.
    pub icmp_rcv_ns: u64,
    /// One netfilter hook traversal with a small rule set.
    pub netfilter_hook_ns: u64,
    /// `ip_defrag` per fragment (queue lookup, insert).
    pub ip_defrag_ns: u64,
    /// `ip_forward` (TTL decrement, checksum update) excluding output.
    pub ip_forward_ns: u64,
    /// `dev_queue_xmit_nit` / `packet_rcv` for one tap (AF_PACKET clone).
    pub packet_tap_ns: u64,

    // ---- Stack, send ----
    /// `sendto` system call entry/exit (`__sys_sendto`, `sock_sendmsg`), excluding the data copy.
    pub sendto_syscall_ns: u64,
    /// `udp_sendmsg` excluding the copy: route lookup, `ip_make_skb`, header fill, checksum setup.
    pub udp_sendmsg_ns: u64,
    /// `tcp_sendmsg` per call excluding the copy: `tcp_push`, skb allocation, `tcp_write_xmit` entry.
    pub tcp_sendmsg_ns: u64,
    /// `__tcp_transmit_skb` per segment: clone, header and options, `ip_queue_xmit` route hit.
    pub tcp_transmit_skb_ns: u64,
    /// `tcp_v4_rcv` per segment: checksum (software), ehash lookup, socket lock, header prediction.
    pub tcp_v4_rcv_ns: u64,
    /// `tcp_clean_rtx_queue` per original freed: RTT sample, `sk_wmem_free_skb`.
    pub tcp_clean_rtx_ns: u64,
    /// `ip_output` + `ip_finish_output2` (neighbour lookup hit, header build).
    pub ip_output_ns: u64,
    /// `dev_queue_xmit` → qdisc enqueue/dequeue (pfifo_fast).
    pub qdisc_ns: u64,
    /// `e1000_xmit_frame` per frame besides MMIO: `dma_map_single`, descriptor fill, `netdev_sent_queue`.
    pub xmit_frame_ns: u64,
    /// `e1000_clean_tx_irq` per reclaimed frame: `dma_unmap_single`, `dev_consume_skb_any`.
    pub tx_reclaim_per_packet_ns: u64,

    // ---- Application ----
    /// `recvfrom` system call entry/exit and socket dequeue, excluding the copy to user space.
    pub app_read_ns: u64,
    /// Data copies (`copy_to_user`, `skb_copy_bits`): 0.1 ns/B ≈ 10 GB/s, cache-warm memcpy bandwidth.
    pub copy_ps_per_byte: u64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            pcie_one_way_ns: 450,
            mmio_write_ns: 100,
            msi_delivery_ns: 500,
            irq_entry_ns: 500,
            isr_ns: 200,
            napi_schedule_ns: 50,
            softirq_entry_ns: 200,
            napi_poll_ns: 150,
            napi_complete_ns: 100,
            driver_rx_per_packet_ns: 100,
            alloc_rx_buffer_ns: 150,
            gro_receive_ns: 50,
            gro_flush_per_packet_ns: 20,
            rps_enqueue_ns: 100,
            ipi_ns: 1000,
            backlog_per_packet_ns: 50,
            netif_receive_ns: 100,
            ip_rcv_ns: 150,
            ip_local_deliver_ns: 50,
            udp_rcv_ns: 150,
            socket_enqueue_ns: 100,
            wakeup_ns: 2000,
            arp_rcv_ns: 300,
            icmp_rcv_ns: 300,
            netfilter_hook_ns: 100,
            ip_defrag_ns: 200,
            ip_forward_ns: 150,
            packet_tap_ns: 200,
            sendto_syscall_ns: 500,
            udp_sendmsg_ns: 400,
            tcp_sendmsg_ns: 400,
            tcp_transmit_skb_ns: 300,
            tcp_v4_rcv_ns: 500,
            tcp_clean_rtx_ns: 60,
            ip_output_ns: 200,
            qdisc_ns: 100,
            xmit_frame_ns: 200,
            tx_reclaim_per_packet_ns: 80,
            app_read_ns: 500,
            copy_ps_per_byte: 100,
        }
    }
}
