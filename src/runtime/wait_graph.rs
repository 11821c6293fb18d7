//! The send wait-for graph: which actors are suspended on which, so that no
//! cycle of suspended actors forms.

use crate::sync::Mutex;
use std::collections::HashMap;

/// Which actors are suspended on which: an edge `a -> b`, with the number of
/// `a`'s sends parked on `b`'s full mailbox.
///
/// A suspended actor takes no messages, so a cycle of actors each parked on the
/// next would never drain. Before a send parks, [`WaitGraph::try_wait`] looks
/// for a path from the target back to the sender; if there is one, the send goes
/// in over capacity instead. Checking and adding under one lock means that of
/// two actors closing a cycle at once, the second sees the first's edge. Only
/// the parking path (a full mailbox) and the resume path take this lock.
///
/// # Invariants
///
/// The graph is acyclic: an edge is added only under the lock, after a
/// search from its target found no path back to its waiter. So a send whose
/// waiter already has an edge to its target (an actor that goes on sending
/// to a full mailbox in the turn that parked it) needs no search: a path
/// back would already close a cycle with that edge. It only counts one more.
#[derive(Default, Debug)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct WaitGraph {
    edges: Mutex<Edges>,
}

/// For each waiter, its targets and the sends parked on each.
type Edges = HashMap<u64, Vec<(u64, usize)>, IdHash>;

/// Hashing for actor ids, which are distinct and handed out in sequence:
/// one multiplication (Fibonacci hashing) spreads them over the high bits
/// the table's control bytes use, where SipHash's resistance to chosen keys
/// buys nothing.
#[derive(Default, Debug, Clone, Copy)]
struct IdHash;

#[derive(Default)]
struct IdHasher(u64);

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0 ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[allow(unreachable_pub)]
impl WaitGraph {
    /// Records that `waiter` parks a send on `target`, unless `target` already
    /// waits (directly or through others) for `waiter`: then returns `false`
    /// and records nothing.
    pub fn try_wait(&self, waiter: u64, target: u64) -> bool {
        let mut edges = self.edges.lock();
        if let Some(edge) = edges
            .get_mut(&waiter)
            .and_then(|targets| targets.iter_mut().find(|(t, _)| *t == target))
        {
            // Acyclic with this edge, so no path leads back (the invariant).
            edge.1 += 1;
            return true;
        }
        if target == waiter {
            return false;
        }
        // A target that waits for nobody (a sink, most often) leads nowhere:
        // no search, and nothing to allocate for one.
        if edges.contains_key(&target) {
            let mut stack = vec![target];
            let mut seen = std::collections::HashSet::with_hasher(IdHash);
            while let Some(node) = stack.pop() {
                if node == waiter {
                    return false;
                }
                if seen.insert(node)
                    && let Some(next) = edges.get(&node)
                {
                    stack.extend(next.iter().map(|(t, _)| *t));
                }
            }
        }
        edges.entry(waiter).or_default().push((target, 1));
        true
    }

    /// Removes `sends` parked sends `waiter -> target` (they moved in or
    /// were dropped), and the edge with its last.
    pub fn done(&self, waiter: u64, target: u64, sends: usize) {
        let mut edges = self.edges.lock();
        if let Some(targets) = edges.get_mut(&waiter) {
            if let Some(i) = targets.iter().position(|(t, _)| *t == target) {
                debug_assert!(targets[i].1 >= sends, "more sends done than parked");
                targets[i].1 = targets[i].1.saturating_sub(sends);
                if targets[i].1 == 0 {
                    targets.swap_remove(i);
                }
            }
            if targets.is_empty() {
                edges.remove(&waiter);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::WaitGraph;

    #[test]
    fn wait_graph_refuses_the_edge_that_closes_a_cycle() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(2, 3));
        assert!(!g.try_wait(3, 1), "3 -> 1 closes 1 -> 2 -> 3 -> 1");
        assert!(g.try_wait(3, 4), "no cycle through 4");
        assert!(!g.try_wait(4, 4), "a send to itself is a cycle");
        g.done(2, 3, 1);
        assert!(g.try_wait(3, 1), "the path 2 -> 3 is gone");
    }

    #[test]
    fn wait_graph_counts_parallel_edges() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(1, 2));
        g.done(1, 2, 1);
        assert!(!g.try_wait(2, 1), "one parked send of 1 on 2 remains");
        g.done(1, 2, 1);
        assert!(g.try_wait(2, 1));
    }

    #[test]
    fn sends_done_together_remove_the_edge_once_all_are_done() {
        let g = WaitGraph::default();
        for _ in 0..3 {
            assert!(g.try_wait(1, 2));
        }
        g.done(1, 2, 2);
        assert!(!g.try_wait(2, 1), "one parked send of 1 on 2 remains");
        g.done(1, 2, 1);
        assert!(g.try_wait(2, 1), "all three are done");
    }

    #[test]
    fn a_repeated_send_on_the_same_target_still_blocks_the_cycle_back() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(2, 3));
        // Counted on the edge 1 -> 2, no search.
        assert!(g.try_wait(1, 2));
        assert!(!g.try_wait(3, 1), "3 -> 1 closes 1 -> 2 -> 3 -> 1");
        g.done(1, 2, 1);
        assert!(!g.try_wait(3, 1), "one parked send of 1 on 2 remains");
        g.done(1, 2, 1);
        assert!(g.try_wait(3, 1), "both parked sends of 1 on 2 are gone");
        assert!(!g.try_wait(1, 2), "now 2 -> 3 -> 1 closes 1 -> 2");
    }
}
