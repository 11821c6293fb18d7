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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::bus::{Overflow, Subscribe};
    ///
    /// let spec = Subscribe::topic("orders");
    /// assert_eq!(spec, Subscribe::topics(["orders"]).overflow(Overflow::Backpressure));
    /// ```
    pub fn topic(topic: K) -> Self {
        Subscribe {
            topics: Topics::Only(vec![topic]),
            overflow: Overflow::Backpressure,
        }
    }

    /// The events of any of these topics, with [`Overflow::Backpressure`].
    /// An empty list is refused when subscribing ([`SubscribeError::NoTopics`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt, Subscribe, SubscribeError};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::builder().topic_fn(|n: &u32| n % 3).spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// bus.subscribe_with(Subscribe::topics([0, 2]), probe.recipient(), T)?;
    /// for n in 0..6 {
    ///     bus.publish(n)?;
    /// }
    /// assert_eq!(probe.receive_n(4, T)?, [0, 2, 3, 5]);
    /// let none = Subscribe::topics(Vec::<u32>::new());
    /// assert!(matches!(bus.subscribe_with(none, probe.recipient(), T), Err(SubscribeError::NoTopics)));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn topics(topics: impl IntoIterator<Item = K>) -> Self {
        Subscribe {
            topics: Topics::Only(topics.into_iter().collect()),
            overflow: Overflow::Backpressure,
        }
    }

    /// Every event, whatever its topic, with [`Overflow::Backpressure`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::bus::{Overflow, Subscribe};
    ///
    /// let spec = Subscribe::<String>::all().overflow(Overflow::DropNewest);
    /// assert_ne!(spec, Subscribe::topic("a".to_string()).overflow(Overflow::DropNewest));
    /// ```
    pub fn all() -> Self {
        Subscribe {
            topics: Topics::All,
            overflow: Overflow::Backpressure,
        }
    }

    /// What to do when the subscriber's mailbox is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe};
    /// use playhouse::testkit::await_stopped;
    /// use std::time::Duration;
    ///
    /// /// Never handles anything: its mailbox of 1 fills at once.
    /// struct Stuck;
    /// impl Actor for Stuck {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let stuck = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Stuck)?;
    /// system.await_quiescent(T)?;
    /// // Under `Fail`, the first event that finds the mailbox full ends the subscription.
    /// bus.subscribe_with(Subscribe::all().overflow(Overflow::Fail), stuck.recipient(), T)?;
    /// bus.publish(1)?; // fills the mailbox
    /// bus.publish(2)?; // overflows
    /// let stats = bus.stats(T)?;
    /// assert_eq!((stats.delivered, stats.dropped, stats.pruned), (1, 1, 1));
    /// assert!(stats.subscribers.is_empty());
    /// stuck.stop(); // its queued event goes to dead letters
    /// await_stopped(&system, &stuck, T)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// let sub = bus.subscribe_all(probe.recipient(), Duration::from_secs(5))?;
    /// assert_eq!(sub.bus(), bus.id());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bus(&self) -> u64 {
        self.bus
    }

    /// Its number within its bus, in subscription order.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// let first = bus.subscribe_all(probe.recipient(), T)?;
    /// let second = bus.subscribe_all(probe.recipient(), T)?;
    /// assert!(first.id() < second.id()); // subscription order
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// let sub = bus.subscribe_all(probe.recipient(), T)?;
    /// bus.publish(1)?;
    /// let stats = bus.stats(T)?;
    /// assert_eq!(stats.subscriber(sub).map(|s| s.delivered), Some(1));
    /// bus.unsubscribe(sub, T)?;
    /// assert!(bus.stats(T)?.subscriber(sub).is_none());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscriber(&self, subscription: Subscription) -> Option<&SubscriberStats> {
        self.subscribers
            .iter()
            .find(|s| s.subscription == subscription)
    }
}

/// The counters of one subscription (see [`BusStats`]).
///
/// # Examples
///
/// ```
/// use playhouse::System;
/// use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe};
/// use playhouse::testkit::Probe;
/// use std::time::Duration;
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::<u32>::builder().spawn(&system)?;
/// let probe = Probe::new(&system)?;
/// let spec = Subscribe::all().overflow(Overflow::DropNewest);
/// let sub = bus.subscribe_with(spec, probe.recipient(), T)?;
/// bus.publish(1)?;
/// let mine = &bus.stats(T)?.subscribers[0];
/// assert_eq!(mine.subscription, sub);
/// assert_eq!(mine.recipient, probe.id());
/// assert_eq!((mine.overflow, mine.delivered, mine.dropped), (Overflow::DropNewest, 1, 0));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
