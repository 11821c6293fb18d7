//! Snapshot stores: the latest states of event-sourced actors, so replay
//! need not start from the first event.

use super::codec::Codec;
use super::file::{CommitQueue, frame};
use super::file::{
    Decoded, HEADER_LEN, Record, SNAPSHOT_MAGIC, StdStorage, Storage, StorageFile, decode,
    encode_snapshot, scan, segment_header, segment_path,
};
use super::journal::{JournalError, check_stream};
use crate::sync::{Arc, Mutex, thread};
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

/// How many snapshots per stream a store keeps offering (older ones are
/// only fallbacks for a snapshot that no longer decodes).
const KEEP: usize = 3;

/// What is called with the outcome of a [`SnapshotStore::save_with`].
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemorySnapshotStore, SaveDone, SnapshotStore};
///
/// let store = MemorySnapshotStore::new();
/// let (tx, rx) = crossbeam_channel::bounded(1);
/// let done: SaveDone = Box::new(move |r| drop(tx.send(r)));
/// store.save_with("s", 3, b"state".to_vec(), done);
/// assert_eq!(rx.recv().unwrap(), Ok(()));
/// ```
pub type SaveDone = Box<dyn FnOnce(Result<(), JournalError>) + Send + 'static>;

/// One stored snapshot: the state after event `seq`, encoded.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemorySnapshotStore, Snapshot, SnapshotStore};
///
/// let store = MemorySnapshotStore::new();
/// store.save("s", 7, b"total=42".to_vec())?;
/// let newest: &Snapshot = &store.load("s")?[0];
/// assert_eq!((newest.seq, newest.payload.as_slice()), (7, &b"total=42"[..]));
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The sequence number of the last event folded into it.
    pub seq: u64,
    /// The encoded state.
    pub payload: Vec<u8>,
}

/// Where event-sourced actors keep snapshots of their state.
///
/// Replay starts from the newest snapshot that decodes, then reads the
/// events after it. A snapshot is an optimisation: losing one costs replay
/// time, never data, as long as the events after it are in the journal.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{JournalError, Snapshot, SnapshotStore};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// /// A store of your own: here, only the newest snapshot per stream.
/// #[derive(Default)]
/// struct Newest(Mutex<HashMap<String, Snapshot>>);
/// impl SnapshotStore for Newest {
///     fn save(&self, stream: &str, seq: u64, payload: Vec<u8>) -> Result<(), JournalError> {
///         self.0.lock().unwrap().insert(stream.to_string(), Snapshot { seq, payload });
///         Ok(())
///     }
///     fn load(&self, stream: &str) -> Result<Vec<Snapshot>, JournalError> {
///         Ok(self.0.lock().unwrap().get(stream).cloned().into_iter().collect())
///     }
/// }
///
/// let store = Newest::default();
/// store.save("s", 1, vec![1])?;
/// store.save("s", 2, vec![2])?;
/// assert_eq!(store.load("s")?.len(), 1);
/// # Ok::<(), JournalError>(())
/// ```
pub trait SnapshotStore: Send + Sync + 'static {
    /// Stores `payload` as the state of `stream` after event `seq`, durably.
    ///
    /// # Errors
    /// [`JournalError::EmptyStreamId`], or a storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{JournalError, MemorySnapshotStore, SnapshotStore};
    ///
    /// let store = MemorySnapshotStore::new();
    /// store.save("acct-1", 5, b"balance=10".to_vec())?;
    /// assert_eq!(store.save("", 1, vec![]), Err(JournalError::EmptyStreamId));
    /// # Ok::<(), JournalError>(())
    /// ```
    fn save(&self, stream: &str, seq: u64, payload: Vec<u8>) -> Result<(), JournalError>;

    /// Like [`SnapshotStore::save`], but hands the outcome to `done`; a
    /// store with a writer thread runs the save there, so the caller never
    /// blocks on I/O. The default saves here, then calls `done`.
    fn save_with(&self, stream: &str, seq: u64, payload: Vec<u8>, done: SaveDone) {
        done(self.save(stream, seq, payload));
    }

    /// The snapshots of `stream`, newest first (a few at most).
    ///
    /// # Errors
    /// [`JournalError::EmptyStreamId`], or a storage failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemorySnapshotStore, SnapshotStore};
    ///
    /// let store = MemorySnapshotStore::new();
    /// assert!(store.load("none")?.is_empty());
    /// store.save("s", 1, vec![1])?;
    /// store.save("s", 2, vec![2])?;
    /// let seqs: Vec<u64> = store.load("s")?.iter().map(|s| s.seq).collect();
    /// assert_eq!(seqs, [2, 1]); // newest first
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    fn load(&self, stream: &str) -> Result<Vec<Snapshot>, JournalError>;
}

/// The newest of `stream`'s snapshots in `store` that `codec` decodes, and
/// the seq it was taken at; `None` if none does. One that does not decode is
/// logged (as `owner`'s) and the next older one tried: replay from an older
/// snapshot is slower, never wrong.
pub(crate) fn newest_decodable<T: 'static>(
    store: &dyn SnapshotStore,
    stream: &str,
    codec: &dyn Codec<T>,
    owner: &dyn fmt::Display,
) -> Result<Option<(T, u64)>, JournalError> {
    for snap in store.load(stream)? {
        match codec.decode(&snap.payload) {
            Ok(value) => return Ok(Some((value, snap.seq))),
            Err(e) => log::warn!(
                "{owner}: snapshot at {} does not decode ({e}); trying an older one",
                snap.seq
            ),
        }
    }
    Ok(None)
}

fn keep_newest<T>(v: &mut Vec<T>) {
    if v.len() > KEEP {
        v.drain(..v.len() - KEEP);
    }
}

/// A [`SnapshotStore`] in memory, for tests.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemorySnapshotStore, SnapshotStore};
///
/// let store = MemorySnapshotStore::new();
/// store.save("acct-1", 10, b"balance=5".to_vec())?;
/// store.save("acct-1", 20, b"balance=9".to_vec())?;
/// assert_eq!(store.load("acct-1")?[0].seq, 20);
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemorySnapshotStore {
    snapshots: Mutex<HashMap<String, Vec<Snapshot>>>,
}

impl MemorySnapshotStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemorySnapshotStore, SnapshotStore};
    ///
    /// let store = MemorySnapshotStore::new();
    /// assert!(store.load("s")?.is_empty());
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn new() -> Self {
        MemorySnapshotStore::default()
    }
}

impl SnapshotStore for MemorySnapshotStore {
    fn save(&self, stream: &str, seq: u64, payload: Vec<u8>) -> Result<(), JournalError> {
        check_stream(stream)?;
        let mut all = self.snapshots.lock();
        let v = all.entry(stream.to_owned()).or_default();
        v.push(Snapshot { seq, payload });
        v.sort_by_key(|s| s.seq);
        keep_newest(v);
        Ok(())
    }

    fn load(&self, stream: &str) -> Result<Vec<Snapshot>, JournalError> {
        check_stream(stream)?;
        let all = self.snapshots.lock();
        Ok(all
            .get(stream)
            .map(|v| v.iter().rev().cloned().collect())
            .unwrap_or_default())
    }
}

/// A [`SnapshotStore`] in one append-only file, with the journal's framing:
/// a versioned header, then records with length and CRC-32; recovery cuts a
/// torn tail and refuses damage before it. Each save is synced before it
/// is acknowledged; [`SnapshotStore::save_with`] runs on the store's writer
/// thread. It holds the directory's lock like a journal. The file is never
/// compacted: it keeps every snapshot ever saved.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileSnapshotStore, SnapshotStore};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-snap-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let store = FileSnapshotStore::open(&dir)?;
/// store.save("acct-1", 10, b"balance=5".to_vec())?;
/// drop(store);
/// let store = FileSnapshotStore::open(&dir)?;
/// assert_eq!(store.load("acct-1")?[0].payload, b"balance=5");
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
pub struct FileSnapshotStore {
    shared: Arc<FileShared>,
    queue: Arc<CommitQueue<SaveRequest>>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

/// What the store's handle and its writer thread share.
struct FileShared {
    path: PathBuf,
    inner: Mutex<FileInner>,
    _lock: super::file::DirLock,
}

/// A save handed to the writer thread.
struct SaveRequest {
    stream: String,
    seq: u64,
    payload: Vec<u8>,
    done: SaveDone,
}

struct FileInner {
    file: Box<dyn StorageFile>,
    len: u64,
    reader: File,
    /// Per stream, `(seq, position, length)` of its newest frames, oldest first.
    index: HashMap<String, Vec<(u64, u64, usize)>>,
    failed: Option<String>,
}

impl FileSnapshotStore {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// # Errors
    /// As [`crate::persist::FileJournalBuilder::open`].
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{FileJournal, FileSnapshotStore, Persistence};
    /// use std::sync::Arc;
    /// # let dir = std::env::temp_dir().join(format!("playhouse-doc-snap-open-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    ///
    /// // Journal and snapshots side by side, each in a directory of its own.
    /// let persistence = Persistence::new(Arc::new(FileJournal::open(dir.join("journal"))?))
    ///     .with_snapshots(Arc::new(FileSnapshotStore::open(dir.join("snapshots"))?));
    /// assert!(persistence.snapshots().is_some());
    /// // A second store on the same directory is refused (the lock).
    /// assert!(FileSnapshotStore::open(dir.join("snapshots")).is_err());
    /// # drop(persistence);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), playhouse::persist::JournalError>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<FileSnapshotStore, JournalError> {
        let dir = dir.as_ref();
        if dir.exists() && !dir.is_dir() {
            return Err(JournalError::Config {
                setting: "dir",
                reason: format!("{} is not a directory", dir.display()),
            });
        }
        std::fs::create_dir_all(dir).map_err(|e| JournalError::io("create dir", dir, &e))?;
        let lock = super::file::DirLock::acquire(dir)?;
        let mut index: HashMap<String, Vec<(u64, u64, usize)>> = HashMap::new();
        let scanned = scan(
            dir,
            "snapshot",
            SNAPSHOT_MAGIC,
            |_, path, pos, record, frame| {
                let Record::Snapshot { stream, seq, .. } = record else {
                    return Err(JournalError::Corruption {
                        file: path.to_owned(),
                        offset: pos,
                        reason: "not a snapshot record".into(),
                    });
                };
                let v = index.entry(stream).or_default();
                v.push((seq, pos, frame.len()));
                v.sort_by_key(|s| s.0);
                keep_newest(v);
                Ok(())
            },
        )?;
        let storage = StdStorage;
        let (path, file, len) = match scanned.last {
            Some((_, path, len)) => {
                let f = storage
                    .open_append(&path)
                    .map_err(|e| JournalError::io("open", &path, &e))?;
                (path, f, len)
            }
            None => {
                let path = segment_path(dir, 1, "snapshot");
                let mut f = storage
                    .create(&path)
                    .map_err(|e| JournalError::io("create", &path, &e))?;
                f.write_all(&segment_header(SNAPSHOT_MAGIC))
                    .and_then(|()| f.sync_data())
                    .and_then(|()| storage.sync_dir(dir))
                    .map_err(|e| JournalError::io("write", &path, &e))?;
                (path, f, HEADER_LEN as u64)
            }
        };
        let reader = File::open(&path).map_err(|e| JournalError::io("open", &path, &e))?;
        let shared = Arc::new(FileShared {
            path,
            inner: Mutex::new(FileInner {
                file,
                len,
                reader,
                index,
                failed: None,
            }),
            _lock: lock,
        });
        let queue = Arc::new(CommitQueue::<SaveRequest>::new());
        let (s, q) = (Arc::clone(&shared), Arc::clone(&queue));
        let writer = thread::spawn(move || {
            while let Some(batch) = q.take(64) {
                for r in batch {
                    (r.done)(s.save(&r.stream, r.seq, r.payload));
                }
            }
        });
        Ok(FileSnapshotStore {
            shared,
            queue,
            writer: Mutex::new(Some(writer)),
        })
    }
}

impl Drop for FileSnapshotStore {
    fn drop(&mut self) {
        self.queue.close();
        if let Some(h) = self.writer.lock().take() {
            // The last handle may go with a callback run on the writer.
            #[cfg(not(loom))]
            if h.thread().id() == thread::current().id() {
                return;
            }
            let _ = h.join();
        }
    }
}

impl fmt::Debug for FileSnapshotStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSnapshotStore")
            .field("path", &self.shared.path)
            .finish()
    }
}

impl FileShared {
    fn save(&self, stream: &str, seq: u64, payload: Vec<u8>) -> Result<(), JournalError> {
        check_stream(stream)?;
        let mut frame = Vec::new();
        encode_snapshot(stream, seq, &payload, &mut frame)
            .ok_or(JournalError::TooLarge { what: "snapshot" })?;
        let mut inner = self.inner.lock();
        if let Some(cause) = &inner.failed {
            return Err(JournalError::Failed {
                cause: cause.clone(),
            });
        }
        frame::seal(&mut frame, inner.len);
        let written = inner
            .file
            .write_all(&frame)
            .and_then(|()| inner.file.sync_data());
        if let Err(e) = written {
            let e = JournalError::io("write", &self.path, &e);
            inner.failed = Some(e.to_string());
            return Err(e);
        }
        let pos = inner.len;
        inner.len += frame.len() as u64;
        let v = inner.index.entry(stream.to_owned()).or_default();
        v.push((seq, pos, frame.len()));
        v.sort_by_key(|s| s.0);
        keep_newest(v);
        Ok(())
    }
}

impl SnapshotStore for FileSnapshotStore {
    fn save(&self, stream: &str, seq: u64, payload: Vec<u8>) -> Result<(), JournalError> {
        self.shared.save(stream, seq, payload)
    }

    fn save_with(&self, stream: &str, seq: u64, payload: Vec<u8>, done: SaveDone) {
        let request = SaveRequest {
            stream: stream.to_owned(),
            seq,
            payload,
            done,
        };
        if let Err(r) = self.queue.submit(request) {
            (r.done)(Err(JournalError::Closed));
        }
    }

    fn load(&self, stream: &str) -> Result<Vec<Snapshot>, JournalError> {
        check_stream(stream)?;
        let path = &self.shared.path;
        let inner = self.shared.inner.lock();
        let Some(entries) = inner.index.get(stream) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for &(seq, pos, len) in entries.iter().rev() {
            let frame = super::file::read_at(&inner.reader, pos, len)
                .map_err(|e| JournalError::io("read", path, &e))?;
            match decode(&frame, pos) {
                Decoded::Record(
                    Record::Snapshot {
                        payload: (start, n),
                        ..
                    },
                    _,
                ) => {
                    out.push(Snapshot {
                        seq,
                        payload: frame[start..start + n].to_vec(),
                    });
                }
                _ => {
                    return Err(JournalError::Corruption {
                        file: path.clone(),
                        offset: pos,
                        reason: "snapshot record changed on disk".into(),
                    });
                }
            }
        }
        Ok(out)
    }
}
