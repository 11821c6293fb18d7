//! playhouse: actors for Rust programs that are not async.
//!
//! Actors with private state and bounded mailboxes run on a work-stealing pool
//! of plain threads that playhouse schedules itself; there is no async runtime.
//! Every concurrency protocol inside (scheduling state, run queues, parking,
//! mailboxes, reply slots, shutdown, timers) is model-checked with loom.
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
//! dropped [`Reply`] fails the ask at once.
//!
//! # Failure and supervision
//!
//! A panic or an `Err` from a handler is a failure: it is caught and logged, and
//! the message goes to dead letters. Without a supervisor the actor stops. Under
//! a [`Supervisor`] (Erlang/OTP strategies, restart kinds, intensity, backoff)
//! it is restarted with fresh state and keeps its mailbox and address.
//! [`Context::watch`] delivers a [`Terminated`] notice when an actor stops for
//! good.
//!
//! # Patterns as actors
//!
//! The classic event-driven patterns are built from the public actor API and
//! wired by addresses. [`EventBus`] routes events by topic to any
//! [`Recipient`], with a per-subscriber [`Overflow`] policy (backpressure or
//! shedding), prunes stopped subscribers through watch, and can feed a plain
//! thread through a bounded channel.
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
mod addr;
pub mod breaker;
mod bus;
mod cell;
mod context;
mod dedicated;
mod error;
mod mailbox;
mod panic;
pub mod persist;
mod pool;
mod quiet;
mod reply;
mod spare;
pub mod stream;
mod supervisor;
mod sync;
mod system;
pub mod testkit;
mod timer;
mod watch;

pub use actor::{Actor, ExitReason, Terminated};
pub use addr::{ActorMetrics, Addr, Recipient, Target};
pub use bus::{
    BusMsg, BusStats, EventBus, EventBusBuilder, Overflow, Subscribe, SubscribeError,
    SubscriberStats, Subscription,
};
pub use context::{Context, Flow};
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
