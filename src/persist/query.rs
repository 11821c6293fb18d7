//! Queries on projections, with read-your-writes: [`ReadAfter`] and
//! [`ProjectionAddr`].

use super::error::PersistError;
use super::projection::{Projection, ProjectionActor, ProjectionMsg};
use crate::{Addr, AskError, Reply};
use std::time::Duration;

/// What a query must see before it is answered.
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
pub trait ProjectionAddr<P: Projection> {
    /// Runs `f` on the read model once it has seen `after`.
    ///
    /// # Errors
    /// [`PersistError::Timeout`] if the projection did not get there (or
    /// did not answer) within `timeout`; [`PersistError::Unanswered`] with
    /// the ask error if the projection stopped.
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
