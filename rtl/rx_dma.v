/*
 * e1000 legacy receive descriptor ring engine: descriptor prefetch, payload
 * DMA from rx_fifo into host buffers and descriptor write-back.
 *
 * Descriptors: the driver owns [RDT, RDH), the NIC owns [RDH, RDT). Free
 * descriptors are fetched ahead (addr field only, in bursts of up to
 * DESC_FETCH_MAX) into a small cache. A frame at the FIFO head takes the next
 * cached descriptor and is written with INCR bursts (at most 16 beats, never
 * across 4 KiB); the buffer address may have any byte alignment, the data is
 * realigned here and the bus sees 8-byte aligned bursts with byte strobes.
 *
 * Write-back order contract: the descriptor write-back (upper 8 bytes:
 * length, csum 0, status DD|EOP, errors 0, special 0) of a frame is issued only
 * after the B responses of all of its payload bursts; RDH advances, the
 * rx_wb probe pulses and RXT0 is raised only after the write-back's own B.
 * Bursts of the next frames may be in flight meanwhile. The bus returns B
 * responses in order (single ID), which a tag FIFO relies on.
 *
 * RDH and RDLEN may be changed by the driver only while receive is idle
 * (RCTL.EN clear, no frame in flight), as on e1000.
 *
 * This module only composes the three parts, in the manner of Corundum's
 * split DMA engines: rx_desc_fetch (prefetch and cache), rx_dma_payload (frame
 * to buffer, the write jobs) and rx_dma_wb (B ordering, write-back, RDH).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_dma #
(
    // Descriptor cache entries (power of two). This and the two depths below
    // bound the frames in flight: line rate for 64-byte frames holds up to
    // about 600 cycles of DMA round-trip latency.
    parameter DESC_CACHE_DEPTH = 64,
    // Descriptors fetched per read burst (2 beats each, at most 8 for 16 beats)
    parameter DESC_FETCH_MAX = 8,
    // Frames between payload issue and descriptor write-back (power of two)
    parameter WBQ_DEPTH = 64,
    // Write bursts awaiting their B response (power of two)
    parameter BTAG_DEPTH = 128
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Ring configuration
     */
    input  wire        rctl_en,
    input  wire [1:0]  rctl_rdmts,
    input  wire [63:0] rdba,
    input  wire [15:0] ring_size,     // RDLEN / 16: descriptors in the ring
    input  wire [15:0] rdt,
    input  wire        rdh_wr,
    input  wire [15:0] rdh_wdata,
    output wire [15:0] rdh,

    /*
     * Frames from rx_fifo
     */
    input  wire        s_frame_valid,
    input  wire [15:0] s_frame_len,
    input  wire [15:0] s_frame_sts,   // checksum {errors, status} bits for the write-back
    input  wire [63:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,

    /*
     * AXI4 master
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
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [1:0]  m_axi_bresp,   // not acted on: see rx_dma_wb
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        m_axi_bvalid,
    output wire        m_axi_bready,
    output wire [63:0] m_axi_araddr,
    output wire [7:0]  m_axi_arlen,
    output wire [2:0]  m_axi_arsize,
    output wire [1:0]  m_axi_arburst,
    output wire        m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [63:0] m_axi_rdata,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [1:0]  m_axi_rresp,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,
    output wire        m_axi_rready,

    /*
     * Events
     */
    output wire        rx_wb_valid,   // probe and RXT0: write-back of slot rx_wb_slot completed
    output wire [15:0] rx_wb_slot,
    output wire        rxdmt0,        // free descriptors fell to the RCTL.RDMTS threshold
    output wire        rnbc           // a frame waits for want of a descriptor (once per frame)
);

wire [63:0] desc_addr;
wire desc_valid;
wire desc_pop;
wire wb_req;
wire [63:0] wb_addr;
wire [63:0] wb_data;
wire wbq_full;
wire btag_full;
wire frame_start;
wire job_start;
wire job_wb;
wire job_frame_last;

assign m_axi_awsize = 3'd3;
assign m_axi_awburst = 2'b01;
assign m_axi_bready = 1'b1;
assign m_axi_arsize = 3'd3;
assign m_axi_arburst = 2'b01;
assign m_axi_rready = 1'b1;

// The three parts; their own checks cover the parameters
rx_desc_fetch #(
    .DESC_CACHE_DEPTH(DESC_CACHE_DEPTH),
    .DESC_FETCH_MAX(DESC_FETCH_MAX)
)
fetch_inst (
    .clk(clk),
    .rst(rst),
    .rctl_en(rctl_en),
    .rdba(rdba),
    .ring_size(ring_size),
    .rdt(rdt),
    .rdh_wr(rdh_wr),
    .rdh_wdata(rdh_wdata),
    .m_axi_araddr(m_axi_araddr),
    .m_axi_arlen(m_axi_arlen),
    .m_axi_arvalid(m_axi_arvalid),
    .m_axi_arready(m_axi_arready),
    .m_axi_rdata(m_axi_rdata),
    .m_axi_rlast(m_axi_rlast),
    .m_axi_rvalid(m_axi_rvalid),
    .m_desc_addr(desc_addr),
    .m_desc_valid(desc_valid),
    .m_desc_pop(desc_pop)
);

rx_dma_payload
payload_inst (
    .clk(clk),
    .rst(rst),
    .rctl_en(rctl_en),
    .ring_size(ring_size),
    .rdt(rdt),
    .rdh_wr(rdh_wr),
    .rdh_wdata(rdh_wdata),
    .s_frame_valid(s_frame_valid),
    .s_frame_len(s_frame_len),
    .s_axis_tdata(s_axis_tdata),
    .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .s_desc_addr(desc_addr),
    .s_desc_valid(desc_valid),
    .s_desc_pop(desc_pop),
    .wb_req(wb_req),
    .wb_addr(wb_addr),
    .wb_data(wb_data),
    .wbq_full(wbq_full),
    .btag_full(btag_full),
    .frame_start(frame_start),
    .job_start(job_start),
    .job_wb(job_wb),
    .job_frame_last(job_frame_last),
    .m_axi_awaddr(m_axi_awaddr),
    .m_axi_awlen(m_axi_awlen),
    .m_axi_awvalid(m_axi_awvalid),
    .m_axi_awready(m_axi_awready),
    .m_axi_wdata(m_axi_wdata),
    .m_axi_wstrb(m_axi_wstrb),
    .m_axi_wlast(m_axi_wlast),
    .m_axi_wvalid(m_axi_wvalid),
    .m_axi_wready(m_axi_wready),
    .rnbc(rnbc)
);

rx_dma_wb #(
    .WBQ_DEPTH(WBQ_DEPTH),
    .BTAG_DEPTH(BTAG_DEPTH)
)
wb_inst (
    .clk(clk),
    .rst(rst),
    .rctl_rdmts(rctl_rdmts),
    .rdba(rdba),
    .ring_size(ring_size),
    .rdt(rdt),
    .rdh_wr(rdh_wr),
    .rdh_wdata(rdh_wdata),
    .rdh(rdh),
    .frame_start(frame_start),
    .frame_len(s_frame_len),
    .frame_sts(s_frame_sts),
    .job_start(job_start),
    .job_wb(job_wb),
    .job_frame_last(job_frame_last),
    .wbq_full(wbq_full),
    .btag_full(btag_full),
    .wb_req(wb_req),
    .wb_addr(wb_addr),
    .wb_data(wb_data),
    .m_axi_bvalid(m_axi_bvalid),
    .rx_wb_valid(rx_wb_valid),
    .rx_wb_slot(rx_wb_slot),
    .rxdmt0(rxdmt0)
);

endmodule

`resetall
