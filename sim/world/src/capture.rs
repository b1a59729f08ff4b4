//! A capture of the 10 GbE link as a libpcap file: what a passive tap on the cable between the NIC and
//! its link partner would record, with simulated time as the clock.
//!
//! One `wire.pcap` holds both directions interleaved in time order, since that is what tcpdump and
//! Wireshark users expect of a tap. Classic pcap has no direction field; the direction of a frame is
//! read from its addresses (the host's MAC is the source of everything the NIC sent).
//!
//! Format choices, so the file opens in any tool and is byte-for-byte reproducible:
//! - nanosecond pcap (magic `a1b23c4d`), little-endian, snaplen 65535, `LINKTYPE_ETHERNET`;
//! - frames without FCS, the way libpcap delivers Ethernet on Linux and tshark expects for this link
//!   type (a frame with FCS would be dissected as 4 bytes of trailer);
//! - a frame's timestamp is the cycle of its first beat at the MAC (the first byte of the destination
//!   address, after preamble and SFD), as `cycle × ps_per_cycle` truncated to whole nanoseconds, counted
//!   from reset (the epoch of the file is simulated time zero);
//! - frames written with the same cycle keep the order they were given in;
//! - a frame the wire damaged on purpose (bad FCS, PHY error) appears with its bytes, since the
//!   capture carries no FCS and no error flag;
//! - with `faults:` (netem) the tap sits at the NIC's port: frames toward the host as the damaged
//!   cable delivered them (copies and corrupted bytes included, lost frames absent, delayed and
//!   reordered ones at the cycle they reached the MAC), the NIC's own frames as it sent them, before
//!   the cable damaged them (tcpdump on the host's interface shows the same).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use host_driver::accounting::{FrameId, Stage};
use host_driver::time::{Clock, Cycle};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter as FileWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::link::TxFrame;
use crate::observer::NicRecord;

/// Largest frame the capture keeps whole (the pcap snaplen; tcpdump's default since 4.0 is larger,
/// but no frame on this link exceeds the NIC's 2048-byte buffers).
pub const SNAPLEN: u32 = 65535;

/// A capture that cannot be written, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum PcapWriteError {
    #[error("{}: cannot write the capture: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: pcap header: {source}", path.display())]
    Header { path: PathBuf, source: PcapError },
    #[error("{}: frame {index} (cycle {at}): {source}", path.display())]
    Frame {
        path: PathBuf,
        index: usize,
        at: Cycle,
        source: PcapError,
    },
    #[error("{}: frame {index} (cycle {at}) is {len} bytes, more than the snaplen of {SNAPLEN}", path.display())]
    TooLong {
        path: PathBuf,
        index: usize,
        at: Cycle,
        len: usize,
    },
}

/// The wire capture: frames are collected in any order and written sorted by cycle on
/// [`PcapWriter::finish`].
#[derive(Debug)]
pub struct PcapWriter {
    path: PathBuf,
    file: BufWriter<File>,
    clock: Clock,
    frames: Vec<(Cycle, Vec<u8>)>,
}

impl PcapWriter {
    /// Creates (truncates) `path` now, so an unwritable output folder fails before the run.
    pub fn create(path: &Path, clock: Clock) -> Result<PcapWriter, PcapWriteError> {
        let file = File::create(path).map_err(|source| PcapWriteError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(PcapWriter {
            path: path.to_owned(),
            file: BufWriter::new(file),
            clock,
            frames: Vec::new(),
        })
    }

    /// Records `frame` (Ethernet, without FCS) whose first beat was at cycle `at`.
    pub fn write(&mut self, at: Cycle, frame: &[u8]) {
        self.frames.push((at, frame.to_vec()));
    }

    /// Writes every frame in time order and closes the file; returns the number of frames.
    pub fn finish(self) -> Result<usize, PcapWriteError> {
        self.finish_first(None).map(|c| c.written)
    }

    /// Writes the first `max_frames` frames in time order (every frame with `None`) and closes the
    /// file.
    pub fn finish_first(mut self, max_frames: Option<usize>) -> Result<Captured, PcapWriteError> {
        // Stable: frames of the same cycle keep their order.
        self.frames.sort_by_key(|&(at, _)| at);
        let total = self.frames.len();
        self.frames.truncate(max_frames.unwrap_or(total));
        let path = &self.path;
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let mut out =
            FileWriter::with_header(&mut self.file, header).map_err(|e| error(path, None, e))?;
        for (index, (at, frame)) in self.frames.iter().enumerate() {
            let too_long = || PcapWriteError::TooLong {
                path: path.clone(),
                index,
                at: *at,
                len: frame.len(),
            };
            let len = u32::try_from(frame.len()).map_err(|_| too_long())?;
            if len > SNAPLEN {
                return Err(too_long());
            }
            let ts = Duration::from_nanos(self.clock.cycles_to_ns_floor(*at));
            out.write_packet(&PcapPacket::new(ts, len, frame))
                .map_err(|e| error(path, Some((index, *at)), e))?;
        }
        self.file.flush().map_err(|source| PcapWriteError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Captured {
            written: self.frames.len(),
            not_written: total - self.frames.len(),
        })
    }
}

/// How many frames a capture wrote, and how many its limit left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Captured {
    pub written: usize,
    pub not_written: usize,
}

/// An I/O failure names the file; anything else also the frame (or the header, when `frame` is None).
fn error(path: &Path, frame: Option<(usize, Cycle)>, e: PcapError) -> PcapWriteError {
    let path = path.to_owned();
    match (e, frame) {
        (PcapError::IoError(source), _) => PcapWriteError::Io { path, source },
        (source, Some((index, at))) => PcapWriteError::Frame {
            path,
            index,
            at,
            source,
        },
        (source, None) => PcapWriteError::Header { path, source },
    }
}

/// Writes the wire of a run to `path`: each frame injected towards the NIC (`rx`: the ids the world
/// gave them, with the bytes injected) at the cycle its first beat entered the NIC as the observer's
/// `records` show, and every frame the NIC sent (`tx`) at its first beat. Injected frames that never
/// reached the wire are left out, and so are those after the first `max_frames` in time.
pub fn capture_wire<'a>(
    path: &Path,
    clock: Clock,
    records: &BTreeMap<FrameId, NicRecord>,
    rx: impl IntoIterator<Item = (FrameId, &'a [u8])>,
    tx: &[TxFrame],
    max_frames: Option<usize>,
) -> Result<Captured, PcapWriteError> {
    let mut pcap = PcapWriter::create(path, clock)?;
    for (id, bytes) in rx {
        if let Some(at) = records.get(&id).and_then(|r| r.stamp_of(Stage::WireStart)) {
            pcap.write(at, bytes);
        }
    }
    for t in tx {
        pcap.write(t.start, &t.bytes);
    }
    pcap.finish_first(max_frames)
}
