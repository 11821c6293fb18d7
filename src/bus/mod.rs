//! The event bus: an actor that routes published events to subscribers by topic.
//!
//! The semantics (order, overflow policies, subscribers that stop, restarts) are
//! documented on [`EventBus`], where users read them.

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
