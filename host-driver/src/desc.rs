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
/// TX command: extended descriptor (TCP/IP context or data descriptor, SDM §3.3.5–3.3.7).
pub const TXD_CMD_DEXT: u8 = 1 << 5;
/// Context TUCMD: the packet is TCP (else UDP).
pub const TXD_CMD_TCP: u8 = 1 << 0;
/// Context TUCMD: the packet is IPv4 (TSO rewrites the IPv4 total length, id and checksum).
pub const TXD_CMD_IP: u8 = 1 << 1;
/// Context TUCMD and data DCMD: TCP segmentation enable (SDM §3.3.6, §3.3.7).
pub const TXD_CMD_TSE: u8 = 1 << 2;
/// DTYP (bits 23:20, the high nibble of byte 10): TCP/IP context descriptor.
pub const TXD_DTYP_CONTEXT: u8 = 0x0 << 4;
/// DTYP: TCP/IP data descriptor.
pub const TXD_DTYP_DATA: u8 = 0x1 << 4;
/// Data POPTS (byte 13): insert the IP header checksum.
pub const TXD_POPTS_IXSM: u8 = 1 << 0;
/// Data POPTS: insert the TCP/UDP checksum.
pub const TXD_POPTS_TXSM: u8 = 1 << 1;

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

/// The checksum fields of a TCP/IP context descriptor: byte offsets in the frame where each sum
/// starts (CSS), where its result goes (CSO) and its last byte (CSE, inclusive; 0 = the frame's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChecksumContext {
    pub ipcss: u8,
    pub ipcso: u8,
    pub ipcse: u16,
    pub tucss: u8,
    pub tucso: u8,
    pub tucse: u16,
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

    /// TCP/IP context descriptor (SDM §3.3.6): the checksum fields in the first qword, TUCMD (DEXT
    /// added) in byte 11; no buffer.
    pub fn context(c: ChecksumContext, tucmd: u8) -> TxDesc {
        let [e0, e1] = c.ipcse.to_le_bytes();
        let [t0, t1] = c.tucse.to_le_bytes();
        TxDesc {
            addr: U64::new(u64::from_le_bytes([
                c.ipcss, c.ipcso, e0, e1, c.tucss, c.tucso, t0, t1,
            ])),
            cso: TXD_DTYP_CONTEXT,
            cmd: tucmd | TXD_CMD_DEXT,
            ..TxDesc::default()
        }
    }

    /// TCP/IP context descriptor for TCP segmentation (SDM §3.3.6, TUCMD.TSE): as [`Self::context`],
    /// plus PAYLEN (bytes after the header, b19:0 of the second qword), HDRLEN (byte 13) and MSS
    /// (bytes 14–15), the fields `e1000_tso` writes.
    pub fn tso_context(c: ChecksumContext, tucmd: u8, paylen: u32, hdrlen: u8, mss: u16) -> TxDesc {
        let mut d = TxDesc::context(c, tucmd | TXD_CMD_TSE);
        d.length = U16::new(paylen as u16);
        d.cso = TXD_DTYP_CONTEXT | ((paylen >> 16) as u8 & 0x0F);
        d.css = hdrlen;
        d.special = U16::new(mss);
        d
    }

    /// TCP/IP data descriptor (SDM §3.3.7): buffer, DTALEN, DCMD (DEXT added), POPTS in byte 13.
    pub fn data(addr: u64, length: u16, dcmd: u8, popts: u8) -> TxDesc {
        TxDesc {
            addr: U64::new(addr),
            length: U16::new(length),
            cso: TXD_DTYP_DATA,
            cmd: dcmd | TXD_CMD_DEXT,
            css: popts,
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

    #[test]
    fn tso_context_layout_matches_the_sdm() {
        let c = ChecksumContext {
            ipcss: 14,
            ipcso: 24,
            ipcse: 33,
            tucss: 34,
            tucso: 50,
            tucse: 0,
        };
        let d = TxDesc::tso_context(c, TXD_CMD_TCP | TXD_CMD_IP, 0x1_2345, 66, 1448);
        assert_eq!(
            d.as_bytes(),
            &[14, 24, 33, 0, 34, 50, 0, 0, 0x45, 0x23, 0x01, 0x27, 0, 66, 0xA8, 0x05]
        );
    }
}
