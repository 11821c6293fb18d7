//! The playhouse guide: a walk through the framework, one chapter per page.
//!
//! Read the chapters in order the first time; each is short, and each
//! example in it is compiled and run as a test, so what it shows is what the
//! code does.
//!
//! 1. [Getting started](getting_started): a system, an actor, tell and ask.
//! 2. [Actors and messages](actors): the trait, its hooks, message enums,
//!    replies, timers, names and lookup.
//! 3. [Sending](sending): `tell` vs `ctx.send` vs `ask`, and `send_flow`.
//! 4. [Backpressure and watermarks](backpressure): bounded mailboxes and
//!    what happens when one is full.
//! 5. [Blocking work](blocking): `throughput`, long handlers and the
//!    dedicated-thread option.
//! 6. [Supervision](supervision): strategies, restart kinds, intensity,
//!    backoff, escalation, finding children.
//! 7. [The event bus](bus): topics, subscribers, overflow policies.
//! 8. [The circuit breaker](breaker): failing fast in front of a flaky
//!    dependency.
//! 9. [Streams](streams): demand-driven pipelines of stage actors.
//! 10. [Event sourcing and CQS](event_sourcing): persist, then apply;
//!     projections for queries.
//! 11. [Shutdown](shutdown): what it does and what its report means.
//! 12. [Testing your actors](testing): probes, a manual clock,
//!     quiescence, deterministic simulation.
//! 13. [Model-checking with loom](model_checking): your own protocols under every
//!     interleaving.
//! 14. [Pitfalls](pitfalls): what trips newcomers, and what to do instead.
//!
//! The API reference is the rest of these docs: the core types at the
//! [crate root](crate), the patterns in [`bus`](crate::bus),
//! [`breaker`](crate::breaker), [`stream`](crate::stream) and
//! [`persist`](crate::persist), the test kit in [`testkit`](crate::testkit).

#[doc = include_str!("getting_started.md")]
pub mod getting_started {}

#[doc = include_str!("actors.md")]
pub mod actors {}

#[doc = include_str!("sending.md")]
pub mod sending {}

#[doc = include_str!("backpressure.md")]
pub mod backpressure {}

#[doc = include_str!("blocking.md")]
pub mod blocking {}

#[doc = include_str!("supervision.md")]
pub mod supervision {}

#[doc = include_str!("bus.md")]
pub mod bus {}

#[doc = include_str!("breaker.md")]
pub mod breaker {}

#[doc = include_str!("streams.md")]
pub mod streams {}

#[doc = include_str!("event_sourcing.md")]
pub mod event_sourcing {}

#[doc = include_str!("shutdown.md")]
pub mod shutdown {}

#[doc = include_str!("testing.md")]
pub mod testing {}

#[doc = include_str!("model_checking.md")]
pub mod model_checking {}

#[doc = include_str!("pitfalls.md")]
pub mod pitfalls {}
