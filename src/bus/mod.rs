//! The event bus: an actor that routes published events to subscribers by topic.
//!
//! # The pattern
//!
//! Publishers and subscribers do not know each other: a publisher hands an
//! event to the bus, the bus takes its topic with the function chosen when it
//! was built and hands a clone to every subscription of that topic (or of
//! every topic). Subscribers are [`Recipient`](crate::Recipient)s, so an actor
//! of any type subscribes with the message type it already has, and a plain
//! thread subscribes a channel. Each subscription picks what happens when its
//! subscriber falls behind ([`Overflow`]): the bus waits for it
//! (backpressure, the default: nothing is lost, and publishers slow down), or
//! it sheds events and counts them. The bus watches its subscribers, so one
//! that stops is removed without anyone unsubscribing it. The full semantics
//! (order, each policy, subscribers that stop, a bus that restarts) are on
//! [`EventBus`].
//!
//! # When to use it
//!
//! For fan-out of facts to parties that come and go: audit logs, metrics,
//! notifications, read models, the transitions of a circuit breaker. Not for
//! requests that need an answer (ask the service's address), nor for work
//! that must be done exactly once by one of several workers (a bus gives
//! every subscriber its own copy; use a supervisor's pool of workers), nor
//! for a pipeline with windows and aggregates (use a [`stream`](crate::stream),
//! which can read from a bus with `Source::from_bus`).
//!
//! # Example
//!
//! Orders on one topic and payments on another; an actor counts orders, a
//! plain thread reads everything through a channel.
//!
//! ```
//! use playhouse::bus::{EventBus, EventBusExt, Subscribe};
//! use playhouse::{Actor, ActorError, Context, Reply, System};
//! use std::time::Duration;
//!
//! #[derive(Clone, Debug, PartialEq)]
//! enum Event {
//!     OrderPlaced { id: u32, amount: u64 },
//!     PaymentFailed { order: u32 },
//! }
//!
//! #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
//! enum Topic { Orders, Payments }
//!
//! enum Msg { Event(Event), Total(Reply<u64>) }
//! /// Sums the amounts of the orders placed.
//! struct Revenue(u64);
//! impl Actor for Revenue {
//!     type Msg = Msg;
//!     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
//!         match msg {
//!             Msg::Event(Event::OrderPlaced { amount, .. }) => self.0 += amount,
//!             Msg::Event(_) => {}
//!             Msg::Total(r) => { let _ = r.send(self.0); }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! const T: Duration = Duration::from_secs(5);
//! let system = System::new();
//! let bus = EventBus::builder()
//!     .topic_fn(|e: &Event| match e {
//!         Event::OrderPlaced { .. } => Topic::Orders,
//!         Event::PaymentFailed { .. } => Topic::Payments,
//!     })
//!     .spawn(&system)?;
//!
//! let revenue = system.spawn(|| Revenue(0))?;
//! bus.subscribe(Topic::Orders, revenue.recipient_with(Msg::Event), T)?;
//! let (tx, rx) = crossbeam_channel::bounded(16);
//! bus.subscribe_channel(Subscribe::all(), tx, T)?;
//!
//! bus.publish(Event::OrderPlaced { id: 1, amount: 250 })?;
//! bus.publish(Event::PaymentFailed { order: 1 })?;
//! bus.publish(Event::OrderPlaced { id: 2, amount: 100 })?;
//!
//! let seen: Vec<Event> = rx.iter().take(3).collect(); // in publish order
//! assert_eq!(seen[1], Event::PaymentFailed { order: 1 });
//! system.await_quiescent(T)?;
//! assert_eq!(revenue.ask(Msg::Total, T)?, 350);
//! system.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod channel;
mod event_bus;
mod keep;
mod msg;
mod subscribe;

pub use api::{EventBusBuilder, EventBusExt};
pub use event_bus::EventBus;
pub use msg::BusMsg;
pub use subscribe::{BusStats, Overflow, Subscribe, SubscribeError, SubscriberStats, Subscription};
