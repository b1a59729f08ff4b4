//! Link layer of eth0: `eth_type_trans` (which the driver calls), `__netif_receive_skb_core` with
//! its `ptype_base` registration table (`dev_add_pack`), and `dev_hard_header` / `dev_queue_xmit` /
//! `dev_hard_start_xmit` on send.

use serde::Serialize;

use super::packet_tap::Direction;
use super::Stack;
use crate::accounting::{DropReason, Outcome, Stage};
use crate::ctx::Ctx;
use crate::netdevice::{NetDeviceOps, NetXmit, NetdevTx};
use crate::skb::{PacketType as PktType, Skb};
use crate::wire::ethernet::{self, EthernetFrame, EthernetRepr, MacAddr};

/// A protocol receive handler (`packet_type.func`, `net_protocol.handler`): takes ownership of
/// the skb, whose data starts at that protocol's header.
pub type Handler = fn(&mut Stack, &mut Ctx, Skb);

/// `eth_type_trans` (net/ethernet/eth.c), called by the driver on each received frame: classifies it by
/// destination MAC against `dev_mac` (`skb->pkt_type`), marks the MAC header, sets `skb->protocol`
/// from the EtherType and pulls the Ethernet header. False if the frame is shorter than one.
pub fn eth_type_trans(skb: &mut Skb, dev_mac: MacAddr) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(skb.data()).map(|f| EthernetRepr::parse(&f)) else {
        return false;
    };
    skb.pkt_type = if eth.dst == dev_mac {
        PktType::Host
    } else if eth.dst.is_broadcast() {
        PktType::Broadcast
    } else if eth.dst.is_multicast() {
        PktType::Multicast
    } else {
        PktType::OtherHost
    };
    skb.protocol = eth.ethertype;
    skb.reset_mac_header();
    skb.pull(ethernet::HEADER_LEN).is_ok()
}

/// `struct packet_type`: an EtherType and its handler.
#[derive(Debug, Clone, Copy)]
pub struct PacketType {
    pub ethertype: u16,
    pub func: Handler,
}

/// `ip -s link show eth0` for the stack's side of the device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LinkCounters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// `rx_nohandler`: no `ptype_base` entry for the EtherType.
    pub rx_nohandler: u64,
    /// `rx_otherhost_dropped`: unicast to another MAC, seen in promiscuous mode.
    pub rx_otherhost_dropped: u64,
    /// Frames the driver took from [`Stack::qdisc_run`] (`NETDEV_TX_OK`).
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames the qdisc refused.
    pub tx_dropped: u64,
}

impl Stack {
    /// `dev_add_pack`.
    pub(super) fn dev_add_pack(&mut self, ethertype: u16, func: Handler) {
        self.ptype_base.push(PacketType { ethertype, func });
    }

    /// `__netif_receive_skb_core`: shows the frame to the AF_PACKET taps and dispatches on
    /// `skb->protocol` through `ptype_base`. The driver already ran [`eth_type_trans`]: data starts at
    /// the network header, the MAC header is marked.
    pub fn netif_receive_skb(&mut self, ctx: &mut Ctx, mut skb: Skb) {
        ctx.stamp_skb(&skb, Stage::NetifReceive);
        ctx.charge(ctx.costs.netif_receive_ns);
        self.link.rx_packets += 1;
        self.link.rx_bytes += skb.mac_header().map_or(skb.len(), <[u8]>::len) as u64;
        self.deliver_to_taps(ctx, &skb, Direction::Rx);
        skb.reset_network_header();
        match self.ptype_base.iter().find(|p| p.ethertype == skb.protocol) {
            Some(p) => (p.func)(self, ctx, skb),
            None => {
                self.link.rx_nohandler += 1;
                Stack::finish(ctx, skb, Outcome::Dropped(DropReason::UnhandledProto));
            }
        }
    }

    /// `dev_hard_header` (`eth_header`): prepends the Ethernet header for `dst`.
    pub(super) fn dev_hard_header(&self, skb: &mut Skb, dst: MacAddr, ethertype: u16) {
        skb.protocol = ethertype;
        let repr = EthernetRepr {
            src: self.mac,
            dst,
            ethertype,
        };
        skb.push(ethernet::HEADER_LEN)
            .copy_from_slice(&repr.to_bytes());
        skb.reset_mac_header();
    }

    /// `dev_queue_xmit` → `__dev_xmit_skb`: enqueues a complete frame on the qdisc, or drops it
    /// if full (`NET_XMIT_DROP`, which `net_xmit_errno` turns into `ENOBUFS` for a sender).
    pub(super) fn dev_queue_xmit(&mut self, ctx: &mut Ctx, skb: Skb) -> NetXmit {
        ctx.stamp_skb(&skb, Stage::QdiscEnqueue);
        ctx.charge(ctx.costs.qdisc_ns);
        match self.qdisc.enqueue(skb) {
            Ok(()) => NetXmit::Success,
            Err(skb) => {
                self.link.tx_dropped += 1;
                Stack::finish(ctx, skb, Outcome::Dropped(DropReason::QdiscDrop));
                NetXmit::Drop
            }
        }
    }

    /// `dev_hard_start_xmit` → `xmit_one` (net/core/dev.c): shows the frame to the taps
    /// (`dev_queue_xmit_nit`, when `dev_nit_active`) and hands it to the driver
    /// (`netdev_start_xmit`). A frame the driver hands back busy is tapped again when retried,
    /// as in the kernel. Counted as sent on eth0 once the driver took it.
    pub(super) fn dev_hard_start_xmit(
        &mut self,
        ctx: &mut Ctx,
        dev: &mut dyn NetDeviceOps,
        skb: Skb,
        more: bool,
    ) -> NetdevTx {
        if !self.taps.is_empty() {
            self.deliver_to_taps(ctx, &skb, Direction::Tx);
        }
        let len = skb.len() as u64;
        let ret = dev.ndo_start_xmit(ctx, skb, more);
        if matches!(ret, NetdevTx::Ok) {
            self.link.tx_packets += 1;
            self.link.tx_bytes += len;
        }
        ret
    }
}
