//! The [`Stage`] trait: the logic one stage actor runs, for the built-in operators and for user stages added with `via`.

use crate::ActorError;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// What to do when a stage fails on an element: its function returned an
/// `Err`, or panicked.
///
/// Set with [`crate::stream::Source::on_error`]; it applies to the stages
/// added after it. The default is [`ErrorPolicy::Stop`].
///
/// # Examples
///
/// ```
/// use playhouse::stream::{ErrorPolicy, Sink, Source, StreamError};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let parse = |s: &str| s.parse::<u32>();
/// let lines = ["1", "two", "3"];
///
/// // Resume: the bad line goes to dead letters, the rest goes on.
/// let ok = Source::from_iter(lines)
///     .on_error(ErrorPolicy::Resume)
///     .try_map(parse)
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert_eq!(ok, vec![1, 3]);
///
/// // Stop (the default): the stream fails with the stage and the reason.
/// let failed = Source::from_iter(lines)
///     .try_map(parse)
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5));
/// assert!(matches!(failed, Err(StreamError::Failed { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Drop the element to dead letters (with
    /// [`crate::DeadLetterReason::HandlerFailed`], the reason logged) and go on
    /// with the next, keeping the stage's state.
    Resume,
    /// Drop the element to dead letters and go on with fresh stage state (a
    /// new instance of the stage, as a supervisor restarts an actor); what the
    /// old state held (a partial window, a running total) is dropped.
    Restart,
    /// Stop the stream: every stage stops and the handle returns
    /// [`crate::stream::StreamError::Failed`]. The failing element goes to
    /// dead letters; elements still in flight between stages are dropped,
    /// as on cancel.
    #[default]
    Stop,
}

/// Where a [`Stage`] puts its output, and what it can learn while it runs.
///
/// Whatever a stage emits is sent downstream as downstream demand allows; the
/// stage actor takes no new input while output is waiting, so a stage that
/// emits at most a few elements per input needs no flow control of its own.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Emitter, Sink, Source, Stage};
/// use playhouse::ActorError;
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// /// Emits each element twice.
/// struct Twice;
/// impl Stage<u8, u8> for Twice {
///     fn push(&mut self, x: u8, out: &mut Emitter<'_, u8>) -> Result<(), ActorError> {
///         out.emit(x);
///         out.emit(x);
///         Ok(())
///     }
/// }
/// let v = Source::from_iter([1, 2]).via("twice", || Twice).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
/// assert_eq!(v, vec![1, 1, 2, 2]);
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Emitter<'a, O> {
    out: &'a mut VecDeque<O>,
    /// Reads the system's clock through the stage actor's context; only
    /// called when the stage asks.
    clock: &'a dyn Fn() -> Instant,
    /// When the stage actor started: time-based stages count their period
    /// boundaries from here, as the actor's timer does. Always set once the
    /// actor has started, which is before any call into the stage.
    origin: Option<Instant>,
    complete: bool,
}

impl<O> fmt::Debug for Emitter<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("queued", &self.out.len())
            .field("complete", &self.complete)
            .finish()
    }
}

impl<'a, O> Emitter<'a, O> {
    pub(super) fn new(
        out: &'a mut VecDeque<O>,
        clock: &'a dyn Fn() -> Instant,
        origin: Option<Instant>,
    ) -> Self {
        Emitter {
            out,
            clock,
            origin,
            complete: false,
        }
    }

    /// Emits one element downstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::ActorError;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Emits only changes.
    /// #[derive(Default)]
    /// struct Distinct(Option<char>);
    /// impl Stage<char, char> for Distinct {
    ///     fn push(&mut self, c: char, out: &mut Emitter<'_, char>) -> Result<(), ActorError> {
    ///         if self.0 != Some(c) {
    ///             out.emit(c);
    ///             self.0 = Some(c);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// let v = Source::from_iter("aabbbca".chars()).via("distinct", Distinct::default).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v.into_iter().collect::<String>(), "abca");
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn emit(&mut self, item: O) {
        self.out.push_back(item);
    }

    /// The system's clock ([`crate::Context::now`]) as the stage runs: wall
    /// time, or the [`crate::testkit::ManualClock`] the system was built with.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{ActorError, System};
    /// use std::time::{Duration, Instant};
    ///
    /// /// Stamps each element with the system's time.
    /// struct Stamp;
    /// impl Stage<u32, (u32, Instant)> for Stamp {
    ///     fn push(&mut self, x: u32, out: &mut Emitter<'_, (u32, Instant)>) -> Result<(), ActorError> {
    ///         let now = out.now();
    ///         out.emit((x, now));
    ///         Ok(())
    ///     }
    /// }
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let start = clock.now();
    /// let v = Source::from_iter([1]).via("stamp", || Stamp).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![(1, start)]); // the manual clock has not moved
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now(&self) -> Instant {
        (self.clock)()
    }

    /// When the stage actor started, on the system's clock.
    pub(in crate::stream) fn origin(&self) -> Instant {
        self.origin.unwrap_or_else(|| self.now())
    }

    /// Ends this stage's input: upstream is cancelled, then the stage is
    /// finished ([`Stage::finish`]) and the end passes downstream (as `take`
    /// does after its last element).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::ActorError;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Passes lines until "END", then ends the stream.
    /// struct UntilEnd;
    /// impl Stage<&'static str, &'static str> for UntilEnd {
    ///     fn push(&mut self, line: &'static str, out: &mut Emitter<'_, &'static str>) -> Result<(), ActorError> {
    ///         if line == "END" { out.complete(); } else { out.emit(line); }
    ///         Ok(())
    ///     }
    /// }
    /// let v = Source::from_iter(["a", "b", "END", "c"]).via("until", || UntilEnd).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec!["a", "b"]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn complete(&mut self) {
        self.complete = true;
    }

    pub(super) fn completed(&self) -> bool {
        self.complete
    }
}

/// The logic of one stage: turns each input element into zero or more
/// outputs. The stage actor around it handles demand, completion, ticks and
/// the [`ErrorPolicy`]; every method runs on that actor, one at a time.
///
/// # Examples
///
/// A stage that emits running differences, added with
/// [`crate::stream::Source::via`]:
///
/// ```
/// use playhouse::stream::{Emitter, Sink, Source, Stage};
/// use playhouse::{ActorError, System};
/// use std::time::Duration;
///
/// #[derive(Default)]
/// struct Deltas(Option<i64>);
///
/// impl Stage<i64, i64> for Deltas {
///     fn push(&mut self, x: i64, out: &mut Emitter<'_, i64>) -> Result<(), ActorError> {
///         if let Some(prev) = self.0.replace(x) {
///             out.emit(x - prev);
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let deltas = Source::from_iter([1, 4, 9, 16])
///     .via("deltas", Deltas::default)
///     .to(Sink::collect())
///     .run(&system)?
///     .wait(Duration::from_secs(5))?;
/// assert_eq!(deltas, vec![3, 5, 7]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Stage<I, O>: Send + 'static {
    /// Handles one input element.
    ///
    /// # Errors
    /// An `Err` (like a panic) is a failure on this element, handled by the
    /// stage's [`ErrorPolicy`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, ErrorPolicy, Sink, Source, Stage};
    /// use playhouse::ActorError;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Parses numbers; a bad one is a failure on that element.
    /// struct Parse;
    /// impl Stage<&'static str, i32> for Parse {
    ///     fn push(&mut self, s: &'static str, out: &mut Emitter<'_, i32>) -> Result<(), ActorError> {
    ///         out.emit(s.trim().parse()?);
    ///         Ok(())
    ///     }
    /// }
    /// let v = Source::from_iter(["1", "x", " 3"])
    ///     .on_error(ErrorPolicy::Resume)
    ///     .via("parse", || Parse)
    ///     .to(Sink::collect())
    ///     .run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![1, 3]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn push(&mut self, item: I, out: &mut Emitter<'_, O>) -> Result<(), ActorError>;

    /// Whether the stage takes an input now. A stage that is not ready keeps
    /// its input waiting (and its upstream without credit) until a tick makes
    /// it ready (a throttle out of tokens).
    fn ready(&self) -> bool {
        true
    }

    /// The period of [`Stage::tick`], if the stage needs ticks. The stage
    /// actor arms a periodic timer on the system's clock as it starts; a
    /// timer that falls behind skips the periods it missed rather than
    /// bunching them, so a stage that counts periods reads
    /// [`Emitter::now`] rather than counting ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::testkit::ManualClock;
    /// use playhouse::{ActorError, System};
    /// use std::time::Duration;
    ///
    /// /// Counts elements and emits the count every second.
    /// #[derive(Default)]
    /// struct PerSecond(u32);
    /// impl Stage<u32, u32> for PerSecond {
    ///     fn push(&mut self, _: u32, _: &mut Emitter<'_, u32>) -> Result<(), ActorError> {
    ///         self.0 += 1;
    ///         Ok(())
    ///     }
    ///     fn tick_every(&self) -> Option<Duration> {
    ///         Some(Duration::from_secs(1))
    ///     }
    ///     fn tick(&mut self, out: &mut Emitter<'_, u32>) -> Result<(), ActorError> {
    ///         out.emit(std::mem::take(&mut self.0));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// const T: Duration = Duration::from_secs(5);
    /// let clock = ManualClock::new();
    /// let system = System::builder().clock(clock.clone()).build()?;
    /// let (source, queue) = Source::queue(&system, 8)?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let handle = source.via("rate", PerSecond::default).to(Sink::to_sender(tx)).run(&system)?;
    /// system.await_quiescent(T)?;
    /// for n in 0..3 {
    ///     queue.push(n)?;
    /// }
    /// system.await_quiescent(T)?;
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(rx.recv_timeout(T)?, 3);
    /// drop(queue);
    /// handle.wait(T)?;
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn tick_every(&self) -> Option<Duration> {
        None
    }

    /// A tick of the stage's timer (see [`Stage::tick_every`]).
    ///
    /// # Errors
    /// As [`Stage::push`] (the policy applies, with no element to drop).
    fn tick(&mut self, out: &mut Emitter<'_, O>) -> Result<(), ActorError> {
        let _ = out;
        Ok(())
    }

    /// The input has ended: emit what is left (a partial window or batch).
    ///
    /// # Errors
    /// As [`Stage::tick`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Emitter, Sink, Source, Stage};
    /// use playhouse::ActorError;
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Pairs elements up; an odd one out is emitted alone at the end.
    /// #[derive(Default)]
    /// struct Pairs(Option<u8>);
    /// impl Stage<u8, Vec<u8>> for Pairs {
    ///     fn push(&mut self, x: u8, out: &mut Emitter<'_, Vec<u8>>) -> Result<(), ActorError> {
    ///         match self.0.take() {
    ///             Some(first) => out.emit(vec![first, x]),
    ///             None => self.0 = Some(x),
    ///         }
    ///         Ok(())
    ///     }
    ///     fn finish(&mut self, out: &mut Emitter<'_, Vec<u8>>) -> Result<(), ActorError> {
    ///         if let Some(last) = self.0.take() {
    ///             out.emit(vec![last]);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// let v = Source::from_iter([1, 2, 3]).via("pairs", Pairs::default).to(Sink::collect()).run(&system)?.wait(Duration::from_secs(5))?;
    /// assert_eq!(v, vec![vec![1, 2], vec![3]]);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn finish(&mut self, out: &mut Emitter<'_, O>) -> Result<(), ActorError> {
        let _ = out;
        Ok(())
    }
}

/// Builds a stage's logic afresh: once at start, and again for each restart
/// under [`ErrorPolicy::Restart`].
pub(super) type MakeStage<I, O> = crate::sync::Arc<dyn Fn() -> Box<dyn Stage<I, O>> + Send + Sync>;

/// How many whole `period`s lie between `origin` and `now` (none if `now` is
/// not later).
pub(super) fn periods_since(origin: Instant, period: Duration, now: Instant) -> u64 {
    let elapsed = now.saturating_duration_since(origin).as_nanos();
    u64::try_from(elapsed / period.as_nanos().max(1)).unwrap_or(u64::MAX)
}

/// The end of the `n`th `period` after `origin`.
pub(super) fn boundary(origin: Instant, period: Duration, n: u64) -> Instant {
    let nanos = period.as_nanos().saturating_mul(u128::from(n));
    origin + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}
