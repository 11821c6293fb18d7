//! Helpers shared by the persist tests: a temporary directory removed on drop, and a fault-injecting storage.
#![allow(dead_code)]

use playhouse::persist::{StdStorage, Storage, StorageFile};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// A fresh directory under the system's temp dir, removed (with its
/// contents) when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "playhouse-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Storage that fails the n-th write (after writing half of it) or the n-th
/// sync, and counts syncs; a sync can be held at a gate.
#[derive(Debug, Default)]
pub struct Faulty {
    pub fail_write: Option<usize>,
    pub fail_sync: Option<usize>,
    pub writes: AtomicUsize,
    pub syncs: AtomicUsize,
    pub gate: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
}

#[derive(Debug)]
struct FaultyFile {
    inner: Box<dyn StorageFile>,
    faults: Arc<Faulty>,
}

impl StorageFile for FaultyFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let n = self.faults.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(n) == self.faults.fail_write {
            self.inner.write_all(&buf[..buf.len() / 2])?;
            return Err(io::Error::other("injected write failure"));
        }
        self.inner.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        let n = self.faults.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((entered, release)) = &*self.faults.gate.lock().unwrap() {
            entered.send(()).unwrap();
            release.recv().unwrap();
        }
        if Some(n) == self.faults.fail_sync {
            return Err(io::Error::other("injected fsync failure"));
        }
        self.inner.sync_data()
    }
}

#[derive(Debug)]
pub struct FaultyStorage(pub Arc<Faulty>);

impl Storage for FaultyStorage {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FaultyFile {
            inner: StdStorage.create(path)?,
            faults: self.0.clone(),
        }))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FaultyFile {
            inner: StdStorage.open_append(path)?,
            faults: self.0.clone(),
        }))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        StdStorage.sync_dir(dir)
    }
}
