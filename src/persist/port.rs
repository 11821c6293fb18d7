//! The journal port: a small child actor through which an event-sourced
//! actor saves snapshots, and writes its appends when
//! `Persistence::port_options` chose where the port runs.
//!
//! A journal or snapshot write must not hold a pool worker across an fsync.
//! The port hands each append to [`Journal::append_with`] and each snapshot
//! to [`SnapshotStore::save_with`]; the file stores queue the write for their
//! writer threads and return at once, and the writer answers the [`Reply`]
//! after the sync. For a store whose writes block, `port_options` can put
//! the port on a dedicated thread. With the default options the port would
//! call the journal on a pool worker like the actor itself, so the actor
//! then hands its appends to the journal directly (one hop fewer per
//! command) and hears the outcome through `Context::reply_to_self`.

use super::error::PersistError;
use super::journal::{Journal, JournalError};
use super::snapshot::SnapshotStore;
use crate::sync::Arc;
use crate::{Actor, ActorError, Context, Reply};
use std::fmt;

pub(crate) struct Port {
    pub(crate) journal: Arc<dyn Journal>,
    pub(crate) snapshots: Option<Arc<dyn SnapshotStore>>,
}

pub(crate) enum PortMsg {
    Append {
        stream: String,
        expected: u64,
        events: Vec<Vec<u8>>,
        reply: Reply<Result<u64, JournalError>>,
    },
    Snapshot {
        stream: String,
        seq: u64,
        state: Vec<u8>,
        reply: Option<Reply<Result<u64, PersistError>>>,
    },
}

impl fmt::Debug for PortMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMsg::Append { stream, .. } => write!(f, "Append({stream:?})"),
            PortMsg::Snapshot { stream, seq, .. } => write!(f, "Snapshot({stream:?}, {seq})"),
        }
    }
}

impl Actor for Port {
    type Msg = PortMsg;

    fn handle(&mut self, _: &mut Context<Self>, msg: PortMsg) -> Result<(), ActorError> {
        match msg {
            PortMsg::Append {
                stream,
                expected,
                events,
                reply,
            } => self.journal.append_with(
                &stream,
                expected,
                events,
                Box::new(move |r| {
                    let _ = reply.send(r);
                }),
            ),
            PortMsg::Snapshot {
                stream,
                seq,
                state,
                reply,
            } => {
                let Some(store) = &self.snapshots else {
                    if let Some(reply) = reply {
                        let _ = reply.send(Err(PersistError::Config {
                            setting: "snapshots",
                            reason: "no snapshot store",
                        }));
                    }
                    return Ok(());
                };
                let name = stream.clone();
                store.save_with(
                    &stream,
                    seq,
                    state,
                    Box::new(move |outcome| {
                        let outcome = outcome.map(|()| seq).map_err(|e| {
                            log::warn!("snapshot of {name:?} at seq {seq} not saved: {e}");
                            PersistError::from(e)
                        });
                        if let Some(reply) = reply {
                            let _ = reply.send(outcome);
                        }
                    }),
                );
            }
        }
        Ok(())
    }
}
