//! Internals exposed to the loom models in `loom-tests/`; compiled only under `cfg(loom)`.
#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]

use crate::error::AskError;
use crate::mailbox::{self, Mailbox, Popped, Refused, SendWaker, Sent};
use crate::reply::Slot;
use crate::sync::{Arc, AtomicUsize, Ordering};

pub use crate::mailbox::{Idle, Schedule};
pub use crate::timer::loom_api as timer;

pub use crate::pool::Task;
pub use crate::pool::park::Parker;
pub use crate::pool::queue::{From, Local, Pending, Steal, local};

/// The run queues' lock, for its own model.
pub struct SpinLock<T>(crate::sync::SpinLock<T>);

impl<T> SpinLock<T> {
    pub fn new(value: T) -> Self {
        SpinLock(crate::sync::SpinLock::new(value))
    }

    /// Runs `f` with the value, under the lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.lock())
    }
}

/// `ThreadPool::terminate`, which is crate-internal.
pub fn terminate(
    pool: &crate::ThreadPool,
    timeout: std::time::Duration,
) -> Result<(), Vec<String>> {
    pool.terminate(timeout)
}

/// Runs `job` on `pool` the way an actor's first turn is submitted: staged
/// when the caller is not one of the pool's workers.
pub fn execute_as_start(pool: &crate::ThreadPool, job: impl FnOnce() + Send + 'static) {
    pool.execute_as_start(job);
}

/// A mailbox of `u32` user messages and `u32` control items.
pub struct LoomMailbox {
    inner: Mailbox<u32, u32>,
}

/// Counts the parked sends a sender was woken for, and the wake-ups.
#[derive(Default)]
pub struct CountingWaker {
    /// Parked sends woken for (moved in or dropped).
    pub woken: AtomicUsize,
    /// Wake-ups, each covering one or more parked sends.
    pub calls: AtomicUsize,
    /// Wait-graph edges the parks took (`park` calls) ...
    pub parks: AtomicUsize,
    /// ... and the wake-ups released.
    pub edges: AtomicUsize,
}

impl SendWaker for CountingWaker {
    fn wake(self: Arc<Self>, _target: u64, _delivered: bool, sends: usize, edges: usize) {
        assert!(sends >= 1, "a wake-up covers at least one send");
        assert!(edges <= sends, "an edge is released by one of its sends");
        self.woken.fetch_add(sends, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.edges.fetch_add(edges, Ordering::SeqCst);
    }
}

pub enum Item {
    Control(u32),
    User(u32),
}

pub enum PushOutcome {
    Pushed(Schedule),
    Parked,
    Closed(u32),
}

impl LoomMailbox {
    /// A mailbox whose actor is running (a worker popped it).
    pub fn running(capacity: usize) -> Self {
        let inner = Mailbox::new_scheduled(capacity, None);
        inner.transition_to_running();
        LoomMailbox { inner }
    }

    /// A mailbox whose actor is queued but not yet running.
    pub fn scheduled(capacity: usize) -> Self {
        LoomMailbox {
            inner: Mailbox::new_scheduled(capacity, None),
        }
    }

    pub fn try_push(&self, v: u32) -> Result<Schedule, (u32, bool)> {
        self.inner
            .try_push_with(v, |v| v, &|| {})
            .map_err(|(v, r)| (v, r == Refused::Closed))
    }

    /// Blocks (outside-thread style) until there is room or the mailbox closes.
    pub fn push_blocking(&self, v: u32) -> Result<Schedule, u32> {
        self.inner
            .push_blocking_with(v, None, |v| v, &|| {})
            .map_err(|(v, _)| v)
    }

    pub fn push_or_park(&self, v: u32, waker: &Arc<CountingWaker>) -> PushOutcome {
        self.push_or_park_as(v, 1, waker)
    }

    /// [`push_or_park`](LoomMailbox::push_or_park) from the actor `sender`.
    pub fn push_or_park_as(&self, v: u32, sender: u64, waker: &Arc<CountingWaker>) -> PushOutcome {
        match self.inner.push_or_park(
            v,
            sender,
            false,
            || {
                waker.parks.fetch_add(1, Ordering::SeqCst);
                Some(waker.clone() as Arc<dyn SendWaker>)
            },
            |v| v,
            &|| {},
        ) {
            Ok(Sent::Pushed(s)) => PushOutcome::Pushed(s),
            Ok(Sent::Parked) => PushOutcome::Parked,
            Ok(Sent::Held) => unreachable!("only a sending turn holds"),
            Err(v) => PushOutcome::Closed(v),
        }
    }

    /// Sends a turn held behind one of its sends that parked, pushed in one
    /// go when its handler returns; `Ok` says how many of them parked.
    pub fn push_held(&self, vs: Vec<u32>, waker: &Arc<CountingWaker>) -> Result<usize, Vec<u32>> {
        self.inner
            .push_or_park_staged(vs, 1, || {
                waker.parks.fetch_add(1, Ordering::SeqCst);
                Some(waker.clone() as Arc<dyn SendWaker>)
            })
            .map(|(parked, schedule)| {
                assert_eq!(schedule, Schedule::DoNothing, "the actor is running");
                parked
            })
    }

    /// A send of the actor to itself: never parks, does not count.
    pub fn push_self(&self, v: u32) -> PushOutcome {
        match self.inner.push_or_park(v, 0, true, || None, |v| v, &|| {}) {
            Ok(Sent::Pushed(s)) => PushOutcome::Pushed(s),
            Ok(Sent::Parked) => PushOutcome::Parked,
            Ok(Sent::Held) => unreachable!("only a sending turn holds"),
            Err(v) => PushOutcome::Closed(v),
        }
    }

    /// User messages queued and parked.
    pub fn queued(&self) -> usize {
        self.inner.len()
    }

    pub fn push_control(&self, v: u32) -> Result<Schedule, u32> {
        self.inner.push_control(v)
    }

    /// Pops one item, waking (in place) the senders whose parked messages moved in.
    pub fn pop(&self) -> Option<Item> {
        let mut wakers = mailbox::Resumes::new();
        let item = self.inner.pop(true, &mut wakers);
        wakers.wake_all(0);
        item.map(|i| match i {
            Popped::Control(c) => Item::Control(c),
            Popped::User(u) => Item::User(u),
        })
    }

    pub fn transition_to_running(&self) {
        self.inner.transition_to_running();
    }

    /// The end of a turn that stopped taking items for another reason (its
    /// budget): the lanes are looked at again.
    pub fn transition_to_idle(&self) -> Idle {
        self.inner.transition_to_idle(true, false, false)
    }

    /// The end of a turn whose last `pop` found nothing.
    pub fn transition_to_idle_drained(&self) -> Idle {
        self.inner.transition_to_idle(true, true, false)
    }

    /// `pop` that also returns the hint (the slot after a user message was
    /// already written), as the runner's `turn_items` uses it.
    pub fn pop_hinted(&self) -> Option<(Item, bool)> {
        let mut wakers = mailbox::Resumes::new();
        let item = self.inner.pop_hinted(true, &mut wakers);
        wakers.wake_all(0);
        item.map(|(i, more)| {
            (
                match i {
                    Popped::Control(c) => Item::Control(c),
                    Popped::User(u) => Item::User(u),
                },
                more,
            )
        })
    }

    pub fn looks_empty(&self) -> bool {
        self.inner.looks_empty()
    }

    /// `transition_to_idle` with every argument the runner passes.
    pub fn transition_to_idle_with(&self, drained: bool, keep_block: bool) -> Idle {
        self.inner.transition_to_idle(true, drained, keep_block)
    }

    /// A push whose message mapping panics after the claim; `resubmit` is
    /// what the cell passes (it queues the actor). Returns whether the
    /// mapping ran (the claim succeeded).
    pub fn try_push_panicking(&self, resubmit: &dyn Fn()) -> bool {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.inner
                .try_push_with(0u32, |_| panic!("mapping panics"), resubmit)
                .is_ok()
        }));
        match r {
            Ok(ok) => {
                assert!(!ok, "the mapping always panics");
                false
            }
            Err(_) => true,
        }
    }

    /// Closes both lanes (the actor stopped); returns how many control items it
    /// held.
    pub fn close(&self) -> usize {
        self.inner.close().control.len()
    }

    /// Closes the user lane; returns the user messages it held (parked included;
    /// their senders are woken).
    pub fn close_user(&self) -> Vec<u32> {
        let d: mailbox::Drained<u32, u32> = self.inner.close_user();
        let mut out = d.user;
        let mut resumes = d.resumes;
        resumes.wake_all_dropped(0);
        out.extend(d.parked);
        out
    }
}

/// A reply slot of `u32`.
pub struct LoomSlot {
    inner: Arc<Slot<u32>>,
}

impl LoomSlot {
    pub fn for_thread() -> Self {
        LoomSlot {
            inner: Slot::for_thread(None),
        }
    }

    /// A slot whose callback adds the answer (or 1000 for an error) to `sink`.
    pub fn for_callback(sink: Arc<AtomicUsize>, calls: Arc<AtomicUsize>) -> Self {
        LoomSlot {
            inner: Slot::for_callback(None, move |r: Result<u32, AskError>| {
                calls.fetch_add(1, Ordering::SeqCst);
                sink.fetch_add(r.map_or(1000, |v| v as usize), Ordering::SeqCst);
            }),
        }
    }

    pub fn clone_slot(&self) -> Self {
        LoomSlot {
            inner: self.inner.clone(),
        }
    }

    /// Answers; gives the value back if the slot was already decided.
    pub fn reply(&self, v: u32) -> Result<(), u32> {
        self.inner
            .complete(Ok(v))
            .map_err(|o| o.expect("we sent Ok"))
    }

    /// The timer firing: decides with a timeout. True if it decided.
    pub fn time_out(&self) -> bool {
        self.inner.complete(Err(AskError::Timeout)).is_ok()
    }

    /// The reply handle dropped unanswered. True if it decided.
    pub fn drop_reply(&self) -> bool {
        self.inner.complete(Err(AskError::ReplyDropped)).is_ok()
    }

    /// A blocked asker waiting without a deadline loom could model.
    pub fn wait(&self) -> Result<u32, AskError> {
        self.inner.wait(None)
    }

    /// The asker giving up at its deadline.
    pub fn abandon(&self) -> Result<u32, AskError> {
        self.inner.abandon()
    }

    /// A turn handling this slot's request, as `on_message` does: the
    /// handler drops the reply unanswered, then fails (or not); the slot is
    /// decided when the handler returns.
    pub fn handle_dropping_reply(&self, failed: bool) {
        let handling = crate::reply::Handling::begin(self.inner.clone());
        drop(crate::reply::Reply::new(self.inner.clone()));
        handling.finish(failed);
    }
}

/// The graph of suspended actors.
pub use crate::runtime::WaitGraph;

/// The in-flight count behind `await_quiescent`.
pub use crate::quiet::{Credit, Quiet};

/// The watchers of one actor.
pub use crate::watch::Watchers;

/// The one-task slot between a dedicated actor's senders and its thread.
pub use crate::dedicated::Runner;

/// The test kit's probe queue (`testkit/inbox.rs`), for its own model.
pub struct LoomInbox(crate::testkit::Inbox<u32>);

/// A sending side of a [`LoomInbox`]; the queue closes with the last one.
pub struct LoomFeed(crate::testkit::Feed<u32>);

/// An empty queue and its first feed.
pub fn inbox() -> (LoomFeed, LoomInbox) {
    let (feed, inbox) = crate::testkit::queue();
    (LoomFeed(feed), LoomInbox(inbox))
}

impl LoomFeed {
    pub fn push(&self, v: u32) {
        self.0.push(v);
    }

    /// Another feed (the queue stays open until both are dropped).
    pub fn another(&self) -> LoomFeed {
        LoomFeed(self.0.clone())
    }
}

impl LoomInbox {
    /// The next item, waiting (loom never times a wait out); `None` once the
    /// queue is closed and empty.
    pub fn next(&self) -> Option<u32> {
        self.0
            .expect(std::time::Duration::MAX, String::new, |_| true)
            .ok()
    }
}

/// The shim's box installed on first use, for its own model.
pub struct OnceBox<T>(crate::sync::OnceBox<T>);

impl<T> OnceBox<T> {
    pub fn new(value: Option<Box<T>>) -> Self {
        OnceBox(crate::sync::OnceBox::new(value))
    }

    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }

    pub fn get_or_init(&self, init: impl FnOnce() -> T) -> Result<&T, usize> {
        self.0.get_or_init(init)
    }

    pub fn seal(&self, tag: usize) -> Result<(), &T> {
        self.0.seal(tag)
    }
}
