//! [`System`]: owns the pool, the timer, the registry of actors and the dead letters.
//!
//! # Quiescence
//!
//! Every item in any mailbox (queued or parked) and every item being handled is
//! counted in flight (`quiet.rs` has the protocol and its memory ordering).
//! [`System::await_quiescent`] waits for that count to reach zero with the timer
//! idle.
//!
//! # Map
//!
//! - `mod.rs`: [`System`], [`SystemBuilder`], the state every actor shares, quiescence.
//! - `registry.rs`: the live actors, by slot and name.
//! - `dead_letter.rs`: [`DeadLetter`], its reason, and the hook.
//! - `wait_graph.rs`: which actors are suspended on which.
//! - `spawn.rs`: [`SpawnOptions`] and building an actor's cell.
//! - `shutdown.rs`: shutdown's steps and its report.

use crate::actor::Actor;
use crate::addr::Addr;
use crate::cell::{AnyCell, Cell, CellConfig, Command, Start, StopReason};
use crate::context::UNREGISTERED;
use crate::dedicated::DEDICATED;
use crate::error::{BuildError, QuiescenceTimeout, ShutdownError, SpawnError, StuckActor};
use crate::pool::{PoolHandle, ThreadPool};
use crate::quiet::Quiet;
use crate::supervisor::Supervisor;
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering, thread};
use crate::timer::{ManualClock, Timer};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

mod dead_letter;
mod registry;
mod shutdown;
mod spawn;
mod wait_graph;

use dead_letter::DeadLetterHook;
pub use dead_letter::{DeadLetter, DeadLetterReason};
use registry::Registry;
pub use spawn::SpawnOptions;
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub use wait_graph::WaitGraph;

/// The default mailbox capacity: a bound, not an allocation.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1024;
/// The default number of messages an actor handles per turn before it yields.
pub const DEFAULT_THROUGHPUT: usize = 32;
/// The default time [`System::shutdown`] allows.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The instant `d` from now; a duration too long to add (`Duration::MAX`)
/// means "never" and is clamped to a century.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(d.min(CENTURY)).unwrap_or(now)
}

/// System-wide counters, read with [`System::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemMetrics {
    /// Actors spawned and not yet stopped.
    pub actors_alive: usize,
    /// User messages handled by all actors.
    pub messages_handled: u64,
    /// Messages that went to dead letters.
    pub dead_letters: u64,
    /// Tasks workers took from one another.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
}

/// The most in-flight units a worker keeps between turns (see
/// `Shared::turn_done`).
const HELD_MAX: usize = 1024;
/// What a worker keeps when it holds more than [`HELD_MAX`]: a chunk of
/// credit for its next turn's sends.
const CREDIT_KEPT: usize = 32;

/// What every actor of a system shares.
///
/// Aligned to a cache line pair so that the `Arc`'s counts, which every
/// spawn increments, have their line to themselves: the fields behind them
/// are read by the workers on every turn, and a count on their line would
/// cost each spawn a cache miss.
#[repr(align(128))]
pub(crate) struct Shared {
    pub(crate) pool: PoolHandle,
    pub(crate) timer: Timer,
    pub(crate) waits: WaitGraph,
    registry: Mutex<Registry>,
    closing: AtomicBool,
    /// Shared with the pool, whose idle hook gives back the units a
    /// worker's turns hold (see `Shared::turn_done`).
    quiet: Arc<Quiet>,
    alive: AtomicUsize,
    dead_letters: AtomicU64,
    /// Dead letters of accepted messages whose actor stopped
    /// ([`DeadLetterReason::Stopped`]): what a shutdown reports as lost.
    lost: AtomicU64,
    /// User messages handled on dedicated threads (the pool counts the rest).
    dedicated_messages: AtomicU64,
    /// The dedicated threads started and not yet joined.
    pub(crate) runners: Mutex<Vec<crate::dedicated::Started>>,
    /// The threads' name prefix.
    prefix: String,
    on_dead_letter: Option<DeadLetterHook>,
    capacity: usize,
    throughput: usize,
}

impl Shared {
    pub(crate) fn is_closing(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `System::shutdown_timeout`;
        // a refused sender needs nothing else from the shutting-down thread, so
        // this is only about seeing the flag promptly, not about data.
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn work_added(&self, n: usize) {
        self.quiet.added(n);
    }

    pub(crate) fn work_done(&self, n: usize) {
        self.quiet.done(n);
    }

    /// The end of a turn on worker `worker`: its `n` units (its items and
    /// the credit its sends did not use) stay with the worker, as credit
    /// for its next turns, instead of being uncounted now. The worker gives
    /// them back when it runs out of work (the pool's idle hook), so the
    /// count stays above the work in flight and reaches zero only once every
    /// worker is out of work. A worker keeps at most [`HELD_MAX`]; the rest
    /// is uncounted at once, so the count is never high by much.
    #[inline]
    pub(crate) fn turn_done(&self, worker: usize, n: usize) {
        if worker == DEDICATED {
            // A dedicated thread has no next turn of other actors to lend
            // its units to.
            self.quiet.done(n);
            return;
        }
        if n > HELD_MAX {
            self.quiet.hold(worker, CREDIT_KEPT);
            self.quiet.done(n - CREDIT_KEPT);
        } else {
            self.quiet.hold(worker, n);
        }
    }

    /// The units worker `worker` holds from its earlier turns, for the
    /// credit of the turn starting on it.
    #[inline]
    pub(crate) fn turn_credit(&self, worker: usize) -> usize {
        if worker == DEDICATED {
            return 0;
        }
        self.quiet.take_held(worker)
    }

    /// Counts `n` user messages handled by a turn on `worker`.
    #[inline]
    pub(crate) fn count_messages(&self, worker: usize, n: u64) {
        if worker == DEDICATED {
            // ORDERING: Relaxed; a statistic.
            self.dedicated_messages.fetch_add(n, Ordering::Relaxed);
        } else {
            self.quiet.count_messages(worker, n);
        }
    }

    /// Whether the caller runs on one of this system's threads (a pool
    /// worker or a dedicated thread), where waiting for the system's own
    /// work would wait for the caller's own turn.
    pub(crate) fn on_own_thread(&self) -> bool {
        self.pool.is_own_worker() || crate::dedicated::is_runner_of(self)
    }

    /// The in-flight count, for a turn's [`Credit`](crate::quiet::Credit).
    pub(crate) fn quiet(&self) -> &Quiet {
        &self.quiet
    }

    pub(crate) fn actor_stopped(&self) {
        // ORDERING: AcqRel; the shutdown waiter reads it under `quiet`, which we
        // take below before notifying.
        if self.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.quiet.notify();
        }
    }

    /// Waits for quiescence until `deadline` (for ever when `None`).
    fn await_quiescent(&self, deadline: Option<Instant>) -> Result<(), QuiescenceTimeout> {
        self.quiet
            .wait_idle(deadline, || {
                // The timer is asked without the count's lock held: it may drop
                // cancelled entries, whose drops can reach `work_done`. And it
                // is asked first: a firing callback raises the count before it
                // stops counting as firing. The workers wake the waiter when
                // the count reaches zero; the timer does not, so while it is
                // busy (or has an entry due) the waiter looks again soon.
                let busy = self.timer.due_or_firing();
                let next = if busy {
                    Some(Instant::now() + Duration::from_millis(1))
                } else if self.timer.is_manual() {
                    // A manual deadline comes due only when the clock is
                    // advanced, not with wall time: no point looking then.
                    None
                } else {
                    self.timer
                        .next_deadline()
                        .map(|t| t + Duration::from_micros(100))
                };
                (busy, next)
            })
            .map_err(|in_flight| QuiescenceTimeout {
                in_flight,
                on_worker: false,
            })
    }
}

/// Builds a [`System`].
///
/// # Examples
///
/// ```
/// use playhouse::System;
///
/// let system = System::builder().workers(2).mailbox_capacity(64).throughput(16).build()?;
/// assert!(System::builder().workers(0).build().is_err());
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SystemBuilder {
    workers: Option<usize>,
    capacity: usize,
    throughput: usize,
    name: String,
    shutdown_timeout: Duration,
    on_dead_letter: Option<DeadLetterHook>,
    clock: Option<ManualClock>,
}

impl SystemBuilder {
    /// The number of worker threads (default: one per CPU).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// The default mailbox capacity (default [`DEFAULT_MAILBOX_CAPACITY`]).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The default throughput (default [`DEFAULT_THROUGHPUT`]).
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.throughput = throughput;
        self
    }

    /// Names the threads: workers `{name}-worker-{i}`, timer `{name}-timer`,
    /// an actor's own thread `{name}-pin-{n}` (default `playhouse`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The time [`System::shutdown`] and dropping the system allow (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Calls `hook` for every dead letter, on the thread that produced it (keep
    /// it short; it may run on a worker).
    pub fn on_dead_letter(mut self, hook: impl Fn(&DeadLetter) + Send + Sync + 'static) -> Self {
        self.on_dead_letter = Some(Box::new(hook));
        self
    }

    /// Reads time from `clock` instead of the operating system: delayed and
    /// periodic messages, ask timeouts (of [`crate::Addr::ask`] too), child
    /// shutdown timeouts, restart backoff and the circuit breaker's timeouts
    /// then move only when the clock is advanced. Blocking sends ([`crate::Addr::tell_timeout`]) and shutdown
    /// still wait on real time: they bound how long a thread is held.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::{ManualClock, Probe};
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::time::Duration;
    ///
    /// struct Alarm(playhouse::Recipient<&'static str>);
    /// impl Actor for Alarm {
    ///     type Msg = &'static str;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.schedule_once(Duration::from_secs(60), "ring");
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, m: &'static str) -> Result<(), ActorError> {
    ///         let _ = self.0.tell(m);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let probe = Probe::new(&system)?;
    /// let recipient = probe.recipient();
    /// system.spawn(move || Alarm(recipient.clone()))?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// probe.expect_no_msg(Duration::from_millis(10))?;
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(probe.expect_msg("ring", Duration::from_secs(5))?, "ring");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Starts the workers and the timer.
    ///
    /// # Errors
    /// Zero workers, capacity or throughput; a thread the OS refused to start.
    pub fn build(self) -> Result<System, BuildError> {
        if self.capacity == 0 {
            return Err(BuildError::zero("mailbox capacity"));
        }
        if self.throughput == 0 {
            return Err(BuildError::zero("throughput"));
        }
        let workers = self.workers.unwrap_or_else(crate::sync::num_cpus);
        let quiet = Arc::new(Quiet::with_workers(workers));
        let idle = Arc::clone(&quiet);
        let pool = ThreadPool::builder()
            .thread_name_prefix(format!("{}-worker", self.name))
            .threads(workers)
            .on_idle(move |worker| idle.worker_idle(worker))
            .build()?;
        let timer_name = format!("{}-timer", self.name);
        let timer = match self.clock {
            Some(clock) => Timer::start_with_clock(timer_name, Arc::new(clock))?,
            None => Timer::start(timer_name)?,
        };
        let shared = Arc::new(Shared {
            pool: pool.handle(),
            timer,
            waits: WaitGraph::default(),
            registry: Mutex::new(Registry::default()),
            closing: AtomicBool::new(false),
            quiet,
            alive: AtomicUsize::new(0),
            dead_letters: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            dedicated_messages: AtomicU64::new(0),
            runners: Mutex::new(Vec::new()),
            prefix: self.name.clone(),
            on_dead_letter: self.on_dead_letter,
            capacity: self.capacity,
            throughput: self.throughput,
        });
        Ok(System {
            shared,
            pool: Arc::new(pool),
            shutdown_timeout: self.shutdown_timeout,
            name: self.name,
            done: AtomicBool::new(false),
        })
    }
}

impl fmt::Debug for SystemBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemBuilder")
            .field("workers", &self.workers)
            .field("mailbox_capacity", &self.capacity)
            .field("throughput", &self.throughput)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An actor system: a pool of worker threads, a timer thread, and the actors.
///
/// Dropping it shuts it down (see [`System::shutdown_timeout`]); no thread of
/// the system outlives it, except a worker stuck in a handler that never
/// returns, which shutdown reports. Shut down (or dropped) inside one of its
/// own actors, which cannot wait for its own turn, it shuts down on a thread
/// of its own instead, and that thread outlives it until done.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, System};
/// use std::time::Duration;
///
/// struct Greeter;
/// impl Actor for Greeter {
///     type Msg = String;
///     fn handle(&mut self, _: &mut Context<Self>, name: String) -> Result<(), ActorError> {
///         println!("hello, {name}");
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let greeter = system.spawn(|| Greeter)?;
/// greeter.tell("world".to_string())?;
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(system.metrics().messages_handled, 1);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct System {
    shared: Arc<Shared>,
    /// Shared with a shutdown that runs on a thread of its own (see the
    /// module docs); dropped by whichever finishes last.
    pool: Arc<ThreadPool>,
    shutdown_timeout: Duration,
    /// The threads' name prefix, for the shutdown thread's name.
    name: String,
    done: AtomicBool,
}

impl System {
    /// A builder with the defaults.
    pub fn builder() -> SystemBuilder {
        SystemBuilder {
            workers: None,
            capacity: DEFAULT_MAILBOX_CAPACITY,
            throughput: DEFAULT_THROUGHPUT,
            name: "playhouse".into(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            on_dead_letter: None,
            clock: None,
        }
    }

    /// A system with the defaults: one worker per CPU.
    ///
    /// # Panics
    /// If the operating system refuses to start a thread (use
    /// [`System::builder`] to get that as an error).
    pub fn new() -> System {
        System::builder()
            .build()
            .expect("the operating system refused to start the system's threads")
    }

    /// Spawns a top-level actor built by `factory`, with default options.
    ///
    /// No supervisor restarts a top-level actor, so the factory runs once:
    /// for an unnamed actor on the calling thread, before this returns, for a
    /// named one on the actor's first turn; it is dropped right after. Either
    /// way `started` runs on the pool, and a factory that panics fails the
    /// actor (it stops as failed) rather than the spawn.
    ///
    /// Called from a thread outside the pool, the spawn stages the actor's
    /// first turn, and the workers take what outside threads have staged in
    /// one batch: when 16 starts are staged, when a worker is woken for the
    /// first of them or looks for work one last time before it sleeps, and
    /// every 61 tasks of a worker that never runs out of work. A thread
    /// spawning many actors thus pays for one hand-off per batch instead of
    /// one per actor. A lone spawn on an idle pool starts at once; on a busy
    /// one, after a worker's search (microseconds) or at worst 61 of its
    /// tasks. Messages told to the actor meanwhile wait in its mailbox, as
    /// they would behind any start still queued.
    ///
    /// # Errors
    /// [`SpawnError::SystemStopped`] once shutdown has begun.
    pub fn spawn<A: Actor>(
        &self,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Addr<A>, SpawnError> {
        self.spawn_with(SpawnOptions::new(), factory)
    }

    /// Spawns a top-level actor with `options`. The factory runs as for
    /// [`System::spawn`]; a spawn refused for its name never runs it.
    ///
    /// # Errors
    /// [`SpawnError::SystemStopped`] once shutdown has begun,
    /// [`SpawnError::NameTaken`] for a name in use, [`SpawnError::Config`] for a
    /// zero capacity or throughput.
    pub fn spawn_with<A: Actor>(
        &self,
        options: SpawnOptions,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Addr<A>, SpawnError> {
        let (name, config) = self.shared.cell_config(options)?;
        self.spawn_root(name, config, factory)
    }

    /// Builds and submits a top-level actor (registered by the spawn if named,
    /// else by its first turn).
    fn spawn_root<A: Actor>(
        &self,
        name: Option<String>,
        config: CellConfig,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Addr<A>, SpawnError> {
        let named = name.is_some();
        let cell = self
            .shared
            .spawn_cell(name, config, || Start::first(named, factory), None)?;
        cell.submit_first();
        Ok(Addr::from_cell(cell))
    }

    /// The running actor registered under `name`, if it is of type `A`.
    pub fn lookup<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        self.shared.lookup(name)
    }

    /// Spawns a top-level supervisor (its children stop newest first).
    pub(crate) fn spawn_supervisor(
        &self,
        name: Option<String>,
        factory: impl Fn() -> Supervisor + Send + Sync + 'static,
    ) -> Result<Addr<Supervisor>, SpawnError> {
        let (_, mut config) = self.shared.cell_config(SpawnOptions::new())?;
        config.ordered_stop = true;
        self.spawn_root(name, config, factory)
    }

    /// The system's counters.
    pub fn metrics(&self) -> SystemMetrics {
        let pool = self.pool.metrics();
        let s = &self.shared;
        // ORDERING: Relaxed loads; statistics.
        SystemMetrics {
            actors_alive: s.alive.load(Ordering::Relaxed),
            // ORDERING: Relaxed; a statistic.
            messages_handled: s.quiet.messages() + s.dedicated_messages.load(Ordering::Relaxed),
            dead_letters: s.dead_letters.load(Ordering::Relaxed),
            steals: pool.steals,
            parks: pool.parks,
        }
    }

    /// Waits until no actor has work: every mailbox is empty, no handler is
    /// running, and no timer is due. Useful in tests and for orderly exits.
    ///
    /// # Errors
    /// [`QuiescenceTimeout`] if work is still in flight after `timeout`; at
    /// once, without waiting, when called on one of this system's workers
    /// (from a handler or hook), whose own turn keeps the system busy
    /// ([`QuiescenceTimeout::called_from_worker`]).
    pub fn await_quiescent(&self, timeout: Duration) -> Result<(), QuiescenceTimeout> {
        if self.shared.on_own_thread() {
            let e = QuiescenceTimeout {
                in_flight: self.shared.quiet.count(),
                on_worker: true,
            };
            log::error!("{e}");
            return Err(e);
        }
        self.shared
            .await_quiescent(Instant::now().checked_add(timeout))
    }
}

impl Default for System {
    fn default() -> Self {
        System::new()
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}
