//! Bus-level faults seen by the simulator's models of the host side: DMA outside a mapping (what an
//! IOMMU would block), AXI protocol violations by the NIC, MMIO errors and probe mismatches. Every one
//! carries the cycle it happened at; the runner reports them and fails the run.

use host_driver::dma::{DmaDir, DmaFault};
use host_driver::time::Cycle;
use serde::Serialize;

/// Which AXI channel a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AxiChannel {
    /// AR: a DMA read burst.
    Read,
    /// AW/W: a DMA write burst.
    Write,
}

/// What is wrong with a DMA burst (docs/interfaces.md, DMA rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolViolation {
    #[error("size {0} (only 3 = 8-byte beats is allowed)")]
    Size(u8),
    #[error("burst type {0} (only INCR = 1 is allowed)")]
    BurstType(u8),
    #[error("address not 8-byte aligned")]
    Unaligned,
    #[error("{0} beats (at most 16 per burst)")]
    TooLong(u16),
    #[error("burst crosses a 4 KiB boundary")]
    Crosses4K,
    #[error("WLAST after {got} beats, AWLEN announced {expected}")]
    WlastMismatch { expected: u16, got: u16 },
}

/// One fault, in the order it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The NIC accessed host memory outside a mapping that permits it; answered with SLVERR.
    #[error("cycle {cycle}: DMA {} of {len} bytes at {addr:#x} outside any mapping that permits it",
        if *dir == DmaDir::ToDevice { "read" } else { "write" })]
    Dma {
        cycle: Cycle,
        addr: u64,
        len: usize,
        dir: DmaDir,
    },
    /// The NIC's DMA master broke an AXI rule of the contract; answered with SLVERR.
    #[error("cycle {cycle}: AXI {channel:?} burst at {addr:#x}: {violation}")]
    Protocol {
        cycle: Cycle,
        channel: AxiChannel,
        addr: u64,
        violation: ProtocolViolation,
    },
    /// An AXI4-Lite register access answered with an error response.
    #[error("cycle {cycle}: MMIO {} at {offset:#06x} answered with response {resp}", if *write { "write" } else { "read" })]
    MmioError {
        cycle: Cycle,
        offset: u32,
        write: bool,
        resp: u8,
    },
    /// No AXI4-Lite read response within the completion timeout: the CPU got all ones, as on PCIe.
    #[error("cycle {cycle}: MMIO read at {offset:#06x} not answered within {timeout} cycles")]
    MmioTimeout {
        cycle: Cycle,
        offset: u32,
        timeout: Cycle,
    },
    /// A probe pulse that no frame in flight can explain (the NIC broke a probe-order rule).
    #[error("cycle {cycle}: probe {probe} with no frame in flight for it")]
    ProbeOrder { cycle: Cycle, probe: &'static str },
    /// `rx_evt_code` outside 0..=6.
    #[error("cycle {cycle}: rx_evt_code {code} is not defined")]
    ProbeCode { cycle: Cycle, code: u8 },
}

impl Fault {
    pub(crate) fn dma(cycle: Cycle, f: DmaFault) -> Fault {
        Fault::Dma {
            cycle,
            addr: f.addr,
            len: f.len,
            dir: f.dir,
        }
    }

    pub fn cycle(&self) -> Cycle {
        match *self {
            Fault::Dma { cycle, .. }
            | Fault::Protocol { cycle, .. }
            | Fault::MmioError { cycle, .. }
            | Fault::MmioTimeout { cycle, .. }
            | Fault::ProbeOrder { cycle, .. }
            | Fault::ProbeCode { cycle, .. } => cycle,
        }
    }
}
