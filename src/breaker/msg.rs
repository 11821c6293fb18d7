//! The messages of a breaker actor, what its service receives, and
//! [`BreakerAddr`], the calls on its address from plain threads.

use super::actor::CircuitBreaker;
use super::error::CallError;
use super::metrics::BreakerMetrics;
use crate::{Addr, AskError, Reply};
use std::fmt;
use std::time::Duration;

/// What the protected service receives: the request and the reply to answer
/// it with. Make it from any actor with
/// [`Addr::recipient_with`](crate::Addr::recipient_with).
///
/// # Examples
///
/// ```
/// use playhouse::breaker::{BreakerAddr, BreakerConfig, CircuitBreaker, ServiceRequest};
/// use playhouse::{Actor, ActorError, Context, System};
/// use std::time::Duration;
///
/// /// A service with its own message type; the breaker reaches it through a
/// /// recipient that wraps each call.
/// enum Msg {
///     Lookup(ServiceRequest<String, u32, String>),
///     Reload,
/// }
/// struct Directory;
/// impl Actor for Directory {
///     type Msg = Msg;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Lookup((name, reply)) => {
///                 let _ = reply.send(if name == "ada" { Ok(1) } else { Err(format!("no {name}")) });
///             }
///             Msg::Reload => {}
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let dir = system.spawn(|| Directory)?;
/// let config = BreakerConfig::builder().build()?;
/// let breaker = CircuitBreaker::builder(config, dir.recipient_with(Msg::Lookup)).spawn(&system)?;
/// assert_eq!(breaker.call("ada".to_string(), Duration::from_secs(5)), Ok(1));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ServiceRequest<Req, T, E> = (Req, Reply<Result<T, E>>);

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
pub struct BreakerMsg<Req, T: Send + 'static, E: Send + 'static>(pub(super) Inner<Req, T, E>);

pub(super) enum Inner<Req, T: Send + 'static, E: Send + 'static> {
    Call(Req, Reply<Result<T, CallError<E>>>),
    Metrics(Reply<BreakerMetrics>),
}

impl<Req, T: Send + 'static, E: Send + 'static> BreakerMsg<Req, T, E> {
    /// A call of the service with `request`, answered through `reply`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, BreakerMsg, CallError, CircuitBreaker};
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
    ///     .spawn(&system)?;
    /// // What `BreakerAddr::call` sends; from an actor, send it with `ctx.ask`.
    /// let answer = breaker.ask(|r| BreakerMsg::call(8, r), Duration::from_secs(5));
    /// assert_eq!(CallError::flatten(answer), Ok(4));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call(request: Req, reply: Reply<Result<T, CallError<E>>>) -> Self {
        BreakerMsg(Inner::Call(request, reply))
    }

    /// A request for the breaker's counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerConfig, BreakerMsg, CircuitBreaker, State};
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
    ///     .spawn(&system)?;
    /// let m = breaker.ask(BreakerMsg::metrics, Duration::from_secs(5))?;
    /// assert_eq!((m.state, m.calls), (State::Closed, 0));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

/// Calls through a breaker actor from a thread outside the pool (inside an
/// actor, ask with [`crate::Context::ask`] and [`BreakerMsg::call`]).
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
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// let halver = system.spawn(|| Halver)?;
/// let breaker = CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient())
///     .spawn(&system)?;
/// let caller = std::thread::spawn(move || breaker.call(10, T));
/// assert_eq!(caller.join().unwrap(), Ok(5));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait BreakerAddr<Req, T, E> {
    /// Calls the service through the breaker, waiting at most `timeout` for
    /// the answer (give it more than the call timeout).
    ///
    /// # Errors
    /// A [`CallError`]; [`CallError::Breaker`] when the ask of the breaker
    /// itself fails (including [`AskError::WouldBlockWorker`] on a pool worker).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker};
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
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let halver = system.spawn(|| Halver)?;
    /// let config = BreakerConfig::builder().max_failures(1).reset_timeout(Duration::from_secs(60)).build()?;
    /// let breaker = CircuitBreaker::builder(config, halver.recipient()).spawn(&system)?;
    /// assert_eq!(breaker.call(1, T), Err(CallError::Failed("1 is odd".to_string())));
    /// assert!(breaker.call(2, T).unwrap_err().is_rejected()); // open: Halver is not asked
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn call(&self, request: Req, timeout: Duration) -> Result<T, CallError<E>>;

    /// The breaker's counters.
    ///
    /// # Errors
    /// As [`Addr::ask`].
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
    /// const T: Duration = Duration::from_secs(5);
    /// let system = System::new();
    /// let halver = system.spawn(|| Halver)?;
    /// let breaker = CircuitBreaker::builder(BreakerConfig::builder().build()?, halver.recipient())
    ///     .spawn(&system)?;
    /// assert_eq!(breaker.call(4, T), Ok(2));
    /// assert_eq!(breaker.breaker_metrics(T)?.successes, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
