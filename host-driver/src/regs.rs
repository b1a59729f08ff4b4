//! The NIC's register map: e1000 legacy offsets and bits (Intel 8254x SDM §13), as nicsim implements
//! them. This is the single Rust source of truth; the simulator checks [`REGISTERS`] against the RTL.

/// How software may access a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    ReadWrite,
    ReadOnly,
    WriteOnly,
    /// Read clears (ICR and the statistics counters).
    ReadClear,
}

/// One named register of the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Register {
    pub name: &'static str,
    pub offset: u32,
    pub access: Access,
}

/// Declares each register offset as a constant and lists all of them in [`REGISTERS`].
macro_rules! register_map {
    ($( $(#[$m:meta])* $name:ident = $off:literal, $acc:ident; )*) => {
        $( $(#[$m])* pub const $name: u32 = $off; )*

        /// Every single register of the map (the MTA array is [`MTA`] .. [`MTA`] + 4 × [`MTA_LEN`]).
        pub const REGISTERS: &[Register] = &[
            $( Register { name: stringify!($name), offset: $off, access: Access::$acc }, )*
        ];
    };
}

register_map! {
    /// Device control.
    CTRL = 0x0000, ReadWrite;
    /// Device status.
    STATUS = 0x0008, ReadOnly;
    /// Interrupt cause read; reading clears it.
    ICR = 0x00C0, ReadClear;
    /// Interrupt throttling: minimum interval between interrupts, 256 ns units (0 = off).
    ITR = 0x00C4, ReadWrite;
    /// Interrupt cause set.
    ICS = 0x00C8, WriteOnly;
    /// Interrupt mask set (write 1s); reads return the mask.
    IMS = 0x00D0, ReadWrite;
    /// Interrupt mask clear (write 1s).
    IMC = 0x00D8, WriteOnly;
    /// Receive control.
    RCTL = 0x0100, ReadWrite;
    /// Transmit control.
    TCTL = 0x0400, ReadWrite;
    /// RX descriptor ring base, low 32 bits (16-byte aligned).
    RDBAL = 0x2800, ReadWrite;
    /// RX descriptor ring base, high 32 bits.
    RDBAH = 0x2804, ReadWrite;
    /// RX ring length in bytes (multiple of 128).
    RDLEN = 0x2808, ReadWrite;
    /// RX head (NIC-owned).
    RDH = 0x2810, ReadWrite;
    /// RX tail (driver-owned).
    RDT = 0x2818, ReadWrite;
    /// RX packet delay timer, 1.024 µs units.
    RDTR = 0x2820, ReadWrite;
    /// RX descriptor control (unused bits; the RXDMT0 threshold is RCTL.RDMTS).
    RXDCTL = 0x2828, ReadWrite;
    /// RX absolute delay timer, 1.024 µs units.
    RADV = 0x282C, ReadWrite;
    /// TX descriptor ring base, low 32 bits.
    TDBAL = 0x3800, ReadWrite;
    /// TX descriptor ring base, high 32 bits.
    TDBAH = 0x3804, ReadWrite;
    /// TX ring length in bytes (multiple of 128).
    TDLEN = 0x3808, ReadWrite;
    /// TX head (NIC-owned).
    TDH = 0x3810, ReadWrite;
    /// TX tail (driver-owned): the doorbell.
    TDT = 0x3818, ReadWrite;
    /// CRC error count.
    CRCERRS = 0x4000, ReadClear;
    /// PHY (`tuser`) error count.
    RXERRC = 0x400C, ReadClear;
    /// Missed packets: no room in the RX FIFO.
    MPC = 0x4010, ReadClear;
    /// Good packets received.
    GPRC = 0x4074, ReadClear;
    /// Broadcast packets received.
    BPRC = 0x4078, ReadClear;
    /// Multicast packets received.
    MPRC = 0x407C, ReadClear;
    /// Good packets transmitted.
    GPTC = 0x4080, ReadClear;
    /// Good octets received, low (read before high).
    GORCL = 0x4088, ReadClear;
    /// Good octets received, high.
    GORCH = 0x408C, ReadClear;
    /// Good octets transmitted, low (read before high).
    GOTCL = 0x4090, ReadClear;
    /// Good octets transmitted, high.
    GOTCH = 0x4094, ReadClear;
    /// Receive no buffers: a frame waited in the FIFO for a descriptor (once per frame).
    RNBC = 0x40A0, ReadClear;
    /// Receive undersize (runt).
    RUC = 0x40A4, ReadClear;
    /// Receive oversize.
    ROC = 0x40AC, ReadClear;
    /// Total packets received on the wire (every outcome).
    TPR = 0x40D0, ReadClear;
    /// Total packets transmitted.
    TPT = 0x40D4, ReadClear;
    /// nicsim extension: frames dropped by the destination address filter.
    FLTC = 0x4F00, ReadClear;
    /// Receive checksum control (8254x SDM, RXCSUM): b8 IPOFLD, b9 TUOFLD, b7:0 PCSS (stored).
    RXCSUM = 0x5000, ReadWrite;
    /// Maximum accepted frame length incl. FCS (default 1518, clamped to 2048).
    RLPML = 0x5004, ReadWrite;
    /// Receive address low, entry 0.
    RAL0 = 0x5400, ReadWrite;
    /// Receive address high, entry 0 (bit 31 AV).
    RAH0 = 0x5404, ReadWrite;
}

/// One statistics counter as `ethtool -S` shows it (`e1000_gstrings_stats` in
/// drivers/net/ethernet/intel/e1000/e1000_ethtool.c): a 32-bit register, or a 64-bit low/high pair
/// read low first (`e1000_update_stats` reads GORCL before GORCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatCounter {
    /// Register name as reports and `expect: nic_stats` use it; a pair drops its L/H suffix.
    pub name: &'static str,
    /// The counter's `ethtool -S` name.
    pub ethtool: &'static str,
    pub offset: u32,
    /// The high half of a 64-bit pair.
    pub high: Option<u32>,
}

const fn stat(name: &'static str, ethtool: &'static str, offset: u32) -> StatCounter {
    StatCounter {
        name,
        ethtool,
        offset,
        high: None,
    }
}

const fn pair(name: &'static str, ethtool: &'static str, low: u32, high: u32) -> StatCounter {
    StatCounter {
        high: Some(high),
        ..stat(name, ethtool, low)
    }
}

/// The statistics block: every read-clear counter from 0x4000 on, pairs joined, the one place their
/// report and `ethtool -S` names live.
pub const STATISTICS: &[StatCounter] = &[
    stat("CRCERRS", "rx_crc_errors", CRCERRS),
    stat("RXERRC", "rx_errors", RXERRC),
    stat("MPC", "rx_missed_errors", MPC),
    stat("GPRC", "rx_packets", GPRC),
    stat("BPRC", "rx_broadcast", BPRC),
    stat("MPRC", "multicast", MPRC),
    stat("GPTC", "tx_packets", GPTC),
    pair("GORC", "rx_bytes", GORCL, GORCH),
    pair("GOTC", "tx_bytes", GOTCL, GOTCH),
    stat("RNBC", "rx_no_buffer_count", RNBC),
    stat("RUC", "rx_short_length_errors", RUC),
    stat("ROC", "rx_long_length_errors", ROC),
    stat("TPR", "rx_total_packets", TPR),
    stat("TPT", "tx_total_packets", TPT),
    stat("FLTC", "rx_filtered", FLTC),
];

/// The statistics counter named `name` (`GPRC`, `GORC`, ...).
pub fn statistic(name: &str) -> Option<&'static StatCounter> {
    STATISTICS.iter().find(|s| s.name == name)
}

/// Multicast table array base; [`MTA_LEN`] 32-bit entries, read/write.
pub const MTA: u32 = 0x5200;
/// Entries in the multicast table array (4096 hash bits).
pub const MTA_LEN: u32 = 128;

/// Offset of multicast table entry `i` (`i < MTA_LEN`).
pub const fn mta(i: u32) -> u32 {
    MTA + 4 * i
}

// CTRL
/// Soft reset; self-clearing.
pub const CTRL_RST: u32 = 1 << 26;

// STATUS
/// Link up (always 1 in nicsim).
pub const STATUS_LU: u32 = 1 << 1;

// Interrupt causes: the same bit positions in ICR, ICS, IMS and IMC.
/// TX descriptor written back.
pub const ICR_TXDW: u32 = 1 << 0;
/// TX queue empty.
pub const ICR_TXQE: u32 = 1 << 1;
/// Link status change.
pub const ICR_LSC: u32 = 1 << 2;
/// RX sequence error (e1000: /C/ ordered sets on a SerDes link). This NIC never raises it and its IMS has
/// no bit for it (the mask reads 0xD7), but e1000's `IMS_ENABLE_MASK` includes it.
pub const ICR_RXSEQ: u32 = 1 << 3;
/// RX descriptor minimum threshold reached (RCTL.RDMTS).
pub const ICR_RXDMT0: u32 = 1 << 4;
/// Receiver overrun (frame missed: FIFO full).
pub const ICR_RXO: u32 = 1 << 6;
/// Receiver timer: a frame was written back (after RDTR/RADV delay).
pub const ICR_RXT0: u32 = 1 << 7;
/// Every cause bit the NIC implements; written to IMC to mask everything.
pub const ICR_ALL: u32 = ICR_TXDW | ICR_TXQE | ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0;

// RCTL
/// Receiver enable.
pub const RCTL_EN: u32 = 1 << 1;
/// Store bad packets (unused, keep 0).
pub const RCTL_SBP: u32 = 1 << 2;
/// Unicast promiscuous.
pub const RCTL_UPE: u32 = 1 << 3;
/// Multicast promiscuous.
pub const RCTL_MPE: u32 = 1 << 4;
/// RDMTS field shift (bits 9:8): RXDMT0 fires when free descriptors drop to this fraction of the ring.
pub const RCTL_RDMTS_SHIFT: u32 = 8;
/// RDMTS = 1/2 of the ring.
pub const RCTL_RDMTS_HALF: u32 = 0 << RCTL_RDMTS_SHIFT;
/// RDMTS = 1/4 of the ring.
pub const RCTL_RDMTS_QUARTER: u32 = 1 << RCTL_RDMTS_SHIFT;
/// RDMTS = 1/8 of the ring.
pub const RCTL_RDMTS_EIGHTH: u32 = 2 << RCTL_RDMTS_SHIFT;
/// Broadcast accept mode.
pub const RCTL_BAM: u32 = 1 << 15;

/// Receive buffer size every RX descriptor points at (RCTL.BSIZE fixed at 2048).
pub const RX_BUFFER_SIZE: usize = 2048;

// TCTL
/// Transmitter enable.
pub const TCTL_EN: u32 = 1 << 1;
/// Pad short packets to 60 B before the FCS.
pub const TCTL_PSP: u32 = 1 << 3;

// RXCSUM
/// IPv4 header checksum offload enable.
pub const RXCSUM_IPOFLD: u32 = 1 << 8;
/// TCP/UDP checksum offload enable (e1000's `E1000_RXCSUM_TUOFL`).
pub const RXCSUM_TUOFLD: u32 = 1 << 9;

// RAH
/// Address valid.
pub const RAH_AV: u32 = 1 << 31;

/// Default and maximum RLPML.
pub const RLPML_DEFAULT: u32 = 1518;
pub const RLPML_MAX: u32 = 2048;

/// TX interrupt delay (e1000 TIDV) and TX absolute interrupt delay (TADV), 1.024 µs units. Outside the
/// register map on purpose: this NIC has no TX delay timers, so it acknowledges and ignores writes to
/// them (e1000 writes them in `e1000_configure_tx`).
pub const TIDV: u32 = 0x3820;
pub const TADV: u32 = 0x382C;

/// ITR counts in 256 ns units.
pub const ITR_UNIT_NS: u64 = 256;
/// RDTR and RADV count in 1.024 µs units.
pub const RX_DELAY_UNIT_NS: u64 = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_cover_every_read_clear_counter_once() {
        let mut covered: Vec<u32> = STATISTICS
            .iter()
            .flat_map(|s| std::iter::once(s.offset).chain(s.high))
            .collect();
        covered.sort_unstable();
        let mut counters: Vec<u32> = REGISTERS
            .iter()
            .filter(|r| r.access == Access::ReadClear && r.offset >= 0x4000)
            .map(|r| r.offset)
            .collect();
        counters.sort_unstable();
        assert_eq!(covered, counters);
        for s in STATISTICS {
            let reg = |o: u32| REGISTERS.iter().find(|r| r.offset == o).unwrap().name;
            match s.high {
                Some(h) => {
                    assert_eq!(reg(s.offset), format!("{}L", s.name));
                    assert_eq!(reg(h), format!("{}H", s.name));
                }
                None => assert_eq!(reg(s.offset), s.name),
            }
        }
    }

    #[test]
    fn offsets_are_unique_aligned_and_inside_the_bar() {
        let mut offs: Vec<u32> = REGISTERS.iter().map(|r| r.offset).collect();
        offs.extend((0..MTA_LEN).map(mta));
        let n = offs.len();
        offs.sort_unstable();
        offs.dedup();
        assert_eq!(offs.len(), n, "two registers share an offset");
        assert!(offs.iter().all(|o| o % 4 == 0 && *o < 0x2_0000));
        assert_eq!(mta(MTA_LEN - 1), 0x53FC);
    }
}
