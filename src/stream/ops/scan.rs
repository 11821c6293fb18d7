//! Stateful stages: scan (every intermediate state) and fold (the last one, at the end).

use crate::ActorError;
use crate::stream::{Emitter, Stage};
use crate::sync::Arc;

pub(in crate::stream) struct Scan<S, F> {
    pub(in crate::stream) state: S,
    pub(in crate::stream) f: Arc<F>,
}

impl<T, S, F> Stage<T, S> for Scan<S, F>
where
    S: Clone + Send + 'static,
    F: Fn(&mut S, T) + Send + Sync + 'static,
{
    fn push(&mut self, x: T, out: &mut Emitter<'_, S>) -> Result<(), ActorError> {
        (self.f)(&mut self.state, x);
        out.emit(self.state.clone());
        Ok(())
    }
}

pub(in crate::stream) struct Fold<S, F> {
    pub(in crate::stream) state: Option<S>,
    pub(in crate::stream) f: Arc<F>,
}

impl<T, S, F> Stage<T, S> for Fold<S, F>
where
    S: Send + 'static,
    F: Fn(S, T) -> S + Send + Sync + 'static,
{
    fn push(&mut self, x: T, _out: &mut Emitter<'_, S>) -> Result<(), ActorError> {
        let s = self
            .state
            .take()
            .expect("a fold holds its state between elements");
        self.state = Some((self.f)(s, x));
        Ok(())
    }

    fn finish(&mut self, out: &mut Emitter<'_, S>) -> Result<(), ActorError> {
        if let Some(s) = self.state.take() {
            out.emit(s);
        }
        Ok(())
    }
}
