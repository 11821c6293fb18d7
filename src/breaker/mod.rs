//! Circuit breakers: fail fast instead of calling a dependency that is failing
//! or slow, and probe now and then to see whether it has recovered.
//!
//! # The pattern
//!
//! A breaker sits between callers and a dependency (a service actor, or a
//! blocking operation such as network or disk I/O) and keeps a state:
//!
//! ```text
//!             a trip rule fires                  the reset timeout passes
//!   Closed ─────────────────────▶ Open ───────────────────────────────▶ HalfOpen
//!     ▲                            ▲                                      │  │
//!     │                            └── a probe fails: open time x factor ─┘  │
//!     └──────────────────────────────── max_probes probes succeed ───────────┘
//! ```
//!
//! - **Closed:** calls pass. A failure is an error answer, a call slower than
//!   `call_timeout`, or a success value the failure predicate rejects; errors
//!   the ignore predicate accepts do not count. The breaker opens on
//!   `max_failures` consecutive failures (Akka) or on a failure-rate or
//!   slow-call-rate threshold over a count- or time-based window once it holds
//!   `minimum_calls` (resilience4j). A success resets the consecutive count.
//! - **Open:** calls fail at once with [`Rejected::Open`], which carries the
//!   time left; the dependency sees nothing. When the open time passes the
//!   breaker goes half-open: the actor by a timer, the inline breaker at the
//!   next call.
//! - **Half-open:** `max_probes` calls (default 1) go through, the others fail
//!   at once. All probes succeeding closes the breaker and resets the open
//!   time; a probe failing reopens it for the open time times
//!   `backoff_factor`, plus optional jitter, capped at `max_reset_timeout`.
//!
//! A call that timed out has been answered with [`CallError::Timeout`]; its
//! answer, if it comes later, is counted as [`Outcome::Late`] and never as a
//! success.
//!
//! # When to use it
//!
//! In front of anything whose failure is slow or expensive to discover: a
//! remote service, a database, a device. Failing fast frees the callers, sheds
//! load from the dependency while it recovers, and turns a cascade of
//! timeouts into one clear error. It does not retry; a caller that wants to
//! retry waits at least the `retry_after` of the rejection.
//!
//! # Three shapes, one state machine
//!
//! - [`CircuitBreaker::builder`]: an actor in front of a service actor's
//!   [`Recipient`](crate::Recipient). Callers ask it from plain threads
//!   ([`BreakerAddr::call`], blocking with a deadline) or from actors
//!   ([`crate::Context::ask`] with [`BreakerMsg::call`], answered as a
//!   continuation).
//! - [`CircuitBreaker::guarding`]: the same actor guarding a blocking
//!   closure, run on threads the breaker owns, so a hanging call never holds
//!   a pool worker.
//! - [`Breaker`]: the state machine behind a lock, for a call made inline on
//!   the caller's thread.
//!
//! All three wrap [`StateMachine`], which takes the time as an argument and
//! can be used (and tested) on its own.
//!
//! # Example
//!
//! A payment service that is down, then recovers, behind a breaker actor; a
//! [`ManualClock`](crate::testkit::ManualClock) moves the open time on.
//!
//! ```
//! use playhouse::breaker::{BreakerAddr, BreakerConfig, CallError, CircuitBreaker, ServiceRequest, State};
//! use playhouse::testkit::ManualClock;
//! use playhouse::{Actor, ActorError, Context, System};
//! use std::time::Duration;
//!
//! enum Msg { Pay(ServiceRequest<u64, String, String>), SetUp(bool) }
//! /// Answers payments with a receipt while it is up.
//! struct Payments { up: bool }
//! impl Actor for Payments {
//!     type Msg = Msg;
//!     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
//!         match msg {
//!             Msg::Pay((amount, reply)) => {
//!                 let _ = reply.send(if self.up { Ok(format!("paid {amount}")) } else { Err("down".into()) });
//!             }
//!             Msg::SetUp(up) => self.up = up,
//!         }
//!         Ok(())
//!     }
//! }
//!
//! const T: Duration = Duration::from_secs(5);
//! let clock = ManualClock::new();
//! let system = System::builder().clock(clock.clone()).build()?;
//! let payments = system.spawn(|| Payments { up: false })?;
//! let config = BreakerConfig::builder()
//!     .max_failures(2)
//!     .reset_timeout(Duration::from_secs(30))
//!     .build()?;
//! let breaker = CircuitBreaker::builder(config, payments.recipient_with(Msg::Pay)).spawn(&system)?;
//!
//! // Two failures in a row open the breaker ...
//! assert_eq!(breaker.call(10, T), Err(CallError::Failed("down".to_string())));
//! assert_eq!(breaker.call(20, T), Err(CallError::Failed("down".to_string())));
//! // ... and callers fail fast: the service is not asked.
//! assert!(breaker.call(30, T).unwrap_err().is_rejected());
//!
//! payments.tell(Msg::SetUp(true))?;
//! clock.advance(Duration::from_secs(30)); // the open time passes: half-open
//! system.await_quiescent(T)?;
//! assert_eq!(breaker.call(40, T), Ok("paid 40".to_string())); // the probe succeeds
//! assert_eq!(breaker.breaker_metrics(T)?.state, State::Closed);
//! system.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Observing
//!
//! [`Listeners`] hear every transition (with its [`Reason`]) and every call's
//! [`CallOutcome`]; the actor can also send them as [`BreakerEvent`]s to any
//! recipient, such as an [`EventBus`](crate::bus::EventBus) publisher.
//! [`BreakerMetrics`] counts calls, successes, failures, timeouts, rejections
//! and late answers, with the state and the window's rates.

mod actor;
mod builder;
mod config;
mod error;
mod events;
mod inline;
mod metrics;
mod msg;
mod operation;
mod state;
mod window;

pub use actor::CircuitBreaker;
pub use builder::CircuitBreakerBuilder;
pub use config::{BreakerConfig, BreakerConfigBuilder, ConfigError, Window};
pub use error::CallError;
pub use events::{BreakerEvent, CallOutcome, Listeners, Outcome, Reason, State, Transition};
pub use inline::Breaker;
pub use metrics::BreakerMetrics;
pub use msg::{BreakerAddr, BreakerMsg, ServiceRequest};
pub use state::{Admission, Permit, Recorded, Rejected, StateMachine, Verdict};
