//! nicsim simulator: the Verilated NIC, the host bus models around it and the one timeline.

pub mod analysis;
pub mod axi_mem;
pub mod fault;
pub mod mmio;
pub mod model;
pub mod pcap;
pub mod peer;
pub mod probe;
pub mod replay;
pub mod wave;
pub mod wire;
pub mod world;

// Scenario runner, reports and the CLI.
pub mod cli;
pub mod expect;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sweep;
pub mod traffic;
