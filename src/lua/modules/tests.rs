//! The Lua modules through `require`, expectations from each original's source, tests
//! or documentation (named per test).

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

/// Runs `source` in access under `mode` on `host`; the outcome and log messages.
fn run_on(host: Rc<FakeHost>, mode: Mode, source: &str) -> (PhaseOutcome, Vec<String>) {
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: mode, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    (outcome, messages)
}

/// The log lines of `source` in strict mode (Kong's handler require list allows every
/// module here), checked to be the same in `on` mode.
fn logs(source: &str) -> Vec<String> {
    let (outcome, strict) = run_on(Rc::new(FakeHost::default()), Mode::Strict, source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{strict:?}");
    let (_, on) = run_on(Rc::new(FakeHost::default()), Mode::On, source);
    assert_eq!(strict, on, "strict and on differ");
    strict
}

#[test]
fn every_module_loads_and_is_loaded_once() {
    let names: Vec<String> = super::names().map(|n| format!("'{n}'")).collect();
    let source = format!(
        "for _, name in ipairs({{{}}}) do
           local ok, m = pcall(require, name)
           if not ok or type(m) ~= 'table' then kong.log.err(name, ': ', tostring(m)) end
         end
         kong.log.info(require('pl.stringx') == require('pl.stringx'))",
        names.join(", ")
    );
    let (outcome, messages) = run_on(Rc::new(FakeHost::default()), Mode::On, &source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
    assert_eq!(messages, ["true"]);
}

#[test]
fn pl_stringx_follows_penlight() {
    // Expectations from Penlight's tests/test-stringx.lua and the stringx.lua docs.
    let out = logs(
        "local s = require 'pl.stringx'
         local function list(t) return '{' .. table.concat(t, '|') .. '}' end
         kong.log.info(list(s.split('  one two  three ')), list(s.split('a,b,,c,', ',')), list(s.split('a,b,c', ',', 2)))
         kong.log.info(s.strip('  hi  '), '[', s.lstrip('xxhixx', 'x'), '][', s.rstrip('hi\\n'), ']')
         kong.log.info(tostring(s.startswith('Kong-Gateway', 'Kong')), tostring(s.endswith('file.lua', {'.js', '.lua'})), tostring(s.startswith('abc', 'b')))
         kong.log.info(s.replace('a.b.c', '.', '%'), ' ', s.count('aaa', 'aa'), ' ', s.count('aaa', 'aa', true), ' ', s.join(',', {'x', 'y'}))
         kong.log.info(s.partition('key=value=x', '='), ' ', select(3, s.rpartition('key=value=x', '=')))
         kong.log.info(s.title('hello wORLD'), ' ', s.ljust('ab', 4, '.'), s.rjust('ab', 4, '.'), s.center('ab', 5, '*'), ' ', s.shorten('abcdefghij', 6))
         kong.log.info(tostring(s.isdigit('123')), tostring(s.isdigit('12a')), tostring(s.isspace(' \\t')), ' ', s.at('hello', 2), ' ', list(s.splitlines('a\\nb\\r\\nc')))
         kong.log.info(s.Template('$name is ${age}'):substitute({name = 'ann', age = 3}))
         kong.log.info(pcall(s.split, nil))",
    );
    assert_eq!(
        out,
        [
            "{one|two|three}{a|b||c|}{a|b,c}",
            "hi[hixx][hi]",
            "truetruefalse",
            "a%b%c 1 2 x,y",
            "key x",
            "Hello World ab....ab*ab** abc...",
            "truefalsetrue e {a|b|c}",
            "ann is 3",
            "falseargument 1 expected a 'string', got a 'nil'",
        ]
    );
}

#[test]
fn pl_tablex_follows_penlight() {
    // Penlight's tests/test-tablex.lua and tablex.lua's docs.
    let out = logs(
        "local t = require 'pl.tablex'
         local function list(x) return '{' .. table.concat(x, ',') .. '}' end
         kong.log.info(t.size({a = 1, b = 2, 3}), ' ', list(t.map(function(v) return v * 2 end, {1, 2, 3})), ' ', list(t.filter({1, 2, 3, 4}, function(v) return v % 2 == 0 end)))
         kong.log.info(t.reduce('+', {1, 2, 3, 4}), ' ', list(t.range(1, 10, 3)), ' ', tostring(t.find({10, 20, 30}, 20)), ' ', tostring(t.deepcompare({a = {1, 2}}, {a = {1, 2}})), tostring(t.deepcompare({1}, {2})))
         local keys = t.keys({x = 1, y = 2}) table.sort(keys)
         kong.log.info(list(keys), ' ', list(t.sub({1, 2, 3, 4, 5}, 2, -2)), ' ', list(t.imap('..', {'a', 'b'}, '!')), ' ', tostring(t.compare_no_order({1, 2, 3}, {3, 1, 2})))
         local merged = t.merge({a = 1, b = 2}, {b = 3, c = 4}, true)
         kong.log.info(merged.a, merged.b, merged.c, ' ', tostring(t.merge({a = 1, b = 2}, {b = 3}).a), ' ', t.count_map({'a', 'b', 'a'}).a)
         local copy = t.deepcopy({n = {1}}) kong.log.info(#copy.n, ' ', list(t.insertvalues({1, 4}, 2, {2, 3})), ' ', list(t.removevalues({1, 2, 3, 4}, 2, 3)))
         local ro = t.readonly({1}) kong.log.info(pcall(function() ro.x = 1 end))
         kong.log.info(t.search({a = {b = 'x'}}, 'x'))
         kong.log.info(pcall(t.size, 1))",
    );
    assert_eq!(
        out,
        [
            "3 {2,4,6} {2,4}",
            "10 {1,4,7,10} 2 truefalse",
            "{x,y} {2,3,4} {a!,b!} true",
            "134 nil 2",
            "1 {1,2,3,4} {1,4}",
            "falseAttempt to modify read-only table",
            "a.b",
            "falseargument 1 is not iterable",
        ]
    );
}

