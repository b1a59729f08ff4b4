// Verilated nic_top behind the cxx bridge in src/model.rs: one VerilatedContext per model,
// one Pins crossing per clock cycle, FST tracing that can be opened and closed mid-run.
#pragma once

#include <cstdint>
#include <memory>

#include "Vnic_top.h"
#include "rust/cxx.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace nicsim {

struct Pins;

class NicModel {
  public:
    explicit NicModel(uint64_t ps_per_cycle);
    ~NicModel();
    NicModel(const NicModel&) = delete;
    NicModel& operator=(const NicModel&) = delete;

    void step(Pins& pins);
    void open_trace(rust::Str path);
    void close_trace();

  private:
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Vnic_top> top_;
    // Created on the first open_trace and kept: top->trace() is registered once, files come and go.
    std::unique_ptr<VerilatedFstC> fst_;
    uint64_t ps_per_cycle_;
    uint64_t cycle_ = 0;
};

std::unique_ptr<NicModel> new_nic_model(uint64_t ps_per_cycle);

}  // namespace nicsim
