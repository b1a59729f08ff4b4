//! Bringing the NIC up: `e1000_probe` (reset, station address, multicast table) and `e1000_open`
//! (`e1000_setup_all_{tx,rx}_resources`, `e1000_configure_tx`, `e1000_setup_rctl`, `e1000_configure_rx`,
//! `alloc_rx_buffers`, `e1000_irq_enable`), in the kernel's register order.

use bitvec::array::BitArray;
use bitvec::order::Lsb0;

use crate::config::{HostConfig, ItrSetting};
use crate::ctx::Ctx;
use crate::desc::DESC_SIZE;
use crate::dma::MemError;
use crate::napi::Napi;
use crate::regs;
use crate::wire::ethernet::MacAddr;

use super::itr::Itr;
use super::ring::Ring;
use super::rx::RxRing;
use super::tx::TxRing;
use super::{isr, Adapter, DriverStats};

/// `e1000_reset_hw` polls this many times for CTRL.RST to self-clear before giving up.
const RESET_POLLS: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("probe: CTRL.RST still set after {0} reads; the NIC did not come out of reset")]
    ResetTimeout(u32),
    #[error("probe: cannot allocate the {ring} descriptor ring: {error}")]
    RingAlloc { ring: &'static str, error: MemError },
    #[error("probe: cannot allocate RX buffers: only {filled} of {wanted} could be posted")]
    RxBuffers { filled: u16, wanted: u16 },
}

/// Probes and opens the NIC, leaving it receiving with interrupts enabled.
pub fn probe(ctx: &mut Ctx, cfg: &HostConfig) -> Result<Adapter, ProbeError> {
    reset_hw(ctx)?;
    set_mac(ctx, cfg.mac);
    set_rx_mode(ctx, &cfg.multicast);

    let tx_base = alloc_ring(ctx, cfg.tx_ring, "TX")?;
    let rx_base = alloc_ring(ctx, cfg.rx_ring, "RX")?;
    let mut adapter = Adapter {
        rx: RxRing::new(Ring::new(rx_base, cfg.rx_ring), cfg.rx_refill_batch),
        tx: TxRing::new(
            Ring::new(tx_base, cfg.tx_ring),
            cfg.tx_stop_threshold,
            cfg.tx_wake_threshold,
            // `netdev_init_one_queue`: dql_init(&queue->dql, HZ).
            ctx.clock.ns_to_cycles(1_000_000_000),
            cfg.bql_limit_min,
            ctx.now,
        ),
        napi: Napi::new(
            cfg.napi_weight,
            cfg.napi_defer_hard_irqs,
            ctx.clock.ns_to_cycles(cfg.gro_flush_timeout_ns),
        )
        .with_gro(cfg.features.generic_receive_offload),
        mode: cfg.napi_mode,
        mac: cfg.mac,
        copybreak: cfg.copybreak,
        itr: Itr::new(cfg.itr_setting().unwrap_or(ItrSetting::DynamicConservative)),
        stats: DriverStats {
            packets_per_poll: vec![0; cfg.napi_weight as usize + 1],
            ..DriverStats::default()
        },
        faults: Vec::new(),
    };

    configure_tx(ctx, &adapter.tx.ring, cfg);
    configure_rx(ctx, &adapter.rx.ring, cfg, &adapter.itr);
    let wanted = adapter.rx.ring.unused();
    let filled = adapter.alloc_rx_buffers(ctx, wanted);
    if filled < wanted {
        return Err(ProbeError::RxBuffers { filled, wanted });
    }
    isr::irq_enable(ctx);
    Ok(adapter)
}

/// `e1000_reset_hw`: mask interrupts, soft reset, wait for RST to clear, clear pending causes.
fn reset_hw(ctx: &mut Ctx) -> Result<(), ProbeError> {
    ctx.mmio_write(regs::IMC, u32::MAX);
    ctx.mmio_write(regs::CTRL, regs::CTRL_RST);
    let mut polls = 0;
    while ctx.mmio_read(regs::CTRL) & regs::CTRL_RST != 0 {
        polls += 1;
        if polls == RESET_POLLS {
            return Err(ProbeError::ResetTimeout(polls));
        }
    }
    ctx.mmio_write(regs::IMC, u32::MAX);
    ctx.mmio_read(regs::ICR);
    Ok(())
}

/// `e1000_rar_set`: station address into RAL0/RAH0 with Address Valid.
fn set_mac(ctx: &mut Ctx, mac: MacAddr) {
    let m = mac.0;
    ctx.mmio_write(regs::RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
    ctx.mmio_write(
        regs::RAH0,
        u32::from(u16::from_le_bytes([m[4], m[5]])) | regs::RAH_AV,
    );
}

/// `e1000_set_rx_mode` → `e1000_hash_mc_addr` (multicast offset type 0: address bits 47:36) and the MTA write.
fn set_rx_mode(ctx: &mut Ctx, groups: &[MacAddr]) {
    let mut mta: BitArray<[u32; regs::MTA_LEN as usize], Lsb0> = BitArray::ZERO;
    for g in groups {
        mta.set(mta_hash(*g), true);
    }
    for (i, word) in mta.into_inner().iter().enumerate() {
        ctx.mmio_write(regs::mta(i as u32), *word);
    }
}

/// 12-bit hash: `(mac[4] >> 4) | (mac[5] << 4)`; bit `hash % 32` of MTA entry `hash / 32`.
pub fn mta_hash(mac: MacAddr) -> usize {
    ((usize::from(mac.0[4]) >> 4) | (usize::from(mac.0[5]) << 4)) & 0xFFF
}

/// `e1000_setup_{tx,rx}_resources`: the descriptor ring in coherent memory, 4 KiB aligned.
fn alloc_ring(ctx: &mut Ctx, count: u16, ring: &'static str) -> Result<u64, ProbeError> {
    ctx.plat()
        .memory()
        .alloc_coherent(usize::from(count) * DESC_SIZE, 4096)
        .map_err(|error| ProbeError::RingAlloc { ring, error })
}

fn write_base(ctx: &mut Ctx, lo: u32, hi: u32, base: u64) {
    ctx.mmio_write(lo, base as u32);
    ctx.mmio_write(hi, (base >> 32) as u32);
}

/// `e1000_configure_tx`, TIDV and TADV included (this NIC ignores them: it has no TX delay timers).
fn configure_tx(ctx: &mut Ctx, ring: &Ring, cfg: &HostConfig) {
    write_base(ctx, regs::TDBAL, regs::TDBAH, ring.base);
    ctx.mmio_write(regs::TDLEN, ring.len_bytes());
    ctx.mmio_write(regs::TDH, 0);
    ctx.mmio_write(regs::TDT, 0);
    ctx.mmio_write(regs::TIDV, u32::from(cfg.tx_int_delay));
    ctx.mmio_write(regs::TADV, u32::from(cfg.tx_abs_int_delay));
    ctx.mmio_write(regs::TCTL, regs::TCTL_EN | regs::TCTL_PSP);
}

/// `e1000_setup_rctl` + `e1000_configure_rx`: receiver off while the ring is programmed, then on.
fn configure_rx(ctx: &mut Ctx, ring: &Ring, cfg: &HostConfig, itr: &Itr) {
    let mut rctl = regs::RCTL_EN | regs::RCTL_BAM | regs::RCTL_RDMTS_HALF;
    if cfg.promiscuous {
        rctl |= regs::RCTL_UPE;
    }
    ctx.mmio_write(regs::RCTL, rctl & !regs::RCTL_EN);
    ctx.mmio_write(regs::RDTR, u32::from(cfg.rx_int_delay));
    ctx.mmio_write(regs::RADV, u32::from(cfg.rx_abs_int_delay));
    if let Some(v) = itr.configure_value() {
        ctx.mmio_write(regs::ITR, v);
    }
    write_base(ctx, regs::RDBAL, regs::RDBAH, ring.base);
    ctx.mmio_write(regs::RDLEN, ring.len_bytes());
    ctx.mmio_write(regs::RDH, 0);
    ctx.mmio_write(regs::RDT, 0);
    // Receive checksum offload for TCP and UDP, read-modify-write as e1000_configure_rx does
    // (IPOFLD is left as it is: the stack verifies the IP header itself).
    let rxcsum = ctx.mmio_read(regs::RXCSUM);
    let rxcsum = if cfg.features.rx_checksumming {
        rxcsum | regs::RXCSUM_TUOFLD
    } else {
        rxcsum & !regs::RXCSUM_TUOFLD
    };
    ctx.mmio_write(regs::RXCSUM, rxcsum);
    ctx.mmio_write(regs::RCTL, rctl);
}
