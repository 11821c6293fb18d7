//! [`BusMsg`]: the messages an [`crate::bus::EventBus`] handles, with constructors for sending them from inside actors.

use super::subscribe::{BusStats, Subscribe, SubscribeError, Subscription};
use crate::{Recipient, Reply, Terminated};
use crossbeam_channel::Sender;
use std::fmt;

/// A message to an [`crate::bus::EventBus`]. Outside the pool the methods on
/// `Addr<EventBus<E, K>>` build and send these for you; inside an actor, send
/// them with [`crate::Context::send`] (publish, unsubscribe) or [`crate::Context::ask`]
/// (subscribe, stats, flush), which never block the worker.
///
/// An event converts into a publish message with `From`, so
/// `ctx.send(&bus, event.into())` publishes, and [`crate::bus::EventBusExt::publisher`] gives a
/// [`Recipient`] of plain events.
///
/// # Examples
///
/// Publishing from inside an actor: when the bus is full the publisher is
/// suspended, not its worker.
///
/// ```
/// use playhouse::{Actor, ActorError, Addr, Context, System};
/// use playhouse::bus::{BusMsg, EventBus, EventBusExt};
/// use std::time::Duration;
///
/// struct Ticker {
///     bus: Addr<EventBus<u64>>,
/// }
/// impl Actor for Ticker {
///     type Msg = u64;
///     fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
///         for i in 0..n {
///             ctx.send(&self.bus, BusMsg::publish(i))?;
///         }
///         Ok(())
///     }
/// }
///
/// let timeout = Duration::from_secs(5);
/// let system = System::new();
/// let bus = EventBus::<u64>::builder().spawn(&system)?;
/// let ticker = system.spawn({
///     let bus = bus.clone();
///     move || Ticker { bus: bus.clone() }
/// })?;
/// ticker.tell(10)?;
/// system.await_quiescent(timeout)?;
/// assert_eq!(bus.stats(timeout)?.published, 10);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BusMsg<E: Send + 'static, K = ()>(pub(super) Inner<E, K>);

type SubscribeReply = Reply<Result<Subscription, SubscribeError>>;

pub(super) enum Inner<E: Send + 'static, K> {
    Publish(E),
    Subscribe(Subscribe<K>, Recipient<E>, SubscribeReply),
    SubscribeChannel(Subscribe<K>, Sender<E>, SubscribeReply),
    Unsubscribe(Subscription, Option<Reply<bool>>),
    Stats(Reply<BusStats>),
    Flush(Reply<()>),
    Down(Terminated),
}

impl<E: Send + 'static, K> BusMsg<E, K> {
    /// Publishes `event`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{BusMsg, EventBus, EventBusExt};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// bus.tell(BusMsg::publish(1))?; // what `publish` does
    /// bus.tell(2.into())?; // an event converts into a publish message
    /// assert_eq!(bus.stats(Duration::from_secs(5))?.published, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publish(event: E) -> Self {
        BusMsg(Inner::Publish(event))
    }

    /// Subscribes `recipient` as `spec` says; the answer is the subscription's
    /// handle (see [`crate::bus::EventBusExt::subscribe_with`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Addr, Context, System};
    /// use playhouse::bus::{BusMsg, EventBus, EventBusExt, Subscribe};
    /// use std::time::Duration;
    ///
    /// /// Subscribes itself to the bus when it starts, without blocking its worker.
    /// struct Listener {
    ///     bus: Addr<EventBus<u32>>,
    ///     seen: u32,
    /// }
    /// impl Actor for Listener {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         let me = ctx.addr().recipient();
    ///         ctx.ask(
    ///             &self.bus,
    ///             |r| BusMsg::subscribe(Subscribe::all(), me, r),
    ///             Duration::from_secs(5),
    ///             |_: &mut Listener, _, answer| {
    ///                 assert!(matches!(answer, Ok(Ok(_))), "subscribed");
    ///             },
    ///         )?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    ///         self.seen += n;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let b = bus.clone();
    /// system.spawn(move || Listener { bus: b.clone(), seen: 0 })?;
    /// system.await_quiescent(T)?; // the subscription is in place
    /// bus.publish(5)?;
    /// system.await_quiescent(T)?;
    /// assert_eq!(bus.stats(T)?.delivered, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe(
        spec: Subscribe<K>,
        recipient: Recipient<E>,
        reply: Reply<Result<Subscription, SubscribeError>>,
    ) -> Self {
        BusMsg(Inner::Subscribe(spec, recipient, reply))
    }

    /// Subscribes a channel (see [`crate::bus::EventBusExt::subscribe_channel`]).
    pub fn subscribe_channel(
        spec: Subscribe<K>,
        tx: Sender<E>,
        reply: Reply<Result<Subscription, SubscribeError>>,
    ) -> Self {
        BusMsg(Inner::SubscribeChannel(spec, tx, reply))
    }

    /// Ends a subscription, without an answer (for [`crate::Context::send`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{BusMsg, EventBus, EventBusExt};
    /// use playhouse::testkit::Probe;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// let sub = bus.subscribe_all(probe.recipient(), T)?;
    /// bus.tell(BusMsg::unsubscribe(sub))?; // no answer to wait for
    /// assert!(bus.stats(T)?.subscribers.is_empty());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unsubscribe(subscription: Subscription) -> Self {
        BusMsg(Inner::Unsubscribe(subscription, None))
    }

    /// Ends a subscription; the answer says whether it existed.
    pub fn unsubscribe_reply(subscription: Subscription, reply: Reply<bool>) -> Self {
        BusMsg(Inner::Unsubscribe(subscription, Some(reply)))
    }

    /// Asks for the bus's counters (see [`crate::bus::EventBusExt::stats`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{BusMsg, EventBus};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// bus.tell(7.into())?;
    /// // What `EventBusExt::stats` sends; inside an actor, use it with `ctx.ask`.
    /// let stats = bus.ask(BusMsg::stats, Duration::from_secs(5))?;
    /// assert_eq!(stats.published, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(reply: Reply<BusStats>) -> Self {
        BusMsg(Inner::Stats(reply))
    }

    /// Asks to be answered once every `DropOldest` buffer is empty (see
    /// [`crate::bus::EventBusExt::flush`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use playhouse::bus::{BusMsg, EventBus};
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// bus.tell(7.into())?;
    /// bus.ask(BusMsg::flush, Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(reply: Reply<()>) -> Self {
        BusMsg(Inner::Flush(reply))
    }

    /// The event of a publish message (used to hand an undelivered event back).
    pub(super) fn into_event(self) -> E {
        match self.0 {
            Inner::Publish(event) => event,
            _ => unreachable!("only publish messages are handed back as events"),
        }
    }
}

impl<E: Send + 'static, K> From<E> for BusMsg<E, K> {
    fn from(event: E) -> Self {
        BusMsg::publish(event)
    }
}

impl<E: Send + 'static, K> fmt::Debug for BusMsg<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Publish(_) => "BusMsg::Publish",
            Inner::Subscribe(..) => "BusMsg::Subscribe",
            Inner::SubscribeChannel(..) => "BusMsg::SubscribeChannel",
            Inner::Unsubscribe(..) => "BusMsg::Unsubscribe",
            Inner::Stats(_) => "BusMsg::Stats",
            Inner::Flush(_) => "BusMsg::Flush",
            Inner::Down(_) => "BusMsg::Down",
        })
    }
}
