/*
 * e1000 statistics counters: 32-bit, saturating, clear on read. The 64-bit
 * octet counters clear when their low half is read; that read also latches
 * the high half, which the following read of the high register returns
 * (read L then H, as the e1000 manual asks).
 *
 * Frame outcomes follow the rx_evt codes of nic_rx_events.vh. FLTC (destination
 * filter drops) and TXERRC (TX frames dropped on a DMA error) are nicsim
 * extensions, so that every drop is counted.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module nic_stats (
    input  wire        clk,
    input  wire        rst,

    /*
     * Events
     */
    input  wire        rx_evt_valid,
    input  wire [2:0]  rx_evt_code,
    input  wire        rx_evt_bcast,
    input  wire        rx_evt_mcast,
    input  wire [15:0] rx_evt_bytes,
    input  wire        rnbc,
    input  wire        tx_frame,
    input  wire [15:0] tx_bytes,
    input  wire        tx_err,        // a TX frame was dropped on a DMA error

    /*
     * Register read (rd_en: the read is taken, clear what was read;
     * rd_data holds the value from the cycle after rd_en)
     */
    input  wire        rd_en,
    input  wire [16:0] rd_addr,
    output wire [31:0] rd_data
);

localparam [16:0]
    A_CRCERRS = 17'h04000,
    A_RXERRC = 17'h0400C,
    A_MPC = 17'h04010,
    A_GPRC = 17'h04074,
    A_BPRC = 17'h04078,
    A_MPRC = 17'h0407C,
    A_GPTC = 17'h04080,
    A_GORCL = 17'h04088,
    A_GORCH = 17'h0408C,
    A_GOTCL = 17'h04090,
    A_GOTCH = 17'h04094,
    A_RNBC = 17'h040A0,
    A_RUC = 17'h040A4,
    A_ROC = 17'h040AC,
    A_TPR = 17'h040D0,
    A_TPT = 17'h040D4,
    A_FLTC = 17'h04F00,
    A_TXERRC = 17'h04F04;

// rx_evt codes
`include "nic_rx_events.vh"

reg [31:0] crcerrs_reg = 0, rxerrc_reg = 0, mpc_reg = 0, gprc_reg = 0, bprc_reg = 0,
           mprc_reg = 0, gptc_reg = 0, rnbc_reg = 0, ruc_reg = 0, roc_reg = 0,
           tpr_reg = 0, tpt_reg = 0, fltc_reg = 0, txerrc_reg = 0;
reg [63:0] gorc_reg = 0, gotc_reg = 0;
reg [31:0] gorch_latch_reg = 0, gotch_latch_reg = 0;
reg [31:0] rd_data_reg = 0;

// Value after a possible clear-on-read and a possible increment
function [31:0] count(input [31:0] cur, input clr, input inc);
    reg [31:0] base;
    begin
        base = clr ? 32'd0 : cur;
        count = (inc && base != 32'hFFFFFFFF) ? base + 32'd1 : base;
    end
endfunction

wire rx_good = rx_evt_valid && rx_evt_code == RX_EVT_ACCEPT;

assign rd_data = rd_data_reg;

always @(posedge clk) begin
    if (rd_en) begin
        case (rd_addr)
            A_CRCERRS: rd_data_reg <= crcerrs_reg;
            A_RXERRC: rd_data_reg <= rxerrc_reg;
            A_MPC: rd_data_reg <= mpc_reg;
            A_GPRC: rd_data_reg <= gprc_reg;
            A_BPRC: rd_data_reg <= bprc_reg;
            A_MPRC: rd_data_reg <= mprc_reg;
            A_GPTC: rd_data_reg <= gptc_reg;
            A_GORCL: rd_data_reg <= gorc_reg[31:0];
            A_GORCH: rd_data_reg <= gorch_latch_reg;
            A_GOTCL: rd_data_reg <= gotc_reg[31:0];
            A_GOTCH: rd_data_reg <= gotch_latch_reg;
            A_RNBC: rd_data_reg <= rnbc_reg;
            A_RUC: rd_data_reg <= ruc_reg;
            A_ROC: rd_data_reg <= roc_reg;
            A_TPR: rd_data_reg <= tpr_reg;
            A_TPT: rd_data_reg <= tpt_reg;
            A_FLTC: rd_data_reg <= fltc_reg;
            A_TXERRC: rd_data_reg <= txerrc_reg;
            default: rd_data_reg <= 32'd0;
        endcase
    end
end

// Counters change only on an event or a read
always @(posedge clk) begin
    if (rx_evt_valid || rnbc || tx_frame || tx_err || rd_en) begin
        crcerrs_reg <= count(crcerrs_reg, rd_en && rd_addr == A_CRCERRS, rx_evt_valid && rx_evt_code == RX_EVT_CRC);
        rxerrc_reg <= count(rxerrc_reg, rd_en && rd_addr == A_RXERRC, rx_evt_valid && rx_evt_code == RX_EVT_PHY_ERR);
        mpc_reg <= count(mpc_reg, rd_en && rd_addr == A_MPC, rx_evt_valid && rx_evt_code == RX_EVT_FIFO_FULL);
        gprc_reg <= count(gprc_reg, rd_en && rd_addr == A_GPRC, rx_good);
        bprc_reg <= count(bprc_reg, rd_en && rd_addr == A_BPRC, rx_good && rx_evt_bcast);
        mprc_reg <= count(mprc_reg, rd_en && rd_addr == A_MPRC, rx_good && rx_evt_mcast);
        gptc_reg <= count(gptc_reg, rd_en && rd_addr == A_GPTC, tx_frame);
        rnbc_reg <= count(rnbc_reg, rd_en && rd_addr == A_RNBC, rnbc);
        ruc_reg <= count(ruc_reg, rd_en && rd_addr == A_RUC, rx_evt_valid && rx_evt_code == RX_EVT_RUNT);
        roc_reg <= count(roc_reg, rd_en && rd_addr == A_ROC, rx_evt_valid && rx_evt_code == RX_EVT_OVERSIZE);
        tpr_reg <= count(tpr_reg, rd_en && rd_addr == A_TPR, rx_evt_valid);
        tpt_reg <= count(tpt_reg, rd_en && rd_addr == A_TPT, tx_frame);
        fltc_reg <= count(fltc_reg, rd_en && rd_addr == A_FLTC, rx_evt_valid && rx_evt_code == RX_EVT_FILTER);
        txerrc_reg <= count(txerrc_reg, rd_en && rd_addr == A_TXERRC, tx_err);

        gorc_reg <= ((rd_en && rd_addr == A_GORCL) ? 64'd0 : gorc_reg) +
                    (rx_good ? {48'd0, rx_evt_bytes} : 64'd0);
        gotc_reg <= ((rd_en && rd_addr == A_GOTCL) ? 64'd0 : gotc_reg) +
                    (tx_frame ? {48'd0, tx_bytes} : 64'd0);
        if (rd_en && rd_addr == A_GORCL) begin
            gorch_latch_reg <= gorc_reg[63:32];
        end
        if (rd_en && rd_addr == A_GOTCL) begin
            gotch_latch_reg <= gotc_reg[63:32];
        end
    end

    if (rst) begin
        crcerrs_reg <= 0;
        rxerrc_reg <= 0;
        mpc_reg <= 0;
        gprc_reg <= 0;
        bprc_reg <= 0;
        mprc_reg <= 0;
        gptc_reg <= 0;
        rnbc_reg <= 0;
        ruc_reg <= 0;
        roc_reg <= 0;
        tpr_reg <= 0;
        tpt_reg <= 0;
        fltc_reg <= 0;
        txerrc_reg <= 0;
        gorc_reg <= 0;
        gotc_reg <= 0;
        gorch_latch_reg <= 0;
        gotch_latch_reg <= 0;
    end
end

endmodule

`resetall
