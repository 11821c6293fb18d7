//! The [`Supervisor`] actor: starts its children in order and decides what each exit calls for.
//!
//! # Protocol
//!
//! The supervisor does one operation at a time from a queue (`Op`): start,
//! halt or stop one child, wait out a backoff, give up. Each that needs the
//! child's answer sets `waiting` until the matching [`ChildEvent`] arrives,
//! and only then does the next run, which keeps OTP's orders (halts newest
//! first, starts in start order). Events arrive through the control lane,
//! ahead of requests, and only to a live instance.

use super::builder::{Strategy, SupervisorBuilder};
use super::error::SupervisorError;
use super::intensity::Intensity;
use super::spec::{Entry, Restart};
use crate::{
    Actor, ActorError, Addr, AskError, ChildEvent, Context, ExitReason, Reply, SpawnError,
};
use crossbeam_channel::Sender;
use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// One child as [`super::SupervisorExt::children`] reports it.
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
/// let sup = Supervisor::builder().child(ChildSpec::new("w", || Worker)).spawn(&system)?;
/// let info = &sup.children(Duration::from_secs(5))?[0];
/// assert_eq!((info.name.as_str(), info.running, info.restarts), ("w", true, 0));
/// assert_eq!(info.restart, Restart::Permanent);
/// assert_eq!(info.id, sup.child::<Worker>("w").map(|a| a.id()));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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

/// A request to a [`Supervisor`]; made by the methods of
/// [`super::SupervisorExt`].
///
/// # Examples
///
/// ```
/// use playhouse::{Addr, Recipient, Supervisor, SupervisorMsg, System};
///
/// let system = System::new();
/// let sup: Addr<Supervisor> = Supervisor::builder().spawn(&system)?;
/// // Requests are built by `SupervisorExt`; the message type names the lane.
/// let _r: Recipient<SupervisorMsg> = sup.recipient();
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SupervisorMsg(pub(super) Request);

pub(super) enum Request {
    Children(Reply<Vec<ChildInfo>>),
    Add(Entry, AddReply),
    Remove(String, Reply<bool>),
    /// Answered once the children given to the builder have started.
    Ready(Reply<()>),
}

impl fmt::Debug for SupervisorMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Request::Children(_) => "SupervisorMsg::Children",
            Request::Add(..) => "SupervisorMsg::Add",
            Request::Remove(..) => "SupervisorMsg::Remove",
            Request::Ready(_) => "SupervisorMsg::Ready",
        })
    }
}

/// How the first start of the builder's children went, for
/// `SupervisorBuilder::spawn`.
#[derive(Debug)]
pub(super) enum Boot {
    Started,
    Failed { child: String, reason: String },
}

/// Asks whether the children given to the builder have started.
pub(super) fn ask_ready(sup: &Addr<Supervisor>, timeout: Duration) -> Result<(), AskError> {
    sup.ask(|r| SupervisorMsg(Request::Ready(r)), timeout)
}

struct Child {
    entry: Entry,
    /// The child's actor, from its spawn until it stops for good.
    id: Option<u64>,
    /// A nested supervisor's address, asked whether its children started.
    nested: Option<Addr<Supervisor>>,
    running: bool,
    restarts: u64,
}

/// How long a supervisor waits for a nested supervisor's children to start
/// before it goes on without that answer.
const NESTED_START_TIMEOUT: Duration = Duration::from_secs(60);

type AddReply = Reply<Result<Box<dyn Any + Send>, SupervisorError>>;

/// An `add_child` waiting for its child's start to complete: answered with
/// the address once the child has started (a nested supervisor: once its
/// own children have), or with the failure if it exits first.
struct PendingAdd {
    id: u64,
    reply: AddReply,
    addr: Box<dyn Any + Send>,
}

/// What the supervisor does next, one at a time.
enum Op {
    Start(String, Option<AddReply>),
    Halt(String),
    Stop(String, AfterStop),
    Delay(Duration),
    GiveUp,
    /// A child failed its first start: the others are stopped; report it.
    Abort {
        child: String,
        reason: String,
    },
}

enum AfterStop {
    Keep,
    Remove(Option<Reply<bool>>),
    /// An added child whose first start failed: removed, then its
    /// `add_child` answered with the failure.
    Refuse(AddReply, ExitReason),
}

enum Wait {
    Started(u64),
    /// A nested supervisor started; its own children are starting.
    Ready(u64),
    Exited(u64),
    Stopped(u64, String, AfterStop),
    Delay,
}

/// A supervisor: an actor that starts, watches and restarts its children.
/// Built with [`Supervisor::builder`]; the guide's
/// [supervision chapter](crate::guide::supervision) walks through it.
///
#[doc = include_str!("semantics.md")]
///
/// # Examples
///
/// ```
/// use playhouse::testkit::await_children;
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
/// let sup = Supervisor::builder()
///     .intensity(3, Duration::from_secs(10))
///     .child(ChildSpec::new("w", || Worker))
///     .spawn(&system)?;
/// let w = sup.child::<Worker>("w").expect("started");
/// w.tell(0)?; // fails; restarted with a fresh instance behind the same address
/// await_children(&sup, Duration::from_secs(5), |c| c[0].restarts == 1 && c[0].running)?;
/// w.tell(7)?; // the old address still works
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Supervisor {
    strategy: Strategy,
    intensity: Intensity,
    children: Vec<Child>,
    ops: VecDeque<Op>,
    waiting: Option<Wait>,
    /// Starting the builder's children: a failed first start aborts.
    booting: bool,
    ready: Vec<Reply<()>>,
    /// The `add_child` whose child is starting (one at a time, as `waiting`).
    adding: Option<PendingAdd>,
    /// Where the first instance reports how its first start went.
    pub(super) boot: Option<Sender<Boot>>,
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
    pub(super) fn from_builder(b: &SupervisorBuilder) -> Self {
        Supervisor {
            strategy: b.strategy,
            intensity: Intensity::new(b.max_restarts, b.period, b.backoff),
            children: b
                .children
                .iter()
                .map(|e| Child {
                    entry: e.clone(),
                    id: None,
                    nested: None,
                    running: false,
                    restarts: 0,
                })
                .collect(),
            ops: VecDeque::new(),
            waiting: None,
            booting: false,
            ready: Vec::new(),
            adding: None,
            boot: None,
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|c| c.entry.name == name)
    }

    fn index_of_id(&self, id: u64) -> Option<usize> {
        self.children.iter().position(|c| c.id == Some(id))
    }

    /// Decides what an unexpected exit of child `i` calls for.
    fn child_exited(
        &mut self,
        ctx: &mut Context<Self>,
        i: usize,
        reason: ExitReason,
    ) -> Result<(), ActorError> {
        let name = self.children[i].entry.name.clone();
        let failed = reason.is_failure();
        match (self.children[i].entry.restart, failed) {
            (Restart::Temporary, _) => {
                log_exit(ctx, &name, &reason, "removing it (temporary)");
                self.ops.push_back(Op::Stop(name, AfterStop::Remove(None)));
                return Ok(());
            }
            (Restart::Transient, false) => {
                log_exit(ctx, &name, &reason, "not restarting it (transient)");
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
            log_exit(ctx, &name, &reason, "its group restart is under way");
            return Ok(());
        }
        if self.intensity.exceeded_by_restart(ctx.now()) {
            log_exit(ctx, &name, &reason, "one restart too many");
            return self.give_up(ctx);
        }
        let group: Vec<usize> = match self.strategy {
            Strategy::OneForOne => vec![i],
            Strategy::OneForAll => (0..self.children.len()).collect(),
            Strategy::RestForOne => (i..self.children.len()).collect(),
        };
        log_exit(
            ctx,
            &name,
            &reason,
            &format!("restarting {} child(ren)", group.len()),
        );
        for &j in group.iter().rev() {
            if j == i {
                continue;
            }
            let sibling = &self.children[j];
            if sibling.entry.restart == Restart::Temporary {
                // Never restarted, also as a bystander: removed.
                if sibling.id.is_some() {
                    let n = sibling.entry.name.clone();
                    self.ops.push_back(Op::Stop(n, AfterStop::Remove(None)));
                }
            } else if sibling.running {
                self.ops.push_back(Op::Halt(sibling.entry.name.clone()));
            }
        }
        if let Some(delay) = self.intensity.delay() {
            self.ops.push_back(Op::Delay(delay));
        }
        for &j in &group {
            let c = &mut self.children[j];
            if c.id.is_some() && (j == i || c.entry.restart != Restart::Temporary) {
                c.restarts += 1;
                self.ops.push_back(Op::Start(c.entry.name.clone(), None));
            }
        }
        Ok(())
    }

    fn give_up(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        log::error!(
            "supervisor {} gives up: more than {} restarts within {:?}; stopping its children",
            label(ctx),
            self.intensity.max_restarts(),
            self.intensity.period()
        );
        self.stop_all_then(Op::GiveUp);
        Ok(())
    }

    /// A child failed its first start while the builder's children start:
    /// stop the others and report it (OTP: `start_link` fails).
    fn abort(&mut self, ctx: &mut Context<Self>, child: String, reason: String) {
        log::error!(
            "supervisor {}: child {child} failed to start: {reason}; stopping its children",
            label(ctx)
        );
        self.stop_all_then(Op::Abort { child, reason });
    }

    /// Drops every queued operation, stops every child newest first, then
    /// runs `last`.
    fn stop_all_then(&mut self, last: Op) {
        self.ops.clear();
        self.waiting = None;
        for c in self.children.iter().rev() {
            if c.id.is_some() {
                self.ops
                    .push_back(Op::Stop(c.entry.name.clone(), AfterStop::Keep));
            }
        }
        self.ops.push_back(last);
    }

    /// Answers the `add_child` of child `id`, whose start is complete.
    fn added(&mut self, id: u64) {
        if let Some(add) = self.adding.take_if(|a| a.id == id) {
            let _ = add.reply.send(Ok(add.addr));
        }
    }

    fn after_stop(&mut self, name: &str, after: AfterStop) {
        let removed = match after {
            AfterStop::Keep => return,
            AfterStop::Remove(_) | AfterStop::Refuse(..) => {
                self.index_of(name).map(|i| self.children.remove(i))
            }
        };
        match after {
            AfterStop::Remove(Some(r)) => {
                let _ = r.send(removed.is_some());
            }
            AfterStop::Refuse(r, reason) => refuse(r, name.to_string(), &reason),
            AfterStop::Keep | AfterStop::Remove(None) => {}
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
                        && let Some(id) = self.children[i].id
                    {
                        self.waiting = Some(Wait::Exited(id));
                        ctx.halt_child(id);
                    }
                }
                Op::Stop(name, after) => self.stop_child(ctx, &name, after),
                Op::Delay(d) => {
                    self.waiting = Some(Wait::Delay);
                    ctx.run_after(d, |sup: &mut Supervisor, ctx| {
                        if matches!(sup.waiting, Some(Wait::Delay)) {
                            sup.waiting = None;
                        }
                        sup.pump(ctx)
                    });
                }
                Op::GiveUp => {
                    ctx.exit(ExitReason::GaveUp);
                    return Ok(());
                }
                Op::Abort { child, reason } => {
                    self.booting = false;
                    let why = format!("child {child} failed to start: {reason}");
                    if let Some(tx) = self.boot.take() {
                        let _ = tx.send(Boot::Failed { child, reason });
                    }
                    ctx.exit(ExitReason::Failed(why));
                    return Ok(());
                }
            }
        }
        if self.booting && self.waiting.is_none() && self.ops.is_empty() {
            self.booting = false;
            if let Some(tx) = self.boot.take() {
                let _ = tx.send(Boot::Started);
            }
            for r in self.ready.drain(..) {
                let _ = r.send(());
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
        if let Some(id) = self.children[i].id {
            self.waiting = Some(Wait::Started(id));
            ctx.restart_child(id);
            return;
        }
        let entry = self.children[i].entry.clone();
        let registered = format!("{}/{}", label(ctx), entry.name);
        match entry.start.start(ctx, entry.options(registered)) {
            Ok((id, addr)) => {
                self.waiting = Some(Wait::Started(id));
                self.children[i].id = Some(id);
                if entry.nested {
                    self.children[i].nested = addr.downcast_ref::<Addr<Supervisor>>().cloned();
                }
                if let Some(reply) = reply {
                    self.adding = Some(PendingAdd { id, reply, addr });
                }
            }
            Err(e @ (SpawnError::SystemStopped | SpawnError::ParentStopping)) => {
                // The system (or this supervisor) is stopping, and its stop
                // takes every child: not a failure to act on.
                log::debug!("supervisor {}: child {name} not started: {e}", label(ctx));
                if let Some(r) = reply {
                    let _ = r.send(Err(SupervisorError::Spawn(e)));
                }
            }
            Err(e) => {
                if self.booting {
                    return self.abort(ctx, name.to_string(), e.to_string());
                }
                log::error!(
                    "supervisor {}: could not start child {name}: {e}",
                    label(ctx)
                );
                if let Some(r) = reply {
                    let _ = r.send(Err(SupervisorError::Spawn(e)));
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
        let Some(id) = self.children[i].id else {
            self.after_stop(name, after);
            return;
        };
        self.waiting = Some(Wait::Stopped(id, name.to_string(), after));
        if let Some(timeout) = self.children[i].entry.shutdown {
            ctx.run_after(timeout, move |sup: &mut Supervisor, ctx| {
                if matches!(sup.waiting, Some(Wait::Stopped(w, ..)) if w == id) {
                    log::error!(
                        "supervisor {}: child #{id} did not stop within its shutdown timeout; abandoned",
                        label(ctx)
                    );
                    if let Some(i) = sup.index_of_id(id) {
                        sup.children[i].id = None;
                        sup.children[i].running = false;
                    }
                    if let Some(Wait::Stopped(_, name, after)) = sup.waiting.take() {
                        sup.after_stop(&name, after);
                    }
                }
                sup.pump(ctx)
            });
        }
        ctx.stop_child(id);
    }

    fn on_started(&mut self, ctx: &mut Context<Self>, id: u64) -> Result<(), ActorError> {
        let Some(i) = self.index_of_id(id) else {
            return Ok(());
        };
        self.children[i].running = true;
        if !matches!(self.waiting, Some(Wait::Started(w)) if w == id) {
            return Ok(());
        }
        self.waiting = None;
        let Some(nested) = self.children[i].nested.clone() else {
            self.added(id);
            return Ok(());
        };
        // Its start is complete once its own children have started: its
        // answer (or its exit, as a start failure) ends the wait.
        self.waiting = Some(Wait::Ready(id));
        ctx.ask(
            &nested,
            |r| SupervisorMsg(Request::Ready(r)),
            NESTED_START_TIMEOUT,
            move |sup: &mut Supervisor, ctx, outcome| {
                let waiting = matches!(sup.waiting, Some(Wait::Ready(w)) if w == id);
                match outcome {
                    Ok(()) if waiting => {
                        sup.waiting = None;
                        sup.added(id);
                    }
                    Err(AskError::Timeout) if waiting => {
                        log::warn!(
                            "supervisor {}: nested supervisor #{id} did not start its children \
                             within {NESTED_START_TIMEOUT:?}; going on",
                            label(ctx)
                        );
                        sup.waiting = None;
                        sup.added(id);
                    }
                    // It exited, or stopped: its exit event, which follows,
                    // ends the wait.
                    _ => {}
                }
                if let Err(e) = sup.pump(ctx) {
                    log::error!("supervisor {}: {e}", label(ctx));
                }
            },
        )?;
        Ok(())
    }

    fn on_exited(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        reason: ExitReason,
    ) -> Result<(), ActorError> {
        let Some(i) = self.index_of_id(id) else {
            return Ok(());
        };
        self.children[i].running = false;
        match self.waiting {
            // A halt we asked for (or the child went down by itself just
            // before it arrived: one group restart either way).
            Some(Wait::Exited(w)) if w == id => self.waiting = None,
            Some(Wait::Started(w) | Wait::Ready(w)) if w == id => {
                self.waiting = None;
                let name = self.children[i].entry.name.clone();
                if self.booting {
                    self.abort(ctx, name, describe(&reason));
                    return Ok(());
                }
                if let Some(add) = self.adding.take_if(|a| a.id == id) {
                    // OTP's start_child: a child whose first start fails is
                    // not kept.
                    let after = AfterStop::Refuse(add.reply, reason);
                    self.ops.push_back(Op::Stop(name, after));
                    return Ok(());
                }
                self.child_exited(ctx, i, reason)?;
            }
            _ => self.child_exited(ctx, i, reason)?,
        }
        Ok(())
    }

    fn on_stopped(&mut self, id: u64) {
        if let Some(i) = self.index_of_id(id) {
            let name = self.children[i].entry.name.clone();
            if let Some(add) = self.adding.take_if(|a| a.id == id) {
                refuse(add.reply, name, &ExitReason::Shutdown);
            }
            self.children[i].id = None;
            self.children[i].running = false;
        }
        if matches!(self.waiting, Some(Wait::Ready(w)) if w == id) {
            self.waiting = None;
        }
        if matches!(self.waiting, Some(Wait::Stopped(w, ..)) if w == id)
            && let Some(Wait::Stopped(_, name, after)) = self.waiting.take()
        {
            self.after_stop(&name, after);
        }
    }
}

/// Logs a child's exit with what the supervisor does about it: the one line
/// a supervised failure gets (the runtime logs it at debug only).
fn log_exit(ctx: &Context<Supervisor>, child: &str, reason: &ExitReason, action: &str) {
    if reason.is_failure() {
        log::warn!(
            "supervisor {}: child {child} {}; {action}",
            label(ctx),
            describe(reason)
        );
    } else {
        log::info!(
            "supervisor {}: child {child} exited ({reason:?}); {action}",
            label(ctx)
        );
    }
}

/// Answers an `add_child` whose child exited before its start completed.
fn refuse(reply: AddReply, child: String, reason: &ExitReason) {
    let reason = describe(reason);
    let _ = reply.send(Err(SupervisorError::ChildStart { child, reason }));
}

fn describe(reason: &ExitReason) -> String {
    match reason {
        ExitReason::Failed(s) => s.clone(),
        ExitReason::GaveUp => "gave up".to_string(),
        other => format!("exited ({other:?})"),
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
        self.booting = true;
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
                        id: c.id,
                        running: c.running,
                        restarts: c.restarts,
                        restart: c.entry.restart,
                    })
                    .collect();
                let _ = reply.send(info);
            }
            Request::Add(entry, reply) => {
                if self.index_of(&entry.name).is_some() {
                    let taken = SpawnError::NameTaken(entry.name);
                    let _ = reply.send(Err(SupervisorError::Spawn(taken)));
                } else {
                    let name = entry.name.clone();
                    self.children.push(Child {
                        entry,
                        id: None,
                        nested: None,
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
            Request::Ready(reply) => {
                if self.booting {
                    self.ready.push(reply);
                } else {
                    let _ = reply.send(());
                }
            }
        }
        self.pump(ctx)
    }

    fn on_child(&mut self, ctx: &mut Context<Self>, event: ChildEvent) -> Result<(), ActorError> {
        match event {
            ChildEvent::Started { id, .. } => self.on_started(ctx, id)?,
            ChildEvent::Exited { id, reason } => self.on_exited(ctx, id, reason)?,
            ChildEvent::Stopped { id, .. } => self.on_stopped(id),
        }
        self.pump(ctx)
    }
}
