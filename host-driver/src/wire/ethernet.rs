//! Ethernet II header (IEEE 802.3 clause 3, `struct ethhdr` in include/uapi/linux/if_ether.h).

use std::fmt;
use std::str::FromStr;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{header, out_buf, WireError};

/// `ETH_HLEN`.
pub const HEADER_LEN: usize = 14;
/// `ETH_ZLEN`: minimum frame length without FCS; shorter frames are padded by the sender's MAC.
pub const MIN_FRAME_LEN: usize = 60;
/// `ETH_FCS_LEN`.
pub const FCS_LEN: usize = 4;
/// `ETH_DATA_LEN`: the standard MTU.
pub const MTU: usize = 1500;
/// What every frame costs on the line besides its bytes: preamble (7), SFD (1) and the minimum
/// inter-frame gap (12), IEEE 802.3 clause 4.4.2.
pub const WIRE_OVERHEAD_BYTES: u64 = 20;

/// EtherTypes the stack knows (`ETH_P_*`).
pub mod ethertype {
    /// `ETH_P_IP`.
    pub const IPV4: u16 = 0x0800;
    /// `ETH_P_ARP`.
    pub const ARP: u16 = 0x0806;
    /// `ETH_P_IPV6` (not handled by the stack; useful for unknown-EtherType traffic).
    pub const IPV6: u16 = 0x86dd;
}

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub fn is_broadcast(&self) -> bool {
        *self == MacAddr::BROADCAST
    }

    /// Group bit (I/G) set: multicast or broadcast.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not six colon-separated hex octets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a MAC address (expected six hex octets like 02:00:00:00:00:01)")]
pub struct BadMacAddr(pub String);

impl FromStr for MacAddr {
    type Err = BadMacAddr;
    fn from_str(s: &str) -> Result<MacAddr, BadMacAddr> {
        let bad = || BadMacAddr(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for o in &mut out {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > 2 {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

/// The one place a MAC address is read from a scenario or configuration: a `"02:00:00:00:00:01"`
/// string, parsed inside the visitor so a bad one is reported at its own line and column.
impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MacAddr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a MAC address string like \"02:00:00:00:00:01\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<MacAddr, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `struct ethhdr`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EthHdr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: U16,
}

/// A checked view of an Ethernet frame (without FCS).
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<'a> {
    hdr: &'a EthHdr,
    payload: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<EthernetFrame<'a>, WireError> {
        let (hdr, payload) = header::<EthHdr>("ethernet", bytes)?;
        Ok(EthernetFrame { hdr, payload })
    }

    pub fn dst(&self) -> MacAddr {
        MacAddr(self.hdr.dst)
    }

    pub fn src(&self) -> MacAddr {
        MacAddr(self.hdr.src)
    }

    pub fn ethertype(&self) -> u16 {
        self.hdr.ethertype.get()
    }

    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// The fields of an Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src: MacAddr,
    pub dst: MacAddr,
    pub ethertype: u16,
}

impl EthernetRepr {
    pub fn parse(frame: &EthernetFrame<'_>) -> EthernetRepr {
        EthernetRepr {
            src: frame.src(),
            dst: frame.dst(),
            ethertype: frame.ethertype(),
        }
    }

    /// The 14 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let hdr = EthHdr {
            dst: self.dst.0,
            src: self.src.0,
            ethertype: U16::new(self.ethertype),
        };
        let mut out = [0; HEADER_LEN];
        out.copy_from_slice(hdr.as_bytes());
        out
    }

    /// Writes the 14-byte header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        out_buf("ethernet", buf, HEADER_LEN)?.copy_from_slice(&self.to_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0xaa,
        0xbb,
    ];

    #[test]
    fn parse_known_bytes() {
        let f = EthernetFrame::new_checked(&FRAME).unwrap();
        let repr = EthernetRepr::parse(&f);
        assert_eq!(
            repr,
            EthernetRepr {
                src: MacAddr([2, 0, 0, 0, 0, 1]),
                dst: MacAddr::BROADCAST,
                ethertype: ethertype::ARP
            }
        );
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
        assert!(f.dst().is_broadcast() && f.dst().is_multicast());
    }

    #[test]
    fn emit_round_trips() {
        let f = EthernetFrame::new_checked(&FRAME).unwrap();
        let mut out = [0u8; 14];
        EthernetRepr::parse(&f).emit(&mut out).unwrap();
        assert_eq!(out, FRAME[..14]);
    }

    #[test]
    fn short_frame_and_buffer_are_errors() {
        assert_eq!(
            EthernetFrame::new_checked(&FRAME[..13]).unwrap_err(),
            WireError::Truncated {
                what: "ethernet",
                need: 14,
                have: 13
            }
        );
        let repr = EthernetRepr {
            src: MacAddr::ZERO,
            dst: MacAddr::ZERO,
            ethertype: 0,
        };
        assert!(matches!(
            repr.emit(&mut [0u8; 10]),
            Err(WireError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn mac_parse_and_display() {
        let m: MacAddr = "02:00:0a:ff:00:01".parse().unwrap();
        assert_eq!(m, MacAddr([2, 0, 0x0a, 0xff, 0, 1]));
        assert_eq!(m.to_string(), "02:00:0a:ff:00:01");
        for bad in [
            "02:00:0a:ff:00",
            "02:00:0a:ff:00:01:02",
            "zz:00:00:00:00:00",
            "020:0:0:0:0:0",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
