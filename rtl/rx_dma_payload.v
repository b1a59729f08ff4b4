/*
 * RX write engine: takes the frame at the RX FIFO head into the next cached
 * descriptor's buffer and runs the AXI write jobs (payload bursts and the
 * write-backs offered by rx_dma_wb), one job at a time.
 *
 * Payload bursts are INCR, 8-byte beats, at most 16 beats, never across 4 KiB;
 * any buffer byte alignment works (input words are realigned, wstrb masks the
 * bytes outside the buffer). AW and the first W beat of a job are presented
 * together. A pending write-back goes before the next payload burst. A frame
 * that waits for want of a descriptor (RDH = RDT) counts RNBC once, as on
 * e1000 (8254x SDM, RNBC: receive no buffers count).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_dma_payload
(
    input  wire        clk,
    input  wire        rst,

    input  wire        rctl_en,
    input  wire [15:0] ring_size,
    input  wire [15:0] rdt,
    input  wire        rdh_wr,
    input  wire [15:0] rdh_wdata,

    /*
     * Frames from rx_fifo
     */
    input  wire        s_frame_valid,
    input  wire [15:0] s_frame_len,
    input  wire [63:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,

    /*
     * Descriptor cache head (rx_desc_fetch)
     */
    input  wire [63:0] s_desc_addr,
    input  wire        s_desc_valid,
    output wire        s_desc_pop,

    /*
     * Write-back side (rx_dma_wb)
     */
    input  wire        wb_req,
    input  wire [63:0] wb_addr,
    input  wire [63:0] wb_data,
    input  wire        wbq_full,
    input  wire        btag_full,
    output wire        frame_start,
    output wire        job_start,
    output wire        job_wb,
    output wire        job_frame_last,

    /*
     * AXI4 write address and data channels
     */
    output wire [63:0] m_axi_awaddr,
    output wire [7:0]  m_axi_awlen,
    output wire        m_axi_awvalid,
    input  wire        m_axi_awready,
    output wire [63:0] m_axi_wdata,
    output wire [7:0]  m_axi_wstrb,
    output wire        m_axi_wlast,
    output wire        m_axi_wvalid,
    input  wire        m_axi_wready,

    output wire        rnbc
);

function [15:0] ring_add(input [15:0] idx, input [16:0] inc, input [16:0] n);
    reg [16:0] s;
    begin
        s = {1'b0, idx} + inc;
        ring_add = (s >= n) ? s[15:0] - n[15:0] : s[15:0];
    end
endfunction

wire [16:0] ring_n = {1'b0, ring_size};

reg [15:0] use_ptr_reg = 16'd0;    // next descriptor to be given to a frame

// Write side: one job (payload burst or descriptor write-back) at a time
reg job_busy_reg = 1'b0;
reg job_wb_reg = 1'b0;
reg aw_pend_reg = 1'b0;
reg [4:0] w_left_reg = 5'd0;
reg [63:0] aw_addr_reg = 64'd0;
reg [7:0] aw_len_reg = 8'd0;
reg [63:0] wb_data_reg = 64'd0;

// Current frame
reg [8:0] f_words_left_reg = 9'd0; // output words not yet given to a burst
reg [63:0] f_addr_reg = 64'd0;     // next burst address (8-byte aligned)
reg [8:0] f_j_reg = 9'd0;          // output word index
reg [8:0] f_last_j_reg = 9'd0;     // index of the last output word
reg [2:0] f_off_reg = 3'd0;        // buffer address byte offset
reg [7:0] f_end_strb_reg = 8'hFF;  // strobes of the last output word
reg f_in_done_reg = 1'b1;          // all input words of the frame consumed
reg [63:0] prev_reg = 64'd0;       // previous input word (realignment)
reg rnbc_done_reg = 1'b0;
reg rnbc_reg = 1'b0;

wire w_hs = m_axi_wvalid && m_axi_wready;
wire aw_hs = m_axi_awvalid && m_axi_awready;
wire job_done = job_busy_reg && (!aw_pend_reg || aw_hs) &&
                (w_left_reg == 5'd0 || (w_left_reg == 5'd1 && w_hs));
wire job_free = !job_busy_reg || job_done;

// New frame parameters from the FIFO head and the cached descriptor
wire [63:0] nf_buf = s_desc_addr;
wire [2:0] nf_off = nf_buf[2:0];
/* verilator lint_off UNUSEDSIGNAL */
wire [15:0] nf_span = {13'd0, nf_off} + s_frame_len + 16'd7; // frames are at most 2044 bytes
/* verilator lint_on UNUSEDSIGNAL */
wire [8:0] nf_words = nf_span[11:3];
wire [2:0] nf_end = nf_off + s_frame_len[2:0];

// The FIFO presents the next frame's length only once the current frame's last
// word has been taken, hence f_in_done_reg.
wire frame_waiting = rctl_en && s_frame_valid && f_in_done_reg;
wire no_desc = use_ptr_reg == rdt;
wire start_wb = job_free && wb_req && !btag_full;
wire start_burst = job_free && !start_wb && f_words_left_reg != 9'd0 && !btag_full;
wire start_frame = job_free && !start_wb && f_words_left_reg == 9'd0 && !btag_full &&
                   frame_waiting && s_desc_valid && !wbq_full;

// Burst sizing: at most 16 beats, not past the frame, not across 4 KiB
wire [63:0] b_addr = start_frame ? {nf_buf[63:3], 3'd0} : f_addr_reg;
wire [8:0] b_words = start_frame ? nf_words : f_words_left_reg;
wire [9:0] b_to_4k = 10'd512 - {1'b0, b_addr[11:3]};
wire [8:0] b_len_a = (b_words < 9'd16) ? b_words : 9'd16;
wire [8:0] b_len = ({1'b0, b_len_a} < b_to_4k) ? b_len_a : b_to_4k[8:0];
wire b_frame_last = b_words == b_len;

// Payload W beat: realign input words to the bus
wire [5:0] shl = {f_off_reg, 3'd0};
wire [6:0] shr = 7'd64 - {1'b0, shl};
wire [63:0] in_word = f_in_done_reg ? 64'd0 : s_axis_tdata;
wire [63:0] pay_data = (in_word << shl) | (prev_reg >> shr);
wire [7:0] pay_strb = ((f_j_reg == 9'd0) ? (8'hFF << f_off_reg) : 8'hFF) &
                      ((f_j_reg == f_last_j_reg) ? f_end_strb_reg : 8'hFF);
wire pay_wvalid = job_busy_reg && !job_wb_reg && w_left_reg != 5'd0 &&
                  (f_in_done_reg || s_axis_tvalid);

assign m_axi_awaddr = aw_addr_reg;
assign m_axi_awlen = aw_len_reg;
assign m_axi_awvalid = aw_pend_reg;
assign m_axi_wdata = job_wb_reg ? wb_data_reg : pay_data;
assign m_axi_wstrb = job_wb_reg ? 8'hFF : pay_strb;
assign m_axi_wlast = w_left_reg == 5'd1;
assign m_axi_wvalid = job_wb_reg ? (job_busy_reg && w_left_reg != 5'd0) : pay_wvalid;

assign s_axis_tready = job_busy_reg && !job_wb_reg && w_left_reg != 5'd0 &&
                       !f_in_done_reg && m_axi_wready;

assign s_desc_pop = start_frame;
assign frame_start = start_frame;
assign job_start = start_wb || start_burst || start_frame;
assign job_wb = start_wb;
assign job_frame_last = b_frame_last;
assign rnbc = rnbc_reg;

always @(posedge clk) begin
    rnbc_reg <= 1'b0;

    // Write job progress
    if (aw_hs) begin
        aw_pend_reg <= 1'b0;
    end
    if (w_hs) begin
        w_left_reg <= w_left_reg - 5'd1;
        if (!job_wb_reg) begin
            f_j_reg <= f_j_reg + 9'd1;
            if (!f_in_done_reg) begin
                prev_reg <= s_axis_tdata;
                f_in_done_reg <= s_axis_tlast;
            end
        end
    end
    if (job_done) begin
        job_busy_reg <= 1'b0;
    end

    // Next job
    if (start_wb) begin
        job_busy_reg <= 1'b1;
        job_wb_reg <= 1'b1;
        aw_pend_reg <= 1'b1;
        aw_addr_reg <= wb_addr;
        aw_len_reg <= 8'd0;
        w_left_reg <= 5'd1;
        wb_data_reg <= wb_data;
    end
    if (start_burst || start_frame) begin
        job_busy_reg <= 1'b1;
        job_wb_reg <= 1'b0;
        aw_pend_reg <= 1'b1;
        aw_addr_reg <= b_addr;
        aw_len_reg <= b_len[7:0] - 8'd1;
        w_left_reg <= b_len[4:0];
        f_words_left_reg <= b_words - b_len;
        f_addr_reg <= b_addr + {52'd0, b_len, 3'd0};
    end
    if (start_frame) begin
        f_j_reg <= 9'd0;
        f_last_j_reg <= nf_words - 9'd1;
        f_off_reg <= nf_off;
        f_end_strb_reg <= (nf_end == 3'd0) ? 8'hFF : ~(8'hFF << nf_end);
        f_in_done_reg <= 1'b0;
        prev_reg <= 64'd0;
        use_ptr_reg <= ring_add(use_ptr_reg, 17'd1, ring_n);
        rnbc_done_reg <= 1'b0;
    end else if (frame_waiting && no_desc && !rnbc_done_reg) begin
        rnbc_reg <= 1'b1;
        rnbc_done_reg <= 1'b1;
    end

    if (rdh_wr) begin
        use_ptr_reg <= rdh_wdata;
    end

    if (rst) begin
        use_ptr_reg <= 16'd0;
        job_busy_reg <= 1'b0;
        aw_pend_reg <= 1'b0;
        w_left_reg <= 5'd0;
        f_words_left_reg <= 9'd0;
        f_in_done_reg <= 1'b1;
        rnbc_done_reg <= 1'b0;
        rnbc_reg <= 1'b0;
    end
end

endmodule

`resetall
