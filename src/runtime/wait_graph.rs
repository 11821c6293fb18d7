//! The send wait-for graph: which actors are suspended on which, so that no
//! cycle of suspended actors forms.

use crate::sync::Mutex;
use std::collections::HashMap;

/// Which actors are suspended on which: an edge `a -> b` for each send of `a`
/// parked on `b`'s full mailbox.
///
/// A suspended actor takes no messages, so a cycle of actors each parked on the
/// next would never drain. Before a send parks, [`WaitGraph::try_wait`] looks
/// for a path from the target back to the sender; if there is one, the send goes
/// in over capacity instead. Checking and adding under one lock means that of
/// two actors closing a cycle at once, the second sees the first's edge. Only
/// the parking path (a full mailbox) and the resume path take this lock.
#[derive(Default, Debug)]
#[allow(unreachable_pub)] // `pub` so loom_api can re-export it to the loom models
pub struct WaitGraph {
    edges: Mutex<HashMap<u64, Vec<u64>>>,
}

#[allow(unreachable_pub)]
impl WaitGraph {
    /// Records that `waiter` parks a send on `target`, unless `target` already
    /// waits (directly or through others) for `waiter`: then returns `false`
    /// and records nothing.
    pub fn try_wait(&self, waiter: u64, target: u64) -> bool {
        let mut edges = self.edges.lock();
        let mut stack = vec![target];
        let mut seen = std::collections::HashSet::new();
        while let Some(node) = stack.pop() {
            if node == waiter {
                return false;
            }
            if seen.insert(node)
                && let Some(next) = edges.get(&node)
            {
                stack.extend(next.iter().copied());
            }
        }
        edges.entry(waiter).or_default().push(target);
        true
    }

    /// Removes one edge `waiter -> target` (its parked send moved in or was
    /// dropped).
    pub fn done(&self, waiter: u64, target: u64) {
        let mut edges = self.edges.lock();
        if let Some(targets) = edges.get_mut(&waiter) {
            if let Some(i) = targets.iter().position(|t| *t == target) {
                targets.swap_remove(i);
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
        g.done(2, 3);
        assert!(g.try_wait(3, 1), "the path 2 -> 3 is gone");
    }

    #[test]
    fn wait_graph_counts_parallel_edges() {
        let g = WaitGraph::default();
        assert!(g.try_wait(1, 2));
        assert!(g.try_wait(1, 2));
        g.done(1, 2);
        assert!(!g.try_wait(2, 1), "one parked send of 1 on 2 remains");
        g.done(1, 2);
        assert!(g.try_wait(2, 1));
    }
}
