//! Every public error reads well when printed with its `source()` chain (as
//! `main` returning `Result` and error reporters do): `Display` describes its
//! own level and `source()` gives the cause, so no message repeats the text
//! of the error below it.

use playhouse::breaker::{CallError, ConfigError, Rejected};
use playhouse::bus::SubscribeError;
use playhouse::persist::{CodecError, CommandError, JournalError, PersistError};
use playhouse::stream::{Overrun, PushError, StartError, StreamError};
use playhouse::testkit::{ExpectError, WaitError};
use playhouse::{
    AskError, BuildError, Failure, SendError, SendTimeoutError, SpawnError, SupervisorError,
    TrySendError,
};
use std::error::Error;
use std::time::Duration;

/// Walks `err`'s chain and checks each level: a non-empty lowercase message
/// without a final period, which does not contain its source's message.
/// Returns the chain's messages, top first.
fn check_chain(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut messages = Vec::new();
    let mut level: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = level {
        let text = e.to_string();
        assert!(!text.is_empty(), "{e:?} has an empty message");
        assert!(
            !text.starts_with(|c: char| c.is_uppercase()),
            "{text:?} starts with a capital"
        );
        assert!(!text.ends_with('.'), "{text:?} ends with a period");
        if let Some(source) = e.source() {
            let below = source.to_string();
            assert!(
                !text.contains(&below),
                "{text:?} repeats its source's message {below:?}"
            );
        }
        messages.push(text);
        level = e.source();
        assert!(messages.len() < 16, "a source chain that does not end");
    }
    messages
}

fn io_error() -> std::io::Error {
    std::io::Error::other("disk on fire")
}

fn every_error() -> Vec<Box<dyn Error + 'static>> {
    let asks = [
        AskError::Timeout,
        AskError::Closed,
        AskError::ReplyDropped,
        AskError::Failed,
        AskError::WouldBlockWorker,
        AskError::SelfAsk,
        AskError::Stalled,
    ];
    let mut all: Vec<Box<dyn Error>> = asks.iter().map(|e| Box::new(*e) as _).collect();
    all.extend([
        // The core.
        Box::new(BuildError::invalid("backoff minimum above its maximum")) as Box<dyn Error>,
        Box::new(TrySendError::Full(1)),
        Box::new(TrySendError::Closed(1)),
        Box::new(SendError::Closed(1)),
        Box::new(SendError::WouldBlockWorker(1)),
        Box::new(SendTimeoutError::Timeout(1)),
        Box::new(SendTimeoutError::Closed(1)),
        Box::new(SendTimeoutError::WouldBlockWorker(1)),
        Box::new(SpawnError::SystemStopped),
        Box::new(SpawnError::ParentStopping),
        Box::new(SpawnError::NameTaken("worker".into())),
        Box::new(SpawnError::Config(BuildError::invalid("no workers"))),
        Box::new(SpawnError::NotSimulated("a dedicated thread")),
        Box::new(Failure::Panic("boom".into())),
        Box::new(Failure::Error(Box::new(io_error()))),
        // The supervisor.
        Box::new(SupervisorError::Ask(AskError::Timeout)),
        Box::new(SupervisorError::Spawn(SpawnError::Config(
            BuildError::invalid("no workers"),
        ))),
        Box::new(SupervisorError::ChildStart {
            child: "db".into(),
            reason: "refused".into(),
        }),
        // The patterns.
        Box::new(SubscribeError::Stopped),
        Box::new(SubscribeError::Spawn(SpawnError::SystemStopped)),
        Box::new(SubscribeError::Ask(AskError::Closed)),
        Box::new(CallError::<std::io::Error>::Rejected(Rejected::ProbesTaken)),
        Box::new(CallError::<std::io::Error>::Timeout),
        Box::new(CallError::Failed(io_error())),
        Box::new(CallError::<std::io::Error>::Unavailable(
            AskError::ReplyDropped,
        )),
        Box::new(CallError::<std::io::Error>::Breaker(AskError::Timeout)),
        Box::new(PersistError::Journal(JournalError::Closed)),
        Box::new(PersistError::Codec {
            stream: "order-1".into(),
            seq: 3,
            error: CodecError::msg("truncated"),
        }),
        Box::new(PersistError::Unanswered(AskError::Timeout)),
        Box::new(CommandError::Rejected("out of stock".to_string())),
        Box::new(CommandError::<String>::Failed(PersistError::Journal(
            JournalError::Closed,
        ))),
        Box::new(CommandError::<String>::Ask(AskError::Closed)),
        Box::new(StartError::Invalid("batch size")),
        Box::new(StartError::Spawn(SpawnError::SystemStopped)),
        Box::new(StreamError::Cancelled),
        Box::new(PushError::Closed(1)),
        Box::new(Overrun),
        Box::new(Rejected::Open {
            retry_after: Duration::from_secs(3),
        }),
        Box::new(ConfigError::NoTripRule),
        Box::new(ConfigError::FactorBelowOne(0.5)),
        Box::new(JournalError::Conflict {
            stream: "order-1".into(),
            expected: 3,
            actual: 4,
        }),
        Box::new(JournalError::Io {
            op: "append",
            path: "journal/0001.log".into(),
            kind: std::io::ErrorKind::StorageFull,
            message: "no space left on device".into(),
        }),
        Box::new(JournalError::WouldBlockWriter),
        Box::new(CodecError::msg("truncated")),
        Box::new(ExpectError::<u32>::Closed {
            expected: "a greeting".into(),
            received: vec![1],
        }),
        Box::new(WaitError::Closed),
        Box::new(WaitError::Spawn(SpawnError::SystemStopped)),
        Box::new(WaitError::Ask(AskError::Timeout)),
    ]);
    all
}

#[test]
fn no_error_message_repeats_its_source() {
    for err in every_error() {
        check_chain(&*err);
    }
}

#[test]
fn a_wrapped_error_names_its_own_level_and_its_cause_below() {
    let err = SupervisorError::Spawn(SpawnError::Config(BuildError::invalid("no workers")));
    assert_eq!(
        check_chain(&err),
        [
            "could not spawn",
            "invalid spawn options",
            "invalid configuration: no workers",
        ]
    );
}

#[test]
fn errors_from_a_running_system_read_well() {
    let system = playhouse::System::builder()
        .shutdown_timeout(Duration::from_secs(5))
        .build()
        .expect("a valid system");
    let err = system
        .spawn_with(playhouse::SpawnOptions::new().mailbox_capacity(0), || Idle)
        .unwrap_err();
    assert_eq!(
        check_chain(&err),
        [
            "invalid spawn options",
            "invalid configuration: mailbox capacity must be at least 1",
        ]
    );
    let poller = system.spawn(|| Poller).expect("a running system");
    poller.tell(()).expect("a live actor");
    let busy = system
        .await_quiescent(Duration::from_millis(20))
        .expect_err("the poller never drains");
    check_chain(&busy);
    let lost = system
        .shutdown_timeout(Duration::from_millis(20))
        .expect_err("the poller's last message is lost");
    check_chain(&lost);
}

/// Always has one more message for itself: it never drains.
struct Poller;

impl playhouse::Actor for Poller {
    type Msg = ();
    fn handle(
        &mut self,
        ctx: &mut playhouse::Context<Self>,
        _: (),
    ) -> Result<(), playhouse::ActorError> {
        ctx.send(&ctx.addr(), ())?;
        Ok(())
    }
}

struct Idle;

impl playhouse::Actor for Idle {
    type Msg = ();
    fn handle(
        &mut self,
        _: &mut playhouse::Context<Self>,
        _: (),
    ) -> Result<(), playhouse::ActorError> {
        Ok(())
    }
}
