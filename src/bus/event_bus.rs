//! The [`EventBus`] actor: its subscriptions, its routing, and how each overflow policy hands an event over.

use super::channel::{FORWARDER_CAPACITY, Forwarder};
use super::keep::{Kept, KeptSubs, Target};
use super::msg::{BusMsg, Inner};
use super::subscribe::{
    BusStats, Overflow, Subscribe, SubscribeError, SubscriberStats, Subscription, Topics,
};
use crate::actor::{Actor, ExitReason};
use crate::addr::Recipient;
use crate::context::Context;
use crate::error::{ActorError, TrySendError};
use crate::reply::Reply;
use crate::sync::Arc;
use crate::system::{DeadLetterReason, SpawnOptions};
use crossbeam_channel::Sender;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::time::Duration;

/// The first delay before the bus retries flushing `DropOldest` buffers.
const FLUSH_MIN: Duration = Duration::from_micros(50);
/// The longest delay between flush retries.
const FLUSH_MAX: Duration = Duration::from_millis(5);

pub(super) type TopicFn<E, K> = Arc<dyn Fn(&E) -> K + Send + Sync>;

/// An actor that routes events of type `E` to subscribers by topic `K`.
///
/// Built with [`EventBus::builder`]; used through the methods on its
/// `Addr<EventBus<E, K>>` (publish, subscribe, unsubscribe, stats) from outside
/// the pool, and through [`BusMsg`] with [`Context::send`] / [`Context::ask`]
/// inside actors.
///
/// Producers publish events of type `E`; the bus takes
/// each event's topic `K` from the event with the key function chosen at build
/// time ([`EventBusBuilder::topic_fn`]) and hands a clone of the event to every
/// subscription that covers the topic ([`Subscribe::topic`], [`Subscribe::topics`])
/// or covers every event ([`Subscribe::all`]). Subscribers are [`Recipient`]s,
/// so any actor type can subscribe, and a plain thread can subscribe a
/// `crossbeam_channel::Sender` ([`Addr::subscribe_channel`]).
///
/// ```text
///  publish ──► bus mailbox ──► EventBus ──ctx.send──► subscriber (Backpressure)
///  (tell, or                   topic_fn  ──try_tell─► subscriber (DropNewest, Fail)
///   ctx.send                             ──buffer───► subscriber (DropOldest)
///   in actors)                           ──ctx.send─► forwarder ──try_send──► channel ──► thread
/// ```
///
/// # Order
///
/// Events from one publisher reach each subscriber in publish order: a
/// publisher's messages reach the bus in order, the bus handles them one at a
/// time, and each policy below hands one subscriber's events over in the
/// order the bus handled them (a [`Overflow::DropOldest`] subscriber's new
/// event waits behind those already buffered for it).
///
/// # Overflow policies, and why the bus never blocks a worker
///
/// The bus only ever sends with operations that cannot block its worker:
///
/// - [`Overflow::Backpressure`] uses [`Context::send`]. When the subscriber's
///   mailbox is full the event is parked with the subscriber and the *bus* is
///   suspended: it takes no more events, its mailbox fills, and publishers
///   outside the pool block in [`Addr::publish`] (or get `Full` from
///   [`Addr::try_publish`]), while publishing actors are suspended in turn.
///   Nothing is lost, and the whole bus goes at the pace of its slowest such
///   subscriber.
/// - [`Overflow::DropNewest`] and [`Overflow::Fail`] use `try_tell`; on `Full`
///   the event is dropped and counted (and under `Fail` the subscription ends,
///   with a warning in the log).
/// - [`Overflow::DropOldest`] cannot take anything back out of a mailbox, so
///   the bus keeps a small bounded buffer per subscriber. A new event joins the
///   back of the buffer; the buffer is flushed with `try_tell`, oldest first,
///   until the mailbox is full; anything over the bound is shed from the front
///   and counted. The bus retries the flush on every later publish and from a
///   [`Context::run_after`] continuation (50 µs, backing off to 5 ms while the
///   subscriber makes no room), so the buffer drains even when publishing
///   stops.
///
/// A shed event is counted in [`BusStats`] and reported to the system's dead
/// letters with [`DeadLetterReason::Shed`](crate::DeadLetterReason::Shed)
/// (which logs it at debug level).
///
/// # Subscribers that stop
///
/// The bus watches every subscriber ([`Context::watch_with`]); when one stops
/// for good, its `Terminated` notice removes its subscriptions (events sent to
/// it in between count as dropped). A supervised subscriber that is restarted
/// has not stopped: it keeps its address and its subscriptions. Subscribing an
/// actor that has already stopped is refused with [`SubscribeError::Stopped`].
/// A channel subscription ends when its receiver is dropped.
///
/// # A bus that restarts
///
/// A supervised bus keeps its subscriptions when its supervisor restarts it,
/// whether it failed (a panic in the topic function, say) or was stopped to
/// be restarted (a sibling's failure under `OneForAll`): its subscribers get
/// no notice of a restart and would never subscribe again. They keep their
/// [`Subscription`] ids, and a channel subscription gets a new forwarder in
/// place of the one that stopped with the old instance. Lost with the old
/// instance: the counters of [`BusStats`], which start again from zero; the
/// events a `DropOldest` buffer held; and the events a channel's forwarder
/// had not yet handed to its channel: those queued for it (at most 16) go to
/// dead letters, the one it was retrying is dropped. A subscriber that
/// stopped meanwhile is dropped. When the bus stops for good, all of it goes, and channel
/// subscriptions' channels close.
///
/// # Caveats
///
/// - [`System::await_quiescent`] counts messages in mailboxes, not events
///   held in a `DropOldest` buffer or by a channel forwarder waiting for room;
///   use [`Addr::flush`] to wait for the buffers.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, EventBus, Reply, System};
/// use std::time::Duration;
///
/// #[derive(Clone, Debug)]
/// enum Event {
///     UserCreated(String),
///     OrderPlaced(u64),
/// }
///
/// #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// enum Kind {
///     User,
///     Order,
/// }
///
/// enum OrdersMsg {
///     Event(Event),
///     Seen(Reply<Vec<u64>>),
/// }
///
/// struct Orders(Vec<u64>);
/// impl Actor for Orders {
///     type Msg = OrdersMsg;
///     fn handle(&mut self, _: &mut Context<Self>, msg: OrdersMsg) -> Result<(), ActorError> {
///         match msg {
///             OrdersMsg::Event(Event::OrderPlaced(n)) => self.0.push(n),
///             OrdersMsg::Event(_) => unreachable!("subscribed to orders only"),
///             OrdersMsg::Seen(r) => {
///                 let _ = r.send(self.0.clone());
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let timeout = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::builder()
///     .topic_fn(|e: &Event| match e {
///         Event::UserCreated(_) => Kind::User,
///         Event::OrderPlaced(_) => Kind::Order,
///     })
///     .spawn(&system)?;
/// let orders = system.spawn(|| Orders(Vec::new()))?;
/// bus.subscribe(Kind::Order, orders.recipient_with(OrdersMsg::Event), timeout)?;
///
/// bus.publish(Event::UserCreated("ada".into()))?;
/// bus.publish(Event::OrderPlaced(7))?;
/// bus.publish(Event::OrderPlaced(8))?;
/// system.await_quiescent(timeout)?;
///
/// assert_eq!(orders.ask(OrdersMsg::Seen, timeout)?, vec![7, 8]);
/// let stats = bus.stats(timeout)?;
/// assert_eq!((stats.published, stats.unrouted, stats.delivered), (3, 1, 2));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`System::await_quiescent`]: crate::System::await_quiescent
/// [`Recipient`]: crate::Recipient
/// [`Addr::subscribe_channel`]: crate::Addr::subscribe_channel
/// [`Addr::publish`]: crate::Addr::publish
/// [`Addr::try_publish`]: crate::Addr::try_publish
/// [`Addr::flush`]: crate::Addr::flush
/// [`Context::send`]: crate::Context::send
/// [`Context::run_after`]: crate::Context::run_after
/// [`Context::watch_with`]: crate::Context::watch_with
/// [`EventBusBuilder::topic_fn`]: crate::EventBusBuilder::topic_fn
/// [`EventBusBuilder::factory`]: crate::EventBusBuilder::factory
pub struct EventBus<E: Send + 'static, K = ()> {
    topic: TopicFn<E, K>,
    subs: BTreeMap<u64, Sub<E, K>>,
    by_topic: HashMap<K, Vec<u64>>,
    all: Vec<u64>,
    next_sub: u64,
    totals: Totals,
    /// Subscriptions with [`Overflow::DropOldest`] (which may hold a buffer).
    drop_oldest: usize,
    /// A flush continuation is scheduled.
    flush_armed: bool,
    flush_delay: Duration,
    /// [`crate::Addr::flush`] callers waiting for every buffer to empty.
    flush_waiters: Vec<Reply<()>>,
    /// Reused list of the subscriptions one event goes to.
    scratch: Vec<u64>,
}

#[derive(Debug, Default)]
struct Totals {
    published: u64,
    unrouted: u64,
    delivered: u64,
    dropped: u64,
    pruned: u64,
}

struct Sub<E: Send + 'static, K> {
    recipient: Recipient<E>,
    topics: Topics<K>,
    overflow: Overflow,
    buffer: VecDeque<E>,
    delivered: u64,
    dropped: u64,
    /// The recipient is a forwarder the bus spawned: stop it with the
    /// subscription.
    owned: bool,
}

/// What a `try_tell` flush of one buffer came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flushed {
    /// The buffer is empty.
    Empty,
    /// The mailbox is full; the rest stays buffered.
    Full,
    /// The subscriber has stopped.
    Closed,
}

/// Why a subscription ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    Unsubscribed,
    Stopped,
    Overflowed,
}

impl<E: Send + 'static, K> fmt::Debug for EventBus<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("subscriptions", &self.subs.len())
            .field("totals", &self.totals)
            .finish_non_exhaustive()
    }
}

impl<E, K> EventBus<E, K>
where
    E: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    pub(super) fn new(topic: TopicFn<E, K>) -> Self {
        EventBus {
            topic,
            subs: BTreeMap::new(),
            by_topic: HashMap::new(),
            all: Vec::new(),
            next_sub: 1,
            totals: Totals::default(),
            drop_oldest: 0,
            flush_armed: false,
            flush_delay: FLUSH_MIN,
            flush_waiters: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn publish(&mut self, ctx: &mut Context<Self>, event: E) {
        self.totals.published += 1;
        if self.drop_oldest > 0 {
            // Room may have appeared since the last attempt.
            self.flush_all(ctx, false);
        }
        let key = (self.topic)(&event);
        let mut targets = std::mem::take(&mut self.scratch);
        targets.clear();
        if let Some(ids) = self.by_topic.get(&key) {
            targets.extend_from_slice(ids);
        }
        targets.extend_from_slice(&self.all);
        match targets.split_last() {
            None => self.totals.unrouted += 1,
            Some((&last, rest)) => {
                for &id in rest {
                    self.deliver(ctx, id, event.clone());
                }
                self.deliver(ctx, last, event);
            }
        }
        self.scratch = targets;
    }

    /// Hands one event to one subscription by its policy.
    fn deliver(&mut self, ctx: &mut Context<Self>, id: u64, event: E) {
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
        let t = &mut self.totals;
        match sub.overflow {
            // A subscriber found stopped here is removed when its Terminated
            // notice arrives (it is watched); until then its events are dropped.
            Overflow::Backpressure => match ctx.send(&sub.recipient, event) {
                Ok(()) => {
                    sub.delivered += 1;
                    t.delivered += 1;
                }
                Err(_) => {
                    sub.dropped += 1;
                    t.dropped += 1;
                    ctx.dead_letter(&sub.recipient, DeadLetterReason::Stopped);
                }
            },
            Overflow::DropNewest | Overflow::Fail => match sub.recipient.try_tell(event) {
                Ok(()) => {
                    sub.delivered += 1;
                    t.delivered += 1;
                }
                Err(TrySendError::Full(_)) => {
                    sub.dropped += 1;
                    t.dropped += 1;
                    ctx.dead_letter(&sub.recipient, DeadLetterReason::Shed);
                    if sub.overflow == Overflow::Fail {
                        self.remove(ctx, id, Removal::Overflowed);
                    } else {
                        log::debug!(
                            "event bus {}: dropped the newest event for {:?}, its mailbox is full",
                            label(ctx),
                            sub.recipient
                        );
                    }
                }
                Err(TrySendError::Closed(_)) => {
                    sub.dropped += 1;
                    t.dropped += 1;
                    ctx.dead_letter(&sub.recipient, DeadLetterReason::Stopped);
                }
            },
            Overflow::DropOldest(bound) => {
                sub.buffer.push_back(event);
                let flushed = flush_buffer(sub, t);
                while sub.buffer.len() > bound {
                    sub.buffer.pop_front();
                    sub.dropped += 1;
                    t.dropped += 1;
                    ctx.dead_letter(&sub.recipient, DeadLetterReason::Shed);
                    log::debug!(
                        "event bus {}: dropped the oldest buffered event for {:?}",
                        label(ctx),
                        sub.recipient
                    );
                }
                if flushed == Flushed::Full {
                    self.arm_flush(ctx);
                }
            }
        }
    }

    /// Tries every `DropOldest` buffer; re-arms the retry while any is full,
    /// and answers flush waiters once all are empty. (The buffer of a stopped
    /// subscriber waits for its Terminated notice, which removes it.)
    fn flush_all(&mut self, ctx: &mut Context<Self>, from_timer: bool) {
        let before = self.totals.delivered;
        let mut left = false;
        let t = &mut self.totals;
        for sub in self.subs.values_mut().filter(|s| !s.buffer.is_empty()) {
            left |= flush_buffer(sub, t) == Flushed::Full;
        }
        if from_timer {
            self.flush_delay = if self.totals.delivered > before {
                FLUSH_MIN
            } else {
                (self.flush_delay * 2).min(FLUSH_MAX)
            };
        }
        if left {
            self.arm_flush(ctx);
        } else {
            self.answer_flush_waiters();
        }
    }

    fn arm_flush(&mut self, ctx: &mut Context<Self>) {
        if self.flush_armed {
            return;
        }
        self.flush_armed = true;
        ctx.run_after(self.flush_delay, |bus: &mut Self, ctx| {
            bus.flush_armed = false;
            bus.flush_all(ctx, true);
            Ok(())
        });
    }

    fn buffered(&self) -> usize {
        if self.drop_oldest == 0 {
            return 0;
        }
        self.subs.values().map(|s| s.buffer.len()).sum()
    }

    fn answer_flush_waiters(&mut self) {
        if self.buffered() == 0 {
            for reply in self.flush_waiters.drain(..) {
                let _ = reply.send(());
            }
        }
    }

    fn subscribe(
        &mut self,
        ctx: &mut Context<Self>,
        spec: Subscribe<K>,
        recipient: Recipient<E>,
        channel: Option<Sender<E>>,
    ) -> Result<Subscription, SubscribeError> {
        if !recipient.is_alive() {
            return Err(SubscribeError::Stopped);
        }
        let topics = match spec.topics {
            Topics::All => Topics::All,
            Topics::Only(keys) => {
                let mut unique: Vec<K> = Vec::with_capacity(keys.len());
                for k in keys {
                    if !unique.contains(&k) {
                        unique.push(k);
                    }
                }
                Topics::Only(unique)
            }
        };
        let id = self.next_sub;
        self.next_sub += 1;
        let owned = channel.is_some();
        // Written through, so that a restart has it back (`keep.rs`); only a
        // supervised bus is ever restarted.
        if ctx.is_supervised() {
            let target = match channel {
                Some(tx) => Target::Channel(tx),
                None => Target::Actor(recipient.clone()),
            };
            let kept = Kept {
                target,
                topics: topics.clone(),
                overflow: spec.overflow,
            };
            let carried = ctx.carried_mut::<KeptSubs<E, K>>();
            carried.next_sub = self.next_sub;
            carried.subs.insert(id, kept);
        }
        self.insert(ctx, id, topics, spec.overflow, recipient, owned);
        Ok(Subscription { bus: ctx.id(), id })
    }

    /// Enters subscription `id` in the routing tables and watches its
    /// recipient.
    fn insert(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        topics: Topics<K>,
        overflow: Overflow,
        recipient: Recipient<E>,
        owned: bool,
    ) {
        match &topics {
            Topics::All => self.all.push(id),
            Topics::Only(keys) => {
                for k in keys {
                    self.by_topic.entry(k.clone()).or_default().push(id);
                }
            }
        }
        if matches!(overflow, Overflow::DropOldest(_)) {
            self.drop_oldest += 1;
        }
        // A no-op if another subscription already watches this actor (or a
        // watch from before a restart still does); if it has stopped
        // meanwhile, the notice comes at once and prunes it.
        ctx.watch_with(&recipient, |t| BusMsg(Inner::Down(t)));
        log::debug!(
            "event bus {}: subscription {id} for {recipient:?} ({overflow:?})",
            label(ctx),
        );
        self.subs.insert(
            id,
            Sub {
                recipient,
                topics,
                overflow,
                buffer: VecDeque::new(),
                delivered: 0,
                dropped: 0,
                owned,
            },
        );
    }

    /// After a restart: subscribes again everything the old instance had,
    /// under the same ids (`keep.rs`).
    fn restore(&mut self, ctx: &mut Context<Self>) {
        let Some(kept) = ctx.carried::<KeptSubs<E, K>>().cloned() else {
            return;
        };
        self.next_sub = kept.next_sub;
        let (mut restored, mut gone) = (0, 0);
        for (id, k) in kept.subs {
            let (recipient, owned) = match k.target {
                Target::Actor(r) => (r, false),
                Target::Channel(tx) => match Self::spawn_forwarder(ctx, tx) {
                    Ok(forwarder) => (forwarder, true),
                    Err(e) => {
                        log::error!(
                            "event bus {}: subscription {id} lost in the restart: {e}",
                            label(ctx)
                        );
                        ctx.carried_mut::<KeptSubs<E, K>>().subs.remove(&id);
                        gone += 1;
                        continue;
                    }
                },
            };
            if !recipient.is_alive() {
                ctx.carried_mut::<KeptSubs<E, K>>().subs.remove(&id);
                gone += 1;
                continue;
            }
            self.insert(ctx, id, k.topics, k.overflow, recipient, owned);
            restored += 1;
        }
        log::info!(
            "event bus {}: restarted with {restored} subscription(s) kept, \
             {gone} dropped (a stopped subscriber, or no forwarder)",
            label(ctx)
        );
    }

    fn spawn_forwarder(
        ctx: &mut Context<Self>,
        tx: Sender<E>,
    ) -> Result<Recipient<E>, SubscribeError> {
        let options = SpawnOptions::new().mailbox_capacity(FORWARDER_CAPACITY);
        let forwarder = ctx
            .spawn_with(options, Forwarder::factory(tx))
            .map_err(SubscribeError::Spawn)?;
        Ok(forwarder.recipient())
    }

    fn subscribe_channel(
        &mut self,
        ctx: &mut Context<Self>,
        spec: Subscribe<K>,
        tx: Sender<E>,
    ) -> Result<Subscription, SubscribeError> {
        check(&spec)?;
        let forwarder = Self::spawn_forwarder(ctx, tx.clone())?;
        self.subscribe(ctx, spec, forwarder, Some(tx))
    }

    /// Ends subscription `id`; its buffered events count as dropped (in the
    /// totals: its own counters go with it).
    fn remove(&mut self, ctx: &mut Context<Self>, id: u64, why: Removal) {
        let Some(sub) = self.subs.remove(&id) else {
            return;
        };
        if ctx.is_supervised() {
            ctx.carried_mut::<KeptSubs<E, K>>().subs.remove(&id);
        }
        match &sub.topics {
            Topics::All => self.all.retain(|s| *s != id),
            Topics::Only(keys) => {
                for k in keys {
                    if let Some(ids) = self.by_topic.get_mut(k) {
                        ids.retain(|s| *s != id);
                        if ids.is_empty() {
                            self.by_topic.remove(k);
                        }
                    }
                }
            }
        }
        if matches!(sub.overflow, Overflow::DropOldest(_)) {
            self.drop_oldest -= 1;
        }
        self.totals.dropped += sub.buffer.len() as u64;
        for _ in 0..sub.buffer.len() {
            ctx.dead_letter(&sub.recipient, DeadLetterReason::Stopped);
        }
        let actor = sub.recipient.id();
        if !self.subs.values().any(|s| s.recipient.id() == actor) {
            ctx.unwatch(&sub.recipient);
        }
        if sub.owned && why != Removal::Stopped {
            sub.recipient.stop();
        }
        match why {
            Removal::Unsubscribed => {
                log::debug!("event bus {}: subscription {id} ended", label(ctx));
            }
            Removal::Stopped => {
                self.totals.pruned += 1;
                log::debug!("event bus {}: subscription {id} removed", label(ctx));
            }
            Removal::Overflowed => {
                self.totals.pruned += 1;
                log::warn!(
                    "event bus {}: subscriber {:?} has a full mailbox under the Fail policy; \
                     event dropped and subscription {id} removed",
                    label(ctx),
                    sub.recipient
                );
            }
        }
        self.answer_flush_waiters();
    }

    fn stats(&self, bus: u64) -> BusStats {
        BusStats {
            published: self.totals.published,
            unrouted: self.totals.unrouted,
            delivered: self.totals.delivered,
            dropped: self.totals.dropped,
            pruned: self.totals.pruned,
            subscribers: self
                .subs
                .iter()
                .map(|(&id, s)| SubscriberStats {
                    subscription: Subscription { bus, id },
                    recipient: s.recipient.id(),
                    overflow: s.overflow,
                    delivered: s.delivered,
                    dropped: s.dropped,
                    buffered: s.buffer.len(),
                })
                .collect(),
        }
    }
}

/// Hands buffered events over with `try_tell`, oldest first, until the
/// mailbox is full.
fn flush_buffer<E: Send + 'static, K>(sub: &mut Sub<E, K>, t: &mut Totals) -> Flushed {
    while let Some(event) = sub.buffer.pop_front() {
        match sub.recipient.try_tell(event) {
            Ok(()) => {
                sub.delivered += 1;
                t.delivered += 1;
            }
            Err(TrySendError::Full(event)) => {
                sub.buffer.push_front(event);
                return Flushed::Full;
            }
            Err(TrySendError::Closed(event)) => {
                sub.buffer.push_front(event);
                return Flushed::Closed;
            }
        }
    }
    Flushed::Empty
}

/// Refuses a subscription that cannot work.
fn check<K>(spec: &Subscribe<K>) -> Result<(), SubscribeError> {
    if matches!(&spec.topics, Topics::Only(keys) if keys.is_empty()) {
        return Err(SubscribeError::NoTopics);
    }
    if spec.overflow == Overflow::DropOldest(0) {
        return Err(SubscribeError::ZeroBuffer);
    }
    Ok(())
}

fn label<A: Actor>(ctx: &Context<A>) -> String {
    match ctx.name() {
        Some(n) => n.to_string(),
        None => format!("#{}", ctx.id()),
    }
}

impl<E, K> Actor for EventBus<E, K>
where
    E: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    type Msg = BusMsg<E, K>;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        self.restore(ctx);
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: BusMsg<E, K>) -> Result<(), ActorError> {
        match msg.0 {
            Inner::Publish(event) => self.publish(ctx, event),
            Inner::Subscribe(spec, recipient, reply) => {
                let outcome =
                    check(&spec).and_then(|()| self.subscribe(ctx, spec, recipient, None));
                let _ = reply.send(outcome);
            }
            Inner::SubscribeChannel(spec, tx, reply) => {
                let _ = reply.send(self.subscribe_channel(ctx, spec, tx));
            }
            Inner::Unsubscribe(sub, reply) => {
                let known = sub.bus == ctx.id() && self.subs.contains_key(&sub.id);
                if known {
                    self.remove(ctx, sub.id, Removal::Unsubscribed);
                }
                if let Some(r) = reply {
                    let _ = r.send(known);
                }
            }
            Inner::Stats(reply) => {
                let _ = reply.send(self.stats(ctx.id()));
            }
            Inner::Flush(reply) => {
                self.flush_waiters.push(reply);
                if self.buffered() > 0 {
                    self.flush_all(ctx, false);
                } else {
                    self.answer_flush_waiters();
                }
            }
            Inner::Down(t) => {
                let gone: Vec<u64> = self
                    .subs
                    .iter()
                    .filter(|(_, s)| s.recipient.id() == t.id)
                    .map(|(&id, _)| id)
                    .collect();
                // A subscriber stopped by a shutdown is no news.
                let level = if t.reason == ExitReason::Shutdown || gone.is_empty() {
                    log::Level::Debug
                } else {
                    log::Level::Info
                };
                log::log!(
                    level,
                    "event bus {}: subscriber #{} stopped ({:?}); removing {} subscription(s)",
                    label(ctx),
                    t.id,
                    t.reason,
                    gone.len()
                );
                for id in gone {
                    self.remove(ctx, id, Removal::Stopped);
                }
            }
        }
        Ok(())
    }
}
