//! The threads a breaker runs a guarded operation on, so that a blocking or
//! hanging call never holds a pool worker.
//!
//! [`OperationRunner`] is a child actor of the breaker: the breaker asks it
//! like any service, and its handler only moves the request and its reply
//! into a bounded channel served by threads it started. A thread answers the
//! reply itself; if the breaker has stopped waiting, [`Reply::send`] hands the
//! value back and it is dropped. When the runner stops, the channel closes and
//! each thread exits after its current call (a hung call keeps its thread
//! until it returns: no thread can be killed).

use super::msg::ServiceRequest;
use crate::sync::{Arc, thread};
use crate::{Actor, ActorError, Context, Reply};
use crossbeam_channel::{Sender, TrySendError, bounded};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

type OpFn<Req, T, E> = Arc<dyn Fn(Req) -> Result<T, E> + Send + Sync>;

/// A guarded operation and the number of threads it runs on.
pub(super) struct Operation<Req, T, E> {
    threads: usize,
    f: OpFn<Req, T, E>,
}

impl<Req, T, E> Operation<Req, T, E> {
    pub(super) fn new(threads: usize, f: OpFn<Req, T, E>) -> Self {
        debug_assert!(threads > 0, "checked by the config");
        Operation { threads, f }
    }
}

impl<Req, T, E> Clone for Operation<Req, T, E> {
    fn clone(&self) -> Self {
        Operation {
            threads: self.threads,
            f: self.f.clone(),
        }
    }
}

/// Hands calls to the operation's threads.
pub(super) struct OperationRunner<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    op: Operation<Req, T, E>,
    jobs: Option<Sender<ServiceRequest<Req, T, E>>>,
}

impl<Req, T, E> OperationRunner<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    pub(super) fn new(op: Operation<Req, T, E>) -> Self {
        OperationRunner { op, jobs: None }
    }
}

impl<Req, T, E> Actor for OperationRunner<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    type Msg = ServiceRequest<Req, T, E>;

    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        let (tx, rx) = bounded::<ServiceRequest<Req, T, E>>(self.op.threads * 4);
        for i in 0..self.op.threads {
            let rx = rx.clone();
            let f = self.op.f.clone();
            thread::Builder::new()
                .name(format!("breaker-op-{i}"))
                .spawn(move || {
                    for (req, reply) in rx.iter() {
                        run_one(&*f, req, reply);
                    }
                })?;
        }
        self.jobs = Some(tx);
        Ok(())
    }

    fn handle(&mut self, _: &mut Context<Self>, (req, reply): Self::Msg) -> Result<(), ActorError> {
        let Some(jobs) = &self.jobs else {
            return Ok(()); // unreachable: `started` sets it; the reply drops
        };
        match jobs.try_send((req, reply)) {
            Ok(()) => {}
            // Dropping the reply fails the call at once (as unavailable).
            Err(TrySendError::Full(_)) => {
                log::warn!("circuit breaker operation threads are saturated; call refused")
            }
            Err(TrySendError::Disconnected(_)) => {
                log::error!("circuit breaker operation threads have exited; call refused")
            }
        }
        Ok(())
    }
}

/// Runs one call unless its caller has stopped waiting. A panic drops the
/// reply, which fails the call.
fn run_one<Req, T: Send, E: Send>(
    f: &(dyn Fn(Req) -> Result<T, E> + Send + Sync),
    req: Req,
    reply: Reply<Result<T, E>>,
) {
    if !reply.is_waiting() {
        return;
    }
    match catch_unwind(AssertUnwindSafe(|| f(req))) {
        Ok(result) => {
            if reply.send(result).is_err() {
                log::debug!("circuit breaker operation answered after its caller gave up");
            }
        }
        Err(_) => log::error!("circuit breaker operation panicked; the call fails"),
    }
}

impl<Req, T, E> fmt::Debug for OperationRunner<Req, T, E>
where
    Req: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationRunner")
            .field("threads", &self.op.threads)
            .finish_non_exhaustive()
    }
}
