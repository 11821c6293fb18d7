//! The registry of live actors: a slot per actor, names, and the seal shutdown puts on it.

use super::{AnyCell, Shared};
use crate::sync::Arc;
use std::any::{Any, TypeId};
use std::collections::HashMap;

/// The live actors of a system. Each actor is kept at its own slot (stored
/// in its cell), so unregistering neither hashes nor searches; freed slots
/// are reused before the table grows.
/// A named actor is registered by its spawn, an unnamed one by its first
/// turn (see `Shared::spawn_cell`).
///
/// # Invariants
///
/// - Slot `s` is offset `s % PAGE` of page `s / PAGE`; every page holds
///   cells of one type only (its kind), so a slot is a thin pointer (8
///   bytes) rather than a `dyn` one (16): the type is the page's.
/// - A slot is handed out once until it is freed: it is either in its
///   kind's free list, beyond its kind's `fresh` mark, or in use.
#[derive(Default)]
pub(crate) struct Registry {
    pages: Vec<PageOf>,
    /// Each cell type seen, and the index of the last one used (a burst of
    /// spawns is usually of one type: it finds its kind without a hash).
    kinds: Vec<Kind>,
    kind_index: HashMap<TypeId, usize>,
    last_kind: usize,
    /// The slot of each named actor.
    pub(crate) names: HashMap<Arc<str>, u32>,
    /// Shutdown has taken the list of actors to stop: named spawns are
    /// refused, and actors registering now stop on their own.
    pub(crate) sealed: bool,
}

/// Slots per page at most: 8 KiB of slots. A kind's first page has
/// [`FIRST_PAGE`], so a type with a handful of actors does not pay a page.
const PAGE: usize = 1024;
const FIRST_PAGE: usize = 32;

/// A page and the kind whose cells it holds.
struct PageOf {
    slots: Box<dyn Page>,
    kind: usize,
}

/// The slots of one cell type.
struct Kind {
    type_id: TypeId,
    /// Slots freed by stopped actors.
    free: Vec<u32>,
    /// The kind's newest page and its next slot never handed out, if any
    /// is left.
    fresh: Option<(usize, usize)>,
}

/// A page of slots of one cell type, seen without its type.
trait Page: Send {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> Option<Arc<dyn AnyCell>>;
    fn take(&mut self, i: usize) -> Option<Arc<dyn AnyCell>>;
    fn cells(&self) -> Box<dyn Iterator<Item = Arc<dyn AnyCell>> + '_>;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

struct Typed<C>(Box<[Option<Arc<C>>]>);

impl<C: AnyCell + 'static> Page for Typed<C> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Option<Arc<dyn AnyCell>> {
        self.0[i].clone().map(|c| c as Arc<dyn AnyCell>)
    }
    fn take(&mut self, i: usize) -> Option<Arc<dyn AnyCell>> {
        self.0[i].take().map(|c| c as Arc<dyn AnyCell>)
    }
    fn cells(&self) -> Box<dyn Iterator<Item = Arc<dyn AnyCell>> + '_> {
        Box::new(
            self.0
                .iter()
                .flatten()
                .map(|c| Arc::clone(c) as Arc<dyn AnyCell>),
        )
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Registry {
    /// A slot for a cell of type `C` about to be built, left empty for the
    /// caller to [`store`](Registry::store) it in.
    pub(crate) fn take_slot<C: AnyCell + 'static>(&mut self) -> u32 {
        let k = self.kind_of::<C>();
        if let Some(slot) = self.kinds[k].free.pop() {
            return slot;
        }
        let (page, offset) = match self.kinds[k].fresh {
            Some(fresh) => fresh,
            None => {
                let first = !self.pages.iter().any(|p| p.kind == k);
                let len = if first { FIRST_PAGE } else { PAGE };
                self.pages.push(PageOf {
                    slots: Box::new(Typed::<C>((0..len).map(|_| None).collect())),
                    kind: k,
                });
                (self.pages.len() - 1, 0)
            }
        };
        self.kinds[k].fresh =
            (offset + 1 < self.pages[page].slots.len()).then_some((page, offset + 1));
        u32::try_from(page * PAGE + offset).expect("fewer than 2^32 live actors")
    }

    /// Stores `cell` in `slot`, taken for its type by [`Registry::take_slot`].
    pub(crate) fn store<C: AnyCell + 'static>(&mut self, slot: u32, cell: Arc<C>) {
        let (page, offset) = (slot as usize / PAGE, slot as usize % PAGE);
        let page = self.pages[page]
            .slots
            .as_any_mut()
            .downcast_mut::<Typed<C>>()
            .expect("a slot is stored with the type it was taken for");
        debug_assert!(page.0[offset].is_none(), "a slot stored twice");
        page.0[offset] = Some(cell);
    }

    /// The cell at `slot`, if one is stored there.
    fn get(&self, slot: u32) -> Option<Arc<dyn AnyCell>> {
        self.pages[slot as usize / PAGE]
            .slots
            .get(slot as usize % PAGE)
    }

    /// Empties `slot` for its kind to reuse; returns the cell it held.
    fn free(&mut self, slot: u32) -> Option<Arc<dyn AnyCell>> {
        let page = &mut self.pages[slot as usize / PAGE];
        let gone = page.slots.take(slot as usize % PAGE)?;
        self.kinds[page.kind].free.push(slot);
        Some(gone)
    }

    /// Every live registered actor.
    pub(crate) fn cells(&self) -> impl Iterator<Item = Arc<dyn AnyCell>> + '_ {
        self.pages.iter().flat_map(|p| p.slots.cells())
    }

    /// The index of `C`'s kind, made on first use.
    fn kind_of<C: 'static>(&mut self) -> usize {
        let id = TypeId::of::<C>();
        if self
            .kinds
            .get(self.last_kind)
            .is_some_and(|k| k.type_id == id)
        {
            return self.last_kind;
        }
        let k = match self.kind_index.get(&id) {
            Some(&k) => k,
            None => {
                self.kinds.push(Kind {
                    type_id: id,
                    free: Vec::new(),
                    fresh: None,
                });
                self.kind_index.insert(id, self.kinds.len() - 1);
                self.kinds.len() - 1
            }
        };
        self.last_kind = k;
        k
    }
}

impl Shared {
    /// Registers an unnamed actor on its first turn. Returns its slot, and
    /// whether shutdown has already taken its list of actors to stop (the
    /// caller must then stop the actor itself).
    pub(crate) fn register<C: AnyCell + 'static>(&self, cell: Arc<C>) -> (u32, bool) {
        let mut reg = self.registry.lock();
        let slot = reg.take_slot::<C>();
        reg.store(slot, cell);
        (slot, reg.sealed)
    }

    /// The actor registered under `name`, if one is.
    pub(crate) fn named(&self, name: &str) -> Option<Arc<dyn AnyCell>> {
        let reg = self.registry.lock();
        let slot = *reg.names.get(name)?;
        reg.get(slot)
    }

    /// Removes the actor at `slot` (once, when it stops for good) and its name.
    pub(crate) fn unregister(&self, slot: u32, name: Option<&str>) {
        let mut reg = self.registry.lock();
        let gone = reg.free(slot);
        debug_assert!(gone.is_some(), "an actor unregistered twice");
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{FIRST_PAGE, PAGE, Registry};
    use crate::runtime::{AnyCell, ChildNotice, Command};
    use crate::sync::Arc;
    use crate::watch::Notify;
    use std::any::Any;
    use std::time::Duration;

    /// A stand-in cell of kind `K`, known by its id.
    struct Fake<const K: u8>(u64);

    impl<const K: u8> AnyCell for Fake<K> {
        fn id(&self) -> u64 {
            self.0
        }
        fn label(&self) -> String {
            format!("fake{K}#{}", self.0)
        }
        fn is_root(&self) -> bool {
            true
        }
        fn is_supervised(&self) -> bool {
            false
        }
        fn shutdown_timeout(&self) -> Option<Duration> {
            None
        }
        fn running_on(&self) -> Option<usize> {
            None
        }
        fn queued(&self) -> usize {
            0
        }
        fn scheduled(&self) -> bool {
            false
        }
        fn thread_name(&self) -> Option<String> {
            None
        }
        fn is_alive(&self) -> bool {
            true
        }
        fn command(self: Arc<Self>, _: Command) {}
        fn notice(self: Arc<Self>, _: ChildNotice) {}
        fn abandon(&self) {}
        fn add_watcher(&self, _: u64, _: Notify) {}
        fn remove_watcher(&self, _: u64) {}
        fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
            self
        }
    }

    /// A slot is a thin pointer: the registry costs 8 bytes an actor.
    #[test]
    fn a_slot_is_one_word() {
        assert_eq!(
            std::mem::size_of::<Option<Arc<Fake<0>>>>(),
            std::mem::size_of::<usize>()
        );
    }

    fn ids(reg: &Registry) -> Vec<u64> {
        let mut ids: Vec<u64> = reg.cells().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids
    }

    /// Two kinds interleaved keep apart pages, each slot finds its cell, and
    /// a freed slot is reused by its own kind only.
    #[test]
    fn kinds_share_the_table_and_reuse_their_own_slots() {
        let mut reg = Registry::default();
        let n = (FIRST_PAGE + PAGE + 3) as u64;
        let mut slots = Vec::new();
        for id in 0..n {
            let slot = if id % 2 == 0 {
                let s = reg.take_slot::<Fake<0>>();
                reg.store(s, Arc::new(Fake::<0>(id)));
                s
            } else {
                let s = reg.take_slot::<Fake<1>>();
                reg.store(s, Arc::new(Fake::<1>(id)));
                s
            };
            slots.push(slot);
        }
        let mut distinct = slots.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), slots.len(), "a slot handed out twice");
        for (id, &slot) in slots.iter().enumerate() {
            assert_eq!(reg.get(slot).map(|c| c.id()), Some(id as u64));
        }
        assert_eq!(ids(&reg), (0..n).collect::<Vec<_>>());

        // Free one slot of each kind.
        assert_eq!(reg.free(slots[4]).map(|c| c.id()), Some(4));
        assert_eq!(reg.free(slots[7]).map(|c| c.id()), Some(7));
        assert!(reg.free(slots[7]).is_none(), "freed twice");
        assert!(reg.get(slots[4]).is_none());
        assert_eq!(reg.cells().count() as u64, n - 2);
        // Kind 1 takes back its own freed slot, kind 0 its own.
        assert_eq!(reg.take_slot::<Fake<1>>(), slots[7]);
        assert_eq!(reg.take_slot::<Fake<0>>(), slots[4]);
    }
}
