//! The driver contract of host-driver/tests/contract, on the Verilated NIC: the same tests the
//! register-level double passes, so the double and the RTL cannot drift apart.

#[path = "../../../host-driver/tests/contract/mod.rs"]
mod contract;

use host_driver::accounting::FrameId;
use host_driver::config::HostConfig;
use host_driver::host::Host;
use host_driver::platform::{MmioAccess, Platform};
use host_driver::time::Cycle;
use nicsim_scenario::traffic::WireFault;
use nicsim_world::world::{World, WorldConfig};

/// The world and the host on it.
struct Verilated {
    world: World,
    host: Host,
}

impl contract::Device for Verilated {
    fn bring_up(cfg: HostConfig) -> Verilated {
        let mut world = World::new(WorldConfig {
            pcie_one_way_ns: cfg.costs.pcie_one_way_ns,
            ..WorldConfig::default()
        })
        .expect("world");
        world.log_mmio();
        let mut host = Host::new(HostConfig {
            clock: world.clock(),
            ..cfg
        })
        .expect("valid host config");
        host.probe(&mut world).expect("probe");
        Verilated { world, host }
    }
    fn host(&self) -> &Host {
        &self.host
    }
    fn now(&self) -> Cycle {
        self.world.cycle()
    }
    fn mmio_log(&self) -> &[MmioAccess] {
        self.world.mmio_log()
    }
    fn clear_mmio_log(&mut self) {
        self.world.log_mmio();
    }
    fn arrive(&mut self, at: Cycle, frame: Vec<u8>) -> FrameId {
        self.world.inject(frame, at, WireFault::None)
    }
    fn run_until(&mut self, end: Cycle) {
        self.world.run_host(&mut self.host, end);
    }
    fn bytes_in_use(&mut self) -> usize {
        self.world.memory().bytes_in_use()
    }
}

driver_contract_tests!(Verilated);
