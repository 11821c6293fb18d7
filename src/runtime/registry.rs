//! The registry of live actors: a slot per actor, names, and the seal shutdown puts on it.

use super::{AnyCell, Shared};
use crate::sync::Arc;
use std::collections::HashMap;

/// The live actors of a system. Each actor is kept at its own slot (its
/// index in `slots`, stored in its cell), so registering and unregistering
/// neither hash nor rehash; freed slots are reused before the table grows. A named actor is registered by its spawn, an unnamed one by
/// its first turn (see `Shared::spawn_cell`).
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) slots: Vec<Option<Arc<dyn AnyCell>>>,
    /// Slots freed by stopped actors.
    pub(crate) free: Vec<u32>,
    /// The slot of each named actor.
    pub(crate) names: HashMap<Arc<str>, u32>,
    /// Shutdown has taken the list of actors to stop: named spawns are
    /// refused, and actors registering now stop on their own.
    pub(crate) sealed: bool,
}

impl Registry {
    /// A slot for an actor about to be built, left empty for the caller to
    /// store the cell in.
    pub(crate) fn take_slot(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 live actors");
        self.slots.push(None);
        slot
    }

    pub(crate) fn cells(&self) -> impl Iterator<Item = &Arc<dyn AnyCell>> {
        self.slots.iter().flatten()
    }
}

impl Shared {
    /// Registers an unnamed actor on its first turn. Returns its slot, and
    /// whether shutdown has already taken its list of actors to stop (the
    /// caller must then stop the actor itself).
    pub(crate) fn register(&self, cell: Arc<dyn AnyCell>) -> (u32, bool) {
        let mut reg = self.registry.lock();
        let slot = reg.take_slot();
        reg.slots[slot as usize] = Some(cell);
        (slot, reg.sealed)
    }

    /// The actor registered under `name`, if one is.
    pub(crate) fn named(&self, name: &str) -> Option<Arc<dyn AnyCell>> {
        let reg = self.registry.lock();
        let slot = *reg.names.get(name)?;
        reg.slots[slot as usize].clone()
    }

    /// Removes the actor at `slot` (once, when it stops for good) and its name.
    pub(crate) fn unregister(&self, slot: u32, name: Option<&str>) {
        let mut reg = self.registry.lock();
        let gone = reg.slots[slot as usize].take();
        debug_assert!(gone.is_some(), "an actor unregistered twice");
        reg.free.push(slot);
        if let Some(n) = name
            && reg.names.get(n) == Some(&slot)
        {
            reg.names.remove(n);
        }
        // The cell's last reference may not be this one, but if it were, its
        // drop (user values) must not run under the lock.
        drop(reg);
        drop(gone);
    }
}
