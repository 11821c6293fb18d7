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
//! delayed and periodic messages, ask timeouts, child shutdown timeouts,
//! restart backoff and the circuit breaker's timeouts then move only when the
//! test calls [`ManualClock::advance`].
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
//!
//! # Simulating your actors under many seeds
//!
//! A [`Simulation`] is a [`System`](crate::System) whose actors all run on
//! the test's own thread, one turn per step, the next turn drawn from a
//! seeded generator, and so are the number of messages a turn takes (up to
//! the actor's throughput) and the moment a due timer fires among the ready
//! turns. Time is a [`ManualClock`] that jumps to the next deadline when
//! nothing else is ready. One program under one seed runs exactly the same
//! way every time; [`simulate`] runs a test under many seeds (thousands a
//! second for a few actors) and stops at the first that panics:
//!
//! ```
//! use playhouse::testkit::simulate;
//! use playhouse::{Actor, ActorError, Context, Reply};
//! use std::time::Duration;
//!
//! enum Msg { Add(u64), Get(Reply<u64>) }
//! struct Sum(u64);
//! impl Actor for Sum {
//!     type Msg = Msg;
//!     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
//!         match msg {
//!             Msg::Add(n) => self.0 += n,
//!             Msg::Get(r) => { let _ = r.send(self.0); }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let seeds = simulate(0..500, |sim| {
//!     let sum = sim.spawn(|| Sum(0)).unwrap();
//!     for n in 1..=4 {
//!         sum.tell(Msg::Add(n)).unwrap();
//!     }
//!     sim.run_until_idle();
//!     assert_eq!(sum.ask(Msg::Get, Duration::from_secs(1)).unwrap(), 10);
//! })?;
//! assert_eq!(seeds, 500);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The simulated system is the real runtime (mailboxes, suspension of a
//! sender on a full mailbox, asks, failures, supervisors and restarts, timers
//! and backoff); only the threads are gone. What needs a thread is refused:
//! a [`dedicated_thread`](crate::SpawnOptions::dedicated_thread) spawn fails
//! with [`SpawnError::NotSimulated`](crate::SpawnError::NotSimulated). A call
//! that would block the test thread runs the simulation until it can go on,
//! and fails with its error (an ask with
//! [`AskError::Stalled`](crate::AskError::Stalled)) rather than hang when
//! nothing is left to run. Probes work, but their waits are on wall time:
//! run the simulation ([`Simulation::run_until_idle`]) before expecting, and
//! expect with a zero timeout.
//!
//! **Simulation or loom?** Simulate first: it is fast, so it covers large
//! programs, long runs and thousands of orders of turns, timers and
//! batching, and finds ordering bugs between actors (a check-then-act across
//! an ask, a reply that comes after a timeout, a restart between two
//! messages). It does not interleave threads inside a turn: it cannot find
//! a race on memory shared outside messages (an `Arc<Mutex<_>>` between
//! actors, an atomic), nor bugs in what a dedicated thread does. Loom can,
//! for tiny programs, by trying every interleaving of the threads up to a
//! preemption bound; use it when correctness depends on such sharing.
//!
//! # Reading and replaying a failing seed
//!
//! A failure is a [`SimFailure`]: the seed, the panic's message, and the
//! last steps ([`TraceStep`]: which actor's turn ran, by id and name, and
//! how many messages it took; which timers fired at what simulated time).
//! Its `Display` prints all three and the replay line, for example
//!
//! ```text
//! simulation failed with seed 17: overdrawn: -20
//! replay it with PLAYHOUSE_SEED=17 (same test)
//! last 8 steps:
//!   #1 turn of actor 2: 1 message(s)
//!   #2 turn of actor 3: 1 message(s)
//!   #3 turn of actor 1: 2 message(s)
//!   ...
//! ```
//!
//! Run the same test with `PLAYHOUSE_SEED=17` in the environment ([`SEED_VAR`])
//! and [`simulate`] runs only that seed, exactly as it failed, as often as
//! you like while you add logging; or build `Simulation::new(17)` and step
//! it ([`Simulation::step`]) to look at the actors between turns. Name the
//! actors ([`SpawnOptions::name`](crate::SpawnOptions::name)) to read the
//! trace by name. A seed replays the same run only for the same program:
//! a change to the test or the actors (or to playhouse) may give the seed a
//! different order, so keep a seed that found a bug as a regression test of
//! its own only alongside the many-seed run.
//!
//! # Model checking your actors with loom
//!
//! A test thread, a probe and a timer cannot show a race that needs an
//! unlucky order of events; loom can. Under `--cfg loom` every lock, atomic
//! and thread of playhouse comes from loom, so a whole [`System`](crate::System)
//! can be built inside `loom::model` and loom runs it under every schedule of
//! its threads it explores. Build it small: **one worker** and a
//! [`ManualClock`] (loom does not model time, and a manual clock keeps the
//! timer thread asleep until the model advances it), spawn a few actors, tell
//! a few messages, [`await_quiescent`](crate::System::await_quiescent), then
//! assert on what the actors did, and shut the system down.
//!
//! `loom-tests/user_bank_transfer.rs` in the repository is a complete
//! example: two transfer actors each ask a bank for its balance and then
//! debit it (a check-then-act race). Loom finds the schedule in which both
//! answers come before either debit and the account is overdrawn; the fixed
//! protocol, one message that checks and debits, passes every schedule. Run it
//! with
//!
//! ```text
//! RUSTFLAGS="--cfg loom -C debug-assertions" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --test loom_user_bank_transfer
//! ```
//!
//! Limits, as that example (three actors, four user messages) shows them:
//!
//! - **Preemption bound 1.** The model's threads are the test thread, the
//!   worker and the timer thread, and between two of the user's messages
//!   the runtime makes dozens of loom-visible operations (mailbox words, run
//!   queues, the in-flight count, locks). With no preemption loom explores
//!   a few hundred schedules; with one, tens of thousands; with two, so many
//!   that the search does not end in useful time. So the
//!   example sets `preemption_bound = Some(1)` in its `loom::model::Builder`,
//!   overriding `LOOM_MAX_PREEMPTIONS`. The runtime's own protocols are
//!   checked with two preemptions by playhouse's models, so one is spent on
//!   your protocol, not on re-checking the runtime.
//! - **One worker.** A second worker multiplies the schedules, so that
//!   even the one-preemption search does not end in useful time. One
//!   worker still varies what matters to actors: where the worker is when
//!   other threads tell, spawn, or advance the clock, and so in what order
//!   messages from different senders meet in a mailbox.
//! - **Tiny models.** A handful of actors and messages; raise
//!   `max_branches` (the example uses 100,000) since one execution of a
//!   system is long.
//! - **No wall-clock waits.** Under loom a timed wait never times out: an
//!   expectation that nothing arrives, or one whose message never comes,
//!   is reported by loom as a deadlock. Wait for quiescence instead, and read
//!   results through a probe, an ask, or a plain atomic the actor writes.
//! - **No globals** that outlive an iteration (`static`s, lazily made
//!   singletons): each iteration must start from the same state.
//!
//! # Reading a failing loom run
//!
//! A model that fails panics with the assertion (or the actor failure it
//! caused). Loom explores depth first and stops at the first failing
//! schedule; rerun with `LOOM_LOG=1` to print that schedule's thread
//! switches, and with `LOOM_CHECKPOINT_FILE=file.json` to save it and replay
//! only it while you add logging (`log` output of the actors shows the
//! order their handlers ran in). Prove a fix by keeping the failing version
//! as a test that expects loom to find it, as the example does with
//! `std::panic::catch_unwind` around the model.

mod dead_letters;
mod error;
mod inbox;
mod probe;
#[cfg(not(loom))]
mod simulation;
mod wait;

#[cfg(loom)]
pub(crate) use inbox::{Feed, Inbox, queue};

pub use crate::timer::ManualClock;
pub use dead_letters::DeadLetters;
pub use error::{ExpectError, WaitError};
pub use probe::Probe;
#[cfg(not(loom))]
pub use simulation::{SEED_VAR, SimFailure, Simulation, TraceKind, TraceStep, simulate};
pub use wait::{await_children, await_children_running, await_stopped};
