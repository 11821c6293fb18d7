//! Spare mailbox blocks: freed blocks kept for the next allocation, shared by
//! every mailbox in the process.
//!
//! A user lane allocates a block every `BLOCK_CAP` messages on the sending
//! thread and frees it on the consuming one, and an actor that goes idle for
//! the first time frees its only block on its worker. So nearly every block
//! is freed by a thread other than the one that allocated it. glibc's
//! allocator then takes the allocating thread's arena lock for each free,
//! and a thread that spawns and tells actors while the workers free their
//! blocks loses much of its time to that lock (futex waits under
//! `__lll_lock_wait_private` in `perf` of the spawn workload).
//!
//! Here a freed block goes into a bounded lock-free queue (crossbeam-channel's
//! array flavour) for its size class, and an allocation takes from it first;
//! only when the queue is full or empty does the global allocator see the
//! block. The memory kept is bounded by [`KEPT_BYTES`] per class in use.
//!
//! Every block of a class is allocated with the class's layout (the size
//! rounded up to [`GRAIN`] bytes, the alignment at least 16), so any block
//! of a class can serve any request of it and is freed with the layout it was
//! allocated with.
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
    use std::alloc::Layout;
    use std::ptr::NonNull;
    use std::sync::OnceLock;

    /// A kept block: memory no thread refers to.
    struct Spare(NonNull<u8>);

    // SAFETY: a kept block is plain memory owned by the queue alone (`free`'s
    // contract), so moving it to another thread moves sole ownership.
    unsafe impl Send for Spare {}

    struct Queue {
        give: Sender<Spare>,
        take: Receiver<Spare>,
    }

    static QUEUES: [OnceLock<Queue>; CLASSES] = [const { OnceLock::new() }; CLASSES];

    /// The queue of `class`, if blocks of it are kept.
    fn queue(class: Layout) -> Option<&'static Queue> {
        if class.align() > GRAIN {
            return None;
        }
        let q = QUEUES.get(class.size() / GRAIN - 1)?;
        Some(q.get_or_init(|| {
            let (give, take) = bounded((KEPT_BYTES / class.size()).clamp(16, 1024));
            Queue { give, take }
        }))
    }

    pub(super) fn take(class: Layout) -> Option<NonNull<u8>> {
        queue(class)?.take.try_recv().ok().map(|s| s.0)
    }

    /// Keeps `p`, or hands it back when its class is not kept or is full.
    pub(super) fn give(p: NonNull<u8>, class: Layout) -> Option<NonNull<u8>> {
        match queue(class) {
            Some(q) => q.give.try_send(Spare(p)).err().map(|e| e.into_inner().0),
            None => Some(p),
        }
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
