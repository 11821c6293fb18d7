//! [`FileJournal`]: a crash-safe journal in append-only segment files.
//!
//! # On disk
//! A directory holds a `LOCK` file (see `lock.rs`) and segments named
//! `<number>.journal`, each opening with a header (magic and format version)
//! followed by framed records (length, CRC-32, body; see `frame.rs`). One
//! append is one record, so it is stored atomically. Deletions are marker
//! records. A segment that grows past the segment size is synced and sealed,
//! and the next append starts a new one.
//!
//! # Writing
//! One writer thread per journal owns the open segment; appenders hand it
//! requests through a queue (see `commit.rs`). It writes every request that
//! arrived while it was busy, syncs once, then has them all acknowledged:
//! group commit. A second thread of the journal, its completer, delivers
//! the acknowledgements (callbacks, listeners, blocked appenders) while the
//! writer already syncs the next batch. A caller of [`Journal::append`]
//! blocks for that; an actor uses [`Journal::append_with`] and hears back
//! through a message, never holding a pool worker across the fsync.
//!
//! # Reading
//! An in-memory index maps every acknowledged append to the place of its
//! record in a segment (one entry per append, not per event); reads take the
//! records from the files and the payloads from the records. Only
//! acknowledged events are ever read.

mod commit;
pub(crate) mod frame;
mod lock;
mod recovery;
mod segment;
mod storage;
mod writer;

pub(crate) use commit::{CommitQueue, complete};
#[cfg(loom)]
pub(crate) use commit::{Completer, Completion, Release, completion};
pub(crate) use frame::{Decoded, Record, decode, encode_snapshot};
pub(crate) use lock::DirLock;
pub use recovery::TornTail;
pub(crate) use recovery::scan;
pub(crate) use segment::{
    HEADER_LEN, SNAPSHOT_MAGIC, header as segment_header, path as segment_path, read_at,
};
pub use storage::{StdStorage, Storage, StorageFile};

use super::index::{Index, Slice};
use super::journal::{
    AppendDone, AppendListener, EventRef, EventVisitor, Journal, JournalError, PersistedEvent,
    check_stream,
};
use crate::sync::{Arc, Mutex, thread};
use commit::completion as oneshot;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use writer::{Reply, Request, Settled, Writer};

/// When the file journal forces appends to disk.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileJournal, FsyncPolicy, Journal};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-fsync-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
///
/// // Tests and rebuildable data: no fsync at all (not durable on a machine crash).
/// let journal = FileJournal::builder(&dir).fsync(FsyncPolicy::Never).open()?;
/// journal.append("cache-1", 0, vec![b"warm".to_vec()])?;
/// assert_eq!(journal.stats().syncs, 0);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// `fdatasync` after every append, before it is acknowledged: durable,
    /// one sync per append.
    EveryAppend,
    /// `fdatasync` before acknowledging, shared by every append that arrived
    /// while the previous sync ran: as durable as `EveryAppend`, far fewer
    /// syncs under concurrent writers. The default.
    #[default]
    GroupCommit,
    /// Never sync appends (only a segment being sealed and a new segment's
    /// header): acknowledged appends sit in the OS page cache and **are lost
    /// if the machine crashes** (a process crash alone loses nothing). Not
    /// durable; for tests and data that can be rebuilt.
    Never,
}

/// What a [`FileJournal`] has done since it was opened.
///
/// `appends / syncs` is how many appends shared each fsync: about 1 under
/// [`FsyncPolicy::EveryAppend`], more under [`FsyncPolicy::GroupCommit`]
/// with concurrent writers.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileJournal, Journal};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-stats-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
///
/// let journal = FileJournal::open(&dir)?;
/// journal.append("a", 0, vec![vec![1], vec![2]])?;
/// journal.append("b", 0, vec![vec![3]])?;
/// let s = journal.stats();
/// assert_eq!((s.appends, s.events), (2, 3));
/// assert!(s.syncs >= 1); // group commit: at most one per batch
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileJournalStats {
    /// Appends acknowledged (each one atomic, of one or more events).
    pub appends: u64,
    /// Events acknowledged.
    pub events: u64,
    /// Batches the writer committed (each ended by at most one sync).
    pub batches: u64,
    /// `fdatasync` calls on segments, sealing ones included.
    pub syncs: u64,
    /// Segments created.
    pub segments_created: u64,
}

/// Where the record of one append is: segment number, byte position and
/// length of its frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    segment: u64,
    pos: u64,
    len: u32,
}

/// Events to read: `n` events of one record, `skip` events into it.
struct Wanted {
    stream: Arc<str>,
    first_seq: u64,
    first_offset: u64,
    skip: u64,
    n: u64,
    loc: Loc,
}

impl Wanted {
    fn from_slice(s: &Slice<'_, Loc>) -> Wanted {
        Wanted {
            stream: Arc::clone(s.stream),
            first_seq: s.run.first_seq,
            first_offset: s.run.first_offset,
            skip: s.skip,
            n: s.n,
            loc: s.run.item,
        }
    }
}

/// What the journal's handle and its writer thread share.
pub(crate) struct Shared {
    dir: PathBuf,
    index: Mutex<Index<Loc>>,
    listeners: Mutex<Vec<Arc<AppendListener>>>,
    readers: Mutex<HashMap<u64, Arc<File>>>,
    /// Read buffers kept between reads, so a replay's batches reuse warm
    /// memory instead of allocating (and faulting in) a large buffer each.
    spans: Mutex<Vec<Vec<u8>>>,
    stats: Mutex<FileJournalStats>,
    /// Held as long as the writer thread may write, which can outlive the
    /// handle (see `Drop for FileJournal`).
    _lock: DirLock,
}

/// The default segment size: 64 MiB.
///
/// # Examples
///
/// ```
/// use playhouse::persist::DEFAULT_SEGMENT_SIZE;
///
/// assert_eq!(DEFAULT_SEGMENT_SIZE, 64 * 1024 * 1024);
/// ```
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;

/// Opens a [`FileJournal`] with settings.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileJournal, FsyncPolicy, Journal};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-fj-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let journal = FileJournal::builder(&dir)
///     .fsync(FsyncPolicy::EveryAppend)
///     .segment_size(1 << 20)
///     .open()?;
/// journal.append("order-7", 0, vec![b"placed".to_vec()])?;
/// drop(journal);
///
/// let journal = FileJournal::open(&dir)?;
/// assert_eq!(journal.highest_seq("order-7")?, 1);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug)]
pub struct FileJournalBuilder {
    dir: PathBuf,
    segment_size: u64,
    policy: FsyncPolicy,
    storage: Arc<dyn Storage>,
}

impl FileJournalBuilder {
    /// Starts a new segment once one would grow past `bytes` (at least 1;
    /// an append larger than that gets a segment of its own).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, Journal};
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-segsize-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// // Tiny segments: every append starts a new file.
    /// let journal = FileJournal::builder(&dir).segment_size(16).open()?;
    /// for seq in 0..3 {
    ///     journal.append("s", seq, vec![vec![0; 32]])?;
    /// }
    /// let files = std::fs::read_dir(&dir).unwrap()
    ///     .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "journal"))
    ///     .count();
    /// assert_eq!(files, 3);
    /// assert_eq!(journal.read("s", 1, u64::MAX, 10)?.len(), 3); // reads span files
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// When appends are synced (default [`FsyncPolicy::GroupCommit`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, FsyncPolicy, Journal};
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-everyappend-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// let journal = FileJournal::builder(&dir).fsync(FsyncPolicy::EveryAppend).open()?;
    /// journal.append("s", 0, vec![vec![1]])?; // on disk when this returns
    /// journal.append("s", 1, vec![vec![2]])?;
    /// assert!(journal.stats().syncs >= 2);
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn fsync(mut self, policy: FsyncPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Writes through `storage` instead of [`StdStorage`] (to inject faults).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, Journal, StdStorage};
    /// use std::sync::Arc;
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-storage-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// // StdStorage is the default; a storage of your own can inject faults (see `Storage`).
    /// let journal = FileJournal::builder(&dir).storage(Arc::new(StdStorage)).open()?;
    /// journal.append("s", 0, vec![vec![1]])?;
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = storage;
        self
    }

    /// Opens (creating if needed) and recovers the journal, then starts its
    /// writer and completer threads.
    ///
    /// # Errors
    /// [`JournalError::Config`] for a zero segment size or a path that is not
    /// a directory, [`JournalError::Locked`] if another journal has it open,
    /// [`JournalError::Corruption`] for a damaged record before the tail,
    /// [`JournalError::Io`] for I/O failures (an unwritable directory).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, JournalError};
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-builderopen-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// assert!(matches!(FileJournal::builder(&dir).segment_size(0).open(), Err(JournalError::Config { .. })));
    /// let journal = FileJournal::builder(&dir).open()?;
    /// assert!(matches!(FileJournal::builder(&dir).open(), Err(JournalError::Locked { .. })));
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn open(self) -> Result<FileJournal, JournalError> {
        if self.segment_size == 0 {
            return Err(JournalError::Config {
                setting: "segment_size",
                reason: "must be at least 1".into(),
            });
        }
        let dir = self.dir;
        if dir.exists() && !dir.is_dir() {
            return Err(JournalError::Config {
                setting: "dir",
                reason: format!("{} is not a directory", dir.display()),
            });
        }
        std::fs::create_dir_all(&dir).map_err(|e| JournalError::io("create dir", &dir, &e))?;
        let lock = DirLock::acquire(&dir)?;

        let mut index = Index::default();
        let scanned = scan(
            &dir,
            "journal",
            segment::JOURNAL_MAGIC,
            |n, path, pos, record, frame| apply(&mut index, n, path, pos, record, frame.len()),
        )?;
        let (file, seg_n, seg_len) = match scanned.last {
            Some((n, path, len)) => {
                let file = self
                    .storage
                    .open_append(&path)
                    .map_err(|e| JournalError::io("open", &path, &e))?;
                (file, n, len)
            }
            None => {
                let (file, n) = writer::create_segment(&*self.storage, &dir, 1)?;
                (file, n, HEADER_LEN as u64)
            }
        };
        let shared = Arc::new(Shared {
            dir,
            index: Mutex::new(index),
            listeners: Mutex::new(Vec::new()),
            readers: Mutex::new(HashMap::new()),
            spans: Mutex::new(Vec::new()),
            stats: Mutex::new(FileJournalStats::default()),
            _lock: lock,
        });
        let settled = Arc::new(commit::CommitQueue::<Settled>::new());
        let writer = Writer {
            shared: Arc::clone(&shared),
            settled: Arc::clone(&settled),
            storage: self.storage,
            policy: self.policy,
            segment_size: self.segment_size,
            file,
            seg_n,
            seg_len,
            failed: None,
            buf: Vec::new(),
            last_sync: std::time::Duration::ZERO,
            pending: Vec::new(),
            touched: Vec::new(),
        };
        let queue = Arc::new(commit::CommitQueue::new());
        let q = Arc::clone(&queue);
        let handle = thread::spawn(move || writer.run(&q));
        let s = Arc::clone(&shared);
        let completer = thread::spawn(move || complete(&settled, |b| b.deliver(&s.listeners)));
        Ok(FileJournal {
            shared,
            queue,
            #[cfg(not(loom))]
            own_ids: [handle.thread().id(), completer.thread().id()],
            threads: Mutex::new(vec![handle, completer]),
            torn: scanned.torn,
        })
    }
}

/// Adds one recovered record to the index, checking that it continues its
/// stream and the global order exactly.
fn apply(
    index: &mut Index<Loc>,
    segment: u64,
    path: &Path,
    pos: u64,
    record: Record,
    frame_len: usize,
) -> Result<(), JournalError> {
    let corrupt = |reason: String| JournalError::Corruption {
        file: path.to_owned(),
        offset: pos,
        reason,
    };
    match record {
        Record::Events {
            stream,
            first_seq,
            first_offset,
            count,
        } => {
            let highest = index.highest(&stream);
            if first_seq != highest + 1 {
                return Err(corrupt(format!(
                    "stream {stream:?} continues at seq {first_seq} after {highest}"
                )));
            }
            if first_offset != index.highest_offset() + 1 {
                return Err(corrupt(format!(
                    "global offset {first_offset} after {}",
                    index.highest_offset()
                )));
            }
            let len = u32::try_from(frame_len).expect("a frame is at most MAX_BODY long");
            index.push(&stream, count, Loc { segment, pos, len });
        }
        Record::Delete { stream, to_seq } => index.delete_to(&stream, to_seq),
        Record::Snapshot { .. } => return Err(corrupt("a snapshot record in the journal".into())),
    }
    Ok(())
}

/// A [`Journal`] in append-only segment files in one directory, with
/// checksummed records, an [`FsyncPolicy`], crash recovery and a
/// one-writer lock. See the module docs of `playhouse::persist` for the
/// guarantees.
///
/// Opening scans and checks every record, and keeps an index entry per
/// append in memory (about 60 bytes, however many events the append held),
/// so both grow with the journal; deleted events stay on disk (there is no
/// compaction).
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileJournal, Journal};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-fj2-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let journal = FileJournal::open(&dir)?;
/// journal.append("cart-1", 0, vec![b"add apple".to_vec(), b"add pear".to_vec()])?;
/// // A second writer on the same directory is refused.
/// assert!(FileJournal::open(&dir).is_err());
/// let events = journal.read("cart-1", 1, u64::MAX, 100)?;
/// assert_eq!(events[1].payload, b"add pear");
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
pub struct FileJournal {
    shared: Arc<Shared>,
    queue: Arc<commit::CommitQueue<Request>>,
    /// The writer, then the completer: joined in that order on drop.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// The writer's and the completer's thread, which must never wait for
    /// themselves.
    #[cfg(not(loom))]
    own_ids: [std::thread::ThreadId; 2],
    torn: Option<TornTail>,
}

impl FileJournal {
    /// Settings for a journal in `dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, FsyncPolicy};
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-builder-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// let journal = FileJournal::builder(&dir).fsync(FsyncPolicy::GroupCommit).open()?;
    /// assert_eq!(journal.dir(), dir.as_path());
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn builder(dir: impl AsRef<Path>) -> FileJournalBuilder {
        FileJournalBuilder {
            dir: dir.as_ref().to_owned(),
            segment_size: DEFAULT_SEGMENT_SIZE,
            policy: FsyncPolicy::default(),
            storage: Arc::new(StdStorage),
        }
    }

    /// Opens the journal in `dir` with the default settings.
    ///
    /// # Errors
    /// As [`FileJournalBuilder::open`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, Journal};
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-reopen-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// {
    ///     let journal = FileJournal::open(&dir)?;
    ///     journal.append("s", 0, vec![b"one".to_vec(), b"two".to_vec()])?;
    /// } // dropped: its writer thread finishes and the lock is released
    /// let journal = FileJournal::open(&dir)?; // recovers what was acknowledged
    /// assert_eq!(journal.highest_seq("s")?, 2);
    /// assert_eq!(journal.highest_offset(), 2);
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<FileJournal, JournalError> {
        FileJournal::builder(dir).open()
    }

    /// The torn tail recovery cut off when opening, if there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, Journal};
    /// use std::io::Write;
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-torn-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// let journal = FileJournal::open(&dir)?;
    /// journal.append("s", 0, vec![b"kept".to_vec()])?;
    /// assert!(journal.torn_tail().is_none());
    /// drop(journal);
    /// // A crash in the middle of a write leaves a partial record at the end.
    /// let segment = std::fs::read_dir(&dir).unwrap()
    ///     .map(|e| e.unwrap().path())
    ///     .find(|p| p.extension().is_some_and(|x| x == "journal"))
    ///     .expect("a segment");
    /// std::fs::OpenOptions::new().append(true).open(&segment).unwrap().write_all(&[0x2a; 5]).unwrap();
    ///
    /// let journal = FileJournal::open(&dir)?;
    /// let torn = journal.torn_tail().expect("cut off");
    /// assert_eq!(torn.dropped, 5);
    /// assert_eq!(journal.highest_seq("s")?, 1); // the acknowledged event is intact
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// Refuses a blocking call from the journal's own threads (a listener or
    /// an `append_with` callback runs on the completer), which would wait for
    /// itself for ever.
    fn refuse_writer_thread(&self) -> Result<(), JournalError> {
        #[cfg(not(loom))]
        if self.own_ids.contains(&std::thread::current().id()) {
            return Err(JournalError::WouldBlockWriter);
        }
        Ok(())
    }

    /// What the journal has done since it was opened.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, Journal};
    /// use std::sync::Arc;
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-stats2-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// let journal = Arc::new(FileJournal::open(&dir)?);
    /// let writers: Vec<_> = (0..4)
    ///     .map(|i| {
    ///         let j = Arc::clone(&journal);
    ///         std::thread::spawn(move || j.append(&format!("s{i}"), 0, vec![vec![i]]))
    ///     })
    ///     .collect();
    /// for w in writers {
    ///     w.join().unwrap()?;
    /// }
    /// let s = journal.stats();
    /// assert_eq!(s.appends, 4);
    /// assert!(s.syncs <= 4); // concurrent appends may share a sync
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn stats(&self) -> FileJournalStats {
        *self.shared.stats.lock()
    }

    /// The journal's directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::FileJournal;
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-dirget-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// let journal = FileJournal::open(&dir)?;
    /// assert!(journal.dir().ends_with(dir.file_name().unwrap()));
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    fn submit(&self, req: Request) {
        if let Err(req) = self.queue.submit(req) {
            match req {
                Request::Append { done, .. } => done.send(Err(JournalError::Closed)),
                Request::Delete { done, .. } => done(Err(JournalError::Closed)),
            }
        }
    }

    /// Lends the events `wanted` names to `visit`, in order, until it
    /// breaks; how many it saw. Neighbouring records in one segment (appends
    /// written one after the other) are read with one call into one buffer,
    /// so a replay reads its stream in large sequential chunks, and payloads
    /// are lent straight from that buffer: nothing is allocated per event.
    fn events(
        &self,
        wanted: &[Wanted],
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        /// How many read buffers are kept, and the largest kept.
        const KEEP: usize = 4;
        const KEEP_LEN: usize = 1 << 20;
        let mut buf = self.shared.spans.lock().pop().unwrap_or_default();
        let read = self.fill(wanted, &mut buf, visit);
        if buf.capacity() <= KEEP_LEN {
            let mut spans = self.shared.spans.lock();
            if spans.len() < KEEP {
                spans.push(buf);
            }
        }
        read
    }

    /// Reads the events `wanted` names through `buf` and lends them to
    /// `visit` (no lock of the journal is held while it runs).
    fn fill(
        &self,
        wanted: &[Wanted],
        buf: &mut Vec<u8>,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        /// The most bytes one read covers (unless one record is larger),
        /// and the widest gap between records it bridges.
        const SPAN: u64 = 256 << 10;
        const GAP: u64 = 4 << 10;
        let mut seen = 0;
        let mut i = 0;
        while i < wanted.len() {
            let first = wanted[i].loc;
            let mut end = first.pos + u64::from(first.len);
            let mut j = i + 1;
            while j < wanted.len() {
                let l = wanted[j].loc;
                let l_end = l.pos + u64::from(l.len);
                if l.segment != first.segment
                    || l.pos < end
                    || l.pos - end > GAP
                    || l_end - first.pos > SPAN
                {
                    break;
                }
                end = l_end;
                j += 1;
            }
            let path = segment::path(&self.shared.dir, first.segment, "journal");
            let file = self.reader(first.segment, &path)?;
            buf.resize((end - first.pos) as usize, 0);
            segment::read_into(&file, first.pos, buf)
                .map_err(|e| JournalError::io("read", &path, &e))?;
            for w in &wanted[i..j] {
                let at = (w.loc.pos - first.pos) as usize;
                let frame = &buf[at..at + w.loc.len as usize];
                let changed = || JournalError::Corruption {
                    file: path.clone(),
                    offset: w.loc.pos,
                    reason: "record changed on disk since the journal opened".into(),
                };
                let mut payloads = frame::event_payloads(frame).ok_or_else(changed)?;
                for k in 0..w.n {
                    let payload = match k {
                        0 => payloads.nth(w.skip as usize),
                        _ => payloads.next(),
                    }
                    .ok_or_else(changed)?;
                    seen += 1;
                    let event = EventRef {
                        stream: &w.stream,
                        seq: w.first_seq + w.skip + k,
                        offset: w.first_offset + w.skip + k,
                        payload,
                    };
                    if visit(event).is_break() {
                        return Ok(seen);
                    }
                }
            }
            i = j;
        }
        Ok(seen)
    }

    /// The events `wanted` names, copied out.
    fn owned(&self, wanted: &[Wanted]) -> Result<Vec<PersistedEvent>, JournalError> {
        let mut out = Vec::with_capacity(wanted.iter().map(|w| w.n as usize).sum());
        self.events(wanted, &mut |e| {
            out.push(e.to_owned());
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// What the index holds of `stream` between `from` and `to`, at most `max`.
    fn wanted(&self, stream: &str, from: u64, to: u64, max: usize) -> Vec<Wanted> {
        self.shared
            .index
            .lock()
            .read(stream, from, to, max)
            .iter()
            .map(Wanted::from_slice)
            .collect()
    }

    /// What the index holds from global offset `from`, at most `max`.
    fn wanted_all(&self, from: u64, max: usize) -> Vec<Wanted> {
        self.shared
            .index
            .lock()
            .read_all(from, max)
            .iter()
            .map(Wanted::from_slice)
            .collect()
    }

    fn reader(&self, segment: u64, path: &Path) -> Result<Arc<File>, JournalError> {
        let mut readers = self.shared.readers.lock();
        if let Some(f) = readers.get(&segment) {
            return Ok(Arc::clone(f));
        }
        let f = Arc::new(File::open(path).map_err(|e| JournalError::io("open", path, &e))?);
        readers.insert(segment, Arc::clone(&f));
        Ok(f)
    }
}

impl fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileJournal")
            .field("dir", &self.shared.dir)
            .field("highest_offset", &self.highest_offset())
            .finish()
    }
}

impl Drop for FileJournal {
    fn drop(&mut self) {
        // The writer drains what was accepted, hands it to the completer and
        // closes the completer's queue; the completer delivers it all and
        // exits. Neither waits for the other to exit, so the last handle may
        // go with a callback run on the completer: that thread then skips
        // joining itself and drains and exits on its own.
        self.queue.close();
        let threads = std::mem::take(&mut *self.threads.lock());
        for h in threads {
            #[cfg(not(loom))]
            if h.thread().id() == thread::current().id() {
                continue;
            }
            let _ = h.join();
        }
    }
}

impl Journal for FileJournal {
    fn append(
        &self,
        stream: &str,
        expected_seq: u64,
        events: Vec<Vec<u8>>,
    ) -> Result<u64, JournalError> {
        self.refuse_writer_thread()?;
        check_stream(stream)?;
        let (frame, count) = writer::frame_append(stream, expected_seq, &events)?;
        drop(events);
        let (tx, rx) = oneshot();
        self.submit(Request::Append {
            frame,
            count,
            expected: expected_seq,
            done: Reply::Wait(tx),
        });
        rx.wait().map_or(Err(JournalError::Closed), |(r, _frame)| r)
    }

    fn append_with(&self, stream: &str, expected_seq: u64, events: Vec<Vec<u8>>, done: AppendDone) {
        let framed =
            check_stream(stream).and_then(|()| writer::frame_append(stream, expected_seq, &events));
        drop(events);
        let (frame, count) = match framed {
            Ok(framed) => framed,
            Err(e) => return done(Err(e)),
        };
        self.submit(Request::Append {
            frame,
            count,
            expected: expected_seq,
            done: Reply::Call(done),
        });
    }

    fn read(
        &self,
        stream: &str,
        from: u64,
        to: u64,
        max: usize,
    ) -> Result<Vec<PersistedEvent>, JournalError> {
        check_stream(stream)?;
        self.owned(&self.wanted(stream, from, to, max))
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
        self.events(&self.wanted(stream, from, to, max), visit)
    }

    fn highest_seq(&self, stream: &str) -> Result<u64, JournalError> {
        check_stream(stream)?;
        Ok(self.shared.index.lock().highest(stream))
    }

    fn delete_to(&self, stream: &str, seq: u64) -> Result<(), JournalError> {
        check_stream(stream)?;
        self.refuse_writer_thread()?;
        let (tx, rx) = oneshot();
        self.submit(Request::Delete {
            stream: stream.to_owned(),
            to_seq: seq,
            done: Box::new(move |r| tx.complete(r)),
        });
        rx.wait().unwrap_or(Err(JournalError::Closed))
    }

    fn read_all(&self, from: u64, max: usize) -> Result<Vec<PersistedEvent>, JournalError> {
        self.owned(&self.wanted_all(from, max))
    }

    fn read_all_with(
        &self,
        from: u64,
        max: usize,
        visit: &mut EventVisitor<'_>,
    ) -> Result<usize, JournalError> {
        self.events(&self.wanted_all(from, max), visit)
    }

    fn highest_offset(&self) -> u64 {
        self.shared.index.lock().highest_offset()
    }

    fn subscribe(&self, listener: AppendListener) {
        self.shared.listeners.lock().push(Arc::new(listener));
    }
}
