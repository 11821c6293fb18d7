//! The file operations the journal's writer goes through, as a small trait so
//! tests can fail the n-th write or fsync.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Where a file journal (or snapshot store) writes: opening segments,
/// writing, syncing. Reads and recovery use `std::fs` directly. Replace it to
/// inject faults in tests; [`StdStorage`] is the real thing.
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
