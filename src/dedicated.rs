//! A thread of its own for one actor ([`crate::SpawnOptions::dedicated_thread`]):
//! where handlers that block (file or network I/O, sleeps, long locks) run
//! without holding a pool worker.
//!
//! The actor is the same cell as on the pool (mailbox, backpressure,
//! supervision, watch, shutdown); only where its run token goes differs. The
//! pool's run queues are replaced by a [`Runner`]: a one-task slot with a
//! condition variable, which the thread waits on between turns.
//!
//! # Protocol
//!
//! 1. Whoever takes the actor's run token (`IDLE -> SCHEDULED`, as on the
//!    pool) hands the task to [`Runner::submit`], which stores it under the
//!    lock and signals. At most one task is ever stored: the run token is one.
//! 2. The thread takes it in [`Runner::next`] and runs turns until a turn
//!    leaves the actor idle (the token parked in the mailbox) or ends it,
//!    then waits in `next` again. A submit before the wait is found under
//!    the lock; one after it signals the wait: no wake-up is lost.
//! 3. [`Runner::close`] (the actor's final turn, the handle's drop, or a
//!    shutdown) makes `next` return `None` once no task is stored; that
//!    return marks the runner exited under the same lock, so a later submit
//!    is refused (the caller drops the task, which releases the token) rather
//!    than stored where no thread will take it. The thread then ends, and a
//!    shutdown waiting in [`Runner::wait_exited`] is signalled.
//!
//! `loom-tests/dedicated.rs` models the three.

use crate::pool::Runnable;
use crate::sync::{Arc, Condvar, Mutex, thread};
use std::time::Instant;

/// The `worker` index a turn on a dedicated thread is run with: no pool
/// worker has it, so a turn's per-worker bookkeeping takes another path
/// (see `Shared::turn_done`).
pub(crate) const DEDICATED: usize = (u32::MAX - 1) as usize;

/// The one-task slot between an actor's senders and its thread.
#[derive(Debug)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct Runner<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
}

#[derive(Debug)]
struct State<T> {
    task: Option<T>,
    closed: bool,
    exited: bool,
}

impl<T> Default for Runner<T> {
    fn default() -> Self {
        Runner {
            state: Mutex::new(State {
                task: None,
                closed: false,
                exited: false,
            }),
            wake: Condvar::new(),
        }
    }
}

#[allow(unreachable_pub)]
impl<T> Runner<T> {
    /// Hands a task to the thread (step 1); refused once it has exited.
    pub fn submit(&self, task: T) -> Result<(), T> {
        let mut st = self.state.lock();
        if st.exited {
            return Err(task);
        }
        debug_assert!(st.task.is_none(), "one run token, one task");
        st.task = Some(task);
        drop(st);
        self.wake.notify_all();
        Ok(())
    }

    /// The next task, waiting for one; `None` once closed with none left,
    /// which marks the runner exited (step 3).
    pub fn next(&self) -> Option<T> {
        let mut st = self.state.lock();
        loop {
            if let Some(t) = st.task.take() {
                return Some(t);
            }
            if st.closed {
                st.exited = true;
                drop(st);
                self.wake.notify_all();
                return None;
            }
            st = self.wake.wait(st);
        }
    }

    /// No more waiting for tasks: the thread ends once the stored one (if
    /// any) has run.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.wake.notify_all();
    }

    /// Waits until the thread has left `next` for good, or `deadline`
    /// passes (never, when `None`). Returns whether it has.
    pub fn wait_exited(&self, deadline: Option<Instant>) -> bool {
        let mut st = self.state.lock();
        while !st.exited {
            st = match deadline {
                None => self.wake.wait(st),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    self.wake.wait_timeout(st, d - now)
                }
            };
        }
        true
    }
}

/// An actor's share of its runner: closes it when dropped (a spawn that was
/// refused, or a cell gone), so the thread never outlives its actor's cell.
pub(crate) struct RunnerHandle(pub(crate) Arc<Runner<Arc<dyn Runnable>>>, pub(crate) String);

impl Drop for RunnerHandle {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl std::fmt::Debug for RunnerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunnerHandle")
    }
}

crate::sync::thread_local! {
    /// The system (its `Shared`, as an address) whose dedicated thread this is.
    static RUNNER_OF: std::cell::Cell<usize> = std::cell::Cell::new(0);
}

/// Whether the calling thread is a dedicated thread of the system at
/// `system` (its `Shared`).
pub(crate) fn is_runner_of<S>(system: *const S) -> bool {
    RUNNER_OF.with(|c| c.get() == system as usize)
}

/// A started dedicated thread, for shutdown to wait for and join.
pub(crate) struct Started {
    pub(crate) runner: Arc<Runner<Arc<dyn Runnable>>>,
    pub(crate) thread: thread::JoinHandle<()>,
    pub(crate) name: String,
}

/// Starts a dedicated thread named `name` for the system at `system`.
pub(crate) fn start<S>(system: *const S, name: String) -> std::io::Result<(RunnerHandle, Started)> {
    let runner: Arc<Runner<Arc<dyn Runnable>>> = Arc::new(Runner::default());
    let r = Arc::clone(&runner);
    let system = system as usize;
    let thread = thread::Builder::new().name(name.clone()).spawn(move || {
        RUNNER_OF.with(|c| c.set(system));
        while let Some(mut task) = r.next() {
            // Turns until the actor is idle or ended: there is nobody else
            // on this thread to yield to.
            while let Some(again) = task.run(DEDICATED) {
                task = again;
            }
        }
    })?;
    Ok((
        RunnerHandle(Arc::clone(&runner), name.clone()),
        Started {
            runner,
            thread,
            name,
        },
    ))
}
