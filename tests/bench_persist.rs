//! The persist benchmark workload runs at a tiny size and counts what it did.

#[path = "../examples/bench/persist.rs"]
mod w;

#[test]
fn both_sides_run_at_a_tiny_size() {
    assert_eq!(w::playhouse(20).0, 20);
    assert_eq!(w::baseline(20).0, 20);
    assert_eq!(w::group_commit(40, 8).0, 40);
}
