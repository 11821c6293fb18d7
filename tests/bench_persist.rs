//! The persist benchmark workloads run at a tiny size and count what they did.

#[path = "../examples/bench/persist.rs"]
mod w;

#[test]
fn every_side_runs_at_a_tiny_size() {
    assert_eq!(w::playhouse(20).0, 20);
    assert_eq!(w::baseline(20).0, 20);
    assert_eq!(w::group_commit(40, 8).0, 40);
    assert_eq!(w::replay(1500).0, 1500);
    assert_eq!(w::replay_baseline(1500).0, 1500);
}
