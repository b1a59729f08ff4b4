//! The one timeline: the Verilated NIC with everything around it, stepped one NIC clock cycle at a
//! time — host memory behind the DMA slave, the CPU's MMIO master, the 10 GbE link, the probe observer
//! and the trace window. The host runs on the same clock through [`Platform`] and [`World::run_host`].

use std::collections::BTreeMap;

use host_driver::accounting::{FrameId, Observer};
use host_driver::dma::{HostMemory, MemError};
use host_driver::host::Host;
use host_driver::platform::{MmioAccess, Platform};
use host_driver::time::{Clock, Cycle, ZeroClockPeriod, DEFAULT_PS_PER_CYCLE};
use nicsim_model::{Model, Pins, RX_FIFO_DEPTH_BYTES};
use nicsim_scenario::faults::FaultRule;
use nicsim_scenario::scenario::BusConfig;
use nicsim_scenario::traffic::WireFault;

use crate::axi_mem::AxiMem;
use crate::fault::Fault;
use crate::link::{LinkPartner, NoPartner, RxEvent, RxInjector, TxCapture, TxFrame};
use crate::mmio::MmioMaster;
use crate::netem::{Netem, ToHost};
use crate::observer::{NicRecord, Probes};
use crate::wave::{Wave, WaveConfig, WaveError, WaveOutput};

/// Cycles between a descriptor write-back landing in memory and its `rx_wb` probe pulse, with margin.
const RX_WB_PROBE_LAG_MAX: u32 = 8;
/// Cycles `rst` is held high before the first cycle of a run.
pub const RESET_CYCLES: Cycle = 8;

/// PCIe completion timeout for MMIO reads (the PCIe spec's 50 µs lower range): past it the CPU reads
/// all ones and the world records a fault.
const MMIO_TIMEOUT_NS: u64 = 50_000;

/// Everything the timeline needs besides the RTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldConfig {
    /// NIC core clock period (156.25 MHz by default).
    pub ps_per_cycle: u64,
    /// Host memory and DMA timing (the scenario's `bus:` section).
    pub bus: BusConfig,
    /// One-way CPU ↔ device latency for MMIO; use the host's `costs.pcie_one_way_ns` so both agree.
    pub pcie_one_way_ns: u64,
    /// If given, must equal [`RX_FIFO_DEPTH_BYTES`] (the model's build-time parameter).
    pub rx_fifo_bytes: Option<u32>,
    pub wave: Option<WaveConfig>,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            ps_per_cycle: DEFAULT_PS_PER_CYCLE,
            bus: BusConfig::default(),
            pcie_one_way_ns: host_driver::costs::Costs::default().pcie_one_way_ns,
            rx_fifo_bytes: None,
            wave: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("world: {0}")]
    Clock(#[from] ZeroClockPeriod),
    #[error("world: host memory: {0}")]
    Memory(#[from] MemError),
    #[error("world: RX FIFO of {asked} bytes requested, but the model was built with {built} (rebuild with NICSIM_RX_FIFO_BYTES={asked})")]
    RxFifoDepth { asked: u32, built: u32 },
    #[error(transparent)]
    Wave(#[from] WaveError),
}

/// The simulated system below the host software, with `P` at the far end of the link.
pub struct World<P = NoPartner> {
    model: Model,
    pins: Pins,
    cycle: Cycle,
    clock: Clock,
    mem: HostMemory,
    axi: AxiMem,
    mmio: MmioMaster,
    mmio_timeout: Cycle,
    rx: RxInjector,
    tx: TxCapture,
    /// The cable between the PHY and the partner, with the damage the scenario asks for.
    netem: Netem,
    probes: Probes,
    wave: Option<Wave>,
    wave_error: Option<WaveError>,
    faults: Vec<Fault>,
    next_frame_id: FrameId,
    /// The host's requested wake-up and the irq level it last saw (kept across `run_host` calls).
    host_wake: Option<Cycle>,
    host_irq: bool,
    /// The link partner, served every cycle so its frames start on the cycle they are due even
    /// while the CPU stalls on an MMIO read.
    partner: Option<P>,
    /// Every MMIO access the host made, when a bus monitor asked for them ([`World::log_mmio`]).
    mmio_log: Option<Vec<MmioAccess>>,
}

impl World {
    /// A world with nothing at the far end of the link (see [`World::with_partner`]).
    pub fn new(cfg: WorldConfig) -> Result<World, WorldError> {
        World::with_partner(cfg)
    }
}

impl<P: LinkPartner> World<P> {
    /// Builds the world, whose link partner of type `P` is attached later
    /// ([`World::attach_partner`]), and holds the NIC in reset for [`RESET_CYCLES`].
    pub fn with_partner(cfg: WorldConfig) -> Result<World<P>, WorldError> {
        let clock = Clock::new(cfg.ps_per_cycle)?;
        if let Some(asked) = cfg.rx_fifo_bytes.filter(|&a| a != RX_FIFO_DEPTH_BYTES) {
            return Err(WorldError::RxFifoDepth {
                asked,
                built: RX_FIFO_DEPTH_BYTES,
            });
        }
        let mem = HostMemory::new(HostMemory::DEFAULT_BASE, cfg.bus.memory_bytes)?;
        let mut probes = Probes::default();
        let wave = match cfg.wave {
            Some(w) => {
                let wave = Wave::new(w, cfg.ps_per_cycle)?;
                if let Some(t) = wave.trigger() {
                    probes.arm(t);
                }
                Some(wave)
            }
            None => None,
        };
        let mut pins = Pins::default();
        AxiMem::init_pins(&mut pins);
        MmioMaster::init_pins(&mut pins);
        TxCapture::init_pins(&mut pins);
        let mut world = World {
            model: Model::new(cfg.ps_per_cycle),
            pins,
            cycle: 0,
            clock,
            mem,
            axi: AxiMem::new(
                clock.ns_to_cycles(cfg.bus.dma_read_latency_ns),
                clock.ns_to_cycles(cfg.bus.dma_write_latency_ns),
            ),
            mmio: MmioMaster::new(clock.ns_to_cycles(cfg.pcie_one_way_ns)),
            mmio_timeout: clock.ns_to_cycles(MMIO_TIMEOUT_NS),
            rx: RxInjector::default(),
            tx: TxCapture::default(),
            netem: Netem::new(&[], 0, clock),
            probes,
            wave,
            wave_error: None,
            faults: Vec::new(),
            next_frame_id: 0,
            host_wake: None,
            host_irq: false,
            partner: None,
            mmio_log: None,
        };
        world.pins.rst = true;
        world.run_until(RESET_CYCLES);
        world.pins.rst = false;
        // The host gets a first look at the first cycle after reset.
        world.host_wake = Some(world.cycle);
        Ok(world)
    }

    pub fn cycle(&self) -> Cycle {
        self.cycle
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Damages the cable as `rules` say (the scenario's `faults:`), random picks drawn from `seed`;
    /// call before the first frame is injected.
    pub fn install_netem(&mut self, rules: &[FaultRule], seed: u64) {
        self.netem = Netem::new(rules, seed, self.clock);
    }

    /// The cable's damage model: what it dropped, copied and changed.
    pub fn netem(&self) -> &Netem {
        &self.netem
    }

    /// Queues a frame (without FCS) for the wire, not before cycle `not_before`; the wire appends the
    /// FCS. Returns the frame's id.
    pub fn inject(
        &mut self,
        frame_without_fcs: Vec<u8>,
        not_before: Cycle,
        fault: WireFault,
    ) -> FrameId {
        let id = self.new_frame_id();
        let frame = ToHost {
            id,
            bytes: frame_without_fcs,
            not_before,
            fault,
        };
        if self.netem.is_empty() {
            self.queue_at_phy(frame);
            return id;
        }
        let next_id = &mut self.next_frame_id;
        let out = self.netem.to_host(frame, &mut || {
            *next_id += 1;
            *next_id - 1
        });
        for f in out {
            self.queue_at_phy(f);
        }
        id
    }

    fn queue_at_phy(&mut self, f: ToHost) {
        self.rx.push(f.id, f.bytes, f.not_before, f.fault);
    }

    /// Sends the frames the cable holds for reordering that too few frames followed (the tail of a
    /// run); true if there were any.
    pub fn release_held(&mut self) -> bool {
        if !self.netem.holds() {
            return false;
        }
        let now = self.cycle;
        for f in self.netem.release_held_to_host(now) {
            self.queue_at_phy(f);
        }
        self.netem.release_held_to_peer(now);
        true
    }

    /// What reached the link partner: the NIC's frames as the cable delivered them.
    fn peer_view(&self) -> &[TxFrame] {
        if self.netem.is_empty() {
            self.tx.frames()
        } else {
            self.netem.to_peer()
        }
    }

    /// Lets the cable carry the NIC's finished frames toward the partner up to cycle `horizon`.
    fn carry_to_peer(&mut self, horizon: Cycle) {
        if !self.netem.peer_due(self.tx.frames().len(), horizon) {
            return;
        }
        let next_id = &mut self.next_frame_id;
        self.netem
            .carry_to_peer(self.tx.frames(), horizon, &mut || {
                *next_id += 1;
                *next_id - 1
            });
    }

    /// Simulates one cycle.
    #[inline]
    pub fn step(&mut self) {
        let now = self.cycle;
        if !self.netem.is_empty() {
            self.carry_to_peer(now + 1);
        }
        if self
            .partner
            .as_ref()
            .is_some_and(|p| p.due(now + 1, self.peer_view().len()))
        {
            self.serve_partner(now + 1);
        }
        if let Some(w) = self.wave.as_mut() {
            if now >= w.next_event() {
                if let Err(e) = w.at_cycle(now, &mut self.model) {
                    self.wave_error.get_or_insert(e);
                }
            }
        }
        self.model.step(&mut self.pins);
        self.axi
            .tick(&mut self.pins, now, &mut self.mem, &mut self.faults);
        self.mmio.tick(&mut self.pins, now, &mut self.faults);
        if let RxEvent::Start(id) = self.rx.tick(&mut self.pins, now) {
            self.probes.wire_start(id, now);
        }
        self.probes.observe(&self.pins, now, &mut self.faults);
        if self.tx.tick(&self.pins, now) {
            let id = self.probes.tx_wire(now, &mut self.faults);
            self.tx.label(id);
        }
        if let Some(at) = self.probes.take_fired() {
            if let Some(w) = self.wave.as_mut() {
                if let Err(e) = w.fire(at, &mut self.model) {
                    self.wave_error.get_or_insert(e);
                }
            }
        }
        self.cycle = now + 1;
    }

    /// Gives the partner the frames the NIC finished and queues what it sends up to cycle
    /// `horizon`; called before the injector drives `horizon`, so a frame due then starts then.
    fn serve_partner(&mut self, horizon: Cycle) {
        let Some(mut partner) = self.partner.take() else {
            return;
        };
        for (frame, not_before) in partner.exchange(horizon, self.peer_view()) {
            let id = self.inject(frame.clone(), not_before, WireFault::None);
            partner.sent(id, frame);
        }
        self.partner = Some(partner);
    }

    /// From now on, records every MMIO access the host makes, dropping any recorded before (a bus
    /// monitor on the AXI4-Lite port; off by default, since a long run makes millions).
    pub fn log_mmio(&mut self) {
        self.mmio_log = Some(Vec::new());
    }

    /// The accesses recorded since [`World::log_mmio`], in issue order.
    pub fn mmio_log(&self) -> &[MmioAccess] {
        self.mmio_log.as_deref().unwrap_or_default()
    }

    /// Puts `partner` at the far end of the link.
    pub fn attach_partner(&mut self, partner: P) {
        self.partner = Some(partner);
    }

    pub fn partner(&self) -> Option<&P> {
        self.partner.as_ref()
    }

    pub fn partner_mut(&mut self) -> Option<&mut P> {
        self.partner.as_mut()
    }

    /// The host has work at cycle `at` it was handed from outside (a script's system call):
    /// [`World::run_host`] serves it by then.
    pub fn wake_host(&mut self, at: Cycle) {
        self.host_wake = Some(self.host_wake.map_or(at, |w| w.min(at)));
    }

    /// Simulates up to (not including) cycle `until`, without the host.
    pub fn run_until(&mut self, until: Cycle) {
        while self.cycle < until {
            self.step();
        }
    }

    /// The main loop with the host: simulates up to cycle `until`, calling `host.service` whenever the
    /// interrupt level changes or the cycle reaches the wake-up the host asked for.
    pub fn run_host(&mut self, host: &mut Host, until: Cycle) {
        while self.cycle < until {
            let stop = self.host_wake.map_or(until, |w| w.min(until));
            while self.cycle < stop && self.pins.irq == self.host_irq {
                self.step();
            }
            if self.cycle >= until {
                break;
            }
            let irq = self.pins.irq;
            self.host_irq = irq;
            self.host_wake = host.service(self, irq);
            // A wake-up at or before now would call the host again without time passing.
            if self.host_wake.is_some_and(|w| w <= self.cycle) {
                self.step();
            }
        }
    }

    /// Nothing in flight: no frame waiting for or on the wire (or delayed on the cable), none between
    /// the wire and its RX write-back or between TX posting and the wire, no DMA or MMIO transaction
    /// outstanding. Frames held for reordering wait for [`World::release_held`].
    pub fn quiescent(&self) -> bool {
        self.rx.idle()
            && !self.netem.in_flight()
            && !self.probes.in_flight()
            && !self.tx.busy()
            && self.axi.idle()
            && self.mmio.idle()
    }

    /// Per-frame NIC stamps and NIC drop outcomes.
    pub fn nic_records(&self) -> &BTreeMap<FrameId, NicRecord> {
        self.probes.records()
    }

    /// Bus faults in the order they happened.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Frames the NIC sent, as they left its MAC (what the partner received is
    /// [`crate::netem::Netem::to_peer`] when the cable is damaged).
    pub fn tx_frames(&self) -> &[TxFrame] {
        self.tx.frames()
    }

    /// Cycles a frame on the wire was held back by `s_axis_rx_tready` low (0 for a correct MAC).
    pub fn rx_stall_cycles(&self) -> u64 {
        self.rx.stall_cycles()
    }

    /// Frames injected and not yet on the wire.
    pub fn rx_queued(&self) -> usize {
        self.rx.queued()
    }

    /// A register read through the real MMIO path, issued now (for end-of-run counters).
    pub fn read_reg(&mut self, offset: u32) -> u32 {
        let now = self.cycle;
        self.mmio_read(now, offset).0
    }

    /// A posted register write issued now.
    pub fn write_reg(&mut self, offset: u32, value: u32) {
        let now = self.cycle;
        self.mmio_write(now, offset, value);
    }

    /// The current interrupt line level.
    pub fn irq(&self) -> bool {
        self.pins.irq
    }

    /// Every pin as sampled at the rising edge of the last cycle simulated (for bus observers).
    pub fn pins(&self) -> &Pins {
        &self.pins
    }

    /// When a triggered window started before its trigger: the exact window to record in a re-run.
    pub fn wave_replay(&self) -> Option<&WaveConfig> {
        self.wave.as_ref().and_then(Wave::replay)
    }

    /// Closes a trace window still open and returns the waveform written, if any.
    pub fn finish_wave(&mut self) -> Result<Option<WaveOutput>, WaveError> {
        if let Some(e) = self.wave_error.take() {
            return Err(e);
        }
        let Some(w) = self.wave.as_mut() else {
            return Ok(None);
        };
        w.finish(self.cycle, &mut self.model)?;
        Ok(w.output().cloned())
    }
}

impl<P: LinkPartner> Platform for World<P> {
    fn now(&self) -> Cycle {
        self.cycle
    }

    fn mmio_read(&mut self, at: Cycle, offset: u32) -> (u32, Cycle) {
        // The completion timeout runs from when the read can reach the device: accesses queue in
        // issue order, and a posted write issued before it may carry a later time (a work unit that
        // ran long on another CPU), which the read then waits behind.
        let ahead = self.mmio.last_arrival().unwrap_or(0);
        let tag = self.mmio.read(at, offset);
        let start = at.max(self.cycle) + self.mmio.pcie_one_way();
        let deadline = start.max(ahead) + self.mmio.pcie_one_way() + self.mmio_timeout;
        loop {
            if let Some(done) = self.mmio.take_read(tag) {
                if let Some(log) = self.mmio_log.as_mut() {
                    log.push(MmioAccess::Read {
                        at,
                        off: offset,
                        val: done.value,
                    });
                }
                return (done.value, done.at);
            }
            if self.cycle >= deadline {
                self.mmio.abandon(tag);
                self.faults.push(Fault::MmioTimeout {
                    cycle: self.cycle,
                    offset,
                    timeout: self.mmio_timeout,
                });
                return (u32::MAX, self.cycle);
            }
            self.step();
        }
    }

    fn mmio_write(&mut self, at: Cycle, offset: u32, value: u32) {
        if let Some(log) = self.mmio_log.as_mut() {
            log.push(MmioAccess::Write {
                at,
                off: offset,
                val: value,
            });
        }
        self.mmio.write(at, offset, value);
    }

    fn memory(&mut self) -> &mut HostMemory {
        &mut self.mem
    }
}

impl<P: LinkPartner> Observer for World<P> {
    fn rx_frame_id(&mut self, slot: u16) -> Option<FrameId> {
        // The write-back lands in host memory when the bus raises B; the NIC takes B at the next edge and
        // its registered `rx_wb` pulse names the slot a cycle later. A poll that sees DD inside that
        // window runs the world (the CPU is ahead of it anyway) until the record catches up.
        for _ in 0..RX_WB_PROBE_LAG_MAX {
            if self.probes.rx_slot_fresh(slot) || !self.probes.rx_write_back_pending() {
                break;
            }
            self.step();
        }
        self.probes.take_rx_frame_id(slot)
    }

    fn rx_write_back_cycle(&mut self, slot: u16) -> Option<Cycle> {
        self.probes.rx_write_back_cycle(slot)
    }

    fn tx_frame_posted(&mut self, slot: u16, id: FrameId) {
        self.probes.tx_posted(slot, id);
    }

    fn new_frame_id(&mut self) -> FrameId {
        let id = self.next_frame_id;
        self.next_frame_id += 1;
        id
    }
}
