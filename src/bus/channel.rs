//! The actor that forwards bus events into a `crossbeam_channel::Sender`, so a plain thread can consume them.
//!
//! A channel is not a mailbox: the bus cannot park a send on it, and a worker
//! must never block on it. So a channel subscription is a small actor of its
//! own, a child of the bus, whose mailbox is what the bus delivers to:
//!
//! 1. Each event is offered with `try_send`.
//! 2. On `Full` the forwarder keeps the event, suspends itself (so its mailbox
//!    fills and the bus's overflow policy applies to it, exactly as to a slow
//!    actor), and retries from a `run_after` continuation, waiting a little
//!    longer after each failed retry (from [`RETRY_MIN`] up to [`RETRY_MAX`]).
//! 3. When the event is in, it resumes and takes the next.
//! 4. On `Disconnected` the consumer is gone: it logs and stops, and the bus,
//!    which watches it, removes the subscription.
//!
//! The sender lives in the forwarder's instance, and in what its bus keeps
//! for a restart (`keep.rs`), which goes when the bus stops for good or the
//! subscription ends. So the receiver sees `Disconnected` once the forwarder
//! has stopped and the bus has stopped for good or dropped the subscription;
//! a forwarder stopped by its bus's restart is replaced by a new one.

use crate::sync::Mutex;
use crate::{Actor, ActorError, Context};
use crossbeam_channel::{Sender, TrySendError};
use std::time::Duration;

/// The first retry delay after the channel was found full.
pub(super) const RETRY_MIN: Duration = Duration::from_micros(50);
/// The longest retry delay.
pub(super) const RETRY_MAX: Duration = Duration::from_millis(5);
/// The forwarder's mailbox capacity.
pub(super) const FORWARDER_CAPACITY: usize = 16;

/// Forwards each event it receives into a channel, in order, without ever
/// blocking its worker.
pub(super) struct Forwarder<E> {
    tx: Option<Sender<E>>,
    /// The event the channel had no room for; while it is held the actor is
    /// suspended.
    pending: Option<E>,
    delay: Duration,
}

impl<E: Send + 'static> Forwarder<E> {
    /// A factory that hands `tx` to the first instance only. A forwarder is an
    /// unsupervised child, so there is no second instance; keeping the sender
    /// out of the factory means it is dropped with the instance.
    pub(super) fn factory(tx: Sender<E>) -> impl Fn() -> Self + Send + Sync + 'static {
        let slot = Mutex::new(Some(tx));
        move || Forwarder {
            tx: slot.lock().take(),
            pending: None,
            delay: RETRY_MIN,
        }
    }

    fn offer(&mut self, ctx: &mut Context<Self>, event: E) {
        let Some(tx) = &self.tx else {
            ctx.stop();
            return;
        };
        match tx.try_send(event) {
            Ok(()) => {
                self.delay = RETRY_MIN;
                ctx.resume();
            }
            Err(TrySendError::Full(event)) => {
                self.pending = Some(event);
                ctx.suspend();
                let delay = self.delay;
                self.delay = (delay * 2).min(RETRY_MAX);
                ctx.run_after(delay, |me: &mut Self, ctx| {
                    if let Some(event) = me.pending.take() {
                        me.offer(ctx, event);
                    }
                    Ok(())
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                log::info!(
                    "event bus channel subscriber #{}: receiver dropped; unsubscribing (one event lost)",
                    ctx.id()
                );
                self.tx = None;
                ctx.stop();
            }
        }
    }
}

impl<E: Send + 'static> Actor for Forwarder<E> {
    type Msg = E;

    fn handle(&mut self, ctx: &mut Context<Self>, event: E) -> Result<(), ActorError> {
        debug_assert!(self.pending.is_none(), "a suspended forwarder got an event");
        self.offer(ctx, event);
        Ok(())
    }
}
