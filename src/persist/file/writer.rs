//! The file journal's writer thread: the one place that appends to segments.
//!
//! It takes batches from the [`CommitQueue`], checks each append's expected
//! seq against the index plus the earlier appends of the batch, writes the
//! frames, syncs once per batch (per the [`FsyncPolicy`]), and only then
//! publishes the batch to the index and completes its requests. A failed
//! write or sync fails the whole unpublished batch and every later request:
//! nothing is acknowledged that was not synced, and nothing is retried into a
//! false success.

use super::commit::CommitQueue;
use super::frame;
use super::segment::{self, HEADER_LEN, JOURNAL_MAGIC};
use super::storage::{Storage, StorageFile};
use super::{FsyncPolicy, Loc, Shared};
use crate::persist::journal::{AppendDone, JournalError};
use crate::sync::Arc;
use std::collections::HashMap;
use std::fmt;

/// What the writer does for a caller.
pub(crate) enum Request {
    Append {
        stream: String,
        expected: u64,
        events: Vec<Vec<u8>>,
        done: AppendDone,
    },
    Delete {
        stream: String,
        to_seq: u64,
        done: Box<dyn FnOnce(Result<(), JournalError>) + Send>,
    },
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Append { stream, .. } => write!(f, "Append({stream:?})"),
            Request::Delete { stream, .. } => write!(f, "Delete({stream:?})"),
        }
    }
}

impl Request {
    fn fail(self, e: JournalError) {
        match self {
            Request::Append { done, .. } => done(Err(e)),
            Request::Delete { done, .. } => done(Err(e)),
        }
    }
}

/// A written, not yet published request.
enum Staged {
    Events {
        stream: String,
        locs: Vec<Loc>,
        highest: u64,
        done: AppendDone,
    },
    Delete {
        stream: String,
        to_seq: u64,
        done: Box<dyn FnOnce(Result<(), JournalError>) + Send>,
    },
}

pub(crate) struct Writer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) policy: FsyncPolicy,
    pub(crate) segment_size: u64,
    pub(crate) file: Box<dyn StorageFile>,
    pub(crate) seg_n: u64,
    pub(crate) seg_len: u64,
    /// Why appends are refused, once a write or sync failed.
    pub(crate) failed: Option<String>,
}

impl Writer {
    pub(crate) fn run(mut self, queue: &CommitQueue<Request>) {
        let max = match self.policy {
            FsyncPolicy::EveryAppend => 1,
            FsyncPolicy::GroupCommit | FsyncPolicy::Never => 1024,
        };
        while let Some(batch) = queue.take(max) {
            self.commit(batch);
        }
    }

    fn seg_path(&self) -> std::path::PathBuf {
        segment::path(&self.shared.dir, self.seg_n, "journal")
    }

    /// Marks the journal failed by `e` and returns `e`.
    fn fail(&mut self, e: JournalError) -> JournalError {
        log::error!("file journal: {e}; refusing further appends");
        self.failed = Some(e.to_string());
        e
    }

    /// Writes `buf` at the end of the current segment (rotating first if it
    /// would grow past the segment size); returns where it starts.
    fn write(&mut self, buf: &mut [u8]) -> Result<(u64, u64), JournalError> {
        if self.seg_len > HEADER_LEN as u64 && self.seg_len + buf.len() as u64 > self.segment_size {
            self.rotate()?;
        }
        frame::seal(buf, self.seg_len);
        let path = self.seg_path();
        if let Err(e) = self.file.write_all(buf) {
            return Err(self.fail(JournalError::io("write", path, &e)));
        }
        let pos = self.seg_len;
        self.seg_len += buf.len() as u64;
        Ok((self.seg_n, pos))
    }

    /// Seals the current segment (synced whatever the policy, so no later
    /// segment exists without all of it, and only the last segment can end
    /// torn) and starts the next one with a synced header and directory
    /// entry.
    fn rotate(&mut self) -> Result<(), JournalError> {
        let old = self.seg_path();
        if let Err(e) = self.file.sync_data() {
            return Err(self.fail(JournalError::io("fsync", old, &e)));
        }
        let (file, n) = create_segment(&*self.storage, &self.shared.dir, self.seg_n + 1)
            .map_err(|e| self.fail(e))?;
        let mut stats = self.shared.stats.lock();
        stats.syncs += 1;
        stats.segments_created += 1;
        self.file = file;
        self.seg_n = n;
        self.seg_len = HEADER_LEN as u64;
        Ok(())
    }

    fn commit(&mut self, batch: Vec<Request>) {
        let mut staged = Vec::new();
        let mut pending: HashMap<String, u64> = HashMap::new();
        let mut next_offset = self.shared.index.lock().highest_offset() + 1;
        let mut batch_error: Option<JournalError> = None;
        for req in batch {
            if let Some(cause) = &self.failed {
                let e = batch_error.clone().unwrap_or(JournalError::Failed {
                    cause: cause.clone(),
                });
                req.fail(e);
                continue;
            }
            let stream = match &req {
                Request::Append { stream, .. } | Request::Delete { stream, .. } => stream.clone(),
            };
            if stream.is_empty() {
                req.fail(JournalError::EmptyStreamId);
                continue;
            }
            let actual = match pending.get(&stream) {
                Some(&hi) => hi,
                None => self.shared.index.lock().highest(&stream),
            };
            match req {
                Request::Append {
                    expected,
                    events,
                    done,
                    ..
                } => {
                    if actual != expected {
                        done(Err(JournalError::Conflict {
                            stream,
                            expected,
                            actual,
                        }));
                        continue;
                    }
                    if events.is_empty() {
                        done(Ok(expected));
                        continue;
                    }
                    let mut buf = Vec::new();
                    let Some(starts) =
                        frame::encode_events(&stream, expected + 1, next_offset, &events, &mut buf)
                    else {
                        done(Err(JournalError::TooLarge { what: "append" }));
                        continue;
                    };
                    match self.write(&mut buf) {
                        Ok((segment, pos)) => {
                            let locs = starts
                                .iter()
                                .zip(&events)
                                .map(|(s, e)| Loc {
                                    segment,
                                    pos: pos + *s as u64,
                                    len: e.len(),
                                })
                                .collect();
                            let highest = expected + events.len() as u64;
                            next_offset += events.len() as u64;
                            pending.insert(stream.clone(), highest);
                            staged.push(Staged::Events {
                                stream,
                                locs,
                                highest,
                                done,
                            });
                        }
                        Err(e) => {
                            batch_error = Some(e.clone());
                            done(Err(e));
                        }
                    }
                }
                Request::Delete { to_seq, done, .. } => {
                    let to_seq = to_seq.min(actual);
                    let mut buf = Vec::new();
                    if frame::encode_delete(&stream, to_seq, &mut buf).is_none() {
                        done(Err(JournalError::TooLarge { what: "stream id" }));
                        continue;
                    }
                    match self.write(&mut buf) {
                        Ok(_) => staged.push(Staged::Delete {
                            stream,
                            to_seq,
                            done,
                        }),
                        Err(e) => {
                            batch_error = Some(e.clone());
                            done(Err(e));
                        }
                    }
                }
            }
        }
        if staged.is_empty() {
            return;
        }
        if self.failed.is_none() && self.policy != FsyncPolicy::Never {
            self.shared.stats.lock().syncs += 1;
            if let Err(e) = self.file.sync_data() {
                let path = self.seg_path();
                batch_error = Some(self.fail(JournalError::io("fsync", path, &e)));
            }
        }
        if let Some(cause) = &self.failed {
            let e = batch_error.unwrap_or(JournalError::Failed {
                cause: cause.clone(),
            });
            for s in staged {
                match s {
                    Staged::Events { done, .. } => done(Err(e.clone())),
                    Staged::Delete { done, .. } => done(Err(e.clone())),
                }
            }
            return;
        }
        let offset = {
            let mut index = self.shared.index.lock();
            for s in &staged {
                match s {
                    Staged::Events { stream, locs, .. } => {
                        index.push(stream, locs.iter().copied());
                    }
                    Staged::Delete { stream, to_seq, .. } => index.delete_to(stream, *to_seq),
                }
            }
            index.highest_offset()
        };
        {
            let mut stats = self.shared.stats.lock();
            stats.batches += 1;
            for s in &staged {
                if let Staged::Events { locs, .. } = s {
                    stats.appends += 1;
                    stats.events += locs.len() as u64;
                }
            }
        }
        crate::persist::memory::notify(&self.shared.listeners, offset);
        for s in staged {
            match s {
                Staged::Events { highest, done, .. } => done(Ok(highest)),
                Staged::Delete { done, .. } => done(Ok(())),
            }
        }
    }
}

/// Creates segment `n` with a synced header and a synced directory entry.
pub(crate) fn create_segment(
    storage: &dyn Storage,
    dir: &std::path::Path,
    n: u64,
) -> Result<(Box<dyn StorageFile>, u64), JournalError> {
    let path = segment::path(dir, n, "journal");
    let mut file = storage
        .create(&path)
        .map_err(|e| JournalError::io("create", &path, &e))?;
    file.write_all(&segment::header(JOURNAL_MAGIC))
        .map_err(|e| JournalError::io("write", &path, &e))?;
    file.sync_data()
        .map_err(|e| JournalError::io("fsync", &path, &e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| JournalError::io("fsync", dir, &e))?;
    Ok((file, n))
}
