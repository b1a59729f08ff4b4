//! SIGINT and SIGTERM end a run early instead of killing it: the handler only records the signal, and
//! the runner, between two stretches of simulated time, stops and writes what it measured, marked
//! incomplete (the model is never left mid-cycle).

use std::sync::atomic::{AtomicI32, Ordering};

/// The last signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    // Async-signal-safe: one atomic store.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to [`received`] for the rest of the process.
pub fn install() {
    let handler = record as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: `record` is async-signal-safe (a single atomic store), and `signal` has no other
    // preconditions.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// The name of the signal that asked the run to stop, if one did.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGINT => Some("SIGINT"),
        libc::SIGTERM => Some("SIGTERM"),
        _ => Some("a signal"),
    }
}
