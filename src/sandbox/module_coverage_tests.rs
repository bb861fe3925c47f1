//! The sandbox tables of `docs/sandbox.md` (and the PDK table of `docs/pdk.md`) against the code, both ways: the `environment/lua.lua`
//! name block against [`allowlist::LUA`], the require-module table against
//! [`allowlist::REQUIRES`] and against what `require` really serves, and the PDK table's
//! rows against [`allowlist::HANDLER`].

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::allowlist::{self, names};
use super::Mode;
use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::vm_config::VmConfig;

/// The sandbox page: the `lua-env` block and the `modules` table.
const SANDBOX_DOC: &str = include_str!("../../docs/sandbox.md");
/// The PDK page: the `coverage` table.
const PDK_DOC: &str = include_str!("../../docs/pdk.md");

/// The text between two markers of `doc` (one of the pages above).
fn between<'a>(doc: &'a str, start: &str, end: &str) -> &'a str {
    let a = doc.find(start).unwrap_or_else(|| panic!("docs page lacks {start}"));
    let b = doc.find(end).unwrap_or_else(|| panic!("docs page lacks {end}"));
    &doc[a + start.len()..b]
}

/// Name → status from a docs table whose first column lists backticked names.
fn table_rows(doc: &str, start: &str, end: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for line in between(doc, start, end).lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for name in cells[1].split(',').map(|n| n.trim().trim_matches('`')) {
            assert!(rows.insert(name.to_string(), cells[2].to_string()).is_none(), "{name} has two rows");
        }
    }
    rows
}

#[test]
fn docs_lua_environment_block_matches_the_allowlist() {
    let block = between(SANDBOX_DOC, "<!-- lua-env:start -->", "<!-- lua-env:end -->");
    let listed: BTreeSet<&str> = block
        .split('`')
        .skip(3) // the text before, the label `environment/lua.lua`, ": "
        .step_by(2)
        .flat_map(str::split_whitespace)
        .collect();
    let ours: BTreeSet<&str> = names(allowlist::LUA).collect();
    assert_eq!(listed, ours);
}

#[test]
fn docs_module_table_matches_the_require_allowlist() {
    let rows = table_rows(SANDBOX_DOC, "<!-- modules:start -->", "<!-- modules:end -->");
    let listed: BTreeSet<&str> = rows.keys().map(String::as_str).collect();
    let ours: BTreeSet<&str> = names(allowlist::REQUIRES).collect();
    let missing: Vec<_> = ours.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&ours).collect();
    assert!(missing.is_empty() && extra.is_empty(), "docs/sandbox.md lacks {missing:?}; not in Kong's lists: {extra:?}");
}

#[test]
fn modules_marked_done_or_partial_are_served_and_the_others_are_not() {
    let rows = table_rows(SANDBOX_DOC, "<!-- modules:start -->", "<!-- modules:end -->");
    let all: Vec<&str> = rows.keys().map(String::as_str).collect();
    // Strict is the mode whose require list is Kong's; a module loads when require gives
    // a value.
    let chunk: String = all
        .iter()
        .map(|m| format!("do local ok, v = pcall(require, '{m}') if ok and v ~= nil then kong.log.info('{m}') end end\n"))
        .collect();
    let config = serde_json::json!({ "access": [chunk] }).to_string();
    let host = Rc::new(FakeHost::default());
    let vm = VmConfig { untrusted_lua: Mode::Strict, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone(), &vm).unwrap();
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    let served: BTreeSet<String> = host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    for (module, status) in &rows {
        let provided = status.starts_with("done") || status.starts_with("partial");
        assert_eq!(provided, served.contains(module), "{module}: docs/sandbox.md says {status:?}");
    }
}

#[test]
fn pdk_table_rows_are_all_allowlisted() {
    // The other direction of src/pdk/coverage_tests.rs: no row names anything outside
    // Kong's environment/handler.lua but Kong's own PDK functions (those rows say the
    // sandbox does not see them; src/pdk/coverage_tests.rs checks that column).
    let rows = table_rows(PDK_DOC, "<!-- coverage:start -->", "<!-- coverage:end -->");
    let handler: BTreeSet<&str> = names(allowlist::HANDLER).collect();
    let kong_pdk: BTreeSet<&str> = include_str!("../pdk/kong_pdk_functions.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let extra: Vec<&String> = rows.keys().filter(|n| !handler.contains(n.as_str()) && !kong_pdk.contains(n.as_str())).collect();
    assert!(extra.is_empty(), "PDK table rows outside handler.lua and Kong's PDK: {extra:?}");
}
