//! The actor core: the [`Actor`] trait (here), its [`Context`] (`context.rs`),
//! its addresses (`addr.rs`), how an actor is spawned (`spawn.rs`) and the
//! cell that runs it (`cell/`).
//!
//! These form one layer because their types refer to each other by nature:
//! an actor's hooks take a `Context<Self>`, the context lends the running
//! cell's state and hands out addresses, an address holds the cell, and the
//! cell runs the actor's hooks. Everything they need from below (the pool,
//! the mailbox, the timer, the runtime handle in `runtime/`) imports nothing
//! from here; `system/`, the supervisor and the patterns sit above.

pub(crate) mod addr;
pub(crate) mod cell;
pub(crate) mod context;
pub(crate) mod spawn;

use crate::error::ActorError;
use crate::exit::ChildEvent;
use context::Context;

/// An actor: private state that handles one message at a time on the pool.
///
/// An actor is created by a factory closure given to [`crate::System::spawn`]
/// (so a supervisor can build it afresh) and is reached through its
/// [`crate::Addr`]. The runtime never runs two handlers of one actor at once, so
/// `&mut self` needs no lock.
///
/// A handler that panics or returns `Err` has *failed*: the failure is caught and
/// logged, the message goes to dead letters, and (without a supervisor) the actor
/// stops; its senders then get their messages back as `Closed`.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, Reply, System};
/// use std::time::Duration;
///
/// enum Msg {
///     Add(u64),
///     Total(Reply<u64>),
/// }
///
/// struct Counter(u64);
///
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, _ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => {
///                 let _ = reply.send(self.0);
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let counter = system.spawn(|| Counter(0)).unwrap();
/// for n in 1..=10 {
///     counter.tell(Msg::Add(n)).unwrap();
/// }
/// assert_eq!(counter.ask(Msg::Total, Duration::from_secs(5)), Ok(55));
/// system.shutdown().unwrap();
/// ```
pub trait Actor: Sized + Send + 'static {
    /// The messages this actor handles.
    type Msg: Send + 'static;

    /// Handles one message.
    ///
    /// # Errors
    /// An `Err` is a failure, handled like a panic (see the trait docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// enum Msg { Push(i64), Pop(Reply<Option<i64>>) }
    /// struct Stack(Vec<i64>);
    /// impl Actor for Stack {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
    ///         match msg {
    ///             Msg::Push(n) => self.0.push(n), // `&mut self`: no lock needed
    ///             Msg::Pop(r) => { let _ = r.send(self.0.pop()); }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let stack = system.spawn(|| Stack(Vec::new()))?;
    /// stack.tell(Msg::Push(1))?;
    /// stack.tell(Msg::Push(2))?;
    /// assert_eq!(stack.ask(Msg::Pop, Duration::from_secs(5))?, Some(2));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn handle(&mut self, ctx: &mut Context<Self>, msg: Self::Msg) -> Result<(), ActorError>;

    /// Runs once, on a worker, before the first message.
    ///
    /// # Errors
    /// An `Err` (or a panic) is a failure: the actor never handles a message.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, Reply, System};
    /// use std::time::Duration;
    ///
    /// /// Loads its table before it takes the first message.
    /// struct Table(Vec<&'static str>);
    /// impl Actor for Table {
    ///     type Msg = Reply<usize>;
    ///     fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
    ///         self.0 = vec!["alpha", "beta"];
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, r: Reply<usize>) -> Result<(), ActorError> {
    ///         let _ = r.send(self.0.len());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let table = system.spawn(|| Table(Vec::new()))?;
    /// assert_eq!(table.ask(|r| r, Duration::from_secs(5))?, 2);
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let _ = ctx;
        Ok(())
    }

    /// Runs when this instance ends other than by failing, after its children
    /// have stopped: when the actor stops for good, and when its supervisor
    /// stops it in order to start a new instance (a sibling's failure under
    /// `OneForAll` or `RestForOne`, or a `stop` of a supervised actor, whose
    /// exit its supervisor judges). A failed instance (a panic or an `Err`)
    /// is dropped without it. A panic here is logged and otherwise ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::sync::mpsc;
    ///
    /// /// Buffers lines and flushes them when it stops.
    /// struct Buffered { lines: Vec<String>, out: mpsc::Sender<Vec<String>> }
    /// impl Actor for Buffered {
    ///     type Msg = String;
    ///     fn handle(&mut self, _: &mut Context<Self>, line: String) -> Result<(), ActorError> {
    ///         self.lines.push(line);
    ///         Ok(())
    ///     }
    ///     fn stopped(&mut self, _: &mut Context<Self>) {
    ///         let _ = self.out.send(std::mem::take(&mut self.lines));
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let (out, flushed) = mpsc::channel();
    /// let log = system.spawn(move || Buffered { lines: Vec::new(), out: out.clone() })?;
    /// log.tell("one".into())?;
    /// log.tell("two".into())?;
    /// system.shutdown()?; // drains the mailbox, then runs `stopped`
    /// assert_eq!(flushed.recv()?, ["one", "two"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn stopped(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }

    /// Handles a lifecycle event of one of this actor's children (OTP's
    /// `trap_exit`, ractor's `handle_supervisor_evt`). Events come through the
    /// control lane, ahead of user messages, and only while an instance is
    /// live and not stopping.
    ///
    /// Every child reports [`ChildEvent::Stopped`]. A child spawned with
    /// [`crate::SpawnOptions::supervised`] also reports
    /// [`ChildEvent::Started`] after each successful start and
    /// [`ChildEvent::Exited`] when an instance ends (a failure, a `stop`, or a
    /// halt this actor asked for). An exited child keeps its mailbox and
    /// address and waits for this actor's decision:
    /// [`Context::restart_child`] or [`Context::stop_child`].
    ///
    /// The default stops an exited child for good (logging a failure at
    /// error), so a supervised child of an actor that does not override this
    /// ends as an unsupervised one would. An override logs the failures it
    /// handles: the runtime logs a supervised child's failure at debug only,
    /// so that each failure is logged once, with what was done about it.
    ///
    /// # Errors
    /// An `Err` (or a panic) is a failure of this actor.
    ///
    /// # Examples
    ///
    /// A parent that restarts its one child after each failure:
    ///
    /// ```
    /// use playhouse::{Actor, ActorError, ChildEvent, Context, ExitReason, SpawnOptions, System};
    ///
    /// struct Flaky;
    /// impl Actor for Flaky {
    ///     type Msg = bool;
    ///     fn handle(&mut self, _: &mut Context<Self>, fail: bool) -> Result<(), ActorError> {
    ///         if fail { Err("asked to fail".into()) } else { Ok(()) }
    ///     }
    /// }
    ///
    /// struct Parent { restarts: u32 }
    /// impl Actor for Parent {
    ///     type Msg = ();
    ///     fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
    ///         ctx.spawn_with(SpawnOptions::new().name("flaky").supervised(), || Flaky)?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> { Ok(()) }
    ///     fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
    ///         if let ChildEvent::Exited { id, reason: ExitReason::Failed(_) } = event {
    ///             self.restarts += 1;
    ///             ctx.restart_child(id);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let _parent = system.spawn(|| Parent { restarts: 0 })?;
    /// system.await_quiescent(std::time::Duration::from_secs(5))?;
    /// let flaky = system.lookup::<Flaky>("flaky").expect("started by its parent");
    /// flaky.tell(true)?; // fails, and its parent restarts it
    /// flaky.tell(false)?;
    /// system.await_quiescent(std::time::Duration::from_secs(5))?;
    /// assert!(flaky.is_alive());
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
        if let ChildEvent::Exited { id, reason } = event {
            if reason.is_failure() {
                // The runtime leaves a supervised failure for its parent to
                // log with its decision; this is that decision.
                log::error!(
                    "actor {}#{}: supervised child #{id} exited ({reason:?}); stopping it",
                    ctx.name().unwrap_or("unnamed"),
                    ctx.id()
                );
            }
            ctx.stop_child(id);
        }
        Ok(())
    }
}
