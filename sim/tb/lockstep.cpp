// Lockstep equivalence check of two nic_top builds (see lockstep.sh): every Bench below drives a Dual,
// which feeds both models the same inputs and stops at the first output that differs.
//
//   lockstep [random_cycles (default 400000)] [seed]
//
// Phases: the whole nic_selfcheck (its checks must pass too), then random traffic: frames of random
// length, destination, FCS and PHY error at line rate or with gaps, a TX ring kept busy, random DMA
// latency and AXI stalls, random ITR/RDTR/RADV/RCTL writes and statistics/ICR reads.

#include "dual.h"
#define NIC_TB_TOP Dual
#define main nic_selfcheck_main
#include "nic_selfcheck.cpp"
#undef main

namespace {

struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        return s;
    }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

void random_phase(uint64_t cycles, uint64_t seed, bool stall) {
    Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
    Bench b(16 + rng.below(400), stall);
    Driver drv(b);
    drv.probe(RCTL_EN | RCTL_BAM, RING_SIZE - 1 - rng.below(64));
    b.write_reg(IMS, ICR_RXT0 | ICR_RXO | ICR_RXDMT0 | 0x3);
    // The driver recycles at once, or (lazy) lets written-back slots pile up, so that the free count
    // crosses the RXDMT0 thresholds and the ring runs empty (RNBC, FIFO overruns).
    bool lazy = false;
    std::deque<unsigned> backlog;
    b.on_writeback = [&](unsigned s) {
        if (lazy) backlog.push_back(s);
        else drv.recycle(s);
    };
    // TX: a 64-entry ring, refilled whenever the NIC has caught up
    constexpr unsigned TX_RING = 64;
    b.write_reg(TDBAL, static_cast<uint32_t>(TX_RING_ADDR));
    b.write_reg(TDBAH, 0);
    b.write_reg(TDLEN, TX_RING * 16);
    b.write_reg(TCTL, TCTL_EN | TCTL_PSP);
    unsigned tdt = 0;
    const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};
    const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
    const Reg stats[] = {CRCERRS, RXERRC, MPC, GPRC, BPRC, MPRC, GORCL, GORCH, RNBC, RUC, ROC, TPR, FLTC, GPTC,
                         ICR, RDH, STATUS, RLPML};
    const uint64_t end = b.cycle() + cycles;
    unsigned irq_edges = 0;
    bool last_irq = false;
    while (b.cycle() < end) {
        if (rng.below(6) == 0) lazy = !lazy;
        if (!lazy || backlog.size() > 200 + rng.below(56)) {
            while (!backlog.empty() && (rng.below(4) || !lazy)) {
                drv.recycle(backlog.front());
                backlog.pop_front();
            }
        }
        const unsigned what = rng.below(100);
        if (what < 70) {
            // a burst of RX frames
            const unsigned n = 1 + rng.below(rng.below(10) ? 12 : 60);
            for (unsigned i = 0; i < n; i++) {
                const unsigned kind = rng.below(20);
                size_t len = 64 + rng.below(rng.below(4) ? 200 : 1500);
                Bytes f = udp_frame(len, kind == 1 ? bcast : kind == 2 ? mcast : kind == 3 ? other : OUR_MAC);
                if (kind == 0) {  // runt: 17..63 bytes with a valid FCS
                    f.resize(13 + rng.below(47));
                    append_fcs(f);
                }
                if (kind == 4) f[f.size() - 1 - rng.below(4)] ^= 1u << rng.below(8);
                b.send(f, kind == 5);
            }
        } else if (what < 80) {
            // TX frames
            const unsigned n = 1 + rng.below(6);
            for (unsigned i = 0; i < n && (tdt + 1) % TX_RING != static_cast<unsigned>(b.tx_frames().size() % TX_RING); i++) {
                const size_t len = 60 + rng.below(1400);
                const uint64_t buf = TX_BUF_BASE + 2048 * tdt + rng.below(8);
                for (size_t k = 0; k < len; k++) *b.mem(buf + k) = static_cast<uint8_t>(rng.next());
                uint8_t* d = b.mem(TX_RING_ADDR + 16 * tdt);
                memset(d, 0, 16);
                memcpy(d, &buf, 8);
                d[8] = len & 0xFF, d[9] = len >> 8;
                d[11] = TXD_CMD_EOP | TXD_CMD_IFCS | (rng.below(2) ? TXD_CMD_RS : 0);
                tdt = (tdt + 1) % TX_RING;
            }
            b.write_reg(TDT, tdt);
        } else if (what < 86) {
            b.read_reg(stats[rng.below(sizeof stats / sizeof stats[0])]);
        } else if (what < 90) {
            b.read_reg(ICR);
        } else if (what < 95) {
            const unsigned r = rng.below(4);
            if (r == 0) b.write_reg(ITR, rng.below(4) ? rng.below(20) : 0);
            if (r == 1) b.write_reg(RDTR, rng.below(3) ? rng.below(4) : 0);
            if (r == 2) b.write_reg(RADV, rng.below(3) ? rng.below(6) : 0);
            if (r == 3) b.write_reg(RCTL, RCTL_EN | RCTL_BAM | (rng.below(2) ? RCTL_MPE : 0) | (rng.below(8) == 0 ? 0x8 : 0) | (rng.below(4) << 8));
        } else if (rng.below(2)) {
            b.write_reg(ICS, rng.below(256));
        } else {
            b.write_reg(IMC, 0xFF);
            b.write_reg(IMS, rng.below(256));
        }
        const unsigned idle = rng.below(8) == 0 ? rng.below(3000) : rng.below(80);
        for (unsigned i = 0; i < idle; i++) {
            irq_edges += b.irq() && !last_irq;
            last_irq = b.irq();
            b.step();
        }
        if (b.irq() && rng.below(3)) b.read_reg(ICR);  // the interrupt handler
    }
    std::map<int, unsigned> codes;
    for (int c : b.events()) codes[c]++;
    printf("random phase %llu%s: %zu frames (", static_cast<unsigned long long>(seed), stall ? " (stalls)" : "",
           b.events().size());
    for (auto& kv : codes) printf(" code%d=%u", kv.first, kv.second);
    printf(" ), %zu written back, %zu TX frames, %u irq edges\n", b.writebacks().size(), b.tx_frames().size(), irq_edges);
}

}  // namespace

int main(int argc, char** argv) {
    const uint64_t cycles = argc > 1 ? strtoull(argv[1], nullptr, 10) : 400000;
    const uint64_t seed = argc > 2 ? strtoull(argv[2], nullptr, 10) : 1;
    if (nic_selfcheck_main(1, argv) != 0) {
        fprintf(stderr, "lockstep: the self-check failed on the original model\n");
        return 1;
    }
    const unsigned long long sc = lockstep_cycles;
    for (unsigned k = 0; k < 4; k++) random_phase(cycles / 4, seed + k, k & 1);
    printf("lockstep: %llu cycles identical (%llu in the self-check, %llu random), %d output ports compared "
           "after every eval (%llu comparisons), %d inputs driven\n",
           lockstep_cycles, sc, lockstep_cycles - sc, LOCKSTEP_OUTPUTS, lockstep_compares, LOCKSTEP_INPUTS);
    return 0;
}
