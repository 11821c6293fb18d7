//! Loom models of the shim's `OnceBox`: racing first users share one value, seen whole, every box is dropped once, and a seal racing an install loses or wins whole.
#![cfg(loom)]

mod common;

use common::model;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use playhouse::loom_api::OnceBox;

/// A value that counts its drops. Its id is written after it is built, as
/// plain memory loom tracks: a reader not ordered after that write fails
/// the model.
struct Counted {
    id: UnsafeCell<usize>,
    drops: Arc<AtomicUsize>,
}

fn counted(id: usize, drops: Arc<AtomicUsize>) -> Counted {
    let c = Counted {
        id: UnsafeCell::new(0),
        drops,
    };
    // SAFETY: not shared yet.
    c.id.with_mut(|p| unsafe { *p = id });
    c
}

impl Counted {
    fn id(&self) -> usize {
        // SAFETY: written only before the value was shared.
        self.id.with(|p| unsafe { *p })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Two threads install at once: both get the same value, built whole; a
/// losing box is dropped at once, the winner with the owner.
#[test]
fn racing_first_users_share_one_value() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let built = Arc::new(AtomicUsize::new(0));
        let once: Arc<OnceBox<Counted>> = Arc::new(OnceBox::new(None));
        let (o, d, b) = (once.clone(), drops.clone(), built.clone());
        let other = thread::spawn(move || {
            o.get_or_init(|| {
                b.fetch_add(1, Ordering::SeqCst);
                counted(1, d)
            })
            .map(Counted::id)
        });
        let mine = once
            .get_or_init(|| {
                built.fetch_add(1, Ordering::SeqCst);
                counted(2, drops.clone())
            })
            .map(Counted::id);
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs, "both users see the installed value");
        let built = built.load(Ordering::SeqCst);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            built - 1,
            "every box but the installed one is dropped at once"
        );
        assert_eq!(once.get().map(Counted::id), mine.ok());
        drop(once);
        assert_eq!(drops.load(Ordering::SeqCst), built, "each box dropped once");
    });
}

/// A reader racing the install sees nothing or the whole value.
#[test]
fn a_reader_racing_the_install_sees_none_or_the_value() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let once: Arc<OnceBox<Counted>> = Arc::new(OnceBox::new(None));
        let o = once.clone();
        let reader = thread::spawn(move || o.get().map(Counted::id));
        let _ = once.get_or_init(|| counted(3, drops.clone()));
        let seen = reader.join().unwrap();
        assert!(seen.is_none() || seen == Some(3));
    });
}

/// A value given at construction is the one every user gets.
#[test]
fn a_value_given_at_construction_is_kept() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let once = Arc::new(OnceBox::new(Some(Box::new(counted(4, drops.clone())))));
        let (o, d) = (once.clone(), drops.clone());
        let other = thread::spawn(move || o.get_or_init(|| counted(5, d)).map(Counted::id));
        assert_eq!(other.join().unwrap(), Ok(4));
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    });
}

/// A seal races an install: exactly one wins. A winning seal is what the
/// installer gets (a box it built is dropped at once) and what every later user
/// gets; a winning install is what the sealer gets, seen whole, and the
/// box stays until the owner drops.
#[test]
fn a_seal_racing_an_install_loses_or_wins_whole() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let once: Arc<OnceBox<Counted>> = Arc::new(OnceBox::new(None));
        let built = Arc::new(AtomicUsize::new(0));
        let (o, d, b) = (once.clone(), drops.clone(), built.clone());
        let installer = thread::spawn(move || {
            o.get_or_init(|| {
                b.fetch_add(1, Ordering::SeqCst);
                counted(6, d)
            })
            .map(Counted::id)
        });
        let sealed = once.seal(2).map_err(Counted::id);
        let installed = installer.join().unwrap();
        match (sealed, installed) {
            (Ok(()), Err(tag)) => {
                assert_eq!(tag, 2, "the installer gets the seal's tag");
                let built = built.load(Ordering::SeqCst);
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    built,
                    "a box it built dropped at once"
                );
                assert!(once.get().is_none());
                assert_eq!(
                    once.get_or_init(|| counted(7, drops.clone()))
                        .map(Counted::id),
                    Err(2)
                );
            }
            (Err(id), Ok(theirs)) => {
                assert_eq!((id, theirs), (6, 6), "the sealer gets the installed value");
                assert_eq!(drops.load(Ordering::SeqCst), 0);
                assert_eq!(once.get().map(Counted::id), Some(6));
            }
            other => panic!("both or neither won: {other:?}"),
        }
        let before = drops.load(Ordering::SeqCst);
        let installed = once.get().is_some();
        drop(once);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            before + usize::from(installed),
            "an installed box dropped with its owner, a seal drops nothing"
        );
    });
}
