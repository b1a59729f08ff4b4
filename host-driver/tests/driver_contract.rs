//! The driver contract (tests/contract) on the register-level double; sim/world runs the same tests
//! on the Verilated NIC.

mod contract;
mod support;

use host_driver::accounting::FrameId;
use host_driver::config::HostConfig;
use host_driver::host::Host;
use host_driver::platform::{MmioAccess, Platform};
use host_driver::time::Cycle;
use support::Sim;

impl contract::Device for Sim {
    fn bring_up(cfg: HostConfig) -> Sim {
        Sim::new(cfg)
    }
    fn host(&self) -> &Host {
        &self.host
    }
    fn now(&self) -> Cycle {
        self.nic.now
    }
    fn mmio_log(&self) -> &[MmioAccess] {
        &self.nic.log
    }
    fn clear_mmio_log(&mut self) {
        self.nic.log.clear();
    }
    fn arrive(&mut self, at: Cycle, frame: Vec<u8>) -> FrameId {
        Sim::arrive(self, at, frame)
    }
    fn run_until(&mut self, end: Cycle) {
        Sim::run_until(self, end);
    }
    fn bytes_in_use(&mut self) -> usize {
        self.nic.memory().bytes_in_use()
    }
}

driver_contract_tests!(Sim);
