//! The fluent builder: [`Source`] -> stages -> [`Sink`], then [`Runnable::run`] on a system.

use super::Stats;
use super::actor::{StageActor, StageSpec};
use super::broadcast::{BroadcastActor, BroadcastMsg};
use super::buffer::Overflow;
use super::error::StartError;
use super::handle::{StreamHandle, Waiter};
use super::link::{Build, Down, Inlet, SpawnFn, StageMsg, Stoppable};
use super::merge::{Fairness, MergeActor, MergeMsg};
use super::ops::fused::{Fused, FusedStage};
use super::ops::{basic, batch, limit, scan};
use super::queue::{Forward, QueueHandle, QueuePull, spawn_queue};
use super::sink::Sink;
use super::source::{IterPull, Pull, SourceActor, SourceMsg, TickPull};
use super::stage::{ErrorPolicy, MakeStage, Stage};
use super::throttle::Throttle;
use super::window::{KeyedWindows, Window, Windowed};
use crate::bus::{EventBus, EventBusExt, Subscribe, SubscribeError};
use crate::sync::Arc;
use crate::{Addr, System};
use crossbeam_channel::Receiver;
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// The buffer of every stage unless [`Source::buffer_size`] says otherwise.
///
/// # Examples
///
/// ```
/// use playhouse::stream::DEFAULT_BUFFER;
///
/// assert_eq!(DEFAULT_BUFFER, 32);
/// ```
pub const DEFAULT_BUFFER: usize = 32;

/// What the builder carries along: settings for the stages still to come, and
/// the first invalid setting met.
#[derive(Clone, Debug)]
struct Settings {
    buffer: usize,
    policy: ErrorPolicy,
    invalid: Option<&'static str>,
    stages: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            buffer: DEFAULT_BUFFER,
            policy: ErrorPolicy::Stop,
            invalid: None,
            stages: 0,
        }
    }
}

impl Settings {
    fn check(&mut self, invalid: Option<&'static str>) {
        if self.invalid.is_none() {
            self.invalid = invalid;
        }
    }

    fn name(&mut self, op: &str) -> String {
        self.stages += 1;
        format!("{}:{op}", self.stages)
    }
}

/// A stream of `T` under construction: a source and the stages after it.
/// Add stages with the methods below, end it with [`Source::to`] and start it
/// with [`Runnable::run`]. Nothing runs until then.
///
/// Each stage is an actor with a buffer ([`Source::buffer_size`], default
/// [`DEFAULT_BUFFER`]); downstream grants its upstream credit for the room it
/// has, and no stage sends without credit, so the elements in flight stay
/// within the sum of the buffers, a slow sink slows the source, and no worker
/// ever blocks.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let squares = Source::from_iter(1..=5u32)
///     .map(|n| n * n)
///     .filter(|n| n % 2 == 1)
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert_eq!(squares, vec![1, 9, 25]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Source<T: Send + 'static> {
    spawn: SpawnFn<T>,
    settings: Settings,
}

impl<T: Send + 'static> fmt::Debug for Source<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("stages", &self.settings.stages)
            .field("buffer", &self.settings.buffer)
            .finish_non_exhaustive()
    }
}

/// A source actor made at start from `pull`.
fn pulling<T: Send + 'static>(
    op: &'static str,
    pull: Box<dyn Pull<T>>,
    mut settings: Settings,
) -> Source<T> {
    let name = settings.name(op);
    let capacity = settings.buffer;
    Source {
        settings,
        spawn: Box::new(move |b, inlet| {
            let counters = b.counters(&name);
            let mut actor = SourceActor::new(pull);
            actor.configure(counters);
            let addr = b.spawn(actor, capacity)?;
            (inlet.wire)(addr.recipient_with(SourceMsg::Up));
            let _ = addr.tell(SourceMsg::Wire(inlet.down, None));
            Ok(())
        }),
    }
}

/// Stops a queue's source actor if its pipeline is never started.
struct StopUnlessStarted<T: Send + 'static>(Option<Addr<SourceActor<T>>>);

impl<T: Send + 'static> Drop for StopUnlessStarted<T> {
    fn drop(&mut self) {
        if let Some(a) = self.0.take() {
            a.stop();
        }
    }
}

impl<T: Send + 'static> Source<T> {
    /// Elements from an iterator, pulled one per credit: an endless or huge
    /// iterator is read only as fast as the stream consumes it. A panic in
    /// the iterator fails the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // An endless iterator: pulled only as fast as the stream takes elements.
    /// let first = Source::from_iter(1u64..).take(5).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(first, vec![1, 2, 3, 4, 5]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // Not `FromIterator`: that would have to consume the iterator to build
    // the source, and the point is to pull it lazily.
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        pulling(
            "iter",
            Box::new(IterPull(iter.into_iter())),
            Settings::default(),
        )
    }

    /// A source fed through a [`QueueHandle`] holding up to `capacity`
    /// elements; the stream completes when every handle is dropped. The
    /// source actor is spawned now (so the handle can be used before the
    /// pipeline starts, up to its capacity) and stopped if the pipeline is
    /// dropped unstarted.
    ///
    /// # Errors
    /// [`StartError::Invalid`] for a zero capacity, [`StartError::Spawn`] if
    /// the system is shutting down.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (source, queue) = Source::queue(&system, 2)?;
    /// queue.try_push("a")?; // the queue takes elements before the pipeline runs
    /// let handle = source.to(Sink::collect()).run(&system)?;
    /// queue.push("b")?;
    /// drop(queue); // the last handle: the stream completes
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, vec!["a", "b"]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue(system: &System, capacity: usize) -> Result<(Self, QueueHandle<T>), StartError> {
        if capacity == 0 {
            return Err(StartError::Invalid("queue capacity"));
        }
        let (addr, handle) = spawn_queue(system, capacity)?;
        let mut settings = Settings::default();
        let name = settings.name("queue");
        let mut guard = StopUnlessStarted(Some(addr));
        let source = Source {
            settings,
            spawn: Box::new(move |b, inlet| {
                let addr = guard.0.take().expect("a pipeline starts once");
                let counters = b.counters(&name);
                b.actors.push(Box::new(addr.clone()) as Box<dyn Stoppable>);
                (inlet.wire)(addr.recipient_with(SourceMsg::Up));
                let alive = Some(b.alive.clone());
                let _ = addr.tell(SourceMsg::Wire(inlet.down, Some((counters, alive))));
                Ok(())
            }),
        };
        Ok((source, handle))
    }

    /// Elements received from a channel, until it disconnects. A thread of
    /// the stream's own waits on the channel (so no pool worker does) and
    /// hands elements on as demand allows; it exits when the stream ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (tx, rx) = crossbeam_channel::bounded(4);
    /// let handle = Source::from_receiver(rx).map(|n: u32| n * 2).to(Sink::collect()).run(&system)?;
    /// std::thread::spawn(move || {
    ///     for n in 0..10 {
    ///         tx.send(n).unwrap();
    ///     }
    /// }); // tx dropped: the channel disconnects and the stream completes
    /// assert_eq!(handle.wait(Duration::from_secs(5))?.len(), 10);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_receiver(rx: Receiver<T>) -> Self {
        let (to, queue_rx) = crossbeam_channel::bounded(DEFAULT_BUFFER);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        let pull = QueuePull {
            rx: queue_rx,
            forward: Some(Forward {
                from: rx,
                to,
                stop: stop_rx,
            }),
            _stop: Some(stop_tx),
        };
        pulling("receiver", Box::new(pull), Settings::default())
    }

    /// The buffer of each stage added after this (and of the sink): how many
    /// elements it may hold, and so the credit it grants upstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StartError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let sum = Source::from_iter(0..100u32)
    ///     .buffer_size(4) // each stage holds at most 4 elements
    ///     .map(|n| n + 1)
    ///     .to(Sink::fold(0, |a, n| a + n))
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(sum, 5050);
    /// let zero = Source::from_iter(0..1u32).buffer_size(0).to(Sink::ignore()).run(&system);
    /// assert!(matches!(zero, Err(StartError::Invalid(_))));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buffer_size(mut self, n: usize) -> Self {
        self.settings.check((n == 0).then_some("buffer size"));
        self.settings.buffer = n.max(1);
        self
    }

    /// The [`ErrorPolicy`] of each stage added after this.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{ErrorPolicy, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // Restart: a failure drops the element and the stage's state (the running sum).
    /// let sums = Source::from_iter([1, 2, 0, 3, 4])
    ///     .on_error(ErrorPolicy::Restart)
    ///     .via("sum", || RunningSum(0))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(sums, vec![1, 3, 3, 7]);
    ///
    /// # use playhouse::stream::{Emitter, Stage};
    /// # use playhouse::ActorError;
    /// /// Emits the running sum; a zero is a failure.
    /// struct RunningSum(u32);
    /// impl Stage<u32, u32> for RunningSum {
    ///     fn push(&mut self, x: u32, out: &mut Emitter<'_, u32>) -> Result<(), ActorError> {
    ///         if x == 0 { return Err("zero".into()); }
    ///         self.0 += x;
    ///         out.emit(self.0);
    ///         Ok(())
    ///     }
    /// }
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_error(mut self, policy: ErrorPolicy) -> Self {
        self.settings.policy = policy;
        self
    }

    fn spec(&self) -> StageSpec {
        StageSpec {
            capacity: self.settings.buffer,
            low: self.settings.buffer / 2,
            policy: self.settings.policy,
            overflow: Overflow::Backpressure,
        }
    }

    fn stage<O: Send + 'static>(self, op: &str, make: MakeStage<T, O>) -> Source<O> {
        let spec = self.spec();
        self.stage_with(op, spec, make)
    }

    fn stage_with<O: Send + 'static>(
        mut self,
        op: &str,
        spec: StageSpec,
        make: MakeStage<T, O>,
    ) -> Source<O> {
        let name = self.settings.name(op);
        let upstream = self.spawn;
        Source {
            settings: self.settings,
            spawn: Box::new(move |b, inlet| {
                let counters = b.counters(&name);
                let capacity = spec.capacity;
                let actor = StageActor::new(make, spec, counters, inlet.down);
                let addr = b.spawn(actor, capacity)?;
                (inlet.wire)(addr.recipient_with(StageMsg::Up));
                upstream(b, Inlet::of(&addr))
            }),
        }
    }

    /// Adds a stage of your own: `make` builds its logic (again for each
    /// restart under [`ErrorPolicy::Restart`]). `name` shows in the metrics.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::ActorError;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Splits lines into words.
    /// struct Words;
    /// impl Stage<String, String> for Words {
    ///     fn push(&mut self, line: String, out: &mut Emitter<'_, String>) -> Result<(), ActorError> {
    ///         for w in line.split_whitespace() {
    ///             out.emit(w.to_string());
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let handle = Source::from_iter(["to be", "or not"].map(String::from))
    ///     .via("words", || Words)
    ///     .to(Sink::count())
    ///     .run(&system)?;
    /// assert!(handle.metrics().iter().any(|m| m.name.ends_with("words")));
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, 4);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn via<O, S>(self, name: &str, make: impl Fn() -> S + Send + Sync + 'static) -> Source<O>
    where
        O: Send + 'static,
        S: Stage<T, O>,
    {
        self.stage(
            name,
            Arc::new(move || Box::new(make()) as Box<dyn Stage<T, O>>),
        )
    }

    /// Transforms each element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let lens = Source::from_iter(["a", "bb", "ccc"]).map(str::len).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(lens, vec![1, 2, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<O: Send + 'static>(self, f: impl Fn(T) -> O + Send + Sync + 'static) -> Source<O> {
        let f = Arc::new(f);
        self.stage("map", Arc::new(move || Box::new(basic::Map(f.clone()))))
    }

    /// Transforms each element with a function that may fail; a failure is
    /// handled by the stage's [`ErrorPolicy`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StreamError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let failed = Source::from_iter(["1", "x"])
    ///     .try_map(|s| s.parse::<u32>())
    ///     .to(Sink::collect())
    ///     .run(&system)?
    ///     .wait(Duration::from_secs(5));
    /// match failed {
    ///     Err(StreamError::Failed { stage, .. }) => assert!(stage.ends_with("try_map")),
    ///     other => panic!("expected a failure, got {other:?}"),
    /// }
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_map<O, E>(self, f: impl Fn(T) -> Result<O, E> + Send + Sync + 'static) -> Source<O>
    where
        O: Send + 'static,
        E: Into<crate::ActorError> + 'static,
    {
        let f = Arc::new(f);
        self.stage(
            "try_map",
            Arc::new(move || Box::new(basic::TryMap(f.clone()))),
        )
    }

    /// Runs a chain of stateless operators, built by `chain` on a [`Fused`],
    /// in one stage actor (see [`Fused`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let out = Source::from_iter(1..=6u32)
    ///     .fused(|f| f.filter(|n| n % 2 == 0).map(|n| n * 10))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(out, vec![20, 40, 60]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fused<O: Send + 'static>(
        self,
        chain: impl FnOnce(Fused<T, T>) -> Fused<T, O>,
    ) -> Source<O> {
        let chain = chain(Fused::identity()).chain;
        self.stage(
            "fused",
            Arc::new(move || Box::new(FusedStage(chain.clone()))),
        )
    }

    /// Keeps the elements for which `f` is true.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let evens = Source::from_iter(0..10).filter(|n| n % 2 == 0).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(evens, 5);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Source<T> {
        let f = Arc::new(f);
        self.stage(
            "filter",
            Arc::new(move || Box::new(basic::Filter(f.clone()))),
        )
    }

    /// Transforms each element, keeping the `Some`s.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let numbers = Source::from_iter(["1", "two", "3"])
    ///     .filter_map(|s| s.parse::<u32>().ok())
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(numbers, vec![1, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter_map<O: Send + 'static>(
        self,
        f: impl Fn(T) -> Option<O> + Send + Sync + 'static,
    ) -> Source<O> {
        let f = Arc::new(f);
        self.stage(
            "filter_map",
            Arc::new(move || Box::new(basic::FilterMap(f.clone()))),
        )
    }

    /// Calls `f` on each element as it passes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let seen = Arc::new(AtomicU32::new(0));
    /// let s = Arc::clone(&seen);
    /// Source::from_iter(0..7)
    ///     .inspect(move |_| { s.fetch_add(1, Ordering::Relaxed); })
    ///     .to(Sink::ignore())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(seen.load(Ordering::Relaxed), 7);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inspect(self, f: impl Fn(&T) + Send + Sync + 'static) -> Source<T> {
        let f = Arc::new(f);
        self.stage(
            "inspect",
            Arc::new(move || Box::new(basic::Inspect(f.clone()))),
        )
    }

    /// The first `n` elements; then the upstream is cancelled and the stream
    /// completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let three = Source::from_iter(0..).take(3).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(three, vec![0, 1, 2]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take(self, n: u64) -> Source<T> {
        if n == 0 {
            return self.take_while(|_| false);
        }
        self.stage("take", Arc::new(move || Box::new(limit::Take(n))))
    }

    /// Drops the first `n` elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let rest = Source::from_iter(0..5).skip(3).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(rest, vec![3, 4]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skip(self, n: u64) -> Source<T> {
        self.stage("skip", Arc::new(move || Box::new(limit::Skip(n))))
    }

    /// Elements while `f` is true; at the first false the upstream is
    /// cancelled and the stream completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let small = Source::from_iter(1..).take_while(|n| n * n < 20).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(small, vec![1, 2, 3, 4]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_while(self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Source<T> {
        let f = Arc::new(f);
        self.stage(
            "take_while",
            Arc::new(move || Box::new(limit::TakeWhile(f.clone()))),
        )
    }

    /// Runs `f` over a state starting at `init`, emitting the state after
    /// each element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let totals = Source::from_iter([5, 10, 20]).scan(0, |sum, x| *sum += x).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(totals, vec![5, 15, 35]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan<S>(self, init: S, f: impl Fn(&mut S, T) + Send + Sync + 'static) -> Source<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.stage(
            "scan",
            Arc::new(move || {
                Box::new(scan::Scan {
                    state: init.clone(),
                    f: f.clone(),
                })
            }),
        )
    }

    /// Folds every element into one value, emitted when the input ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let longest = Source::from_iter(["kiwi", "banana", "fig"])
    ///     .fold(0, |m, s| m.max(s.len()))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(longest, vec![6]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fold<S>(self, init: S, f: impl Fn(S, T) -> S + Send + Sync + 'static) -> Source<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.stage(
            "fold",
            Arc::new(move || {
                Box::new(scan::Fold {
                    state: Some(init.clone()),
                    f: f.clone(),
                })
            }),
        )
    }

    /// Chunks of `n` elements; the last, flushed at the end, may be shorter.
    /// A zero `n` is refused when the pipeline starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // Write rows to a database in batches of 100.
    /// let sizes = Source::from_iter(0..250).batch(100).map(|b| b.len()).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(sizes, vec![100, 100, 50]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch(mut self, n: usize) -> Source<Vec<T>> {
        self.settings.check((n == 0).then_some("batch size"));
        let n = n.max(1);
        self.stage(
            "batch",
            Arc::new(move || Box::new(batch::Batch { n, buf: Vec::new() })),
        )
    }

    /// Chunks of at most `n`, a partial one emitted at every tick of
    /// `within` (so an element waits at most `within` once it is in), and
    /// at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let (source, queue) = Source::queue(&system, 8)?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let handle = source.grouped_within(100, Duration::from_secs(1)).to(Sink::to_sender(tx)).run(&system)?;
    /// system.await_quiescent(T)?;
    /// queue.push(1)?;
    /// queue.push(2)?;
    /// system.await_quiescent(T)?;
    /// clock.advance(Duration::from_secs(1)); // not 100 yet, but a second has passed
    /// assert_eq!(rx.recv_timeout(T)?, vec![1, 2]);
    /// drop(queue);
    /// handle.wait(T)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn grouped_within(mut self, n: usize, within: Duration) -> Source<Vec<T>> {
        self.settings.check((n == 0).then_some("batch size"));
        self.settings
            .check(within.is_zero().then_some("grouped_within duration"));
        let n = n.max(1);
        let within = within.max(Duration::from_nanos(1));
        self.stage(
            "grouped_within",
            Arc::new(move || {
                Box::new(batch::GroupedWithin {
                    batch: batch::Batch { n, buf: Vec::new() },
                    within,
                })
            }),
        )
    }

    /// At most `n` elements per `per`; the rest wait upstream
    /// (backpressure). Zero `n` or `per` is refused when the pipeline starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StartError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // At most 1000 elements a second; a short stream fits in the first second.
    /// let out = Source::from_iter(0..10).throttle(1000, Duration::from_secs(1)).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(out, 10);
    /// let zero = Source::from_iter(0..1).throttle(0, Duration::from_secs(1)).to(Sink::ignore()).run(&system);
    /// assert!(matches!(zero, Err(StartError::Invalid(_))));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throttle(mut self, n: u64, per: Duration) -> Source<T> {
        self.settings.check((n == 0).then_some("throttle rate"));
        self.settings
            .check(per.is_zero().then_some("throttle interval"));
        let per = per.max(Duration::from_nanos(1));
        self.stage(
            "throttle",
            Arc::new(move || Box::new(Throttle { n, per, tokens: n })),
        )
    }

    /// A buffer stage of `size` elements with an [`Overflow`] strategy:
    /// `Backpressure` holds the upstream back when full; the others keep
    /// taking elements and shed (to dead letters) or fail. Its watermarks
    /// default to `size` and `size / 2` (see [`Source::buffer_watermarks`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Overflow, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // A backpressure buffer loses nothing; DropNewest/DropOldest/Fail shed when full.
    /// let n = Source::from_iter(0..1000).buffer(64, Overflow::Backpressure).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(n, 1000);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buffer(mut self, size: usize, overflow: Overflow) -> Source<T> {
        self.settings.check((size == 0).then_some("buffer size"));
        let size = size.max(1);
        let mut spec = self.spec();
        spec.capacity = size;
        spec.low = size / 2;
        spec.overflow = overflow;
        self.stage_with("buffer", spec, Arc::new(|| Box::new(basic::Pass)))
    }

    /// A backpressure buffer with explicit watermarks: it stops granting its
    /// upstream credit when it holds (or has granted) `high` elements, and
    /// grants again, up to `high`, once that falls to `low`. Requires
    /// `low < high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StartError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let n = Source::from_iter(0..500).buffer_watermarks(64, 16).to(Sink::count()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(n, 500);
    /// let bad = Source::from_iter(0..1).buffer_watermarks(8, 8).to(Sink::ignore()).run(&system);
    /// assert!(matches!(bad, Err(StartError::Invalid(_))));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buffer_watermarks(mut self, high: usize, low: usize) -> Source<T> {
        self.settings
            .check((high == 0 || low >= high).then_some("buffer watermarks"));
        let high = high.max(1);
        let mut spec = self.spec();
        spec.capacity = high;
        spec.low = low.min(high - 1);
        self.stage_with("buffer", spec, Arc::new(|| Box::new(basic::Pass)))
    }

    /// Windows of elements (see [`Window`]); partial windows are flushed at
    /// the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let windows = Source::from_iter(1..=5).window(Window::sliding_count(3, 1)).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(windows, vec![vec![1, 2, 3], vec![2, 3, 4], vec![3, 4, 5]]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn window(mut self, window: Window) -> Source<Vec<T>>
    where
        T: Clone,
    {
        self.settings.check(window.invalid());
        self.stage("window", Arc::new(move || Box::new(Windowed::new(window))))
    }

    /// Groups elements by `key`, for windows per key ([`Keyed::window`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// // Revenue per product over windows of two orders each.
    /// let orders = vec![("tea", 3.0), ("cake", 5.0), ("tea", 4.0), ("cake", 1.0)];
    /// let revenue = Source::from_iter(orders)
    ///     .key_by(|o| o.0)
    ///     .window(Window::count(2))
    ///     .map(|(product, w)| (product, w.iter().map(|o| o.1).sum::<f64>()))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(revenue, vec![("tea", 7.0), ("cake", 6.0)]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key_by<K, F>(self, key: F) -> Keyed<T, K, F>
    where
        K: Eq + Hash + Clone + Send + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        Keyed {
            source: self,
            key: Arc::new(key),
            _k: std::marker::PhantomData,
        }
    }

    /// Merges several sources into one by priority (see [`Fairness`]). Each
    /// input has its own buffer in the merge; the merged stream ends when
    /// all inputs have. The settings (clock, buffer size, policy) of the
    /// first input carry on.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Fairness, Sink, Source};
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// let system = System::new();
    /// let high = Source::from_iter(vec!["alarm"; 3]);
    /// let low = Source::from_iter(vec!["log"; 3]);
    /// let all = Source::merge(vec![(10, high), (1, low)], Fairness::Weighted)
    ///     .to(Sink::collect())
    ///     .run(&system)?
    ///     .wait(Duration::from_secs(5))?;
    /// assert_eq!(all.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merge(inputs: Vec<(u32, Source<T>)>, fairness: Fairness) -> Source<T> {
        let mut settings = inputs
            .first()
            .map(|(_, s)| s.settings.clone())
            .unwrap_or_default();
        settings.check(inputs.is_empty().then_some("merge inputs"));
        for (p, s) in &inputs {
            settings.check(s.settings.invalid);
            if fairness == Fairness::Weighted && *p == 0 {
                settings.check(Some("merge weight"));
            }
        }
        let name = settings.name("merge");
        let capacity = settings.buffer;
        let (priorities, sources): (Vec<u32>, Vec<Source<T>>) = inputs.into_iter().unzip();
        Source {
            settings,
            spawn: Box::new(move |b, inlet| {
                let counters = b.counters(&name);
                let actor = MergeActor::new(&priorities, fairness, capacity, inlet.down, counters);
                let addr = b.spawn(actor, capacity * priorities.len().max(1))?;
                (inlet.wire)(addr.recipient_with(MergeMsg::Up));
                for (i, source) in sources.into_iter().enumerate() {
                    let wire = addr.clone();
                    let port = Inlet {
                        down: addr.recipient_with(move |d: Down<T>| MergeMsg::In(i, d)),
                        wire: Box::new(move |up| {
                            let _ = wire.tell(MergeMsg::Wire(i, up));
                        }),
                    };
                    (source.spawn)(b, port)?;
                }
                Ok(())
            }),
        }
    }

    /// Ends the pipeline in `sink`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Runnable, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let pipeline: Runnable<u64> = Source::from_iter(0..3).to(Sink::count()); // nothing runs yet
    /// assert_eq!(pipeline.run(&system)?.wait(Duration::from_secs(5))?, 3);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to<R: Send + 'static>(self, sink: Sink<T, R>) -> Runnable<R> {
        let capacity = self.settings.buffer;
        let upstream = self.spawn;
        Runnable {
            settings: self.settings,
            spawn: Box::new(move |b| {
                let (inlet, waiter) = sink.spawn(b, capacity)?;
                upstream(b, inlet)?;
                Ok(waiter)
            }),
        }
    }

    /// Ends the pipeline in several sinks, each getting every element; the
    /// stream goes at the pace of the slowest. A branch that completes early
    /// or fails is detached and the others go on; the handle returns every
    /// branch's result, or the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let results = Source::from_iter(1..=4u64)
    ///     .broadcast(vec![Sink::fold(0, |a, n| a + n), Sink::fold(1, |a, n| a * n)])
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(results, vec![10, 24]); // the sum and the product
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn broadcast<R: Send + 'static>(self, branches: Vec<Sink<T, R>>) -> Runnable<Vec<R>>
    where
        T: Clone,
    {
        let mut settings = self.settings;
        settings.check(branches.is_empty().then_some("broadcast branches"));
        let name = settings.name("broadcast");
        let capacity = settings.buffer;
        let upstream = self.spawn;
        Runnable {
            settings,
            spawn: Box::new(move |b| {
                let mut downs = Vec::new();
                let mut wires = Vec::new();
                let mut waiters = Vec::new();
                for sink in branches {
                    let (inlet, waiter) = sink.spawn(b, capacity)?;
                    downs.push(inlet.down);
                    wires.push(inlet.wire);
                    waiters.push(waiter);
                }
                let counters = b.counters(&name);
                let addr = b.spawn(BroadcastActor::new(downs, capacity, counters), capacity)?;
                for (i, wire) in wires.into_iter().enumerate() {
                    wire(addr.recipient_with(move |u| BroadcastMsg::Up(i, u)));
                }
                let wire = addr.clone();
                upstream(
                    b,
                    Inlet {
                        down: addr.recipient_with(BroadcastMsg::Down),
                        wire: Box::new(move |up| {
                            let _ = wire.tell(BroadcastMsg::Wire(up));
                        }),
                    },
                )?;
                let all: Waiter<Vec<R>> = Box::new(move |deadline| {
                    let mut out = Vec::new();
                    for w in waiters {
                        out.push(w(deadline)?);
                    }
                    Ok(out)
                });
                Ok(all)
            }),
        }
    }
}

impl Source<Instant> {
    /// The instant of each `period` boundary on the system's clock (counted
    /// from the ticker's start), for as long as the stream
    /// runs; a tick that finds no demand is skipped, not queued. A zero
    /// period is refused when the pipeline starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::System;
    /// use std::time::Duration;
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let handle = Source::ticker(Duration::from_secs(1)).take(2).to(Sink::to_sender(tx)).run(&system)?;
    /// system.await_quiescent(T)?;
    /// clock.advance(Duration::from_secs(1));
    /// let first = rx.recv_timeout(T)?;
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(rx.recv_timeout(T)? - first, Duration::from_secs(1));
    /// handle.wait(T)?;
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ticker(period: Duration) -> Self {
        let mut settings = Settings::default();
        settings.check(period.is_zero().then_some("ticker period"));
        let pull = TickPull {
            period: period.max(Duration::from_nanos(1)),
            pending: None,
        };
        pulling("ticker", Box::new(pull), settings)
    }
}

impl<E: Clone + Send + 'static> Source<E> {
    /// The events of an [`EventBus`] subscription (made now, through a
    /// channel with backpressure, so a slow stream slows the publishers);
    /// the subscription ends with the stream.
    ///
    /// # Errors
    /// As [`Addr::subscribe_channel`](crate::Addr).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::bus::{EventBus, EventBusExt, Subscribe};
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let bus = EventBus::<u32>::builder().spawn(&system)?;
    /// let handle = Source::from_bus(&bus, Subscribe::all(), Duration::from_secs(5))?.take(3).to(Sink::collect()).run(&system)?;
    /// for n in [7, 8, 9] {
    ///     bus.publish(n)?;
    /// }
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, vec![7, 8, 9]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_bus<K: Eq + Hash + Clone + Send + 'static>(
        bus: &Addr<EventBus<E, K>>,
        spec: Subscribe<K>,
        timeout: Duration,
    ) -> Result<Self, SubscribeError> {
        let (tx, rx) = crossbeam_channel::bounded(DEFAULT_BUFFER);
        bus.subscribe_channel(spec, tx, timeout)?;
        Ok(Source::from_receiver(rx))
    }
}

impl<V: Into<f64> + Send + 'static> Source<Vec<V>> {
    /// Count, sum, min, max and mean of each (non-empty) window.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let stats = Source::from_iter([1u32, 5, 3, 10, 20])
    ///     .window(Window::count(3))
    ///     .stats()
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!((stats[0].count, stats[0].max, stats[0].mean), (3, 5.0, 3.0));
    /// assert_eq!(stats[1].sum, 30.0); // the partial last window
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(self) -> Source<Stats> {
        self.filter_map(Stats::of)
    }
}

impl<K: Send + 'static, V: Into<f64> + Send + 'static> Source<(K, Vec<V>)> {
    /// Count, sum, min, max and mean of each key's (non-empty) window.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let per_sensor = Source::from_iter([("a", 1u32), ("b", 10), ("a", 3), ("b", 30)])
    ///     .key_by(|r| r.0)
    ///     .window(Window::count(2))
    ///     .map(|(k, w)| (k, w.into_iter().map(|r| r.1).collect::<Vec<_>>()))
    ///     .stats_per_key()
    ///     .map(|(k, s)| (k, s.mean))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(per_sensor, vec![("a", 2.0), ("b", 20.0)]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats_per_key(self) -> Source<(K, Stats)> {
        self.filter_map(|(k, w)| Stats::of(w).map(|s| (k, s)))
    }
}

/// A stream grouped by key, made by [`Source::key_by`]: one set of windows
/// per key.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source, Window};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let readings = vec![("a", 1), ("b", 10), ("a", 2), ("b", 20), ("a", 3)];
/// let windows = Source::from_iter(readings)
///     .key_by(|r| r.0)
///     .window(Window::count(2))
///     .map(|(k, w)| (k, w.iter().map(|r| r.1).sum::<i32>()))
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert_eq!(windows, vec![("a", 3), ("b", 30), ("a", 3)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Keyed<T: Send + 'static, K, F> {
    source: Source<T>,
    key: Arc<F>,
    _k: std::marker::PhantomData<fn() -> K>,
}

impl<T: Send + 'static, K, F> fmt::Debug for Keyed<T, K, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyed")
            .field("source", &self.source)
            .finish()
    }
}

impl<T, K, F> Keyed<T, K, F>
where
    T: Clone + Send + 'static,
    K: Eq + Hash + Clone + Send + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    /// Windows per key, emitted as `(key, window)`; at the end each key's
    /// partial window is flushed, keys in the order first seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, Window};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let w = Source::from_iter([("x", 1), ("y", 2), ("x", 3)])
    ///     .key_by(|p| p.0)
    ///     .window(Window::count(10)) // never full: flushed at the end, keys in first-seen order
    ///     .map(|(k, w)| (k, w.len()))
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(w, vec![("x", 2), ("y", 1)]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn window(self, window: Window) -> Source<(K, Vec<T>)> {
        let mut source = self.source;
        source.settings.check(window.invalid());
        let key = self.key;
        source.stage(
            "key_window",
            Arc::new(move || Box::new(KeyedWindows::new(window, key.clone()))),
        )
    }
}

/// Spawns a whole pipeline and returns how to wait for its sink(s).
type SpawnAll<R> = Box<dyn FnOnce(&mut Build<'_>) -> Result<Waiter<R>, StartError> + Send>;

/// A complete pipeline, ready to run; made by [`Source::to`].
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let runnable = Source::from_iter(["a", "b"]).to(Sink::collect());
/// let handle = runnable.run(&system)?;
/// assert_eq!(handle.wait(Duration::from_secs(5))?, vec!["a", "b"]);
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Runnable<R> {
    spawn: SpawnAll<R>,
    settings: Settings,
}

impl<R> fmt::Debug for Runnable<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runnable")
            .field("stages", &self.settings.stages)
            .finish_non_exhaustive()
    }
}

impl<R: Send + 'static> Runnable<R> {
    /// Spawns every stage on `system` and starts the flow.
    ///
    /// # Errors
    /// [`StartError::Invalid`] naming the first setting that cannot work
    /// (nothing is spawned then); [`StartError::Spawn`] if the system is
    /// shutting down (what was spawned is stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StartError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let bad = Source::from_iter(0..10).batch(0).to(Sink::collect()).run(&system);
    /// assert!(matches!(bad, Err(StartError::Invalid(_)))); // nothing was spawned
    /// let ok = Source::from_iter(0..10).batch(5).to(Sink::count()).run(&system)?;
    /// assert_eq!(ok.wait(Duration::from_secs(5))?, 2);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(self, system: &System) -> Result<StreamHandle<R>, StartError> {
        if let Some(s) = self.settings.invalid {
            return Err(StartError::Invalid(s));
        }
        let (alive, alive_rx) = crossbeam_channel::bounded(0);
        let mut b = Build {
            system,
            actors: Vec::new(),
            counters: Vec::new(),
            alive,
        };
        match (self.spawn)(&mut b) {
            Ok(waiter) => Ok(StreamHandle {
                waiter,
                actors: Arc::new(b.actors),
                counters: b.counters,
                alive: alive_rx,
            }),
            Err(e) => {
                for a in &b.actors {
                    a.stop();
                }
                Err(e)
            }
        }
    }
}
