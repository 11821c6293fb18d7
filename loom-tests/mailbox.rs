//! Loom models of the mailbox's scheduling state: no lost wake-up, no double schedule, no lost message.
#![cfg(loom)]

mod common;

use common::{model, model_bounded};
use loom::sync::atomic::Ordering;
use loom::thread;
use playhouse::loom_api::{CountingWaker, Idle, Item, LoomMailbox, PushOutcome, Schedule};
use std::sync::Arc;

/// Pops everything the runner may take, returning the user messages.
fn drain(mb: &LoomMailbox, seen: &mut Vec<u32>) {
    while let Some(item) = mb.pop() {
        if let Item::User(v) = item {
            seen.push(v);
        }
    }
}

/// A mailbox whose actor is running, holding the messages `1..=capacity`.
fn full(capacity: u32) -> Arc<LoomMailbox> {
    let mb = Arc::new(LoomMailbox::running(capacity as usize));
    for v in 1..=capacity {
        assert!(mb.try_push(v).is_ok());
    }
    mb
}

/// 1 if the send parked, 0 if it went in.
fn parks(outcome: PushOutcome) -> usize {
    match outcome {
        PushOutcome::Parked => 1,
        PushOutcome::Pushed(_) => 0,
        PushOutcome::Closed(_) => panic!("mailbox is open"),
    }
}

/// The wake-ups `waker` got cover exactly `parked` sends, each once, and
/// every wait-graph edge its parks took was released, once.
fn assert_woken_for(waker: &CountingWaker, parked: usize) {
    assert_eq!(
        waker.woken.load(Ordering::SeqCst),
        parked,
        "a parked send not woken for, or one woken twice"
    );
    assert_eq!(
        waker.edges.load(Ordering::SeqCst),
        waker.parks.load(Ordering::SeqCst),
        "edge leaked or released twice"
    );
}

/// Pops everything, returning the control items.
fn drain_control(mb: &LoomMailbox, seen: &mut Vec<u32>) {
    while let Some(item) = mb.pop() {
        if let Item::Control(c) = item {
            seen.push(c);
        }
    }
}

/// After the runner and senders raced for the run token, `tokens` of them
/// came away holding it: at most one may, and that one runs the actor once
/// more (`turn`, possibly finding nothing) before it ends idle.
fn settle(mb: &LoomMailbox, tokens: usize, turn: impl FnOnce()) {
    assert!(tokens <= 1, "actor scheduled twice");
    if tokens == 1 {
        mb.transition_to_running();
        turn();
    }
}

/// A turn that takes at most one control item, then must end idle.
fn control_turn(mb: &LoomMailbox, got: &mut Vec<u32>) {
    if let Some(Item::Control(c)) = mb.pop() {
        got.push(c);
    }
    assert_eq!(mb.transition_to_idle(), Idle::Done);
}

/// Two senders race an actor whose worker is finishing its turn and going idle.
/// Exactly one run token must exist while a message is queued, and every
/// message is handled exactly once.
#[test]
fn idle_transition_keeps_racing_tells() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        let senders: Vec<_> = (1..=2)
            .map(|v| {
                let mb = mb.clone();
                thread::spawn(move || mb.try_push(v).expect("room for two") == Schedule::Submit)
            })
            .collect();
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let mut tokens = usize::from(mb.transition_to_idle_drained() == Idle::Reschedule);
        for s in senders {
            tokens += usize::from(s.join().unwrap());
        }
        settle(&mb, tokens, || {
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        });
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2], "a message was lost or duplicated");
    });
}

/// As above, but the turn ends on its budget after one item, so the runner
/// must look at the lanes again before going idle.
#[test]
fn budget_end_of_turn_keeps_racing_tells() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.try_push(2).expect("room") == Schedule::Submit);
        let mut seen = Vec::new();
        if let Some(Item::User(v)) = mb.pop() {
            seen.push(v);
        }
        let mut tokens = usize::from(mb.transition_to_idle() == Idle::Reschedule);
        tokens += usize::from(sender.join().unwrap());
        settle(&mb, tokens, || {
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        });
        assert_eq!(
            seen,
            vec![1, 2],
            "a message was lost, duplicated or reordered"
        );
    });
}

/// A control item (a stop request) races the idle transition like a message.
#[test]
fn control_item_schedules_idle_actor() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_control(7).unwrap() == Schedule::Submit);
        let mut got = Vec::new();
        if let Some(Item::Control(c)) = mb.pop() {
            got.push(c);
        }
        let mut tokens = usize::from(mb.transition_to_idle() == Idle::Reschedule);
        tokens += usize::from(sender.join().unwrap());
        // A sender whose push was already taken may still schedule the actor
        // once more: a harmless empty turn, never a stranded item.
        settle(&mb, tokens, || control_turn(&mb, &mut got));
        assert_eq!(got, vec![7], "stop request stranded or duplicated");
    });
}

/// As above, but the turn ends because `pop` found nothing: the runner looks
/// at the control lane again only if the sender's NOTIFIED fails its CAS.
#[test]
fn control_item_racing_a_drained_turn_end() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_control(7).unwrap() == Schedule::Submit);
        let mut got = Vec::new();
        let idle = match mb.pop() {
            Some(Item::Control(c)) => {
                got.push(c);
                mb.transition_to_idle()
            }
            Some(Item::User(_)) => unreachable!("no user message sent"),
            None => mb.transition_to_idle_drained(),
        };
        let mut tokens = usize::from(idle == Idle::Reschedule);
        tokens += usize::from(sender.join().unwrap());
        settle(&mb, tokens, || control_turn(&mb, &mut got));
        assert_eq!(got, vec![7], "stop request stranded or duplicated");
    });
}

/// A control item arrives while the actor waits in a run queue (or later):
/// a sender that finds it scheduled submits nothing, so the worker that
/// starts the actor must see the item.
#[test]
fn control_item_reaches_a_scheduled_actor() {
    model(|| {
        let mb = Arc::new(LoomMailbox::scheduled(1));
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_control(7).unwrap() == Schedule::Submit);
        mb.transition_to_running();
        let mut got = Vec::new();
        let idle = match mb.pop() {
            Some(Item::Control(c)) => {
                got.push(c);
                mb.transition_to_idle()
            }
            Some(Item::User(_)) => unreachable!("no user message sent"),
            None => mb.transition_to_idle_drained(),
        };
        let tokens = usize::from(idle == Idle::Reschedule) + usize::from(sender.join().unwrap());
        settle(&mb, tokens, || {
            drain_control(&mb, &mut got);
            assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        });
        assert_eq!(got, vec![7], "control item stranded or duplicated");
    });
}

/// An actor parks a send on a full mailbox while the target drains: the parked
/// message moves in exactly once and its sender is woken exactly once.
#[test]
fn parked_send_resumes_once() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(2));
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || match mb2.push_or_park(3, &w2) {
            PushOutcome::Pushed(s) => (false, s == Schedule::Submit),
            PushOutcome::Parked => (true, false),
            PushOutcome::Closed(_) => panic!("mailbox is open"),
        });
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let mut tokens = usize::from(mb.transition_to_idle_drained() == Idle::Reschedule);
        let (parked, submitted) = sender.join().unwrap();
        tokens += usize::from(submitted);
        if tokens == 1 {
            mb.transition_to_running();
            drain(&mb, &mut seen);
            assert_eq!(mb.transition_to_idle(), Idle::Done);
        }
        assert_eq!(seen, vec![1, 2, 3], "order or count broken");
        assert_woken_for(&waker, usize::from(parked));
    });
}

/// An actor parks three sends in a row on a full mailbox of one place
/// while the target drains, so a run of parked sends moves in one send at
/// a time: each moves in once, in order, the wake-ups that cover them (one
/// per pop that moved any in) add up to the sends parked, and the
/// wait-graph edges the parks took are all released, each once (the rest
/// of a run keeps its edge).
#[test]
fn parked_sends_of_one_sender_are_woken_together() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || {
            let (mut parked, mut submitted) = (0, 0);
            for v in [2, 3, 4] {
                match mb2.push_or_park(v, &w2) {
                    PushOutcome::Pushed(s) => submitted += usize::from(s == Schedule::Submit),
                    PushOutcome::Parked => parked += 1,
                    PushOutcome::Closed(_) => panic!("mailbox is open"),
                }
            }
            (parked, submitted)
        });
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let mut tokens = usize::from(mb.transition_to_idle_drained() == Idle::Reschedule);
        let (parked, submitted) = sender.join().unwrap();
        tokens += submitted;
        settle(&mb, tokens, || drain(&mb, &mut seen));
        assert_eq!(seen, vec![1, 2, 3, 4], "order or count broken");
        assert_eq!(waker.woken.load(Ordering::SeqCst), parked);
        assert!(waker.calls.load(Ordering::SeqCst) <= parked);
        // A send parked behind its own joins that run: the wait graph's
        // edge is taken and released once per run.
        let parks = waker.parks.load(Ordering::SeqCst);
        assert!(parks <= parked && (parks == 0) == (parked == 0));
        assert_eq!(
            waker.edges.load(Ordering::SeqCst),
            parks,
            "edge leaked or released twice"
        );
    });
}

/// Two actors each park a send on the other's full mailbox at the same moment:
/// at most one may park, or both would stay suspended for ever.
#[test]
fn two_actors_cannot_both_park_on_each_other() {
    model(|| {
        let graph = Arc::new(playhouse::loom_api::WaitGraph::default());
        let g = graph.clone();
        let other = thread::spawn(move || g.try_wait(2, 1));
        let mine = graph.try_wait(1, 2);
        let theirs = other.join().unwrap();
        assert!(!(mine && theirs), "a cycle of suspended actors formed");
        assert!(mine || theirs, "neither may be refused without a cycle");
    });
}

/// Two senders push two messages each while the runner pops: with blocks of
/// three slots under loom the four messages cross a block boundary. None is
/// lost or duplicated, and each sender's messages arrive in send order.
#[test]
fn concurrent_senders_keep_fifo_per_sender_across_blocks() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        let senders: Vec<_> = [[10, 11], [20, 21]]
            .into_iter()
            .map(|vs| {
                let mb = mb.clone();
                thread::spawn(move || {
                    for v in vs {
                        assert_eq!(mb.try_push(v), Ok(Schedule::DoNothing), "room for four");
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        for _ in 0..2 {
            if let Some(Item::User(v)) = mb.pop() {
                seen.push(v);
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        drain(&mb, &mut seen);
        assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        let from = |base: u32| {
            seen.iter()
                .copied()
                .filter(|v| v / 10 == base / 10)
                .collect::<Vec<_>>()
        };
        assert_eq!(from(10), vec![10, 11], "sender 1's order or count broken");
        assert_eq!(from(20), vec![20, 21], "sender 2's order or count broken");
        assert_eq!(mb.queued(), 0);
    });
}

/// A sender reserves the last place while the runner frees one: the count
/// stays exact, so afterwards exactly the capacity fits again.
#[test]
fn reservation_racing_pop_keeps_the_count() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.try_push(2).is_ok());
        let mut seen = Vec::new();
        if let Some(Item::User(v)) = mb.pop() {
            seen.push(v);
        }
        if !sender.join().unwrap() {
            assert!(mb.try_push(2).is_ok(), "room freed by the pop was lost");
        }
        assert!(mb.try_push(3).is_err(), "capacity 1 exceeded");
        drain(&mb, &mut seen);
        assert_eq!(seen, vec![1, 2]);
        assert!(mb.try_push(3).is_ok(), "a place leaked");
    });
}

/// The actor stops (closes its user lane) while a sender pushes and another
/// actor parks a send: every message is either handed back to its sender or
/// drained by the close, exactly once, and the parked sender is woken once.
#[test]
fn close_racing_push_loses_and_duplicates_nothing() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(2));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let pusher = thread::spawn(move || mb2.try_push(2).err().map(|(v, _)| v));
        let waker = Arc::new(CountingWaker::default());
        let (mb3, w3) = (mb.clone(), waker.clone());
        let parker = thread::spawn(move || match mb3.push_or_park(3, &w3) {
            PushOutcome::Pushed(_) => (None, false),
            PushOutcome::Parked => (None, true),
            PushOutcome::Closed(v) => (Some(v), false),
        });
        let mut all = mb.close_user();
        all.extend(pusher.join().unwrap());
        let (back, parked) = parker.join().unwrap();
        all.extend(back);
        assert!(mb.pop().is_none(), "a message outlived the close");
        all.sort_unstable();
        assert_eq!(all, vec![1, 2, 3], "a message was lost or duplicated");
        assert_woken_for(&waker, usize::from(parked));
        assert_eq!(mb.queued(), 0);
    });
}

/// An outside thread blocks on a full mailbox; the runner drains it. The
/// sender must be woken (at the low watermark) and its message delivered:
/// a lost wake-up shows as a deadlock.
#[test]
fn blocked_sender_is_woken_at_the_low_watermark() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(2));
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_blocking(3).is_ok());
        let mut seen = Vec::new();
        for _ in 0..2 {
            if let Some(Item::User(v)) = mb.pop() {
                seen.push(v);
            }
        }
        assert!(sender.join().unwrap(), "the mailbox is open");
        drain(&mb, &mut seen);
        assert_eq!(seen, vec![1, 2, 3]);
    });
}

/// A blocked outside sender races the close: it gets its message back or it
/// got in before the close and the close drained it; it never hangs.
#[test]
fn close_wakes_a_blocked_sender() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_blocking(2).err());
        let mut all = mb.close_user();
        all.extend(sender.join().unwrap());
        all.sort_unstable();
        assert_eq!(all, vec![1, 2]);
    });
}

/// Shutdown closes the user lane of an actor from outside the pool while its
/// runner is taking messages: each message goes to exactly one of them.
#[test]
fn close_from_outside_racing_the_runner_splits_the_lane() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(4));
        for v in 1..=2 {
            assert!(mb.try_push(v).is_ok());
        }
        let mb2 = mb.clone();
        let closer = thread::spawn(move || mb2.close_user());
        let mut all = Vec::new();
        drain(&mb, &mut all);
        all.extend(closer.join().unwrap());
        all.sort_unstable();
        assert_eq!(all, vec![1, 2], "a message was lost or duplicated");
    });
}

/// A send to self goes in on a full mailbox without counting, racing a pop;
/// the place freed by the pop is then available to another sender.
#[test]
fn send_to_self_does_not_count() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(1));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let me = thread::spawn(move || matches!(mb2.push_self(2), PushOutcome::Pushed(_)));
        let mut seen = Vec::new();
        if let Some(Item::User(v)) = mb.pop() {
            seen.push(v);
        }
        assert!(
            me.join().unwrap(),
            "a send to self is never refused while open"
        );
        assert!(mb.try_push(3).is_ok(), "the self-send took the freed place");
        drain(&mb, &mut seen);
        assert_eq!(seen, vec![1, 2, 3]);
    });
}

/// As above with places given back in batches (two at a time under loom):
/// the blocked sender still gets in. An idle actor keeps back fewer places
/// than a batch (here the fifth message's), never more.
#[test]
fn blocked_sender_is_woken_when_a_batch_is_given_back() {
    model(|| {
        let mb = full(4);
        let mb2 = mb.clone();
        let sender = thread::spawn(move || mb2.push_blocking(5).is_ok());
        let mut seen = Vec::new();
        for _ in 0..2 {
            if let Some(Item::User(v)) = mb.pop() {
                seen.push(v);
            }
        }
        drain(&mb, &mut seen);
        assert!(sender.join().unwrap(), "the mailbox is open");
        drain(&mb, &mut seen);
        assert_eq!(seen, vec![1, 2, 3, 4, 5]);
        assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
        for v in 6..=8 {
            assert!(mb.try_push(v).is_ok(), "more than a batch held back");
        }
        assert!(mb.try_push(9).is_err(), "the held-back place is counted");
    });
}

// ---------------------------------------------------------------------------
// The runner's hinted turn end, kept blocks, frees racing
// senders and an outside close, a panicking mapping, parked and blocked
// senders together. Every thread that gets the run token runs the turn
// itself, like a worker would; at the end the mailbox must be idle (a fresh
// push schedules it) and empty.
// ---------------------------------------------------------------------------

/// The runner's loop as `turn_items` has it (unbounded budget): pops with
/// the hint, ends as drained on `!more && looks_empty()` (keeping back fewer
/// places than a batch), then goes idle, and runs again while rescheduled.
fn hinted_turn(mb: &LoomMailbox, seen: &mut Vec<u32>, keep_block: bool) {
    loop {
        loop {
            match mb.pop_hinted() {
                None => break,
                Some((Item::User(v), more)) => {
                    seen.push(v);
                    if !more && mb.looks_empty() {
                        break;
                    }
                }
                Some((Item::Control(_), _)) => {}
            }
        }
        match mb.transition_to_idle_with(true, keep_block) {
            Idle::Done => return,
            Idle::Reschedule => mb.transition_to_running(),
        }
    }
}

/// A worker that got the run token: runs the actor.
fn run_if(submit: bool, mb: &LoomMailbox, seen: &mut Vec<u32>, keep_block: bool) {
    if submit {
        mb.transition_to_running();
        hinted_turn(mb, seen, keep_block);
    }
}

/// After every thread joined: nothing queued, the actor idle (a push
/// schedules it), and the push is taken.
fn assert_idle_and_empty(mb: &LoomMailbox) {
    assert_eq!(mb.queued(), 0, "messages left behind");
    assert_eq!(
        mb.try_push(99).map_err(|_| "refused"),
        Ok(Schedule::Submit),
        "the actor is not idle: a run token was lost or kept"
    );
    mb.transition_to_running();
    let mut seen = Vec::new();
    hinted_turn(mb, &mut seen, false);
    assert_eq!(seen, vec![99]);
}

fn hinted_end_racing_tells(keep_block: bool) {
    model_bounded(1, move || {
        let mb = Arc::new(LoomMailbox::running(4));
        assert!(mb.try_push(1).is_ok());
        let senders: Vec<_> = (2..=3)
            .map(|v| {
                let mb = mb.clone();
                thread::spawn(move || {
                    let s = mb.try_push(v).expect("room") == Schedule::Submit;
                    let mut seen = Vec::new();
                    run_if(s, &mb, &mut seen, keep_block);
                    seen
                })
            })
            .collect();
        let mut seen = Vec::new();
        hinted_turn(&mb, &mut seen, keep_block);
        for s in senders {
            seen.extend(s.join().unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2, 3], "a message was lost or duplicated");
        assert_idle_and_empty(&mb);
    });
}

#[test]
fn hinted_end_racing_tells_freeing() {
    hinted_end_racing_tells(false);
}

#[test]
fn hinted_end_racing_tells_keeping() {
    hinted_end_racing_tells(true);
}

/// Two senders push two messages each into a kept block (so positions cross
/// the block boundary) while the runner, with the hint, goes idle keeping it.
#[test]
fn kept_block_crossing() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(8));
        assert!(mb.try_push(1).is_ok());
        let senders: Vec<_> = [[10, 11], [20, 21]]
            .into_iter()
            .map(|vs| {
                let mb = mb.clone();
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    for v in vs {
                        let s = mb.try_push(v).expect("room") == Schedule::Submit;
                        run_if(s, &mb, &mut seen, true);
                    }
                    seen
                })
            })
            .collect();
        let mut seen = Vec::new();
        hinted_turn(&mb, &mut seen, true);
        for s in senders {
            seen.extend(s.join().unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 10, 11, 20, 21]);
        assert_idle_and_empty(&mb);
    });
}

/// A lap that begins with no block puts its first message in the mailbox's
/// own slot. A sender that read the tail before the runner freed the block
/// may find no block and install one after the free: the block must then
/// serve the new lap's later positions, and its first message still the
/// first slot, or the runner waits for ever or loses it. One sender, so the
/// order is checked too.
#[test]
fn a_sender_racing_the_free_of_the_block_keeps_the_first_slot() {
    model_bounded(1, || {
        let mb = Arc::new(LoomMailbox::running(8));
        // 1 in the first slot, 2 in the lap's block.
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let mb2 = mb.clone();
        let sender = thread::spawn(move || {
            let mut seen = Vec::new();
            for v in [3, 4] {
                let s = mb2.try_push(v).expect("room") == Schedule::Submit;
                run_if(s, &mb2, &mut seen, false);
            }
            seen
        });
        let mut seen = Vec::new();
        hinted_turn(&mb, &mut seen, false);
        // Turns run one at a time, the runner's first.
        seen.extend(sender.join().unwrap());
        assert_eq!(
            seen,
            vec![1, 2, 3, 4],
            "a message was lost, duplicated or reordered"
        );
        assert_idle_and_empty(&mb);
    });
}

/// `len` (the statistics' queue length) read while the runner takes two
/// messages and frees their block never counts more than were queued. It
/// once said twelve billion (`head` already past the marker `tail` was
/// parked on: a wrapped distance), then, with that read as none, three (a
/// `tail` moved by the free read with an older `head`, or `tail` parked on
/// the marker with the old `head`).
#[test]
fn queue_length_read_during_a_free_stays_in_bounds() {
    model(|| {
        let mb = Arc::new(LoomMailbox::running(8));
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let mb2 = mb.clone();
        let observer = thread::spawn(move || mb2.queued());
        let mut seen = Vec::new();
        hinted_turn(&mb, &mut seen, false);
        let queued = observer.join().unwrap();
        assert!(queued <= 2, "len said {queued} with two messages queued");
        assert_eq!(seen, vec![1, 2]);
    });
}

/// Shutdown closes the user lane from outside while the runner goes idle
/// (freeing its block) and a sender pushes: each message exactly once.
#[test]
fn outside_close_racing_idle_free_and_a_sender() {
    model_bounded(1, || {
        let mb = Arc::new(LoomMailbox::running(4));
        assert!(mb.try_push(1).is_ok());
        let mb2 = mb.clone();
        let closer = thread::spawn(move || mb2.close_user());
        let mb3 = mb.clone();
        let sender = thread::spawn(move || {
            let mut seen = Vec::new();
            match mb3.try_push(2) {
                Ok(s) => run_if(s == Schedule::Submit, &mb3, &mut seen, false),
                Err((v, closed)) => {
                    assert!(closed, "room for two");
                    seen.push(v);
                }
            }
            seen
        });
        let mut all = Vec::new();
        hinted_turn(&mb, &mut all, false);
        all.extend(closer.join().unwrap());
        all.extend(sender.join().unwrap());
        all.sort_unstable();
        assert_eq!(all, vec![1, 2], "a message was lost or duplicated");
        assert_eq!(mb.queued(), 0);
    });
}

/// Keeps the expected panics of the mapping off stderr.
fn quiet_mapping_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<&str>().copied();
            if msg != Some("mapping panics") {
                prev(info);
            }
        }));
    });
}

/// A sender's mapping panics after its claim scheduled the (idle) actor,
/// while another sender pushes: the resubmit queues the actor, which then
/// takes the other message, and the lane ends idle.
#[test]
fn panicking_mapping_racing_a_sender() {
    model_bounded(1, || {
        let mb = Arc::new(LoomMailbox::running(4));
        assert!(mb.try_push(1).is_ok());
        let mut seen = Vec::new();
        quiet_mapping_panics();
        let mb2 = mb.clone();
        let panicker = thread::spawn(move || {
            let token = std::cell::Cell::new(false);
            let claimed = mb2.try_push_panicking(&|| token.set(true));
            assert!(claimed, "room");
            let mut seen = Vec::new();
            run_if(token.get(), &mb2, &mut seen, false);
            seen
        });
        let mb3 = mb.clone();
        let sender = thread::spawn(move || {
            let s = mb3.try_push(2).expect("room") == Schedule::Submit;
            let mut seen = Vec::new();
            run_if(s, &mb3, &mut seen, false);
            seen
        });
        hinted_turn(&mb, &mut seen, false);
        seen.extend(panicker.join().unwrap());
        seen.extend(sender.join().unwrap());
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2]);
        assert_idle_and_empty(&mb);
    });
}

/// An actor parks a send and an outside thread blocks on the same full
/// mailbox while the runner drains with the hint: both get in, the parked
/// sender is woken once, and the places all come back.
#[test]
fn parked_and_blocked_with_hinted_runner() {
    model_bounded(1, || {
        let mb = Arc::new(LoomMailbox::running(2));
        assert!(mb.try_push(1).is_ok());
        assert!(mb.try_push(2).is_ok());
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let parker = thread::spawn(move || {
            let mut seen = Vec::new();
            let parked = match mb2.push_or_park(3, &w2) {
                PushOutcome::Pushed(s) => {
                    run_if(s == Schedule::Submit, &mb2, &mut seen, false);
                    false
                }
                PushOutcome::Parked => true,
                PushOutcome::Closed(_) => panic!("open"),
            };
            (seen, parked)
        });
        let mb3 = mb.clone();
        let blocker = thread::spawn(move || {
            let s = mb3.push_blocking(4).expect("open") == Schedule::Submit;
            let mut seen = Vec::new();
            run_if(s, &mb3, &mut seen, false);
            seen
        });
        let mut seen = Vec::new();
        hinted_turn(&mb, &mut seen, false);
        let (s2, parked) = parker.join().unwrap();
        seen.extend(s2);
        seen.extend(blocker.join().unwrap());
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2, 3, 4]);
        assert_woken_for(&waker, usize::from(parked));
        assert_idle_and_empty(&mb);
        assert!(mb.try_push(5).is_ok(), "a place was not given back");
    });
}

/// The rule behind `Cell::submit` (in `src/actor/cell/mod.rs`): one unit of an
/// actor's reference count belongs to its run token. The creator's first
/// submission clones it; a push that takes the token (`Schedule::Submit`)
/// makes the queued task from that unit without touching the count; a turn
/// that ends idle forgets its task, so the unit stays with the parked token;
/// the turn that stops the actor (closing its mailbox) and then ends idle
/// drops its task, releasing the unit. Here a sender and a stopper race the
/// worker's turns (one item per turn, so turns also reschedule). Whatever
/// the interleaving, the worker's final turn is the only release: when
/// everyone else is done, exactly the creator's reference is left (a second
/// release would leave none, a missed one two), and nothing is left queued.
#[test]
fn the_run_tokens_reference_is_released_once_by_the_final_turn() {
    use loom::sync::{Arc as LoomArc, Mutex};
    const STOP: u32 = 99;
    struct Actor {
        mb: LoomMailbox,
    }
    /// What `Cell::submit` does: a task from the token's unit, no increment.
    fn borrowed(actor: &LoomArc<Actor>) -> LoomArc<Actor> {
        // SAFETY: the caller just took the run token, whose unit is live.
        unsafe { LoomArc::from_raw(LoomArc::as_ptr(actor)) }
    }
    model(|| {
        let actor = LoomArc::new(Actor {
            mb: LoomMailbox::scheduled(4),
        });
        let queue = LoomArc::new(Mutex::new(Vec::new()));
        // `Cell::submit_first`: the token's unit is born.
        queue.lock().unwrap().push(actor.clone());

        let (a, q) = (actor.clone(), queue.clone());
        let sender = thread::spawn(move || {
            if let Ok(Schedule::Submit) = a.mb.try_push(1) {
                q.lock().unwrap().push(borrowed(&a));
            }
        });
        let (a, q) = (actor.clone(), queue.clone());
        let stopper = thread::spawn(move || {
            if let Ok(Schedule::Submit) = a.mb.push_control(STOP) {
                q.lock().unwrap().push(borrowed(&a));
            }
        });

        // The worker: one item per turn, until the final turn has ended.
        let mut dead = false;
        loop {
            let Some(task) = queue.lock().unwrap().pop() else {
                thread::yield_now();
                continue;
            };
            task.mb.transition_to_running();
            let idle = match task.mb.pop() {
                Some(Item::Control(STOP)) => {
                    task.mb.close();
                    dead = true;
                    task.mb.transition_to_idle()
                }
                Some(_) => task.mb.transition_to_idle(),
                None => task.mb.transition_to_idle_drained(),
            };
            match idle {
                Idle::Reschedule => queue.lock().unwrap().push(task),
                Idle::Done if dead => {
                    drop(task);
                    break;
                }
                Idle::Done => std::mem::forget(task),
            }
        }
        sender.join().unwrap();
        stopper.join().unwrap();
        assert!(
            queue.lock().unwrap().is_empty(),
            "a task outlived the actor"
        );
        assert_eq!(
            LoomArc::strong_count(&actor),
            1,
            "the run token's unit was released twice or not at all"
        );
    });
}

/// A full mailbox of four places (given back two at a time under loom)
/// while an actor parks three sends and the actor sends itself one: the
/// parked sends move in as runs of positions claimed with one RMW each, the
/// first run ending a block (so its claimant installs the next), racing the
/// send to self's claim. Every message goes in once, the parked ones in
/// order, and the wake-ups cover exactly the sends parked.
#[test]
fn parked_sends_move_in_as_runs_racing_a_send_to_self() {
    model(|| {
        let mb = full(4);
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || {
            let mut parked = 0;
            for v in [5, 6, 7] {
                match mb2.push_or_park(v, &w2) {
                    PushOutcome::Pushed(s) => assert_eq!(s, Schedule::DoNothing),
                    PushOutcome::Parked => parked += 1,
                    PushOutcome::Closed(_) => panic!("mailbox is open"),
                }
            }
            parked
        });
        let mb3 = mb.clone();
        let me = thread::spawn(move || match mb3.push_self(100) {
            PushOutcome::Pushed(s) => assert_eq!(s, Schedule::DoNothing),
            _ => panic!("a send to self is never refused while open"),
        });
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let parked = sender.join().unwrap();
        me.join().unwrap();
        drain(&mb, &mut seen);
        assert_eq!(seen.iter().filter(|&&v| v == 100).count(), 1);
        seen.retain(|&v| v != 100);
        assert_eq!(seen, (1..=7).collect::<Vec<_>>(), "order or count broken");
        assert_eq!(mb.queued(), 0);
        assert_woken_for(&waker, parked);
        assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
    });
}

/// A full mailbox of four places while an actor parks one send and holds
/// two more behind it, pushing them when its handler returns, racing the
/// consumer, whose pops move the parked run in. Whether the held sends
/// join the run still parked, or claim places, or park a run of their own
/// after it moved in, every message goes in once and in order, and the
/// wake-ups cover exactly the sends that parked.
#[test]
fn held_sends_pushed_racing_a_pop_that_moves_their_run_in() {
    model(|| {
        let mb = full(4);
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || {
            parks(mb2.push_or_park(5, &w2))
                + mb2.push_held(vec![6, 7], &w2).expect("mailbox is open")
        });
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let parked = sender.join().unwrap();
        drain(&mb, &mut seen);
        assert_eq!(seen, (1..=7).collect::<Vec<_>>(), "order or count broken");
        assert_eq!(mb.queued(), 0);
        assert_woken_for(&waker, parked);
        assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
    });
}

/// Held sends pushed after their target's user lane closed come back
/// whole, for the caller to count as dead letters; the parked one goes with
/// the close, its sender woken as dropped.
#[test]
fn held_sends_pushed_racing_a_close_come_back_or_are_dropped_with_the_lane() {
    model(|| {
        let mb = full(2);
        let waker = Arc::new(CountingWaker::default());
        let (mb2, w2) = (mb.clone(), waker.clone());
        let sender = thread::spawn(move || {
            match mb2.push_or_park(3, &w2) {
                PushOutcome::Parked => {}
                // Closed first: the send failed, and the handler, told so,
                // held nothing.
                PushOutcome::Closed(v) => return (0, vec![v]),
                PushOutcome::Pushed(_) => panic!("the lane is full and nothing pops"),
            }
            match mb2.push_held(vec![4, 5], &w2) {
                Ok(parked) => (1 + parked, Vec::new()),
                Err(back) => (1, back),
            }
        });
        let dropped = mb.close_user();
        let (parked, back) = sender.join().unwrap();
        assert!(
            mb.close_user().is_empty(),
            "a message got in after the close"
        );
        // Everything is in the close's drain or handed back, once, in order.
        let closed_first = back == [3];
        let mut all = dropped;
        all.extend(back);
        let sent = if closed_first { 3 } else { 5 };
        assert_eq!(all, (1..=sent).collect::<Vec<_>>());
        assert_woken_for(&waker, parked);
    });
}

/// Held sends pushed while another actor parks on the same full mailbox (of
/// two places, given back one at a time under loom):
/// the other's parked send may come between the first sender's run and
/// its held sends (which then park a run of their own behind it), or
/// after them. Each sender's messages go in once and in its order, and
/// each sender's wake-ups cover exactly its parked sends.
#[test]
fn held_sends_pushed_while_another_sender_parks() {
    model(|| {
        let mb = full(2);
        let (wa, wb) = (
            Arc::new(CountingWaker::default()),
            Arc::new(CountingWaker::default()),
        );
        let (mba, wa2) = (mb.clone(), wa.clone());
        let a = thread::spawn(move || {
            parks(mba.push_or_park(3, &wa2))
                + mba.push_held(vec![4], &wa2).expect("mailbox is open")
        });
        let (mbb, wb2) = (mb.clone(), wb.clone());
        let b = thread::spawn(move || parks(mbb.push_or_park_as(5, 2, &wb2)));
        let mut seen = Vec::new();
        drain(&mb, &mut seen);
        let (parked_a, parked_b) = (a.join().unwrap(), b.join().unwrap());
        drain(&mb, &mut seen);
        let mut all = seen.clone();
        all.sort_unstable();
        assert_eq!(all, (1..=5).collect::<Vec<_>>(), "lost or duplicated");
        let of_a: Vec<u32> = seen
            .iter()
            .copied()
            .filter(|v| (3..=4).contains(v))
            .collect();
        assert_eq!(of_a, [3, 4], "one sender's order broken");
        assert_woken_for(&wa, parked_a);
        assert_woken_for(&wb, parked_b);
        assert_eq!(mb.queued(), 0);
        assert_eq!(mb.transition_to_idle_drained(), Idle::Done);
    });
}
