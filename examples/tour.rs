//! A tour of playhouse: actors, tell and ask, backpressure, failure and supervision, timers, an event bus and a clean shutdown.
//!
//! Run it with `cargo run --example tour` (add `RUST_LOG=debug` to see the
//! runtime's log).

use playhouse::bus::{EventBus, EventBusExt, Subscribe};
use playhouse::{
    Actor, ActorError, Addr, ChildSpec, Context, Reply, SpawnOptions, Supervisor, SupervisorExt,
    System, TrySendError,
};
use std::time::{Duration, Instant};

/// A bank account: private state, one message at a time, no locks.
struct Account {
    balance: i64,
}

enum AccountMsg {
    Deposit(i64),
    Withdraw(i64, Reply<Result<i64, String>>),
    Balance(Reply<i64>),
}

impl Actor for Account {
    type Msg = AccountMsg;

    fn handle(&mut self, _: &mut Context<Self>, msg: AccountMsg) -> Result<(), ActorError> {
        match msg {
            AccountMsg::Deposit(n) => self.balance += n,
            AccountMsg::Withdraw(n, reply) => {
                let outcome = if n <= self.balance {
                    self.balance -= n;
                    Ok(self.balance)
                } else {
                    Err(format!("insufficient funds: {} < {n}", self.balance))
                };
                let _ = reply.send(outcome);
            }
            AccountMsg::Balance(reply) => {
                let _ = reply.send(self.balance);
            }
        }
        Ok(())
    }
}

/// The last stage of a pipeline: slow, with a tiny mailbox.
struct SlowSink {
    received: u64,
    sum: u64,
}

enum SinkMsg {
    Item(u64),
    Count(Reply<u64>),
}

impl Actor for SlowSink {
    type Msg = SinkMsg;
    fn handle(&mut self, _: &mut Context<Self>, msg: SinkMsg) -> Result<(), ActorError> {
        match msg {
            SinkMsg::Item(n) => {
                self.received += 1;
                self.sum = self.sum.wrapping_add(n);
                std::hint::black_box((0..2_000).sum::<u64>());
            }
            SinkMsg::Count(r) => {
                let _ = r.send(self.received);
            }
        }
        Ok(())
    }
}

/// Squares numbers and forwards them with `ctx.send`: when the sink is full
/// this actor is suspended instead of blocking its worker, and the pressure
/// reaches the producer outside the pool.
struct Squarer {
    sink: Addr<SlowSink>,
}

impl Actor for Squarer {
    type Msg = u64;
    fn handle(&mut self, ctx: &mut Context<Self>, n: u64) -> Result<(), ActorError> {
        ctx.send(&self.sink, SinkMsg::Item(n * n))?;
        Ok(())
    }
}

/// Fails on bad input; without a supervisor a failed actor stops.
struct Parser;

impl Actor for Parser {
    type Msg = (String, Reply<i64>);
    fn handle(
        &mut self,
        _: &mut Context<Self>,
        (text, reply): Self::Msg,
    ) -> Result<(), ActorError> {
        let n: i64 = text.trim().parse()?; // an Err here is a failure
        let _ = reply.send(n);
        Ok(())
    }
}

/// Counts timer ticks and stops itself after three.
struct Heartbeat {
    beats: u32,
    done: crossbeam_channel::Sender<u32>,
}

impl Actor for Heartbeat {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        ctx.schedule_every(Duration::from_millis(20), || ())?;
        Ok(())
    }
    fn handle(&mut self, ctx: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        self.beats += 1;
        println!("    heartbeat {}", self.beats);
        if self.beats == 3 {
            ctx.stop();
        }
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        let _ = self.done.send(self.beats);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let system = System::builder().name("tour").build()?;
    let timeout = Duration::from_secs(5);

    println!("1. Actors, tell and ask");
    let account = system.spawn_with(SpawnOptions::new().name("account"), || Account {
        balance: 0,
    })?;
    for _ in 0..10 {
        account.tell(AccountMsg::Deposit(10))?;
    }
    let left = account.ask(|r| AccountMsg::Withdraw(30, r), timeout)?;
    println!("    deposited 10 x 10, withdrew 30: balance {left:?}");
    let refused = account.ask(|r| AccountMsg::Withdraw(1_000, r), timeout)?;
    println!("    withdrawing 1000: {refused:?}");
    let by_name = system.lookup::<Account>("account").expect("registered");
    println!(
        "    looked up by name, balance {}",
        by_name.ask(AccountMsg::Balance, timeout)?
    );

    println!("2. Backpressure: a fast producer, a pipeline with mailboxes of 4");
    let small = || SpawnOptions::new().mailbox_capacity(4);
    let sink = system.spawn_with(small(), || SlowSink {
        received: 0,
        sum: 0,
    })?;
    let s = sink.clone();
    let squarer = system.spawn_with(small(), move || Squarer { sink: s.clone() })?;
    let started = Instant::now();
    let mut full = 0;
    for n in 0..20_000 {
        // try_tell shows the mailbox filling up; tell then waits for room.
        match squarer.try_tell(n) {
            Ok(()) => {}
            Err(TrySendError::Full(n)) => {
                full += 1;
                squarer.tell(n)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    system.await_quiescent(timeout)?;
    println!(
        "    20000 items through, producer found the mailbox full {full} times, {:?}",
        started.elapsed()
    );
    println!(
        "    the sink received {} items, nothing lost",
        sink.ask(SinkMsg::Count, timeout)?
    );

    println!("3. Failure: a handler error stops the actor, its message goes to dead letters");
    let parser = system.spawn(|| Parser)?;
    println!(
        "    parse \"42\" -> {:?}",
        parser.ask(|r| ("42".into(), r), timeout)
    );
    println!(
        "    parse \"forty-two\" -> {:?}",
        parser.ask(|r| ("forty-two".into(), r), timeout)
    );
    system.await_quiescent(timeout)?;
    println!(
        "    parser alive: {}, dead letters: {}",
        parser.is_alive(),
        system.metrics().dead_letters
    );

    println!("4. Supervision: the same parser under a supervisor is restarted, fresh");
    let sup = Supervisor::builder()
        .child(ChildSpec::new("parser", || Parser))
        .name("parsers")
        .spawn(&system)?;
    system.await_quiescent(timeout)?;
    let parser = sup.child::<Parser>("parser").expect("started");
    println!(
        "    parse \"x\" -> {:?}",
        parser.ask(|r| ("x".into(), r), timeout)
    );
    println!(
        "    parse \"7\" through the same address -> {:?}",
        parser.ask(|r| ("7".into(), r), timeout)
    );
    let restarts = sup.children(timeout)?[0].restarts;
    println!("    restarts so far: {restarts}");

    println!("5. Timers: a heartbeat every 20 ms");
    let (done, stopped) = crossbeam_channel::bounded(1);
    system.spawn(move || Heartbeat {
        beats: 0,
        done: done.clone(),
    })?;
    println!(
        "    heartbeat stopped itself after {} beats",
        stopped.recv_timeout(timeout)?
    );

    println!("6. An event bus: publish by topic; an actor and a plain thread subscribe");
    let bus = EventBus::builder()
        .topic_fn(|e: &(String, i64)| e.0.clone())
        .spawn(&system)?;
    let deposits = account.recipient_with(|(_, n): (String, i64)| AccountMsg::Deposit(n));
    bus.subscribe("deposit".to_string(), deposits, timeout)?;
    let (tx, rx) = crossbeam_channel::bounded(1);
    bus.subscribe_channel(Subscribe::all(), tx, timeout)?;
    let watcher = std::thread::spawn(move || rx.iter().take(3).collect::<Vec<_>>());
    bus.publish(("deposit".to_string(), 5))?;
    bus.publish(("audit".to_string(), 0))?;
    bus.publish(("deposit".to_string(), 7))?;
    println!(
        "    a plain thread saw {:?}",
        watcher.join().expect("watcher")
    );
    system.await_quiescent(timeout)?;
    println!(
        "    the account got the two deposits: balance {}",
        account.ask(AccountMsg::Balance, timeout)?
    );

    let m = system.metrics();
    println!(
        "7. Metrics: {} actors alive, {} messages handled, {} dead letters, {} steals, {} parks",
        m.actors_alive, m.messages_handled, m.dead_letters, m.steals, m.parks
    );
    system.shutdown()?;
    println!("8. Shut down cleanly: every actor stopped, every thread joined");
    match account.tell(AccountMsg::Deposit(1)) {
        Err(e) => println!("    a tell after shutdown: {e}"),
        Ok(()) => println!("    unexpected: a tell after shutdown was accepted"),
    }
    Ok(())
}
