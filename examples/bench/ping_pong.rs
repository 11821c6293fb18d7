//! Two actors exchange round trips, one message in flight.

use super::*;

enum PingMsg {
    Start { rounds: u64, done: Reply<u64> },
    Pong,
}

struct Pinger {
    pong: Addr<Ponger>,
    left: u64,
    rounds: u64,
    done: Option<Reply<u64>>,
}

impl Actor for Pinger {
    type Msg = PingMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: PingMsg) -> Result<(), ActorError> {
        match msg {
            PingMsg::Start { rounds, done } => {
                self.left = rounds;
                self.done = Some(done);
            }
            PingMsg::Pong => self.rounds += 1,
        }
        if self.left > 0 {
            self.left -= 1;
            ctx.send(&self.pong, PongMsg::Ping)?;
        } else if let Some(done) = self.done.take() {
            let _ = done.send(self.rounds);
        }
        Ok(())
    }
}

enum PongMsg {
    Meet(Addr<Pinger>),
    Ping,
    Count(Reply<u64>),
}

struct Ponger {
    ping: Option<Addr<Pinger>>,
    pings: u64,
}

impl Actor for Ponger {
    type Msg = PongMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: PongMsg) -> Result<(), ActorError> {
        match msg {
            PongMsg::Meet(ping) => self.ping = Some(ping),
            PongMsg::Ping => {
                self.pings += 1;
                let ping = self.ping.as_ref().ok_or("ping before meet")?;
                ctx.send(ping, PingMsg::Pong)?;
            }
            PongMsg::Count(reply) => {
                let _ = reply.send(self.pings);
            }
        }
        Ok(())
    }
}

/// `rounds` round trips between two actors.
pub fn playhouse(rounds: u64) -> Sample {
    let system = new_system();
    let ponger = system
        .spawn(|| Ponger {
            ping: None,
            pings: 0,
        })
        .expect("spawn ponger");
    let p = ponger.clone();
    let pinger = system
        .spawn(move || Pinger {
            pong: p.clone(),
            left: 0,
            rounds: 0,
            done: None,
        })
        .expect("spawn pinger");
    ponger
        .tell(PongMsg::Meet(pinger.clone()))
        .expect("introduce the pinger");
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    let done = pinger
        .ask(|done| PingMsg::Start { rounds, done }, LIMIT)
        .expect("ping-pong finished");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    let pings = ponger.ask(PongMsg::Count, LIMIT).expect("ponger count");
    assert_eq!(
        (done, pings),
        (rounds, rounds),
        "ping-pong: (round trips, pings) seen by the actors"
    );
    system.shutdown().expect("shutdown");
    Sample::timed(rounds, elapsed).with_pool(counts)
}

/// `rounds` round trips between two threads over two `bounded(1)` channels.
pub fn baseline(rounds: u64) -> Sample {
    let (to_pong, pong_rx) = bounded::<u64>(1);
    let (to_ping, ping_rx) = bounded::<u64>(1);
    let ponger = thread::spawn(move || {
        let mut pings = 0u64;
        while let Ok(x) = pong_rx.recv() {
            pings += 1;
            to_ping.send(x).expect("pinger alive");
        }
        pings
    });
    let start = Instant::now();
    for i in 0..rounds {
        to_pong.send(i).expect("ponger alive");
        let back = ping_rx.recv_timeout(LIMIT).expect("pong");
        assert_eq!(back, i, "ping-pong baseline: pong out of order");
    }
    let elapsed = start.elapsed();
    drop(to_pong);
    let pings = ponger.join().expect("ponger thread");
    assert_eq!(
        pings, rounds,
        "ping-pong baseline: pings seen by the ponger"
    );
    Sample::timed(rounds, elapsed)
}
