// rx_evt codes: the outcome of each received frame (rtl/README.md "Frame outcome"), the one table,
// included inside every module that uses them (rx_mac, nic_stats, nic_top). Machine-readable: each
// code is one line `localparam [2:0] RX_EVT_<NAME> = <decimal>;  // <meaning>`.
/* verilator lint_off UNUSEDPARAM */
localparam [2:0] RX_EVT_ACCEPT = 0;     // committed to the RX FIFO (GPRC, GORC, BPRC/MPRC)
localparam [2:0] RX_EVT_CRC = 1;        // FCS wrong (CRCERRS)
localparam [2:0] RX_EVT_RUNT = 2;       // shorter than MIN_FRAME_LENGTH incl. FCS (RUC)
localparam [2:0] RX_EVT_OVERSIZE = 3;   // longer than RLPML incl. FCS (ROC)
localparam [2:0] RX_EVT_FILTER = 4;     // destination not accepted, or RCTL.EN = 0 (FLTC)
localparam [2:0] RX_EVT_FIFO_FULL = 5;  // RX FIFO ran out of space (MPC, cause RXO)
localparam [2:0] RX_EVT_PHY_ERR = 6;    // s_axis_rx_tuser on any beat (RXERRC)
/* verilator lint_on UNUSEDPARAM */
