//! What vendor/piccolo/PATCHES.md fixes in piccolo 0.3.3, held to Lua's semantics (the
//! reference manual): table growth never panics (0.3.3 panicked growing a table that held
//! keys set to nil, or whose array part grew while its hash part was full, and in a wasm
//! module a panic is a trap of the whole VM; §2.1: assigning nil removes a field, and any
//! key may be added afterwards), and parameters a caller did not pass are nil (§3.4.11).

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};

/// Runs `source` in access; returns the outcome and the log lines.
fn run(source: &str) -> (PhaseOutcome, Vec<String>) {
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let host = Rc::new(FakeHost::default());
    let mut rt = Runtime::new(&config, Role::PreFunction, host.clone()).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    (outcome, host.messages())
}

fn assert_logs(source: &str, expected: &str) {
    let (outcome, messages) = run(source);
    assert!(matches!(outcome, PhaseOutcome::Continue), "{outcome:?} {messages:?}");
    assert_eq!(messages, [format!("[pre-function] {expected}")]);
}

#[test]
fn keys_set_to_nil_then_new_keys_added() {
    // The shape that panicked: four string keys, one removed, then the map must grow.
    assert_logs(
        "local t = {} t.a=1 t.b=2 t.c=3 t.d=4 t.a=nil \
         for i = 1, 20 do t['k'..i] = i end \
         local n = 0 for _ in pairs(t) do n = n + 1 end \
         kong.log.info(n, ' ', tostring(t.a), ' ', t.k20)",
        "23 nil 20",
    );
}

#[test]
fn a_table_used_as_a_queue_of_string_keys() {
    // Add and remove keys for a while, as a cache or a set does; the count stays right.
    assert_logs(
        "local t, live = {}, 0 \
         for i = 1, 5000 do t['k'..i] = i live = live + 1 \
           if i % 3 ~= 0 then t['k'..(i - 1)] = nil end end \
         local n = 0 for _ in pairs(t) do n = n + 1 end \
         kong.log.info(n)",
        // Every i with i % 3 ~= 0 removes k(i-1): k1..k4999 removed except k(i-1) with
        // i % 3 == 0, i.e. the 1666 keys k2, k5, ...; plus k5000 (never a predecessor).
        "1667",
    );
}

#[test]
fn integer_keys_in_the_hash_part_then_string_keys() {
    // Integer keys written backwards start in the hash part and move to the array part as
    // it grows, while string keys keep arriving: the second shape that panicked. Each
    // table has its own hash seed, so many tables are built.
    assert_logs(
        "local total = 0 \
         for n = 1, 200 do local t = {} \
           for i = n, 1, -1 do t[i] = i t['s'..i] = i end \
           t.extra = true \
           for _ in pairs(t) do total = total + 1 end end \
         kong.log.info(total)",
        // Each table has 2n + 1 keys: sum over n = 1..200 of (2n + 1) = 200*201 + 200.
        "40400",
    );
}

#[test]
fn levels_by_name_and_by_number_as_kong_constants_builds_them() {
    // kong.constants' LOG_LEVELS shape (names to numbers and numbers to names in one
    // table), built in the order that trapped in one harness run.
    assert_logs(
        "for round = 1, 100 do local t = {} \
           local names = {'debug','info','notice','warn','error','crit','alert','emerg'} \
           for i, name in ipairs(names) do t[name] = 8 - i t[8 - i] = name end \
           t.debug = nil t.info = nil t.other = 1 t[100] = 'x' end \
         kong.log.info('ok')",
        "ok",
    );
}

#[test]
fn missing_parameters_are_nil() {
    // §3.4.11: "If there are fewer arguments than parameters, the missing ones are nil";
    // a table constructor as the last argument left its element count in the register
    // above it, which 0.3.3 handed to the missing parameter.
    assert_logs(
        "local function third(a, b, c) return c end \
         local function second(a, b) return b end \
         kong.log.info(tostring(third(1, {1, 2})), ' ', tostring(third(1, {})), ' ', \
           tostring(second({5})), ' ', tostring(third(1, {a = 1, 7})))",
        "nil nil nil nil",
    );
}

#[test]
fn errors_the_vm_raises_name_the_chunk_and_line() {
    // Lua's runtime errors carry `chunkname:line:` (luaG_runerror); Kong logs them as
    // `access[1]:2: attempt to index ...`. The variable's name is not known here.
    for (source, expected) in [
        ("local ok = 1\nlocal t = nil\nlocal y = t.x", "access[1]:3: attempt to index a nil value"),
        ("local f\n\nf()", "access[1]:3: attempt to call a nil value"),
        ("local n = {} + 1", "access[1]:1: "),
    ] {
        let (outcome, messages) = run(source);
        assert!(!matches!(outcome, PhaseOutcome::Continue), "{source}");
        assert!(
            messages.iter().any(|m| m.starts_with(&format!("[pre-function] {expected}"))),
            "{source}: {messages:?}"
        );
    }
}

#[test]
fn pcall_sees_the_position_too() {
    // pcall's message is the same string Lua would log (§6.1 error, luaG_runerror).
    assert_logs("local ok, err = pcall(function()\n local t\n return t.x\nend)\nkong.log.info(err)", "access[1]:3: attempt to index a nil value");
}
