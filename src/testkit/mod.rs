//! Testing actors: probes, manual time, dead letters, waits, and model checking.
//!
//! # Testing actors with the kit
//!
//! A [`Probe`] is an actor that records what it receives. Give its
//! [`Probe::recipient`] to the actors under test where they expect a
//! collaborator, drive them from the test, and expect what they send:
//! [`Probe::expect_msg`], [`Probe::expect_next`], [`Probe::receive_n`],
//! [`Probe::fish_for`] (skip until a predicate matches),
//! [`Probe::expect_no_msg`]. Every wait is bounded and a failure is an
//! [`ExpectError`] that names what was expected and hands back what came
//! instead. [`Probe::watch`] and [`Probe::expect_terminated`] check that an
//! actor stops; [`await_stopped`], [`await_children`] and
//! [`await_children_running`] wait for the end of an actor and for a
//! supervisor's restarts. [`DeadLetters`] collects what could not be
//! delivered.
//!
//! Time is the usual source of slow and flaky actor tests. Build the system
//! with a [`ManualClock`] ([`SystemBuilder::clock`](crate::SystemBuilder::clock)):
//! delayed and periodic messages, ask timeouts, child shutdown timeouts and
//! restart backoff then move only when the test calls [`ManualClock::advance`].
//! After an advance, [`System::await_quiescent`](crate::System::await_quiescent)
//! returns once everything that came due has been delivered and handled, so
//! "not yet" and "now" are both exact:
//!
//! ```
//! use playhouse::testkit::{ManualClock, Probe};
//! use playhouse::{Actor, ActorError, Context, Recipient, System};
//! use std::time::Duration;
//!
//! /// Sends `tick` every second.
//! struct Metronome(Recipient<&'static str>);
//! impl Actor for Metronome {
//!     type Msg = ();
//!     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
//!         ctx.schedule_every(Duration::from_secs(1), || ())?;
//!         Ok(())
//!     }
//!     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
//!         self.0.tell("tick")?;
//!         Ok(())
//!     }
//! }
//!
//! const T: Duration = Duration::from_secs(5);
//! let clock = ManualClock::new();
//! let system = System::builder().clock(clock.clone()).build()?;
//! let probe = Probe::new(&system)?;
//! let out = probe.recipient();
//! system.spawn(move || Metronome(out.clone()))?;
//! system.await_quiescent(T)?; // `started` has armed the timer
//!
//! clock.advance(Duration::from_millis(999));
//! system.await_quiescent(T)?;
//! assert_eq!(probe.queued(), 0); // not yet
//! clock.advance(Duration::from_millis(1));
//! system.await_quiescent(T)?;
//! assert_eq!(probe.expect_next(T)?, "tick"); // now
//! system.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Deadlines are taken from the clock when a timer is armed: let the actors
//! arm theirs (`await_quiescent` after spawning) before advancing.
//! Actors that read the time themselves should read [`Context::now`](crate::Context::now),
//! which follows the system's clock.

mod dead_letters;
mod error;
mod inbox;
mod probe;
mod wait;

pub use crate::timer::ManualClock;
pub use dead_letters::DeadLetters;
pub use error::{ExpectError, WaitError};
pub use probe::Probe;
pub use wait::{await_children, await_children_running, await_stopped};
