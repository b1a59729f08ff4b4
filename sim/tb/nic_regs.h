// nic_top's register offsets and bits, the one copy for every C++ testbench (rtl/README.md "Register
// map"; nic_selfcheck checks each offset below against that table, and the rx_evt codes against
// rtl/nic_rx_events.vh).
#pragma once

#include <cstdint>

namespace nic {

// Register offsets (rtl/README.md "Register map"): the one list, as an X-macro so that nic_selfcheck can
// compare every entry with the README table.
#define NIC_REGS(X) \
    X(CTRL, 0x0000) \
    X(STATUS, 0x0008) \
    X(ICR, 0x00C0) \
    X(ITR, 0x00C4) \
    X(ICS, 0x00C8) \
    X(IMS, 0x00D0) \
    X(IMC, 0x00D8) \
    X(RCTL, 0x0100) \
    X(TCTL, 0x0400) \
    X(TDBAL, 0x3800) \
    X(TDBAH, 0x3804) \
    X(TDLEN, 0x3808) \
    X(TDT, 0x3818) \
    X(GPTC, 0x4080) \
    X(RDBAL, 0x2800) \
    X(RDBAH, 0x2804) \
    X(RDLEN, 0x2808) \
    X(RDH, 0x2810) \
    X(RDT, 0x2818) \
    X(RDTR, 0x2820) \
    X(RADV, 0x282C) \
    X(RXCSUM, 0x5000) \
    X(RLPML, 0x5004) \
    X(MTA, 0x5200) \
    X(RAL0, 0x5400) \
    X(RAH0, 0x5404) \
    X(CRCERRS, 0x4000) \
    X(RXERRC, 0x400C) \
    X(MPC, 0x4010) \
    X(GPRC, 0x4074) \
    X(BPRC, 0x4078) \
    X(MPRC, 0x407C) \
    X(GORCL, 0x4088) \
    X(GORCH, 0x408C) \
    X(RNBC, 0x40A0) \
    X(RUC, 0x40A4) \
    X(ROC, 0x40AC) \
    X(TPR, 0x40D0) \
    X(FLTC, 0x4F00)

enum Reg : uint32_t {
#define NIC_REG_ENUM(name, off) name = off,
    NIC_REGS(NIC_REG_ENUM)
#undef NIC_REG_ENUM
};

constexpr uint32_t RXCSUM_IPOFLD = 1u << 8, RXCSUM_TUOFLD = 1u << 9;
constexpr uint8_t RXD_STAT_IXSM = 1u << 2, RXD_STAT_TCPCS = 1u << 5, RXD_STAT_IPCS = 1u << 6;
constexpr uint8_t RXD_ERR_TCPE = 1u << 5, RXD_ERR_IPE = 1u << 6;
constexpr uint32_t RCTL_EN = 1u << 1, RCTL_MPE = 1u << 4, RCTL_BAM = 1u << 15;
constexpr uint32_t ICR_RXDMT0 = 1u << 4, ICR_RXO = 1u << 6, ICR_RXT0 = 1u << 7;
constexpr uint32_t CTRL_RST = 1u << 26;
constexpr uint32_t TCTL_EN = 1u << 1, TCTL_PSP = 1u << 3;
constexpr uint8_t TXD_CMD_EOP = 1u << 0, TXD_CMD_IFCS = 1u << 1, TXD_CMD_RS = 1u << 3;

// rx_evt codes: the values of rtl/nic_rx_events.vh (checked by nic_selfcheck).
enum EvtCode {
    EVT_ACCEPT = 0, EVT_CRC = 1, EVT_RUNT = 2, EVT_OVERSIZE = 3, EVT_FILTER = 4, EVT_FIFO_FULL = 5, EVT_PHY_ERR = 6,
};

}  // namespace nic
