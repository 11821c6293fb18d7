//! Layering: the core's modules import only downward, and the supervisor and
//! every pattern module use only what `lib.rs` exports, as another crate would.
//!
//! The core reads bottom up as [`LAYERS`] lists it: the sync shim and plain
//! data, the pool, the timer, the mailbox and their peers, the runtime handle
//! (`runtime/`: what every actor of a system shares), the actor core, the
//! system, the supervisor, the patterns. A module may import (through `crate::`,
//! a `super::` that leaves it, or a root export of another module) only modules
//! of a lower layer, or of its own layer when that layer is one unit. The
//! actor core is one module, `actor/`: the `Actor` trait's hooks take a
//! `Context<Self>`, a context borrows the actor's cell, and the cell, generic
//! over the actor, runs those hooks, so those files refer to each other;
//! nothing below the module names any of them.
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

/// The top-level modules, bottom up: each entry is one layer, and `true`
/// marks a layer whose modules may import one another. A module missing here
/// fails the check until it is given its place.
const LAYERS: &[(&[&str], bool)] = &[
    (&["sync"], false),
    (&["error", "panic", "exit", "spare"], false),
    (&["pool", "timer", "mailbox", "quiet", "watch"], false),
    (&["dedicated", "reply"], false),
    (&["runtime"], false),
    (&["actor"], false),
    (&["system"], false),
    (&["supervisor"], false),
    (
        &["bus", "breaker", "stream", "persist", "testkit", "guide"],
        true,
    ),
];

#[test]
fn the_core_imports_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let exports = export_homes(&lib);
    assert!(
        exports.get("System").is_some_and(|m| m == "system"),
        "could not read the root exports of lib.rs: {exports:?}"
    );
    let mut modules: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let module = match name.strip_suffix(".rs") {
                Some(m) => m.to_string(),
                None if e.path().is_dir() => name,
                None => return None,
            };
            (!["lib", "loom_api"].contains(&module.as_str())).then_some(module)
        })
        .collect();
    modules.sort();
    modules.dedup();
    let mut violations = Vec::new();
    for module in &modules {
        let Some(rank) = layer_of(module) else {
            violations.push(format!("src/{module}: not placed in LAYERS"));
            continue;
        };
        for file in module_files(&src, module) {
            let rel = file.strip_prefix(&src).unwrap().to_path_buf();
            let text = fs::read_to_string(&file).unwrap();
            for (to, how) in imported_modules(&rel, &text, &exports) {
                if let Some(v) = upward(module, rank, &to) {
                    violations.push(format!("src/{}: {how} ({v})", rel.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "core modules import from above their layer (move the item down, or \
         the importer up):\n  {}",
        violations.join("\n  ")
    );
}

/// The layer checker flags an upward import in each form, and lets a
/// downward or same-unit one through.
#[test]
fn the_layer_check_flags_upward_imports() {
    let exports = export_homes(
        "pub use system::{System, SpawnOptions};\npub use supervisor::Supervisor;\npub mod bus;",
    );
    let upward_in = |rel: &str, module: &str, text: &str| -> Vec<String> {
        let rank = layer_of(module).unwrap();
        imported_modules(Path::new(rel), text, &exports)
            .into_iter()
            .filter_map(|(to, _)| upward(module, rank, &to))
            .collect()
    };
    let ok = "use crate::mailbox::Mailbox;\nuse crate::runtime::{Shared, DeadLetterReason};\n\
              use crate::{actor::Actor, actor::context::Context};\nuse super::turn::Turn;\n\
              // use crate::system::Shared;\n\
              #[cfg(test)]\nmod tests {\n    use crate::System;\n}\n";
    assert_eq!(
        upward_in("actor/cell/mod.rs", "actor", ok),
        Vec::<String>::new()
    );
    for bad in [
        "use crate::system::Shared;",
        "use crate::{sync::Arc, system::{Shared, X}};",
        "fn f(s: &crate::system::System) {}",
        "use crate::System;",
        "use crate::Supervisor;",
        "use crate::bus::EventBus;",
        "use super::super::super::system::Shared;",
    ] {
        assert!(
            !upward_in("actor/cell/turn.rs", "actor", bad).is_empty(),
            "not flagged: {bad}"
        );
    }
    assert!(!upward_in("runtime/mod.rs", "runtime", "use crate::actor::cell::Cell;").is_empty());
    assert!(!upward_in("pool/mod.rs", "pool", "use crate::mailbox::Mailbox;").is_empty());
    assert!(upward_in("system/mod.rs", "system", "use crate::runtime::Shared;").is_empty());
}

/// The index in [`LAYERS`] of `module`'s layer.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(m, _)| m.contains(&module))
}

/// Why importing `to` from `module` (in layer `rank`) goes upward, if it does.
fn upward(module: &str, rank: usize, to: &str) -> Option<String> {
    if to == module {
        return None;
    }
    match layer_of(to) {
        Some(r) if r < rank || (r == rank && LAYERS[rank].1) => None,
        Some(r) if r == rank => Some(format!("`{to}` is beside `{module}` in its layer")),
        Some(_) => Some(format!("`{to}` is above `{module}`")),
        None => Some(format!("`{to}` is not placed in LAYERS")),
    }
}

/// The root exports of `lib.rs` and the module each comes from: the leaves
/// of its `pub use module::...` trees, and its `pub mod`s.
fn export_homes(lib: &str) -> std::collections::BTreeMap<String, String> {
    let code = strip(lib);
    let mut homes = std::collections::BTreeMap::new();
    let mut rest = code.as_str();
    while let Some(i) = find_word(rest, "pub") {
        rest = &rest[i + 3..];
        let t = rest.trim_start();
        if let Some(tree) = t.strip_prefix("use ") {
            let end = tree.find(';').unwrap_or(tree.len());
            for (path, alias) in use_leaves(&tree[..end]) {
                let name = alias.or_else(|| path.last().cloned());
                if let (Some(name), Some(home)) = (name, path.first()) {
                    homes.insert(name, home.clone());
                }
            }
        } else if let Some(m) = t.strip_prefix("mod ") {
            let name: String = m.chars().take_while(|c| is_ident(*c)).collect();
            homes.insert(name.clone(), name);
        }
    }
    homes
}

/// The top-level modules a file of the crate names outside its test code,
/// each with the path that names it: `crate::x::...`, a `super::` path
/// that leaves its module, or a root export (`crate::System` is `system`).
/// Test modules (`#[cfg(test)] mod ... { }` and `tests.rs` files) are left
/// out: tests may drive the whole crate.
fn imported_modules(
    rel: &Path,
    text: &str,
    exports: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    if rel.file_name().is_some_and(|f| f == "tests.rs") {
        return Vec::new();
    }
    let code = without_test_modules(&strip(text));
    let own = rel
        .components()
        .next()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut name = |first: String, how: String| {
        let module = exports.get(&first).cloned().unwrap_or(first);
        if module != own {
            out.push((module, how));
        }
    };
    let mut rest = code.as_str();
    while let Some(i) = find_word(rest, "crate") {
        rest = &rest[i + 5..];
        let Some(path) = rest.trim_start().strip_prefix("::") else {
            continue;
        };
        for first in firsts(path.trim_start()) {
            name(first.clone(), format!("crate::{first}"));
        }
    }
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
        rest = &rest[i + (start.len() - s.len()).max(5)..];
        if supers >= depth && supers > 0 {
            // Only names of modules or root exports: a `super::` inside an
            // inline module of the file stays in the file.
            for first in firsts(s) {
                if layer_of(&first).is_some() || exports.contains_key(&first) {
                    name(
                        first.clone(),
                        format!("{}{first}", "super::".repeat(supers)),
                    );
                }
            }
        }
    }
    out
}

/// The first segment of each path a path or use tree at the start of `s`
/// names.
fn firsts(s: &str) -> Vec<String> {
    if s.starts_with('{') || s.starts_with('*') {
        use_leaves(&s[..tree_end(s)])
            .into_iter()
            .map(|(p, _)| p.first().cloned().unwrap_or_default())
            .collect()
    } else {
        vec![s.chars().take_while(|c| is_ident(*c)).collect()]
    }
}

/// `code` (already stripped) without its `#[cfg(...test...)] mod name { ... }`
/// blocks.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(i) = rest.find("#[cfg(") {
        out.push_str(&rest[..i]);
        let attr_end = rest[i..].find(']').map_or(rest.len(), |e| i + e + 1);
        let attr = &rest[i..attr_end];
        let after = rest[attr_end..].trim_start();
        let is_test = find_word(attr, "test").is_some() && !attr.contains("not(test");
        if is_test && after.starts_with("mod ") && after.find('{') < after.find(';') {
            let open = attr_end + (rest[attr_end..].len() - after.len()) + after.find('{').unwrap();
            rest = &rest[open + tree_end(&rest[open..])..];
        } else {
            out.push_str(attr);
            rest = &rest[attr_end..];
        }
    }
    out.push_str(rest);
    out
}

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
