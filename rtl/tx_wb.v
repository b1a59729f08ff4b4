/*
 * TX descriptor write-back and head pointer: the e1000 transmit descriptor
 * completion (DD write-back, TDH, TXDW and TXQE causes).
 *
 * Finished descriptors arrive in ring order; an entry may be processed once a
 * later-or-same entry has released it (the frame's data is fully read). For a
 * descriptor with RS the status byte (offset 12) is written with DD set by a
 * single-beat write whose strobe selects only that byte, so the driver's
 * fields are left alone. Several write-backs may be outstanding; completions
 * retire in order, and each one advances TDH past its descriptor. A
 * write-back completes only with its B response: then txdw_pulse and the
 * wb probe fire (or err_pulse, if the write failed). txqe_pulse fires when TDH
 * reaches TDT.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tx_wb #
(
    // Finished descriptors waiting for write-back; a power of two, at least
    // the most descriptors of one frame
    parameter QUEUE_DEPTH = 32,
    // Write-backs in flight; a power of two
    parameter WB_DEPTH = 8
)
(
    input  wire         clk,
    input  wire         rst,

    /*
     * Ring configuration
     */
    input  wire [63:4]  ring_base,   // TDBA, 16-byte aligned
    input  wire [15:0]  ring_size,   // descriptors (TDLEN / 16)
    input  wire [15:0]  tdt,
    input  wire         tdh_wr,
    input  wire [15:0]  tdh_wdata,
    output wire [15:0]  tdh,

    /*
     * Finished descriptors (from tx_rd_resp)
     */
    input  wire [15:0]  s_idx,
    input  wire         s_rs,
    input  wire         s_release,
    input  wire         s_push,
    output wire         s_full,

    /*
     * AXI write channels
     */
    output wire [63:0]  m_axi_awaddr,
    output wire         m_axi_awvalid,
    input  wire         m_axi_awready,
    output wire [63:0]  m_axi_wdata,
    output wire [7:0]   m_axi_wstrb,
    output wire         m_axi_wvalid,
    input  wire         m_axi_wready,
    input  wire [1:0]   m_axi_bresp,
    input  wire         m_axi_bvalid,
    output wire         m_axi_bready,

    /*
     * Completion
     */
    input  wire         hold,          // do not retire this cycle (err_pulse is taken)
    output wire         txdw_pulse,
    output wire         txqe_pulse,
    output wire         err_pulse,     // a write-back got an error response
    output wire         wb_valid,
    output wire [15:0]  wb_slot
);

localparam QUEUE_AW = $clog2(QUEUE_DEPTH);

/*
 * Finished descriptors, and how many of them release the ones before
 */
wire [15:0] q_idx;
wire q_rs;
wire q_release;
wire q_valid;
wire q_pop;
reg [QUEUE_AW:0] released_reg = 0;

reg_fifo #(
    .WIDTH(18),
    .DEPTH(QUEUE_DEPTH)
)
queue_inst (
    .clk(clk),
    .rst(rst),
    .s_data({s_idx, s_rs, s_release}),
    .s_push(s_push),
    .s_full(s_full),
    .m_data({q_idx, q_rs, q_release}),
    .m_valid(q_valid),
    .m_pop(q_pop),
    /* verilator lint_off PINCONNECTEMPTY */
    .count()
    /* verilator lint_on PINCONNECTEMPTY */
);

/*
 * Descriptors in completion order, with whether a B response is awaited
 */
wire [15:0] c_idx;
wire c_wb;
wire c_valid;
wire c_pop;
wire c_full;

reg_fifo #(
    .WIDTH(17),
    .DEPTH(WB_DEPTH)
)
completion_inst (
    .clk(clk),
    .rst(rst),
    .s_data({q_idx, q_rs}),
    .s_push(q_pop),
    .s_full(c_full),
    .m_data({c_idx, c_wb}),
    .m_valid(c_valid),
    .m_pop(c_pop),
    /* verilator lint_off PINCONNECTEMPTY */
    .count()
    /* verilator lint_on PINCONNECTEMPTY */
);

reg [63:0] awaddr_reg = 64'd0;
reg awvalid_reg = 1'b0;
reg wvalid_reg = 1'b0;

reg [15:0] tdh_reg = 16'd0;
reg txdw_reg = 1'b0;
reg txqe_reg = 1'b0;
reg err_reg = 1'b0;
reg wb_valid_reg = 1'b0;
reg [15:0] wb_slot_reg = 16'd0;

assign m_axi_awaddr = awaddr_reg;
assign m_axi_awvalid = awvalid_reg;
// DD (status bit 0) is byte 4 of the descriptor's upper qword
assign m_axi_wdata = 64'h0000_0001_0000_0000;
assign m_axi_wstrb = 8'b0001_0000;
assign m_axi_wvalid = wvalid_reg;

assign tdh = tdh_reg;
assign txdw_pulse = txdw_reg;
assign txqe_pulse = txqe_reg;
assign err_pulse = err_reg;
assign wb_valid = wb_valid_reg;
assign wb_slot = wb_slot_reg;

wire write_free = (!awvalid_reg || m_axi_awready) && (!wvalid_reg || m_axi_wready);
assign q_pop = q_valid && released_reg != 0 && !c_full && (!q_rs || write_free);

assign m_axi_bready = c_valid && c_wb && !hold;
assign c_pop = c_valid && !hold && (!c_wb || m_axi_bvalid);

wire [15:0] c_next = c_idx + 16'd1;
wire [15:0] tdh_next = (c_next == ring_size) ? 16'd0 : c_next;
wire [63:0] wb_addr = {ring_base + {44'd0, q_idx}, 4'b1000};

always @(posedge clk) begin
    released_reg <= released_reg
        + {{QUEUE_AW{1'b0}}, s_push && !s_full && s_release}
        - {{QUEUE_AW{1'b0}}, q_pop && q_release};

    if (awvalid_reg && m_axi_awready) begin
        awvalid_reg <= 1'b0;
    end
    if (wvalid_reg && m_axi_wready) begin
        wvalid_reg <= 1'b0;
    end
    if (q_pop && q_rs) begin
        awaddr_reg <= wb_addr;
        awvalid_reg <= 1'b1;
        wvalid_reg <= 1'b1;
    end

    txdw_reg <= 1'b0;
    txqe_reg <= 1'b0;
    err_reg <= 1'b0;
    wb_valid_reg <= 1'b0;
    if (c_pop) begin
        tdh_reg <= tdh_next;
        txqe_reg <= tdh_next == tdt;
        if (c_wb) begin
            if (m_axi_bresp == 2'b00) begin
                txdw_reg <= 1'b1;
                wb_valid_reg <= 1'b1;
                wb_slot_reg <= c_idx;
            end else begin
                err_reg <= 1'b1;
            end
        end
    end

    if (tdh_wr) begin
        tdh_reg <= tdh_wdata;
    end

    if (rst) begin
        released_reg <= 0;
        awvalid_reg <= 1'b0;
        wvalid_reg <= 1'b0;
        tdh_reg <= 16'd0;
        txdw_reg <= 1'b0;
        txqe_reg <= 1'b0;
        err_reg <= 1'b0;
        wb_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
