// Small pieces shared by the block-level testbenches: a seeded xorshift, pass/fail counting with the
// closing "N passed, N failed" line, and a clocked step over any Verilated model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace tb {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        return s;
    }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

struct Checks {
    unsigned passed = 0, failed = 0;
    void operator()(bool ok, const std::string& what) {
        if (ok) {
            passed++;
        } else {
            failed++;
            if (failed <= 20) printf("FAIL %s\n", what.c_str());
        }
    }
    int finish(const char* name) {
        printf("%s: %u passed, %u failed\n", name, passed, failed);
        return failed || !passed ? 1 : 0;
    }
};

}  // namespace tb
