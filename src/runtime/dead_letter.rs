//! Dead letters: messages that could not be handled, counted, logged and handed to a hook.

use super::Shared;
use crate::sync::Ordering;

/// Why a message went to dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The actor stopped (or was stopping) with the message queued.
    Stopped,
    /// The asker had stopped waiting before the request was handled.
    AskerGone,
    /// The handler failed while handling this message.
    HandlerFailed,
    /// A timer message found the mailbox full.
    MailboxFull,
    /// A timer message fired while the system was shutting down.
    Shutdown,
    /// An actor shed it by policy (for example an event bus subscriber's
    /// overflow policy), reported with [`crate::Context::dead_letter`].
    Shed,
}

/// A record of a message that could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The intended actor (its name, or `#id`).
    pub recipient: String,
    /// The Rust type of the message.
    pub message_type: &'static str,
    /// Why it was not handled.
    pub reason: DeadLetterReason,
}

pub(crate) type DeadLetterHook = Box<dyn Fn(&DeadLetter) + Send + Sync>;

impl Shared {
    pub(crate) fn dead_letter<M>(&self, recipient: &str, reason: DeadLetterReason) {
        // ORDERING: Relaxed; a statistic.
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
        if reason == DeadLetterReason::Stopped {
            // ORDERING: Relaxed; a count, read by shutdown after the workers
            // that add to it are joined.
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        let letter = DeadLetter {
            recipient: recipient.to_string(),
            message_type: std::any::type_name::<M>(),
            reason,
        };
        log::debug!(
            "dead letter for {}: {} ({:?})",
            letter.recipient,
            letter.message_type,
            letter.reason
        );
        if let Some(hook) = &self.on_dead_letter {
            // The hook is user code on a runtime path: a panic in it must not
            // unwind through a worker's turn.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&letter))).is_err() {
                log::error!("the dead-letter hook panicked");
            }
        }
    }
}
