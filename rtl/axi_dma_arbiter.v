/*
 * Two-master AXI4 arbiter for the DMA port (master 0: RX DMA, master 1: TX
 * engine), without IDs.
 *
 * Read and write channels are arbitrated separately, round-robin. Once a
 * master's address is presented downstream it stays selected until accepted
 * (and for writes until the burst's last W beat has also passed), so the slave
 * sees stable AXI payloads and W beats in AW order. AW and W of a burst pass
 * in the same cycles, so back-to-back bursts need no idle cycle. Because the
 * interconnect has no IDs, responses return in address order; a small FIFO of
 * owners per direction routes each R burst (until RLAST) and each B response
 * back to the master that issued it. Several bursts may be outstanding.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module axi_dma_arbiter #
(
    // Outstanding bursts per direction (power of two)
    parameter OUTSTANDING = 128
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Master 0
     */
    input  wire [63:0] s0_axi_awaddr,
    input  wire [7:0]  s0_axi_awlen,
    input  wire [2:0]  s0_axi_awsize,
    input  wire [1:0]  s0_axi_awburst,
    input  wire        s0_axi_awvalid,
    output wire        s0_axi_awready,
    input  wire [63:0] s0_axi_wdata,
    input  wire [7:0]  s0_axi_wstrb,
    input  wire        s0_axi_wlast,
    input  wire        s0_axi_wvalid,
    output wire        s0_axi_wready,
    output wire [1:0]  s0_axi_bresp,
    output wire        s0_axi_bvalid,
    input  wire        s0_axi_bready,
    input  wire [63:0] s0_axi_araddr,
    input  wire [7:0]  s0_axi_arlen,
    input  wire [2:0]  s0_axi_arsize,
    input  wire [1:0]  s0_axi_arburst,
    input  wire        s0_axi_arvalid,
    output wire        s0_axi_arready,
    output wire [63:0] s0_axi_rdata,
    output wire [1:0]  s0_axi_rresp,
    output wire        s0_axi_rlast,
    output wire        s0_axi_rvalid,
    input  wire        s0_axi_rready,

    /*
     * Master 1
     */
    input  wire [63:0] s1_axi_awaddr,
    input  wire [7:0]  s1_axi_awlen,
    input  wire [2:0]  s1_axi_awsize,
    input  wire [1:0]  s1_axi_awburst,
    input  wire        s1_axi_awvalid,
    output wire        s1_axi_awready,
    input  wire [63:0] s1_axi_wdata,
    input  wire [7:0]  s1_axi_wstrb,
    input  wire        s1_axi_wlast,
    input  wire        s1_axi_wvalid,
    output wire        s1_axi_wready,
    output wire [1:0]  s1_axi_bresp,
    output wire        s1_axi_bvalid,
    input  wire        s1_axi_bready,
    input  wire [63:0] s1_axi_araddr,
    input  wire [7:0]  s1_axi_arlen,
    input  wire [2:0]  s1_axi_arsize,
    input  wire [1:0]  s1_axi_arburst,
    input  wire        s1_axi_arvalid,
    output wire        s1_axi_arready,
    output wire [63:0] s1_axi_rdata,
    output wire [1:0]  s1_axi_rresp,
    output wire        s1_axi_rlast,
    output wire        s1_axi_rvalid,
    input  wire        s1_axi_rready,

    /*
     * Shared master port
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
    output wire        m_axi_rready
);

// Parameter checks: the owner queues' pointers wrap only at a power of two
initial begin
    if (OUTSTANDING < 2 || (OUTSTANDING & (OUTSTANDING - 1)) != 0) begin
        $error("axi_dma_arbiter: OUTSTANDING must be a power of two, at least 2 (instance %m)");
        $finish;
    end
end

// ---------------------------------------------------------------------------
// Write address + data
// ---------------------------------------------------------------------------
reg w_lock_reg = 1'b0;
reg w_owner_reg = 1'b0;
reg aw_done_reg = 1'b0;
reg w_done_reg = 1'b0;
reg w_rr_last_reg = 1'b1;

wire b_full;
wire b_valid;
wire b_empty = !b_valid;
wire b_owner;

wire w_choice = (s0_axi_awvalid && s1_axi_awvalid) ? !w_rr_last_reg : s1_axi_awvalid;
wire w_active = w_lock_reg || s0_axi_awvalid || s1_axi_awvalid;
wire w_sel = w_lock_reg ? w_owner_reg : w_choice;
wire aw_open = w_active && !aw_done_reg && !b_full;
wire w_open = w_active && !w_done_reg;

assign m_axi_awaddr = w_sel ? s1_axi_awaddr : s0_axi_awaddr;
assign m_axi_awlen = w_sel ? s1_axi_awlen : s0_axi_awlen;
assign m_axi_awsize = w_sel ? s1_axi_awsize : s0_axi_awsize;
assign m_axi_awburst = w_sel ? s1_axi_awburst : s0_axi_awburst;
assign m_axi_awvalid = aw_open && (w_sel ? s1_axi_awvalid : s0_axi_awvalid);
assign s0_axi_awready = aw_open && !w_sel && m_axi_awready;
assign s1_axi_awready = aw_open && w_sel && m_axi_awready;

assign m_axi_wdata = w_sel ? s1_axi_wdata : s0_axi_wdata;
assign m_axi_wstrb = w_sel ? s1_axi_wstrb : s0_axi_wstrb;
assign m_axi_wlast = w_sel ? s1_axi_wlast : s0_axi_wlast;
assign m_axi_wvalid = w_open && (w_sel ? s1_axi_wvalid : s0_axi_wvalid);
assign s0_axi_wready = w_open && !w_sel && m_axi_wready;
assign s1_axi_wready = w_open && w_sel && m_axi_wready;

wire aw_hs = m_axi_awvalid && m_axi_awready;
wire w_last_hs = m_axi_wvalid && m_axi_wready && m_axi_wlast;
wire aw_done_next = aw_done_reg || aw_hs;
wire w_done_next = w_done_reg || w_last_hs;

// Write responses
assign s0_axi_bresp = m_axi_bresp;
assign s1_axi_bresp = m_axi_bresp;
assign s0_axi_bvalid = m_axi_bvalid && !b_empty && !b_owner;
assign s1_axi_bvalid = m_axi_bvalid && !b_empty && b_owner;
assign m_axi_bready = !b_empty && (b_owner ? s1_axi_bready : s0_axi_bready);
wire b_hs = m_axi_bvalid && m_axi_bready;

always @(posedge clk) begin
    if (w_active) begin
        if (aw_done_next && w_done_next) begin
            w_lock_reg <= 1'b0;
            aw_done_reg <= 1'b0;
            w_done_reg <= 1'b0;
        end else begin
            w_lock_reg <= 1'b1;
            aw_done_reg <= aw_done_next;
            w_done_reg <= w_done_next;
        end
        w_owner_reg <= w_sel;
        if (!w_lock_reg) begin
            w_rr_last_reg <= w_sel;
        end
    end
    if (rst) begin
        w_lock_reg <= 1'b0;
        aw_done_reg <= 1'b0;
        w_done_reg <= 1'b0;
        w_rr_last_reg <= 1'b1;
    end
end

// Owner of each write burst, pushed at AW, popped at its B
reg_fifo #(
    .WIDTH(1),
    .DEPTH(OUTSTANDING)
)
b_owner_fifo_inst (
    .clk(clk),
    .rst(rst),
    .s_data(w_sel),
    .s_push(aw_hs),
    .s_full(b_full),
    .m_data(b_owner),
    .m_valid(b_valid),
    .m_pop(b_hs),
    /* verilator lint_off PINCONNECTEMPTY */
    .count()
    /* verilator lint_on PINCONNECTEMPTY */
);

// ---------------------------------------------------------------------------
// Read address + data
// ---------------------------------------------------------------------------
reg ar_lock_reg = 1'b0;
reg ar_owner_reg = 1'b0;
reg ar_rr_last_reg = 1'b1;

wire r_full;
wire r_valid;
wire r_empty = !r_valid;
wire r_owner;

wire ar_choice = (s0_axi_arvalid && s1_axi_arvalid) ? !ar_rr_last_reg : s1_axi_arvalid;
wire ar_sel = ar_lock_reg ? ar_owner_reg : ar_choice;
wire ar_open = !r_full;

assign m_axi_araddr = ar_sel ? s1_axi_araddr : s0_axi_araddr;
assign m_axi_arlen = ar_sel ? s1_axi_arlen : s0_axi_arlen;
assign m_axi_arsize = ar_sel ? s1_axi_arsize : s0_axi_arsize;
assign m_axi_arburst = ar_sel ? s1_axi_arburst : s0_axi_arburst;
assign m_axi_arvalid = ar_open && (ar_sel ? s1_axi_arvalid : s0_axi_arvalid);
assign s0_axi_arready = ar_open && !ar_sel && m_axi_arready;
assign s1_axi_arready = ar_open && ar_sel && m_axi_arready;
wire ar_hs = m_axi_arvalid && m_axi_arready;

assign s0_axi_rdata = m_axi_rdata;
assign s1_axi_rdata = m_axi_rdata;
assign s0_axi_rresp = m_axi_rresp;
assign s1_axi_rresp = m_axi_rresp;
assign s0_axi_rlast = m_axi_rlast;
assign s1_axi_rlast = m_axi_rlast;
assign s0_axi_rvalid = m_axi_rvalid && !r_empty && !r_owner;
assign s1_axi_rvalid = m_axi_rvalid && !r_empty && r_owner;
assign m_axi_rready = !r_empty && (r_owner ? s1_axi_rready : s0_axi_rready);
wire r_last_hs = m_axi_rvalid && m_axi_rready && m_axi_rlast;

always @(posedge clk) begin
    // Keep a presented address selected until it is accepted
    ar_lock_reg <= m_axi_arvalid && !m_axi_arready;
    ar_owner_reg <= ar_sel;
    if (m_axi_arvalid && !ar_lock_reg) begin
        ar_rr_last_reg <= ar_sel;
    end

    if (rst) begin
        ar_lock_reg <= 1'b0;
        ar_rr_last_reg <= 1'b1;
    end
end

// Owner of each read burst, pushed at AR, popped at its RLAST
reg_fifo #(
    .WIDTH(1),
    .DEPTH(OUTSTANDING)
)
r_owner_fifo_inst (
    .clk(clk),
    .rst(rst),
    .s_data(ar_sel),
    .s_push(ar_hs),
    .s_full(r_full),
    .m_data(r_owner),
    .m_valid(r_valid),
    .m_pop(r_last_hs),
    /* verilator lint_off PINCONNECTEMPTY */
    .count()
    /* verilator lint_on PINCONNECTEMPTY */
);

endmodule

`resetall
