//! Fulfilment and revenue: stream pipelines fed by the bus, and packers under a supervisor, one of which jams on purpose.

use crate::desk::{Bus, Desk, DeskMsg};
use crate::order::{Line, OrderEvent, Topic};
use playhouse::bus::Subscribe;
use playhouse::stream::{Fairness, Sink, Source, StreamHandle, Window};
use playhouse::{Actor, ActorError, Addr, Context};
use std::error::Error;
use std::time::Duration;

pub const PACKERS: [&str; 3] = ["packer-1", "packer-2", "packer-3"];
/// The packer whose label printer jams, and on which of its orders.
pub const JAMMY: &str = "packer-2";
const JAM_ON: u32 = 3;
/// Revenue is summed per product over windows of this length.
pub const WINDOW: Duration = Duration::from_millis(50);
/// The warehouse dispatches one order per this long: orders queue up, and
/// the large ones are taken first.
const DISPATCH_EVERY: Duration = Duration::from_millis(2);
const T: Duration = Duration::from_secs(5);

pub enum PackerMsg {
    Pack(Line),
}

/// What a packer keeps across a restart (see `Context::kept_mut`): whether
/// its printer jammed already, and the order it was packing when it did.
#[derive(Default)]
struct Kept {
    jammed: bool,
    retry: Option<Line>,
}

/// Packs orders and reports them shipped. Its supervisor restarts it with
/// fresh state after a failure; the mailbox and the address stay.
pub struct Packer {
    name: &'static str,
    desk: Addr<Desk>,
    packed: u32,
}

impl Packer {
    pub fn new(name: &'static str, desk: Addr<Desk>) -> Self {
        Packer {
            name,
            desk,
            packed: 0,
        }
    }
}

impl Actor for Packer {
    type Msg = PackerMsg;

    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        // The message being handled when an actor fails goes to dead
        // letters; this packer kept a copy, and packs it again.
        if let Some(line) = ctx.kept_mut::<Kept>().retry.take() {
            log::info!(
                "{} restarted by its supervisor; packing order {} again",
                self.name,
                line.id
            );
            let me = ctx.addr();
            ctx.send(&me, PackerMsg::Pack(line))?;
        }
        Ok(())
    }

    fn handle(
        &mut self,
        ctx: &mut Context<Self>,
        PackerMsg::Pack(line): PackerMsg,
    ) -> Result<(), ActorError> {
        self.packed += 1;
        let kept = ctx.kept_mut::<Kept>();
        if self.name == JAMMY && self.packed == JAM_ON && !kept.jammed {
            kept.jammed = true;
            log::info!(
                "[expected] {}: the label printer jammed on order {} (an injected failure)",
                self.name,
                line.id
            );
            kept.retry = Some(line);
            return Err("label printer jammed".into());
        }
        ctx.send(&self.desk, DeskMsg::Shipped(line.id, self.name))?;
        Ok(())
    }
}

fn paid(e: OrderEvent) -> Option<Line> {
    match e {
        OrderEvent::Paid(line) => Some(line),
        _ => None,
    }
}

/// One window's revenue for one product.
#[derive(Debug, Clone)]
pub struct RevenueWindow {
    pub product: &'static str,
    pub orders: usize,
    pub cents: u64,
}

/// Paid orders, per product, summed over time windows.
pub fn revenue(
    bus: &Bus,
    system: &playhouse::System,
) -> Result<StreamHandle<Vec<RevenueWindow>>, Box<dyn Error>> {
    let paid_orders = Subscribe::topics([Topic::PaidLarge, Topic::PaidSmall]);
    Ok(Source::from_bus(bus, paid_orders, T)?
        .filter_map(paid)
        .key_by(|line: &Line| line.product)
        .window(Window::time(WINDOW))
        .map(|(product, lines)| RevenueWindow {
            product,
            orders: lines.len(),
            cents: lines.iter().map(|l| l.cents).sum(),
        })
        .inspect(|w| log::debug!("revenue window: {w:?}"))
        .to(Sink::collect())
        .run(system)?)
}

/// Paid orders to the packers, large ones first: two bus topics merged by
/// weight (four large for one small while both wait, so small orders are
/// never starved), at the warehouse's pace. Returns the dispatch order.
pub fn dispatch(
    bus: &Bus,
    system: &playhouse::System,
    packers: Vec<Addr<Packer>>,
) -> Result<StreamHandle<Vec<Line>>, Box<dyn Error>> {
    // Small buffers, so that orders wait in the merge, where priority acts.
    let large = Source::from_bus(bus, Subscribe::topic(Topic::PaidLarge), T)?
        .buffer_size(2)
        .filter_map(paid);
    let small = Source::from_bus(bus, Subscribe::topic(Topic::PaidSmall), T)?
        .buffer_size(2)
        .filter_map(paid);
    let sink = Sink::fold(Vec::new(), move |mut dispatched: Vec<Line>, line: Line| {
        let packer = &packers[line.id as usize % packers.len()];
        // From inside the pool a full packer suspends this sink (and so the
        // stream) instead of blocking a worker.
        if packer.tell(PackerMsg::Pack(line.clone())).is_err() {
            log::error!("a packer has stopped");
        }
        dispatched.push(line);
        dispatched
    });
    Ok(
        Source::merge(vec![(4, large), (1, small)], Fairness::Weighted)
            .throttle(1, DISPATCH_EVERY)
            .to(sink)
            .run(system)?,
    )
}
