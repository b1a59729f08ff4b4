/*
 * Store-and-forward RX packet FIFO (the e1000 receive packet buffer).
 *
 * The MAC writes a frame speculatively and ends it with either a last write
 * (commits the frame and its length) or a rollback (discards every word written
 * since the previous commit). Only committed words are visible on the read
 * side, so a frame leaves the FIFO only once it is known to be good.
 *
 * Each RAM word carries a last-word flag; the frame length of the head frame is
 * presented on m_frame_len while m_frame_valid and is popped with the frame's
 * last word.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_fifo #
(
    // Capacity in bytes; a power of two, at least 2048
    parameter RX_FIFO_DEPTH_BYTES = 16384
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Write side (from rx_mac)
     */
    input  wire        s_wr_en,
    input  wire [63:0] s_wr_data,
    input  wire        s_wr_last,     // this write ends and commits the frame
    input  wire [15:0] s_wr_len,      // frame length in bytes, valid with s_wr_last
    input  wire [15:0] s_wr_sts,      // checksum {errors, status} bits, valid with s_wr_last
    input  wire        s_rollback,    // discard the uncommitted frame
    output wire        s_full,        // no free word: s_wr_en is ignored

    /*
     * Read side (to rx_dma)
     */
    output wire [63:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast,
    output wire        m_frame_valid, // a committed frame is at the head
    output wire [15:0] m_frame_len,
    output wire [15:0] m_frame_sts
);

localparam DEPTH_WORDS = RX_FIFO_DEPTH_BYTES / 8;
localparam ADDR_W = $clog2(DEPTH_WORDS);
// Every committed frame holds at least 60 bytes (8 words) and the head frame at
// least one word, so DEPTH_WORDS/8 + 1 length entries always suffice.
localparam LEN_DEPTH = DEPTH_WORDS / 4;

initial begin
    if (RX_FIFO_DEPTH_BYTES < 2048 || (RX_FIFO_DEPTH_BYTES & (RX_FIFO_DEPTH_BYTES - 1)) != 0) begin
        $error("rx_fifo: RX_FIFO_DEPTH_BYTES must be a power of two, at least 2048 (instance %m)");
        $finish;
    end
end

reg [64:0] mem [0:DEPTH_WORDS-1];

reg [ADDR_W:0] wr_ptr_reg = 0;
reg [ADDR_W:0] commit_ptr_reg = 0;
reg [ADDR_W:0] rd_ptr_reg = 0;

reg [64:0] out_reg = 65'd0;
reg out_valid_reg = 1'b0;

wire full = (wr_ptr_reg[ADDR_W] != rd_ptr_reg[ADDR_W]) &&
            (wr_ptr_reg[ADDR_W-1:0] == rd_ptr_reg[ADDR_W-1:0]);
wire wr = s_wr_en && !full;
wire committed_word = rd_ptr_reg != commit_ptr_reg;
wire load = committed_word && (!out_valid_reg || m_axis_tready);
wire pop_frame = out_valid_reg && m_axis_tready && out_reg[64];

assign s_full = full;
assign m_axis_tdata = out_reg[63:0];
assign m_axis_tlast = out_reg[64];
assign m_axis_tvalid = out_valid_reg;

// Lengths (and checksum bits) of the committed frames, pushed at the commit, popped with the last word
reg_fifo #(
    .WIDTH(32),
    .DEPTH(LEN_DEPTH)
)
len_queue_inst (
    .clk(clk),
    .rst(rst),
    .s_data({s_wr_sts, s_wr_len}),
    .s_push(wr && s_wr_last && !s_rollback),
    /* verilator lint_off PINCONNECTEMPTY */
    .s_full(),
    .count(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_data({m_frame_sts, m_frame_len}),
    .m_valid(m_frame_valid),
    .m_pop(pop_frame)
);

always @(posedge clk) begin
    if (wr) begin
        mem[wr_ptr_reg[ADDR_W-1:0]] <= {s_wr_last, s_wr_data};
    end
    if (load) begin
        out_reg <= mem[rd_ptr_reg[ADDR_W-1:0]];
    end

    if (s_rollback) begin
        wr_ptr_reg <= commit_ptr_reg;
    end else if (wr) begin
        wr_ptr_reg <= wr_ptr_reg + 1'b1;
        if (s_wr_last) begin
            commit_ptr_reg <= wr_ptr_reg + 1'b1;
        end
    end

    if (load) begin
        rd_ptr_reg <= rd_ptr_reg + 1'b1;
        out_valid_reg <= 1'b1;
    end else if (m_axis_tready) begin
        out_valid_reg <= 1'b0;
    end

    if (rst) begin
        wr_ptr_reg <= 0;
        commit_ptr_reg <= 0;
        rd_ptr_reg <= 0;
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
