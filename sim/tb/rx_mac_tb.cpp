// Block-level self-checking testbench for rtl/rx_mac.v: frames of random length and kind through the
// receive MAC into a C++ model of rx_fifo's write side (speculative words, commit with last, rollback).
// Checked per frame: exactly one rx_evt with the code of the README precedence (PHY_ERR, RUNT, OVERSIZE,
// CRC, FILTER, FIFO_FULL, ACCEPT), rx_evt_bytes and the bcast/mcast flags, and for accepted frames the
// committed words equal the frame with its FCS stripped and wr_len = length - 4; dropped frames commit
// nothing (rolled back or never written).

#include "Vrx_mac.h"
#include "verilated.h"

#include "frame.h"
#include "nic_regs.h"
#include "tb_util.h"

#include <vector>

using nic::Bytes;

namespace {

const uint8_t OUR[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t BCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

struct Tb {
    VerilatedContext ctx;
    Vrx_mac top{&ctx};
    std::vector<uint64_t> spec;       // words written since the last commit
    std::vector<Bytes> committed;
    std::vector<unsigned> committed_len;
    std::vector<int> codes;
    std::vector<unsigned> evt_bytes;
    std::vector<int> evt_bcast, evt_mcast;
    uint32_t mta[128] = {};
    unsigned rollbacks = 0;

    void step() {
        top.clk = 0;
        top.eval();
        const unsigned hash = top.mta_hash;
        top.mta_hit = (mta[hash >> 5] >> (hash & 31)) & 1;
        top.eval();
        const bool wr = top.m_fifo_wr_en && !top.m_fifo_full;
        if (wr) spec.push_back(top.m_fifo_wr_data);
        if (wr && top.m_fifo_wr_last) {
            Bytes b;
            for (uint64_t w : spec)
                for (int k = 0; k < 8; k++) b.push_back(static_cast<uint8_t>(w >> (8 * k)));
            committed.push_back(b);
            committed_len.push_back(top.m_fifo_wr_len);
            spec.clear();
        }
        if (top.m_fifo_rollback) spec.clear(), rollbacks++;
        if (top.rx_evt_valid) {
            codes.push_back(top.rx_evt_code);
            evt_bytes.push_back(top.rx_evt_bytes);
            evt_bcast.push_back(top.rx_evt_bcast);
            evt_mcast.push_back(top.rx_evt_mcast);
        }
        top.clk = 1;
        top.eval();
    }
};

}  // namespace

int main(int argc, char** argv) {
    tb::Checks check;
    tb::Rng rng(argc > 1 ? strtoull(argv[1], nullptr, 10) : 1);
    Tb t;
    t.top.rst = 1;
    for (int i = 0; i < 4; i++) t.step();
    t.top.rst = 0;
    t.top.mac_addr = 0;
    for (int i = 0; i < 6; i++) t.top.mac_addr |= uint64_t(OUR[i]) << (8 * i);
    t.top.mac_addr_valid = 1;
    t.top.rlpml = 1518;
    t.top.rctl_bam = 1;
    const uint8_t mc_in[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};
    const unsigned h = (mc_in[5] << 4) | (mc_in[4] >> 4);
    t.mta[h >> 5] |= 1u << (h & 31);
    const uint8_t mc_out[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};

    unsigned n_code[7] = {};
    const unsigned frames = 3000;
    for (unsigned i = 0; i < frames; i++) {
        const unsigned kind = rng.below(12);
        const bool en = rng.below(30) != 0, mpe = rng.below(4) == 0, upe = rng.below(10) == 0;
        t.top.rctl_en = en, t.top.rctl_mpe = mpe, t.top.rctl_upe = upe;
        t.top.rlpml = rng.below(4) ? 1518 : 100 + rng.below(1500);
        const uint8_t* dst = kind == 1 ? BCAST : kind == 2 ? mc_in : kind == 3 ? mc_out : kind == 4 ? other : OUR;
        Bytes f = nic::udp_frame(64 + rng.below(rng.below(3) ? 150 : 1500), dst);
        if (kind == 5) {  // runt with a valid FCS
            f.resize(14 + rng.below(46));
            nic::append_fcs(f);
        }
        const bool bad_fcs = kind == 6, phy = kind == 7, full = kind == 8 || rng.below(40) == 0;
        if (bad_fcs) f[f.size() - 1 - rng.below(4)] ^= 1u << rng.below(8);
        // expected verdict (rtl/README.md precedence)
        const bool is_b = dst == BCAST, is_m = (dst[0] & 1) && !is_b;
        const bool mta_ok = dst == mc_in;
        const bool filt = en && (upe || (is_b && true) || (is_m && (mpe || mta_ok)) || (!is_m && !is_b && dst == OUR));
        int want;
        if (phy) want = nic::EVT_PHY_ERR;
        else if (f.size() < 64) want = nic::EVT_RUNT;
        else if (f.size() > t.top.rlpml) want = nic::EVT_OVERSIZE;
        else if (bad_fcs) want = nic::EVT_CRC;
        else if (!filt) want = nic::EVT_FILTER;
        else if (full) want = nic::EVT_FIFO_FULL;
        else want = nic::EVT_ACCEPT;

        const size_t ev0 = t.codes.size(), c0 = t.committed.size();
        t.top.m_fifo_full = full;
        for (size_t off = 0; off < f.size(); off += 8) {
            const size_t n = std::min<size_t>(8, f.size() - off);
            uint64_t d = 0;
            memcpy(&d, &f[off], n);
            t.top.s_axis_rx_tdata = d;
            t.top.s_axis_rx_tkeep = static_cast<uint8_t>((1u << n) - 1);
            t.top.s_axis_rx_tvalid = 1;
            t.top.s_axis_rx_tlast = off + n == f.size();
            t.top.s_axis_rx_tuser = phy && off + n == f.size();
            check(t.top.s_axis_rx_tready, "tready always 1");
            t.step();
        }
        t.top.s_axis_rx_tvalid = 0;
        for (int k = 0; k < 6 && t.codes.size() == ev0; k++) t.step();
        t.top.m_fifo_full = 0;
        const unsigned gap = rng.below(3);
        for (unsigned k = 0; k < gap; k++) t.step();
        const std::string tag = "frame " + std::to_string(i) + " (" + std::to_string(f.size()) + " B)";
        if (t.codes.size() != ev0 + 1) {
            check(false, tag + ": exactly one rx_evt");
            continue;
        }
        check(t.codes[ev0] == want, tag + ": code " + std::to_string(t.codes[ev0]) + " want " + std::to_string(want));
        n_code[want]++;
        check(t.evt_bytes[ev0] == f.size(), tag + ": rx_evt_bytes");
        if (want == nic::EVT_ACCEPT) {
            check(t.evt_bcast[ev0] == is_b && t.evt_mcast[ev0] == is_m, tag + ": bcast/mcast flags");
            const bool one = t.committed.size() == c0 + 1;
            check(one, tag + ": accepted frame committed once");
            if (one) {
                const Bytes& c = t.committed.back();
                check(t.committed_len.back() == f.size() - 4, tag + ": wr_len = length - 4 (FCS stripped)");
                check(c.size() == (f.size() - 4 + 7) / 8 * 8 && memcmp(c.data(), f.data(), f.size() - 4) == 0,
                      tag + ": committed words = frame without FCS");
            }
        } else {
            check(t.committed.size() == c0, tag + ": dropped frame commits nothing");
        }
    }
    for (int c = 0; c < 7; c++) check(n_code[c] > 10, "every rx_evt code exercised: " + std::to_string(c));
    check(t.rollbacks > 0, "rollbacks seen");
    return check.finish("rx_mac_tb");
}
