//! Descriptor ring index arithmetic (`struct e1000_rx_ring`/`e1000_tx_ring`: `next_to_use`,
//! `next_to_clean`, `E1000_DESC_UNUSED`), kept in one place for both rings.
//!
//! The driver fills at `next_to_use` and reclaims at `next_to_clean`. The tail register is written with
//! `next_to_use`, so the NIC owns `[head, tail)`; one slot always stays empty to tell a full ring from an
//! empty one, hence `unused = count - 1 - in_flight`.

use crate::desc::DESC_SIZE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    /// Physical address of descriptor 0 (coherent memory).
    pub base: u64,
    count: u16,
    next_to_use: u16,
    next_to_clean: u16,
}

impl Ring {
    /// A ring of `count` descriptors at `base`; `count` is validated by the host config (8..=4096, multiple of 8).
    pub fn new(base: u64, count: u16) -> Ring {
        Ring {
            base,
            count,
            next_to_use: 0,
            next_to_clean: 0,
        }
    }

    pub fn count(&self) -> u16 {
        self.count
    }

    /// Ring size in bytes, the value of RDLEN/TDLEN.
    pub fn len_bytes(&self) -> u32 {
        u32::from(self.count) * DESC_SIZE as u32
    }

    pub fn next_to_use(&self) -> u16 {
        self.next_to_use
    }

    pub fn next_to_clean(&self) -> u16 {
        self.next_to_clean
    }

    /// Physical address of descriptor `i`.
    pub fn desc_addr(&self, i: u16) -> u64 {
        self.base + u64::from(i) * DESC_SIZE as u64
    }

    /// `E1000_DESC_UNUSED`: slots the driver may still fill.
    pub fn unused(&self) -> u16 {
        let gap = if self.next_to_clean > self.next_to_use {
            0
        } else {
            self.count
        };
        gap + self.next_to_clean - self.next_to_use - 1
    }

    /// Slots filled and not yet cleaned.
    pub fn in_flight(&self) -> u16 {
        self.count - 1 - self.unused()
    }

    /// Claims the slot at `next_to_use` and advances it.
    pub fn take_next_to_use(&mut self) -> u16 {
        let i = self.next_to_use;
        self.next_to_use = self.next(i);
        i
    }

    /// Releases the slot at `next_to_clean` and advances it.
    pub fn take_next_to_clean(&mut self) -> u16 {
        let i = self.next_to_clean;
        self.next_to_clean = self.next(i);
        i
    }

    fn next(&self, i: u16) -> u16 {
        if i + 1 == self.count {
            0
        } else {
            i + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_counts_wrap_and_keep_one_slot_empty() {
        let mut r = Ring::new(0x1000, 8);
        assert_eq!((r.unused(), r.in_flight()), (7, 0));
        for expect in 0..7 {
            assert_eq!(r.take_next_to_use(), expect);
        }
        assert_eq!((r.unused(), r.in_flight()), (0, 7));
        assert_eq!(r.take_next_to_clean(), 0);
        assert_eq!(r.take_next_to_clean(), 1);
        assert_eq!(r.unused(), 2);
        assert_eq!(r.take_next_to_use(), 7);
        assert_eq!(r.take_next_to_use(), 0);
        assert_eq!((r.next_to_use(), r.unused()), (1, 0));
        assert_eq!(r.desc_addr(7), 0x1070);
        assert_eq!(r.len_bytes(), 128);
    }
}
