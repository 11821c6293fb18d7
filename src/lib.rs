//! playhouse: an actor framework for Rust programs that are not async.
#![deny(missing_docs, missing_debug_implementations, unsafe_code)]
#![warn(unreachable_pub)]

mod actor;
mod addr;
mod cell;
mod context;
mod error;
mod mailbox;
mod pool;
mod reply;
mod supervisor;
mod sync;
mod system;
mod timer;

pub use actor::{Actor, ExitReason, Terminated};
pub use addr::{ActorMetrics, Addr, Recipient, Target};
pub use context::Context;
pub use error::{
    ActorError, AskError, BuildError, Failure, QuiescenceTimeout, SendError, SendTimeoutError,
    ShutdownError, SpawnError, StuckActor, SupervisorError, TrySendError,
};
pub use pool::{PoolBuilder, PoolMetrics, ThreadPool};
pub use reply::Reply;
pub use supervisor::{
    ChildInfo, ChildSpec, DEFAULT_CHILD_SHUTDOWN, GaveUp, Restart, Strategy, Supervisor,
    SupervisorBuilder, SupervisorMsg,
};
pub use system::{
    DEFAULT_MAILBOX_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_THROUGHPUT, DeadLetter,
    DeadLetterReason, SpawnOptions, System, SystemBuilder, SystemMetrics,
};
pub use timer::TimerHandle;

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
