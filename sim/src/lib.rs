//! nicsim's top layer: the scenario runner ([`runner`]), which builds the world and the host from a
//! scenario, runs the one timeline and closes the books; the post-run outputs ([`analysis`]: Perfetto
//! trace and SVG plots; [`ledger`]: one CSV row per frame, which [`explain`] tells the story of);
//! parameter sweeps ([`sweep`]); Linux's packetdrill TCP tests ([`packetdrill`]); and the `nicsim`
//! command line ([`cli`]).

pub mod analysis;
pub mod cli;
pub mod explain;
pub mod interrupt;
pub mod ledger;
pub mod packetdrill;
pub mod runner;
pub mod sweep;
