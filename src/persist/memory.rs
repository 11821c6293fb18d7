//! [`MemoryJournal`]: a journal that keeps everything in memory, for tests.

use super::index::Index;
use super::index::Slice;
use super::journal::{
    AppendListener, EventRef, EventVisitor, Journal, JournalError, PersistedEvent, check_stream,
};
use crate::sync::Arc;
use crate::sync::Mutex;
use std::fmt;
use std::ops::ControlFlow;

/// A [`Journal`] in memory: the same semantics as the file journal, nothing
/// durable. For tests and for event-sourced actors whose state may be lost.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, MemoryJournal};
///
/// let journal = MemoryJournal::new();
/// journal.append("a", 0, vec![b"1".to_vec()])?;
/// journal.append("b", 0, vec![b"2".to_vec()])?;
/// journal.delete_to("a", 1)?;
/// assert!(journal.read("a", 1, u64::MAX, 10)?.is_empty());
/// assert_eq!(journal.highest_seq("a")?, 1);
/// assert_eq!(journal.read_all(1, 10)?[0].stream, "b");
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
pub struct MemoryJournal {
    index: Mutex<Index<Arc<[u8]>>>,
    listeners: Mutex<Vec<Arc<AppendListener>>>,
}

impl MemoryJournal {
    /// An empty journal.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Journal, MemoryJournal};
    ///
    /// let journal = MemoryJournal::new();
    /// assert_eq!(journal.highest_offset(), 0);
    /// ```
    pub fn new() -> Self {
        MemoryJournal {
            index: Mutex::new(Index::default()),
            listeners: Mutex::new(Vec::new()),
        }
    }
}

impl Default for MemoryJournal {
    fn default() -> Self {
        MemoryJournal::new()
    }
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("highest_offset", &self.highest_offset())
            .finish()
    }
}

/// One stored event held by reference counts, so it can be lent after the
/// index's lock is released: a visitor may then call the journal.
type Held = (Arc<str>, u64, u64, Arc<[u8]>);

fn hold(s: &Slice<'_, Arc<[u8]>>) -> Held {
    let (seq, offset) = s.at(0);
    (Arc::clone(s.stream), seq, offset, Arc::clone(&s.run.item))
}

/// Lends `held` to `visit` in order until it breaks; how many it saw.
fn lend(held: &[Held], visit: &mut EventVisitor<'_>) -> usize {
    let mut seen = 0;
    for (stream, seq, offset, payload) in held {
        seen += 1;
        let event = EventRef {
            stream,
            seq: *seq,
            offset: *offset,
            payload,
        };
        if let ControlFlow::Break(()) = visit(event) {
            break;
        }
    }
    seen
}

/// Calls every listener with `offset`, outside any lock of the journal, and
/// removes those that are done.
pub(crate) fn notify(listeners: &Mutex<Vec<Arc<AppendListener>>>, offset: u64) {
    let current: Vec<_> = listeners.lock().iter().cloned().collect();
    let done: Vec<_> = current.into_iter().filter(|l| !l(offset)).collect();
    if !done.is_empty() {
        listeners
            .lock()
            .retain(|l| !done.iter().any(|d| Arc::ptr_eq(d, l)));
    }
}

impl Journal for MemoryJournal {
    fn append(
        &self,
        stream: &str,
        expected_seq: u64,
        events: Vec<Vec<u8>>,
    ) -> Result<u64, JournalError> {
        check_stream(stream)?;
        let (highest, offset) = {
            let mut index = self.index.lock();
            index.check(stream, expected_seq)?;
            if events.is_empty() {
                return Ok(expected_seq);
            }
            let mut highest = expected_seq;
            for e in events {
                highest = index.push(stream, 1, Arc::<[u8]>::from(e));
            }
            (highest, index.highest_offset())
        };
        notify(&self.listeners, offset);
        Ok(highest)
    }

    fn read(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
    ) -> Result<Vec<PersistedEvent>, JournalError> {
        check_stream(stream)?;
        let index = self.index.lock();
        Ok(index
            .read(stream, from, to, max)
            .into_iter()
            .map(|s| {
                let (seq, offset) = s.at(0);
                PersistedEvent {
                    stream: stream.to_owned(),
                    seq,
                    offset,
                    payload: s.run.item.to_vec(),
                }
            })
            .collect())
    }

    fn read_with(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        check_stream(stream)?;
        let held: Vec<Held> = self
            .index
            .lock()
            .read(stream, from, to, max)
            .iter()
            .map(hold)
            .collect();
        Ok(lend(&held, visit))
    }

    fn highest_seq(&self, stream: &str) -> Result<u64, JournalError> {
        check_stream(stream)?;
        Ok(self.index.lock().highest(stream))
    }

    fn delete_to(&self, stream: &str, seq: u64) -> Result<(), JournalError> {
        check_stream(stream)?;
        self.index.lock().delete_to(stream, seq);
        Ok(())
    }

    fn read_all(&self, from: u64, max: usize) -> Result<Vec<PersistedEvent>, JournalError> {
        let index = self.index.lock();
        Ok(index
            .read_all(from, max)
            .into_iter()
            .map(|s| {
                let (seq, offset) = s.at(0);
                PersistedEvent {
                    stream: String::from(&**s.stream),
                    seq,
                    offset,
                    payload: s.run.item.to_vec(),
                }
            })
            .collect())
    }

    fn read_all_with(
        &self,
        from: u64,
        max: usize,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        let held: Vec<Held> = self
            .index
            .lock()
            .read_all(from, max)
            .iter()
            .map(hold)
            .collect();
        Ok(lend(&held, visit))
    }

    fn highest_offset(&self) -> u64 {
        self.index.lock().highest_offset()
    }

    fn subscribe(&self, listener: AppendListener) {
        self.listeners.lock().push(Arc::new(listener));
    }
}
