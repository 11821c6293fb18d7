//! Watching: a worker whose only work in sight is other workers' run-next
//! tasks watches their owners instead of sleeping, and takes a task whose
//! owner is stuck.
//!
//! A task submitted by a worker goes into its run-next slot: the actor a
//! handler just sent to runs next on the same core, with its message still in
//! cache, and no other worker is woken to steal it (which would bounce the
//! pair between cores). The push still wakes a sleeper when nobody is
//! searching, as every push does, so a worker blocked inside a task cannot
//! strand its run-next task: the woken worker watches until it sees the owner
//! stuck, then takes the task.

use super::queue::Pending;
use super::shared::Shared;
use super::worker::{LoopState, Worker};
use crate::sync::Ordering;
use std::time::Duration;

/// How long a watching worker (see the module docs) first sleeps between
/// looks, and the longest it sleeps once the owners keep making progress.
pub(super) const WATCH_MIN: Duration = Duration::from_micros(20);
const WATCH_MAX: Duration = Duration::from_micros(500);

/// How many watches in a row a worker keeps up after it last saw a run-next
/// task, before it sleeps until woken. Between two messages of a ping-pong
/// the slot is empty half of the time; a worker that slept then would be
/// woken by the very next push, a futex call on the sender's path per message.
pub(super) const WATCH_QUIET_LOOKS: u32 = 4;

impl Shared {
    /// Cuts short the sleep of every watching worker, so that a task anyone
    /// may take does not wait for the end of a watch.
    pub(super) fn unpark_watchers(&self) {
        for worker in self.workers.iter() {
            // ORDERING: Relaxed. Our push was a critical section on a queue
            // lock that a watcher takes after setting its flag (see `watch`):
            // either its look sees the task, or its flag store happens before
            // this load.
            if worker.watching.load(Ordering::Relaxed) {
                worker.parker.unpark();
            }
        }
    }
}

impl Worker {
    /// Watching: the only work in sight is run-next tasks of workers busy
    /// with a task. Their owners will most likely run them in a moment, and
    /// taking them would move an actor away from the core its message is on;
    /// but an owner's task may also block for good (synchronous handlers do
    /// I/O). So instead of sleeping until woken, sleep a short while, then look
    /// again; `steal` takes a run-next task whose owner's tick has not moved
    /// since the watch began. The sleep doubles up to [`WATCH_MAX`] while owners
    /// keep making progress, so a long busy spell costs few wake-ups; and a
    /// watcher keeps watching for [`WATCH_QUIET_LOOKS`] looks after the slots
    /// empty, so an owner passing messages back and forth does not wake it
    /// with each push. Only then does it sleep until woken.
    ///
    /// A watcher is neither searching nor sleeping for the idle protocol, so
    /// pushes to run-next slots do not wake it. Pushes that leave a backlog cut
    /// its sleep short (`Shared::unpark_watchers`); the queue locks make
    /// either the watcher's look see the task or the pusher see its flag.
    pub(super) fn watch(&self, st: &mut LoopState) {
        let remote = &self.shared.workers[self.index];
        for (seen, worker) in st.seen.iter_mut().zip(self.shared.workers.iter()) {
            *seen = worker.tick();
        }
        // ORDERING: Relaxed. The look below takes the queue locks after this
        // store, which orders it before any push that look misses.
        remote.watching.store(true, Ordering::Relaxed);
        if self.shared.pending() != Pending::Queued && !self.shared.is_shutting_down() {
            remote.parker.park_timeout(st.watch_for);
        }
        // ORDERING: Relaxed; a late-seen clear only costs a spurious unpark.
        remote.watching.store(false, Ordering::Relaxed);
        self.shared.flush_staged(false);
        st.watch_for = (st.watch_for * 2).min(WATCH_MAX);
    }
}
