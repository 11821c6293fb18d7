//! The in-memory index both journals keep: per-stream sequence numbers mapped
//! to global offsets, deletion marks, and one entry per event in global order.
//!
//! # Invariants
//! - A stream's events have the sequence numbers `1..=highest`, contiguous;
//!   `offsets[seq - 1]` is the global offset of event `seq`.
//! - Global offsets are `1..=events.len()`, contiguous; `events[offset - 1]`
//!   belongs to the stream and seq it names.
//! - `deleted_to <= highest`, and only grows.

use super::journal::JournalError;
use crate::sync::Arc;
use std::collections::HashMap;

#[derive(Debug, Default)]
struct StreamIdx {
    offsets: Vec<u64>,
    deleted_to: u64,
}

/// One event in global order: its stream, its seq, and what the journal keeps
/// of it (the payload in memory, or where it is on disk).
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) stream: Arc<str>,
    pub(crate) seq: u64,
    pub(crate) item: T,
}

#[derive(Debug)]
pub(crate) struct Index<T> {
    streams: HashMap<Arc<str>, StreamIdx>,
    events: Vec<Entry<T>>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            streams: HashMap::new(),
            events: Vec::new(),
        }
    }
}

impl<T> Index<T> {
    pub(crate) fn highest(&self, stream: &str) -> u64 {
        self.streams
            .get(stream)
            .map_or(0, |s| s.offsets.len() as u64)
    }

    pub(crate) fn highest_offset(&self) -> u64 {
        self.events.len() as u64
    }

    /// Refuses an append that does not expect the stream's highest seq.
    pub(crate) fn check(&self, stream: &str, expected: u64) -> Result<(), JournalError> {
        let actual = self.highest(stream);
        if actual == expected {
            Ok(())
        } else {
            Err(JournalError::Conflict {
                stream: stream.to_owned(),
                expected,
                actual,
            })
        }
    }

    /// Appends `items` to `stream`; returns the new highest seq.
    pub(crate) fn push(&mut self, stream: &str, items: impl IntoIterator<Item = T>) -> u64 {
        let key: Arc<str> = match self.streams.get_key_value(stream) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(stream),
        };
        let idx = self.streams.entry(Arc::clone(&key)).or_default();
        for item in items {
            self.events.push(Entry {
                stream: Arc::clone(&key),
                seq: idx.offsets.len() as u64 + 1,
                item,
            });
            idx.offsets.push(self.events.len() as u64);
        }
        idx.offsets.len() as u64
    }

    /// Marks `stream`'s events up to `seq` (clamped to its highest) deleted.
    pub(crate) fn delete_to(&mut self, stream: &str, seq: u64) {
        if let Some(idx) = self.streams.get_mut(stream) {
            let seq = seq.min(idx.offsets.len() as u64);
            idx.deleted_to = idx.deleted_to.max(seq);
        }
    }

    fn deleted(&self, stream: &str, seq: u64) -> bool {
        self.streams
            .get(stream)
            .is_some_and(|s| seq <= s.deleted_to)
    }

    /// `(seq, offset, item)` of the live events of `stream` in `from..=to`.
    pub(crate) fn read(&self, stream: &str, from: u64, to: u64, max: usize) -> Vec<(u64, u64, &T)> {
        let Some(idx) = self.streams.get(stream) else {
            return Vec::new();
        };
        let first = from.max(idx.deleted_to + 1).max(1);
        let last = to.min(idx.offsets.len() as u64);
        if first > last || max == 0 {
            return Vec::new();
        }
        (first..=last)
            .take(max)
            .map(|seq| {
                let offset = idx.offsets[(seq - 1) as usize];
                (seq, offset, &self.events[(offset - 1) as usize].item)
            })
            .collect()
    }

    /// `(offset, entry)` of the live events with an offset `>= from`.
    pub(crate) fn read_all(&self, from: u64, max: usize) -> Vec<(u64, &Entry<T>)> {
        let start = from.max(1) - 1;
        self.events
            .iter()
            .enumerate()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .filter(|(_, e)| !self.deleted(&e.stream, e.seq))
            .take(max)
            .map(|(i, e)| (i as u64 + 1, e))
            .collect()
    }
}
