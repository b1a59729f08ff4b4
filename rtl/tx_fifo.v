/*
 * Store-and-forward TX packet FIFO (the e1000 transmit packet buffer).
 *
 * The DMA side writes packed 64-bit words of a frame speculatively, then
 * either commits the frame (with its byte length) or drops it, which discards
 * every word written since the previous commit. Only committed words are
 * readable, and a frame's length becomes visible on the length queue in the
 * same cycle as its words, so the MAC never starts a frame that is not
 * entirely present: the wire cannot underrun.
 *
 * The data RAM has a registered read port (block RAM); its output register is
 * the first-word-fall-through head, refilled in the cycle it is popped, so the
 * MAC can read one word per cycle.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_fifo #
(
    // Capacity in bytes; a power of two
    parameter DEPTH_BYTES = 16384,
    // Committed frames that can wait for the MAC; a power of two
    parameter LEN_DEPTH = 32,
    parameter DEPTH_WORDS = DEPTH_BYTES / 8,
    parameter ADDR_WIDTH = $clog2(DEPTH_WORDS),
    parameter LEN_ADDR_WIDTH = $clog2(LEN_DEPTH)
)
(
    input  wire                      clk,
    input  wire                      rst,

    /*
     * Write side (from tx_rd_resp)
     */
    input  wire [63:0]               s_wr_data,
    input  wire                      s_wr_en,
    input  wire                      s_commit,      // ends the frame, including this cycle's write
    input  wire [15:0]               s_commit_len,  // frame length in bytes, with s_commit
    input  wire [49:0]               s_commit_csum, // checksums to insert (tx_rd_resp), with s_commit
    input  wire                      s_drop,        // discard the uncommitted frame
    output wire [ADDR_WIDTH:0]       s_free_words,
    output wire [LEN_ADDR_WIDTH:0]   s_len_free,

    /*
     * Read side (to tx_mac)
     */
    output wire [15:0]               m_len,
    output wire [49:0]               m_csum,
    output wire                      m_len_valid,
    input  wire                      m_len_pop,
    output wire [63:0]               m_data,
    output wire                      m_data_valid,
    input  wire                      m_data_pop
);

// Elaboration-time checks: the pointers wrap by their width, so the depth must be a power of two, and
// it must hold one whole 2048-byte frame or a frame could never be stored.
initial begin
    if (DEPTH_BYTES < 2048 || (DEPTH_BYTES & (DEPTH_BYTES - 1)) != 0) begin
        $error("tx_fifo: DEPTH_BYTES must be a power of two, at least 2048 (instance %m)");
        $finish;
    end
end

reg [63:0] mem [0:DEPTH_WORDS-1];

reg [ADDR_WIDTH:0] wr_ptr_reg = 0;
reg [ADDR_WIDTH:0] commit_ptr_reg = 0;
reg [ADDR_WIDTH:0] rd_ptr_reg = 0;

reg [63:0] out_data_reg = 64'd0;
reg out_valid_reg = 1'b0;

wire [ADDR_WIDTH:0] used = wr_ptr_reg - rd_ptr_reg;
wire [ADDR_WIDTH:0] wr_ptr_next = wr_ptr_reg + {{ADDR_WIDTH{1'b0}}, s_wr_en};
wire rd_en = (rd_ptr_reg != commit_ptr_reg) && (!out_valid_reg || m_data_pop);

wire [LEN_ADDR_WIDTH:0] len_count;

assign s_free_words = DEPTH_WORDS[ADDR_WIDTH:0] - used;
assign s_len_free = LEN_DEPTH[LEN_ADDR_WIDTH:0] - len_count;
assign m_data = out_data_reg;
assign m_data_valid = out_valid_reg;

reg_fifo #(
    .WIDTH(16 + 50),
    .DEPTH(LEN_DEPTH)
)
len_queue_inst (
    .clk(clk),
    .rst(rst),
    .s_data({s_commit_csum, s_commit_len}),
    .s_push(s_commit),
    // Never full: tx_rd_issue starts a frame only when a length slot is free
    /* verilator lint_off PINCONNECTEMPTY */
    .s_full(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_data({m_csum, m_len}),
    .m_valid(m_len_valid),
    .m_pop(m_len_pop),
    .count(len_count)
);

always @(posedge clk) begin
    if (s_wr_en) begin
        mem[wr_ptr_reg[ADDR_WIDTH-1:0]] <= s_wr_data;
    end

    if (s_drop) begin
        wr_ptr_reg <= commit_ptr_reg;
    end else begin
        wr_ptr_reg <= wr_ptr_next;
        if (s_commit) begin
            commit_ptr_reg <= wr_ptr_next;
        end
    end

    if (rd_en) begin
        out_data_reg <= mem[rd_ptr_reg[ADDR_WIDTH-1:0]];
        rd_ptr_reg <= rd_ptr_reg + 1'b1;
        out_valid_reg <= 1'b1;
    end else if (m_data_pop) begin
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
