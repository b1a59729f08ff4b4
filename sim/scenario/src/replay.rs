//! A capture file as a traffic source, like `tcpreplay` on the link partner: every Ethernet frame of a
//! pcap or pcapng file is sent to the NIC, either keeping the recorded gaps between frames or back to
//! back at line rate.
//!
//! Frames are taken as captured without FCS (libpcap's usual Ethernet capture); the wire appends a
//! correct FCS. Frames shorter than 60 bytes are zero-padded, as the replaying NIC's MAC would pad
//! them, so a capture taken on a sending host (where libpcap sees frames before padding) replays as
//! the frames that host really put on the wire.
//!
//! Recorded timing: the first frame leaves at `start_ns`; frame `i` follows it by the difference of
//! their timestamps, both rounded up to whole cycles first, so a capture written by
//! [`crate::pcap::PcapWriter`] replays on exactly the cycles it was captured at (relative to its
//! first frame).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use host_driver::time::{Clock, Cycle};
use host_driver::wire::ethernet::MIN_FRAME_LEN;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, PcapError};
use serde::Deserialize;

/// How replayed frames are spaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Keep the gaps between the recorded timestamps (never faster than the line allows).
    #[default]
    Recorded,
    /// Ignore timestamps: every frame is ready at `start_ns` and the wire sends them back to back.
    LineRate,
}

/// A `traffic` entry replaying a capture (`- pcap: {file: x.pcap, timing: line_rate}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// pcap or pcapng file; a relative path is taken from the scenario file's folder by the runner.
    pub file: PathBuf,
    #[serde(default)]
    pub timing: Timing,
    /// When the first frame may leave, counted from link up.
    #[serde(default)]
    pub start_ns: u64,
}

impl ReplayConfig {
    /// The same replay with a relative `file` taken from `base` (the scenario's folder).
    pub fn resolved(&self, base: &Path) -> ReplayConfig {
        ReplayConfig {
            file: base.join(&self.file),
            ..self.clone()
        }
    }
}

/// A capture that cannot be replayed, naming the file and, where it applies, the frame (0-based, in
/// file order).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {len} bytes, too short to be a capture", path.display())]
    TooSmall { path: PathBuf, len: usize },
    #[error("{}: not a pcap or pcapng file (magic {magic:08x})", path.display())]
    NotACapture { path: PathBuf, magic: u32 },
    #[error("{}: bad file header: {source}", path.display())]
    Header { path: PathBuf, source: PcapError },
    #[error("{}: frame {index}: the file ends inside this frame (cut short?)", path.display())]
    CutShort { path: PathBuf, index: usize },
    #[error("{}: frame {index}: {source}", path.display())]
    Parse {
        path: PathBuf,
        index: usize,
        source: PcapError,
    },
    #[error("{}: frame {index}: link type {link:?} is not Ethernet", path.display())]
    LinkType {
        path: PathBuf,
        index: usize,
        link: DataLink,
    },
    #[error("{}: frame {index}: captured {captured} of {original} bytes (snaplen too small), cannot replay a cut frame", path.display())]
    Truncated {
        path: PathBuf,
        index: usize,
        captured: usize,
        original: u32,
    },
    #[error("{}: frame {index}: {len} bytes is shorter than an Ethernet header", path.display())]
    TooShort {
        path: PathBuf,
        index: usize,
        len: usize,
    },
    #[error("{}: frame {index}: timestamp goes back {back_ns} ns before the frame before it; recorded timing needs time order (or use `timing: line_rate`)", path.display())]
    TimeGoesBack {
        path: PathBuf,
        index: usize,
        back_ns: u64,
    },
    #[error("{}: frame {index}: {why}", path.display())]
    Block {
        path: PathBuf,
        index: usize,
        why: String,
    },
}

/// One frame to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayFrame {
    /// Position in the file (0-based).
    pub index: usize,
    /// Earliest cycle, counted from link up.
    pub not_before: Cycle,
    /// Without FCS, padded to 60 bytes.
    pub bytes: Vec<u8>,
}

/// pcap magic numbers (either byte order, µs and ns) and the pcapng Section Header Block type.
const PCAP_MAGICS: [u32; 4] = [0xa1b2_c3d4, 0xd4c3_b2a1, 0xa1b2_3c4d, 0x4d3c_b2a1];
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;

/// A captured frame: its time in picoseconds since the capture's epoch and its bytes.
type Captured = (u128, Vec<u8>);

/// Reads `cfg.file` and schedules its frames.
pub fn plan(cfg: &ReplayConfig, clock: Clock) -> Result<Vec<ReplayFrame>, ReplayError> {
    let path = cfg.file.as_path();
    let captured = read(path)?;
    let start = clock.ns_to_cycles(cfg.start_ns);
    let ps_cycles = |ps: u128| -> Cycle {
        let cycles = ps.div_ceil(u128::from(clock.ps_per_cycle));
        Cycle::try_from(cycles).unwrap_or(Cycle::MAX)
    };
    let first = captured.first().map_or(0, |&(ps, _)| ps_cycles(ps));
    let mut prev_ps = 0;
    let mut frames = Vec::with_capacity(captured.len());
    for (index, (ps, mut bytes)) in captured.into_iter().enumerate() {
        if bytes.len() < host_driver::wire::ethernet::HEADER_LEN {
            return Err(ReplayError::TooShort {
                path: path.to_owned(),
                index,
                len: bytes.len(),
            });
        }
        let not_before = match cfg.timing {
            Timing::LineRate => start,
            Timing::Recorded if ps < prev_ps => {
                let back_ns = u64::try_from((prev_ps - ps) / 1000).unwrap_or(u64::MAX);
                return Err(ReplayError::TimeGoesBack {
                    path: path.to_owned(),
                    index,
                    back_ns,
                });
            }
            Timing::Recorded => start.saturating_add(ps_cycles(ps) - first),
        };
        prev_ps = ps;
        if bytes.len() < MIN_FRAME_LEN {
            bytes.resize(MIN_FRAME_LEN, 0);
        }
        frames.push(ReplayFrame {
            index,
            not_before,
            bytes,
        });
    }
    Ok(frames)
}

/// Every frame of the pcap or pcapng file at `path` with its timestamp in picoseconds.
fn read(path: &Path) -> Result<Vec<Captured>, ReplayError> {
    let io = |source| ReplayError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = BufReader::new(File::open(path).map_err(io)?);
    let mut head = Vec::with_capacity(4);
    (&mut file).take(4).read_to_end(&mut head).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let Ok(magic) = <[u8; 4]>::try_from(head.as_slice()) else {
        return Err(ReplayError::TooSmall {
            path: path.to_owned(),
            len: head.len(),
        });
    };
    let magic = u32::from_be_bytes(magic);
    if PCAP_MAGICS.contains(&magic) {
        read_pcap(path, file)
    } else if magic == PCAPNG_SHB {
        read_pcapng(path, file)
    } else {
        Err(ReplayError::NotACapture {
            path: path.to_owned(),
            magic,
        })
    }
}

fn read_pcap(path: &Path, file: impl Read) -> Result<Vec<Captured>, ReplayError> {
    let mut reader = PcapReader::new(file).map_err(|source| header_error(path, source))?;
    let link = reader.header().datalink;
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let index = out.len();
        let packet = packet.map_err(|source| parse_error(path, index, source))?;
        if link != DataLink::ETHERNET {
            return Err(ReplayError::LinkType {
                path: path.to_owned(),
                index,
                link,
            });
        }
        whole(path, index, packet.data.len(), packet.orig_len)?;
        out.push((packet.timestamp.as_nanos() * 1000, packet.data.into_owned()));
    }
    Ok(out)
}

/// What a pcapng Interface Description Block says about its packets' timestamps.
struct Interface {
    link: DataLink,
    /// Picoseconds per timestamp unit as a fraction (`if_tsresol`: 10^-n or 2^-n seconds; default µs).
    ps_num: u128,
    ps_den: u128,
    /// `if_tsoffset`, seconds added to every timestamp.
    offset_s: u64,
}

impl Interface {
    fn new(
        link: DataLink,
        options: &[InterfaceDescriptionOption<'_>],
    ) -> Result<Interface, String> {
        let mut iface = Interface {
            link,
            ps_num: 1_000_000,
            ps_den: 1,
            offset_s: 0,
        };
        for o in options {
            match *o {
                InterfaceDescriptionOption::IfTsResol(r) if r & 0x80 != 0 => {
                    let n = u32::from(r & 0x7f);
                    if n > 64 {
                        return Err(format!("if_tsresol 2^-{n} is beyond what can be replayed"));
                    }
                    (iface.ps_num, iface.ps_den) = (1_000_000_000_000, 1u128 << n);
                }
                InterfaceDescriptionOption::IfTsResol(r) => {
                    let n = u32::from(r);
                    (iface.ps_num, iface.ps_den) = match n {
                        0..=12 => (10u128.pow(12 - n), 1),
                        13..=30 => (1, 10u128.pow(n - 12)),
                        _ => {
                            return Err(format!(
                                "if_tsresol 10^-{n} is beyond what can be replayed"
                            ))
                        }
                    };
                }
                InterfaceDescriptionOption::IfTsOffset(s) => iface.offset_s = s,
                _ => {}
            }
        }
        Ok(iface)
    }

    fn ps(&self, units: u128) -> u128 {
        units * self.ps_num / self.ps_den + u128::from(self.offset_s) * 1_000_000_000_000
    }
}

fn read_pcapng(path: &Path, file: impl Read) -> Result<Vec<Captured>, ReplayError> {
    let mut reader = PcapNgReader::new(file).map_err(|source| header_error(path, source))?;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut out = Vec::new();
    while let Some(block) = reader.next_block() {
        let index = out.len();
        let block = block.map_err(|source| parse_error(path, index, source))?;
        let bad = |why: String| ReplayError::Block {
            path: path.to_owned(),
            index,
            why,
        };
        match block {
            // A new section starts a new list of interfaces.
            Block::SectionHeader(_) => interfaces.clear(),
            Block::InterfaceDescription(idb) => {
                interfaces.push(Interface::new(idb.linktype, &idb.options).map_err(bad)?)
            }
            Block::EnhancedPacket(epb) => {
                let iface = interfaces.get(epb.interface_id as usize).ok_or_else(|| {
                    bad(format!(
                        "interface {} was never described",
                        epb.interface_id
                    ))
                })?;
                if iface.link != DataLink::ETHERNET {
                    return Err(ReplayError::LinkType {
                        path: path.to_owned(),
                        index,
                        link: iface.link,
                    });
                }
                whole(path, index, epb.data.len(), epb.original_len)?;
                // pcap-file reads the raw 64-bit timestamp into a Duration as if it were nanoseconds;
                // it is in the interface's units.
                out.push((iface.ps(epb.timestamp.as_nanos()), epb.data.into_owned()));
            }
            Block::SimplePacket(_) | Block::Packet(_) => return Err(bad(
                "simple/obsolete packet blocks carry no usable timestamp; re-save the file as pcap"
                    .into(),
            )),
            _ => {}
        }
    }
    Ok(out)
}

fn whole(path: &Path, index: usize, captured: usize, original: u32) -> Result<(), ReplayError> {
    if captured < original as usize {
        return Err(ReplayError::Truncated {
            path: path.to_owned(),
            index,
            captured,
            original,
        });
    }
    Ok(())
}

fn header_error(path: &Path, source: PcapError) -> ReplayError {
    match source {
        PcapError::IoError(source) => ReplayError::Io {
            path: path.to_owned(),
            source,
        },
        source => ReplayError::Header {
            path: path.to_owned(),
            source,
        },
    }
}

fn parse_error(path: &Path, index: usize, source: PcapError) -> ReplayError {
    let path = path.to_owned();
    match source {
        PcapError::IncompleteBuffer => ReplayError::CutShort { path, index },
        PcapError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ReplayError::CutShort { path, index }
        }
        PcapError::IoError(source) => ReplayError::Io { path, source },
        source => ReplayError::Parse {
            path,
            index,
            source,
        },
    }
}
