#!/usr/bin/env bash
# `make bench`: simulated cycles per second of the Rust co-simulation (Verilated NIC + real host driver)
# against a plain C++ Verilator harness of the same RTL on the same traffic, measured side by side and
# interleaved (this machine is shared and noisy: compare ratios from one run, not absolute numbers).
set -euo pipefail
frames=${1:-200000}
rounds=${ROUNDS:-3}
cd "$(dirname "$0")/.."

cpp=$(sim/tb/build_cpp_harness.sh)
cargo build --release -q -p sim --bin bench
rust=target/release/bench

rate() { sed -n 's/.*cycles_per_sec=\([0-9.e+]*\).*/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cpp_rates=(); rust_rates=()
for i in $(seq "$rounds"); do
  c=$("$cpp" "$frames" | rate); r=$("$rust" "$frames" | rate)
  echo "round $i: cpp_harness $c cycles/s, nicsim co-sim $r cycles/s"
  cpp_rates+=("$c"); rust_rates+=("$r")
done
c=$(printf '%s\n' "${cpp_rates[@]}" | median)
r=$(printf '%s\n' "${rust_rates[@]}" | median)
awk -v c="$c" -v r="$r" -v f="$frames" 'BEGIN {
  printf "\n%d frames of 64 B at line rate, median of rounds\n", f
  printf "  plain C++ Verilator harness : %12.0f cycles/s\n", c
  printf "  nicsim co-sim (Rust + cxx)  : %12.0f cycles/s\n", r
  printf "  ratio co-sim / C++          : %12.2f   (target >= 0.60)\n", r / c
}'
