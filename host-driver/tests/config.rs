//! The `host:` scenario section: defaults, unknown keys and bad values are errors naming the field.

use host_driver::config::{HostConfig, ItrSetting, NapiMode};
use host_driver::host::{Host, HostError};

#[test]
fn yaml_overrides_defaults() {
    let cfg: HostConfig = serde_norway::from_str(
        "mac: 02:aa:00:00:00:07\ncpus: 4\nrps_cpus: [1, 2, 3]\nnapi_mode: per_packet\n\
         costs: { irq_entry_ns: 1500 }\nsysctl: { netdev_budget: 600 }\n",
    )
    .expect("valid host section");
    assert_eq!(cfg.mac.to_string(), "02:aa:00:00:00:07");
    assert_eq!(cfg.cpus, 4);
    assert_eq!(cfg.napi_mode, NapiMode::PerPacket);
    assert_eq!(cfg.costs.irq_entry_ns, 1500);
    assert_eq!(
        cfg.costs.mmio_write_ns, 100,
        "unset costs keep their default"
    );
    assert_eq!(cfg.sysctl.netdev_budget, 600);
    assert_eq!(cfg.sysctl.netdev_budget_usecs, 2000);
    cfg.validate().expect("consistent");
}

#[test]
fn unknown_keys_are_rejected() {
    let err = serde_norway::from_str::<HostConfig>("napi_wieght: 32\n").expect_err("typo");
    assert!(err.to_string().contains("napi_wieght"), "{err}");
    let err = serde_norway::from_str::<HostConfig>("costs: { irq_ns: 5 }\n").expect_err("typo");
    assert!(err.to_string().contains("irq_ns"), "{err}");
}

#[test]
fn bad_values_name_the_field() {
    let cases: [(&str, &str); 7] = [
        ("cpus: 0\n", "cpus"),
        ("cpus: 2\nirq_cpu: 2\n", "irq_cpu"),
        ("rps_cpus: [1]\n", "rps_cpus"),
        ("rx_ring: 100\n", "rx_ring"),
        ("tx_ring: 64\ntx_wake_threshold: 64\n", "tx_wake_threshold"),
        ("multicast: [\"02:00:00:00:00:09\"]\n", "multicast"),
        ("interrupt_throttle_rate: 2\n", "interrupt_throttle_rate"),
    ];
    for (yaml, field) in cases {
        let cfg: HostConfig = serde_norway::from_str(yaml).expect("parses");
        match Host::new(cfg) {
            Err(HostError::Config(e)) => assert_eq!(e.field, field, "{yaml}"),
            Err(e) => panic!("{yaml}: wrong error {e}"),
            Ok(_) => panic!("{yaml}: accepted"),
        }
    }
}

/// `e1000_check_options` (e1000_param.c): the module defaults are InterruptThrottleRate 3 (dynamic
/// conservative), RxIntDelay 0, RxAbsIntDelay 8, TxIntDelay 8, TxAbsIntDelay 32.
#[test]
fn e1000_check_options_defaults() {
    let cfg = HostConfig::default();
    assert_eq!(cfg.itr_setting(), Some(ItrSetting::DynamicConservative));
    assert_eq!(
        (
            cfg.rx_int_delay,
            cfg.rx_abs_int_delay,
            cfg.tx_int_delay,
            cfg.tx_abs_int_delay
        ),
        (0, 8, 8, 32)
    );
    let fixed = HostConfig {
        interrupt_throttle_rate: 8000,
        ..HostConfig::default()
    };
    assert_eq!(fixed.itr_setting(), Some(ItrSetting::Fixed(8000)));
}
