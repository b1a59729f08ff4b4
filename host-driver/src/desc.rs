//! Legacy e1000 receive and transmit descriptors (Intel 8254x SDM §3.2.3, §3.3.3): 16 bytes,
//! little-endian, laid out with `zerocopy` so the driver and the bus model read the same bytes.

use zerocopy::little_endian::{U16, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Size of every descriptor in bytes.
pub const DESC_SIZE: usize = 16;

/// RX status: descriptor done (written back by the NIC).
pub const RXD_STAT_DD: u8 = 1 << 0;
/// RX status: end of packet (always set: one 2048-B buffer per frame).
pub const RXD_STAT_EOP: u8 = 1 << 1;
/// RX status: ignore checksum indication (IPCS/TCPCS not meaningful: the frame was not checked).
pub const RXD_STAT_IXSM: u8 = 1 << 2;
/// RX status: TCP/UDP checksum calculated (pass/fail in TCPE).
pub const RXD_STAT_TCPCS: u8 = 1 << 5;
/// RX status: IPv4 header checksum calculated (pass/fail in IPE).
pub const RXD_STAT_IPCS: u8 = 1 << 6;
/// RX errors that make the frame unusable (`E1000_RXD_ERR_FRAME_ERR_MASK`: CE, SE, SEQ, CXE,
/// RXE); the checksum errors below are not among them.
pub const RXD_ERR_FRAME_ERR_MASK: u8 = 0x97;
/// RX error: TCP/UDP checksum error.
pub const RXD_ERR_TCPE: u8 = 1 << 5;
/// RX error: IPv4 header checksum error.
pub const RXD_ERR_IPE: u8 = 1 << 6;

/// TX command: end of packet.
pub const TXD_CMD_EOP: u8 = 1 << 0;
/// TX command: insert FCS.
pub const TXD_CMD_IFCS: u8 = 1 << 1;
/// TX command: report status (write DD back).
pub const TXD_CMD_RS: u8 = 1 << 3;
/// TX status: descriptor done.
pub const TXD_STAT_DD: u8 = 1 << 0;

/// Legacy receive descriptor.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct RxDesc {
    /// Buffer physical address.
    pub addr: U64,
    /// Bytes written into the buffer (FCS stripped).
    pub length: U16,
    pub csum: U16,
    /// DD, EOP.
    pub status: u8,
    pub errors: u8,
    pub special: U16,
}

/// Legacy transmit descriptor.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct TxDesc {
    /// Buffer physical address.
    pub addr: U64,
    /// Bytes in this buffer.
    pub length: U16,
    pub cso: u8,
    /// EOP, IFCS, RS.
    pub cmd: u8,
    /// DD.
    pub status: u8,
    pub css: u8,
    pub special: U16,
}

impl RxDesc {
    /// A descriptor handed to the NIC: buffer address, status cleared.
    pub fn for_buffer(addr: u64) -> RxDesc {
        RxDesc {
            addr: U64::new(addr),
            ..RxDesc::default()
        }
    }
}

impl TxDesc {
    pub fn new(addr: u64, length: u16, cmd: u8) -> TxDesc {
        TxDesc {
            addr: U64::new(addr),
            length: U16::new(length),
            cmd,
            ..TxDesc::default()
        }
    }
}

const _: () = assert!(size_of::<RxDesc>() == DESC_SIZE && size_of::<TxDesc>() == DESC_SIZE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_layout_matches_the_contract() {
        let d = RxDesc {
            addr: U64::new(0x1122_3344_5566_7788),
            length: U16::new(0x05DC),
            csum: U16::new(0xABCD),
            status: RXD_STAT_DD | RXD_STAT_EOP,
            errors: 0x80,
            special: U16::new(0x0102),
        };
        assert_eq!(
            d.as_bytes(),
            &[
                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xDC, 0x05, 0xCD, 0xAB, 0x03, 0x80,
                0x02, 0x01
            ]
        );
        assert_eq!(RxDesc::read_from_bytes(d.as_bytes()), Ok(d));
    }

    #[test]
    fn tx_layout_matches_the_contract() {
        let mut d = TxDesc::new(0x1000, 60, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS);
        d.status = TXD_STAT_DD;
        assert_eq!(
            d.as_bytes(),
            &[0x00, 0x10, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0x0B, 0x01, 0, 0, 0]
        );
    }
}
