//! playhouse: an actor framework for Rust programs that are not async.
#![deny(missing_docs, missing_debug_implementations, unsafe_code)]
#![warn(unreachable_pub)]

mod error;
mod pool;
mod sync;
mod timer;

pub use error::{
    ActorError, AskError, BuildError, Failure, QuiescenceTimeout, SendError, SendTimeoutError,
    ShutdownError, SpawnError, StuckActor, TrySendError,
};
pub use pool::{PoolBuilder, PoolMetrics, ThreadPool};
pub use timer::TimerHandle;

/// Internals exposed to the loom models in `loom-tests/`; absent from normal builds.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api {
    pub use crate::pool::Task;
    pub use crate::pool::park::Parker;
    pub use crate::pool::queue::{Local, Steal, local};

    /// `ThreadPool::terminate`, which is crate-internal.
    pub fn terminate(
        pool: &crate::ThreadPool,
        timeout: std::time::Duration,
    ) -> Result<(), Vec<String>> {
        pool.terminate(timeout)
    }
}
