//! A FIFO of tasks kept in fixed-size blocks that are freed as they drain: the injector's storage.
//!
//! A `VecDeque` keeps the capacity of its longest moment for good, rounded
//! up to a power of two, and copies itself at each doubling: a burst of
//! submissions (a thread spawning or telling many actors) would leave the
//! injector holding up to twice its longest backlog for the rest of the
//! pool's life. Here the tasks live in blocks of [`BLOCK`]; a block leaves
//! the queue once its last task has been taken, and is kept as a spare or
//! freed. Up to [`SPARES`] of each kind are kept: the blocks are allocated
//! by the submitting thread and drained by workers, and a worker that takes
//! two blocks in one look would otherwise free one that the submitter
//! allocates again at once (a large request to the allocator, which takes
//! its slow path). The memory held is then the tasks queued now, rounded up
//! to a block, plus at most eight spare blocks and the short list of blocks.
//!
//! A task is a `dyn` pointer, 16 bytes. Behind a backlog (a thread telling
//! many actors of one type), the turns of one actor type queue as thin
//! pointers, 8 bytes each, in a block of their type ([`Thin`], one
//! allocation of [`THIN_BLOCK`] places, reused for the same type or freed
//! once drained), started by
//! a typed push ([`Blocks::push_typed`]) that finds the last block full.
//! Only a full block starts a typed one, so a queue that never holds a
//! block's worth keeps using one spare, whatever the pushes' types; and a
//! typed push behind a block of another type with room starts an untyped
//! block, so pushes of alternating types cannot start a block each.
//!
//! Not synchronised: the injector keeps it under its lock.

use super::{Runnable, Task};
use crate::sync::Arc;
use std::any::Any;
use std::collections::VecDeque;

/// Tasks per untyped block: 1 KiB of `dyn` tasks. Two under loom, so the
/// models cross block boundaries.
#[cfg(not(loom))]
const BLOCK: usize = 64;
#[cfg(loom)]
const BLOCK: usize = 2;

/// Tasks per typed block: 1 KiB of thin pointers, in one allocation with
/// its two indices. Two under loom.
#[cfg(not(loom))]
const THIN_BLOCK: usize = 128;
#[cfg(loom)]
const THIN_BLOCK: usize = 2;

/// Emptied blocks kept for reuse, of each kind (untyped and typed).
const SPARES: usize = 4;

/// One block of queued tasks.
enum Block {
    /// Tasks of any kind, as `dyn` pointers.
    Mixed(VecDeque<Task>),
    /// Tasks of one type, as thin pointers (a [`Thin`]).
    Typed(Box<dyn TypedBlock>),
}

impl Block {
    fn len(&self) -> usize {
        match self {
            Block::Mixed(b) => b.len(),
            Block::Typed(b) => b.len(),
        }
    }

    fn is_full(&self) -> bool {
        match self {
            Block::Mixed(b) => b.len() >= BLOCK,
            Block::Typed(b) => b.is_full(),
        }
    }
}

/// A block of tasks of one type, seen without the type.
trait TypedBlock: Send {
    fn len(&self) -> usize;
    /// No task can be pushed: its last place is taken (a typed block is
    /// filled once and drained once).
    fn is_full(&self) -> bool;
    fn pop_front(&mut self) -> Option<Task>;
    /// Moves its oldest `n` tasks (at most its length) to `out`.
    fn drain_front_into(&mut self, n: usize, out: &mut Vec<Task>);
    /// Adds a reference to each of its tasks to `out`, oldest first.
    fn share_into(&self, out: &mut Vec<Task>);
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Tasks of type `C`, oldest first: those at `head..tail` of `tasks`.
/// Filled from the front once and drained from the front once, so it
/// needs no wrapping.
struct Thin<C> {
    head: usize,
    tail: usize,
    tasks: [Option<Arc<C>>; THIN_BLOCK],
}

impl<C: Runnable> Thin<C> {
    /// A block holding `task` alone.
    fn new(task: Arc<C>) -> Box<Self> {
        let mut block = Box::new(Thin {
            head: 0,
            tail: 0,
            tasks: std::array::from_fn(|_| None),
        });
        block.push(task);
        block
    }

    /// Queues `task`; the block must not be full.
    fn push(&mut self, task: Arc<C>) {
        self.tasks[self.tail] = Some(task);
        self.tail += 1;
    }

    fn take_front(&mut self) -> Option<Task> {
        let task = self.tasks.get_mut(self.head)?.take()?;
        self.head += 1;
        Some(Task::turn(task))
    }
}

impl<C: Runnable> TypedBlock for Thin<C> {
    fn len(&self) -> usize {
        self.tail - self.head
    }
    fn is_full(&self) -> bool {
        self.tail == THIN_BLOCK
    }
    fn pop_front(&mut self) -> Option<Task> {
        self.take_front()
    }
    fn drain_front_into(&mut self, n: usize, out: &mut Vec<Task>) {
        debug_assert!(n <= self.len());
        out.extend((0..n).filter_map(|_| self.take_front()));
    }
    fn share_into(&self, out: &mut Vec<Task>) {
        out.extend(
            self.tasks[self.head..self.tail]
                .iter()
                .flatten()
                .map(|t| Task::turn(Arc::clone(t) as Arc<dyn Runnable>)),
        );
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A FIFO of tasks in blocks of [`BLOCK`].
///
/// # Invariants
///
/// - Every block in `blocks` holds at least one task: an untyped one at
///   most [`BLOCK`], with a capacity of [`BLOCK`] (it never grows past
///   it); a typed one at most [`THIN_BLOCK`].
/// - `len` is the number of tasks in all the blocks.
/// - Every block in `spare` is empty with a capacity of [`BLOCK`]; every
///   block in `spare_typed` is empty with its indices at its end (it was
///   drained); each list holds at most [`SPARES`].
pub(super) struct Blocks {
    blocks: VecDeque<Block>,
    len: usize,
    spare: Vec<VecDeque<Task>>,
    spare_typed: Vec<Box<dyn TypedBlock>>,
}

impl Blocks {
    /// An empty queue with its first block allocated (a spare), so that the
    /// first push does not allocate beside whatever was allocated just
    /// before it (see `QUEUE_CAPACITY` in the queue module).
    pub(super) fn new() -> Self {
        Blocks {
            blocks: VecDeque::new(),
            len: 0,
            spare: vec![VecDeque::with_capacity(BLOCK)],
            spare_typed: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `task` at the back.
    #[inline]
    pub(super) fn push_back(&mut self, task: Task) {
        match self.blocks.back_mut() {
            Some(Block::Mixed(block)) if block.len() < BLOCK => block.push_back(task),
            _ => {
                let mut block = self
                    .spare
                    .pop()
                    .unwrap_or_else(|| VecDeque::with_capacity(BLOCK));
                block.push_back(task);
                self.blocks.push_back(Block::Mixed(block));
            }
        }
        self.len += 1;
    }

    /// Queues `task`, of type `C`, at the back: as a thin pointer if the
    /// last block is one of `C`s with room, or if the last block is full
    /// (a new block of `C`s); otherwise as [`Blocks::push_back`] does.
    #[inline]
    pub(super) fn push_typed<C: Runnable>(&mut self, task: Arc<C>) {
        let last_full = match self.blocks.back_mut() {
            Some(Block::Typed(block)) => {
                if !block.is_full()
                    && let Some(thin) = block.as_any_mut().downcast_mut::<Thin<C>>()
                {
                    thin.push(task);
                    self.len += 1;
                    return;
                }
                block.is_full()
            }
            Some(block) => block.is_full(),
            None => false,
        };
        if !last_full {
            return self.push_back(Task::turn(task));
        }
        let reuse = self
            .spare_typed
            .iter_mut()
            .position(|b| b.as_any_mut().is::<Thin<C>>());
        let block = match reuse {
            Some(i) => {
                let mut block = self.spare_typed.swap_remove(i);
                let thin = block
                    .as_any_mut()
                    .downcast_mut::<Thin<C>>()
                    .expect("the spare found for its type");
                // A spare was drained: every place is empty again.
                thin.head = 0;
                thin.tail = 0;
                thin.push(task);
                block
            }
            None => Thin::new(task) as Box<dyn TypedBlock>,
        };
        self.blocks.push_back(Block::Typed(block));
        self.len += 1;
    }

    /// Takes the oldest task, if any.
    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<Task> {
        let (task, emptied) = match self.blocks.front_mut()? {
            Block::Mixed(block) => (block.pop_front(), block.is_empty()),
            Block::Typed(block) => (block.pop_front(), block.len() == 0),
        };
        debug_assert!(task.is_some(), "a queued block holds a task");
        if emptied {
            self.retire_front();
        }
        self.len -= 1;
        task
    }

    /// Moves the oldest `n` tasks (at most `len`) to the back of `out`,
    /// oldest first.
    pub(super) fn drain_front_into(&mut self, n: usize, out: &mut Vec<Task>) {
        debug_assert!(n <= self.len);
        let mut left = n;
        while left > 0 {
            let block = self.blocks.front_mut().expect("n is at most len");
            let take = left.min(block.len());
            match block {
                Block::Mixed(b) => out.extend(b.drain(..take)),
                Block::Typed(b) => b.drain_front_into(take, out),
            }
            if block.len() == 0 {
                self.retire_front();
            }
            left -= take;
        }
        self.len -= n;
    }

    /// Queues every task of `tasks` at the back, in order.
    pub(super) fn extend(&mut self, tasks: impl IntoIterator<Item = Task>) {
        for task in tasks {
            self.push_back(task);
        }
    }

    /// Adds a reference to every queued task to `out`, oldest first.
    pub(super) fn share_into(&self, out: &mut Vec<Task>) {
        for block in &self.blocks {
            match block {
                Block::Mixed(b) => out.extend(b.iter().map(Task::share)),
                Block::Typed(b) => b.share_into(out),
            }
        }
    }

    /// Drops the emptied front block, or keeps it as a spare of its kind if
    /// fewer than [`SPARES`] are kept.
    fn retire_front(&mut self) {
        let block = self.blocks.pop_front().expect("the front block exists");
        debug_assert!(block.len() == 0);
        match block {
            Block::Mixed(block) if self.spare.len() < SPARES => self.spare.push(block),
            Block::Typed(block) if self.spare_typed.len() < SPARES => self.spare_typed.push(block),
            _ => {}
        }
        // The list of blocks keeps its capacity: a sixty-fourth of the
        // longest backlog's tasks.
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{BLOCK, Block, Blocks, SPARES, THIN_BLOCK};
    use crate::pool::{Runnable, Task};
    use crate::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<usize>>>;

    /// A task of a type of its own (`K`), recording its number when run.
    struct Numbered<const K: u8>(usize, Log);

    impl<const K: u8> Runnable for Numbered<K> {
        fn run(self: Arc<Self>, _worker: usize) -> Option<Arc<dyn Runnable>> {
            self.1.lock().push(self.0);
            None
        }
    }

    fn numbered<const K: u8>(i: usize, ran: &Log) -> Arc<Numbered<K>> {
        Arc::new(Numbered::<K>(i, Arc::clone(ran)))
    }

    fn untyped(range: std::ops::Range<usize>, ran: &Log) -> Vec<Task> {
        range.map(|i| Task::turn(numbered::<9>(i, ran))).collect()
    }

    /// Runs `tasks` in order and returns the numbers they recorded.
    fn run(tasks: Vec<Task>, ran: &Log) -> Vec<usize> {
        for t in tasks {
            assert!(t.run_on(0).is_none());
        }
        std::mem::take(&mut *ran.lock())
    }

    fn drain_all(q: &mut Blocks) -> Vec<Task> {
        let mut out = Vec::new();
        while let Some(t) = q.pop_front() {
            out.push(t);
        }
        assert!(q.is_empty());
        out
    }

    fn typed_blocks(q: &Blocks) -> usize {
        q.blocks
            .iter()
            .filter(|b| matches!(b, Block::Typed(_)))
            .count()
    }

    /// Order is kept across block boundaries, by single pops and drains.
    #[test]
    fn keeps_fifo_order_across_blocks() {
        let ran = Log::default();
        let mut q = Blocks::new();
        let n = 3 * BLOCK + 5;
        q.extend(untyped(0..n, &ran));
        assert_eq!(q.len(), n);
        let mut shared = Vec::new();
        q.share_into(&mut shared);
        assert_eq!(shared.len(), n);
        drop(shared);
        let first = q.pop_front().expect("a task");
        assert_eq!(run(vec![first], &ran), [0]);
        let mut out = Vec::new();
        q.drain_front_into(2 * BLOCK, &mut out);
        assert_eq!(run(out, &ran), (1..=2 * BLOCK).collect::<Vec<_>>());
        let rest = drain_all(&mut q);
        assert_eq!(run(rest, &ran), (2 * BLOCK + 1..n).collect::<Vec<_>>());
    }

    /// Drained blocks are given back: after a burst, the queue holds no
    /// block but the spare, which the next push reuses.
    #[test]
    fn drained_blocks_are_freed() {
        let ran = Log::default();
        let mut q = Blocks::new();
        q.extend(untyped(0..10 * BLOCK, &ran));
        assert_eq!(q.blocks.len(), 10);
        let mut out = Vec::new();
        q.drain_front_into(10 * BLOCK, &mut out);
        assert!(q.blocks.is_empty());
        assert_eq!(q.spare.len(), SPARES, "the rest were freed");
        q.extend(untyped(0..1, &ran));
        assert_eq!(q.spare.len(), SPARES - 1);
        assert_eq!(q.blocks.len(), 1);
    }

    /// Typed pushes fill the untyped block first; past a full block they
    /// queue thin, in blocks of their type; order holds throughout.
    #[test]
    fn a_backlog_of_one_type_queues_thin_in_order() {
        let ran = Log::default();
        let mut q = Blocks::new();
        let n = BLOCK + 3 * THIN_BLOCK + 3;
        for i in 0..n {
            q.push_typed(numbered::<0>(i, &ran));
        }
        assert_eq!(q.len(), n);
        assert_eq!(q.blocks.len(), 5);
        assert_eq!(typed_blocks(&q), 4, "all but the first block are thin");
        let mut shared = Vec::new();
        q.share_into(&mut shared);
        assert_eq!(shared.len(), n);
        drop(shared);
        let mut out = Vec::new();
        q.drain_front_into(BLOCK + THIN_BLOCK + 1, &mut out);
        out.extend(drain_all(&mut q));
        assert_eq!(run(out, &ran), (0..n).collect::<Vec<_>>());
        // The untyped block became a spare, and the thin ones too, up to
        // SPARES; a new backlog of the same type reuses them.
        assert!(q.blocks.is_empty());
        assert_eq!((q.spare.len(), q.spare_typed.len()), (1, 4));
        for i in 0..BLOCK + 2 * THIN_BLOCK {
            q.push_typed(numbered::<0>(i, &ran));
        }
        assert_eq!(typed_blocks(&q), 2);
        assert_eq!(q.spare_typed.len(), 2, "two thin spares reused");
        assert_eq!(
            run(drain_all(&mut q), &ran),
            (0..BLOCK + 2 * THIN_BLOCK).collect::<Vec<_>>()
        );
    }

    /// A queue that never holds a block's worth uses only its spare, and
    /// pushes of alternating types start no block each.
    #[test]
    fn short_queues_and_mixed_types_stay_untyped() {
        let ran = Log::default();
        let mut q = Blocks::new();
        for i in 0..3 * BLOCK {
            q.push_typed(numbered::<0>(i, &ran));
            assert_eq!(typed_blocks(&q), 0);
            let t = q.pop_front().expect("the task just pushed");
            assert_eq!(run(vec![t], &ran), [i]);
        }
        let n = 4 * BLOCK;
        for i in 0..n {
            if i % 2 == 0 {
                q.push_typed(numbered::<0>(i, &ran));
            } else {
                q.push_typed(numbered::<1>(i, &ran));
            }
        }
        assert!(
            q.blocks.len() <= 2 * n / BLOCK,
            "{} blocks for {n} tasks",
            q.blocks.len()
        );
        let out = drain_all(&mut q);
        assert_eq!(run(out, &ran), (0..n).collect::<Vec<_>>());
    }
}
