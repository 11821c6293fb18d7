//! The run queues: a local queue per worker (an owner side and a steal side), the global injector, and the staged starts.
//!
//! Each is a `VecDeque` (the injector a FIFO of blocks freed as they drain,
//! [`Blocks`]; the staged starts a `Vec`) behind the sync shim's
//! `RunQueueLock` (a spin lock):
//! simple, obviously correct, and loom-checkable; uncontended, since thieves
//! come only when they have nothing else to do. A local queue also has a run-next slot, which its
//! owner takes before the FIFO: see the worker's run loop for when a thief may
//! take it.
//!
//! # Invariants
//!
//! - A task is in at most one queue at a time, and leaves a queue only by being
//!   returned to exactly one caller (`pop`, `steal_into`, `retire`, ...), so a
//!   task pushed once is run at most once; workers run whatever they take.
//! - Only the owning worker pushes to its local queue. Thieves only remove.
//! - No code holds two queue locks at once (a steal collects the batch, releases
//!   the victim, then fills the thief's queue), except the injector moving
//!   the staged starts in ([`Injector::take_staged`], [`Injector::retire`]):
//!   injector, then staged, and nothing takes those two in the other order.
//!   So a staged start is always in the staged starts or in the injector.
//! - A batch moved into a local queue (from the injector or a victim) holds
//!   at most [`MAX_BATCH`] tasks, so a backlog from outside the pool stays
//!   in the injector, whose blocks are freed as it drains, rather than
//!   growing a local queue's buffer, which keeps its capacity.
//! - The injector accepts tasks until its last consumer has retired while it was
//!   empty; after that every push is refused, so no task is stranded in it.
//!   Every retiring worker first moves any staged starts in and runs them;
//!   the last one closes the staged starts in the same critical section in
//!   which it found both empty, so a start is staged before that and run,
//!   or refused.
//!
//! # Memory ordering
//!
//! Every access is under a queue's lock, which orders a push before the pop or
//! steal that takes the task and so publishes the task's contents.

use super::blocks::Blocks;
use super::{Runnable, Task};
use crate::sync::{Arc, AtomicUsize, CachePadded, Ordering, RunQueueLock};
use std::collections::VecDeque;
use std::fmt;

/// Tasks a run queue's buffer holds before it first grows. The buffers are
/// allocated with the pool rather than on the first push: a buffer allocated
/// by the first push lands in the heap right beside whatever was allocated
/// just before, typically the cell of the first actor spawned, and every push
/// and pop then writes a cache line that actor's mailbox also uses (false
/// sharing; see `BENCHMARKS.md`). 4 KiB per queue. Under loom none: the models allocate their queues anew for
/// every explored interleaving, and capacity changes no behaviour.
#[cfg(not(loom))]
const QUEUE_CAPACITY: usize = 256;
#[cfg(loom)]
const QUEUE_CAPACITY: usize = 0;

/// The most tasks one look moves into a local queue from the injector or
/// from a victim: half a local queue's first buffer (as tokio takes at most
/// half its local queue from the injector).
const MAX_BATCH: usize = 128;

/// Creates one worker's local queue: the owner side and the steal side.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub fn local() -> (Local, Steal) {
    let inner = Arc::new(CachePadded::new(RunQueueLock::new(LocalQueue {
        tasks: VecDeque::with_capacity(QUEUE_CAPACITY),
        next: None,
    })));
    (
        Local {
            inner: Arc::clone(&inner),
        },
        Steal { inner },
    )
}

/// A worker's queue: a FIFO of tasks plus the run-next slot.
struct LocalQueue {
    tasks: VecDeque<Task>,
    /// The task its worker runs next: the actor just woken by the one running,
    /// so that a message and its handler stay on one core (ping-pong, rings).
    next: Option<Task>,
}

/// Where [`Local::pop`] found its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub enum From {
    /// The run-next slot.
    Next,
    /// The front of the FIFO.
    Queue,
}

/// The owner side of a local queue: only its worker pushes to and pops from it.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub struct Local {
    inner: Arc<CachePadded<RunQueueLock<LocalQueue>>>,
}

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl Local {
    /// Queues `task` at the back, behind everything already queued.
    pub fn push(&self, task: Task) {
        self.inner.lock().tasks.push_back(task);
    }

    /// Puts `task` in the run-next slot; a task already there moves to the back
    /// of the FIFO. Returns whether the worker now has a backlog (a task in the
    /// FIFO) that another worker could take at once.
    #[inline]
    pub fn push_next(&self, task: Task) -> bool {
        let mut q = self.inner.lock();
        if let Some(old) = q.next.replace(task) {
            q.tasks.push_back(old);
        }
        !q.tasks.is_empty()
    }

    /// Takes the next task: the run-next slot first if `prefer_next`, else the
    /// front of the FIFO, falling back on the other.
    #[inline]
    pub fn pop(&self, prefer_next: bool) -> Option<(Task, From)> {
        let mut q = self.inner.lock();
        if prefer_next && let Some(task) = q.next.take() {
            return Some((task, From::Next));
        }
        if let Some(task) = q.tasks.pop_front() {
            return Some((task, From::Queue));
        }
        q.next.take().map(|task| (task, From::Next))
    }

    /// Moves every task of `batch` to the back of the FIFO, leaving `batch`
    /// empty with its capacity.
    fn push_batch(&self, batch: &mut Vec<Task>) {
        if !batch.is_empty() {
            self.inner.lock().tasks.extend(batch.drain(..));
        }
    }
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Local { .. }")
    }
}

/// What a look at a victim's queue found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub enum Pending {
    /// Nothing at all.
    Nothing,
    /// Only the run-next slot is taken: its owner will run it when its
    /// current task ends, unless that task never ends.
    NextOnly,
    /// Tasks in the FIFO, free for anyone to take.
    Queued,
}

/// The steal side of a local queue: any other worker may take from it.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub struct Steal {
    inner: Arc<CachePadded<RunQueueLock<LocalQueue>>>,
}

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl Steal {
    /// Adds a reference to every task queued here (the run-next slot too)
    /// to `out`.
    pub(crate) fn share_queued(&self, out: &mut Vec<Task>) {
        let q = self.inner.lock();
        out.extend(q.next.iter().chain(q.tasks.iter()).map(Task::share));
    }

    /// Takes about half of the victim's FIFO (rounded up, at most
    /// [`MAX_BATCH`]), oldest first: the first is returned to run now, the rest go to the back of `dst`. With an
    /// empty FIFO and `take_next`, takes the run-next task instead (the caller
    /// has seen its owner stuck in one task). Returns the task with the number
    /// of tasks taken, or `None` if there was nothing to take.
    pub fn steal_into(
        &self,
        dst: &Local,
        take_next: bool,
        buf: &mut Vec<Task>,
    ) -> Option<(Task, usize)> {
        debug_assert!(
            !Arc::ptr_eq(&self.inner, &dst.inner),
            "a worker does not steal from itself"
        );
        let first = {
            let mut victim = self.inner.lock();
            let count = victim.tasks.len().div_ceil(2).min(MAX_BATCH);
            let Some(first) = victim.tasks.pop_front() else {
                return if take_next {
                    victim.next.take().map(|task| (task, 1))
                } else {
                    None
                };
            };
            buf.extend(victim.tasks.drain(..count - 1));
            first
        };
        let count = buf.len() + 1;
        dst.push_batch(buf);
        Some((first, count))
    }

    /// What the queue held when looked at.
    pub fn pending(&self) -> Pending {
        let q = self.inner.lock();
        if !q.tasks.is_empty() {
            Pending::Queued
        } else if q.next.is_some() {
            Pending::NextOnly
        } else {
            Pending::Nothing
        }
    }
}

impl fmt::Debug for Steal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Steal { .. }")
    }
}

/// The global queue for tasks submitted from outside the pool.
///
/// It counts its consumers (the workers): a worker that finds no work during
/// shutdown [retires](Injector::retire), and the last one to retire closes the
/// injector in the same critical section in which it saw it empty.
pub(crate) struct Injector {
    inner: CachePadded<InjectorInner>,
}

/// The lock and the length hint, on one cache line: the pusher writes both.
struct InjectorInner {
    state: RunQueueLock<InjectorState>,
    /// The number of queued tasks as of the last critical section, written
    /// under the lock and read without it. Only [`Injector::pop`] and
    /// [`Injector::pop_batch_into`] read it, to skip taking the lock of an
    /// empty queue: a worker that polls an empty injector then only reads
    /// the line, and a pusher no longer waits for its critical section.
    /// Every look that decides to sleep or retire ([`Injector::is_empty`],
    /// [`Injector::retire`]) takes the lock instead.
    len: AtomicUsize,
}

struct InjectorState {
    tasks: Blocks,
    /// Workers that have not retired; zero means closed.
    consumers: usize,
}

/// What [`Injector::retire`] did.
#[must_use]
pub(crate) enum Retire {
    /// The injector still had work: run this task instead of exiting.
    Run(Task),
    /// The worker is retired; the injector is closed if it was the last one.
    Retired,
}

impl Injector {
    /// Adds a reference to every queued task to `out`.
    pub(crate) fn share_queued(&self, out: &mut Vec<Task>) {
        self.inner.state.lock().tasks.share_into(out);
    }

    pub(crate) fn new(consumers: usize) -> Self {
        Injector {
            inner: CachePadded::new(InjectorInner {
                state: RunQueueLock::new(InjectorState {
                    tasks: Blocks::new(),
                    consumers,
                }),
                len: AtomicUsize::new(0),
            }),
        }
    }

    /// Publishes the queue's new length as the hint; called under the lock.
    fn set_len(&self, state: &InjectorState) {
        // ORDERING: Relaxed. The hint publishes nothing: a reader that sees a
        // non-zero length takes the lock, which orders the push before its
        // pop; a reader that sees a stale zero skips one look, and what keeps
        // the task from being stranded is that every look before sleeping or
        // retiring takes the lock (module docs of `idle`).
        self.inner.len.store(state.tasks.len(), Ordering::Relaxed);
    }

    /// Whether the hint says there is nothing to take.
    #[inline]
    fn looks_empty(&self) -> bool {
        // ORDERING: Relaxed, see `set_len`.
        self.inner.len.load(Ordering::Relaxed) == 0
    }

    /// Queues `task` at the back, or gives it back if every worker has retired.
    pub(crate) fn push(&self, task: Task) -> Result<(), Task> {
        let mut state = self.inner.state.lock();
        if state.consumers == 0 {
            return Err(task);
        }
        state.tasks.push_back(task);
        self.set_len(&state);
        Ok(())
    }

    /// [`Injector::push`] for a task of type `C`, which a backlog queues
    /// as a thin pointer (see [`Blocks`]).
    pub(crate) fn push_typed<C: Runnable>(&self, task: Arc<C>) -> Result<(), Arc<C>> {
        let mut state = self.inner.state.lock();
        if state.consumers == 0 {
            return Err(task);
        }
        state.tasks.push_typed(task);
        self.set_len(&state);
        Ok(())
    }

    /// Takes the oldest task, if any (none if the queue looked empty).
    pub(crate) fn pop(&self) -> Option<Task> {
        if self.looks_empty() {
            return None;
        }
        let mut state = self.inner.state.lock();
        let task = state.tasks.pop_front();
        self.set_len(&state);
        task
    }

    /// Takes a fair share of the queued tasks (`1/workers` of them, at least
    /// one, at most [`MAX_BATCH`]): the first is returned to run now, the rest go to the back of
    /// `dst`'s FIFO, by way of `buf` (empty, kept by the caller so that its
    /// capacity is reused). Returns the first task and the number taken, or
    /// `None` if the queue looked empty.
    pub(crate) fn pop_batch_into(
        &self,
        dst: &Local,
        workers: usize,
        buf: &mut Vec<Task>,
    ) -> Option<(Task, usize)> {
        if self.looks_empty() {
            return None;
        }
        let first = {
            let mut state = self.inner.state.lock();
            let count = (state.tasks.len() / workers.max(1) + 1)
                .min(state.tasks.len())
                .min(MAX_BATCH);
            let first = state.tasks.pop_front()?;
            state.tasks.drain_front_into(count - 1, buf);
            self.set_len(&state);
            first
        };
        let count = buf.len() + 1;
        dst.push_batch(buf);
        Some((first, count))
    }

    /// Whether the injector was empty when looked at, under its lock.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.state.lock().tasks.is_empty()
    }

    /// Called by a worker that found no work anywhere during shutdown: either
    /// hands it a task that arrived meanwhile, or retires it, closing the
    /// injector if it was the last consumer. Checking for a task and closing
    /// happen under one lock, so a push is either taken by a worker or refused.
    ///
    /// Staged starts count as queued here: they are moved in and the first
    /// is run. The last consumer also closes `staged`, in the same critical
    /// section, so a start is staged before it and run, or refused.
    pub(crate) fn retire(&self, staged: &Staged) -> Retire {
        let mut state = self.inner.state.lock();
        if state.tasks.is_empty() {
            let mut starts = staged.inner.state.lock();
            state.tasks.extend(starts.tasks.drain(..));
            staged.set_len(&starts);
            if state.tasks.is_empty() && state.consumers == 1 {
                starts.closed = true;
            }
        }
        if let Some(task) = state.tasks.pop_front() {
            self.set_len(&state);
            return Retire::Run(task);
        }
        debug_assert!(state.consumers > 0, "a worker retired twice");
        state.consumers -= 1;
        Retire::Retired
    }

    /// Moves every staged start to the back of the queue, oldest first,
    /// under both locks (injector, then staged, as in [`Injector::retire`]),
    /// so a start is always in one of the two. With `locked_look`, looks
    /// under the lock (a look that decides to sleep or retire); otherwise
    /// skips both locks when the staged hint says empty. Returns how many
    /// it moved; none once every worker has retired (the last closed the
    /// staged starts, so there are none to move).
    pub(crate) fn take_staged(&self, staged: &Staged, locked_look: bool) -> usize {
        if !locked_look && staged.looks_empty() {
            return 0;
        }
        let mut state = self.inner.state.lock();
        if state.consumers == 0 {
            return 0;
        }
        let mut starts = staged.inner.state.lock();
        let moved = starts.tasks.len();
        if moved > 0 {
            state.tasks.extend(starts.tasks.drain(..));
            staged.set_len(&starts);
            self.set_len(&state);
        }
        moved
    }
}

/// Starts of actors spawned by threads outside the pool, held back so that
/// they reach the injector in batches (see "Staged starts" in the worker
/// module's docs).
///
/// A push returns what its caller must do next ([`Stage`]); the injector
/// takes every staged start at once ([`Injector::take_staged`]), and its
/// last [`retire`](Injector::retire) closes the staged starts.
pub(crate) struct Staged {
    inner: CachePadded<StagedInner>,
}

/// The lock and the length hint, on a line of their own: the stagers write
/// it for every start, the workers only when they move the starts out, and
/// they read the hint at their periodic look at the injector, after a
/// wake-up and after a watch.
struct StagedInner {
    state: RunQueueLock<StagedState>,
    /// The number of staged starts as of the last critical section, written
    /// under the lock and read without it, by [`Injector::take_staged`]
    /// only: every look that decides to sleep or retire takes the lock
    /// instead.
    len: AtomicUsize,
}

struct StagedState {
    tasks: Vec<Task>,
    /// Set by the injector's last consumer: every later push is refused.
    closed: bool,
}

/// What the caller of [`Staged::push`] does next.
#[must_use]
pub(crate) enum Stage {
    /// The start is the first one staged: announce it as a push (a worker
    /// must come for it).
    First,
    /// Staged behind others, which some worker is already due to take.
    Behind,
    /// The batch is full: move it to the injector
    /// ([`Injector::take_staged`]) and announce it.
    Full,
    /// The pool has shut down: the start is handed back.
    Refused(Task),
}

impl Staged {
    /// Starts the pusher hands to the injector at once, with one wake-up.
    /// Two under loom, so the models reach a full batch.
    #[cfg(not(loom))]
    pub(crate) const BATCH: usize = 16;
    #[cfg(loom)]
    pub(crate) const BATCH: usize = 2;

    pub(crate) fn new() -> Self {
        Staged {
            inner: CachePadded::new(StagedInner {
                state: RunQueueLock::new(StagedState {
                    tasks: Vec::new(),
                    closed: false,
                }),
                len: AtomicUsize::new(0),
            }),
        }
    }

    /// Publishes the new number of staged starts as the hint; called under
    /// the lock.
    fn set_len(&self, state: &StagedState) {
        // ORDERING: Relaxed, as the injector's hint (`Injector::set_len`): a
        // reader that sees a non-zero length takes the lock, and one that sees
        // a stale zero skips one look; what keeps a start from being stranded
        // is that every look before sleeping or retiring takes the lock.
        self.inner.len.store(state.tasks.len(), Ordering::Relaxed);
    }

    /// Stages `task`.
    pub(crate) fn push(&self, task: Task) -> Stage {
        let mut state = self.inner.state.lock();
        if state.closed {
            return Stage::Refused(task);
        }
        state.tasks.push(task);
        let stage = match state.tasks.len() {
            1 => Stage::First,
            n if n >= Self::BATCH => Stage::Full,
            _ => Stage::Behind,
        };
        self.set_len(&state);
        stage
    }

    /// Whether the hint says nothing is staged.
    #[inline]
    fn looks_empty(&self) -> bool {
        // ORDERING: Relaxed, see `set_len`.
        self.inner.len.load(Ordering::Relaxed) == 0
    }

    /// Whether nothing was staged when looked at, under the lock.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.state.lock().tasks.is_empty()
    }

    /// Adds a reference to every staged start to `out`.
    pub(crate) fn share_queued(&self, out: &mut Vec<Task>) {
        out.extend(self.inner.state.lock().tasks.iter().map(Task::share));
    }
}

impl fmt::Debug for Staged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Staged { .. }")
    }
}

impl fmt::Debug for Injector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Injector { .. }")
    }
}
