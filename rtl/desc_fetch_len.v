/*
 * Descriptor fetch burst length, shared by the RX and TX descriptor prefetch:
 * how many descriptors the next read burst may cover.
 *
 * At most MAX_DESCS, only descriptors the driver has handed over (ptr up to
 * tail, modulo the ring), never past the ring end (the burst is linear) and
 * never across a 4 KiB boundary (AXI4). Ring semantics as in the Intel 8254x
 * SDM descriptor queue structure (head/tail, descriptors between head and
 * tail belong to the NIC); one fetch block for both queues as in Corundum's
 * desc_fetch.v. Purely combinational.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module desc_fetch_len #
(
    // Descriptors per burst (2 beats of 8 bytes each): 1..8, 16 beats at most
    parameter MAX_DESCS = 8
)
(
    input  wire [15:0] ptr,         // next descriptor to fetch
    input  wire [15:0] tail,        // RDT / TDT: first descriptor not handed over
    input  wire [15:0] ring_size,   // descriptors in the ring
    input  wire [7:0]  addr_desc,   // bits 11:4 of the address of descriptor ptr
    output wire [3:0]  n            // descriptors to fetch (0: nothing to fetch)
);

initial begin
    if (MAX_DESCS < 1 || MAX_DESCS > 8) begin
        $error("desc_fetch_len: MAX_DESCS must be 1..8 (16 beats per burst at most) (instance %m)");
        $finish;
    end
end

localparam [16:0] MAX = MAX_DESCS;

function [16:0] min17(input [16:0] a, input [16:0] b);
    begin
        min17 = (a < b) ? a : b;
    end
endfunction

wire [16:0] ring_n = {1'b0, ring_size};
// Descriptors from ptr up to tail, modulo the ring
wire [16:0] avail = (tail >= ptr) ? {1'b0, tail} - {1'b0, ptr} : {1'b0, tail} + ring_n - {1'b0, ptr};
wire [16:0] to_wrap = ring_n - {1'b0, ptr};
wire [16:0] to_4k = 17'd256 - {9'd0, addr_desc};
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0] len = min17(min17(MAX, avail), min17(to_wrap, to_4k)); // <= MAX_DESCS
/* verilator lint_on UNUSEDSIGNAL */

assign n = len[3:0];

endmodule

`resetall
