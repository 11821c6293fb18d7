//! The group-commit queue, one-shot and batch release, exposed to `loom-tests/persist_group_commit.rs`; compiled only under `cfg(loom)`.
#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]

use super::file;

/// `CommitQueue`, for its model.
pub struct CommitQueue<R>(file::CommitQueue<R>);

impl<R> CommitQueue<R> {
    pub fn new() -> Self {
        CommitQueue(file::CommitQueue::new())
    }
    pub fn submit(&self, r: R) -> Result<(), R> {
        self.0.submit(r)
    }
    pub fn take(&self, max: usize) -> Option<Vec<R>> {
        self.0.take(max)
    }
    pub fn close(&self) {
        self.0.close()
    }
}

/// The journal's completer loop (see `commit.rs`).
pub fn complete<S>(settled: &CommitQueue<S>, deliver: impl FnMut(S)) {
    file::complete(&settled.0, deliver)
}

pub struct Completer<T>(file::Completer<T>);
pub struct Completion<T>(file::Completion<T>);

pub fn completion<T>() -> (Completer<T>, Completion<T>) {
    let (a, b) = file::completion();
    (Completer(a), Completion(b))
}

impl<T> Completer<T> {
    pub fn complete(self, value: T) {
        self.0.complete(value)
    }
}

/// `Release`, for its model.
pub struct Release<T>(file::Release<T>);

impl<T> Release<T> {
    pub fn new() -> Self {
        Release(file::Release::new())
    }
    pub fn push(&mut self, done: Completer<T>, value: T) {
        self.0.push(done.0, value)
    }
    pub fn release(self) {
        self.0.release()
    }
}

impl<T> Completion<T> {
    pub fn wait(self) -> Option<T> {
        self.0.wait()
    }
}
