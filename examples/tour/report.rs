//! The tour's summary table, and the checks of its own numbers.

use crate::desk::Tally;
use crate::fulfilment::{RevenueWindow, WINDOW};
use crate::order::{Line, SalesReport};
use crate::payments::PaymentStats;
use playhouse::breaker::{BreakerMetrics, State, Transition};
use playhouse::persist::FileJournalStats;
use playhouse::{DeadLetter, DeadLetterReason, ShutdownError};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// Every dead letter of the run, from the system's hook.
#[derive(Debug, Default)]
pub struct DeadLetterCount(Mutex<Vec<DeadLetter>>);

impl DeadLetterCount {
    pub fn add(&self, letter: &DeadLetter) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(letter.clone());
    }

    pub fn snapshot(&self) -> Vec<DeadLetter> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the run did, gathered before shutdown.
pub struct Run {
    pub held_back: u64,
    /// Notices the notifier thread sent (one per order's end).
    pub notified: u64,
    pub tally: Tally,
    pub payments: PaymentStats,
    pub breaker: BreakerMetrics,
    pub transitions: Vec<Transition>,
    pub windows: Vec<RevenueWindow>,
    pub dispatched: Vec<Line>,
    pub restarts: u64,
    pub failures: u64,
    pub dead_letters: Vec<DeadLetter>,
    pub journal: FileJournalStats,
    pub shutdown: Result<(), ShutdownError>,
    pub shutdown_took: Duration,
    pub elapsed: Duration,
}

/// What the reopened journal gave back.
pub struct Replay {
    pub report: SalesReport,
    pub replayed: usize,
    pub mismatches: Vec<String>,
    pub torn_tail: bool,
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Large orders dispatched ahead of a small order placed before them: the
/// priority merge's work (payments held back while the breaker was open
/// reorder a few too).
fn jumped_the_queue(dispatched: &[Line]) -> usize {
    dispatched
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            l.is_large()
                && dispatched[i + 1..]
                    .iter()
                    .any(|s| !s.is_large() && s.id < l.id)
        })
        .count()
}

pub fn print(run: &Run, replay: &Replay, seed: u64) {
    let t = &run.tally;
    let p = &run.payments;
    let b = &run.breaker;
    let mut revenue: BTreeMap<&str, u64> = BTreeMap::new();
    for w in &run.windows {
        *revenue.entry(w.product).or_default() += w.cents;
    }
    let by_product: Vec<String> = revenue
        .iter()
        .map(|(p, c)| format!("{p} {}", money(*c)))
        .collect();
    let path: Vec<String> = run.transitions.iter().map(|t| t.to.to_string()).collect();
    let shutdown = match &run.shutdown {
        Ok(()) => format!(
            "clean in {:?}: every accepted message handled, every thread joined",
            run.shutdown_took
        ),
        Err(e) => format!("{e}"),
    };
    let rows = [
        (
            "orders",
            format!(
                "{} received: {} accepted, {} rejected (the producer was held back {} times)",
                t.received, t.accepted, t.rejected, run.held_back
            ),
        ),
        (
            "payments",
            format!(
                "{} charges: {} ok, {} failed ({} declined, {} timed out, {} gateway down), {} fast-failed by the breaker and retried",
                p.attempts,
                p.ok,
                p.failed(),
                p.declined,
                p.timed_out,
                p.unavailable,
                p.fast_failed
            ),
        ),
        (
            "breaker",
            format!(
                "{} transitions: closed -> {}; {} timeouts, {} late answers; now {}",
                b.transitions,
                path.join(" -> "),
                b.timeouts,
                b.late_answers,
                b.state
            ),
        ),
        (
            "revenue",
            format!(
                "{} windows of {WINDOW:?}, {} in all: {}",
                run.windows.len(),
                money(run.windows.iter().map(|w| w.cents).sum()),
                by_product.join(", ")
            ),
        ),
        (
            "fulfilment",
            format!(
                "{} dispatched, {} shipped; {} large orders went ahead of small ones placed before them",
                run.dispatched.len(),
                t.shipped,
                jumped_the_queue(&run.dispatched)
            ),
        ),
        (
            "supervision",
            format!(
                "{} restart(s) after {} failure(s) (the injected jam)",
                run.restarts, run.failures
            ),
        ),
        (
            "dead letters",
            format!(
                "{}: {}",
                run.dead_letters.len(),
                run.dead_letters
                    .iter()
                    .map(|d| format!(
                        "{} to {} ({:?})",
                        d.message_type.rsplit("::").next().unwrap_or(""),
                        d.recipient,
                        d.reason
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "journal",
            format!(
                "{} events in {} appends, {} fsyncs (group commit)",
                run.journal.events, run.journal.appends, run.journal.syncs
            ),
        ),
        ("shutdown", shutdown),
        (
            "replay",
            format!(
                "{} orders replayed from the reopened journal{}; the sales report rebuilt from it: {} placed, {} paid, {} shipped, {}",
                replay.replayed,
                if replay.mismatches.is_empty() {
                    ", all as the run left them"
                } else {
                    ", with mismatches"
                },
                replay.report.placed,
                replay.report.paid,
                replay.report.shipped,
                money(replay.report.revenue_cents)
            ),
        ),
    ];
    println!();
    println!("== summary (seed {seed}, {:?}) ==", run.elapsed);
    for (what, row) in rows {
        println!("{what:>12}  {row}");
    }
}

/// Checks the run's numbers against each other; returns what is wrong.
pub fn check(run: &Run, replay: &Replay, produced: u64) -> Vec<String> {
    let t = &run.tally;
    let p = &run.payments;
    let b = &run.breaker;
    let has = |from: State, to: State| run.transitions.iter().any(|x| x.from == from && x.to == to);
    let window_cents: u64 = run.windows.iter().map(|w| w.cents).sum();
    let window_orders: usize = run.windows.iter().map(|w| w.orders).sum();
    let dispatched: HashSet<u64> = run.dispatched.iter().map(|l| l.id).collect();
    let handler_failed = run
        .dead_letters
        .iter()
        .filter(|d| d.reason == DeadLetterReason::HandlerFailed)
        .count();
    // Under heavy load a charge may wait in the gateway's mailbox until its
    // caller has given up (a timeout): the gateway skips it, to dead letters.
    let timed_out_requests = run
        .dead_letters
        .iter()
        .filter(|d| d.reason == DeadLetterReason::AskerGone && d.recipient == "shop/gateway")
        .count() as u64;
    let explained = run.dead_letters.len() as u64 == handler_failed as u64 + timed_out_requests;
    let checks = [
        (
            t.received == produced,
            "the desk received every order produced",
        ),
        (
            t.accepted + t.rejected == produced,
            "accepted + rejected == produced",
        ),
        (t.rejected > 0, "some bad orders were rejected"),
        (
            t.errors == 0 && p.other == 0,
            "no command or payment failed unexpectedly",
        ),
        (
            p.ok + p.failed() == t.accepted,
            "every accepted order was charged to an end: ok + failed == accepted",
        ),
        (
            p.ok + p.failed() + p.fast_failed == p.attempts,
            "payments ok + failed + fast-failed == charges",
        ),
        (
            p.ok == t.paid && p.failed() == t.payment_failed,
            "the desk recorded every payment outcome",
        ),
        (
            b.successes == p.ok,
            "the breaker counted every payment that went through",
        ),
        (
            b.rejections == p.fast_failed,
            "the breaker's rejections are the fast failures",
        ),
        (
            b.calls == b.successes + b.failures + b.timeouts + b.ignored && b.in_flight == 0,
            "no call left in flight",
        ),
        (
            b.timeouts >= 1 && p.timed_out == b.timeouts,
            "the gateway's hangs counted as timeouts (failures)",
        ),
        (
            has(State::Closed, State::Open)
                && has(State::Open, State::HalfOpen)
                && has(State::HalfOpen, State::Closed),
            "the breaker opened, went half-open and closed",
        ),
        (
            b.transitions == run.transitions.len() as u64,
            "every transition was heard",
        ),
        (!run.windows.is_empty(), "revenue windows were emitted"),
        (
            window_cents == t.paid_cents && window_orders as u64 == t.paid,
            "the revenue in the windows is the revenue of the paid orders",
        ),
        (
            run.dispatched.len() as u64 == t.paid && dispatched.len() == run.dispatched.len(),
            "every paid order was dispatched once",
        ),
        (t.shipped == t.paid, "every paid order was shipped"),
        (
            run.notified == t.rejected + t.payment_failed + t.shipped,
            "the notifier told every customer how the order ended",
        ),
        (
            run.restarts == 1 && run.failures == 1,
            "the injected failure was restarted, and nothing else failed",
        ),
        (
            handler_failed == 1,
            "one dead letter is the jammed order (packed again after the restart)",
        ),
        (
            explained && timed_out_requests <= b.timeouts,
            "any other dead letter is a charge the gateway got after its call timed out",
        ),
        (run.shutdown.is_ok(), "the shutdown was clean"),
        (
            !replay.torn_tail && replay.mismatches.is_empty(),
            "every accepted order replayed to where the run left it",
        ),
        (
            replay.report.placed == t.accepted
                && replay.report.paid == t.paid
                && replay.report.shipped == t.shipped,
            "the journal holds every accepted order, payment and shipment",
        ),
        (
            replay.report.revenue_cents == t.paid_cents,
            "the revenue rebuilt from the journal matches",
        ),
    ];
    let mut failed: Vec<String> = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| what.to_string())
        .collect();
    failed.extend(replay.mismatches.iter().cloned());
    failed
}
