//! A token travels round a ring.

use super::*;

enum NodeMsg {
    Link(Addr<Node>),
    /// The token, with the hops still to go and who waits for the end.
    Token {
        left: u64,
        done: Reply<usize>,
    },
    Count(Reply<u64>),
}

struct Node {
    index: usize,
    next: Option<Addr<Node>>,
    tokens: u64,
}

impl Actor for Node {
    type Msg = NodeMsg;
    fn handle(&mut self, ctx: &mut Context<Self>, msg: NodeMsg) -> Result<(), ActorError> {
        match msg {
            NodeMsg::Link(next) => self.next = Some(next),
            NodeMsg::Token { left, done } => {
                self.tokens += 1;
                if left == 0 {
                    let _ = done.send(self.index);
                } else {
                    let next = self.next.as_ref().ok_or("token before link")?;
                    ctx.send(
                        next,
                        NodeMsg::Token {
                            left: left - 1,
                            done,
                        },
                    )?;
                }
            }
            NodeMsg::Count(reply) => {
                let _ = reply.send(self.tokens);
            }
        }
        Ok(())
    }
}

/// Checks who ended the run and how many tokens each node saw: node `i`
/// sees the token once per lap that reaches it.
fn check(what: &str, len: usize, hops: u64, last: usize, tokens: &[u64]) {
    assert_eq!(
        last,
        (hops % len as u64) as usize,
        "{what}: the node that saw the last hop"
    );
    for (i, &t) in tokens.iter().enumerate() {
        let expected = (hops + 1) / len as u64 + u64::from(((hops + 1) % len as u64) > i as u64);
        assert_eq!(t, expected, "{what}: tokens seen by node {i}");
    }
}

/// `len` actors in a ring pass one token `hops` times.
pub fn playhouse(len: usize, hops: u64) -> Sample {
    assert!(len >= 2, "a ring needs two nodes");
    let system = new_system();
    let nodes: Vec<Addr<Node>> = (0..len)
        .map(|index| {
            system
                .spawn(move || Node {
                    index,
                    next: None,
                    tokens: 0,
                })
                .expect("spawn node")
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % len].clone();
        node.tell(NodeMsg::Link(next)).expect("link");
    }
    let counts = PoolCounts::of(&system);
    let start = Instant::now();
    let last = nodes[0]
        .ask(|done| NodeMsg::Token { left: hops, done }, LIMIT)
        .expect("the token came round");
    let elapsed = start.elapsed();
    let counts = counts.since(&system);
    let tokens: Vec<u64> = nodes
        .iter()
        .map(|n| n.ask(NodeMsg::Count, LIMIT).expect("node count"))
        .collect();
    check("ring", len, hops, last, &tokens);
    system.shutdown().expect("shutdown");
    Sample::timed(hops, elapsed).with_pool(counts)
}

/// `len` threads in a ring of `bounded(1)` channels pass one token `hops`
/// times.
pub fn baseline(len: usize, hops: u64) -> Sample {
    assert!(len >= 2, "a ring needs two nodes");
    let (txs, rxs): (Vec<Sender<u64>>, Vec<Receiver<u64>>) = (0..len).map(|_| bounded(1)).unzip();
    let (done_tx, done_rx) = bounded::<usize>(1);
    let threads: Vec<_> = rxs
        .into_iter()
        .enumerate()
        .map(|(i, rx)| {
            let next = txs[(i + 1) % len].clone();
            let done = done_tx.clone();
            thread::spawn(move || {
                let mut tokens = 0u64;
                // The node that ends the run drops its channels; the
                // disconnection goes round the ring and ends every thread.
                while let Ok(left) = rx.recv() {
                    tokens += 1;
                    if left == 0 {
                        done.send(i).expect("main waits");
                        break;
                    }
                    next.send(left - 1).expect("next node alive");
                }
                tokens
            })
        })
        .collect();
    let first = txs[0].clone();
    drop(txs);
    let start = Instant::now();
    first.send(hops).expect("node 0 alive");
    drop(first);
    let last = done_rx.recv_timeout(LIMIT).expect("the token came round");
    let elapsed = start.elapsed();
    let tokens: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().expect("ring thread"))
        .collect();
    check("ring baseline", len, hops, last, &tokens);
    Sample::timed(hops, elapsed)
}
