//! Loom models of the test kit's probe queue: no item and no close is lost to a waiting test thread.
#![cfg(loom)]

use loom::thread;
use playhouse::loom_api::inbox;

/// Items pushed from another thread, then the close, reach a waiting reader
/// in order, the close last.
#[test]
fn items_then_close_reach_the_waiting_reader_in_order() {
    loom::model(|| {
        let (feed, inbox) = inbox();
        let sender = thread::spawn(move || {
            feed.push(1);
            feed.push(2);
        });
        assert_eq!(inbox.next(), Some(1));
        assert_eq!(inbox.next(), Some(2));
        assert_eq!(inbox.next(), None, "closed once the feed is dropped");
        sender.join().unwrap();
    });
}

/// Two feeds on two threads: the queue closes only after both are dropped,
/// and the reader gets both items first.
#[test]
fn the_queue_closes_after_the_last_of_two_feeds() {
    loom::model(|| {
        let (feed, inbox) = inbox();
        let other = feed.another();
        let a = thread::spawn(move || feed.push(1));
        let b = thread::spawn(move || other.push(2));
        let mut got = vec![inbox.next(), inbox.next()];
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(inbox.next(), None);
        a.join().unwrap();
        b.join().unwrap();
    });
}
