//! The registry of live actors: a slot per actor, names, and the seal shutdown puts on it.

use super::{AnyCell, Shared};
use crate::sync::Arc;
use std::collections::HashMap;

/// The live actors of a system. Each actor is kept at its own slot (its
/// index in `slots`, stored in its cell), so registering and unregistering
/// neither hash nor rehash; freed slots are reused before the table grows.
/// A named actor is registered by its spawn, an unnamed one by its first
/// turn (see `Shared::spawn_cell`).
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) slots: Slots,
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
        self.slots.push_empty()
    }

    pub(crate) fn cells(&self) -> impl Iterator<Item = &Arc<dyn AnyCell>> {
        self.slots.iter().flatten()
    }
}

/// Slots per page of [`Slots`]: 16 KiB of slots.
const PAGE: usize = 1024;

type Slot = Option<Arc<dyn AnyCell>>;

/// The registry's slots, in pages of [`PAGE`] that never move: the table
/// grows a page at a time, so growing copies no slot, and the memory it
/// holds beyond its slots in use is at most one page (and the small list
/// of pages), where a doubling vector would hold up to as many again.
#[derive(Default)]
pub(crate) struct Slots {
    pages: Vec<Box<[Slot]>>,
    /// Slots handed out so far; each stays this table's for its life.
    len: usize,
}

impl Slots {
    /// A new empty slot at the end of the table.
    fn push_empty(&mut self) -> u32 {
        let slot = u32::try_from(self.len).expect("fewer than 2^32 live actors");
        if self.len == self.pages.len() * PAGE {
            self.pages.push((0..PAGE).map(|_| None).collect());
        }
        self.len += 1;
        slot
    }

    fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.pages.iter().flat_map(|p| p.iter()).take(self.len)
    }
}

impl std::ops::Index<usize> for Slots {
    type Output = Slot;
    fn index(&self, i: usize) -> &Slot {
        debug_assert!(i < self.len, "slot {i} was never handed out");
        &self.pages[i / PAGE][i % PAGE]
    }
}

impl std::ops::IndexMut<usize> for Slots {
    fn index_mut(&mut self, i: usize) -> &mut Slot {
        debug_assert!(i < self.len, "slot {i} was never handed out");
        &mut self.pages[i / PAGE][i % PAGE]
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
