# nicsim: the two commands that matter are `make sim` and `make test` (see README.md).
SCENARIO ?= scenarios/udp_single.yaml
CARGO    ?= cargo
NICSIM   := target/release/nicsim
BENCH_FRAMES ?= 200000

.PHONY: sim test lint rtl-selftest bench packetdrill wave deps clean

deps:
	@tools/ensure-deps.sh

$(NICSIM): deps FORCE
	$(CARGO) build --release -p sim --bin nicsim

sim: $(NICSIM)
	$(NICSIM) run $(SCENARIO)

test: deps
	@tools/ensure-deps.sh gtkwave tshark xvfb
	$(MAKE) lint
	$(MAKE) rtl-selftest
	$(CARGO) test --release --workspace

lint:
	verilator --lint-only -Wall -Irtl rtl/nic_top.v --top-module nic_top
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# The RTL's own C++ self-checking testbenches (no Rust), all in sim/tb: block TBs of rx_mac, rx_fifo,
# rx_dma and the TX engine, and the whole NIC with a minimal driver (sim/tb/run_all.sh).
rtl-selftest: deps
	sim/tb/run_all.sh

bench: deps
	tools/bench.sh $(BENCH_FRAMES)

# Every script of ../shared/packetdrill against the host's TCP (minutes: the NIC is simulated cycle by
# cycle through seconds of script time); writes out/packetdrill/packetdrill.txt, fails on a regression
# of sim/tests/packetdrill_pass.txt and names scripts newly passing. `make test` runs the pinned ones.
packetdrill: deps
	NICSIM_PACKETDRILL=all $(CARGO) test --release -p sim --test packetdrill -- --nocapture

# Opens the waveform of the most recent `nicsim run --wave`.
wave:
	@tools/ensure-deps.sh gtkwave
	@last=$$(ls -td out/*/wave.fst 2>/dev/null | head -n 1); \
	if [ -z "$$last" ]; then echo "no waveform yet: run e.g. target/release/nicsim run $(SCENARIO) --wave"; exit 1; fi; \
	gtkwave "$$last" "$$(dirname $$last)/wave.gtkw"

clean:
	$(CARGO) clean
	rm -rf out

FORCE:
