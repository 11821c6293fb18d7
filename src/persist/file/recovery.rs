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
use std::fs::OpenOptions;
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
        let bytes = std::fs::read(&path).map_err(|e| JournalError::io("read", &path, &e))?;
        if is_last && (bytes.len() < HEADER_LEN || bytes.iter().all(|&b| b == 0)) {
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
        segment::check_header(magic, &path, &bytes)?;
        let mut pos = HEADER_LEN;
        while pos < bytes.len() {
            match frame::decode(&bytes[pos..], pos as u64) {
                Decoded::Record(record, len) => {
                    visit(n, &path, pos as u64, record, &bytes[pos..pos + len])?;
                    pos += len;
                }
                Decoded::Incomplete | Decoded::Bad(_) => {
                    let reason = match frame::decode(&bytes[pos..], pos as u64) {
                        Decoded::Bad(r) => r,
                        _ => "record cut short",
                    };
                    if !is_last || frame::any_valid_frame(&bytes, pos + 1) {
                        return Err(JournalError::Corruption {
                            file: path,
                            offset: pos as u64,
                            reason: reason.to_owned(),
                        });
                    }
                    truncate(&path, pos as u64)?;
                    log::warn!(
                        "journal recovery: cut a torn tail of {} bytes at offset {pos} of {} ({reason})",
                        bytes.len() - pos,
                        path.display()
                    );
                    out.torn = Some(TornTail {
                        file: path.clone(),
                        offset: pos as u64,
                        dropped: (bytes.len() - pos) as u64,
                    });
                    break;
                }
            }
        }
        out.last = Some((n, path, pos as u64));
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
