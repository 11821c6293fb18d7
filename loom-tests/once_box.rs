//! Loom models of the shim's `OnceBox`: racing first users share one value, seen whole, and every box is dropped once.
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
            .id()
        });
        let mine = once
            .get_or_init(|| {
                built.fetch_add(1, Ordering::SeqCst);
                counted(2, drops.clone())
            })
            .id();
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs, "both users see the installed value");
        let built = built.load(Ordering::SeqCst);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            built - 1,
            "every box but the installed one is dropped at once"
        );
        assert_eq!(once.get().map(Counted::id), Some(mine));
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
        once.get_or_init(|| counted(3, drops.clone()));
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
        let other = thread::spawn(move || o.get_or_init(|| counted(5, d)).id());
        assert_eq!(other.join().unwrap(), 4);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    });
}
