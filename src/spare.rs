//! Spare mailbox blocks: freed blocks kept for the next allocation, shared by
//! every mailbox in the process.
//!
//! A user lane allocates a block every `BLOCK_CAP` messages on the sending
//! thread and frees it on the consuming one, and an actor that goes idle for
//! the first time frees its only block on its worker. So nearly every block
//! is freed by a thread other than the one that allocated it. glibc's
//! allocator then takes the allocating thread's arena lock for each free,
//! and a thread that spawns and tells actors while the workers free their
//! blocks loses much of its time waiting for that lock (see
//! `BENCHMARKS.md`).
//!
//! Here a freed block goes onto the freeing thread's own stack for its size
//! class, and an allocation takes from the allocating thread's stack first.
//! Stacks trade with a bounded lock-free queue per class (crossbeam-channel's
//! array flavour) sixteen blocks at a time, so a block that crosses threads
//! costs a sixteenth of a shared-queue operation. Only when the queue is full
//! or empty does the global allocator see a block. The memory kept is bounded:
//! `KEPT_BYTES` per class in use in the queues, and fewer than 32 blocks per
//! class in each thread's stack (given to the queue when the thread ends).
//!
//! Every block of a class is allocated with the class's layout (the size
//! rounded up to [`GRAIN`] bytes, the alignment at least 16), so any block
//! of a class can serve any request of it and is freed with the layout it was
//! allocated with. Only classes aligned to exactly 16 bytes (every lane block
//! of a message aligned to 16 or less) are kept; the others go straight to
//! the allocator.
//!
//! Under loom blocks go straight to the allocator: the queue is
//! crossbeam-channel's, checked by its own tests, and loom could not track
//! memory that outlives a model. What loom checks is the rule this module
//! relies on, which is the same as for a plain free: a block is given back
//! only once no thread will touch it again.
#![allow(unsafe_code)] // raw allocation: see the SAFETY comments below

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Sizes are rounded up to a multiple of this.
const GRAIN: usize = 64;
/// Classes of `GRAIN` .. `GRAIN * CLASSES` bytes; bigger blocks are not kept.
#[cfg(not(loom))]
const CLASSES: usize = 32;
/// The most memory kept in one class's queue.
#[cfg(not(loom))]
const KEPT_BYTES: usize = 256 * 1024;

/// The layout every block of `layout`'s class is allocated with.
fn class_layout(layout: Layout) -> Layout {
    let size = layout.size().max(1).next_multiple_of(GRAIN);
    let align = layout.align().max(16);
    Layout::from_size_align(size, align).expect("a block's layout rounded up to its class")
}

/// Allocates memory for a value of `layout` (uninitialised), reusing a kept
/// block of its class when there is one.
pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
    let class = class_layout(layout);
    #[cfg(not(loom))]
    if let Some(p) = kept::take(class) {
        return p;
    }
    // SAFETY: `class` has a non-zero size.
    let p = unsafe { alloc::alloc(class) };
    NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(class))
}

/// Frees memory from [`alloc`], keeping it for reuse while its class's queue
/// has room.
///
/// # Safety
///
/// `p` came from [`alloc`] with the same `layout`, is freed once, and no
/// thread touches it afterwards; whatever it held has been dropped or moved
/// out.
pub(crate) unsafe fn free(p: NonNull<u8>, layout: Layout) {
    let class = class_layout(layout);
    #[cfg(not(loom))]
    let Some(p) = kept::give(p, class) else {
        return;
    };
    // SAFETY: the caller's contract; `alloc` allocated it with `class`.
    unsafe { alloc::dealloc(p.as_ptr(), class) };
}

#[cfg(not(loom))]
mod kept {
    use super::{CLASSES, GRAIN, KEPT_BYTES};
    use crossbeam_channel::{Receiver, Sender, bounded};
    use std::alloc::{self, Layout};
    use std::cell::RefCell;
    use std::ptr::NonNull;
    use std::sync::OnceLock;

    /// Blocks move between a thread's own stack and the shared queue this
    /// many at a time, so the shared queue (two threads' CAS on one line) is
    /// touched once per this many blocks.
    const BATCH: usize = 16;

    /// Up to `BATCH` kept blocks, listed in the batch itself rather than
    /// chained through the blocks: the taker gets every address at once,
    /// instead of one cache miss per block on memory another core freed
    /// (which `perf` showed as most of `take`), and the giver writes nothing
    /// into the blocks it keeps.
    struct Batch {
        blocks: [*mut u8; BATCH],
        len: usize,
    }

    // SAFETY: a batch lists plain memory owned by whoever holds the batch
    // alone (`free`'s contract), so moving it to another thread moves sole
    // ownership.
    unsafe impl Send for Batch {}

    impl Batch {
        /// The batch of `blocks` (at most `BATCH`), if there is at least one.
        fn of(blocks: impl Iterator<Item = NonNull<u8>>) -> Option<Batch> {
            let mut batch = Batch {
                blocks: [std::ptr::null_mut(); BATCH],
                len: 0,
            };
            for p in blocks {
                batch.blocks[batch.len] = p.as_ptr();
                batch.len += 1;
            }
            (batch.len > 0).then_some(batch)
        }

        /// The blocks of the batch.
        fn blocks(self) -> impl Iterator<Item = NonNull<u8>> {
            let len = self.len;
            self.blocks
                .into_iter()
                .take(len)
                .map(|p| NonNull::new(p).expect("a batch lists only blocks"))
        }

        /// Gives every block back to the allocator.
        fn dealloc(self, class: Layout) {
            for p in self.blocks() {
                // SAFETY: allocated with `class` (see the module docs), ours.
                unsafe { alloc::dealloc(p.as_ptr(), class) };
            }
        }
    }

    struct Queue {
        give: Sender<Batch>,
        take: Receiver<Batch>,
    }

    static QUEUES: [OnceLock<Queue>; CLASSES] = [const { OnceLock::new() }; CLASSES];

    /// The index of `class` among the kept ones, if blocks of it are kept.
    fn index(class: Layout) -> Option<usize> {
        let i = (class.size() / GRAIN).checked_sub(1)?;
        // Only 16-aligned classes, so `put` knows the layout from the index.
        (class.align() == 16 && i < CLASSES).then_some(i)
    }

    fn queue(i: usize) -> &'static Queue {
        QUEUES[i].get_or_init(|| {
            let size = (i + 1) * GRAIN;
            let (give, take) = bounded((KEPT_BYTES / (size * BATCH)).clamp(2, 64));
            Queue { give, take }
        })
    }

    /// This thread's kept blocks, per class: fewer than `2 * BATCH` each.
    #[derive(Default)]
    struct Local {
        stacks: [Vec<NonNull<u8>>; CLASSES],
    }

    impl Drop for Local {
        /// The thread is ending: its blocks go to the shared queues, or back
        /// to the allocator when those are full.
        fn drop(&mut self) {
            for (i, stack) in self.stacks.iter_mut().enumerate() {
                while !stack.is_empty() {
                    spill(i, stack);
                }
            }
        }
    }

    /// Moves the top `BATCH` blocks of `stack` (class `i`), or all if fewer,
    /// to the shared queue.
    fn spill(i: usize, stack: &mut Vec<NonNull<u8>>) {
        let from = stack.len().saturating_sub(BATCH);
        if let Some(batch) = Batch::of(stack.drain(from..)) {
            put(i, batch);
        }
    }

    /// Hands `batch` to the shared queue of class `i`, or to the allocator.
    fn put(i: usize, batch: Batch) {
        if let Err(full) = queue(i).give.try_send(batch) {
            let size = (i + 1) * GRAIN;
            let class = Layout::from_size_align(size, 16).expect("a class's layout");
            full.into_inner().dealloc(class);
        }
    }

    std::thread_local! {
        static LOCAL: RefCell<Local> = RefCell::new(Local::default());
    }

    /// A kept block of `class` (the caller's class layout), if there is one.
    pub(super) fn take(class: Layout) -> Option<NonNull<u8>> {
        let i = index(class)?;
        LOCAL
            .try_with(|local| {
                let stack = &mut local.borrow_mut().stacks[i];
                if let Some(p) = stack.pop() {
                    return Some(p);
                }
                let mut blocks = queue(i).take.try_recv().ok()?.blocks();
                let first = blocks.next();
                stack.extend(blocks);
                first
            })
            .ok()
            .flatten()
    }

    /// Keeps `p`, or hands it back when its class is not kept (or the thread
    /// is ending).
    pub(super) fn give(p: NonNull<u8>, class: Layout) -> Option<NonNull<u8>> {
        let Some(i) = index(class) else {
            return Some(p);
        };
        LOCAL
            .try_with(|local| {
                let stack = &mut local.borrow_mut().stacks[i];
                stack.push(p);
                if stack.len() >= 2 * BATCH {
                    spill(i, stack);
                }
            })
            .map_or(Some(p), |()| None)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_freed_block_is_kept_for_the_next_request_of_its_class() {
        // Other tests' mailboxes may share the class, so look for our block
        // among the kept ones rather than expecting it first.
        let layout = Layout::from_size_align(GRAIN * 29 + 5, 8).unwrap();
        let a = alloc(layout);
        // SAFETY: allocated above with this layout, untouched since.
        unsafe { free(a, layout) };
        let same_class = Layout::from_size_align(GRAIN * 30, 16).unwrap();
        let mut taken = Vec::new();
        while let Some(b) = kept::take(class_layout(same_class)) {
            taken.push(b);
            if b == a {
                break;
            }
        }
        assert_eq!(taken.last(), Some(&a), "the freed block was kept");
        for b in taken {
            // SAFETY: kept blocks of this class, now ours alone.
            unsafe { free(b, same_class) };
        }
    }

    #[test]
    fn blocks_freed_by_an_ended_thread_serve_another() {
        // The largest kept class: no mailbox in the tests has blocks this big.
        let layout = Layout::from_size_align(GRAIN * CLASSES, 8).unwrap();
        let freed: Vec<usize> = std::thread::spawn(move || {
            let blocks: Vec<NonNull<u8>> = (0..40).map(|_| alloc(layout)).collect();
            let addrs = blocks.iter().map(|p| p.as_ptr() as usize).collect();
            for p in blocks {
                // SAFETY: allocated above with this layout, untouched since.
                unsafe { free(p, layout) };
            }
            addrs
        })
        .join()
        .unwrap();
        // Batches of 16 went to the shared queue as the thread freed them,
        // and the rest when it ended.
        let mut taken = Vec::new();
        while let Some(p) = kept::take(class_layout(layout)) {
            taken.push(p);
        }
        let mine = taken
            .iter()
            .filter(|p| freed.contains(&(p.as_ptr() as usize)))
            .count();
        assert_eq!(mine, 40, "every block the ended thread freed is kept");
        for p in taken {
            // SAFETY: kept blocks of this class, now ours alone.
            unsafe { free(p, layout) };
        }
    }

    #[test]
    fn blocks_too_big_to_keep_go_back_to_the_allocator() {
        let layout = Layout::from_size_align(GRAIN * CLASSES + 1, 8).unwrap();
        let a = alloc(layout);
        // SAFETY: writes inside the allocation (at least `layout.size()`).
        unsafe { a.as_ptr().add(layout.size() - 1).write(7) };
        // SAFETY: allocated above with this layout.
        unsafe { free(a, layout) };
        assert!(kept::take(class_layout(layout)).is_none());
    }
}
