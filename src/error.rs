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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// enum Msg { Parse(String), Sum(Reply<u32>) }
/// struct Summer(u32);
/// impl Actor for Summer {
///     type Msg = Msg;
///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Parse(s) => self.0 += s.parse::<u32>()?, // any error converts with `?`
///             Msg::Sum(r) => { let _ = r.send(self.0); }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let summer = system.spawn(|| Summer(0))?;
/// summer.tell(Msg::Parse("12".into()))?;
/// assert_eq!(summer.ask(Msg::Sum, Duration::from_secs(5))?, 12);
/// summer.tell(Msg::Parse("twelve".into()))?; // fails: the actor stops
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert_eq!(system.metrics().failures, 1);
/// assert!(!summer.is_alive());
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ActorError = Box<dyn Error + Send + Sync + 'static>;

/// A configuration that cannot work, rejected when it is built.
///
/// Returned by the builders ([`crate::SystemBuilder`], [`crate::PoolBuilder`],
/// [`crate::SpawnOptions`]) for zero workers, a zero mailbox capacity, a zero
/// throughput, or when the operating system refuses to start a thread.
///
/// # Examples
///
/// ```
/// use playhouse::{System, ThreadPool};
///
/// let err = System::builder().workers(0).build().unwrap_err();
/// assert_eq!(err.setting(), Some("workers"));
/// assert_eq!(err.to_string(), "invalid configuration: workers must be at least 1");
/// assert!(ThreadPool::builder().threads(0).build().is_err());
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{BuildError, System};
    ///
    /// let err = System::builder().mailbox_capacity(0).build().unwrap_err();
    /// assert_eq!(err.setting(), Some("mailbox capacity"));
    /// assert_eq!(BuildError::invalid("no route").setting(), None);
    /// ```
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
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let err = playhouse::", stringify!($name), "::Closed(String::from(\"hello\"));")]
            /// assert_eq!(err.into_inner(), "hello"); // nothing sent is lost
            /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Takes no messages: whatever is sent stays queued.
    /// struct Paused;
    /// impl Actor for Paused {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    /// use playhouse::TrySendError;
    ///
    /// let system = System::new();
    /// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Paused)?;
    /// let mut pending = vec![3, 2, 1];
    /// while let Some(n) = pending.pop() {
    ///     if let Err(TrySendError::Full(n)) = paused.try_tell(n) {
    ///         pending.push(n); // keep it for later
    ///         break;
    ///     }
    /// }
    /// assert_eq!(pending, [3, 2]); // 2 came back and waits its turn
    /// paused.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    TrySendError {
        /// The mailbox is at capacity.
        Full => "sending on a full mailbox",
        /// The actor has stopped (or the system is shutting down).
        Closed => "sending to a stopped actor",
    }
}

message_error! {
    /// Why [`crate::Addr::tell`] did not deliver; the message comes back.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, Reply, SpawnOptions, System};
    /// # use std::time::Duration;
    /// # enum Msg { Add(u64), Total(Reply<u64>) }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Msg = Msg;
    /// #     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    /// #         match msg {
    /// #             Msg::Add(n) => self.0 += n,
    /// #             Msg::Total(reply) => { let _ = reply.send(self.0); }
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let t = Duration::from_secs(5);
    /// use playhouse::SendError;
    ///
    /// let system = System::new();
    /// let counter = system.spawn(|| Counter(0))?;
    /// counter.stop();
    /// system.await_quiescent(t)?;
    /// match counter.tell(Msg::Add(5)) {
    ///     Err(SendError::Closed(Msg::Add(n))) => assert_eq!(n, 5), // handed back
    ///     _ => panic!("a stopped actor takes nothing"),
    /// }
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Takes no messages: whatever is sent stays queued.
    /// struct Paused;
    /// impl Actor for Paused {
    ///     type Msg = u32;
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.suspend();
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    /// use playhouse::SendTimeoutError;
    ///
    /// let system = System::new();
    /// let paused = system.spawn_with(SpawnOptions::new().mailbox_capacity(1), || Paused)?;
    /// paused.tell(1)?;
    /// match paused.tell_timeout(2, Duration::from_millis(10)) {
    ///     Err(SendTimeoutError::Timeout(n)) => assert_eq!(n, 2),
    ///     other => panic!("expected a timeout, got {other:?}"),
    /// }
    /// paused.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, AskError, Context, Reply, System};
/// use std::time::Duration;
///
/// /// Drops every request unanswered.
/// struct Mute;
/// impl Actor for Mute {
///     type Msg = Reply<u32>;
///     fn handle(&mut self, _: &mut Context<Self>, reply: Reply<u32>) -> Result<(), ActorError> {
///         drop(reply);
///         Ok(())
///     }
/// }
///
/// let t = Duration::from_secs(5);
/// let system = System::new();
/// let mute = system.spawn(|| Mute)?;
/// assert_eq!(mute.ask(|r| r, t), Err(AskError::ReplyDropped)); // at once, not after `t`
/// mute.stop();
/// system.await_quiescent(t)?;
/// assert_eq!(mute.ask(|r| r, t), Err(AskError::Closed));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, SpawnError, SpawnOptions, System};
///
/// struct Db;
/// impl Actor for Db {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let system = System::new();
/// system.spawn_with(SpawnOptions::new().name("db"), || Db)?;
/// let err = system.spawn_with(SpawnOptions::new().name("db"), || Db).unwrap_err();
/// assert!(matches!(&err, SpawnError::NameTaken(name) if name == "db"));
/// assert_eq!(err.to_string(), r#"an actor named "db" is already running"#);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
/// use std::sync::{Arc, Mutex, mpsc};
/// use std::time::Duration;
///
/// /// Blocks in its handler until the gate opens.
/// struct Blocker { entered: mpsc::Sender<()>, gate: Arc<Mutex<mpsc::Receiver<()>>> }
/// impl Actor for Blocker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         let _ = self.entered.send(());
///         let _ = self.gate.lock().unwrap().recv();
///         Ok(())
///     }
/// }
///
/// let (entered_tx, entered) = mpsc::channel();
/// let (open, gate) = mpsc::channel::<()>();
/// let gate = Arc::new(Mutex::new(gate));
/// let system = System::builder().name("app").build()?;
/// let blocker = system.spawn_with(SpawnOptions::new().name("blocker"), move || Blocker {
///     entered: entered_tx.clone(),
///     gate: Arc::clone(&gate),
/// })?;
/// blocker.tell(())?;
/// entered.recv()?; // the handler is running
/// let err = system.shutdown_timeout(Duration::ZERO).unwrap_err();
/// let stuck = &err.stuck()[0];
/// assert_eq!(stuck.actor, "blocker");
/// assert!(stuck.worker.starts_with("app-worker-")); // the thread it holds
/// let _ = open.send(()); // let the handler return; its worker then exits
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
/// # use std::time::Duration;
/// /// Always has one more message for itself: it never drains.
/// struct Poller;
/// impl Actor for Poller {
///     type Msg = ();
///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         ctx.send(&ctx.addr(), ())?;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let poller = system.spawn_with(SpawnOptions::new().name("poller"), || Poller)?;
/// poller.tell(())?;
/// let err = system.shutdown_timeout(Duration::from_millis(50)).unwrap_err();
/// assert!(err.to_string().starts_with("shutdown within 50ms lost work"));
/// assert_eq!(err.busy(), ["poller"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::sync::{Arc, Mutex, mpsc};
    /// use std::time::Duration;
    ///
    /// /// Blocks in its handler until the gate opens.
    /// struct Blocker { entered: mpsc::Sender<()>, gate: Arc<Mutex<mpsc::Receiver<()>>> }
    /// impl Actor for Blocker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         let _ = self.entered.send(());
    ///         let _ = self.gate.lock().unwrap().recv();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let (entered_tx, entered) = mpsc::channel();
    /// let (open, gate) = mpsc::channel::<()>();
    /// let gate = Arc::new(Mutex::new(gate));
    /// let system = System::builder().name("app").build()?;
    /// let blocker = system.spawn_with(SpawnOptions::new().name("blocker"), move || Blocker {
    ///     entered: entered_tx.clone(),
    ///     gate: Arc::clone(&gate),
    /// })?;
    /// blocker.tell(())?;
    /// entered.recv()?; // the handler is running
    /// let err = system.shutdown_timeout(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.stuck().len(), 1);
    /// assert_eq!(err.stuck()[0].actor, "blocker");
    /// let _ = open.send(());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stuck(&self) -> &[StuckActor] {
        &self.stuck
    }

    /// How many messages a mailbox had accepted and that went to dead letters
    /// during the shutdown, unhandled (queued or parked when their actor
    /// stopped or was abandoned).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::sync::{Arc, Mutex, mpsc};
    /// use std::time::Duration;
    ///
    /// /// Holds the only worker until the gate opens.
    /// struct Blocker { entered: mpsc::Sender<()>, gate: Arc<Mutex<mpsc::Receiver<()>>> }
    /// impl Actor for Blocker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         let _ = self.entered.send(());
    ///         let _ = self.gate.lock().unwrap().recv();
    ///         Ok(())
    ///     }
    /// }
    /// struct Sink;
    /// impl Actor for Sink {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> { Ok(()) }
    /// }
    ///
    /// let (entered_tx, entered) = mpsc::channel();
    /// let (open, gate) = mpsc::channel::<()>();
    /// let gate = Arc::new(Mutex::new(gate));
    /// let system = System::builder().workers(1).build()?;
    /// let blocker = system.spawn(move || Blocker { entered: entered_tx.clone(), gate: Arc::clone(&gate) })?;
    /// blocker.tell(())?;
    /// entered.recv()?; // the one worker is taken
    /// let sink = system.spawn(|| Sink)?;
    /// sink.tell(1)?; // accepted, and never handled
    /// let err = system.shutdown_timeout(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.dead_letters(), 1);
    /// let _ = open.send(());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters
    }

    /// The actors that still had messages queued, or a handler running, when
    /// draining ran out of time (names, or `#id`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Always has one more message for itself: it never drains.
    /// struct Poller;
    /// impl Actor for Poller {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.send(&ctx.addr(), ())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let poller = system.spawn_with(SpawnOptions::new().name("poller"), || Poller)?;
    /// poller.tell(())?;
    /// let err = system.shutdown_timeout(Duration::from_millis(50)).unwrap_err();
    /// assert_eq!(err.busy(), ["poller"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn busy(&self) -> &[String] {
        &self.busy
    }

    /// The actors that had not stopped by the deadline (those in
    /// [`stuck`](ShutdownError::stuck) among them): their mailboxes were
    /// closed and their messages went to dead letters, and their `stopped`
    /// hooks may not have run.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// use std::sync::{Arc, Mutex, mpsc};
    /// use std::time::Duration;
    ///
    /// /// Blocks in its handler until the gate opens.
    /// struct Blocker { entered: mpsc::Sender<()>, gate: Arc<Mutex<mpsc::Receiver<()>>> }
    /// impl Actor for Blocker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         let _ = self.entered.send(());
    ///         let _ = self.gate.lock().unwrap().recv();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let (entered_tx, entered) = mpsc::channel();
    /// let (open, gate) = mpsc::channel::<()>();
    /// let gate = Arc::new(Mutex::new(gate));
    /// let system = System::builder().name("app").build()?;
    /// let blocker = system.spawn_with(SpawnOptions::new().name("blocker"), move || Blocker {
    ///     entered: entered_tx.clone(),
    ///     gate: Arc::clone(&gate),
    /// })?;
    /// blocker.tell(())?;
    /// entered.recv()?; // the handler is running
    /// let err = system.shutdown_timeout(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.abandoned(), ["blocker"]); // not stopped by the deadline
    /// let _ = open.send(());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn abandoned(&self) -> &[String] {
        &self.abandoned
    }

    /// Whether shutdown was called on a pool worker (one of the system's
    /// own, or another system's) and goes on on a thread of its own, without
    /// the caller waiting for it. A handler of the system itself should
    /// return soon: its worker is joined once it does.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::sync::{Arc, Mutex, mpsc};
    ///
    /// /// Shuts its own system down from a handler.
    /// struct Closer { system: Arc<Mutex<Option<System>>>, report: mpsc::Sender<bool> }
    /// impl Actor for Closer {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         if let Some(system) = self.system.lock().unwrap().take() {
    ///             let err = system.shutdown().unwrap_err(); // cannot wait for this very turn
    ///             let _ = self.report.send(err.continues_in_background());
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let slot = Arc::new(Mutex::new(None));
    /// let (report, reports) = mpsc::channel();
    /// let system = System::new();
    /// let s = Arc::clone(&slot);
    /// let closer = system.spawn(move || Closer { system: Arc::clone(&s), report: report.clone() })?;
    /// *slot.lock().unwrap() = Some(system);
    /// closer.tell(())?;
    /// assert!(reports.recv()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
///
/// # Examples
///
/// ```
/// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
/// # use std::time::Duration;
/// /// Always has one more message for itself: it never drains.
/// struct Poller;
/// impl Actor for Poller {
///     type Msg = ();
///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         ctx.send(&ctx.addr(), ())?;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let poller = system.spawn(|| Poller)?;
/// poller.tell(())?;
/// let err = system.await_quiescent(Duration::from_millis(20)).unwrap_err();
/// assert!(err.in_flight() >= 1);
/// poller.stop();
/// system.await_quiescent(Duration::from_secs(5))?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Always has one more message for itself: it never drains.
    /// struct Poller;
    /// impl Actor for Poller {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.send(&ctx.addr(), ())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let poller = system.spawn(|| Poller)?;
    /// poller.tell(())?;
    /// let err = system.await_quiescent(Duration::from_millis(20)).unwrap_err();
    /// assert!(!err.called_from_worker()); // a real timeout, from the test's thread
    /// poller.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn called_from_worker(&self) -> bool {
        self.on_worker
    }

    /// Messages and timer firings still in flight when the time ran out. An
    /// upper bound: turns count the messages they send ahead, in chunks, and
    /// a busy worker keeps what its turns did not use (up to 1024 units)
    /// until it runs out of work.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, SpawnOptions, System};
    /// # use std::time::Duration;
    /// /// Always has one more message for itself: it never drains.
    /// struct Poller;
    /// impl Actor for Poller {
    ///     type Msg = ();
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
    ///         ctx.send(&ctx.addr(), ())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let poller = system.spawn(|| Poller)?;
    /// poller.tell(())?;
    /// let err = system.await_quiescent(Duration::from_millis(20)).unwrap_err();
    /// assert!(err.in_flight() >= 1);
    /// assert!(err.to_string().contains("still in flight"));
    /// poller.stop();
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
///
/// It is the last stop of a handler's error (logged, and the reason of the
/// actor's [`ExitReason::Failed`](crate::ExitReason::Failed)), so its text
/// carries the error's whole `source()` chain, each cause after a colon.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Addr, Context, ExitReason, Failure, Reply, System, Terminated};
/// use std::time::Duration;
///
/// // A failure's text is what watchers and supervisors see as the reason.
/// assert_eq!(Failure::Panic("index out of bounds".into()).to_string(), "panicked: index out of bounds");
/// assert_eq!(Failure::Error("disk full".into()).to_string(), "failed: disk full");
///
/// struct Writer;
/// impl Actor for Writer {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         Err("disk full".into())
///     }
/// }
/// enum Msg { Watch(Addr<Writer>), Down(Terminated), Reason(Reply<Option<ExitReason>>) }
/// struct Monitor(Option<ExitReason>);
/// impl Actor for Monitor {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Watch(w) => ctx.watch_with(&w, Msg::Down),
///             Msg::Down(t) => self.0 = Some(t.reason),
///             Msg::Reason(r) => { let _ = r.send(self.0.clone()); }
///         }
///         Ok(())
///     }
/// }
///
/// let t = Duration::from_secs(5);
/// let system = System::new();
/// let writer = system.spawn(|| Writer)?;
/// let monitor = system.spawn(|| Monitor(None))?;
/// monitor.tell(Msg::Watch(writer.clone()))?;
/// writer.tell(())?;
/// system.await_quiescent(t)?;
/// assert_eq!(monitor.ask(Msg::Reason, t)?, Some(ExitReason::Failed("failed: disk full".into())));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
            Failure::Error(e) => {
                // The end of the line: nothing reports this error's sources
                // after it, so its text carries the whole chain.
                write!(f, "failed: {e}")?;
                let mut source = e.source();
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
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
