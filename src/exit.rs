//! How an actor's life ends, and what its parent and watchers are told:
//! [`ExitReason`], [`ChildEvent`], [`Terminated`]. Plain data, below every
//! layer that reports or receives them.

/// A lifecycle event of a child, handed to its parent's [`Actor::on_child`](crate::Actor::on_child).
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, ChildEvent, Context, ExitReason, Reply, SpawnOptions, System};
/// use std::time::Duration;
///
/// struct Child;
/// impl Actor for Child {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         Err("boom".into())
///     }
/// }
///
/// /// Records its child's events and stops it after its first exit.
/// struct Parent(Vec<ChildEvent>);
/// impl Actor for Parent {
///     type Msg = Reply<Vec<ChildEvent>>;
///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
///         ctx.spawn_with(SpawnOptions::new().name("child").supervised(), || Child)?;
///         Ok(())
///     }
///     fn handle(&mut self, _: &mut Context<Self>, r: Self::Msg) -> Result<(), ActorError> {
///         let _ = r.send(self.0.clone());
///         Ok(())
///     }
///     fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
///         if let ChildEvent::Exited { id, .. } = &event {
///             ctx.stop_child(*id);
///         }
///         self.0.push(event);
///         Ok(())
///     }
/// }
///
/// let t = Duration::from_secs(5);
/// let system = System::new();
/// let parent = system.spawn(|| Parent(Vec::new()))?;
/// system.await_quiescent(t)?;
/// let child = system.lookup::<Child>("child").expect("spawned by its parent");
/// child.tell(())?;
/// system.await_quiescent(t)?;
/// let events = parent.ask(|r| r, t)?;
/// assert!(matches!(events[0], ChildEvent::Started { restarted: false, .. }));
/// assert!(matches!(&events[1], ChildEvent::Exited { reason: ExitReason::Failed(_), .. }));
/// assert!(matches!(&events[2], ChildEvent::Stopped { .. }));
/// assert!(events.iter().all(|e| e.id() == child.id()));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{ChildEvent, ExitReason};
    ///
    /// let event = ChildEvent::Exited { id: 7, reason: ExitReason::Normal };
    /// assert_eq!(event.id(), 7);
    /// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Addr, Context, ExitReason, Reply, SpawnOptions, System, Terminated};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
/// }
///
/// enum Msg { Watch(Addr<Worker>), Down(Terminated), Last(Reply<Option<Terminated>>) }
/// impl From<Terminated> for Msg {
///     fn from(t: Terminated) -> Msg { Msg::Down(t) }
/// }
/// struct Monitor(Option<Terminated>);
/// impl Actor for Monitor {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Watch(w) => ctx.watch(&w),
///             Msg::Down(t) => self.0 = Some(t),
///             Msg::Last(r) => { let _ = r.send(self.0.clone()); }
///         }
///         Ok(())
///     }
/// }
///
/// let t = Duration::from_secs(5);
/// let system = System::new();
/// let worker = system.spawn_with(SpawnOptions::new().name("worker"), || Worker)?;
/// let monitor = system.spawn(|| Monitor(None))?;
/// monitor.tell(Msg::Watch(worker.clone()))?;
/// system.await_quiescent(t)?;
/// worker.stop();
/// system.await_quiescent(t)?;
/// let notice = monitor.ask(Msg::Last, t)?.expect("notified once it stopped");
/// assert_eq!(notice.id, worker.id());
/// assert_eq!(notice.name.as_deref(), Some("worker"));
/// assert_eq!(notice.reason, ExitReason::Normal);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Addr, Context, ExitReason, Reply, System, Terminated};
/// use std::time::Duration;
///
/// struct Parser;
/// impl Actor for Parser {
///     type Msg = String;
///     fn handle(&mut self, _: &mut Context<Self>, s: String) -> Result<(), ActorError> {
///         s.parse::<u32>()?; // a failure on bad input
///         Ok(())
///     }
/// }
///
/// enum Msg { Watch(Addr<Parser>), Down(Terminated), Reason(Reply<Option<ExitReason>>) }
/// struct Monitor(Option<ExitReason>);
/// impl Actor for Monitor {
///     type Msg = Msg;
///     fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Watch(p) => ctx.watch_with(&p, Msg::Down),
///             Msg::Down(t) => self.0 = Some(t.reason),
///             Msg::Reason(r) => { let _ = r.send(self.0.clone()); }
///         }
///         Ok(())
///     }
/// }
///
/// let t = Duration::from_secs(5);
/// let system = System::new();
/// let parser = system.spawn(|| Parser)?;
/// let monitor = system.spawn(|| Monitor(None))?;
/// monitor.tell(Msg::Watch(parser.clone()))?;
/// parser.tell("twelve".into())?;
/// system.await_quiescent(t)?;
/// match monitor.ask(Msg::Reason, t)? {
///     Some(reason @ ExitReason::Failed(_)) => assert!(reason.is_failure()),
///     other => panic!("expected a failure, got {other:?}"),
/// }
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::ExitReason;
    ///
    /// assert!(ExitReason::Failed("panicked: boom".into()).is_failure());
    /// assert!(ExitReason::GaveUp.is_failure());
    /// assert!(!ExitReason::Normal.is_failure());
    /// assert!(!ExitReason::Shutdown.is_failure());
    /// ```
    pub fn is_failure(&self) -> bool {
        matches!(self, ExitReason::Failed(_) | ExitReason::GaveUp)
    }
}
