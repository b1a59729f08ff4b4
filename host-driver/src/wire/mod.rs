//! Wire formats, in the style of smoltcp's `wire` module.
//!
//! Each header has a `zerocopy` layout struct with network-endian fields (the one table of field
//! offsets), a typed view that checks lengths once in `new_checked` so its accessors cannot fail
//! afterwards, and a plain `Repr` with separate `parse` (view → Repr) and `emit` (Repr → bytes).
//! [`build`] assembles whole frames from these for the simulator's traffic generator and peers.

pub mod arp;
pub mod build;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod udp;

use thiserror::Error;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// Bytes that cannot be read as the header they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Fewer bytes than the header (or its declared length) needs.
    #[error("{what}: truncated, need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A length field declares more bytes than the buffer holds (IPv4 total length, UDP length).
    #[error("{what}: length field says {declared} bytes, only {have} present")]
    TruncatedPayload {
        what: &'static str,
        declared: usize,
        have: usize,
    },
    /// A field holds a value the format does not allow.
    #[error("{what}: bad {field} {value}")]
    BadField {
        what: &'static str,
        field: &'static str,
        value: u32,
    },
    /// An output buffer is too small for the header being emitted.
    #[error("{what}: output buffer too small, need {need} bytes, have {have}")]
    BufferTooSmall {
        what: &'static str,
        need: usize,
        have: usize,
    },
}

/// The first `len` bytes of `buf` for emitting, or `Err(BufferTooSmall)`.
fn out_buf<'a>(
    what: &'static str,
    buf: &'a mut [u8],
    len: usize,
) -> Result<&'a mut [u8], WireError> {
    let have = buf.len();
    buf.get_mut(..len).ok_or(WireError::BufferTooSmall {
        what,
        need: len,
        have,
    })
}

/// Splits `bytes` into a fixed header `H` and what follows, or `Err(Truncated)`.
fn header<'a, H>(what: &'static str, bytes: &'a [u8]) -> Result<(&'a H, &'a [u8]), WireError>
where
    H: FromBytes + KnownLayout + Immutable,
{
    H::ref_from_prefix(bytes).map_err(|_| WireError::Truncated {
        what,
        need: size_of::<H>(),
        have: bytes.len(),
    })
}
