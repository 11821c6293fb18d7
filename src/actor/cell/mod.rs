//! The runtime side of one actor: its mailbox, its state, and the turn a worker runs.
//!
//! # Invariants
//!
//! - `run` is an `UnsafeCell` reached only by the worker running the actor's
//!   turn, which the mailbox's run token makes exclusive: turns never overlap,
//!   and each happens before the next (see the `Sync` impl of [`Cell`]).
//! - Every item pushed into a mailbox (either lane, or parked) or held by a
//!   sending turn (`stage.rs`) was counted in the system's in-flight count
//!   first, and is uncounted exactly once: after it is handled, or when it
//!   is dropped (refused push, dead letter, drained control).
//! - One unit of the cell's reference count belongs to its run token, from
//!   the first submission until the turn that ends idle with the actor dead;
//!   a queued task is that unit, and a turn that ends idle forgets its task
//!   instead of dropping it (see [`Cell::submit`]).
//! - Before its first turn an actor either holds its instance (built by the
//!   spawner, not yet started) in `run`, or has a factory in its extras, or
//!   failed to be built; only a supervised actor's factory outlives a start,
//!   and only until the actor stops for good.
//!
//! The turn itself is in `turn.rs`; stopping, halting for a restart, and watch
//! notices are in `lifecycle.rs`; the sends a handler holds behind one that
//! parked are in `stage.rs`. A cell reaches its system only through the
//! runtime handle below it (`runtime/`: the pool, the timer, the counts, the
//! registry, dead letters), never through the `System` above it.

pub(crate) mod current;
mod lifecycle;
pub(crate) mod panic_hook;
pub(crate) mod stage;
mod turn;

use crate::exit::{ExitReason, Terminated};
use crate::watch::{Notify, Watchers};

use crate::actor::Actor;
use crate::actor::context::{Context, CtxState, Factory};
use crate::dedicated::RunnerHandle;
use crate::error::{ActorError, Failure};
use crate::mailbox::{Mailbox, Refused, Schedule, SendWaker, Sent};
use crate::panic::panic_message;
use crate::pool::Runnable;
use crate::quiet::{Credit, Quiet};
use crate::reply::AskState;
use crate::runtime::{AnyCell, ChildNotice, Command, DeadLetterReason, Exit, Shared, StopReason};
use crate::sync::{Arc, AtomicBool, AtomicU32, AtomicU64, Mutex, OnceBox, Ordering, UnsafeCell};
use std::any::Any;
use std::time::{Duration, Instant};

/// A user message with, for an ask, the asker's slot.
pub(crate) struct Envelope<M> {
    pub(crate) msg: M,
    pub(crate) ask: Option<Arc<dyn AskState>>,
}

/// A continuation run with the actor's state: ask answers, watch notices,
/// timers on the control lane.
pub(crate) type Continuation<A> =
    Box<dyn FnOnce(&mut A, &mut Context<A>) -> Result<(), ActorError> + Send>;

/// Items of the control lane, handled before any user message.
pub(crate) enum Control<A: Actor> {
    Command(Command),
    /// This many parked sends left this actor's account (delivered, or
    /// dropped because their target stopped).
    Resumed(usize),
    Run(Continuation<A>),
    /// Boxed: notices are rare, and a notice inline (an id and a reason)
    /// would widen `Control`, and with it every popped user message, past
    /// 32 bytes (see `tests::popped_items_stay_small`).
    Child(Box<ChildNotice>),
    /// A child asked to stop has not reported within its shutdown timeout.
    ChildStopTimeout(u64),
}

/// How a cell is spawned (from `SpawnOptions` and the spawner). Only the
/// spawn reads it whole; the cell keeps a compact copy of what it needs.
pub(crate) struct CellConfig {
    pub(crate) capacity: usize,
    pub(crate) throughput: usize,
    /// Its parent is a supervisor: exits are reported, not final.
    pub(crate) supervised: bool,
    /// Stop children one at a time, newest first (supervisors).
    pub(crate) ordered_stop: bool,
    /// How long a stopping parent waits for this actor before abandoning it.
    pub(crate) shutdown_timeout: Option<Duration>,
    /// Where parked and blocked senders resume (default half the capacity).
    pub(crate) low_watermark: Option<usize>,
    /// Runs on a thread of its own (already started) instead of the pool.
    pub(crate) dedicated: Option<RunnerHandle>,
}

/// How a new cell gets its first instance.
pub(crate) enum Start<A> {
    /// Built by the spawner, on its own thread: the instance, or the panic
    /// message of its factory. No factory is kept: nothing starts the actor
    /// again, since only a supervisor restarts one.
    Built(Result<A, String>),
    /// Built on the first turn, and on every later start, by this factory.
    Factory(Factory<A>),
}

impl<A: Actor> Start<A> {
    /// The start of an actor no supervisor restarts. An unnamed one is built
    /// at once: its spawn can no longer be refused for its name, so the
    /// factory needs no box, and what it captured is dropped now rather than
    /// kept for the actor's life. A named spawn may still be refused (the
    /// name is taken), so its factory waits for the first turn.
    pub(crate) fn first(named: bool, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        if named {
            return Start::Factory(Arc::new(factory));
        }
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(factory));
        Start::Built(built.map_err(|p| panic_message(&*p)))
    }
}

struct RunState<A: Actor> {
    actor: Option<A>,
    st: CtxState<A>,
}

/// What few actors have: a name, a shutdown timeout, a factory, a parent,
/// a thread of its own, watchers. Boxed, so an actor with none of them (a
/// root actor spawned with the defaults, until it is watched) pays one
/// pointer for them. The spawn allocates it for an actor that has any of
/// the first five; the first watch, for any other. An actor that ends
/// without them seals the empty box with its exit reason instead, when a
/// tag can say it (see [`Cell::end_watchers`]); otherwise its final turn
/// allocates them to record the end for later watchers.
struct Extra<A> {
    name: Option<Arc<str>>,
    shutdown_timeout: Option<Duration>,
    /// Builds instances: kept for every start of a supervised actor, taken by
    /// the first (only) start of any other; absent when the spawner built the
    /// instance (see [`Start`]). Locked only by a start.
    factory: Mutex<Option<Factory<A>>>,
    /// The thread of its own, for an actor spawned on one.
    runner: Option<RunnerHandle>,
    /// The actor that spawned it, if another did: told of its exits (a
    /// supervised child's) and of its stop. Taken by the final turn, so a
    /// stopped child keeps no parent alive. Locked only by the actor's own
    /// turns.
    parent: Mutex<Option<Arc<dyn AnyCell>>>,
    /// Who watches the actor, and how it ended once it has.
    watchers: Watchers,
}

impl<A> Extra<A> {
    /// The extras of an actor spawned without any: only its watchers.
    fn empty() -> Self {
        Extra {
            name: None,
            shutdown_timeout: None,
            factory: Mutex::new(None),
            runner: None,
            parent: Mutex::new(None),
            watchers: Watchers::new(),
        }
    }
}

/// One actor as the runtime sees it.
///
/// Kept small, since a system may hold hundreds of thousands of idle actors:
/// per-actor settings are packed, rarely used fields are boxed (`extra` here,
/// `Relations` in the context state), and the factory of an actor no
/// supervisor restarts is dropped once it has built the instance.
///
/// `repr(C)` with the mailbox last: see the layout note on `Mailbox`.
#[repr(C)]
pub(crate) struct Cell<A: Actor> {
    /// The actor and its context state. Reached only inside a turn, through
    /// the raw pointer `UnsafeCell` hands out: see the `Sync` impl below.
    run: UnsafeCell<RunState<A>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: u64,
    handled: AtomicU64,
    /// Its index in the system's registry; `UNREGISTERED` until the first
    /// turn registers an unnamed actor (see `Shared::spawn_cell`). Written by
    /// the spawn or the first turn, read by the final one: the run token
    /// orders them, so every access is `Relaxed`.
    pub(crate) slot: AtomicU32,
    /// Items handled per turn at most (at least 1).
    throughput: u32,
    /// The index + 1 of the worker running the actor now, 0 when none.
    running_on: AtomicU32,
    alive: AtomicBool,
    /// Its parent is a supervisor: exits are reported, not final.
    pub(crate) supervised: bool,
    /// Stop children one at a time, newest first (supervisors).
    pub(crate) ordered_stop: bool,
    is_root: bool,
    /// Read by any thread; installed by the spawn, or by the first thread
    /// that needs it (see [`Extra`]).
    extra: OnceBox<Extra<A>>,
    pub(crate) mailbox: Mailbox<Envelope<A::Msg>, Control<A>>,
}

// SAFETY: `run` is the one field that is not `Sync` by itself (every other
// field is). It is touched only by the worker running the actor's turn, and
// turns never overlap: the mailbox's scheduling state hands its single run
// token from runner to runner. A turn ends with the idle CAS (Release), which
// the claim or control push that schedules the actor next reads (Acquire);
// that submitter's push to a run queue and the next runner's pop are ordered
// by the queue's lock (a rescheduled actor goes through a queue the same way).
// So each turn's accesses happen before the next turn's (the
// protocol is modelled in `loom-tests/mailbox.rs`, and under loom the
// `UnsafeCell` checks every access). `RunState<A>` is `Send` (`A: Actor` is),
// so handing it from thread to thread is sound.
#[allow(unsafe_code)]
unsafe impl<A: Actor> Sync for Cell<A> {}

impl<A: Actor> Cell<A> {
    /// Builds a cell that starts its instance on its first turn (counted in
    /// flight until then); the caller registers it under `slot`, or leaves
    /// that to the first turn (`UNREGISTERED`), and then submits it.
    pub(crate) fn new(
        shared: Arc<Shared>,
        id: u64,
        slot: u32,
        name: Option<Arc<str>>,
        config: CellConfig,
        start: Start<A>,
        parent: Option<Arc<dyn AnyCell>>,
    ) -> Arc<Self> {
        // The envelope's ask slot alone is 16 bytes, so every actor's
        // mailbox keeps its senders a cache line from its consumer.
        #[cfg(not(loom))]
        const {
            assert!(Mailbox::<Envelope<A::Msg>, Control<A>>::SENDERS_A_LINE_AWAY);
        }
        let mailbox = Mailbox::new_scheduled(config.capacity, config.low_watermark);
        let (actor, factory, build_failed) = match start {
            Start::Built(Ok(a)) => (Some(a), None, None),
            Start::Built(Err(panic)) => (None, None, Some(panic)),
            Start::Factory(f) => (None, Some(f), None),
        };
        let is_root = parent.is_none();
        // Matched whole, so an actor without extras drops nothing here.
        let extra = match (
            name,
            config.shutdown_timeout,
            factory,
            config.dedicated,
            parent,
        ) {
            (None, None, None, None, None) => None,
            (name, shutdown_timeout, factory, runner, parent) => Some(Box::new(Extra {
                name,
                shutdown_timeout,
                factory: Mutex::new(factory),
                runner,
                parent: Mutex::new(parent),
                watchers: Watchers::new(),
            })),
        };
        let mut st = CtxState::new();
        if build_failed.is_some() {
            st.rel().build_failed = build_failed;
        }
        shared.work_added(1);
        Arc::new(Cell {
            mailbox,
            run: UnsafeCell::new(RunState { actor, st }),
            shared,
            id,
            handled: AtomicU64::new(0),
            slot: AtomicU32::new(slot),
            // A bound past 2^32 items per turn is no bound at all.
            throughput: u32::try_from(config.throughput).unwrap_or(u32::MAX),
            running_on: AtomicU32::new(0),
            alive: AtomicBool::new(true),
            supervised: config.supervised,
            ordered_stop: config.ordered_stop,
            is_root,
            extra: OnceBox::new(extra),
        })
    }

    /// The factory for a start: a supervised actor's is kept for the next
    /// one, any other's is taken.
    fn factory_for_start(&self) -> Option<Factory<A>> {
        let mut factory = self.extra.get()?.factory.lock();
        if self.supervised {
            factory.clone()
        } else {
            factory.take()
        }
    }

    /// The actor that spawned it, until its final turn.
    fn parent(&self) -> Option<Arc<dyn AnyCell>> {
        self.extra.get()?.parent.lock().clone()
    }

    /// Tells the watchers how the actor ended (from its final turn, once).
    ///
    /// An actor never watched has no extras: it seals their empty box with
    /// the reason's tag rather than allocate them to record the end. A
    /// watch racing this stop either installs the extras first (the seal
    /// fails and its watchers are told here, under their lock, as always)
    /// or finds the seal and is told at once (`add_watcher`): the box's
    /// compare-and-swap decides, so each watcher is told exactly once.
    fn end_watchers(&self, notice: Terminated) {
        let extra = match seal_of(&notice.reason) {
            Some(tag) => match self.extra.seal(tag) {
                Ok(()) => return,
                Err(extra) => extra,
            },
            None => match self.extra.get_or_init(Extra::empty) {
                Ok(extra) => extra,
                Err(_) => {
                    debug_assert!(false, "an actor's end recorded twice");
                    return;
                }
            },
        };
        extra.watchers.end(notice);
    }

    /// The parent, taken by the final turn.
    fn take_parent(&self) -> Option<Arc<dyn AnyCell>> {
        self.extra.get()?.parent.lock().take()
    }

    /// Its name, if it was given one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.extra.get()?.name.as_deref()
    }

    /// The most items one turn takes.
    pub(crate) fn throughput(&self) -> usize {
        self.throughput as usize
    }

    /// How logs, dead letters and shutdown reports name the actor: its name,
    /// or its type and id (`Worker#12`).
    pub(crate) fn label(&self) -> String {
        match self.name() {
            Some(n) => n.to_string(),
            None => format!(
                "{}#{}",
                short_type_name(std::any::type_name::<A>()),
                self.id
            ),
        }
    }

    pub(crate) fn handled(&self) -> u64 {
        // ORDERING: Relaxed; a statistic, publishes nothing.
        self.handled.load(Ordering::Relaxed)
    }

    pub(crate) fn alive(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `finalize`, so a caller that
        // sees the actor dead also sees its mailbox closed.
        self.alive.load(Ordering::Acquire)
    }

    /// Queues a new actor's first turn: its mailbox starts out `SCHEDULED`, so
    /// the run token is the creator's. The one reference this clones is the
    /// token's, which the cell keeps until its final turn (see [`Cell::submit`]).
    pub(crate) fn submit_first(self: &Arc<Self>) {
        match self.runner() {
            Some(r) => self.run_on_own_thread(r, self.clone()),
            None => self.shared.pool.submit_batched(self.clone()),
        }
    }

    /// The thread of its own, for an actor spawned on one.
    #[inline]
    fn runner(&self) -> Option<&RunnerHandle> {
        self.extra.get()?.runner.as_ref()
    }

    /// The name of the actor's own thread, if it has one.
    pub(crate) fn thread_name(&self) -> Option<&str> {
        self.runner().map(|r| r.1.as_str())
    }

    /// Hands the run token's task to the actor's own thread. A thread that
    /// has exited (shutdown gave up on it) refuses it: the task is dropped
    /// as a pool past shutdown drops one, its user lane closed first.
    #[cold]
    fn run_on_own_thread(&self, r: &RunnerHandle, task: Arc<dyn Runnable>) {
        if let Err(task) = r.0.submit(task) {
            task.abandon();
        }
    }

    /// Queues the actor on the pool; the caller has just taken the run token
    /// (`IDLE -> SCHEDULED`).
    ///
    /// # The run token's reference
    ///
    /// One unit of the cell's reference count belongs to its run token, from
    /// [`Cell::submit_first`] until the final turn. While the token is out it
    /// is the queued task; when a turn ends idle the task is forgotten, not
    /// dropped, so the unit stays with the parked token; and taking the token
    /// again makes the task from that unit, with no count update. A turn that
    /// ends idle with the actor dead drops the task, releasing the unit: its
    /// mailbox is closed, so nothing can take the token again (a claim sees
    /// `CLOSED`, a control push `closed`, both checked before the state
    /// changes). A task dropped without running (a pool refusing it after
    /// shutdown) also releases the unit and takes the token with it, since
    /// the mailbox stays `SCHEDULED` for ever. So every unit is released
    /// exactly once, and an actor's turn costs no reference-count update:
    /// two atomic read-modify-writes fewer per message between two actors.
    /// `loom-tests/mailbox.rs` models this rule with loom's `Arc`
    /// (`the_run_tokens_reference_is_released_once_by_the_final_turn`).
    #[inline]
    pub(crate) fn submit(self: &Arc<Self>) {
        // SAFETY: the caller took the run token, whose unit of the count is
        // live (see above: it is released only by the final turn, after which
        // the token cannot be taken), so this `Arc` owns that unit. The
        // pointer is the one `Arc::into_raw` would give for this cell.
        #[allow(unsafe_code)]
        let task = unsafe { Arc::from_raw(Arc::as_ptr(self)) };
        match self.runner() {
            None => self.shared.pool.submit(task),
            Some(r) => self.run_on_own_thread(r, task),
        }
    }

    fn after_push(self: &Arc<Self>, s: Schedule) {
        if s == Schedule::Submit {
            self.submit();
        }
    }

    /// Pushes a control item, counting it in flight. Gives it back if the actor
    /// has stopped.
    pub(crate) fn push_control(self: &Arc<Self>, item: Control<A>) -> Result<(), Control<A>> {
        self.shared.work_added(1);
        match self.mailbox.push_control(item) {
            Ok(s) => {
                self.after_push(s);
                Ok(())
            }
            Err(item) => {
                self.shared.work_done(1);
                Err(item)
            }
        }
    }

    /// Counts one message in flight for a push about to be tried; the returned
    /// guard uncounts it unless the push succeeds (a refusal, or a panicking
    /// message mapping). Counting before the push keeps `await_quiescent` from
    /// ever seeing a queued message uncounted, and keeps the counter's atomic
    /// out of the mailbox's critical section.
    fn count_one(&self) -> InFlight<'_> {
        self.shared.work_added(1);
        InFlight {
            shared: &self.shared,
            credit: None,
            armed: true,
        }
    }

    /// Pushes a user message without waiting.
    pub(crate) fn deliver_try<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<(), (T, Refused)> {
        current::push_held_to(self);
        let mut counted = self.count_one();
        let s = self
            .mailbox
            .try_push_with(value, |v| Envelope { msg: map(v), ask }, &|| self.submit())?;
        counted.keep();
        self.after_push(s);
        Ok(())
    }

    /// Pushes a user message from a thread outside the pool, waiting for room.
    #[inline]
    pub(crate) fn deliver_blocking<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        deadline: Option<Instant>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<(), (T, Refused)> {
        current::push_held_to(self);
        let mut counted = self.count_one();
        let s = self.mailbox.push_blocking_with(
            value,
            deadline,
            |v| Envelope { msg: map(v), ask },
            &|| self.submit(),
        )?;
        counted.keep();
        self.after_push(s);
        Ok(())
    }

    /// Pushes a user message from an actor's turn: parks it if there is no room.
    #[inline]
    pub(crate) fn deliver_from_actor<T>(
        self: &Arc<Self>,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Result<Sent, T> {
        if let Some(stage) = from.stage
            && stage.holds(self)
        {
            return Ok(self.hold(stage, value, ask, from, map));
        }
        let park = || {
            // Parking on an actor that (through others) waits for us could
            // never end: such a send goes in without counting toward capacity.
            self.shared
                .waits
                .try_wait(from.id, self.id)
                .then(from.waker)
        };
        let mut counted = self.count_from(from);
        let sent = self.mailbox.push_or_park(
            value,
            from.id,
            from.id == self.id,
            park,
            |v| Envelope { msg: map(v), ask },
            &|| self.submit(),
        )?;
        counted.keep();
        match sent {
            Sent::Pushed(s) => self.after_push(s),
            Sent::Parked => {
                // The handler's next sends here queue behind this one: held
                // until it returns. (A send to self never parks.)
                if from.begins {
                    self.begin_holding(from);
                }
            }
            Sent::Held => {}
        }
        Ok(sent)
    }

    /// A send behind one of this handler's that parked: held, to be pushed
    /// with the others when the handler returns (`stage.rs`).
    #[cold]
    #[inline(never)]
    fn hold<T>(
        self: &Arc<Self>,
        stage: &stage::Stage,
        value: T,
        ask: Option<Arc<dyn AskState>>,
        from: &SendFrom<'_>,
        map: impl FnOnce(T) -> A::Msg,
    ) -> Sent {
        let env = Envelope {
            msg: map(value),
            ask,
        };
        self.count_from(from).keep();
        stage.hold(self, env);
        Sent::Held
    }

    /// A send of a context parked here: the turn holds the handler's later
    /// sends to this actor.
    #[cold]
    #[inline(never)]
    fn begin_holding(self: &Arc<Self>, from: &SendFrom<'_>) {
        if let Some(stage) = from.stage.or_else(|| current::stage_of(from.id)) {
            stage.begin(self, from);
        }
    }

    /// Counts one message in flight for a send of a turn, from the turn's
    /// credit if it has some (see [`count_one`](Cell::count_one)).
    #[inline]
    fn count_from<'a>(&'a self, from: &'a SendFrom<'_>) -> InFlight<'a> {
        if from.credit.take(from.quiet, self.shared.quiet()) {
            InFlight {
                shared: &self.shared,
                credit: Some(from.credit),
                armed: true,
            }
        } else {
            self.count_one()
        }
    }

    /// Delivers a message the timer produced. The timer thread never waits: with
    /// no room the message goes to dead letters.
    pub(crate) fn deliver_from_timer(self: &Arc<Self>, msg: A::Msg) {
        if self.shared.is_closing() {
            self.shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Shutdown);
            return;
        }
        match self.deliver_try(msg, None, |m| m) {
            Ok(()) => {}
            Err((_, Refused::Full)) => {
                log::warn!(
                    "timer message for actor {} dropped: mailbox full",
                    self.label()
                );
                self.shared
                    .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::MailboxFull);
            }
            Err(_) => self
                .shared
                .dead_letter::<A::Msg>(&self.label(), DeadLetterReason::Stopped),
        }
    }
}

impl<A: Actor> Runnable for Cell<A> {
    fn abandon(&self) {
        self.drop_user_lane();
    }

    #[cfg(not(loom))]
    fn label(&self) -> Option<(u64, Option<String>)> {
        Some((self.id, self.name().map(str::to_owned)))
    }

    fn run(self: Arc<Self>, worker: usize) -> Option<Arc<dyn Runnable>> {
        let throughput = self.throughput();
        self.run_with(worker, throughput)
    }

    #[cfg(not(loom))]
    fn run_drawn(self: Arc<Self>, worker: usize, draw: u64) -> Option<Arc<dyn Runnable>> {
        // From 1 to the actor's throughput: never more than on threads.
        let throughput = 1 + (draw % self.throughput() as u64) as usize;
        self.run_with(worker, throughput)
    }
}

impl<A: Actor> Cell<A> {
    /// A turn taking at most `throughput` items, and what becomes of the run
    /// token's reference after it.
    #[inline]
    fn run_with(self: Arc<Self>, worker: usize, throughput: usize) -> Option<Arc<dyn Runnable>> {
        // `self` is the run token's reference (see `Cell::submit`).
        match self.turn(worker, throughput) {
            TurnEnd::Again => Some(self),
            TurnEnd::Idle => {
                // The unit stays with the parked token.
                std::mem::forget(self);
                None
            }
            // The final turn: the token is never taken again; its unit goes,
            // and so does the actor's own thread, if it has one.
            TurnEnd::Ended => {
                if let Some(r) = self.runner() {
                    r.0.close();
                }
                None
            }
        }
    }
}

/// How a turn ended, for what becomes of the run token's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TurnEnd {
    /// Work remains: the actor is `SCHEDULED` again and must be requeued.
    Again,
    /// The actor is idle and alive; the next push schedules it.
    Idle,
    /// The actor is dead and idle, its mailbox closed.
    Ended,
}

impl<A: Actor> SendWaker for Cell<A> {
    fn wake(self: Arc<Self>, target: u64, _delivered: bool, sends: usize, edges: usize) {
        if edges != 0 {
            self.shared.waits.done(self.id, target, edges);
        }
        // A stopped sender needs no notice; the push is refused and uncounted.
        let _ = self.push_control(Control::Resumed(sends));
    }
}

impl<A: Actor> AnyCell for Cell<A> {
    fn id(&self) -> u64 {
        self.id
    }
    fn label(&self) -> String {
        Cell::label(self)
    }
    fn is_root(&self) -> bool {
        self.is_root
    }
    fn is_supervised(&self) -> bool {
        self.supervised
    }
    fn shutdown_timeout(&self) -> Option<Duration> {
        self.extra.get()?.shutdown_timeout
    }
    fn running_on(&self) -> Option<usize> {
        // ORDERING: Relaxed; a diagnostic read (shutdown's stuck report).
        (self.running_on.load(Ordering::Relaxed) as usize).checked_sub(1)
    }
    fn is_alive(&self) -> bool {
        self.alive()
    }
    fn queued(&self) -> usize {
        self.mailbox.len()
    }
    fn scheduled(&self) -> bool {
        self.mailbox.is_scheduled()
    }
    fn thread_name(&self) -> Option<String> {
        Cell::thread_name(self).map(str::to_string)
    }
    fn abandon(&self) {
        self.drop_user_lane();
    }
    fn command(self: Arc<Self>, command: Command) {
        let _ = self.push_control(Control::Command(command));
    }
    fn notice(self: Arc<Self>, notice: ChildNotice) {
        let _ = self.push_control(Control::Child(Box::new(notice)));
    }
    fn add_watcher(&self, watcher: u64, notify: Notify) {
        match self.extra.get_or_init(Extra::empty) {
            Ok(extra) => extra.watchers.add(watcher, notify),
            // It ended without extras: told at once, as ended watchers
            // tell a late watcher (see `Cell::end_watchers`).
            Err(tag) => notify(Terminated {
                id: self.id,
                name: None,
                reason: reason_of_seal(tag),
            }),
        }
    }
    fn remove_watcher(&self, watcher: u64) {
        // No extras, no watchers: a watcher's removal follows its own add.
        if let Some(extra) = self.extra.get() {
            extra.watchers.remove(watcher);
        }
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// The tag that seals the extras of an actor that ended for `reason`
/// without any (see [`Cell::end_watchers`]), if a tag can say it.
fn seal_of(reason: &ExitReason) -> Option<usize> {
    match reason {
        ExitReason::Normal => Some(1),
        ExitReason::Shutdown => Some(2),
        ExitReason::GaveUp => Some(3),
        ExitReason::Failed(_) => None,
    }
}

/// The reason a seal's tag stands for: the inverse of [`seal_of`].
fn reason_of_seal(tag: usize) -> ExitReason {
    match tag {
        1 => ExitReason::Normal,
        2 => ExitReason::Shutdown,
        _ => ExitReason::GaveUp,
    }
}

/// Turns a caught handler outcome into a failure, if it is one.
#[inline]
fn failure_of(
    outcome: Result<Result<(), crate::error::ActorError>, Box<dyn Any + Send>>,
) -> Option<Failure> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::Error(e)),
        Err(p) => Some(Failure::Panic(panic_message(&*p))),
    }
}

/// Who sends from inside the pool: the sending actor's id, how to make its
/// waker should the send park, and its turn's in-flight credit with the
/// count of the sender's system.
pub(crate) struct SendFrom<'a> {
    pub(crate) id: u64,
    pub(crate) waker: &'a dyn Fn() -> Arc<dyn SendWaker>,
    pub(crate) quiet: &'a Quiet,
    pub(crate) credit: &'a Credit,
    /// The turn's held sends, when a send to a held target must join them;
    /// `None` outside a turn, and for a context whose sends have not parked.
    pub(crate) stage: Option<&'a stage::Stage>,
    /// A send that parks makes the turn hold the handler's later sends to
    /// the same target: for a context's sends, not for `tell`s, since only
    /// the context knows to look for them (`CtxState::holding`).
    pub(crate) begins: bool,
}

/// One message counted in flight, uncounted on drop unless kept.
struct InFlight<'a> {
    shared: &'a Shared,
    /// Counted from the sending turn's credit: given back there.
    credit: Option<&'a Credit>,
    armed: bool,
}

impl InFlight<'_> {
    fn keep(&mut self) {
        self.armed = false;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            match self.credit {
                Some(credit) => credit.give_back(),
                None => self.shared.work_done(1),
            }
        }
    }
}

/// Runs user code (a drop, a hook) on a runtime path, where a panic must not
/// unwind through the turn: it is logged instead. `label` names the actor,
/// made only for the log: stopping many actors formats no names.
pub(crate) fn contain(label: impl FnOnce() -> String, what: &str, f: impl FnOnce()) {
    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        log::error!("actor {}: {what} panicked: {}", label(), panic_message(&*p));
    }
}

/// A type name without its module paths: `my_app::jobs::Worker<my_app::Job>`
/// becomes `Worker<Job>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut ident = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            ident.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            // `ident::` is a path segment: drop it.
            chars.next();
            ident.clear();
        } else {
            out.push_str(&ident);
            ident.clear();
            out.push(c);
        }
    }
    out.push_str(&ident);
    out
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::{Cell, Control, Envelope, Mailbox};
    use crate::{Actor, ActorError, Context};
    use std::mem::size_of;

    struct Echo(#[allow(dead_code)] crossbeam_channel::Sender<u64>);
    impl Actor for Echo {
        type Msg = u64;
        fn handle(&mut self, _: &mut Context<Self>, _: u64) -> Result<(), ActorError> {
            Ok(())
        }
    }

    /// The extras are shared between threads once installed.
    #[test]
    fn extras_are_shared_safely() {
        fn shared_safely<T: Send + Sync>() {}
        shared_safely::<super::OnceBox<super::Extra<Echo>>>();
    }

    /// A seal's tag says the reason it was made for, and fits the box's
    /// word beside its addresses.
    #[test]
    fn exit_reasons_round_trip_through_seals() {
        use super::{ExitReason, reason_of_seal, seal_of};
        for reason in [ExitReason::Normal, ExitReason::Shutdown, ExitReason::GaveUp] {
            let tag = seal_of(&reason).expect("a common reason has a tag");
            assert!((1..=super::OnceBox::<super::Extra<Echo>>::SEALS).contains(&tag));
            assert_eq!(reason_of_seal(tag), reason);
        }
        assert_eq!(seal_of(&ExitReason::Failed("why".into())), None);
    }

    #[test]
    fn type_names_lose_their_module_paths() {
        use super::short_type_name;
        assert_eq!(short_type_name("app::jobs::Worker"), "Worker");
        assert_eq!(
            short_type_name("app::Bus<u64, app::topic::Key>"),
            "Bus<u64, Key>"
        );
        assert_eq!(short_type_name("(a::B, [c::D; 2])"), "(B, [D; 2])");
    }

    /// Every item a turn takes, each user message too, is moved through the
    /// turn as a `Popped`: a control item wider than a small message's
    /// envelope would widen every one of those moves.
    #[test]
    fn popped_items_stay_small() {
        use crate::mailbox::Popped;
        let control = size_of::<Control<Echo>>();
        assert!(control <= 32, "a control item takes {control} bytes");
        let popped = size_of::<Popped<Envelope<u64>, Control<Echo>>>();
        assert!(popped <= 32, "a popped item takes {popped} bytes");
    }

    /// An idle actor's footprint is its cell (plus its registry slot and
    /// whatever its mailbox keeps); this guards the part outside the mailbox.
    #[test]
    fn cell_beside_its_mailbox_stays_small() {
        let mailbox = size_of::<Mailbox<Envelope<u64>, Control<Echo>>>();
        let rest = size_of::<Cell<Echo>>() - mailbox;
        assert!(rest <= 88, "a cell outside its mailbox takes {rest} bytes");
        // An idle mailbox owns no buffer: its lanes are allocated on demand.
        // 96 bytes of words, and between the consumer's and the senders'
        // cache lines the slot of a lap's first message (the message and its
        // state word).
        let first_slot = size_of::<Envelope<u64>>() + size_of::<usize>();
        assert!(
            mailbox <= 96 + first_slot,
            "an empty mailbox takes {mailbox} bytes"
        );
        // With the `Arc`'s two counts, 232 bytes: a 240-byte chunk of a
        // 16-byte-granular allocator with an 8-byte header.
        assert!(size_of::<Cell<Echo>>() <= 216);
    }
}
