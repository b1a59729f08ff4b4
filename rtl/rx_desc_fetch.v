/*
 * RX descriptor prefetch: reads the e1000 legacy RX descriptors between the
 * fetch pointer and RDT into a descriptor cache (buffer address only).
 *
 * Bursts are sized by desc_fetch_len (shared with TX) and clipped to the free
 * cache entries, which are reserved at the burst's AR so that the R channel is
 * never held off. Of the two beats of each descriptor only the first (addr @0)
 * is kept. The cache head is the buffer of the next frame (rx_dma_payload).
 * As on e1000 (8254x SDM, receive descriptor queue structure), descriptors
 * between head and tail belong to the NIC and may be prefetched.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_desc_fetch #
(
    // Descriptor cache entries (power of two, at least 2)
    parameter DESC_CACHE_DEPTH = 64,
    // Descriptors fetched per read burst (1..8: 2 beats each, 16 beats at most)
    parameter DESC_FETCH_MAX = 8
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire        rctl_en,
    input  wire [63:0] rdba,
    input  wire [15:0] ring_size,     // descriptors in the ring
    input  wire [15:0] rdt,
    input  wire        rdh_wr,        // RDH written: restart at rdh_wdata, cache emptied
    input  wire [15:0] rdh_wdata,

    /*
     * AXI4 read channels
     */
    output wire [63:0] m_axi_araddr,
    output wire [7:0]  m_axi_arlen,
    output wire        m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [63:0] m_axi_rdata,
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,

    /*
     * Cache head: the buffer address of the next descriptor
     */
    output wire [63:0] m_desc_addr,
    output wire        m_desc_valid,
    input  wire        m_desc_pop
);

localparam CACHE_W = $clog2(DESC_CACHE_DEPTH);

initial begin
    if (DESC_CACHE_DEPTH < 2 || (DESC_CACHE_DEPTH & (DESC_CACHE_DEPTH - 1)) != 0 || DESC_CACHE_DEPTH > 32768) begin
        $error("rx_desc_fetch: DESC_CACHE_DEPTH must be a power of two, 2..32768 (instance %m)");
        $finish;
    end
    if (DESC_FETCH_MAX < 1 || DESC_FETCH_MAX > 8) begin
        $error("rx_desc_fetch: DESC_FETCH_MAX must be 1..8 (16 beats per burst at most) (instance %m)");
        $finish;
    end
end

function [15:0] ring_add(input [15:0] idx, input [16:0] inc, input [16:0] n);
    reg [16:0] s;
    begin
        s = {1'b0, idx} + inc;
        ring_add = (s >= n) ? s[15:0] - n[15:0] : s[15:0];
    end
endfunction

function [16:0] min17(input [16:0] a, input [16:0] b);
    begin
        min17 = (a < b) ? a : b;
    end
endfunction

wire [16:0] ring_n = {1'b0, ring_size};

reg [15:0] fetch_ptr_reg = 16'd0;   // next descriptor to be fetched
reg [CACHE_W:0] inflight_reg = 0;   // cache entries reserved by bursts in flight
reg r_odd_reg = 1'b0;               // second beat of a descriptor

reg ar_valid_reg = 1'b0;
reg [63:0] ar_addr_reg = 64'd0;
reg [7:0] ar_len_reg = 8'd0;

wire [CACHE_W:0] cache_count;

wire [63:0] fetch_addr = rdba + {44'd0, fetch_ptr_reg, 4'd0};
wire [CACHE_W:0] cache_space = DESC_CACHE_DEPTH[CACHE_W:0] - cache_count - inflight_reg;
wire [3:0] fetch_len;
wire [16:0] fetch_n = min17({13'd0, fetch_len}, {{(16-CACHE_W){1'b0}}, cache_space});
wire fetch_start = !ar_valid_reg && rctl_en && ring_n != 17'd0 && fetch_n != 17'd0;
wire desc_beat = m_axi_rvalid && !r_odd_reg;

desc_fetch_len #(
    .MAX_DESCS(DESC_FETCH_MAX)
)
fetch_len_inst (
    .ptr(fetch_ptr_reg),
    .tail(rdt),
    .ring_size(ring_size),
    .addr_desc(fetch_addr[11:4]),
    .n(fetch_len)
);

// The cache: emptied with RDH writes
reg_fifo #(
    .WIDTH(64),
    .DEPTH(DESC_CACHE_DEPTH)
)
cache_inst (
    .clk(clk),
    .rst(rst || rdh_wr),
    .s_data(m_axi_rdata),
    .s_push(desc_beat),
    /* verilator lint_off PINCONNECTEMPTY */
    .s_full(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_data(m_desc_addr),
    .m_valid(m_desc_valid),
    .m_pop(m_desc_pop),
    .count(cache_count)
);

assign m_axi_araddr = ar_addr_reg;
assign m_axi_arlen = ar_len_reg;
assign m_axi_arvalid = ar_valid_reg;

always @(posedge clk) begin
    if (fetch_start) begin
        ar_valid_reg <= 1'b1;
        ar_addr_reg <= fetch_addr;
        ar_len_reg <= {fetch_n[6:0], 1'b0} - 8'd1;
        fetch_ptr_reg <= ring_add(fetch_ptr_reg, fetch_n, ring_n);
    end else if (m_axi_arready) begin
        ar_valid_reg <= 1'b0;
    end
    if (m_axi_rvalid) begin
        r_odd_reg <= m_axi_rlast ? 1'b0 : !r_odd_reg;
    end
    inflight_reg <= inflight_reg + (fetch_start ? fetch_n[CACHE_W:0] : 0) - {{CACHE_W{1'b0}}, desc_beat};

    if (rdh_wr) begin
        fetch_ptr_reg <= rdh_wdata;
        inflight_reg <= 0;
    end

    if (rst) begin
        fetch_ptr_reg <= 16'd0;
        inflight_reg <= 0;
        r_odd_reg <= 1'b0;
        ar_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
