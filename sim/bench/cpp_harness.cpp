// Plain C++ Verilator harness of nic_top: the baseline for `make bench` and the RTL self-check.
//
//   cpp_harness <frames> [dma_latency_cycles]   benchmark: <frames> 64-byte UDP frames at 10 GbE line rate
//   cpp_harness --selfcheck                     functional checks of the RX path, exit status 0 = pass
//   cpp_harness --print-frame                   the benchmark frame in hex (for the Rust traffic generator)
//
// Benchmark output (one line):
//   cycles=<n> frames_delivered=<n> seconds=<process CPU time of the run loop> cycles_per_sec=<x>
//
// Pieces: a wire source with exact byte-time accounting (8 bytes per cycle, 20 bytes of preamble + IFG
// per frame), an AXI4 slave over a flat host memory answering after a fixed latency (in order, as with one
// AXI ID), an AXI4-Lite master, and a minimal e1000-style driver (ring of 256 descriptors, 2048-byte
// buffers, recycled as soon as they are written back: RDT = RDH - 1).

#include "Vnic_top.h"
#include "verilated.h"

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------------
// Register offsets (rtl/README.md)
// ---------------------------------------------------------------------------------------------------
enum Reg : uint32_t {
    CTRL = 0x0000, STATUS = 0x0008, ICR = 0x00C0, ITR = 0x00C4, ICS = 0x00C8, IMS = 0x00D0, IMC = 0x00D8,
    RCTL = 0x0100, TCTL = 0x0400, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDT = 0x3818,
    GPTC = 0x4080, RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810,
    RDT = 0x2818, RDTR = 0x2820, RADV = 0x282C, RLPML = 0x5004, MTA = 0x5200, RAL0 = 0x5400,
    RAH0 = 0x5404, CRCERRS = 0x4000, RXERRC = 0x400C, MPC = 0x4010, GPRC = 0x4074, BPRC = 0x4078,
    MPRC = 0x407C, GORCL = 0x4088, GORCH = 0x408C, RNBC = 0x40A0, RUC = 0x40A4, ROC = 0x40AC,
    TPR = 0x40D0, FLTC = 0x4F00,
};
constexpr uint32_t RCTL_EN = 1u << 1, RCTL_MPE = 1u << 4, RCTL_BAM = 1u << 15;
constexpr uint32_t ICR_RXDMT0 = 1u << 4, ICR_RXO = 1u << 6, ICR_RXT0 = 1u << 7;
constexpr uint32_t CTRL_RST = 1u << 26;
constexpr uint32_t TCTL_EN = 1u << 1, TCTL_PSP = 1u << 3;
constexpr uint8_t TXD_CMD_EOP = 1u << 0, TXD_CMD_IFCS = 1u << 1, TXD_CMD_RS = 1u << 3;

enum EvtCode { EVT_ACCEPT = 0, EVT_CRC, EVT_RUNT, EVT_OVERSIZE, EVT_FILTER, EVT_FIFO_FULL, EVT_PHY_ERR };

// ---------------------------------------------------------------------------------------------------
// Traffic: the reference frame, reproduced byte for byte by the Rust side
// ---------------------------------------------------------------------------------------------------
using Bytes = std::vector<uint8_t>;
const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc;
}

uint16_t inet_csum(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (n & 1) sum += p[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void append_fcs(Bytes& f) {
    uint32_t fcs = ~crc32_update(0xFFFFFFFFu, f.data(), f.size());
    for (int i = 0; i < 4; i++) f.push_back(static_cast<uint8_t>(fcs >> (8 * i)));  // LSB first
}

// UDP/IPv4 frame of `frame_len` bytes including FCS (>= 46): dst `dst`, src 02:00:00:00:00:02,
// 10.0.0.2 -> 10.0.0.1, UDP 5000 -> 9000, IPv4 id 0, DF clear, TTL 64, payload zeros, both checksums
// valid. For frame_len = 64 (18 payload bytes) the 64 bytes are (`cpp_harness --print-frame`):
//   02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 2e 00 00 00 00 40 11 66 bd 0a 00 00 02
//   0a 00 00 01 13 88 23 28 00 1a b5 07, 18 x 00, FCS b0 b8 5e 0f
Bytes udp_frame(size_t frame_len, const uint8_t dst[6] = OUR_MAC) {
    const size_t ip_len = frame_len - 4 - 14;
    const size_t udp_len = ip_len - 20;
    Bytes f(frame_len - 4, 0);
    memcpy(&f[0], dst, 6);
    memcpy(&f[6], PEER_MAC, 6);
    f[12] = 0x08;
    uint8_t* ip = &f[14];
    ip[0] = 0x45;
    ip[2] = ip_len >> 8, ip[3] = ip_len & 0xFF;
    ip[8] = 64, ip[9] = 17;
    const uint8_t src_ip[4] = {10, 0, 0, 2}, dst_ip[4] = {10, 0, 0, 1};
    memcpy(ip + 12, src_ip, 4);
    memcpy(ip + 16, dst_ip, 4);
    uint16_t c = inet_csum(ip, 20);
    ip[10] = c >> 8, ip[11] = c & 0xFF;
    uint8_t* udp = ip + 20;
    udp[0] = 5000 >> 8, udp[1] = 5000 & 0xFF, udp[2] = 9000 >> 8, udp[3] = 9000 & 0xFF;
    udp[4] = udp_len >> 8, udp[5] = udp_len & 0xFF;
    uint32_t pseudo = (10 << 8) + 2 + (10 << 8) + 1 + 17 + static_cast<uint32_t>(udp_len);
    c = inet_csum(udp, udp_len, pseudo);
    if (c == 0) c = 0xFFFF;
    udp[6] = c >> 8, udp[7] = c & 0xFF;
    append_fcs(f);
    return f;
}

// ---------------------------------------------------------------------------------------------------
// Testbench
// ---------------------------------------------------------------------------------------------------
constexpr uint64_t MEM_BYTES = 4u << 20;
constexpr uint64_t RING_ADDR = 0x10000;
constexpr uint64_t BUF_BASE = 0x100000;
constexpr unsigned RING_SIZE = 256;
constexpr unsigned BUF_BYTES = 2048;
constexpr uint64_t TX_RING_ADDR = 0x20000;
constexpr uint64_t TX_BUF_BASE = 0x200000;

struct WireFrame {
    Bytes bytes;
    bool phy_err;
    uint64_t queued_bytes;  // byte time at which the frame was handed to the wire
};

struct Burst {
    uint64_t ready;  // cycle the response may start
    uint64_t addr;
    unsigned beats;
};

class Bench {
public:
    // stall: the memory slave drops AWREADY/WREADY/ARREADY and inserts R/B gaps at random (fixed seed),
    // to exercise the NIC's AXI handshakes.
    explicit Bench(uint64_t dma_latency, bool stall = false)
        : latency_(dma_latency), stall_(stall), mem_(MEM_BYTES, 0) {
        ctx_ = std::make_unique<VerilatedContext>();
        top_ = std::make_unique<Vnic_top>(ctx_.get());
        top_->m_axis_tx_tready = 1;
        top_->rst = 1;
        for (int i = 0; i < 4; i++) step();
        top_->rst = 0;
        step();
    }

    uint64_t cycle() const { return cycle_; }
    uint8_t* mem(uint64_t addr) { return &mem_[addr]; }
    const std::vector<int>& events() const { return events_; }
    uint64_t accepted() const { return accepted_; }
    const std::vector<unsigned>& writebacks() const { return writebacks_; }
    const std::vector<Bytes>& tx_frames() const { return tx_frames_; }
    bool irq() const { return top_->irq; }
    bool wire_idle() const { return wire_.empty() && !in_frame_; }

    void send(const Bytes& f, bool phy_err = false) { wire_.push_back({f, phy_err, cycle_ * 8}); }

    // Called for each completed RX write-back (slot), after the write-back's B response.
    std::function<void(unsigned)> on_writeback;

    void step() {
        drive_wire();
        drive_mem();
        drive_axil();
        top_->clk = 0;
        top_->eval();
        const bool rx_hs = top_->s_axis_rx_tvalid;  // tready is always 1
        const bool ar_hs = top_->m_axi_arvalid && top_->m_axi_arready;
        const bool aw_hs = top_->m_axi_awvalid && top_->m_axi_awready;
        const bool w_hs = top_->m_axi_wvalid && top_->m_axi_wready;
        const bool r_hs = top_->m_axi_rvalid && top_->m_axi_rready;
        const bool b_hs = top_->m_axi_bvalid && top_->m_axi_bready;
        const bool law_hs = top_->s_axil_awvalid && top_->s_axil_awready;
        const bool lar_hs = top_->s_axil_arvalid && top_->s_axil_arready;
        const bool lb_hs = top_->s_axil_bvalid && top_->s_axil_bready;
        const bool lr_hs = top_->s_axil_rvalid && top_->s_axil_rready;
        const uint64_t ar_addr = top_->m_axi_araddr, aw_addr = top_->m_axi_awaddr;
        const unsigned ar_len = top_->m_axi_arlen, aw_len = top_->m_axi_awlen;
        const uint64_t w_data = top_->m_axi_wdata;
        const unsigned w_strb = top_->m_axi_wstrb;
        const bool w_last = top_->m_axi_wlast;
        const uint32_t l_rdata = top_->s_axil_rdata;
        check_stable(aw_wait_, top_->m_axi_awvalid, aw_hs, {aw_addr, aw_len}, "AW");
        check_stable(w_wait_, top_->m_axi_wvalid, w_hs, {w_data, w_strb, w_last}, "W");
        check_stable(ar_wait_, top_->m_axi_arvalid, ar_hs, {ar_addr, ar_len}, "AR");
        if (top_->m_axis_tx_tvalid) collect_tx(top_->m_axis_tx_tdata, top_->m_axis_tx_tkeep, top_->m_axis_tx_tlast);
        top_->clk = 1;
        top_->eval();
        cycle_++;

        if (rx_hs) advance_wire();
        if (ar_hs) reads_.push_back({cycle_ + latency_, ar_addr, ar_len + 1});
        if (r_hs) {
            Burst& r = reads_.front();
            r.addr += 8;
            if (--r.beats == 0) reads_.pop_front();
        }
        if (aw_hs) writes_.push_back({0, aw_addr, aw_len + 1});
        if (w_hs) {
            wbeats_.push_back({w_data, w_strb, w_last});
        }
        retire_writes();
        if (b_hs) bresp_.pop_front();
        if (law_hs) axil_w_.pop_front(), axil_b_pending_++;
        if (lb_hs) axil_b_pending_--;
        if (lar_hs) axil_r_.pop_front();
        if (lr_hs) axil_rdata_.push_back(l_rdata);

        if (top_->rx_evt_valid) {
            events_.push_back(top_->rx_evt_code);
            accepted_ += top_->rx_evt_code == EVT_ACCEPT;
        }
        if (top_->rx_wb_valid) {
            writebacks_.push_back(top_->rx_wb_slot);
            if (on_writeback) on_writeback(top_->rx_wb_slot);
        }
    }

    // Posted register write (queued in issue order with reads).
    void write_reg(uint32_t off, uint32_t val) { axil_w_.push_back({off, val}); }

    // Blocking register read: runs the clock until the response arrives (earlier writes complete first).
    uint32_t read_reg(uint32_t off) {
        while (!axil_w_.empty() || axil_b_pending_) step();
        axil_r_.push_back(off);
        while (axil_rdata_.empty()) step();
        uint32_t v = axil_rdata_.front();
        axil_rdata_.pop_front();
        return v;
    }

    void flush_regs() {
        while (!axil_w_.empty() || axil_b_pending_) step();
    }

    bool dma_idle() const { return reads_.empty() && writes_.empty() && bresp_.empty(); }

private:
    struct WBeat {
        uint64_t data;
        unsigned strb;
        bool last;
    };
    struct AxilWrite {
        uint32_t off, val;
    };

    // Wire: 8 bytes per cycle; each frame occupies its length + 20 bytes (preamble, SFD, IFG) of wire
    // time. Frames start at exact byte times and the first beat goes out in the first cycle at or after
    // that time, so back-to-back 64-byte frames alternate 10 and 11 cycles (10.5 on average), as the
    // deficit idle count of a 10GBASE-R PCS does.
    void drive_wire() {
        top_->s_axis_rx_tvalid = 0;
        if (!in_frame_) {
            if (wire_.empty()) return;
            const uint64_t start = std::max(wire_free_bytes_, wire_.front().queued_bytes);
            if (cycle_ * 8 < start) return;
            in_frame_ = true;
            offset_ = 0;
            wire_free_bytes_ = start + wire_.front().bytes.size() + 20;
        }
        const Bytes& f = wire_.front().bytes;
        size_t n = std::min<size_t>(8, f.size() - offset_);
        uint64_t d = 0;
        memcpy(&d, &f[offset_], n);
        top_->s_axis_rx_tdata = d;
        top_->s_axis_rx_tkeep = static_cast<uint8_t>((1u << n) - 1);
        top_->s_axis_rx_tlast = offset_ + n == f.size();
        top_->s_axis_rx_tuser = wire_.front().phy_err && top_->s_axis_rx_tlast;
        top_->s_axis_rx_tvalid = 1;
    }

    // AXI rule: once VALID is up it stays up, with the same payload, until the handshake.
    struct Pending {
        bool waiting = false;
        std::vector<uint64_t> payload;
    };
    void check_stable(Pending& p, bool valid, bool hs, std::vector<uint64_t> payload, const char* ch) {
        if (p.waiting && (!valid || payload != p.payload)) {
            fprintf(stderr, "%s channel: VALID dropped or payload changed before READY\n", ch);
            fail("AXI handshake violation");
        }
        p.waiting = valid && !hs;
        p.payload = std::move(payload);
    }

    // TX wire sink (tready is always 1).
    void collect_tx(uint64_t data, unsigned keep, bool last) {
        for (int k = 0; k < 8; k++)
            if (keep & (1u << k)) tx_cur_.push_back(static_cast<uint8_t>(data >> (8 * k)));
        if (last) {
            tx_frames_.push_back(tx_cur_);
            tx_cur_.clear();
        }
    }

    void advance_wire() {
        offset_ += 8;
        if (offset_ >= wire_.front().bytes.size()) {
            wire_.pop_front();
            in_frame_ = false;
        }
    }

    void drive_mem() {
        uint32_t coin = 0x1F;
        if (stall_) {
            rng_ ^= rng_ << 13, rng_ ^= rng_ >> 7, rng_ ^= rng_ << 17;
            coin = static_cast<uint32_t>(rng_);
        }
        top_->m_axi_awready = coin & 1;
        top_->m_axi_wready = (coin >> 1) & 1;
        top_->m_axi_arready = (coin >> 2) & 1;
        top_->m_axi_rvalid = 0;
        if (!reads_.empty() && reads_.front().ready <= cycle_ && ((coin >> 3) & 1)) {
            const Burst& r = reads_.front();
            uint64_t d = 0;
            memcpy(&d, mem_at(r.addr), 8);
            top_->m_axi_rdata = d;
            top_->m_axi_rresp = 0;
            top_->m_axi_rlast = r.beats == 1;
            top_->m_axi_rvalid = 1;
        }
        top_->m_axi_bvalid = !bresp_.empty() && bresp_.front() <= cycle_ && ((coin >> 4) & 1);
        top_->m_axi_bresp = 0;
    }

    // A write burst completes once its AW and all its W beats are in; B follows after the latency.
    void retire_writes() {
        while (!writes_.empty() && wbeats_.size() >= writes_.front().beats) {
            Burst& w = writes_.front();
            for (unsigned i = 0; i < w.beats; i++) {
                const WBeat& b = wbeats_.front();
                if (b.last != (i + 1 == w.beats)) fail("WLAST does not match AWLEN");
                for (int k = 0; k < 8; k++)
                    if (b.strb & (1u << k)) mem_at(w.addr + 8 * i)[k] = static_cast<uint8_t>(b.data >> (8 * k));
                wbeats_.pop_front();
            }
            if ((w.addr & 0xFFF) + 8 * w.beats > 0x1000) fail("write burst crosses 4 KiB");
            if (w.beats > 16 || (w.addr & 7)) fail("write burst too long or unaligned");
            bresp_.push_back(cycle_ + latency_);
            writes_.pop_front();
        }
    }

    void drive_axil() {
        top_->s_axil_awvalid = top_->s_axil_wvalid = !axil_w_.empty();
        if (!axil_w_.empty()) {
            top_->s_axil_awaddr = axil_w_.front().off;
            top_->s_axil_wdata = axil_w_.front().val;
            top_->s_axil_wstrb = 0xF;
        }
        top_->s_axil_bready = 1;
        // A read goes out only after every earlier write has its response (issue order).
        top_->s_axil_arvalid = !axil_r_.empty() && axil_w_.empty() && !axil_b_pending_;
        if (!axil_r_.empty()) top_->s_axil_araddr = axil_r_.front();
        top_->s_axil_rready = 1;
    }

    uint8_t* mem_at(uint64_t addr) {
        if (addr + 8 > mem_.size()) fail("DMA outside host memory");
        return &mem_[addr];
    }

    [[noreturn]] void fail(const char* why) {
        fprintf(stderr, "FAIL at cycle %llu: %s\n", static_cast<unsigned long long>(cycle_), why);
        exit(1);
    }

    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Vnic_top> top_;
    uint64_t cycle_ = 0;
    uint64_t latency_;
    bool stall_;
    uint64_t rng_ = 0x9E3779B97F4A7C15ull;
    Pending aw_wait_, w_wait_, ar_wait_;
    Bytes mem_;

    std::deque<WireFrame> wire_;
    bool in_frame_ = false;
    size_t offset_ = 0;
    uint64_t wire_free_bytes_ = 0;

    std::deque<Burst> reads_, writes_;
    std::deque<WBeat> wbeats_;
    std::deque<uint64_t> bresp_;

    std::deque<AxilWrite> axil_w_;
    unsigned axil_b_pending_ = 0;
    std::deque<uint32_t> axil_r_;
    std::deque<uint32_t> axil_rdata_;

    std::vector<int> events_;
    uint64_t accepted_ = 0;
    std::vector<unsigned> writebacks_;
    Bytes tx_cur_;
    std::vector<Bytes> tx_frames_;
};

// Minimal driver: programs the MAC address and the RX ring, then recycles each written-back buffer.
class Driver {
public:
    explicit Driver(Bench& b) : b_(b) {}

    void probe(uint32_t rctl, unsigned initial_free = RING_SIZE - 1) {
        b_.write_reg(RAL0, OUR_MAC[0] | OUR_MAC[1] << 8 | OUR_MAC[2] << 16 | uint32_t(OUR_MAC[3]) << 24);
        b_.write_reg(RAH0, OUR_MAC[4] | OUR_MAC[5] << 8 | 1u << 31);
        for (unsigned i = 0; i < RING_SIZE; i++) set_buffer(i, BUF_BASE + uint64_t(i) * BUF_BYTES);
        b_.write_reg(RDBAL, static_cast<uint32_t>(RING_ADDR));
        b_.write_reg(RDBAH, static_cast<uint32_t>(RING_ADDR >> 32));
        b_.write_reg(RDLEN, RING_SIZE * 16);
        b_.write_reg(RDH, 0);
        b_.write_reg(RDT, initial_free);
        b_.write_reg(RCTL, rctl);
        b_.flush_regs();
    }

    void set_buffer(unsigned slot, uint64_t addr) {
        uint8_t* d = b_.mem(RING_ADDR + 16 * slot);
        memset(d, 0, 16);
        memcpy(d, &addr, 8);
    }
    uint64_t buffer(unsigned slot) {
        uint64_t a;
        memcpy(&a, b_.mem(RING_ADDR + 16 * slot), 8);
        return a;
    }
    uint16_t desc_len(unsigned slot) {
        uint16_t l;
        memcpy(&l, b_.mem(RING_ADDR + 16 * slot + 8), 2);
        return l;
    }
    uint8_t desc_status(unsigned slot) { return *b_.mem(RING_ADDR + 16 * slot + 12); }
    uint8_t desc_errors(unsigned slot) { return *b_.mem(RING_ADDR + 16 * slot + 13); }

    // Give the buffer of `slot` back to the NIC: clear DD and move RDT onto it (RDT = RDH - 1).
    void recycle(unsigned slot) {
        *b_.mem(RING_ADDR + 16 * slot + 12) = 0;
        b_.write_reg(RDT, slot);
    }

private:
    Bench& b_;
};

// ---------------------------------------------------------------------------------------------------
// Benchmark
// ---------------------------------------------------------------------------------------------------
int run_bench(uint64_t frames, uint64_t latency) {
    Bench b(latency);
    Driver drv(b);
    drv.probe(RCTL_EN | RCTL_BAM);
    uint64_t delivered = 0;
    b.on_writeback = [&](unsigned slot) {
        delivered++;
        drv.recycle(slot);
    };
    const Bytes frame = udp_frame(64);
    for (uint64_t i = 0; i < frames; i++) b.send(frame);

    const uint64_t start = b.cycle();
    const std::clock_t t0 = std::clock();  // process CPU time: insensitive to other load on the machine
    // Run until every frame is on the wire and has its verdict, and every accepted one is written back.
    while (!b.wire_idle() || b.events().size() < frames || !b.dma_idle() || delivered < b.accepted()) b.step();
    const double seconds = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    const uint64_t cycles = b.cycle() - start;
    printf("cycles=%llu frames_delivered=%llu seconds=%.3f cycles_per_sec=%.0f\n",
           static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(delivered), seconds,
           cycles / seconds);
    return 0;
}

// ---------------------------------------------------------------------------------------------------
// Self-check
// ---------------------------------------------------------------------------------------------------
int failures = 0;

void check(bool ok, const std::string& what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) failures++;
}

void check_eq(uint64_t got, uint64_t want, const std::string& what) {
    check(got == want, what + " (got " + std::to_string(got) + ", want " + std::to_string(want) + ")");
}

// Send frames and run until each has its verdict and the DMA is idle.
void deliver(Bench& b, const std::vector<std::pair<Bytes, bool>>& frames) {
    const size_t want = b.events().size() + frames.size();
    for (const auto& f : frames) b.send(f.first, f.second);
    uint64_t guard = b.cycle() + 200000;
    while ((b.events().size() < want || !b.wire_idle() || !b.dma_idle()) && b.cycle() < guard) b.step();
    for (int i = 0; i < 400; i++) b.step();  // let write-backs settle
}

int run_selfcheck() {
    Bench b(128);
    Driver drv(b);
    drv.probe(RCTL_EN | RCTL_BAM);
    check_eq(b.read_reg(STATUS) & 2, 2, "STATUS.LU");
    check_eq(b.read_reg(RLPML), 1518, "RLPML default");
    b.write_reg(IMS, ICR_RXT0 | ICR_RXO);

    // 1. Good 64-byte frames at line rate: payload, descriptor, counters, probes.
    std::vector<std::pair<Bytes, bool>> good;
    for (int i = 0; i < 32; i++) good.push_back({udp_frame(64), false});
    deliver(b, good);
    check_eq(b.writebacks().size(), 32, "32 frames written back");
    bool slots_in_order = true, payload_ok = true, desc_ok = true;
    const Bytes ref = udp_frame(64);
    for (unsigned i = 0; i < b.writebacks().size(); i++) {
        unsigned s = b.writebacks()[i];
        slots_in_order &= s == i;
        desc_ok &= drv.desc_len(s) == 60 && drv.desc_status(s) == 0x03 && drv.desc_errors(s) == 0 &&
                   drv.buffer(s) == BUF_BASE + uint64_t(s) * BUF_BYTES;
        payload_ok &= memcmp(b.mem(drv.buffer(s)), ref.data(), 60) == 0;
    }
    check(slots_in_order, "write-back probe slots in ring order");
    check(desc_ok, "descriptors: length 60, status DD|EOP, errors 0, addr intact");
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
        flood_ok &= drv2.desc_len(s) == (s == 0 ? 60 : 1020) && drv2.desc_status(s) == 0x03;
        drv2.recycle(s);
    };
    b2.write_reg(RDT, RING_SIZE - 1);
    for (int i = 0; i < 20000; i++) b2.step();
    check_eq(b2.writebacks().size(), 16, "every committed frame delivered once descriptors are posted");
    check(flood_ok, "flood descriptors: lengths 60 then 1020, DD|EOP");
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
    if (argc == 2 && std::string(argv[1]) == "--selfcheck") return run_selfcheck();
    if (argc == 2 && std::string(argv[1]) == "--print-frame") {
        for (uint8_t byte : udp_frame(64)) printf("%02x ", byte);
        printf("\n");
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <frames> [dma_latency_cycles] | --selfcheck | --print-frame\n", argv[0]);
        return 2;
    }
    char* end = nullptr;
    uint64_t frames = strtoull(argv[1], &end, 10);
    if (*end || frames == 0) {
        fprintf(stderr, "bad frame count '%s'\n", argv[1]);
        return 2;
    }
    uint64_t latency = 128;
    if (argc == 3) {
        latency = strtoull(argv[2], &end, 10);
        if (*end) {
            fprintf(stderr, "bad latency '%s'\n", argv[2]);
            return 2;
        }
    }
    return run_bench(frames, latency);
}
