/*
 * Ethernet CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) update over one
 * 64-bit AXI-Stream beat. Purely combinational.
 *
 * crc_in/crc_out are the running register: start from 32'hFFFFFFFF; the FCS is
 * ~crc after the last byte and goes on the wire least significant byte first.
 * keep selects the valid bytes and must be contiguous from byte 0 (LSB), as on
 * an AXI-Stream beat; keep = 0 leaves the register unchanged.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module crc32_d64 (
    input  wire [31:0] crc_in,
    input  wire [63:0] data,
    input  wire [7:0]  keep,
    output wire [31:0] crc_out
);

// Bit-serial reference update of one byte; the constant-bound loops unroll
// into a plain XOR network in both Verilator and synthesis.
function [31:0] crc_byte(input [31:0] c, input [7:0] d);
    integer b;
    reg [31:0] r;
    begin
        r = c;
        for (b = 0; b < 8; b = b + 1) begin
            r = (r[0] ^ d[b]) ? ((r >> 1) ^ 32'hEDB88320) : (r >> 1);
        end
        crc_byte = r;
    end
endfunction

reg [31:0] crc_r;
integer i;

always @* begin
    crc_r = crc_in;
    for (i = 0; i < 8; i = i + 1) begin
        if (keep[i]) begin
            crc_r = crc_byte(crc_r, data[i*8 +: 8]);
        end
    end
end

assign crc_out = crc_r;

endmodule

`resetall
