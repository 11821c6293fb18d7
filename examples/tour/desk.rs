//! The order desk: takes orders from the producer, runs one event-sourced aggregate per order, and announces what they decide.

use crate::order::{
    Command, EventCodec, Line, Order, OrderEvent, OrderRequest, Status, quote, stream_of,
};
use crossbeam_channel::Sender;
use playhouse::bus::{BusMsg, EventBus};
use playhouse::persist::{CommandError, EventSourcedActor, EventSourcedMsg, Persistence};
use playhouse::{Actor, ActorError, Addr, AskError, Context, Reply, SpawnOptions};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

pub type Bus = Addr<EventBus<OrderEvent, crate::order::Topic>>;
type Aggregate = Addr<EventSourcedActor<Order>>;
type Answer = Result<Result<u64, CommandError<String>>, AskError>;

/// How long a command may take to be persisted (a few fsyncs at most).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

pub enum DeskMsg {
    /// A new order, from the producer.
    Place(OrderRequest),
    /// A payment's outcome, from the cashier.
    Settle(u64, Result<u64, String>),
    /// An order left the warehouse, from a packer.
    Shipped(u64, &'static str),
    /// The producer is done: this many orders were sent.
    ProducerDone(u64),
    Tally(Reply<Tally>),
}

/// The desk's count of what happened to the orders.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub received: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub paid: u64,
    pub payment_failed: u64,
    pub shipped: u64,
    pub paid_cents: u64,
    /// Commands the aggregates failed to carry out (none in a good run).
    pub errors: u64,
    /// Where every accepted order ended.
    pub outcome: BTreeMap<u64, Status>,
}

pub struct Desk {
    persistence: Persistence,
    bus: Bus,
    done: Sender<()>,
    orders: HashMap<u64, (Aggregate, Line)>,
    expected: Option<u64>,
    tally: Tally,
}

impl Desk {
    pub fn new(persistence: Persistence, bus: Bus, done: Sender<()>) -> Self {
        Desk {
            persistence,
            bus,
            done,
            orders: HashMap::new(),
            expected: None,
            tally: Tally::default(),
        }
    }

    /// Sends `cmd` to the order's aggregate; `then` runs on the desk once it
    /// is persisted (or refused). The desk never waits: it goes on taking
    /// orders while the journal writes.
    fn command(
        &mut self,
        ctx: &mut Context<Self>,
        order: &Aggregate,
        cmd: Command,
        then: impl FnOnce(&mut Desk, &mut Context<Desk>, Answer) + Send + 'static,
    ) -> Result<(), ActorError> {
        ctx.ask(
            order,
            |r| EventSourcedMsg::Command(cmd, r),
            COMMAND_TIMEOUT,
            then,
        )?;
        Ok(())
    }

    fn publish(&mut self, ctx: &mut Context<Self>, e: OrderEvent) {
        // ctx.send: a full bus suspends the desk instead of blocking a worker.
        if ctx.send(&self.bus, BusMsg::publish(e)).is_err() {
            log::error!("the event bus has stopped");
        }
    }

    fn place(&mut self, ctx: &mut Context<Self>, req: OrderRequest) -> Result<(), ActorError> {
        self.tally.received += 1;
        let id = req.id;
        let factory = self
            .persistence
            .event_sourced(stream_of(id), move || Order(id), EventCodec)
            .factory()?;
        // A child of the desk: it stops with it, and replays on start.
        let order = ctx.spawn_with(SpawnOptions::new().name(stream_of(id)), factory)?;
        let line = quote(&req);
        let agg = order.clone();
        self.command(
            ctx,
            &order,
            Command::Place(req),
            move |desk, ctx, answer| {
                match flatten(answer) {
                    Ok(_) => {
                        let line = line.expect("the aggregate accepted what quote accepts");
                        log::debug!("order {id} placed: {line:?}");
                        desk.tally.accepted += 1;
                        desk.tally.outcome.insert(id, Status::Placed);
                        desk.orders.insert(id, (agg, line.clone()));
                        desk.publish(ctx, OrderEvent::Placed(line));
                    }
                    Err(CommandError::Rejected(reason)) => {
                        log::info!("order {id} rejected: {reason}");
                        desk.tally.rejected += 1;
                        agg.stop(); // nothing was persisted; the stream stays empty
                        desk.publish(ctx, OrderEvent::Rejected { id, reason });
                        desk.check_done();
                    }
                    Err(e) => desk.failed(id, e),
                }
            },
        )
    }

    fn settle(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        payment: Result<u64, String>,
    ) -> Result<(), ActorError> {
        let Some((order, line)) = self.orders.get(&id).cloned() else {
            log::error!("a payment for unknown order {id}");
            self.tally.errors += 1;
            return Ok(());
        };
        let outcome = payment.clone();
        self.command(
            ctx,
            &order,
            Command::Settle(payment),
            move |desk, ctx, answer| match flatten(answer) {
                Ok(_) => match outcome {
                    Ok(_) => {
                        desk.tally.paid += 1;
                        desk.tally.paid_cents += line.cents;
                        desk.tally.outcome.insert(id, Status::Paid);
                        desk.publish(ctx, OrderEvent::Paid(line));
                    }
                    Err(reason) => {
                        desk.tally.payment_failed += 1;
                        desk.tally.outcome.insert(id, Status::PaymentFailed);
                        desk.publish(ctx, OrderEvent::PaymentFailed { id, reason });
                        desk.check_done();
                    }
                },
                Err(e) => desk.failed(id, e),
            },
        )
    }

    fn ship(
        &mut self,
        ctx: &mut Context<Self>,
        id: u64,
        packer: &'static str,
    ) -> Result<(), ActorError> {
        let Some((order, _)) = self.orders.get(&id).cloned() else {
            log::error!("a shipment of unknown order {id}");
            self.tally.errors += 1;
            return Ok(());
        };
        self.command(
            ctx,
            &order,
            Command::Ship { packer },
            move |desk, ctx, answer| match flatten(answer) {
                Ok(_) => {
                    desk.tally.shipped += 1;
                    desk.tally.outcome.insert(id, Status::Shipped);
                    desk.publish(ctx, OrderEvent::Shipped { id, packer });
                    desk.check_done();
                }
                Err(e) => desk.failed(id, e),
            },
        )
    }

    fn failed(&mut self, id: u64, e: CommandError<String>) {
        log::error!("order {id}: {e}");
        self.tally.errors += 1;
        self.check_done();
    }

    /// Tells the tour once every order has reached its end: rejected,
    /// payment failed, or shipped.
    fn check_done(&mut self) {
        let t = &self.tally;
        let ended = t.rejected + t.payment_failed + t.shipped + t.errors;
        if self.expected == Some(t.received) && ended == t.received {
            let _ = self.done.try_send(());
        }
    }
}

/// A command's answer with the ask's own failure folded in.
fn flatten(answer: Answer) -> Result<u64, CommandError<String>> {
    answer.unwrap_or_else(|e| Err(CommandError::Ask(e)))
}

impl Actor for Desk {
    type Msg = DeskMsg;

    fn handle(&mut self, ctx: &mut Context<Self>, msg: DeskMsg) -> Result<(), ActorError> {
        match msg {
            DeskMsg::Place(req) => self.place(ctx, req)?,
            DeskMsg::Settle(id, payment) => self.settle(ctx, id, payment)?,
            DeskMsg::Shipped(id, packer) => self.ship(ctx, id, packer)?,
            DeskMsg::ProducerDone(n) => {
                self.expected = Some(n);
                self.check_done();
            }
            DeskMsg::Tally(r) => drop(r.send(self.tally.clone())),
        }
        Ok(())
    }
}
