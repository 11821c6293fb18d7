//! Loom models of a dedicated thread's run/park protocol: a task handed to the runner is run, a close ends the thread, and no task is lost between them.
#![cfg(loom)]

mod common;

use common::model;
use loom::thread;
use playhouse::loom_api::Runner;
use std::sync::Arc;

/// The thread's loop: takes tasks until closed, returns what it ran.
fn run_loop(runner: Arc<Runner<u32>>) -> thread::JoinHandle<Vec<u32>> {
    thread::spawn(move || {
        let mut ran = Vec::new();
        while let Some(t) = runner.next() {
            ran.push(t);
        }
        ran
    })
}

/// A submit racing the thread going to wait is never lost: the thread takes
/// it whether it was stored before the wait or signalled after.
#[test]
fn a_task_submitted_while_the_thread_parks_is_run() {
    model(|| {
        let runner = Arc::new(Runner::default());
        let thread = run_loop(runner.clone());
        let r = runner.clone();
        let submitter = thread::spawn(move || r.submit(7));
        assert!(submitter.join().unwrap().is_ok());
        runner.close();
        assert_eq!(thread.join().unwrap(), vec![7]);
        assert!(runner.wait_exited(None));
    });
}

/// A close racing a submit: the task is either run before the thread ends,
/// or refused back to the submitter; never stored where no thread takes it.
#[test]
fn a_close_racing_a_submit_runs_or_refuses_the_task() {
    model(|| {
        let runner = Arc::new(Runner::default());
        let thread = run_loop(runner.clone());
        let r = runner.clone();
        let submitter = thread::spawn(move || r.submit(7));
        runner.close();
        let refused = submitter.join().unwrap().is_err();
        let ran = thread.join().unwrap();
        assert_eq!(
            ran.len() + usize::from(refused),
            1,
            "{ran:?} refused {refused}"
        );
    });
}

/// A shutdown waiting for the thread to exit is woken by its exit.
#[test]
fn waiting_for_the_exit_is_woken_by_it() {
    model(|| {
        let runner = Arc::new(Runner::<u32>::default());
        let thread = run_loop(runner.clone());
        let r = runner.clone();
        let closer = thread::spawn(move || r.close());
        assert!(runner.wait_exited(None));
        closer.join().unwrap();
        assert!(thread.join().unwrap().is_empty());
    });
}
