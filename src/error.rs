//! The public error types of the core (a pattern keeps its own beside it).
//!
//! Errors of operations that carry a message hand the message back (as
//! crossbeam-channel does), so nothing a caller sends is silently lost. Their
//! `Debug` output does not print the message, so it needs no `M: Debug`.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// What an actor's handler returns when it fails without panicking.
///
/// Any error type converts into it with `?` or `.into()`.
pub type ActorError = Box<dyn Error + Send + Sync + 'static>;

/// A configuration that cannot work, rejected when it is built.
///
/// Returned by the builders ([`crate::SystemBuilder`], [`crate::PoolBuilder`],
/// [`crate::SpawnOptions`]) for zero workers, a zero mailbox capacity, a zero
/// throughput, or when the operating system refuses to start a thread.
pub struct BuildError {
    kind: BuildErrorKind,
}

enum BuildErrorKind {
    Zero(&'static str),
    Invalid(String),
    Thread(std::io::Error),
    /// A low watermark not below its mailbox's capacity.
    Watermark {
        low: usize,
        capacity: usize,
    },
}

impl BuildError {
    pub(crate) fn zero(setting: &'static str) -> Self {
        BuildError {
            kind: BuildErrorKind::Zero(setting),
        }
    }

    /// A configuration that cannot work, described by `what` (a lowercase
    /// phrase, no final period). For builders outside the core (patterns,
    /// user code) as much as for the core's own.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::BuildError;
    ///
    /// let e = BuildError::invalid("backoff minimum above its maximum");
    /// assert_eq!(e.to_string(), "invalid configuration: backoff minimum above its maximum");
    /// assert_eq!(e.setting(), None);
    /// ```
    pub fn invalid(what: impl Into<String>) -> Self {
        BuildError {
            kind: BuildErrorKind::Invalid(what.into()),
        }
    }

    pub(crate) fn watermark(low: usize, capacity: usize) -> Self {
        BuildError {
            kind: BuildErrorKind::Watermark { low, capacity },
        }
    }

    pub(crate) fn thread(err: std::io::Error) -> Self {
        BuildError {
            kind: BuildErrorKind::Thread(err),
        }
    }

    /// The setting that was zero (`"workers"`, `"mailbox capacity"`,
    /// `"throughput"`, `"stack size"`, `"period"`, `"restart period"`,
    /// `"backoff"`), or `None` for any other invalid configuration and when
    /// a thread could not be started.
    pub fn setting(&self) -> Option<&'static str> {
        match self.kind {
            BuildErrorKind::Zero(s) => Some(s),
            BuildErrorKind::Watermark { .. } => Some("low watermark"),
            BuildErrorKind::Invalid(_) | BuildErrorKind::Thread(_) => None,
        }
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::Zero(s) => f.debug_tuple("BuildError").field(s).finish(),
            BuildErrorKind::Invalid(s) => f.debug_tuple("BuildError").field(s).finish(),
            BuildErrorKind::Watermark { low, capacity } => f
                .debug_struct("BuildError")
                .field("low_watermark", low)
                .field("capacity", capacity)
                .finish(),
            BuildErrorKind::Thread(e) => f.debug_tuple("BuildError").field(e).finish(),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::Zero(s) => write!(f, "invalid configuration: {s} must be at least 1"),
            BuildErrorKind::Invalid(s) => write!(f, "invalid configuration: {s}"),
            BuildErrorKind::Watermark { low, capacity } => write!(
                f,
                "invalid configuration: low watermark {low} must be below the mailbox capacity {capacity}"
            ),
            BuildErrorKind::Thread(_) => f.write_str("could not start a thread"),
        }
    }
}

impl Error for BuildError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            BuildErrorKind::Thread(e) => Some(e),
            BuildErrorKind::Zero(_)
            | BuildErrorKind::Invalid(_)
            | BuildErrorKind::Watermark { .. } => None,
        }
    }
}

macro_rules! message_error {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(PartialEq, Eq, Clone, Copy)]
        pub enum $name<M> {
            $( $(#[$vmeta])* $variant(M), )*
        }

        impl<M> $name<M> {
            /// Gives back the message that was not delivered.
            pub fn into_inner(self) -> M {
                match self {
                    $( $name::$variant(m) => m, )*
                }
            }
        }

        impl<M> fmt::Debug for $name<M> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( $name::$variant(_) => f.write_str(concat!(stringify!($variant), "(..)")), )*
                }
            }
        }

        impl<M> fmt::Display for $name<M> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( $name::$variant(_) => f.write_str($text), )*
                }
            }
        }

        impl<M> Error for $name<M> {}
    };
}

message_error! {
    /// Why [`crate::Addr::try_tell`] did not deliver; the message comes back.
    TrySendError {
        /// The mailbox is at capacity.
        Full => "sending on a full mailbox",
        /// The actor has stopped (or the system is shutting down).
        Closed => "sending to a stopped actor",
    }
}

message_error! {
    /// Why [`crate::Addr::tell`] did not deliver; the message comes back.
    SendError {
        /// The actor has stopped (or the system is shutting down).
        Closed => "sending to a stopped actor",
        /// The mailbox is full and the caller is a pool worker where no actor
        /// of the target's system runs (a handler of another system, a plain
        /// pool job), which must never block. Inside an actor of the target's
        /// system a `tell` parks and suspends the sender instead, as
        /// `Context::send` does.
        WouldBlockWorker => "sending would block a pool worker thread",
    }
}

message_error! {
    /// Why [`crate::Addr::tell_timeout`] did not deliver; the message comes back.
    SendTimeoutError {
        /// The mailbox stayed full until the deadline.
        Timeout => "timed out sending on a full mailbox",
        /// The actor has stopped (or the system is shutting down).
        Closed => "sending to a stopped actor",
        /// The mailbox is full and the caller is a pool worker where no actor
        /// of the target's system runs, which must never block.
        WouldBlockWorker => "sending would block a pool worker thread",
    }
}

impl<M> From<TrySendError<M>> for SendError<M> {
    fn from(e: TrySendError<M>) -> Self {
        match e {
            TrySendError::Full(m) => SendError::WouldBlockWorker(m),
            TrySendError::Closed(m) => SendError::Closed(m),
        }
    }
}

/// Why an ask got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AskError {
    /// No reply came before the deadline; a late reply is discarded.
    Timeout,
    /// The actor stopped before it answered (or was already stopped).
    Closed,
    /// The actor dropped the [`crate::Reply`] without answering.
    ReplyDropped,
    /// The actor's handler failed (panicked or returned `Err`) on the request.
    Failed,
    /// The caller is a pool worker, which must never block; inside an actor use
    /// `Context::ask`, which delivers the answer as a continuation.
    WouldBlockWorker,
    /// An actor asked itself: it could never answer while it waits.
    SelfAsk,
    /// In a simulation, nothing was left to run (or the step budget ran
    /// out) before the answer came: waiting longer could never end.
    Stalled,
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AskError::Timeout => "ask timed out",
            AskError::Closed => "asked actor stopped before answering",
            AskError::ReplyDropped => "asked actor dropped the reply without answering",
            AskError::Failed => "asked actor failed while handling the request",
            AskError::WouldBlockWorker => "asking would block a pool worker thread",
            AskError::SelfAsk => "an actor cannot ask itself",
            AskError::Stalled => "the simulation has nothing left to run before the answer",
        })
    }
}

impl Error for AskError {}

/// Why an actor could not be spawned.
#[derive(Debug)]
#[non_exhaustive]
pub enum SpawnError {
    /// The system is shutting down or has shut down.
    SystemStopped,
    /// The parent actor is stopping and takes no new children.
    ParentStopping,
    /// Another live actor is registered under this name.
    NameTaken(String),
    /// The spawn options are invalid (for example a zero mailbox capacity).
    Config(BuildError),
    /// The option needs real threads, which a simulated system does not
    /// have (for example [`crate::SpawnOptions::dedicated_thread`]).
    NotSimulated(&'static str),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::SystemStopped => f.write_str("the actor system is shutting down"),
            SpawnError::ParentStopping => f.write_str("the parent actor is stopping"),
            SpawnError::NameTaken(n) => write!(f, "an actor named {n:?} is already running"),
            SpawnError::Config(_) => f.write_str("invalid spawn options"),
            SpawnError::NotSimulated(what) => {
                write!(
                    f,
                    "{what} cannot run in a simulation (it needs a real thread)"
                )
            }
        }
    }
}

impl Error for SpawnError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            SpawnError::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BuildError> for SpawnError {
    fn from(e: BuildError) -> Self {
        SpawnError::Config(e)
    }
}

/// An actor whose handler did not return in time during shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckActor {
    /// The actor's name (or `#id` for an unnamed actor).
    pub actor: String,
    /// The name of the worker thread running it.
    pub worker: String,
}

/// Shutdown lost work (accepted messages went to dead letters unhandled), did
/// not finish within its timeout, or could not wait for itself.
///
/// Rust cannot kill a thread: a handler that never returns keeps its worker.
/// Every other thread was stopped and joined; the stuck workers were detached.
///
/// Called on one of the system's own workers (inside a handler or hook),
/// shutdown cannot wait for the caller's own turn; on a worker of another
/// system it must not block that worker. Either way it goes on on a thread
/// of its own and returns this at once, with
/// [`continues_in_background`](ShutdownError::continues_in_background) true
/// and no stuck actors; that thread logs how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownError {
    pub(crate) timeout: Duration,
    pub(crate) stuck: Vec<StuckActor>,
    /// Actors that still had work when the drain ran out of time.
    pub(crate) busy: Vec<String>,
    /// Actors not stopped by the deadline, whose lanes were closed.
    pub(crate) abandoned: Vec<String>,
    /// Accepted messages that went to dead letters during the shutdown.
    pub(crate) dead_letters: u64,
    pub(crate) background: bool,
    /// The call came from a worker of another system.
    pub(crate) other_system: bool,
}

impl ShutdownError {
    /// A report with nothing in it yet.
    pub(crate) fn empty(timeout: Duration) -> Self {
        ShutdownError {
            timeout,
            stuck: Vec::new(),
            busy: Vec::new(),
            abandoned: Vec::new(),
            dead_letters: 0,
            background: false,
            other_system: false,
        }
    }

    /// The actors still running when the timeout expired, with their workers.
    pub fn stuck(&self) -> &[StuckActor] {
        &self.stuck
    }

    /// How many messages a mailbox had accepted and that went to dead letters
    /// during the shutdown, unhandled (queued or parked when their actor
    /// stopped or was abandoned).
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters
    }

    /// The actors that still had messages queued, or a handler running, when
    /// draining ran out of time (names, or `#id`).
    pub fn busy(&self) -> &[String] {
        &self.busy
    }

    /// The actors that had not stopped by the deadline (those in
    /// [`stuck`](ShutdownError::stuck) among them): their mailboxes were
    /// closed and their messages went to dead letters, and their `stopped`
    /// hooks may not have run.
    pub fn abandoned(&self) -> &[String] {
        &self.abandoned
    }

    /// Whether shutdown was called on a pool worker (one of the system's
    /// own, or another system's) and goes on on a thread of its own, without
    /// the caller waiting for it. A handler of the system itself should
    /// return soon: its worker is joined once it does.
    pub fn continues_in_background(&self) -> bool {
        self.background
    }
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.background && self.other_system {
            return write!(
                f,
                "shutdown was called on a worker of another system, which must not \
                 block on it: it goes on on a thread of its own, within {:?}",
                self.timeout
            );
        }
        if self.background {
            return write!(
                f,
                "shutdown was called on one of the system's own workers, where it \
                 cannot wait for the caller's own turn: it goes on on a thread of its \
                 own, within {:?}",
                self.timeout
            );
        }
        write!(
            f,
            "shutdown within {:?} lost work: {} accepted messages went to dead letters",
            self.timeout, self.dead_letters
        )?;
        if !self.busy.is_empty() {
            write!(
                f,
                "; still busy when draining ended: {}",
                self.busy.join(", ")
            )?;
        }
        if !self.abandoned.is_empty() {
            write!(f, "; abandoned: {}", self.abandoned.join(", "))?;
        }
        for (i, s) in self.stuck.iter().enumerate() {
            let sep = if i == 0 { "; " } else { ", " };
            write!(f, "{sep}actor {} is still running on {}", s.actor, s.worker)?;
        }
        Ok(())
    }
}

impl Error for ShutdownError {}

/// [`crate::System::await_quiescent`] ran out of time with work still in
/// flight, or was called where it could never succeed: on one of the system's
/// own workers, inside a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuiescenceTimeout {
    pub(crate) in_flight: usize,
    pub(crate) on_worker: bool,
}

impl QuiescenceTimeout {
    /// Whether the call came from one of the system's own workers (a handler
    /// or a hook of one of its actors). The caller's own turn is in flight
    /// there, so the system cannot become quiescent while it waits: the call
    /// returns this at once instead of blocking the worker for the whole
    /// timeout.
    pub fn called_from_worker(&self) -> bool {
        self.on_worker
    }

    /// Messages and timer firings still in flight when the time ran out. An
    /// upper bound: turns count the messages they send ahead, in chunks, and
    /// a busy worker keeps what its turns did not use (up to 1024 units)
    /// until it runs out of work.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl fmt::Display for QuiescenceTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.on_worker {
            return write!(
                f,
                "await_quiescent called on one of the system's own workers, whose turn is \
                 itself in flight ({} items in flight)",
                self.in_flight
            );
        }
        write!(
            f,
            "system not quiescent in time: {} items still in flight",
            self.in_flight
        )
    }
}

impl Error for QuiescenceTimeout {}

/// How an actor failed: the panic message, or the error its handler returned.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The handler (or `started`) panicked with this message.
    Panic(String),
    /// The handler (or `started`) returned this error.
    Error(ActorError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panicked: {m}"),
            Failure::Error(e) => write!(f, "failed: {e}"),
        }
    }
}

impl Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_error_leaves_the_os_text_to_its_source() {
        let err = BuildError::thread(std::io::Error::other("no more threads"));
        assert_eq!(err.to_string(), "could not start a thread");
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("no more threads")
        );
        assert_eq!(err.setting(), None);
    }
}
