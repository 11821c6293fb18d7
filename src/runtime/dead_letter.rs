//! Dead letters: messages that could not be handled, counted, logged and handed to a hook.

use super::Shared;
use crate::sync::Ordering;

/// Why a message went to dead letters.
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, DeadLetterReason, SpawnOptions, System};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// struct Slow;
/// impl Actor for Slow {
///     type Msg = u32;
///     fn handle(&mut self, ctx: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
///         ctx.stop(); // the messages still queued go to dead letters
///         Ok(())
///     }
/// }
///
/// let reasons = Arc::new(Mutex::new(Vec::new()));
/// let seen = Arc::clone(&reasons);
/// let system = System::builder()
///     .on_dead_letter(move |letter| seen.lock().unwrap().push(letter.reason))
///     .build()?;
/// let slow = system.spawn_with(SpawnOptions::new().name("slow"), || Slow)?;
/// for n in 0..3 {
///     let _ = slow.tell(n); // the later ones may find it stopped
/// }
/// system.await_quiescent(Duration::from_secs(5))?;
/// assert!(reasons.lock().unwrap().iter().all(|r| *r == DeadLetterReason::Stopped));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use playhouse::{Actor, ActorError, Context, DeadLetter, DeadLetterReason, SpawnOptions, System};
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// struct Strict;
/// impl Actor for Strict {
///     type Msg = String;
///     fn handle(&mut self, _: &mut Context<Self>, s: String) -> Result<(), ActorError> {
///         if s.is_empty() { Err("empty input".into()) } else { Ok(()) }
///     }
/// }
///
/// let (tx, letters) = mpsc::channel::<DeadLetter>();
/// let tx = std::sync::Mutex::new(tx);
/// let system = System::builder()
///     .on_dead_letter(move |letter| { let _ = tx.lock().unwrap().send(letter.clone()); })
///     .build()?;
/// let strict = system.spawn_with(SpawnOptions::new().name("strict"), || Strict)?;
/// strict.tell(String::new())?;
/// let letter = letters.recv_timeout(Duration::from_secs(5))?;
/// assert_eq!(letter.recipient, "strict");
/// assert_eq!(letter.message_type, std::any::type_name::<String>());
/// assert_eq!(letter.reason, DeadLetterReason::HandlerFailed);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
