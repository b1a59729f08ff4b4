/*
 * 10 GbE transmit MAC framer: pads short frames, appends the FCS and keeps
 * the inter-frame spacing of a 10 Gb/s line on a 64-bit AXI-Stream output.
 *
 * Frames come whole from tx_fifo (length first, then packed words). With
 * TCTL.PSP a frame shorter than 60 bytes is padded with zeros to 60 before the
 * FCS, as the e1000 does. The FCS (~CRC-32, least significant byte first) is
 * placed right after the last payload byte, in the same beat when it fits.
 *
 * Checksum insertion (8254x SDM, TCP/IP context descriptor, POPTS IXSM/TXSM):
 * the checksums tx_rd_resp summed while the frame entered the FIFO come with
 * its length; their two bytes (big-endian) replace the frame's bytes at IPCSO
 * and TUCSO as the beats pass, before the FCS is computed over them.
 *
 * Spacing: each frame costs its bytes plus 20 bytes of preamble, SFD and IFG
 * in byte time (8 bytes per cycle). The unused lanes of the last beat count
 * toward the gap, and a gap that ends inside a cycle leaves the rest of that
 * cycle as credit for the next gap (like a deficit idle count), so the long-run
 * rate is exactly (len + 20) / 8 cycles per frame. The gap is counted from the
 * handshake of the last beat; a line left idle keeps no credit.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_mac #
(
    // Frames shorter than this (without FCS) are padded when pad_en is set
    parameter MIN_FRAME_LENGTH = 60,
    // Preamble + SFD + minimum IFG, in bytes
    parameter GAP_BYTES = 20
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Configuration
     */
    input  wire        pad_en,

    /*
     * Frames from tx_fifo
     */
    input  wire [15:0] s_len,
    input  wire [49:0] s_csum,        // {IXSM, IPCSO, IP value, TXSM, TUCSO, TCP/UDP value}
    input  wire        s_len_valid,
    output wire        s_len_pop,
    input  wire [63:0] s_data,
    input  wire        s_data_valid,
    output wire        s_data_pop,

    /*
     * AXI-Stream output (to the PHY side)
     */
    output wire [63:0] m_axis_tdata,
    output wire [7:0]  m_axis_tkeep,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast,
    output wire        m_axis_tuser,

    /*
     * Statistics: one pulse as a frame's last beat leaves
     */
    output wire        stat_frame,
    output wire [15:0] stat_bytes
);

localparam [1:0]
    STATE_GAP = 2'd0,   // inter-frame gap, then wait for a frame
    STATE_DATA = 2'd1,  // payload (frame data, then padding)
    STATE_FCS = 2'd2,   // the FCS bytes that did not fit in the last payload beat
    STATE_LAST = 2'd3;  // last beat loaded, waiting for its handshake

localparam [15:0] MIN_LEN = MIN_FRAME_LENGTH;
// Gap still owed after the last beat's cycle, before its unused lanes count
localparam [4:0] GAP_AFTER_BEAT = GAP_BYTES - 8;

reg [1:0] state_reg = STATE_GAP;

reg [15:0] cnt_reg = 16'd0;       // byte offset of the next beat
reg [15:0] len_reg = 16'd0;       // frame data length
reg [15:0] target_reg = 16'd0;    // payload length after padding
reg [49:0] csum_reg = 50'd0;      // the frame's checksum insertions
reg [31:0] crc_reg = 32'hFFFFFFFF;
reg [31:0] fcs_rem_reg = 32'd0;
reg [2:0] fcs_rem_bytes_reg = 3'd0;
reg [3:0] last_bytes_reg = 4'd0;  // bytes in the last beat of the frame
reg [4:0] gap_left_reg = 5'd0;    // gap bytes still to idle
reg [2:0] credit_reg = 3'd0;      // bytes idled beyond the previous gap

reg [63:0] tdata_reg = 64'd0;
reg [7:0] tkeep_reg = 8'd0;
reg tvalid_reg = 1'b0;
reg tlast_reg = 1'b0;

reg stat_frame_reg = 1'b0;
reg [15:0] stat_bytes_reg = 16'd0;

assign m_axis_tdata = tdata_reg;
assign m_axis_tkeep = tkeep_reg;
assign m_axis_tvalid = tvalid_reg;
assign m_axis_tlast = tlast_reg;
// Store-and-forward: a frame never starts unless it is complete, so there is
// no underrun to flag.
assign m_axis_tuser = 1'b0;
assign stat_frame = stat_frame_reg;
assign stat_bytes = stat_bytes_reg;

function [7:0] keep_mask(input [3:0] n);
    keep_mask = (n >= 4'd8) ? 8'hFF : ~(8'hFF << n);
endfunction

function [63:0] byte_mask(input [7:0] keep);
    integer i;
    begin
        for (i = 0; i < 8; i = i + 1) begin
            byte_mask[i*8 +: 8] = {8{keep[i]}};
        end
    end
endfunction

wire out_ready = !tvalid_reg || m_axis_tready;
wire last_handshake = tvalid_reg && m_axis_tready && tlast_reg;

// A frame may start once the gap is (or becomes, this cycle) satisfied and
// both its length and first word are present.
wire start = (state_reg == STATE_GAP) && (gap_left_reg <= 5'd8) && s_len_valid && s_data_valid;

// Beat generation, shared by the first beat (from the length queue head) and
// the following ones (from the frame registers).
wire [15:0] cur_len = start ? s_len : len_reg;
wire [15:0] cur_target = start ? ((pad_en && s_len < MIN_LEN) ? MIN_LEN : s_len) : target_reg;
wire [15:0] cur_cnt = start ? 16'd0 : cnt_reg;
wire [31:0] cur_crc = start ? 32'hFFFFFFFF : crc_reg;

wire need_word = cur_cnt < cur_len;
wire [15:0] data_left = cur_len - cur_cnt;
wire [15:0] pay_left = cur_target - cur_cnt;
wire [3:0] data_bytes = !need_word ? 4'd0 : (data_left >= 16'd8 ? 4'd8 : data_left[3:0]);
wire last_pay = pay_left <= 16'd8;
wire [3:0] pay_bytes = last_pay ? pay_left[3:0] : 4'd8;

wire [49:0] cur_csum = start ? s_csum : csum_reg;

// Puts the two bytes of v (big-endian) at frame offset cso into the word at frame offset base,
// when they fall in it (either byte may be in the word before or after).
function [63:0] put16(input [63:0] w, input [15:0] base, input [7:0] cso, input [15:0] v);
    reg [15:0] rel;
    begin
        put16 = w;
        rel = {8'd0, cso} - base;
        if (rel < 16'd8) put16[{rel[2:0], 3'b000} +: 8] = v[15:8];
        rel = rel + 16'd1;
        if (rel < 16'd8) put16[{rel[2:0], 3'b000} +: 8] = v[7:0];
    end
endfunction

// The data word with the checksum bytes put in place: byte i is at frame offset cur_cnt + i.
function [63:0] insert_csum(input [63:0] w, input [15:0] base, input [49:0] c);
    begin
        insert_csum = w;
        if (c[49]) insert_csum = put16(insert_csum, base, c[48:41], c[40:25]);
        if (c[24]) insert_csum = put16(insert_csum, base, c[23:16], c[15:0]);
    end
endfunction

wire [63:0] pay_word = need_word ? (insert_csum(s_data, cur_cnt, cur_csum) & byte_mask(keep_mask(data_bytes))) : 64'd0;
wire [31:0] crc_next;
wire [31:0] fcs = ~crc_next;
wire [63:0] fcs_word = {32'd0, fcs} << {pay_bytes, 3'b000};
wire [31:0] fcs_rem = fcs >> {4'd8 - pay_bytes, 3'b000};

// Bytes of this cycle left idle when the gap (1..8 bytes left) ends within
// it: 8 - gap_left, computed mod 8
wire [2:0] gap_slack = 3'd0 - gap_left_reg[2:0];

wire in_payload = start || state_reg == STATE_DATA;
wire beat = in_payload && out_ready && (!need_word || s_data_valid);

assign s_len_pop = start && beat;
assign s_data_pop = beat && need_word;

crc32_d64 crc_inst (
    .crc_in(cur_crc),
    .data(pay_word),
    .keep(keep_mask(pay_bytes)),
    .crc_out(crc_next)
);

always @(posedge clk) begin
    stat_frame_reg <= 1'b0;

    if (tvalid_reg && m_axis_tready) begin
        tvalid_reg <= 1'b0;
    end

    if (last_handshake) begin
        stat_frame_reg <= 1'b1;
        stat_bytes_reg <= target_reg + 16'd4;
    end

    case (state_reg)
        STATE_GAP: begin
            if (gap_left_reg > 5'd8) begin
                gap_left_reg <= gap_left_reg - 5'd8;
            end else if (!beat) begin
                // Nothing to send: the line is idle and keeps no credit.
                gap_left_reg <= 5'd0;
                credit_reg <= 3'd0;
            end else begin
                credit_reg <= gap_left_reg == 5'd0 ? 3'd0 : gap_slack;
                gap_left_reg <= 5'd0;
            end
        end
        STATE_FCS: begin
            if (out_ready) begin
                tdata_reg <= {32'd0, fcs_rem_reg};
                tkeep_reg <= keep_mask({1'b0, fcs_rem_bytes_reg});
                tvalid_reg <= 1'b1;
                tlast_reg <= 1'b1;
                last_bytes_reg <= {1'b0, fcs_rem_bytes_reg};
                state_reg <= STATE_LAST;
            end
        end
        STATE_LAST: begin
            if (last_handshake) begin
                // The last beat's unused lanes are already part of the gap.
                gap_left_reg <= {1'b0, last_bytes_reg} + GAP_AFTER_BEAT - {2'b00, credit_reg};
                state_reg <= STATE_GAP;
            end
        end
        default: begin
        end
    endcase

    if (beat) begin
        tvalid_reg <= 1'b1;
        if (start) begin
            len_reg <= s_len;
            csum_reg <= s_csum;
            target_reg <= cur_target;
        end
        if (!last_pay) begin
            tdata_reg <= pay_word;
            tkeep_reg <= 8'hFF;
            tlast_reg <= 1'b0;
            cnt_reg <= cur_cnt + 16'd8;
            crc_reg <= crc_next;
            state_reg <= STATE_DATA;
        end else if (pay_bytes <= 4'd4) begin
            tdata_reg <= pay_word | fcs_word;
            tkeep_reg <= keep_mask(pay_bytes + 4'd4);
            tlast_reg <= 1'b1;
            last_bytes_reg <= pay_bytes + 4'd4;
            state_reg <= STATE_LAST;
        end else begin
            tdata_reg <= pay_word | fcs_word;
            tkeep_reg <= 8'hFF;
            tlast_reg <= 1'b0;
            fcs_rem_reg <= fcs_rem;
            fcs_rem_bytes_reg <= pay_bytes[2:0] - 3'd4;
            state_reg <= STATE_FCS;
        end
    end

    if (rst) begin
        state_reg <= STATE_GAP;
        gap_left_reg <= 5'd0;
        credit_reg <= 3'd0;
        tvalid_reg <= 1'b0;
        stat_frame_reg <= 1'b0;
    end
end

endmodule

`resetall
