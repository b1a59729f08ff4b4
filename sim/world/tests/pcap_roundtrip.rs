//! The wire capture read back with pcap-file, and captures replayed as traffic.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use host_driver::time::{Clock, Cycle};
use nicsim_scenario::replay::{self, ReplayConfig, ReplayError, ReplayFrame, Timing};
use nicsim_world::capture::PcapWriter;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter as RawWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};

const CLOCK: Clock = Clock { ps_per_cycle: 6400 };

/// A fresh scratch folder per test under the target dir.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("pcap_roundtrip")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A recognisable frame: 14-byte header then `n` bytes of `tag`.
fn frame(tag: u8, n: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0xfe, 0x88, 0xb5];
    f.extend(std::iter::repeat_n(tag, n));
    f
}

fn write(path: &Path, frames: &[(Cycle, Vec<u8>)]) {
    let mut w = PcapWriter::create(path, CLOCK).unwrap();
    for (at, f) in frames {
        w.write(*at, f);
    }
    assert_eq!(w.finish().unwrap(), frames.len());
}

fn read_all(path: &Path) -> (PcapHeader, Vec<PcapPacket<'static>>) {
    let mut r = PcapReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        out.push(p.unwrap().into_owned());
    }
    (r.header(), out)
}

#[test]
fn capture_is_nanosecond_ethernet_in_time_order_with_simulated_timestamps() {
    let dir = scratch("order");
    let path = dir.join("wire.pcap");
    // Out of order, with two frames on the same cycle: ties keep the order given.
    let frames = vec![
        (3, frame(3, 50)),
        (0, frame(0, 46)),
        (1_000_000_007, frame(9, 1500)),
        (3, frame(4, 60)),
        (1, frame(1, 46)),
    ];
    write(&path, &frames);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes[..4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        "little-endian nanosecond magic a1b23c4d"
    );
    let (header, packets) = read_all(&path);
    assert_eq!(header.ts_resolution, TsResolution::NanoSecond);
    assert_eq!(header.datalink, DataLink::ETHERNET);
    assert_eq!(header.endianness, Endianness::Little);
    let got: Vec<(u128, u8, usize)> = packets
        .iter()
        .map(|p| (p.timestamp.as_nanos(), p.data[14], p.orig_len as usize))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 0, 60),
            (6, 1, 60), // 6.4 ns, truncated
            (19, 3, 64),
            (19, 4, 74),
            (6_400_000_044, 9, 1514), // cycles × 6.4 ns = 6 400 000 044.8 ns
        ]
    );
    for p in &packets {
        assert_eq!(p.orig_len as usize, p.data.len(), "frames are stored whole");
    }

    // Same input, same bytes.
    let again = dir.join("again.pcap");
    write(&again, &frames);
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
}

#[test]
fn a_limited_capture_keeps_the_first_frames_in_time_and_counts_the_rest() {
    let path = scratch("limit").join("wire.pcap");
    let mut w = PcapWriter::create(&path, CLOCK).unwrap();
    for (at, tag) in [(30, 3), (10, 1), (20, 2), (40, 4)] {
        w.write(at, &frame(tag, 46));
    }
    let c = w.finish_first(Some(2)).unwrap();
    assert_eq!((c.written, c.not_written), (2, 2));
    let (_, packets) = read_all(&path);
    let tags: Vec<u8> = packets.iter().map(|p| p.data[14]).collect();
    assert_eq!(tags, [1, 2]);
}

#[test]
fn an_unwritable_capture_names_its_path() {
    let e = PcapWriter::create(Path::new("/nonexistent-dir/wire.pcap"), CLOCK).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent-dir/wire.pcap: cannot write the capture"),
        "{e}"
    );
}

fn plan(file: &Path, timing: Timing, start_ns: u64) -> Result<Vec<ReplayFrame>, ReplayError> {
    replay::plan(
        &ReplayConfig {
            file: file.to_owned(),
            timing,
            start_ns,
        },
        CLOCK,
    )
}

#[test]
fn replay_keeps_the_captured_cycles_or_sends_at_line_rate() {
    let dir = scratch("replay");
    let path = dir.join("wire.pcap");
    let cycles: Vec<Cycle> = vec![1001, 1003, 1003, 5000, 123_457];
    let frames: Vec<(Cycle, Vec<u8>)> = cycles
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, frame(i as u8, 100 + i)))
        .collect();
    write(&path, &frames);

    let start_ns = 640; // 100 cycles
    let got = plan(&path, Timing::Recorded, start_ns).unwrap();
    let want: Vec<ReplayFrame> = frames
        .iter()
        .enumerate()
        .map(|(index, (c, f))| ReplayFrame {
            index,
            not_before: 100 + c - cycles[0],
            bytes: f.clone(),
        })
        .collect();
    assert_eq!(
        got, want,
        "every frame on the cycle it was captured at, relative to the first"
    );

    let fast = plan(&path, Timing::LineRate, 0).unwrap();
    assert!(fast.iter().all(|f| f.not_before == 0));
    assert_eq!(
        fast.iter().map(|f| &f.bytes).collect::<Vec<_>>(),
        frames.iter().map(|f| &f.1).collect::<Vec<_>>()
    );
}

#[test]
fn short_frames_are_padded_like_the_sending_mac_would() {
    let dir = scratch("pad");
    let path = dir.join("short.pcap");
    write(&path, &[(0, frame(7, 28))]);
    let got = plan(&path, Timing::Recorded, 0).unwrap();
    assert_eq!(got[0].bytes.len(), 60);
    assert_eq!(got[0].bytes[..42], frame(7, 28)[..]);
    assert!(got[0].bytes[42..].iter().all(|&b| b == 0));
}

/// A pcapng file with one interface per `tsresol` (None = the default µs), each frame
/// `(interface, raw timestamp units, bytes)`.
fn write_pcapng(
    path: &Path,
    tsresol: &[Option<u8>],
    link: DataLink,
    frames: &[(u32, u64, Vec<u8>)],
) {
    let mut w = PcapNgWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for r in tsresol {
        let options = r
            .map(InterfaceDescriptionOption::IfTsResol)
            .into_iter()
            .collect();
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: link,
            snaplen: 65535,
            options,
        })
        .unwrap();
    }
    for (iface, units, f) in frames {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: *iface,
            timestamp: Duration::from_nanos(*units),
            original_len: f.len() as u32,
            data: Cow::Borrowed(f),
            options: vec![],
        })
        .unwrap();
    }
}

#[test]
fn pcapng_timestamps_follow_each_interfaces_resolution() {
    let dir = scratch("pcapng");
    let path = dir.join("two.pcapng");
    // Interface 0 in µs (the default), interface 1 in ns (10^-9), interface 2 in 2^-10 s.
    write_pcapng(
        &path,
        &[None, Some(9), Some(0x80 | 10)],
        DataLink::ETHERNET,
        &[
            (0, 10, frame(0, 46)),
            (1, 10_064, frame(1, 46)),
            (0, 11, frame(2, 46)),
            (2, 1, frame(3, 46)),
        ],
    );
    let got = plan(&path, Timing::Recorded, 0).unwrap();
    // 10 µs = 1562.5 → 1563 cycles; 10.064 µs → 1573; 11 µs → 1719; 1/1024 s = 976 562.5 ns → 152 588.
    let not_before: Vec<Cycle> = got.iter().map(|f| f.not_before).collect();
    assert_eq!(
        not_before,
        vec![0, 1573 - 1563, 1719 - 1563, 152_588 - 1563]
    );
    assert_eq!(got[3].bytes[14], 3);
}

fn assert_error(result: Result<Vec<ReplayFrame>, ReplayError>, path: &Path, needle: &str) {
    let e = result.expect_err("the file must be refused").to_string();
    assert!(
        e.starts_with(&format!("{}: ", path.display())),
        "names the file: {e}"
    );
    assert!(e.contains(needle), "`{needle}` in: {e}");
}

#[test]
fn bad_captures_are_errors_naming_the_file_and_frame() {
    let dir = scratch("bad");

    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello, not a capture").unwrap();
    assert_error(
        plan(&text, Timing::Recorded, 0),
        &text,
        "not a pcap or pcapng file",
    );

    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    assert_error(
        plan(&empty, Timing::Recorded, 0),
        &empty,
        "0 bytes, too short to be a capture",
    );

    let missing = dir.join("missing.pcap");
    assert_error(plan(&missing, Timing::Recorded, 0), &missing, "cannot read");

    let cut = dir.join("cut.pcap");
    write(
        &cut,
        &[(0, frame(0, 46)), (10, frame(1, 46)), (20, frame(2, 46))],
    );
    let mut bytes = std::fs::read(&cut).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&cut, bytes).unwrap();
    assert_error(
        plan(&cut, Timing::Recorded, 0),
        &cut,
        "frame 2: the file ends inside this frame",
    );

    let back = dir.join("back.pcap");
    let header = PcapHeader {
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w = RawWriter::with_header(std::fs::File::create(&back).unwrap(), header).unwrap();
    for (ns, tag) in [(1000u64, 0u8), (2000, 1), (1500, 2)] {
        let f = frame(tag, 46);
        w.write_packet(&PcapPacket::new(
            Duration::from_nanos(ns),
            f.len() as u32,
            &f,
        ))
        .unwrap();
    }
    drop(w);
    assert_error(
        plan(&back, Timing::Recorded, 0),
        &back,
        "frame 2: timestamp goes back 500 ns",
    );
    assert_eq!(
        plan(&back, Timing::LineRate, 0).unwrap().len(),
        3,
        "line rate ignores timestamps"
    );

    let snapped = dir.join("snapped.pcap");
    let mut w = RawWriter::new(std::fs::File::create(&snapped).unwrap()).unwrap();
    let f = frame(0, 46);
    w.write_packet(&PcapPacket::new(Duration::ZERO, f.len() as u32, &f))
        .unwrap();
    w.write_packet(&PcapPacket::new(Duration::ZERO, 1514, &f))
        .unwrap();
    drop(w);
    assert_error(
        plan(&snapped, Timing::Recorded, 0),
        &snapped,
        "frame 1: captured 60 of 1514 bytes",
    );

    let tiny = dir.join("tiny.pcap");
    write(&tiny, &[(0, frame(0, 46)), (1, vec![1, 2, 3])]);
    assert_error(
        plan(&tiny, Timing::Recorded, 0),
        &tiny,
        "frame 1: 3 bytes is shorter than an Ethernet header",
    );

    let raw_ip = dir.join("raw.pcapng");
    write_pcapng(&raw_ip, &[Some(9)], DataLink::RAW, &[(0, 0, frame(0, 46))]);
    assert_error(
        plan(&raw_ip, Timing::Recorded, 0),
        &raw_ip,
        "frame 0: link type RAW is not Ethernet",
    );
}
