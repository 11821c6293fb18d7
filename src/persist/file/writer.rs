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
    Wait(Completer<Outcome>),
    /// A callback ([`Journal::append_with`](crate::persist::Journal::append_with)).
    Call(AppendDone),
}

/// A blocked appender's outcome, and its frame handed back with it: the
/// frame's buffer is freed on the appender's thread, not the writer's.
pub(crate) type Outcome = (Result<u64, JournalError>, Vec<u8>);

/// The blocked appenders of one batch, woken together (see [`Release`]).
type Replies = Release<Outcome>;

impl Reply {
    /// Hands `r` over now.
    pub(crate) fn send(self, r: Result<u64, JournalError>) {
        match self {
            Reply::Wait(c) => c.complete((r, Vec::new())),
            Reply::Call(f) => f(r),
        }
    }

    /// Hands `r` over: a callback now, a blocked appender (with `frame`)
    /// when `replies` is released.
    fn send_in(self, replies: &mut Replies, r: Result<u64, JournalError>, frame: Vec<u8>) {
        match self {
            Reply::Wait(c) => replies.push(c, (r, frame)),
            Reply::Call(f) => f(r),
        }
    }
}

/// What the writer does for a caller.
pub(crate) enum Request {
    /// An append, framed by its caller (see [`frame_append`]): the writer
    /// only checks its expected seq, fills in its global offset and
    /// checksum, and copies it into the batch.
    Append {
        frame: Vec<u8>,
        count: u32,
        expected: u64,
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
            Request::Append { frame, .. } => {
                write!(f, "Append({:?})", frame::events_stream(frame))
            }
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

/// Frames an append of `events` to `stream` expecting `expected` on the
/// caller's thread, so the writer's serial work per append stays small: the
/// frame (its global offset and checksum still to be filled in) and the
/// number of events.
pub(crate) fn frame_append(
    stream: &str,
    expected: u64,
    events: &[Vec<u8>],
) -> Result<(Vec<u8>, u32), JournalError> {
    let too_large = JournalError::TooLarge { what: "append" };
    let count = u32::try_from(events.len()).map_err(|_| too_large.clone())?;
    let mut frame = Vec::new();
    frame::encode_events(stream, expected.wrapping_add(1), 0, events, &mut frame)
        .ok_or(too_large)?;
    Ok((frame, count))
}

/// The stream of an append's frame (made by [`frame_append`], so always
/// there).
fn stream_of(frame: &[u8]) -> &str {
    frame::events_stream(frame).unwrap_or_default()
}

/// A written, not yet published request.
enum Staged {
    Events {
        /// The stream's id in the index, or its name if it is new.
        stream: StreamRef,
        frame: Vec<u8>,
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

/// A stream as the writer knows it within a batch.
enum StreamRef {
    /// Interned in the index before the batch.
    Id(u32),
    /// First appended to in this batch.
    New(Box<str>),
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
    /// Per stream id: its highest seq after the appends of the batch being
    /// formed, if it has any there; `None` past each batch (the ids set
    /// are in `touched`, cleared at the next batch's start).
    pub(crate) pending: Vec<Option<u64>>,
    pub(crate) touched: Vec<u32>,
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
        for id in self.touched.drain(..) {
            self.pending[id as usize] = None;
        }
        let mut staged = Vec::with_capacity(batch.len());
        // One look at the index for the whole batch: each request's stream
        // id and highest seq before the batch. They hold until the batch is
        // published: this thread is the index's only writer.
        let (mut next_offset, known) = {
            let index = self.shared.index.lock();
            let known: Vec<Option<(u32, u64)>> = batch
                .iter()
                .map(|req| {
                    let stream = match req {
                        Request::Append { frame, .. } => frame::events_stream(frame)?,
                        Request::Delete { stream, .. } => stream,
                    };
                    index.id(stream).map(|id| (id, index.highest_of(id)))
                })
                .collect();
            self.pending.resize(index.stream_count(), None);
            (index.highest_offset() + 1, known)
        };
        // The highest seq after the batch's earlier appends, of streams new
        // in this batch (those known go in `self.pending`).
        let mut fresh: HashMap<String, u64> = HashMap::new();
        let mut batch_error: Option<JournalError> = None;
        for (req, known) in batch.into_iter().zip(known) {
            if let Some(cause) = &self.failed {
                let e = batch_error.clone().unwrap_or(JournalError::Failed {
                    cause: cause.clone(),
                });
                req.fail(e);
                continue;
            }
            // Only a new stream is looked up by name: the others by id.
            let actual = match known {
                Some((id, hi)) => self.pending[id as usize].unwrap_or(hi),
                None => {
                    let name = match &req {
                        Request::Append { frame, .. } => frame::events_stream(frame),
                        Request::Delete { stream, .. } => Some(stream.as_str()),
                    };
                    match name {
                        Some(name) if !name.is_empty() => fresh.get(name).copied().unwrap_or(0),
                        _ => {
                            req.fail(JournalError::EmptyStreamId);
                            continue;
                        }
                    }
                }
            };
            match req {
                Request::Append {
                    frame,
                    count,
                    expected,
                    done,
                } => {
                    if actual != expected {
                        done.send(Err(JournalError::Conflict {
                            stream: stream_of(&frame).to_owned(),
                            expected,
                            actual,
                        }));
                        continue;
                    }
                    if count == 0 {
                        done.send(Ok(expected));
                        continue;
                    }
                    let len = frame.len();
                    let (segment, pos) = match self.place(len) {
                        Ok(at) => at,
                        Err(e) => {
                            batch_error = Some(e.clone());
                            done.send(Err(e));
                            continue;
                        }
                    };
                    let start = self.buf.len();
                    self.buf.extend_from_slice(&frame);
                    frame::set_first_offset(&mut self.buf[start..], next_offset);
                    frame::seal(&mut self.buf[start..], pos);
                    let highest = expected + u64::from(count);
                    next_offset += u64::from(count);
                    let stream = match known {
                        Some((id, _)) => {
                            if self.pending[id as usize].replace(highest).is_none() {
                                self.touched.push(id);
                            }
                            StreamRef::Id(id)
                        }
                        None => {
                            let name = stream_of(&frame);
                            fresh.insert(name.to_owned(), highest);
                            StreamRef::New(name.into())
                        }
                    };
                    staged.push(Staged::Events {
                        stream,
                        frame,
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
                Request::Delete {
                    stream,
                    to_seq,
                    done,
                } => {
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
            let mut replies = Replies::with_capacity(staged.len());
            for s in staged {
                match s {
                    Staged::Events { done, frame, .. } => {
                        done.send_in(&mut replies, Err(e.clone()), frame)
                    }
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
                        match stream {
                            StreamRef::Id(id) => index.push_id(*id, *count, *loc),
                            StreamRef::New(name) => index.push(name, *count, *loc),
                        };
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
        let mut replies = Replies::with_capacity(staged.len());
        for s in staged {
            match s {
                Staged::Events {
                    highest,
                    done,
                    frame,
                    ..
                } => done.send_in(&mut replies, Ok(highest), frame),
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
