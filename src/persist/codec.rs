//! [`Codec`]: how events and snapshots become bytes and back, supplied by the user.

use std::error::Error;
use std::fmt;

/// Turns values of `T` into bytes for a journal or snapshot store, and back.
///
/// No serialisation framework is required: implement it by hand, or on top
/// of whatever format the application already uses. A decode failure during
/// replay is a typed error ([`crate::persist::PersistError::Codec`]) that
/// fails the actor's start, never a panic.
///
/// Decoders should accept every version of `T` ever written: events live
/// for ever.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Codec, CodecError};
///
/// #[derive(Debug, PartialEq)]
/// enum Event { Deposited(u64), Withdrawn(u64) }
///
/// struct EventCodec;
/// impl Codec<Event> for EventCodec {
///     fn encode(&self, e: &Event) -> Result<Vec<u8>, CodecError> {
///         Ok(match e {
///             Event::Deposited(n) => format!("d {n}"),
///             Event::Withdrawn(n) => format!("w {n}"),
///         }
///         .into_bytes())
///     }
///     fn decode(&self, bytes: &[u8]) -> Result<Event, CodecError> {
///         let s = std::str::from_utf8(bytes).map_err(CodecError::new)?;
///         let (tag, n) = s.split_once(' ').ok_or_else(|| CodecError::msg("no space"))?;
///         let n = n.parse().map_err(CodecError::new)?;
///         match tag {
///             "d" => Ok(Event::Deposited(n)),
///             "w" => Ok(Event::Withdrawn(n)),
///             _ => Err(CodecError::msg(format!("unknown tag {tag}"))),
///         }
///     }
/// }
///
/// let bytes = EventCodec.encode(&Event::Withdrawn(7))?;
/// assert_eq!(EventCodec.decode(&bytes)?, Event::Withdrawn(7));
/// assert!(EventCodec.decode(b"x 1").is_err());
/// # Ok::<(), CodecError>(())
/// ```
pub trait Codec<T>: Send + Sync + 'static {
    /// The bytes of `value`.
    ///
    /// # Errors
    /// A value that cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Codec, CodecError};
    ///
    /// /// UTF-8 strings, refusing empty ones.
    /// struct Text;
    /// impl Codec<String> for Text {
    ///     fn encode(&self, s: &String) -> Result<Vec<u8>, CodecError> {
    ///         if s.is_empty() { return Err(CodecError::msg("empty text")); }
    ///         Ok(s.as_bytes().to_vec())
    ///     }
    ///     fn decode(&self, b: &[u8]) -> Result<String, CodecError> {
    ///         String::from_utf8(b.to_vec()).map_err(CodecError::new)
    ///     }
    /// }
    /// assert_eq!(Text.encode(&"hi".to_string())?, b"hi");
    /// assert!(Text.encode(&String::new()).is_err());
    /// # Ok::<(), CodecError>(())
    /// ```
    fn encode(&self, value: &T) -> Result<Vec<u8>, CodecError>;

    /// The value of `bytes`.
    ///
    /// # Errors
    /// Bytes that are not a valid encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{Codec, CodecError};
    ///
    /// struct Byte;
    /// impl Codec<u8> for Byte {
    ///     fn encode(&self, b: &u8) -> Result<Vec<u8>, CodecError> { Ok(vec![*b]) }
    ///     fn decode(&self, b: &[u8]) -> Result<u8, CodecError> {
    ///         match b {
    ///             [x] => Ok(*x),
    ///             _ => Err(CodecError::msg(format!("{} bytes, expected 1", b.len()))),
    ///         }
    ///     }
    /// }
    /// assert_eq!(Byte.decode(&[7])?, 7);
    /// assert_eq!(Byte.decode(&[1, 2]).unwrap_err().message(), "2 bytes, expected 1");
    /// # Ok::<(), CodecError>(())
    /// ```
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

/// A value that could not be encoded or decoded.
///
/// # Examples
///
/// ```
/// use playhouse::persist::CodecError;
///
/// let e = CodecError::msg("unknown tag 9");
/// assert_eq!(e.to_string(), "codec error: unknown tag 9");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    message: String,
}

impl CodecError {
    /// An error with the text of `source`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::CodecError;
    ///
    /// let parsed: Result<u32, CodecError> = "x1".parse::<u32>().map_err(CodecError::new);
    /// assert_eq!(parsed.unwrap_err().message(), "invalid digit found in string");
    /// ```
    pub fn new(source: impl fmt::Display) -> Self {
        CodecError {
            message: source.to_string(),
        }
    }

    /// An error with `message`.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::CodecError;
    ///
    /// assert_eq!(CodecError::msg("truncated").message(), "truncated");
    /// ```
    pub fn msg(message: impl Into<String>) -> Self {
        CodecError {
            message: message.into(),
        }
    }

    /// The error's text.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::CodecError;
    ///
    /// let e = CodecError::new(std::str::from_utf8(&[0xff]).unwrap_err());
    /// assert!(e.message().contains("invalid utf-8"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "codec error: {}", self.message)
    }
}

impl Error for CodecError {}
