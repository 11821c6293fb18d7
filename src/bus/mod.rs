//! The event bus: an actor that routes published events to subscribers by topic.
//!
//! An [`EventBus`] is an ordinary actor, reached through its
//! `Addr<EventBus<E, K>>`. Producers publish events of type `E`; the bus takes
//! each event's topic `K` from the event with the key function chosen at build
//! time ([`EventBusBuilder::topic_fn`]) and hands a clone of the event to every
//! subscription that covers the topic ([`Subscribe::topic`], [`Subscribe::topics`])
//! or covers every event ([`Subscribe::all`]). Subscribers are [`Recipient`]s,
//! so any actor type can subscribe, and a plain thread can subscribe a
//! `crossbeam_channel::Sender` ([`Addr::subscribe_channel`]).
//!
//! ```text
//!  publish ──► bus mailbox ──► EventBus ──ctx.send──► subscriber (Backpressure)
//!  (tell, or                   topic_fn  ──try_tell─► subscriber (DropNewest, Fail)
//!   ctx.send                             ──buffer───► subscriber (DropOldest)
//!   in actors)                           ──ctx.send─► forwarder ──try_send──► channel ──► thread
//! ```
//!
//! # Order
//!
//! Events from one publisher reach each subscriber in publish order: a
//! publisher's messages reach the bus in order, the bus handles them one at a
//! time, and each policy below hands one subscriber's events over in the
//! order the bus handled them (a [`Overflow::DropOldest`] subscriber's new
//! event waits behind those already buffered for it).
//!
//! # Overflow policies, and why the bus never blocks a worker
//!
//! The bus only ever sends with operations that cannot block its worker:
//!
//! - [`Overflow::Backpressure`] uses [`Context::send`]. When the subscriber's
//!   mailbox is full the event is parked with the subscriber and the *bus* is
//!   suspended: it takes no more events, its mailbox fills, and publishers
//!   outside the pool block in [`Addr::publish`] (or get `Full` from
//!   [`Addr::try_publish`]), while publishing actors are suspended in turn.
//!   Nothing is lost, and the whole bus goes at the pace of its slowest such
//!   subscriber.
//! - [`Overflow::DropNewest`] and [`Overflow::Fail`] use `try_tell`; on `Full`
//!   the event is dropped and counted (and under `Fail` the subscription ends,
//!   with a warning in the log).
//! - [`Overflow::DropOldest`] cannot take anything back out of a mailbox, so
//!   the bus keeps a small bounded buffer per subscriber. A new event joins the
//!   back of the buffer; the buffer is flushed with `try_tell`, oldest first,
//!   until the mailbox is full; anything over the bound is shed from the front
//!   and counted. The bus retries the flush on every later publish and from a
//!   [`Context::run_after`] continuation (50 µs, backing off to 5 ms while the
//!   subscriber makes no room), so the buffer drains even when publishing
//!   stops.
//!
//! A shed event is counted in [`BusStats`] and logged at debug level; the
//! public actor API has no way to report it to the system's dead letters.
//!
//! # Subscribers that stop
//!
//! The bus watches every subscriber ([`Context::watch_with`]); when one stops
//! for good, its `Terminated` notice removes its subscriptions (events sent to
//! it in between count as dropped). A supervised subscriber that is restarted
//! has not stopped: it keeps its address and its subscriptions. Subscribing an
//! actor that has already stopped is refused with [`SubscribeError::Stopped`].
//! A channel subscription ends when its receiver is dropped.
//!
//! # Caveats
//!
//! - [`System::await_quiescent`] counts messages in mailboxes, not events
//!   held in a `DropOldest` buffer or by a channel forwarder waiting for room;
//!   use [`Addr::flush`] to wait for the buffers.
//! - The bus's state is its subscriptions: a bus restarted by a supervisor
//!   starts with none.
//!
//! [`System::await_quiescent`]: crate::System::await_quiescent
//! [`Recipient`]: crate::Recipient
//! [`Addr::subscribe_channel`]: crate::Addr::subscribe_channel
//! [`Addr::publish`]: crate::Addr::publish
//! [`Addr::try_publish`]: crate::Addr::try_publish
//! [`Addr::flush`]: crate::Addr::flush
//! [`Context::send`]: crate::Context::send
//! [`Context::run_after`]: crate::Context::run_after
//! [`Context::watch_with`]: crate::Context::watch_with

mod api;
mod channel;
mod event_bus;
mod msg;
mod subscribe;

pub use api::EventBusBuilder;
pub use event_bus::EventBus;
pub use msg::BusMsg;
pub use subscribe::{BusStats, Overflow, Subscribe, SubscribeError, SubscriberStats, Subscription};
