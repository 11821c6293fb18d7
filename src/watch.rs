//! Who watches an actor, and the `Terminated` notice each gets exactly once when it stops for good.
//!
//! # Protocol
//!
//! One lock guards the watcher list and the record of how the actor ended.
//! `add` either finds the end recorded (and notifies at once) or joins the
//! list; `end` records the end and takes the list. Both decide under the lock,
//! so a watcher added while the actor stops is notified by exactly one of them.
//! Notifications run after the lock is released (they push into the watcher's
//! mailbox). Modelled in `loom-tests/watch.rs`.

use crate::exit::Terminated;
use crate::sync::Mutex;
use std::fmt;

/// What a watcher registered: run once with the notice.
pub(crate) type Notify = Box<dyn FnOnce(Terminated) + Send>;

#[derive(Default)]
struct State {
    watchers: Vec<(u64, Notify)>,
    ended: Option<Terminated>,
}

/// The watchers of one actor. Held in the actor's boxed extras, which are
/// allocated by the first watch (most actors are never watched: one that
/// ends unwatched records its end as a seal on the empty box instead, or,
/// for a failure, allocates them), so the state is kept inline.
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
#[derive(Default)]
pub struct Watchers {
    state: Mutex<State>,
}

#[allow(unreachable_pub)]
impl Watchers {
    /// No watchers; the actor has not ended.
    pub fn new() -> Self {
        Watchers::default()
    }

    /// Registers `notify` for `watcher` (replacing an earlier registration of
    /// the same watcher), or runs it at once if the actor has already ended.
    pub fn add(&self, watcher: u64, notify: Box<dyn FnOnce(Terminated) + Send>) {
        let mut state = self.state.lock();
        if let Some(t) = state.ended.clone() {
            drop(state);
            notify(t);
            return;
        }
        state.watchers.retain(|(id, _)| *id != watcher);
        state.watchers.push((watcher, notify));
    }

    /// Drops `watcher`'s registration, if it has one.
    pub fn remove(&self, watcher: u64) {
        self.state.lock().watchers.retain(|(id, _)| *id != watcher);
    }

    /// Records how the actor ended and notifies every watcher once.
    pub fn end(&self, notice: Terminated) {
        let watchers = {
            let mut state = self.state.lock();
            state.ended = Some(notice.clone());
            std::mem::take(&mut state.watchers)
        };
        for (_, notify) in watchers {
            notify(notice.clone());
        }
    }
}

impl fmt::Debug for Watchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Watchers { .. }")
    }
}
