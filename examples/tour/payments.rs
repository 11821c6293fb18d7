//! Payments: a flaky gateway behind a circuit breaker, and the cashier that charges every placed order through it.

use crate::desk::DeskMsg;
use crate::order::{Line, OrderEvent};
use crate::rng::SplitMix64;
use playhouse::breaker::{
    BreakerConfig, BreakerMsg, CallError, CircuitBreaker, ConfigError, Rejected, ServiceRequest,
};
use playhouse::{Actor, ActorError, Addr, Context, Reply};
use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

/// A call slower than this is a failure (a timeout).
pub const CALL_TIMEOUT: Duration = Duration::from_millis(50);
/// How long a hung gateway takes to answer: well past the call timeout.
const HANG: Duration = Duration::from_millis(80);
/// The gateway's requests (counted from 1) that hit its outage: the first
/// three open the breaker, the next three are failed probes, then it heals.
pub const OUTAGE: Range<u64> = 30..36;
/// How long the cashier waits to retry after a probe it could not make, or
/// one that failed.
const PROBE_WAIT: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentError {
    /// The card was declined: the customer's problem, not the gateway's.
    Declined,
    /// The gateway is down.
    Unavailable,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaymentError::Declined => "card declined",
            PaymentError::Unavailable => "payment gateway unavailable",
        })
    }
}

pub struct Charge {
    pub order: u64,
    pub cents: u64,
}

pub type Breaker = Addr<CircuitBreaker<Charge, u64, PaymentError>>;

/// The breaker's settings: three failures in a row open it for 30 ms,
/// doubled after each failed probe up to 120 ms.
pub fn breaker_config() -> Result<BreakerConfig, ConfigError> {
    BreakerConfig::builder()
        .max_failures(3)
        .call_timeout(CALL_TIMEOUT)
        .reset_timeout(Duration::from_millis(30))
        .backoff_factor(2.0)
        .max_reset_timeout(Duration::from_millis(120))
        .build()
}

/// A payment gateway that declines some cards, hangs on some charges, and
/// has one outage. Which cards and charges is drawn from a seeded generator
/// per order, so runs repeat; the outage hits whichever requests come when
/// it does.
pub struct Gateway {
    seed: u64,
    seen: u64,
}

impl Gateway {
    pub fn new(seed: u64) -> Self {
        Gateway { seed, seen: 0 }
    }
}

impl Actor for Gateway {
    type Msg = ServiceRequest<Charge, u64, PaymentError>;

    fn handle(
        &mut self,
        ctx: &mut Context<Self>,
        (charge, reply): Self::Msg,
    ) -> Result<(), ActorError> {
        self.seen += 1;
        let roll = SplitMix64::new(self.seed ^ charge.order).below(100);
        let receipt = 100_000 + charge.order;
        let answer = if OUTAGE.contains(&self.seen) {
            if self.seen == OUTAGE.start + 1 {
                None // hangs
            } else {
                Some(Err(PaymentError::Unavailable))
            }
        } else if roll < 1 {
            None
        } else if roll < 9 {
            Some(Err(PaymentError::Declined))
        } else {
            Some(Ok(receipt))
        };
        match answer {
            Some(answer) => drop(reply.send(answer)),
            None => {
                log::debug!(
                    "gateway: hanging on the charge of {} cents for order {}",
                    charge.cents,
                    charge.order
                );
                // A gateway actor must not block its worker: it answers later
                // from a timer, long after the breaker gave up on the call.
                ctx.run_after(HANG, move |_, _| {
                    let _ = reply.send(Ok(receipt));
                    Ok(())
                });
            }
        }
        Ok(())
    }
}

/// What the cashier saw, one count per charge attempt.
#[derive(Debug, Clone, Default)]
pub struct PaymentStats {
    pub attempts: u64,
    pub ok: u64,
    pub declined: u64,
    pub timed_out: u64,
    pub unavailable: u64,
    /// Refused by the breaker without calling the gateway; held and retried.
    pub fast_failed: u64,
    /// Anything else (none in a good run).
    pub other: u64,
}

impl PaymentStats {
    /// Attempts that ended the order's payment with a failure.
    pub fn failed(&self) -> u64 {
        self.declined + self.timed_out + self.unavailable + self.other
    }
}

pub enum CashierMsg {
    Event(OrderEvent),
    Stats(Reply<PaymentStats>),
}

/// Charges every placed order through the breaker and reports the outcome
/// to the desk.
///
/// When the breaker refuses a charge (it is open), the cashier holds new
/// charges back instead of hammering it, and retries one held charge when
/// the breaker will probe again: that charge is the probe. The first charge
/// that goes through releases the rest. So every order's payment ends paid
/// or failed.
pub struct Cashier {
    breaker: Breaker,
    desk: Addr<crate::desk::Desk>,
    stats: PaymentStats,
    /// Whether charges are held back (the breaker was last seen refusing).
    holding: bool,
    held: VecDeque<Line>,
    /// Whether a retry is scheduled.
    retry_armed: bool,
}

impl Cashier {
    pub fn new(breaker: Breaker, desk: Addr<crate::desk::Desk>) -> Self {
        Cashier {
            breaker,
            desk,
            stats: PaymentStats::default(),
            holding: false,
            held: VecDeque::new(),
            retry_armed: false,
        }
    }

    fn charge(&mut self, ctx: &mut Context<Self>, line: Line) -> Result<(), ActorError> {
        if self.holding {
            self.held.push_back(line);
            return Ok(());
        }
        self.call(ctx, line)
    }

    fn call(&mut self, ctx: &mut Context<Self>, line: Line) -> Result<(), ActorError> {
        self.stats.attempts += 1;
        let charge = Charge {
            order: line.id,
            cents: line.cents,
        };
        // An ask from an actor never blocks: the answer (or the breaker's
        // verdict) comes back as a continuation on this actor.
        ctx.ask(
            &self.breaker,
            |r| BreakerMsg::call(charge, r),
            CALL_TIMEOUT * 20,
            move |me: &mut Cashier, ctx, answer| me.charged(ctx, line, CallError::flatten(answer)),
        )?;
        Ok(())
    }

    /// Retries the oldest held charge after `wait`, unless a retry is
    /// already scheduled.
    fn retry_after(&mut self, ctx: &mut Context<Self>, wait: Duration) {
        if self.retry_armed {
            return;
        }
        self.retry_armed = true;
        ctx.run_after(wait, |me: &mut Cashier, ctx| {
            me.retry_armed = false;
            match me.held.pop_front() {
                Some(line) => me.call(ctx, line),
                // Nothing left to hold back: charge straight away again.
                None => {
                    me.holding = false;
                    Ok(())
                }
            }
        });
    }

    fn charged(
        &mut self,
        ctx: &mut Context<Self>,
        line: Line,
        result: Result<u64, CallError<PaymentError>>,
    ) {
        let id = line.id;
        let settled = match result {
            Ok(receipt) => {
                self.stats.ok += 1;
                log::debug!("order {id} paid, receipt {receipt}");
                if self.holding {
                    self.holding = false;
                    let held = std::mem::take(&mut self.held);
                    log::info!("payments resume: {} held charges released", held.len());
                    for line in held {
                        if let Err(e) = self.call(ctx, line) {
                            log::error!("a held charge could not be sent: {e}");
                        }
                    }
                }
                Ok(receipt)
            }
            Err(CallError::Rejected(why)) => {
                self.stats.fast_failed += 1;
                if !self.holding {
                    log::info!("payments held back while the breaker is open");
                }
                log::debug!("payment for order {id} failed fast: {why}");
                self.holding = true;
                self.held.push_back(line);
                let wait = match why {
                    Rejected::Open { retry_after } => retry_after,
                    Rejected::ProbesTaken => PROBE_WAIT,
                };
                self.retry_after(ctx, wait);
                return;
            }
            Err(CallError::Failed(PaymentError::Declined)) => {
                self.stats.declined += 1;
                log::info!("[expected] payment for order {id} declined: the card was refused");
                Err(PaymentError::Declined.to_string())
            }
            Err(CallError::Failed(PaymentError::Unavailable)) => {
                self.stats.unavailable += 1;
                log::info!("[expected] payment for order {id} failed: the gateway is down");
                Err(PaymentError::Unavailable.to_string())
            }
            Err(CallError::Timeout) => {
                self.stats.timed_out += 1;
                log::info!("[expected] payment for order {id} timed out: the gateway hung");
                Err("payment timed out".to_string())
            }
            Err(e) => {
                self.stats.other += 1;
                log::error!("payment for order {id}: {e}");
                Err(e.to_string())
            }
        };
        if self.holding {
            // A failed or ignored probe: the breaker will say when to try again.
            self.retry_after(ctx, PROBE_WAIT);
        }
        if ctx.send(&self.desk, DeskMsg::Settle(id, settled)).is_err() {
            log::error!("the desk has stopped");
        }
    }
}

impl Actor for Cashier {
    type Msg = CashierMsg;

    fn handle(&mut self, ctx: &mut Context<Self>, msg: CashierMsg) -> Result<(), ActorError> {
        match msg {
            CashierMsg::Event(OrderEvent::Placed(line)) => self.charge(ctx, line)?,
            CashierMsg::Event(_) => {}
            CashierMsg::Stats(r) => drop(r.send(self.stats.clone())),
        }
        Ok(())
    }
}
