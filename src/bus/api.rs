//! How an [`EventBus`] is built and spawned, and what its address offers threads outside the pool.

use super::event_bus::{EventBus, TopicFn};
use super::msg::BusMsg;
use super::subscribe::{BusStats, Subscribe, SubscribeError, Subscription};
use crate::sync::Arc;
use crate::{
    Addr, AskError, Recipient, SendError, SendTimeoutError, SpawnError, SpawnOptions, System,
    TrySendError,
};
use crossbeam_channel::Sender;
use std::fmt;
use std::hash::Hash;
use std::time::Duration;

impl<E: Clone + Send + 'static> EventBus<E> {
    /// A builder for a bus of `E` events. Without [`EventBusBuilder::topic_fn`]
    /// every event has the topic `()`, and subscribers use
    /// [`EventBusExt::subscribe_all`].
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
    /// let bus = EventBus::<String>::builder().spawn(&system)?; // one topic: ()
    /// let probe = Probe::new(&system)?;
    /// bus.subscribe_all(probe.recipient(), T)?;
    /// bus.publish("hello".to_string())?;
    /// assert_eq!(probe.expect_next(T)?, "hello");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> EventBusBuilder<E> {
        EventBusBuilder {
            topic: Arc::new(|_: &E| ()),
            options: SpawnOptions::new(),
        }
    }
}

/// Builds and spawns an [`EventBus`]: how to find an event's topic, and the
/// bus actor's spawn options.
///
/// # Examples
///
/// ```
/// use playhouse::System;
/// use playhouse::bus::{EventBus, EventBusExt};
///
/// #[derive(Clone)]
/// struct Event {
///     topic: String,
///     body: String,
/// }
///
/// let system = System::new();
/// let bus = EventBus::builder()
///     .topic_fn(|e: &Event| e.topic.clone())
///     .name("events")
///     .mailbox_capacity(256)
///     .spawn(&system)?;
/// bus.publish(Event { topic: "greetings".into(), body: "hello".into() })?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EventBusBuilder<E, K = ()> {
    topic: TopicFn<E, K>,
    options: SpawnOptions,
}

impl<E, K> EventBusBuilder<E, K>
where
    E: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    /// Routes by `topic(&event)`: an enum of event kinds, a string key, a
    /// tenant id.
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
    /// // Route (tenant, amount) events by tenant.
    /// let bus = EventBus::builder().topic_fn(|e: &(u32, u64)| e.0).spawn(&system)?;
    /// let tenant_7 = Probe::new(&system)?;
    /// bus.subscribe(7, tenant_7.recipient(), T)?;
    /// bus.publish((3, 100))?; // nobody subscribed to tenant 3
    /// bus.publish((7, 250))?;
    /// assert_eq!(tenant_7.expect_next(T)?, (7, 250));
    /// assert_eq!(bus.stats(T)?.unrouted, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn topic_fn<K2, F>(self, topic: F) -> EventBusBuilder<E, K2>
    where
        K2: Eq + Hash + Clone + Send + 'static,
        F: Fn(&E) -> K2 + Send + Sync + 'static,
    {
        EventBusBuilder {
            topic: Arc::new(topic),
            options: self.options,
        }
    }

    /// Registers the bus under `name` (see [`System::lookup`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Addr, System};
    /// use playhouse::bus::{EventBus, EventBusExt};
    ///
    /// let system = System::new();
    /// EventBus::<u32>::builder().name("events").spawn(&system)?;
    /// // Elsewhere, without passing the address around:
    /// let bus: Addr<EventBus<u32>> = system.lookup("events").expect("registered");
    /// bus.publish(1)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options = self.options.name(name);
        self
    }

    /// The bus's mailbox capacity (at least 1; default the system's): how many
    /// published events may wait for the bus before publishers feel
    /// backpressure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().mailbox_capacity(1024).spawn(&system)?;
    /// bus.try_publish(1)?;
    /// // A zero capacity is refused when spawning.
    /// assert!(EventBus::<u32>::builder().mailbox_capacity(0).spawn(&system).is_err());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.options = self.options.mailbox_capacity(capacity);
        self
    }

    /// The bus's throughput (at least 1; default the system's).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// // Route up to 64 events per turn before yielding the worker.
    /// let bus = EventBus::<u32>::builder().throughput(64).spawn(&system)?;
    /// bus.publish(1)?;
    /// bus.flush(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.options = self.options.throughput(throughput);
        self
    }

    /// A factory of fresh buses with this topic function, for
    /// [`crate::ChildSpec::new`] or [`crate::Context::spawn`] (the spawn options set
    /// on this builder do not apply there).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Addr, ChildSpec, Supervisor, SupervisorExt, System};
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let factory = EventBus::builder().topic_fn(|s: &String| s.len()).factory();
    /// let sup = Supervisor::builder().child(ChildSpec::new("bus", factory)).spawn(&system)?;
    /// let bus: Addr<EventBus<String, usize>> = sup.child("bus").expect("started");
    /// let probe = Probe::new(&system)?;
    /// bus.subscribe(2, probe.recipient(), T)?;
    /// bus.publish("hi".to_string())?;
    /// assert_eq!(probe.expect_next(T)?, "hi");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn factory(
        &self,
    ) -> impl Fn() -> EventBus<E, K> + Send + Sync + Clone + 'static + use<E, K> {
        let topic = self.topic.clone();
        move || EventBus::new(topic.clone())
    }

    /// Spawns the bus as a top-level actor.
    ///
    /// # Errors
    /// As [`System::spawn_with`]: a stopping system, a taken name, a zero
    /// capacity or throughput.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::EventBus;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().name("bus").spawn(&system)?;
    /// assert_eq!(bus.name(), Some("bus"));
    /// // The name is taken now.
    /// assert!(EventBus::<u32>::builder().name("bus").spawn(&system).is_err());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(self, system: &System) -> Result<Addr<EventBus<E, K>>, SpawnError> {
        let factory = self.factory();
        system.spawn_with(self.options, factory)
    }
}

impl<E, K> fmt::Debug for EventBusBuilder<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBusBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Operations on an event bus's address: publish, subscribe, unsubscribe,
/// read its counters, flush. Each is a message to the bus (an `ask` where an
/// answer comes back), so any crate could write them.
///
/// # Examples
///
/// ```
/// use playhouse::System;
/// use playhouse::bus::{EventBus, EventBusExt};
/// use std::time::Duration;
///
/// let system = System::new();
/// let bus = EventBus::<u32>::builder().spawn(&system)?;
/// bus.publish(7)?;
/// bus.flush(Duration::from_secs(5))?;
/// assert_eq!(bus.stats(Duration::from_secs(5))?.published, 1);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EventBusExt<E: Send + 'static, K> {
    /// Publishes `event`, waiting for room while the bus's mailbox is full
    /// (which is how backpressure from a slow subscriber reaches a publisher).
    ///
    /// # Errors
    /// As [`Addr::tell`], with the event: [`SendError::Closed`] if the bus has
    /// stopped, [`SendError::WouldBlockWorker`] when called on a pool worker
    /// with the bus full (inside an actor, publish with [`crate::Context::send`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{SendError, System};
    /// use playhouse::bus::{EventBus, EventBusExt};
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// bus.publish(1)?;
    /// bus.stop();
    /// # playhouse::testkit::await_stopped(&system, &bus, std::time::Duration::from_secs(5))?;
    /// // A stopped bus hands the event back.
    /// assert!(matches!(bus.publish(2), Err(SendError::Closed(2))));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn publish(&self, event: E) -> Result<(), SendError<E>>;

    /// Publishes `event` if the bus has room now.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the event.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{System, TrySendError};
    /// use playhouse::bus::{EventBus, EventBusExt};
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().mailbox_capacity(16).spawn(&system)?;
    /// match bus.try_publish(1) {
    ///     Ok(()) => {}
    ///     Err(TrySendError::Full(event)) => println!("bus busy, keeping {event} for later"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn try_publish(&self, event: E) -> Result<(), TrySendError<E>>;

    /// Publishes `event`, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// As [`Addr::tell_timeout`], with the event.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// bus.publish_timeout(1, Duration::from_millis(100))?;
    /// assert_eq!(bus.stats(Duration::from_secs(5))?.published, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn publish_timeout(&self, event: E, timeout: Duration) -> Result<(), SendTimeoutError<E>>;

    /// A [`Recipient`] that publishes the events sent to it: hand it to code
    /// that should publish without knowing the bus, or use it with
    /// [`crate::Context::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Recipient, System};
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// /// Code that publishes without knowing there is a bus.
    /// fn report(out: &Recipient<String>) {
    ///     out.tell("done".to_string()).unwrap();
    /// }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<String>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// bus.subscribe_all(probe.recipient(), T)?;
    /// report(&bus.publisher());
    /// assert_eq!(probe.expect_next(T)?, "done");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn publisher(&self) -> Recipient<E>;

    /// Subscribes `recipient` to the events of `topic`, with
    /// [`Overflow::Backpressure`](super::Overflow::Backpressure).
    ///
    /// # Errors
    /// [`SubscribeError::Stopped`] if the recipient's actor has stopped;
    /// [`SubscribeError::Ask`] if the bus did not answer within `timeout`.
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
    /// let bus = EventBus::builder().topic_fn(|e: &(&'static str, u32)| e.0).spawn(&system)?;
    /// let errors = Probe::new(&system)?;
    /// bus.subscribe("error", errors.recipient(), T)?;
    /// bus.publish(("info", 1))?;
    /// bus.publish(("error", 2))?;
    /// assert_eq!(errors.expect_next(T)?, ("error", 2)); // "info" was not routed here
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn subscribe(
        &self,
        topic: K,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError>;

    /// Subscribes `recipient` to every event, with [`Overflow::Backpressure`](super::Overflow::Backpressure).
    ///
    /// # Errors
    /// As [`EventBusExt::subscribe`].
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
    /// let bus = EventBus::builder().topic_fn(|n: &u32| n % 2).spawn(&system)?;
    /// let audit = Probe::new(&system)?;
    /// bus.subscribe_all(audit.recipient(), T)?; // every topic
    /// bus.publish(1)?;
    /// bus.publish(2)?;
    /// assert_eq!(audit.receive_n(2, T)?, [1, 2]);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn subscribe_all(
        &self,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError>;

    /// Subscribes `recipient` as `spec` says: its topics and its overflow
    /// policy. An actor subscribed several times gets each event once per
    /// matching subscription.
    ///
    /// # Errors
    /// [`SubscribeError::Stopped`], [`SubscribeError::NoTopics`],
    /// [`SubscribeError::ZeroBuffer`], or [`SubscribeError::Ask`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt, Overflow, Subscribe, SubscribeError};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::builder().topic_fn(|e: &String| e.clone()).spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// let spec = Subscribe::topics(["a".to_string(), "b".to_string()]).overflow(Overflow::DropNewest);
    /// bus.subscribe_with(spec, probe.recipient(), T)?;
    /// bus.publish("b".to_string())?;
    /// assert_eq!(probe.expect_next(T)?, "b");
    /// // A buffer of zero events is refused.
    /// let bad = Subscribe::all().overflow(Overflow::DropOldest(0));
    /// assert!(matches!(bus.subscribe_with(bad, probe.recipient(), T), Err(SubscribeError::ZeroBuffer)));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn subscribe_with(
        &self,
        spec: Subscribe<K>,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError>;

    /// Subscribes a channel, so a plain thread can `recv` (or `select!`) bus
    /// events. The bus spawns a small forwarding actor, its child, that moves
    /// each event into `tx` with `try_send`; when the channel is full it holds
    /// the event and suspends itself, so under [`Overflow::Backpressure`](super::Overflow::Backpressure) a slow
    /// reader slows the publishers and loses nothing. When the receiver is
    /// dropped the subscription is removed; when the bus stops or the
    /// subscription ends, the channel is disconnected.
    ///
    /// # Errors
    /// As [`EventBusExt::subscribe_with`], and [`SubscribeError::Spawn`] if the bus is
    /// stopping.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{EventBus, EventBusExt, Subscribe};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let (tx, rx) = crossbeam_channel::bounded(1);
    /// bus.subscribe_channel(Subscribe::all(), tx, Duration::from_secs(5))?;
    /// let reader = std::thread::spawn(move || rx.iter().take(100).sum::<u32>());
    /// for n in 0..100 {
    ///     bus.publish(n)?;
    /// }
    /// assert_eq!(reader.join().unwrap(), 4950);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn subscribe_channel(
        &self,
        spec: Subscribe<K>,
        tx: Sender<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError>;

    /// Ends a subscription. Returns whether it existed (it may have been
    /// removed already because its subscriber stopped). Events already handed
    /// to the subscriber stay in its mailbox; events the bus buffered for it
    /// are dropped.
    ///
    /// # Errors
    /// As [`Addr::ask`].
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
    /// assert!(bus.unsubscribe(sub, T)?);
    /// bus.publish(1)?;
    /// assert_eq!(bus.stats(T)?.unrouted, 1); // nobody listens any more
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn unsubscribe(&self, subscription: Subscription, timeout: Duration) -> Result<bool, AskError>;

    /// The bus's counters: published, unrouted, delivered, dropped, pruned, and
    /// per subscription. Counts every event published before the call.
    ///
    /// # Errors
    /// As [`Addr::ask`].
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
    /// let a = Probe::new(&system)?;
    /// let b = Probe::new(&system)?;
    /// bus.subscribe_all(a.recipient(), T)?;
    /// bus.subscribe_all(b.recipient(), T)?;
    /// bus.publish(1)?;
    /// let stats = bus.stats(T)?;
    /// assert_eq!((stats.published, stats.delivered, stats.subscribers.len()), (1, 2, 2));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn stats(&self, timeout: Duration) -> Result<BusStats, AskError>;

    /// Waits until every event published before the call has been handed to
    /// its subscribers' mailboxes or dropped, `DropOldest` buffers included.
    ///
    /// # Errors
    /// As [`Addr::ask`]; [`AskError::Timeout`] if a subscriber makes no room
    /// in time.
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
    /// bus.subscribe_with(Subscribe::all().overflow(Overflow::DropOldest(8)), probe.recipient(), T)?;
    /// for n in 0..4 {
    ///     bus.publish(n)?;
    /// }
    /// bus.flush(T)?; // nothing left in the bus's buffer
    /// let mine = &bus.stats(T)?.subscribers[0];
    /// assert_eq!((mine.delivered, mine.buffered), (4, 0));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn flush(&self, timeout: Duration) -> Result<(), AskError>;
}

impl<E, K> EventBusExt<E, K> for Addr<EventBus<E, K>>
where
    E: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    fn publish(&self, event: E) -> Result<(), SendError<E>> {
        self.tell(BusMsg::publish(event)).map_err(|e| match e {
            SendError::Closed(m) => SendError::Closed(m.into_event()),
            SendError::WouldBlockWorker(m) => SendError::WouldBlockWorker(m.into_event()),
        })
    }

    fn try_publish(&self, event: E) -> Result<(), TrySendError<E>> {
        self.try_tell(BusMsg::publish(event)).map_err(|e| match e {
            TrySendError::Full(m) => TrySendError::Full(m.into_event()),
            TrySendError::Closed(m) => TrySendError::Closed(m.into_event()),
        })
    }

    fn publish_timeout(&self, event: E, timeout: Duration) -> Result<(), SendTimeoutError<E>> {
        self.tell_timeout(BusMsg::publish(event), timeout)
            .map_err(|e| match e {
                SendTimeoutError::Timeout(m) => SendTimeoutError::Timeout(m.into_event()),
                SendTimeoutError::Closed(m) => SendTimeoutError::Closed(m.into_event()),
                SendTimeoutError::WouldBlockWorker(m) => {
                    SendTimeoutError::WouldBlockWorker(m.into_event())
                }
            })
    }

    fn publisher(&self) -> Recipient<E> {
        self.recipient()
    }

    fn subscribe(
        &self,
        topic: K,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError> {
        self.subscribe_with(Subscribe::topic(topic), recipient, timeout)
    }

    fn subscribe_all(
        &self,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError> {
        self.subscribe_with(Subscribe::all(), recipient, timeout)
    }

    fn subscribe_with(
        &self,
        spec: Subscribe<K>,
        recipient: Recipient<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError> {
        self.ask(|r| BusMsg::subscribe(spec, recipient, r), timeout)
            .map_err(SubscribeError::Ask)?
    }

    fn subscribe_channel(
        &self,
        spec: Subscribe<K>,
        tx: Sender<E>,
        timeout: Duration,
    ) -> Result<Subscription, SubscribeError> {
        self.ask(|r| BusMsg::subscribe_channel(spec, tx, r), timeout)
            .map_err(SubscribeError::Ask)?
    }

    fn unsubscribe(&self, subscription: Subscription, timeout: Duration) -> Result<bool, AskError> {
        self.ask(|r| BusMsg::unsubscribe_reply(subscription, r), timeout)
    }

    fn stats(&self, timeout: Duration) -> Result<BusStats, AskError> {
        self.ask(BusMsg::stats, timeout)
    }

    fn flush(&self, timeout: Duration) -> Result<(), AskError> {
        self.ask(BusMsg::flush, timeout)
    }
}
