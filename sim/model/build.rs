//! Verilates `rtl/nic_top.v` and builds the model, the Verilator runtime and the cxx bridge.
//!
//! Measured facts about Verilator 5.006 and cxx on this machine that this follows: the source list comes from the generated
//! `Vnic_top_classes.mk`, never a glob; VM_TRACE* are defined in every translation unit; the per-cycle
//! C++ is built at -O2 with `-fno-semantic-interposition` in every profile; the runtime objects, which take
//! most of the compile time, are cached keyed on the Verilator version and flags; link libraries are
//! printed users before providers.

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

const TOP: &str = "nic_top";
const INSTALL_HINT: &str = "apt-get install -y verilator g++ make zlib1g-dev";
/// RX FIFO depth the model is built with (the RTL parameter is fixed at Verilation).
const DEFAULT_RX_FIFO_BYTES: u32 = 16384;

const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "--no-timing",
    "--trace-fst",
    "--timescale",
    "1ns/1ps",
    "-Wno-fatal",
];

const CXX_FLAGS: &[&str] = &[
    "-std=gnu++17",
    "-fno-semantic-interposition",
    "-faligned-new",
    "-fcf-protection=none",
    "-Wno-bool-operation",
    "-Wno-sign-compare",
    "-Wno-uninitialized",
    "-Wno-unused-but-set-variable",
    "-Wno-unused-parameter",
    "-Wno-unused-variable",
    "-Wno-shadow",
];

/// The same in every translation unit, the wrapper included: otherwise `#if VM_TRACE` reads 0.
const DEFINES: &[(&str, &str)] = &[
    ("VM_COVERAGE", "0"),
    ("VM_SC", "0"),
    ("VM_TRACE", "1"),
    ("VM_TRACE_FST", "1"),
    ("VM_TRACE_VCD", "0"),
];

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-env-changed=NICSIM_RTL_DIR");
    println!("cargo:rerun-if-env-changed=NICSIM_RX_FIFO_BYTES");
    let rtl = env::var_os("NICSIM_RTL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../rtl"));
    let rx_fifo_bytes: u32 = match env::var("NICSIM_RX_FIFO_BYTES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| fail(&format!("NICSIM_RX_FIFO_BYTES={v} is not a byte count"))),
        Err(_) => DEFAULT_RX_FIFO_BYTES,
    };
    println!("cargo:rustc-env=NICSIM_RX_FIFO_BYTES={rx_fifo_bytes}");

    for entry in [
        "build.rs",
        "src/model.rs",
        "csrc/nic_model.h",
        "csrc/nic_model.cpp",
    ] {
        println!("cargo:rerun-if-changed={}", manifest.join(entry).display());
    }
    println!("cargo:rerun-if-changed={}", rtl.display());
    let mut rtl_files: Vec<PathBuf> = fs::read_dir(&rtl)
        .unwrap_or_else(|e| fail(&format!("cannot list RTL directory {}: {e}", rtl.display())))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("v" | "sv" | "vh" | "svh")
            )
        })
        .collect();
    rtl_files.sort();
    for f in &rtl_files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let top_file = rtl.join(format!("{TOP}.v"));
    if !top_file.exists() {
        fail(&format!("{} does not exist", top_file.display()));
    }

    let version = verilator_version();
    let root = PathBuf::from(capture("verilator", &["--getenv", "VERILATOR_ROOT"]).trim());
    let include = root.join("include");

    let mdir = out.join("verilated");
    let _ = fs::remove_dir_all(&mdir);
    let mut cmd = Command::new("verilator");
    cmd.args(VERILATOR_FLAGS)
        .arg(format!("-GRX_FIFO_DEPTH_BYTES={rx_fifo_bytes}"))
        .arg("--top-module")
        .arg(TOP)
        .arg("--Mdir")
        .arg(&mdir)
        .arg(format!("-I{}", rtl.display()))
        .arg(&top_file);
    run(&mut cmd);

    let classes = fs::read_to_string(mdir.join(format!("V{TOP}_classes.mk")))
        .unwrap_or_else(|e| fail(&format!("Verilator wrote no V{TOP}_classes.mk: {e}")));
    let units = |vars: &[&str], dir: &Path| -> Vec<PathBuf> {
        vars.iter()
            .flat_map(|var| mk_list(&classes, var))
            .map(|name| dir.join(format!("{name}.cpp")))
            .collect()
    };
    let fast_units = units(&["VM_CLASSES_FAST", "VM_SUPPORT_FAST"], &mdir);
    let slow_units = units(&["VM_CLASSES_SLOW", "VM_SUPPORT_SLOW"], &mdir);
    let runtime_units = units(&["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"], &include);

    // Users before providers: bridge → model → runtime → system libraries.
    let mut bridge = cxx_build::bridge("src/model.rs");
    configure(
        &mut bridge,
        FAST,
        &include,
        &[&mdir, &manifest.join("csrc")],
    );
    bridge
        .file(manifest.join("csrc/nic_model.cpp"))
        .compile("nic_bridge");

    // Construction and trace set-up run once: Verilator's own makefile leaves them unoptimised too,
    // and they are the largest files (about 3x quicker to compile at -O0). One archive for both
    // halves, since they call each other.
    let mut slow = cc::Build::new();
    configure(&mut slow, SLOW, &include, &[&mdir]);
    let slow_objects = slow.files(&slow_units).compile_intermediates();
    let mut model = cc::Build::new();
    configure(&mut model, FAST, &include, &[&mdir]);
    model
        .files(&fast_units)
        .objects(&slow_objects)
        .compile("nic_model");

    link_runtime(&out, &include, &version, &runtime_units);
    for lib in ["stdc++", "z", "pthread", "atomic"] {
        println!("cargo:rustc-link-lib={lib}");
    }
}

/// Optimisation of the per-cycle code, in every profile: an unoptimised model is several times slower.
const FAST: u32 = 2;
/// Optimisation of code that runs once (constructors, trace declarations).
const SLOW: u32 = 0;

/// Common C++ settings. `cargo_metadata(false)`: the link order is printed by hand.
fn configure(build: &mut cc::Build, opt: u32, include: &Path, extra_includes: &[&Path]) {
    build
        .cpp(true)
        .cargo_metadata(false)
        .opt_level(opt)
        .debug(false)
        .warnings(false)
        .include(include)
        .include(include.join("vltstd"));
    for dir in extra_includes {
        build.include(dir);
    }
    for flag in CXX_FLAGS {
        build.flag(flag);
    }
    for (k, v) in DEFINES {
        build.define(k, Some(*v));
    }
}

/// Builds `libverilated_rt.a` once per (Verilator version, flags, unit list) and links it.
fn link_runtime(out: &Path, include: &Path, version: &str, units: &[PathBuf]) {
    let mut h = DefaultHasher::new();
    (version, CXX_FLAGS, DEFINES, units, env::var("CXX").ok()).hash(&mut h);
    let dir = out.join(format!("verilated-rt-{:016x}", h.finish()));
    let lib = dir.join("libverilated_rt.a");
    if !lib.exists() {
        fs::create_dir_all(&dir)
            .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", dir.display())));
        let mut rt = cc::Build::new();
        configure(&mut rt, FAST, include, &[]);
        rt.out_dir(&dir).files(units).compile("verilated_rt");
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=nic_bridge");
    println!("cargo:rustc-link-lib=static=nic_model");
    println!("cargo:rustc-link-lib=static=verilated_rt");
}

/// The names listed under `VAR +=` in a Verilator make fragment (continuation lines end in `\`).
fn mk_list(mk: &str, var: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut lines = mk.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with(&format!("{var} +=")) {
            for cont in lines.by_ref() {
                let name = cont.trim().trim_end_matches('\\').trim();
                if !name.is_empty() {
                    names.push(name.to_string());
                }
                if !cont.trim_end().ends_with('\\') {
                    break;
                }
            }
        }
    }
    names
}

fn verilator_version() -> String {
    match Command::new("verilator").arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => fail(&format!(
            "`verilator` was not found on PATH; install it with: {INSTALL_HINT}"
        )),
    }
}

fn capture(prog: &str, args: &[&str]) -> String {
    let o = Command::new(prog)
        .args(args)
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run {prog}: {e}")));
    if !o.status.success() {
        fail(&format!(
            "{prog} {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(cmd: &mut Command) {
    let o = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run {cmd:?}: {e}")));
    // Verilator warnings are shown but not fatal here; `verilator --lint-only -Wall` guards the RTL.
    eprint!("{}", String::from_utf8_lossy(&o.stderr));
    if !o.status.success() {
        fail(&format!(
            "Verilator failed on the RTL ({cmd:?}):\n{}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    panic!("{msg}");
}
