//! Throttle: at most `n` elements per interval, the rest waiting upstream under backpressure.

use super::stage::{Emitter, Stage};
use crate::ActorError;
use std::time::Duration;

/// A token bucket refilled to `n` at each tick of `per`: while it is empty the
/// stage is not ready, so its input waits and its upstream gets no credit.
pub(super) struct Throttle {
    pub(super) n: u64,
    pub(super) per: Duration,
    pub(super) tokens: u64,
}

impl<T: Send + 'static> Stage<T, T> for Throttle {
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        self.tokens = self.tokens.saturating_sub(1);
        out.emit(x);
        Ok(())
    }
    fn ready(&self) -> bool {
        self.tokens > 0
    }
    fn tick_every(&self) -> Option<Duration> {
        Some(self.per)
    }
    fn tick(&mut self, _out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        self.tokens = self.n;
        Ok(())
    }
}
