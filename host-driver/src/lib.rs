//! nicsim host: the software half of the co-simulation.
//!
//! An e1000-style driver ([`driver`]) under the core it registers with (NAPI and the NET_RX softirq:
//! [`napi`] with GRO ([`gro`]), [`softirq`], [`softnet`]; transmit: [`netdevice`]), a Linux-like protocol stack
//! ([`stack`]) over one [`skb::Skb`] type, sockets and applications, all running on
//! simulated CPUs ([`cpu`], [`host`]; what they ran is kept in [`activity`]) whose time is charged from
//! one cost table ([`costs`]). The device is reached only through [`platform::Platform`] (the bus) and
//! [`accounting::Observer`] (the logic analyser's out-of-band frame identity), so this crate has no
//! Verilator dependency.

pub mod accounting;
pub mod activity;
pub mod config;
pub mod costs;
pub mod cpu;
pub mod ctx;
pub mod desc;
pub mod dma;
pub mod dql;
pub mod driver;
pub mod gro;
pub mod host;
pub mod napi;
pub mod netdevice;
pub mod platform;
pub mod regs;
pub mod sched;
pub mod skb;
pub mod softirq;
pub mod softnet;
pub mod stack;
pub mod time;
pub mod wire;
