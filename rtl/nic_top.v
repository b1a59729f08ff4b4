/*
 * nicsim NIC: an e1000-style (legacy descriptors) 10 GbE NIC core.
 *
 *   s_axis_rx -> rx_mac -> rx_fifo -> rx_dma -+
 *                                              +-> axi_dma_arbiter -> m_axi (host memory)
 *   m_axis_tx <------------------ tx_engine --+
 *   s_axil -> nic_regs (+ nic_irq, nic_stats) -> irq
 *
 * Probe ports are simulation observation points (see rtl/README.md); leave
 * them open in an FPGA.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module nic_top #
(
    parameter RX_FIFO_DEPTH_BYTES = 16384,
    parameter TX_FIFO_DEPTH_BYTES = 16384
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * AXI-Stream RX in (frames with FCS, no preamble)
     */
    input  wire [63:0] s_axis_rx_tdata,
    input  wire [7:0]  s_axis_rx_tkeep,
    input  wire        s_axis_rx_tvalid,
    output wire        s_axis_rx_tready,
    input  wire        s_axis_rx_tlast,
    input  wire        s_axis_rx_tuser,

    /*
     * AXI-Stream TX out (frames with FCS appended)
     */
    output wire [63:0] m_axis_tx_tdata,
    output wire [7:0]  m_axis_tx_tkeep,
    output wire        m_axis_tx_tvalid,
    input  wire        m_axis_tx_tready,
    output wire        m_axis_tx_tlast,
    output wire        m_axis_tx_tuser,

    /*
     * AXI4-Lite register slave (128 KiB BAR)
     */
    input  wire [16:0] s_axil_awaddr,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [16:0] s_axil_araddr,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready,

    /*
     * AXI4 master (DMA)
     */
    output wire [63:0] m_axi_awaddr,
    output wire [7:0]  m_axi_awlen,
    output wire [2:0]  m_axi_awsize,
    output wire [1:0]  m_axi_awburst,
    output wire        m_axi_awvalid,
    input  wire        m_axi_awready,
    output wire [63:0] m_axi_wdata,
    output wire [7:0]  m_axi_wstrb,
    output wire        m_axi_wlast,
    output wire        m_axi_wvalid,
    input  wire        m_axi_wready,
    input  wire [1:0]  m_axi_bresp,
    input  wire        m_axi_bvalid,
    output wire        m_axi_bready,
    output wire [63:0] m_axi_araddr,
    output wire [7:0]  m_axi_arlen,
    output wire [2:0]  m_axi_arsize,
    output wire [1:0]  m_axi_arburst,
    output wire        m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [63:0] m_axi_rdata,
    input  wire [1:0]  m_axi_rresp,
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,
    output wire        m_axi_rready,

    /*
     * Interrupt (level)
     */
    output wire        irq,

    /*
     * Probes
     */
    output wire        rx_evt_valid,
    output wire [2:0]  rx_evt_code,
    output wire        rx_wb_valid,
    output wire [15:0] rx_wb_slot,
    output wire        tx_dma_valid,
    output wire [15:0] tx_dma_slot,
    output wire        tx_wb_valid,
    output wire [15:0] tx_wb_slot
);

// rx_evt codes (RX_EVT_FIFO_FULL raises the cause RXO)
`include "nic_rx_events.vh"

// CTRL.RST resets the core; nic_regs keeps its AXI4-Lite handshake state.
// The arbiter keeps its response routing so that bursts in flight drain.
wire soft_rst;
wire core_rst = rst || soft_rst;

// Register outputs
wire rctl_en, rctl_upe, rctl_mpe, rctl_bam;
wire [1:0] rctl_rdmts;
wire [63:0] rdba;
wire [15:0] rx_ring_size;
wire [15:0] rdt;
wire rdh_wr;
wire [15:0] rdh;
wire [15:0] rlpml;
wire rxcsum_ipofld, rxcsum_tuofld;
wire [47:0] mac_addr;
wire mac_addr_valid;
wire [11:0] mta_hash;
wire mta_hit;
wire tctl_en, tctl_psp;
wire [63:0] tdba;
wire [19:0] tdlen;
wire [15:0] tdt;
wire tdh_wr;
wire [15:0] tdh;
wire [31:0] reg_wdata;
wire icr_rd, icr_wr, ics_wr, ims_wr, imc_wr;
wire [15:0] itr, rdtr, radv;
wire [31:0] icr, ims;
wire stats_rd;
wire [16:0] stats_addr;
wire [31:0] stats_data;

// RX path
wire rx_evt_bcast, rx_evt_mcast;
wire [15:0] rx_evt_bytes;
wire fifo_wr_en, fifo_wr_last, fifo_rollback, fifo_full;
wire [63:0] fifo_wr_data;
wire [15:0] fifo_wr_len;
wire [15:0] fifo_wr_sts;
wire [63:0] fifo_tdata;
wire fifo_tvalid, fifo_tready, fifo_tlast;
wire fifo_frame_valid;
wire [15:0] fifo_frame_len;
wire [15:0] fifo_frame_sts;
wire rxdmt0, rnbc;

// TX path
wire txdw, txqe, stat_tx_frame, tx_err;
wire [15:0] stat_tx_bytes;

// DMA masters
wire [63:0] rx_axi_awaddr, rx_axi_wdata, rx_axi_araddr, rx_axi_rdata;
wire [7:0] rx_axi_awlen, rx_axi_wstrb, rx_axi_arlen;
wire [2:0] rx_axi_awsize, rx_axi_arsize;
wire [1:0] rx_axi_awburst, rx_axi_bresp, rx_axi_arburst, rx_axi_rresp;
wire rx_axi_awvalid, rx_axi_awready, rx_axi_wlast, rx_axi_wvalid, rx_axi_wready;
wire rx_axi_bvalid, rx_axi_bready, rx_axi_arvalid, rx_axi_arready;
wire rx_axi_rlast, rx_axi_rvalid, rx_axi_rready;

wire [63:0] tx_axi_awaddr, tx_axi_wdata, tx_axi_araddr, tx_axi_rdata;
wire [7:0] tx_axi_awlen, tx_axi_wstrb, tx_axi_arlen;
wire [2:0] tx_axi_awsize, tx_axi_arsize;
wire [1:0] tx_axi_awburst, tx_axi_bresp, tx_axi_arburst, tx_axi_rresp;
wire tx_axi_awvalid, tx_axi_awready, tx_axi_wlast, tx_axi_wvalid, tx_axi_wready;
wire tx_axi_bvalid, tx_axi_bready, tx_axi_arvalid, tx_axi_arready;
wire tx_axi_rlast, tx_axi_rvalid, tx_axi_rready;

nic_regs regs_inst (
    .clk(clk),
    .rst(rst),
    .s_axil_awaddr(s_axil_awaddr),
    .s_axil_awvalid(s_axil_awvalid),
    .s_axil_awready(s_axil_awready),
    .s_axil_wdata(s_axil_wdata),
    .s_axil_wstrb(s_axil_wstrb),
    .s_axil_wvalid(s_axil_wvalid),
    .s_axil_wready(s_axil_wready),
    .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(s_axil_bready),
    .s_axil_araddr(s_axil_araddr),
    .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready),
    .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid),
    .s_axil_rready(s_axil_rready),
    .soft_rst(soft_rst),
    .rctl_en(rctl_en),
    .rctl_upe(rctl_upe),
    .rctl_mpe(rctl_mpe),
    .rctl_bam(rctl_bam),
    .rctl_rdmts(rctl_rdmts),
    .rdba(rdba),
    .rx_ring_size(rx_ring_size),
    .rdt(rdt),
    .rdh_wr(rdh_wr),
    .rdh(rdh),
    .rlpml(rlpml),
    .rxcsum_ipofld(rxcsum_ipofld),
    .rxcsum_tuofld(rxcsum_tuofld),
    .mac_addr(mac_addr),
    .mac_addr_valid(mac_addr_valid),
    .mta_hash(mta_hash),
    .mta_hit(mta_hit),
    .tctl_en(tctl_en),
    .tctl_psp(tctl_psp),
    .tdba(tdba),
    .tdlen(tdlen),
    .tdt(tdt),
    .tdh_wr(tdh_wr),
    .tdh(tdh),
    .reg_wdata(reg_wdata),
    .icr_rd(icr_rd),
    .icr_wr(icr_wr),
    .ics_wr(ics_wr),
    .ims_wr(ims_wr),
    .imc_wr(imc_wr),
    .itr(itr),
    .rdtr(rdtr),
    .radv(radv),
    .icr(icr),
    .ims(ims),
    .stats_rd(stats_rd),
    .stats_addr(stats_addr),
    .stats_data(stats_data)
);

nic_irq irq_inst (
    .clk(clk),
    .rst(core_rst),
    .txdw(txdw),
    .txqe(txqe),
    .rxdmt0(rxdmt0),
    .rxo(rx_evt_valid && rx_evt_code == RX_EVT_FIFO_FULL),
    .rx_wb(rx_wb_valid),
    .reg_wdata(reg_wdata),
    .icr_rd(icr_rd),
    .icr_wr(icr_wr),
    .ics_wr(ics_wr),
    .ims_wr(ims_wr),
    .imc_wr(imc_wr),
    .itr(itr),
    .rdtr(rdtr),
    .radv(radv),
    .icr(icr),
    .ims(ims),
    .irq(irq)
);

nic_stats stats_inst (
    .clk(clk),
    .rst(core_rst),
    .rx_evt_valid(rx_evt_valid),
    .rx_evt_code(rx_evt_code),
    .rx_evt_bcast(rx_evt_bcast),
    .rx_evt_mcast(rx_evt_mcast),
    .rx_evt_bytes(rx_evt_bytes),
    .rnbc(rnbc),
    .tx_frame(stat_tx_frame),
    .tx_bytes(stat_tx_bytes),
    .tx_err(tx_err),
    .rd_en(stats_rd),
    .rd_addr(stats_addr),
    .rd_data(stats_data)
);

rx_mac rx_mac_inst (
    .clk(clk),
    .rst(core_rst),
    .s_axis_rx_tdata(s_axis_rx_tdata),
    .s_axis_rx_tkeep(s_axis_rx_tkeep),
    .s_axis_rx_tvalid(s_axis_rx_tvalid),
    .s_axis_rx_tready(s_axis_rx_tready),
    .s_axis_rx_tlast(s_axis_rx_tlast),
    .s_axis_rx_tuser(s_axis_rx_tuser),
    .rctl_en(rctl_en),
    .rctl_upe(rctl_upe),
    .rctl_mpe(rctl_mpe),
    .rctl_bam(rctl_bam),
    .mac_addr(mac_addr),
    .mac_addr_valid(mac_addr_valid),
    .rlpml(rlpml),
    .rxcsum_ipofld(rxcsum_ipofld),
    .rxcsum_tuofld(rxcsum_tuofld),
    .mta_hash(mta_hash),
    .mta_hit(mta_hit),
    .m_fifo_wr_en(fifo_wr_en),
    .m_fifo_wr_data(fifo_wr_data),
    .m_fifo_wr_last(fifo_wr_last),
    .m_fifo_wr_len(fifo_wr_len),
    .m_fifo_wr_sts(fifo_wr_sts),
    .m_fifo_rollback(fifo_rollback),
    .m_fifo_full(fifo_full),
    .rx_evt_valid(rx_evt_valid),
    .rx_evt_code(rx_evt_code),
    .rx_evt_bcast(rx_evt_bcast),
    .rx_evt_mcast(rx_evt_mcast),
    .rx_evt_bytes(rx_evt_bytes)
);

rx_fifo #(
    .RX_FIFO_DEPTH_BYTES(RX_FIFO_DEPTH_BYTES)
)
rx_fifo_inst (
    .clk(clk),
    .rst(core_rst),
    .s_wr_en(fifo_wr_en),
    .s_wr_data(fifo_wr_data),
    .s_wr_last(fifo_wr_last),
    .s_wr_len(fifo_wr_len),
    .s_wr_sts(fifo_wr_sts),
    .s_rollback(fifo_rollback),
    .s_full(fifo_full),
    .m_axis_tdata(fifo_tdata),
    .m_axis_tvalid(fifo_tvalid),
    .m_axis_tready(fifo_tready),
    .m_axis_tlast(fifo_tlast),
    .m_frame_valid(fifo_frame_valid),
    .m_frame_len(fifo_frame_len),
    .m_frame_sts(fifo_frame_sts)
);

rx_dma rx_dma_inst (
    .clk(clk),
    .rst(core_rst),
    .rctl_en(rctl_en),
    .rctl_rdmts(rctl_rdmts),
    .rdba(rdba),
    .ring_size(rx_ring_size),
    .rdt(rdt),
    .rdh_wr(rdh_wr),
    .rdh_wdata(reg_wdata[15:0]),
    .rdh(rdh),
    .s_frame_valid(fifo_frame_valid),
    .s_frame_len(fifo_frame_len),
    .s_frame_sts(fifo_frame_sts),
    .s_axis_tdata(fifo_tdata),
    .s_axis_tvalid(fifo_tvalid),
    .s_axis_tready(fifo_tready),
    .s_axis_tlast(fifo_tlast),
    .m_axi_awaddr(rx_axi_awaddr),
    .m_axi_awlen(rx_axi_awlen),
    .m_axi_awsize(rx_axi_awsize),
    .m_axi_awburst(rx_axi_awburst),
    .m_axi_awvalid(rx_axi_awvalid),
    .m_axi_awready(rx_axi_awready),
    .m_axi_wdata(rx_axi_wdata),
    .m_axi_wstrb(rx_axi_wstrb),
    .m_axi_wlast(rx_axi_wlast),
    .m_axi_wvalid(rx_axi_wvalid),
    .m_axi_wready(rx_axi_wready),
    .m_axi_bresp(rx_axi_bresp),
    .m_axi_bvalid(rx_axi_bvalid),
    .m_axi_bready(rx_axi_bready),
    .m_axi_araddr(rx_axi_araddr),
    .m_axi_arlen(rx_axi_arlen),
    .m_axi_arsize(rx_axi_arsize),
    .m_axi_arburst(rx_axi_arburst),
    .m_axi_arvalid(rx_axi_arvalid),
    .m_axi_arready(rx_axi_arready),
    .m_axi_rdata(rx_axi_rdata),
    .m_axi_rresp(rx_axi_rresp),
    .m_axi_rlast(rx_axi_rlast),
    .m_axi_rvalid(rx_axi_rvalid),
    .m_axi_rready(rx_axi_rready),
    .rx_wb_valid(rx_wb_valid),
    .rx_wb_slot(rx_wb_slot),
    .rxdmt0(rxdmt0),
    .rnbc(rnbc)
);

tx_engine #(
    .TX_FIFO_DEPTH_BYTES(TX_FIFO_DEPTH_BYTES)
)
tx_engine_inst (
    .clk(clk),
    .rst(core_rst),
    .tctl_en(tctl_en),
    .tctl_psp(tctl_psp),
    .tdba(tdba),
    .tdlen(tdlen),
    .tdt(tdt),
    .tdh_wr(tdh_wr),
    .tdh_wdata(reg_wdata[15:0]),
    .tdh(tdh),
    .m_axi_araddr(tx_axi_araddr),
    .m_axi_arlen(tx_axi_arlen),
    .m_axi_arsize(tx_axi_arsize),
    .m_axi_arburst(tx_axi_arburst),
    .m_axi_arvalid(tx_axi_arvalid),
    .m_axi_arready(tx_axi_arready),
    .m_axi_rdata(tx_axi_rdata),
    .m_axi_rresp(tx_axi_rresp),
    .m_axi_rlast(tx_axi_rlast),
    .m_axi_rvalid(tx_axi_rvalid),
    .m_axi_rready(tx_axi_rready),
    .m_axi_awaddr(tx_axi_awaddr),
    .m_axi_awlen(tx_axi_awlen),
    .m_axi_awsize(tx_axi_awsize),
    .m_axi_awburst(tx_axi_awburst),
    .m_axi_awvalid(tx_axi_awvalid),
    .m_axi_awready(tx_axi_awready),
    .m_axi_wdata(tx_axi_wdata),
    .m_axi_wstrb(tx_axi_wstrb),
    .m_axi_wlast(tx_axi_wlast),
    .m_axi_wvalid(tx_axi_wvalid),
    .m_axi_wready(tx_axi_wready),
    .m_axi_bresp(tx_axi_bresp),
    .m_axi_bvalid(tx_axi_bvalid),
    .m_axi_bready(tx_axi_bready),
    .m_axis_tx_tdata(m_axis_tx_tdata),
    .m_axis_tx_tkeep(m_axis_tx_tkeep),
    .m_axis_tx_tvalid(m_axis_tx_tvalid),
    .m_axis_tx_tready(m_axis_tx_tready),
    .m_axis_tx_tlast(m_axis_tx_tlast),
    .m_axis_tx_tuser(m_axis_tx_tuser),
    .txdw_pulse(txdw),
    .txqe_pulse(txqe),
    .stat_tx_frame(stat_tx_frame),
    .stat_tx_bytes(stat_tx_bytes),
    .tx_err_pulse(tx_err),
    .tx_dma_valid(tx_dma_valid),
    .tx_dma_slot(tx_dma_slot),
    .tx_wb_valid(tx_wb_valid),
    .tx_wb_slot(tx_wb_slot)
);

axi_dma_arbiter arbiter_inst (
    .clk(clk),
    .rst(rst),
    .s0_axi_awaddr(rx_axi_awaddr),
    .s0_axi_awlen(rx_axi_awlen),
    .s0_axi_awsize(rx_axi_awsize),
    .s0_axi_awburst(rx_axi_awburst),
    .s0_axi_awvalid(rx_axi_awvalid),
    .s0_axi_awready(rx_axi_awready),
    .s0_axi_wdata(rx_axi_wdata),
    .s0_axi_wstrb(rx_axi_wstrb),
    .s0_axi_wlast(rx_axi_wlast),
    .s0_axi_wvalid(rx_axi_wvalid),
    .s0_axi_wready(rx_axi_wready),
    .s0_axi_bresp(rx_axi_bresp),
    .s0_axi_bvalid(rx_axi_bvalid),
    .s0_axi_bready(rx_axi_bready),
    .s0_axi_araddr(rx_axi_araddr),
    .s0_axi_arlen(rx_axi_arlen),
    .s0_axi_arsize(rx_axi_arsize),
    .s0_axi_arburst(rx_axi_arburst),
    .s0_axi_arvalid(rx_axi_arvalid),
    .s0_axi_arready(rx_axi_arready),
    .s0_axi_rdata(rx_axi_rdata),
    .s0_axi_rresp(rx_axi_rresp),
    .s0_axi_rlast(rx_axi_rlast),
    .s0_axi_rvalid(rx_axi_rvalid),
    .s0_axi_rready(rx_axi_rready),
    .s1_axi_awaddr(tx_axi_awaddr),
    .s1_axi_awlen(tx_axi_awlen),
    .s1_axi_awsize(tx_axi_awsize),
    .s1_axi_awburst(tx_axi_awburst),
    .s1_axi_awvalid(tx_axi_awvalid),
    .s1_axi_awready(tx_axi_awready),
    .s1_axi_wdata(tx_axi_wdata),
    .s1_axi_wstrb(tx_axi_wstrb),
    .s1_axi_wlast(tx_axi_wlast),
    .s1_axi_wvalid(tx_axi_wvalid),
    .s1_axi_wready(tx_axi_wready),
    .s1_axi_bresp(tx_axi_bresp),
    .s1_axi_bvalid(tx_axi_bvalid),
    .s1_axi_bready(tx_axi_bready),
    .s1_axi_araddr(tx_axi_araddr),
    .s1_axi_arlen(tx_axi_arlen),
    .s1_axi_arsize(tx_axi_arsize),
    .s1_axi_arburst(tx_axi_arburst),
    .s1_axi_arvalid(tx_axi_arvalid),
    .s1_axi_arready(tx_axi_arready),
    .s1_axi_rdata(tx_axi_rdata),
    .s1_axi_rresp(tx_axi_rresp),
    .s1_axi_rlast(tx_axi_rlast),
    .s1_axi_rvalid(tx_axi_rvalid),
    .s1_axi_rready(tx_axi_rready),
    .m_axi_awaddr(m_axi_awaddr),
    .m_axi_awlen(m_axi_awlen),
    .m_axi_awsize(m_axi_awsize),
    .m_axi_awburst(m_axi_awburst),
    .m_axi_awvalid(m_axi_awvalid),
    .m_axi_awready(m_axi_awready),
    .m_axi_wdata(m_axi_wdata),
    .m_axi_wstrb(m_axi_wstrb),
    .m_axi_wlast(m_axi_wlast),
    .m_axi_wvalid(m_axi_wvalid),
    .m_axi_wready(m_axi_wready),
    .m_axi_bresp(m_axi_bresp),
    .m_axi_bvalid(m_axi_bvalid),
    .m_axi_bready(m_axi_bready),
    .m_axi_araddr(m_axi_araddr),
    .m_axi_arlen(m_axi_arlen),
    .m_axi_arsize(m_axi_arsize),
    .m_axi_arburst(m_axi_arburst),
    .m_axi_arvalid(m_axi_arvalid),
    .m_axi_arready(m_axi_arready),
    .m_axi_rdata(m_axi_rdata),
    .m_axi_rresp(m_axi_rresp),
    .m_axi_rlast(m_axi_rlast),
    .m_axi_rvalid(m_axi_rvalid),
    .m_axi_rready(m_axi_rready)
);

endmodule

`resetall
