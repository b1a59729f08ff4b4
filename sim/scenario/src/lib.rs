//! What a nicsim run is asked to do and what it reports, without Verilator: the scenario schema and
//! its validation ([`scenario`], with [`scenario::locate`] for file:line:column and
//! [`scenario::units`]), the traffic it plans ([`traffic`], [`replay`]), the link partner's
//! configuration ([`peer`]), damage on the cable ([`faults`]), the per-hop latency analysis ([`latency`], [`histogram`]), the typed run
//! report ([`report`]) and the expectations checked against it ([`expect`]).

pub mod expect;
pub mod faults;
pub mod histogram;
pub mod latency;
pub mod peer;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod traffic;
