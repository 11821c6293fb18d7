//! The file operations the journal's writer goes through, as a small trait so
//! tests can fail the n-th write or fsync.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Where a file journal writes: opening segments, writing, syncing. Reads
/// and recovery use `std::fs` directly. Replace it to inject faults in
/// tests; [`StdStorage`] is the real thing.
///
/// # Examples
///
/// A storage whose syncs fail, and what the journal makes of it:
///
/// ```
/// use playhouse::persist::{FileJournal, Journal, JournalError, StdStorage, Storage, StorageFile};
/// use std::io;
/// use std::path::Path;
/// use std::sync::Arc;
///
/// #[derive(Debug)]
/// struct NoSync(Box<dyn StorageFile>);
/// impl StorageFile for NoSync {
///     fn write_all(&mut self, buf: &[u8]) -> io::Result<()> { self.0.write_all(buf) }
///     fn sync_data(&mut self) -> io::Result<()> { Err(io::Error::other("disk on fire")) }
/// }
///
/// #[derive(Debug)]
/// struct Failing;
/// impl Storage for Failing {
///     fn create(&self, p: &Path) -> io::Result<Box<dyn StorageFile>> { StdStorage.create(p) }
///     fn open_append(&self, p: &Path) -> io::Result<Box<dyn StorageFile>> {
///         Ok(Box::new(NoSync(StdStorage.open_append(p)?)))
///     }
///     fn sync_dir(&self, d: &Path) -> io::Result<()> { StdStorage.sync_dir(d) }
/// }
///
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-storage-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// FileJournal::open(&dir)?; // creates the first segment with the real storage
/// let journal = FileJournal::builder(&dir).storage(Arc::new(Failing)).open()?;
/// let first = journal.append("s", 0, vec![b"e".to_vec()]);
/// assert!(matches!(first, Err(JournalError::Io { op: "fsync", .. })));
/// // Never retried into a false success: the journal refuses from now on.
/// assert!(matches!(journal.append("s", 0, vec![b"e".to_vec()]), Err(JournalError::Failed { .. })));
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Creates `path`, which must not exist, for appending.
    ///
    /// # Errors
    /// Any I/O error.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;

    /// Opens the existing `path` for appending at its end.
    ///
    /// # Errors
    /// Any I/O error.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;

    /// Makes the directory's entries (a created file) durable.
    ///
    /// # Errors
    /// Any I/O error.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// A file being appended to.
///
/// # Examples
///
/// ```
/// use playhouse::persist::StorageFile;
/// use std::io;
///
/// /// Counts the bytes written, for a test.
/// #[derive(Debug, Default)]
/// struct Counting(usize);
/// impl StorageFile for Counting {
///     fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
///         self.0 += buf.len();
///         Ok(())
///     }
///     fn sync_data(&mut self) -> io::Result<()> {
///         Ok(())
///     }
/// }
/// let mut f = Counting::default();
/// f.write_all(b"abc")?;
/// assert_eq!(f.0, 3);
/// # Ok::<(), io::Error>(())
/// ```
pub trait StorageFile: Send + fmt::Debug {
    /// Writes all of `buf` at the end.
    ///
    /// # Errors
    /// Any I/O error; some of `buf` may have been written.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;

    /// Makes what was written durable (`fdatasync`).
    ///
    /// # Errors
    /// Any I/O error: what was written since the last successful sync may or
    /// may not be on disk.
    fn sync_data(&mut self) -> io::Result<()>;
}

/// [`Storage`] on `std::fs`.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{StdStorage, Storage, StorageFile};
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-stdstorage-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
///
/// let path = dir.join("scratch");
/// let mut file = StdStorage.create(&path)?;
/// file.write_all(b"hello")?;
/// file.sync_data()?;
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdStorage;

#[derive(Debug)]
struct StdFile(File);

impl StorageFile for StdFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl Storage for StdStorage {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let f = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)?;
        Ok(Box::new(StdFile(f)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let f = OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(StdFile(f)))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }
}
