//! The device as the host sees it: MMIO, DMA memory and out-of-band frame identity.
//!
//! Following caliptra-sw's `hw-model`, host code names only this trait; the simulator implements it on the
//! Verilated NIC and the tests on a small register-level double. The interrupt line is not here: the
//! platform passes its level to [`crate::host::Host::service`].

pub use crate::accounting::FrameId;
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
    /// Out-of-band record (a logic analyser's view): which wire frame the NIC wrote into RX slot `slot`.
    fn rx_frame_id(&mut self, slot: u16) -> Option<FrameId>;
    /// Out-of-band: the cycle the NIC wrote back the descriptor of that frame (in RX slot `slot`).
    fn rx_write_back_cycle(&mut self, slot: u16) -> Option<Cycle>;
    /// Out-of-band: the frame the driver just posted on the TX ring (EOP at `slot`).
    fn tx_frame_posted(&mut self, slot: u16, id: FrameId);
    /// A fresh id for a frame the host creates (ids are unique across wire and host).
    fn new_frame_id(&mut self) -> FrameId;
}
