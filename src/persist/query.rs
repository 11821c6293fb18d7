//! Queries on projections, with read-your-writes: [`ReadAfter`] and
//! [`ProjectionAddr`].

use super::error::PersistError;
use super::projection::{Projection, ProjectionActor, ProjectionMsg};
use crate::{Addr, AskError, Reply};
use std::time::Duration;

/// What a query must see before it is answered.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{Journal, MemoryJournal, Persistence, ProjectionAddr, ReadAfter};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// const T: Duration = Duration::from_secs(5);
/// let system = System::new();
/// let journal = Arc::new(MemoryJournal::new());
/// let persistence = Persistence::new(journal.clone());
/// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
/// let seq = journal.append("order-1", 0, vec![vec![1]])?;
/// // Wait for that very event (read your own write) ...
/// let after = ReadAfter::Event { stream: "order-1".into(), seq };
/// assert_eq!(p.query(after, |m| m.0, T)?, 1);
/// // ... or for a global offset, or for whatever the journal holds now.
/// assert_eq!(p.query(ReadAfter::Offset(1), |m| m.0, T)?, 1);
/// assert_eq!(p.query(ReadAfter::default(), |m| m.0, T)?, 1);
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReadAfter {
    /// Everything the journal had acknowledged when the query arrived.
    #[default]
    Now,
    /// The events up to this global offset.
    Offset(u64),
    /// The event `seq` of `stream`: read your own write, with the seq an
    /// event-sourced actor answered the command with.
    Event {
        /// The stream.
        stream: String,
        /// Its sequence number.
        seq: u64,
    },
}

/// Queries a [`ProjectionActor`] from outside the pool.
///
/// # Examples
///
/// ```
/// use playhouse::persist::{MemoryJournal, Persistence, ProjectionAddr, ReadAfter};
/// use playhouse::System;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # #[derive(Default)]
/// # struct Count(u64);
/// # impl playhouse::persist::Projection for Count {
/// #     type Event = Vec<u8>;
/// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
/// # }
/// # struct Raw;
/// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
/// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
/// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
/// # }
///
/// let system = System::new();
/// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
/// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
/// let reader = std::thread::spawn(move || p.query(ReadAfter::Now, |m| m.0, Duration::from_secs(5)));
/// assert_eq!(reader.join().unwrap(), Ok(0));
/// system.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ProjectionAddr<P: Projection> {
    /// Runs `f` on the read model once it has seen `after`.
    ///
    /// # Errors
    /// [`PersistError::Timeout`] if the projection did not get there (or
    /// did not answer) within `timeout`; [`PersistError::Unanswered`] with
    /// the ask error if the projection stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::persist::{MemoryJournal, PersistError, Persistence, ProjectionAddr, ReadAfter};
    /// use playhouse::System;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// # #[derive(Default)]
    /// # struct Count(u64);
    /// # impl playhouse::persist::Projection for Count {
    /// #     type Event = Vec<u8>;
    /// #     fn apply(&mut self, _: &str, _: u64, _: Vec<u8>) { self.0 += 1; }
    /// # }
    /// # struct Raw;
    /// # impl playhouse::persist::Codec<Vec<u8>> for Raw {
    /// #     fn encode(&self, v: &Vec<u8>) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(v.clone()) }
    /// #     fn decode(&self, b: &[u8]) -> Result<Vec<u8>, playhouse::persist::CodecError> { Ok(b.to_vec()) }
    /// # }
    ///
    /// let system = System::new();
    /// let persistence = Persistence::new(Arc::new(MemoryJournal::new()));
    /// let p = persistence.projection("count", Count::default, Raw).spawn(&system)?;
    /// // Offset 5 is never written: the query gives up at its deadline.
    /// let r = p.query(ReadAfter::Offset(5), |m| m.0, Duration::from_millis(50));
    /// assert_eq!(r, Err(PersistError::Timeout));
    /// system.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn query<T: Send + 'static>(
        &self,
        after: ReadAfter,
        f: impl FnOnce(&P) -> T + Send + 'static,
        timeout: Duration,
    ) -> Result<T, PersistError>;
}

impl<P: Projection> ProjectionAddr<P> for Addr<ProjectionActor<P>> {
    fn query<T: Send + 'static>(
        &self,
        after: ReadAfter,
        f: impl FnOnce(&P) -> T + Send + 'static,
        timeout: Duration,
    ) -> Result<T, PersistError> {
        // The projection answers a timeout itself just before the ask's own
        // deadline, so a slow projection reads as `Timeout`.
        let inner = timeout.mul_f32(0.9);
        self.ask(
            |r: Reply<Result<T, PersistError>>| ProjectionMsg::Query {
                after,
                timeout: inner,
                run: Box::new(move |model| {
                    let _ = r.send(model.map(f));
                }),
            },
            timeout,
        )
        .map_err(|e| match e {
            AskError::Timeout => PersistError::Timeout,
            e => PersistError::Unanswered(e),
        })?
    }
}
