//! The PDK coverage table of `docs/pdk.md` against Kong's PDK, the sandbox allowlist and
//! the code: every public function of Kong's PDK (`kong_pdk_functions.txt`, derived from
//! Kong's `kong/pdk` by `make pdk-names`) and every name of Kong's sandbox allowlist
//! (`environment/handler.lua`, see `crate::sandbox::allowlist::HANDLER`) has a row, the
//! Sandbox column is `yes` exactly for the allowlisted names, and every row marked
//! `done` names something the Lua environment really has.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::allowlist::{names, HANDLER};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

const PDK_DOC: &str = include_str!("../../docs/pdk.md");
/// Kong's PDK functions at the Kong version we follow: one dotted name a line, `#` comments.
const KONG_PDK: &str = include_str!("kong_pdk_functions.txt");
const START: &str = "<!-- coverage:start -->";
const END: &str = "<!-- coverage:end -->";

/// The table's lines: `(names, status, sandbox cell)`.
fn doc_lines() -> Vec<(Vec<String>, String, String)> {
    let start = PDK_DOC.find(START).expect("docs/pdk.md has the coverage table markers");
    let end = PDK_DOC.find(END).expect("docs/pdk.md has the coverage table end marker");
    PDK_DOC[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let names = cells[1].split(',').map(|n| n.trim().trim_matches('`').to_string()).collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or_default().to_string();
            (names, cell(2), cell(3))
        })
        .collect()
}

/// Name → status (`done` or the reason it is not here) from the `docs/pdk.md` table.
fn doc_rows() -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for (names, status, _) in doc_lines() {
        for name in names {
            assert!(rows.insert(name.clone(), status.clone()).is_none(), "docs/pdk.md has two rows for {name}");
        }
    }
    rows
}

/// Kong's PDK function names from `kong_pdk_functions.txt`.
fn kong_pdk_names() -> Vec<&'static str> {
    KONG_PDK.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

#[test]
fn the_kong_pdk_list_is_a_sorted_list_of_kong_names() {
    let names = kong_pdk_names();
    assert!(names.len() > 100, "kong_pdk_functions.txt lists {} names", names.len());
    assert!(names.iter().all(|n| n.starts_with("kong.") || *n == "kong"), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "kong_pdk_functions.txt is sorted, without repeats");
}

#[test]
fn every_kong_pdk_function_has_a_row() {
    let rows = doc_rows();
    let absent: Vec<&str> = kong_pdk_names().into_iter().filter(|n| !rows.contains_key(*n)).collect();
    assert!(absent.is_empty(), "docs/pdk.md coverage table lacks Kong PDK functions: {absent:?}");
}

#[test]
fn every_row_is_kong_pdk_or_allowlisted_and_says_if_the_sandbox_sees_it() {
    let kong: std::collections::BTreeSet<&str> = kong_pdk_names().into_iter().collect();
    let allowlisted: std::collections::BTreeSet<&str> = names(HANDLER).collect();
    for (names, _, sandbox) in doc_lines() {
        for name in &names {
            assert!(
                kong.contains(name.as_str()) || allowlisted.contains(name.as_str()),
                "docs/pdk.md has a row for {name}, which is neither in Kong's PDK nor on the sandbox allowlist"
            );
            let want = if allowlisted.contains(name.as_str()) { "yes" } else { "no" };
            assert_eq!(sandbox, want, "docs/pdk.md: Sandbox column of {name} (split the row if its names differ)");
        }
    }
}

/// The names among `candidates` that the Lua environment (mode `on`) does not have.
fn missing(candidates: &[&str]) -> Vec<String> {
    let host = Rc::new(FakeHost::default());
    // One chunk per 100 names: a Lua function holds at most 255 inner functions.
    let chunks: Vec<String> = candidates
        .chunks(100)
        .map(|names| {
            names
                .iter()
                .map(|name| format!("do local ok, v = pcall(function() return {name} end) if not ok or v == nil then kong.log.info('{name}') end end\n"))
                .collect()
        })
        .collect();
    let config = serde_json::json!({ "access": chunks }).to_string();
    let vm = VmConfig { untrusted_lua: Mode::On, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone(), &vm).unwrap();
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect()
}

#[test]
fn every_allowlisted_name_has_a_row() {
    let rows = doc_rows();
    let absent: Vec<&str> = names(HANDLER).filter(|n| !rows.contains_key(*n)).collect();
    assert!(absent.is_empty(), "docs/pdk.md coverage table lacks: {absent:?}");
}

/// Rows whose status starts with `done`, `partial:` or `raises` name functions that
/// exist (`partial:` ones return a fixed value or a part of Kong's, the `raises` ones
/// check their arguments, then fail on hosts without the facility); any other status
/// says why the name is absent.
fn present_by_status(status: &str) -> bool {
    status.starts_with("done") || status.starts_with("partial:") || status.starts_with("raises")
}

/// Functions that return a constant (on some or all hosts) where Kong computes the value
/// from its nginx: see each one's docs (`ngx::util`, `ngx::resp`, `kong::node`).
const CONSTANT_HERE: &[&str] = &[
    "kong.node.get_memory_stats",
    "ngx.config.nginx_version",
    "ngx.config.ngx_lua_version",
    "ngx.flush",
    "ngx.send_headers",
    "ngx.worker.count",
    "ngx.worker.exiting",
    "ngx.worker.id",
    "ngx.worker.pid",
    "ngx.worker.pids",
];

#[test]
fn constants_are_marked_partial_with_a_reason() {
    let rows = doc_rows();
    for name in CONSTANT_HERE {
        let status = rows.get(*name).map(String::as_str).unwrap_or("no row");
        let reason = status.strip_prefix("partial:").map(str::trim).unwrap_or("");
        assert!(!reason.is_empty(), "{name} returns a constant where Kong computes it, but docs/pdk.md says {status:?}");
    }
    let unexplained: Vec<&String> = rows.iter().filter(|(_, s)| s.trim_end() == "partial:" || s.trim_end() == "partial").map(|(n, _)| n).collect();
    assert!(unexplained.is_empty(), "partial without a reason: {unexplained:?}");
}

#[test]
fn rows_marked_done_exist_and_the_others_do_not_claim_to() {
    let rows = doc_rows();
    let done: Vec<&str> = rows.iter().filter(|(_, s)| present_by_status(s)).map(|(n, _)| n.as_str()).collect();
    assert_eq!(missing(&done), Vec::<String>::new(), "marked done in docs/pdk.md but absent");
    let others: Vec<&str> = rows.iter().filter(|(_, s)| !present_by_status(s)).map(|(n, _)| n.as_str()).collect();
    let absent = missing(&others);
    let present: Vec<&&str> = others.iter().filter(|n| !absent.iter().any(|a| a == **n)).collect();
    assert!(present.is_empty(), "docs/pdk.md says not done, but the environment has: {present:?}");
}
