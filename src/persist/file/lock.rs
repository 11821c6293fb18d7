//! The directory lock: one writer per journal directory, across processes.
//!
//! An advisory exclusive lock (`flock` on Unix, `LockFileEx` on Windows) on a
//! `LOCK` file, through std's `File::try_lock`. The operating system drops it
//! when the process dies, even by SIGKILL, so a crash leaves no stale lock;
//! a second opener in the same process holds another open file description
//! and is refused as well.

use crate::persist::journal::JournalError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

/// Holds the lock until dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, JournalError> {
        let path = dir.join("LOCK");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| JournalError::io("open lock file", &path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(JournalError::Locked { path }),
            Err(TryLockError::Error(e)) => return Err(JournalError::io("lock", &path, &e)),
        }
        // The holder's pid, for a human wondering who holds it.
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(DirLock { _file: file })
    }
}
