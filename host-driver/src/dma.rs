//! Host physical memory and the DMA API (Documentation/core-api/dma-api.rst).
//!
//! One flat byte store at a physical base address. The CPU side allocates (`kmalloc`-like [`HostMemory::alloc`],
//! `dma_alloc_coherent`-like [`HostMemory::alloc_coherent`]) and maps streaming buffers with a direction
//! (`dma_map_single`). The device side ([`HostMemory::device_read`] / [`HostMemory::device_write`], called by
//! the bus model once per AXI burst) may touch only mapped bytes in the mapped direction — what an IOMMU
//! enforces — and anything else is a [`DmaFault`], never undefined behaviour. Unmapping checks length and
//! direction like `CONFIG_DMA_API_DEBUG`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// `enum dma_data_direction`: who may read and who may write a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DmaDir {
    /// `DMA_TO_DEVICE`: the device reads (TX buffers).
    ToDevice,
    /// `DMA_FROM_DEVICE`: the device writes (RX buffers).
    FromDevice,
    /// `DMA_BIDIRECTIONAL`: both (descriptor rings in coherent memory).
    Bidirectional,
}

impl DmaDir {
    fn permits(self, access: DmaDir) -> bool {
        self == DmaDir::Bidirectional || self == access
    }
}

/// A device access outside the memory the driver mapped for it. `dir` is the access: `ToDevice` for a
/// device read, `FromDevice` for a device write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("DMA fault: device {} of {len} bytes at {addr:#x} outside any mapping that permits it",
    if *dir == DmaDir::ToDevice { "read" } else { "write" })]
pub struct DmaFault {
    pub addr: u64,
    pub len: usize,
    pub dir: DmaDir,
}

/// A CPU-side misuse of host memory or of the DMA API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemError {
    #[error("host memory: base {base:#x} must be 4 KiB aligned and base + size ({size:#x}) must fit in 64 bits")]
    BadLayout { base: u64, size: usize },
    #[error("host memory exhausted: cannot allocate {len} bytes aligned to {align} ({in_use} of {size} bytes in use)")]
    OutOfMemory {
        len: usize,
        align: usize,
        in_use: usize,
        size: usize,
    },
    #[error("allocation of {len} bytes with alignment {align}: alignment must be a power of two >= 1 and length > 0")]
    BadRequest { len: usize, align: usize },
    #[error("CPU access of {len} bytes at {addr:#x} is outside host memory")]
    OutOfRange { addr: u64, len: usize },
    #[error("free of {addr:#x}, which is not the start of an allocation")]
    NotAllocated { addr: u64 },
    #[error("free of {addr:#x} while it is still mapped for DMA")]
    FreeWhileMapped { addr: u64 },
    #[error(
        "dma_map of {len} bytes at {addr:#x} overlaps an existing mapping or leaves host memory"
    )]
    BadMap { addr: u64, len: usize },
    #[error("dma_unmap of {addr:#x} ({len} bytes, {dir:?}) does not match a mapping")]
    BadUnmap { addr: u64, len: usize, dir: DmaDir },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapping {
    len: usize,
    dir: DmaDir,
}

/// Blocks are handed out in whole bus words so a device burst that reads a buffer's last 8-byte beat
/// never reads another allocation's bytes.
const BLOCK_GRANULE: usize = 8;

/// Physical memory shared by the CPU model and the bus model.
#[derive(Debug)]
pub struct HostMemory {
    base: u64,
    bytes: Vec<u8>,
    /// Bump pointer: offset of the first never-allocated byte.
    brk: usize,
    /// Freed blocks by block size (`kmem_cache`-like: same-size buffers recycle in O(1)).
    free: BTreeMap<usize, Vec<u64>>,
    /// Live allocations: address → block size.
    allocs: HashMap<u64, usize>,
    /// Live DMA mappings by start address.
    maps: BTreeMap<u64, Mapping>,
    in_use: usize,
}

impl HostMemory {
    /// Physical address host memory starts at by default (nonzero, so a zeroed descriptor faults).
    pub const DEFAULT_BASE: u64 = 0x1_0000_0000;

    pub fn new(base: u64, size: usize) -> Result<HostMemory, MemError> {
        if base % 4096 != 0 || base.checked_add(size as u64).is_none() {
            return Err(MemError::BadLayout { base, size });
        }
        Ok(HostMemory {
            base,
            bytes: vec![0; size],
            brk: 0,
            free: BTreeMap::new(),
            allocs: HashMap::new(),
            maps: BTreeMap::new(),
            in_use: 0,
        })
    }

    pub fn base(&self) -> u64 {
        self.base
    }

    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes in live allocations.
    pub fn bytes_in_use(&self) -> usize {
        self.in_use
    }

    /// Number of live DMA mappings (coherent allocations included).
    pub fn mapping_count(&self) -> usize {
        self.maps.len()
    }

    /// `kmalloc`: CPU-only memory, not visible to the device until mapped.
    pub fn alloc(&mut self, len: usize, align: usize) -> Result<u64, MemError> {
        if len == 0 || !align.is_power_of_two() {
            return Err(MemError::BadRequest { len, align });
        }
        let block = len.next_multiple_of(BLOCK_GRANULE);
        let align = align.max(BLOCK_GRANULE) as u64;
        let recycled = self.free.get_mut(&block).and_then(|list| {
            let i = list.iter().rposition(|a| a % align == 0)?;
            Some(list.swap_remove(i))
        });
        let addr = match recycled {
            Some(a) => a,
            None => {
                let start = (self.base + self.brk as u64).next_multiple_of(align);
                let end = start - self.base + block as u64;
                if end > self.bytes.len() as u64 {
                    return Err(MemError::OutOfMemory {
                        len,
                        align: align as usize,
                        in_use: self.in_use,
                        size: self.bytes.len(),
                    });
                }
                self.brk = end as usize;
                start
            }
        };
        self.allocs.insert(addr, block);
        self.in_use += block;
        Ok(addr)
    }

    /// `kfree`. The block must not be mapped any more.
    pub fn free(&mut self, addr: u64) -> Result<(), MemError> {
        let block = *self
            .allocs
            .get(&addr)
            .ok_or(MemError::NotAllocated { addr })?;
        if self.overlapping_mapping(addr, block).is_some() {
            return Err(MemError::FreeWhileMapped { addr });
        }
        self.allocs.remove(&addr);
        self.in_use -= block;
        self.free.entry(block).or_default().push(addr);
        Ok(())
    }

    /// `dma_alloc_coherent`: zeroed memory mapped for both directions for its whole life.
    pub fn alloc_coherent(&mut self, len: usize, align: usize) -> Result<u64, MemError> {
        let addr = self.alloc(len, align)?;
        let off = self.offset(addr, len)?;
        self.bytes[off..off + len].fill(0);
        self.map(addr, len, DmaDir::Bidirectional)?;
        Ok(addr)
    }

    /// `dma_free_coherent`.
    pub fn free_coherent(&mut self, addr: u64, len: usize) -> Result<(), MemError> {
        self.unmap(addr, len, DmaDir::Bidirectional)?;
        self.free(addr)
    }

    /// `dma_map_single`: lets the device access `[addr, addr + len)` in direction `dir`. With no IOMMU
    /// translation the bus address equals the physical address, which is returned.
    pub fn map(&mut self, addr: u64, len: usize, dir: DmaDir) -> Result<u64, MemError> {
        if len == 0
            || self.offset(addr, len).is_err()
            || self.overlapping_mapping(addr, len).is_some()
        {
            return Err(MemError::BadMap { addr, len });
        }
        self.maps.insert(addr, Mapping { len, dir });
        Ok(addr)
    }

    /// `dma_unmap_single`: length and direction must match the map call.
    pub fn unmap(&mut self, addr: u64, len: usize, dir: DmaDir) -> Result<(), MemError> {
        match self.maps.get(&addr) {
            Some(m) if *m == (Mapping { len, dir }) => {
                self.maps.remove(&addr);
                Ok(())
            }
            _ => Err(MemError::BadUnmap { addr, len, dir }),
        }
    }

    /// CPU read.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        let off = self.offset(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[off..off + buf.len()]);
        Ok(())
    }

    /// CPU view of `len` bytes at `addr`.
    pub fn slice(&self, addr: u64, len: usize) -> Result<&[u8], MemError> {
        let off = self.offset(addr, len)?;
        Ok(&self.bytes[off..off + len])
    }

    /// CPU write.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let off = self.offset(addr, data.len())?;
        self.bytes[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// CPU read of a `zerocopy` layout (a descriptor).
    pub fn read_obj<T: FromBytes>(&self, addr: u64) -> Result<T, MemError> {
        let len = size_of::<T>();
        let off = self.offset(addr, len)?;
        T::read_from_bytes(&self.bytes[off..off + len])
            .map_err(|_| MemError::OutOfRange { addr, len })
    }

    /// CPU write of a `zerocopy` layout.
    pub fn write_obj<T: IntoBytes + Immutable>(
        &mut self,
        addr: u64,
        obj: &T,
    ) -> Result<(), MemError> {
        self.write(addr, obj.as_bytes())
    }

    /// Device (DMA) read of `buf.len()` bytes at `addr`.
    pub fn device_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        let off = self.device_check(addr, buf.len(), DmaDir::ToDevice)?;
        buf.copy_from_slice(&self.bytes[off..off + buf.len()]);
        Ok(())
    }

    /// Device (DMA) write of `data` at `addr`.
    pub fn device_write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        let off = self.device_check(addr, data.len(), DmaDir::FromDevice)?;
        self.bytes[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// The whole access must lie inside one mapping whose direction permits it.
    fn device_check(&self, addr: u64, len: usize, access: DmaDir) -> Result<usize, DmaFault> {
        let fault = DmaFault {
            addr,
            len,
            dir: access,
        };
        let (&start, m) = self.maps.range(..=addr).next_back().ok_or(fault)?;
        let end = addr.checked_add(len as u64).ok_or(fault)?;
        if end > start + m.len as u64 || !m.dir.permits(access) {
            return Err(fault);
        }
        // Mappings are validated against the memory bounds when created.
        Ok((addr - self.base) as usize)
    }

    fn overlapping_mapping(&self, addr: u64, len: usize) -> Option<u64> {
        let end = addr + len as u64;
        let before = self.maps.range(..addr).next_back();
        if let Some((&s, m)) = before {
            if s + m.len as u64 > addr {
                return Some(s);
            }
        }
        self.maps.range(addr..end).next().map(|(&s, _)| s)
    }

    fn offset(&self, addr: u64, len: usize) -> Result<usize, MemError> {
        let err = MemError::OutOfRange { addr, len };
        let off = addr.checked_sub(self.base).ok_or(err.clone())?;
        let end = off.checked_add(len as u64).ok_or(err.clone())?;
        if end > self.bytes.len() as u64 {
            return Err(err);
        }
        Ok(off as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> HostMemory {
        HostMemory::new(HostMemory::DEFAULT_BASE, 1 << 20).expect("valid layout")
    }

    #[test]
    fn device_access_needs_a_mapping_in_the_right_direction() {
        let mut m = mem();
        let buf = m.alloc(2048, 2048).expect("alloc");
        assert_eq!(
            m.device_write(buf, &[1; 64]),
            Err(DmaFault {
                addr: buf,
                len: 64,
                dir: DmaDir::FromDevice
            })
        );
        m.map(buf, 2048, DmaDir::FromDevice).expect("map");
        m.device_write(buf + 8, &[7; 64]).expect("mapped write");
        let mut back = [0; 4];
        assert_eq!(
            m.device_read(buf, &mut back),
            Err(DmaFault {
                addr: buf,
                len: 4,
                dir: DmaDir::ToDevice
            })
        );
        assert_eq!(
            m.device_write(buf + 2040, &[0; 16]),
            Err(DmaFault {
                addr: buf + 2040,
                len: 16,
                dir: DmaDir::FromDevice
            })
        );
        m.read(buf + 8, &mut back).expect("cpu read");
        assert_eq!(back, [7; 4]);
        assert_eq!(
            m.unmap(buf, 2048, DmaDir::ToDevice),
            Err(MemError::BadUnmap {
                addr: buf,
                len: 2048,
                dir: DmaDir::ToDevice
            })
        );
        assert_eq!(m.free(buf), Err(MemError::FreeWhileMapped { addr: buf }));
        m.unmap(buf, 2048, DmaDir::FromDevice).expect("unmap");
        assert!(m.device_write(buf, &[0; 8]).is_err());
        m.free(buf).expect("free");
        assert_eq!(m.free(buf), Err(MemError::NotAllocated { addr: buf }));
    }

    #[test]
    fn freed_blocks_are_recycled_and_exhaustion_is_an_error() {
        let mut m = HostMemory::new(0x1000, 8192).expect("layout");
        let a = m.alloc(2048, 2048).expect("a");
        let b = m.alloc(100, 8).expect("b");
        assert_eq!(b, a + 2048);
        m.free(a).expect("free a");
        assert_eq!(m.alloc(2048, 2048), Ok(a));
        assert!(matches!(
            m.alloc(8192, 8),
            Err(MemError::OutOfMemory { .. })
        ));
        assert_eq!(
            m.alloc(0, 8),
            Err(MemError::BadRequest { len: 0, align: 8 })
        );
        assert_eq!(m.bytes_in_use(), 2048 + 104);
    }

    #[test]
    fn coherent_memory_is_zeroed_and_device_visible_both_ways() {
        let mut m = mem();
        let a = m.alloc(64, 64).expect("alloc");
        m.write(a, &[0xFF; 64]).expect("dirty");
        m.free(a).expect("free");
        let ring = m.alloc_coherent(64, 64).expect("coherent");
        assert_eq!(ring, a);
        assert_eq!(m.slice(ring, 64).expect("slice"), &[0; 64]);
        m.device_write(ring, &[5; 16]).expect("write");
        let mut d = [0; 16];
        m.device_read(ring, &mut d).expect("read");
        assert_eq!(d, [5; 16]);
        assert_eq!(
            m.map(ring + 8, 8, DmaDir::ToDevice),
            Err(MemError::BadMap {
                addr: ring + 8,
                len: 8
            })
        );
        m.free_coherent(ring, 64).expect("free coherent");
        assert_eq!(m.mapping_count(), 0);
    }

    #[test]
    fn cpu_access_outside_memory_is_an_error() {
        let m = mem();
        let mut b = [0; 8];
        assert!(matches!(
            m.read(0, &mut b),
            Err(MemError::OutOfRange { .. })
        ));
        assert!(matches!(
            m.read(m.base() + (1 << 20) - 4, &mut b),
            Err(MemError::OutOfRange { .. })
        ));
    }
}
