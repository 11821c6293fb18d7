//! The breaker benchmark workload at a tiny size, so it cannot rot: counts only, no timing.

#[path = "../examples/bench/breaker.rs"]
mod w;

#[test]
fn both_sides_count_every_call() {
    assert_eq!(w::playhouse(200).0, 200);
    assert_eq!(w::baseline(200).0, 200);
}
