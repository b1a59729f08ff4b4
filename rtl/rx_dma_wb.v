/*
 * RX descriptor write-back and head pointer: orders completions after the
 * B responses and advances RDH (e1000 legacy RX write-back, RXDMT0).
 *
 * Every write job (payload burst or write-back) pushes a B tag when it starts;
 * B responses come back in order and pop them. A frame's write-back is offered
 * to the write engine (rx_dma_payload) only once the B of its last payload
 * burst is in, and RDH advances, rx_wb_valid pulses and RXDMT0 is judged only
 * at the write-back's own B. The write-back beat is the upper half of the
 * legacy descriptor (8254x SDM, legacy receive descriptor: length @8, csum @10,
 * status DD|EOP @12, errors @13, special @14).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module rx_dma_wb #
(
    // Frames between payload issue and descriptor write-back (power of two, at least 2)
    parameter WBQ_DEPTH = 64,
    // Write bursts awaiting their B response (power of two, at least 2)
    parameter BTAG_DEPTH = 128
)
(
    input  wire        clk,
    input  wire        rst,

    input  wire [1:0]  rctl_rdmts,
    input  wire [63:0] rdba,
    input  wire [15:0] ring_size,
    input  wire [15:0] rdt,
    input  wire        rdh_wr,
    input  wire [15:0] rdh_wdata,
    output wire [15:0] rdh,

    /*
     * From the write engine
     */
    input  wire        frame_start,   // a frame took a descriptor: queue its length
    input  wire [15:0] frame_len,
    input  wire [15:0] frame_sts,     // checksum {errors, status} bits (rx_csum)
    input  wire        job_start,     // a write job started: push its B tag
    input  wire        job_wb,        // ... the write-back (consumes wb_req)
    input  wire        job_frame_last,// ... the last payload burst of a frame
    output wire        wbq_full,
    output wire        btag_full,

    /*
     * Write-back offered to the write engine
     */
    output wire        wb_req,
    output wire [63:0] wb_addr,
    output wire [63:0] wb_data,

    /*
     * B responses (in order; bresp is not acted on: e1000 has no RX
     * descriptor error bit for a host bus fault)
     */
    input  wire        m_axi_bvalid,

    output wire        rx_wb_valid,
    output wire [15:0] rx_wb_slot,
    output wire        rxdmt0
);

localparam WBQ_W = $clog2(WBQ_DEPTH);

initial begin
    if (WBQ_DEPTH < 2 || (WBQ_DEPTH & (WBQ_DEPTH - 1)) != 0) begin
        $error("rx_dma_wb: WBQ_DEPTH must be a power of two, at least 2 (instance %m)");
        $finish;
    end
    if (BTAG_DEPTH < 2 || (BTAG_DEPTH & (BTAG_DEPTH - 1)) != 0) begin
        $error("rx_dma_wb: BTAG_DEPTH must be a power of two, at least 2 (instance %m)");
        $finish;
    end
end

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

wire [16:0] ring_n = {1'b0, ring_size};

reg [15:0] rdh_reg = 16'd0;         // next descriptor to be written back (completion side)
reg [15:0] wb_ptr_reg = 16'd0;      // next descriptor to be written back (issue side)
reg [WBQ_W:0] payload_done_reg = 0; // frames whose payload B responses are all in

reg wb_valid_reg = 1'b0;
reg [15:0] wb_slot_reg = 16'd0;
reg rxdmt0_reg = 1'b0;

wire [15:0] wb_len;
wire [15:0] wb_sts;
wire [1:0] btag_head;               // {write-back, last payload burst of a frame}

// Lengths and checksum bits of the frames awaiting write-back, in FIFO order
reg_fifo #(
    .WIDTH(32),
    .DEPTH(WBQ_DEPTH)
)
wbq_inst (
    .clk(clk),
    .rst(rst),
    .s_data({frame_sts, frame_len}),
    .s_push(frame_start),
    .s_full(wbq_full),
    .m_data({wb_sts, wb_len}),
    /* verilator lint_off PINCONNECTEMPTY */
    .m_valid(),
    .count(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_pop(job_start && job_wb)
);

// B tags, one per write job
reg_fifo #(
    .WIDTH(2),
    .DEPTH(BTAG_DEPTH)
)
btag_inst (
    .clk(clk),
    .rst(rst),
    .s_data({job_wb, !job_wb && job_frame_last}),
    .s_push(job_start),
    .s_full(btag_full),
    .m_data(btag_head),
    /* verilator lint_off PINCONNECTEMPTY */
    .m_valid(),
    .count(),
    /* verilator lint_on PINCONNECTEMPTY */
    .m_pop(m_axi_bvalid)
);

wire start_wb = job_start && job_wb;
wire b_is_wb = m_axi_bvalid && btag_head[1];
wire b_frame_done = m_axi_bvalid && btag_head[0];
wire [15:0] rdh_next = ring_add(rdh_reg, 17'd1, ring_n);
wire [16:0] free_after = ring_dist(rdh_next, rdt, ring_n);
wire [16:0] rdmt_thresh = ring_n >> (rctl_rdmts + 2'd1);

assign wb_req = payload_done_reg != 0;
assign wb_addr = rdba + {44'd0, wb_ptr_reg, 4'd8};
// length @8, csum @10 (0), status DD|EOP with IXSM/TCPCS/IPCS @12, errors TCPE/IPE @13, special @14
assign wb_data = {16'd0, wb_sts | 16'h0003, 16'd0, wb_len};

assign rdh = rdh_reg;
assign rx_wb_valid = wb_valid_reg;
assign rx_wb_slot = wb_slot_reg;
assign rxdmt0 = rxdmt0_reg;

always @(posedge clk) begin
    wb_valid_reg <= 1'b0;
    rxdmt0_reg <= 1'b0;

    if (start_wb) begin
        wb_ptr_reg <= ring_add(wb_ptr_reg, 17'd1, ring_n);
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
        wb_ptr_reg <= rdh_wdata;
    end

    if (rst) begin
        rdh_reg <= 16'd0;
        wb_ptr_reg <= 16'd0;
        payload_done_reg <= 0;
        wb_valid_reg <= 1'b0;
        rxdmt0_reg <= 1'b0;
    end
end

endmodule

`resetall
