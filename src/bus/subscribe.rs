//! What a subscription is made of: its topics, its overflow policy, its handle, its counters and its errors.

use crate::{AskError, SpawnError};
use std::error::Error;
use std::fmt;

/// What the bus does for one subscriber whose mailbox is full.
///
/// The policy is chosen per subscription, with [`Subscribe::overflow`].
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, System};
/// use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe};
/// use std::time::Duration;
///
/// struct Metrics(u64);
/// impl Actor for Metrics {
///     type Msg = u64;
///     fn handle(&mut self, _: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
///         self.0 += n;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let bus = EventBus::<u64>::builder().spawn(&system)?;
/// let metrics = system.spawn(|| Metrics(0))?;
/// // Metrics may lose a sample under load, but never slow the bus down.
/// let spec = Subscribe::all().overflow(Overflow::DropOldest(64));
/// bus.subscribe_with(spec, metrics.recipient(), Duration::from_secs(5))?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Nothing is lost: the bus waits for the subscriber (it sends with
    /// [`crate::Context::send`], which suspends the bus until the subscriber
    /// has room), so its own mailbox fills and publishers are slowed. One slow
    /// subscriber of this kind slows the whole bus. The default.
    #[default]
    Backpressure,
    /// The event that finds the mailbox full is dropped (and counted).
    DropNewest,
    /// The bus keeps up to this many events for the subscriber while its
    /// mailbox is full and hands them over, oldest first, as room appears; when
    /// one more arrives the oldest kept event is dropped (and counted). The
    /// buffer must hold at least one event.
    DropOldest(usize),
    /// The first event that finds the mailbox full ends the subscription: the
    /// event is dropped (and counted) and the drop is logged.
    Fail,
}

/// Which topics a subscription covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Topics<K> {
    All,
    Only(Vec<K>),
}

/// What to subscribe to and how: the topics, and the [`Overflow`] policy.
///
/// # Examples
///
/// ```
/// use playhouse::bus::{Overflow, Subscribe};
///
/// let orders = Subscribe::topic("orders");
/// let billing = Subscribe::topics(["orders", "payments"]).overflow(Overflow::Fail);
/// let audit = Subscribe::<&str>::all().overflow(Overflow::DropNewest);
/// # let _ = (orders, billing, audit);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe<K> {
    pub(super) topics: Topics<K>,
    pub(super) overflow: Overflow,
}

impl<K> Subscribe<K> {
    /// The events of one topic, with [`Overflow::Backpressure`].
    pub fn topic(topic: K) -> Self {
        Subscribe {
            topics: Topics::Only(vec![topic]),
            overflow: Overflow::Backpressure,
        }
    }

    /// The events of any of these topics, with [`Overflow::Backpressure`].
    /// An empty list is refused when subscribing ([`SubscribeError::NoTopics`]).
    pub fn topics(topics: impl IntoIterator<Item = K>) -> Self {
        Subscribe {
            topics: Topics::Only(topics.into_iter().collect()),
            overflow: Overflow::Backpressure,
        }
    }

    /// Every event, whatever its topic, with [`Overflow::Backpressure`].
    pub fn all() -> Self {
        Subscribe {
            topics: Topics::All,
            overflow: Overflow::Backpressure,
        }
    }

    /// What to do when the subscriber's mailbox is full.
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }
}

/// The handle of one subscription, returned when subscribing; give it to
/// [`crate::bus::EventBusExt::unsubscribe`] to end the subscription. Dropping it does not
/// unsubscribe.
///
/// # Examples
///
/// ```
/// use playhouse::System;
/// use playhouse::bus::{EventBus, EventBusExt, Subscribe};
/// use std::time::Duration;
///
/// let timeout = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::<u32>::builder().spawn(&system)?;
/// let (tx, rx) = crossbeam_channel::unbounded();
/// let sub = bus.subscribe_channel(Subscribe::all(), tx, timeout)?;
/// bus.publish(1)?;
/// assert_eq!(rx.recv_timeout(timeout)?, 1);
/// assert!(bus.unsubscribe(sub, timeout)?);
/// bus.publish(2)?;
/// assert!(rx.recv_timeout(timeout).is_err(), "unsubscribed: disconnected");
/// assert!(!bus.unsubscribe(sub, timeout)?, "already gone");
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subscription {
    pub(super) bus: u64,
    pub(super) id: u64,
}

impl Subscription {
    /// The id of the bus actor it belongs to.
    pub fn bus(&self) -> u64 {
        self.bus
    }

    /// Its number within its bus, in subscription order.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The bus's counters, read with [`crate::bus::EventBusExt::stats`].
///
/// Every event a subscription matched is, once the bus has handled it, either
/// *delivered* (in the subscriber's mailbox, or parked for it under
/// [`Overflow::Backpressure`]), *dropped*, or still *buffered* by the bus
/// ([`Overflow::DropOldest`]). Events whose subscriber stopped before they
/// could be handed over count as dropped.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
/// use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe};
/// use std::time::Duration;
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let timeout = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::<u32>::builder().spawn(&system)?;
/// let sink = system.spawn_with(SpawnOptions::new().mailbox_capacity(8), || Sink)?;
/// let spec = Subscribe::all().overflow(Overflow::DropNewest);
/// let sub = bus.subscribe_with(spec, sink.recipient(), timeout)?;
/// for n in 0..100 {
///     bus.publish(n)?;
/// }
/// let stats = bus.stats(timeout)?;
/// let mine = stats.subscriber(sub).expect("subscribed");
/// assert_eq!(stats.published, 100);
/// assert_eq!(mine.delivered + mine.dropped, 100); // how many of each depends on timing
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BusStats {
    /// Events the bus has handled (those still in its mailbox are not counted).
    pub published: u64,
    /// Events that matched no subscription.
    pub unrouted: u64,
    /// Events handed to subscribers, over all subscriptions, past and present.
    pub delivered: u64,
    /// Events dropped, over all subscriptions, past and present.
    pub dropped: u64,
    /// Subscriptions removed because their subscriber stopped, its channel was
    /// disconnected, or it overflowed under [`Overflow::Fail`].
    pub pruned: u64,
    /// The current subscriptions, in subscription order.
    pub subscribers: Vec<SubscriberStats>,
}

impl BusStats {
    /// The counters of one current subscription.
    pub fn subscriber(&self, subscription: Subscription) -> Option<&SubscriberStats> {
        self.subscribers
            .iter()
            .find(|s| s.subscription == subscription)
    }
}

/// The counters of one subscription (see [`BusStats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// Its handle.
    pub subscription: Subscription,
    /// The id of the actor receiving its events (for a channel subscription,
    /// the forwarding actor).
    pub recipient: u64,
    /// Its overflow policy.
    pub overflow: Overflow,
    /// Events handed to its mailbox.
    pub delivered: u64,
    /// Events dropped by its overflow policy.
    pub dropped: u64,
    /// Events the bus holds for it now ([`Overflow::DropOldest`]).
    pub buffered: usize,
}

/// Why a subscription was refused.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, System};
/// use playhouse::bus::{EventBus, EventBusExt, SubscribeError};
/// use std::time::Duration;
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let timeout = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::<u32>::builder().spawn(&system)?;
/// let sink = system.spawn(|| Sink)?;
/// sink.stop();
/// system.await_quiescent(timeout)?;
/// let err = bus.subscribe_all(sink.recipient(), timeout).unwrap_err();
/// assert!(matches!(err, SubscribeError::Stopped));
/// assert_eq!(err.to_string(), "cannot subscribe an actor that has stopped");
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The subscriber has stopped for good.
    Stopped,
    /// The subscription names no topic (use [`Subscribe::all`] for every event).
    NoTopics,
    /// An [`Overflow::DropOldest`] buffer of zero events.
    ZeroBuffer,
    /// The forwarding actor of a channel subscription could not be spawned
    /// (the bus is stopping).
    Spawn(SpawnError),
    /// The bus did not answer (it has stopped, or the timeout passed).
    Ask(AskError),
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::Stopped => f.write_str("cannot subscribe an actor that has stopped"),
            SubscribeError::NoTopics => f.write_str("a subscription needs at least one topic"),
            SubscribeError::ZeroBuffer => {
                f.write_str("a drop-oldest buffer must hold at least one event")
            }
            SubscribeError::Spawn(_) => f.write_str("could not start the channel forwarder"),
            SubscribeError::Ask(_) => f.write_str("event bus did not answer"),
        }
    }
}

impl Error for SubscribeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            SubscribeError::Spawn(e) => Some(e),
            SubscribeError::Ask(e) => Some(e),
            _ => None,
        }
    }
}
