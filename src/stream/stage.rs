//! The [`Stage`] trait: the logic one stage actor runs, for the built-in operators and for user stages added with `via`.

use super::clock::Clock;
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
pub struct Emitter<'a, O> {
    out: &'a mut VecDeque<O>,
    clock: &'a Clock,
    /// A tick's time; otherwise the clock is read only if asked.
    at: Option<Instant>,
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
    pub(super) fn new(out: &'a mut VecDeque<O>, clock: &'a Clock, at: Option<Instant>) -> Self {
        Emitter {
            out,
            clock,
            at,
            complete: false,
        }
    }

    /// Emits one element downstream.
    pub fn emit(&mut self, item: O) {
        self.out.push_back(item);
    }

    /// The stream clock's time: the time an element is handled, or the time
    /// a tick was due.
    pub fn now(&self) -> Instant {
        self.at.unwrap_or_else(|| self.clock.now())
    }

    /// Ends this stage's input: upstream is cancelled, then the stage is
    /// finished ([`Stage::finish`]) and the end passes downstream (as `take`
    /// does after its last element).
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
    fn push(&mut self, item: I, out: &mut Emitter<'_, O>) -> Result<(), ActorError>;

    /// Whether the stage takes an input now. A stage that is not ready keeps
    /// its input waiting (and its upstream without credit) until a tick makes
    /// it ready (a throttle out of tokens).
    fn ready(&self) -> bool {
        true
    }

    /// The period of [`Stage::tick`], if the stage needs ticks.
    fn tick_every(&self) -> Option<Duration> {
        None
    }

    /// A tick of the stream clock (see [`Stage::tick_every`]).
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
    fn finish(&mut self, out: &mut Emitter<'_, O>) -> Result<(), ActorError> {
        let _ = out;
        Ok(())
    }
}

/// Builds a stage's logic afresh: once at start, and again for each restart
/// under [`ErrorPolicy::Restart`].
pub(super) type MakeStage<I, O> = crate::sync::Arc<dyn Fn() -> Box<dyn Stage<I, O>> + Send + Sync>;
