/*
 * e1000 legacy transmit path: descriptor ring DMA, TX packet FIFO and
 * 10 GbE transmit MAC.
 *
 * Legacy and extended (DEXT) descriptors: a TCP/IP context descriptor sets
 * the checksum offsets, data descriptors with POPTS IXSM/TXSM get the IP and
 * TCP/UDP checksums inserted (summed in tx_rd_resp, put in place by tx_mac).
 *
 * tx_rd_issue fetches descriptors between the head and TDT and requests their
 * buffers; tx_rd_resp realigns the returned data into tx_fifo
 * (store-and-forward); tx_mac pads, appends the FCS and paces frames at
 * 10 Gb/s; tx_wb writes DD back for RS descriptors and advances TDH.
 *
 * Errors (tx_err_pulse, one pulse per event, for a counter):
 *  - a frame is dropped whole, and its descriptors are still completed (DD
 *    written back for RS, TDH advanced), when
 *      - a read of one of its descriptors or buffers returns SLVERR/DECERR
 *        (a descriptor that cannot be read ends the frame: its EOP is unknown),
 *      - its descriptors add up to more than MAX_FRAME_BYTES (it could never
 *        be complete in the FIFO),
 *      - it spans more than MAX_FRAME_DESCS descriptors,
 *      - it holds no byte (all its descriptors have length 0);
 *  - a descriptor write-back returns an error response (TDH still advances).
 * Every frame ending at an EOP therefore yields exactly one tx_dma_valid or
 * one tx_err_pulse. A zero-length descriptor inside a frame is skipped.
 *
 * DMA: INCR bursts of 8-byte beats, at most 16 beats, never crossing 4 KiB;
 * several reads may be outstanding (responses must return in order, as with a
 * single AXI ID); write-backs are single beats with wstrb = 8'h10 at
 * TDBA + 16 * idx + 8.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_engine #
(
    // TX packet FIFO capacity in bytes; a power of two, at least 2048
    parameter TX_FIFO_DEPTH_BYTES = 16384
)
(
    input  wire         clk,
    input  wire         rst,

    /*
     * Registers
     */
    input  wire         tctl_en,
    input  wire         tctl_psp,
    // TDBAL bits 3:0 are ignored: the ring is 16-byte aligned
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [63:0]  tdba,
    /* verilator lint_on UNUSEDSIGNAL */
    // TDLEN bits 3:0 are ignored: whole descriptors only
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [19:0]  tdlen,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [15:0]  tdt,
    input  wire         tdh_wr,
    input  wire [15:0]  tdh_wdata,
    output wire [15:0]  tdh,

    /*
     * AXI4 master (DMA)
     */
    output wire [63:0]  m_axi_araddr,
    output wire [7:0]   m_axi_arlen,
    output wire [2:0]   m_axi_arsize,
    output wire [1:0]   m_axi_arburst,
    output wire         m_axi_arvalid,
    input  wire         m_axi_arready,
    input  wire [63:0]  m_axi_rdata,
    input  wire [1:0]   m_axi_rresp,
    input  wire         m_axi_rlast,
    input  wire         m_axi_rvalid,
    output wire         m_axi_rready,
    output wire [63:0]  m_axi_awaddr,
    output wire [7:0]   m_axi_awlen,
    output wire [2:0]   m_axi_awsize,
    output wire [1:0]   m_axi_awburst,
    output wire         m_axi_awvalid,
    input  wire         m_axi_awready,
    output wire [63:0]  m_axi_wdata,
    output wire [7:0]   m_axi_wstrb,
    output wire         m_axi_wlast,
    output wire         m_axi_wvalid,
    input  wire         m_axi_wready,
    input  wire [1:0]   m_axi_bresp,
    input  wire         m_axi_bvalid,
    output wire         m_axi_bready,

    /*
     * AXI-Stream TX out (frames with FCS)
     */
    output wire [63:0]  m_axis_tx_tdata,
    output wire [7:0]   m_axis_tx_tkeep,
    output wire         m_axis_tx_tvalid,
    input  wire         m_axis_tx_tready,
    output wire         m_axis_tx_tlast,
    output wire         m_axis_tx_tuser,

    /*
     * Interrupt causes and statistics
     */
    output wire         txdw_pulse,
    output wire         txqe_pulse,
    output wire         stat_tx_frame,
    output wire [15:0]  stat_tx_bytes,   // with FCS and padding
    output wire         tx_err_pulse,

    /*
     * Probes
     */
    output wire         tx_dma_valid,
    output wire [15:0]  tx_dma_slot,
    output wire         tx_wb_valid,
    output wire [15:0]  tx_wb_slot
);

localparam FIFO_WORDS = TX_FIFO_DEPTH_BYTES / 8;
localparam FIFO_COUNT_WIDTH = $clog2(FIFO_WORDS) + 1;
// Committed frames waiting for the MAC
localparam LEN_DEPTH = 32;
localparam LEN_COUNT_WIDTH = $clog2(LEN_DEPTH) + 1;
// Descriptors cached or being fetched, and read bursts in flight: enough to
// keep minimum-size frames at line rate with about 1.5 us of read latency
// (each such frame takes 10.5 cycles on the wire and one burst to read).
localparam DESC_DEPTH = 32;
localparam TAG_DEPTH = 32;
localparam MAX_FRAME_DESCS = 32;
// Write-backs in flight: one per minimum-size frame time over a 100-cycle
// write latency
localparam WB_DEPTH = 16;
// Two words of slack: a burst may need one beat more than the words it
// fills at each end, and must still fit once the frame nearly fills the FIFO.
// The frame length (with FCS) must also fit stat_tx_bytes.
localparam MAX_FRAME_BYTES = (TX_FIFO_DEPTH_BYTES - 16 < 65531) ? TX_FIFO_DEPTH_BYTES - 16 : 65531;

wire [15:0] ring_size = tdlen[19:4];

assign m_axi_arsize = 3'd3;
assign m_axi_arburst = 2'b01;
assign m_axi_awlen = 8'd0;
assign m_axi_awsize = 3'd3;
assign m_axi_awburst = 2'b01;
assign m_axi_wlast = 1'b1;

/*
 * Read tags
 */
wire t_in_desc, t_in_data, t_in_dlast, t_in_eop, t_in_rs, t_in_drop, t_in_push;
wire [15:0] t_in_idx;
wire [2:0] t_in_first_off;
wire [3:0] t_in_last_end;
wire [66:0] t_in_csum;
wire t_full;

wire t_desc, t_data, t_dlast, t_eop, t_rs, t_drop, t_valid, t_pop;
wire [15:0] t_idx;
wire [2:0] t_first_off;
wire [3:0] t_last_end;
wire [66:0] t_csum;

reg_fifo #(
    .WIDTH(29 + 67),
    .DEPTH(TAG_DEPTH)
)
tag_fifo_inst (
    .clk(clk),
    .rst(rst),
    .s_data({t_in_desc, t_in_data, t_in_idx, t_in_first_off, t_in_last_end, t_in_dlast, t_in_eop, t_in_rs, t_in_drop,
             t_in_csum}),
    .s_push(t_in_push),
    .s_full(t_full),
    .m_data({t_desc, t_data, t_idx, t_first_off, t_last_end, t_dlast, t_eop, t_rs, t_drop, t_csum}),
    .m_valid(t_valid),
    .m_pop(t_pop),
    /* verilator lint_off PINCONNECTEMPTY */
    .count()
    /* verilator lint_on PINCONNECTEMPTY */
);

/*
 * Descriptors, credits, FIFO and write-back wiring
 */
wire [63:0] desc_addr;
wire [15:0] desc_len, desc_idx;
wire desc_eop, desc_rs, desc_err, desc_ctx, desc_tcp, desc_push;
wire [1:0] desc_popts;

wire [FIFO_COUNT_WIDTH-1:0] fifo_free_words;
wire [LEN_COUNT_WIDTH-1:0] fifo_len_free;
wire data_beat, frame_end;

wire [63:0] fifo_wr_data;
wire fifo_wr_en, fifo_commit, fifo_drop;
wire [15:0] fifo_commit_len;
wire [49:0] fifo_commit_csum;

wire [15:0] wb_idx;
wire wb_rs, wb_release, wb_push, wb_full;

wire rd_drop_now, rd_err, wb_err;

tx_rd_issue #(
    .DESC_DEPTH(DESC_DEPTH),
    .MAX_FRAME_BYTES(MAX_FRAME_BYTES),
    .MAX_FRAME_DESCS(MAX_FRAME_DESCS),
    .FIFO_COUNT_WIDTH(FIFO_COUNT_WIDTH),
    .LEN_COUNT_WIDTH(LEN_COUNT_WIDTH)
)
rd_issue_inst (
    .clk(clk),
    .rst(rst),
    .tctl_en(tctl_en),
    .ring_base(tdba[63:4]),
    .ring_size(ring_size),
    .tdt(tdt),
    .tdh_wr(tdh_wr),
    .tdh_wdata(tdh_wdata),
    .m_axi_araddr(m_axi_araddr),
    .m_axi_arlen(m_axi_arlen),
    .m_axi_arvalid(m_axi_arvalid),
    .m_axi_arready(m_axi_arready),
    .tag_desc(t_in_desc),
    .tag_data(t_in_data),
    .tag_idx(t_in_idx),
    .tag_first_off(t_in_first_off),
    .tag_last_end(t_in_last_end),
    .tag_dlast(t_in_dlast),
    .tag_eop(t_in_eop),
    .tag_rs(t_in_rs),
    .tag_drop(t_in_drop),
    .tag_csum(t_in_csum),
    .tag_push(t_in_push),
    .tag_full(t_full),
    .s_desc_addr(desc_addr),
    .s_desc_len(desc_len),
    .s_desc_eop(desc_eop),
    .s_desc_rs(desc_rs),
    .s_desc_err(desc_err),
    .s_desc_ctx(desc_ctx),
    .s_desc_tcp(desc_tcp),
    .s_desc_popts(desc_popts),
    .s_desc_idx(desc_idx),
    .s_desc_push(desc_push),
    .fifo_free_words(fifo_free_words),
    .fifo_len_free(fifo_len_free),
    .data_beat(data_beat),
    .frame_end(frame_end)
);

tx_rd_resp rd_resp_inst (
    .clk(clk),
    .rst(rst),
    .m_axi_rdata(m_axi_rdata),
    .m_axi_rresp(m_axi_rresp),
    .m_axi_rlast(m_axi_rlast),
    .m_axi_rvalid(m_axi_rvalid),
    .m_axi_rready(m_axi_rready),
    .tag_desc(t_desc),
    .tag_data(t_data),
    .tag_idx(t_idx),
    .tag_first_off(t_first_off),
    .tag_last_end(t_last_end),
    .tag_dlast(t_dlast),
    .tag_eop(t_eop),
    .tag_rs(t_rs),
    .tag_drop(t_drop),
    .tag_csum(t_csum),
    .tag_valid(t_valid),
    .tag_pop(t_pop),
    .m_desc_addr(desc_addr),
    .m_desc_len(desc_len),
    .m_desc_eop(desc_eop),
    .m_desc_rs(desc_rs),
    .m_desc_err(desc_err),
    .m_desc_ctx(desc_ctx),
    .m_desc_tcp(desc_tcp),
    .m_desc_popts(desc_popts),
    .m_desc_idx(desc_idx),
    .m_desc_push(desc_push),
    .fifo_wr_data(fifo_wr_data),
    .fifo_wr_en(fifo_wr_en),
    .fifo_commit(fifo_commit),
    .fifo_commit_len(fifo_commit_len),
    .fifo_commit_csum(fifo_commit_csum),
    .fifo_drop(fifo_drop),
    .wb_idx(wb_idx),
    .wb_rs(wb_rs),
    .wb_release(wb_release),
    .wb_push(wb_push),
    .wb_full(wb_full),
    .data_beat(data_beat),
    .frame_end(frame_end),
    .drop_now(rd_drop_now),
    .err_pulse(rd_err),
    .dma_valid(tx_dma_valid),
    .dma_slot(tx_dma_slot)
);

wire [15:0] mac_len;
wire [49:0] mac_csum;
wire mac_len_valid, mac_len_pop;
wire [63:0] mac_data;
wire mac_data_valid, mac_data_pop;

tx_fifo #(
    .DEPTH_BYTES(TX_FIFO_DEPTH_BYTES),
    .LEN_DEPTH(LEN_DEPTH)
)
fifo_inst (
    .clk(clk),
    .rst(rst),
    .s_wr_data(fifo_wr_data),
    .s_wr_en(fifo_wr_en),
    .s_commit(fifo_commit),
    .s_commit_len(fifo_commit_len),
    .s_commit_csum(fifo_commit_csum),
    .s_drop(fifo_drop),
    .s_free_words(fifo_free_words),
    .s_len_free(fifo_len_free),
    .m_len(mac_len),
    .m_csum(mac_csum),
    .m_len_valid(mac_len_valid),
    .m_len_pop(mac_len_pop),
    .m_data(mac_data),
    .m_data_valid(mac_data_valid),
    .m_data_pop(mac_data_pop)
);

tx_mac mac_inst (
    .clk(clk),
    .rst(rst),
    .pad_en(tctl_psp),
    .s_len(mac_len),
    .s_csum(mac_csum),
    .s_len_valid(mac_len_valid),
    .s_len_pop(mac_len_pop),
    .s_data(mac_data),
    .s_data_valid(mac_data_valid),
    .s_data_pop(mac_data_pop),
    .m_axis_tdata(m_axis_tx_tdata),
    .m_axis_tkeep(m_axis_tx_tkeep),
    .m_axis_tvalid(m_axis_tx_tvalid),
    .m_axis_tready(m_axis_tx_tready),
    .m_axis_tlast(m_axis_tx_tlast),
    .m_axis_tuser(m_axis_tx_tuser),
    .stat_frame(stat_tx_frame),
    .stat_bytes(stat_tx_bytes)
);

tx_wb #(
    .QUEUE_DEPTH(MAX_FRAME_DESCS),
    .WB_DEPTH(WB_DEPTH)
)
wb_inst (
    .clk(clk),
    .rst(rst),
    .ring_base(tdba[63:4]),
    .ring_size(ring_size),
    .tdt(tdt),
    .tdh_wr(tdh_wr),
    .tdh_wdata(tdh_wdata),
    .tdh(tdh),
    .s_idx(wb_idx),
    .s_rs(wb_rs),
    .s_release(wb_release),
    .s_push(wb_push),
    .s_full(wb_full),
    .m_axi_awaddr(m_axi_awaddr),
    .m_axi_awvalid(m_axi_awvalid),
    .m_axi_awready(m_axi_awready),
    .m_axi_wdata(m_axi_wdata),
    .m_axi_wstrb(m_axi_wstrb),
    .m_axi_wvalid(m_axi_wvalid),
    .m_axi_wready(m_axi_wready),
    .m_axi_bresp(m_axi_bresp),
    .m_axi_bvalid(m_axi_bvalid),
    .m_axi_bready(m_axi_bready),
    .hold(rd_drop_now),
    .txdw_pulse(txdw_pulse),
    .txqe_pulse(txqe_pulse),
    .err_pulse(wb_err),
    .wb_valid(tx_wb_valid),
    .wb_slot(tx_wb_slot)
);

// tx_wb holds its completions while a frame is dropped, so the two never
// pulse in the same cycle.
assign tx_err_pulse = rd_err | wb_err;

endmodule

`resetall
