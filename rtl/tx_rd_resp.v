/*
 * TX DMA read completion: the e1000 transmit fetch data path.
 *
 * Consumes R beats in request order, as described by the tags of
 * tx_rd_issue. Descriptor beats go to the descriptor cache. Buffer beats are
 * realigned: the valid bytes of each 8-byte-aligned beat (a buffer may start
 * and end at any byte) are shifted down and packed behind the bytes already
 * gathered, across the descriptors of a frame, into full 64-bit words for the
 * TX FIFO. At the frame's end the last partial word is written and the frame
 * is committed with its length, or dropped if any of its reads failed
 * (SLVERR/DECERR), it was cut short by a drop marker, or it holds no byte.
 *
 * When the frame's last beat leaves more than 8 bytes gathered, the remainder
 * is written in the next cycle. R stays ready in that cycle for any beat that
 * needs neither the FIFO write port nor a frame end (descriptor beats, and the
 * first beat of an unaligned buffer), so the realignment costs no bus cycle
 * in the common case. Each finished descriptor goes to
 * the write-back queue; the entry of a frame's EOP (or of a dropped
 * descriptor) releases the entries before it, since the frame's data is then
 * fully read.
 *
 * Extended descriptors (8254x SDM, TCP/IP context and data descriptors, DEXT):
 * a context descriptor moves no data (length 0, no EOP; its first qword, the
 * IPCSS/IPCSO/IPCSE/TUCSS/TUCSO/TUCSE fields, is passed on as its address);
 * a data descriptor's DTALEN, DCMD and POPTS take the legacy fields' places.
 * Transmit checksum offload: for a frame whose first data descriptor has
 * POPTS.IXSM / POPTS.TXSM, the words written to the FIFO are summed over
 * [IPCSS, IPCSE] and [TUCSS, TUCSE] (an end of 0: to the end of the frame),
 * and the complemented sums go to the FIFO with the frame's length, for tx_mac
 * to insert at IPCSO and TUCSO (a UDP sum of 0 is sent as 0xFFFF, RFC 768).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_rd_resp
(
    input  wire         clk,
    input  wire         rst,

    /*
     * AXI read data channel
     */
    input  wire [63:0]  m_axi_rdata,
    input  wire [1:0]   m_axi_rresp,
    input  wire         m_axi_rlast,
    input  wire         m_axi_rvalid,
    output wire         m_axi_rready,

    /*
     * Tags, in request order (from tx_rd_issue); neither desc nor data: marker
     */
    input  wire         tag_desc,
    input  wire         tag_data,
    input  wire [15:0]  tag_idx,
    input  wire [2:0]   tag_first_off,
    input  wire [3:0]   tag_last_end,
    input  wire         tag_dlast,
    input  wire         tag_eop,
    input  wire         tag_rs,
    input  wire         tag_drop,
    input  wire [66:0]  tag_csum,      // {TXSM, IXSM, TUCMD.TCP, context qword}
    input  wire         tag_valid,
    output wire         tag_pop,

    /*
     * Fetched descriptors (to tx_rd_issue)
     */
    output wire [63:0]  m_desc_addr,
    output wire [15:0]  m_desc_len,
    output wire         m_desc_eop,
    output wire         m_desc_rs,
    output wire         m_desc_err,
    output wire         m_desc_ctx,
    output wire         m_desc_tcp,
    output wire [1:0]   m_desc_popts,
    output wire [15:0]  m_desc_idx,
    output wire         m_desc_push,

    /*
     * TX FIFO write side
     */
    output wire [63:0]  fifo_wr_data,
    output wire         fifo_wr_en,
    output wire         fifo_commit,
    output wire [15:0]  fifo_commit_len,
    output wire [49:0]  fifo_commit_csum, // {IXSM, IPCSO, IP value, TXSM, TUCSO, TCP/UDP value}
    output wire         fifo_drop,

    /*
     * Finished descriptors (to tx_wb)
     */
    output wire [15:0]  wb_idx,
    output wire         wb_rs,
    output wire         wb_release,
    output wire         wb_push,
    input  wire         wb_full,

    /*
     * Status
     */
    output wire         data_beat,     // credit back to tx_rd_issue
    output wire         frame_end,     // frame committed or dropped
    output wire         drop_now,      // frame dropped this cycle (combinational)
    output wire         err_pulse,     // frame dropped (registered)
    output wire         dma_valid,     // frame committed to the TX FIFO
    output wire [15:0]  dma_slot       // its EOP descriptor index
);

reg [3:0] beat_cnt_reg = 4'd0;       // beat within the current burst
reg [63:0] desc_addr_reg = 64'd0;    // first qword of a descriptor being read
reg desc_err_reg = 1'b0;

reg [63:0] acc_reg = 64'd0;          // gathered bytes not yet written, LSB first
reg [2:0] acc_cnt_reg = 3'd0;
reg [15:0] frame_len_reg = 16'd0;
reg frame_bad_reg = 1'b0;

reg flush_reg = 1'b0;                // write flush_word_reg and commit its frame
reg [63:0] flush_word_reg = 64'd0;
reg [15:0] flush_len_reg = 16'd0;
reg [15:0] flush_idx_reg = 16'd0;

// Transmit checksum offload state of the frame being written
reg [66:0] cfg_reg = 67'd0;          // its first data descriptor's tag_csum
reg [12:0] wcnt_reg = 13'd0;         // words written
reg [31:0] ip_acc_reg = 32'd0;
reg [31:0] tu_acc_reg = 32'd0;
reg [66:0] flush_cfg_reg = 67'd0;    // the flushed frame's configuration

reg err_reg = 1'b0;
reg dma_valid_reg = 1'b0;
reg [15:0] dma_slot_reg = 16'd0;

function [63:0] byte_mask(input [3:0] n);
    byte_mask = (n >= 4'd8) ? {64{1'b1}} : ~({64{1'b1}} << {n, 3'b000});
endfunction

// One's complement sum (unfolded) of the big-endian 16-bit words of word w at frame offset off,
// bytes outside [css, cse] (cse = 0: no end) taken as zero.
function [17:0] word_sum(input [63:0] w, input [15:0] off, input [7:0] css, input [15:0] cse);
    reg [15:0] lo;     // first byte of the word inside the range (0..8)
    reg [15:0] hi;     // bytes of the word up to the range's end (0..8)
    reg [63:0] m;
    begin
        lo = ({8'd0, css} <= off) ? 16'd0 : {8'd0, css} - off;
        hi = (cse == 16'd0 || cse >= off + 16'd7) ? 16'd8 : (cse < off ? 16'd0 : cse - off + 16'd1);
        m = (lo >= 16'd8) ? 64'd0 : (w & ({64{1'b1}} << {lo[2:0], 3'b000}));
        m = (hi >= 16'd8) ? m : (m & ~({64{1'b1}} << {hi[2:0], 3'b000}));
        word_sum = {2'd0, m[7:0], m[15:8]} + {2'd0, m[23:16], m[31:24]} +
                   {2'd0, m[39:32], m[47:40]} + {2'd0, m[55:48], m[63:56]};
    end
endfunction

function [15:0] fold(input [31:0] v);
    reg [31:0] t;
    begin
        t = {16'd0, v[15:0]} + {16'd0, v[31:16]};
        t = {16'd0, t[15:0]} + {16'd0, t[31:16]};
        fold = t[15:0];
    end
endfunction

// The values to insert: complemented sums, byte-swapped back when the range starts at an odd
// offset (the sums are taken on even frame offsets).
function [31:0] finish_csum(input [31:0] ip_acc, input [31:0] tu_acc, input ip_odd, input tu_odd,
                            input tcp);
    reg [15:0] ip_s;
    reg [15:0] tu_s;
    begin
        ip_s = fold(ip_acc);
        tu_s = fold(tu_acc);
        ip_s = ~(ip_odd ? {ip_s[7:0], ip_s[15:8]} : ip_s);
        tu_s = ~(tu_odd ? {tu_s[7:0], tu_s[15:8]} : tu_s);
        if (!tcp && tu_s == 16'd0) tu_s = 16'hFFFF;
        finish_csum = {ip_s, tu_s};
    end
endfunction

wire is_desc = tag_valid && tag_desc;
wire is_data = tag_valid && tag_data;
wire is_mark = tag_valid && !tag_desc && !tag_data;

// Realignment of a buffer beat
wire [2:0] off = (beat_cnt_reg == 4'd0) ? tag_first_off : 3'd0;
wire [3:0] end_pos = m_axi_rlast ? tag_last_end : 4'd8;
wire [3:0] n = end_pos - {1'b0, off};
wire [63:0] in_bytes = (m_axi_rdata >> {off, 3'b000}) & byte_mask(n);
wire [127:0] comb = {64'd0, acc_reg} | ({64'd0, in_bytes} << {acc_cnt_reg, 3'b000});
wire [3:0] tot = {1'b0, acc_cnt_reg} + n;
wire full_word = tot[3];

// While a remainder is flushed, nothing else may write, commit or drop.
wire data_needs_port = full_word || (m_axi_rlast && tag_dlast && tag_eop);
assign m_axi_rready = is_desc || (is_data && !wb_full && !(flush_reg && data_needs_port));
wire beat = m_axi_rvalid && m_axi_rready;
wire desc_beat = beat && tag_desc;
wire buf_beat = beat && tag_data;
wire mark_go = is_mark && !wb_full && !(flush_reg && tag_eop);
wire beat_err = m_axi_rresp != 2'b00;

// End of frame
wire desc_done = (buf_beat && m_axi_rlast && tag_dlast) || mark_go;
wire frame_last = desc_done && tag_eop;
wire [15:0] end_len = frame_len_reg + (buf_beat ? {12'd0, n} : 16'd0);
wire end_bad = frame_bad_reg || (buf_beat && beat_err) || (mark_go && tag_drop);
wire end_drop = frame_last && (end_bad || end_len == 16'd0);
wire end_commit = frame_last && !end_drop;
wire need_flush = end_commit && buf_beat && tot > 4'd8;

// Checksum sums: the frame's configuration comes with its first data beat.
wire first_data = buf_beat && frame_len_reg == 16'd0;
wire [66:0] cfg = first_data ? tag_csum : cfg_reg;
// The flush cycle writes the last word of the frame before (whose sums are kept until then).
wire [66:0] sum_cfg = flush_reg ? flush_cfg_reg : cfg;
wire [15:0] wr_off = {wcnt_reg, 3'b000};
wire [31:0] ip_acc_wr = ip_acc_reg + (fifo_wr_en ? {14'd0, word_sum(fifo_wr_data, wr_off, sum_cfg[7:0], sum_cfg[31:16])} : 32'd0);
wire [31:0] tu_acc_wr = tu_acc_reg + (fifo_wr_en ? {14'd0, word_sum(fifo_wr_data, wr_off, sum_cfg[39:32], sum_cfg[63:48])} : 32'd0);
wire [31:0] vals_wr = finish_csum(ip_acc_wr, tu_acc_wr, sum_cfg[0], sum_cfg[32], sum_cfg[64]);
wire [49:0] commit_csum = {sum_cfg[65], sum_cfg[15:8], vals_wr[31:16], sum_cfg[66], sum_cfg[47:40], vals_wr[15:0]};

assign tag_pop = (beat && m_axi_rlast) || mark_go;

// Second qword: legacy length/cmd, or extended DTALEN, DTYP (b23:20), DCMD/TUCMD (byte 11; DEXT b5)
// and POPTS (byte 13)
wire d_dext = m_axi_rdata[29];
wire d_is_ctx = d_dext && m_axi_rdata[23:20] == 4'd0;
wire d_is_data = d_dext && m_axi_rdata[23:20] == 4'd1;

assign m_desc_addr = desc_addr_reg;
assign m_desc_len = d_is_ctx ? 16'd0 : m_axi_rdata[15:0];
assign m_desc_eop = !d_is_ctx && m_axi_rdata[24]; // cmd (byte 11) bit 0
assign m_desc_rs = m_axi_rdata[27];      // cmd bit 3
assign m_desc_ctx = d_is_ctx;
assign m_desc_tcp = m_axi_rdata[24];     // TUCMD.TCP
assign m_desc_popts = d_is_data ? m_axi_rdata[41:40] : 2'b00;
assign m_desc_err = desc_err_reg || beat_err;
assign m_desc_idx = tag_idx + {12'd0, beat_cnt_reg[3:1]};
assign m_desc_push = desc_beat && beat_cnt_reg[0];

assign fifo_wr_data = flush_reg ? flush_word_reg : (mark_go ? acc_reg : comb[63:0]);
assign fifo_wr_en = flush_reg
    || (buf_beat && !end_drop && (full_word || end_commit))
    || (mark_go && end_commit && acc_cnt_reg != 3'd0);
assign fifo_commit = flush_reg || (end_commit && !need_flush);
assign fifo_commit_len = flush_reg ? flush_len_reg : end_len;
assign fifo_commit_csum = commit_csum;
assign fifo_drop = end_drop;

assign wb_idx = tag_idx;
assign wb_rs = tag_rs;
assign wb_release = tag_eop || (mark_go && tag_drop);
assign wb_push = desc_done;

assign data_beat = buf_beat;
assign frame_end = flush_reg || end_drop || (end_commit && !need_flush);
assign drop_now = end_drop;
assign err_pulse = err_reg;
assign dma_valid = dma_valid_reg;
assign dma_slot = dma_slot_reg;

always @(posedge clk) begin
    err_reg <= end_drop;
    dma_valid_reg <= fifo_commit;
    if (fifo_commit) begin
        dma_slot_reg <= flush_reg ? flush_idx_reg : tag_idx;
    end

    if (beat) begin
        beat_cnt_reg <= m_axi_rlast ? 4'd0 : beat_cnt_reg + 4'd1;
    end

    if (desc_beat && !beat_cnt_reg[0]) begin
        desc_addr_reg <= m_axi_rdata;
        desc_err_reg <= beat_err;
    end

    if (buf_beat) begin
        frame_len_reg <= end_len;
        frame_bad_reg <= frame_bad_reg || beat_err;
        // A full word is written this cycle; keep what is left over.
        acc_reg <= full_word ? comb[127:64] : comb[63:0];
        acc_cnt_reg <= tot[2:0];
    end

    if (mark_go && tag_drop) begin
        frame_bad_reg <= 1'b1;
    end

    if (first_data) begin
        cfg_reg <= tag_csum;
    end
    if (fifo_wr_en) begin
        ip_acc_reg <= ip_acc_wr;
        tu_acc_reg <= tu_acc_wr;
        wcnt_reg <= wcnt_reg + 13'd1;
    end

    flush_reg <= need_flush;
    if (need_flush) begin
        flush_cfg_reg <= cfg;
        flush_word_reg <= comb[127:64];
        flush_len_reg <= end_len;
        flush_idx_reg <= tag_idx;
    end

    // A finished frame leaves nothing behind in the gatherer.
    // The sums of a frame end with its commit (in the flush cycle when it has one) or its drop.
    if ((frame_last && !need_flush) || flush_reg) begin
        ip_acc_reg <= 32'd0;
        tu_acc_reg <= 32'd0;
        wcnt_reg <= 13'd0;
    end

    if (frame_last) begin
        acc_reg <= 64'd0;
        acc_cnt_reg <= 3'd0;
        frame_len_reg <= 16'd0;
        frame_bad_reg <= 1'b0;
    end

    if (rst) begin
        beat_cnt_reg <= 4'd0;
        acc_reg <= 64'd0;
        acc_cnt_reg <= 3'd0;
        frame_len_reg <= 16'd0;
        frame_bad_reg <= 1'b0;
        flush_reg <= 1'b0;
        ip_acc_reg <= 32'd0;
        tu_acc_reg <= 32'd0;
        wcnt_reg <= 13'd0;
        err_reg <= 1'b0;
        dma_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
