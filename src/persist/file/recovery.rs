//! Recovery on open: scan every segment, keep the valid records, truncate a
//! torn tail, refuse damage before it.
//!
//! # What counts as a torn tail
//! Only the last segment can end in one (a segment is synced before the next
//! is created). Scanning it, the first frame that is incomplete or fails its
//! checksum ends the valid prefix. If no valid frame starts anywhere after
//! that point, the bytes are the remains of writes that never completed (a
//! crash mid-append, a flipped byte in the last record): they were never
//! acknowledged, so they are cut off and reported. If a valid frame follows,
//! acknowledged data would be lost by cutting: that is
//! [`JournalError::Corruption`] naming the file and the offset, and the
//! journal does not open.

use super::frame::{self, Decoded, Record};
use super::segment::{self, HEADER_LEN};
use crate::persist::journal::JournalError;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The torn tail a recovery cut off.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{FileJournal, Journal, TornTail};
/// use std::io::Write;
/// # let dir = std::env::temp_dir().join(format!("playhouse-doc-torntail-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
///
/// let journal = FileJournal::open(&dir)?;
/// journal.append("s", 0, vec![b"kept".to_vec()])?;
/// drop(journal);
/// let segment = std::fs::read_dir(&dir).unwrap()
///     .map(|e| e.unwrap().path())
///     .find(|p| p.extension().is_some_and(|x| x == "journal"))
///     .expect("a segment");
/// let good_len = std::fs::metadata(&segment).unwrap().len();
/// std::fs::OpenOptions::new().append(true).open(&segment).unwrap().write_all(b"torn").unwrap();
///
/// let journal = FileJournal::open(&dir)?;
/// let torn: &TornTail = journal.torn_tail().expect("cut off");
/// assert_eq!((torn.file.as_path(), torn.offset, torn.dropped), (segment.as_path(), good_len, 4));
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), playhouse::persist::JournalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment it was in.
    pub file: PathBuf,
    /// Where the valid prefix ends (the file's new length).
    pub offset: u64,
    /// How many bytes were cut off.
    pub dropped: u64,
}

/// Where scanning ended: the last segment (number, path, length after any
/// truncation) and the tail cut off, if any.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub(crate) last: Option<(u64, PathBuf, u64)>,
    pub(crate) torn: Option<TornTail>,
}

/// How many bytes scanning reads at a time.
const CHUNK: usize = 1 << 20;

/// A window over a segment file, read forward in large chunks into one
/// buffer: scanning decodes records in place, with no read call or copy per
/// record.
struct Window {
    file: File,
    /// The file's bytes from position `start` on, as far as read.
    buf: Vec<u8>,
    start: u64,
    eof: bool,
}

impl Window {
    /// The buffered bytes from file position `pos` (at or after `start`),
    /// reading on until at least `need` of them are there or the file ends.
    fn at(&mut self, pos: u64, need: usize) -> io::Result<&[u8]> {
        let skip = (pos - self.start) as usize;
        if self.buf.len() - skip < need && !self.eof {
            self.buf.drain(..skip);
            self.start = pos;
            let want = need.max(CHUNK);
            while self.buf.len() < want {
                let have = self.buf.len();
                self.buf.resize(want, 0);
                let n = loop {
                    match self.file.read(&mut self.buf[have..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        r => break r,
                    }
                };
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        self.buf.truncate(have);
                        return Err(e);
                    }
                };
                self.buf.truncate(have + n);
                if n == 0 {
                    self.eof = true;
                    break;
                }
            }
        }
        let skip = (pos - self.start) as usize;
        Ok(&self.buf[skip..])
    }

    /// Everything from `pos` to the end of the file.
    fn rest(&mut self, pos: u64) -> io::Result<Vec<u8>> {
        let mut out = self.at(pos, 0)?.to_vec();
        if !self.eof {
            self.file.read_to_end(&mut out)?;
        }
        Ok(out)
    }
}

/// Scans the segments with extension `ext` in `dir`, handing each valid
/// record to `visit` with its segment number, the frame's position and the
/// frame's bytes.
pub(crate) fn scan(
    dir: &Path,
    ext: &str,
    magic: &[u8; 8],
    mut visit: impl FnMut(u64, &Path, u64, Record, &[u8]) -> Result<(), JournalError>,
) -> Result<Scanned, JournalError> {
    let segments = segment::list(dir, ext)?;
    let mut out = Scanned::default();
    let count = segments.len();
    for (i, (n, path)) in segments.into_iter().enumerate() {
        let is_last = i + 1 == count;
        let read_err = |e: io::Error| JournalError::io("read", &path, &e);
        let file = File::open(&path).map_err(read_err)?;
        let mut w = Window {
            file,
            buf: Vec::new(),
            start: 0,
            eof: false,
        };
        let head = w.at(0, HEADER_LEN).map_err(read_err)?;
        let blank_head = head.len() < HEADER_LEN || head[..HEADER_LEN].iter().all(|&b| b == 0);
        if is_last && blank_head {
            let bytes = w.rest(0).map_err(read_err)?;
            if bytes.len() < HEADER_LEN || bytes.iter().all(|&b| b == 0) {
                // Created, but its header never reached the disk: it holds nothing.
                log::warn!(
                    "journal recovery: removing segment {} with an incomplete header",
                    path.display()
                );
                std::fs::remove_file(&path).map_err(|e| JournalError::io("remove", &path, &e))?;
                out.torn = Some(TornTail {
                    file: path,
                    offset: 0,
                    dropped: bytes.len() as u64,
                });
                break;
            }
        }
        segment::check_header(magic, &path, w.at(0, HEADER_LEN).map_err(read_err)?)?;
        let mut pos = HEADER_LEN as u64;
        loop {
            let mut bytes = w.at(pos, frame::FRAME_HEADER).map_err(read_err)?;
            if bytes.is_empty() {
                break;
            }
            let mut decoded = frame::decode(bytes, pos);
            if decoded == Decoded::Incomplete && bytes.len() >= frame::FRAME_HEADER {
                // Read on to the frame's whole length, if the file has it.
                let len = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
                bytes = w.at(pos, frame::FRAME_HEADER + len).map_err(read_err)?;
                decoded = frame::decode(bytes, pos);
            }
            match decoded {
                Decoded::Record(record, len) => {
                    visit(n, &path, pos, record, &bytes[..len])?;
                    pos += len as u64;
                }
                Decoded::Incomplete | Decoded::Bad(_) => {
                    let reason = match decoded {
                        Decoded::Bad(r) => r,
                        _ => "record cut short",
                    };
                    let rest = w.rest(pos).map_err(read_err)?;
                    if !is_last || frame::any_valid_frame(&rest, pos, 1) {
                        return Err(JournalError::Corruption {
                            file: path,
                            offset: pos,
                            reason: reason.to_owned(),
                        });
                    }
                    truncate(&path, pos)?;
                    log::warn!(
                        "journal recovery: cut a torn tail of {} bytes at offset {pos} of {} ({reason})",
                        rest.len(),
                        path.display()
                    );
                    out.torn = Some(TornTail {
                        file: path.clone(),
                        offset: pos,
                        dropped: rest.len() as u64,
                    });
                    break;
                }
            }
        }
        out.last = Some((n, path, pos));
    }
    Ok(out)
}

fn truncate(path: &Path, len: u64) -> Result<(), JournalError> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| JournalError::io("open", path, &e))?;
    f.set_len(len)
        .map_err(|e| JournalError::io("truncate", path, &e))?;
    f.sync_all()
        .map_err(|e| JournalError::io("fsync", path, &e))
}
