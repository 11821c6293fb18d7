//! Typed addresses ([`Addr`]) and type-erased ones ([`Recipient`]).

use crate::actor::Actor;
use crate::actor::cell::{Cell, SendFrom};
use crate::error::{AskError, SendError, SendTimeoutError, TrySendError};
use crate::mailbox::{Refused, Sent};
use crate::reply::{AskState, Reply, Slot};
use crate::runtime::{AnyCell, Command, Shared, StopReason};
use crate::sync::Arc;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// Per-actor counters, read with [`Addr::metrics`].
///
/// # Examples
///
/// ```
/// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
/// # use std::time::Duration;
/// /// Takes no messages: whatever is sent stays queued.
/// struct Paused;
/// impl Actor for Paused {
///     type Msg = u32;
///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
///         ctx.suspend();
///         Ok(())
///     }
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(4), || Paused)?;
/// paused.tell(1)?;
/// paused.tell(2)?;
/// let metrics = paused.metrics();
/// assert_eq!(metrics.mailbox_len, 2);
/// assert_eq!(metrics.mailbox_capacity, 4);
/// assert_eq!(metrics.messages_handled, 0);
/// paused.stop();
/// system.await_quiescent(Duration::from_secs(5))?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActorMetrics {
    /// User messages waiting in the mailbox now (parked sends included).
    pub mailbox_len: usize,
    /// The mailbox's capacity.
    pub mailbox_capacity: usize,
    /// User messages handled so far (counted at the end of each turn).
    pub messages_handled: u64,
}

/// The address of an actor of type `A`: cheap to clone, usable from any thread.
///
/// # Where a send waits
///
/// | caller | [`tell`](Addr::tell) / [`tell_timeout`](Addr::tell_timeout) on a full mailbox |
/// |---|---|
/// | a thread outside any pool | blocks until there is room (or the deadline) |
/// | a handler or hook of an actor of the *same* system (on a pool worker or a dedicated thread) | as [`crate::Context::send`]: the message is parked, the calling actor is suspended, the thread never waits, and the call never fails for a full mailbox |
/// | a handler of another system, or a plain pool job ([`crate::ThreadPool::execute`]) | `WouldBlockWorker` with the message: no actor of the target's system can be suspended there, and the worker must not block |
///
/// [`Addr::try_tell`] never waits anywhere. A handler that sends many
/// messages in one call should watch for suspension and yield (see
/// [`crate::Context::send_flow`]): each parked message is held until the
/// target drains.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// enum Msg { Add(u64), Total(Reply<u64>) }
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => { let _ = reply.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let counter = system.spawn(|| Counter(0))?;
/// let producers: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = counter.clone(); // one reference count; same actor
///         std::thread::spawn(move || {
///             for _ in 0..100 {
///                 counter.tell(Msg::Add(1)).unwrap();
///             }
///         })
///     })
///     .collect();
/// for p in producers {
///     p.join().unwrap();
/// }
/// assert_eq!(counter.ask(Msg::Total, Duration::from_secs(5))?, 400);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Addr<A: Actor> {
    cell: Arc<Cell<A>>,
}

impl<A: Actor> Addr<A> {
    pub(crate) fn from_cell(cell: Arc<Cell<A>>) -> Self {
        Addr { cell }
    }

    /// The running actor registered under `name` in `shared`'s registry, if
    /// it is of type `A`.
    pub(crate) fn registered(shared: &Shared, name: &str) -> Option<Self> {
        let cell = shared.named(name)?;
        cell.into_any()
            .downcast::<Cell<A>>()
            .ok()
            .map(Addr::from_cell)
    }

    /// Sends `msg`, waiting for room if the mailbox is full; inside a handler
    /// of the same system, parking it and suspending the calling actor
    /// instead (see [where a send waits](Addr#where-a-send-waits)).
    ///
    /// # Errors
    /// [`SendError::Closed`] if the actor has stopped or the system is shutting
    /// down (to a sender outside the pool); [`SendError::WouldBlockWorker`] if
    /// the mailbox is full and the caller is a worker where no actor of this
    /// system runs. The message comes back in the error.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// counter.tell(Msg::Add(2))?; // waits while the mailbox is full
    /// counter.tell(Msg::Add(3))?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 5);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell(&self, msg: A::Msg) -> Result<(), SendError<A::Msg>> {
        tell_with(&self.cell, msg, |m| m)
    }

    /// Sends `msg` if there is room now.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the message.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Takes no messages: whatever is sent stays queued.
    /// struct Paused;
    /// impl Actor for Paused {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    /// use playhouse::TrySendError;
    ///
    /// let system = System::new();
    /// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Paused)?;
    /// paused.try_tell(1)?;
    /// match paused.try_tell(2) {
    ///     Err(TrySendError::Full(msg)) => assert_eq!(msg, 2), // the message comes back
    ///     other => panic!("expected a full mailbox, got {other:?}"),
    /// }
    /// paused.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_tell(&self, msg: A::Msg) -> Result<(), TrySendError<A::Msg>> {
        try_tell_with(&self.cell, msg, |m| m)
    }

    /// Sends `msg`, waiting at most `timeout` for room; inside a handler of
    /// the same system, as [`Addr::tell`] (the message is parked, whatever
    /// `timeout`).
    ///
    /// # Errors
    /// [`SendTimeoutError::Timeout`], [`SendTimeoutError::Closed`] or
    /// [`SendTimeoutError::WouldBlockWorker`], with the message.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Takes no messages: whatever is sent stays queued.
    /// struct Paused;
    /// impl Actor for Paused {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    /// use playhouse::SendTimeoutError;
    ///
    /// let system = System::new();
    /// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Paused)?;
    /// paused.tell_timeout(1, Duration::from_millis(10))?;
    /// let err = paused.tell_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(err, SendTimeoutError::Timeout(2));
    /// paused.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell_timeout(
        &self,
        msg: A::Msg,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<A::Msg>> {
        tell_timeout_with(&self.cell, msg, timeout, |m| m)
    }

    /// Sends the request built by `make` around a fresh [`Reply`] and blocks until
    /// the actor answers or `timeout` passes. The deadline travels with the
    /// request: if it passes while the request is still queued, the actor never
    /// handles it (it goes to dead letters).
    ///
    /// # Errors
    /// [`AskError::Timeout`], [`AskError::Closed`], [`AskError::ReplyDropped`],
    /// or [`AskError::WouldBlockWorker`] when called on a pool worker (inside an
    /// actor use [`crate::Context::ask`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(40))?;
    /// counter.tell(Msg::Add(2))?;
    /// // `Msg::Total` builds the request around the reply handle.
    /// let total = counter.ask(Msg::Total, Duration::from_secs(5))?;
    /// assert_eq!(total, 42);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ask<R: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, AskError> {
        if crate::pool::on_worker_thread() {
            return Err(AskError::WouldBlockWorker);
        }
        if self.cell.shared.is_closing() {
            return Err(AskError::Closed);
        }
        let timer = &self.cell.shared.timer;
        let deadline = timer.deadline_after(timeout);
        let slot = Slot::<R>::for_thread(Some(deadline));
        let request = make(Reply::new(slot.clone()));
        let ask: Arc<dyn AskState> = slot.clone();
        // On a manual clock the deadline is the clock's, enforced by a timer
        // entry when the clock passes it; waiting for mailbox room still holds
        // this thread, so that wait is bounded by wall time.
        let manual = timer.is_manual();
        let room_deadline = if manual {
            crate::runtime::deadline_after(timeout)
        } else {
            deadline
        };
        #[cfg(not(loom))]
        if let Some(sim) = &self.cell.shared.sim {
            return ask_simulated(&self.cell, sim, request, ask, &slot, deadline);
        }
        match self
            .cell
            .deliver_blocking(request, Some(ask), Some(room_deadline), |m| m)
        {
            Ok(()) if manual => {
                let timer_slot = slot.clone();
                let expiry = timer.once(deadline, move || {
                    let _ = timer_slot.complete(Err(AskError::Timeout));
                });
                let outcome = slot.wait(None);
                expiry.cancel();
                outcome
            }
            Ok(()) => slot.wait(Some(deadline)),
            Err((request, refused)) => {
                drop(request);
                Err(match refused {
                    Refused::Closed => AskError::Closed,
                    Refused::Full | Refused::Timeout => AskError::Timeout,
                })
            }
        }
    }

    /// Whether the actor is still running (it has not stopped for good).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// assert!(counter.is_alive());
    /// counter.stop();
    /// system.await_quiescent(t)?;
    /// assert!(!counter.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        self.cell.alive()
    }

    /// Asks the actor to stop. The request travels in the control lane, so a full
    /// mailbox cannot hold it up: the actor stops after its current message, its
    /// children stop first, queued messages go to dead letters, and blocked
    /// senders get theirs back as `Closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::SendError;
    ///
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// counter.stop();
    /// system.await_quiescent(t)?;
    /// // A stopped actor takes nothing more: the message comes back.
    /// assert!(matches!(counter.tell(Msg::Add(1)), Err(SendError::Closed(Msg::Add(1)))));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&self) {
        let _ = self
            .cell
            .push_control(crate::actor::cell::Control::Command(Command::Stop(
                StopReason::Requested,
            )));
    }

    /// The actor's name, if it was given one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let named = system.spawn_with(SpawnOptions::new().name("totals"), || Counter(0))?;
    /// let anonymous = system.spawn(|| Counter(0))?;
    /// assert_eq!(named.name(), Some("totals"));
    /// assert_eq!(anonymous.name(), None);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.cell.name()
    }

    /// The actor's id, unique within its system.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let a = system.spawn(|| Counter(0))?;
    /// let b = system.spawn(|| Counter(0))?;
    /// assert_ne!(a.id(), b.id());
    /// assert_eq!(a.clone().id(), a.id()); // a clone addresses the same actor
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.cell.id
    }

    /// The running actor registered under `name` in this actor's system, if
    /// it is of type `B` (as [`crate::System::lookup`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let totals = system.spawn_with(SpawnOptions::new().name("totals"), || Counter(0))?;
    /// let other = system.spawn(|| Counter(0))?;
    /// // Any address reaches the named actors of its system.
    /// assert_eq!(other.lookup::<Counter>("totals"), Some(totals));
    /// assert!(other.lookup::<Counter>("nobody").is_none());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup<B: Actor>(&self, name: &str) -> Option<Addr<B>> {
        Addr::registered(&self.cell.shared, name)
    }

    /// The actor's counters.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn_with(SpawnOptions::new().mailbox_capacity(8), || Counter(0))?;
    /// counter.tell(Msg::Add(1))?;
    /// counter.tell(Msg::Add(2))?;
    /// system.await_quiescent(t)?;
    /// let metrics = counter.metrics();
    /// assert_eq!(metrics.mailbox_capacity, 8);
    /// assert_eq!(metrics.mailbox_len, 0);
    /// assert_eq!(metrics.messages_handled, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> ActorMetrics {
        ActorMetrics {
            mailbox_len: self.cell.mailbox.len(),
            mailbox_capacity: self.cell.mailbox.capacity(),
            messages_handled: self.cell.handled(),
        }
    }

    /// A type-erased address for messages of type `M`, which are converted into
    /// this actor's messages with `From`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::Recipient;
    ///
    /// impl From<u64> for Msg {
    ///     fn from(n: u64) -> Msg { Msg::Add(n) }
    /// }
    ///
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds: Recipient<u64> = counter.recipient(); // the actor's type is gone
    /// for n in [1, 2, 3] {
    ///     adds.tell(n)?;
    /// }
    /// assert_eq!(counter.ask(Msg::Total, t)?, 6);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recipient<M>(&self) -> Recipient<M>
    where
        M: Send + 'static,
        A::Msg: From<M>,
    {
        self.recipient_with(A::Msg::from)
    }

    /// A type-erased address for messages of type `M`, converted by `map`.
    ///
    /// `map` runs inside each send, once the message is sure to be taken:
    /// possibly while the target's mailbox is locked, and while its runner
    /// waits for the slot it fills. Keep it a plain conversion; it must not
    /// send to, ask, or read the metrics of the target.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Recipient, System};
    ///
    /// enum Msg { Text(String), Number(u64) }
    /// struct Log(Vec<String>);
    /// impl Actor for Log {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, _: &mut Context<Self>, m: Msg) -> Result<(), ActorError> {
    ///         match m { Msg::Text(t) => self.0.push(t), Msg::Number(n) => self.0.push(n.to_string()) }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let log = system.spawn(|| Log(Vec::new())).unwrap();
    /// let numbers: Recipient<u64> = log.recipient_with(Msg::Number);
    /// numbers.tell(7).unwrap();
    /// ```
    pub fn recipient_with<M, F>(&self, map: F) -> Recipient<M>
    where
        M: Send + 'static,
        F: Fn(M) -> A::Msg + Send + Sync + 'static,
    {
        Recipient {
            inner: Arc::new(Mapped {
                cell: self.cell.clone(),
                map,
            }),
        }
    }
}

impl<A: Actor> Clone for Addr<A> {
    fn clone(&self) -> Self {
        Addr {
            cell: self.cell.clone(),
        }
    }
}

impl<A: Actor> PartialEq for Addr<A> {
    fn eq(&self, other: &Self) -> bool {
        self.cell.id == other.cell.id
    }
}

impl<A: Actor> Eq for Addr<A> {}

impl<A: Actor> Hash for Addr<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.cell.id.hash(state);
    }
}

impl<A: Actor> fmt::Debug for Addr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({})", self.cell.label())
    }
}

/// How long a send may wait for room.
#[derive(Clone, Copy)]
enum Wait {
    No,
    Forever,
    Until(std::time::Instant),
}

/// Why a send failed, before it is turned into the caller's error type.
enum Failed {
    Full,
    Closed,
    Timeout,
    WouldBlockWorker,
}

/// The one send path behind `tell`, `try_tell` and `tell_timeout`.
#[inline]
fn send_with<A: Actor, T>(
    cell: &Arc<Cell<A>>,
    value: T,
    wait: Wait,
    map: impl FnOnce(T) -> A::Msg,
) -> Result<(), (T, Failed)> {
    // Inside a turn of the target's system, a send that may wait parks as
    // `Context::send` does: it suspends the sending actor, never its thread,
    // and never fails for a full mailbox.
    if !matches!(wait, Wait::No)
        && let Some(turn) = crate::actor::cell::current::running_turn(&cell.shared)
    {
        return match cell.deliver_from_actor(value, None, &turn.from(), map) {
            Ok(sent) => {
                turn.sent(&sent);
                Ok(())
            }
            Err(v) => Err((v, Failed::Closed)),
        };
    }
    let on_worker = crate::pool::on_worker_thread();
    // Intake from outside the pool stops when shutdown begins; actors keep
    // talking to each other while they drain.
    if !on_worker && cell.shared.is_closing() {
        return Err((value, Failed::Closed));
    }
    // A worker never waits: a full mailbox is refused at once.
    let blocking = !matches!(wait, Wait::No) && !on_worker;
    #[cfg(not(loom))]
    if blocking && let Some(sim) = &cell.shared.sim {
        return send_simulated(cell, sim, value, wait, map);
    }
    let result = match wait {
        Wait::Forever if blocking => cell.deliver_blocking(value, None, None, map),
        Wait::Until(d) if blocking => cell.deliver_blocking(value, None, Some(d), map),
        _ => cell.deliver_try(value, None, map),
    };
    result.map_err(|(v, r)| {
        let why = match r {
            Refused::Full if on_worker && !matches!(wait, Wait::No) => Failed::WouldBlockWorker,
            Refused::Full => Failed::Full,
            Refused::Closed => Failed::Closed,
            Refused::Timeout => Failed::Timeout,
        };
        (v, why)
    })
}

/// [`Addr::ask`] in a simulation: the request goes in when there is room and
/// the answer is awaited by driving steps, time jumping to deadlines (the
/// ask's own timeout is a timer entry like any other).
#[cfg(not(loom))]
fn ask_simulated<A: Actor, R: Send + 'static>(
    cell: &Arc<Cell<A>>,
    sim: &crate::runtime::sim::Sim,
    request: A::Msg,
    ask: Arc<dyn AskState>,
    slot: &Arc<Slot<R>>,
    deadline: std::time::Instant,
) -> Result<R, AskError> {
    use crate::runtime::sim::Jump;
    let shared = &cell.shared;
    let timer = &shared.timer;
    let mut request = Some(request);
    let mut ask = Some(ask);
    let mut refused = None;
    let room = sim.drive(shared, Jump::Until(deadline), || {
        let Some(m) = request.take() else { return true };
        match cell.deliver_try(m, ask.take(), |m| m) {
            Ok(()) => true,
            Err((m, Refused::Full)) => {
                request = Some(m);
                ask = Some(slot.clone());
                false
            }
            Err((_, why)) => {
                refused = Some(why);
                true
            }
        }
    });
    if refused.is_some() {
        return Err(AskError::Closed);
    }
    if room.is_err() {
        // No room before the deadline (or nothing left to run): the request
        // comes back, as a threaded ask's does.
        return Err(if timer.now() >= deadline {
            AskError::Timeout
        } else {
            AskError::Stalled
        });
    }
    let expiry_slot = slot.clone();
    let expiry = timer.once(deadline, move || {
        let _ = expiry_slot.complete(Err(AskError::Timeout));
    });
    let mut outcome = None;
    let _ = sim.drive(shared, Jump::Any, || {
        outcome = slot.try_take();
        outcome.is_some()
    });
    expiry.cancel();
    outcome.unwrap_or_else(|| {
        slot.give_up();
        Err(AskError::Stalled)
    })
}

/// A blocking send from the thread driving a simulation: steps run until the
/// mailbox has room (time may jump only up to the send's own deadline).
/// With nothing left to run first, a send without deadline fails as closed,
/// one with a deadline as timed out.
#[cfg(not(loom))]
fn send_simulated<A: Actor, T>(
    cell: &Arc<Cell<A>>,
    sim: &crate::runtime::sim::Sim,
    value: T,
    wait: Wait,
    map: impl FnOnce(T) -> A::Msg,
) -> Result<(), (T, Failed)> {
    use crate::runtime::sim::Jump;
    let jump = match wait {
        Wait::Until(d) => Jump::Until(
            cell.shared.timer.now() + d.saturating_duration_since(std::time::Instant::now()),
        ),
        _ => Jump::Any,
    };
    let mut value = Some(value);
    let mut map = Some(map);
    let mut failed = None;
    let drove = sim.drive(&cell.shared, jump, || {
        let Some(v) = value.take() else { return true };
        // The map runs only for the message that goes in.
        match cell.deliver_try(v, None, |v| map.take().expect("mapped once")(v)) {
            Ok(()) => true,
            Err((v, Refused::Full)) => {
                value = Some(v);
                false
            }
            Err((v, _)) => {
                failed = Some(v);
                true
            }
        }
    });
    if let Some(v) = failed {
        return Err((v, Failed::Closed));
    }
    match (value, drove) {
        (None, _) => Ok(()),
        (Some(v), _) if matches!(wait, Wait::Until(_)) => Err((v, Failed::Timeout)),
        (Some(v), _) => {
            log::warn!("playhouse simulation: a blocking send found nothing left to run");
            Err((v, Failed::Closed))
        }
    }
}

fn tell_with<A: Actor, T>(
    cell: &Arc<Cell<A>>,
    value: T,
    map: impl FnOnce(T) -> A::Msg,
) -> Result<(), SendError<T>> {
    send_with(cell, value, Wait::Forever, map).map_err(|(v, why)| match why {
        Failed::WouldBlockWorker => SendError::WouldBlockWorker(v),
        _ => SendError::Closed(v),
    })
}

fn try_tell_with<A: Actor, T>(
    cell: &Arc<Cell<A>>,
    value: T,
    map: impl FnOnce(T) -> A::Msg,
) -> Result<(), TrySendError<T>> {
    send_with(cell, value, Wait::No, map).map_err(|(v, why)| match why {
        Failed::Full => TrySendError::Full(v),
        _ => TrySendError::Closed(v),
    })
}

fn tell_timeout_with<A: Actor, T>(
    cell: &Arc<Cell<A>>,
    value: T,
    timeout: Duration,
    map: impl FnOnce(T) -> A::Msg,
) -> Result<(), SendTimeoutError<T>> {
    let wait = Wait::Until(crate::runtime::deadline_after(timeout));
    send_with(cell, value, wait, map).map_err(|(v, why)| match why {
        Failed::Closed => SendTimeoutError::Closed(v),
        Failed::WouldBlockWorker => SendTimeoutError::WouldBlockWorker(v),
        Failed::Full | Failed::Timeout => SendTimeoutError::Timeout(v),
    })
}

/// The operations a [`Recipient`] forwards to its actor.
trait RecipientOps<M>: Send + Sync {
    fn tell(&self, msg: M) -> Result<(), SendError<M>>;
    fn try_tell(&self, msg: M) -> Result<(), TrySendError<M>>;
    fn tell_timeout(&self, msg: M, timeout: Duration) -> Result<(), SendTimeoutError<M>>;
    fn deliver_from_actor(
        &self,
        msg: M,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
    ) -> Result<Sent, M>;
    fn id(&self) -> u64;
    fn is_alive(&self) -> bool;
    fn stop(&self);
    fn label(&self) -> String;
    fn cell(&self) -> Arc<dyn AnyCell>;
}

struct Mapped<A: Actor, F> {
    cell: Arc<Cell<A>>,
    map: F,
}

impl<A, M, F> RecipientOps<M> for Mapped<A, F>
where
    A: Actor,
    M: Send + 'static,
    F: Fn(M) -> A::Msg + Send + Sync + 'static,
{
    fn tell(&self, msg: M) -> Result<(), SendError<M>> {
        tell_with(&self.cell, msg, &self.map)
    }
    fn try_tell(&self, msg: M) -> Result<(), TrySendError<M>> {
        try_tell_with(&self.cell, msg, &self.map)
    }
    fn tell_timeout(&self, msg: M, timeout: Duration) -> Result<(), SendTimeoutError<M>> {
        tell_timeout_with(&self.cell, msg, timeout, &self.map)
    }
    fn deliver_from_actor(
        &self,
        msg: M,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
    ) -> Result<Sent, M> {
        self.cell.deliver_from_actor(msg, ask, from, &self.map)
    }
    fn id(&self) -> u64 {
        self.cell.id
    }
    fn is_alive(&self) -> bool {
        self.cell.alive()
    }
    fn stop(&self) {
        let _ = self
            .cell
            .push_control(crate::actor::cell::Control::Command(Command::Stop(
                StopReason::Requested,
            )));
    }
    fn label(&self) -> String {
        self.cell.label()
    }
    fn cell(&self) -> Arc<dyn AnyCell> {
        self.cell.clone()
    }
}

/// A type-erased address: any actor that accepts messages of type `M`.
///
/// Made from an [`Addr`] with [`Addr::recipient`] or [`Addr::recipient_with`],
/// so patterns (buses, stream stages) can be wired without knowing actor types.
/// Sending behaves exactly as through the [`Addr`] it was made from.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Recipient, Reply, System};
/// use std::time::Duration;
///
/// enum Stat { Sample(u64), Get(Reply<u64>) }
/// impl From<u64> for Stat {
///     fn from(n: u64) -> Stat { Stat::Sample(n) }
/// }
///
/// struct Sum(u64);
/// impl Actor for Sum {
///     type Msg = Stat;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Stat) -> Result<(), ActorError> {
///         match msg {
///             Stat::Sample(n) => self.0 += n,
///             Stat::Get(r) => { let _ = r.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// struct Max(u64);
/// impl Actor for Max {
///     type Msg = Stat;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Stat) -> Result<(), ActorError> {
///         match msg {
///             Stat::Sample(n) => self.0 = self.0.max(n),
///             Stat::Get(r) => { let _ = r.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let sum = system.spawn(|| Sum(0))?;
/// let max = system.spawn(|| Max(0))?;
/// // Two actor types behind one address type.
/// let sinks: Vec<Recipient<u64>> = vec![sum.recipient(), max.recipient()];
/// for n in [3, 9, 4] {
///     for sink in &sinks {
///         sink.tell(n)?;
///     }
/// }
/// let t = Duration::from_secs(5);
/// assert_eq!(sum.ask(Stat::Get, t)?, 16);
/// assert_eq!(max.ask(Stat::Get, t)?, 9);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Recipient<M: Send + 'static> {
    inner: Arc<dyn RecipientOps<M>>,
}

impl<M: Send + 'static> Recipient<M> {
    /// As [`Addr::tell`].
    ///
    /// # Errors
    /// As [`Addr::tell`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// adds.tell(5)?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 5);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell(&self, msg: M) -> Result<(), SendError<M>> {
        self.inner.tell(msg)
    }

    /// As [`Addr::try_tell`].
    ///
    /// # Errors
    /// As [`Addr::try_tell`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::TrySendError;
    ///
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// adds.try_tell(5)?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 5);
    /// counter.stop();
    /// system.await_quiescent(t)?;
    /// assert_eq!(adds.try_tell(1), Err(TrySendError::Closed(1)));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_tell(&self, msg: M) -> Result<(), TrySendError<M>> {
        self.inner.try_tell(msg)
    }

    /// As [`Addr::tell_timeout`].
    ///
    /// # Errors
    /// As [`Addr::tell_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// adds.tell_timeout(5, Duration::from_secs(1))?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 5);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell_timeout(&self, msg: M, timeout: Duration) -> Result<(), SendTimeoutError<M>> {
        self.inner.tell_timeout(msg, timeout)
    }

    /// Whether the actor behind it is still running.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// assert!(adds.is_alive());
    /// counter.stop();
    /// system.await_quiescent(t)?;
    /// assert!(!adds.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        self.inner.is_alive()
    }

    /// Asks the actor behind it to stop (as [`Addr::stop`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// adds.stop();
    /// system.await_quiescent(t)?;
    /// assert!(!counter.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// The id of the actor behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// let adds = counter.recipient_with(Msg::Add);
    /// assert_eq!(adds.id(), counter.id());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.inner.id()
    }
}

impl<M: Send + 'static> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Recipient {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Send + 'static> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({})", self.inner.label())
    }
}

mod sealed {
    pub trait Sealed<M> {}
}

/// Something an actor can send to with [`crate::Context::send`] and
/// [`crate::Context::ask`]: an [`Addr`] or a [`Recipient`]. Sealed.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Recipient, Reply, System, Target};
/// use std::time::Duration;
///
/// /// Sends `n` to an `Addr` or a `Recipient` from a handler, never blocking its worker.
/// fn relay<A: Actor, T: Target<u64>>(ctx: &mut Context<A>, to: &T, n: u64) -> Result<(), ActorError> {
///     ctx.send(to, n)?;
///     Ok(())
/// }
///
/// struct Doubler(Recipient<u64>);
/// impl Actor for Doubler {
///     type Msg = u64;
///     fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
///         relay(ctx, &self.0, n * 2)
///     }
/// }
///
/// enum Stat { Add(u64), Get(Reply<u64>) }
/// struct Sum(u64);
/// impl Actor for Sum {
///     type Msg = Stat;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Stat) -> Result<(), ActorError> {
///         match msg {
///             Stat::Add(n) => self.0 += n,
///             Stat::Get(r) => { let _ = r.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let sum = system.spawn(|| Sum(0))?;
/// let out = sum.recipient_with(Stat::Add);
/// let doubler = system.spawn(move || Doubler(out.clone()))?;
/// doubler.tell(21)?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(sum.ask(Stat::Get, Duration::from_secs(5))?, 42);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[allow(private_interfaces)]
pub trait Target<M>: sealed::Sealed<M> {
    #[doc(hidden)]
    fn target_id(&self) -> u64;
    #[doc(hidden)]
    fn cell(&self) -> Arc<dyn AnyCell>;
    #[doc(hidden)]
    fn deliver_from_actor(
        &self,
        msg: M,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
    ) -> Result<Sent, M>;
}

impl<A: Actor> sealed::Sealed<A::Msg> for Addr<A> {}

#[allow(private_interfaces)]
impl<A: Actor> Target<A::Msg> for Addr<A> {
    fn target_id(&self) -> u64 {
        self.cell.id
    }
    fn cell(&self) -> Arc<dyn AnyCell> {
        self.cell.clone()
    }
    fn deliver_from_actor(
        &self,
        msg: A::Msg,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
    ) -> Result<Sent, A::Msg> {
        self.cell.deliver_from_actor(msg, ask, from, |m| m)
    }
}

impl<M: Send + 'static> sealed::Sealed<M> for Recipient<M> {}

#[allow(private_interfaces)]
impl<M: Send + 'static> Target<M> for Recipient<M> {
    fn target_id(&self) -> u64 {
        self.inner.id()
    }
    fn cell(&self) -> Arc<dyn AnyCell> {
        self.inner.cell()
    }
    fn deliver_from_actor(
        &self,
        msg: M,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
    ) -> Result<Sent, M> {
        self.inner.deliver_from_actor(msg, ask, from)
    }
}
