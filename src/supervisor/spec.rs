//! Child specs: how a supervisor starts, restarts and stops one child.

use super::builder::SupervisorBuilder;
use super::server::Supervisor;
use crate::sync::Arc;
use crate::{Actor, Context, SpawnError, SpawnOptions};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// When a child is restarted.
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_children;
/// use playhouse::{ChildSpec, Restart, Supervisor, SupervisorExt, System};
/// use std::time::Duration;
/// # use playhouse::{Actor, ActorError, Context};
/// # struct Worker;
/// # impl Actor for Worker {
/// #     type Msg = u32;
/// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
/// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
/// #         Ok(())
/// #     }
/// # }
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// let sup = Supervisor::builder()
///     .intensity(5, Duration::from_secs(10))
///     .child(ChildSpec::new("job", || Worker).restart(Restart::Transient))
///     .spawn(&system)?;
/// let job = sup.child::<Worker>("job").expect("started");
/// job.tell(0)?; // a failure: a transient child is restarted
/// await_children(&sup, T, |c| c[0].restarts == 1 && c[0].running)?;
/// job.tell(1)?; // a normal exit: it is not
/// await_children(&sup, T, |c| !c[0].running)?;
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always, whatever the exit (the default, as in OTP).
    #[default]
    Permanent,
    /// Only after a failure, not after a normal exit.
    Transient,
    /// Never; the child is removed when it exits, or when a group restart
    /// would have restarted it.
    Temporary,
}

/// The default time a stopping supervisor gives a worker child (OTP: 5 s).
///
/// # Examples
///
/// ```
/// use playhouse::DEFAULT_CHILD_SHUTDOWN;
/// use std::time::Duration;
///
/// assert_eq!(DEFAULT_CHILD_SHUTDOWN, Duration::from_secs(5));
/// ```
pub const DEFAULT_CHILD_SHUTDOWN: Duration = Duration::from_secs(5);

/// A started child: its id and its `Addr<A>`, type-erased.
pub(super) type Started = (u64, Box<dyn Any + Send>);

/// Spawns one child of a supervisor, type-erased over the child's type.
pub(super) trait StartChild: Send + Sync {
    fn start(
        &self,
        ctx: &mut Context<Supervisor>,
        options: SpawnOptions,
    ) -> Result<Started, SpawnError>;
}

struct Factory<A>(Arc<dyn Fn() -> A + Send + Sync>);

impl<A: Actor> StartChild for Factory<A> {
    fn start(
        &self,
        ctx: &mut Context<Supervisor>,
        options: SpawnOptions,
    ) -> Result<Started, SpawnError> {
        let factory = self.0.clone();
        let addr = ctx.spawn_with(options, move || factory())?;
        Ok((addr.id(), Box::new(addr)))
    }
}

/// How to start, restart and stop one child of a supervisor.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Restart};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// let spec = ChildSpec::new("worker", || Worker)
///     .restart(Restart::Transient)
///     .shutdown_timeout(Duration::from_secs(1))
///     .mailbox_capacity(64);
/// ```
pub struct ChildSpec<A> {
    pub(super) entry: Entry,
    _actor: PhantomData<fn() -> A>,
}

/// A child spec without its type.
#[derive(Clone)]
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) restart: Restart,
    pub(super) shutdown: Option<Duration>,
    pub(super) capacity: Option<usize>,
    pub(super) throughput: Option<usize>,
    pub(super) ordered_stop: bool,
    pub(super) start: Arc<dyn StartChild>,
    /// Why a nested supervisor's builder is invalid, for the outer builder
    /// to report.
    pub(super) invalid: Option<String>,
    /// A nested supervisor: its start is complete once its own children
    /// have started.
    pub(super) nested: bool,
}

impl Entry {
    /// The spawn options of this child, registered as `registered`.
    pub(super) fn options(&self, registered: String) -> SpawnOptions {
        let mut o = SpawnOptions::new().name(registered).supervised();
        if let Some(c) = self.capacity {
            o = o.mailbox_capacity(c);
        }
        if let Some(t) = self.throughput {
            o = o.throughput(t);
        }
        if let Some(d) = self.shutdown {
            o = o.shutdown_timeout(d);
        }
        if self.ordered_stop {
            o = o.ordered_stop();
        }
        o
    }
}

impl<A: Actor> ChildSpec<A> {
    /// A permanent child named `name` (unique among its siblings), built by
    /// `factory` at every (re)start, with a shutdown timeout of
    /// [`DEFAULT_CHILD_SHUTDOWN`] and the system's mailbox defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder().spawn(&system)?;
    /// // The factory runs at every (re)start: state is fresh each time.
    /// let w = sup.add_child(ChildSpec::new("w", || Worker), Duration::from_secs(5))?;
    /// assert!(w.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(name: impl Into<String>, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        ChildSpec {
            entry: Entry {
                name: name.into(),
                restart: Restart::Permanent,
                shutdown: Some(DEFAULT_CHILD_SHUTDOWN),
                capacity: None,
                throughput: None,
                ordered_stop: false,
                start: Arc::new(Factory::<A>(Arc::new(factory))),
                invalid: None,
                nested: false,
            },
            _actor: PhantomData,
        }
    }

    /// When the child is restarted (default [`Restart::Permanent`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Restart, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder()
    ///     .child(ChildSpec::new("once", || Worker).restart(Restart::Temporary))
    ///     .spawn(&system)?;
    /// assert_eq!(sup.children(Duration::from_secs(5))?[0].restart, Restart::Temporary);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restart(mut self, restart: Restart) -> Self {
        self.entry.restart = restart;
        self
    }

    /// How long a stopping supervisor waits for this child before abandoning it
    /// (with an error log).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let _sup = Supervisor::builder()
    ///     // A stopping supervisor gives "w" 100 ms to finish its handler.
    ///     .child(ChildSpec::new("w", || Worker).shutdown_timeout(Duration::from_millis(100)))
    ///     .spawn(&system)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.entry.shutdown = Some(timeout);
        self
    }

    /// Waits for this child however long it takes to stop (OTP's `infinity`,
    /// the default for supervisor children).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, ChildSpec, Context};
    /// # struct Flusher;
    /// # impl Actor for Flusher {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// // A child whose last handler must finish however long it takes.
    /// let spec = ChildSpec::new("flusher", || Flusher).shutdown_infinity();
    /// # let _ = spec;
    /// ```
    pub fn shutdown_infinity(mut self) -> Self {
        self.entry.shutdown = None;
        self
    }

    /// The child's mailbox capacity (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildSpec, Supervisor, SupervisorError, SpawnError, SupervisorExt, System};
    /// use std::time::Duration;
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder().spawn(&system)?;
    /// let small = ChildSpec::new("small", || Worker).mailbox_capacity(4);
    /// assert!(sup.add_child(small, Duration::from_secs(5)).is_ok());
    /// let zero = ChildSpec::new("zero", || Worker).mailbox_capacity(0);
    /// let err = sup.add_child(zero, Duration::from_secs(5)).unwrap_err();
    /// assert!(matches!(err, SupervisorError::Spawn(SpawnError::Config(_))));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.entry.capacity = Some(capacity);
        self
    }

    /// The child's throughput (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, ChildSpec, Context, Supervisor, SupervisorExt, System};
    /// use std::time::Duration;
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    /// # }
    ///
    /// let system = System::new();
    /// let sup = Supervisor::builder().spawn(&system)?;
    /// // Yield the worker after every message: fair to the actors beside it.
    /// let w = sup.add_child(ChildSpec::new("w", || Worker).throughput(1), Duration::from_secs(5))?;
    /// w.tell(())?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.entry.throughput = Some(throughput);
        self
    }
}

impl ChildSpec<Supervisor> {
    /// A nested supervisor as a child, waiting however long its tree takes to
    /// stop. Its start, for its parent, is complete once its own children
    /// have started (a whole tree has started when the top-level spawn
    /// returns), and a child of it failing its first start fails its start.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Addr, ChildSpec, Supervisor, SupervisorExt, System};
    /// # use playhouse::{Actor, ActorError, Context};
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    /// #         match n { 0 => return Err("zero".into()), 1 => ctx.stop(), _ => {} }
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// let system = System::new();
    /// let root = Supervisor::builder()
    ///     .name("root")
    ///     .child(ChildSpec::supervisor(
    ///         "pool",
    ///         Supervisor::builder().child(ChildSpec::new("w", || Worker)),
    ///     ))
    ///     .spawn(&system)?;
    /// // The whole tree has started when `spawn` returns.
    /// let pool: Addr<Supervisor> = root.child("pool").expect("started");
    /// assert!(pool.child::<Worker>("w").is_some());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn supervisor(name: impl Into<String>, builder: SupervisorBuilder) -> Self {
        let invalid = builder.validate().err().map(|e| e.to_string());
        let mut spec = ChildSpec::new(name, move || Supervisor::from_builder(&builder));
        spec.entry.shutdown = None;
        spec.entry.ordered_stop = true;
        spec.entry.nested = true;
        spec.entry.invalid = invalid;
        spec
    }
}

impl<A> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.entry.name)
            .field("restart", &self.entry.restart)
            .field("shutdown", &self.entry.shutdown)
            .finish_non_exhaustive()
    }
}
