//! How an actor's life ends, and what its parent and watchers are told:
//! [`ExitReason`], [`ChildEvent`], [`Terminated`]. Plain data, below every
//! layer that reports or receives them.

/// A lifecycle event of a child, handed to its parent's [`Actor::on_child`](crate::Actor::on_child).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildEvent {
    /// A supervised child finished `started` successfully; `restarted` says
    /// whether an earlier instance of it had exited.
    Started {
        /// The child's id ([`crate::Addr::id`]).
        id: u64,
        /// Not its first start.
        restarted: bool,
    },
    /// A supervised child's instance ended. The child takes no messages (they
    /// wait in its mailbox) until the parent restarts or stops it. A halt the
    /// parent asked for ([`Context::halt_child`](crate::Context::halt_child)) ends with
    /// [`ExitReason::Shutdown`].
    Exited {
        /// The child's id.
        id: u64,
        /// Why the instance ended.
        reason: ExitReason,
    },
    /// A child stopped for good (any child, supervised or not).
    Stopped {
        /// The child's id.
        id: u64,
        /// Why it stopped, as its watchers see it.
        reason: ExitReason,
    },
}

impl ChildEvent {
    /// The id of the child the event is about.
    pub fn id(&self) -> u64 {
        match self {
            ChildEvent::Started { id, .. }
            | ChildEvent::Exited { id, .. }
            | ChildEvent::Stopped { id, .. } => *id,
        }
    }
}

/// The notice a watcher gets, exactly once, when a watched actor stops for good
/// (see [`Context::watch`](crate::Context::watch)). A restart by a supervisor is not a stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    /// The id of the actor that stopped.
    pub id: u64,
    /// Its name, if it had one.
    pub name: Option<String>,
    /// Why it stopped.
    pub reason: ExitReason,
}

/// Why an actor stopped for good.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// It stopped itself or was asked to stop.
    Normal,
    /// It failed (panic or error), with the failure's description.
    Failed(String),
    /// It gave up: a supervisor that saw more restarts than its intensity
    /// allows (see [`Context::exit`](crate::Context::exit)). Its parent judges it as a failure.
    GaveUp,
    /// Its parent, its supervisor or the system stopped it.
    Shutdown,
}

impl ExitReason {
    /// Whether this exit is a failure ([`ExitReason::Failed`] or
    /// [`ExitReason::GaveUp`]), which a transient child is restarted after.
    pub fn is_failure(&self) -> bool {
        matches!(self, ExitReason::Failed(_) | ExitReason::GaveUp)
    }
}
