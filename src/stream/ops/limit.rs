//! Stages that cut the stream: take, skip, take_while.

use crate::ActorError;
use crate::stream::{Emitter, Stage};
use crate::sync::Arc;

/// Passes `n` elements, then completes (cancelling upstream).
pub(in crate::stream) struct Take(pub(in crate::stream) u64);

impl<T: Send + 'static> Stage<T, T> for Take {
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        if self.0 > 0 {
            self.0 -= 1;
            out.emit(x);
        }
        if self.0 == 0 {
            out.complete();
        }
        Ok(())
    }
}

pub(in crate::stream) struct Skip(pub(in crate::stream) u64);

impl<T: Send + 'static> Stage<T, T> for Skip {
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        if self.0 > 0 {
            self.0 -= 1;
        } else {
            out.emit(x);
        }
        Ok(())
    }
}

pub(in crate::stream) struct TakeWhile<F>(pub(in crate::stream) Arc<F>);

impl<T: Send + 'static, F> Stage<T, T> for TakeWhile<F>
where
    F: Fn(&T) -> bool + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, T>) -> Result<(), ActorError> {
        if (self.0)(&x) {
            out.emit(x);
        } else {
            out.complete();
        }
        Ok(())
    }
}
