//! The Verilated NIC: `rtl/nic_top.v` built by Verilator (build.rs) and bound through cxx
//! (csrc/nic_model.cpp, [`model`]). Following caliptra-sw's `caliptra-verilated`, this is the only crate
//! that knows Verilator; everything above it sees a [`Model`] stepped one cycle at a time through
//! [`Pins`], plus the facts that are fixed when the model is built.

mod model;

pub use model::{Model, NicModel, Pins};

/// Bytes per beat of the NIC's 64-bit data paths (AXI4-Stream to the MAC, AXI4 to host memory):
/// 8 bytes per cycle at 156.25 MHz is 10 Gb/s.
pub const BEAT_BYTES: u64 = 8;

/// RX FIFO depth the model was Verilated with (`NICSIM_RX_FIFO_BYTES` at build time, default 16384):
/// a Verilog parameter is fixed when the model is built, so a scenario can only check it.
pub const RX_FIFO_DEPTH_BYTES: u32 = parse_u32(env!("NICSIM_RX_FIFO_BYTES"));

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v: u32 = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "NICSIM_RX_FIFO_BYTES must be decimal"
        );
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// `rx_evt_code`: what the receive MAC did with a frame, pulsed once per frame at its end on the
/// `rx_evt` probe port. The one Rust copy of the RTL's table in `rtl/nic_rx_events.vh`; a test of this
/// crate checks the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RxEventCode {
    /// Committed to the RX FIFO.
    Accept = 0,
    /// FCS mismatch (CRCERRS).
    CrcError = 1,
    /// Shorter than 64 bytes with FCS (RUC).
    Runt = 2,
    /// Longer than RLPML (ROC).
    Oversize = 3,
    /// Not for this station (FLTC).
    AddressFilter = 4,
    /// No room in the RX FIFO (MPC).
    FifoFull = 5,
    /// The PHY flagged an error, `s_axis_rx_tuser` (RXERRC).
    PhyError = 6,
}

impl RxEventCode {
    pub const ALL: [RxEventCode; 7] = [
        RxEventCode::Accept,
        RxEventCode::CrcError,
        RxEventCode::Runt,
        RxEventCode::Oversize,
        RxEventCode::AddressFilter,
        RxEventCode::FifoFull,
        RxEventCode::PhyError,
    ];

    pub fn from_code(code: u8) -> Option<RxEventCode> {
        RxEventCode::ALL.into_iter().find(|c| *c as u8 == code)
    }
}

#[cfg(test)]
mod tests {
    use super::RxEventCode;

    /// The RTL's table, `localparam [2:0] RX_EVT_<NAME> = <code>;` one per line, against this one.
    #[test]
    fn rx_event_codes_match_the_rtl_table() {
        let vh = include_str!("../../../rtl/nic_rx_events.vh");
        let rtl: Vec<(&str, u8)> = vh
            .lines()
            .filter_map(|l| l.trim().strip_prefix("localparam [2:0] RX_EVT_"))
            .map(|l| {
                let (name, rest) = l.split_once(" = ").expect("NAME = code");
                let code = rest.split(';').next().unwrap().trim().parse().unwrap();
                (name, code)
            })
            .collect();
        let rust: Vec<(&str, u8)> = RxEventCode::ALL
            .iter()
            .map(|&c| {
                let name = match c {
                    RxEventCode::Accept => "ACCEPT",
                    RxEventCode::CrcError => "CRC",
                    RxEventCode::Runt => "RUNT",
                    RxEventCode::Oversize => "OVERSIZE",
                    RxEventCode::AddressFilter => "FILTER",
                    RxEventCode::FifoFull => "FIFO_FULL",
                    RxEventCode::PhyError => "PHY_ERR",
                };
                (name, c as u8)
            })
            .collect();
        assert_eq!(rtl, rust);
        assert_eq!(RxEventCode::from_code(7), None);
    }
}
