//! Record framing: every record on disk is `len: u32 LE | crc: u32 LE | body`,
//! where `crc` is CRC-32 (IEEE, via `crc32fast`) over the frame's position
//! in its file (u64 LE), the four length bytes and the body. A torn or
//! flipped length is caught like a flipped body, and a frame is valid only
//! where it was written: a copy of one inside a payload (an event that
//! carries journal bytes) never passes for a record when recovery searches
//! a damaged region for one.
//!
//! Bodies (all integers little-endian):
//! - events: `1 | stream_len: u16 | stream | first_seq: u64 | first_offset: u64
//!   | count: u32 | (len: u32 | payload) * count` — all events of one append
//!   in one record, which is what makes an append atomic;
//! - delete: `2 | stream_len: u16 | stream | to_seq: u64`;
//! - snapshot: `3 | stream_len: u16 | stream | seq: u64 | len: u32 | payload`.

/// Bytes before a body: its length and its checksum.
pub(crate) const FRAME_HEADER: usize = 8;
/// The largest body accepted: larger lengths are treated as damage.
pub(crate) const MAX_BODY: usize = 64 << 20;

const KIND_EVENTS: u8 = 1;
const KIND_DELETE: u8 = 2;
const KIND_SNAPSHOT: u8 = 3;

/// A decoded record; a snapshot's payload is given as `(position in the
/// frame, len)` so it can be taken without copying, and an events record's
/// payloads are only counted (the journal indexes the record, and
/// [`event_payloads`] finds them when they are read).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Record {
    Events {
        stream: String,
        first_seq: u64,
        first_offset: u64,
        count: u32,
    },
    Delete {
        stream: String,
        to_seq: u64,
    },
    Snapshot {
        stream: String,
        seq: u64,
        payload: (usize, usize),
    },
}

/// What a decoder makes of the bytes at some position.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A whole, valid record and the length of its frame.
    Record(Record, usize),
    /// The bytes end before the frame does.
    Incomplete,
    /// The frame is damaged.
    Bad(&'static str),
}

fn crc(pos: u64, len: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&pos.to_le_bytes());
    h.update(len);
    h.update(body);
    h.finalize()
}

/// Fills in the checksum of `frame` (one whole frame) for position `pos`:
/// called once the writer knows where the frame goes.
pub(crate) fn seal(frame: &mut [u8], pos: u64) {
    let (head, body) = frame.split_at_mut(FRAME_HEADER);
    let c = crc(pos, &head[0..4], body);
    head[4..8].copy_from_slice(&c.to_le_bytes());
}

/// Appends the frame of `body` to `out`, its checksum still to be
/// [`seal`]ed; `None` if the body is too large.
fn frame(body: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if body.is_empty() || body.len() > MAX_BODY {
        return None;
    }
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(body);
    Some(())
}

fn put_stream(body: &mut Vec<u8>, stream: &str) -> Option<()> {
    let len = u16::try_from(stream.len()).ok()?;
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(stream.as_bytes());
    Some(())
}

/// The length of the frame [`encode_events`] makes, or `None` if something
/// is too large.
pub(crate) fn events_frame_len(stream: &str, payloads: &[Vec<u8>]) -> Option<usize> {
    u16::try_from(stream.len()).ok()?;
    u32::try_from(payloads.len()).ok()?;
    let mut body = 1 + 2 + stream.len() + 8 + 8 + 4;
    for p in payloads {
        u32::try_from(p.len()).ok()?;
        body = body.checked_add(4 + p.len())?;
    }
    (body <= MAX_BODY).then_some(FRAME_HEADER + body)
}

/// Where the first offset sits in an events frame of a stream `stream_len`
/// bytes long.
fn first_offset_at(stream_len: usize) -> usize {
    FRAME_HEADER + 1 + 2 + stream_len + 8
}

/// The stream of the events frame `frame` (one whole frame, as made by
/// [`encode_events`]); `None` if it is not one.
pub(crate) fn events_stream(frame: &[u8]) -> Option<&str> {
    let (mut c, n) = open_events(frame)?;
    std::str::from_utf8(c.take(n)?).ok()
}

/// A cursor at the stream name of the events frame `frame`, and the name's
/// length; `None` if the frame is not an events frame.
fn open_events(frame: &[u8]) -> Option<(Cursor<'_>, usize)> {
    let mut c = Cursor {
        buf: frame,
        pos: FRAME_HEADER,
    };
    if c.u8()? != KIND_EVENTS {
        return None;
    }
    let n = c.u16()? as usize;
    Some((c, n))
}

/// Overwrites the first offset of the events frame `frame` (made by
/// [`encode_events`], its checksum still to be [`seal`]ed): an appender
/// frames its events before the writer knows where they go globally.
pub(crate) fn set_first_offset(frame: &mut [u8], first_offset: u64) {
    let n = u16::from_le_bytes([frame[FRAME_HEADER + 1], frame[FRAME_HEADER + 2]]) as usize;
    let at = first_offset_at(n);
    frame[at..at + 8].copy_from_slice(&first_offset.to_le_bytes());
}

/// Appends the frame of an events record to `out`, its checksum still to
/// be [`seal`]ed; `None` (and `out` unchanged) if something is too large.
/// The body is written in place: no copy of the payloads but this one.
pub(crate) fn encode_events(
    stream: &str,
    first_seq: u64,
    first_offset: u64,
    payloads: &[Vec<u8>],
    out: &mut Vec<u8>,
) -> Option<()> {
    let len = events_frame_len(stream, payloads)?;
    out.reserve(len);
    out.extend_from_slice(&((len - FRAME_HEADER) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(KIND_EVENTS);
    out.extend_from_slice(&(stream.len() as u16).to_le_bytes());
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&first_offset.to_le_bytes());
    out.extend_from_slice(&(payloads.len() as u32).to_le_bytes());
    for p in payloads {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    Some(())
}

/// The payloads of the events frame `frame` (one whole frame, as written),
/// as slices of it in order; `None` if it is not a well-formed events frame.
/// Its checksum is not checked: recovery checked it when the journal opened.
pub(crate) fn event_payloads(frame: &[u8]) -> Option<EventPayloads<'_>> {
    let (mut c, n) = open_events(frame)?;
    c.take(n + 8 + 8)?;
    let count = c.u32()?;
    Some(EventPayloads { c, left: count })
}

/// The iterator [`event_payloads`] returns.
pub(crate) struct EventPayloads<'a> {
    c: Cursor<'a>,
    left: u32,
}

impl<'a> Iterator for EventPayloads<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let len = self.c.u32()? as usize;
        self.c.take(len)
    }
}

/// Frames a delete marker.
pub(crate) fn encode_delete(stream: &str, to_seq: u64, out: &mut Vec<u8>) -> Option<()> {
    let mut body = vec![KIND_DELETE];
    put_stream(&mut body, stream)?;
    body.extend_from_slice(&to_seq.to_le_bytes());
    frame(&body, out)
}

/// Frames a snapshot.
pub(crate) fn encode_snapshot(
    stream: &str,
    seq: u64,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Option<()> {
    let mut body = vec![KIND_SNAPSHOT];
    put_stream(&mut body, stream)?;
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(&u32::try_from(payload.len()).ok()?.to_le_bytes());
    body.extend_from_slice(payload);
    frame(&body, out)
}

/// A cursor over a body that fails on running out of bytes.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn stream(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        let s = std::str::from_utf8(self.take(n)?).ok()?;
        (!s.is_empty()).then(|| s.to_owned())
    }
}

fn parse_body(body: &[u8]) -> Option<Record> {
    let mut c = Cursor { buf: body, pos: 0 };
    let record = match c.u8()? {
        KIND_EVENTS => {
            let stream = c.stream()?;
            let first_seq = c.u64()?;
            let first_offset = c.u64()?;
            let count = c.u32()?;
            for _ in 0..count {
                let len = c.u32()? as usize;
                c.take(len)?;
            }
            if first_seq == 0 || first_offset == 0 || count == 0 {
                return None;
            }
            Record::Events {
                stream,
                first_seq,
                first_offset,
                count,
            }
        }
        KIND_DELETE => Record::Delete {
            stream: c.stream()?,
            to_seq: c.u64()?,
        },
        KIND_SNAPSHOT => {
            let stream = c.stream()?;
            let seq = c.u64()?;
            let len = c.u32()? as usize;
            let start = FRAME_HEADER + c.pos;
            c.take(len)?;
            Record::Snapshot {
                stream,
                seq,
                payload: (start, len),
            }
        }
        _ => return None,
    };
    (c.pos == body.len()).then_some(record)
}

/// Decodes the frame at the start of `buf`, which starts at `pos` in its file.
pub(crate) fn decode(buf: &[u8], pos: u64) -> Decoded {
    if buf.len() < FRAME_HEADER {
        return Decoded::Incomplete;
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    if len == 0 || len > MAX_BODY {
        return Decoded::Bad("record length out of range");
    }
    let Some(body) = buf.get(FRAME_HEADER..FRAME_HEADER + len) else {
        return Decoded::Incomplete;
    };
    // A cheap test before the checksum, which matters when recovery looks
    // for a valid frame at every offset of a damaged region.
    if !matches!(body[0], KIND_EVENTS | KIND_DELETE | KIND_SNAPSHOT) {
        return Decoded::Bad("unknown record kind");
    }
    let stored = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if crc(pos, &buf[0..4], body) != stored {
        return Decoded::Bad("checksum mismatch");
    }
    match parse_body(body) {
        Some(r) => Decoded::Record(r, FRAME_HEADER + len),
        None => Decoded::Bad("malformed record body"),
    }
}

/// Whether a valid frame starts anywhere in `bytes`, which start at file
/// position `base`, from index `from` on (used to tell a torn tail, after
/// which nothing valid follows, from damage in the middle).
pub(crate) fn any_valid_frame(bytes: &[u8], base: u64, from: usize) -> bool {
    (from..bytes.len()).any(|i| matches!(decode(&bytes[i..], base + i as u64), Decoded::Record(..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_set_after_framing_is_what_decodes() {
        let mut out = Vec::new();
        encode_events("strm", 5, 0, &[b"xyz".to_vec()], &mut out).unwrap();
        assert_eq!(events_stream(&out), Some("strm"));
        set_first_offset(&mut out, 77);
        seal(&mut out, 40);
        let Decoded::Record(
            Record::Events {
                first_offset,
                first_seq,
                ..
            },
            n,
        ) = decode(&out, 40)
        else {
            panic!("not an events record");
        };
        assert_eq!((first_seq, first_offset, n), (5, 77, out.len()));
    }

    #[test]
    fn events_round_trip_and_every_flip_is_caught() {
        let mut out = Vec::new();
        let payloads = [b"ab".to_vec(), b"c".to_vec()];
        encode_events("s", 3, 9, &payloads, &mut out).unwrap();
        assert_eq!(Some(out.len()), events_frame_len("s", &payloads));
        seal(&mut out, 100);
        let Decoded::Record(
            Record::Events {
                stream,
                first_seq,
                first_offset,
                count,
            },
            n,
        ) = decode(&out, 100)
        else {
            panic!("not decoded");
        };
        assert_eq!(
            (stream.as_str(), first_seq, first_offset, count, n),
            ("s", 3, 9, 2, out.len())
        );
        let read: Vec<&[u8]> = event_payloads(&out).unwrap().collect();
        assert_eq!(read, vec![&b"ab"[..], &b"c"[..]]);
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x40;
            assert!(
                !matches!(decode(&bad, 100), Decoded::Record(..)),
                "flip at {i} undetected"
            );
        }
        for cut in 0..out.len() {
            assert!(!matches!(decode(&out[..cut], 100), Decoded::Record(..)));
        }
    }

    #[test]
    fn a_frame_is_valid_only_where_it_was_written() {
        let mut frame = Vec::new();
        encode_delete("s", 4, &mut frame).unwrap();
        seal(&mut frame, 16);
        assert!(matches!(decode(&frame, 16), Decoded::Record(..)));
        assert_eq!(decode(&frame, 17), Decoded::Bad("checksum mismatch"));
        // A copy of the frame inside a payload elsewhere is not a record.
        let mut host = Vec::new();
        encode_events("t", 1, 1, std::slice::from_ref(&frame), &mut host).unwrap();
        seal(&mut host, 16);
        assert!(!any_valid_frame(&host, 0, 1));
    }
}
