//! `e1000_intr`, the hard interrupt handler, and `e1000_irq_enable`/`e1000_irq_disable`.
//!
//! The handler does as little as possible: read ICR (a real, stalling MMIO read that also acknowledges the
//! causes), mask everything with IMC, and schedule NAPI. Like e1000 it flushes each posted mask write with a
//! STATUS read (`E1000_WRITE_FLUSH`), so the device is masked before the handler returns.

use crate::accounting::IrqRound;
use crate::ctx::Ctx;
use crate::regs;
use crate::softnet::SoftnetData;

use super::Adapter;

/// Causes the driver enables: e1000's `IMS_ENABLE_MASK` (e1000_main.c: RXT0 | TXDW | RXDMT0 | RXSEQ |
/// LSC). RXO is not in it: an overrun interrupts only through the RXT0 of the frames that did land.
pub const IMS_ENABLE_MASK: u32 =
    regs::ICR_RXT0 | regs::ICR_TXDW | regs::ICR_RXDMT0 | regs::ICR_RXSEQ | regs::ICR_LSC;

/// Whether the interrupt was ours (`irqreturn_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrqReturn {
    /// ICR had causes: handled.
    Handled,
    /// ICR read 0: not ours, or already acknowledged.
    None,
}

impl Adapter {
    /// `e1000_intr` on the CPU in `ctx`, whose interrupt arrived at `ctx.now`.
    pub fn intr(&mut self, ctx: &mut Ctx, sd: &mut SoftnetData) -> IrqReturn {
        let irq = ctx.now;
        ctx.charge(ctx.costs.irq_entry_ns);
        let icr = ctx.mmio_read(regs::ICR);
        if icr == 0 {
            self.stats.spurious_interrupts += 1;
            return IrqReturn::None;
        }
        ctx.charge(ctx.costs.isr_ns);
        self.stats.interrupts += 1;
        let s = &mut self.stats;
        for (bit, count) in [
            (regs::ICR_RXT0, &mut s.icr_rxt0),
            (regs::ICR_TXDW, &mut s.icr_txdw),
            (regs::ICR_RXO, &mut s.icr_rxo),
            (regs::ICR_RXDMT0, &mut s.icr_rxdmt0),
            (regs::ICR_LSC, &mut s.icr_lsc),
        ] {
            *count += u64::from(icr & bit != 0);
        }
        irq_disable(ctx);
        let round = IrqRound { irq, isr: ctx.now };
        if self.napi.schedule_prep() {
            // adapter->total_{tx,rx}_{bytes,packets} = 0, for e1000_set_itr.
            self.itr.reset_totals(&self.stats);
            self.napi.schedule(ctx, sd, Some(round));
        } else {
            // "this really should not happen": NAPI already running (now marked missed); e1000
            // re-enables and carries on.
            irq_enable(ctx);
        }
        IrqReturn::Handled
    }
}

/// `e1000_irq_disable`: mask every cause and flush.
pub fn irq_disable(ctx: &mut Ctx) {
    ctx.mmio_write(regs::IMC, u32::MAX);
    ctx.mmio_read(regs::STATUS);
}

/// `e1000_irq_enable`: unmask the causes the driver handles and flush.
pub fn irq_enable(ctx: &mut Ctx) {
    ctx.mmio_write(regs::IMS, IMS_ENABLE_MASK);
    ctx.mmio_read(regs::STATUS);
}
