//! Stream stages as actors: demand-driven pipelines from and to synchronous code.
//!
//! A pipeline reads like the work: a [`Source`], stages, a [`Sink`], started
//! on a [`crate::System`] with [`Runnable::run`], which returns a
//! [`StreamHandle`] to wait for the sink's result (or the stream's error),
//! cancel, and read per-stage [`StageMetrics`].
//!
//! ```
//! use playhouse::stream::{Sink, Source, Window};
//! use playhouse::System;
//! use std::time::Duration;
//!
//! let system = System::new();
//! let handle = Source::from_iter(0..1000u32)
//!     .map(|n| n * 3)
//!     .filter(|n| n % 2 == 0)
//!     .window(Window::count(100))
//!     .map(|w| w.len())
//!     .to(Sink::collect())
//!     .run(&system)?;
//! assert_eq!(handle.wait(Duration::from_secs(5))?, vec![100, 100, 100, 100, 100]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The pattern
//!
//! Every source, stage, merge, broadcast and sink is an actor, wired to its
//! neighbours by addresses and built on the public actor API only. Elements
//! flow down; *demand* flows up: each actor has a buffer and grants its
//! upstream one credit per free place ([`CreditWindow`]); no actor sends
//! without credit ([`Credit`]). So:
//!
//! - the elements in flight never exceed the sum of the buffers (a stage
//!   that keeps state, such as a window or a batch, holds its window too);
//! - a slow sink slows the source: an iterator is pulled only as credit
//!   comes, so an endless generator runs in bounded memory;
//! - no worker ever blocks: a stage without credit simply waits for the
//!   next message. Blocking sources and sinks (a channel, a queue pushed
//!   from a plain thread) block their own thread, never a pool worker.
//!
//! Use streams for event processing that has a shape (transform, filter,
//! window, aggregate) and must keep a bounded footprint under load. To hand
//! each event to subscribers that come and go, with no windows or
//! aggregates, an [`crate::bus::EventBus`] is simpler (and a stream can read
//! from one with [`Source::from_bus`]). A single step of work needs no
//! pipeline: send it to an actor.
//!
//! # Time
//!
//! Time windows, `grouped_within`, `throttle` and the ticker read the time
//! of the system they run on ([`crate::Context::now`], or [`Emitter::now`] in
//! a [`Stage`]) and get their ticks from its timer. A system built with a
//! [`crate::testkit::ManualClock`] ([`crate::SystemBuilder::clock`]) moves
//! them only when a test advances that clock, together with every other
//! timer of the system; after an advance,
//! [`crate::System::await_quiescent`] waits until what came due is handled.
//! A time window closes by timestamp, not by counting ticks: when the clock
//! jumps past several window ends at once (the timer skips the periods it
//! missed), every window that ended closes, in order.
//!
//! ```
//! use playhouse::stream::{Sink, Source, Window};
//! use playhouse::testkit::ManualClock;
//! use playhouse::System;
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let system = System::builder().clock(clock.clone()).build()?;
//! let (source, queue) = Source::queue(&system, 8)?;
//! let (tx, rx) = crossbeam_channel::unbounded();
//! let stream = source
//!     .window(Window::time(Duration::from_secs(60)))
//!     .to(Sink::to_sender(tx))
//!     .run(&system)?;
//! system.await_quiescent(Duration::from_secs(5))?; // every stage started
//! queue.push(1)?;
//! queue.push(2)?;
//! system.await_quiescent(Duration::from_secs(5))?; // both in the window
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, vec![1, 2]);
//! drop(queue);
//! stream.wait(Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Completion, failure, cancel
//!
//! The end of the source flushes partial windows and batches down to the
//! sink, which completes the handle. A stage that fails on an element (an
//! `Err` from `try_map` or a [`Stage`], or a panic in any user closure)
//! follows its [`ErrorPolicy`]: resume (the element goes to dead letters),
//! restart with fresh state, or stop the stream with the error. Cancelling
//! (from the handle, a `take`, or a sink that wants no more) stops the source
//! and every stage; nothing keeps running or holding elements.
//!
//! # Fusion
//!
//! Each stage is one actor, so every stage costs a message hop per element
//! and neighbouring stages run in parallel. Stateless neighbours (map,
//! filter, filter_map, inspect, try_map) can be fused into one actor with
//! [`Source::fused`], which saves the hops; fusion is explicit, never
//! automatic, so leaving it out is switching it off.

mod actor;
mod aggregate;
mod broadcast;
mod buffer;
mod builder;
mod demand;
mod error;
mod handle;
mod link;
mod merge;
mod ops;
mod queue;
mod sink;
mod source;
mod stage;
mod throttle;
mod window;

pub use aggregate::Stats;
pub use buffer::Overflow;
pub use builder::{DEFAULT_BUFFER, Keyed, Runnable, Source};
pub use demand::{Credit, CreditWindow, Overrun};
pub use error::{PushError, StartError, StreamError};
pub use handle::{Canceller, StageMetrics, StreamHandle};
pub use merge::Fairness;
pub use ops::fused::Fused;
pub use queue::QueueHandle;
pub use sink::Sink;
pub use stage::{Emitter, ErrorPolicy, Stage};
pub use window::Window;
