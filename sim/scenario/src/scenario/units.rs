//! Scalar values of a scenario file that carry units: traffic rates and expectation bounds.
//!
//! Each is parsed inside its own serde visitor, so that a bad value is reported by serde_norway at the
//! value's own line and column.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Bits a frame occupies on the wire besides its own bytes: preamble + SFD (8 B) and the inter-frame
/// gap (12 B), IEEE 802.3 clause 4.4.
pub const WIRE_OVERHEAD_BYTES: u64 = 20;

/// How fast a flow sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    /// Back to back: the wire injector paces frames at the link rate.
    #[default]
    Line,
    /// A bit rate on the wire (frame + FCS + preamble + inter-frame gap), in bits per second.
    BitsPerSecond(u64),
    /// A frame rate, in frames per 1000 seconds (milli-pps), so `2.5pps` stays exact.
    MilliPps(u64),
}

const PS_PER_S: u128 = 1_000_000_000_000;

impl Rate {
    /// Picoseconds from the flow's first frame to frame `i`, or `None` at line rate. Computed from the
    /// start each time (not by summing a rounded period), so long flows do not drift.
    pub fn offset_ps(&self, i: u64, frame_bytes: u64) -> Option<u128> {
        match *self {
            Rate::Line => None,
            Rate::BitsPerSecond(bps) => {
                let bits = u128::from(frame_bytes + WIRE_OVERHEAD_BYTES) * 8;
                Some(u128::from(i) * bits * PS_PER_S / u128::from(bps))
            }
            Rate::MilliPps(mpps) => Some(u128::from(i) * PS_PER_S * 1000 / u128::from(mpps)),
        }
    }
}

/// A rate that is not `line`, `<n>Gbps`/`Mbps`/`Kbps`/`bps` or `<n>pps`/`kpps`/`Mpps`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad rate `{0}`: expected \"line\", \"<n>Gbps\", \"<n>Mbps\", \"<n>kbps\", \"<n>pps\", \"<n>kpps\" or \"<n>Mpps\" with n > 0")]
pub struct BadRate(String);

impl FromStr for Rate {
    type Err = BadRate;
    fn from_str(s: &str) -> Result<Rate, BadRate> {
        let bad = || BadRate(s.to_owned());
        if s == "line" {
            return Ok(Rate::Line);
        }
        // Longest suffixes first: "Mpps" before "pps", "Gbps" before "bps".
        const UNITS: &[(&str, bool, u32)] = &[
            ("Gbps", true, 9),
            ("Mbps", true, 6),
            ("kbps", true, 3),
            ("Mpps", false, 9),
            ("kpps", false, 6),
            ("bps", true, 0),
            ("pps", false, 3),
        ];
        let (num, bits, scale) = UNITS
            .iter()
            .find_map(|&(unit, bits, scale)| s.strip_suffix(unit).map(|n| (n.trim(), bits, scale)))
            .ok_or_else(bad)?;
        let v = parse_decimal(num, scale)
            .filter(|&v| v > 0)
            .ok_or_else(bad)?;
        Ok(if bits {
            Rate::BitsPerSecond(v)
        } else {
            Rate::MilliPps(v)
        })
    }
}

/// Parses a non-negative decimal such as `2.5` into an integer scaled by 10^scale, exactly; `None` if it
/// is malformed, has more fractional digits than `scale`, or overflows.
pub fn parse_decimal(s: &str, scale: u32) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > scale as usize {
        return None;
    }
    let pad = scale - frac.len() as u32;
    let whole: u64 = format!("{int}{frac}").parse().ok()?;
    whole.checked_mul(10u64.checked_pow(pad)?)
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"line\", \"2.5Gbps\" or \"100000pps\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// An expected value: exactly `n`, or within `{min, max}` (either side optional, both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Bound {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl Bound {
    pub fn exactly(n: u64) -> Bound {
        Bound {
            min: Some(n),
            max: Some(n),
        }
    }

    pub fn holds(&self, v: f64) -> bool {
        self.min.is_none_or(|m| v >= m as f64) && self.max.is_none_or(|m| v <= m as f64)
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (Some(a), Some(b)) => write!(f, "{a}..={b}"),
            (Some(a), None) => write!(f, ">= {a}"),
            (None, Some(b)) => write!(f, "<= {b}"),
            (None, None) => f.write_str("anything"),
        }
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bound, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bound;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or a map {min: n, max: n}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Bound, E> {
                Ok(Bound::exactly(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Bound, E> {
                u64::try_from(n)
                    .map(Bound::exactly)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bound, A::Error> {
                let mut b = Bound::default();
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "min" => &mut b.min,
                        "max" => &mut b.max,
                        other => return Err(de::Error::unknown_field(other, &["min", "max"])),
                    };
                    if slot.replace(map.next_value()?).is_some() {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                }
                match (b.min, b.max) {
                    (None, None) => Err(de::Error::custom("a bound needs `min`, `max` or both")),
                    (Some(lo), Some(hi)) if lo > hi => Err(de::Error::custom(format!(
                        "empty bound: min {lo} is above max {hi}"
                    ))),
                    _ => Ok(b),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_exactly() {
        assert_eq!("line".parse(), Ok(Rate::Line));
        assert_eq!("10Gbps".parse(), Ok(Rate::BitsPerSecond(10_000_000_000)));
        assert_eq!("2.5Gbps".parse(), Ok(Rate::BitsPerSecond(2_500_000_000)));
        assert_eq!("100Mbps".parse(), Ok(Rate::BitsPerSecond(100_000_000)));
        assert_eq!("2.5pps".parse(), Ok(Rate::MilliPps(2_500)));
        assert_eq!("1Mpps".parse(), Ok(Rate::MilliPps(1_000_000_000)));
        assert_eq!("3kpps".parse(), Ok(Rate::MilliPps(3_000_000)));
        for bad in [
            "",
            "fast",
            "Gbps",
            "0pps",
            "-1Gbps",
            "1.2.3Gbps",
            "1.0001pps",
            "1e3pps",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rate_offsets_count_the_wire_overhead_and_do_not_drift() {
        // 64 B frames at 10 Gb/s: (64 + 20) * 8 bits = 67.2 ns each.
        let r = Rate::BitsPerSecond(10_000_000_000);
        assert_eq!(r.offset_ps(1, 64), Some(67_200));
        assert_eq!(r.offset_ps(1000, 64), Some(67_200_000));
        // 3 pps: frame 1 at 333.333... ms (floored to the picosecond), frame 3 at exactly 1 s.
        let r = Rate::MilliPps(3_000);
        assert_eq!(r.offset_ps(1, 64), Some(333_333_333_333));
        assert_eq!(r.offset_ps(3, 64), Some(PS_PER_S));
        assert_eq!(Rate::Line.offset_ps(5, 64), None);
    }

    #[test]
    fn bounds_parse_from_numbers_and_maps() {
        let b: Bound = serde_norway::from_str("7").unwrap();
        assert_eq!(b, Bound::exactly(7));
        assert!(b.holds(7.0) && !b.holds(8.0));
        let b: Bound = serde_norway::from_str("{max: 3}").unwrap();
        assert!(b.holds(0.0) && b.holds(3.0) && !b.holds(3.5));
        assert_eq!(b.to_string(), "<= 3");
        for bad in ["-1", "{}", "{min: 4, max: 2}", "{mini: 1}", "x"] {
            assert!(
                serde_norway::from_str::<Bound>(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
