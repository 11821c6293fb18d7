//! [`System`]: owns the pool, the timer, the registry of actors and the dead letters.
//!
//! # Quiescence
//!
//! Every item in any mailbox (queued or parked) and every item being handled is
//! counted in flight (`quiet.rs` has the protocol and its memory ordering).
//! [`System::await_quiescent`] waits for that count to reach zero with the timer
//! idle.
//!
//! # Shutdown
//!
//! 1. Intake stops: spawns and sends from outside the pool are refused, timer
//!    messages go to dead letters; actors go on talking to each other.
//! 2. The system waits (within the timeout) for quiescence: queued work drains.
//! 3. Every root actor is asked to stop; trees stop leaves first (see
//!    `cell.rs`). The system waits (within the timeout) for the last actor.
//! 4. The timer thread stops and is joined, then the pool's workers.
//!
//! An actor still running when the time is up is reported in the error, with its
//! worker, which is left detached: Rust cannot stop a thread.
//!
//! Shutdown called on one of the system's own workers (a handler calling
//! `shutdown`, or dropping the last share of the `System`) cannot wait there:
//! the caller's own turn is in flight, so step 2 would never finish and the
//! worker could not be joined. On a worker of another system it must not
//! block that worker, which a draining actor may even be waiting on. Either
//! way the same steps then run on a thread of their own, and the call
//! returns at once.

use crate::actor::Actor;
use crate::addr::Addr;
use crate::cell::{AnyCell, Cell, CellConfig, Command, Start, StopReason};
use crate::context::UNREGISTERED;
use crate::error::{BuildError, QuiescenceTimeout, ShutdownError, SpawnError, StuckActor};
use crate::pool::{PoolHandle, ThreadPool};
use crate::quiet::Quiet;
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering, thread};
use crate::timer::Timer;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

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

/// How long a shutdown past its deadline still waits for idle workers to exit.
const WORKER_EXIT_GRACE: Duration = Duration::from_secs(2);

/// Why a message went to dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The actor stopped (or was stopping) with the message queued.
    Stopped,
    /// The asker had stopped waiting before the request was handled.
    AskerGone,
    /// The handler failed while handling this message.
    HandlerFailed,
    /// A timer message found the mailbox full.
    MailboxFull,
    /// A timer message fired while the system was shutting down.
    Shutdown,
    /// An actor shed it by policy (for example an event bus subscriber's
    /// overflow policy), reported with [`crate::Context::dead_letter`].
    Shed,
}

/// A record of a message that could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The intended actor (its name, or `#id`).
    pub recipient: String,
    /// The Rust type of the message.
    pub message_type: &'static str,
    /// Why it was not handled.
    pub reason: DeadLetterReason,
}

/// System-wide counters, read with [`System::metrics`].
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

type DeadLetterHook = Box<dyn Fn(&DeadLetter) + Send + Sync>;

/// A fresh actor id, unique in the process (not only in its system), so that
/// sends between systems never mistake one actor for another.
fn next_actor_id() -> u64 {
    crate::sync::process_unique_id()
}

/// Which actors are suspended on which: an edge `a -> b` for each send of `a`
/// parked on `b`'s full mailbox.
///
/// A suspended actor takes no messages, so a cycle of actors each parked on the
/// next would never drain. Before a send parks, [`WaitGraph::try_wait`] looks
/// for a path from the target back to the sender; if there is one, the send goes
/// in over capacity instead. Checking and adding under one lock means that of
/// two actors closing a cycle at once, the second sees the first's edge. Only
/// the parking path (a full mailbox) and the resume path take this lock.
#[derive(Default, Debug)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct WaitGraph {
    edges: Mutex<HashMap<u64, Vec<u64>>>,
}

#[allow(unreachable_pub)]
impl WaitGraph {
    /// Records that `waiter` parks a send on `target`, unless `target` already
    /// waits (directly or through others) for `waiter`: then returns `false`
    /// and records nothing.
    pub fn try_wait(&self, waiter: u64, target: u64) -> bool {
        let mut edges = self.edges.lock();
        let mut stack = vec![target];
        let mut seen = std::collections::HashSet::new();
        while let Some(node) = stack.pop() {
            if node == waiter {
                return false;
            }
            if seen.insert(node)
                && let Some(next) = edges.get(&node)
            {
                stack.extend(next.iter().copied());
            }
        }
        edges.entry(waiter).or_default().push(target);
        true
    }

    /// Removes one edge `waiter -> target` (its parked send moved in or was
    /// dropped).
    pub fn done(&self, waiter: u64, target: u64) {
        let mut edges = self.edges.lock();
        if let Some(targets) = edges.get_mut(&waiter) {
            if let Some(i) = targets.iter().position(|t| *t == target) {
                targets.swap_remove(i);
            }
            if targets.is_empty() {
                edges.remove(&waiter);
            }
        }
    }
}

/// The live actors of a system. Each actor is kept at its own slot (its
/// index in `slots`, stored in its cell), so registering and unregistering
/// neither hash nor rehash; freed slots are reused before the table grows. A named actor is registered by its spawn, an unnamed one by
/// its first turn (see `Shared::spawn_cell`).
#[derive(Default)]
struct Registry {
    slots: Vec<Option<Arc<dyn AnyCell>>>,
    /// Slots freed by stopped actors.
    free: Vec<u32>,
    /// The slot of each named actor.
    names: HashMap<Arc<str>, u32>,
    /// Shutdown has taken the list of actors to stop: named spawns are
    /// refused, and actors registering now stop on their own.
    sealed: bool,
}

impl Registry {
    /// A slot for an actor about to be built, left empty for the caller to
    /// store the cell in.
    fn take_slot(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 live actors");
        self.slots.push(None);
        slot
    }

    fn cells(&self) -> impl Iterator<Item = &Arc<dyn AnyCell>> {
        self.slots.iter().flatten()
    }
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
    /// Shared with the pool, whose workers give back through it the units
    /// their turns hold (see `Shared::turn_done`).
    quiet: Arc<Quiet>,
    alive: AtomicUsize,
    dead_letters: AtomicU64,
    failures: AtomicU64,
    restarts: AtomicU64,
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
    /// them back when it runs out of work (the pool's release hook), so the
    /// count stays above the work in flight and reaches zero only once every
    /// worker is out of work. A worker keeps at most [`HELD_MAX`]; the rest
    /// is uncounted at once, so the count is never high by much.
    #[inline]
    pub(crate) fn turn_done(&self, worker: usize, n: usize) {
        if n > HELD_MAX {
            self.pool.hold(worker, CREDIT_KEPT);
            self.quiet.done(n - CREDIT_KEPT);
        } else {
            self.pool.hold(worker, n);
        }
    }

    /// The units worker `worker` holds from its earlier turns, for the
    /// credit of the turn starting on it.
    #[inline]
    pub(crate) fn turn_credit(&self, worker: usize) -> usize {
        self.pool.take_held(worker)
    }

    /// The in-flight count, for a turn's [`Credit`](crate::quiet::Credit).
    pub(crate) fn quiet(&self) -> &Quiet {
        &self.quiet
    }

    /// Counts an actor's failure (only on the failure path).
    pub(crate) fn count_failure(&self) {
        // ORDERING: Relaxed; a statistic.
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a restart of a supervised actor (only on the restart path).
    pub(crate) fn count_restart(&self) {
        // ORDERING: Relaxed; a statistic.
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dead_letter<M>(&self, recipient: &str, reason: DeadLetterReason) {
        // ORDERING: Relaxed; a statistic.
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
        let letter = DeadLetter {
            recipient: recipient.to_string(),
            message_type: std::any::type_name::<M>(),
            reason,
        };
        log::debug!(
            "dead letter for {}: {} ({:?})",
            letter.recipient,
            letter.message_type,
            letter.reason
        );
        if let Some(hook) = &self.on_dead_letter {
            // The hook is user code on a runtime path: a panic in it must not
            // unwind through a worker's turn.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&letter))).is_err() {
                log::error!("the dead-letter hook panicked");
            }
        }
    }

    /// Checks spawn options against the system's defaults.
    pub(crate) fn cell_config(
        &self,
        options: SpawnOptions,
    ) -> Result<(Option<String>, CellConfig), SpawnError> {
        let capacity = options.capacity.unwrap_or(self.capacity);
        let throughput = options.throughput.unwrap_or(self.throughput);
        if capacity == 0 {
            return Err(BuildError::zero("mailbox capacity").into());
        }
        if throughput == 0 {
            return Err(BuildError::zero("throughput").into());
        }
        let config = CellConfig {
            capacity,
            throughput,
            supervised: options.supervised,
            ordered_stop: options.ordered_stop,
            shutdown_timeout: options.shutdown_timeout,
        };
        Ok((options.name, config))
    }

    /// Builds a cell; the caller submits it to the pool.
    ///
    /// A named cell is registered here, since a taken name must refuse the
    /// spawn. An unnamed one is registered by its first turn, on a worker
    /// ([`Shared::register`]): the registry's lock, slot and reference then
    /// cost the spawning thread nothing, which is what bounds the rate of a
    /// thread spawning many actors (about an eighth of its time per spawn,
    /// measured by leaving registration out). Until then the actor is counted
    /// alive and its start in flight, so shutdown, which waits for quiescence
    /// before it looks at the registry, finds it registered; one that
    /// registers after shutdown has looked is stopped by its first turn.
    pub(crate) fn spawn_cell<A: Actor>(
        self: &Arc<Self>,
        name: Option<String>,
        config: CellConfig,
        start: impl FnOnce() -> Start<A>,
        parent: Option<Arc<dyn AnyCell>>,
    ) -> Result<Arc<Cell<A>>, SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::SystemStopped);
        }
        // User code (a factory) runs here, before the registry is locked.
        let start = start();
        let id = next_actor_id();
        let cell = match name.map(Arc::<str>::from) {
            None => Cell::new(self.clone(), id, UNREGISTERED, None, config, start, parent),
            Some(n) => {
                let mut reg = self.registry.lock();
                if reg.sealed {
                    return Err(SpawnError::SystemStopped);
                }
                if reg.names.contains_key(&n) {
                    return Err(SpawnError::NameTaken(n.to_string()));
                }
                let slot = reg.take_slot();
                let cell = Cell::new(
                    self.clone(),
                    id,
                    slot,
                    Some(n.clone()),
                    config,
                    start,
                    parent,
                );
                reg.names.insert(n, slot);
                reg.slots[slot as usize] = Some(cell.clone());
                cell
            }
        };
        // ORDERING: Relaxed; read under `quiet` or as a statistic; the decrement
        // in `actor_stopped` is ordered after this by the actor's own start.
        self.alive.fetch_add(1, Ordering::Relaxed);
        Ok(cell)
    }

    /// Seals the registry and asks every root actor to stop (shutdown step 3):
    /// an actor registering after this stops itself (see `register`).
    fn stop_roots(&self) {
        let roots: Vec<Arc<dyn AnyCell>> = {
            let mut reg = self.registry.lock();
            reg.sealed = true;
            reg.cells().filter(|c| c.is_root()).cloned().collect()
        };
        for root in roots {
            root.command(Command::Stop(StopReason::Shutdown));
        }
    }

    /// Registers an unnamed actor on its first turn. Returns its slot, and
    /// whether shutdown has already taken its list of actors to stop (the
    /// caller must then stop the actor itself).
    pub(crate) fn register(&self, cell: Arc<dyn AnyCell>) -> (u32, bool) {
        let mut reg = self.registry.lock();
        let slot = reg.take_slot();
        reg.slots[slot as usize] = Some(cell);
        (slot, reg.sealed)
    }

    /// The running actor registered under `name`, if it is of type `A`.
    pub(crate) fn lookup<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        let reg = self.registry.lock();
        let slot = *reg.names.get(name)?;
        let cell = reg.slots[slot as usize].clone()?;
        drop(reg);
        cell.into_any()
            .downcast::<Cell<A>>()
            .ok()
            .map(Addr::from_cell)
    }

    /// Removes the actor at `slot` (once, when it stops for good) and its name.
    pub(crate) fn unregister(&self, slot: u32, name: Option<&str>) {
        let mut reg = self.registry.lock();
        let gone = reg.slots[slot as usize].take();
        debug_assert!(gone.is_some(), "an actor unregistered twice");
        reg.free.push(slot);
        if let Some(n) = name
            && reg.names.get(n) == Some(&slot)
        {
            reg.names.remove(n);
        }
        // The cell's last reference may not be this one, but if it were, its
        // drop (user values) must not run under the lock.
        drop(reg);
        drop(gone);
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

    fn await_all_stopped(&self, deadline: Option<Instant>) -> bool {
        // ORDERING: Acquire pairs with the AcqRel decrement in actor_stopped,
        // which notifies under the same lock this is checked under.
        self.quiet
            .wait_for(deadline, || self.alive.load(Ordering::Acquire) == 0)
    }
}

/// Options for one actor: name, mailbox capacity, throughput.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// let sink = system
///     .spawn_with(SpawnOptions::new().name("sink").mailbox_capacity(16).throughput(8), || Sink)
///     .unwrap();
/// assert_eq!(system.lookup::<Sink>("sink"), Some(sink));
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    name: Option<String>,
    capacity: Option<usize>,
    throughput: Option<usize>,
    supervised: bool,
    ordered_stop: bool,
    shutdown_timeout: Option<Duration>,
}

impl SpawnOptions {
    /// The system's defaults.
    pub fn new() -> Self {
        SpawnOptions::default()
    }

    /// Registers the actor under `name` (see [`System::lookup`]).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The most user messages its mailbox holds (at least 1; at most
    /// 2^24 - 1, larger values are clamped).
    ///
    /// The actor gives places back to its senders in batches of a
    /// thirty-second of the capacity, so with a capacity of 64 or more a
    /// sender may find the mailbox full up to that many messages early, even
    /// while the actor is idle. A sender never waits on a mailbox with
    /// nothing queued.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The most messages it handles per turn before letting other actors run
    /// (at least 1).
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.throughput = Some(throughput);
        self
    }

    /// Links the child to its parent as a supervised child (children only,
    /// see [`crate::Context::spawn_with`]): when an instance ends (a failure,
    /// a `stop`) the child keeps its mailbox and address, reports
    /// [`crate::ChildEvent::Exited`] to its parent's
    /// [`crate::Actor::on_child`], and waits for the parent to restart it
    /// with a fresh instance from its factory, or to stop it. It also
    /// reports each successful start.
    ///
    /// See [`crate::Actor::on_child`] for an example.
    pub fn supervised(mut self) -> Self {
        self.supervised = true;
        self
    }

    /// When the actor stops (or halts), its children stop one at a time,
    /// newest first, each after the previous one has stopped (OTP's
    /// supervisor shutdown order), instead of all at once.
    pub fn ordered_stop(mut self) -> Self {
        self.ordered_stop = true;
        self
    }

    /// How long its parent, when the parent stops, waits for this actor to
    /// stop before abandoning it with an error log (default: as long as it
    /// takes). Children only.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
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

    /// Names the threads: workers `{name}-worker-{i}`, timer `{name}-timer`
    /// (default `playhouse`).
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

    /// Starts the workers and the timer.
    ///
    /// # Errors
    /// Zero workers, capacity or throughput; a thread the OS refused to start.
    pub fn build(self) -> Result<System, BuildError> {
        crate::panic_hook::install();
        if self.capacity == 0 {
            return Err(BuildError::zero("mailbox capacity"));
        }
        if self.throughput == 0 {
            return Err(BuildError::zero("throughput"));
        }
        let mut pool = ThreadPool::builder().thread_name_prefix(format!("{}-worker", self.name));
        if let Some(n) = self.workers {
            pool = pool.threads(n);
        }
        let quiet = Arc::new(Quiet::new());
        let released = Arc::clone(&quiet);
        let pool = pool.on_release(move |n| released.done(n)).build()?;
        let timer = Timer::start(format!("{}-timer", self.name))?;
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
        if options.supervised {
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
    pub fn lookup<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        self.shared.lookup(name)
    }

    /// The system's counters.
    pub fn metrics(&self) -> SystemMetrics {
        let pool = self.pool.metrics();
        let s = &self.shared;
        // ORDERING: Relaxed loads; statistics.
        SystemMetrics {
            actors_alive: s.alive.load(Ordering::Relaxed),
            messages_handled: s.pool.messages(),
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
    pub fn await_quiescent(&self, timeout: Duration) -> Result<(), QuiescenceTimeout> {
        if self.shared.pool.is_own_worker() {
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

    /// Shuts down within the configured timeout (see
    /// [`System::shutdown_timeout`]).
    ///
    /// # Errors
    /// As [`System::shutdown_timeout`].
    pub fn shutdown(self) -> Result<(), ShutdownError> {
        let timeout = self.shutdown_timeout;
        self.shutdown_timeout(timeout)
    }

    /// Stops intake, lets queued work drain, stops every actor (children before
    /// parents, running their `stopped` hooks), then stops and joins the timer
    /// and every worker — all within `timeout`.
    ///
    /// Called on one of the system's own workers (an actor holding the system
    /// shuts it down from a handler), it cannot wait: the caller's own turn
    /// would keep the drain from finishing and its worker from being joined.
    /// Called on a worker of another system, it must not block that worker.
    /// The same steps then run on a thread of their own, which waits for a
    /// calling handler of this system to return, and the call returns at
    /// once. Dropping the `System` there does the same.
    ///
    /// # Errors
    /// [`ShutdownError`] naming each actor still running at the deadline and its
    /// worker; everything else was stopped and joined. On a pool worker, at
    /// once, a [`ShutdownError`] whose
    /// [`continues_in_background`](ShutdownError::continues_in_background) is
    /// true: the outcome is logged by the shutdown's thread.
    pub fn shutdown_timeout(self, timeout: Duration) -> Result<(), ShutdownError> {
        self.stop_all(timeout)
    }

    fn stop_all(&self, timeout: Duration) -> Result<(), ShutdownError> {
        // ORDERING: Relaxed; `done` only keeps Drop from shutting down twice on
        // the same thread.
        if self.done.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        if self.shared.pool.is_own_worker() {
            return Err(self.stop_in_background(timeout, false));
        }
        if crate::pool::on_worker_thread() {
            return Err(self.stop_in_background(timeout, true));
        }
        stop_now(&self.shared, &self.pool, timeout)
    }

    /// Shutdown called on a pool worker. On one of the system's own, the
    /// caller's turn is in flight, so waiting here could only fail, blocking
    /// the worker until the deadline; on another system's (`other_system`),
    /// waiting would block that worker for as long as the drain takes, and
    /// for ever if a draining actor waits on that system. The steps run on a
    /// thread of their own instead, which also joins this system's worker
    /// once the turn is over.
    fn stop_in_background(&self, timeout: Duration, other_system: bool) -> ShutdownError {
        let err = ShutdownError {
            timeout,
            stuck: Vec::new(),
            background: true,
            other_system,
        };
        log::warn!("{err}");
        let shared = Arc::clone(&self.shared);
        let pool = Arc::clone(&self.pool);
        let builder = thread::Builder::new().name(format!("{}-shutdown", self.name));
        let spawned = if shutdown_thread_refused(&self.name) {
            Err(std::io::Error::other("refused by a test"))
        } else {
            builder.spawn(move || {
                let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    stop_now(&shared, &pool, timeout)
                }));
                match stopped {
                    Ok(Ok(())) => log::info!("playhouse: shutdown finished on its own thread"),
                    // Logged by `stop_now`.
                    Ok(Err(_)) => {}
                    Err(p) => log::error!(
                        "playhouse: the shutdown thread panicked: {}",
                        crate::cell::panic_message(&*p)
                    ),
                }
            })
        };
        if let Err(e) = spawned {
            log::error!(
                "shutdown: its thread did not start ({e}); actors are asked to stop \
                 and workers exit when done, but nothing waits for them"
            );
            stop_without_waiting(&self.shared, &self.pool);
        }
        err
    }
}

/// Whether a test refused the shutdown thread of the system named `name`, to
/// reach the fallback that waits for nothing.
#[cfg(all(test, not(loom)))]
fn shutdown_thread_refused(name: &str) -> bool {
    tests::REFUSED_SHUTDOWN_THREADS
        .lock()
        .unwrap()
        .iter()
        .any(|n| n == name)
}

#[cfg(not(all(test, not(loom))))]
#[inline(always)]
fn shutdown_thread_refused(_: &str) -> bool {
    false
}

/// Shutdown's steps (module docs), on a thread that is not one of the pool's.
fn stop_now(s: &Shared, pool: &ThreadPool, timeout: Duration) -> Result<(), ShutdownError> {
    let start = Instant::now();
    let deadline = start.checked_add(timeout);
    // ORDERING: Release pairs with the Acquire in `is_closing`.
    s.closing.store(true, Ordering::Release);
    // Draining gets half the time, so an actor that never runs out of work
    // (a poller posting to itself) still leaves time to stop everything.
    if let Err(e) = s.await_quiescent(start.checked_add(timeout / 2)) {
        log::warn!("shutdown: {e}; stopping actors anyway");
    }
    s.stop_roots();
    let all_stopped = s.await_all_stopped(deadline);
    let stuck: Vec<StuckActor> = if all_stopped {
        Vec::new()
    } else {
        let left: Vec<Arc<dyn AnyCell>> = s.registry.lock().cells().cloned().collect();
        // Nothing more goes in: blocked senders get their messages back and
        // queued ones go to dead letters, even though a handler is stuck.
        for cell in &left {
            cell.abandon();
        }
        // Actors not registered yet (their first turn is still queued
        // behind the stuck handlers) are found through the queues.
        pool.abandon_queued();
        left.iter()
            .filter_map(|c| {
                c.running_on().map(|w| StuckActor {
                    actor: c.label(),
                    worker: pool.worker_name(w),
                })
            })
            .collect()
    };
    s.timer.shutdown();
    // Workers with no stuck handler exit as soon as they wake; give them a
    // moment even when the deadline has passed, so only stuck ones are left.
    let left = deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    });
    let workers = pool.terminate(left.max(WORKER_EXIT_GRACE));
    if stuck.is_empty() && workers.is_ok() && all_stopped {
        return Ok(());
    }
    let mut stuck = stuck;
    if let Err(names) = workers {
        for w in names {
            if !stuck.iter().any(|s| s.worker == w) {
                stuck.push(StuckActor {
                    actor: "(unknown)".into(),
                    worker: w,
                });
            }
        }
    }
    let err = ShutdownError {
        timeout,
        stuck,
        background: false,
        other_system: false,
    };
    log::error!("{err}");
    Err(err)
}

/// Shutdown's steps without the waits, for when no thread can wait for them.
/// The timer is left running: stopping actors may need it (a parent's
/// timeout for a slow child); it stops when the last holder (an actor, or a
/// timer entry waiting for its deadline) lets go of the
/// system's state.
fn stop_without_waiting(s: &Shared, pool: &ThreadPool) {
    // ORDERING: Release pairs with the Acquire in `is_closing`.
    s.closing.store(true, Ordering::Release);
    s.stop_roots();
    // Joins nothing: every worker is left to exit once its work is done.
    let _ = pool.terminate(Duration::ZERO);
}

impl Default for System {
    fn default() -> Self {
        System::new()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let _ = self.stop_all(self.shutdown_timeout);
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{System, WaitGraph};
    use crate::{Actor, ActorError, Context, SendError, ShutdownError};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Systems whose shutdown thread `stop_in_background` must fail to start.
    pub(super) static REFUSED_SHUTDOWN_THREADS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    const LIMIT: Duration = Duration::from_secs(30);

    /// Shuts its own system down in a handler and reports what the call returned.
    struct ShutsDown {
        system: Arc<Mutex<Option<System>>>,
        out: crossbeam_channel::Sender<Result<(), ShutdownError>>,
    }

    impl Actor for ShutsDown {
        type Msg = ();
        fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            let system = self.system.lock().unwrap().take().expect("one message");
            self.out.send(system.shutdown())?;
            Ok(())
        }
    }

    /// Says when it has stopped.
    struct Stops(crossbeam_channel::Sender<()>);

    impl Actor for Stops {
        type Msg = ();
        fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
            Ok(())
        }
        fn stopped(&mut self, _: &mut Context<Self>) {
            let _ = self.0.send(());
        }
    }

    fn threads_named(prefix: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                    .filter(|n| n.starts_with(prefix))
                    .count()
            })
            .unwrap_or(0)
    }

    /// With no thread to go on on, a shutdown called inside a handler still
    /// stops every actor and lets every worker exit; it only waits for none.
    #[test]
    fn shutdown_whose_thread_cannot_start_still_stops_everything() {
        let name = "sdFB";
        REFUSED_SHUTDOWN_THREADS.lock().unwrap().push(name.into());
        let system = System::builder().workers(1).name(name).build().unwrap();
        let (stopped_tx, stopped) = crossbeam_channel::bounded(1);
        let other = system.spawn(move || Stops(stopped_tx.clone())).unwrap();
        let slot = Arc::new(Mutex::new(None));
        let (out, answer) = crossbeam_channel::bounded(1);
        let share = slot.clone();
        let stopper = system
            .spawn(move || ShutsDown {
                system: share.clone(),
                out: out.clone(),
            })
            .unwrap();
        *slot.lock().unwrap() = Some(system);
        stopper.tell(()).unwrap();
        let err = answer
            .recv_timeout(LIMIT)
            .expect("the handler returned")
            .expect_err("a shutdown that cannot wait does not report success");
        assert!(err.continues_in_background(), "{err}");
        stopped
            .recv_timeout(LIMIT)
            .expect("the other actor was asked to stop, and stopped");
        assert_eq!(other.tell(()), Err(SendError::Closed(())));
        // The timer stays until the last holder of the system's state lets
        // go (stopping actors may need it): here, the addresses.
        drop((other, stopper, slot));
        let deadline = std::time::Instant::now() + LIMIT;
        while threads_named(&format!("{name}-")) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker and the timer exit on their own"
            );
            // Polls a condition the runtime gives no signal for.
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            threads_named(&format!("{name}-shutdown")),
            0,
            "no shutdown thread ran"
        );
    }

    #[test]
    fn wait_graph_refuses_the_edge_that_closes_a_cycle() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(2, 3));
        assert!(!g.try_wait(3, 1), "3 -> 1 closes 1 -> 2 -> 3 -> 1");
        assert!(g.try_wait(3, 4), "no cycle through 4");
        g.done(2, 3);
        assert!(g.try_wait(3, 1), "the path 2 -> 3 is gone");
    }

    #[test]
    fn wait_graph_counts_parallel_edges() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(1, 2));
        g.done(1, 2);
        assert!(!g.try_wait(2, 1), "one parked send of 1 on 2 remains");
        g.done(1, 2);
        assert!(g.try_wait(2, 1));
    }
}
