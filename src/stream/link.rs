//! How actors of one pipeline are wired: the messages on a link, the inlet a stage is spawned against, and the start-up context.

use super::clock::Clock;
use super::error::StartError;
use super::handle::StageCounters;
use crate::sync::Arc;
use crate::{Actor, Addr, Recipient, SpawnOptions, System};
use std::time::Instant;

/// What travels downstream on a link.
pub(super) enum Down<T> {
    /// One element, sent on one credit.
    Elem(T),
    /// The upstream has no more elements (needs no credit).
    End,
    /// The stream failed upstream; stop without flushing (needs no credit).
    Fail(super::StreamError),
}

/// What travels upstream on a link.
pub(super) enum Up {
    /// `n` more credits.
    Demand(u64),
    /// Downstream wants nothing more: stop and pass it on.
    Cancel,
}

/// The messages of a one-input stage actor (and of a sink).
pub(super) enum StageMsg<T> {
    /// From upstream.
    Down(Down<T>),
    /// From downstream.
    Up(Up),
    /// The upstream's address, once it is spawned: grant it credit.
    Wire(Recipient<Up>),
    /// A clock tick, stamped with its time.
    Tick(Instant),
}

/// Where a stage sends: the downstream's inbox, and how to tell the
/// downstream where to send demand.
pub(super) struct Inlet<T: Send + 'static> {
    pub(super) down: Recipient<Down<T>>,
    pub(super) wire: Box<dyn FnOnce(Recipient<Up>) + Send>,
}

impl<T: Send + 'static> Inlet<T> {
    /// The inlet of a one-input actor.
    pub(super) fn of<A: Actor<Msg = StageMsg<T>>>(addr: &Addr<A>) -> Self {
        let wire = addr.clone();
        Inlet {
            down: addr.recipient_with(StageMsg::Down),
            wire: Box::new(move |up| {
                let _ = wire.tell(StageMsg::Wire(up));
            }),
        }
    }
}

/// The start-up context: the system, the clock, and what the handle collects.
pub(super) struct Build<'a> {
    pub(super) system: &'a System,
    pub(super) clock: Clock,
    pub(super) actors: Vec<Box<dyn Stoppable>>,
    /// Cloned into every actor, which drops it once it has stopped: the
    /// handle learns that every actor is gone when the channel disconnects.
    pub(super) alive: Alive,
    pub(super) counters: Vec<Arc<StageCounters>>,
}

impl Build<'_> {
    /// Counters for a new stage called `name`.
    pub(super) fn counters(&mut self, name: &str) -> Arc<StageCounters> {
        let c = Arc::new(StageCounters::new(name.to_string()));
        self.counters.push(c.clone());
        c
    }

    /// Spawns `actor` with room for `capacity` elements plus control traffic,
    /// and records how to stop it.
    pub(super) fn spawn<A: Actor + Tracked>(
        &mut self,
        mut actor: A,
        capacity: usize,
    ) -> Result<Addr<A>, StartError> {
        actor.track(self.alive.clone());
        let (tx, rx) = crossbeam_channel::bounded(1);
        let _ = tx.send(actor);
        // Stage actors are never restarted by a supervisor, so the factory
        // runs once; the channel moves the built actor into it.
        let addr = self.system.spawn_with(
            SpawnOptions::new().mailbox_capacity(capacity + 64),
            move || rx.try_recv().expect("a stream stage is built once"),
        )?;
        self.actors.push(Box::new(addr.clone()));
        Ok(addr)
    }
}

/// Spawns the part of a pipeline upstream of an inlet.
pub(super) type SpawnFn<T> =
    Box<dyn FnOnce(&mut Build<'_>, Inlet<T>) -> Result<(), StartError> + Send>;

/// One actor of a pipeline, as the handle sees it.
pub(super) trait Stoppable: Send + Sync {
    fn stop(&self);
}

impl<A: Actor> Stoppable for Addr<A> {
    fn stop(&self) {
        Addr::stop(self);
    }
}

/// Held by each actor of a pipeline until its `stopped` hook (which runs after
/// its queued messages went to dead letters); never sent on.
pub(super) type Alive = crossbeam_channel::Sender<()>;

/// An actor of a pipeline, which holds an [`Alive`] token while it runs.
pub(super) trait Tracked {
    fn track(&mut self, alive: Alive);
}
