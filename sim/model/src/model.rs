//! The cxx bridge to the Verilated `nic_top` (csrc/nic_model.cpp).
//!
//! Kept alone in this file: build.rs reruns when it changes, so nothing else lives here.
//! One crossing per cycle: [`Pins`] carries every input and output of `nic_top`; `step` applies the
//! inputs, evaluates clock low, samples the outputs (the values the DUT presents at the rising edge,
//! so a Rust model sees a handshake exactly as the DUT does), then evaluates clock high.

#[cxx::bridge(namespace = "nicsim")]
mod ffi {
    /// Every port of `nic_top` but `clk`, named as in the RTL. Outputs hold the values sampled just
    /// before the rising edge of the last `step`.
    #[derive(Clone, Debug, Default)]
    struct Pins {
        rst: bool,
        // AXI-S RX in
        s_axis_rx_tdata: u64,
        s_axis_rx_tkeep: u8,
        s_axis_rx_tvalid: bool,
        s_axis_rx_tready: bool,
        s_axis_rx_tlast: bool,
        s_axis_rx_tuser: bool,
        // AXI-S TX out
        m_axis_tx_tdata: u64,
        m_axis_tx_tkeep: u8,
        m_axis_tx_tvalid: bool,
        m_axis_tx_tready: bool,
        m_axis_tx_tlast: bool,
        m_axis_tx_tuser: bool,
        // AXI4-Lite slave (17-bit address)
        s_axil_awaddr: u32,
        s_axil_awvalid: bool,
        s_axil_awready: bool,
        s_axil_wdata: u32,
        s_axil_wstrb: u8,
        s_axil_wvalid: bool,
        s_axil_wready: bool,
        s_axil_bresp: u8,
        s_axil_bvalid: bool,
        s_axil_bready: bool,
        s_axil_araddr: u32,
        s_axil_arvalid: bool,
        s_axil_arready: bool,
        s_axil_rdata: u32,
        s_axil_rresp: u8,
        s_axil_rvalid: bool,
        s_axil_rready: bool,
        // AXI4 DMA master
        m_axi_awaddr: u64,
        m_axi_awlen: u8,
        m_axi_awsize: u8,
        m_axi_awburst: u8,
        m_axi_awvalid: bool,
        m_axi_awready: bool,
        m_axi_wdata: u64,
        m_axi_wstrb: u8,
        m_axi_wlast: bool,
        m_axi_wvalid: bool,
        m_axi_wready: bool,
        m_axi_bresp: u8,
        m_axi_bvalid: bool,
        m_axi_bready: bool,
        m_axi_araddr: u64,
        m_axi_arlen: u8,
        m_axi_arsize: u8,
        m_axi_arburst: u8,
        m_axi_arvalid: bool,
        m_axi_arready: bool,
        m_axi_rdata: u64,
        m_axi_rresp: u8,
        m_axi_rlast: bool,
        m_axi_rvalid: bool,
        m_axi_rready: bool,
        // interrupt and probes
        irq: bool,
        rx_evt_valid: bool,
        rx_evt_code: u8,
        rx_wb_valid: bool,
        rx_wb_slot: u16,
        tx_dma_valid: bool,
        tx_dma_slot: u16,
        tx_wb_valid: bool,
        tx_wb_slot: u16,
    }

    unsafe extern "C++" {
        include!("nic_model.h");

        /// One Verilated `nic_top` with its own VerilatedContext and optional FST trace.
        type NicModel;

        /// `ps_per_cycle` sets the trace time scale (FST timestamps are in ps).
        fn new_nic_model(ps_per_cycle: u64) -> UniquePtr<NicModel>;
        /// One clock cycle: inputs applied, clock low eval, outputs sampled, clock high eval.
        fn step(self: Pin<&mut NicModel>, pins: &mut Pins);
        /// Starts dumping FST to `path` from the next cycle on (closing any open trace first).
        fn open_trace(self: Pin<&mut NicModel>, path: &str) -> Result<()>;
        /// Flushes and closes the open trace, if any.
        fn close_trace(self: Pin<&mut NicModel>);
    }
}

pub use ffi::{NicModel, Pins};

/// The Verilated design plus its pins, as one owned value.
pub struct Model {
    inner: cxx::UniquePtr<NicModel>,
}

impl Model {
    pub fn new(ps_per_cycle: u64) -> Model {
        Model {
            inner: ffi::new_nic_model(ps_per_cycle),
        }
    }

    #[inline]
    pub fn step(&mut self, pins: &mut Pins) {
        self.inner.pin_mut().step(pins);
    }

    pub fn open_trace(&mut self, path: &str) -> Result<(), cxx::Exception> {
        self.inner.pin_mut().open_trace(path)
    }

    pub fn close_trace(&mut self) {
        self.inner.pin_mut().close_trace();
    }
}
