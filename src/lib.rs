//! playhouse: actors for Rust programs that are not async.
//!
//! Actors with private state and bounded mailboxes run on a work-stealing pool
//! of plain threads that playhouse schedules itself; there is no async runtime.
//! Every concurrency protocol inside (scheduling state, run queues, parking,
//! mailboxes, reply slots, shutdown, timers) is model-checked with loom.
//!
//! New here? Read the [guide]: a first actor to supervision, patterns, testing, pitfalls.
//!
//! # Actors and addresses
//!
//! An [`Actor`] handles one message at a time with `&mut self`. [`System::spawn`]
//! takes a factory (as does a [`Supervisor`]'s child spec, which rebuilds the
//! actor with it) and returns a typed [`Addr`]; [`Addr::recipient`] erases the
//! actor type into a [`Recipient`] of one message type.
//!
//! ```
//! use playhouse::{Actor, ActorError, Context, Reply, System};
//! use std::time::Duration;
//!
//! struct Echo;
//! impl Actor for Echo {
//!     type Msg = (String, Reply<String>);
//!     fn handle(&mut self, _: &mut Context<Self>, (s, r): Self::Msg) -> Result<(), ActorError> {
//!         let _ = r.send(s.to_uppercase());
//!         Ok(())
//!     }
//! }
//!
//! let system = System::new();
//! let echo = system.spawn(|| Echo)?;
//! assert_eq!(echo.ask(|r| ("hi".into(), r), Duration::from_secs(5))?, "HI");
//! system.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sending, and backpressure
//!
//! Mailboxes are bounded. From a thread outside the pool, [`Addr::tell`] blocks
//! while the mailbox is full, [`Addr::try_tell`] hands the message back at once
//! and [`Addr::tell_timeout`] waits up to a deadline. A pool worker never blocks:
//! inside an actor, [`Context::send`] *suspends the sending actor* until the
//! target has room, so pressure travels upstream to the outside producer.
//! Every error that fails to deliver hands the message back.
//!
//! # Asking
//!
//! [`Addr::ask`] blocks an outside thread for the answer; [`Context::ask`] hands
//! it to a continuation that runs later on the asking actor. The deadline
//! travels with the request: a request whose asker gave up is not handled. A
//! dropped [`Reply`] fails the ask at once, and a failed handler fails it with
//! [`AskError::Failed`].
//!
//! # Failure and supervision
//!
//! A panic or an `Err` from a handler is a failure: it is caught and logged
//! once (the first system built installs a panic hook that keeps caught
//! handler panics off stderr), and the message goes to dead letters. Without
//! a supervisor the actor stops. A child spawned [`SpawnOptions::supervised`]
//! reports its starts and exits to its parent's [`Actor::on_child`] and waits
//! for it to restart or stop it; [`Supervisor`] (Erlang/OTP strategies,
//! restart kinds, intensity, backoff) is an ordinary actor built on that hook.
//! A restarted actor gets fresh state and keeps its mailbox, its address and
//! what it put in [`Context::kept_mut`]. [`Context::watch`] delivers a
//! [`Terminated`] notice when an actor stops for good.
//!
//! # Patterns as actors
//!
//! The classic event-driven patterns are built only from the public actor API
//! and wired by addresses, each in a public module of its own:
//!
//! - [`bus`]: an event bus routing events by topic to any [`Recipient`], with a
//!   per-subscriber overflow policy (backpressure or shedding); stopped
//!   subscribers are pruned through watch; a plain thread can subscribe
//!   through a bounded channel.
//! - [`breaker`]: a circuit breaker in front of a service actor or a blocking
//!   operation, failing fast while open and probing to close.
//! - [`stream`]: demand-driven pipelines of stage actors (map, filter,
//!   windows, aggregates, batches, priorities) that never overrun a stage.
//! - [`testkit`]: probes, a manual clock, deterministic simulation and loom
//!   models for checking your own actors.
//!
//! # Shutdown
//!
//! [`System::shutdown`] stops intake, lets queued work drain, stops every
//! actor children-first, and joins every thread; [`System::shutdown_timeout`]
//! names the actor and worker stuck in a handler instead of hanging. Dropping
//! the system does the same.
#![deny(missing_docs, missing_debug_implementations, unsafe_code)]
#![warn(unreachable_pub)]

mod actor;
pub mod breaker;
pub mod bus;
mod dedicated;
mod error;
mod exit;
pub mod guide;
mod mailbox;
mod panic;
pub mod persist;
mod pool;
mod quiet;
mod reply;
mod runtime;
mod spare;
pub mod stream;
mod supervisor;
mod sync;
mod system;
pub mod testkit;
mod timer;
mod watch;

pub use actor::Actor;
pub use actor::addr::{ActorMetrics, Addr, Recipient, Target};
pub use actor::context::{Context, Flow};
pub use actor::spawn::SpawnOptions;
pub use error::{
    ActorError, AskError, BuildError, Failure, QuiescenceTimeout, SendError, SendTimeoutError,
    ShutdownError, SpawnError, StuckActor, TrySendError,
};
pub use exit::{ChildEvent, ExitReason, Terminated};
pub use pool::{PoolBuilder, PoolMetrics, ThreadPool};
pub use reply::Reply;
pub use runtime::{DeadLetter, DeadLetterReason};
pub use supervisor::{
    ChildInfo, ChildSpec, DEFAULT_CHILD_SHUTDOWN, Restart, Strategy, Supervisor, SupervisorBuilder,
    SupervisorError, SupervisorExt, SupervisorMsg,
};
pub use system::{
    DEFAULT_MAILBOX_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_THROUGHPUT, System, SystemBuilder,
    SystemMetrics,
};
pub use timer::TimerHandle;

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
