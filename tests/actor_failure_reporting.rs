//! How failures are reported: once per failure in the log, by type and id for unnamed actors, never by the panic hook for caught panics.
//!
//! A process of its own: it installs a recording logger and panic hook, which
//! are global, so its one test runs alone.

use playhouse::{Actor, ActorError, ChildSpec, Context, Reply, Supervisor, SupervisorExt, System};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// Every log record at info or above: (level, message).
static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            RECORDS
                .lock()
                .unwrap()
                .push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

enum Msg {
    Panic(&'static str),
    Ping(Reply<()>),
}

struct Fragile;

impl Actor for Fragile {
    type Msg = Msg;
    fn handle(&mut self, _: &mut Context<Self>, msg: Msg) -> Result<(), ActorError> {
        match msg {
            Msg::Panic(why) => panic!("{why}"),
            Msg::Ping(r) => {
                let _ = r.send(());
                Ok(())
            }
        }
    }
}

/// Spawns a supervised child and leaves `on_child` to its default.
struct Neglectful;

impl Actor for Neglectful {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), ActorError> {
        let opts = playhouse::SpawnOptions::new()
            .name("neglected")
            .supervised();
        ctx.spawn_with(opts, || Fragile)?;
        Ok(())
    }
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
}

/// Warnings and errors that mention `needle`.
fn loud_lines(needle: &str) -> Vec<String> {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, m)| *l <= log::Level::Warn && m.contains(needle))
        .map(|(_, m)| m.clone())
        .collect()
}

#[test]
fn each_failure_is_reported_once_and_names_its_actor() {
    log::set_logger(&Recorder).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    // The hook in place before the first system: it must see only panics
    // that are not caught handler panics.
    let hooked: Arc<Mutex<Vec<String>>> = Arc::default();
    let h = hooked.clone();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        h.lock().unwrap().push(msg);
    }));

    let system = System::builder().workers(2).build().unwrap();

    // An unsupervised failure: one error line, naming the actor by type and id.
    let lone = system.spawn(|| Fragile).unwrap();
    lone.tell(Msg::Panic("lone failure")).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let lines = loud_lines("lone failure");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&format!("Fragile#{}", lone.id())),
        "{lines:?}"
    );

    // A supervised failure: one line, from the supervisor, with its decision.
    let sup = Supervisor::builder()
        .name("reporting")
        .child(ChildSpec::new("child", || Fragile))
        .spawn(&system)
        .unwrap();
    let child = sup.child::<Fragile>("child").unwrap();
    child.tell(Msg::Panic("supervised failure")).unwrap();
    assert_eq!(child.ask(Msg::Ping, LIMIT), Ok(()), "restarted");
    system.await_quiescent(LIMIT).unwrap();
    let lines = loud_lines("supervised failure");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("restarting"), "{lines:?}");
    assert_eq!(system.metrics().restarts, 1);
    assert_eq!(system.metrics().failures, 2);

    // A supervised child of an actor that leaves `on_child` to its default:
    // one line, from the default's decision.
    system.spawn(|| Neglectful).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    let child = system.lookup::<Fragile>("neglected").unwrap();
    child.tell(Msg::Panic("neglected failure")).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert!(!child.is_alive());
    let lines = loud_lines("neglected failure");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("stopping it"), "{lines:?}");

    // A handler on a dedicated thread: caught and logged the same way.
    let pinned = system
        .spawn_with(playhouse::SpawnOptions::new().dedicated_thread(), || {
            Fragile
        })
        .unwrap();
    pinned.tell(Msg::Panic("pinned failure")).unwrap();
    system.await_quiescent(LIMIT).unwrap();
    assert_eq!(loud_lines("pinned failure").len(), 1);

    // No caught panic reached the hook; a panic elsewhere still does.
    let outside = std::thread::spawn(|| panic!("outside the pool"));
    assert!(outside.join().is_err());
    assert_eq!(*hooked.lock().unwrap(), ["outside the pool"]);
    system.shutdown().unwrap();
}
