//! The internet checksum (RFC 1071) and the IPv4 pseudo-header (RFC 768, RFC 793).
//!
//! Mirrors the kernel's `csum_partial` / `csum_fold` / `csum_tcpudp_magic`: a ones'-complement sum
//! accumulated over any number of chunks, then folded and inverted once.

use std::net::Ipv4Addr;

/// A running ones'-complement sum. Chunks may have odd lengths: the byte position parity is
/// carried across chunks so the result equals the checksum of their concatenation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checksum {
    sum: u64,
    odd: bool,
}

impl Checksum {
    pub fn new() -> Checksum {
        Checksum::default()
    }

    /// `csum_partial`: adds `data` as 16-bit big-endian words.
    pub fn add_bytes(mut self, data: &[u8]) -> Checksum {
        let mut rest = data;
        if self.odd {
            if let Some((&b, tail)) = rest.split_first() {
                self.sum += u64::from(b);
                self.odd = false;
                rest = tail;
            }
        }
        let mut words = rest.chunks_exact(2);
        for w in &mut words {
            self.sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [b] = words.remainder() {
            self.sum += u64::from(*b) << 8;
            self.odd = true;
        }
        self
    }

    /// Adds one 16-bit word (must start on an even byte position).
    pub fn add_u16(self, word: u16) -> Checksum {
        self.add_bytes(&word.to_be_bytes())
    }

    /// `csum_tcpudp_nofold`: the IPv4 pseudo-header for an L4 segment of `len` bytes.
    pub fn pseudo_header(self, src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> Checksum {
        self.add_bytes(&src.octets())
            .add_bytes(&dst.octets())
            .add_u16(u16::from(protocol))
            .add_u16(len)
    }

    /// `csum_fold`: the folded, inverted 16-bit checksum to put in a header. Summing a region
    /// that already contains a correct checksum yields 0.
    pub fn finish(self) -> u16 {
        let mut s = self.sum;
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
}

/// The checksum of one contiguous region (`ip_fast_csum` for an IPv4 header).
pub fn internet_checksum(data: &[u8]) -> u16 {
    Checksum::new().add_bytes(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 (before inversion).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn known_ipv4_header() {
        // A captured header with checksum 0xb861 (Wikipedia's IPv4 header checksum example).
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(&hdr), 0xb861);
        hdr[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(internet_checksum(&hdr), 0, "a correct header sums to zero");
    }

    #[test]
    fn odd_chunks_equal_concatenation() {
        let data: Vec<u8> = (0u8..=200).collect();
        let whole = internet_checksum(&data);
        for split in [1, 3, 7, 100, 199] {
            let (a, b) = data.split_at(split);
            assert_eq!(
                Checksum::new().add_bytes(a).add_bytes(b).finish(),
                whole,
                "split {split}"
            );
        }
        let three = Checksum::new()
            .add_bytes(&data[..5])
            .add_bytes(&data[5..6])
            .add_bytes(&data[6..])
            .finish();
        assert_eq!(three, whole);
    }

    #[test]
    fn pseudo_header_is_words_of_the_fields() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        let manual = Checksum::new()
            .add_bytes(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 8])
            .finish();
        assert_eq!(
            Checksum::new().pseudo_header(src, dst, 17, 8).finish(),
            manual
        );
    }
}
