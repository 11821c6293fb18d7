//! The [`Journal`] trait: durable, append-only event streams, and its errors.

use std::error::Error;
use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// One stored event: its stream, its sequence number in that stream (from 1,
/// contiguous), its offset in the journal's global order (from 1) and the
/// bytes a [`crate::persist::Codec`] made of it.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, MemoryJournal, PersistedEvent};
///
/// let journal = MemoryJournal::new();
/// journal.append("a", 0, vec![b"x".to_vec()])?;
/// journal.append("b", 0, vec![b"y".to_vec()])?;
/// let all: Vec<PersistedEvent> = journal.read_all(1, 10)?;
/// assert_eq!((all[1].stream.as_str(), all[1].seq, all[1].offset), ("b", 1, 2));
/// assert_eq!(all[1].payload, b"y");
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedEvent {
    /// The stream (for an event-sourced actor, its persistence id).
    pub stream: String,
    /// The position in its stream, from 1.
    pub seq: u64,
    /// The position in the journal's global order, from 1.
    pub offset: u64,
    /// The encoded event.
    pub payload: Vec<u8>,
}

/// One stored event lent by [`Journal::read_with`] or
/// [`Journal::read_all_with`] for the length of one call of the visitor: the
/// stream and payload borrow the journal's read buffer (or its stored
/// entries), so reading it allocates nothing. [`EventRef::to_owned`] keeps it.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventRef, Journal, MemoryJournal};
/// use std::ops::ControlFlow;
///
/// let journal = MemoryJournal::new();
/// journal.append("s", 0, vec![b"ab".to_vec(), b"cde".to_vec()])?;
/// let mut bytes = 0;
/// journal.read_with("s", 1, u64::MAX, 10, &mut |e: EventRef<'_>| {
///     bytes += e.payload.len(); // decode straight from the borrowed bytes
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(bytes, 5);
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// The stream (for an event-sourced actor, its persistence id).
    pub stream: &'a str,
    /// The position in its stream, from 1.
    pub seq: u64,
    /// The position in the journal's global order, from 1.
    pub offset: u64,
    /// The encoded event.
    pub payload: &'a [u8],
}

impl EventRef<'_> {
    /// An owned copy of the event.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::EventRef;
    ///
    /// let e = EventRef { stream: "s", seq: 1, offset: 4, payload: b"x" };
    /// let owned = e.to_owned();
    /// assert_eq!((owned.stream.as_str(), owned.offset, owned.payload), ("s", 4, b"x".to_vec()));
    /// ```
    pub fn to_owned(&self) -> PersistedEvent {
        PersistedEvent {
            stream: self.stream.to_owned(),
            seq: self.seq,
            offset: self.offset,
            payload: self.payload.to_vec(),
        }
    }

    /// Lends an owned event.
    pub(crate) fn of(e: &PersistedEvent) -> EventRef<'_> {
        EventRef {
            stream: &e.stream,
            seq: e.seq,
            offset: e.offset,
            payload: &e.payload,
        }
    }
}

/// A visitor of lent events (see [`Journal::read_with`]): `Continue` for the
/// next one, `Break` to stop the read there.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{EventVisitor, Journal, MemoryJournal};
/// use std::ops::ControlFlow;
///
/// let journal = MemoryJournal::new();
/// journal.append("s", 0, vec![b"a".to_vec(), b"b".to_vec()])?;
/// // A visitor that keeps the sequence numbers it is lent.
/// let mut seqs = Vec::new();
/// let visit: &mut EventVisitor<'_> = &mut |e| {
///     seqs.push(e.seq);
///     ControlFlow::Continue(())
/// };
/// assert_eq!(journal.read_with("s", 1, u64::MAX, 10, visit)?, 2);
/// assert_eq!(seqs, [1, 2]);
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
pub type EventVisitor<'v> = dyn FnMut(EventRef<'_>) -> ControlFlow<()> + 'v;

/// What is called with the outcome of an [`Journal::append_with`]: the new
/// highest sequence number of the stream, or why nothing was acknowledged.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{AppendDone, Journal, MemoryJournal};
///
/// let journal = MemoryJournal::new();
/// let (tx, rx) = crossbeam_channel::bounded(1);
/// let done: AppendDone = Box::new(move |outcome| drop(tx.send(outcome)));
/// journal.append_with("s", 0, vec![b"e".to_vec()], done);
/// assert_eq!(rx.recv().unwrap(), Ok(1));
/// ```
pub type AppendDone = Box<dyn FnOnce(Result<u64, JournalError>) + Send + 'static>;

/// A listener for new appends (see [`Journal::subscribe`]): called with the
/// journal's highest global offset after each acknowledged append; returns
/// whether it wants to hear more (`false` removes it).
///
/// # Examples
///
/// ```
/// use playhouse::persist::{AppendListener, Journal, MemoryJournal};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let journal = MemoryJournal::new();
/// let seen = Arc::new(AtomicU64::new(0));
/// let s = Arc::clone(&seen);
/// let listener: AppendListener = Box::new(move |offset| {
///     s.store(offset, Ordering::Relaxed);
///     offset < 2 // stop listening after offset 2
/// });
/// journal.subscribe(listener);
/// for seq in 0..3 {
///     journal.append("s", seq, vec![vec![0]])?;
/// }
/// assert_eq!(seen.load(Ordering::Relaxed), 2);
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
pub type AppendListener = Box<dyn Fn(u64) -> bool + Send + Sync + 'static>;

/// A durable store of event streams, the ground truth of event sourcing.
///
/// Each stream is an append-only sequence numbered from 1. An append names the
/// sequence number it expects the stream to be at (optimistic concurrency): a
/// stale writer gets [`JournalError::Conflict`] and nothing is written. The
/// events of one append are stored atomically: after a crash either all of
/// them are there or none. Across streams the journal keeps a global order
/// (the offsets of [`PersistedEvent`]) for projections.
///
/// Implementations: [`crate::persist::MemoryJournal`] (for tests) and
/// [`crate::persist::FileJournal`] (segment files on disk). The trait is kept
/// narrow so that other backends (a database) fit behind it.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, JournalError, MemoryJournal};
///
/// let journal = MemoryJournal::new();
/// assert_eq!(journal.append("user-1", 0, vec![b"registered".to_vec()])?, 1);
/// assert_eq!(journal.append("user-1", 1, vec![b"a".to_vec(), b"b".to_vec()])?, 3);
/// // A writer that has not seen seq 3 is refused.
/// assert!(matches!(
///     journal.append("user-1", 1, vec![b"late".to_vec()]),
///     Err(JournalError::Conflict { actual: 3, .. })
/// ));
/// let events = journal.read("user-1", 2, u64::MAX, 10)?;
/// assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
/// # Ok::<(), JournalError>(())
/// ```
pub trait Journal: Send + Sync + 'static {
    /// Appends `events` to `stream` as one atomic write, if the stream's
    /// highest sequence number is `expected_seq` (0 for a new stream); they
    /// get the numbers `expected_seq + 1 ..`. Returns the new highest
    /// sequence number once the events are stored as durably as the journal
    /// promises. An empty `events` writes nothing and returns `expected_seq`.
    ///
    /// # Errors
    /// [`JournalError::Conflict`] if the stream is elsewhere,
    /// [`JournalError::EmptyStreamId`], or a storage failure, after which
    /// nothing was acknowledged (the events may or may not be on disk).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// // Two events in one atomic append: seqs 1 and 2.
    /// assert_eq!(journal.append("cart-9", 0, vec![b"add".to_vec(), b"add".to_vec()])?, 2);
    /// assert_eq!(journal.append("cart-9", 2, vec![])?, 2); // nothing to write
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn append(
        &self,
        stream: &str,
        expected_seq: u64,
        events: Vec<Vec<u8>>,
    ) -> Result<u64, JournalError>;

    /// Like [`Journal::append`], but hands the outcome to `done` instead of
    /// waiting for it. A journal with threads of its own calls `done` on one of
    /// them, so the caller never blocks on I/O; the default runs the
    /// append here and then `done`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, JournalError, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// let (tx, rx) = crossbeam_channel::bounded(1);
    /// journal.append_with("s", 5, vec![b"e".to_vec()], Box::new(move |r| drop(tx.send(r))));
    /// // The stream is at 0, not 5: a conflict, and nothing written.
    /// assert!(matches!(rx.recv().unwrap(), Err(JournalError::Conflict { .. })));
    /// ```
    fn append_with(&self, stream: &str, expected_seq: u64, events: Vec<Vec<u8>>, done: AppendDone) {
        done(self.append(stream, expected_seq, events));
    }

    /// The events of `stream` with `from <= seq <= to`, ascending, at most
    /// `max` of them. Deleted events are left out.
    ///
    /// # Errors
    /// [`JournalError::EmptyStreamId`], or a storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("s", 0, (0..10u8).map(|i| vec![i]).collect())?;
    /// let page = journal.read("s", 4, u64::MAX, 3)?; // from seq 4, at most 3
    /// assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5, 6]);
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn read(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
    ) -> Result<Vec<PersistedEvent>, JournalError>;

    /// The events [`Journal::read`] returns, lent one by one to `visit`
    /// instead of copied out: the payload is borrowed from the journal's read
    /// buffer, so a replay decodes straight from it and allocates nothing
    /// per event. Stops early when `visit` returns `Break`. Returns how many
    /// events `visit` was called with. `visit` runs on the calling thread,
    /// with no lock of the journal held.
    ///
    /// The default reads through [`Journal::read`]; the journals of this
    /// crate lend without copying.
    ///
    /// # Errors
    /// As [`Journal::read`]: [`JournalError::EmptyStreamId`], or a storage
    /// failure such as [`JournalError::Corruption`]; events lent before the
    /// failure stay lent.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    /// use std::ops::ControlFlow;
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("s", 0, (1..=10u8).map(|i| vec![i]).collect())?;
    /// // Sum the payloads from seq 3 until one exceeds 5.
    /// let mut sum = 0u32;
    /// let seen = journal.read_with("s", 3, u64::MAX, 100, &mut |e| {
    ///     sum += u32::from(e.payload[0]);
    ///     if e.payload[0] > 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// })?;
    /// assert_eq!((seen, sum), (4, 3 + 4 + 5 + 6));
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn read_with(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        Ok(lend(&self.read(stream, from, to, max)?, visit))
    }

    /// The highest sequence number ever stored in `stream` (0 if none); not
    /// lowered by [`Journal::delete_to`].
    ///
    /// # Errors
    /// [`JournalError::EmptyStreamId`], or a storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// assert_eq!(journal.highest_seq("new")?, 0);
    /// journal.append("new", 0, vec![vec![1]])?;
    /// assert_eq!(journal.highest_seq("new")?, 1);
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn highest_seq(&self, stream: &str) -> Result<u64, JournalError>;

    /// Deletes the events of `stream` up to and including `seq` (at most its
    /// highest): they are no longer read or replayed. The highest sequence
    /// number stays, so numbers are never reused.
    ///
    /// # Errors
    /// [`JournalError::EmptyStreamId`], or a storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("s", 0, vec![vec![1], vec![2], vec![3]])?;
    /// journal.delete_to("s", 2)?; // e.g. after a snapshot at seq 2
    /// assert_eq!(journal.read("s", 1, u64::MAX, 10)?.len(), 1);
    /// assert_eq!(journal.highest_seq("s")?, 3); // numbers are never reused
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn delete_to(&self, stream: &str, seq: u64) -> Result<(), JournalError>;

    /// The events of every stream with a global offset `>= from`, in global
    /// order, at most `max` of them. Deleted events are left out.
    ///
    /// # Errors
    /// A storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("a", 0, vec![vec![1]])?;
    /// journal.append("b", 0, vec![vec![2]])?;
    /// journal.append("a", 1, vec![vec![3]])?;
    /// let streams: Vec<String> = journal.read_all(1, 10)?.into_iter().map(|e| e.stream).collect();
    /// assert_eq!(streams, ["a", "b", "a"]); // the global order
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn read_all(&self, from: u64, max: usize) -> Result<Vec<PersistedEvent>, JournalError>;

    /// The events [`Journal::read_all`] returns, lent one by one to `visit`
    /// as in [`Journal::read_with`]; stops early when `visit` returns
    /// `Break` and returns how many events it was called with.
    ///
    /// # Errors
    /// A storage failure, such as [`JournalError::Corruption`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    /// use std::ops::ControlFlow;
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("a", 0, vec![vec![1]])?;
    /// journal.append("b", 0, vec![vec![2]])?;
    /// let mut order = String::new();
    /// journal.read_all_with(1, 10, &mut |e| {
    ///     order.push_str(e.stream);
    ///     ControlFlow::Continue(())
    /// })?;
    /// assert_eq!(order, "ab");
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn read_all_with(
        &self,
        from: u64,
        max: usize,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        Ok(lend(&self.read_all(from, max)?, visit))
    }

    /// The highest global offset acknowledged so far (0 if none).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// journal.append("a", 0, vec![vec![1], vec![2]])?;
    /// assert_eq!(journal.highest_offset(), 2);
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn highest_offset(&self) -> u64;

    /// Calls `listener` with the highest global offset after every
    /// acknowledged append, until it returns `false` or the journal is
    /// dropped. It runs on the
    /// appending thread (or a thread of the journal's own): keep it short and
    /// non-blocking, e.g. a `try_tell` to a projection.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// journal.subscribe(Box::new(move |offset| tx.send(offset).is_ok()));
    /// journal.append("s", 0, vec![vec![1]])?;
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn subscribe(&self, listener: AppendListener);
}

/// Why a journal operation failed.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, JournalError, MemoryJournal};
///
/// let journal = MemoryJournal::new();
/// assert_eq!(journal.append("", 0, vec![vec![1]]), Err(JournalError::EmptyStreamId));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalError {
    /// The stream was not at the expected sequence number: another writer got
    /// there first. Nothing was written.
    Conflict {
        /// The stream.
        stream: String,
        /// What the writer expected.
        expected: u64,
        /// Where the stream really is.
        actual: u64,
    },
    /// An empty stream id.
    EmptyStreamId,
    /// A stored record before the end of the journal is damaged: it is never
    /// skipped silently; the file needs a human (or a backup).
    Corruption {
        /// The damaged file.
        file: PathBuf,
        /// The byte offset of the damaged record.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O operation failed.
    Io {
        /// What was being done.
        op: &'static str,
        /// On which file or directory.
        path: PathBuf,
        /// The error's kind.
        kind: io::ErrorKind,
        /// The error's text.
        message: String,
    },
    /// The journal refuses appends since a write or fsync failed: after a
    /// failed fsync nobody knows what reached the disk, so it must be
    /// reopened (which recovers what is really there).
    Failed {
        /// The failure that stopped it.
        cause: String,
    },
    /// Another journal (in this or another process) has the directory open
    /// for writing.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A setting is invalid (zero segment size, a path that is a file, ...).
    Config {
        /// The setting.
        setting: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// An append or a stream id is too large to be stored.
    TooLarge {
        /// What was too large.
        what: &'static str,
    },
    /// A blocking call (`append`, `delete_to`) from a thread of the journal's
    /// own, in a listener or an `append_with` callback: it would wait for
    /// itself. Use `append_with` there.
    WouldBlockWriter,
    /// The journal has been closed.
    Closed,
}

impl JournalError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, e: &io::Error) -> Self {
        JournalError::Io {
            op,
            path: path.into(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Conflict {
                stream,
                expected,
                actual,
            } => write!(
                f,
                "stream {stream:?} is at seq {actual}, the append expected {expected}"
            ),
            JournalError::EmptyStreamId => f.write_str("empty stream id"),
            JournalError::Corruption {
                file,
                offset,
                reason,
            } => write!(
                f,
                "corrupt journal record in {} at offset {offset}: {reason}",
                file.display()
            ),
            JournalError::Io {
                op, path, message, ..
            } => write!(f, "journal {op} failed on {}: {message}", path.display()),
            JournalError::Failed { cause } => {
                write!(f, "journal refuses appends after a failed write: {cause}")
            }
            JournalError::Locked { path } => {
                write!(
                    f,
                    "journal is locked by another writer ({})",
                    path.display()
                )
            }
            JournalError::Config { setting, reason } => {
                write!(f, "invalid journal setting {setting}: {reason}")
            }
            JournalError::TooLarge { what } => write!(f, "{what} is too large to store"),
            JournalError::WouldBlockWriter => {
                f.write_str("a blocking journal call on the journal's own thread would deadlock")
            }
            JournalError::Closed => f.write_str("journal is closed"),
        }
    }
}

impl Error for JournalError {}

/// Refuses an empty stream id.
pub(crate) fn check_stream(stream: &str) -> Result<(), JournalError> {
    if stream.is_empty() {
        Err(JournalError::EmptyStreamId)
    } else {
        Ok(())
    }
}

/// Lends `events` to `visit` in order until it breaks; how many it saw.
pub(crate) fn lend(events: &[PersistedEvent], visit: &mut EventVisitor<'_>) -> usize {
    let mut seen = 0;
    for e in events {
        seen += 1;
        if visit(EventRef::of(e)).is_break() {
            break;
        }
    }
    seen
}
