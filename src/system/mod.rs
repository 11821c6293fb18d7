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
//! - `mod.rs`: [`System`], [`SystemBuilder`], quiescence.
//! - `shutdown.rs`: shutdown's steps and its report.
//!
//! The state every actor shares, the registry, dead letters and the wait-for
//! graph are the runtime handle below the cell (`runtime/`); spawn options and
//! building a cell are `actor/spawn.rs`, shared with `Context::spawn_with`.

use crate::actor::Actor;
use crate::actor::addr::Addr;
use crate::actor::cell::{CellConfig, Start};
use crate::actor::spawn::SpawnOptions;
use crate::error::{BuildError, QuiescenceTimeout, ShutdownError, SpawnError, StuckActor};
use crate::pool::ThreadPool;
use crate::quiet::Quiet;
use crate::runtime::sim;
use crate::runtime::{
    AnyCell, Command, DeadLetter, DeadLetterHook, Registry, Shared, StopReason, WaitGraph,
};
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering, thread};
use crate::timer::{ManualClock, Timer};
use std::fmt;
use std::time::{Duration, Instant};

mod shutdown;

/// The default mailbox capacity: a bound, not an allocation.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1024;
/// The default number of messages an actor handles per turn before it yields.
pub const DEFAULT_THROUGHPUT: usize = 32;
/// The default time [`System::shutdown`] allows.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// System-wide counters, read with [`System::metrics`].
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
/// for n in 0..10 {
///     counter.tell(Msg::Add(n))?;
/// }
/// system.await_quiescent(t)?;
/// let metrics = system.metrics();
/// assert_eq!(metrics.actors_alive, 1);
/// assert_eq!(metrics.messages_handled, 10);
/// assert_eq!((metrics.dead_letters, metrics.failures, metrics.restarts), (0, 0, 0));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemMetrics {
    /// Actors spawned and not yet stopped.
    pub actors_alive: usize,
    /// User messages handled by all actors, counted at the end of each turn.
    /// A message whose handler failed counts too (it was taken and handled,
    /// unsuccessfully); it is also a dead letter and a handler failure.
    pub messages_handled: u64,
    /// Messages that went to dead letters.
    pub dead_letters: u64,
    /// Failures of actors: a handler, `started`, `on_child` or a continuation
    /// that panicked or returned `Err`, or a factory that panicked.
    pub failures: u64,
    /// Restarts: starts of a supervised actor after an earlier instance of
    /// it exited (by a [`crate::Supervisor`] or any parent using
    /// [`crate::Context::restart_child`]).
    pub restarts: u64,
    /// Tasks workers took from one another.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    ///
    /// let system = System::builder().workers(2).build()?;
    /// assert!(System::builder().workers(0).build().is_err());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// The default mailbox capacity (default [`DEFAULT_MAILBOX_CAPACITY`]).
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
    /// let system = System::builder().mailbox_capacity(16).build()?;
    /// let counter = system.spawn(|| Counter(0))?; // takes the system's default
    /// assert_eq!(counter.metrics().mailbox_capacity, 16);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The default throughput (default [`DEFAULT_THROUGHPUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    ///
    /// // Fewer messages per turn: fairer between actors, more scheduling work.
    /// let system = System::builder().throughput(4).build()?;
    /// let err = System::builder().throughput(0).build().unwrap_err();
    /// assert_eq!(err.setting(), Some("throughput"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.throughput = throughput;
        self
    }

    /// Names the threads: workers `{name}-worker-{i}`, timer `{name}-timer`,
    /// an actor's own thread `{name}-pin-{n}` (default `playhouse`).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// struct Where;
    /// impl Actor for Where {
    ///     type Msg = Reply<String>;
    ///     fn handle(&mut self, _: &mut Context<Self>, r: Reply<String>) -> Result<(), ActorError> {
    ///         let _ = r.send(std::thread::current().name().unwrap_or("").to_string());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::builder().name("billing").build()?;
    /// let here = system.spawn(|| Where)?;
    /// assert!(here.ask(|r| r, Duration::from_secs(5))?.starts_with("billing-worker-"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The time [`System::shutdown`] and dropping the system allow (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// let system = System::builder().shutdown_timeout(Duration::from_secs(2)).build()?;
    /// system.shutdown()?; // drains for up to two seconds
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Calls `hook` for every dead letter, on the thread that produced it (keep
    /// it short; it may run on a worker).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, DeadLetter, DeadLetterReason, SpawnOptions, System};
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// struct Picky;
    /// impl Actor for Picky {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    ///         if n == 0 { Err("zero".into()) } else { Ok(()) }
    ///     }
    /// }
    ///
    /// let letters = Arc::new(Mutex::new(Vec::<DeadLetter>::new()));
    /// let seen = Arc::clone(&letters);
    /// let system = System::builder()
    ///     .on_dead_letter(move |letter| seen.lock().unwrap().push(letter.clone()))
    ///     .build()?;
    /// let picky = system.spawn_with(SpawnOptions::new().name("picky"), || Picky)?;
    /// picky.tell(0)?; // fails: the message goes to dead letters
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let letters = letters.lock().unwrap().clone();
    /// assert_eq!(letters.len(), 1);
    /// assert_eq!(letters[0].recipient, "picky");
    /// assert_eq!(letters[0].reason, DeadLetterReason::HandlerFailed);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    ///
    /// let system = System::builder().workers(1).build()?;
    /// let err = System::builder().mailbox_capacity(0).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid configuration: mailbox capacity must be at least 1");
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(mut self) -> Result<System, BuildError> {
        crate::actor::cell::panic_hook::install();
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
        let timer = match self.clock.take() {
            Some(clock) => Timer::start_with_clock(timer_name, Arc::new(clock))?,
            None => Timer::start(timer_name)?,
        };
        Ok(self.assemble(pool, quiet, timer, None))
    }

    /// A system whose actors run only when a simulation steps them (see
    /// [`sim`]), scheduled by a generator seeded with `seed`. The clock is
    /// always manual: the one given to [`SystemBuilder::clock`], or a new one.
    ///
    /// # Errors
    /// Zero capacity or throughput.
    #[cfg(not(loom))]
    pub(crate) fn build_simulated(mut self, seed: u64) -> Result<System, BuildError> {
        crate::actor::cell::panic_hook::install();
        if self.capacity == 0 {
            return Err(BuildError::zero("mailbox capacity"));
        }
        if self.throughput == 0 {
            return Err(BuildError::zero("throughput"));
        }
        let quiet = Arc::new(Quiet::with_workers(1));
        let idle = Arc::clone(&quiet);
        let (pool, runner) = ThreadPool::builder()
            .thread_name_prefix(format!("{}-sim", self.name))
            .on_idle(move |worker| idle.worker_idle(worker))
            .build_simulated();
        let clock = self.clock.take().unwrap_or_default();
        let timer = Timer::inline(format!("{}-timer", self.name), clock.clone());
        let sim = sim::Sim::new(seed, runner, clock);
        Ok(self.assemble(pool, quiet, timer, Some(sim)))
    }

    /// The system around a built pool and timer.
    fn assemble(
        self,
        pool: ThreadPool,
        quiet: Arc<Quiet>,
        timer: Timer,
        sim: Option<sim::Sim>,
    ) -> System {
        let shared = Arc::new(Shared {
            pool: pool.handle(),
            timer,
            waits: WaitGraph::default(),
            registry: Mutex::new(Registry::default()),
            closing: AtomicBool::new(false),
            quiet,
            alive: AtomicUsize::new(0),
            dead_letters: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            dedicated_messages: AtomicU64::new(0),
            runners: Mutex::new(Vec::new()),
            prefix: self.name.clone(),
            on_dead_letter: self.on_dead_letter,
            capacity: self.capacity,
            throughput: self.throughput,
            sim,
        });
        System {
            shared,
            pool: Arc::new(pool),
            shutdown_timeout: self.shutdown_timeout,
            name: self.name,
            done: AtomicBool::new(false),
        }
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// let system = System::builder()
    ///     .workers(2)
    ///     .name("orders")
    ///     .shutdown_timeout(Duration::from_secs(1))
    ///     .build()?;
    /// assert_eq!(system.metrics().actors_alive, 0);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::System;
    ///
    /// let system = System::new(); // one worker per CPU, default mailboxes
    /// assert_eq!(system.metrics().actors_alive, 0);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// counter.tell(Msg::Add(1))?;
    /// assert_eq!(counter.ask(Msg::Total, t)?, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn<A: Actor>(
        &self,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Addr<A>, SpawnError> {
        // As `spawn_with(SpawnOptions::new(), factory)`, with nothing to check.
        self.spawn_root(None, self.shared.default_config(), factory)
    }

    /// Spawns a top-level actor with `options`. The factory runs as for
    /// [`System::spawn`]; a spawn refused for its name never runs it.
    ///
    /// # Errors
    /// [`SpawnError::SystemStopped`] once shutdown has begun,
    /// [`SpawnError::NameTaken`] for a name in use, [`SpawnError::Config`] for a
    /// zero capacity or throughput.
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
    /// use playhouse::SpawnError;
    ///
    /// let system = System::new();
    /// let options = SpawnOptions::new().name("totals").mailbox_capacity(100);
    /// let totals = system.spawn_with(options.clone(), || Counter(0))?;
    /// assert_eq!(totals.metrics().mailbox_capacity, 100);
    /// // One live actor per name.
    /// let again = system.spawn_with(options, || Counter(0));
    /// assert!(matches!(again, Err(SpawnError::NameTaken(name)) if name == "totals"));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_with<A: Actor>(
        &self,
        options: SpawnOptions,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Addr<A>, SpawnError> {
        if options.is_supervised() {
            // A top-level actor has no parent to report its exits to.
            return Err(BuildError::invalid("a top-level actor cannot be supervised").into());
        }
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
    /// system.spawn_with(SpawnOptions::new().name("totals"), || Counter(0))?;
    /// let totals = system.lookup::<Counter>("totals").expect("registered by the spawn");
    /// totals.tell(Msg::Add(3))?;
    /// assert_eq!(totals.ask(Msg::Total, t)?, 3);
    /// assert!(system.lookup::<Counter>("missing").is_none());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        Addr::registered(&self.shared, name)
    }

    /// The system's counters.
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
    /// counter.tell(Msg::Add(1))?;
    /// system.await_quiescent(t)?;
    /// assert_eq!(system.metrics().messages_handled, 1);
    /// assert_eq!(system.metrics().actors_alive, 1);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> SystemMetrics {
        let pool = self.pool.metrics();
        let s = &self.shared;
        // ORDERING: Relaxed loads; statistics.
        SystemMetrics {
            actors_alive: s.alive.load(Ordering::Relaxed),
            // ORDERING: Relaxed; a statistic.
            messages_handled: s.quiet.messages() + s.dedicated_messages.load(Ordering::Relaxed),
            dead_letters: s.dead_letters.load(Ordering::Relaxed),
            failures: s.failures.load(Ordering::Relaxed),
            restarts: s.restarts.load(Ordering::Relaxed),
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
    /// for n in 0..100 {
    ///     counter.tell(Msg::Add(n))?;
    /// }
    /// system.await_quiescent(t)?; // every message handled
    /// assert_eq!(counter.metrics().messages_handled, 100);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

#[cfg(not(loom))]
impl System {
    /// The simulation's scheduler, if this system is simulated.
    pub(crate) fn sim(&self) -> Option<&sim::Sim> {
        self.shared.sim.as_ref()
    }

    /// One step of the simulation (see `Sim::step`); `Idle` for a system
    /// that is not simulated.
    pub(crate) fn sim_step(&self, jump: sim::Jump) -> sim::Stepped {
        match &self.shared.sim {
            Some(sim) => sim.step(&self.shared, jump),
            None => sim::Stepped::Idle,
        }
    }
}
