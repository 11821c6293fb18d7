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

use super::builder::CircuitBreakerBuilder;
use super::config::BreakerConfig;
use super::error::CallError;
use super::events::{BreakerEvent, CallOutcome, Listeners, Transition};
use super::msg::{BreakerMsg, Inner, ServiceRequest};
use super::operation::{Operation, OperationRunner};
use super::state::{Permit, StateMachine, Verdict};
use crate::sync::Arc;
use crate::{Actor, ActorError, AskError, Context, Recipient, Reply, TimerHandle};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

pub(super) type IgnoreFn<E> = Arc<dyn Fn(&E) -> bool + Send + Sync>;
pub(super) type FailIfFn<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// Where the breaker's calls go.
pub(super) enum Source<Req: Send + 'static, T: Send + 'static, E: Send + 'static> {
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

/// Everything a breaker actor is built from; a factory clones it per instance.
pub(super) struct Settings<Req: Send + 'static, T: Send + 'static, E: Send + 'static> {
    pub(super) config: BreakerConfig,
    pub(super) source: Source<Req, T, E>,
    pub(super) ignore: Option<IgnoreFn<E>>,
    pub(super) fail_if: Option<FailIfFn<T>>,
    pub(super) listeners: Listeners,
    pub(super) publish: Option<Recipient<BreakerEvent>>,
    pub(super) publish_calls: bool,
}

impl<Req, T, E> Clone for Settings<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn clone(&self) -> Self {
        Settings {
            config: self.config.clone(),
            source: self.source.clone(),
            ignore: self.ignore.clone(),
            fail_if: self.fail_if.clone(),
            listeners: self.listeners.clone(),
            publish: self.publish.clone(),
            publish_calls: self.publish_calls,
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
    /// A closed breaker built from `s`.
    pub(super) fn new(s: Settings<Req, T, E>) -> Self {
        CircuitBreaker {
            machine: StateMachine::new(s.config),
            service: match &s.source {
                Source::Service(r) => Some(r.clone()),
                Source::Operation(_) => None,
            },
            source: s.source,
            ignore: s.ignore,
            fail_if: s.fail_if,
            listeners: s.listeners,
            publish: s.publish,
            publish_calls: s.publish_calls,
            pending: HashMap::new(),
            timed_out: HashMap::new(),
            next_id: 0,
        }
    }

    /// A builder for a breaker in front of `service`, an actor that answers
    /// each request with `Ok` or `Err`.
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
    /// let config = BreakerConfig::builder().call_timeout(Duration::from_secs(1)).build()?;
    /// let breaker = CircuitBreaker::builder(config, halver.recipient()).spawn(&system)?;
    /// assert_eq!(breaker.call(8, Duration::from_secs(5)), Ok(4));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
        let now = ctx.now();
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
        let recorded = self.machine.record(permit, Verdict::Failure, ctx.now());
        self.recorded(ctx, recorded.outcome, recorded.transition);
        let _ = reply.send(Err(err));
    }

    fn answered(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        answer: Result<Result<T, E>, AskError>,
    ) {
        let now = ctx.now();
        let Some(p) = self.pending.remove(&id) else {
            if let Some(started) = self.timed_out.remove(&id)
                && answer.is_ok()
            {
                let outcome = self
                    .machine
                    .record_late(now.saturating_duration_since(started));
                self.outcome(ctx, outcome);
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
        let recorded = self.machine.record(p.permit, Verdict::Timeout, ctx.now());
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
            let now = ctx.now();
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
        if let Some(to) = &self.publish
            && ctx.send(to, event).is_err()
        {
            log::debug!("circuit breaker event not published: its recipient has stopped");
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
