//! The world below the host software: the Verilated NIC ([`nicsim_model`]) with everything around it
//! on one timeline, stepped one NIC clock cycle at a time.
//!
//! - [`axi_mem`]: host memory behind the NIC's AXI4 DMA master; [`mmio`]: the CPU's AXI4-Lite master.
//! - [`link`]: the 10 GbE link at the MAC (the PHY feeding `s_axis_rx`, the far end taking
//!   `m_axis_tx`) and the [`link::LinkPartner`] trait for whatever answers at the far end.
//! - [`netem`]: damage on the cable (the scenario's `faults:`), after Linux's `sch_netem`.
//! - [`peer`]: the link partner nicsim ships (ARP, ping, UDP echo/sink, reassembly).
//! - [`observer`]: the probe-port observer, a logic analyser that stamps hardware stages per frame.
//! - [`fault`]: bus protocol violations and DMA faults; [`wave`]: FST windows and GTKWave save files;
//!   [`capture`]: the wire as a pcap.
//! - [`world`]: the timeline itself, which implements the host's `Platform`.

pub mod axi_mem;
pub mod capture;
pub mod fault;
pub mod link;
pub mod mmio;
pub mod netem;
pub mod observer;
pub mod peer;
pub mod wave;
pub mod world;
