/*
 * Receive MAC: FCS check and strip, length checks, PHY error and destination
 * address filter (the e1000 receive filter), writing frames speculatively into
 * rx_fifo and committing or rolling back at the end of each frame.
 *
 * AXI-Stream input carries whole frames without preamble and with FCS; every
 * beat but the last has tkeep = 8'hFF and the last beat's tkeep is contiguous
 * from bit 0. A MAC cannot hold off the wire, so s_axis_rx_tready is always 1
 * and a frame that finds the FIFO full is dropped whole.
 *
 * The input beat is registered first (as a MAC latches its PHY interface), so
 * the CRC network hangs off flops rather than input pins.
 *
 * One beat is held back so that the FCS can be stripped wherever it falls:
 * when the last beat brings 4 bytes or fewer, the held word is the frame's last
 * word (its FCS bytes lie beyond the frame length); otherwise the last beat's
 * data becomes the held word. The verdict is formed on the last beat and acted
 * on in the next cycle, when the final word is written (commit) or the frame
 * is rolled back; exactly one rx_evt pulse marks every frame at that point.
 *
 * Verdict precedence: PHY_ERR, RUNT, OVERSIZE, CRC, FILTER, FIFO_FULL, ACCEPT.
 * With RCTL.EN clear every frame is reported as FILTER.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_mac #
(
    parameter MIN_FRAME_LENGTH = 64
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * AXI-Stream input from the PHY side
     */
    input  wire [63:0] s_axis_rx_tdata,
    input  wire [7:0]  s_axis_rx_tkeep,
    input  wire        s_axis_rx_tvalid,
    output wire        s_axis_rx_tready,
    input  wire        s_axis_rx_tlast,
    input  wire        s_axis_rx_tuser,

    /*
     * Configuration
     */
    input  wire        rctl_en,
    input  wire        rctl_upe,
    input  wire        rctl_mpe,
    input  wire        rctl_bam,
    input  wire [47:0] mac_addr,
    input  wire        mac_addr_valid,
    input  wire [15:0] rlpml,
    input  wire        rxcsum_ipofld,
    input  wire        rxcsum_tuofld,
    output wire [11:0] mta_hash,      // multicast table index of the current first beat
    input  wire        mta_hit,       // MTA bit selected by mta_hash

    /*
     * FIFO write side
     */
    output wire        m_fifo_wr_en,
    output wire [63:0] m_fifo_wr_data,
    output wire        m_fifo_wr_last,
    output wire [15:0] m_fifo_wr_len,
    output wire [15:0] m_fifo_wr_sts, // checksum {errors, status} bits (rx_csum), valid with last
    output wire        m_fifo_rollback,
    input  wire        m_fifo_full,

    /*
     * Per-frame outcome (one pulse per frame, wire order)
     */
    output wire        rx_evt_valid,
    output wire [2:0]  rx_evt_code,
    output wire        rx_evt_bcast,
    output wire        rx_evt_mcast,
    output wire [15:0] rx_evt_bytes   // frame length including FCS (saturating)
);

// Elaboration-time checks: a runt threshold below an Ethernet header plus FCS, or above a standard
// frame, would accept garbage or drop everything.
initial begin
    if (MIN_FRAME_LENGTH < 18 || MIN_FRAME_LENGTH > 1518) begin
        $error("rx_mac: MIN_FRAME_LENGTH must be in 18..1518 bytes incl. FCS (instance %m)");
        $finish;
    end
end

// rx_evt codes
`include "nic_rx_events.vh"

// CRC register value after a frame's FCS has been shifted in: the IEEE 802.3 residue
localparam [31:0] CRC_RESIDUE = 32'hDEBB20E3;

// Input register
reg [63:0] in_tdata_reg = 64'd0;
reg [7:0] in_tkeep_reg = 8'd0;
reg in_tvalid_reg = 1'b0;
reg in_tlast_reg = 1'b0;
reg in_tuser_reg = 1'b0;

reg in_frame_reg = 1'b0;
reg [31:0] crc_reg = 32'hFFFFFFFF;
reg [15:0] byte_cnt_reg = 16'd0;
reg phy_err_reg = 1'b0;
reg filter_ok_reg = 1'b0;
reg overflow_reg = 1'b0;
reg bcast_reg = 1'b0;
reg mcast_reg = 1'b0;

reg [63:0] hold_reg = 64'd0;
reg hold_valid_reg = 1'b0;

reg end_pending_reg = 1'b0;
reg [2:0] verdict_reg = RX_EVT_ACCEPT;
reg [15:0] total_reg = 16'd0;
reg end_bcast_reg = 1'b0;
reg end_mcast_reg = 1'b0;

wire beat = in_tvalid_reg;
wire first = !in_frame_reg;

// Bytes on this beat (tkeep is contiguous from bit 0)
wire [3:0] beat_bytes = {3'd0, in_tkeep_reg[0]} + {3'd0, in_tkeep_reg[1]} +
                        {3'd0, in_tkeep_reg[2]} + {3'd0, in_tkeep_reg[3]} +
                        {3'd0, in_tkeep_reg[4]} + {3'd0, in_tkeep_reg[5]} +
                        {3'd0, in_tkeep_reg[6]} + {3'd0, in_tkeep_reg[7]};

wire [15:0] cnt_base = first ? 16'd0 : byte_cnt_reg;
wire [16:0] cnt_sum = {1'b0, cnt_base} + {13'd0, beat_bytes};
wire [15:0] cnt_next = cnt_sum[16] ? 16'hFFFF : cnt_sum[15:0];

wire [31:0] crc_next;

crc32_d64 crc_inst (
    .crc_in(first ? 32'hFFFFFFFF : crc_reg),
    .data(in_tdata_reg),
    .keep(in_tkeep_reg),
    .crc_out(crc_next)
);

// Destination address filter, evaluated on the first beat
wire [47:0] dst = in_tdata_reg[47:0];
wire dst_bcast = dst == 48'hFFFFFFFFFFFF;
wire dst_mcast = dst[0] && !dst_bcast;
wire dst_ucast_hit = mac_addr_valid && dst == mac_addr;
wire dst_ok = rctl_en && (rctl_upe ||
                          (dst_bcast && rctl_bam) ||
                          (dst_mcast && (rctl_mpe || mta_hit)) ||
                          (!dst[0] && dst_ucast_hit));

assign mta_hash = dst[47:36];

// Receive checksum offload on the input beats, alongside the CRC
rx_csum csum_inst (
    .clk(clk),
    .rst(rst),
    .beat(beat),
    .first(first),
    .last(in_tlast_reg),
    .data(in_tdata_reg),
    .offset(cnt_base),
    .frame_bytes(cnt_next),
    .ipofld(rxcsum_ipofld),
    .tuofld(rxcsum_tuofld),
    .sts(m_fifo_wr_sts)
);

wire phy_err_next = (first ? 1'b0 : phy_err_reg) || in_tuser_reg;
wire filter_ok_next = first ? dst_ok : filter_ok_reg;
wire bcast_next = first ? dst_bcast : bcast_reg;
wire mcast_next = first ? dst_mcast : mcast_reg;

// Mid-frame store of the held word: a later beat proves it holds no FCS byte.
// Frames already known to be dropped are not stored at all.
wire store_wanted = !first && hold_valid_reg && (!in_tlast_reg || beat_bytes > 4'd4) &&
                    filter_ok_reg && !phy_err_reg && !overflow_reg && byte_cnt_reg <= rlpml;
wire mid_wr = beat && store_wanted && !m_fifo_full;
wire mid_overflow = beat && store_wanted && m_fifo_full;

// End of frame (cycle after tlast): commit the final word or roll back
wire end_accept = end_pending_reg && verdict_reg == RX_EVT_ACCEPT && !m_fifo_full;
wire [2:0] end_code = (verdict_reg == RX_EVT_ACCEPT && m_fifo_full) ? RX_EVT_FIFO_FULL : verdict_reg;

assign s_axis_rx_tready = 1'b1;

assign m_fifo_wr_en = mid_wr || end_accept;
assign m_fifo_wr_data = hold_reg;
assign m_fifo_wr_last = end_accept;
assign m_fifo_wr_len = total_reg - 16'd4;
assign m_fifo_rollback = end_pending_reg && !end_accept;

assign rx_evt_valid = end_pending_reg;
assign rx_evt_code = end_code;
assign rx_evt_bcast = end_bcast_reg;
assign rx_evt_mcast = end_mcast_reg;
assign rx_evt_bytes = total_reg;

always @(posedge clk) begin
    in_tdata_reg <= s_axis_rx_tdata;
    in_tkeep_reg <= s_axis_rx_tkeep;
    in_tvalid_reg <= s_axis_rx_tvalid;
    in_tlast_reg <= s_axis_rx_tlast;
    in_tuser_reg <= s_axis_rx_tuser;

    end_pending_reg <= 1'b0;

    if (beat) begin
        in_frame_reg <= !in_tlast_reg;
        crc_reg <= crc_next;
        byte_cnt_reg <= cnt_next;
        phy_err_reg <= phy_err_next;
        filter_ok_reg <= filter_ok_next;
        bcast_reg <= bcast_next;
        mcast_reg <= mcast_next;
        overflow_reg <= (first ? 1'b0 : overflow_reg) || mid_overflow;

        if (!in_tlast_reg || beat_bytes > 4'd4) begin
            hold_reg <= in_tdata_reg;
            hold_valid_reg <= 1'b1;
        end else if (first) begin
            hold_valid_reg <= 1'b0;
        end

        if (in_tlast_reg) begin
            end_pending_reg <= 1'b1;
            total_reg <= cnt_next;
            end_bcast_reg <= bcast_next;
            end_mcast_reg <= mcast_next;
            if (phy_err_next) begin
                verdict_reg <= RX_EVT_PHY_ERR;
            end else if (cnt_next < MIN_FRAME_LENGTH) begin
                verdict_reg <= RX_EVT_RUNT;
            end else if (cnt_next > rlpml) begin
                verdict_reg <= RX_EVT_OVERSIZE;
            end else if (crc_next != CRC_RESIDUE) begin
                verdict_reg <= RX_EVT_CRC;
            end else if (!filter_ok_next) begin
                verdict_reg <= RX_EVT_FILTER;
            end else if (overflow_reg || mid_overflow) begin
                verdict_reg <= RX_EVT_FIFO_FULL;
            end else begin
                verdict_reg <= RX_EVT_ACCEPT;
            end
        end
    end

    if (rst) begin
        in_tvalid_reg <= 1'b0;
        in_frame_reg <= 1'b0;
        hold_valid_reg <= 1'b0;
        end_pending_reg <= 1'b0;
        overflow_reg <= 1'b0;
    end
end

endmodule

`resetall
