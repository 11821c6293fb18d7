//! Staged starts: how the first turns of actors spawned outside the pool
//! reach the workers in batches.
//!
//! The first turn of an actor spawned by a thread outside the
//! pool is not pushed to the injector at once but staged
//! ([`Shared::submit_start`], [`Staged`]), and the staging area reaches the
//! injector as one batch:
//!
//! - by the spawner whose start fills it ([`Staged::BATCH`] starts): one
//!   injector push and one wake-up check for the whole batch rather than one
//!   of each per start (the hand-off of a start is the largest single cost
//!   of a thread spawning many actors: see `BENCHMARKS.md`, spawn);
//! - by a worker, in every look that decides to sleep (idle protocol step
//!   5), after a wake-up, after a watch, before retiring, and with step 1's
//!   periodic look at the injector, so a pool whose workers never run out of
//!   work still gets to them.
//!
//! A move holds the injector's lock and then the staging lock
//! ([`Injector::take_staged`]), so a start is always in one of the two;
//! every retiring worker moves what is staged, and the last one closes the
//! staging area in the same critical section ([`Injector::retire`]).
//!
//! Only the start staged into an empty area is announced like a push
//! (`after_push`): it makes some worker due to look, and that look takes
//! every start staged by then; a start staged after the look finds the area
//! empty and is announced in turn. Moving staged starts to the injector is
//! itself announced like a push: the mover takes only its share, and one
//! that moves them in its last look before sleeping is not searching, so
//! finding work wakes nobody else (`src/pool/tests.rs`,
//! `staged_starts_moved_to_the_injector_are_announced_to_the_sleepers`,
//! fails without it). The look before sleeping takes the staging lock, so
//! the no-lost-wake-up argument of [`super::idle`] covers staged starts as
//! it covers the queues. Messages told to such an actor wait in its
//! mailbox: its run token is out (queued and running are one state), so
//! their sends submit nothing. Modelled in `loom-tests/pool_park.rs`
//! (`staged_start_*`, `a_start_staged_*`, `a_full_batch_*`).

use super::Task;
use super::queue::Stage;
use super::shared::Shared;
use super::worker::push_local;
use crate::sync::Arc;

impl Shared {
    /// Queues the first turn of an actor just spawned: like [`Shared::submit`]
    /// on one of this pool's workers; from any other thread, staged, so that
    /// a thread spawning many actors hands them to the workers
    /// [`Staged::BATCH`] at a time (module docs, "Staged starts").
    pub(crate) fn submit_start(self: &Arc<Self>, task: Task) {
        let task = match push_local(self, task, false) {
            Ok(backlog) => return self.after_push(backlog),
            Err(task) => task,
        };
        match self.staged.push(task) {
            Stage::First => self.after_push(true),
            Stage::Behind => {}
            Stage::Full => {
                // None moved: a worker took them first, and announces them.
                if self.injector.take_staged(&self.staged, true) > 0 {
                    self.after_push(true);
                }
            }
            Stage::Refused(task) => {
                log::warn!("playhouse pool: a start submitted after shutdown was dropped");
                drop(task);
            }
        }
    }

    /// Moves every staged start to the injector, then does what a push does
    /// next ([`Shared::after_push`]): only the first start staged was
    /// announced, and the others may need another worker. `locked_look` as
    /// in [`Injector::take_staged`]. Returns whether it moved any.
    ///
    /// Never called by a worker on the sleeper list, whom the wake-up could
    /// pick.
    pub(super) fn flush_staged(&self, locked_look: bool) -> bool {
        if self.injector.take_staged(&self.staged, locked_look) == 0 {
            return false;
        }
        self.after_push(true);
        true
    }
}
