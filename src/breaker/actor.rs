//! [`CircuitBreaker`]: the state machine as an actor in front of a service
//! actor (or a guarded operation), asked by callers from threads and actors.
//!
//! # Protocol (one call)
//! 1. A `Call` arrives. The machine admits it or rejects it; a rejection is
//!    answered at once and the service sees nothing.
//! 2. An admitted call gets an id, a `pending` entry holding the caller's
//!    reply, and a call timer (`Context::run_after(call_timeout)`). The
//!    service is asked with `Context::ask` and a deadline of the call timeout
//!    plus the late window, so an answer up to that late still reaches the
//!    breaker.
//! 3. Whichever of the answer and the call timer comes first takes the
//!    `pending` entry, records the verdict and answers the caller; the answer
//!    cancels the timer. The timer moves the call to `timed_out`, so an
//!    answer after it is recognised as late: counted and reported as
//!    [`Outcome::Late`](super::Outcome::Late), never given to the caller.
//!    The ask's own deadline ends the `timed_out` entry if no answer comes.
//!
//! Every entry of `pending` and `timed_out` is thus removed exactly once, and
//! every caller gets exactly one answer. An opening arms a reset timer tagged
//! with the machine's generation; a timer whose generation has passed does
//! nothing.

use super::config::BreakerConfig;
use super::error::CallError;
use super::events::{BreakerEvent, CallOutcome, Listeners, Transition};
use super::metrics::BreakerMetrics;
use super::operation::{Operation, OperationRunner};
use super::state::{Permit, StateMachine, Verdict};
use crate::sync::Arc;
use crate::{
    Actor, ActorError, Addr, AskError, Context, Recipient, Reply, SpawnError, SpawnOptions, System,
    TimerHandle,
};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

/// What the protected service receives: the request and the reply to answer
/// it with. Make it from any actor with
/// [`Addr::recipient_with`](crate::Addr::recipient_with).
pub type ServiceRequest<Req, T, E> = (Req, Reply<Result<T, E>>);

type IgnoreFn<E> = Arc<dyn Fn(&E) -> bool + Send + Sync>;
type FailIfFn<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// A message to a [`CircuitBreaker`]. From a plain thread use
/// [`BreakerAddr`]; from an actor, ask with [`crate::Context::ask`] and
/// [`BreakerMsg::call`], and flatten the answer with [`CallError::flatten`].
///
/// # Examples
///
/// An actor calling through a breaker; the answer comes back as a
/// continuation, so no worker ever blocks.
///
/// ```
/// use playhouse::breaker::{BreakerConfig, BreakerMsg, CallError, CircuitBreaker};
/// use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
/// use std::time::Duration;
///
/// struct Square;
/// impl Actor for Square {
///     type Msg = (u64, Reply<Result<u64, ()>>);
///     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
///         let _ = r.send(Ok(n * n));
///         Ok(())
///     }
/// }
///
/// enum Msg { Go(u64), Get(Reply<Option<Result<u64, CallError<()>>>>) }
/// struct Caller {
///     breaker: Addr<CircuitBreaker<u64, u64, ()>>,
///     last: Option<Result<u64, CallError<()>>>,
/// }
/// impl Actor for Caller {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Go(n) => ctx.ask(
///                 &self.breaker,
///                 |r| BreakerMsg::call(n, r),
///                 Duration::from_secs(5),
///                 |me: &mut Caller, _, answer| me.last = Some(CallError::flatten(answer)),
///             )?,
///             Msg::Get(r) => drop(r.send(self.last.clone())),
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let square = system.spawn(|| Square)?;
/// let breaker = CircuitBreaker::builder(BreakerConfig::builder().build()?, square.recipient())
///     .spawn(&system)?;
/// let caller = system.spawn(move || Caller { breaker: breaker.clone(), last: None })?;
/// caller.tell(Msg::Go(12))?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(caller.ask(Msg::Get, Duration::from_secs(5))?, Some(Ok(144)));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BreakerMsg<Req, T: Send + 'static, E: Send + 'static>(Inner<Req, T, E>);

enum Inner<Req, T: Send + 'static, E: Send + 'static> {
    Call(Req, Reply<Result<T, CallError<E>>>),
    Metrics(Reply<BreakerMetrics>),
}

impl<Req, T: Send + 'static, E: Send + 'static> BreakerMsg<Req, T, E> {
    /// A call of the service with `request`, answered through `reply`.
    pub fn call(request: Req, reply: Reply<Result<T, CallError<E>>>) -> Self {
        BreakerMsg(Inner::Call(request, reply))
    }

    /// A request for the breaker's counters.
    pub fn metrics(reply: Reply<BreakerMetrics>) -> Self {
        BreakerMsg(Inner::Metrics(reply))
    }
}

impl<Req, T: Send + 'static, E: Send + 'static> fmt::Debug for BreakerMsg<Req, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Call(..) => "BreakerMsg::Call(..)",
            Inner::Metrics(_) => "BreakerMsg::Metrics(..)",
        })
    }
}

/// Where the breaker's calls go.
enum Source<Req: Send + 'static, T: Send + 'static, E: Send + 'static> {
    Service(Recipient<ServiceRequest<Req, T, E>>),
    Operation(Operation<Req, T, E>),
}

impl<Req, T, E> Clone for Source<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn clone(&self) -> Self {
        match self {
            Source::Service(r) => Source::Service(r.clone()),
            Source::Operation(o) => Source::Operation(o.clone()),
        }
    }
}

struct Pending<T: Send + 'static, E: Send + 'static> {
    permit: Permit,
    reply: Reply<Result<T, CallError<E>>>,
    timer: TimerHandle,
}

/// A circuit breaker as an actor: callers ask it, it asks the protected
/// service (an actor behind a [`Recipient`], or an operation run on threads
/// of its own) with the call timeout, and answers with the service's answer
/// or a [`CallError`]. See the [module docs](super) for the rules.
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker};
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// /// Answers even numbers, fails odd ones.
/// struct Service;
/// impl Actor for Service {
///     type Msg = (u32, Reply<Result<u32, String>>);
///     fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
///         let _ = r.send(if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let service = system.spawn(|| Service)?;
/// let config = BreakerConfig::builder()
///     .max_failures(2)
///     .call_timeout(Duration::from_secs(1))
///     .reset_timeout(Duration::from_secs(60))
///     .build()?;
/// let breaker = CircuitBreaker::builder(config, service.recipient()).spawn(&system)?;
/// let t = Duration::from_secs(5);
/// assert_eq!(breaker.call(4, t), Ok(2));
/// assert_eq!(breaker.call(3, t), Err(CallError::Failed("3 is odd".to_string())));
/// assert_eq!(breaker.call(5, t), Err(CallError::Failed("5 is odd".to_string())));
/// // Two failures in a row: open, and the service is not called.
/// assert!(breaker.call(6, t).unwrap_err().is_rejected());
/// assert_eq!(breaker.breaker_metrics(t)?.rejections, 1);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CircuitBreaker<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    machine: StateMachine,
    source: Source<Req, T, E>,
    service: Option<Recipient<ServiceRequest<Req, T, E>>>,
    ignore: Option<IgnoreFn<E>>,
    fail_if: Option<FailIfFn<T>>,
    listeners: Listeners,
    publish: Option<Recipient<BreakerEvent>>,
    publish_calls: bool,
    pending: HashMap<u64, Pending<T, E>>,
    /// Calls answered with a timeout whose service ask is still open, with
    /// when they began.
    timed_out: HashMap<u64, Instant>,
    next_id: u64,
}

impl<Req, T, E> CircuitBreaker<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    /// A builder for a breaker in front of `service`, an actor that answers
    /// each request with `Ok` or `Err`.
    pub fn builder(
        config: BreakerConfig,
        service: Recipient<ServiceRequest<Req, T, E>>,
    ) -> CircuitBreakerBuilder<Req, T, E> {
        CircuitBreakerBuilder::new(config, Source::Service(service))
    }

    /// A builder for a breaker guarding `operation`, a blocking fallible
    /// function. It runs on the config's
    /// [`operation_threads`](super::BreakerConfigBuilder::operation_threads),
    /// threads owned by a child actor of the breaker, never on a pool worker,
    /// with up to four calls per thread queued for them; a call that finds the
    /// queue full fails at once as [`CallError::Unavailable`]. A hung call
    /// counts as a timeout at the call timeout and holds its thread until it
    /// returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let config = BreakerConfig::builder().operation_threads(1).build()?;
    /// let read = CircuitBreaker::guarding(config, |path: String| {
    ///     std::fs::metadata(&path).map(|m| m.len()).map_err(|e| e.kind())
    /// })
    /// .spawn(&system)?;
    /// let t = Duration::from_secs(15);
    /// assert!(read.call("Cargo.toml".to_string(), t).is_ok());
    /// assert!(matches!(read.call("no/such/file".to_string(), t), Err(CallError::Failed(_))));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guarding(
        config: BreakerConfig,
        operation: impl Fn(Req) -> Result<T, E> + Send + Sync + 'static,
    ) -> CircuitBreakerBuilder<Req, T, E> {
        let threads = config.operation_threads;
        CircuitBreakerBuilder::new(
            config,
            Source::Operation(Operation::new(threads, Arc::new(operation))),
        )
    }

    fn call(&mut self, ctx: &mut Context<Self>, req: Req, reply: Reply<Result<T, CallError<E>>>) {
        let now = Instant::now();
        let admission = self.machine.try_acquire(now);
        if let Some(t) = admission.transition {
            self.transition(ctx, t);
        }
        let permit = match admission.permit {
            Ok(p) => p,
            Err(r) => {
                let outcome = self.machine.rejection_outcome();
                self.outcome(ctx, outcome);
                let _ = reply.send(Err(CallError::Rejected(r)));
                return;
            }
        };
        if self.service.is_none() {
            self.finish_now(ctx, permit, reply, CallError::Unavailable(AskError::Closed));
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let timeout = self.machine.config().call_timeout();
        let late_window = self.machine.config().late_window();
        let timer = ctx.run_after(timeout, move |me: &mut Self, ctx| {
            me.time_out(ctx, id);
            Ok(())
        });
        self.pending.insert(
            id,
            Pending {
                permit,
                reply,
                timer,
            },
        );
        let service = self.service.as_ref().expect("checked above");
        let asked = ctx.ask(
            service,
            |r| (req, r),
            timeout.saturating_add(late_window),
            move |me: &mut Self, ctx, answer| me.answered(ctx, id, answer),
        );
        if let Err(e) = asked {
            self.answered(ctx, id, Err(e));
        }
    }

    /// Records a call that failed before reaching the service.
    fn finish_now(
        &mut self,
        ctx: &mut Context<Self>,
        permit: Permit,
        reply: Reply<Result<T, CallError<E>>>,
        err: CallError<E>,
    ) {
        let recorded = self
            .machine
            .record(permit, Verdict::Failure, Instant::now());
        self.recorded(ctx, recorded.outcome, recorded.transition);
        let _ = reply.send(Err(err));
    }

    fn answered(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        answer: Result<Result<T, E>, AskError>,
    ) {
        let now = Instant::now();
        let Some(p) = self.pending.remove(&id) else {
            if let Some(started) = self.timed_out.remove(&id) {
                if answer.is_ok() {
                    let outcome = self
                        .machine
                        .record_late(now.saturating_duration_since(started));
                    self.outcome(ctx, outcome);
                }
            }
            return;
        };
        p.timer.cancel();
        let (verdict, result) = match answer {
            Ok(Ok(v)) => {
                let failed = self.fail_if.as_ref().is_some_and(|f| f(&v));
                let verdict = if failed {
                    Verdict::Failure
                } else {
                    Verdict::Success
                };
                (verdict, Ok(v))
            }
            Ok(Err(e)) => {
                let ignored = self.ignore.as_ref().is_some_and(|f| f(&e));
                let verdict = if ignored {
                    Verdict::Ignored
                } else {
                    Verdict::Failure
                };
                (verdict, Err(CallError::Failed(e)))
            }
            Err(AskError::Timeout) => (Verdict::Timeout, Err(CallError::Timeout)),
            Err(e) => (Verdict::Failure, Err(CallError::Unavailable(e))),
        };
        let recorded = self.machine.record(p.permit, verdict, now);
        self.recorded(ctx, recorded.outcome, recorded.transition);
        let _ = p.reply.send(result);
    }

    fn time_out(&mut self, ctx: &mut Context<Self>, id: u64) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        self.timed_out.insert(id, p.permit.started());
        let recorded = self
            .machine
            .record(p.permit, Verdict::Timeout, Instant::now());
        self.recorded(ctx, recorded.outcome, recorded.transition);
        let _ = p.reply.send(Err(CallError::Timeout));
    }

    fn recorded(&mut self, ctx: &mut Context<Self>, outcome: CallOutcome, t: Option<Transition>) {
        self.outcome(ctx, outcome);
        if let Some(t) = t {
            self.transition(ctx, t);
        }
    }

    fn outcome(&mut self, ctx: &mut Context<Self>, outcome: CallOutcome) {
        self.listeners.outcome(&outcome);
        if self.publish_calls {
            self.publish(ctx, BreakerEvent::Call(outcome));
        }
    }

    fn transition(&mut self, ctx: &mut Context<Self>, t: Transition) {
        self.listeners.transition(&t);
        self.publish(ctx, BreakerEvent::Transition(t));
        if let Some(open_for) = t.open_for {
            self.arm_reset(ctx, open_for);
        }
    }

    /// Sets the timer that takes this opening to half-open.
    fn arm_reset(&mut self, ctx: &mut Context<Self>, delay: Duration) {
        let generation = self.machine.generation();
        ctx.run_after(delay, move |me: &mut Self, ctx| {
            if me.machine.generation() != generation {
                return Ok(());
            }
            let now = Instant::now();
            match me.machine.reset_due(now) {
                Some(t) => me.transition(ctx, t),
                // Not due by this clock yet (the timer's rounding): wait the rest.
                None => {
                    if let Some(until) = me.machine.open_until() {
                        let rest = until.saturating_duration_since(now);
                        me.arm_reset(ctx, rest);
                    }
                }
            }
            Ok(())
        });
    }

    fn publish(&mut self, ctx: &mut Context<Self>, event: BreakerEvent) {
        if let Some(to) = &self.publish {
            if ctx.send(to, event).is_err() {
                log::debug!("circuit breaker event not published: its recipient has stopped");
            }
        }
    }
}

impl<Req, T, E> Actor for CircuitBreaker<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    type Msg = BreakerMsg<Req, T, E>;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        if let Source::Operation(op) = &self.source {
            let op = op.clone();
            let runner = ctx.spawn(move || OperationRunner::new(op.clone()))?;
            self.service = Some(runner.recipient());
        }
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Msg) -> Result<(), ActorError> {
        match msg.0 {
            Inner::Call(req, reply) => self.call(ctx, req, reply),
            Inner::Metrics(reply) => {
                let _ = reply.send(self.machine.metrics());
            }
        }
        Ok(())
    }
}

impl<Req, T, E> fmt::Debug for CircuitBreaker<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("state", &self.machine.state())
            .field("pending", &self.pending.len())
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Builds a [`CircuitBreaker`]: how to classify answers, who hears about
/// transitions, and the actor's spawn options.
pub struct CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    config: BreakerConfig,
    source: Source<Req, T, E>,
    ignore: Option<IgnoreFn<E>>,
    fail_if: Option<FailIfFn<T>>,
    listeners: Listeners,
    publish: Option<Recipient<BreakerEvent>>,
    publish_calls: bool,
    options: SpawnOptions,
}

impl<Req, T, E> CircuitBreakerBuilder<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn new(config: BreakerConfig, source: Source<Req, T, E>) -> Self {
        CircuitBreakerBuilder {
            config,
            source,
            ignore: None,
            fail_if: None,
            listeners: Listeners::new(),
            publish: None,
            publish_calls: true,
            options: SpawnOptions::new(),
        }
    }

    /// Errors for which `ignore` is true count neither as failures nor as
    /// successes (the caller still gets them); an ignored probe frees its
    /// place for another.
    pub fn ignore_errors(mut self, ignore: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.ignore = Some(Arc::new(ignore));
        self
    }

    /// Success values for which `failed` is true count as failures (the caller
    /// still gets the value), as Akka's `defineFailureFn`.
    pub fn failure_if(mut self, failed: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.fail_if = Some(Arc::new(failed));
        self
    }

    /// Callbacks for transitions and call outcomes.
    pub fn listeners(mut self, listeners: Listeners) -> Self {
        self.listeners = listeners;
        self
    }

    /// Sends every [`BreakerEvent`] to `to`, for example an event bus's
    /// [`publisher`](crate::Addr::publisher), with the backpressure of
    /// [`crate::Context::send`].
    pub fn publish_to(mut self, to: Recipient<BreakerEvent>) -> Self {
        self.publish = Some(to);
        self
    }

    /// Whether call outcomes are published as well as transitions (default
    /// true).
    pub fn publish_calls(mut self, yes: bool) -> Self {
        self.publish_calls = yes;
        self
    }

    /// Registers the breaker under `name` (see [`System::lookup`]).
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
    pub fn factory(&self) -> impl Fn() -> CircuitBreaker<Req, T, E> + Send + Sync + 'static {
        let config = self.config.clone();
        let source = self.source.clone();
        let ignore = self.ignore.clone();
        let fail_if = self.fail_if.clone();
        let listeners = self.listeners.clone();
        let publish = self.publish.clone();
        let publish_calls = self.publish_calls;
        move || CircuitBreaker {
            machine: StateMachine::new(config.clone()),
            service: match &source {
                Source::Service(r) => Some(r.clone()),
                Source::Operation(_) => None,
            },
            source: source.clone(),
            ignore: ignore.clone(),
            fail_if: fail_if.clone(),
            listeners: listeners.clone(),
            publish: publish.clone(),
            publish_calls,
            pending: HashMap::new(),
            timed_out: HashMap::new(),
            next_id: 0,
        }
    }

    /// Spawns the breaker as a top-level actor (a guarded operation's threads
    /// are owned by a child of it, and stop with it).
    ///
    /// # Errors
    /// As [`System::spawn_with`].
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
            .field("config", &self.config)
            .field("listeners", &self.listeners)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Calls through a breaker actor from a thread outside the pool (inside an
/// actor, ask with [`crate::Context::ask`] and [`BreakerMsg::call`]).
pub trait BreakerAddr<Req, T, E> {
    /// Calls the service through the breaker, waiting at most `timeout` for
    /// the answer (give it more than the call timeout).
    ///
    /// # Errors
    /// A [`CallError`]; [`CallError::Breaker`] when the ask of the breaker
    /// itself fails (including [`AskError::WouldBlockWorker`] on a pool worker).
    fn call(&self, request: Req, timeout: Duration) -> Result<T, CallError<E>>;

    /// The breaker's counters.
    ///
    /// # Errors
    /// As [`Addr::ask`].
    fn breaker_metrics(&self, timeout: Duration) -> Result<BreakerMetrics, AskError>;
}

impl<Req, T, E> BreakerAddr<Req, T, E> for Addr<CircuitBreaker<Req, T, E>>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn call(&self, request: Req, timeout: Duration) -> Result<T, CallError<E>> {
        CallError::flatten(self.ask(|r| BreakerMsg::call(request, r), timeout))
    }

    fn breaker_metrics(&self, timeout: Duration) -> Result<BreakerMetrics, AskError> {
        self.ask(BreakerMsg::metrics, timeout)
    }
}
