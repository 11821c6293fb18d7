//! A user's own two-actor program under loom: two transfers that ask a balance then debit (a check-then-act race) overdraw the account, and loom finds it; the fixed protocol passes.
#![cfg(loom)]

use playhouse::testkit::ManualClock;
use playhouse::{Actor, ActorError, Addr, Context, Reply, System};
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

enum BankMsg {
    Balance(Reply<u64>),
    /// Debits without checking: the caller checked the balance first.
    Debit(u64),
    /// Checks and debits in one step; answers whether it did.
    Withdraw(u64, Reply<bool>),
}

struct Bank {
    balance: u64,
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
            BankMsg::Withdraw(n, r) => {
                let ok = self.balance >= n;
                if ok {
                    self.balance -= n;
                }
                let _ = r.send(ok);
            }
        }
        Ok(())
    }
}

/// Moves `amount` out of the bank when told.
struct Transfer {
    bank: Addr<Bank>,
    amount: u64,
    /// The fixed protocol: one request that checks and debits.
    atomic: bool,
}

impl Actor for Transfer {
    type Msg = ();
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        let (bank, amount) = (self.bank.clone(), self.amount);
        if self.atomic {
            ctx.ask(&self.bank, |r| BankMsg::Withdraw(amount, r), T, |_, _, _| {})?;
        } else {
            // The bug: the balance may change between the answer and the debit.
            ctx.ask(&self.bank, BankMsg::Balance, T, move |_, ctx, balance| {
                if balance.is_ok_and(|b| b >= amount) {
                    let _ = ctx.send(&bank, BankMsg::Debit(amount));
                }
            })?;
        }
        Ok(())
    }
}

/// Two transfers of 60 from an account of 100; the bank must never fail.
fn two_transfers(atomic: bool) {
    let system = System::builder()
        .workers(1)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let bank = system.spawn(|| Bank { balance: 100 }).unwrap();
    let transfers: Vec<Addr<Transfer>> = (0..2)
        .map(|_| {
            let bank = bank.clone();
            system
                .spawn(move || Transfer {
                    bank: bank.clone(),
                    amount: 60,
                    atomic,
                })
                .unwrap()
        })
        .collect();
    for t in &transfers {
        t.tell(()).unwrap();
    }
    system.await_quiescent(T).unwrap();
    assert!(bank.is_alive(), "the bank failed: an account was overdrawn");
    assert_eq!(bank.ask(BankMsg::Balance, T), Ok(40));
    system.shutdown().unwrap();
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.max_branches = 100_000;
    b.check(f);
}

#[test]
fn fixed_transfers_never_overdraw() {
    model(|| two_transfers(true));
}

#[test]
fn check_then_act_transfers_overdraw_in_some_interleaving() {
    let found = std::panic::catch_unwind(|| model(|| two_transfers(false)));
    assert!(found.is_err(), "loom found no interleaving that overdraws");
}
