//! The order: what customers send, the event-sourced aggregate that decides and remembers, and the events the shop publishes.

use playhouse::persist::{Codec, CodecError, EventSourced, Projection};
use std::collections::BTreeMap;

/// What the shop sells, with unit prices in cents.
pub const CATALOGUE: [(&str, u64); 4] = [
    ("espresso", 350),
    ("croissant", 275),
    ("beans", 1_450),
    ("grinder", 8_900),
];

/// The most of one product an order may hold.
pub const MAX_QUANTITY: u32 = 10;

/// An order of this many cents or more is large: it is shipped first.
pub const LARGE_CENTS: u64 = 5_000;

/// An order as a customer sends it: not yet checked.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub id: u64,
    pub product: &'static str,
    pub quantity: u32,
}

/// A checked, priced order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: u64,
    pub product: &'static str,
    pub quantity: u32,
    pub cents: u64,
}

impl Line {
    pub fn is_large(&self) -> bool {
        self.cents >= LARGE_CENTS
    }
}

/// Checks and prices a request. A pure function, so the aggregate (which
/// decides) and the desk (which announces the decision) agree on the line.
pub fn quote(req: &OrderRequest) -> Result<Line, String> {
    let Some(&(product, unit)) = CATALOGUE.iter().find(|(p, _)| *p == req.product) else {
        return Err(format!("unknown product {:?}", req.product));
    };
    if req.quantity == 0 || req.quantity > MAX_QUANTITY {
        return Err(format!(
            "quantity {} is not within 1..={MAX_QUANTITY}",
            req.quantity
        ));
    }
    Ok(Line {
        id: req.id,
        product,
        quantity: req.quantity,
        cents: unit * u64::from(req.quantity),
    })
}

/// What the shop announces on its event bus.
#[derive(Debug, Clone)]
pub enum OrderEvent {
    Placed(Line),
    Rejected { id: u64, reason: String },
    Paid(Line),
    PaymentFailed { id: u64, reason: String },
    Shipped { id: u64, packer: &'static str },
}

/// The bus routes by topic; paid orders go to two topics so that
/// fulfilment can take large ones first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Placed,
    Rejected,
    PaidLarge,
    PaidSmall,
    PaymentFailed,
    Shipped,
}

pub fn topic(e: &OrderEvent) -> Topic {
    match e {
        OrderEvent::Placed(_) => Topic::Placed,
        OrderEvent::Rejected { .. } => Topic::Rejected,
        OrderEvent::Paid(l) if l.is_large() => Topic::PaidLarge,
        OrderEvent::Paid(_) => Topic::PaidSmall,
        OrderEvent::PaymentFailed { .. } => Topic::PaymentFailed,
        OrderEvent::Shipped { .. } => Topic::Shipped,
    }
}

// ---- the aggregate: one journal stream per order ----

pub fn stream_of(id: u64) -> String {
    format!("order-{id}")
}

pub enum Command {
    Place(OrderRequest),
    /// The payment's outcome: a receipt, or why it failed.
    Settle(Result<u64, String>),
    Ship {
        packer: &'static str,
    },
}

/// What happened to an order; these are what the journal stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Placed {
        product: &'static str,
        quantity: u32,
        cents: u64,
    },
    Paid {
        receipt: u64,
    },
    PaymentFailed {
        reason: String,
    },
    Shipped {
        packer: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    New,
    Placed,
    Paid,
    PaymentFailed,
    Shipped,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderState {
    pub status: Status,
    pub cents: u64,
}

/// The order aggregate: decides commands into events, folds events into
/// its state. It runs on an actor, one command at a time, without locks.
pub struct Order(pub u64);

impl EventSourced for Order {
    type Command = Command;
    type Event = Event;
    type State = OrderState;
    type Rejection = String;

    fn decide(&self, state: &OrderState, cmd: Command) -> Result<Vec<Event>, String> {
        match (cmd, state.status) {
            (Command::Place(req), Status::New) => {
                let line = quote(&req)?;
                Ok(vec![Event::Placed {
                    product: line.product,
                    quantity: line.quantity,
                    cents: line.cents,
                }])
            }
            (Command::Settle(Ok(receipt)), Status::Placed) => Ok(vec![Event::Paid { receipt }]),
            (Command::Settle(Err(reason)), Status::Placed) => {
                Ok(vec![Event::PaymentFailed { reason }])
            }
            (Command::Ship { packer }, Status::Paid) => Ok(vec![Event::Shipped { packer }]),
            (_, status) => Err(format!("order {} cannot do that while {status:?}", self.0)),
        }
    }

    fn apply(&self, state: &mut OrderState, event: &Event) {
        state.status = match event {
            Event::Placed { cents, .. } => {
                state.cents = *cents;
                Status::Placed
            }
            Event::Paid { .. } => Status::Paid,
            Event::PaymentFailed { .. } => Status::PaymentFailed,
            Event::Shipped { .. } => Status::Shipped,
        };
    }
}

/// Events as tab-separated text: readable in the journal file.
pub struct EventCodec;

/// A name of the catalogue, or of a packer, back as a `&'static str`.
fn known(name: &str, among: &[&'static str]) -> Result<&'static str, CodecError> {
    among
        .iter()
        .copied()
        .find(|n| *n == name)
        .ok_or_else(|| CodecError::msg(format!("unknown name {name:?}")))
}

impl Codec<Event> for EventCodec {
    fn encode(&self, e: &Event) -> Result<Vec<u8>, CodecError> {
        Ok(match e {
            Event::Placed {
                product,
                quantity,
                cents,
            } => format!("placed\t{product}\t{quantity}\t{cents}"),
            Event::Paid { receipt } => format!("paid\t{receipt}"),
            Event::PaymentFailed { reason } => format!("payment-failed\t{reason}"),
            Event::Shipped { packer } => format!("shipped\t{packer}"),
        }
        .into_bytes())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Event, CodecError> {
        let text = std::str::from_utf8(bytes).map_err(CodecError::new)?;
        let products: Vec<&'static str> = CATALOGUE.iter().map(|(p, _)| *p).collect();
        match text.split('\t').collect::<Vec<_>>().as_slice() {
            ["placed", product, quantity, cents] => Ok(Event::Placed {
                product: known(product, &products)?,
                quantity: quantity.parse().map_err(CodecError::new)?,
                cents: cents.parse().map_err(CodecError::new)?,
            }),
            ["paid", receipt] => Ok(Event::Paid {
                receipt: receipt.parse().map_err(CodecError::new)?,
            }),
            ["payment-failed", reason] => Ok(Event::PaymentFailed {
                reason: reason.to_string(),
            }),
            ["shipped", packer] => Ok(Event::Shipped {
                packer: known(packer, &crate::fulfilment::PACKERS)?,
            }),
            _ => Err(CodecError::msg(format!("not an order event: {text:?}"))),
        }
    }
}

// ---- the read side: a sales report fed from the journal ----

/// Sales figures over every order stream (CQS: a query model built from
/// the journal, apart from the aggregates).
#[derive(Debug, Default, Clone)]
pub struct SalesReport {
    pub placed: u64,
    pub paid: u64,
    pub payment_failed: u64,
    pub shipped: u64,
    pub revenue_cents: u64,
    /// Order id to the cents of each order placed.
    pub cents: BTreeMap<u64, u64>,
}

impl Projection for SalesReport {
    type Event = Event;

    fn accepts(&self, stream: &str) -> bool {
        stream.starts_with("order-")
    }

    fn apply(&mut self, stream: &str, _seq: u64, event: Event) {
        let id: u64 = stream["order-".len()..].parse().unwrap_or_default();
        match event {
            Event::Placed { cents, .. } => {
                self.placed += 1;
                self.cents.insert(id, cents);
            }
            Event::Paid { .. } => {
                self.paid += 1;
                self.revenue_cents += self.cents.get(&id).copied().unwrap_or_default();
            }
            Event::PaymentFailed { .. } => self.payment_failed += 1,
            Event::Shipped { .. } => self.shipped += 1,
        }
    }
}
