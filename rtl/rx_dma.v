/*
 * e1000 legacy receive descriptor ring engine: descriptor prefetch, payload
 * DMA from rx_fifo into host buffers and descriptor write-back.
 *
 * Descriptors: the driver owns [RDT, RDH), the NIC owns [RDH, RDT). Free
 * descriptors are fetched ahead (addr field only, in bursts of up to
 * DESC_FETCH_MAX) into a small cache. A frame at the FIFO head takes the next
 * cached descriptor and is written with INCR bursts (at most 16 beats, never
 * across 4 KiB); the buffer address may have any byte alignment, the data is
 * realigned here and the bus sees 8-byte aligned bursts with byte strobes.
 *
 * Write-back order contract: the descriptor write-back (upper 8 bytes:
 * length, csum 0, status DD|EOP, errors 0, special 0) of a frame is issued only
 * after the B responses of all of its payload bursts; RDH advances, the
 * rx_wb probe pulses and RXT0 is raised only after the write-back's own B.
 * Bursts of the next frames may be in flight meanwhile. The bus returns B
 * responses in order (single ID), which a tag FIFO relies on.
 *
 * RDH and RDLEN may be changed by the driver only while receive is idle
 * (RCTL.EN clear, no frame in flight), as on e1000.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_dma #
(
    // Descriptor cache entries (power of two). This and the two depths below
    // bound the frames in flight: line rate for 64-byte frames holds up to
    // about 600 cycles of DMA round-trip latency.
    parameter DESC_CACHE_DEPTH = 64,
    // Descriptors fetched per read burst (2 beats each, at most 8 for 16 beats)
    parameter DESC_FETCH_MAX = 8,
    // Frames between payload issue and descriptor write-back (power of two)
    parameter WBQ_DEPTH = 64,
    // Write bursts awaiting their B response (power of two)
    parameter BTAG_DEPTH = 128
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Ring configuration
     */
    input  wire        rctl_en,
    input  wire [1:0]  rctl_rdmts,
    input  wire [63:0] rdba,
    input  wire [15:0] ring_size,     // RDLEN / 16: descriptors in the ring
    input  wire [15:0] rdt,
    input  wire        rdh_wr,
    input  wire [15:0] rdh_wdata,
    output wire [15:0] rdh,

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
     * AXI4 master
     */
    output wire [63:0] m_axi_awaddr,
    output wire [7:0]  m_axi_awlen,
    output wire [2:0]  m_axi_awsize,
    output wire [1:0]  m_axi_awburst,
    output wire        m_axi_awvalid,
    input  wire        m_axi_awready,
    output wire [63:0] m_axi_wdata,
    output wire [7:0]  m_axi_wstrb,
    output wire        m_axi_wlast,
    output wire        m_axi_wvalid,
    input  wire        m_axi_wready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [1:0]  m_axi_bresp,   // see B response bookkeeping below
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        m_axi_bvalid,
    output wire        m_axi_bready,
    output wire [63:0] m_axi_araddr,
    output wire [7:0]  m_axi_arlen,
    output wire [2:0]  m_axi_arsize,
    output wire [1:0]  m_axi_arburst,
    output wire        m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [63:0] m_axi_rdata,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [1:0]  m_axi_rresp,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,
    output wire        m_axi_rready,

    /*
     * Events
     */
    output wire        rx_wb_valid,   // probe and RXT0: write-back of slot rx_wb_slot completed
    output wire [15:0] rx_wb_slot,
    output wire        rxdmt0,        // free descriptors fell to the RCTL.RDMTS threshold
    output wire        rnbc           // a frame waits for want of a descriptor (once per frame)
);

localparam CACHE_W = $clog2(DESC_CACHE_DEPTH);
localparam WBQ_W = $clog2(WBQ_DEPTH);
localparam BTAG_W = $clog2(BTAG_DEPTH);
localparam [3:0] FETCH_MAX = DESC_FETCH_MAX;

// ---------------------------------------------------------------------------
// Ring arithmetic
// ---------------------------------------------------------------------------
wire [16:0] ring_n = {1'b0, ring_size};

function [15:0] ring_add(input [15:0] idx, input [16:0] inc, input [16:0] n);
    reg [16:0] s;
    begin
        s = {1'b0, idx} + inc;
        ring_add = (s >= n) ? s[15:0] - n[15:0] : s[15:0];
    end
endfunction

function [16:0] ring_dist(input [15:0] from, input [15:0] to, input [16:0] n);
    begin
        ring_dist = (to >= from) ? {1'b0, to} - {1'b0, from} : {1'b0, to} + n - {1'b0, from};
    end
endfunction

function [16:0] min17(input [16:0] a, input [16:0] b);
    begin
        min17 = (a < b) ? a : b;
    end
endfunction

reg [15:0] rdh_reg = 16'd0;      // next descriptor to be written back
reg [15:0] use_ptr_reg = 16'd0;  // next descriptor to be given to a frame
reg [15:0] fetch_ptr_reg = 16'd0;// next descriptor to be fetched
reg [15:0] wb_ptr_reg = 16'd0;   // next descriptor to be written back (issue side)

// ---------------------------------------------------------------------------
// Descriptor prefetch
// ---------------------------------------------------------------------------
reg [63:0] cache_mem [0:DESC_CACHE_DEPTH-1];
reg [CACHE_W-1:0] cache_wr_reg = 0;
reg [CACHE_W-1:0] cache_rd_reg = 0;
reg [CACHE_W:0] cache_count_reg = 0;
reg [CACHE_W:0] inflight_reg = 0;
reg r_odd_reg = 1'b0;

reg ar_valid_reg = 1'b0;
reg [63:0] ar_addr_reg = 64'd0;
reg [7:0] ar_len_reg = 8'd0;

wire [63:0] fetch_addr = rdba + {44'd0, fetch_ptr_reg, 4'd0};
wire [16:0] fetch_avail = ring_dist(fetch_ptr_reg, rdt, ring_n);
wire [16:0] fetch_to_wrap = ring_n - {1'b0, fetch_ptr_reg};
wire [8:0] fetch_to_4k = 9'd256 - {1'b0, fetch_addr[11:4]};
wire [CACHE_W:0] cache_space = DESC_CACHE_DEPTH[CACHE_W:0] - cache_count_reg - inflight_reg;
wire [16:0] fetch_n = min17(min17({13'd0, FETCH_MAX}, fetch_avail),
                            min17(min17(fetch_to_wrap, {8'd0, fetch_to_4k}),
                                  {{(16-CACHE_W){1'b0}}, cache_space}));
wire fetch_start = !ar_valid_reg && rctl_en && ring_n != 17'd0 && fetch_n != 17'd0;
wire desc_beat = m_axi_rvalid && !r_odd_reg;

// ---------------------------------------------------------------------------
// Write side: one job (payload burst or descriptor write-back) at a time
// ---------------------------------------------------------------------------
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

// Frames awaiting write-back, and B response tags
reg [15:0] wbq_mem [0:WBQ_DEPTH-1];
reg [WBQ_W:0] wbq_wr_reg = 0;
reg [WBQ_W:0] wbq_rd_reg = 0;
reg [WBQ_W:0] payload_done_reg = 0; // frames whose payload B responses are all in

reg [1:0] btag_mem [0:BTAG_DEPTH-1]; // {write-back, last payload burst of a frame}
reg [BTAG_W:0] btag_wr_reg = 0;
reg [BTAG_W:0] btag_rd_reg = 0;

reg wb_valid_reg = 1'b0;
reg [15:0] wb_slot_reg = 16'd0;
reg rxdmt0_reg = 1'b0;
reg rnbc_reg = 1'b0;

wire w_hs = m_axi_wvalid && m_axi_wready;
wire aw_hs = m_axi_awvalid && m_axi_awready;
wire job_done = job_busy_reg && (!aw_pend_reg || aw_hs) &&
                (w_left_reg == 5'd0 || (w_left_reg == 5'd1 && w_hs));
wire job_free = !job_busy_reg || job_done;

wire wbq_full = (wbq_wr_reg[WBQ_W] != wbq_rd_reg[WBQ_W]) &&
                (wbq_wr_reg[WBQ_W-1:0] == wbq_rd_reg[WBQ_W-1:0]);
wire btag_full = (btag_wr_reg[BTAG_W] != btag_rd_reg[BTAG_W]) &&
                 (btag_wr_reg[BTAG_W-1:0] == btag_rd_reg[BTAG_W-1:0]);
wire [1:0] btag_head = btag_mem[btag_rd_reg[BTAG_W-1:0]];

// New frame parameters from the FIFO head and the cached descriptor
wire [63:0] nf_buf = cache_mem[cache_rd_reg];
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
wire start_wb = job_free && payload_done_reg != 0 && !btag_full;
wire start_burst = job_free && !start_wb && f_words_left_reg != 9'd0 && !btag_full;
wire start_frame = job_free && !start_wb && f_words_left_reg == 9'd0 && !btag_full &&
                   frame_waiting && cache_count_reg != 0 && !wbq_full;

// Burst sizing: at most 16 beats, not past the frame, not across 4 KiB
wire [63:0] b_addr = start_frame ? {nf_buf[63:3], 3'd0} : f_addr_reg;
wire [8:0] b_words = start_frame ? nf_words : f_words_left_reg;
wire [9:0] b_to_4k = 10'd512 - {1'b0, b_addr[11:3]};
wire [8:0] b_len_a = (b_words < 9'd16) ? b_words : 9'd16;
wire [8:0] b_len = ({1'b0, b_len_a} < b_to_4k) ? b_len_a : b_to_4k[8:0];
wire b_frame_last = b_words == b_len;

// Write-back of the oldest frame whose payload is complete
wire [63:0] wb_addr = rdba + {44'd0, wb_ptr_reg, 4'd8};
wire [15:0] wb_len = wbq_mem[wbq_rd_reg[WBQ_W-1:0]];

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
assign m_axi_awsize = 3'd3;
assign m_axi_awburst = 2'b01;
assign m_axi_awvalid = aw_pend_reg;
assign m_axi_wdata = job_wb_reg ? wb_data_reg : pay_data;
assign m_axi_wstrb = job_wb_reg ? 8'hFF : pay_strb;
assign m_axi_wlast = w_left_reg == 5'd1;
assign m_axi_wvalid = job_wb_reg ? (job_busy_reg && w_left_reg != 5'd0) : pay_wvalid;
assign m_axi_bready = 1'b1;
assign m_axi_araddr = ar_addr_reg;
assign m_axi_arlen = ar_len_reg;
assign m_axi_arsize = 3'd3;
assign m_axi_arburst = 2'b01;
assign m_axi_arvalid = ar_valid_reg;
assign m_axi_rready = 1'b1;

assign s_axis_tready = job_busy_reg && !job_wb_reg && w_left_reg != 5'd0 &&
                       !f_in_done_reg && m_axi_wready;

assign rdh = rdh_reg;
assign rx_wb_valid = wb_valid_reg;
assign rx_wb_slot = wb_slot_reg;
assign rxdmt0 = rxdmt0_reg;
assign rnbc = rnbc_reg;

// B response bookkeeping. Error responses (bresp/rresp) are not acted on: a
// host bus fault is reported by the bus model, and e1000 has no descriptor
// error bit for it, so the frame is still written back.
wire b_pop = m_axi_bvalid;
wire b_is_wb = b_pop && btag_head[1];
wire b_frame_done = b_pop && btag_head[0];
wire [15:0] rdh_next = ring_add(rdh_reg, 17'd1, ring_n);
wire [16:0] free_after = ring_dist(rdh_next, rdt, ring_n);
wire [16:0] rdmt_thresh = ring_n >> (rctl_rdmts + 2'd1);

always @(posedge clk) begin
    wb_valid_reg <= 1'b0;
    rxdmt0_reg <= 1'b0;
    rnbc_reg <= 1'b0;

    // Descriptor fetch
    if (fetch_start) begin
        ar_valid_reg <= 1'b1;
        ar_addr_reg <= fetch_addr;
        ar_len_reg <= {fetch_n[6:0], 1'b0} - 8'd1;
        fetch_ptr_reg <= ring_add(fetch_ptr_reg, fetch_n, ring_n);
    end else if (m_axi_arready) begin
        ar_valid_reg <= 1'b0;
    end
    if (m_axi_rvalid) begin
        r_odd_reg <= m_axi_rlast ? 1'b0 : !r_odd_reg;
    end
    if (desc_beat) begin
        cache_mem[cache_wr_reg] <= m_axi_rdata;
        cache_wr_reg <= cache_wr_reg + 1'b1;
    end
    inflight_reg <= inflight_reg + (fetch_start ? fetch_n[CACHE_W:0] : 0) - {{CACHE_W{1'b0}}, desc_beat};
    cache_count_reg <= cache_count_reg + {{CACHE_W{1'b0}}, desc_beat} - {{CACHE_W{1'b0}}, start_frame};

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
        // length @8, csum @10, status DD|EOP @12, errors @13, special @14
        wb_data_reg <= {16'd0, 8'd0, 8'h03, 16'd0, wb_len};
        wb_ptr_reg <= ring_add(wb_ptr_reg, 17'd1, ring_n);
        wbq_rd_reg <= wbq_rd_reg + 1'b1;
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
    if (start_wb || start_burst || start_frame) begin
        btag_mem[btag_wr_reg[BTAG_W-1:0]] <= {start_wb, !start_wb && b_frame_last};
        btag_wr_reg <= btag_wr_reg + 1'b1;
    end
    if (start_frame) begin
        f_j_reg <= 9'd0;
        f_last_j_reg <= nf_words - 9'd1;
        f_off_reg <= nf_off;
        f_end_strb_reg <= (nf_end == 3'd0) ? 8'hFF : ~(8'hFF << nf_end);
        f_in_done_reg <= 1'b0;
        prev_reg <= 64'd0;
        cache_rd_reg <= cache_rd_reg + 1'b1;
        use_ptr_reg <= ring_add(use_ptr_reg, 17'd1, ring_n);
        wbq_mem[wbq_wr_reg[WBQ_W-1:0]] <= s_frame_len;
        wbq_wr_reg <= wbq_wr_reg + 1'b1;
        rnbc_done_reg <= 1'b0;
    end else if (frame_waiting && no_desc && !rnbc_done_reg) begin
        rnbc_reg <= 1'b1;
        rnbc_done_reg <= 1'b1;
    end

    // Completions
    if (b_pop) begin
        btag_rd_reg <= btag_rd_reg + 1'b1;
    end
    payload_done_reg <= payload_done_reg + {{WBQ_W{1'b0}}, b_frame_done} - {{WBQ_W{1'b0}}, start_wb};
    if (b_is_wb) begin
        rdh_reg <= rdh_next;
        wb_valid_reg <= 1'b1;
        wb_slot_reg <= rdh_reg;
        rxdmt0_reg <= free_after == rdmt_thresh;
    end

    if (rdh_wr) begin
        rdh_reg <= rdh_wdata;
        use_ptr_reg <= rdh_wdata;
        fetch_ptr_reg <= rdh_wdata;
        wb_ptr_reg <= rdh_wdata;
        cache_wr_reg <= 0;
        cache_rd_reg <= 0;
        cache_count_reg <= 0;
        inflight_reg <= 0;
    end

    if (rst) begin
        rdh_reg <= 16'd0;
        use_ptr_reg <= 16'd0;
        fetch_ptr_reg <= 16'd0;
        wb_ptr_reg <= 16'd0;
        cache_wr_reg <= 0;
        cache_rd_reg <= 0;
        cache_count_reg <= 0;
        inflight_reg <= 0;
        r_odd_reg <= 1'b0;
        ar_valid_reg <= 1'b0;
        job_busy_reg <= 1'b0;
        aw_pend_reg <= 1'b0;
        w_left_reg <= 5'd0;
        f_words_left_reg <= 9'd0;
        f_in_done_reg <= 1'b1;
        wbq_wr_reg <= 0;
        wbq_rd_reg <= 0;
        payload_done_reg <= 0;
        btag_wr_reg <= 0;
        btag_rd_reg <= 0;
        rnbc_done_reg <= 1'b0;
        wb_valid_reg <= 1'b0;
        rxdmt0_reg <= 1'b0;
        rnbc_reg <= 1'b0;
    end
end

endmodule

`resetall
