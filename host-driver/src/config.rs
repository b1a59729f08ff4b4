//! Host configuration: the `host:` section of a scenario (driver, softirq and CPU parameters, costs).
//!
//! Every struct is `deny_unknown_fields` with documented defaults; [`HostConfig::validate`] turns bad
//! values into a [`ConfigError`] naming the field, before anything runs.

use serde::Deserialize;

use crate::costs::Costs;
use crate::stack::{AppConfig, StackConfig};
use crate::time::Clock;
use crate::wire::ethernet::MacAddr;

/// How the driver takes received frames off the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NapiMode {
    /// NAPI: one interrupt, then polling with the interrupt masked until the ring is drained.
    #[default]
    Napi,
    /// Interrupt per packet: the poll takes one frame and unmasks again, re-raising the interrupt (ICS)
    /// if more are waiting — the pre-NAPI behaviour that livelocks under load.
    PerPacket,
}

/// e1000's interrupt moderation mode (`adapter->itr_setting`, e1000_param.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItrSetting {
    /// 0: ITR not written, no throttling.
    Off,
    /// 1: dynamic (`e1000_set_itr` over all three latency ranges).
    Dynamic,
    /// 3: dynamic conservative (lowest_latency is not used).
    DynamicConservative,
    /// A fixed number of interrupts per second.
    Fixed(u32),
}

/// The net.core sysctls (Documentation/admin-guide/sysctl/net.rst), with kernel defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sysctl {
    /// `net.core.netdev_budget`: packets one `net_rx_action` run may process.
    pub netdev_budget: u32,
    /// `net.core.netdev_budget_usecs`: simulated time one `net_rx_action` run may take.
    pub netdev_budget_usecs: u64,
    /// `net.core.netdev_max_backlog`: per-CPU `input_pkt_queue` limit (RPS backlog).
    pub netdev_max_backlog: u32,
    /// `net.core.dev_weight`: weight of the per-CPU backlog NAPI (`process_backlog`).
    pub dev_weight: u32,
    /// `net.core.gro_normal_batch`: skbs GRO holds before passing them up as a list.
    pub gro_normal_batch: u32,
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            netdev_budget: 300,
            netdev_budget_usecs: 2000,
            netdev_max_backlog: 1000,
            dev_weight: 64,
            gro_normal_batch: 8,
        }
    }
}

/// eth0's offload features as `ethtool -k` names them (`netdev_features_t`), each with the e1000
/// default; the keys are the ethtool feature names (`generic-receive-offload`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Features {
    /// `NETIF_F_GRO`, set by `e1000_probe`: NAPI merges TCP segments ([`crate::gro`]); off, every skb
    /// goes up as it came (`netif_elide_gro`).
    pub generic_receive_offload: bool,
    /// `NETIF_F_RXCSUM` (`adapter->rx_csum`), set by `e1000_probe`: RXCSUM.TUOFLD on, and
    /// `e1000_rx_checksum` marks frames with a good TCP/UDP checksum `CHECKSUM_UNNECESSARY`.
    pub rx_checksumming: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            generic_receive_offload: true,
            rx_checksumming: true,
        }
    }
}

/// The `host:` section of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Station address programmed into RAL0/RAH0.
    pub mac: MacAddr,
    /// Multicast groups whose hash bits are set in the MTA (`e1000_set_rx_mode`).
    pub multicast: Vec<MacAddr>,
    /// RCTL.UPE: accept every unicast frame.
    pub promiscuous: bool,
    /// Simulated CPUs.
    pub cpus: usize,
    /// CPU the NIC interrupt is routed to (`/proc/irq/N/smp_affinity`).
    pub irq_cpu: usize,
    /// CPU the applications run on.
    pub app_cpu: usize,
    /// RPS target CPUs (`/sys/class/net/eth0/queues/rx-0/rps_cpus`); empty = RPS off.
    pub rps_cpus: Vec<usize>,
    /// RX descriptors (8..=4096, multiple of 8: RDLEN is a multiple of 128 bytes).
    pub rx_ring: u16,
    /// TX descriptors (8..=4096, multiple of 8).
    pub tx_ring: u16,
    /// Buffers refilled per RDT write (`E1000_RX_BUFFER_WRITE`).
    pub rx_refill_batch: u16,
    /// NAPI weight of the driver's poll (`NAPI_POLL_WEIGHT`).
    pub napi_weight: u32,
    /// e1000 module parameter `copybreak` (`COPYBREAK_DEFAULT` 256): frames up to this many bytes are
    /// copied into a small skb and the ring buffer is reused; 0 = never copy.
    pub copybreak: u32,
    pub napi_mode: NapiMode,
    /// Stop the TX queue after posting when fewer descriptors than this are free (`desc_needed` of
    /// `e1000_xmit_frame`: `MAX_SKB_FRAGS + 7` = 24).
    pub tx_stop_threshold: u16,
    /// Wake it in `e1000_clean_tx_irq` once at least this many are free again (`TX_WAKE_THRESHOLD`, 32).
    pub tx_wake_threshold: u16,
    /// `/sys/class/net/eth0/queues/tx-0/byte_queue_limits/limit_min`: the byte queue limit never
    /// drops below this (0, the default, lets BQL adapt freely; a large value turns it off).
    pub bql_limit_min: u32,
    /// e1000 `InterruptThrottleRate` (e1000_param.c): 0 = off, 1 = dynamic, 3 = dynamic conservative
    /// (the module default), 100..=100000 = that many interrupts per second at most.
    pub interrupt_throttle_rate: u32,
    /// RDTR in 1.024 µs units (e1000 `RxIntDelay`, default `DEFAULT_RDTR` 0).
    pub rx_int_delay: u16,
    /// RADV in 1.024 µs units (e1000 `RxAbsIntDelay`, default `DEFAULT_RADV` 8).
    pub rx_abs_int_delay: u16,
    /// TIDV in 1.024 µs units (e1000 `TxIntDelay`, default `DEFAULT_TIDV` 8). The driver writes it; this
    /// NIC has no TX interrupt delay timers and ignores the write.
    pub tx_int_delay: u16,
    /// TADV in 1.024 µs units (e1000 `TxAbsIntDelay`, default `DEFAULT_TADV` 32); ignored like TIDV.
    pub tx_abs_int_delay: u16,
    /// `/sys/class/net/eth0/napi_defer_hard_irqs`: empty polls `napi_complete_done` may answer by keeping
    /// the interrupt masked and re-polling from a timer (0 = off, the kernel default).
    pub napi_defer_hard_irqs: u32,
    /// `/sys/class/net/eth0/gro_flush_timeout` in ns: the timer that re-polls a deferred NAPI (0, the
    /// kernel default, disables deferral).
    pub gro_flush_timeout_ns: u64,
    /// Addresses, routes, neighbours and net.ipv4 sysctls of eth0.
    pub stack: StackConfig,
    /// Application processes.
    pub apps: Vec<AppConfig>,
    pub costs: Costs,
    pub sysctl: Sysctl,
    /// `ethtool -K eth0 ...`: offload features.
    pub features: Features,
    /// The NIC core clock; not a scenario key: the simulator sets it from the NIC's clock.
    #[serde(skip)]
    pub clock: Clock,
    /// The scenario seed; not a key of `host:` (the scenario's top-level `seed`).
    #[serde(skip)]
    pub seed: u64,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            mac: MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]),
            multicast: Vec::new(),
            promiscuous: false,
            cpus: 1,
            irq_cpu: 0,
            app_cpu: 0,
            rps_cpus: Vec::new(),
            rx_ring: 256,
            tx_ring: 256,
            rx_refill_batch: 16,
            napi_weight: 64,
            copybreak: 256,
            napi_mode: NapiMode::Napi,
            tx_stop_threshold: crate::driver::tx::E1000_DESC_NEEDED,
            tx_wake_threshold: crate::driver::tx::TX_WAKE_THRESHOLD,
            bql_limit_min: 0,
            interrupt_throttle_rate: 3,
            rx_int_delay: 0,
            rx_abs_int_delay: 8,
            tx_int_delay: 8,
            tx_abs_int_delay: 32,
            napi_defer_hard_irqs: 0,
            gro_flush_timeout_ns: 0,
            stack: StackConfig::default(),
            apps: Vec::new(),
            costs: Costs::default(),
            sysctl: Sysctl::default(),
            features: Features::default(),
            clock: Clock::default(),
            seed: 1,
        }
    }
}

/// A host configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host config `{field}`: {why}")]
pub struct ConfigError {
    pub field: &'static str,
    pub why: String,
}

fn bad(field: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        why: why.into(),
    }
}

impl HostConfig {
    /// Checks every value the host relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cpus == 0 {
            return Err(bad("cpus", "at least one CPU is needed"));
        }
        for (field, cpu) in [("irq_cpu", self.irq_cpu), ("app_cpu", self.app_cpu)] {
            if cpu >= self.cpus {
                return Err(bad(
                    field,
                    format!("CPU {cpu} does not exist (cpus = {})", self.cpus),
                ));
            }
        }
        if let Some(c) = self.rps_cpus.iter().find(|&&c| c >= self.cpus) {
            return Err(bad(
                "rps_cpus",
                format!("CPU {c} does not exist (cpus = {})", self.cpus),
            ));
        }
        for (field, n) in [("rx_ring", self.rx_ring), ("tx_ring", self.tx_ring)] {
            if !(8..=4096).contains(&n) || n % 8 != 0 {
                return Err(bad(
                    field,
                    format!("{n} descriptors: need 8..=4096 and a multiple of 8"),
                ));
            }
        }
        if self.rx_refill_batch == 0 || self.rx_refill_batch >= self.rx_ring {
            return Err(bad(
                "rx_refill_batch",
                format!("{} must be in 1..rx_ring", self.rx_refill_batch),
            ));
        }
        if self.napi_weight == 0 {
            return Err(bad("napi_weight", "must be at least 1"));
        }
        if self.tx_stop_threshold == 0 || self.tx_stop_threshold >= self.tx_ring {
            return Err(bad("tx_stop_threshold", "must be in 1..tx_ring"));
        }
        if self.tx_wake_threshold < self.tx_stop_threshold || self.tx_wake_threshold >= self.tx_ring
        {
            return Err(bad(
                "tx_wake_threshold",
                "must be in tx_stop_threshold..tx_ring",
            ));
        }
        if self.itr_setting().is_none() {
            return Err(bad(
                "interrupt_throttle_rate",
                format!(
                    "{}: need 0 (off), 1 (dynamic), 3 (dynamic conservative) or 100..=100000",
                    self.interrupt_throttle_rate
                ),
            ));
        }
        if let Some(m) = self.multicast.iter().find(|m| !m.is_multicast()) {
            return Err(bad("multicast", format!("{m} is not a group address")));
        }
        Clock::new(self.clock.ps_per_cycle).map_err(|e| bad("clock", e.to_string()))?;
        let s = &self.sysctl;
        for (field, v) in [
            ("sysctl.netdev_budget", u64::from(s.netdev_budget)),
            ("sysctl.netdev_budget_usecs", s.netdev_budget_usecs),
            ("sysctl.dev_weight", u64::from(s.dev_weight)),
            ("sysctl.gro_normal_batch", u64::from(s.gro_normal_batch)),
        ] {
            if v == 0 {
                return Err(bad(field, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// The moderation mode `interrupt_throttle_rate` selects (`e1000_check_options`), if valid.
    pub fn itr_setting(&self) -> Option<ItrSetting> {
        match self.interrupt_throttle_rate {
            0 => Some(ItrSetting::Off),
            1 => Some(ItrSetting::Dynamic),
            3 => Some(ItrSetting::DynamicConservative),
            r @ 100..=100_000 => Some(ItrSetting::Fixed(r)),
            _ => None,
        }
    }
}
