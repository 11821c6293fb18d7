//! The credit protocol between neighbouring stages: how much a stage may send, and how much it grants.
//!
//! # Protocol
//!
//! 1. A receiving stage with a buffer of `capacity` elements starts by
//!    granting its upstream `capacity` credits (an `Up::Demand(n)` message).
//! 2. The upstream sends one element per credit and never without one
//!    ([`Credit::take`]); an element and the credit it used travel together.
//! 3. The receiver counts every element as it arrives
//!    ([`CreditWindow::received`]) and, when the elements it holds plus the
//!    credits still outstanding fall to the low watermark, grants what brings
//!    them back up to `capacity` ([`CreditWindow::grant`]).
//!
//! # Invariants
//!
//! - `held + outstanding <= capacity` after every grant, so a receiver never
//!   holds more than `capacity` elements (no overrun), whatever the timing of
//!   messages: credits are only ever created by the receiver.
//! - A credit is never lost: each one granted is either still with the sender
//!   ([`Credit::available`]), in flight as an element, or spent on an element
//!   the receiver has counted. `loom-tests/stream_credit.rs` checks both.
//!
//! The protocol is purely message-based: neither side shares memory with the
//! other, so it needs no atomics; its correctness rests on the mailbox
//! delivering one sender's messages in order.

/// The sending side of a link: the credits granted by downstream and not yet
/// spent.
///
/// # Examples
///
/// ```
/// use playhouse::stream::Credit;
///
/// let mut credit = Credit::default();
/// assert!(!credit.take());
/// credit.add(2);
/// assert!(credit.take() && credit.take() && !credit.take());
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    available: u64,
}

impl Credit {
    /// Adds `n` credits granted by downstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::Credit;
    ///
    /// let mut credit = Credit::default();
    /// credit.add(4); // downstream has room for four more
    /// assert_eq!(credit.available(), 4);
    /// ```
    pub fn add(&mut self, n: u64) {
        self.available += n;
    }

    /// Spends one credit, if there is one: the caller may send one element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::Credit;
    ///
    /// let mut credit = Credit::default();
    /// credit.add(1);
    /// assert!(credit.take()); // send one element
    /// assert!(!credit.take()); // then wait for more credit
    /// ```
    #[must_use]
    pub fn take(&mut self) -> bool {
        if self.available == 0 {
            return false;
        }
        self.available -= 1;
        true
    }

    /// The credits left.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::Credit;
    ///
    /// let mut credit = Credit::default();
    /// credit.add(3);
    /// assert!(credit.take());
    /// assert_eq!(credit.available(), 2);
    /// ```
    pub fn available(&self) -> u64 {
        self.available
    }
}

/// The receiving side of a link: how many credits are outstanding upstream,
/// and when to grant more.
///
/// # Examples
///
/// ```
/// use playhouse::stream::CreditWindow;
///
/// let mut window = CreditWindow::new(4, 2);
/// assert_eq!(window.grant(0), 4); // the first grant fills the buffer
/// window.received().unwrap();
/// window.received().unwrap();
/// // Two held, none consumed: above the low watermark, nothing to grant.
/// assert_eq!(window.grant(2), 0);
/// // Both consumed: two outstanding, at the low watermark: top up by two.
/// assert_eq!(window.grant(0), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditWindow {
    capacity: u64,
    low: u64,
    outstanding: u64,
}

/// An element arrived that no credit covered: the sender broke the protocol.
///
/// # Examples
///
/// ```
/// use playhouse::stream::{CreditWindow, Overrun};
///
/// let mut window = CreditWindow::new(2, 1);
/// assert_eq!(window.received(), Err(Overrun)); // nothing was granted yet
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrun;

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an element arrived without credit")
    }
}

impl std::error::Error for Overrun {}

impl CreditWindow {
    /// A window of `capacity` elements that grants again once held plus
    /// outstanding falls to `low` (clamped below `capacity`). A zero capacity
    /// is refused by the stream builder before it gets here; here it is
    /// raised to one.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::CreditWindow;
    ///
    /// let window = CreditWindow::new(8, 2);
    /// assert_eq!((window.capacity(), window.outstanding()), (8, 0));
    /// assert_eq!(CreditWindow::new(0, 0).capacity(), 1); // raised to one
    /// ```
    pub fn new(capacity: u64, low: u64) -> Self {
        let capacity = capacity.max(1);
        CreditWindow {
            capacity,
            low: low.min(capacity - 1),
            outstanding: 0,
        }
    }

    /// Counts one element arriving on a credit.
    ///
    /// # Errors
    /// [`Overrun`] if no credit was outstanding.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::CreditWindow;
    ///
    /// let mut window = CreditWindow::new(2, 0);
    /// assert_eq!(window.grant(0), 2);
    /// window.received()?;
    /// assert_eq!(window.outstanding(), 1);
    /// # Ok::<(), playhouse::stream::Overrun>(())
    /// ```
    pub fn received(&mut self) -> Result<(), Overrun> {
        if self.outstanding == 0 {
            return Err(Overrun);
        }
        self.outstanding -= 1;
        Ok(())
    }

    /// The credits to grant now, given the elements the receiver `held`
    /// (queued or being worked on); they are counted as outstanding.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::CreditWindow;
    ///
    /// let mut window = CreditWindow::new(4, 1);
    /// assert_eq!(window.grant(0), 4);
    /// assert_eq!(window.grant(0), 0); // all four outstanding: nothing more
    /// ```
    #[must_use]
    pub fn grant(&mut self, held: u64) -> u64 {
        let used = held + self.outstanding;
        if used > self.low {
            return 0;
        }
        let n = self.capacity - used;
        self.outstanding += n;
        n
    }

    /// Credits granted and not yet used by an arriving element.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::CreditWindow;
    ///
    /// let mut window = CreditWindow::new(3, 0);
    /// let granted = window.grant(0);
    /// assert_eq!(window.outstanding(), granted);
    /// ```
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    /// The buffer's size.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::stream::CreditWindow;
    ///
    /// assert_eq!(CreditWindow::new(16, 8).capacity(), 16);
    /// ```
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
}
