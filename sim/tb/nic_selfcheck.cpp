// Self-checking testbench of the whole NIC (nic_top) with a minimal driver: payload bytes and descriptors
// for every frame length 64..200, write-back probe order, every drop code with its counter, clear-on-read,
// filtering, realignment, RNBC, FIFO overrun, interrupts and their timers, CTRL.RST, RX and TX at once.
// It also checks the testbench tables against the RTL's: the register offsets of nic_regs.h against the
// rtl/README.md register map, the rx_evt codes against rtl/nic_rx_events.vh.
//
//   nic_selfcheck [rtl_dir]    exit status 0 = pass (rtl_dir defaults to NIC_RTL_DIR from the build)

#include "nic_tb.h"

#include <fstream>
#include <regex>
#include <map>
#include <sstream>

#ifndef NIC_RTL_DIR
#define NIC_RTL_DIR "rtl"
#endif

using namespace nic;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        check(false, "cannot read " + path);
        return "";
    }
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every register of nic_regs.h appears in the README register map with the same offset.
void check_tables(const std::string& rtl) {
    const std::string readme = slurp(rtl + "/README.md");
    std::map<std::string, uint32_t> doc;
    const std::regex row(R"(\n\| (\w+)(?:\[n\])? \| (0x[0-9A-Fa-f]+))");
    for (std::sregex_iterator it(readme.begin(), readme.end(), row), end; it != end; ++it)
        doc[(*it)[1]] = static_cast<uint32_t>(std::stoul((*it)[2], nullptr, 16));
    bool regs_ok = true;
#define NIC_REG_CHECK(name, off)                                                                   \
    if (!doc.count(#name) || doc[#name] != (off)) {                                                \
        printf("     %s: nic_regs.h 0x%04X, README %s\n", #name, (off),                            \
               doc.count(#name) ? std::to_string(doc[#name]).c_str() : "missing");                 \
        regs_ok = false;                                                                           \
    }
    NIC_REGS(NIC_REG_CHECK)
#undef NIC_REG_CHECK
    check(regs_ok && doc.size() > 40, "nic_regs.h offsets equal the rtl/README.md register map");

    // nic_rx_events.vh: one "localparam [2:0] RX_EVT_<NAME> = <value>;" per line
    const std::string vh = slurp(rtl + "/nic_rx_events.vh");
    std::map<std::string, int> codes;
    const std::regex line(R"(localparam \[2:0\] RX_EVT_(\w+) = (\d+);)");
    for (std::sregex_iterator it(vh.begin(), vh.end(), line), end; it != end; ++it)
        codes[(*it)[1]] = std::stoi((*it)[2]);
    const std::map<std::string, int> ours = {{"ACCEPT", EVT_ACCEPT},     {"CRC", EVT_CRC},
                                             {"RUNT", EVT_RUNT},         {"OVERSIZE", EVT_OVERSIZE},
                                             {"FILTER", EVT_FILTER},     {"FIFO_FULL", EVT_FIFO_FULL},
                                             {"PHY_ERR", EVT_PHY_ERR}};
    check(codes == ours, "EvtCode equals rtl/nic_rx_events.vh");
}

int run_selfcheck(const std::string& rtl) {
    check_tables(rtl);
    Bench b(128);
    Driver drv(b);
    drv.probe(RCTL_EN | RCTL_BAM);
    check_eq(b.read_reg(STATUS) & 2, 2, "STATUS.LU");
    check_eq(b.read_reg(RLPML), 1518, "RLPML default");
    b.write_reg(IMS, ICR_RXT0 | ICR_RXO);

    // 1. Good 64-byte frames at line rate: payload, descriptor, counters, probes. Receive checksum
    // offload on: frames 30 and 31 carry a bad UDP checksum (payload byte) and a bad IP header
    // checksum (TTL), FCS recomputed.
    b.write_reg(RXCSUM, RXCSUM_IPOFLD | RXCSUM_TUOFLD);
    auto damaged = [](size_t at) {
        Bytes f = udp_frame(64);
        f.resize(60);
        f[at] ^= 0x01;
        append_fcs(f);
        return f;
    };
    std::vector<std::pair<Bytes, bool>> good;
    for (int i = 0; i < 30; i++) good.push_back({udp_frame(64), false});
    good.push_back({damaged(50), false});
    good.push_back({damaged(22), false});
    deliver(b, good);
    check_eq(b.writebacks().size(), 32, "32 frames written back");
    bool slots_in_order = true, payload_ok = true, desc_ok = true;
    const Bytes ref = udp_frame(64);
    for (unsigned i = 0; i < b.writebacks().size(); i++) {
        unsigned s = b.writebacks()[i];
        slots_in_order &= s == i;
        const uint8_t errors = s == 30 ? RXD_ERR_TCPE : s == 31 ? RXD_ERR_IPE : 0;
        desc_ok &= drv.desc_len(s) == 60 &&
                   drv.desc_status(s) == (0x03 | RXD_STAT_IPCS | RXD_STAT_TCPCS) &&
                   drv.desc_errors(s) == errors && drv.buffer(s) == BUF_BASE + uint64_t(s) * BUF_BYTES;
        const Bytes want = s == 30 ? damaged(50) : s == 31 ? damaged(22) : ref;
        payload_ok &= memcmp(b.mem(drv.buffer(s)), want.data(), 60) == 0;
    }
    check(slots_in_order, "write-back probe slots in ring order");
    check(desc_ok,
          "descriptors: length 60, status DD|EOP|IPCS|TCPCS, errors TCPE/IPE on the damaged frames, addr intact");
    check(payload_ok, "payload bytes equal the frame without FCS");
    check_eq(b.read_reg(RDH), 32, "RDH advanced");
    check(b.irq(), "irq raised (RXT0 unmasked)");
    check_eq(b.read_reg(ICR) & ICR_RXT0, ICR_RXT0, "ICR.RXT0 set");
    for (int i = 0; i < 4; i++) b.step();
    check(!b.irq(), "irq drops after ICR read");
    check_eq(b.read_reg(ICR), 0, "ICR cleared by read");
    b.write_reg(IMC, ICR_RXT0);
    b.write_reg(ICS, ICR_RXT0);
    b.flush_regs();
    for (int i = 0; i < 4; i++) b.step();
    check(!b.irq(), "IMC masks RXT0: ICS sets the cause without an interrupt");
    check_eq(b.read_reg(ICR), ICR_RXT0, "ICS set ICR.RXT0");
    b.write_reg(IMS, ICR_RXT0);
    check_eq(b.read_reg(GPRC), 32, "GPRC");
    check_eq(b.read_reg(GPRC), 0, "GPRC clear on read");
    check_eq(b.read_reg(GORCL), 32 * 64, "GORCL");
    check_eq(b.read_reg(GORCH), 0, "GORCH");
    check_eq(b.read_reg(TPR), 32, "TPR");

    // 2. Drops: bad FCS, foreign unicast, runt, PHY error, oversize; each counted once.
    Bytes bad_fcs = udp_frame(64);
    bad_fcs[63] ^= 0x01;
    const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
    size_t ev0 = b.events().size();
    deliver(b, {{bad_fcs, false}, {udp_frame(64, other), false}, {udp_frame(60), false},
                {udp_frame(64), true}, {udp_frame(1600), false}});
    const std::vector<int> want_codes = {EVT_CRC, EVT_FILTER, EVT_RUNT, EVT_PHY_ERR, EVT_OVERSIZE};
    check(std::vector<int>(b.events().begin() + ev0, b.events().end()) == want_codes,
          "rx_evt codes CRC, FILTER, RUNT, PHY_ERR, OVERSIZE");
    check_eq(b.read_reg(CRCERRS), 1, "CRCERRS");
    check_eq(b.read_reg(FLTC), 1, "FLTC");
    check_eq(b.read_reg(RUC), 1, "RUC");
    check_eq(b.read_reg(RXERRC), 1, "RXERRC");
    check_eq(b.read_reg(ROC), 1, "ROC");
    check_eq(b.read_reg(TPR), 5, "TPR counts every frame");
    check_eq(b.read_reg(GPRC), 0, "no good frame among the drops");
    check_eq(b.writebacks().size(), 32, "no write-back for dropped frames");

    // 3. Every length from 64 to 200 bytes (FCS straddling beats, all tkeep values), broadcast,
    //    multicast through the MTA hash, and a buffer at an odd address.
    std::vector<std::pair<Bytes, bool>> sizes;
    for (size_t len = 64; len <= 200; len++) sizes.push_back({udp_frame(len), false});
    size_t wb0 = b.writebacks().size();
    deliver(b, sizes);
    bool len_ok = true, bytes_ok = true;
    for (size_t i = 0; i < sizes.size(); i++) {
        unsigned s = b.writebacks()[wb0 + i];
        const Bytes& f = sizes[i].first;
        len_ok &= drv.desc_len(s) == f.size() - 4;
        bytes_ok &= memcmp(b.mem(drv.buffer(s)), f.data(), f.size() - 4) == 0;
    }
    check_eq(b.writebacks().size() - wb0, sizes.size(), "137 frames of 64..200 bytes written back");
    check(len_ok, "descriptor length = frame length - 4 for 64..200 bytes");
    check(bytes_ok, "payload bytes for 64..200 bytes");

    const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const uint8_t mcast_in[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};   // hash 0xFB0 -> MTA[125] bit 16
    const uint8_t mcast_out[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};  // hash 0x010 -> MTA[0] bit 16
    const unsigned hash = (mcast_in[5] << 4) | (mcast_in[4] >> 4);
    b.write_reg(MTA + 4 * (hash >> 5), 1u << (hash & 31));
    ev0 = b.events().size();
    deliver(b, {{udp_frame(64, bcast), false}, {udp_frame(64, mcast_in), false}, {udp_frame(64, mcast_out), false}});
    check(std::vector<int>(b.events().begin() + ev0, b.events().end()) ==
              std::vector<int>{EVT_ACCEPT, EVT_ACCEPT, EVT_FILTER},
          "broadcast accepted (BAM), MTA multicast accepted, other multicast filtered");
    check_eq(b.read_reg(BPRC), 1, "BPRC");
    check_eq(b.read_reg(MPRC), 1, "MPRC");
    b.write_reg(RCTL, RCTL_EN | RCTL_BAM | RCTL_MPE);
    ev0 = b.events().size();
    deliver(b, {{udp_frame(64, mcast_out), false}});
    check(b.events().back() == EVT_ACCEPT && b.events().size() == ev0 + 1, "RCTL.MPE accepts any multicast");
    b.write_reg(RCTL, RCTL_EN | RCTL_BAM);
    // 255 descriptors posted, none recycled: free fell through 128 (RCTL.RDMTS = 0: half the ring)
    check_eq(b.read_reg(ICR) & ICR_RXDMT0, ICR_RXDMT0, "ICR.RXDMT0 after free descriptors fell to 1/2");

    // 4. A second NIC with an empty ring (RDT = RDH = 0): the frame waits in the FIFO (RNBC once);
    //    a flood behind it overruns the 16 KiB FIFO (FIFO_FULL, MPC, RXO); all committed frames go
    //    out once the driver posts descriptors.
    Bench b2(128);
    Driver drv2(b2);
    drv2.probe(RCTL_EN | RCTL_BAM, 0);
    b2.write_reg(IMS, ICR_RXO);
    deliver(b2, {{udp_frame(64), false}});
    check_eq(b2.writebacks().size(), 0, "frame waits without a descriptor");
    check_eq(b2.read_reg(RNBC), 1, "RNBC counted for the waiting frame");
    std::vector<std::pair<Bytes, bool>> flood;
    for (int i = 0; i < 20; i++) flood.push_back({udp_frame(1024), false});
    deliver(b2, flood);
    const long full = std::count(b2.events().begin(), b2.events().end(), EVT_FIFO_FULL);
    const long acc = std::count(b2.events().begin(), b2.events().end(), EVT_ACCEPT);
    // 64-byte frame: 8 words; 1024-byte frames: 128 words each; FIFO: 2048 words + 1 output register
    check_eq(acc, 1 + 15, "frames that fit the 16 KiB FIFO accepted");
    check_eq(full, 5, "the rest are dropped as FIFO_FULL");
    check_eq(b2.read_reg(MPC), 5, "MPC");
    check(b2.irq(), "irq raised for RXO");
    check_eq(b2.read_reg(ICR) & ICR_RXO, ICR_RXO, "ICR.RXO");
    check_eq(b2.read_reg(RNBC), 0, "RNBC not counted again for frames queued behind");
    // The last frame goes to a buffer at an odd address that straddles a 4 KiB boundary: the NIC
    // realigns the data and splits the bursts; the bytes around the buffer stay untouched.
    const uint64_t odd = 0x108000 - 500 + 3;
    drv2.set_buffer(15, odd);
    memset(b2.mem(odd - 8), 0xAA, 1040);
    bool flood_ok = true;
    b2.on_writeback = [&](unsigned s) {
        flood_ok &= drv2.desc_len(s) == (s == 0 ? 60 : 1020) && drv2.desc_status(s) == (0x03 | RXD_STAT_IXSM);
        drv2.recycle(s);
    };
    b2.write_reg(RDT, RING_SIZE - 1);
    for (int i = 0; i < 20000; i++) b2.step();
    check_eq(b2.writebacks().size(), 16, "every committed frame delivered once descriptors are posted");
    check(flood_ok, "flood descriptors: lengths 60 then 1020, DD|EOP|IXSM (RXCSUM off)");
    check(memcmp(b2.mem(drv2.buffer(14)), udp_frame(1024).data(), 1020) == 0, "flood payload bytes");
    check(memcmp(b2.mem(odd), udp_frame(1024).data(), 1020) == 0,
          "payload realigned into a buffer at addr % 8 = 3 across 4 KiB");
    check(*b2.mem(odd - 1) == 0xAA && *b2.mem(odd + 1020) == 0xAA, "bytes around the unaligned buffer untouched");

    // 5. RX and TX at once: both DMA engines share the AXI port through the arbiter; once with an
    //    always-ready memory, once with a stalling one.
    for (bool stall : {false, true}) {
    const std::string mode = stall ? " (stalling memory)" : "";
    Bench b4(128, stall);
    Driver drv4(b4);
    drv4.probe(RCTL_EN | RCTL_BAM);
    std::vector<std::pair<Bytes, bool>> rx_load;
    // Under stalls the bus carries about a quarter of line rate: a FIFO's worth of frames
    const int rx_count = stall ? 40 : 300;
    for (int i = 0; i < rx_count; i++) rx_load.push_back({udp_frame(64 + (i % 3) * 200), false});
    bool rx_bytes_ok = true;
    size_t rx_done = 0;
    b4.on_writeback = [&](unsigned s) {
        const Bytes& f = rx_load[rx_done++].first;
        rx_bytes_ok &= drv4.desc_len(s) == f.size() - 4 && memcmp(b4.mem(drv4.buffer(s)), f.data(), f.size() - 4) == 0;
        drv4.recycle(s);
    };
    constexpr unsigned TX_RING = 64, TX_FRAMES = 48;
    std::vector<Bytes> tx_sent;
    for (unsigned i = 0; i < TX_FRAMES; i++) {
        Bytes f = udp_frame(64 + 29 * i);
        f.resize(f.size() - 4);  // the NIC appends the FCS
        const uint64_t buf = TX_BUF_BASE + 2048 * i + (i % 8);
        memcpy(b4.mem(buf), f.data(), f.size());
        uint8_t* d = b4.mem(TX_RING_ADDR + 16 * i);
        memset(d, 0, 16);
        memcpy(d, &buf, 8);
        d[8] = f.size() & 0xFF, d[9] = f.size() >> 8;
        d[11] = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
        append_fcs(f);
        tx_sent.push_back(f);
    }
    b4.write_reg(TDBAL, static_cast<uint32_t>(TX_RING_ADDR));
    b4.write_reg(TDBAH, 0);
    b4.write_reg(TDLEN, TX_RING * 16);
    b4.write_reg(TCTL, TCTL_EN | TCTL_PSP);
    b4.write_reg(TDT, TX_FRAMES);
    deliver(b4, rx_load);
    for (int i = 0; i < 20000; i++) b4.step();
    check_eq(b4.writebacks().size(), rx_count, "RX under TX load: every frame written back" + mode);
    check(rx_bytes_ok, "RX under TX load: lengths and payload bytes" + mode);
    check(b4.tx_frames() == tx_sent, "TX under RX load: every frame on the wire with its FCS, in order" + mode);
    bool tx_dd = true;
    for (unsigned i = 0; i < TX_FRAMES; i++) tx_dd &= (*b4.mem(TX_RING_ADDR + 16 * i + 12) & 1) == 1;
    check(tx_dd, "TX descriptors written back with DD" + mode);
    check_eq(b4.read_reg(GPTC), TX_FRAMES, "GPTC" + mode);
    check_eq(b4.read_reg(GPRC), rx_count, "GPRC under TX load" + mode);
    }

    // 6. Interrupt moderation on another NIC. Cycle counts: ITR unit 40 cycles, RDTR/RADV unit 160.
    Bench b3(128);
    Driver drv3(b3);
    drv3.probe(RCTL_EN | RCTL_BAM);
    b3.on_writeback = [&](unsigned s) { drv3.recycle(s); };
    auto cycles_until_irq = [&](uint64_t limit) {
        const uint64_t t0 = b3.cycle();
        while (!b3.irq() && b3.cycle() - t0 < limit) b3.step();
        return b3.cycle() - t0;
    };
    // ITR = 10 (400 cycles): after an interrupt, the next one waits for the interval.
    b3.write_reg(ITR, 10);
    b3.write_reg(IMS, ICR_RXT0);
    b3.write_reg(ICS, ICR_RXT0);
    b3.flush_regs();
    cycles_until_irq(100);
    const uint64_t first_irq = b3.cycle();
    b3.read_reg(ICR);
    b3.write_reg(ICS, ICR_RXT0);
    b3.flush_regs();
    cycles_until_irq(1000);
    check(b3.cycle() - first_irq >= 400 && b3.cycle() - first_irq <= 402,
          "ITR=10: next interrupt 400 cycles after the previous (" + std::to_string(b3.cycle() - first_irq) + ")");
    b3.read_reg(ICR);
    b3.write_reg(ITR, 0);
    // RDTR = 2 (320 cycles): RXT0 follows the write-back after the packet timer.
    b3.write_reg(RDTR, 2);
    b3.flush_regs();
    for (int i = 0; i < 500; i++) b3.step();
    size_t wbs = b3.writebacks().size();
    b3.send(udp_frame(64));
    while (b3.writebacks().size() == wbs) b3.step();
    uint64_t waited = cycles_until_irq(2000);
    check(waited >= 318 && waited <= 322, "RDTR=2: RXT0 320 cycles after the write-back (" +
                                              std::to_string(waited) + ")");
    b3.read_reg(ICR);
    // RADV = 3 (480 cycles) caps the delay while frames keep restarting the packet timer.
    b3.write_reg(RADV, 3);
    b3.flush_regs();
    for (int i = 0; i < 500; i++) b3.step();
    wbs = b3.writebacks().size();
    for (int k = 0; k < 8; k++) {
        b3.send(udp_frame(64));
        for (int i = 0; i < 150; i++) b3.step();
        if (k == 0) {
            while (b3.writebacks().size() == wbs) b3.step();
        }
    }
    check(b3.irq(), "RADV=3: RXT0 raised although the packet timer kept restarting");
    b3.read_reg(ICR);
    // CTRL.RST: registers back to their reset values.
    b3.write_reg(RCTL, 0);
    for (int i = 0; i < 500; i++) b3.step();
    b3.write_reg(RLPML, 9000);
    check_eq(b3.read_reg(RLPML), 2048, "RLPML clamped to 2048");
    b3.write_reg(CTRL, CTRL_RST);
    check_eq(b3.read_reg(RLPML), 1518, "CTRL.RST restores RLPML");
    check_eq(b3.read_reg(RDTR), 0, "CTRL.RST clears RDTR");
    check_eq(b3.read_reg(CTRL) & CTRL_RST, 0, "CTRL.RST self-clears");

    printf("%s: %d failure(s)\n", failures ? "SELF-CHECK FAILED" : "SELF-CHECK PASSED", failures);
    return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2) {
        fprintf(stderr, "usage: %s [rtl_dir]\n", argv[0]);
        return 2;
    }
    return run_selfcheck(argc == 2 ? argv[1] : NIC_RTL_DIR);
}
