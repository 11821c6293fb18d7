//! The subscriptions a bus keeps across a restart by its supervisor.
//!
//! A restarted bus keeps its address (and so its id), and its subscribers get
//! no notice of the restart: they would never subscribe again. So every bus
//! built by one [`EventBusBuilder::factory`](super::EventBusBuilder::factory)
//! writes its subscriptions through to a [`Keep`] that the factory shares with
//! each instance it builds, under the bus's actor id; the instance a restart
//! builds reads them back in its `started` hook. The subscriptions keep their
//! ids, so a [`Subscription`](super::Subscription) from before the restart
//! still unsubscribes. What is lost is what lived only in the failed instance:
//! the counters, and the events a `DropOldest` buffer held.
//!
//! One factory may build several buses (two supervisors' children, say, or
//! the buses a supervisor restarted as a whole builds one after the other), so
//! the entries are per bus id. A bus that stops for good forgets its entry in
//! its `stopped` hook. One that fails for good runs no hook: its entry goes at
//! the next subscription or restart of any bus of the same factory, which
//! drops the entries of dead buses, or with the factory. Until then it keeps
//! the senders of its channel subscriptions.

use super::subscribe::{Overflow, Topics};
use crate::addr::Recipient;
use crate::sync::Mutex;
use crossbeam_channel::Sender;
use std::collections::{BTreeMap, HashMap};

/// Where a kept subscription delivers.
pub(super) enum Target<E: Send + 'static> {
    /// An actor (or any recipient) the subscriber gave.
    Actor(Recipient<E>),
    /// A channel: the bus spawns a forwarder for it again after a restart,
    /// since its forwarder, a child of the bus, stops with the failed instance.
    Channel(Sender<E>),
}

impl<E: Send + 'static> Clone for Target<E> {
    fn clone(&self) -> Self {
        match self {
            Target::Actor(r) => Target::Actor(r.clone()),
            Target::Channel(tx) => Target::Channel(tx.clone()),
        }
    }
}

/// One subscription as kept: enough to subscribe again.
pub(super) struct Kept<E: Send + 'static, K> {
    pub(super) target: Target<E>,
    pub(super) topics: Topics<K>,
    pub(super) overflow: Overflow,
}

impl<E: Send + 'static, K: Clone> Clone for Kept<E, K> {
    fn clone(&self) -> Self {
        Kept {
            target: self.target.clone(),
            topics: self.topics.clone(),
            overflow: self.overflow,
        }
    }
}

/// Whether a bus has not stopped for good (a restart is not a stop).
pub(super) type Alive = Box<dyn Fn() -> bool + Send + Sync>;

/// One bus's entry.
struct KeptBus<E: Send + 'static, K> {
    next_sub: u64,
    subs: BTreeMap<u64, Kept<E, K>>,
    alive: Alive,
}

/// What a restarted bus subscribes again from.
pub(super) struct Restore<E: Send + 'static, K> {
    /// The next subscription id the bus hands out.
    pub(super) next_sub: u64,
    pub(super) subs: BTreeMap<u64, Kept<E, K>>,
}

/// The subscriptions of the buses one factory built, by bus id.
pub(super) struct Keep<E: Send + 'static, K> {
    buses: Mutex<HashMap<u64, KeptBus<E, K>>>,
}

impl<E: Send + 'static, K: Clone> Keep<E, K> {
    pub(super) fn new() -> Self {
        Keep {
            buses: Mutex::new(HashMap::new()),
        }
    }

    /// Records subscription `id` of bus `bus`, and the bus's next id; `alive`
    /// makes the bus's entry if it has none. Drops the entries of dead buses.
    pub(super) fn add(
        &self,
        bus: u64,
        id: u64,
        next_sub: u64,
        kept: Kept<E, K>,
        alive: impl FnOnce() -> Alive,
    ) {
        let mut buses = self.buses.lock();
        prune(&mut buses, bus);
        let entry = buses.entry(bus).or_insert_with(|| KeptBus {
            next_sub,
            subs: BTreeMap::new(),
            alive: alive(),
        });
        entry.next_sub = next_sub;
        entry.subs.insert(id, kept);
    }

    /// Forgets subscription `id` of bus `bus`.
    pub(super) fn remove(&self, bus: u64, id: u64) {
        if let Some(entry) = self.buses.lock().get_mut(&bus) {
            entry.subs.remove(&id);
        }
    }

    /// A copy of bus `bus`'s entry, if it has one (a restart), to subscribe
    /// from. Drops the entries of dead buses.
    pub(super) fn get(&self, bus: u64) -> Option<Restore<E, K>> {
        let mut buses = self.buses.lock();
        prune(&mut buses, bus);
        let entry = buses.get(&bus)?;
        Some(Restore {
            next_sub: entry.next_sub,
            subs: entry.subs.clone(),
        })
    }

    /// Forgets bus `bus` (it stopped for good).
    pub(super) fn forget(&self, bus: u64) {
        self.buses.lock().remove(&bus);
    }
}

/// Drops the entries of buses other than `bus` that stopped for good.
fn prune<E: Send + 'static, K>(buses: &mut HashMap<u64, KeptBus<E, K>>, bus: u64) {
    buses.retain(|&id, entry| id == bus || (entry.alive)());
}
