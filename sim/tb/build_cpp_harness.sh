#!/bin/sh
# Build the plain C++ Verilator harness of nic_top (sim/tb/cpp_harness.cpp) with the flags the Rust
# build uses for the model: C++ at -O2 with -fno-semantic-interposition, --no-timing, single-threaded.
# Usage: sim/tb/build_cpp_harness.sh [out_dir]    (default target/cpp_harness; binary: <out_dir>/cpp_harness)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/cpp_harness}
mkdir -p "$out"
verilator --cc --exe --build -j 1 --no-timing \
    --top-module nic_top -I"$root/rtl" "$root/rtl/nic_top.v" \
    "$root/sim/tb/cpp_harness.cpp" \
    -CFLAGS "-O2 -fno-semantic-interposition -std=c++17" \
    -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O2 OPT_GLOBAL=-O2" \
    --Mdir "$out/obj" -o "$out/cpp_harness" >"$out/build.log" 2>&1 ||
    { cat "$out/build.log" >&2; exit 1; }
echo "$out/cpp_harness"
