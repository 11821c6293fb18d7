//! Capacity and backpressure: the bound, parked sends of actors, blocked outside
//! senders, and the low watermark that lets them in.
//!
//! # Protocol
//!
//!
//! Capacity: a pop of a counted message subtracts it from `tail`. If the
//! previous word had `PARKED` or `BLOCKED` and the count is now at the low
//! watermark, the consumer takes the lock, moves parked sends in (their
//! wakers are returned) and wakes the blocked senders in one batch. Parked
//! sends move in as runs: as many consecutive positions as there is room
//! for in the tail's block, claimed with one CAS (`claim_run`) and written
//! at once under the lock, so the consumer, which is the one writing them,
//! never meets a slot of the run unwritten. A parked send already queued
//! means every newcomer parks too: under the lock a sender that finds
//! `PARKED` set queues behind it without touching `tail`. A blocked
//! sender sets `BLOCKED` with a CAS on the very word whose count it found full,
//! under the lock it then waits on, so a pop either comes before (the CAS fails
//! and the sender looks again) or sees the flag and notifies after the sender
//! waits. Parking sets `PARKED` the same way. The sends a turn held behind
//! one of its parked sends (`push_or_park_staged`) go through the same
//! decisions under one lock.

use super::*;

/// The consumer gives places back in batches of `capacity >> RELEASE_SHIFT`
/// (at least one): each give-back is an RMW on the line all senders fight
/// over. The bound still holds, but a sender may find the lane full up to
/// that many places early, also while the actor is idle (it keeps fewer than
/// a batch). A sender still blocks only while the lane holds messages the
/// consumer has yet to take: with `count >= capacity` and fewer than a batch
/// held back, at least one is queued. Taking them all gives back enough
/// batches to reach the low watermark, which moves parked sends in and wakes
/// blocked senders. A consumer that stops taking user messages (suspended)
/// gives back what it holds at once, and a close gives back everything.
#[cfg(not(loom))]
pub(super) const RELEASE_SHIFT: u32 = 5;
/// Under loom, batches of half the capacity, so small models batch.
#[cfg(loom)]
pub(super) const RELEASE_SHIFT: u32 = 1;

/// Parked sends the parked queue makes room for when its first one parks.
const PARKED_RESERVE: usize = 64;

impl<M, C> Mailbox<M, C> {
    /// Pushes a user message if there is room, mapping it only once it is sure
    /// to be accepted, so a refusal hands back the caller's own value.
    /// `resubmit` queues the actor if `map` panics after the push scheduled it
    /// (see `write`).
    pub(crate) fn try_push_with<T>(
        &self,
        value: T,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Schedule, (T, Refused)> {
        match self.claim(Admit::Counted) {
            Ok(c) => Ok(self.write(c, value, map, resubmit)),
            Err(why) => Err((value, why)),
        }
    }

    /// Pushes a user message, waiting for room until `deadline` (for ever when
    /// `None`). For threads outside the pool only. `resubmit` as for
    /// [`try_push_with`](Mailbox::try_push_with).
    #[inline]
    pub(crate) fn push_blocking_with<T>(
        &self,
        value: T,
        deadline: Option<Instant>,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Schedule, (T, Refused)> {
        let claim = match self.claim(Admit::Counted) {
            Ok(c) => c,
            Err(Refused::Full) => {
                let mut slow = self.slow.lock();
                loop {
                    if slow.user_closed {
                        return Err((value, Refused::Closed));
                    }
                    // With no room this sets BLOCKED under the lock we hold
                    // until we wait, so the pop that frees room notifies after.
                    match self.claim(Admit::CountedOrFlag(BLOCKED)) {
                        Ok(c) => break c,
                        Err(Refused::Full) => {}
                        Err(why) => return Err((value, why)),
                    }
                    slow = match deadline {
                        None => self.room.wait(slow),
                        Some(d) => {
                            let now = Instant::now();
                            if now >= d {
                                // BLOCKED may stay set: it costs the consumer
                                // one look under the lock, which clears it.
                                return Err((value, Refused::Timeout));
                            }
                            self.room.wait_timeout(slow, d - now)
                        }
                    };
                }
            }
            Err(why) => return Err((value, why)),
        };
        Ok(self.write(claim, value, map, resubmit))
    }

    /// Pushes a user message from an actor running on a pool worker, which must
    /// not block. A send to self (`to_self`) goes in whatever the room and does
    /// not count toward capacity: the actor could never drain its own mailbox
    /// while waiting on it. Otherwise, with no room, `park` decides: `Some(waker)`
    /// parks the message here and `waker` is woken once it has moved into the
    /// lane (the sending actor stays suspended until then); `None` pushes it in
    /// without counting it, for a send that would close a cycle of suspended
    /// actors. A send of `sender` that finds one of its own parked sends last
    /// joins that one's run (see [`Parked`]) without calling `park` and
    /// without another claim. `resubmit` as for
    /// [`try_push_with`](Mailbox::try_push_with).
    #[inline]
    pub(crate) fn push_or_park<T>(
        &self,
        value: T,
        sender: u64,
        to_self: bool,
        park: impl FnOnce() -> Option<crate::sync::Arc<dyn SendWaker>>,
        map: impl FnOnce(T) -> M,
        resubmit: &dyn Fn(),
    ) -> Result<Sent, T> {
        let admit = if to_self {
            Admit::Exempt
        } else {
            Admit::FromActor
        };
        match self.claim(admit) {
            Ok(c) => return Ok(Sent::Pushed(self.write(c, value, map, resubmit))),
            Err(Refused::Full) => {}
            Err(_) => return Err(value),
        }
        let mut slow = self.slow.lock();
        if slow.user_closed {
            return Err(value);
        }
        // Mapped before deciding, so a panicking mapping leaves no trace.
        let item = map(value);
        Ok(self.push_or_park_locked(&mut slow, item, sender, park))
    }

    /// Pushes the sends an actor's handler held back after one of its sends
    /// to this mailbox parked (see `actor/cell/stage.rs`), in order, under
    /// one lock: each is decided as [`push_or_park`](Mailbox::push_or_park)
    /// would decide it after a refused claim. While the sender's run is last
    /// in the parked queue they join it; if the consumer moved that run in
    /// meanwhile, the first one claims a place or parks a new run (`park` is
    /// called again) and the rest follow it. Returns how many parked and
    /// whether the actor must be submitted; a closed lane hands every item
    /// back.
    pub(crate) fn push_or_park_staged(
        &self,
        items: Vec<M>,
        sender: u64,
        mut park: impl FnMut() -> Option<crate::sync::Arc<dyn SendWaker>>,
    ) -> Result<(usize, Schedule), Vec<M>> {
        let mut slow = self.slow.lock();
        if slow.user_closed {
            return Err(items);
        }
        let mut parked = 0;
        let mut schedule = Schedule::DoNothing;
        let mut items = items.into_iter();
        for item in items.by_ref() {
            match self.push_or_park_locked(&mut slow, item, sender, &mut park) {
                Sent::Parked => {
                    parked += 1;
                    break;
                }
                Sent::Pushed(Schedule::Submit) => schedule = Schedule::Submit,
                Sent::Pushed(Schedule::DoNothing) => {}
                Sent::Held => unreachable!("only a sending turn holds"),
            }
        }
        // One of them parked: the rest queue behind it, in its run.
        let rest = items.len();
        if rest > 0 {
            let queue = &mut slow.queues().parked;
            queue.extend(items.map(|item| Parked {
                item,
                sender,
                waker: None,
            }));
            parked += rest;
        }
        Ok((parked, schedule))
    }

    /// The rest of [`push_or_park`](Mailbox::push_or_park) once its claim
    /// was refused, under the lock, the lane open: join the sender's run,
    /// claim a place, park, or (`park` says no) push in uncounted.
    #[inline]
    fn push_or_park_locked(
        &self,
        slow: &mut Slow<M, C>,
        item: M,
        sender: u64,
        park: impl FnOnce() -> Option<crate::sync::Arc<dyn SendWaker>>,
    ) -> Sent {
        // Right behind one of our own parked sends: join its run. The queue
        // is not empty, so PARKED is set (it clears only under the lock once
        // the queue is empty) and the claim below would refuse anyway.
        if slow.parked_back().is_some_and(|p| p.sender == sender) {
            slow.queues().parked.push_back(Parked {
                item,
                sender,
                waker: None,
            });
            return Sent::Parked;
        }
        // The lock is held: the lane cannot close under the claims below.
        let open = "the user lane closes only under the lock";
        // With no room this sets PARKED, so newcomers queue behind us, and the
        // pop that frees room sees it.
        let schedule = match self.claim(Admit::CountedOrFlag(PARKED)) {
            Ok(c) => self.write(c, item, |m| m, &|| {}),
            Err(Refused::Full) => {
                if let Some(waker) = park() {
                    let parked = &mut slow.queues().parked;
                    if parked.capacity() == 0 {
                        // A sender that parks usually parks the rest of its
                        // turn's sends too: room for a few runs at once
                        // instead of growing the deque from its smallest size.
                        parked.reserve(PARKED_RESERVE.min(self.capacity));
                    }
                    parked.push_back(Parked {
                        item,
                        sender,
                        waker: Some(waker),
                    });
                    return Sent::Parked;
                }
                let c = self.claim(Admit::Exempt).expect(open);
                let s = self.write(c, item, |m| m, &|| {});
                if slow.parked_len() == 0 {
                    // ORDERING: Relaxed; under the lock, like every change of
                    // PARKED.
                    self.tail.fetch_and(!PARKED, Ordering::Relaxed);
                }
                s
            }
            Err(_) => unreachable!("{open}"),
        };
        Sent::Pushed(schedule)
    }

    /// Gives back the places taken and not yet given back, as a `pop` that
    /// does not accept user messages does: a runner whose handler suspended
    /// the actor calls it, so a suspended actor holds no places back.
    pub(crate) fn give_back(&self, wakers: &mut Resumes) {
        // ORDERING: Relaxed; only the consumer role (this runner) writes it.
        if self.pending.load(Ordering::Relaxed) != 0 {
            let role = self.consumer();
            self.flush(&role, wakers);
        }
    }

    /// Gives back the places taken and not yet given back.
    pub(super) fn flush(&self, _role: &Consumer<'_>, wakers: &mut Resumes) {
        // ORDERING: Relaxed; only the consumer role touches it.
        let n = self.pending.load(Ordering::Relaxed);
        if n != 0 {
            // ORDERING: Relaxed, as above.
            self.pending.store(0, Ordering::Relaxed);
            self.release(n as usize, wakers);
        }
    }

    /// Gives back the places of `n` counted messages the consumer took.
    pub(super) fn release(&self, n: usize, wakers: &mut Resumes) {
        // ORDERING: Relaxed; a count. A PARKED or BLOCKED set by a CAS on an
        // earlier value is in the word we get back (one location), and the
        // lock taken below orders the rest. No claim publishes through it.
        let prev = self.tail.fetch_sub(n as u64 * ONE_COUNT, Ordering::Relaxed);
        let now = count(prev) - n;
        if prev & (PARKED | BLOCKED) != 0 && now <= self.low_watermark {
            self.make_room(wakers);
        }
    }

    /// At the low watermark: moves parked sends in and wakes blocked senders.
    pub(super) fn make_room(&self, wakers: &mut Resumes) {
        let mut slow = self.slow.lock();
        // The entry in `wakers` of the sender's run being moved in.
        let mut run = None;
        // Parked sends move in as runs of positions claimed together (see
        // `claim_run`): one RMW on the senders' line per run, not per send.
        'room: loop {
            let want = slow.parked_len();
            if want == 0 {
                break;
            }
            // The lock is held, so the lane is open.
            let claimed = match self.claim_run(want) {
                Ok(c) => c,
                Err(why) => {
                    debug_assert_eq!(why, Refused::Full);
                    let p = slow.queues().parked.front_mut().expect("want > 0");
                    if let (None, Some(e)) = (&p.waker, run) {
                        // The rest of a run stays: it keeps a waker and the edge.
                        p.waker = Some(wakers.split(e));
                    }
                    break 'room;
                }
            };
            for i in 0..claimed.len() {
                let p = slow.pop_parked().expect("no more claimed than parked");
                // SAFETY: the slots are written in order, each once, right
                // after the claim, by us alone.
                let c = unsafe { claimed.claim(i) };
                // The actor is running (the consumer calls this), so the claim
                // schedules nothing. Checked in release builds too: a token
                // taken here would never be queued (and its reference never
                // released).
                let s = self.write(c, p.item, |m| m, &|| {});
                assert_eq!(
                    s,
                    Schedule::DoNothing,
                    "a parked send moved in by the running actor took its run token"
                );
                match (p.waker, run) {
                    (Some(w), _) => run = Some(wakers.add_run(w)),
                    (None, Some(e)) => wakers.add_follower(e),
                    (None, None) => debug_assert!(false, "the queue's first has its waker"),
                }
            }
        }
        slow.tidy();
        if slow.parked_len() == 0 {
            // ORDERING: Relaxed; PARKED changes only under the lock.
            self.tail.fetch_and(!PARKED, Ordering::Relaxed);
        }
        // ORDERING: Relaxed; BLOCKED changes only under the lock.
        let t = self.tail.load(Ordering::Relaxed);
        // Blocked outside senders are woken in a batch once the lane has
        // drained to the low watermark, not one per message: a futex wake per
        // pop would cost more than the message. A sender whose deadline comes
        // first re-checks the room before giving up, so none times out while
        // there is room.
        if t & BLOCKED != 0 && t & PARKED == 0 && count(t) <= self.low_watermark {
            // ORDERING: Relaxed; under the lock, as above.
            self.tail.fetch_and(!BLOCKED, Ordering::Relaxed);
            self.room.notify_all();
        }
    }
}
