//! The device as the host's CPUs see it on the bus: MMIO and DMA memory, on the one timeline.
//!
//! Following caliptra-sw's `hw-model`, host code names only this trait for the bus; the simulator
//! implements it on the Verilated NIC and the tests on a small register-level double. What only a logic
//! analyser could tell (which frame is where) is not here but in [`crate::accounting::Observer`]. The
//! interrupt line is not here either: the platform passes its level to [`crate::host::Host::service`].

use crate::dma::HostMemory;
pub use crate::time::Cycle;

pub trait Platform {
    /// Current cycle of the one timeline (the world's clock).
    fn now(&self) -> Cycle;
    /// A CPU issues an MMIO read at cycle `at` (>= now). The platform runs the world until the read's
    /// AXI-Lite response is back at the CPU (PCIe one-way latency each way included) and returns the
    /// value and that cycle. The host must not be re-entered meanwhile.
    fn mmio_read(&mut self, at: Cycle, offset: u32) -> (u32, Cycle);
    /// A posted MMIO write leaving the CPU at cycle `at`; reaches the device one PCIe one-way latency later.
    /// Writes and reads reach the device in issue order.
    fn mmio_write(&mut self, at: Cycle, offset: u32, value: u32);
    /// Host physical memory, shared with the bus model.
    fn memory(&mut self) -> &mut HostMemory;
}

/// One MMIO access as the device saw it, for bus monitors: the world's optional log and the tests'
/// double record the same thing, so driver tests read either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmioAccess {
    Read { at: Cycle, off: u32, val: u32 },
    Write { at: Cycle, off: u32, val: u32 },
}

impl MmioAccess {
    pub fn off(&self) -> u32 {
        match *self {
            MmioAccess::Read { off, .. } | MmioAccess::Write { off, .. } => off,
        }
    }
}
