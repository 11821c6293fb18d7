//! Reading the payload of a caught panic, for the runtime's logs and failures.

use std::any::Any;

/// The message of a caught panic payload: the `&str` or `String` that
/// `panic!` carries, or a placeholder for any other payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::panic_message;
    use std::panic::catch_unwind;

    #[test]
    fn reads_str_and_string_payloads_and_names_others() {
        let p = catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(&*p), "plain");
        let n = 7;
        let p = catch_unwind(|| panic!("formatted {n}")).unwrap_err();
        assert_eq!(panic_message(&*p), "formatted 7");
        let p = catch_unwind(|| std::panic::panic_any(42_u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "non-string panic payload");
    }
}
