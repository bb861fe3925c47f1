//! The adversarial sandbox corpus (`tests/sandbox/*.lua`), run through the real `.wasm`
//! in the harness under every `untrusted_lua` mode.
//!
//! Each program states its expected outcome per mode in its header:
//! `-- expect <modes>: <status> <text>`, where `<modes>` is `all` or a comma-separated
//! list of `strict`, `lax`, `sandbox`, `on`. For status 200 the response body must equal
//! `<text>`; otherwise the filter's error log must contain `<text>`. After every program,
//! a probe request to the same filter instance must succeed: nothing a program does may
//! break the VM. Under `off` every program must be rejected at configure time with
//! Kong's message. A trap anywhere fails the test.

mod common;

use common::module_path;
use std::path::{Path, PathBuf};

use serde_json::json;
use wasm_harness::{ChainSpec, FilterSpec, Harness, RequestSpec};

const MODES: [&str; 4] = ["strict", "lax", "sandbox", "on"];

/// Runs first in every chain: answers probe requests, and sets a global the programs
/// must not see.
const PROBE_CHUNK: &str =
    "probe_chunk_global = true\nif kong.request.get_header('x-probe') then return kong.response.exit(200, 'alive') end";

struct Case {
    name: String,
    source: String,
    /// (mode, status, text)
    expectations: Vec<(String, u16, String)>,
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "lua"));
    files.sort();
    files.iter().map(|path| parse_case(path)).collect()
}

fn parse_case(path: &Path) -> Case {
    let source = std::fs::read_to_string(path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut expectations = Vec::new();
    for line in source.lines().filter_map(|l| l.strip_prefix("-- expect ")) {
        let (modes, outcome) = line.split_once(": ").unwrap_or_else(|| panic!("{name}: bad expect line {line:?}"));
        let (status, text) = outcome.split_once(' ').unwrap_or((outcome, ""));
        let status: u16 = status.parse().unwrap_or_else(|_| panic!("{name}: bad status in {line:?}"));
        let modes: Vec<&str> = if modes == "all" { MODES.to_vec() } else { modes.split(',').collect() };
        for mode in modes {
            assert!(MODES.contains(&mode), "{name}: unknown mode {mode}");
            expectations.push((mode.to_string(), status, text.to_string()));
        }
    }
    for mode in MODES {
        assert_eq!(expectations.iter().filter(|(m, ..)| m == mode).count(), 1, "{name}: one expectation per mode ({mode})");
    }
    Case { name, source, expectations }
}

fn spec(mode: &str, source: &str) -> ChainSpec {
    common::shipped(ChainSpec {
        filters: vec![FilterSpec {
            name: "pre-function".into(),
            module: module_path(),
            config: json!({ "access": [PROBE_CHUNK, source] }),
            root_id: None,
        }],
        // Tighter than the defaults so the limit cases finish quickly.
        vm_config: json!({ "untrusted_lua": mode, "limits": { "instructions": 5000000, "memory_bytes": 33554432 } }),
        ..ChainSpec::default()
    })
}

/// Runs one case in one mode; returns a description of what went wrong, if anything.
fn check(harness: &Harness, case: &Case, mode: &str, status: u16, text: &str) -> Option<String> {
    let mut chain = match harness.chain(&spec(mode, &case.source)) {
        Ok(chain) => chain,
        Err(e) => return Some(format!("configure failed: {e:#}")),
    };
    let outcome = match chain.run(&RequestSpec::get("/attack")) {
        Ok(outcome) => outcome,
        Err(e) => return Some(format!("TRAP: {e:#}")),
    };
    let errors: Vec<&str> =
        outcome.logs.iter().filter(|l| l.level == "error").map(|l| l.message.as_str()).collect();
    let matched = if status == 200 {
        outcome.status == 200 && outcome.body == text
    } else {
        outcome.status == status && errors.iter().any(|m| m.contains(text))
    };
    if !matched {
        return Some(format!("expected {status} {text:?}, got {} body {:?} errors {errors:?}", outcome.status, outcome.body));
    }
    match chain.run(&RequestSpec::get("/probe").header("x-probe", "1")) {
        Ok(probe) if probe.status == 200 && probe.body == "alive" => None,
        Ok(probe) => Some(format!("the next request failed: {} {:?} {:?}", probe.status, probe.body, probe.logs)),
        Err(e) => Some(format!("TRAP on the next request: {e:#}")),
    }
}

#[test]
fn adversarial_corpus_in_every_mode() {
    let cases = load_cases(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox"));
    assert!(cases.len() >= 50, "the corpus shrank to {} programs", cases.len());
    let only = std::env::var("SANDBOX_ONLY").unwrap_or_default();
    let harness = Harness::new();
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in cases.iter().filter(|c| c.name.contains(&only)) {
        for (mode, status, text) in &case.expectations {
            runs += 1;
            if let Some(problem) = check(&harness, case, mode, *status, text) {
                failures.push(format!("{} [{mode}]: {problem}", case.name));
            }
        }
        // `off`: the configuration itself is refused with Kong's message.
        match harness.chain(&spec("off", &case.source)) {
            Ok(_) => failures.push(format!("{} [off]: configuration accepted", case.name)),
            Err(e) => {
                let text = format!("{e:#}");
                if !text.contains("untrusted_lua' config option is set to 'off'") {
                    failures.push(format!("{} [off]: unexpected error {text}", case.name));
                }
            }
        }
    }
    println!("sandbox corpus: {} programs, {runs} runs, {} failures", cases.len(), failures.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
