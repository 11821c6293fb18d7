//! A user's own actors under loom: two transfers that ask a balance then debit (a check-then-act race) overdraw the account, and loom finds the interleaving; the fixed protocol passes.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_user_bank_transfer`.
#![cfg(loom)]

use playhouse::testkit::ManualClock;
use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

enum BankMsg {
    Balance(Reply<u64>),
    /// Debits without checking: the caller checked the balance first.
    Debit(u64),
    /// Checks and debits in one step.
    Withdraw(u64),
}

struct Bank {
    balance: u64,
    /// What the test reads once the system is quiescent (a plain atomic: a
    /// result cell, not part of the protocol under test).
    seen: Arc<AtomicU64>,
}

impl Actor for Bank {
    type Msg = BankMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: BankMsg) -> Result<(), ActorError> {
        match msg {
            BankMsg::Balance(r) => {
                let _ = r.send(self.balance);
            }
            BankMsg::Debit(n) => {
                self.balance = self
                    .balance
                    .checked_sub(n)
                    .ok_or("overdrawn: a debit went past the balance")?;
            }
            BankMsg::Withdraw(n) => {
                if self.balance >= n {
                    self.balance -= n;
                }
            }
        }
        self.seen.store(self.balance, Ordering::SeqCst);
        Ok(())
    }
}

/// Moves `amount` out of the bank it is given.
struct Transfer {
    amount: u64,
    /// The fixed protocol: one message that checks and debits.
    atomic: bool,
}

impl Actor for Transfer {
    type Msg = Addr<Bank>;
    fn handle(&mut self, ctx: &mut Context<Self>, bank: Addr<Bank>) -> Result<(), ActorError> {
        let amount = self.amount;
        if self.atomic {
            ctx.send(&bank, BankMsg::Withdraw(amount))?;
        } else {
            // The bug: the balance may change between the answer and the debit.
            let to = bank.clone();
            ctx.ask(&bank, BankMsg::Balance, T, move |_, ctx, balance| {
                if balance.is_ok_and(|b| b >= amount) {
                    let _ = ctx.send(&to, BankMsg::Debit(amount));
                }
            })?;
        }
        Ok(())
    }
}

/// Two transfers of 60 from an account of 100; the bank must never fail.
///
/// The bank is spawned last, so whether the two balance requests can meet in
/// its mailbox depends on how far the worker got while the test thread was
/// still spawning and telling: started early, it runs each transfer's ask,
/// answer and debit in one chain (an actor sent to runs next on the same
/// worker); started late, it finds both transfers queued ahead of the bank.
fn two_transfers(atomic: bool) {
    let system = System::builder()
        .workers(1)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let transfers: Vec<Addr<Transfer>> = (0..2)
        .map(|_| {
            system
                .spawn(move || Transfer { amount: 60, atomic })
                .unwrap()
        })
        .collect();
    let seen = Arc::new(AtomicU64::new(100));
    let s = seen.clone();
    let bank = system
        .spawn(move || Bank {
            balance: 100,
            seen: s.clone(),
        })
        .unwrap();
    for t in &transfers {
        t.tell(bank.clone()).unwrap();
    }
    system.await_quiescent(T).unwrap();
    assert!(
        bank.is_alive(),
        "the bank failed: the account was overdrawn"
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        40,
        "one transfer, and one only"
    );
    system.shutdown().unwrap();
}

/// Explores the interleavings of the test thread, the worker and the timer
/// thread with at most one preemption, whatever `LOOM_MAX_PREEMPTIONS` says:
/// a whole system is too big for two (see the `playhouse::testkit` docs).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.max_branches = 100_000;
    builder.check(f);
}

#[test]
fn fixed_transfers_never_overdraw() {
    model(|| two_transfers(true));
}

#[test]
fn check_then_act_transfers_overdraw_in_some_interleaving() {
    let found = std::panic::catch_unwind(|| model(|| two_transfers(false)));
    let payload = found.expect_err("loom found no interleaving that overdraws");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains("overdrawn"),
        "the model failed for another reason: {message}"
    );
}
