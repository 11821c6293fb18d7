//! The file journal's writer thread: the one place that appends to segments.
//!
//! It takes batches from the [`CommitQueue`], checks each append's expected
//! seq against the index plus the earlier appends of the batch, frames the
//! whole batch into one buffer and writes it with one call (two if the
//! segment rotates in between), syncs once per batch (per the
//! [`FsyncPolicy`]), and only then publishes the batch to the index and
//! hands the batch's outcomes, in batch order, to the journal's completer
//! thread as one [`Settled`]. The completer tells the listeners and runs the
//! callbacks and wakes the blocked appenders (through one [`Release`] per
//! batch) while the writer already writes and syncs the next batch: the
//! commit cycle is pipelined, so a batch's completions never delay the next
//! sync. Before taking a batch it may yield for a bounded while to blocked
//! appenders of the batch before last, still on their way back (see
//! `run`). A failed write or sync fails the whole unpublished batch and every
//! later request: nothing is acknowledged that was not synced, and nothing
//! is retried into a false success.
//!
//! # Invariants
//! - A batch is published to the index only after its sync returned `Ok`,
//!   and the completer hears of it only after that: reads, the highest seq,
//!   the listeners and every acknowledgement see durable appends only.
//! - The completer delivers settled batches in the order the writer settled
//!   them, and each batch's outcomes in batch order, so the outcomes of one
//!   stream arrive in seq order and the listeners see offsets rising.
//! - Once a batch failed, every later request fails: its `Settled` follows
//!   the failed one, so nothing after a failure is acknowledged.

use super::commit::{CommitQueue, Completer, Release};
use super::frame;
use super::segment::{self, HEADER_LEN, JOURNAL_MAGIC};
use super::storage::{Storage, StorageFile};
use super::{FsyncPolicy, Loc, Shared};
use crate::persist::journal::{AppendDone, AppendListener, JournalError};
use crate::sync::{Arc, Mutex, thread};
use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// How an append's outcome reaches its caller.
pub(crate) enum Reply {
    /// A thread blocked in [`Journal::append`](crate::persist::Journal::append).
    Wait(Completer<Outcome>),
    /// A callback ([`Journal::append_with`](crate::persist::Journal::append_with)).
    Call(AppendDone),
}

/// A blocked appender's outcome, and its frame handed back with it: the
/// frame's buffer is freed on the appender's thread, not the journal's.
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
    /// This request's outcome: failed by `e`.
    fn failed(self, e: JournalError) -> Answer {
        match self {
            Request::Append { frame, done, .. } => Answer::Append {
                done,
                result: Err(e),
                frame,
            },
            Request::Delete { done, .. } => Answer::Delete {
                done,
                result: Err(e),
            },
        }
    }
}

/// A request's outcome, settled by the writer, for the completer to deliver.
enum Answer {
    Append {
        done: Reply,
        result: Result<u64, JournalError>,
        /// Handed back to a blocked appender, freed on its thread.
        frame: Vec<u8>,
    },
    Delete {
        done: Box<dyn FnOnce(Result<(), JournalError>) + Send>,
        result: Result<(), JournalError>,
    },
}

/// One batch's outcomes, in batch order, as the writer hands them to the
/// completer: the global offset the batch published (to tell the
/// listeners), if it published any, and each request's answer.
pub(crate) struct Settled {
    published: Option<u64>,
    answers: Vec<Answer>,
}

impl Settled {
    /// Tells the listeners, then delivers every answer in batch order: the
    /// callbacks one by one, the blocked appenders through one [`Release`].
    /// A panicking callback or listener is logged and does not keep the
    /// answers after it from being delivered.
    pub(crate) fn deliver(self, listeners: &Mutex<Vec<Arc<AppendListener>>>) {
        if let Some(offset) = self.published {
            guarded("an append listener", || {
                crate::persist::memory::notify(listeners, offset)
            });
        }
        let mut replies = Replies::with_capacity(self.answers.len());
        for answer in self.answers {
            match answer {
                Answer::Append {
                    done: Reply::Wait(c),
                    result,
                    frame,
                } => replies.push(c, (result, frame)),
                Answer::Append {
                    done: Reply::Call(f),
                    result,
                    ..
                } => guarded("an append_with callback", move || f(result)),
                Answer::Delete { done, result } => {
                    guarded("a delete callback", move || done(result))
                }
            }
        }
        replies.release();
    }
}

/// Runs user code (a callback, a listener) on the completer, logging a
/// panic instead of letting it end the thread with answers undelivered.
fn guarded(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        log::error!("file journal: {what} panicked");
    }
}

impl fmt::Debug for Settled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Settled({} answers)", self.answers.len())
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

/// A request of the batch being committed: written and not yet published,
/// or already answered (a conflict, a refusal), kept in its place so the
/// batch's answers go out in batch order.
enum Staged {
    Answered(Answer),
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
    /// Where settled batches go to be delivered (see [`Settled`]); closed
    /// by the writer when it exits.
    pub(crate) settled: Arc<CommitQueue<Settled>>,
    /// How long the last batch's sync took.
    pub(crate) last_sync: Duration,
    /// Per stream id: its highest seq after the appends of the batch being
    /// formed, if it has any there; `None` past each batch (the ids set
    /// are in `touched`, cleared at the next batch's start).
    pub(crate) pending: Vec<Option<u64>>,
    pub(crate) touched: Vec<u32>,
}

/// The longest the writer waits for appenders to come back (see `run`).
const MAX_GATHER: Duration = Duration::from_micros(250);

/// A batch buffer that grew past this (a very large append) is not kept.
const KEEP_BUF: usize = 4 << 20;

impl Writer {
    pub(crate) fn run(mut self, queue: &CommitQueue<Request>) {
        let max = match self.policy {
            FsyncPolicy::EveryAppend => 1,
            FsyncPolicy::GroupCommit | FsyncPolicy::Never => 1024,
        };
        // How many blocked appenders the batch before last and the last one
        // held.
        let mut blocked = [0, 0];
        loop {
            // The batch before last was answered while the last one synced.
            // A blocked appender it held comes back only after a wake-up and
            // a context switch, relayed through the others (see `Release`),
            // which on few CPUs can outlast a sync: wait for them for at most
            // half as long as a sync takes, yielding (never blocking), so
            // their batch does not split up for good. Callbacks come back
            // through a queue push within the sync, so a batch of callbacks
            // is not waited for.
            let want = blocked[0].min(max);
            if want > 1 {
                let until = Instant::now() + (self.last_sync / 2).min(MAX_GATHER);
                while queue.queued().is_some_and(|n| n < want) && Instant::now() < until {
                    thread::yield_now();
                }
            }
            let Some(batch) = queue.take(max) else { break };
            let waits = batch
                .iter()
                .filter(|r| {
                    matches!(
                        r,
                        Request::Append {
                            done: Reply::Wait(_),
                            ..
                        }
                    )
                })
                .count();
            blocked = [blocked[1], waits];
            let settled = self.commit(batch);
            self.hand_off(settled);
        }
        self.settled.close();
    }

    /// Hands a settled batch to the completer.
    fn hand_off(&self, settled: Settled) {
        if settled.answers.is_empty() {
            return;
        }
        // The writer closes `settled` only as it exits, so this is refused
        // only if that invariant breaks; the answers are delivered here then
        // rather than lost.
        if let Err(settled) = self.settled.submit(settled) {
            settled.deliver(&self.shared.listeners);
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

    /// Checks, writes and syncs `batch`, publishes what it stored, and
    /// returns its answers; it delivers none itself.
    fn commit(&mut self, batch: Vec<Request>) -> Settled {
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
        // How many of `staged` were written (not answered at once).
        let mut written = 0;
        for (req, known) in batch.into_iter().zip(known) {
            if let Some(cause) = &self.failed {
                let e = batch_error.clone().unwrap_or(JournalError::Failed {
                    cause: cause.clone(),
                });
                staged.push(Staged::Answered(req.failed(e)));
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
                            staged.push(Staged::Answered(req.failed(JournalError::EmptyStreamId)));
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
                        let result = Err(JournalError::Conflict {
                            stream: stream_of(&frame).to_owned(),
                            expected,
                            actual,
                        });
                        staged.push(Staged::Answered(Answer::Append {
                            done,
                            result,
                            frame,
                        }));
                        continue;
                    }
                    if count == 0 {
                        staged.push(Staged::Answered(Answer::Append {
                            done,
                            result: Ok(expected),
                            frame,
                        }));
                        continue;
                    }
                    let len = frame.len();
                    let (segment, pos) = match self.place(len) {
                        Ok(at) => at,
                        Err(e) => {
                            batch_error = Some(e.clone());
                            staged.push(Staged::Answered(Answer::Append {
                                done,
                                result: Err(e),
                                frame,
                            }));
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
                    written += 1;
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
                        let result = Err(JournalError::TooLarge { what: "stream id" });
                        staged.push(Staged::Answered(Answer::Delete { done, result }));
                        continue;
                    }
                    match self.stage_frame(&buf) {
                        Ok(_) => {
                            written += 1;
                            staged.push(Staged::Delete {
                                stream,
                                to_seq,
                                done,
                            })
                        }
                        Err(e) => {
                            batch_error = Some(e.clone());
                            let result = Err(e);
                            staged.push(Staged::Answered(Answer::Delete { done, result }));
                        }
                    }
                }
            }
        }
        if written == 0 {
            return Settled {
                published: None,
                answers: staged.into_iter().map(Staged::answered).collect(),
            };
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
            // Nothing of this batch is published or acknowledged: its writes
            // may or may not be on disk, and a reopen replays what is.
            let e = batch_error.unwrap_or(JournalError::Failed {
                cause: cause.clone(),
            });
            let answers = staged.into_iter().map(|s| s.fail(&e)).collect();
            return Settled {
                published: None,
                answers,
            };
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
                    Staged::Answered(_) => {}
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
        Settled {
            published: Some(offset),
            answers: staged.into_iter().map(Staged::answered).collect(),
        }
    }
}

impl Staged {
    /// The answer of a request whose batch was synced and published.
    fn answered(self) -> Answer {
        match self {
            Staged::Answered(a) => a,
            Staged::Events {
                highest,
                done,
                frame,
                ..
            } => Answer::Append {
                done,
                result: Ok(highest),
                frame,
            },
            Staged::Delete { done, .. } => Answer::Delete {
                done,
                result: Ok(()),
            },
        }
    }

    /// The answer of a request whose batch failed with `e` (one answered
    /// already keeps its answer).
    fn fail(self, e: &JournalError) -> Answer {
        match self {
            Staged::Answered(a) => a,
            Staged::Events { done, frame, .. } => Answer::Append {
                done,
                result: Err(e.clone()),
                frame,
            },
            Staged::Delete { done, .. } => Answer::Delete {
                done,
                result: Err(e.clone()),
            },
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
