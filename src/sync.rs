//! The one place the crate names its concurrency primitives: `std` and crossbeam
//! normally, `loom` under `cfg(loom)`, so the code loom checks is the code that ships.
//!
//! Every atomic, lock, condition variable, thread spawn and thread-local of the
//! crate comes from here. Two deliberate exceptions:
//!
//! - `Arc` is `std`'s in both modes. loom's `Arc` cannot be coerced to a trait
//!   object (`Arc<dyn Runnable>`), which the run queues and recipients rely on; a
//!   reference count is not one of our protocols, so nothing is lost.
//! - `Ordering` comes from `std` (loom re-exports the same type).
//!
//! [`Mutex::lock`] never poisons: a panic inside a critical section is caught by
//! the runtime and handled as an actor failure, and the data our locks guard is
//! kept consistent by construction (no user code runs while they are held, except
//! a message mapping that cannot leave a half-written queue behind).

pub(crate) use std::sync::Arc;
pub(crate) use std::sync::atomic::Ordering;

/// Runs the panic hook's installation once per process (not modelled: no
/// protocol of the crate depends on it).
#[cfg(not(loom))]
pub(crate) use std::sync::Once;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence,
};
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence,
};
#[cfg(loom)]
pub(crate) use loom::thread;

pub(crate) use crossbeam_utils::CachePadded;

#[cfg(not(loom))]
use std::sync as imp;

#[cfg(loom)]
use loom::sync as imp;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// A mutual-exclusion lock that does not poison.
pub(crate) struct Mutex<T>(imp::Mutex<T>);

/// The guard of a [`Mutex`].
pub(crate) struct MutexGuard<'a, T>(imp::MutexGuard<'a, T>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Locks, ignoring poison (see the module docs for why that is sound here).
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard(self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mutex { .. }")
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A lock for tiny critical sections that are almost never contended: the
/// pool's run queues. Taking it is one compare-and-swap and releasing it one
/// plain store, where [`Mutex`] releases with a second read-modify-write (it
/// must learn whether to wake a sleeper). Where every message is one push to
/// and one pop from a run queue (ping-pong), that second RMW is a large part
/// of the queues' cost (see `BENCHMARKS.md`). A waiter spins with [`Backoff`], which
/// yields the CPU after a few rounds, so a preempted holder is not spun
/// against for a whole time slice.
///
/// Under loom it runs on loom's atomics and cell and has a model of its own
/// (`loom-tests/pool_queue.rs`); the models of the pool take [`Mutex`] in its
/// place (see [`RunQueueLock`]), since loom cannot explore spinning waiters
/// inside larger models (their branch count explodes) and the two locks
/// promise the same: mutual exclusion, each holder ordered after the last.
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    #[cfg(not(loom))]
    value: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    value: loom::cell::UnsafeCell<T>,
}

// SAFETY: the lock hands the value to one thread at a time (the Acquire CAS
// in `lock` and the Release store in the guard's drop order each holder
// after the previous one), so sharing the lock moves `T`s between threads
// and never shares one: `T: Send` suffices, as for `std::sync::Mutex`.
#[allow(unsafe_code)]
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: owning the lock owns the value.
#[allow(unsafe_code)]
unsafe impl<T: Send> Send for SpinLock<T> {}

/// The guard of a [`SpinLock`]: the value, until dropped.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// Loom's record of this exclusive access, checked against every other;
    /// it ends just before the lock is released.
    #[cfg(loom)]
    access: Option<loom::cell::MutPtr<T>>,
}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            #[cfg(not(loom))]
            value: std::cell::UnsafeCell::new(value),
            #[cfg(loom)]
            value: loom::cell::UnsafeCell::new(value),
        }
    }

    /// Takes the lock, spinning (and then yielding) while another thread has it.
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        // ORDERING: Acquire pairs with the Release store of the previous
        // holder's guard: its writes to the value are visible to us.
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            let backoff = Backoff::new();
            // ORDERING: Relaxed; only tells when to try the CAS again, which
            // does the synchronising.
            while self.locked.load(Ordering::Relaxed) {
                backoff.snooze();
            }
        }
        SpinGuard {
            lock: self,
            #[cfg(loom)]
            access: Some(self.value.get_mut()),
        }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        #[cfg(loom)]
        drop(self.access.take());
        // ORDERING: Release publishes our writes to the value to the next
        // holder, whose Acquire CAS reads this store.
        self.lock.locked.store(false, Ordering::Release);
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    #[allow(unsafe_code)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other thread reaches the
        // value until it drops; the reference cannot outlive the guard.
        #[cfg(not(loom))]
        unsafe {
            &*self.lock.value.get()
        }
        // SAFETY: as above; loom checks the access the pointer records.
        #[cfg(loom)]
        unsafe {
            self.access.as_ref().expect("held until drop").deref()
        }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[allow(unsafe_code)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        #[cfg(not(loom))]
        unsafe {
            &mut *self.lock.value.get()
        }
        // SAFETY: as above.
        #[cfg(loom)]
        unsafe {
            self.access.as_ref().expect("held until drop").deref()
        }
    }
}

impl<T> fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpinLock { .. }")
    }
}

/// The lock of the pool's run queues: [`SpinLock`], or [`Mutex`] under loom
/// (see [`SpinLock`] for why).
#[cfg(not(loom))]
pub(crate) type RunQueueLock<T> = SpinLock<T>;
#[cfg(loom)]
pub(crate) type RunQueueLock<T> = Mutex<T>;

/// A condition variable working with [`Mutex`].
///
/// Under loom `wait_timeout` never times out (loom does not model time), so every
/// caller re-checks its own condition and deadline in a loop.
#[derive(Default)]
pub(crate) struct Condvar(imp::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(imp::Condvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard(self.0.wait(guard.0).unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits for a notification or until `dur` has passed, whichever comes first.
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> MutexGuard<'a, T> {
        match self.0.wait_timeout(guard.0, dur) {
            Ok((g, _)) => MutexGuard(g),
            Err(e) => MutexGuard(e.into_inner().0),
        }
    }

    pub(crate) fn notify_one(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}

/// A cell whose contents are reached only through raw pointers handed to a
/// closure (`with` to read, `with_mut` to write), the shape of loom's
/// `UnsafeCell`, which under `cfg(loom)` replaces it and checks every access
/// for a data race. Callers argue in a `// SAFETY:` comment why no other
/// thread touches the contents during the closure.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Exponential spinning before a thread parks.
///
/// Under loom, spinning only multiplies the schedules to explore, so the stand-in
/// yields once (letting loom run another thread) and then reports completion.
#[cfg(not(loom))]
pub(crate) use crossbeam_utils::Backoff;

#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    done: std::cell::Cell<bool>,
}

#[cfg(loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff::default()
    }
    pub(crate) fn snooze(&self) {
        loom::thread::yield_now();
        self.done.set(true);
    }
    pub(crate) fn is_completed(&self) -> bool {
        self.done.get()
    }
    pub(crate) fn reset(&self) {
        self.done.set(false);
    }
}

/// A number never returned before in this process.
///
/// A plain `std` atomic even under loom: a process-wide counter is no protocol
/// to check, and a loom static would outlive a model's iterations.
pub(crate) fn process_unique_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    // ORDERING: Relaxed; uniqueness needs only the RMW's atomicity.
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The number of CPUs, fixed at 2 under loom (loom allows few threads).
pub(crate) fn num_cpus() -> usize {
    #[cfg(not(loom))]
    {
        num_cpus::get().max(1)
    }
    #[cfg(loom)]
    {
        2
    }
}

/// A seed for the victim-selection generator: varied per thread normally, fixed
/// under loom so a failing model replays.
pub(crate) fn random_seed() -> u64 {
    #[cfg(not(loom))]
    {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(0);
        h.finish() | 1
    }
    #[cfg(loom)]
    {
        0x9E37_79B9_7F4A_7C15
    }
}

/// `thread_local!` from std, or from loom under `cfg(loom)` (loom resets it per
/// iteration). A `const { }` initializer (no lazy-init check on each access
/// with std) is taken by both.
#[cfg(not(loom))]
macro_rules! sync_thread_local {
    ($($t:tt)*) => { std::thread_local!($($t)*); };
}
#[cfg(loom)]
macro_rules! sync_thread_local {
    // loom's macro takes no `const { }` initializer: the block's value is
    // the initializer.
    ($(#[$m:meta])* $v:vis static $name:ident: $t:ty = const $init:block;) => {
        loom::thread_local!($(#[$m])* $v static $name: $t = $init;);
    };
    ($($t:tt)*) => { loom::thread_local!($($t)*); };
}
pub(crate) use sync_thread_local as thread_local;

/// A box allocated on first use by whichever thread asks first, then shared
/// until its owner drops (the shape of `once_cell::race::OnceBox`), or
/// sealed instead with a small tag while still empty.
///
/// Racing first users each build a value; one installs its box with a
/// compare-and-swap, the others drop theirs and use the winner's. An
/// installed box is never replaced or freed before the `OnceBox` drops, so
/// a reference to it lives as long as `&self`.
///
/// A seal takes the place of a box that will never be needed: it is a tag
/// from 1 to [`OnceBox::SEALS`] stored in the pointer word itself (never a
/// box's address: `T` is aligned to more than that), installed by the same
/// compare-and-swap on the empty word. So a seal and an install race like
/// two installs: exactly one of them wins, and the other learns which (the
/// installer gets the tag, the sealer the installed value). Once sealed,
/// [`OnceBox::get`] returns `None` and no box is ever installed. Modelled in
/// `loom-tests/once_box.rs`.
pub(crate) struct OnceBox<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: the box is shared by reference between threads once installed
// (`T: Sync`) and dropped by whichever thread drops the owner (`T: Send`);
// installing moves a value built on one thread to the others.
#[allow(unsafe_code)]
unsafe impl<T: Send + Sync> Sync for OnceBox<T> {}
// SAFETY: owning the `OnceBox` owns the box.
#[allow(unsafe_code)]
unsafe impl<T: Send> Send for OnceBox<T> {}

impl<T> OnceBox<T> {
    /// The largest tag a seal may carry.
    pub(crate) const SEALS: usize = 3;

    /// Holding `value` from the start, or empty.
    pub(crate) fn new(value: Option<Box<T>>) -> Self {
        // A box's address is a multiple of `T`'s alignment, so no box is
        // ever mistaken for a seal.
        const {
            assert!(std::mem::align_of::<T>() > Self::SEALS);
        }
        OnceBox {
            ptr: AtomicPtr::new(value.map_or(std::ptr::null_mut(), Box::into_raw)),
        }
    }

    /// What the word `p` holds: a box's value (`Ok`), or nothing or a seal
    /// (`Err` with 0 or the tag).
    ///
    /// # Safety
    ///
    /// `p` was loaded from `self.ptr`, so a box it points to is installed
    /// and lives as long as `&self` (freed only by `drop`, which takes
    /// `&mut self`).
    #[inline]
    #[allow(unsafe_code)]
    unsafe fn decode(&self, p: *mut T) -> Result<&T, usize> {
        if p.addr() <= Self::SEALS {
            Err(p.addr())
        } else {
            // SAFETY: not null and not a seal, so an installed box (see
            // above), which outlives `&self`.
            Ok(unsafe { &*p })
        }
    }

    /// The value, if one is installed.
    #[inline]
    pub(crate) fn get(&self) -> Option<&T> {
        // ORDERING: Acquire pairs with the Release of the installing CAS in
        // `get_or_init` (or with the publication of `self` after `new`), so
        // the value written before its box was installed is seen whole.
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: loaded from `self.ptr`.
        #[allow(unsafe_code)]
        unsafe {
            self.decode(p).ok()
        }
    }

    /// The value, built by `init` and installed if there is none yet; or
    /// the tag of the seal that came first.
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> Result<&T, usize> {
        // ORDERING: Acquire, as in `get`; for a seal it pairs with the
        // sealing CAS's Release, so what the sealer did before is seen.
        let p = self.ptr.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: loaded from `self.ptr`.
            #[allow(unsafe_code)]
            return unsafe { self.decode(p) };
        }
        let new = Box::into_raw(Box::new(init()));
        // ORDERING: AcqRel on success: Release publishes the new value to
        // every later `get` (Acquire). Acquire on failure pairs with the
        // winner's Release (an install's or a seal's), as above.
        match self.ptr.compare_exchange(
            std::ptr::null_mut(),
            new,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `new` is installed now and freed only by `drop`.
            #[allow(unsafe_code)]
            Ok(_) => Ok(unsafe { &*new }),
            Err(winner) => {
                // SAFETY: `new` lost the race: it was never shared, so this
                // is its only owner. `winner` was loaded from `self.ptr`.
                #[allow(unsafe_code)]
                unsafe {
                    drop(Box::from_raw(new));
                    self.decode(winner)
                }
            }
        }
    }

    /// Seals the empty box with `tag` (1 to [`OnceBox::SEALS`]): from now on
    /// nothing is installed and `get_or_init` returns the tag. If a value
    /// was installed first, nothing is sealed and that value is returned.
    /// Sealed at most once.
    pub(crate) fn seal(&self, tag: usize) -> Result<(), &T> {
        debug_assert!((1..=Self::SEALS).contains(&tag), "seal tag {tag}");
        // ORDERING: Release on success publishes what the sealer did before
        // to whoever finds the seal (Acquire in `get_or_init`). Acquire on
        // failure pairs with the installer's Release, so its value is seen
        // whole.
        match self.ptr.compare_exchange(
            std::ptr::null_mut(),
            std::ptr::without_provenance_mut(tag),
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(()),
            // SAFETY: loaded from `self.ptr`.
            #[allow(unsafe_code)]
            Err(p) => match unsafe { self.decode(p) } {
                Ok(value) => Err(value),
                Err(_) => {
                    debug_assert!(false, "a box sealed twice");
                    Ok(())
                }
            },
        }
    }
}

impl<T> Drop for OnceBox<T> {
    fn drop(&mut self) {
        // ORDERING: Acquire, as in `get`; `&mut self` already orders every
        // other access before this one.
        let p = self.ptr.load(Ordering::Acquire);
        if p.addr() > Self::SEALS {
            // SAFETY: installed from `Box::into_raw` (neither null nor a
            // seal), and nothing else frees it.
            #[allow(unsafe_code)]
            drop(unsafe { Box::from_raw(p) });
        }
    }
}
