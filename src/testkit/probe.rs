//! [`Probe`]: an actor that records what it receives, and the handle a test expects messages on.

use super::error::ExpectError;
use super::inbox::{Feed, Inbox, queue};
use crate::{Actor, ActorError, Addr, Context, Recipient, SpawnError, System, Target, Terminated};
use std::fmt;
use std::time::Duration;

/// A stand-in actor for tests: wire its [`Recipient`] into the actors under
/// test, then expect what they send it, in order, each wait bounded.
///
/// Messages are handed to the test as they are, so a probe can also stand in
/// for a service that is asked: take the request, answer its
/// [`Reply`](crate::Reply). It can watch other actors
/// ([`Probe::watch`]) and expect their end ([`Probe::expect_terminated`]).
/// Dropping the probe stops its actor.
///
/// Waits are bounded by wall-clock time (how long the test thread may be
/// held), also in a system built with a
/// [`ManualClock`](super::ManualClock).
///
/// # Examples
///
/// ```
/// use playhouse::testkit::Probe;
/// use playhouse::{Actor, ActorError, Context, Recipient, System};
/// use std::time::Duration;
///
/// /// Doubles what it gets and passes it on.
/// struct Doubler(Recipient<u32>);
/// impl Actor for Doubler {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
///         self.0.tell(n * 2)?;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let probe = Probe::new(&system)?;
/// let out = probe.recipient();
/// let doubler = system.spawn(move || Doubler(out.clone()))?;
/// doubler.tell(1)?;
/// doubler.tell(2)?;
/// const T: Duration = Duration::from_secs(5);
/// assert_eq!(probe.expect_msg(2, T)?, 2);
/// assert_eq!(probe.expect_next(T)?, 4);
/// probe.expect_no_msg(Duration::from_millis(10))?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Probe<M: Send + 'static> {
    addr: Addr<ProbeActor<M>>,
    recipient: Recipient<M>,
    inbox: Inbox<M>,
    down: Inbox<Terminated>,
}

/// The probe's actor: records messages and watch notices.
struct ProbeActor<M: Send + 'static> {
    feed: Feed<M>,
    down: Feed<Terminated>,
}

type WatchFn<M> = Box<dyn FnOnce(&mut Context<ProbeActor<M>>) + Send>;

enum Cmd<M: Send + 'static> {
    Msg(M),
    Watch(WatchFn<M>),
    Down(Terminated),
}

impl<M: Send + 'static> Actor for ProbeActor<M> {
    type Msg = Cmd<M>;
    fn handle(&mut self, ctx: &mut Context<Self>, cmd: Cmd<M>) -> Result<(), ActorError> {
        match cmd {
            Cmd::Msg(m) => self.feed.push(m),
            Cmd::Watch(watch) => watch(ctx),
            Cmd::Down(t) => self.down.push(t),
        }
        Ok(())
    }
}

impl<M: Send + 'static> Probe<M> {
    /// Spawns the probe's actor in `system`.
    ///
    /// # Errors
    /// As [`System::spawn`] (the system is shutting down).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{System, testkit::Probe};
    ///
    /// let system = System::new();
    /// let probe = Probe::<String>::new(&system)?;
    /// probe.recipient().tell("hello".to_string())?;
    /// assert_eq!(probe.expect_next(std::time::Duration::from_secs(5))?, "hello");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(system: &System) -> Result<Self, SpawnError> {
        let (feed, inbox) = queue();
        let (down_feed, down) = queue();
        // The factory's own feeds go with it (right after the spawn), so the
        // queues close when the actor does.
        let addr = system.spawn(move || ProbeActor {
            feed: feed.clone(),
            down: down_feed.clone(),
        })?;
        let recipient = addr.recipient_with(Cmd::Msg);
        Ok(Probe {
            addr,
            recipient,
            inbox,
            down,
        })
    }

    /// The address to give the actors under test.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # let system = System::new();
    /// let probe = Probe::<u8>::new(&system)?;
    /// let r = probe.recipient();
    /// assert_eq!(r.id(), probe.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recipient(&self) -> Recipient<M> {
        self.recipient.clone()
    }

    /// The id of the probe's actor.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # let system = System::new();
    /// let a = Probe::<u8>::new(&system)?;
    /// let b = Probe::<u8>::new(&system)?;
    /// assert_ne!(a.id(), b.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.addr.id()
    }

    /// The next message, whatever it is, within `within`.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`], or [`ExpectError::Closed`] if the probe
    /// stopped with nothing queued.
    ///
    /// # Examples
    ///
    /// A probe standing in for a service the actor under test asks:
    ///
    /// ```
    /// use playhouse::testkit::Probe;
    /// use playhouse::{Actor, ActorError, Context, Recipient, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Client {
    ///     service: Recipient<(u32, Reply<u32>)>,
    ///     out: Recipient<u32>,
    /// }
    /// impl Actor for Client {
    ///     type Msg = u32;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    ///         let out = self.out.clone();
    ///         ctx.ask(&self.service, |r| (n, r), Duration::from_secs(5), move |_, ctx, answer| {
    ///             let _ = ctx.send(&out, answer.unwrap_or(0));
    ///         })?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let service = Probe::<(u32, Reply<u32>)>::new(&system)?;
    /// let results = Probe::<u32>::new(&system)?;
    /// let (s, out) = (service.recipient(), results.recipient());
    /// let client = system.spawn(move || Client {
    ///     service: s.clone(),
    ///     out: out.clone(),
    /// })?;
    /// client.tell(20)?;
    /// let (n, reply) = service.expect_next(T)?;
    /// reply.send(n + 1).unwrap();
    /// assert_eq!(results.expect_next(T)?, 21);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_next(&self, within: Duration) -> Result<M, ExpectError<M>> {
        self.inbox
            .expect(within, || "a message".to_owned(), |_| true)
    }

    /// The next message, which must equal `expected`; it is returned.
    ///
    /// # Errors
    /// [`ExpectError::Unexpected`] with the message that came instead,
    /// [`ExpectError::Timeout`], or [`ExpectError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::new(&system)?;
    /// probe.recipient().tell("ping")?;
    /// assert_eq!(probe.expect_msg("ping", Duration::from_secs(5))?, "ping");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_msg(&self, expected: M, within: Duration) -> Result<M, ExpectError<M>>
    where
        M: PartialEq + fmt::Debug,
    {
        self.inbox
            .expect(within, || format!("{expected:?}"), |m| *m == expected)
    }

    /// Succeeds if no message arrives for `quiet`.
    ///
    /// This waits the whole of `quiet` on the wall clock; with a
    /// [`ManualClock`](super::ManualClock) prefer
    /// [`System::await_quiescent`] then a short `quiet`: once the system is
    /// quiescent, nothing more is on its way until the clock moves.
    ///
    /// # Errors
    /// [`ExpectError::Unexpected`] with the message that arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::<u8>::new(&system)?;
    /// probe.expect_no_msg(Duration::from_millis(5))?;
    /// probe.recipient().tell(1)?;
    /// assert!(probe.expect_no_msg(Duration::from_secs(5)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_no_msg(&self, quiet: Duration) -> Result<(), ExpectError<M>> {
        self.inbox.expect_none(quiet)
    }

    /// The next `n` messages, all within `within`, in arrival order.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`] (or [`ExpectError::Closed`]) with the
    /// messages that did arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::new(&system)?;
    /// for i in 0..3 {
    ///     probe.recipient().tell(i)?;
    /// }
    /// assert_eq!(probe.receive_n(3, Duration::from_secs(5))?, [0, 1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive_n(&self, n: usize, within: Duration) -> Result<Vec<M>, ExpectError<M>> {
        self.inbox.take_n(n, within)
    }

    /// Skips messages until one matches `pred`, and returns it; the skipped
    /// ones are dropped.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`] (or [`ExpectError::Closed`]) with the
    /// messages skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::new(&system)?;
    /// for i in 1..=5 {
    ///     probe.recipient().tell(i)?;
    /// }
    /// assert_eq!(probe.fish_for(Duration::from_secs(5), |n| n % 4 == 0)?, 4);
    /// assert_eq!(probe.expect_next(Duration::from_secs(5))?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fish_for(
        &self,
        within: Duration,
        pred: impl FnMut(&M) -> bool,
    ) -> Result<M, ExpectError<M>> {
        self.inbox.fish(
            within,
            || "a message matching the predicate".to_owned(),
            pred,
        )
    }

    /// The next message if one is queued, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # let system = System::new();
    /// let probe = Probe::<u8>::new(&system)?;
    /// assert_eq!(probe.try_next(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_next(&self) -> Option<M> {
        self.inbox.try_next()
    }

    /// How many messages have arrived and not been taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::Probe};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::new(&system)?;
    /// probe.recipient().tell(1u8)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert_eq!(probe.queued(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.inbox.len()
    }

    /// Watches `target`: when it stops for good, the probe records its
    /// [`Terminated`] notice, for [`Probe::expect_terminated`]. The notice
    /// comes even if it has already stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Probe;
    /// use playhouse::{Actor, ActorError, Context, ExitReason, System};
    /// use std::time::Duration;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let probe = Probe::<()>::new(&system)?;
    /// let worker = system.spawn(|| Worker)?;
    /// probe.watch(&worker);
    /// worker.stop();
    /// let t = probe.expect_terminated(&worker, Duration::from_secs(5))?;
    /// assert_eq!(t.reason, ExitReason::Normal);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch<N, T>(&self, target: &T)
    where
        T: Target<N> + Clone + Send + 'static,
    {
        let target = target.clone();
        let watch: WatchFn<M> = Box::new(move |ctx| ctx.watch_with(&target, Cmd::Down));
        if self.addr.tell(Cmd::Watch(watch)).is_err() {
            log::debug!("testkit: a stopped probe cannot watch");
        }
    }

    /// Expects the [`Terminated`] notice of `target`, watched with
    /// [`Probe::watch`].
    ///
    /// # Errors
    /// [`ExpectError::Unexpected`] with the notice of another watched actor,
    /// [`ExpectError::Timeout`], or [`ExpectError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::Probe;
    /// use playhouse::{Actor, ActorError, Context, ExitReason, System};
    /// use std::time::Duration;
    ///
    /// struct Fragile;
    /// impl Actor for Fragile {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         Err("broken".into())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let fragile = system.spawn(|| Fragile)?;
    /// let probe = Probe::<()>::new(&system)?;
    /// probe.watch(&fragile);
    /// fragile.tell(())?;
    /// let t = probe.expect_terminated(&fragile, Duration::from_secs(5))?;
    /// assert!(matches!(t.reason, ExitReason::Failed(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_terminated<N, T: Target<N>>(
        &self,
        target: &T,
        within: Duration,
    ) -> Result<Terminated, ExpectError<Terminated>> {
        let id = target.target_id();
        self.down
            .expect(within, || format!("actor #{id} to stop"), |t| t.id == id)
    }

    /// Stops the probe's actor; what it recorded can still be taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::{ExpectError, Probe}};
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::<u8>::new(&system)?;
    /// probe.stop();
    /// let err = probe.expect_next(Duration::from_secs(5)).unwrap_err();
    /// assert!(matches!(err, ExpectError::Closed { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&self) {
        self.addr.stop();
    }
}

impl<M: Send + 'static> Drop for Probe<M> {
    fn drop(&mut self) {
        self.addr.stop();
    }
}

impl<M: Send + 'static> fmt::Debug for Probe<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("id", &self.addr.id())
            .field("queued", &self.inbox.len())
            .finish_non_exhaustive()
    }
}
