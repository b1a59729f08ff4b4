//! `e1000_probe`/`e1000_open`: register programming order and values, rings and buffers in host memory.

mod support;

use host_driver::config::HostConfig;
use host_driver::desc::RxDesc;
use host_driver::driver::isr::IMS_ENABLE_MASK;
use host_driver::driver::probe::mta_hash;
use host_driver::regs::*;
use host_driver::wire::ethernet::MacAddr;
use rstest::rstest;
use support::{Mmio, Sim};

/// The values `e1000_probe` + `e1000_open` program (their order is a contract test, run on this
/// double and on the RTL: tests/contract).
#[test]
fn registers_get_the_kernel_values() {
    let cfg = HostConfig {
        rx_ring: 64,
        tx_ring: 128,
        ..HostConfig::default()
    };
    let sim = Sim::new(cfg);
    let value = |off| {
        sim.nic.log.iter().find_map(|m| match *m {
            Mmio::Write { off: o, val, .. } if o == off => Some(val),
            _ => None,
        })
    };
    assert_eq!(
        [TIDV, TADV, RDTR, RADV, ITR].map(value),
        [Some(8), Some(32), Some(0), Some(8), Some(195)]
    );
    let nic = &sim.nic;
    assert_eq!(nic.reg(RAL0), 0x0000_0002);
    assert_eq!(nic.reg(RAH0), 0x0100 | RAH_AV);
    assert_eq!(nic.reg(TDLEN), 128 * 16);
    assert_eq!(nic.reg(RDLEN), 64 * 16);
    assert_eq!(nic.reg(TCTL), TCTL_EN | TCTL_PSP);
    assert_eq!(nic.reg(RCTL), RCTL_EN | RCTL_BAM);
    assert_eq!(nic.reg(RDT), 63, "all but one descriptor posted");
    assert_eq!(nic.ims(), IMS_ENABLE_MASK);
    assert_eq!(nic.reg(ITR), 195, "1e9 / (20000 * 256)");
}

#[test]
fn posted_descriptors_point_at_device_writable_buffers() {
    let mut sim = Sim::new(HostConfig {
        rx_ring: 32,
        ..HostConfig::default()
    });
    let base = u64::from(sim.nic.reg(RDBAL)) | (u64::from(sim.nic.reg(RDBAH)) << 32);
    assert_eq!(base % 16, 0);
    let mem = host_driver::platform::Platform::memory(&mut sim.nic);
    let mut bufs = Vec::new();
    for slot in 0..31u64 {
        let d: RxDesc = mem.read_obj(base + slot * 16).expect("descriptor");
        assert_eq!(d.status, 0);
        mem.device_write(d.addr.get(), &[0xAA; RX_BUFFER_SIZE])
            .expect("buffer mapped for the device");
        bufs.push(d.addr.get());
    }
    bufs.sort_unstable();
    bufs.dedup();
    assert_eq!(bufs.len(), 31, "every slot has its own buffer");
    let unposted: RxDesc = mem.read_obj(base + 31 * 16).expect("descriptor");
    assert_eq!(unposted.addr.get(), 0);
    // Two coherent rings plus 31 streaming RX buffers.
    assert_eq!(mem.mapping_count(), 33);
}

#[rstest]
#[case::plain(false, vec![], RCTL_EN | RCTL_BAM)]
#[case::promiscuous(true, vec![], RCTL_EN | RCTL_BAM | RCTL_UPE)]
#[case::multicast(false, vec!["01:00:5e:00:00:fb", "33:33:00:00:00:01"], RCTL_EN | RCTL_BAM)]
fn rx_mode_follows_config(#[case] promiscuous: bool, #[case] groups: Vec<&str>, #[case] rctl: u32) {
    let multicast: Vec<MacAddr> = groups.iter().map(|g| g.parse().expect("mac")).collect();
    let sim = Sim::new(HostConfig {
        promiscuous,
        multicast: multicast.clone(),
        ..HostConfig::default()
    });
    assert_eq!(sim.nic.reg(RCTL), rctl);
    let mut expect = [0u32; MTA_LEN as usize];
    for g in &multicast {
        let h = mta_hash(*g);
        expect[h / 32] |= 1 << (h % 32);
    }
    let got: Vec<u32> = (0..MTA_LEN).map(|i| sim.nic.reg(mta(i))).collect();
    assert_eq!(got, expect);
    // 01:00:5e:00:00:fb hashes to bit 0xfb0 (mac[5] << 4 | mac[4] >> 4).
    if !multicast.is_empty() {
        assert_eq!(sim.nic.reg(mta(0xfb0 / 32)), 1 << (0xfb0 % 32));
    }
}
