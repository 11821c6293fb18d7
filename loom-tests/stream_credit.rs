//! Loom model of the stream credit protocol between two stages: no element without credit, no credit lost.
#![cfg(loom)]

use loom::sync::mpsc::{Receiver, Sender, channel};
use loom::thread;
use playhouse::stream::{Credit, CreditWindow};

/// What travels down a link (as `Down` in the stream module).
enum Down {
    Elem(u32),
    End,
}

/// The upstream stage: sends `n` elements, one per credit, waiting for
/// demand when it has none, then the end. Returns its unspent credits.
fn upstream(n: u32, down: Sender<Down>, demand: &Receiver<u64>) -> u64 {
    let mut credit = Credit::default();
    for x in 0..n {
        while !credit.take() {
            credit.add(demand.recv().expect("the downstream grants before it ends"));
        }
        down.send(Down::Elem(x)).unwrap();
    }
    down.send(Down::End).unwrap();
    credit.available()
}

/// The downstream stage: a buffer of `capacity`, consuming the oldest
/// element once it holds two (or its whole buffer, if smaller), and the
/// rest at the end, granting
/// as the window allows. Checks the buffer is never overrun; returns the
/// elements in order and the window.
fn downstream(
    capacity: u64,
    low: u64,
    elems: Receiver<Down>,
    demand: Sender<u64>,
) -> (Vec<u32>, CreditWindow) {
    let mut window = CreditWindow::new(capacity, low);
    let mut held: Vec<u32> = Vec::new();
    let mut got = Vec::new();
    let first = window.grant(0);
    demand.send(first).unwrap();
    loop {
        match elems.recv().unwrap() {
            Down::Elem(x) => {
                window
                    .received()
                    .expect("an element arrived without credit");
                held.push(x);
                assert!(
                    held.len() as u64 + window.outstanding() <= capacity,
                    "buffer overrun"
                );
                if held.len() as u64 == capacity.min(2) {
                    got.push(held.remove(0));
                }
            }
            Down::End => {
                got.append(&mut held);
                return (got, window);
            }
        }
        let n = window.grant(held.len() as u64);
        if n > 0 {
            demand.send(n).unwrap();
        }
    }
}

fn model(capacity: u64, low: u64, n: u32) {
    loom::model(move || {
        let (down_tx, down_rx) = channel();
        let (demand_tx, demand_rx) = channel();
        let consumer = thread::spawn(move || downstream(capacity, low, down_rx, demand_tx));
        let unspent = upstream(n, down_tx, &demand_rx);
        let (got, window) = consumer.join().unwrap();
        assert_eq!(got, (0..n).collect::<Vec<_>>(), "lost or reordered");
        // No credit lost: what the window counts as outstanding is exactly
        // what the upstream still holds or has yet to receive.
        let mut in_flight = 0;
        while let Ok(d) = demand_rx.try_recv() {
            in_flight += d;
        }
        assert_eq!(unspent + in_flight, window.outstanding(), "credit lost");
    });
}

/// A buffer of two refilled at the low watermark of one, three elements.
#[test]
fn credit_never_overruns_and_is_never_lost() {
    model(2, 1, 3);
}

/// A buffer of one: every element waits for its own credit.
#[test]
fn credit_of_one_alternates() {
    model(1, 0, 3);
}
