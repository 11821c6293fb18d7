//! Batching stages: chunks of n, and chunks of at most n within a duration.

use crate::ActorError;
use crate::stream::{Emitter, Stage};
use std::time::Duration;

/// Chunks of `n`; the last may be shorter.
pub(in crate::stream) struct Batch<T> {
    pub(in crate::stream) n: usize,
    pub(in crate::stream) buf: Vec<T>,
}

impl<T: Send + 'static> Stage<T, Vec<T>> for Batch<T> {
    fn push(&mut self, x: T, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.buf.push(x);
        if self.buf.len() >= self.n {
            out.emit(std::mem::replace(&mut self.buf, Vec::with_capacity(self.n)));
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        if !self.buf.is_empty() {
            out.emit(std::mem::take(&mut self.buf));
        }
        Ok(())
    }
}

/// Chunks of at most `n`, a partial chunk emitted at every tick of `within`,
/// so no element waits longer than `within` once it is in.
pub(in crate::stream) struct GroupedWithin<T> {
    pub(in crate::stream) batch: Batch<T>,
    pub(in crate::stream) within: Duration,
}

impl<T: Send + 'static> Stage<T, Vec<T>> for GroupedWithin<T> {
    fn push(&mut self, x: T, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.batch.push(x, out)
    }

    fn tick_every(&self) -> Option<Duration> {
        Some(self.within)
    }

    fn tick(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.batch.finish(out)
    }

    fn finish(&mut self, out: &mut Emitter<'_, Vec<T>>) -> Result<(), ActorError> {
        self.batch.finish(out)
    }
}
