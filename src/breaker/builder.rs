//! [`CircuitBreakerBuilder`]: how a breaker actor classifies answers, whom
//! it reports to, and its spawn options.

use super::actor::{CircuitBreaker, Settings, Source};
use super::config::BreakerConfig;
use super::events::{BreakerEvent, Listeners};
use crate::sync::Arc;
use crate::{Addr, Recipient, SpawnError, SpawnOptions, System};
use std::fmt;

/// Builds a [`CircuitBreaker`]: how to classify answers, who hears about
/// transitions, and the actor's spawn options.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker};
/// use playhouse::System;
/// use std::time::Duration;
/// # use playhouse::{Actor, ActorError, Context, Reply};
/// # /// Halves even numbers; an odd one is an error.
/// # struct Halver;
/// # impl Actor for Halver {
/// #     type Msg = (u32, Reply<Result<u32, String>>);
/// #     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
/// #         let _ = r.send(if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
/// #         Ok(())
/// #     }
/// # }
///
/// let system = System::new();
/// let halver = system.spawn(|| Halver)?;
/// let breaker = CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient())
///     .name("halver-breaker")
///     .mailbox_capacity(64)
///     .spawn(&system)?;
/// assert_eq!(breaker.call(6, Duration::from_secs(5)), Ok(3));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    settings: Settings<Req, T, E>,
    options: SpawnOptions,
}

impl<Req, T, E> CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    pub(super) fn new(config: BreakerConfig, source: Source<Req, T, E>) -> Self {
        CircuitBreakerBuilder {
            settings: Settings {
                config,
                source,
                ignore: None,
                fail_if: None,
                listeners: Listeners::new(),
                publish: None,
                publish_calls: true,
            },
            options: SpawnOptions::new(),
        }
    }

    /// Errors for which `ignore` is true count neither as failures nor as
    /// successes (the caller still gets them); an ignored probe frees its
    /// place for another.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, State};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let config = BreakerConfig::builder().max_failures(1).build()?;
    /// // A missing key is an answer, not a sign the store is down.
    /// let get = CircuitBreaker::guarding(config, |key: u32| if key < 10 { Ok(key) } else { Err("missing") })
    ///     .ignore_errors(|e| *e == "missing")
    ///     .spawn(&system)?;
    /// assert!(get.call(42, T).is_err());
    /// let m = get.breaker_metrics(T)?;
    /// assert_eq!((m.state, m.ignored, m.failures), (State::Closed, 1, 0));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ignore_errors(mut self, ignore: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.settings.ignore = Some(Arc::new(ignore));
        self
    }

    /// Success values for which `failed` is true count as failures (the caller
    /// still gets the value), as Akka's `defineFailureFn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, State};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let config = BreakerConfig::builder().max_failures(1).build()?;
    /// // An HTTP-like status: 503 arrives as a value, but it is a failure.
    /// let status = CircuitBreaker::guarding(config, |code: u16| Ok::<_, ()>(code))
    ///     .failure_if(|code| *code >= 500)
    ///     .spawn(&system)?;
    /// assert_eq!(status.call(503, T), Ok(503)); // the caller still gets the value
    /// assert_eq!(status.breaker_metrics(T)?.state, State::Open);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn failure_if(mut self, failed: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.settings.fail_if = Some(Arc::new(failed));
        self
    }

    /// Callbacks for transitions and call outcomes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, Listeners, State};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let config = BreakerConfig::builder().max_failures(1).build()?;
    /// let breaker = CircuitBreaker::guarding(config, |_: ()| Err::<(), _>("down"))
    ///     .listeners(Listeners::new().on_transition(move |t| drop(tx.send(t.to))))
    ///     .spawn(&system)?;
    /// let _ = breaker.call((), T);
    /// assert_eq!(rx.recv_timeout(T)?, State::Open);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listeners(mut self, listeners: Listeners) -> Self {
        self.settings.listeners = listeners;
        self
    }

    /// Sends every [`BreakerEvent`] to `to`, for example an event bus's
    /// [`publisher`](crate::bus::EventBusExt::publisher), with the backpressure of
    /// [`crate::Context::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, BreakerEvent, CircuitBreaker, Outcome};
    /// use playhouse::testkit::Probe;
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let events = Probe::new(&system)?;
    /// let breaker = CircuitBreaker::guarding(BreakerConfig::builder().build()?, |n: u32| Ok::<_, ()>(n))
    ///     .publish_to(events.recipient())
    ///     .spawn(&system)?;
    /// assert_eq!(breaker.call(1, T), Ok(1));
    /// assert!(matches!(events.expect_next(T)?, BreakerEvent::Call(c) if c.outcome == Outcome::Success));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publish_to(mut self, to: Recipient<BreakerEvent>) -> Self {
        self.settings.publish = Some(to);
        self
    }

    /// Whether call outcomes are published as well as transitions (default
    /// true).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker};
    /// use playhouse::testkit::Probe;
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let events = Probe::new(&system)?;
    /// let breaker = CircuitBreaker::guarding(BreakerConfig::builder().build()?, |n: u32| Ok::<_, ()>(n))
    ///     .publish_to(events.recipient())
    ///     .publish_calls(false)
    ///     .spawn(&system)?;
    /// assert_eq!(breaker.call(1, T), Ok(1)); // a success: no transition, nothing published
    /// system.await_quiescent(T)?;
    /// assert_eq!(events.queued(), 0);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publish_calls(mut self, yes: bool) -> Self {
        self.settings.publish_calls = yes;
        self
    }

    /// Registers the breaker under `name` (see [`System::lookup`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, CircuitBreaker};
    /// use playhouse::{Addr, System};
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # /// Halves even numbers; an odd one is an error.
    /// # struct Halver;
    /// # impl Actor for Halver {
    /// #     type Msg = (u32, Reply<Result<u32, String>>);
    /// #     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
    /// #         let _ = r.send(if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let halver = system.spawn(|| Halver)?;
    /// CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient())
    ///     .name("payments")
    ///     .spawn(&system)?;
    /// let found: Option<Addr<CircuitBreaker<u32, u32, String>>> = system.lookup("payments");
    /// assert!(found.is_some());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options = self.options.name(name);
        self
    }

    /// The breaker's mailbox capacity (at least 1; default the system's).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.options = self.options.mailbox_capacity(capacity);
        self
    }

    /// A factory of fresh breakers with these settings, for
    /// [`crate::ChildSpec::new`] or [`crate::Context::spawn`] (spawn options set
    /// on this builder do not apply there). Each breaker starts closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker};
    /// use playhouse::{Addr, ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context, Reply};
    /// # /// Halves even numbers; an odd one is an error.
    /// # struct Halver;
    /// # impl Actor for Halver {
    /// #     type Msg = (u32, Reply<Result<u32, String>>);
    /// #     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
    /// #         let _ = r.send(if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let halver = system.spawn(|| Halver)?;
    /// let factory = CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient()).factory();
    /// let sup = Supervisor::builder().child(ChildSpec::new("breaker", factory)).spawn(&system)?;
    /// let breaker: Addr<CircuitBreaker<u32, u32, String>> = sup.child("breaker").expect("started");
    /// assert_eq!(breaker.call(2, Duration::from_secs(5)), Ok(1));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn factory(&self) -> impl Fn() -> CircuitBreaker<Req, T, E> + Send + Sync + 'static {
        let settings = self.settings.clone();
        move || CircuitBreaker::new(settings.clone())
    }

    /// Spawns the breaker as a top-level actor (a guarded operation's threads
    /// are owned by a child of it, and stop with it).
    ///
    /// # Errors
    /// As [`System::spawn_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let breaker = CircuitBreaker::guarding(BreakerConfig::builder().build()?, |n: u64| Ok::<_, ()>(n + 1))
    ///     .spawn(&system)?;
    /// assert_eq!(breaker.call(41, Duration::from_secs(5)), Ok(42));
    /// system.shutdown()?; // the operation's threads stop with the breaker
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(self, system: &System) -> Result<Addr<CircuitBreaker<Req, T, E>>, SpawnError> {
        let factory = self.factory();
        system.spawn_with(self.options, factory)
    }
}

impl<Req, T, E> fmt::Debug for CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("config", &self.settings.config)
            .field("listeners", &self.settings.listeners)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
