// The shared C++ model around nic_top for the testbenches: CRC-32 and the reference UDP frame, a wire
// source with exact byte-time accounting, an in-order AXI4 slave over a flat host memory with a fixed
// latency (optionally stalling at random), an AXI4-Lite master and a minimal e1000-style driver.
//
// The model's type is NIC_TB_TOP (default Vnic_top); the lockstep checker defines it as a pair of models.
#pragma once

#ifndef NIC_TB_TOP
#include "Vnic_top.h"
#define NIC_TB_TOP Vnic_top
#endif
#include "verilated.h"

#include "frame.h"
#include "nic_regs.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nic {

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
        top_ = std::make_unique<NIC_TB_TOP>(ctx_.get());
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
    std::unique_ptr<NIC_TB_TOP> top_;
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
// Checks
// ---------------------------------------------------------------------------------------------------
inline int failures = 0;

inline void check(bool ok, const std::string& what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) failures++;
}

inline void check_eq(uint64_t got, uint64_t want, const std::string& what) {
    check(got == want, what + " (got " + std::to_string(got) + ", want " + std::to_string(want) + ")");
}

// Send frames and run until each has its verdict and the DMA is idle.
inline void deliver(Bench& b, const std::vector<std::pair<Bytes, bool>>& frames) {
    const size_t want = b.events().size() + frames.size();
    for (const auto& f : frames) b.send(f.first, f.second);
    uint64_t guard = b.cycle() + 200000;
    while ((b.events().size() < want || !b.wire_idle() || !b.dma_idle()) && b.cycle() < guard) b.step();
    for (int i = 0; i < 400; i++) b.step();  // let write-backs settle
}

}  // namespace nic
