//! The process's panic hook, quiet for panics on pool workers: the runtime catches and logs those itself.
//!
//! A panic in a handler is an actor failure: it is caught, logged once (at
//! error for an unsupervised actor, by its supervisor for a supervised one)
//! and handled. Rust's default hook would also print it to stderr, so an
//! expected, supervised failure would be reported twice. The hook installed
//! here (once per process, by the first system built) prints nothing for a
//! panic on a pool worker, whose tasks all run inside `catch_unwind`, nor for
//! one inside an actor's turn on a dedicated thread, whose user code does;
//! it logs the panic's location at debug. Every other panic goes to the hook
//! that was installed before, unchanged.

#[cfg(not(loom))]
use crate::sync::Once;

/// Installs the hook, once per process.
#[cfg(not(loom))]
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::pool::on_worker_thread() || super::current::in_turn() {
                if let Some(at) = info.location() {
                    log::debug!("panic on a pool worker at {at} (caught by the runtime)");
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// Loom models keep the default hook (they catch no handler panics).
#[cfg(loom)]
pub(crate) fn install() {}
