//! [`StreamHandle`]: waits for a running pipeline's result, cancels it, and reads its per-stage counters.

use super::error::StreamError;
use super::link::Stoppable;
use crate::sync::{Arc, AtomicU64, Ordering};
use crossbeam_channel::Receiver;
use std::fmt;
use std::time::{Duration, Instant};

/// The counters one stage keeps; the handle reads them.
pub(super) struct StageCounters {
    pub(super) name: String,
    elements_in: AtomicU64,
    elements_out: AtomicU64,
    dropped: AtomicU64,
    restarts: AtomicU64,
}

// ORDERING: every counter is a statistic written by its one stage actor and
// read by the handle: Relaxed, since no other memory is published with it.
impl StageCounters {
    pub(super) fn new(name: String) -> Self {
        StageCounters {
            name,
            elements_in: AtomicU64::new(0),
            elements_out: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
        }
    }
    pub(super) fn count_in(&self) {
        self.elements_in.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn count_out(&self) {
        self.elements_out.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }
    fn snapshot(&self) -> StageMetrics {
        StageMetrics {
            name: self.name.clone(),
            elements_in: self.elements_in.load(Ordering::Relaxed),
            elements_out: self.elements_out.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
        }
    }
}

/// One stage's counters, read with [`StreamHandle::metrics`].
///
/// # Examples
///
/// ```
/// use playhouse::stream::{ErrorPolicy, Sink, Source};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// let handle = Source::from_iter(["1", "x", "3"])
///     .on_error(ErrorPolicy::Resume)
///     .try_map(|s| s.parse::<u32>())
///     .to(Sink::collect())
///     .run(&system)?;
/// system.await_quiescent(Duration::from_secs(5))?; // the stream has run to its end
/// let metrics = handle.metrics(); // source first, sink last
/// let parse = metrics.iter().find(|m| m.name.ends_with("try_map")).expect("a stage");
/// assert_eq!((parse.elements_in, parse.elements_out, parse.dropped), (3, 2, 1));
/// assert_eq!(handle.wait(Duration::from_secs(5))?, vec![1, 3]);
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StageMetrics {
    /// The stage's name: its position from the sink end and its operator,
    /// `"2:map"`.
    pub name: String,
    /// Elements received from upstream (a source: pulled).
    pub elements_in: u64,
    /// Elements sent downstream (a sink: consumed).
    pub elements_out: u64,
    /// Elements dropped to dead letters: failed under
    /// [`crate::stream::ErrorPolicy::Resume`] or `Restart`, or shed by a
    /// buffer.
    pub dropped: u64,
    /// Restarts under [`crate::stream::ErrorPolicy::Restart`].
    pub restarts: u64,
}

/// Waits for the outcome of the sink(s).
pub(super) type Waiter<R> = Box<dyn FnOnce(Instant) -> Result<R, StreamError> + Send>;

/// Waits for one sink's outcome on `rx` until `deadline`.
pub(super) fn wait_on<R: Send + 'static>(rx: Receiver<Result<R, StreamError>>) -> Waiter<R> {
    Box::new(move |deadline| match rx.recv_deadline(deadline) {
        Ok(outcome) => outcome,
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(StreamError::Timeout),
        // The sink stopped without an outcome: it was stopped from outside.
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(StreamError::Cancelled),
    })
}

/// A running pipeline: wait for its result, cancel it, read its counters.
///
/// Dropping the handle leaves the stream running to completion.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let handle = Source::from_iter(1..=100u64)
///     .filter(|n| n % 2 == 0)
///     .to(Sink::fold(0, |sum, n| sum + n))
///     .run(&system)?;
/// assert_eq!(handle.wait(Duration::from_secs(5))?, 2550);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamHandle<R> {
    pub(super) waiter: Waiter<R>,
    pub(super) actors: Arc<Vec<Box<dyn Stoppable>>>,
    pub(super) counters: Vec<Arc<StageCounters>>,
    /// Disconnects once every actor of the stream has stopped.
    pub(super) alive: Receiver<()>,
}

impl<R> StreamHandle<R> {
    /// Waits up to `timeout` for the stream to complete, with the sink's
    /// result, or the error that ended it, and (within the same deadline)
    /// until every actor of the stream has stopped, so nothing of it runs
    /// after this returns. On timeout the stream is cancelled. It blocks the calling thread: call it from a thread
    /// outside the pool (an actor can hand the handle to one, or poll
    /// [`StreamHandle::is_stopped`]).
    ///
    /// # Errors
    /// [`StreamError::Failed`] or [`StreamError::Overflow`] from a stage,
    /// [`StreamError::Cancelled`] if it was cancelled, [`StreamError::Timeout`]
    /// if it did not complete in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StreamError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (source, queue) = Source::<u32>::queue(&system, 4)?;
    /// let handle = source.to(Sink::ignore()).run(&system)?;
    /// // The queue is still open, so the stream cannot complete: the wait
    /// // times out and cancels it.
    /// assert_eq!(handle.wait(Duration::from_millis(20)), Err(StreamError::Timeout));
    /// drop(queue);
    /// # system.await_quiescent(Duration::from_secs(5))?;
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(self, timeout: Duration) -> Result<R, StreamError> {
        let deadline = deadline_after(timeout);
        let outcome = (self.waiter)(deadline);
        if outcome.is_err() {
            stop_all(&self.actors);
        }
        // Nothing is ever sent on it: this returns once every actor has
        // dropped its end, or at the deadline.
        let _ = self.alive.recv_deadline(deadline);
        outcome
    }

    /// A canceller that can be moved to another thread or actor.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StreamError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0u64..).to(Sink::ignore()).run(&system)?;
    /// let canceller = handle.canceller();
    /// std::thread::spawn(move || canceller.cancel()).join().unwrap();
    /// assert_eq!(handle.wait(Duration::from_secs(5)), Err(StreamError::Cancelled));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn canceller(&self) -> Canceller {
        Canceller {
            actors: self.actors.clone(),
        }
    }

    /// Cancels the stream: the source and every stage stop after the element
    /// each is handling; elements in flight are dropped. [`StreamHandle::wait`]
    /// then returns [`StreamError::Cancelled`], unless the sink had completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source, StreamError};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0u64..).to(Sink::ignore()).run(&system)?;
    /// handle.cancel();
    /// assert_eq!(handle.wait(Duration::from_secs(5)), Err(StreamError::Cancelled));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self) {
        stop_all(&self.actors);
    }

    /// Whether every actor of the stream has stopped (completed, failed or
    /// cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0..3).to(Sink::count()).run(&system)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(handle.is_stopped()); // completed; wait returns at once
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, 3);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_stopped(&self) -> bool {
        matches!(
            self.alive.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected)
        )
    }

    /// Per-stage counters, source first, sink last.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0..10).filter(|n| n % 2 == 0).to(Sink::count()).run(&system)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let m = handle.metrics();
    /// assert_eq!(m.len(), 3); // source, filter, sink
    /// assert_eq!((m[1].elements_in, m[1].elements_out), (10, 5));
    /// handle.wait(Duration::from_secs(5))?;
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> Vec<StageMetrics> {
        self.counters.iter().rev().map(|c| c.snapshot()).collect()
    }
}

impl<R> fmt::Debug for StreamHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamHandle")
            .field("stages", &self.counters.len())
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

/// Cancels a running stream from anywhere (see [`StreamHandle::cancel`]).
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source, StreamError};
/// use playhouse::{Actor, ActorError, Context};
/// # use playhouse::System;
/// # use std::time::Duration;
/// # let system = System::new();
/// /// An actor that cancels a stream when told to.
/// struct Stopper(playhouse::stream::Canceller);
/// impl Actor for Stopper {
///     type Msg = ();
///     fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
///         self.0.cancel();
///         Ok(())
///     }
/// }
/// let handle = Source::from_iter(0u64..).to(Sink::ignore()).run(&system)?;
/// let c = handle.canceller();
/// let stopper = system.spawn(move || Stopper(c.clone()))?;
/// stopper.tell(())?;
/// assert_eq!(handle.wait(Duration::from_secs(5)), Err(StreamError::Cancelled));
/// # system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Canceller {
    actors: Arc<Vec<Box<dyn Stoppable>>>,
}

impl Canceller {
    /// As [`StreamHandle::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let handle = Source::from_iter(0u64..).to(Sink::ignore()).run(&system)?;
    /// handle.canceller().cancel();
    /// assert!(handle.wait(Duration::from_secs(5)).unwrap_err().is_cancelled());
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self) {
        stop_all(&self.actors);
    }
}

impl fmt::Debug for Canceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canceller").finish_non_exhaustive()
    }
}

fn stop_all(actors: &[Box<dyn Stoppable>]) {
    for a in actors {
        a.stop();
    }
}

fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}
