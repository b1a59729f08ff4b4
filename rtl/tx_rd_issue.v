/*
 * TX DMA read issue: the e1000 transmit descriptor prefetch and data fetch
 * request side.
 *
 * Between the fetch pointer and TDT it reads descriptors in bursts (up to
 * 8 descriptors = 16 beats, never past the ring end or a 4 KiB boundary) into
 * a descriptor cache. For the cache head it issues aligned INCR bursts that
 * cover the buffer (any byte alignment; <= 16 beats; never crossing 4 KiB).
 * Every request pushes a tag that tells tx_rd_resp, in order, what the
 * matching R beats are. Descriptors that move no data (zero length, a failed
 * descriptor read, the rest of a frame being dropped) push a marker tag with no
 * AXI request, so their completion stays in ring order.
 *
 * Nothing is requested that cannot be absorbed: descriptor fetches reserve
 * cache entries, data bursts reserve TX FIFO words (one per beat; packing never
 * produces more words than beats), and a new frame is started only while a
 * frame-length slot is free. The R channel therefore never waits on a full
 * buffer.
 *
 * Frames are dropped whole (marker with drop) when their descriptors add up to
 * more than MAX_FRAME_BYTES (they could never be complete in the FIFO) or when
 * they span more than MAX_FRAME_DESCS descriptors (the write-back queue must
 * hold a frame's descriptors until its end).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_rd_issue #
(
    // Descriptor cache entries; a power of two, at least 16
    parameter DESC_DEPTH = 16,
    // Longest frame (data bytes) that is fetched; must fit in the TX FIFO
    parameter MAX_FRAME_BYTES = 16368,
    // Most descriptors in one frame
    parameter MAX_FRAME_DESCS = 32,
    // Width of the TX FIFO free-word count
    parameter FIFO_COUNT_WIDTH = 12,
    // Width of the free frame-length slot count
    parameter LEN_COUNT_WIDTH = 6
)
(
    input  wire                         clk,
    input  wire                         rst,

    /*
     * Ring configuration
     */
    input  wire                         tctl_en,
    input  wire [63:4]                  ring_base,   // TDBA, 16-byte aligned
    input  wire [15:0]                  ring_size,   // descriptors (TDLEN / 16)
    input  wire [15:0]                  tdt,
    input  wire                         tdh_wr,
    input  wire [15:0]                  tdh_wdata,

    /*
     * AXI read address channel
     */
    output wire [63:0]                  m_axi_araddr,
    output wire [7:0]                   m_axi_arlen,
    output wire                         m_axi_arvalid,
    input  wire                         m_axi_arready,

    /*
     * Tags, in request order (to tx_rd_resp)
     */
    output wire                         tag_desc,    // descriptor fetch
    output wire                         tag_data,    // buffer data (neither: marker)
    output wire [15:0]                  tag_idx,
    output wire [2:0]                   tag_first_off,
    output wire [3:0]                   tag_last_end,
    output wire                         tag_dlast,
    output wire                         tag_eop,
    output wire                         tag_rs,
    output wire                         tag_drop,
    output wire [66:0]                  tag_csum,    // data: {POPTS TXSM/IXSM, TUCMD.TCP, context}
    output wire                         tag_push,
    input  wire                         tag_full,

    /*
     * Fetched descriptors (from tx_rd_resp)
     */
    input  wire [63:0]                  s_desc_addr,
    input  wire [15:0]                  s_desc_len,
    input  wire                         s_desc_eop,
    input  wire                         s_desc_rs,
    input  wire                         s_desc_err,
    input  wire                         s_desc_ctx,  // context descriptor (addr = its first qword)
    input  wire                         s_desc_tcp,  // context: TUCMD.TCP
    input  wire [1:0]                   s_desc_popts,// data descriptor: POPTS {TXSM, IXSM}
    input  wire [15:0]                  s_desc_idx,
    input  wire                         s_desc_push,

    /*
     * Credits
     */
    input  wire [FIFO_COUNT_WIDTH-1:0]  fifo_free_words,
    input  wire [LEN_COUNT_WIDTH-1:0]   fifo_len_free,
    input  wire                         data_beat,   // a data beat arrived
    input  wire                         frame_end    // a frame was committed or dropped
);

// Parameter checks: values that would truncate a count or wrap a queue wrongly
initial begin
    if (DESC_DEPTH < 16 || (DESC_DEPTH & (DESC_DEPTH - 1)) != 0) begin
        $error("tx_rd_issue: DESC_DEPTH must be a power of two, at least 16 (instance %m)");
        $finish;
    end
    if (MAX_FRAME_BYTES < 1 || MAX_FRAME_BYTES > 65535) begin
        $error("tx_rd_issue: MAX_FRAME_BYTES must be 1..65535 (instance %m)");
        $finish;
    end
    if (MAX_FRAME_DESCS < 2) begin
        $error("tx_rd_issue: MAX_FRAME_DESCS must be at least 2 (instance %m)");
        $finish;
    end
    if (FIFO_COUNT_WIDTH < 5 || LEN_COUNT_WIDTH < 2) begin
        $error("tx_rd_issue: FIFO_COUNT_WIDTH must be at least 5, LEN_COUNT_WIDTH at least 2 (instance %m)");
        $finish;
    end
end

localparam DESC_AW = $clog2(DESC_DEPTH);
localparam DESC_W = 64 + 16 + 1 + 1 + 1 + 1 + 1 + 2 + 16;
localparam FRAME_DESC_W = $clog2(MAX_FRAME_DESCS) + 1;
localparam [16:0] MAX_FRAME = MAX_FRAME_BYTES[16:0];
localparam [FRAME_DESC_W-1:0] LAST_FRAME_DESC = MAX_FRAME_DESCS - 1;

/*
 * Descriptor cache
 */
wire [DESC_W-1:0] head;
wire head_valid;
wire head_pop;

reg_fifo #(
    .WIDTH(DESC_W),
    .DEPTH(DESC_DEPTH)
)
desc_cache_inst (
    .clk(clk),
    .rst(rst),
    .s_data({s_desc_addr, s_desc_len, s_desc_eop, s_desc_rs, s_desc_err, s_desc_ctx, s_desc_tcp,
             s_desc_popts, s_desc_idx}),
    .s_push(s_desc_push),
    // Never full: a fetch is issued only with cache entries reserved
    /* verilator lint_off PINCONNECTEMPTY */
    .s_full(),
    .count(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_data(head),
    .m_valid(head_valid),
    .m_pop(head_pop)
);

wire [63:0] d_addr;
wire [15:0] d_len;
wire d_eop;
wire d_rs;
wire d_err;
wire d_ctx;
wire d_tcp;
wire [1:0] d_popts;
wire [15:0] d_idx;
assign {d_addr, d_len, d_eop, d_rs, d_err, d_ctx, d_tcp, d_popts, d_idx} = head;

// The offload context (8254x SDM, TCP/IP context descriptor): taken up in ring order, so it applies
// to the data descriptors behind it until the next context.
reg [64:0] ctx_reg = 65'd0;        // {TUCMD.TCP, IPCSS/IPCSO/IPCSE/TUCSS/TUCSO/TUCSE}

/*
 * State
 */
reg [15:0] fetch_idx_reg = 16'd0;
reg [DESC_AW:0] desc_reserved_reg = 0;              // cached + in flight
reg [FIFO_COUNT_WIDTH-1:0] out_beats_reg = 0;       // data beats requested, not yet arrived
reg [LEN_COUNT_WIDTH-1:0] open_frames_reg = 0;      // started, not yet committed or dropped

reg in_frame_reg = 1'b0;
reg discard_reg = 1'b0;
reg [16:0] frame_bytes_reg = 17'd0;
reg [FRAME_DESC_W-1:0] frame_descs_reg = 0;

reg started_reg = 1'b0;                             // head descriptor partly requested
reg [63:0] cur_addr_reg = 64'd0;
reg [15:0] cur_rem_reg = 16'd0;

reg [63:0] araddr_reg = 64'd0;
reg [7:0] arlen_reg = 8'd0;
reg arvalid_reg = 1'b0;

assign m_axi_araddr = araddr_reg;
assign m_axi_arlen = arlen_reg;
assign m_axi_arvalid = arvalid_reg;

wire ar_free = !arvalid_reg || m_axi_arready;

/*
 * Descriptor prefetch
 */
wire ring_ok = tctl_en && ring_size != 16'd0 && tdt < ring_size && fetch_idx_reg < ring_size;
wire [63:0] fetch_addr = {ring_base + {44'd0, fetch_idx_reg}, 4'b0000};
wire [3:0] fetch_n;

desc_fetch_len #(
    .MAX_DESCS(8)
)
fetch_len_inst (
    .ptr(fetch_idx_reg),
    .tail(tdt),
    .ring_size(ring_size),
    .addr_desc(fetch_addr[11:4]),
    .n(fetch_n)
);
wire [DESC_AW:0] desc_room = DESC_DEPTH[DESC_AW:0] - desc_reserved_reg;
wire [15:0] fetch_idx_next = fetch_idx_reg + {12'd0, fetch_n};

wire [DESC_AW:0] fetch_n_ext = {{(DESC_AW-3){1'b0}}, fetch_n};

wire fetch_go = ring_ok && fetch_idx_reg != tdt && desc_room >= fetch_n_ext
    && ar_free && !tag_full;

/*
 * Head descriptor: what it needs
 */
wire first = !started_reg;
wire [16:0] frame_bytes_next = frame_bytes_reg + {1'b0, d_len};
wire mark_drop = d_err || discard_reg || frame_bytes_next > MAX_FRAME
    || (frame_descs_reg == LAST_FRAME_DESC && !d_eop);
wire is_marker = first && (mark_drop || d_len == 16'd0);
// A descriptor that could not be read ends its frame: its EOP bit is unknown.
wire eop = d_eop || d_err;
wire frame_ok = !first || in_frame_reg || open_frames_reg < fifo_len_free;

// Data burst for the head
wire [63:0] b_addr = first ? d_addr : cur_addr_reg;
wire [15:0] b_rem = first ? d_len : cur_rem_reg;
wire [2:0] b_off = b_addr[2:0];
wire [16:0] b_span = {14'd0, b_off} + {1'b0, b_rem};          // bytes from the aligned start
wire [13:0] b_beats_needed = b_span[16:3] + {13'd0, b_span[2:0] != 3'd0};
wire [9:0] b_beats_4k = 10'd512 - {1'b0, b_addr[11:3]};
wire [4:0] b_beats_max = (b_beats_4k < 10'd16) ? b_beats_4k[4:0] : 5'd16;
wire b_covers_end = b_beats_needed <= {9'd0, b_beats_max};
wire [4:0] b_beats = b_covers_end ? b_beats_needed[4:0] : b_beats_max;
wire [15:0] b_consumed = b_covers_end ? b_rem : {8'd0, b_beats, 3'b000} - {13'd0, b_off};
wire [2:0] b_end_m1 = b_off + b_rem[2:0] - 3'd1;
wire [3:0] b_last_end = b_covers_end ? {1'b0, b_end_m1} + 4'd1 : 4'd8;

wire [FIFO_COUNT_WIDTH:0] b_need_words = {1'b0, out_beats_reg} + {{(FIFO_COUNT_WIDTH-4){1'b0}}, b_beats};
wire fifo_ok = b_need_words <= {1'b0, fifo_free_words};

wire head_ready = head_valid && !fetch_go && frame_ok && !tag_full;
wire data_go = head_ready && !is_marker && ar_free && fifo_ok;
wire mark_go = head_ready && is_marker;

assign head_pop = mark_go || (data_go && b_covers_end);

/*
 * Tags
 */
assign tag_desc = fetch_go;
assign tag_data = data_go;
assign tag_idx = fetch_go ? fetch_idx_reg : d_idx;
assign tag_first_off = b_off;
assign tag_last_end = b_last_end;
assign tag_dlast = b_covers_end;
assign tag_eop = eop;
assign tag_rs = d_rs && !d_err;
assign tag_drop = mark_drop;
assign tag_csum = {d_popts, ctx_reg};
assign tag_push = fetch_go || data_go || mark_go;

always @(posedge clk) begin
    if (arvalid_reg && m_axi_arready) begin
        arvalid_reg <= 1'b0;
    end

    desc_reserved_reg <= desc_reserved_reg
        + (fetch_go ? fetch_n_ext : {(DESC_AW+1){1'b0}})
        - {{DESC_AW{1'b0}}, head_pop};
    out_beats_reg <= out_beats_reg
        + (data_go ? {{(FIFO_COUNT_WIDTH-5){1'b0}}, b_beats} : {FIFO_COUNT_WIDTH{1'b0}})
        - {{(FIFO_COUNT_WIDTH-1){1'b0}}, data_beat};
    open_frames_reg <= open_frames_reg
        + {{(LEN_COUNT_WIDTH-1){1'b0}}, (data_go || mark_go) && first && !in_frame_reg}
        - {{(LEN_COUNT_WIDTH-1){1'b0}}, frame_end};

    if (fetch_go) begin
        araddr_reg <= fetch_addr;
        arlen_reg <= {3'd0, fetch_n - 4'd1, 1'b1};  // 2 beats per descriptor, minus one
        arvalid_reg <= 1'b1;
        fetch_idx_reg <= (fetch_idx_next == ring_size) ? 16'd0 : fetch_idx_next;
    end

    if (data_go) begin
        araddr_reg <= {b_addr[63:3], 3'b000};
        arlen_reg <= {3'd0, b_beats - 5'd1};
        arvalid_reg <= 1'b1;
        started_reg <= !b_covers_end;
        cur_addr_reg <= b_addr + {48'd0, b_consumed};
        cur_rem_reg <= b_rem - b_consumed;
    end

    // Frame bookkeeping when a descriptor is first taken up ...
    if ((data_go || mark_go) && first) begin
        in_frame_reg <= 1'b1;
        frame_bytes_reg <= frame_bytes_next;
        frame_descs_reg <= frame_descs_reg + 1'b1;
        if (mark_drop) begin
            discard_reg <= 1'b1;
        end
    end
    // ... and when the frame's last descriptor is done.
    if (head_pop && eop) begin
        in_frame_reg <= 1'b0;
        discard_reg <= 1'b0;
        frame_bytes_reg <= 17'd0;
        frame_descs_reg <= 0;
    end

    if (mark_go && d_ctx && !d_err) begin
        ctx_reg <= {d_tcp, d_addr};
    end

    if (tdh_wr) begin
        fetch_idx_reg <= tdh_wdata;
    end

    if (rst) begin
        fetch_idx_reg <= 16'd0;
        desc_reserved_reg <= 0;
        out_beats_reg <= 0;
        open_frames_reg <= 0;
        in_frame_reg <= 1'b0;
        discard_reg <= 1'b0;
        frame_bytes_reg <= 17'd0;
        frame_descs_reg <= 0;
        started_reg <= 1'b0;
        arvalid_reg <= 1'b0;
        ctx_reg <= 65'd0;
    end
end

endmodule

`resetall
