#!/bin/sh
# `make rtl-selftest`: builds and runs every C++ testbench of the RTL (no Rust); exits non-zero on the
# first build or test failure. Block TBs: rx_mac, rx_fifo, rx_dma, tx_engine; whole NIC: nic_selfcheck.
# Usage: sim/tb/run_all.sh [out_dir (default target/tb)]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/tb}
mkdir -p "$out"
cd "$root"
# build <top> <tb.cpp> <binary> [extra verilator args...]
build() {
    top=$1 src=$2 bin=$3
    shift 3
    verilator --cc --exe --build -j 1 --no-timing -Wall -Irtl --top-module "$top" "$@" \
        -CFLAGS "-O1 -std=c++17" --Mdir "$out/$bin" "rtl/$top.v" "$root/sim/tb/$src" -o "$bin" \
        >"$out/$bin.log" 2>&1 || { cat "$out/$bin.log" >&2; echo "BUILD FAILED: $bin" >&2; exit 1; }
}
run() {
    echo "== $1"
    "$out/$1/$1" || { echo "TESTBENCH FAILED: $1" >&2; exit 1; }
}
build rx_mac rx_mac_tb.cpp rx_mac_tb
build rx_fifo rx_fifo_tb.cpp rx_fifo_tb -GRX_FIFO_DEPTH_BYTES=2048
[ -f sim/tb/rx_dma_tb.cpp ] && build rx_dma rx_dma_tb.cpp rx_dma_tb -GDESC_CACHE_DEPTH=8 -GWBQ_DEPTH=4 -GBTAG_DEPTH=8
build tx_engine tx_tb.cpp tx_tb
build nic_top nic_selfcheck.cpp nic_selfcheck -CFLAGS "-DNIC_RTL_DIR=\\\"$root/rtl\\\""
run rx_mac_tb
run rx_fifo_tb
[ -f sim/tb/rx_dma_tb.cpp ] && run rx_dma_tb
run tx_tb
echo "== nic_selfcheck"
"$out/nic_selfcheck/nic_selfcheck" | grep -v '^ok  ' || true
"$out/nic_selfcheck/nic_selfcheck" >/dev/null || { echo "TESTBENCH FAILED: nic_selfcheck" >&2; exit 1; }
echo "rtl-selftest: every testbench passed"
