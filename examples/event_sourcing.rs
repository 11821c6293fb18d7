//! Event sourcing and CQS: user accounts as event-sourced actors on a file journal, a find-by-email projection, and a second process that restores both from disk.
//!
//! `cargo run --example event_sourcing`
//!
//! The first run registers users and changes emails and passwords, then runs
//! itself again as a new process on the same directory: the second run
//! replays each user from the journal, the projection resumes from its
//! snapshot, and both must agree with what the first run did. It checks its
//! own results and exits non-zero on any mismatch.

use playhouse::System;
use playhouse::persist::{
    Codec, CodecError, CommandError, EventSourced, EventSourcedAddr, FileJournal,
    FileSnapshotStore, Persistence, Projection, ProjectionAddr, ReadAfter,
};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

// ---- the write side: one user account per stream ----

enum UserCommand {
    Register { email: String, password: String },
    ChangeEmail(String),
    ChangePassword { old: String, new: String },
}

#[derive(Debug, Clone, PartialEq)]
enum UserEvent {
    Registered { email: String, password_hash: u64 },
    EmailChanged(String),
    PasswordChanged(u64),
}

#[derive(Debug, Default, Clone, PartialEq)]
struct User {
    email: Option<String>,
    password_hash: u64,
    changes: u32,
}

/// A demo hash: a real system would use a password hashing function.
fn hash(password: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    password.hash(&mut h);
    h.finish()
}

struct Account;

impl EventSourced for Account {
    type Command = UserCommand;
    type Event = UserEvent;
    type State = User;
    type Rejection = String;

    fn decide(&self, user: &User, cmd: UserCommand) -> Result<Vec<UserEvent>, String> {
        match (cmd, &user.email) {
            (UserCommand::Register { email, password }, None) => Ok(vec![UserEvent::Registered {
                email,
                password_hash: hash(&password),
            }]),
            (UserCommand::Register { .. }, Some(_)) => Err("already registered".into()),
            (_, None) => Err("not registered".into()),
            (UserCommand::ChangeEmail(email), Some(current)) if &email == current => Ok(vec![]),
            (UserCommand::ChangeEmail(email), Some(_)) => Ok(vec![UserEvent::EmailChanged(email)]),
            (UserCommand::ChangePassword { old, new }, Some(_)) => {
                if hash(&old) != user.password_hash {
                    Err("wrong password".into())
                } else {
                    Ok(vec![UserEvent::PasswordChanged(hash(&new))])
                }
            }
        }
    }

    fn apply(&self, user: &mut User, event: &UserEvent) {
        match event {
            UserEvent::Registered {
                email,
                password_hash,
            } => {
                user.email = Some(email.clone());
                user.password_hash = *password_hash;
            }
            UserEvent::EmailChanged(email) => user.email = Some(email.clone()),
            UserEvent::PasswordChanged(h) => user.password_hash = *h,
        }
        user.changes += 1;
    }
}

/// Events as tab-separated text.
struct EventCodec;

impl Codec<UserEvent> for EventCodec {
    fn encode(&self, e: &UserEvent) -> Result<Vec<u8>, CodecError> {
        Ok(match e {
            UserEvent::Registered {
                email,
                password_hash,
            } => {
                format!("registered\t{email}\t{password_hash}")
            }
            UserEvent::EmailChanged(email) => format!("email\t{email}"),
            UserEvent::PasswordChanged(h) => format!("password\t{h}"),
        }
        .into_bytes())
    }

    fn decode(&self, bytes: &[u8]) -> Result<UserEvent, CodecError> {
        let text = std::str::from_utf8(bytes).map_err(CodecError::new)?;
        let fields: Vec<&str> = text.split('\t').collect();
        match fields.as_slice() {
            ["registered", email, h] => Ok(UserEvent::Registered {
                email: email.to_string(),
                password_hash: h.parse().map_err(CodecError::new)?,
            }),
            ["email", email] => Ok(UserEvent::EmailChanged(email.to_string())),
            ["password", h] => Ok(UserEvent::PasswordChanged(
                h.parse().map_err(CodecError::new)?,
            )),
            _ => Err(CodecError::msg(format!("unknown user event {text:?}"))),
        }
    }
}

// ---- the read side: find a user by email ----

#[derive(Debug, Default)]
struct ByEmail {
    users: HashMap<String, String>,
}

impl Projection for ByEmail {
    type Event = UserEvent;
    fn accepts(&self, stream: &str) -> bool {
        stream.starts_with("user-")
    }
    fn apply(&mut self, stream: &str, _seq: u64, event: UserEvent) {
        match event {
            UserEvent::Registered { email, .. } | UserEvent::EmailChanged(email) => {
                self.users.retain(|_, id| id != stream);
                self.users.insert(email, stream.to_owned());
            }
            UserEvent::PasswordChanged(_) => {}
        }
    }
}

/// The read model as lines of `email<TAB>user`.
struct ByEmailCodec;

impl Codec<ByEmail> for ByEmailCodec {
    fn encode(&self, m: &ByEmail) -> Result<Vec<u8>, CodecError> {
        let mut lines: Vec<_> = m.users.iter().map(|(e, u)| format!("{e}\t{u}\n")).collect();
        lines.sort();
        Ok(lines.concat().into_bytes())
    }
    fn decode(&self, bytes: &[u8]) -> Result<ByEmail, CodecError> {
        let text = std::str::from_utf8(bytes).map_err(CodecError::new)?;
        let mut users = HashMap::new();
        for line in text.lines() {
            let (e, u) = line
                .split_once('\t')
                .ok_or_else(|| CodecError::msg("no tab"))?;
            users.insert(e.to_owned(), u.to_owned());
        }
        Ok(ByEmail { users })
    }
}

// ---- wiring ----

struct App {
    system: System,
    persistence: Persistence,
}

impl App {
    fn open(dir: &Path) -> Result<App, Box<dyn std::error::Error>> {
        let journal = FileJournal::open(dir.join("journal"))?;
        let snapshots = FileSnapshotStore::open(dir.join("snapshots"))?;
        Ok(App {
            system: System::new(),
            persistence: Persistence::new(Arc::new(journal)).with_snapshots(Arc::new(snapshots)),
        })
    }

    fn user(
        &self,
        id: &str,
    ) -> Result<
        playhouse::Addr<playhouse::persist::EventSourcedActor<Account>>,
        Box<dyn std::error::Error>,
    > {
        Ok(self
            .persistence
            .event_sourced(format!("user-{id}"), || Account, EventCodec)
            .spawn(&self.system)?)
    }

    fn by_email(
        &self,
    ) -> Result<
        playhouse::Addr<playhouse::persist::ProjectionActor<ByEmail>>,
        Box<dyn std::error::Error>,
    > {
        Ok(self
            .persistence
            .projection("by-email", ByEmail::default, EventCodec)
            .snapshot_every(2, ByEmailCodec)
            .spawn(&self.system)?)
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        println!("  ok: {what}");
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

fn first_run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("first run in {}", dir.display());
    let app = App::open(dir)?;
    let emails = app.by_email()?;
    let ada = app.user("ada")?;
    let bob = app.user("bob")?;
    let register = |email: &str, password: &str| UserCommand::Register {
        email: email.into(),
        password: password.into(),
    };
    ada.execute(register("ada@example.com", "lovelace"), T)?;
    bob.execute(register("bob@example.com", "hunter2"), T)?;
    let rejected = ada.execute(register("ada@other.com", "x"), T);
    check(
        rejected == Err(CommandError::Rejected("already registered".into())),
        "a second registration is rejected",
    )?;
    let seq = ada.execute(UserCommand::ChangeEmail("ada@analytical.engine".into()), T)?;
    // Read your own write: the projection has seen the change before answering.
    let after = ReadAfter::Event {
        stream: "user-ada".into(),
        seq,
    };
    let found = emails.query(after, |m| m.users.get("ada@analytical.engine").cloned(), T)?;
    check(
        found.as_deref() == Some("user-ada"),
        "find-by-email sees the new email",
    )?;
    let old = emails.query(
        ReadAfter::Now,
        |m| m.users.contains_key("ada@example.com"),
        T,
    )?;
    check(!old, "the old email no longer finds anyone")?;
    let wrong = bob.execute(
        UserCommand::ChangePassword {
            old: "guess".into(),
            new: "x".into(),
        },
        T,
    );
    check(
        wrong == Err(CommandError::Rejected("wrong password".into())),
        "a wrong password is rejected",
    )?;
    bob.execute(
        UserCommand::ChangePassword {
            old: "hunter2".into(),
            new: "correct horse".into(),
        },
        T,
    )?;
    app.system.shutdown()?;
    Ok(())
}

fn second_run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("second run (a new process) in {}", dir.display());
    let app = App::open(dir)?;
    let ada = app.user("ada")?;
    let bob = app.user("bob")?;
    let state = ada.inspect(|u, seq| (u.clone(), seq), T)?;
    check(
        state.0.email.as_deref() == Some("ada@analytical.engine") && state.1 == 2,
        "ada is replayed from the journal with her new email",
    )?;
    let changed = bob.execute(
        UserCommand::ChangePassword {
            old: "correct horse".into(),
            new: "battery staple".into(),
        },
        T,
    );
    check(
        changed == Ok(3),
        "bob's restored password is the changed one",
    )?;
    let emails = app.by_email()?;
    let cara = app.user("cara")?;
    let seq = cara.execute(
        UserCommand::Register {
            email: "cara@example.com".into(),
            password: "pw".into(),
        },
        T,
    )?;
    let after = ReadAfter::Event {
        stream: "user-cara".into(),
        seq,
    };
    let all = emails.query(
        after,
        |m| {
            let mut v: Vec<_> = m.users.iter().map(|(e, u)| format!("{e}={u}")).collect();
            v.sort();
            v
        },
        T,
    )?;
    check(
        all == [
            "ada@analytical.engine=user-ada",
            "bob@example.com=user-bob",
            "cara@example.com=user-cara",
        ],
        "the projection resumed and caught up with the new user",
    )?;
    app.system.shutdown()?;
    Ok(())
}

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, dir] = args.as_slice()
        && flag == "--second-run"
    {
        return match second_run(Path::new(dir)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("second run: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let dir = TempDir(
        std::env::temp_dir().join(format!("playhouse-event-sourcing-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&dir.0);
    if let Err(e) = first_run(&dir.0) {
        eprintln!("first run: {e}");
        return ExitCode::FAILURE;
    }
    let status = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .arg("--second-run")
            .arg(&dir.0)
            .status()
    });
    match status {
        Ok(s) if s.success() => {
            println!("event sourcing example: all checks passed");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("second run failed: {other:?}");
            ExitCode::FAILURE
        }
    }
}
