//! The differential suite: every program under `tests/lua/` runs under the `luajit`
//! binary and in our Lua environment (`kong_functions::lua::script`, the environment the
//! filter's chunks use), and their outputs must be identical.
//!
//! Deliberate differences are listed, with reasons, in `tests/lua/KNOWN_DIFFERENCES.md`
//! (`- folder/file.lua: reason`); those programs are run and reported but not compared.
//! The reference is OpenResty's LuaJIT, the branch Kong ships (Debian's `luajit2`);
//! `make test` installs it when missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kong_functions::lua::script;

const INSTRUCTION_LIMIT: i64 = 200_000_000;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lua")
}

fn programs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("read tests/lua").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            programs(&path, out);
        } else if path.extension().is_some_and(|e| e == "lua") {
            out.push(path);
        }
    }
}

fn known_differences() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("KNOWN_DIFFERENCES.md")).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.strip_prefix("- "))
        .filter_map(|line| line.split_once(": "))
        .map(|(file, reason)| (file.trim_matches('`').to_string(), reason.to_string()))
        .collect()
}

fn luajit(path: &Path) -> (String, bool) {
    let output = Command::new("luajit")
        .arg(path.file_name().unwrap())
        .current_dir(path.parent().unwrap())
        .env("TZ", "UTC")
        .output()
        .expect("the `luajit` binary is needed for the differential suite: apt-get install luajit2 (make test does)");
    (String::from_utf8_lossy(&output.stdout).into_owned(), output.status.success())
}

/// The reference must be OpenResty's branch (Kong's), not upstream LuaJIT: only it has
/// `table.isarray` (OpenResty's LuaJIT extensions).
#[test]
fn the_reference_is_openrestys_luajit() {
    let status = Command::new("luajit").args(["-e", "require 'table.isarray'"]).status().expect("luajit runs");
    assert!(status.success(), "`luajit` is not OpenResty's branch: apt-get install luajit2 (make test does)");
}

#[test]
fn corpus_matches_luajit() {
    let mut files = Vec::new();
    programs(&corpus_dir(), &mut files);
    // LUA_CORPUS_ONLY=<substring> runs a subset while working on one area.
    if let Ok(only) = std::env::var("LUA_CORPUS_ONLY") {
        files.retain(|f| f.to_string_lossy().contains(&only));
        assert!(!files.is_empty(), "LUA_CORPUS_ONLY={only} matches no program: nothing would be tested");
    } else {
        assert!(files.len() >= 400, "the corpus has {} programs; it should have at least 400", files.len());
    }
    let known = known_differences();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut known_seen = 0;
    for path in &files {
        let relative = path.strip_prefix(corpus_dir()).unwrap().to_string_lossy().replace('\\', "/");
        let source = std::fs::read_to_string(path).unwrap();
        let (expected, luajit_ok) = luajit(path);
        assert!(luajit_ok, "{relative} fails under luajit itself");
        let name = path.file_name().unwrap().to_string_lossy();
        let ours = script::run(&source, &name, INSTRUCTION_LIMIT);
        let mut got = ours.stdout.clone();
        if let Some(error) = &ours.error {
            got.push_str(&format!("<error: {error}>\n"));
        }
        if known.contains_key(&relative) {
            known_seen += 1;
            if let Some(failure) = check_recorded(path, &relative, &expected, &got) {
                failures.push(failure);
            }
            continue;
        }
        if got == expected {
            passed += 1;
        } else {
            failures.push(format!("--- {relative}\n{}", diff(&expected, &got)));
        }
    }
    println!("lua corpus: {} programs, {} passed, {} known differences, {} failed", files.len(), passed, known_seen, failures.len());
    assert!(failures.is_empty(), "{} programs differ from luajit:\n{}", failures.len(), failures.join("\n"));
}

/// A known difference stays the difference it was: our output must equal the one
/// recorded beside the program (`<name>.ours`, written when `LUA_CORPUS_RECORD=1` after
/// checking it by hand), and must still differ from luajit's (else the entry in
/// KNOWN_DIFFERENCES.md is stale). `None` when both hold.
fn check_recorded(path: &Path, relative: &str, luajit: &str, ours: &str) -> Option<String> {
    if ours == luajit {
        return Some(format!("--- {relative}: listed in KNOWN_DIFFERENCES.md but now matches luajit: remove the entry"));
    }
    let recorded_path = path.with_extension("ours");
    if std::env::var_os("LUA_CORPUS_RECORD").is_some() {
        std::fs::write(&recorded_path, ours).expect("recorded output written");
    }
    match std::fs::read_to_string(&recorded_path) {
        Ok(recorded) if recorded == ours => None,
        Ok(recorded) => Some(format!("--- {relative}: our output changed from {}:\n{}", recorded_path.display(), diff(&recorded, ours))),
        Err(_) => Some(format!("--- {relative}: no recorded output {} (check ours, then LUA_CORPUS_RECORD=1)", recorded_path.display())),
    }
}

/// The first differing lines, expected (luajit) against ours.
fn diff(expected: &str, got: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    let mut shown = 0;
    for i in 0..e.len().max(g.len()) {
        let (a, b) = (e.get(i).copied(), g.get(i).copied());
        if a != b {
            out.push_str(&format!("  line {}: luajit {:?}\n           ours   {:?}\n", i + 1, a.unwrap_or("<none>"), b.unwrap_or("<none>")));
            shown += 1;
            if shown == 3 {
                break;
            }
        }
    }
    out
}
