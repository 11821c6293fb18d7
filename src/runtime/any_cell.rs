//! The type-erased view of an actor ([`AnyCell`]), through which the
//! registry, parents, watchers and shutdown reach actors of any type, and what
//! they tell it: commands, child notices, stop and exit reasons.

use crate::exit::{ChildEvent, ExitReason};
use crate::sync::Arc;
use crate::watch::Notify;
use std::any::Any;
use std::time::Duration;

/// Why an actor is stopping for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// `stop` was called on its address or context (unsupervised actor).
    Requested,
    /// Its parent is stopping, or its supervisor removed or gave up on it.
    Parent,
    /// The system is shutting down.
    Shutdown,
    /// Its handler (or `started`) failed (unsupervised actor).
    Failed(String),
    /// It was a supervisor that gave up (unsupervised, i.e. a root).
    GaveUp,
    /// Its supervisor decided not to restart it after it exited: the exit
    /// recorded when it halted is the reason.
    Decided,
}

/// How a supervised actor exited, as reported to its supervisor. Its mailbox
/// and address stay; the supervisor decides between restart and stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    /// It stopped itself, or was asked to (`stop`).
    Normal,
    /// Its handler or `started` failed.
    Failed(String),
    /// It was a supervisor that gave up.
    GaveUp,
    /// Its supervisor halted it to restart it with its siblings.
    Halted,
}

impl Exit {
    /// The exit as the parent's [`crate::ChildEvent::Exited`] tells it.
    pub(crate) fn reason(&self) -> ExitReason {
        match self {
            Exit::Normal => ExitReason::Normal,
            Exit::Failed(s) => ExitReason::Failed(s.clone()),
            Exit::GaveUp => ExitReason::GaveUp,
            Exit::Halted => ExitReason::Shutdown,
        }
    }
}

/// What a child tells its parent, through the parent's control lane; the
/// parent's turn hands it to `Actor::on_child` as a `ChildEvent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChildNotice {
    /// A supervised child finished `started` successfully (again, if `true`).
    Started(u64, bool),
    /// A supervised child's instance is gone; it waits for a decision.
    Exited(u64, Exit),
    /// A child stopped for good.
    Stopped(u64, ExitReason),
}

impl ChildNotice {
    pub(crate) fn event(self) -> ChildEvent {
        match self {
            ChildNotice::Started(id, restarted) => ChildEvent::Started { id, restarted },
            ChildNotice::Exited(id, exit) => ChildEvent::Exited {
                id,
                reason: exit.reason(),
            },
            ChildNotice::Stopped(id, reason) => ChildEvent::Stopped { id, reason },
        }
    }
}

/// What a parent asks of a child (`Context::restart_child` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Build a fresh instance and start it (after an exit).
    Start,
    /// Stop the running instance gracefully and report `Exit::Halted`.
    Halt,
    /// Stop for good.
    Stop(StopReason),
}

/// A type-erased actor, for the registry, parents, watchers and shutdown.
pub(crate) trait AnyCell: Send + Sync {
    fn id(&self) -> u64;
    fn label(&self) -> String;
    fn is_root(&self) -> bool;
    /// Spawned supervised: its exits wait for its parent's decision.
    fn is_supervised(&self) -> bool;
    fn shutdown_timeout(&self) -> Option<Duration>;
    /// The worker running the actor now, if one is.
    fn running_on(&self) -> Option<usize>;
    /// User messages in its mailbox now (parked sends included).
    fn queued(&self) -> usize;
    /// Whether it is in a run queue or running now.
    fn scheduled(&self) -> bool;
    /// The name of its own thread, for an actor spawned on one.
    fn thread_name(&self) -> Option<String>;
    /// Not stopped for good yet (a restart is not a stop).
    fn is_alive(&self) -> bool;
    /// Pushes a command into the control lane (ignored once stopped).
    fn command(self: Arc<Self>, command: Command);
    /// Pushes a child's notice into the control lane (ignored once stopped).
    fn notice(self: Arc<Self>, notice: ChildNotice);
    /// Closes the user lane of an actor whose handler is stuck (a shutdown ran
    /// out of time): blocked and parked senders get their messages back or are
    /// released, queued messages go to dead letters.
    fn abandon(&self);
    /// Registers `notify` to run once when this actor stops for good (at once
    /// if it already has); a second registration by `watcher` replaces the first.
    fn add_watcher(&self, watcher: u64, notify: Notify);
    fn remove_watcher(&self, watcher: u64);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}
