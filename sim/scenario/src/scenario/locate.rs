//! Finds where a node of a scenario file sits (line and column), for errors found after parsing.
//!
//! serde_norway stamps every error raised while it deserializes a node with that node's position. So to
//! locate `traffic[1].udp.size`, the document is replayed through a seed that walks down that path and
//! fails on purpose at the target; the error's location is the answer. No second YAML parser is needed.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Key(k) => write!(f, ".{k}"),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A problem found after parsing, at a path of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: Path,
    pub message: String,
}

impl Problem {
    pub fn new(at: Path, message: impl Into<String>) -> Problem {
        Problem {
            at,
            message: message.into(),
        }
    }
}

/// A path such as `traffic[1].udp.size`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn key(mut self, k: &str) -> Path {
        self.0.push(Seg::Key(k.to_owned()));
        self
    }

    pub fn index(mut self, i: usize) -> Path {
        self.0.push(Seg::Index(i));
        self
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if first => f.write_str(k)?,
                _ => seg.fmt(f)?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Line and column (both 1-based) of the node at `path`, or of its nearest existing ancestor.
pub fn locate(text: &str, path: &Path) -> Option<(usize, usize)> {
    (0..=path.0.len())
        .rev()
        .find_map(|n| locate_exact(text, &path.0[..n]))
}

/// Marks the error the walker raises at its target, to tell it from a real syntax error.
const FOUND: &str = "\u{1}nicsim-locate";

fn locate_exact(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let err = Walker(path)
        .deserialize(serde_norway::Deserializer::from_str(text))
        .err()?;
    if !err.to_string().contains(FOUND) {
        return None;
    }
    err.location().map(|l| (l.line(), l.column()))
}

struct Walker<'p>(&'p [Seg]);

impl<'de> DeserializeSeed<'de> for Walker<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.is_empty() {
            d.deserialize_any(Target)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Walker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a node containing {}", self.0[0])
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Seg::Key(want) = &self.0[0] else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if &key == want {
                return map.next_value_seed(Walker(&self.0[1..]));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Seg::Index(want) = self.0[0] else {
            return Ok(());
        };
        for _ in 0..want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Walker(&self.0[1..])).map(drop)
    }

    // Scalars on the way down: the path does not exist below them.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Ok(())
    }
}

/// Reached the node: fail so that serde_norway reports where it is.
struct Target;

impl<'de> Visitor<'de> for Target {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: a\ntraffic:\n  - udp:\n      count: 3\n  - udp: {count: 4, size: 7}\nexpect:\n  drops:\n    socket_rcvbuff: 3\n";

    #[test]
    fn finds_scalars_maps_and_flow_style_nodes() {
        let p = Path::default()
            .key("traffic")
            .index(1)
            .key("udp")
            .key("size");
        assert_eq!(p.to_string(), "traffic[1].udp.size");
        assert_eq!(locate(DOC, &p), Some((5, 27)));
        let p = Path::default().key("traffic").index(0).key("udp");
        assert_eq!(locate(DOC, &p), Some((4, 7)));
        let p = Path::default()
            .key("expect")
            .key("drops")
            .key("socket_rcvbuff");
        assert_eq!(locate(DOC, &p), Some((8, 21)));
    }

    #[test]
    fn a_missing_node_falls_back_to_its_parent() {
        let p = Path::default()
            .key("traffic")
            .index(0)
            .key("udp")
            .key("rate");
        assert_eq!(locate(DOC, &p), Some((4, 7)));
        assert_eq!(locate(DOC, &Path::default().key("nope")), Some((1, 1)));
    }
}
