//! Supervisors: actors that restart their children, with Erlang/OTP semantics.
//!
//! A [`Supervisor`] owns an ordered list of [`ChildSpec`]s. Each child is
//! started in order, each after the previous one's `started` succeeded. When a
//! child exits, the supervisor decides from the child's [`Restart`] kind and the
//! exit whether to restart it, and restarts by its [`Strategy`]:
//!
//! ```text
//!             root (one-for-all)
//!            /                  \
//!       db (worker)        pool (one-for-one, backoff)
//!                          /        |        \
//!                      worker-1  worker-2  worker-3
//! ```
//!
//! - **one-for-one**: only the exited child restarts.
//! - **one-for-all**: every other running child is halted, newest first, then
//!   all restart in start order.
//! - **rest-for-one**: the children started after the exited one are halted,
//!   newest first, then it and they restart in start order.
//!
//! A restarted child gets a fresh instance from its factory, but keeps its
//! mailbox and its address: messages queued while it was down are handled by
//! the new instance (the message being handled when it failed goes to dead
//! letters), and every [`crate::Addr`] and [`crate::Recipient`] made from it
//! keeps working.
//!
//! **Intensity.** More than `max_restarts` restarts within `period` (OTP's
//! defaults: 1 in 5 s) make the supervisor give up: it stops its children,
//! newest first, each within its shutdown timeout, and fails itself, which its
//! own supervisor sees as a child failure (escalation). A supervisor without a
//! supervisor logs the give-up at error level and stops its tree. A group
//! restart counts once however many of its children failed.
//!
//! **Differences from OTP**, all deliberate: a child asked to stop through its
//! address (or `Context::stop`) exits *normally* and is judged by its restart
//! kind (a permanent child comes back, as in OTP); to remove a child for good use
//! [`Addr::remove_child`]. An optional exponential backoff delays restarts
//! through the timer, while senders feel backpressure from the bounded mailbox.

use crate::actor::Actor;
use crate::addr::Addr;
use crate::cell::{AnyCell, Cell, CellConfig, ChildNotice, Command, Exit, Start, StopReason};
use crate::context::Context;
use crate::error::{ActorError, AskError, BuildError, SpawnError, SupervisorError};
use crate::reply::Reply;
use crate::sync::Arc;
use crate::system::System;
use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// Which children restart when one exits and must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Only the exited child (the default, as in OTP).
    #[default]
    OneForOne,
    /// Every child: the others are halted newest first, then all restart in
    /// start order.
    OneForAll,
    /// The exited child and every child started after it.
    RestForOne,
}

/// When a child is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always, whatever the exit (the default, as in OTP).
    #[default]
    Permanent,
    /// Only after a failure, not after a normal exit.
    Transient,
    /// Never; the child is removed when it exits.
    Temporary,
}

/// The default time a stopping supervisor gives a worker child (OTP: 5 s).
pub const DEFAULT_CHILD_SHUTDOWN: Duration = Duration::from_secs(5);

/// The error a supervisor fails with when it gives up; its watchers see
/// [`crate::ExitReason::GaveUp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    max_restarts: u32,
    period: Duration,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "supervisor gave up: more than {} restarts within {:?}",
            self.max_restarts, self.period
        )
    }
}

impl Error for GaveUp {}

/// Starts one child under a supervisor, type-erased.
trait StartChild: Send + Sync {
    fn start(
        &self,
        ctx: &mut Context<Supervisor>,
        name: String,
        config: CellConfig,
    ) -> Result<Arc<dyn AnyCell>, SpawnError>;
}

struct Factory<A>(Arc<dyn Fn() -> A + Send + Sync>);

impl<A: Actor> StartChild for Factory<A> {
    fn start(
        &self,
        ctx: &mut Context<Supervisor>,
        name: String,
        config: CellConfig,
    ) -> Result<Arc<dyn AnyCell>, SpawnError> {
        let start = || Start::Factory(self.0.clone());
        let cell: Arc<Cell<A>> = ctx.spawn_configured(Some(name), config, start)?;
        Ok(cell)
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
    entry: Entry,
    _actor: PhantomData<fn() -> A>,
}

#[derive(Clone)]
struct Entry {
    name: String,
    restart: Restart,
    shutdown: Option<Duration>,
    capacity: Option<usize>,
    throughput: Option<usize>,
    ordered_stop: bool,
    start: Arc<dyn StartChild>,
}

impl<A: Actor> ChildSpec<A> {
    /// A permanent child named `name` (unique among its siblings), built by
    /// `factory` at every (re)start, with a shutdown timeout of
    /// [`DEFAULT_CHILD_SHUTDOWN`] and the system's mailbox defaults.
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
            },
            _actor: PhantomData,
        }
    }

    /// When the child is restarted (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.entry.restart = restart;
        self
    }

    /// How long a stopping supervisor waits for this child before abandoning it
    /// (with an error log).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.entry.shutdown = Some(timeout);
        self
    }

    /// Waits for this child however long it takes to stop (OTP's `infinity`,
    /// the default for supervisor children).
    pub fn shutdown_infinity(mut self) -> Self {
        self.entry.shutdown = None;
        self
    }

    /// The child's mailbox capacity (at least 1).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.entry.capacity = Some(capacity);
        self
    }

    /// The child's throughput (at least 1).
    pub fn throughput(mut self, throughput: usize) -> Self {
        self.entry.throughput = Some(throughput);
        self
    }
}

impl ChildSpec<Supervisor> {
    /// A nested supervisor as a child, waiting however long its tree takes to
    /// stop.
    pub fn supervisor(name: impl Into<String>, builder: SupervisorBuilder) -> Self {
        let mut spec = ChildSpec::new(name, move || Supervisor::from_builder(&builder));
        spec.entry.shutdown = None;
        spec.entry.ordered_stop = true;
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

/// Builds a [`Supervisor`]: its strategy, restart intensity, backoff and
/// children. It reads like the tree it makes.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, ChildSpec, Context, Strategy, Supervisor, System};
/// use std::time::Duration;
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
///         if n == 0 { return Err("zero".into()); } // a failure: restarted
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let root = Supervisor::builder()
///     .strategy(Strategy::OneForAll)
///     .intensity(3, Duration::from_secs(10))
///     .child(ChildSpec::new("db", || Worker))
///     .child(ChildSpec::supervisor(
///         "pool",
///         Supervisor::builder()
///             .backoff(Duration::from_millis(10), Duration::from_secs(1))
///             .child(ChildSpec::new("w1", || Worker))
///             .child(ChildSpec::new("w2", || Worker)),
///     ))
///     .name("root")
///     .spawn(&system)?;
/// let children = root.children(Duration::from_secs(5))?;
/// assert_eq!(children.len(), 2);
/// let db = root.child::<Worker>("db").expect("started");
/// db.tell(0)?; // fails, and is restarted with its sibling tree
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SupervisorBuilder {
    name: Option<String>,
    strategy: Strategy,
    max_restarts: u32,
    period: Duration,
    backoff: Option<(Duration, Duration)>,
    children: Vec<Entry>,
}

impl SupervisorBuilder {
    /// The restart strategy (default [`Strategy::OneForOne`]).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// At most `max_restarts` restarts within `period` (default 1 in 5 s, as
    /// in OTP); one more makes the supervisor give up. Zero restarts is valid:
    /// any exit that calls for a restart gives up.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Delays each restart: `min` for the first within the intensity period,
    /// doubling for each further one, at most `max`.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Some((min, max));
        self
    }

    /// Appends a child; children start in the order they are added.
    pub fn child<A: Actor>(mut self, spec: ChildSpec<A>) -> Self {
        self.children.push(spec.entry);
        self
    }

    /// Registers the supervisor under `name` (see [`System::lookup`]); its
    /// children are registered as `name/child`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn validate(&self) -> Result<(), BuildError> {
        if self.period.is_zero() {
            return Err(BuildError::zero("restart period"));
        }
        if let Some((min, max)) = self.backoff
            && (min.is_zero() || max.is_zero())
        {
            return Err(BuildError::zero("backoff"));
        }
        for c in &self.children {
            if c.capacity == Some(0) {
                return Err(BuildError::zero("mailbox capacity"));
            }
            if c.throughput == Some(0) {
                return Err(BuildError::zero("throughput"));
            }
        }
        Ok(())
    }

    /// Spawns the supervisor as a top-level actor; it starts its children in
    /// order.
    ///
    /// # Errors
    /// [`SpawnError::Config`] for a zero period, backoff, capacity or
    /// throughput; otherwise as [`System::spawn_with`].
    pub fn spawn(self, system: &System) -> Result<Addr<Supervisor>, SpawnError> {
        self.validate()?;
        let name = self.name.clone();
        system.spawn_supervisor(name, move || Supervisor::from_builder(&self))
    }
}

impl fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorBuilder")
            .field("name", &self.name)
            .field("strategy", &self.strategy)
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("backoff", &self.backoff)
            .field("children", &self.children.len())
            .finish()
    }
}

/// One child as [`Addr::children`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its name among its siblings.
    pub name: String,
    /// The id of its actor, while it has one.
    pub id: Option<u64>,
    /// Whether an instance is running now.
    pub running: bool,
    /// How many times it was restarted.
    pub restarts: u64,
    /// Its restart kind.
    pub restart: Restart,
}

/// A request to a [`Supervisor`]; made by the methods on `Addr<Supervisor>`.
pub struct SupervisorMsg(Request);

enum Request {
    Children(Reply<Vec<ChildInfo>>),
    Add(Entry, Reply<Result<Arc<dyn AnyCell>, SpawnError>>),
    Remove(String, Reply<bool>),
}

impl fmt::Debug for SupervisorMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Request::Children(_) => "SupervisorMsg::Children",
            Request::Add(..) => "SupervisorMsg::Add",
            Request::Remove(..) => "SupervisorMsg::Remove",
        })
    }
}

struct Child {
    entry: Entry,
    cell: Option<Arc<dyn AnyCell>>,
    running: bool,
    restarts: u64,
}

type AddReply = Reply<Result<Arc<dyn AnyCell>, SpawnError>>;

/// What the supervisor does next, one at a time: each waits for the child's
/// answer before the next starts, which keeps OTP's orders.
enum Op {
    Start(String, Option<AddReply>),
    Halt(String),
    Stop(String, AfterStop),
    Delay(Duration),
    GiveUp,
}

enum AfterStop {
    Keep,
    Remove(Option<Reply<bool>>),
}

enum Wait {
    Started(u64),
    Exited(u64),
    Stopped(u64, String, AfterStop),
    Delay,
}

/// A supervisor: an actor that starts, watches and restarts its children.
/// Built with [`Supervisor::builder`]; see the module documentation above for
/// the semantics.
pub struct Supervisor {
    strategy: Strategy,
    max_restarts: u32,
    period: Duration,
    backoff: Option<(Duration, Duration)>,
    children: Vec<Child>,
    restarts: VecDeque<Instant>,
    ops: VecDeque<Op>,
    waiting: Option<Wait>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.strategy)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A builder with OTP's defaults: one-for-one, 1 restart in 5 s, no backoff.
    pub fn builder() -> SupervisorBuilder {
        SupervisorBuilder {
            name: None,
            strategy: Strategy::OneForOne,
            max_restarts: 1,
            period: Duration::from_secs(5),
            backoff: None,
            children: Vec::new(),
        }
    }

    fn from_builder(b: &SupervisorBuilder) -> Self {
        Supervisor {
            strategy: b.strategy,
            max_restarts: b.max_restarts,
            period: b.period,
            backoff: b.backoff,
            children: b
                .children
                .iter()
                .map(|e| Child {
                    entry: e.clone(),
                    cell: None,
                    running: false,
                    restarts: 0,
                })
                .collect(),
            restarts: VecDeque::new(),
            ops: VecDeque::new(),
            waiting: None,
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|c| c.entry.name == name)
    }

    fn index_of_id(&self, id: u64) -> Option<usize> {
        self.children
            .iter()
            .position(|c| c.cell.as_ref().is_some_and(|cell| cell.id() == id))
    }

    /// Handles a child's notice (called by the runtime, before user messages).
    pub(crate) fn on_child(
        &mut self,
        ctx: &mut Context<Self>,
        notice: ChildNotice,
    ) -> Result<(), ActorError> {
        match notice {
            ChildNotice::Started(id) => {
                if let Some(i) = self.index_of_id(id) {
                    self.children[i].running = true;
                }
                if matches!(self.waiting, Some(Wait::Started(w)) if w == id) {
                    self.waiting = None;
                }
            }
            ChildNotice::Exited(id, exit) => {
                let Some(i) = self.index_of_id(id) else {
                    return self.pump(ctx);
                };
                self.children[i].running = false;
                match self.waiting {
                    // A halt we asked for (or the child went down by itself
                    // just before it arrived: one group restart either way).
                    Some(Wait::Exited(w)) if w == id => self.waiting = None,
                    Some(Wait::Started(w)) if w == id => {
                        self.waiting = None;
                        self.child_exited(ctx, i, exit)?;
                    }
                    _ => self.child_exited(ctx, i, exit)?,
                }
            }
            ChildNotice::Stopped(id) => {
                if let Some(i) = self.index_of_id(id) {
                    self.children[i].cell = None;
                    self.children[i].running = false;
                }
                if matches!(self.waiting, Some(Wait::Stopped(w, ..)) if w == id)
                    && let Some(Wait::Stopped(_, name, after)) = self.waiting.take()
                {
                    self.after_stop(&name, after);
                }
            }
        }
        self.pump(ctx)
    }

    /// Decides what an unexpected exit of child `i` calls for.
    fn child_exited(
        &mut self,
        ctx: &mut Context<Self>,
        i: usize,
        exit: Exit,
    ) -> Result<(), ActorError> {
        let name = self.children[i].entry.name.clone();
        let failed = !matches!(exit, Exit::Normal | Exit::Halted);
        match (self.children[i].entry.restart, failed) {
            (Restart::Temporary, _) => {
                log::info!(
                    "supervisor {}: temporary child {name} exited ({exit:?}); removing it",
                    label(ctx)
                );
                self.ops.push_back(Op::Stop(name, AfterStop::Remove(None)));
                return Ok(());
            }
            (Restart::Transient, false) => {
                log::info!(
                    "supervisor {}: transient child {name} exited normally",
                    label(ctx)
                );
                self.ops.push_back(Op::Stop(name, AfterStop::Keep));
                return Ok(());
            }
            _ => {}
        }
        if self
            .ops
            .iter()
            .any(|op| matches!(op, Op::Start(n, _) if *n == name))
        {
            // Already part of a group restart under way: it counts once.
            return Ok(());
        }
        let now = ctx.now();
        self.restarts.push_back(now);
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.period)
        {
            self.restarts.pop_front();
        }
        if self.restarts.len() > self.max_restarts as usize {
            return self.give_up(ctx);
        }
        let group: Vec<usize> = match self.strategy {
            Strategy::OneForOne => vec![i],
            Strategy::OneForAll => (0..self.children.len()).collect(),
            Strategy::RestForOne => (i..self.children.len()).collect(),
        };
        log::warn!(
            "supervisor {}: child {name} exited ({exit:?}); restarting {} child(ren)",
            label(ctx),
            group.len()
        );
        for &j in group.iter().rev() {
            if j != i && self.children[j].running {
                self.ops
                    .push_back(Op::Halt(self.children[j].entry.name.clone()));
            }
        }
        if let Some((min, max)) = self.backoff {
            let n = self.restarts.len().saturating_sub(1).min(30) as u32;
            let delay = min.saturating_mul(1u32 << n).min(max);
            self.ops.push_back(Op::Delay(delay));
        }
        for &j in &group {
            if self.children[j].cell.is_some() {
                self.children[j].restarts += 1;
                self.ops
                    .push_back(Op::Start(self.children[j].entry.name.clone(), None));
            }
        }
        Ok(())
    }

    fn give_up(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        log::error!(
            "supervisor {} gives up: more than {} restarts within {:?}; stopping its children",
            label(ctx),
            self.max_restarts,
            self.period
        );
        self.ops.clear();
        self.waiting = None;
        for c in self.children.iter().rev() {
            if c.cell.is_some() {
                self.ops
                    .push_back(Op::Stop(c.entry.name.clone(), AfterStop::Keep));
            }
        }
        self.ops.push_back(Op::GiveUp);
        Ok(())
    }

    fn after_stop(&mut self, name: &str, after: AfterStop) {
        if let AfterStop::Remove(reply) = after {
            let removed = self.index_of(name).map(|i| self.children.remove(i));
            if let Some(r) = reply {
                let _ = r.send(removed.is_some());
            }
        }
    }

    /// Runs queued operations until one must wait for a child.
    fn pump(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        while self.waiting.is_none() {
            let Some(op) = self.ops.pop_front() else {
                break;
            };
            match op {
                Op::Start(name, reply) => self.start_child(ctx, &name, reply),
                Op::Halt(name) => {
                    if let Some(i) = self.index_of(&name)
                        && self.children[i].running
                        && let Some(cell) = self.children[i].cell.clone()
                    {
                        self.waiting = Some(Wait::Exited(cell.id()));
                        cell.command(Command::Halt);
                    }
                }
                Op::Stop(name, after) => self.stop_child(ctx, &name, after),
                Op::Delay(d) => {
                    self.waiting = Some(Wait::Delay);
                    ctx.after(
                        d,
                        Box::new(|sup: &mut Supervisor, ctx| {
                            if matches!(sup.waiting, Some(Wait::Delay)) {
                                sup.waiting = None;
                            }
                            sup.pump(ctx)
                        }),
                    );
                }
                Op::GiveUp => {
                    return Err(Box::new(GaveUp {
                        max_restarts: self.max_restarts,
                        period: self.period,
                    }));
                }
            }
        }
        Ok(())
    }

    fn start_child(&mut self, ctx: &mut Context<Self>, name: &str, reply: Option<AddReply>) {
        let Some(i) = self.index_of(name) else {
            return;
        };
        if self.children[i].running {
            return;
        }
        if let Some(cell) = self.children[i].cell.clone() {
            self.waiting = Some(Wait::Started(cell.id()));
            cell.command(Command::Start);
            return;
        }
        let e = &self.children[i].entry;
        let config = CellConfig {
            capacity: 0,
            throughput: 0,
            supervised: true,
            ordered_stop: e.ordered_stop,
            shutdown_timeout: e.shutdown,
            low_watermark: None,
            dedicated: None,
        };
        let registered = format!("{}/{}", label(ctx), e.name);
        let start = e.start.clone();
        let (capacity, throughput) = (e.capacity, e.throughput);
        let result = ctx
            .defaults(capacity, throughput, config)
            .and_then(|config| start.start(ctx, registered, config));
        match result {
            Ok(cell) => {
                self.waiting = Some(Wait::Started(cell.id()));
                self.children[i].cell = Some(cell.clone());
                if let Some(r) = reply {
                    let _ = r.send(Ok(cell));
                }
            }
            Err(e) => {
                log::error!(
                    "supervisor {}: could not start child {name}: {e}",
                    label(ctx)
                );
                if let Some(r) = reply {
                    let _ = r.send(Err(e));
                }
            }
        }
    }

    fn stop_child(&mut self, ctx: &mut Context<Self>, name: &str, after: AfterStop) {
        let Some(i) = self.index_of(name) else {
            if let AfterStop::Remove(Some(r)) = after {
                let _ = r.send(false);
            }
            return;
        };
        let Some(cell) = self.children[i].cell.clone() else {
            self.after_stop(name, after);
            return;
        };
        let id = cell.id();
        let reason = if self.children[i].running {
            StopReason::Parent
        } else {
            StopReason::Decided
        };
        self.waiting = Some(Wait::Stopped(id, name.to_string(), after));
        if let Some(timeout) = self.children[i].entry.shutdown {
            ctx.after(
                timeout,
                Box::new(move |sup: &mut Supervisor, ctx| {
                    if matches!(sup.waiting, Some(Wait::Stopped(w, ..)) if w == id) {
                        log::error!(
                            "supervisor {}: child #{id} did not stop within its shutdown timeout; abandoned",
                            label(ctx)
                        );
                        if let Some(i) = sup.index_of_id(id) {
                            sup.children[i].cell = None;
                            sup.children[i].running = false;
                        }
                        if let Some(Wait::Stopped(_, name, after)) = sup.waiting.take() {
                            sup.after_stop(&name, after);
                        }
                    }
                    sup.pump(ctx)
                }),
            );
        }
        cell.command(Command::Stop(reason));
    }
}

fn label(ctx: &Context<Supervisor>) -> String {
    match ctx.name() {
        Some(n) => n.to_string(),
        None => format!("#{}", ctx.id()),
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        for c in &self.children {
            self.ops.push_back(Op::Start(c.entry.name.clone(), None));
        }
        self.pump(ctx)
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: SupervisorMsg) -> Result<(), ActorError> {
        match msg.0 {
            Request::Children(reply) => {
                let info = self
                    .children
                    .iter()
                    .map(|c| ChildInfo {
                        name: c.entry.name.clone(),
                        id: c.cell.as_ref().map(|x| x.id()),
                        running: c.running,
                        restarts: c.restarts,
                        restart: c.entry.restart,
                    })
                    .collect();
                let _ = reply.send(info);
            }
            Request::Add(entry, reply) => {
                if self.index_of(&entry.name).is_some() {
                    let _ = reply.send(Err(SpawnError::NameTaken(entry.name)));
                } else {
                    let name = entry.name.clone();
                    self.children.push(Child {
                        entry,
                        cell: None,
                        running: false,
                        restarts: 0,
                    });
                    self.ops.push_back(Op::Start(name, Some(reply)));
                }
            }
            Request::Remove(name, reply) => {
                if self.index_of(&name).is_some() {
                    self.ops
                        .push_back(Op::Stop(name, AfterStop::Remove(Some(reply))));
                } else {
                    let _ = reply.send(false);
                }
            }
        }
        self.pump(ctx)
    }
}

impl Addr<Supervisor> {
    /// The supervisor's children in start order, with their restart counts.
    ///
    /// # Errors
    /// As [`Addr::ask`].
    pub fn children(&self, timeout: Duration) -> Result<Vec<ChildInfo>, AskError> {
        self.ask(|r| SupervisorMsg(Request::Children(r)), timeout)
    }

    /// The address of the child named `name`, if it has an actor now and it is
    /// of type `A`. Stable across restarts.
    pub fn child<A: Actor>(&self, name: &str) -> Option<Addr<A>> {
        let prefix = self
            .name()
            .map_or_else(|| format!("#{}", self.id()), str::to_string);
        self.lookup(&format!("{prefix}/{name}"))
    }

    /// Adds a child to a running supervisor and starts it (OTP's
    /// `start_child`; a pool of identical workers is many such children).
    ///
    /// # Errors
    /// [`SupervisorError::Spawn`] for a taken name or bad options,
    /// [`SupervisorError::Ask`] if the supervisor did not answer.
    pub fn add_child<A: Actor>(
        &self,
        spec: ChildSpec<A>,
        timeout: Duration,
    ) -> Result<Addr<A>, SupervisorError> {
        if spec.entry.capacity == Some(0) {
            return Err(SupervisorError::Spawn(
                BuildError::zero("mailbox capacity").into(),
            ));
        }
        if spec.entry.throughput == Some(0) {
            return Err(SupervisorError::Spawn(
                BuildError::zero("throughput").into(),
            ));
        }
        let cell = self
            .ask(|r| SupervisorMsg(Request::Add(spec.entry, r)), timeout)
            .map_err(SupervisorError::Ask)?
            .map_err(SupervisorError::Spawn)?;
        let cell = cell
            .into_any()
            .downcast::<Cell<A>>()
            .expect("a ChildSpec<A> starts an actor of type A");
        Ok(Addr::from_cell(cell))
    }

    /// Stops the child named `name` for good and forgets its spec (OTP's
    /// `terminate_child` + `delete_child`). Returns whether it existed.
    ///
    /// # Errors
    /// As [`Addr::ask`].
    pub fn remove_child(&self, name: &str, timeout: Duration) -> Result<bool, AskError> {
        let name = name.to_string();
        self.ask(|r| SupervisorMsg(Request::Remove(name, r)), timeout)
    }
}
