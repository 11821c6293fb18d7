//! [`DeadLetters`]: collects a system's dead letters for a test to expect.

use super::error::ExpectError;
use super::inbox::{Inbox, queue};
use crate::DeadLetter;
use std::fmt;
use std::time::Duration;

/// Collects the dead letters of a system, in order, through the hook of
/// [`SystemBuilder::on_dead_letter`](crate::SystemBuilder::on_dead_letter);
/// expect them as with a [`Probe`](super::Probe).
///
/// # Examples
///
/// ```
/// use playhouse::testkit::DeadLetters;
/// use playhouse::{Actor, ActorError, Context, DeadLetterReason, System};
/// use std::time::Duration;
///
/// struct Fragile;
/// impl Actor for Fragile {
///     type Msg = u32;
///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
///         Err("broken".into())
///     }
/// }
///
/// let letters = DeadLetters::new();
/// let system = System::builder().on_dead_letter(letters.hook()).build()?;
/// let fragile = system.spawn(|| Fragile)?;
/// fragile.tell(1)?;
/// let letter = letters.expect_next(Duration::from_secs(5))?;
/// assert_eq!(letter.reason, DeadLetterReason::HandlerFailed);
/// assert_eq!(letter.message_type, "u32");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DeadLetters {
    inbox: Inbox<DeadLetter>,
}

impl DeadLetters {
    /// An empty collector; give [`DeadLetters::hook`] to the system builder.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::testkit::DeadLetters;
    /// let letters = DeadLetters::new();
    /// assert_eq!(letters.queued(), 0);
    /// ```
    pub fn new() -> Self {
        // Closed until a hook exists: the hooks are the feeds.
        let (_, inbox) = queue();
        DeadLetters { inbox }
    }

    /// The hook to pass to
    /// [`SystemBuilder::on_dead_letter`](crate::SystemBuilder::on_dead_letter).
    /// While no hook is alive (none made yet, or their systems are gone,
    /// addresses included: an address keeps its system's state alive),
    /// an expectation that finds nothing queued fails at once with
    /// [`ExpectError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::DeadLetters};
    /// let letters = DeadLetters::new();
    /// let system = System::builder().on_dead_letter(letters.hook()).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hook(&self) -> impl Fn(&DeadLetter) + Send + Sync + 'static {
        let feed = self.inbox.feed();
        move |letter: &DeadLetter| feed.push(letter.clone())
    }

    /// The next dead letter, within `within`.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`], or [`ExpectError::Closed`] once the system
    /// is gone and nothing is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::DeadLetters;
    /// use playhouse::{Actor, ActorError, Context, DeadLetterReason, System};
    /// use std::time::Duration;
    ///
    /// struct Fails;
    /// impl Actor for Fails {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
    ///         Err("no".into())
    ///     }
    /// }
    ///
    /// let letters = DeadLetters::new();
    /// let system = System::builder().on_dead_letter(letters.hook()).build()?;
    /// system.spawn(|| Fails)?.tell(7)?;
    /// let letter = letters.expect_next(Duration::from_secs(5))?;
    /// assert_eq!(letter.reason, DeadLetterReason::HandlerFailed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_next(&self, within: Duration) -> Result<DeadLetter, ExpectError<DeadLetter>> {
        self.inbox
            .expect(within, || "a dead letter".to_owned(), |_| true)
    }

    /// Succeeds if no dead letter arrives for `quiet`.
    ///
    /// # Errors
    /// [`ExpectError::Unexpected`] with the letter that arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{System, testkit::DeadLetters};
    /// # use std::time::Duration;
    /// let letters = DeadLetters::new();
    /// let system = System::builder().on_dead_letter(letters.hook()).build()?;
    /// letters.expect_none(Duration::from_millis(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_none(&self, quiet: Duration) -> Result<(), ExpectError<DeadLetter>> {
        self.inbox.expect_none(quiet)
    }

    /// The next `n` dead letters, all within `within`.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`] (or [`ExpectError::Closed`]) with those that
    /// came.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, System, testkit::DeadLetters};
    /// # use std::time::Duration;
    /// struct Quitter;
    /// impl Actor for Quitter {
    ///     type Msg = u8;
    ///     fn handle(&mut self, ctx: &mut Context<Self>, _: u8) -> Result<(), ActorError> {
    ///         ctx.stop();
    ///         Ok(())
    ///     }
    /// }
    /// let letters = DeadLetters::new();
    /// let system = System::builder().workers(1).on_dead_letter(letters.hook()).build()?;
    /// let quitter = system.spawn(|| Quitter)?;
    /// for i in 0..3 {
    ///     let _ = quitter.tell(i); // the first stops it; the rest are letters or refused
    /// }
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// let n = letters.queued();
    /// assert_eq!(letters.receive_n(n, Duration::from_secs(5))?.len(), n);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive_n(
        &self,
        n: usize,
        within: Duration,
    ) -> Result<Vec<DeadLetter>, ExpectError<DeadLetter>> {
        self.inbox.take_n(n, within)
    }

    /// Skips dead letters until one matches `pred`, and returns it.
    ///
    /// # Errors
    /// [`ExpectError::Timeout`] (or [`ExpectError::Closed`]) with those
    /// skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use playhouse::{Actor, ActorError, Context, DeadLetterReason, System, testkit::DeadLetters};
    /// # use std::time::Duration;
    /// # struct Fragile;
    /// # impl Actor for Fragile {
    /// #     type Msg = u32;
    /// #     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
    /// #         Err("broken".into())
    /// #     }
    /// # }
    /// let letters = DeadLetters::new();
    /// let system = System::builder().on_dead_letter(letters.hook()).build()?;
    /// let fragile = system.spawn(|| Fragile)?;
    /// fragile.tell(1)?;
    /// let failed = letters.fish_for(Duration::from_secs(5), |l| {
    ///     l.reason == DeadLetterReason::HandlerFailed
    /// })?;
    /// assert_eq!(failed.recipient, format!("Fragile#{}", fragile.id()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fish_for(
        &self,
        within: Duration,
        pred: impl FnMut(&DeadLetter) -> bool,
    ) -> Result<DeadLetter, ExpectError<DeadLetter>> {
        self.inbox.fish(
            within,
            || "a dead letter matching the predicate".to_owned(),
            pred,
        )
    }

    /// How many dead letters are queued, not yet taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::testkit::DeadLetters;
    /// use playhouse::{Actor, ActorError, Context, System};
    /// use std::time::Duration;
    ///
    /// struct Fails;
    /// impl Actor for Fails {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: &mut Context<Self>, _: u32) -> Result<(), ActorError> {
    ///         Err("no".into())
    ///     }
    /// }
    ///
    /// let letters = DeadLetters::new();
    /// let system = System::builder().on_dead_letter(letters.hook()).build()?;
    /// let fails = system.spawn(|| Fails)?;
    /// fails.tell(1)?;
    /// system.await_quiescent(Duration::from_secs(5))?;
    /// assert_eq!(letters.queued(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.inbox.len()
    }
}

impl Default for DeadLetters {
    fn default() -> Self {
        DeadLetters::new()
    }
}

impl fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadLetters")
            .field("queued", &self.inbox.len())
            .finish()
    }
}
