//! Sinks: where a pipeline ends, and what its handle returns: a closure, a fold, a collection, a `Recipient`, a channel, a bus.

use super::demand::CreditWindow;
use super::error::{StartError, StreamError, panic_message};
use super::handle::{StageCounters, Waiter, wait_on};
use super::link::{Build, Down, Inlet, StageMsg, Up};
use crate::bus::{BusMsg, EventBus};
use crate::sync::Arc;
use crate::{Actor, ActorError, Addr, Context, Recipient};
use crossbeam_channel::{Sender, TrySendError};
use std::collections::VecDeque;
use std::fmt;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a sink did with one element.
pub(super) enum Sunk<T> {
    /// Consumed; go on.
    Next,
    /// Consumed; want no more (cancel upstream, complete).
    Stop,
    /// Not taken now: hold it and retry at the next message (the logic
    /// arranges for one to come).
    Wait(T),
}

/// The logic of a sink actor.
pub(super) trait SinkLogic<T: Send + 'static, R: Send + 'static>: Send + 'static {
    fn push(&mut self, ctx: &mut Context<SinkActor<T, R>>, x: T) -> Result<Sunk<T>, ActorError>;
    fn finish(&mut self) -> R;
    /// Runs when the sink actor starts; `wake` makes it retry a held element.
    fn start(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
        let _ = wake;
    }
}

/// Where a pipeline ends; its result `R` is what [`super::StreamHandle::wait`]
/// returns.
///
/// Every sink grants demand from a buffer (the pipeline's buffer size, see
/// [`super::Source::buffer_size`]); a slow sink therefore slows the source.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let (tx, rx) = crossbeam_channel::bounded(1);
/// let handle = Source::from_iter(0..10u32).to(Sink::to_sender(tx)).run(&system)?;
/// let got: Vec<u32> = rx.iter().collect(); // ends when the sink completes
/// assert_eq!(got, (0..10).collect::<Vec<_>>());
/// handle.wait(Duration::from_secs(5))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sink<T: Send + 'static, R: Send + 'static> {
    name: &'static str,
    logic: Box<dyn SinkLogic<T, R>>,
}

impl<T: Send + 'static, R: Send + 'static> fmt::Debug for Sink<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink").field("kind", &self.name).finish()
    }
}

struct ForEach<F>(F);
impl<T: Send + 'static, F: FnMut(T) + Send + 'static> SinkLogic<T, ()> for ForEach<F> {
    fn push(&mut self, _: &mut Context<SinkActor<T, ()>>, x: T) -> Result<Sunk<T>, ActorError> {
        (self.0)(x);
        Ok(Sunk::Next)
    }
    fn finish(&mut self) {}
}

struct ForEachWhile<F>(F);
impl<T: Send + 'static, F: FnMut(T) -> bool + Send + 'static> SinkLogic<T, ()> for ForEachWhile<F> {
    fn push(&mut self, _: &mut Context<SinkActor<T, ()>>, x: T) -> Result<Sunk<T>, ActorError> {
        Ok(if (self.0)(x) { Sunk::Next } else { Sunk::Stop })
    }
    fn finish(&mut self) {}
}

struct FoldSink<R, F>(Option<R>, F);
impl<T: Send + 'static, R: Send + 'static, F: FnMut(R, T) -> R + Send + 'static> SinkLogic<T, R>
    for FoldSink<R, F>
{
    fn push(&mut self, _: &mut Context<SinkActor<T, R>>, x: T) -> Result<Sunk<T>, ActorError> {
        let acc = self
            .0
            .take()
            .expect("a fold holds its value until it finishes");
        self.0 = Some((self.1)(acc, x));
        Ok(Sunk::Next)
    }
    fn finish(&mut self) -> R {
        self.0.take().expect("a fold finishes once")
    }
}

struct ToRecipient<T: Send + 'static>(Recipient<T>);
impl<T: Send + 'static> SinkLogic<T, ()> for ToRecipient<T> {
    fn push(&mut self, ctx: &mut Context<SinkActor<T, ()>>, x: T) -> Result<Sunk<T>, ActorError> {
        // A full mailbox suspends the sink actor, not its worker.
        ctx.send(&self.0, x)
            .map_err(|_| "the sink's recipient has stopped")?;
        Ok(Sunk::Next)
    }
    fn finish(&mut self) {}
}

/// Hands elements to a thread of the sink's own, which blocks on the user's
/// channel (never a pool worker) and wakes the sink after each element.
struct ToSender<T> {
    to: Option<Sender<T>>,
    handoff: Sender<T>,
    from: Option<crossbeam_channel::Receiver<T>>,
}

impl<T: Send + 'static> SinkLogic<T, ()> for ToSender<T> {
    fn push(&mut self, _: &mut Context<SinkActor<T, ()>>, x: T) -> Result<Sunk<T>, ActorError> {
        match self.handoff.try_send(x) {
            Ok(()) => Ok(Sunk::Next),
            Err(TrySendError::Full(x)) => Ok(Sunk::Wait(x)),
            Err(TrySendError::Disconnected(_)) => {
                Err("the sink's channel receiver was dropped".into())
            }
        }
    }
    fn finish(&mut self) {}
    fn start(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
        let (Some(to), Some(from)) = (self.to.take(), self.from.take()) else {
            return;
        };
        // The thread ends once the sink actor is gone (its handoff sender
        // dropped) and what it handed off is delivered, or at once when the
        // user's receiver is dropped; it then drops the user's sender.
        let spawned = crate::sync::thread::Builder::new()
            .name("playhouse-stream-send".into())
            .spawn(move || {
                for x in from.iter() {
                    if to.send(x).is_err() {
                        break;
                    }
                    wake();
                }
            });
        if let Err(e) = spawned {
            log::error!("stream sender sink could not start its thread: {e}");
        }
    }
}

struct ToBus<E: Clone + Send + 'static, K: Eq + Hash + Clone + Send + 'static>(
    Addr<EventBus<E, K>>,
);
impl<E, K> SinkLogic<E, ()> for ToBus<E, K>
where
    E: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
{
    fn push(&mut self, ctx: &mut Context<SinkActor<E, ()>>, x: E) -> Result<Sunk<E>, ActorError> {
        ctx.send(&self.0, BusMsg::publish(x))
            .map_err(|_| "the sink's event bus has stopped")?;
        Ok(Sunk::Next)
    }
    fn finish(&mut self) {}
}

impl<T: Send + 'static> Sink<T, ()> {
    /// Calls `f` on each element, on the sink actor. `f` should not block
    /// for long: it holds a pool worker while it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// Source::from_iter(["x", "y"]).to(Sink::for_each(move |s| drop(tx.send(s)))).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["x", "y"]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each(f: impl FnMut(T) + Send + 'static) -> Self {
        Sink {
            name: "for_each",
            logic: Box::new(ForEach(f)),
        }
    }

    /// Calls `f` on each element until it returns `false`; then the stream is
    /// cancelled upstream and completes successfully.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// // Stop at the first negative reading; the endless source is cancelled.
    /// let sink = Sink::for_each_while(move |n: i64| { let _ = tx.send(n); n >= 0 });
    /// Source::from_iter([3, 1, -1, 4].into_iter().cycle()).to(sink).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3, 1, -1]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each_while(f: impl FnMut(T) -> bool + Send + 'static) -> Self {
        Sink {
            name: "for_each_while",
            logic: Box::new(ForEachWhile(f)),
        }
    }

    /// Drops every element (for pipelines run for their side effects).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0..100).map(|n| n * 2).to(Sink::ignore()).run(&system)?;
    /// handle.wait(Duration::from_secs(5))?; // completed
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ignore() -> Self {
        Sink::for_each(drop)
    }

    /// Sends each element to an actor with [`Context::send`]: a full mailbox
    /// suspends the sink, which stops granting demand, so the recipient's
    /// pace reaches the source. The stream fails if the recipient stops.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// use playhouse::testkit::Probe;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let probe = Probe::new(&system)?;
    /// Source::from_iter([1, 2, 3]).to(Sink::to_recipient(probe.recipient())).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(probe.receive_n(3, Duration::from_secs(5))?, [1, 2, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_recipient(recipient: Recipient<T>) -> Self {
        Sink {
            name: "to_recipient",
            logic: Box::new(ToRecipient(recipient)),
        }
    }

    /// Sends each element into a channel for a plain thread. A thread of the
    /// sink's own does the blocking sends (one element in hand, one handed
    /// off to it), so a full channel stops the sink granting demand without
    /// holding a pool worker. When the stream ends and the elements are
    /// delivered, the sender is dropped, so the reader's loop ends. The
    /// stream fails if the receiver is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (tx, rx) = crossbeam_channel::bounded(2); // a slow reader slows the stream
    /// let handle = Source::from_iter(0..50u32).to(Sink::to_sender(tx)).run(&system)?;
    /// let sum: u32 = rx.iter().sum(); // ends when the stream does
    /// assert_eq!(sum, 1225);
    /// handle.wait(Duration::from_secs(5))?;
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_sender(tx: Sender<T>) -> Self {
        let (handoff, from) = crossbeam_channel::bounded(1);
        Sink {
            name: "to_sender",
            logic: Box::new(ToSender {
                to: Some(tx),
                handoff,
                from: Some(from),
            }),
        }
    }
}

impl<E: Clone + Send + 'static> Sink<E, ()> {
    /// Publishes each element on an [`EventBus`] (with backpressure: a full
    /// bus suspends the sink).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::bus::{EventBus, EventBusExt};
    /// use playhouse::stream::{Sink, Source};
    /// use playhouse::testkit::Probe;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let probe = Probe::new(&system)?;
    /// bus.subscribe_all(probe.recipient(), Duration::from_secs(5))?;
    /// Source::from_iter([1, 2]).to(Sink::to_bus(&bus)).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(probe.receive_n(2, Duration::from_secs(5))?, [1, 2]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_bus<K: Eq + Hash + Clone + Send + 'static>(bus: &Addr<EventBus<E, K>>) -> Self {
        Sink {
            name: "to_bus",
            logic: Box::new(ToBus(bus.clone())),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Sink<T, R> {
    /// Folds the elements into a value, which the handle returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let csv = Source::from_iter(["a", "b", "c"])
    ///     .to(Sink::fold(String::new(), |mut acc, s| {
    ///         if !acc.is_empty() { acc.push(','); }
    ///         acc.push_str(s);
    ///         acc
    ///     }))
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(csv, "a,b,c");
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fold(init: R, f: impl FnMut(R, T) -> R + Send + 'static) -> Self {
        Sink {
            name: "fold",
            logic: Box::new(FoldSink(Some(init), f)),
        }
    }

    pub(super) fn spawn(
        self,
        b: &mut Build<'_>,
        capacity: usize,
    ) -> Result<(Inlet<T>, Waiter<R>), StartError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let counters = b.counters(&format!("sink:{}", self.name));
        let actor = SinkActor {
            alive: None,
            logic: self.logic,
            counters,
            done_tx: Some(tx),
            up: None,
            window: CreditWindow::new(capacity as u64, capacity as u64 / 2),
            input: VecDeque::new(),
            pending: None,
            upstream_done: false,
        };
        let addr = b.spawn(actor, capacity)?;
        Ok((Inlet::of(&addr), wait_on(rx)))
    }
}

impl<T: Send + 'static> Sink<T, Vec<T>> {
    /// Collects the elements, in order, into the handle's result.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let v = Source::from_iter(0..4).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![0, 1, 2, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn collect() -> Self {
        Sink::fold(Vec::new(), |mut v, x| {
            v.push(x);
            v
        })
    }
}

impl<T: Send + 'static> Sink<T, u64> {
    /// Counts the elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let n = Source::from_iter(0..1000).filter(|n| n % 7 == 0).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(n, 143);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count() -> Self {
        Sink::fold(0, |n, _| n + 1)
    }
}

pub(super) struct SinkActor<T: Send + 'static, R: Send + 'static> {
    alive: Option<super::link::Alive>,
    logic: Box<dyn SinkLogic<T, R>>,
    counters: Arc<StageCounters>,
    done_tx: Option<Sender<Result<R, StreamError>>>,
    up: Option<Recipient<Up>>,
    window: CreditWindow,
    input: VecDeque<T>,
    /// An element the logic handed back, retried first.
    pending: Option<T>,
    upstream_done: bool,
}

impl<T: Send + 'static, R: Send + 'static> SinkActor<T, R> {
    fn complete(&mut self, ctx: &mut Context<Self>, outcome: Result<R, StreamError>) {
        if let Some(tx) = self.done_tx.take() {
            let _ = tx.send(outcome);
        }
        ctx.stop();
    }

    fn cancel_upstream(&mut self, ctx: &mut Context<Self>) {
        if let Some(up) = self.up.take() {
            let _ = ctx.send(&up, Up::Cancel);
        }
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while self.done_tx.is_some() {
            if ctx.is_suspended() {
                // A send parked on a full mailbox: once it is in and the
                // sink resumes, this note brings it back here.
                let me = ctx.addr();
                let _ = ctx.send(&me, StageMsg::Tick);
                break;
            }
            let x = match self.pending.take() {
                Some(x) => x,
                None => match self.input.pop_front() {
                    Some(x) => x,
                    None => {
                        if self.upstream_done {
                            let r = catch_unwind(AssertUnwindSafe(|| self.logic.finish()));
                            let outcome = r.map_err(|p| self.failure(panic_message(&*p)));
                            self.complete(ctx, outcome);
                        }
                        break;
                    }
                },
            };
            let logic = &mut self.logic;
            match catch_unwind(AssertUnwindSafe(|| logic.push(ctx, x))) {
                Ok(Ok(Sunk::Next)) => self.counters.count_out(),
                Ok(Ok(Sunk::Stop)) => {
                    self.counters.count_out();
                    self.cancel_upstream(ctx);
                    let r = self.logic.finish();
                    self.complete(ctx, Ok(r));
                }
                Ok(Ok(Sunk::Wait(x))) => {
                    self.pending = Some(x);
                    break;
                }
                Ok(Err(e)) => self.fail(ctx, e.to_string()),
                Err(p) => self.fail(ctx, format!("panicked: {}", panic_message(&*p))),
            }
        }
        // No grant before the upstream is wired: a credit counted as
        // outstanding must have been sent.
        if self.done_tx.is_some()
            && !self.upstream_done
            && let Some(up) = self.up.clone()
        {
            let held = self.input.len() + usize::from(self.pending.is_some());
            let n = self.window.grant(held as u64);
            if n > 0 {
                let _ = ctx.send(&up, Up::Demand(n));
            }
        }
    }

    fn failure(&self, reason: String) -> StreamError {
        StreamError::Failed {
            stage: self.counters.name.clone(),
            reason,
        }
    }

    fn fail(&mut self, ctx: &mut Context<Self>, reason: String) {
        log::error!(
            "stream sink {} failed, stopping the stream: {reason}",
            self.counters.name
        );
        let e = self.failure(reason);
        self.cancel_upstream(ctx);
        self.complete(ctx, Err(e));
    }
}

impl<T: Send + 'static, R: Send + 'static> Actor for SinkActor<T, R> {
    type Msg = StageMsg<T>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.alive = None;
    }

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let me = ctx.addr();
        self.logic.start(Box::new(move || {
            // A full mailbox already holds a message that retries.
            let _ = me.try_tell(StageMsg::Tick);
        }));
        Ok(())
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: StageMsg<T>) -> Result<(), ActorError> {
        if self.done_tx.is_none() {
            return Ok(());
        }
        match msg {
            StageMsg::Wire(up) => self.up = Some(up),
            StageMsg::Down(Down::Elem(x)) => {
                if self.window.received().is_err() {
                    log::error!("stream sink got an element without credit");
                    debug_assert!(false, "stream credit overrun");
                }
                self.counters.count_in();
                self.input.push_back(x);
            }
            StageMsg::Down(Down::End) => self.upstream_done = true,
            StageMsg::Down(Down::Fail(e)) => {
                self.complete(ctx, Err(e));
                return Ok(());
            }
            StageMsg::Up(Up::Cancel) => {
                self.cancel_upstream(ctx);
                self.complete(ctx, Err(StreamError::Cancelled));
                return Ok(());
            }
            StageMsg::Up(Up::Demand(_)) | StageMsg::Tick => {}
        }
        self.pump(ctx);
        Ok(())
    }
}

impl<T: Send + 'static, R: Send + 'static> super::link::Tracked for SinkActor<T, R> {
    fn track(&mut self, alive: super::link::Alive) {
        self.alive = Some(alive);
    }
}
