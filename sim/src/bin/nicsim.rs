//! `nicsim`: run, check and list co-simulation scenarios (see `sim::cli`).

fn main() -> std::process::ExitCode {
    sim::cli::main()
}
