//! Every workload of `examples/bench/` at a tiny size, so the benchmark cannot rot: counts only, no timing.

#[path = "../examples/bench/main.rs"]
#[allow(dead_code)] // the example's `main` and table helpers
mod bench;

use bench::Sizes;

#[test]
fn ping_pong_counts_every_round_trip() {
    let n = Sizes::tiny().ping_pong;
    assert_eq!(bench::ping_pong::playhouse(n).items, n);
    assert_eq!(bench::ping_pong::baseline(n).items, n);
}

#[test]
fn fan_in_counts_every_message() {
    let n = Sizes::tiny().fan_in;
    assert_eq!(bench::fan_in::playhouse(n).items, n);
    assert_eq!(bench::fan_in::baseline(n).items, n);
}

#[test]
fn fan_in_actors_counts_every_message() {
    let n = Sizes::tiny().fan_in_actors;
    assert_eq!(bench::fan_in_actors::playhouse(n).items, n);
    assert_eq!(bench::fan_in_actors::baseline(n).items, n);
    // Far more than the consumer's mailbox holds: producers are suspended
    // and resumed.
    let n = 5 * bench::fan_in_actors::CAPACITY as u64 + 3;
    assert_eq!(bench::fan_in_actors::playhouse(n).items, n);
}

#[test]
fn latency_records_every_request_in_every_shape() {
    use bench::latency::Asker;
    let n = Sizes::tiny().latency;
    for asker in [Asker::Thread, Asker::Actor] {
        for loaded in [false, true] {
            let s = bench::latency::playhouse(asker, loaded, n);
            assert_eq!(s.items, n, "{asker:?}, loaded {loaded}");
            let l = s.latency.expect("percentiles");
            assert!(l.p50_ns <= l.p99_ns && l.p99_ns <= l.p999_ns && l.p999_ns <= l.max_ns);
            assert_eq!(l.background_rate.is_some(), loaded);
        }
    }
    for loaded in [false, true] {
        let s = bench::latency::baseline(loaded, n);
        assert_eq!(s.items, n);
        assert_eq!(
            s.latency.expect("percentiles").background_rate.is_some(),
            loaded
        );
    }
}

#[test]
fn latency_percentiles_pick_the_right_ranks() {
    let l = bench::latency::Latency::of((1..=1000).rev().collect(), None);
    assert_eq!(
        (l.p50_ns, l.p99_ns, l.p999_ns, l.max_ns),
        (501, 991, 1000, 1000)
    );
}

#[test]
fn ring_passes_the_token_every_hop() {
    let s = Sizes::tiny();
    assert_eq!(
        bench::ring::playhouse(s.ring_len, s.ring_hops).items,
        s.ring_hops
    );
    assert_eq!(
        bench::ring::baseline(s.ring_len, s.ring_hops).items,
        s.ring_hops
    );
    // A token that stops short of one lap, and one that ends on the last node.
    assert_eq!(bench::ring::playhouse(5, 3).items, 3);
    assert_eq!(bench::ring::baseline(5, 9).items, 9);
}

#[test]
fn spawn_hears_from_every_actor() {
    let s = Sizes::tiny();
    let ours = bench::spawn::playhouse(s.spawn_actors);
    assert_eq!(ours.items, s.spawn_actors as u64);
    let theirs = bench::spawn::baseline(s.spawn_threads);
    assert_eq!(theirs.items, s.spawn_threads as u64);
    let floor = bench::spawn::floor(s.spawn_actors);
    assert_eq!(floor.items, s.spawn_actors as u64);
}

#[test]
fn fan_out_delivers_to_every_subscriber() {
    let n = Sizes::tiny().fan_out;
    let deliveries = n * bench::fan_out::SUBSCRIBERS as u64;
    assert_eq!(bench::fan_out::playhouse(n).items, deliveries);
    assert_eq!(bench::fan_out::baseline(n).items, deliveries);
    // Far more than the mailboxes hold: the publisher is suspended and resumed.
    let n = 3 * bench::fan_out::CAPACITY as u64 + 7;
    assert_eq!(
        bench::fan_out::playhouse(n).items,
        n * bench::fan_out::SUBSCRIBERS as u64
    );
}

#[test]
fn idle_actors_and_threads_all_answer_afterwards() {
    let s = Sizes::tiny();
    let ours = bench::idle::playhouse(s.idle_actors, s.idle_for);
    assert_eq!(ours.items, s.idle_actors as u64);
    assert!(ours.cpu_fraction.is_some(), "/proc/self/stat is readable");
    let theirs = bench::idle::baseline(s.idle_actors, s.idle_for);
    assert_eq!(theirs.items, s.idle_actors as u64);
}

#[test]
fn reports_carry_the_documented_json_keys() {
    let sizes = Sizes {
        reps: 2,
        ..Sizes::tiny().scaled(0.1)
    };
    let names: Vec<&str> = bench::workloads().iter().map(|w| w.name).collect();
    assert_eq!(
        names,
        [
            "ping-pong",
            "fan-in",
            "fan-in-actors",
            "ring",
            "spawn",
            "fan-out",
            "idle",
            "latency-thread",
            "latency-thread-busy",
            "latency-actor",
            "latency-actor-busy",
            "breaker",
            "stream",
            "fsync-append",
            "group-commit-1",
            "group-commit-8",
            "group-commit-64",
            "group-commit-actors-1",
            "group-commit-actors-8",
            "group-commit-actors-64",
            "replay",
            "recovery"
        ]
    );
    for w in bench::workloads() {
        let report = bench::measure(w, &sizes);
        assert_eq!((report.ours.len(), report.theirs.len()), (2, 2));
        let json = report.to_json();
        assert!(
            json.starts_with('{') && json.ends_with('}') && !json.contains('\n'),
            "one object on one line: {json}"
        );
        let mut keys = vec!["workload", "rate", "baseline_rate", "ratio", "unit"];
        match w.name {
            "spawn" => keys.push("bytes_per_actor"),
            "idle" => keys.push("cpu_fraction"),
            n if n.starts_with("latency") => {
                keys.extend(["p50_ns", "p99_ns", "p999_ns", "max_ns", "baseline_p50_ns"]);
                if n.ends_with("busy") {
                    keys.push("background_rate");
                }
            }
            _ => {}
        }
        for key in keys {
            assert!(json.contains(&format!("\"{key}\":")), "{key} in {json}");
        }
        assert!(json.contains(&format!("\"workload\":\"{}\"", w.name)));
        assert!(!bench::table_row(&report).is_empty());
    }
}

#[test]
fn breaker_counts_every_call_on_both_sides() {
    let n = Sizes::tiny().breaker;
    assert_eq!(bench::breaker::playhouse(n).0, n);
    assert_eq!(bench::breaker::baseline(n).0, n);
}

#[test]
fn stream_delivers_the_same_elements_on_both_sides() {
    let n = Sizes::tiny().stream;
    let (ours, _) = bench::stream::playhouse(n);
    let (theirs, _) = bench::stream::baseline(n);
    assert_eq!(ours, theirs);
    assert!(ours > n / 2, "the filter keeps two elements in three");
}

#[test]
fn persist_workloads_count_every_append_and_event() {
    let s = Sizes::tiny();
    assert_eq!(
        bench::persist::playhouse(s.fsync_appends).0,
        s.fsync_appends
    );
    assert_eq!(bench::persist::baseline(s.fsync_appends).0, s.fsync_appends);
    for writers in [1, 8, 64] {
        let n = s.group_appends;
        let sample = bench::persist::group_commit(n, writers);
        assert_eq!(sample.items, n);
        // No more fsyncs than appends: each covers at least one, on average.
        let per_sync = sample.appends_per_sync.expect("appends per fsync");
        assert!(
            per_sync >= 1.0,
            "{writers} writer(s): {per_sync} appends per fsync"
        );
    }
    for writers in [1, 8, 64] {
        let n = s.group_appends;
        let sample = bench::group_commit_actors::playhouse(n, writers);
        assert_eq!(sample.items, n, "{writers} event-sourced actor(s)");
        let per_sync = sample.appends_per_sync.expect("appends per fsync");
        assert!(
            per_sync >= 1.0,
            "{writers} event-sourced actor(s): {per_sync} appends per fsync"
        );
    }
    assert_eq!(bench::persist::replay(s.replay_events).0, s.replay_events);
    assert_eq!(bench::persist::recovery(s.replay_events).0, s.replay_events);
    assert_eq!(
        bench::persist::replay_baseline(s.replay_events).0,
        s.replay_events
    );
}
