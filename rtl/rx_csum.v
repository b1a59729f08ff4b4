/*
 * Receive checksum offload (8254x SDM, "Receive Checksum Offloading" with
 * Table 3-5, and the RXCSUM register description): the IPv4 header checksum
 * and the TCP/UDP checksum with its pseudo-header, summed one 64-bit beat per
 * cycle as the frame arrives, so the receive path never stalls.
 *
 * The beats are those of rx_mac's input register (with FCS); `offset` is the
 * byte offset of the beat's first byte in the frame, always a multiple of 8, so
 * the 16-bit words of the IP header and segment (which start at the even offset
 * 14) are the four aligned byte pairs of a beat.
 *
 * Checked: Ethernet II type 0x0800 (SNAP is not recognised), version 4 with
 * IHL 5 (no options), not a fragment (MF = 0, offset 0), total length >= 20
 * and within the frame. The TCP/UDP sum covers bytes 34 .. 14 + total length
 * - 1 plus the pseudo-header (source and destination address, protocol, total
 * length - 20). UDP with a zero checksum field carries no checksum and gets
 * TCPCS = 0. Everything else, or both offloads off, gets IXSM ("ignore
 * checksum indication").
 *
 * `sts` = {errors, status} bits for the write-back (status IXSM b2, TCPCS b5,
 * IPCS b6; errors TCPE b5, IPE b6), valid in the cycle after the last beat (the
 * cycle rx_mac commits the frame) and held until the next frame ends.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_csum
(
    input  wire        clk,
    input  wire        rst,

    input  wire        beat,          // a beat is on data/keep this cycle
    input  wire        first,         // ... and it is a frame's first beat
    input  wire        last,          // ... and it is the frame's last beat
    input  wire [63:0] data,
    input  wire [15:0] offset,        // byte offset of data[7:0] in the frame
    input  wire [15:0] frame_bytes,   // frame length incl. FCS, valid with last

    input  wire        ipofld,        // RXCSUM.IPOFLD
    input  wire        tuofld,        // RXCSUM.TUOFLD

    output wire [15:0] sts
);

localparam [7:0] STAT_IXSM = 8'h04, STAT_TCPCS = 8'h20, STAT_IPCS = 8'h40;
localparam [7:0] ERR_TCPE = 8'h20, ERR_IPE = 8'h40;
localparam [7:0] PROTO_TCP = 8'd6, PROTO_UDP = 8'd17;

// Header fields, captured from the beats that carry them
reg [15:0] ethertype_reg = 16'd0; // bytes 12..13 (beat 1)
reg [7:0] ver_ihl_reg = 8'd0;     // byte 14 (beat 1)
reg [15:0] tot_len_reg = 16'd0;   // bytes 16..17 (beat 2)
reg [15:0] frag_reg = 16'd0;      // bytes 20..21 (beat 2)
reg [7:0] proto_reg = 8'd0;       // byte 23 (beat 2)
reg udp_zero_reg = 1'b0;          // bytes 40..41 (beat 5) are zero

reg [31:0] ip_acc_reg = 32'd0;
reg [31:0] l4_acc_reg = 32'd0;

// State of the frame that ended, for the cycle after its last beat
reg end_eligible_reg = 1'b0;
reg end_l4_ok_reg = 1'b0;
reg end_udp_zero_reg = 1'b0;
reg [31:0] end_ip_acc_reg = 32'd0;
reg [31:0] end_l4_acc_reg = 32'd0;
reg end_ipofld_reg = 1'b0;
reg end_tuofld_reg = 1'b0;

wire [12:0] beat_idx = offset[15:3];

// The four big-endian 16-bit words of the beat
wire [15:0] w0 = {data[7:0], data[15:8]};
wire [15:0] w1 = {data[23:16], data[31:24]};
wire [15:0] w2 = {data[39:32], data[47:40]};
wire [15:0] w3 = {data[55:48], data[63:56]};

// IP header words (bytes 14..33): beat 1 word 3, beats 2 and 3, beat 4 word 0
wire [17:0] ip_beat_sum =
    (beat_idx == 13'd1) ? {2'd0, w3} :
    (beat_idx == 13'd2 || beat_idx == 13'd3) ? {2'd0, w0} + {2'd0, w1} + {2'd0, w2} + {2'd0, w3} :
    (beat_idx == 13'd4) ? {2'd0, w0} : 18'd0;

// TCP/UDP words: addresses (bytes 26..33: beat 3 words 1..3, beat 4 word 0) and
// the segment up to the IP total length, byte-masked (a trailing odd byte is
// the high half of a zero-padded word)
wire [16:0] l4_end = 17'd14 + {1'b0, tot_len_reg};
wire [16:0] l4_rem = l4_end - {1'b0, offset};
wire past_end = l4_end <= {1'b0, offset};
wire [7:0] byte_in;
genvar i;
generate
    for (i = 0; i < 8; i = i + 1) begin : g_mask
        assign byte_in[i] = !past_end && (l4_rem > i);
    end
endgenerate
wire [63:0] mdata = data & {{8{byte_in[7]}}, {8{byte_in[6]}}, {8{byte_in[5]}}, {8{byte_in[4]}},
                            {8{byte_in[3]}}, {8{byte_in[2]}}, {8{byte_in[1]}}, {8{byte_in[0]}}};
wire [15:0] m0 = {mdata[7:0], mdata[15:8]};
wire [15:0] m1 = {mdata[23:16], mdata[31:24]};
wire [15:0] m2 = {mdata[39:32], mdata[47:40]};
wire [15:0] m3 = {mdata[55:48], mdata[63:56]};
wire [17:0] l4_beat_sum =
    (beat_idx == 13'd3) ? {2'd0, w1} + {2'd0, w2} + {2'd0, w3} :
    (beat_idx >= 13'd4) ? {2'd0, m0} + {2'd0, m1} + {2'd0, m2} + {2'd0, m3} : 18'd0;

wire [31:0] ip_acc_next = (first ? 32'd0 : ip_acc_reg) + {14'd0, ip_beat_sum};
wire [31:0] l4_acc_next = (first ? 32'd0 : l4_acc_reg) + {14'd0, l4_beat_sum};

// Shape of the frame, known at its last beat (all fields arrive by beat 5;
// a frame shorter than that has no room for a checkable IP packet)
wire eligible = ethertype_reg == 16'h0800 && ver_ihl_reg == 8'h45 &&
                (frag_reg & 16'h3FFF) == 16'd0 && tot_len_reg >= 16'd20 &&
                {1'b0, tot_len_reg} + 17'd18 <= {1'b0, frame_bytes};
wire l4_ok = (proto_reg == PROTO_TCP && tot_len_reg >= 16'd40) ||
             (proto_reg == PROTO_UDP && tot_len_reg >= 16'd28);

// End of frame: pseudo-header protocol and length, fold, compare with 0xFFFF
function [15:0] fold(input [31:0] v);
    reg [31:0] t;
    begin
        t = {16'd0, v[15:0]} + {16'd0, v[31:16]};
        t = {16'd0, t[15:0]} + {16'd0, t[31:16]};
        fold = t[15:0];
    end
endfunction

wire [31:0] l4_total = end_l4_acc_reg + {24'd0, proto_reg} + {16'd0, tot_len_reg - 16'd20};
wire ip_good = fold(end_ip_acc_reg) == 16'hFFFF;
wire l4_good = fold(l4_total) == 16'hFFFF;

wire checked = end_eligible_reg && (end_ipofld_reg || end_tuofld_reg);
wire ipcs = end_eligible_reg && end_ipofld_reg;
wire tcpcs = end_eligible_reg && end_tuofld_reg && end_l4_ok_reg && !end_udp_zero_reg;

assign sts = {((ipcs && !ip_good) ? ERR_IPE : 8'd0) | ((tcpcs && !l4_good) ? ERR_TCPE : 8'd0),
              (checked ? 8'd0 : STAT_IXSM) | (ipcs ? STAT_IPCS : 8'd0) | (tcpcs ? STAT_TCPCS : 8'd0)};

always @(posedge clk) begin
    if (beat) begin
        ip_acc_reg <= ip_acc_next;
        l4_acc_reg <= l4_acc_next;
        if (first) begin
            ethertype_reg <= 16'd0;
            ver_ihl_reg <= 8'd0;
            udp_zero_reg <= 1'b0;
        end
        if (beat_idx == 13'd1) begin
            ethertype_reg <= {data[39:32], data[47:40]};
            ver_ihl_reg <= data[55:48];
        end
        if (beat_idx == 13'd2) begin
            tot_len_reg <= w0;
            frag_reg <= w2;
            proto_reg <= data[63:56];
        end
        if (beat_idx == 13'd5) begin
            udp_zero_reg <= proto_reg == PROTO_UDP && w0 == 16'd0;
        end
        if (last) begin
            end_eligible_reg <= eligible && beat_idx >= 13'd5;
            end_l4_ok_reg <= l4_ok;
            end_udp_zero_reg <= udp_zero_reg || (beat_idx == 13'd5 && proto_reg == PROTO_UDP && w0 == 16'd0);
            end_ip_acc_reg <= ip_acc_next;
            end_l4_acc_reg <= l4_acc_next;
            end_ipofld_reg <= ipofld;
            end_tuofld_reg <= tuofld;
        end
    end

    if (rst) begin
        end_eligible_reg <= 1'b0;
    end
end

endmodule

`resetall
