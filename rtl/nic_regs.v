/*
 * AXI4-Lite register file of the NIC (e1000 legacy register map, see
 * rtl/README.md for the full table).
 *
 * One access per handshake: a write is taken when AW and W are both valid, a
 * read returns registered data in the cycle after AR. Read side effects (ICR
 * and statistics clear on read) happen when the read is taken. Byte strobes
 * are honoured on storage registers; the map is 32-bit, addr[1:0] is ignored.
 *
 * CTRL.RST starts a one-cycle soft reset (soft_rst) of the whole NIC, this
 * register file included; the AXI4-Lite handshake state is reset only by rst
 * so that the write that requested the reset still gets its response.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module nic_regs (
    input  wire        clk,
    input  wire        rst,

    /*
     * AXI4-Lite slave
     */
    input  wire [16:0] s_axil_awaddr,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [16:0] s_axil_araddr,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready,

    output wire        soft_rst,

    /*
     * Receive configuration
     */
    output wire        rctl_en,
    output wire        rctl_upe,
    output wire        rctl_mpe,
    output wire        rctl_bam,
    output wire [1:0]  rctl_rdmts,
    output wire [63:0] rdba,
    output wire [15:0] rx_ring_size,  // descriptors (RDLEN / 16)
    output wire [15:0] rdt,
    output wire        rdh_wr,
    input  wire [15:0] rdh,
    output wire [15:0] rlpml,
    output wire        rxcsum_ipofld,
    output wire        rxcsum_tuofld,
    output wire [47:0] mac_addr,
    output wire        mac_addr_valid,
    input  wire [11:0] mta_hash,
    output wire        mta_hit,

    /*
     * Transmit configuration
     */
    output wire        tctl_en,
    output wire        tctl_psp,
    output wire [63:0] tdba,
    output wire [19:0] tdlen,
    output wire [15:0] tdt,
    output wire        tdh_wr,
    input  wire [15:0] tdh,

    /*
     * Interrupt registers (nic_irq) and statistics (nic_stats)
     */
    output wire [31:0] reg_wdata,     // write data after byte strobes; RDH/TDH write value
    output wire        icr_rd,
    output wire        icr_wr,
    output wire        ics_wr,
    output wire        ims_wr,
    output wire        imc_wr,
    output wire [15:0] itr,
    output wire [15:0] rdtr,
    output wire [15:0] radv,
    input  wire [31:0] icr,
    input  wire [31:0] ims,
    output wire        stats_rd,
    output wire [16:0] stats_addr,
    input  wire [31:0] stats_data     // registered in nic_stats: valid the cycle after stats_rd
);

localparam [16:0]
    A_CTRL = 17'h00000,
    A_STATUS = 17'h00008,
    A_ICR = 17'h000C0,
    A_ITR = 17'h000C4,
    A_ICS = 17'h000C8,
    A_IMS = 17'h000D0,
    A_IMC = 17'h000D8,
    A_RCTL = 17'h00100,
    A_TCTL = 17'h00400,
    A_RDBAL = 17'h02800,
    A_RDBAH = 17'h02804,
    A_RDLEN = 17'h02808,
    A_RDH = 17'h02810,
    A_RDT = 17'h02818,
    A_RDTR = 17'h02820,
    A_RXDCTL = 17'h02828,
    A_RADV = 17'h0282C,
    A_TDBAL = 17'h03800,
    A_TDBAH = 17'h03804,
    A_TDLEN = 17'h03808,
    A_TDH = 17'h03810,
    A_TDT = 17'h03818,
    A_RXCSUM = 17'h05000,
    A_RLPML = 17'h05004,
    A_RAL0 = 17'h05400,
    A_RAH0 = 17'h05404;

// MTA[0..127] at 0x5200-0x53FC; statistics at 0x4000-0x4FFF
localparam [7:0] MTA_PAGE = 8'h29;   // addr[16:9]
localparam [4:0] STATS_PAGE = 5'h04; // addr[16:12]

localparam [31:0] CTRL_RST = 32'h04000000;
localparam [31:0] RCTL_SBP = 32'h00000004;
localparam [15:0] RLPML_DEFAULT = 16'd1518;
localparam [15:0] RLPML_MAX = 16'd2048;

// Handshake state (reset by rst only)
reg bvalid_reg = 1'b0;
reg rvalid_reg = 1'b0;
reg [31:0] rdata_reg = 32'd0;
reg rdata_stats_reg = 1'b0;      // the pending read data comes from nic_stats
reg soft_rst_reg = 1'b0;

// Registers (reset by rst or soft reset)
reg [31:0] ctrl_reg = 0;
reg [15:0] itr_reg = 0;
reg [31:0] rctl_reg = 0;
reg [31:0] tctl_reg = 0;
reg [27:0] rdbal_reg = 0;  // bits 31:4
reg [31:0] rdbah_reg = 0;
reg [12:0] rdlen_reg = 0;  // bits 19:7
reg [15:0] rdt_reg = 0;
reg [15:0] rdtr_reg = 0;
reg [31:0] rxdctl_reg = 0;
reg [15:0] radv_reg = 0;
reg [27:0] tdbal_reg = 0;
reg [31:0] tdbah_reg = 0;
reg [12:0] tdlen_reg = 0;
reg [15:0] tdt_reg = 0;
reg [15:0] rlpml_reg = RLPML_DEFAULT;
reg [9:0] rxcsum_reg = 0;  // b9 TUOFLD, b8 IPOFLD, b7:0 PCSS (stored)
reg [31:0] ral_reg = 0;
reg [15:0] rah_addr_reg = 0;
reg rah_av_reg = 1'b0;
reg [31:0] mta_mem [0:127];

wire wr = s_axil_awvalid && s_axil_wvalid && (!bvalid_reg || s_axil_bready);
wire rd = s_axil_arvalid && (!rvalid_reg || s_axil_rready);
wire [16:0] waddr = s_axil_awaddr & ~17'h3;
wire [16:0] raddr = s_axil_araddr & ~17'h3;
wire [31:0] byte_mask = {{8{s_axil_wstrb[3]}}, {8{s_axil_wstrb[2]}},
                         {8{s_axil_wstrb[1]}}, {8{s_axil_wstrb[0]}}};
wire [31:0] wdata = s_axil_wdata & byte_mask;
wire reg_rst = rst || soft_rst_reg;

// Storage register update honouring byte strobes (wdata is already masked)
function [31:0] merge(input [31:0] cur, input [31:0] new_bits, input [31:0] mask);
    begin
        merge = (cur & ~mask) | new_bits;
    end
endfunction

wire wr_mta = wr && waddr[16:9] == MTA_PAGE;
wire [6:0] wr_mta_idx = waddr[8:2];
wire [31:0] rlpml_new = merge({16'd0, rlpml_reg}, wdata, byte_mask);

assign s_axil_awready = wr;
assign s_axil_wready = wr;
assign s_axil_bresp = 2'b00;
assign s_axil_bvalid = bvalid_reg;
assign s_axil_arready = rd;
assign s_axil_rdata = rdata_stats_reg ? stats_data : rdata_reg;
assign s_axil_rresp = 2'b00;
assign s_axil_rvalid = rvalid_reg;

assign soft_rst = soft_rst_reg;

assign rctl_en = rctl_reg[1];
assign rctl_upe = rctl_reg[3];
assign rctl_mpe = rctl_reg[4];
assign rctl_rdmts = rctl_reg[9:8];
assign rctl_bam = rctl_reg[15];
assign rdba = {rdbah_reg, rdbal_reg, 4'd0};
assign rx_ring_size = {rdlen_reg, 3'd0};
assign rdt = rdt_reg;
assign rdh_wr = wr && waddr == A_RDH;
assign rlpml = rlpml_reg;
assign rxcsum_ipofld = rxcsum_reg[8];
assign rxcsum_tuofld = rxcsum_reg[9];
assign mac_addr = {rah_addr_reg, ral_reg};
assign mac_addr_valid = rah_av_reg;
assign mta_hit = mta_mem[mta_hash[11:5]][mta_hash[4:0]];

assign tctl_en = tctl_reg[1];
assign tctl_psp = tctl_reg[3];
assign tdba = {tdbah_reg, tdbal_reg, 4'd0};
assign tdlen = {tdlen_reg, 7'd0};
assign tdt = tdt_reg;
assign tdh_wr = wr && waddr == A_TDH;

assign reg_wdata = wdata;
assign icr_rd = rd && raddr == A_ICR;
assign icr_wr = wr && waddr == A_ICR;
assign ics_wr = wr && waddr == A_ICS;
assign ims_wr = wr && waddr == A_IMS;
assign imc_wr = wr && waddr == A_IMC;
assign itr = itr_reg;
assign rdtr = rdtr_reg;
assign radv = radv_reg;
assign stats_rd = rd && raddr[16:12] == STATS_PAGE;
assign stats_addr = raddr;

// Handshakes, soft reset request and read data
always @(posedge clk) begin
    soft_rst_reg <= wr && waddr == A_CTRL && (wdata & CTRL_RST) != 0;

    if (wr) begin
        bvalid_reg <= 1'b1;
    end else if (s_axil_bready) begin
        bvalid_reg <= 1'b0;
    end

    if (rd) begin
        rvalid_reg <= 1'b1;
        rdata_stats_reg <= stats_rd;
        if (raddr[16:9] == MTA_PAGE) begin
            rdata_reg <= mta_mem[raddr[8:2]];
        end else begin
            case (raddr)
                A_CTRL: rdata_reg <= ctrl_reg;
                A_STATUS: rdata_reg <= 32'h00000002; // LU
                A_ICR: rdata_reg <= icr;
                A_ITR: rdata_reg <= {16'd0, itr_reg};
                A_IMS: rdata_reg <= ims;
                A_RCTL: rdata_reg <= rctl_reg;
                A_TCTL: rdata_reg <= tctl_reg;
                A_RDBAL: rdata_reg <= {rdbal_reg, 4'd0};
                A_RDBAH: rdata_reg <= rdbah_reg;
                A_RDLEN: rdata_reg <= {12'd0, rdlen_reg, 7'd0};
                A_RDH: rdata_reg <= {16'd0, rdh};
                A_RDT: rdata_reg <= {16'd0, rdt_reg};
                A_RDTR: rdata_reg <= {16'd0, rdtr_reg};
                A_RXDCTL: rdata_reg <= rxdctl_reg;
                A_RADV: rdata_reg <= {16'd0, radv_reg};
                A_TDBAL: rdata_reg <= {tdbal_reg, 4'd0};
                A_TDBAH: rdata_reg <= tdbah_reg;
                A_TDLEN: rdata_reg <= {12'd0, tdlen_reg, 7'd0};
                A_TDH: rdata_reg <= {16'd0, tdh};
                A_TDT: rdata_reg <= {16'd0, tdt_reg};
                A_RXCSUM: rdata_reg <= {22'd0, rxcsum_reg};
                A_RLPML: rdata_reg <= {16'd0, rlpml_reg};
                A_RAL0: rdata_reg <= ral_reg;
                A_RAH0: rdata_reg <= {rah_av_reg, 15'd0, rah_addr_reg};
                default: rdata_reg <= 32'd0;
            endcase
        end
    end else if (s_axil_rready) begin
        rvalid_reg <= 1'b0;
    end

    if (rst) begin
        bvalid_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        rdata_stats_reg <= 1'b0;
        soft_rst_reg <= 1'b0;
    end
end

// Register writes
always @(posedge clk) begin
    if (wr) begin
        case (waddr)
            A_CTRL: ctrl_reg <= merge(ctrl_reg, wdata, byte_mask) & ~CTRL_RST;
            A_ITR: itr_reg <= (itr_reg & ~byte_mask[15:0]) | wdata[15:0];
            A_RCTL: rctl_reg <= merge(rctl_reg, wdata, byte_mask) & ~RCTL_SBP;
            A_TCTL: tctl_reg <= merge(tctl_reg, wdata, byte_mask);
            A_RDBAL: rdbal_reg <= (rdbal_reg & ~byte_mask[31:4]) | wdata[31:4];
            A_RDBAH: rdbah_reg <= merge(rdbah_reg, wdata, byte_mask);
            A_RDLEN: rdlen_reg <= (rdlen_reg & ~byte_mask[19:7]) | wdata[19:7];
            A_RDT: rdt_reg <= (rdt_reg & ~byte_mask[15:0]) | wdata[15:0];
            A_RDTR: rdtr_reg <= (rdtr_reg & ~byte_mask[15:0]) | wdata[15:0];
            A_RXDCTL: rxdctl_reg <= merge(rxdctl_reg, wdata, byte_mask);
            A_RADV: radv_reg <= (radv_reg & ~byte_mask[15:0]) | wdata[15:0];
            A_TDBAL: tdbal_reg <= (tdbal_reg & ~byte_mask[31:4]) | wdata[31:4];
            A_TDBAH: tdbah_reg <= merge(tdbah_reg, wdata, byte_mask);
            A_TDLEN: tdlen_reg <= (tdlen_reg & ~byte_mask[19:7]) | wdata[19:7];
            A_TDT: tdt_reg <= (tdt_reg & ~byte_mask[15:0]) | wdata[15:0];
            A_RXCSUM: rxcsum_reg <= (rxcsum_reg & ~byte_mask[9:0]) | wdata[9:0];
            A_RLPML: rlpml_reg <= (rlpml_new > {16'd0, RLPML_MAX}) ? RLPML_MAX : rlpml_new[15:0];
            A_RAL0: ral_reg <= merge(ral_reg, wdata, byte_mask);
            A_RAH0: begin
                rah_addr_reg <= (rah_addr_reg & ~byte_mask[15:0]) | wdata[15:0];
                if (s_axil_wstrb[3]) begin
                    rah_av_reg <= s_axil_wdata[31];
                end
            end
            default: ;
        endcase
    end
    if (wr_mta) begin
        mta_mem[wr_mta_idx] <= merge(mta_mem[wr_mta_idx], wdata, byte_mask);
    end

    if (reg_rst) begin
        ctrl_reg <= 0;
        itr_reg <= 0;
        rctl_reg <= 0;
        tctl_reg <= 0;
        rdbal_reg <= 0;
        rdbah_reg <= 0;
        rdlen_reg <= 0;
        rdt_reg <= 0;
        rdtr_reg <= 0;
        rxdctl_reg <= 0;
        radv_reg <= 0;
        tdbal_reg <= 0;
        tdbah_reg <= 0;
        tdlen_reg <= 0;
        tdt_reg <= 0;
        rlpml_reg <= RLPML_DEFAULT;
        rxcsum_reg <= 0;
        ral_reg <= 0;
        rah_addr_reg <= 0;
        rah_av_reg <= 1'b0;
    end
end

endmodule

`resetall
