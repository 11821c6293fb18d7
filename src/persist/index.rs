//! The in-memory index both journals keep: per-stream sequence numbers mapped
//! to global offsets, and deletion marks, with one entry per *run* (the
//! events of one append, which are consecutive in their stream and in the
//! global order), not per event.
//!
//! # Invariants
//! - `runs` is in global order: run `i + 1` starts at the offset after run
//!   `i` ends, the first at offset 1; `highest_offset` is where the last ends.
//! - A stream's runs (`StreamIdx::runs`, indices into `runs`, ascending)
//!   cover its sequence numbers `1..=highest` contiguously.
//! - `deleted_to <= highest`, and only grows.
//! - Every run has at least one event.

use super::journal::JournalError;
use crate::sync::Arc;
use std::collections::HashMap;

#[derive(Debug, Default)]
struct StreamIdx {
    /// Indices into `Index::runs` of this stream's runs, ascending.
    runs: Vec<usize>,
    highest: u64,
    deleted_to: u64,
}

/// The events of one append: consecutive in their stream (`first_seq..`)
/// and in global order (`first_offset..`), and what the journal keeps of
/// them (the payloads in memory, or where their record is on disk).
#[derive(Debug)]
pub(crate) struct Run<T> {
    stream: u32,
    count: u32,
    pub(crate) first_seq: u64,
    pub(crate) first_offset: u64,
    pub(crate) item: T,
}

/// Part of a run: `n` events starting `skip` events into it.
#[derive(Debug)]
pub(crate) struct Slice<'a, T> {
    pub(crate) run: &'a Run<T>,
    pub(crate) stream: &'a Arc<str>,
    pub(crate) skip: u64,
    pub(crate) n: u64,
}

impl<T> Slice<'_, T> {
    /// `(seq, offset)` of the `i`-th event of the slice.
    pub(crate) fn at(&self, i: u64) -> (u64, u64) {
        let k = self.skip + i;
        (self.run.first_seq + k, self.run.first_offset + k)
    }
}

#[derive(Debug)]
pub(crate) struct Index<T> {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
    streams: Vec<StreamIdx>,
    runs: Vec<Run<T>>,
    highest_offset: u64,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            ids: HashMap::new(),
            names: Vec::new(),
            streams: Vec::new(),
            runs: Vec::new(),
            highest_offset: 0,
        }
    }
}

impl<T> Index<T> {
    fn stream(&self, stream: &str) -> Option<&StreamIdx> {
        self.ids.get(stream).map(|&id| &self.streams[id as usize])
    }

    /// The id `stream` is interned as, if it has any events.
    pub(crate) fn id(&self, stream: &str) -> Option<u32> {
        self.ids.get(stream).copied()
    }

    /// How many streams are interned: every id is below this.
    pub(crate) fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// The highest seq of the stream interned as `id`.
    pub(crate) fn highest_of(&self, id: u32) -> u64 {
        self.streams[id as usize].highest
    }

    pub(crate) fn highest(&self, stream: &str) -> u64 {
        self.stream(stream).map_or(0, |s| s.highest)
    }

    pub(crate) fn highest_offset(&self) -> u64 {
        self.highest_offset
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

    /// Appends a run of `count` (at least 1) events to `stream`; returns the
    /// new highest seq.
    pub(crate) fn push(&mut self, stream: &str, count: u32, item: T) -> u64 {
        debug_assert!(count > 0, "a run holds at least one event");
        let id = match self.ids.get(stream) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.names.len()).expect("fewer than 2^32 streams");
                let name: Arc<str> = Arc::from(stream);
                self.ids.insert(Arc::clone(&name), id);
                self.names.push(name);
                self.streams.push(StreamIdx::default());
                id
            }
        };
        self.push_id(id, count, item)
    }

    /// [`push`](Self::push) to the stream interned as `id` (from
    /// [`id`](Self::id)), without looking its name up again.
    pub(crate) fn push_id(&mut self, id: u32, count: u32, item: T) -> u64 {
        debug_assert!(count > 0, "a run holds at least one event");
        let idx = &mut self.streams[id as usize];
        idx.runs.push(self.runs.len());
        self.runs.push(Run {
            stream: id,
            count,
            first_seq: idx.highest + 1,
            first_offset: self.highest_offset + 1,
            item,
        });
        idx.highest += u64::from(count);
        self.highest_offset += u64::from(count);
        idx.highest
    }

    /// Marks `stream`'s events up to `seq` (clamped to its highest) deleted.
    pub(crate) fn delete_to(&mut self, stream: &str, seq: u64) {
        if let Some(&id) = self.ids.get(stream) {
            let idx = &mut self.streams[id as usize];
            idx.deleted_to = idx.deleted_to.max(seq.min(idx.highest));
        }
    }

    /// The live events of `stream` in `from..=to`, at most `max`, as slices
    /// of runs in ascending order.
    pub(crate) fn read(&self, stream: &str, from: u64, to: u64, max: usize) -> Vec<Slice<'_, T>> {
        let Some(&id) = self.ids.get(stream) else {
            return Vec::new();
        };
        let idx = &self.streams[id as usize];
        let first = from.max(idx.deleted_to + 1).max(1);
        let last = to.min(idx.highest);
        let mut left = max as u64;
        let mut out = Vec::new();
        if first > last || left == 0 {
            return out;
        }
        // The first run that ends at or after `first`.
        let start = idx.runs.partition_point(|&r| {
            let run = &self.runs[r];
            run.first_seq + u64::from(run.count) <= first
        });
        for &r in &idx.runs[start..] {
            let run = &self.runs[r];
            if run.first_seq > last || left == 0 {
                break;
            }
            let skip = first.saturating_sub(run.first_seq);
            let end = (run.first_seq + u64::from(run.count) - 1).min(last);
            let n = (end + 1 - (run.first_seq + skip)).min(left);
            left -= n;
            out.push(Slice {
                run,
                stream: &self.names[id as usize],
                skip,
                n,
            });
        }
        out
    }

    /// The live events with an offset `>= from`, at most `max`, as slices of
    /// runs in global order.
    pub(crate) fn read_all(&self, from: u64, max: usize) -> Vec<Slice<'_, T>> {
        let from = from.max(1);
        let mut left = max as u64;
        let mut out = Vec::new();
        let start = self
            .runs
            .partition_point(|run| run.first_offset + u64::from(run.count) <= from);
        for run in &self.runs[start..] {
            if left == 0 {
                break;
            }
            let idx = &self.streams[run.stream as usize];
            // Skip events before `from` and deleted ones (a prefix of the run).
            let skip = (from.saturating_sub(run.first_offset))
                .max((idx.deleted_to + 1).saturating_sub(run.first_seq));
            if skip >= u64::from(run.count) {
                continue;
            }
            let n = (u64::from(run.count) - skip).min(left);
            left -= n;
            out.push(Slice {
                run,
                stream: &self.names[run.stream as usize],
                skip,
                n,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(slices: &[Slice<'_, u8>]) -> Vec<(String, u64, u64)> {
        slices
            .iter()
            .flat_map(|s| (0..s.n).map(move |i| (s.stream.to_string(), s.at(i).0, s.at(i).1)))
            .collect()
    }

    #[test]
    fn runs_cover_reads_by_stream_and_by_offset() {
        let mut ix = Index::default();
        assert_eq!(ix.push("a", 3, 0u8), 3); // a1..3 at 1..3
        assert_eq!(ix.push("b", 2, 1), 2); // b1..2 at 4..5
        assert_eq!(ix.push("a", 1, 2), 4); // a4 at 6
        assert_eq!(ix.highest_offset(), 6);
        let got = events(&ix.read("a", 2, 4, 10));
        assert_eq!(
            got,
            vec![("a".into(), 2, 2), ("a".into(), 3, 3), ("a".into(), 4, 6)]
        );
        assert_eq!(events(&ix.read("a", 2, 4, 1)), vec![("a".into(), 2, 2)]);
        assert_eq!(events(&ix.read("a", 3, 3, 10)), vec![("a".into(), 3, 3)]);
        assert!(ix.read("a", 4, 3, 10).is_empty());
        assert!(ix.read("a", 1, 9, 0).is_empty());
        assert!(ix.read("c", 1, 9, 9).is_empty());
        let all: Vec<u64> = events(&ix.read_all(3, 3)).iter().map(|e| e.2).collect();
        assert_eq!(all, vec![3, 4, 5]);
        ix.delete_to("a", 2);
        assert_eq!(events(&ix.read("a", 1, 9, 9)).len(), 2);
        let all: Vec<u64> = events(&ix.read_all(1, 9)).iter().map(|e| e.2).collect();
        assert_eq!(all, vec![3, 4, 5, 6]);
        ix.delete_to("a", 99);
        assert_eq!(ix.highest("a"), 4);
        let all: Vec<u64> = events(&ix.read_all(1, 9)).iter().map(|e| e.2).collect();
        assert_eq!(all, vec![4, 5]);
    }
}
