//! The subscriptions a bus keeps across a restart by its supervisor.
//!
//! A restarted bus keeps its address, and its subscribers get no notice of
//! the restart: they would never subscribe again. So a supervised bus (no
//! other is ever restarted) writes its subscriptions through to the state
//! any actor can keep across its restarts ([`crate::Context::kept_mut`]),
//! which outlives whatever ends the instance (a failure, or a halt by the
//! supervisor: a sibling's failure under `OneForAll`, say) and is dropped
//! when the actor stops for good. The instance a restart
//! builds reads them back in its `started` hook. The subscriptions keep
//! their ids, so a [`Subscription`](super::Subscription) from before the
//! restart still unsubscribes. What is lost is what lived only in the ended
//! instance: the counters, the events a `DropOldest` buffer held, and those
//! a channel subscription's forwarder (a child of the bus, stopped with the
//! instance) had not yet handed to its channel.

use super::subscribe::{Overflow, Topics};
use crate::Recipient;
use crossbeam_channel::Sender;
use std::collections::BTreeMap;

/// Where a kept subscription delivers.
pub(super) enum Target<E: Send + 'static> {
    /// An actor (or any recipient) the subscriber gave.
    Actor(Recipient<E>),
    /// A channel: a restarted bus spawns a forwarder for it again. The
    /// sender is dropped with the rest when the bus stops for good, so the
    /// channel still closes then.
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

/// A bus's kept subscriptions, by id, and the next id it hands out.
pub(super) struct KeptSubs<E: Send + 'static, K> {
    pub(super) next_sub: u64,
    pub(super) subs: BTreeMap<u64, Kept<E, K>>,
}

impl<E: Send + 'static, K> Default for KeptSubs<E, K> {
    fn default() -> Self {
        KeptSubs {
            next_sub: 1,
            subs: BTreeMap::new(),
        }
    }
}

impl<E: Send + 'static, K: Clone> Clone for KeptSubs<E, K> {
    fn clone(&self) -> Self {
        KeptSubs {
            next_sub: self.next_sub,
            subs: self.subs.clone(),
        }
    }
}
