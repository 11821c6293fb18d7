//! Probes shared by the integration tests: gates, a bounded "eventually" poll, thread counting, and two small actors.
#![allow(dead_code)]

use crossbeam_channel::{Receiver, Sender, bounded};
use std::time::{Duration, Instant};

/// How long any single wait in a test may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(30);

/// A one-shot gate: handlers block in `wait` until the test calls `open`.
#[derive(Clone)]
pub struct Gate {
    tx: Sender<()>,
    rx: Receiver<()>,
}

impl Gate {
    pub fn new() -> Self {
        let (tx, rx) = bounded(1);
        Gate { tx, rx }
    }
    /// Opens the gate; opening an open gate does nothing.
    pub fn open(&self) {
        let _ = self.tx.try_send(());
    }
    pub fn wait(&self) {
        self.rx.recv_timeout(LIMIT).expect("gate never opened");
        // Leave it open for the next waiter.
        let _ = self.tx.try_send(());
    }
}

/// Polls `cond` until it holds or `LIMIT` passes, then asserts it.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// Threads of this process whose name starts with `prefix` (Linux; names are
/// cut to 15 bytes by the kernel, so keep prefixes short).
pub fn threads_named(prefix: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|n| n.starts_with(prefix))
        .count()
}

/// A system of `workers` workers that records the reason of every dead letter.
pub fn system_with_letters(
    workers: usize,
) -> (
    playhouse::System,
    std::sync::Arc<std::sync::Mutex<Vec<playhouse::DeadLetterReason>>>,
) {
    init_log();
    let letters = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = letters.clone();
    let system = playhouse::System::builder()
        .workers(workers)
        .on_dead_letter(move |d| l.lock().unwrap().push(d.reason))
        .build()
        .unwrap();
    (system, letters)
}

pub fn init_log() {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// Tells the test it entered its handler, then blocks its worker until the
/// gate opens.
pub struct GateBlocker {
    pub entered: Sender<()>,
    pub gate: std::sync::Arc<Gate>,
}

impl playhouse::Actor for GateBlocker {
    type Msg = ();
    fn handle(
        &mut self,
        _: &mut playhouse::Context<Self>,
        _: (),
    ) -> Result<(), playhouse::ActorError> {
        self.entered.send(())?;
        self.gate.wait();
        Ok(())
    }
}

/// Takes numbers and does nothing with them.
pub struct Sink;

impl playhouse::Actor for Sink {
    type Msg = u32;
    fn handle(
        &mut self,
        _: &mut playhouse::Context<Self>,
        _: u32,
    ) -> Result<(), playhouse::ActorError> {
        Ok(())
    }
}

/// An actor that blocks on its gate when told 0 and handles any other number
/// at once: a handler stuck until the test opens the gate.
pub struct BlocksOnZero(pub Gate);

impl playhouse::Actor for BlocksOnZero {
    type Msg = u32;
    fn handle(
        &mut self,
        _: &mut playhouse::Context<Self>,
        n: u32,
    ) -> Result<(), playhouse::ActorError> {
        if n == 0 {
            self.0.wait();
        }
        Ok(())
    }
}

/// A system of `workers` workers, with the test logger on: the setup every
/// bus test starts from.
pub fn system(workers: usize) -> playhouse::System {
    init_log();
    playhouse::System::builder()
        .workers(workers)
        .build()
        .expect("the system starts")
}
