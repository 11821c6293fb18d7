//! The file journal's writer thread: the one place that appends to segments.
//!
//! It takes batches from the [`CommitQueue`], checks each append's expected
//! seq against the index plus the earlier appends of the batch, frames the
//! whole batch into one buffer and writes it with one call (two if the
//! segment rotates in between), syncs once per batch (per the
//! [`FsyncPolicy`]), and only then publishes the batch to the index and
//! completes its requests (callbacks directly, blocked appenders through
//! one [`Release`] per batch). Between batches it gathers for at most half
//! its last sync's duration (see `commit.rs`). A failed write or sync fails
//! the whole unpublished batch and every later request: nothing is
//! acknowledged that was not synced, and nothing is retried into a false
//! success.

use super::commit::{CommitQueue, Completer, Release};
use super::frame;
use super::segment::{self, HEADER_LEN, JOURNAL_MAGIC};
use super::storage::{Storage, StorageFile};
use super::{FsyncPolicy, Loc, Shared};
use crate::persist::journal::{AppendDone, JournalError};
use crate::sync::Arc;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

/// How an append's outcome reaches its caller.
pub(crate) enum Reply {
    /// A thread blocked in [`Journal::append`](crate::persist::Journal::append).
    Wait(Completer<Result<u64, JournalError>>),
    /// A callback ([`Journal::append_with`](crate::persist::Journal::append_with)).
    Call(AppendDone),
}

/// The blocked appenders of one batch, woken together (see [`Release`]).
type Replies = Release<Result<u64, JournalError>>;

impl Reply {
    /// Hands `r` over now.
    pub(crate) fn send(self, r: Result<u64, JournalError>) {
        match self {
            Reply::Wait(c) => c.complete(r),
            Reply::Call(f) => f(r),
        }
    }

    /// Hands `r` over: a callback now, a blocked appender when `replies`
    /// is released.
    fn send_in(self, replies: &mut Replies, r: Result<u64, JournalError>) {
        match self {
            Reply::Wait(c) => replies.push(c, r),
            Reply::Call(f) => f(r),
        }
    }
}

/// What the writer does for a caller.
pub(crate) enum Request {
    Append {
        stream: String,
        expected: u64,
        events: Vec<Vec<u8>>,
        done: Reply,
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
            Request::Append { done, .. } => done.send(Err(e)),
            Request::Delete { done, .. } => done(Err(e)),
        }
    }
}

/// A written, not yet published request.
enum Staged {
    Events {
        stream: String,
        loc: Loc,
        count: u32,
        highest: u64,
        done: Reply,
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
    /// The frames of the batch being formed, not yet written; they go at
    /// `seg_len` of the open segment.
    pub(crate) buf: Vec<u8>,
    /// How long the last batch's sync took.
    pub(crate) last_sync: Duration,
}

/// The longest the writer waits for appenders to come back (see `run`):
/// long enough for a large batch's appenders to queue their next requests,
/// short enough that a writer whose appenders have gone idle yields for
/// only a moment before it parks.
const MAX_GATHER: Duration = Duration::from_micros(250);

/// A batch buffer that grew past this (a very large append) is not kept.
const KEEP_BUF: usize = 4 << 20;

impl Writer {
    pub(crate) fn run(mut self, queue: &CommitQueue<Request>) {
        let max = match self.policy {
            FsyncPolicy::EveryAppend => 1,
            FsyncPolicy::GroupCommit | FsyncPolicy::Never => 1024,
        };
        let mut last = 0;
        loop {
            // Wait for the last batch's appenders for at most half as long as
            // its sync took: when syncs are slow the next batch gathers them
            // all; when they are fast, waiting longer would leave the disk
            // idle while appenders still run.
            let until = Instant::now() + (self.last_sync / 2).min(MAX_GATHER);
            let Some(batch) = queue.take(max, last, || Instant::now() < until) else {
                break;
            };
            last = batch.len();
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

    /// Writes the buffered frames at the end of the open segment.
    fn flush(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.buf);
        let n = self.buf.len() as u64;
        self.buf.clear();
        if self.buf.capacity() > KEEP_BUF {
            self.buf = Vec::new();
        }
        match written {
            Ok(()) => {
                self.seg_len += n;
                Ok(())
            }
            Err(e) => {
                let path = self.seg_path();
                Err(self.fail(JournalError::io("write", path, &e)))
            }
        }
    }

    /// Makes room for a frame of `len` bytes (writing what is buffered and
    /// rotating first if the open segment would grow past the segment size)
    /// and returns where it goes: segment number and position.
    fn place(&mut self, len: usize) -> Result<(u64, u64), JournalError> {
        let end = self.seg_len + self.buf.len() as u64;
        if end > HEADER_LEN as u64 && end + len as u64 > self.segment_size {
            self.flush()?;
            self.rotate()?;
        }
        Ok((self.seg_n, self.seg_len + self.buf.len() as u64))
    }

    /// Appends one frame to the batch buffer and seals it for its position.
    fn stage_frame(&mut self, frame: &[u8]) -> Result<(u64, u64), JournalError> {
        let (segment, pos) = self.place(frame.len())?;
        let start = self.buf.len();
        self.buf.extend_from_slice(frame);
        frame::seal(&mut self.buf[start..], pos);
        Ok((segment, pos))
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
                        done.send(Err(JournalError::Conflict {
                            stream,
                            expected,
                            actual,
                        }));
                        continue;
                    }
                    if events.is_empty() {
                        done.send(Ok(expected));
                        continue;
                    }
                    let (Some(len), Ok(count)) = (
                        frame::events_frame_len(&stream, &events),
                        u32::try_from(events.len()),
                    ) else {
                        done.send(Err(JournalError::TooLarge { what: "append" }));
                        continue;
                    };
                    let (segment, pos) = match self.place(len) {
                        Ok(at) => at,
                        Err(e) => {
                            batch_error = Some(e.clone());
                            done.send(Err(e));
                            continue;
                        }
                    };
                    // Framed in place, straight into the batch buffer.
                    let start = self.buf.len();
                    frame::encode_events(
                        &stream,
                        expected + 1,
                        next_offset,
                        &events,
                        &mut self.buf,
                    )
                    .expect("sizes checked by events_frame_len");
                    frame::seal(&mut self.buf[start..], pos);
                    let highest = expected + events.len() as u64;
                    next_offset += events.len() as u64;
                    pending.insert(stream.clone(), highest);
                    staged.push(Staged::Events {
                        stream,
                        loc: Loc {
                            segment,
                            pos,
                            len: len as u32,
                        },
                        count,
                        highest,
                        done,
                    });
                }
                Request::Delete { to_seq, done, .. } => {
                    let to_seq = to_seq.min(actual);
                    let mut buf = Vec::new();
                    if frame::encode_delete(&stream, to_seq, &mut buf).is_none() {
                        done(Err(JournalError::TooLarge { what: "stream id" }));
                        continue;
                    }
                    match self.stage_frame(&buf) {
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
        if self.failed.is_none()
            && let Err(e) = self.flush()
        {
            batch_error = Some(e);
        }
        if self.failed.is_none() && self.policy != FsyncPolicy::Never {
            self.shared.stats.lock().syncs += 1;
            let started = Instant::now();
            let synced = self.file.sync_data();
            self.last_sync = started.elapsed();
            if let Err(e) = synced {
                let path = self.seg_path();
                batch_error = Some(self.fail(JournalError::io("fsync", path, &e)));
            }
        }
        if let Some(cause) = &self.failed {
            let e = batch_error.unwrap_or(JournalError::Failed {
                cause: cause.clone(),
            });
            let mut replies = Replies::new();
            for s in staged {
                match s {
                    Staged::Events { done, .. } => done.send_in(&mut replies, Err(e.clone())),
                    Staged::Delete { done, .. } => done(Err(e.clone())),
                }
            }
            replies.release();
            return;
        }
        let offset = {
            let mut index = self.shared.index.lock();
            for s in &staged {
                match s {
                    Staged::Events {
                        stream, loc, count, ..
                    } => {
                        index.push(stream, *count, *loc);
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
                if let Staged::Events { count, .. } = s {
                    stats.appends += 1;
                    stats.events += u64::from(*count);
                }
            }
        }
        crate::persist::memory::notify(&self.shared.listeners, offset);
        let mut replies = Replies::new();
        for s in staged {
            match s {
                Staged::Events { highest, done, .. } => done.send_in(&mut replies, Ok(highest)),
                Staged::Delete { done, .. } => done(Ok(())),
            }
        }
        replies.release();
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
