//! The stream benchmark workload runs both sides at a tiny size and checks its own counts.

#[path = "../examples/bench/stream.rs"]
mod w;

#[test]
fn stream_workload_runs_both_sides() {
    let (p, _) = w::playhouse(2_000);
    let (b, _) = w::baseline(2_000);
    assert_eq!(p, b);
    assert!(p > 1_000);
}
