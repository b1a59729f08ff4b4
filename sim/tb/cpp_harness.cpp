// Plain C++ Verilator harness of nic_top: the baseline for `make bench` (tools/bench.sh).
//
//   cpp_harness <frames> [dma_latency_cycles]   benchmark: <frames> 64-byte UDP frames at 10 GbE line rate
//   cpp_harness --print-frame                   the benchmark frame in hex (for the Rust traffic generator)
//
// Output (one line):
//   cycles=<n> frames_delivered=<n> seconds=<process CPU time of the run loop> cycles_per_sec=<x>
//
// The model around the NIC (wire, AXI memory, AXI-Lite master, driver) is nic_tb.h; the self-check is
// nic_selfcheck.cpp.

#include "nic_tb.h"

#include <ctime>

using namespace nic;

namespace {

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

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--print-frame") {
        for (uint8_t byte : udp_frame(64)) printf("%02x ", byte);
        printf("\n");
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <frames> [dma_latency_cycles] | --print-frame\n", argv[0]);
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
