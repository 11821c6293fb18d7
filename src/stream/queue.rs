//! Sources fed from outside: a [`QueueHandle`] that threads and actors push into, and a `crossbeam_channel::Receiver`.
//!
//! # Protocol
//!
//! The queue is a bounded channel the source actor drains with `try_recv`,
//! only while it has credit. A pusher puts an element in, then tells the
//! source `Wake` with `try_tell`. No wake-up is lost: the element is in the
//! channel before the `Wake` is sent, and the source pulls after every
//! message it handles; a `Wake` refused because the mailbox is full finds a
//! message already queued, which the source will handle after the push. A
//! dropped handle disconnects its sender before its `Wake`, so the source
//! sees the end once the last handle is gone.

use super::error::PushError;
use super::source::{Pull, Pulled, SourceActor, SourceMsg};
use crate::{Actor, Addr, Context, DeadLetterReason};
use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use std::fmt;
use std::time::Duration;

/// Pushes elements into a running stream from plain threads or actors; made
/// by [`crate::stream::Source::queue`].
///
/// The queue holds as many elements as its buffer; beyond that a push waits
/// for the stream's demand. The stream completes when every handle is
/// dropped and the queue is drained; it can be cloned for several producers.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{Sink, Source};
/// use playhouse::System;
/// use std::time::Duration;
///
/// let system = System::new();
/// let (source, queue) = Source::<u32>::queue(&system, 4)?;
/// let handle = source.map(|n| n * 10).to(Sink::collect()).run(&system)?;
/// let producer = std::thread::spawn(move || {
///     for n in 0..100 {
///         queue.push(n).unwrap(); // waits while the stream has no demand
///     }
/// }); // the queue is dropped here: the stream completes
/// producer.join().unwrap();
/// let out = handle.wait(Duration::from_secs(5))?;
/// assert_eq!(out.len(), 100);
/// assert_eq!(out[99], 990);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct QueueHandle<T: Send + 'static> {
    tx: Option<Sender<T>>,
    source: Addr<SourceActor<T>>,
}

impl<T: Send + 'static> QueueHandle<T> {
    pub(super) fn new(tx: Sender<T>, source: Addr<SourceActor<T>>) -> Self {
        QueueHandle {
            tx: Some(tx),
            source,
        }
    }

    fn tx(&self) -> &Sender<T> {
        self.tx.as_ref().expect("taken only on drop")
    }

    fn wake(&self) {
        // A full mailbox already holds a message that makes the source pull.
        let _ = self.source.try_tell(SourceMsg::Wake);
    }

    /// Whether the calling thread may block: not on a pool worker. Asked
    /// only when a push would wait. The public API says so through an ask,
    /// which refuses at once on a worker and is answered at once elsewhere.
    fn may_block(&self) -> bool {
        !matches!(
            self.source.ask(SourceMsg::Probe, Duration::from_secs(1)),
            Err(crate::AskError::WouldBlockWorker)
        )
    }

    /// Pushes `item`, waiting while the stream has no demand. Never blocks a
    /// pool worker: there it returns [`PushError::NoDemand`] instead (inside
    /// an actor, [`QueueHandle::push_from`] suspends the actor).
    ///
    /// # Errors
    /// [`PushError::Closed`] with the element once the stream has completed
    /// or was cancelled; [`PushError::NoDemand`] on a pool worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{PushError, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (source, queue) = Source::queue(&system, 4)?;
    /// let handle = source.take(1).to(Sink::collect()).run(&system)?;
    /// queue.push("first")?;
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, vec!["first"]);
    /// // The stream has completed: the element comes back.
    /// # system.await_quiescent(Duration::from_secs(5))?;
    /// assert!(matches!(queue.push("late"), Err(PushError::Closed("late"))));
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push(&self, item: T) -> Result<(), PushError<T>> {
        let item = match self.try_push(item) {
            Err(PushError::NoDemand(item)) => item,
            done => return done,
        };
        if !self.may_block() {
            return Err(PushError::NoDemand(item));
        }
        self.tx()
            .send(item)
            .map_err(|e| PushError::Closed(e.into_inner()))?;
        self.wake();
        Ok(())
    }

    /// Pushes `item`, waiting at most `timeout` for demand (as
    /// [`QueueHandle::push`], never on a pool worker).
    ///
    /// # Errors
    /// [`PushError::Timeout`] or [`PushError::Closed`], with the element;
    /// [`PushError::NoDemand`] on a pool worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{PushError, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (source, queue) = Source::queue(&system, 1)?;
    /// queue.push_timeout(1, Duration::from_millis(10))?;
    /// // Not running yet and full: the push times out with the element.
    /// assert!(matches!(queue.push_timeout(2, Duration::from_millis(5)), Err(PushError::Timeout(2))));
    /// let handle = source.to(Sink::count()).run(&system)?;
    /// drop(queue);
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, 1);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_timeout(&self, item: T, timeout: Duration) -> Result<(), PushError<T>> {
        let item = match self.try_push(item) {
            Err(PushError::NoDemand(item)) => item,
            done => return done,
        };
        if !self.may_block() {
            return Err(PushError::NoDemand(item));
        }
        self.tx().send_timeout(item, timeout).map_err(|e| match e {
            crossbeam_channel::SendTimeoutError::Timeout(t) => PushError::Timeout(t),
            crossbeam_channel::SendTimeoutError::Disconnected(t) => PushError::Closed(t),
        })?;
        self.wake();
        Ok(())
    }

    /// Pushes `item` if the stream has demand now; never waits.
    ///
    /// # Errors
    /// [`PushError::NoDemand`] or [`PushError::Closed`], with the element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{PushError, Sink, Source};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// let (source, queue) = Source::queue(&system, 2)?;
    /// let handle = source.to(Sink::count()).run(&system)?;
    /// let mut shed = 0;
    /// for n in 0..100 {
    ///     if let Err(PushError::NoDemand(_)) = queue.try_push(n) {
    ///         shed += 1; // a producer that must not wait drops instead
    ///     }
    /// }
    /// drop(queue);
    /// assert_eq!(handle.wait(Duration::from_secs(5))? + shed, 100);
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_push(&self, item: T) -> Result<(), PushError<T>> {
        self.tx().try_send(item).map_err(|e| match e {
            TrySendError::Full(t) => PushError::NoDemand(t),
            TrySendError::Disconnected(t) => PushError::Closed(t),
        })?;
        self.wake();
        Ok(())
    }

    /// Pushes `item` from inside an actor without blocking its worker: with
    /// no demand, the element is kept and the actor is *suspended* (it takes
    /// no more messages, so backpressure reaches its own senders) until a
    /// retry finds room, then resumed.
    ///
    /// # Errors
    /// [`PushError::NoDemand`] with the element if the actor is already
    /// suspended (return from the handler first, so order is kept);
    /// [`PushError::Closed`] once the stream has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::{QueueHandle, Sink, Source};
    /// use playhouse::{Actor, ActorError, Context};
    /// # use playhouse::System;
    /// # use std::time::Duration;
    /// # let system = System::new();
    /// /// Feeds every message it gets into a stream; suspended while the stream is full.
    /// struct Feeder(QueueHandle<u32>);
    /// impl Actor for Feeder {
    ///     type Msg = u32;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, n: u32) -> Result<(), ActorError> {
    ///         self.0.push_from(ctx, n)?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let (source, queue) = Source::queue(&system, 2)?;
    /// let handle = source.take(20).to(Sink::count()).run(&system)?;
    /// let feeder = system.spawn(move || Feeder(queue.clone()))?;
    /// for n in 0..20 {
    ///     feeder.tell(n)?;
    /// }
    /// assert_eq!(handle.wait(Duration::from_secs(5))?, 20); // nothing lost
    /// # system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_from<A: Actor>(&self, ctx: &mut Context<A>, item: T) -> Result<(), PushError<T>> {
        if ctx.is_suspended() {
            return Err(PushError::NoDemand(item));
        }
        match self.tx().try_send(item) {
            Ok(()) => {
                self.wake();
                Ok(())
            }
            Err(TrySendError::Disconnected(t)) => Err(PushError::Closed(t)),
            Err(TrySendError::Full(t)) => {
                ctx.suspend();
                retry(self.clone(), ctx, t, Duration::from_micros(100));
                Ok(())
            }
        }
    }
}

/// Retries a suspended actor's push after `delay`, backing off to 10 ms.
fn retry<T: Send + 'static, A: Actor>(
    queue: QueueHandle<T>,
    ctx: &mut Context<A>,
    item: T,
    delay: Duration,
) {
    ctx.run_after(delay, move |_, ctx| {
        match queue.tx().try_send(item) {
            Ok(()) => {
                queue.wake();
                ctx.resume();
            }
            Err(TrySendError::Full(t)) => {
                retry(queue, ctx, t, (delay * 2).min(Duration::from_millis(10)));
            }
            Err(TrySendError::Disconnected(_)) => {
                log::warn!("stream closed while an actor's push waited: element dropped");
                ctx.dead_letter(&ctx.addr(), DeadLetterReason::Stopped);
                ctx.resume();
            }
        }
        Ok(())
    });
}

impl<T: Send + 'static> Clone for QueueHandle<T> {
    fn clone(&self) -> Self {
        QueueHandle {
            tx: self.tx.clone(),
            source: self.source.clone(),
        }
    }
}

impl<T: Send + 'static> Drop for QueueHandle<T> {
    fn drop(&mut self) {
        // Disconnect first, then wake: the source must see the queue closed.
        drop(self.tx.take());
        self.wake();
    }
}

impl<T: Send + 'static> fmt::Debug for QueueHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.tx.as_ref().map_or(0, |t| t.len());
        f.debug_struct("QueueHandle").field("queued", &len).finish()
    }
}

/// A bounded channel drained by the source, with an optional forwarder
/// thread feeding it from a user's receiver.
pub(super) struct QueuePull<T: Send + 'static> {
    pub(super) rx: Receiver<T>,
    pub(super) forward: Option<Forward<T>>,
    /// Dropped with the source actor: tells the forwarder to exit.
    pub(super) _stop: Option<Sender<()>>,
}

/// A forwarder's ends: the user's receiver, and where to forward.
pub(super) struct Forward<T> {
    pub(super) from: Receiver<T>,
    pub(super) to: Sender<T>,
    pub(super) stop: Receiver<()>,
}

impl<T: Send + 'static> Pull<T> for QueuePull<T> {
    fn pull(&mut self) -> Pulled<T> {
        match self.rx.try_recv() {
            Ok(x) => Pulled::Item(x),
            Err(TryRecvError::Empty) => Pulled::Pending,
            Err(TryRecvError::Disconnected) => Pulled::Done,
        }
    }

    fn start(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
        let Some(f) = self.forward.take() else { return };
        let spawned = crate::sync::thread::Builder::new()
            .name("playhouse-stream-recv".into())
            .spawn(move || forward(f, wake));
        if let Err(e) = spawned {
            // The channel's sender died with the closure: the source ends.
            log::error!("stream receiver source could not start its thread: {e}");
        }
    }
}

/// Moves elements from the user's receiver into the source's queue, waiting
/// on either side without holding a pool worker, until the receiver
/// disconnects (then the queue does too) or the source stops.
fn forward<T>(f: Forward<T>, wake: Box<dyn Fn() + Send + Sync>) {
    loop {
        let item = crossbeam_channel::select! {
            recv(f.from) -> m => match m {
                Ok(x) => x,
                Err(_) => break,
            },
            recv(f.stop) -> _ => return,
        };
        crossbeam_channel::select! {
            send(f.to, item) -> r => if r.is_err() { return },
            recv(f.stop) -> _ => return,
        }
        wake();
    }
    drop(f.to);
    wake();
}

/// The source half of a queue: its actor spawned now, so the handle can wake it.
pub(super) fn spawn_queue<T: Send + 'static>(
    system: &crate::System,
    capacity: usize,
) -> Result<(Addr<SourceActor<T>>, QueueHandle<T>), crate::SpawnError> {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let pull = QueuePull {
        rx,
        forward: None,
        _stop: None,
    };
    let actor = SourceActor::new(Box::new(pull));
    let (atx, arx) = crossbeam_channel::bounded(1);
    let _ = atx.send(actor);
    let addr = system.spawn_with(
        crate::SpawnOptions::new().mailbox_capacity(capacity + 64),
        move || arx.try_recv().expect("a stream source is built once"),
    )?;
    let handle = QueueHandle::new(tx, addr.clone());
    Ok((addr, handle))
}
