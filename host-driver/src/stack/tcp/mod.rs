//! Linux TCP (net/ipv4/tcp*.c), one module per kernel file.

pub mod tcp_cong;
pub mod tcp_cubic;
