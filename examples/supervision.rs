//! A supervised tree: a pool of workers that crash on bad input and are restarted, and a nested supervisor.
//!
//! Run it with `cargo run --example supervision` (add `RUST_LOG=info` to see the
//! supervisors' decisions).

use playhouse::{
    Actor, ActorError, ChildSpec, Context, Reply, Restart, Strategy, Supervisor, SupervisorExt,
    System,
};
use std::time::Duration;

/// Parses numbers; a bad one is a failure, and its supervisor restarts it.
struct Parser {
    id: &'static str,
    parsed: u64,
}

enum Job {
    Parse(String),
    Stats(Reply<(&'static str, u64)>),
}

impl Actor for Parser {
    type Msg = Job;
    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        println!("    {} started (fresh state)", self.id);
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, job: Job) -> Result<(), ActorError> {
        match job {
            Job::Parse(text) => {
                let n: i64 = text.parse()?; // bad input: the handler fails
                self.parsed += 1;
                println!("    {} parsed {n}", self.id);
            }
            Job::Stats(reply) => {
                let _ = reply.send((self.id, self.parsed));
            }
        }
        Ok(())
    }
}

/// A cache that must restart together with its loader (one-for-all).
struct Part(&'static str);

impl Actor for Part {
    type Msg = ();
    fn started(&mut self, _: &mut Context<Self>) -> Result<(), ActorError> {
        println!("    storage/{} started", self.0);
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Err(format!("{} lost its connection", self.0).into())
    }
    fn stopped(&mut self, _: &mut Context<Self>) {
        println!("    storage/{} stopped", self.0);
    }
}

fn parser(id: &'static str) -> ChildSpec<Parser> {
    ChildSpec::new(id, move || Parser { id, parsed: 0 })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let system = System::new();
    let timeout = Duration::from_secs(5);

    println!("Starting the tree: root (one-for-one) -> [workers, storage (one-for-all)]");
    let root = Supervisor::builder()
        .intensity(10, Duration::from_secs(10))
        .child(ChildSpec::supervisor(
            "storage",
            Supervisor::builder()
                .strategy(Strategy::OneForAll)
                .intensity(3, Duration::from_secs(10))
                .child(ChildSpec::new("cache", || Part("cache")))
                .child(ChildSpec::new("loader", || Part("loader"))),
        ))
        .name("root")
        .spawn(&system)?;
    system.await_quiescent(timeout)?;

    println!("A pool of three parsers, added to a running supervisor");
    let pool = Supervisor::builder()
        .intensity(5, Duration::from_secs(10))
        .backoff(Duration::from_millis(10), Duration::from_millis(200))
        .name("parsers")
        .spawn(&system)?;
    let workers = [
        pool.add_child(parser("p1"), timeout)?,
        pool.add_child(parser("p2"), timeout)?,
        pool.add_child(parser("p3").restart(Restart::Transient), timeout)?,
    ];
    system.await_quiescent(timeout)?;

    println!("Feeding input, some of it bad");
    let input = ["1", "2", "three", "4", "5", "six", "7", "8"];
    for (i, text) in input.iter().enumerate() {
        workers[i % 3].tell(Job::Parse(text.to_string()))?;
    }
    system.await_quiescent(timeout)?;
    for w in &workers {
        let (id, parsed) = w.ask(Job::Stats, timeout)?;
        println!("    {id}: {parsed} parsed since its last restart (same address throughout)");
    }
    for c in pool.children(timeout)? {
        println!(
            "    child {}: running {}, restarts {}",
            c.name, c.running, c.restarts
        );
    }

    println!("The loader fails: one-for-all restarts the whole storage group");
    let storage = root.child::<Supervisor>("storage").expect("started");
    storage.child::<Part>("loader").expect("started").tell(())?;
    system.await_quiescent(timeout)?;

    println!(
        "Dead letters so far (the messages that failed): {}",
        system.metrics().dead_letters
    );
    println!("Shutting down: trees stop leaves first, newest child first");
    system.shutdown()?;
    Ok(())
}
