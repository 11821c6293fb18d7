//! Bad configuration gives typed errors at build time, never a panic later.

use playhouse::{Actor, ActorError, Context, SpawnError, SpawnOptions, System, ThreadPool};

struct Nop;
impl Actor for Nop {
    type Msg = ();
    fn handle(&mut self, _: &mut Context<Self>, _: ()) -> Result<(), ActorError> {
        Ok(())
    }
}

#[test]
fn zero_workers_capacity_and_throughput_are_rejected() {
    let e = System::builder().workers(0).build().unwrap_err();
    assert_eq!(e.setting(), Some("workers"));
    let e = System::builder().mailbox_capacity(0).build().unwrap_err();
    assert_eq!(e.setting(), Some("mailbox capacity"));
    let e = System::builder().throughput(0).build().unwrap_err();
    assert_eq!(e.setting(), Some("throughput"));
    let e = ThreadPool::builder().threads(0).build().unwrap_err();
    assert_eq!(e.setting(), Some("workers"));
    assert_eq!(
        e.to_string(),
        "invalid configuration: workers must be at least 1"
    );
}

#[test]
fn bad_spawn_options_and_taken_names_are_rejected() {
    let system = System::builder().workers(1).build().unwrap();
    match system.spawn_with(SpawnOptions::new().mailbox_capacity(0), || Nop) {
        Err(SpawnError::Config(e)) => assert_eq!(e.setting(), Some("mailbox capacity")),
        other => panic!("expected a config error, got {other:?}"),
    }
    match system.spawn_with(SpawnOptions::new().throughput(0), || Nop) {
        Err(SpawnError::Config(e)) => assert_eq!(e.setting(), Some("throughput")),
        other => panic!("expected a config error, got {other:?}"),
    }
    let first = system
        .spawn_with(SpawnOptions::new().name("only"), || Nop)
        .unwrap();
    match system.spawn_with(SpawnOptions::new().name("only"), || Nop) {
        Err(SpawnError::NameTaken(n)) => assert_eq!(n, "only"),
        other => panic!("expected NameTaken, got {other:?}"),
    }
    assert_eq!(system.lookup::<Nop>("only"), Some(first));
    assert_eq!(system.lookup::<Nop>("nobody"), None);
}
