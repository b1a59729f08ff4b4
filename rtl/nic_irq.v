/*
 * Interrupt cause/mask registers and interrupt moderation of the e1000:
 * ICR (read clears, write-1-clears), ICS, IMS/IMC, the receive delay timers
 * RDTR (packet timer, restarted by every received frame) and RADV (absolute
 * timer, started by the first frame) that delay RXT0, and ITR, the minimum
 * interval between interrupt assertions.
 *
 * Cause bits: TXDW 0, TXQE 1, LSC 2, RXDMT0 4, RXO 6, RXT0 7.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module nic_irq #
(
    // Clock cycles per ITR unit (256 ns at 6.4 ns per cycle)
    parameter ITR_UNIT_CYCLES = 40,
    // Clock cycles per RDTR/RADV unit (1.024 us at 6.4 ns per cycle)
    parameter RX_TIMER_UNIT_CYCLES = 160
)
(
    input  wire        clk,
    input  wire        rst,

    /*
     * Cause events (one-cycle pulses)
     */
    input  wire        txdw,
    input  wire        txqe,
    input  wire        rxdmt0,
    input  wire        rxo,
    input  wire        rx_wb,         // a receive descriptor was written back

    /*
     * Register access (from nic_regs)
     */
    input  wire [31:0] reg_wdata,
    input  wire        icr_rd,        // ICR read: clear it
    input  wire        icr_wr,        // write 1s to clear
    input  wire        ics_wr,
    input  wire        ims_wr,
    input  wire        imc_wr,
    input  wire [15:0] itr,
    input  wire [15:0] rdtr,
    input  wire [15:0] radv,
    output wire [31:0] icr,
    output wire [31:0] ims,

    output wire        irq
);

// Elaboration-time checks: the unit counts are sliced to 16 bits when a timer is loaded, so a larger
// or zero unit would silently truncate (a zero unit turns every delay off).
initial begin
    if (ITR_UNIT_CYCLES < 1 || ITR_UNIT_CYCLES > 65535) begin
        $error("nic_irq: ITR_UNIT_CYCLES must be in 1..65535 (instance %m)");
        $finish;
    end
    if (RX_TIMER_UNIT_CYCLES < 1 || RX_TIMER_UNIT_CYCLES > 65535) begin
        $error("nic_irq: RX_TIMER_UNIT_CYCLES must be in 1..65535 (instance %m)");
        $finish;
    end
end

localparam [31:0] CAUSE_MASK = 32'h000000D7;

reg [31:0] icr_reg = 32'd0;
reg [31:0] ims_reg = 32'd0;
reg [31:0] pkt_timer_reg = 32'd0;  // 0 = stopped
reg [31:0] abs_timer_reg = 32'd0;  // 0 = stopped
reg [31:0] itr_timer_reg = 32'd0;  // cycles until the next assertion is allowed
reg irq_reg = 1'b0;

wire timer_fire = pkt_timer_reg == 32'd1 || abs_timer_reg == 32'd1;
wire rxt0_now = (rx_wb && rdtr == 16'd0) || timer_fire;

wire [31:0] set = {24'd0, rxt0_now, rxo, 1'b0, rxdmt0, 2'b00, txqe, txdw} |
                  (ics_wr ? (reg_wdata & CAUSE_MASK) : 32'd0);
wire [31:0] clear = icr_rd ? 32'hFFFFFFFF : (icr_wr ? reg_wdata : 32'd0);
wire [31:0] icr_next = (icr_reg & ~clear) | set;
wire [31:0] ims_next = imc_wr ? (ims_reg & ~reg_wdata) :
                       (ims_wr ? (ims_reg | (reg_wdata & CAUSE_MASK)) : ims_reg);
wire pending = |(icr_next & ims_next);

assign icr = icr_reg;
assign ims = ims_reg;
assign irq = irq_reg;

always @(posedge clk) begin
    icr_reg <= icr_next;
    ims_reg <= ims_next;

    // Receive delay timers: RXT0 fires when either expires, which stops both
    if (timer_fire || (rx_wb && rdtr == 16'd0)) begin
        pkt_timer_reg <= 32'd0;
        abs_timer_reg <= 32'd0;
    end else begin
        if (rx_wb) begin
            pkt_timer_reg <= rdtr * RX_TIMER_UNIT_CYCLES[15:0];
        end else if (pkt_timer_reg != 32'd0) begin
            pkt_timer_reg <= pkt_timer_reg - 32'd1;
        end
        if (rx_wb && abs_timer_reg == 32'd0) begin
            abs_timer_reg <= radv * RX_TIMER_UNIT_CYCLES[15:0];
        end else if (abs_timer_reg != 32'd0) begin
            abs_timer_reg <= abs_timer_reg - 32'd1;
        end
    end

    // ITR: the line may rise only once the interval since the last rise is over
    irq_reg <= pending && (irq_reg || itr_timer_reg == 32'd0);
    if (pending && !irq_reg && itr_timer_reg == 32'd0) begin
        itr_timer_reg <= itr * ITR_UNIT_CYCLES[15:0];
    end else if (itr_timer_reg != 32'd0) begin
        itr_timer_reg <= itr_timer_reg - 32'd1;
    end

    if (rst) begin
        icr_reg <= 32'd0;
        ims_reg <= 32'd0;
        pkt_timer_reg <= 32'd0;
        abs_timer_reg <= 32'd0;
        itr_timer_reg <= 32'd0;
        irq_reg <= 1'b0;
    end
end

endmodule

`resetall
