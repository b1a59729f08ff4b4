/*
 * Small first-word-fall-through queue in registers (distributed RAM on an
 * FPGA): the one pointer FIFO of the core. Used for the TX engine's read tags,
 * descriptor cache, write-back queue and write-response tracker, the RX DMA's
 * descriptor cache, write-back queue and B tags, the RX/TX FIFOs' frame-length
 * queues and the arbiter's response-owner queues.
 *
 * The head entry is visible on m_data while m_valid; m_pop removes it. A push
 * while full and a pop while empty are ignored: every user reserves space
 * before pushing and pops only a present entry. Pointers are one bit wider
 * than the address (wrap bit), as in verilog-axis axis_fifo.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module reg_fifo #
(
    parameter WIDTH = 8,
    // Number of entries; a power of two, at least 2
    parameter DEPTH = 16,
    parameter ADDR_WIDTH = $clog2(DEPTH)
)
(
    input  wire                  clk,
    input  wire                  rst,

    input  wire [WIDTH-1:0]      s_data,
    input  wire                  s_push,
    output wire                  s_full,

    output wire [WIDTH-1:0]      m_data,
    output wire                  m_valid,
    input  wire                  m_pop,

    output wire [ADDR_WIDTH:0]   count
);

// Parameter checks: a non-power-of-two depth would wrap the pointers wrongly
initial begin
    if (WIDTH < 1) begin
        $error("reg_fifo: WIDTH must be at least 1 (instance %m)");
        $finish;
    end
    if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin
        $error("reg_fifo: DEPTH must be a power of two, at least 2 (instance %m)");
        $finish;
    end
    if (ADDR_WIDTH != $clog2(DEPTH)) begin
        $error("reg_fifo: ADDR_WIDTH must be $clog2(DEPTH) (instance %m)");
        $finish;
    end
end

reg [WIDTH-1:0] mem [0:DEPTH-1];
reg [ADDR_WIDTH:0] wr_ptr_reg = 0;
reg [ADDR_WIDTH:0] rd_ptr_reg = 0;

wire empty = wr_ptr_reg == rd_ptr_reg;
wire full = wr_ptr_reg == (rd_ptr_reg ^ {1'b1, {ADDR_WIDTH{1'b0}}});

assign s_full = full;
assign m_data = mem[rd_ptr_reg[ADDR_WIDTH-1:0]];
assign m_valid = !empty;
assign count = wr_ptr_reg - rd_ptr_reg;

always @(posedge clk) begin
    if (s_push && !full) begin
        mem[wr_ptr_reg[ADDR_WIDTH-1:0]] <= s_data;
        wr_ptr_reg <= wr_ptr_reg + 1'b1;
    end
    if (m_pop && !empty) begin
        rd_ptr_reg <= rd_ptr_reg + 1'b1;
    end

    if (rst) begin
        wr_ptr_reg <= 0;
        rd_ptr_reg <= 0;
    end
end

endmodule

`resetall
