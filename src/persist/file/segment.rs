//! Segment files: naming, listing, and the header that opens each one.
//!
//! A header is `magic (8 bytes) | format version: u32 LE | crc: u32 LE` where
//! `crc` covers the twelve bytes before it. The magic says which store the
//! file belongs to (journal or snapshots), so one is never read as the other.

use crate::persist::journal::JournalError;
use std::path::{Path, PathBuf};

/// The format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Bytes of a segment header.
pub(crate) const HEADER_LEN: usize = 16;
/// The magic of journal segments.
pub(crate) const JOURNAL_MAGIC: &[u8; 8] = b"PLAYJRNL";
/// The magic of snapshot segments.
pub(crate) const SNAPSHOT_MAGIC: &[u8; 8] = b"PLAYSNAP";

/// The header of a segment of the store with `magic`.
pub(crate) fn header(magic: &[u8; 8]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(magic);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    let crc = crc32fast::hash(&h[..12]);
    h[12..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Checks a segment's header.
pub(crate) fn check_header(magic: &[u8; 8], file: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let corrupt = |reason: String| JournalError::Corruption {
        file: file.to_owned(),
        offset: 0,
        reason,
    };
    if bytes.len() < HEADER_LEN || &bytes[..8] != magic {
        return Err(corrupt("not a segment of this store (bad magic)".into()));
    }
    let crc = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..12]) != crc {
        return Err(corrupt("segment header checksum mismatch".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "unsupported format version {version} (this build reads {FORMAT_VERSION})"
        )));
    }
    Ok(())
}

/// The path of segment number `n` in `dir`.
pub(crate) fn path(dir: &Path, n: u64, ext: &str) -> PathBuf {
    dir.join(format!("{n:016}.{ext}"))
}

/// The segments in `dir` with extension `ext`, by number.
pub(crate) fn list(dir: &Path, ext: &str) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| JournalError::io("list", dir, &e))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io("list", dir, &e))?;
        let p = entry.path();
        if p.extension().and_then(|x| x.to_str()) != Some(ext) {
            continue;
        }
        if let Some(n) = p
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
        {
            segments.push((n, p));
        }
    }
    segments.sort();
    Ok(segments)
}

/// Reads `len` bytes at `pos` of `file`.
pub(crate) fn read_at(file: &std::fs::File, pos: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    read_into(file, pos, &mut buf)?;
    Ok(buf)
}

/// Fills `buf` from position `pos` of `file`.
pub(crate) fn read_into(file: &std::fs::File, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, pos)?;
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let len = buf.len();
        let mut done = 0;
        while done < len {
            let n = file.seek_read(&mut buf[done..], pos + done as u64)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
    }
    Ok(())
}
