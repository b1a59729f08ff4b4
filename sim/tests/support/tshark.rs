//! An independent check of a capture: Wireshark's dissectors read the file with IPv4 and UDP
//! checksum validation on (ICMP checksums are always validated) and must report nothing malformed,
//! no bad checksum and no error-level expert info. Include with
//! `#[path = "support/tshark.rs"] mod tshark;`.

use std::path::Path;
use std::process::Command;

/// Expert-info groups and severity (epan/proto.h: `PI_CHECKSUM`, `PI_MALFORMED`, `PI_ERROR`).
const PI_CHECKSUM: &str = "0x01000000";
const PI_MALFORMED: &str = "0x07000000";
const PI_ERROR: &str = "0x00800000";

/// `Ok` if tshark reads `path` cleanly; else the frames it complained about, one per line
/// (frame number, then every expert message of that frame), or why tshark could not run.
pub fn tshark_check(path: &Path) -> Result<(), String> {
    let filter = format!(
        "_ws.malformed || _ws.expert.group == {PI_CHECKSUM} || _ws.expert.group == {PI_MALFORMED} || _ws.expert.severity == {PI_ERROR}"
    );
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ])
        .args(["-Y", &filter])
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=; "])
        .args(["-e", "frame.number", "-e", "_ws.expert.message"])
        .output()
        .map_err(|e| format!("cannot run tshark (Debian: apt install tshark): {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // tshark complains about running as root on stderr; anything else there is about the file.
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("Running as user"))
        .collect();
    if !out.status.success() || !problems.is_empty() {
        return Err(format!(
            "tshark failed on {} ({}): {}",
            path.display(),
            out.status,
            problems.join(" / ")
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let frames: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    if frames.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tshark found problems in {}:\n{}",
            path.display(),
            frames.join("\n")
        ))
    }
}
