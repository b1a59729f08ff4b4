// See nic_model.h.
#include "nic_model.h"

#include <stdexcept>
#include <string>

#include "nicsim-model/src/model.rs.h"

namespace nicsim {

NicModel::NicModel(uint64_t ps_per_cycle)
    : ctx_(std::make_unique<VerilatedContext>()), ps_per_cycle_(ps_per_cycle) {
    // Must precede construction of the model, or its trace hooks are compiled out at runtime.
    ctx_->traceEverOn(true);
    top_ = std::make_unique<Vnic_top>(ctx_.get(), "TOP");
    top_->clk = 0;
}

NicModel::~NicModel() {
    close_trace();
    top_->final();
}

void NicModel::step(Pins& p) {
    Vnic_top& top = *top_;
    top.rst = p.rst;
    top.s_axis_rx_tdata = p.s_axis_rx_tdata;
    top.s_axis_rx_tkeep = p.s_axis_rx_tkeep;
    top.s_axis_rx_tvalid = p.s_axis_rx_tvalid;
    top.s_axis_rx_tlast = p.s_axis_rx_tlast;
    top.s_axis_rx_tuser = p.s_axis_rx_tuser;
    top.m_axis_tx_tready = p.m_axis_tx_tready;
    top.s_axil_awaddr = p.s_axil_awaddr;
    top.s_axil_awvalid = p.s_axil_awvalid;
    top.s_axil_wdata = p.s_axil_wdata;
    top.s_axil_wstrb = p.s_axil_wstrb;
    top.s_axil_wvalid = p.s_axil_wvalid;
    top.s_axil_bready = p.s_axil_bready;
    top.s_axil_araddr = p.s_axil_araddr;
    top.s_axil_arvalid = p.s_axil_arvalid;
    top.s_axil_rready = p.s_axil_rready;
    top.m_axi_awready = p.m_axi_awready;
    top.m_axi_wready = p.m_axi_wready;
    top.m_axi_bresp = p.m_axi_bresp;
    top.m_axi_bvalid = p.m_axi_bvalid;
    top.m_axi_arready = p.m_axi_arready;
    top.m_axi_rdata = p.m_axi_rdata;
    top.m_axi_rresp = p.m_axi_rresp;
    top.m_axi_rlast = p.m_axi_rlast;
    top.m_axi_rvalid = p.m_axi_rvalid;

    const uint64_t t_low = cycle_ * ps_per_cycle_;
    top.clk = 0;
    ctx_->time(t_low);
    top.eval();
    const bool tracing = fst_ && fst_->isOpen();
    if (tracing) fst_->dump(t_low);

    p.s_axis_rx_tready = top.s_axis_rx_tready;
    p.m_axis_tx_tdata = top.m_axis_tx_tdata;
    p.m_axis_tx_tkeep = top.m_axis_tx_tkeep;
    p.m_axis_tx_tvalid = top.m_axis_tx_tvalid;
    p.m_axis_tx_tlast = top.m_axis_tx_tlast;
    p.m_axis_tx_tuser = top.m_axis_tx_tuser;
    p.s_axil_awready = top.s_axil_awready;
    p.s_axil_wready = top.s_axil_wready;
    p.s_axil_bresp = top.s_axil_bresp;
    p.s_axil_bvalid = top.s_axil_bvalid;
    p.s_axil_arready = top.s_axil_arready;
    p.s_axil_rdata = top.s_axil_rdata;
    p.s_axil_rresp = top.s_axil_rresp;
    p.s_axil_rvalid = top.s_axil_rvalid;
    p.m_axi_awaddr = top.m_axi_awaddr;
    p.m_axi_awlen = top.m_axi_awlen;
    p.m_axi_awsize = top.m_axi_awsize;
    p.m_axi_awburst = top.m_axi_awburst;
    p.m_axi_awvalid = top.m_axi_awvalid;
    p.m_axi_wdata = top.m_axi_wdata;
    p.m_axi_wstrb = top.m_axi_wstrb;
    p.m_axi_wlast = top.m_axi_wlast;
    p.m_axi_wvalid = top.m_axi_wvalid;
    p.m_axi_bready = top.m_axi_bready;
    p.m_axi_araddr = top.m_axi_araddr;
    p.m_axi_arlen = top.m_axi_arlen;
    p.m_axi_arsize = top.m_axi_arsize;
    p.m_axi_arburst = top.m_axi_arburst;
    p.m_axi_arvalid = top.m_axi_arvalid;
    p.m_axi_rready = top.m_axi_rready;
    p.irq = top.irq;
    p.rx_evt_valid = top.rx_evt_valid;
    p.rx_evt_code = top.rx_evt_code;
    p.rx_wb_valid = top.rx_wb_valid;
    p.rx_wb_slot = top.rx_wb_slot;
    p.tx_dma_valid = top.tx_dma_valid;
    p.tx_dma_slot = top.tx_dma_slot;
    p.tx_wb_valid = top.tx_wb_valid;
    p.tx_wb_slot = top.tx_wb_slot;

    const uint64_t t_high = t_low + ps_per_cycle_ / 2;
    top.clk = 1;
    ctx_->time(t_high);
    top.eval();
    if (tracing) fst_->dump(t_high);
    ++cycle_;
}

void NicModel::open_trace(rust::Str path) {
    close_trace();
    if (!fst_) {
        fst_ = std::make_unique<VerilatedFstC>();
        top_->trace(fst_.get(), 99);
    }
    const std::string file(path);
    fst_->open(file.c_str());
    if (!fst_->isOpen()) throw std::runtime_error("cannot open FST trace " + file);
}

void NicModel::close_trace() {
    if (fst_ && fst_->isOpen()) fst_->close();
}

std::unique_ptr<NicModel> new_nic_model(uint64_t ps_per_cycle) {
    return std::make_unique<NicModel>(ps_per_cycle);
}

}  // namespace nicsim
