// Block-level self-checking testbench for rtl/rx_dma.v (small depths: DESC_CACHE_DEPTH 8, WBQ_DEPTH 4,
// BTAG_DEPTH 8): frames from a model of rx_fifo's read side into a 16-descriptor ring whose buffers sit
// at random byte offsets, over an in-order AXI4 memory with random latency and random ready/valid gaps.
// Checked: payload bytes at the buffer (bytes around it untouched), the write-back beat (length, DD|EOP,
// wstrb 0xFF, at RDBA + 16*slot + 8), the write-back order contract (a frame's write-back AW only after
// the B of every payload burst of that frame; rx_wb_valid only after the write-back's own B), rx_wb_slot
// in ring order, RDH, burst rules (INCR, <= 16 beats, no 4 KiB crossing, WLAST), and RNBC once per
// frame waiting at an empty ring.

#include "Vrx_dma.h"
#include "verilated.h"

#include "tb_util.h"

#include <deque>
#include <map>
#include <vector>

namespace {

constexpr uint64_t MEM = 1 << 20, RING = 0x1000, BUF = 0x10000;
constexpr unsigned N = 16;

}  // namespace

int main(int argc, char** argv) {
    tb::Checks check;
    tb::Rng rng(argc > 1 ? strtoull(argv[1], nullptr, 10) : 1);
    VerilatedContext ctx;
    Vrx_dma top(&ctx);
    std::vector<uint8_t> mem(MEM, 0);
    uint64_t cycle = 0;

    struct Rd { uint64_t ready, addr; unsigned beats; };
    struct Wr { uint64_t addr; unsigned beats; };
    std::deque<Rd> reads;
    std::deque<Wr> aws;
    std::deque<uint64_t> bq;             // B ready cycle per completed burst
    std::deque<uint64_t> b_addr;         // address of each completed burst, B order
    std::deque<std::pair<uint64_t, uint8_t>> wbeats;
    std::vector<std::vector<uint8_t>> frames;
    size_t next_frame = 0, word = 0;     // frame at the FIFO head and its next word
    std::map<unsigned, unsigned> open_payload;  // slot -> payload bursts without B
    std::map<uint64_t, unsigned> burst_slot;    // burst address -> slot (payload)
    std::vector<int> wb_b_seen(N, 0);
    unsigned rdt = 0, wb_count = 0, rnbc = 0;
    std::vector<uint64_t> slot_buf(N);
    const unsigned lat = 4 + rng.below(60);

    auto set_desc = [&](unsigned s) {
        const uint64_t a = BUF + 0x2000 * s + 0x800 * rng.below(2) - rng.below(2) * 37 + rng.below(8);
        slot_buf[s] = a;
        memcpy(&mem[RING + 16 * s], &a, 8);
        memset(&mem[RING + 16 * s + 8], 0, 8);
        memset(&mem[a - 8], 0xAA, 2048 + 16);
    };
    auto step = [&]() {
        const unsigned coin = static_cast<unsigned>(rng.next());
        top.clk = 0;
        top.m_axi_awready = coin & 1;
        top.m_axi_wready = (coin >> 1) & 1;
        top.m_axi_arready = (coin >> 2) & 1;
        top.m_axi_rvalid = 0;
        if (!reads.empty() && reads.front().ready <= cycle && ((coin >> 3) & 1)) {
            uint64_t d;
            memcpy(&d, &mem[reads.front().addr], 8);
            top.m_axi_rdata = d, top.m_axi_rlast = reads.front().beats == 1, top.m_axi_rvalid = 1;
        }
        top.m_axi_bvalid = !bq.empty() && bq.front() <= cycle && ((coin >> 4) & 1);
        // frame source (rx_fifo read side)
        top.s_frame_valid = next_frame < frames.size();
        top.s_axis_tvalid = top.s_frame_valid && ((coin >> 5) & 3) != 0;
        if (top.s_frame_valid) {
            const auto& f = frames[next_frame];
            top.s_frame_len = f.size();
            uint64_t d = 0;
            memcpy(&d, &f[8 * word], std::min<size_t>(8, f.size() - 8 * word));
            top.s_axis_tdata = d;
            top.s_axis_tlast = 8 * (word + 1) >= f.size();
        }
        top.rdt = rdt;
        top.eval();
        const bool ar = top.m_axi_arvalid && top.m_axi_arready, aw = top.m_axi_awvalid && top.m_axi_awready;
        const bool w = top.m_axi_wvalid && top.m_axi_wready, r = top.m_axi_rvalid && top.m_axi_rready;
        const bool b = top.m_axi_bvalid && top.m_axi_bready, s = top.s_axis_tvalid && top.s_axis_tready;
        if (ar) reads.push_back({cycle + lat, top.m_axi_araddr, top.m_axi_arlen + 1u});
        if (r && --reads.front().beats == 0) reads.pop_front();
        else if (r) reads.front().addr += 8;
        if (aw) {
            const uint64_t a = top.m_axi_awaddr;
            const unsigned beats = top.m_axi_awlen + 1;
            check(top.m_axi_awburst == 1 && top.m_axi_awsize == 3 && beats <= 16 && (a & 7) == 0 &&
                      (a & 0xFFF) + 8 * beats <= 0x1000, "AW: INCR, 8-byte beats, <= 16 beats, no 4 KiB crossing");
            if (a >= RING && a < RING + 16 * N) {
                const unsigned slot = (a - RING) / 16;
                check(open_payload[slot] == 0, "write-back AW of slot " + std::to_string(slot) +
                                                   " only after the B of all its payload bursts");
            } else {
                unsigned slot = 0;
                for (unsigned k = 0; k < N; k++)
                    if (a + 8 >= slot_buf[k] && a < slot_buf[k] + 2048) slot = k;
                open_payload[slot]++;
                burst_slot[a] = slot;
            }
            aws.push_back({a, beats});
        }
        if (w) wbeats.push_back({top.m_axi_wdata, top.m_axi_wstrb});
        if (w) check(top.m_axi_wlast == (!aws.empty() && wbeats.size() == aws.front().beats) || aws.empty(), "WLAST");
        while (!aws.empty() && wbeats.size() >= aws.front().beats) {
            const Wr& x = aws.front();
            for (unsigned i = 0; i < x.beats; i++) {
                for (int k = 0; k < 8; k++)
                    if (wbeats.front().second >> k & 1) mem[x.addr + 8 * i + k] = wbeats.front().first >> (8 * k);
                if (x.addr >= RING && x.addr < RING + 16 * N) check(wbeats.front().second == 0xFF, "write-back wstrb 0xFF");
                wbeats.pop_front();
            }
            bq.push_back(cycle + lat);
            b_addr.push_back(x.addr);
            aws.pop_front();
        }
        const bool wbv = top.rx_wb_valid;
        const unsigned wbs = top.rx_wb_slot;
        const bool rn = top.rnbc;
        top.clk = 1;
        top.eval();
        cycle++;
        if (s) {
            word++;
            if (8 * word >= frames[next_frame].size()) next_frame++, word = 0;
        }
        if (b) {
            const uint64_t a = b_addr.front();
            if (a >= RING && a < RING + 16 * N) wb_b_seen[(a - RING) / 16]++;
            else open_payload[burst_slot[a]]--;
            bq.pop_front();
            b_addr.pop_front();
        }
        if (rn) rnbc++;
        if (wbv) {
            const unsigned want = wb_count % N;
            check(wbs == want, "rx_wb_slot in ring order");
            check(wb_b_seen[wbs] == 1, "rx_wb_valid only after the write-back's B");
            wb_b_seen[wbs] = 0;
            const auto& f = frames[wb_count];
            uint16_t len;
            memcpy(&len, &mem[RING + 16 * wbs + 8], 2);
            check(len == f.size() && mem[RING + 16 * wbs + 12] == 0x03 && mem[RING + 16 * wbs + 13] == 0,
                  "write-back: length, status DD|EOP, errors 0");
            const uint64_t a = slot_buf[wbs];
            check(memcmp(&mem[a], f.data(), f.size()) == 0, "payload bytes in the buffer (any alignment)");
            check(mem[a - 1] == 0xAA && mem[a + f.size()] == 0xAA, "bytes around the buffer untouched");
            wb_count++;
            set_desc(wbs);
            rdt = (rdt + 1) % N;  // recycle: the driver hands the slot back
        }
    };

    for (unsigned s = 0; s < N; s++) set_desc(s);
    top.rdba = RING, top.ring_size = N, top.rctl_en = 0, top.rdh_wr = 0, top.rctl_rdmts = 0;
    top.rst = 1;
    for (int i = 0; i < 4; i++) step();
    top.rst = 0;
    top.rctl_en = 1;
    // 1. An empty ring: the first frame waits, RNBC once
    frames.push_back(std::vector<uint8_t>(60, 0x5A));
    for (int i = 0; i < 300; i++) step();
    check(wb_count == 0 && rnbc == 1, "a frame at an empty ring waits; RNBC counted once");
    // 2. Random frames; the driver hands over N-1 descriptors and recycles each one written back
    rdt = N - 1;
    for (unsigned i = 0; i < 1500; i++) {
        std::vector<uint8_t> f(60 + (rng.below(4) ? rng.below(200) : rng.below(1985)));
        for (auto& x : f) x = static_cast<uint8_t>(rng.next());
        frames.push_back(f);
    }
    for (uint64_t guard = cycle + 3000000; wb_count < frames.size() && cycle < guard;) step();
    check(wb_count == frames.size(), "every frame written back (" + std::to_string(wb_count) + ")");
    check(top.rdh == wb_count % N, "RDH = frames written back mod ring size");
    return check.finish("rx_dma_tb");
}
