//! Stream pipelines end to end: exact counts and order under a slow sink, bounded in-flight elements, the operators, sources and sinks, cancel, and build errors.

mod common;

use common::{LIMIT, init_log, wait_until};
use playhouse::stream::{PushError, Sink, Source, StartError, StreamError, Window};
use playhouse::{Actor, ActorError, Context, EventBus, Reply, Subscribe, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn system(workers: usize) -> System {
    init_log();
    System::builder().workers(workers).build().unwrap()
}

/// Every element arrives once, in order, through a sink slower than the
/// source (a channel of one the test drains), on one and on two workers,
/// with buffers of one (every element waits for its own credit) and eight.
#[test]
fn slow_sink_gets_every_element_once_in_order() {
    for (workers, buffer) in [(1, 1), (1, 8), (2, 1), (2, 8)] {
        let system = system(workers);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handle = Source::from_iter(0..5_000u64)
            .buffer_size(buffer)
            .map(|n| n * 2)
            .filter(|n| n % 3 != 0)
            .to(Sink::to_sender(tx))
            .run(&system)
            .unwrap();
        let got: Vec<u64> = rx.iter().collect();
        let want: Vec<u64> = (0..5_000u64)
            .map(|n| n * 2)
            .filter(|n| n % 3 != 0)
            .collect();
        assert_eq!(got.len(), want.len(), "on {workers} workers");
        assert_eq!(got, want, "on {workers} workers");
        handle.wait(LIMIT).unwrap();
        system.shutdown().unwrap();
    }
}

/// While a million-element source feeds a sink that waits on the test (for
/// the first 100,000 elements it delivers, then the test cancels),
/// the elements pulled but not yet consumed (received by the test or
/// filtered out) never exceed the buffers: the map's, the filter's and the
/// sink's, plus the one the sink is handing over and those in the channel.
#[test]
fn in_flight_stays_within_the_buffers_under_a_slow_sink() {
    const N: u64 = 1_000_000;
    const BUFFER: u64 = 16;
    const CHANNEL: u64 = 256;
    let system = system(2);
    let pulled = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let (p, r) = (pulled.clone(), rejected.clone());
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL as usize);
    let handle = Source::from_iter((0..N).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    }))
    .buffer_size(BUFFER as usize)
    .map(|n| n + 1)
    .filter(move |n| {
        let keep = n % 5 != 0;
        if !keep {
            r.fetch_add(1, Ordering::SeqCst);
        }
        keep
    })
    // Once the test stops reading, the sink drops what it gets.
    .to(Sink::for_each(move |n| {
        let _ = tx.send(n);
    }))
    .run(&system)
    .unwrap();
    let bound = 3 * BUFFER + 1 + CHANNEL;
    let mut peak = 0;
    let mut received = 0;
    for _ in rx.iter().take(100_000) {
        received += 1;
        // Pulled is read first: a rejection counted after it can only make
        // the figure smaller, never larger, than the true one then.
        let p = pulled.load(Ordering::SeqCst);
        let in_flight = p - received - rejected.load(Ordering::SeqCst).min(p - received);
        peak = peak.max(in_flight);
        assert!(
            in_flight <= bound,
            "{in_flight} in flight, more than {bound}"
        );
    }
    assert_eq!(received, 100_000);
    assert!(peak > 0);
    // The source read only as far as demand reached: what was consumed
    // (100,000 received, about a quarter as many filtered out, a few of
    // them past the last received) plus the buffers.
    assert!(pulled.load(Ordering::SeqCst) <= 125_000 + 2 * bound);
    handle.cancel();
    // The sink may be blocked on a full channel: dropping the receiver
    // frees it.
    drop(rx);
    wait_until("every stage stopped", || handle.is_stopped());
    assert!(
        pulled.load(Ordering::SeqCst) < N,
        "the whole source was read"
    );
    assert_eq!(handle.wait(LIMIT), Err(StreamError::Cancelled));
    system.shutdown().unwrap();
}

/// An endless generator feeding `take` is pulled only as far as demand
/// reaches, and the stream completes.
#[test]
fn endless_source_is_pulled_lazily_and_take_completes() {
    let system = system(2);
    let pulled = Arc::new(AtomicU64::new(0));
    let p = pulled.clone();
    let out = Source::from_iter((0u64..).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    }))
    .buffer_size(4)
    .take(10)
    .to(Sink::collect())
    .run(&system)
    .unwrap()
    .wait(LIMIT)
    .unwrap();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    // The take stage's buffer of 4 plus its one credit refill at most.
    assert!(
        pulled.load(Ordering::SeqCst) <= 10 + 4,
        "pulled {}",
        pulled.load(Ordering::SeqCst)
    );
    system.shutdown().unwrap();
}

#[test]
fn operators_compose() {
    let system = system(2);
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let out = Source::from_iter(1..=20u64)
        .skip(2)
        .take_while(|n| *n <= 15)
        .inspect(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .filter_map(|n| (n % 2 == 1).then_some(n * 10))
        .scan(0u64, |acc, n| *acc += n)
        .batch(2)
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    // 3..=15, odd: 3 5 7 9 11 13 15 -> x10 -> running sums, in pairs.
    assert_eq!(
        out,
        vec![vec![30, 80], vec![150, 240], vec![350, 480], vec![630]]
    );
    assert_eq!(seen.load(Ordering::SeqCst), 13);
    let total = Source::from_iter(1..=100u64)
        .fold(0u64, |a, n| a + n)
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    assert_eq!(total, vec![5050]);
    let count = Source::from_iter(0..77)
        .to(Sink::count())
        .run(&system)
        .unwrap();
    assert_eq!(count.wait(LIMIT).unwrap(), 77);
    system.shutdown().unwrap();
}

/// Count windows of 10 over 25 elements: 10, 10 and a flushed 5.
#[test]
fn count_windows_flush_the_partial_last() {
    let system = system(1);
    let out = Source::from_iter(0..25)
        .window(Window::count(10))
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    assert_eq!(
        out.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert_eq!(out.concat(), (0..25).collect::<Vec<_>>());
    let sliding = Source::from_iter(1..=7)
        .window(Window::sliding_count(3, 2))
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    assert_eq!(sliding, vec![vec![1, 2, 3], vec![3, 4, 5], vec![5, 6, 7]]);
    system.shutdown().unwrap();
}

/// Cancel stops the source and every stage: the generator is pulled no
/// more, and every actor of the stream stops.
#[test]
fn cancel_stops_the_source_and_every_stage() {
    let system = system(2);
    let pulled = Arc::new(AtomicU64::new(0));
    let p = pulled.clone();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = Source::from_iter((0u64..).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    }))
    .map(|n| n + 1)
    .to(Sink::to_sender(tx))
    .run(&system)
    .unwrap();
    for _ in 0..100 {
        rx.recv_timeout(LIMIT).unwrap();
    }
    handle.cancel();
    wait_until("every stage stopped", || handle.is_stopped());
    let after = pulled.load(Ordering::SeqCst);
    // Drain what was delivered before the cancel; the sender then drops.
    while rx.recv_timeout(LIMIT).is_ok() {}
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        after,
        "the source was pulled after cancel"
    );
    assert_eq!(handle.wait(LIMIT), Err(StreamError::Cancelled));
    system.shutdown().unwrap();
}

/// A sink that wants no more cancels upstream and completes successfully.
#[test]
fn sink_can_stop_the_stream() {
    let system = system(2);
    let got = Arc::new(AtomicU64::new(0));
    let g = got.clone();
    let handle = Source::from_iter(0u64..)
        .to(Sink::for_each_while(move |n| {
            g.fetch_add(1, Ordering::SeqCst);
            n < 9
        }))
        .run(&system)
        .unwrap();
    let canceller = handle.canceller();
    handle.wait(LIMIT).unwrap();
    canceller.cancel();
    assert_eq!(got.load(Ordering::SeqCst), 10);
    system.shutdown().unwrap();
}

#[test]
fn queue_source_takes_pushes_from_threads_and_hands_back_on_no_demand() {
    let system = system(2);
    let (source, queue) = Source::<u32>::queue(&system, 2).unwrap();
    // Before the stream runs, the queue holds its capacity, then refuses.
    queue.try_push(1).unwrap();
    queue.try_push(2).unwrap();
    assert_eq!(queue.try_push(3), Err(PushError::NoDemand(3)));
    let handle = source.to(Sink::collect()).run(&system).unwrap();
    let q = queue.clone();
    let producer = std::thread::spawn(move || {
        for n in 3..=500 {
            q.push(n).unwrap();
        }
    });
    producer.join().unwrap();
    drop(queue);
    assert_eq!(handle.wait(LIMIT).unwrap(), (1..=500).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

/// An actor pushing into a full queue is suspended, not blocked, and every
/// element arrives in order.
#[test]
fn queue_push_from_an_actor_suspends_it() {
    struct Producer(Option<playhouse::stream::QueueHandle<u32>>);
    enum Msg {
        Push(u32),
        Done(Reply<()>),
    }
    impl Actor for Producer {
        type Msg = Msg;
        fn handle(&mut self, ctx: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
            match msg {
                Msg::Push(n) => {
                    let q = self.0.as_ref().expect("pushes come before done");
                    q.push_from(ctx, n).map_err(|e| e.to_string())?;
                }
                Msg::Done(r) => {
                    self.0 = None;
                    let _ = r.send(());
                }
            }
            Ok(())
        }
    }
    let system = system(1);
    let (source, queue) = Source::<u32>::queue(&system, 1).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = source.to(Sink::to_sender(tx)).run(&system).unwrap();
    let producer = system
        .spawn({
            let q = std::sync::Mutex::new(Some(queue));
            move || Producer(q.lock().unwrap().take())
        })
        .unwrap();
    let reader = std::thread::spawn(move || rx.iter().collect::<Vec<u32>>());
    for n in 0..200 {
        producer.tell(Msg::Push(n)).unwrap();
    }
    producer.ask(Msg::Done, LIMIT).unwrap();
    handle.wait(LIMIT).unwrap();
    assert_eq!(reader.join().unwrap(), (0..200).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

#[test]
fn receiver_source_and_recipient_sink() {
    struct Total(u64);
    enum Msg {
        Add(u64),
        Get(Reply<u64>),
    }
    impl Actor for Total {
        type Msg = Msg;
        fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
            match msg {
                Msg::Add(n) => self.0 += n,
                Msg::Get(r) => {
                    let _ = r.send(self.0);
                }
            }
            Ok(())
        }
    }
    let system = system(2);
    let total = system.spawn(|| Total(0)).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(4);
    let handle = Source::from_receiver(rx)
        .map(|n: u64| n * 2)
        .to(Sink::to_recipient(total.recipient_with(Msg::Add)))
        .run(&system)
        .unwrap();
    for n in 1..=100 {
        tx.send(n).unwrap();
    }
    drop(tx);
    handle.wait(LIMIT).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(total.ask(Msg::Get, LIMIT).unwrap(), 10_100);
    system.shutdown().unwrap();
}

#[test]
fn bus_source_and_bus_sink() {
    let system = system(2);
    let input = EventBus::<u32>::builder().spawn(&system).unwrap();
    let output = EventBus::<u32>::builder().spawn(&system).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    output
        .subscribe_channel(Subscribe::all(), tx, LIMIT)
        .unwrap();
    let source = Source::from_bus(&input, Subscribe::all(), LIMIT).unwrap();
    let handle = source
        .map(|n| n + 1000)
        .take(50)
        .to(Sink::to_bus(&output))
        .run(&system)
        .unwrap();
    for n in 0..50 {
        input.publish(n).unwrap();
    }
    handle.wait(LIMIT).unwrap();
    let got: Vec<u32> = (0..50).map(|_| rx.recv_timeout(LIMIT).unwrap()).collect();
    assert_eq!(got, (1000..1050).collect::<Vec<_>>());
    system.shutdown().unwrap();
}

#[test]
fn bad_settings_are_typed_errors_and_spawn_nothing() {
    let system = system(1);
    let before = system.metrics().actors_alive;
    let cases: Vec<(&str, Result<_, StartError>)> = vec![
        (
            "batch size",
            Source::from_iter(0..1)
                .batch(0)
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "window size",
            Source::from_iter(0..1)
                .window(Window::count(0))
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "window period",
            Source::from_iter(0..1)
                .window(Window::time(Duration::ZERO))
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "buffer size",
            Source::from_iter(0..1)
                .buffer_size(0)
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "throttle rate",
            Source::from_iter(0..1)
                .throttle(0, Duration::from_secs(1))
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "ticker period",
            Source::ticker(Duration::ZERO)
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
        (
            "buffer watermarks",
            Source::from_iter(0..1)
                .buffer_watermarks(4, 4)
                .to(Sink::ignore())
                .run(&system)
                .map(drop),
        ),
    ];
    for (setting, outcome) in cases {
        match outcome {
            Err(StartError::Invalid(s)) => assert_eq!(s, setting),
            other => panic!("{setting}: expected a typed error, got {other:?}"),
        }
    }
    assert!(matches!(
        Source::<u8>::queue(&system, 0),
        Err(StartError::Invalid("queue capacity"))
    ));
    assert_eq!(system.metrics().actors_alive, before);
    system.shutdown().unwrap();
}

#[test]
fn handle_reports_per_stage_metrics() {
    let system = system(2);
    let handle = Source::from_iter(0..100)
        .filter(|n| n % 4 == 0)
        .to(Sink::count())
        .run(&system)
        .unwrap();
    wait_until("the sink has every element", || {
        handle.metrics().last().is_some_and(|m| m.elements_in == 25)
    });
    let m = handle.metrics();
    assert_eq!(m.len(), 3);
    assert_eq!((m[0].name.as_str(), m[0].elements_out), ("1:iter", 100));
    assert_eq!(
        (m[1].name.as_str(), m[1].elements_in, m[1].elements_out),
        ("2:filter", 100, 25)
    );
    assert_eq!(handle.wait(LIMIT).unwrap(), 25);
    system.shutdown().unwrap();
}

/// A stream that does not complete in time is cancelled by `wait`.
#[test]
fn wait_past_its_deadline_cancels_the_stream() {
    let system = system(1);
    let (source, queue) = Source::<u32>::queue(&system, 4).unwrap();
    let handle = source
        .map(|n| n + 1)
        .to(Sink::ignore())
        .run(&system)
        .unwrap();
    let canceller = handle.canceller();
    queue.push(1).unwrap();
    assert_eq!(
        handle.wait(Duration::from_millis(20)),
        Err(StreamError::Timeout)
    );
    // Every stage was stopped: the queue is closed.
    wait_until("the queue is closed", || {
        matches!(queue.try_push(2), Err(PushError::Closed(2)))
    });
    canceller.cancel();
    system.shutdown().unwrap();
}

/// `push` called on a pool worker never blocks it: with no demand it hands
/// the element back.
#[test]
fn blocking_push_on_a_worker_hands_the_element_back() {
    struct Pusher(playhouse::stream::QueueHandle<u32>);
    impl Actor for Pusher {
        type Msg = (u32, Reply<Result<(), PushError<u32>>>);
        fn handle(&mut self, _: &mut Context<Self>, (n, r): Self::Msg) -> Result<(), ActorError> {
            let _ = r.send(self.0.push(n));
            Ok(())
        }
    }
    let system = system(1);
    let (source, queue) = Source::<u32>::queue(&system, 1).unwrap();
    queue.try_push(1).unwrap();
    let q = std::sync::Mutex::new(Some(queue.clone()));
    let pusher = system
        .spawn(move || Pusher(q.lock().unwrap().take().unwrap()))
        .unwrap();
    assert_eq!(
        pusher.ask(|r| (2, r), LIMIT).unwrap(),
        Err(PushError::NoDemand(2))
    );
    // Once the stream runs there is demand again, and the push goes in.
    let handle = source.to(Sink::collect()).run(&system).unwrap();
    assert_eq!(queue.push(3), Ok(()));
    drop(queue);
    // The pusher holds the last handle: stopping it closes the queue.
    pusher.stop();
    assert_eq!(handle.wait(LIMIT).unwrap(), vec![1, 3]);
    system.shutdown().unwrap();
}

/// A fused chain gives what the same operators give as separate stages, in
/// one stage actor, under that stage's error policy.
#[test]
fn fused_operators_match_separate_stages() {
    let system = system(2);
    let separate = Source::from_iter(0..1000u32)
        .map(|n| n * 7)
        .filter(|n| n % 3 != 0)
        .filter_map(|n| (n % 5 != 0).then_some(n / 2))
        .to(Sink::collect())
        .run(&system)
        .unwrap()
        .wait(LIMIT)
        .unwrap();
    let handle = Source::from_iter(0..1000u32)
        .fused(|f| {
            f.map(|n| n * 7)
                .filter(|n| n % 3 != 0)
                .filter_map(|n| (n % 5 != 0).then_some(n / 2))
        })
        .to(Sink::collect())
        .run(&system)
        .unwrap();
    assert_eq!(handle.metrics().len(), 3);
    assert_eq!(handle.wait(LIMIT).unwrap(), separate);
    let resumed = Source::from_iter(0..10u32)
        .on_error(playhouse::stream::ErrorPolicy::Resume)
        .fused(|f| {
            f.try_map(|n| if n == 3 { Err("three") } else { Ok(n) })
                .map(|n| {
                    assert!(n != 6, "six");
                    n
                })
        })
        .to(Sink::collect())
        .run(&system)
        .unwrap();
    assert_eq!(resumed.wait(LIMIT).unwrap(), vec![0, 1, 2, 4, 5, 7, 8, 9]);
    system.shutdown().unwrap();
}

/// Many streams at once on a pool of two: each completes with its own
/// elements (stages waiting for credit hold no worker).
#[test]
fn many_streams_share_the_pool() {
    let system = system(2);
    let handles: Vec<_> = (0..40u64)
        .map(|k| {
            Source::from_iter(0..500u64)
                .buffer_size(4)
                .map(move |n| n + k)
                .window(Window::count(7))
                .map(|w| w.iter().sum::<u64>())
                .to(Sink::fold(0u64, |a, s| a + s))
                .run(&system)
                .unwrap()
        })
        .collect();
    for (k, h) in handles.into_iter().enumerate() {
        let k = k as u64;
        assert_eq!(h.wait(LIMIT).unwrap(), (0..500).map(|n| n + k).sum::<u64>());
    }
    system.shutdown().unwrap();
}
