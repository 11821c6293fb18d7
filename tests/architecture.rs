//! Layering: the supervisor and every pattern module use only what `lib.rs` exports, as another crate would.
//!
//! A pattern module (`src/supervisor*`, `src/bus/`, `src/breaker*`,
//! `src/stream*`, `src/persist*`) may name, through `crate::`, only: a name
//! `lib.rs` re-exports with `pub use` (or a `pub mod` it declares), its own
//! module (`crate::bus::...` inside the bus), and `crate::sync`, the loom
//! shim (an outside crate would bring its own). `super::` must stay inside
//! the module. Anything else is a crate-private item: the check fails and
//! names the file and the path.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules that are patterns built on the public API (those
/// that exist: some are written in parallel).
const PATTERNS: &[&str] = &["supervisor", "bus", "breaker", "stream", "persist"];

/// What a pattern may name under `crate::` besides the root exports.
const ALWAYS_ALLOWED: &[&str] = &["sync"];

#[test]
fn pattern_modules_use_only_the_public_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let public = public_names(&lib);
    assert!(
        public.contains("Actor") && public.contains("Addr"),
        "could not read the root exports of lib.rs: {public:?}"
    );
    let mut checked = 0;
    let mut violations = Vec::new();
    for module in PATTERNS {
        for file in module_files(&src, module) {
            checked += 1;
            let rel = file.strip_prefix(&src).unwrap().to_path_buf();
            let text = fs::read_to_string(&file).unwrap();
            for v in check_file(&rel, &text, module, &public) {
                violations.push(format!("src/{}: {v}", rel.display()));
            }
        }
    }
    assert!(
        checked >= 2,
        "found no pattern files under {}",
        src.display()
    );
    assert!(
        violations.is_empty(),
        "pattern modules import crate-private items (use the root exports of lib.rs, \
         or make what they need public API):\n  {}",
        violations.join("\n  ")
    );
}

/// The checker itself catches each way of reaching a private item.
#[test]
fn the_check_flags_private_paths_in_every_form() {
    let public: BTreeSet<String> = ["Actor", "Context", "Addr"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let file = Path::new("bus/api.rs");
    let ok = "use crate::{Actor, Context};\nuse crate::sync::Arc;\nuse super::msg::BusMsg;\n\
              use crate::bus::Thing;\nfn f() -> crate::Addr<X> { todo!() }\n\
              // use crate::cell::Cell; (a comment)\nconst S: &str = \"crate::cell\";\n";
    assert_eq!(check_file(file, ok, "bus", &public), Vec::<String>::new());
    for bad in [
        "use crate::cell::Cell;",
        "use crate::{Actor, context::Context};",
        "use crate::{\n    Actor,\n    system::{Shared, X},\n};",
        "fn f(x: crate::mailbox::Mailbox) {}",
        "use crate::*;",
        "use crate::supervisor::Supervisor;",
        "use crate::{self as root};",
        "use super::super::cell::Cell;",
    ] {
        assert!(
            !check_file(file, bad, "bus", &public).is_empty(),
            "not flagged: {bad}"
        );
    }
    // `super::` from a module's root file is the crate root.
    let root = Path::new("bus/mod.rs");
    assert!(!check_file(root, "use super::cell::Cell;", "bus", &public).is_empty());
    assert!(check_file(root, "use super::Actor;", "bus", &public).is_empty());
}

/// The `.rs` files of module `name`: `src/name.rs` and everything under `src/name/`.
fn module_files(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src.join(format!("{name}.rs"));
    if file.is_file() {
        out.push(file);
    }
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The names `lib.rs` makes public at the root: the leaves (or aliases) of
/// its `pub use` trees and its `pub mod`s (except the loom-only one).
fn public_names(lib: &str) -> BTreeSet<String> {
    let code = strip(lib);
    let mut names = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = find_word(rest, "pub") {
        rest = &rest[i + 3..];
        let t = rest.trim_start();
        if let Some(tree) = t.strip_prefix("use ") {
            let end = tree.find(';').unwrap_or(tree.len());
            for (path, alias) in use_leaves(&tree[..end]) {
                if let Some(name) = alias.or_else(|| path.last().cloned()) {
                    names.insert(name);
                }
            }
        } else if let Some(m) = t.strip_prefix("mod ") {
            let name: String = m.chars().take_while(|c| is_ident(*c)).collect();
            if name != "loom_api" {
                names.insert(name);
            }
        }
    }
    names
}

/// The violations in one file of pattern `module` (`rel` is its path under
/// `src/`).
fn check_file(rel: &Path, text: &str, module: &str, public: &BTreeSet<String>) -> Vec<String> {
    let code = strip(text);
    let allowed =
        |first: &str| public.contains(first) || ALWAYS_ALLOWED.contains(&first) || first == module;
    let mut out = Vec::new();
    // crate::...
    let mut rest = code.as_str();
    while let Some(i) = find_word(rest, "crate") {
        let after = &rest[i + 5..];
        rest = after;
        let Some(path) = after.trim_start().strip_prefix("::") else {
            continue;
        };
        let path = path.trim_start();
        let firsts: Vec<String> = if path.starts_with('{') || path.starts_with('*') {
            let end = tree_end(path);
            use_leaves(&path[..end])
                .into_iter()
                .map(|(p, _)| p.first().cloned().unwrap_or_default())
                .collect()
        } else {
            vec![path.chars().take_while(|c| is_ident(*c)).collect()]
        };
        for first in firsts {
            if !allowed(&first) {
                out.push(format!("crate::{first}"));
            }
        }
    }
    // super::... leaving the module: the file's depth inside `src/` says how
    // many `super`s stay within it.
    let mut depth = rel.components().count();
    if rel.file_name().is_some_and(|f| f == "mod.rs") || rel.components().count() == 1 {
        depth -= 1;
    }
    let mut rest = code.as_str();
    while let Some(i) = find_word(rest, "super") {
        let start = &rest[i..];
        let mut supers = 0;
        let mut s = start;
        while let Some(t) = s.strip_prefix("super") {
            let Some(t) = t.trim_start().strip_prefix("::") else {
                break;
            };
            supers += 1;
            s = t.trim_start();
        }
        let consumed = start.len() - s.len();
        rest = &rest[i + consumed.max(5)..];
        if supers >= depth && supers > 0 {
            let firsts: Vec<String> = if s.starts_with('{') || s.starts_with('*') {
                let end = tree_end(s);
                use_leaves(&s[..end])
                    .into_iter()
                    .map(|(p, _)| p.first().cloned().unwrap_or_default())
                    .collect()
            } else {
                vec![s.chars().take_while(|c| is_ident(*c)).collect()]
            };
            for first in firsts {
                if !allowed(&first) {
                    out.push(format!("{}{first}", "super::".repeat(supers)));
                }
            }
        }
    }
    out
}

/// The leaves of a use tree (`a::b::{C, d::E as F, *}`): each path and alias.
/// A glob leaf is the path `["*"]` under its prefix.
fn use_leaves(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    let mut out = Vec::new();
    leaves(tree.trim(), &mut Vec::new(), &mut out);
    out
}

fn leaves(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(inner) = tree.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        for item in split_top(inner) {
            let n = prefix.len();
            leaves(item, prefix, out);
            prefix.truncate(n);
        }
        return;
    }
    if tree == "*" {
        let mut p = prefix.clone();
        p.push("*".into());
        out.push((p, None));
        return;
    }
    let seg: String = tree.chars().take_while(|c| is_ident(*c)).collect();
    let rest = tree[seg.len()..].trim_start();
    if let Some(r) = rest.strip_prefix("::") {
        prefix.push(seg);
        leaves(r, prefix, out);
    } else {
        let alias = rest
            .strip_prefix("as")
            .map(|a| a.trim().chars().take_while(|c| is_ident(*c)).collect());
        let mut p = prefix.clone();
        p.push(seg);
        out.push((p, alias));
    }
}

/// Splits at the commas not nested in braces.
fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The length of the use tree (a brace group or a glob) at the start of `s`.
fn tree_end(s: &str) -> usize {
    if s.starts_with('*') {
        return 1;
    }
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The index of `word` in `s` as a whole identifier.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(word) {
        let at = from + i;
        let before = s[..at].chars().next_back();
        let after = s[at + word.len()..].chars().next();
        if !before.is_some_and(|c| is_ident(c) || c == '$') && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// The code without comments and string or char literals (which may mention
/// paths without using them).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == b'"' {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = (j + close.len()).min(b.len());
                out.push_str("\"\"");
            } else {
                out.push('r');
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('x' or '\n'); a lifetime has no closing quote.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}
