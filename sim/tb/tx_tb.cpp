// Standalone self-checking testbench for rtl/tx_engine.v (e1000 legacy TX path).
//
// Build and run from the repository root:
//   verilator --cc --exe --build -j 2 --no-timing -Wall -Irtl --top-module tx_engine \
//     --Mdir target/tx_tb rtl/tx_engine.v "$PWD/sim/tb/tx_tb.cpp" -o tx_tb && target/tx_tb/tx_tb [seed ...]
//
// Models around the DUT: host memory (64-bit addresses above 4 GiB, per-range read/write faults, a
// map of the bytes the driver made readable), an AXI4 read slave and write slave with random latency
// and random ready/valid gaps that check the DMA rules (INCR, size 3, aligned, <= 16 beats, no 4 KiB
// crossing, reads only of posted buffers and the ring), an AXI-Stream sink with random backpressure
// that checks the stream rules, and an e1000-style driver that posts frames on a 64-entry ring placed
// so descriptor bursts must split at 4 KiB.
//
// Checked, per seed: every frame's wire bytes (data of 1..3 descriptors at any byte alignment, zero
// padding to 60 with TCTL.PSP, FCS against a software CRC-32), frame order, store-and-forward (a frame
// starts only after its tx_dma_valid), the exact 10 GbE spacing ((len + 20) / 8 cycles per frame,
// fractional carry included) and a lower bound on every gap, line rate (60 and 1514-byte frames,
// aligned and at NET_IP_ALIGN offset, with ~1 us memory latency: no gap longer than the minimum once
// warmed up), stat pulses, the tx_dma/tx_wb probes,
// DD write-back of exactly the RS descriptors with no other descriptor byte touched, write-back after
// the frame's data is read, TXDW, TDH progress and TXQE, TCTL.EN gating, TDH writes, and the bad-input
// cases (zero-length descriptors, empty frames, read errors on buffers and on descriptors, oversize
// frames, too many descriptors, write-back errors): no hang, dropped whole, one tx_err_pulse each.
// Exit status 0 only if everything held.

#include <verilated.h>

#include "frame.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vtx_engine.h"

namespace {

constexpr uint64_t MEM_BASE = 0x1'0000'0000ULL;  // above 4 GiB: exercises the 64-bit address path
constexpr uint64_t MEM_SIZE = 8ULL << 20;
constexpr unsigned RING_SIZE = 64;
constexpr uint64_t RING_BASE = MEM_BASE + 0x1000 - 0x30;  // bursts of descriptors cross 4 KiB
constexpr uint64_t BUF_BASE = MEM_BASE + 0x10000;
constexpr uint64_t FAULT_BASE = MEM_BASE + MEM_SIZE - 0x10000;  // reads here return SLVERR
constexpr uint64_t FAULT_END = MEM_BASE + MEM_SIZE;
constexpr unsigned MAX_FRAME_BYTES = 16384 - 16;  // tx_engine with TX_FIFO_DEPTH_BYTES = 16384
constexpr unsigned MAX_FRAME_DESCS = 32;
constexpr uint8_t CMD_EOP = 0x01, CMD_IFCS = 0x02, CMD_RS = 0x08;

uint32_t crc32_ref(const std::vector<uint8_t>& d) { return ~nic::crc32_update(0xFFFFFFFFu, d.data(), d.size()); }

uint64_t g_seed = 0;
uint64_t g_cycle = 0;
std::string g_phase;

[[noreturn]] void failf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "FAIL seed=%" PRIu64 " phase=%s cycle=%" PRIu64 ": ", g_seed, g_phase.c_str(), g_cycle);
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
    std::exit(1);
}

#define CHECK(cond, ...)                 \
    do {                                 \
        if (!(cond)) failf(__VA_ARGS__); \
    } while (0)

struct Range {
    uint64_t lo, hi;
    bool hit(uint64_t a, uint64_t n) const { return a < hi && a + n > lo; }
};

struct Memory {
    std::vector<uint8_t> bytes = std::vector<uint8_t>(MEM_SIZE, 0);
    std::vector<uint8_t> readable = std::vector<uint8_t>(MEM_SIZE / 8, 0);  // per 8-byte word
    std::vector<Range> read_faults{{FAULT_BASE, FAULT_END}};
    std::vector<Range> write_faults;

    bool inside(uint64_t a, uint64_t n) const { return a >= MEM_BASE && a + n <= MEM_BASE + MEM_SIZE; }
    uint8_t& at(uint64_t a) { return bytes[a - MEM_BASE]; }
    static bool faults(const std::vector<Range>& rs, uint64_t a, uint64_t n) {
        for (const Range& r : rs)
            if (r.hit(a, n)) return true;
        return false;
    }
    void mark_readable(uint64_t a, uint64_t n) {
        for (uint64_t w = a & ~7ULL; w < a + n; w += 8) readable[(w - MEM_BASE) / 8] = 1;
    }
    uint64_t read64(uint64_t a) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | at(a + i);
        return v;
    }
};

struct DescSpec {
    uint64_t addr;
    uint16_t len;
    bool rs;
};

// What the test expects of one posted frame.
enum class Fate { Send, Drop };

struct Frame {
    std::vector<unsigned> slots;
    std::vector<uint8_t> wire;  // expected bytes on the wire, FCS included
    unsigned eop_slot = 0;
    bool dma_seen = false;
    uint64_t dma_cycle = 0;
};

struct SlotInfo {
    uint8_t raw[16];  // descriptor as written by the driver
    bool rs = false;
    size_t frame = 0;
};

struct WbExpect {
    unsigned slot;
    bool ok;  // false: the write-back fails (tx_err_pulse, no probe)
};

struct ReadBurst {
    uint64_t addr;
    unsigned beats, sent;
    uint64_t ready_at;
};

struct WriteReq {
    uint64_t addr;
};

struct BResp {
    uint64_t ready_at;
    unsigned resp;
};

struct WireFrame {
    std::vector<uint8_t> bytes;
    uint64_t first_valid = 0, first_hs = 0, last_hs = 0;
    unsigned last_bytes = 0;
};

class Bench {
   public:
    explicit Bench(uint64_t seed) : rng_(seed) {
        ctx_ = std::make_unique<VerilatedContext>();
        top_ = std::make_unique<Vtx_engine>(ctx_.get());
        mem_.mark_readable(RING_BASE, RING_SIZE * 16);
        top_->tdba = RING_BASE;
        top_->tdlen = RING_SIZE * 16;
        top_->tdt = 0;
        top_->tctl_en = 0;
        top_->tctl_psp = 1;
        top_->rst = 1;
        for (int i = 0; i < 4; i++) step();
        top_->rst = 0;
        step();
    }

    void run();

   private:
    std::mt19937_64 rng_;
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Vtx_engine> top_;
    Memory mem_;

    // Bus behaviour knobs (probabilities in percent), set per phase
    unsigned p_arready_ = 100, p_rvalid_ = 100, p_awready_ = 100, p_wready_ = 100, p_bvalid_ = 100;
    unsigned p_tready_ = 100;
    unsigned lat_min_ = 8, lat_max_ = 8;
    bool tready_hold_low_ = false;

    // Bus models
    std::deque<ReadBurst> reads_;
    bool r_presenting_ = false;
    std::deque<WriteReq> aw_;
    std::deque<bool> w_;  // accepted W beats (true: well-formed)
    std::deque<BResp> b_;
    bool b_presenting_ = false;

    // Stream sink
    bool prev_stall_ = false;
    uint64_t prev_tdata_ = 0;
    unsigned prev_tkeep_ = 0;
    bool prev_tlast_ = false;
    WireFrame cur_;
    bool in_frame_ = false;
    std::vector<WireFrame> wire_;  // frames received in this phase
    std::deque<unsigned> stat_expect_;

    // Driver and expectations
    unsigned tdt_ = 0;
    uint64_t alloc_ = BUF_BASE;
    std::vector<Frame> frames_;
    SlotInfo slots_[RING_SIZE];
    std::deque<size_t> exp_wire_;
    std::deque<size_t> exp_dma_;
    std::deque<WbExpect> exp_wb_;
    unsigned exp_err_ = 0, seen_err_ = 0;
    unsigned exp_txdw_ = 0, seen_txdw_ = 0;
    unsigned prev_tdh_ = 0;
    uint64_t last_tdh_move_ = 0, last_txqe_ = 0;
    bool txqe_since_move_ = true;
    unsigned txqe_count_ = 0;

    bool chance(unsigned pct) { return rng_() % 100 < pct; }
    unsigned uniform(unsigned lo, unsigned hi) {
        CHECK(lo <= hi, "testbench drew from the empty range %u..%u", lo, hi);
        return lo + static_cast<unsigned>(rng_() % (hi - lo + 1));
    }

    void step();
    void drive();
    void sample_and_clock();
    void observe();
    void wait_until(const char* what, uint64_t max_cycles, bool (Bench::*cond)());
    bool idle();
    bool ring_has_room() { return free_slots() >= pending_need_; }
    bool all_in_fifo() { return exp_dma_.empty(); }
    unsigned free_slots() const;
    unsigned pending_need_ = 0;

    uint64_t alloc(unsigned len, unsigned align_off);
    std::vector<uint8_t> random_bytes(unsigned n);
    size_t post(const std::vector<DescSpec>& descs, Fate fate, const std::vector<bool>& wb_fail = {});
    void doorbell() { top_->tdt = tdt_; }
    void post_random(unsigned total, unsigned ndesc, bool allow_4k_cross);
    void begin_phase(const char* name) {
        g_phase = name;
        wire_.clear();
    }
    void finish_phase();
    void set_bus(unsigned p_ready, unsigned p_valid, unsigned lat_min, unsigned lat_max, unsigned p_tready);

    void phase_basic();
    void phase_no_pad();
    void phase_spacing();
    void phase_errors();
    void phase_enable_and_tdh();
    void phase_line_rate(unsigned len, unsigned offset);
};

void Bench::set_bus(unsigned p_ready, unsigned p_valid, unsigned lat_min, unsigned lat_max, unsigned p_tready) {
    p_arready_ = p_awready_ = p_wready_ = p_ready;
    p_rvalid_ = p_bvalid_ = p_valid;
    lat_min_ = lat_min;
    lat_max_ = lat_max;
    p_tready_ = p_tready;
}

unsigned Bench::free_slots() const {
    unsigned used = (tdt_ + RING_SIZE - top_->tdh) % RING_SIZE;
    return RING_SIZE - 1 - used;
}

uint64_t Bench::alloc(unsigned len, unsigned align_off) {
    uint64_t a = ((alloc_ + 7) & ~7ULL) + align_off;
    CHECK(a + len + 64 < FAULT_BASE, "testbench buffer space exhausted");
    alloc_ = a + len + uniform(0, 40);
    mem_.mark_readable(a, len);
    return a;
}

std::vector<uint8_t> Bench::random_bytes(unsigned n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng_());
    return v;
}

// Writes the buffers' data is expected to come from already; writes the descriptors into the ring at
// tdt_ and records what the DUT must do with them. wb_fail marks descriptors whose write-back faults.
size_t Bench::post(const std::vector<DescSpec>& descs, Fate fate, const std::vector<bool>& wb_fail) {
    CHECK(descs.size() <= free_slots(), "testbench posted into a full ring");
    size_t fi = frames_.size();
    frames_.emplace_back();
    Frame& f = frames_.back();
    std::vector<uint8_t> data;
    for (size_t i = 0; i < descs.size(); i++) {
        const DescSpec& d = descs[i];
        unsigned slot = tdt_;
        tdt_ = (tdt_ + 1) % RING_SIZE;
        f.slots.push_back(slot);
        bool eop = i + 1 == descs.size();
        uint8_t cmd = CMD_IFCS | (eop ? CMD_EOP : 0) | (d.rs ? CMD_RS : 0);
        SlotInfo& s = slots_[slot];
        uint8_t* r = s.raw;
        for (int b = 0; b < 8; b++) r[b] = static_cast<uint8_t>(d.addr >> (8 * b));
        r[8] = static_cast<uint8_t>(d.len);
        r[9] = static_cast<uint8_t>(d.len >> 8);
        r[10] = static_cast<uint8_t>(rng_());  // cso: ignored by the NIC, must survive write-back
        r[11] = cmd;
        r[12] = 0;                              // status: DD clear
        r[13] = static_cast<uint8_t>(rng_());  // css
        r[14] = static_cast<uint8_t>(rng_());  // special
        r[15] = static_cast<uint8_t>(rng_());
        uint64_t da = RING_BASE + 16ULL * slot;
        for (int b = 0; b < 16; b++) mem_.at(da + b) = r[b];
        s.rs = d.rs;
        s.frame = fi;
        bool fails = i < wb_fail.size() && wb_fail[i];
        // The slot's write-back fails only for this descriptor, not for later users of the slot.
        auto& wf = mem_.write_faults;
        wf.erase(std::remove_if(wf.begin(), wf.end(), [da](const Range& r) { return r.hit(da, 16); }), wf.end());
        if (fails) mem_.write_faults.push_back({da + 8, da + 16});
        if (d.rs) {
            exp_wb_.push_back({slot, !fails});
            if (fails) exp_err_++;
            else exp_txdw_++;
        }
        if (fate == Fate::Send)
            for (unsigned k = 0; k < d.len; k++) data.push_back(mem_.at(d.addr + k));
        f.eop_slot = slot;
    }
    if (fate == Fate::Send) {
        if (top_->tctl_psp && data.size() < 60) data.resize(60, 0);
        uint32_t fcs = crc32_ref(data);
        for (int b = 0; b < 4; b++) data.push_back(static_cast<uint8_t>(fcs >> (8 * b)));
        f.wire = data;
        exp_wire_.push_back(fi);
        exp_dma_.push_back(fi);
    } else {
        exp_err_++;
    }
    return fi;
}

// A frame of `total` bytes split over `ndesc` descriptors at random byte alignments.
void Bench::post_random(unsigned total, unsigned ndesc, bool allow_4k_cross) {
    std::vector<DescSpec> descs;
    unsigned left = total;
    for (unsigned i = 0; i < ndesc; i++) {
        unsigned len = (i + 1 == ndesc) ? left : uniform(1, left - (ndesc - 1 - i));
        left -= len;
        if (allow_4k_cross && chance(20)) {
            // Put the buffer astride a 4 KiB boundary.
            uint64_t page = (alloc_ + 0xFFF) & ~0xFFFULL;
            uint64_t astride = (page - uniform(1, len < 64 ? len : 64)) & ~7ULL;
            alloc_ = std::max(alloc_, astride);  // never over buffers already posted
        }
        uint64_t a = alloc(len, uniform(0, 7));
        auto bytes = random_bytes(len);
        for (unsigned k = 0; k < len; k++) mem_.at(a + k) = bytes[k];
        descs.push_back({a, static_cast<uint16_t>(len), chance(50) || i + 1 == ndesc});
    }
    post(descs, Fate::Send);
}

void Bench::drive() {
    // AR / AW / W ready: random
    top_->m_axi_arready = chance(p_arready_);
    top_->m_axi_awready = chance(p_awready_);
    top_->m_axi_wready = chance(p_wready_);

    // R: a presented beat stays until taken
    if (!r_presenting_ && !reads_.empty() && g_cycle >= reads_.front().ready_at && chance(p_rvalid_))
        r_presenting_ = true;
    if (r_presenting_) {
        const ReadBurst& rb = reads_.front();
        uint64_t a = rb.addr + 8ULL * rb.sent;
        bool bad = Memory::faults(mem_.read_faults, a, 8);
        top_->m_axi_rvalid = 1;
        top_->m_axi_rdata = bad ? 0xDEADBEEFDEADBEEFULL : mem_.read64(a);
        top_->m_axi_rresp = bad ? 2 : 0;
        top_->m_axi_rlast = rb.sent + 1 == rb.beats;
    } else {
        top_->m_axi_rvalid = 0;
        top_->m_axi_rdata = 0;
        top_->m_axi_rresp = 0;
        top_->m_axi_rlast = 0;
    }

    // B: in order, held until taken
    if (!b_presenting_ && !b_.empty() && g_cycle >= b_.front().ready_at && chance(p_bvalid_)) b_presenting_ = true;
    top_->m_axi_bvalid = b_presenting_;
    top_->m_axi_bresp = b_presenting_ ? b_.front().resp : 0;

    top_->m_axis_tx_tready = !tready_hold_low_ && chance(p_tready_);
}

void Bench::sample_and_clock() {
    top_->clk = 0;
    top_->eval();

    // Handshakes, sampled before the edge
    bool ar = top_->m_axi_arvalid && top_->m_axi_arready;
    bool r = top_->m_axi_rvalid && top_->m_axi_rready;
    bool aw = top_->m_axi_awvalid && top_->m_axi_awready;
    bool w = top_->m_axi_wvalid && top_->m_axi_wready;
    bool b = top_->m_axi_bvalid && top_->m_axi_bready;
    bool tv = top_->m_axis_tx_tvalid, tr = top_->m_axis_tx_tready;
    uint64_t araddr = top_->m_axi_araddr;
    unsigned arlen = top_->m_axi_arlen;
    uint64_t awaddr = top_->m_axi_awaddr;
    unsigned awlen = top_->m_axi_awlen;
    uint64_t wdata = top_->m_axi_wdata;
    unsigned wstrb = top_->m_axi_wstrb;
    bool wlast = top_->m_axi_wlast;
    uint64_t tdata = top_->m_axis_tx_tdata;
    unsigned tkeep = top_->m_axis_tx_tkeep;
    bool tlast = top_->m_axis_tx_tlast;
    CHECK(!top_->m_axis_tx_tuser, "tuser set");

    if (ar) {
        CHECK(top_->m_axi_arsize == 3 && top_->m_axi_arburst == 1, "AR size/burst %u/%u", top_->m_axi_arsize,
              top_->m_axi_arburst);
        CHECK((araddr & 7) == 0, "AR address %#" PRIx64 " not 8-byte aligned", araddr);
        CHECK(arlen <= 15, "AR burst of %u beats", arlen + 1);
        CHECK((araddr & 0xFFF) + 8ULL * (arlen + 1) <= 0x1000, "AR %#" PRIx64 " x%u crosses 4 KiB", araddr,
              arlen + 1);
        CHECK(mem_.inside(araddr, 8ULL * (arlen + 1)), "AR %#" PRIx64 " outside host memory", araddr);
        for (unsigned i = 0; i <= arlen; i++)
            CHECK(mem_.readable[(araddr + 8ULL * i - MEM_BASE) / 8], "AR %#" PRIx64 " reads word %#" PRIx64
                  " that holds no posted buffer or descriptor", araddr, araddr + 8ULL * i);
        reads_.push_back({araddr, arlen + 1, 0, g_cycle + uniform(lat_min_, lat_max_)});
    }
    if (r) {
        ReadBurst& rb = reads_.front();
        r_presenting_ = false;
        if (++rb.sent == rb.beats) {
            reads_.pop_front();
        }
    }
    if (aw) {
        CHECK(awlen == 0 && top_->m_axi_awsize == 3 && top_->m_axi_awburst == 1, "AW len/size/burst");
        aw_.push_back({awaddr});
    }
    if (w) {
        // DD (bit 0 of status byte 12): byte 4 of the upper qword, nothing else
        w_.push_back(wlast && wstrb == 0x10 && ((wdata >> 32) & 0xFF) == 0x01);
    }
    while (!aw_.empty() && !w_.empty()) {
        uint64_t a = aw_.front().addr;
        bool well_formed = w_.front();
        aw_.pop_front();
        w_.pop_front();
        CHECK(well_formed, "write-back W beat is not a DD status-byte write");
        CHECK(a >= RING_BASE && a < RING_BASE + RING_SIZE * 16 && (a - RING_BASE) % 16 == 8,
              "write to %#" PRIx64 " is not a descriptor's upper qword", a);
        unsigned slot = static_cast<unsigned>((a - RING_BASE) / 16);
        CHECK(slots_[slot].rs, "DD written back for slot %u without RS", slot);
        const Frame& f = frames_[slots_[slot].frame];
        CHECK(f.wire.empty() || f.dma_seen, "slot %u written back before its frame was fully read", slot);
        bool fault = Memory::faults(mem_.write_faults, a, 8);
        if (!fault) mem_.at(a + 4) |= 0x01;
        b_.push_back({g_cycle + uniform(lat_min_, lat_max_), fault ? 2u : 0u});
    }
    if (b) {
        b_.pop_front();
        b_presenting_ = false;
    }

    // Stream sink: AXI-S rules, bytes, timing
    if (prev_stall_) {
        CHECK(tv && tdata == prev_tdata_ && tkeep == prev_tkeep_ && tlast == prev_tlast_,
              "AXI-S beat changed while stalled");
    }
    prev_stall_ = tv && !tr;
    prev_tdata_ = tdata;
    prev_tkeep_ = tkeep;
    prev_tlast_ = tlast;
    if (tv && !in_frame_) {
        in_frame_ = true;
        cur_ = WireFrame{};
        cur_.first_valid = g_cycle;
        CHECK(!exp_wire_.empty(), "unexpected frame on the wire");
        const Frame& f = frames_[exp_wire_.front()];
        CHECK(f.dma_seen && f.dma_cycle < g_cycle, "frame (EOP slot %u) started before it was in the FIFO",
              f.eop_slot);
    }
    if (tv && tr) {
        if (cur_.bytes.empty()) cur_.first_hs = g_cycle;
        CHECK(tlast ? (tkeep != 0 && ((tkeep + 1) & tkeep) == 0) : tkeep == 0xFF, "bad tkeep %#x (tlast %d)", tkeep,
              tlast);
        unsigned n = 0;
        for (int i = 0; i < 8; i++)
            if (tkeep >> i & 1) {
                cur_.bytes.push_back(static_cast<uint8_t>(tdata >> (8 * i)));
                n++;
            }
        if (tlast) {
            cur_.last_hs = g_cycle;
            cur_.last_bytes = n;
            const Frame& f = frames_[exp_wire_.front()];
            CHECK(cur_.bytes == f.wire, "frame (EOP slot %u) on the wire: %zu bytes, expected %zu%s", f.eop_slot,
                  cur_.bytes.size(), f.wire.size(), cur_.bytes.size() == f.wire.size() ? " (content differs)" : "");
            exp_wire_.pop_front();
            if (!wire_.empty()) {
                // Whatever the history, a gap is at least 20 bytes minus the unused lanes of the last beat
                // minus at most 7 bytes of carried credit.
                const WireFrame& p = wire_.back();
                uint64_t idle = cur_.first_valid - p.last_hs - 1;
                CHECK(idle * 8 >= 5 + p.last_bytes, "gap of %" PRIu64 " idle cycles after a %u-byte last beat",
                      idle, p.last_bytes);
            }
            stat_expect_.push_back(static_cast<unsigned>(cur_.bytes.size()));
            wire_.push_back(cur_);
            in_frame_ = false;
        }
    }

    top_->clk = 1;
    top_->eval();
}

void Bench::observe() {
    if (top_->stat_tx_frame) {
        CHECK(!stat_expect_.empty(), "stat_tx_frame without a frame");
        CHECK(top_->stat_tx_bytes == stat_expect_.front(), "stat_tx_bytes %u, frame was %u", top_->stat_tx_bytes,
              stat_expect_.front());
        stat_expect_.pop_front();
    }
    if (top_->tx_dma_valid) {
        CHECK(!exp_dma_.empty(), "tx_dma_valid (slot %u) not expected", top_->tx_dma_slot);
        Frame& f = frames_[exp_dma_.front()];
        CHECK(top_->tx_dma_slot == f.eop_slot, "tx_dma_slot %u, expected %u", top_->tx_dma_slot, f.eop_slot);
        f.dma_seen = true;
        f.dma_cycle = g_cycle;
        exp_dma_.pop_front();
    }
    if (top_->tx_wb_valid) {
        CHECK(!exp_wb_.empty() && exp_wb_.front().ok, "tx_wb_valid (slot %u) not expected", top_->tx_wb_slot);
        unsigned slot = exp_wb_.front().slot;
        exp_wb_.pop_front();
        CHECK(top_->tx_wb_slot == slot, "tx_wb_slot %u, expected %u", top_->tx_wb_slot, slot);
        CHECK(top_->txdw_pulse, "tx_wb_valid without txdw_pulse");
        const uint8_t* raw = slots_[slot].raw;
        for (int b = 0; b < 16; b++) {
            uint8_t want = b == 12 ? 0x01 : raw[b];
            CHECK(mem_.at(RING_BASE + 16ULL * slot + b) == want, "slot %u byte %d is %#x after write-back, want %#x",
                  slot, b, mem_.at(RING_BASE + 16ULL * slot + b), want);
        }
    }
    if (top_->txdw_pulse) {
        CHECK(top_->tx_wb_valid, "txdw_pulse without tx_wb_valid");
        seen_txdw_++;
    }
    if (top_->tx_err_pulse) {
        seen_err_++;
        CHECK(seen_err_ <= exp_err_, "unexpected tx_err_pulse (%u so far)", seen_err_);
        // A failed write-back is the next expected completion if it is at the head.
        if (!exp_wb_.empty() && !exp_wb_.front().ok && exp_wb_.front().slot == (top_->tdh + RING_SIZE - 1) % RING_SIZE)
            exp_wb_.pop_front();
    }
    unsigned tdh = top_->tdh;
    CHECK(tdh < RING_SIZE, "TDH %u outside the ring", tdh);
    if (tdh != prev_tdh_) {
        unsigned moved = (tdh + RING_SIZE - prev_tdh_) % RING_SIZE;
        unsigned owed = (tdt_ + RING_SIZE - prev_tdh_) % RING_SIZE;
        CHECK(moved <= owed, "TDH moved from %u to %u past TDT %u", prev_tdh_, tdh, tdt_);
        prev_tdh_ = tdh;
        last_tdh_move_ = g_cycle;
        txqe_since_move_ = false;
    }
    if (top_->txqe_pulse) {
        CHECK(tdh == top_->tdt, "txqe_pulse with TDH %u != TDT %u", tdh, top_->tdt);
        txqe_since_move_ = true;
        txqe_count_++;
    }
}

void Bench::step() {
    drive();
    sample_and_clock();
    observe();
    g_cycle++;
}

bool Bench::idle() {
    return top_->tdh == tdt_ && top_->tdt == tdt_ && exp_wire_.empty() && exp_dma_.empty() && exp_wb_.empty() &&
           !in_frame_ && reads_.empty() && aw_.empty() && w_.empty() && b_.empty() && seen_err_ == exp_err_ &&
           stat_expect_.empty() && !top_->m_axis_tx_tvalid;
}

void Bench::wait_until(const char* what, uint64_t max_cycles, bool (Bench::*cond)()) {
    for (uint64_t i = 0; i < max_cycles; i++) {
        if ((this->*cond)()) return;
        step();
    }
    failf("timeout waiting for %s (TDH %u TDT %u, %zu frames to see on the wire, %zu dma, %zu wb, err %u/%u)", what,
          top_->tdh, tdt_, exp_wire_.size(), exp_dma_.size(), exp_wb_.size(), seen_err_, exp_err_);
}

void Bench::finish_phase() {
    wait_until("the engine to go idle", 2'000'000, &Bench::idle);
    // Let any late pulse show up before checking the totals.
    for (int i = 0; i < 50; i++) step();
    CHECK(idle(), "activity after idle");
    CHECK(seen_txdw_ == exp_txdw_, "txdw pulses %u, expected %u", seen_txdw_, exp_txdw_);
    CHECK(txqe_since_move_, "TDH reached TDT (%u) without txqe_pulse", tdt_);
    std::printf("  %-28s ok: %zu frames on the wire; so far %u errors, %u txqe; cycle %" PRIu64 "\n", g_phase.c_str(),
                wire_.size(), seen_err_, txqe_count_, g_cycle);
    // Buffers of finished frames are no longer posted.
    std::fill(mem_.readable.begin(), mem_.readable.end(), 0);
    mem_.mark_readable(RING_BASE, RING_SIZE * 16);
    mem_.write_faults.clear();
    alloc_ = BUF_BASE;
}

// Mixed traffic under random bus latency, ready/valid gaps and stream backpressure.
void Bench::phase_basic() {
    begin_phase("basic");
    set_bus(70, 70, 4, 60, 60);
    for (int i = 0; i < 400; i++) {
        unsigned ndesc = uniform(1, 3);
        unsigned total = chance(30) ? uniform(ndesc, 59) : uniform(60, 1514);
        if (total < ndesc) total = ndesc;
        pending_need_ = ndesc;
        wait_until("ring room", 200'000, &Bench::ring_has_room);
        post_random(total, ndesc, true);
        if (chance(40)) doorbell();
        if (alloc_ > BUF_BASE + (4ULL << 20)) {
            doorbell();
            wait_until("the engine to go idle", 2'000'000, &Bench::idle);
            alloc_ = BUF_BASE;
        }
    }
    doorbell();
    finish_phase();
}

// TCTL.PSP clear: short frames go out unpadded.
void Bench::phase_no_pad() {
    begin_phase("no padding");
    top_->tctl_psp = 0;
    set_bus(90, 90, 2, 20, 80);
    for (unsigned len : {1u, 7u, 8u, 9u, 14u, 42u, 59u, 60u, 61u}) {
        pending_need_ = 2;
        wait_until("ring room", 200'000, &Bench::ring_has_room);
        post_random(len, len > 1 ? 2 : 1, false);
    }
    doorbell();
    finish_phase();
    top_->tctl_psp = 1;
}

// Frames queued in the FIFO, then released into an always-ready sink: frame k must start exactly
// ceil(sum over earlier frames of (len + 20) / 8) cycles after the first.
void Bench::phase_spacing() {
    begin_phase("inter-frame spacing");
    set_bus(100, 100, 4, 4, 100);
    tready_hold_low_ = true;
    unsigned bytes = 0;
    for (int i = 0; i < 30; i++) {
        unsigned len = (i % 5 == 0) ? uniform(1, 59) : uniform(60, 500);
        bytes += (len + 7) & ~7u;
        post_random(len, uniform(1, len < 2 ? len : 2), false);
    }
    CHECK(bytes < MAX_FRAME_BYTES, "spacing phase must fit in the FIFO");
    doorbell();
    wait_until("all frames in the FIFO", 200'000, &Bench::all_in_fifo);
    tready_hold_low_ = false;
    finish_phase();
    CHECK(wire_.size() == 30, "%zu frames", wire_.size());
    uint64_t byte_time = 0;
    for (const WireFrame& w : wire_) {
        uint64_t want = (byte_time + 7) / 8;
        CHECK(w.first_hs - wire_[0].first_hs == want, "frame starts %" PRIu64 " cycles after the first, expected %" PRIu64,
              w.first_hs - wire_[0].first_hs, want);
        byte_time += w.bytes.size() + 20;
    }
}

void Bench::phase_errors() {
    begin_phase("bad input");
    set_bus(80, 80, 4, 30, 80);
    auto buf = [this](unsigned len) {
        uint64_t a = alloc(len, uniform(0, 7));
        auto bytes = random_bytes(len);
        for (unsigned k = 0; k < len; k++) mem_.at(a + k) = bytes[k];
        return a;
    };
    auto good = [&]() { post({{buf(100), 100, true}}, Fate::Send); };

    // Zero-length descriptors inside a frame are skipped.
    post({{buf(30), 30, true}, {buf(8), 0, true}, {buf(40), 40, false}}, Fate::Send);
    post({{buf(8), 0, false}, {buf(64), 64, true}}, Fate::Send);
    // A frame of only zero-length descriptors holds nothing to send.
    post({{buf(8), 0, true}, {buf(8), 0, true}}, Fate::Drop);
    good();
    doorbell();
    finish_phase();

    // A buffer read fails: the whole frame is dropped, its descriptors still complete.
    uint64_t bad = FAULT_BASE + 0x100 + uniform(0, 7);
    mem_.mark_readable(bad, 200);
    post({{buf(300), 300, true}, {bad, 200, false}, {buf(50), 50, true}}, Fate::Drop);
    good();
    post({{bad, 200, true}}, Fate::Drop);
    good();
    doorbell();
    finish_phase();

    // Longer than the FIFO can hold: dropped; the largest frame that fits still goes out.
    post({{buf(6000), 6000, true}, {buf(6000), 6000, false}, {buf(6000), 6000, true}}, Fate::Drop);
    good();
    post({{buf(6000), 6000, false}, {buf(6000), 6000, false}, {buf(MAX_FRAME_BYTES - 12000), static_cast<uint16_t>(MAX_FRAME_BYTES - 12000), true}},
         Fate::Send);
    good();
    doorbell();
    finish_phase();

    // More descriptors than a frame may span: dropped; the most allowed still goes out.
    std::vector<DescSpec> many, most;
    for (unsigned i = 0; i < 40; i++) many.push_back({buf(10), 10, i % 3 == 0});
    post(many, Fate::Drop);
    good();
    doorbell();
    finish_phase();
    for (unsigned i = 0; i < MAX_FRAME_DESCS; i++) most.push_back({buf(10), 10, i % 4 == 0});
    post(most, Fate::Send);
    good();
    doorbell();
    finish_phase();

    // A descriptor that cannot be read ends (and drops) its frame; no write-back is attempted.
    unsigned slot = tdt_;
    uint64_t da = RING_BASE + 16ULL * slot;
    mem_.read_faults.push_back({da, da + 16});
    post({{buf(100), 100, false}}, Fate::Drop);
    good();
    doorbell();
    finish_phase();
    mem_.read_faults.pop_back();

    // A write-back that fails: the frame is sent, the error counted, TDH still advances.
    post({{buf(100), 100, true}}, Fate::Send, {true});
    good();
    doorbell();
    finish_phase();

    // Failed write-backs and dropped frames close together: every error is its own pulse. The
    // unaligned frames end with a realignment flush that the empty frames' markers must not disturb.
    set_bus(80, 80, 1, 12, 100);
    for (int i = 0; i < 100; i++) {
        pending_need_ = 3;
        wait_until("ring room", 200'000, &Bench::ring_has_room);
        unsigned len = uniform(9, 40);
        post({{buf(len), static_cast<uint16_t>(len), true}}, Fate::Send, {chance(50)});
        if (chance(50)) post({{buf(8), 0, chance(50)}, {buf(8), 0, true}}, Fate::Drop);
        else post({{buf(8), 0, true}}, Fate::Drop);
        doorbell();
        for (unsigned k = uniform(0, 12); k > 0; k--) step();
    }
    finish_phase();
}

// TCTL.EN gates fetching; a TDH write moves where fetching starts.
void Bench::phase_enable_and_tdh() {
    begin_phase("TCTL.EN and TDH write");
    set_bus(100, 100, 4, 4, 100);
    top_->tctl_en = 0;
    tdt_ = 5;
    top_->tdt = 5;
    prev_tdh_ = 5;
    top_->tdh_wr = 1;
    top_->tdh_wdata = 5;
    step();
    top_->tdh_wr = 0;
    CHECK(top_->tdh == 5, "TDH write not taken: %u", top_->tdh);
    post_random(100, 1, false);
    post_random(30, 2, false);
    doorbell();
    for (int i = 0; i < 300; i++) {
        step();
        CHECK(!top_->m_axi_arvalid, "descriptor fetch while TCTL.EN is clear");
    }
    top_->tctl_en = 1;
    finish_phase();
}

// Back-to-back frames with about 1 us of memory latency (150 cycles, a PCIe round trip) and a ready
// bus: after warm-up the DMA must keep the wire busy, i.e. no gap is longer than the minimum that
// could follow its frame.
// offset: buffer address mod 8 (2 is Linux's NET_IP_ALIGN).
void Bench::phase_line_rate(unsigned len, unsigned offset) {
    std::string name = "line rate, " + std::to_string(len) + " B at +" + std::to_string(offset);
    begin_phase(name.c_str());
    set_bus(100, 100, 150, 150, 100);
    const unsigned frames = 400, warmup = 40;
    for (unsigned i = 0; i < frames; i++) {
        pending_need_ = 1;
        wait_until("ring room", 200'000, &Bench::ring_has_room);
        uint64_t a = alloc(len, offset);
        auto bytes = random_bytes(len);
        for (unsigned k = 0; k < len; k++) mem_.at(a + k) = bytes[k];
        post({{a, static_cast<uint16_t>(len), true}}, Fate::Send);
        doorbell();
        if (alloc_ > BUF_BASE + (6ULL << 20)) alloc_ = BUF_BASE;  // long since sent
    }
    finish_phase();
    for (unsigned k = warmup; k + 1 < wire_.size(); k++) {
        const WireFrame& p = wire_[k];
        uint64_t idle = wire_[k + 1].first_valid - p.last_hs - 1;
        CHECK(idle <= (12 + p.last_bytes + 7) / 8, "wire starved: %" PRIu64 " idle cycles after frame %u", idle, k);
    }
    uint64_t span = wire_.back().first_hs - wire_[warmup].first_hs;
    uint64_t bytes = 0;
    for (unsigned k = warmup; k + 1 < wire_.size(); k++) bytes += wire_[k].bytes.size() + 20;
    std::printf("    %.4f of 10 Gb/s line rate\n", static_cast<double>(bytes) / (8.0 * static_cast<double>(span)));
}

void Bench::run() {
    phase_enable_and_tdh();
    phase_basic();
    phase_no_pad();
    phase_spacing();
    phase_line_rate(1514, 0);
    phase_line_rate(1514, 2);
    phase_line_rate(60, 0);
    phase_line_rate(60, 2);
    phase_errors();
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines stay in order with failures on stderr
    std::vector<uint64_t> seeds;
    for (int i = 1; i < argc; i++) seeds.push_back(std::strtoull(argv[i], nullptr, 0));
    if (seeds.empty()) seeds = {1, 2, 3};
    for (uint64_t s : seeds) {
        g_seed = s;
        g_cycle = 0;
        std::printf("seed %" PRIu64 "\n", s);
        Bench bench(s);
        bench.run();
    }
    std::printf("PASS\n");
    return 0;
}
