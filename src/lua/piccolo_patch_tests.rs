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
use crate::vm_config::VmConfig;

/// Runs `source` in access under the VM configuration `vm`; returns the outcome and the
/// log lines.
fn run_with(vm: &VmConfig, source: &str) -> (PhaseOutcome, Vec<String>) {
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let host = Rc::new(FakeHost::default());
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), vm).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    (outcome, host.messages())
}

fn assert_logs_with(vm: &VmConfig, source: &str, expected: &str) {
    let (outcome, messages) = run_with(vm, source);
    assert!(matches!(outcome, PhaseOutcome::Continue), "{outcome:?} {messages:?}");
    assert_eq!(messages, [format!("[pre-function] {expected}")]);
}

/// Runs `source` in access in the default sandbox.
fn run(source: &str) -> (PhaseOutcome, Vec<String>) {
    run_with(&VmConfig::default(), source)
}

fn assert_logs(source: &str, expected: &str) {
    assert_logs_with(&VmConfig::default(), source, expected)
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
fn tail_call_with_missing_parameters() {
    // §3.4.11 again, through a tail call (`return f(x)`) into a function with more
    // parameters than the call passes, from a caller whose frame is smaller than the
    // callee's parameter list: 0.3.3 indexed past the stack's end (a panic).
    assert_logs(
        "local function many(a, b, c, d, e, f, g, h) return tostring(a) .. tostring(h) end \
         local function one() return many(1) end \
         local function none() return many() end \
         kong.log.info(one(), ' ', none(), ' ', (function(x) return many(x) end)('y'))",
        "1nil nilnil ynil",
    );
}

#[test]
fn errors_the_vm_raises_name_the_chunk_and_line() {
    // Lua's runtime errors carry `chunkname:line:` (luaG_runerror); Kong logs them as
    // `access[1]:2: attempt to index ...`, naming the variable (patch 7).
    for (source, expected) in [
        ("local ok = 1\nlocal t = nil\nlocal y = t.x", "access[1]:3: attempt to index local 't' (a nil value)"),
        ("local f\n\nf()", "access[1]:3: attempt to call local 'f' (a nil value)"),
        ("local n = {} + 1", "access[1]:1: attempt to perform arithmetic on a table value"),
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
    assert_logs("local ok, err = pcall(function()\n local t\n return t.x\nend)\nkong.log.info(err)", "access[1]:3: attempt to index local 't' (a nil value)");
}

// Patch 7: errors name the variable as LuaJIT does. Each expected message is what
// luajit2 (OpenResty's LuaJIT 2.1, Kong's) prints for the same source run as a chunk;
// these are the ones Kong users meet in logs and search for (issue 25).
#[test]
fn errors_name_the_variable_in_logs_and_pcall() {
    for (source, expected) in [
        ("local claims = decode_jwt('x')", "access[1]:1: attempt to call global 'decode_jwt' (a nil value)"),
        ("local claims\nlocal sub = claims.sub", "access[1]:2: attempt to index local 'claims' (a nil value)"),
        ("local env = {}\nlocal home = env.getenv('HOME')", "access[1]:2: attempt to call field 'getenv' (a nil value)"),
        ("local t = {}\nt:foo()", "access[1]:2: attempt to call method 'foo' (a nil value)"),
        ("local x = 5\nlocal function f() return x.y end\nf()", "access[1]:2: attempt to index upvalue 'x' (a number value)"),
        ("local function f(n) return n + 1 end\nf()", "access[1]:1: attempt to perform arithmetic on local 'n' (a nil value)"),
        ("local t = {}\nlocal s = 'a' .. t.x", "access[1]:2: attempt to concatenate field 'x' (a nil value)"),
        ("local ok = 1 < nil", "access[1]:1: attempt to compare number with nil"),
        ("local function f(token) return 'Bearer ' .. token end\nf()", "access[1]:1: attempt to concatenate local 'token' (a nil value)"),
    ] {
        let (outcome, messages) = run(source);
        assert!(!matches!(outcome, PhaseOutcome::Continue), "{source}");
        assert!(messages.iter().any(|m| m.contains(expected)), "{source}: {messages:?}");
        // The same string is pcall's error value.
        let wrapped = format!("local ok, err = pcall(function()\n{source}\nend)\nkong.log.info(err)");
        let shifted = expected.replacen("access[1]:", "", 1);
        let (line, rest) = shifted.split_once(':').unwrap();
        let line: u32 = line.parse().unwrap();
        assert_logs(&wrapped, &format!("access[1]:{}:{rest}", line + 1));
    }
}

// Patch 5: the VM runs plain callbacks (library and PDK functions) itself and only goes
// back to the executor for one that asks for more. Every way a callback can end, seen
// from Lua (reference manual §2.11, §5.1, §5.2, §5.5), with the results where Lua puts them.

#[test]
fn library_calls_in_a_loop_return_their_values_in_place() {
    // Fixed and variable result counts, results used as arguments, a call in a for-in.
    assert_logs(
        "local n, s = 0, {} \
         for i = 1, 300 do n = n + #string.rep('a', i % 7) + select('#', string.byte('abc', 1, -1)) end \
         for k, v in pairs({ x = 1, y = 2 }) do s[#s + 1] = k .. v end table.sort(s) \
         kong.log.info(n, ' ', table.concat(s, ','), ' ', math.max(string.byte('az', 1, 2)))",
        // sum over i=1..300 of (i % 7) is 42 full cycles of 21 plus 1..6 = 882 + 21 = 903,
        // plus 3 bytes per iteration: 900.
        "1803 x1,y2 122",
    );
}

#[test]
fn callbacks_that_call_back_into_lua() {
    // table.sort with a Lua comparator, gsub with a function, pcall and xpcall: each is a
    // callback that calls Lua before it returns.
    assert_logs(
        "local t = { 3, 1, 2 } table.sort(t, function(a, b) return a > b end) \
         local g = ('abc'):gsub('%w', function(c) return c:upper() end) \
         local ok, v = pcall(function(x) return x * 2 end, 21) \
         local ok2, e = xpcall(function() error('boom', 0) end, function(m) return 'handled ' .. m end) \
         kong.log.info(table.concat(t, ''), ' ', g, ' ', tostring(ok), v, ' ', tostring(ok2), ' ', e)",
        "321 ABC true42 false handled boom",
    );
}

#[test]
fn errors_raised_by_library_calls_reach_pcall_and_the_log() {
    // luajit2: `pcall(string.rep)` gives "bad argument #1 to '?' (string expected, got no
    // value)" (no name from a C caller); called from Lua the function is named.
    assert_logs(
        "local ok, e = pcall(string.rep) kong.log.info(tostring(ok), ' ', (e:gsub(' %(.*', '')))",
        "false bad argument #1 to '?'",
    );
    assert_logs(
        "local ok, e = pcall(function() string.rep() end) kong.log.info((e:gsub(' %(.*', '')))",
        "access[1]:1: bad argument #1 to 'rep'",
    );
    let (outcome, messages) = run("local x = 1\nstring.rep()");
    assert_eq!(outcome, PhaseOutcome::Failed, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("bad argument #1 to 'rep'")), "{messages:?}");
}

#[test]
fn coroutines_yield_and_resume_through_library_calls() {
    assert_logs(
        "local co = coroutine.wrap(function(a) \
           local b = coroutine.yield(a + 1) \
           local c = coroutine.yield(string.upper(b)) \
           return c .. '!' end) \
         local r1 = co(1) local r2 = co('x') local r3 = co('done') \
         kong.log.info(r1, ' ', r2, ' ', r3)",
        "2 X done!",
    );
}

#[test]
fn a_loop_of_library_calls_still_hits_the_instruction_limit() {
    // The fuel a call costs is still counted when the VM runs it itself.
    let (outcome, messages) = run("while true do local n = string.len('x') end");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(messages, ["[pre-function] access[1]: instruction limit exceeded"]);
}

// Patch 6: `__index` tables are followed by the VM itself (luaV_gettable's loop, reference
// manual §2.8 "index" event), with the same results as before. `setmetatable` is only
// given to chunks under `untrusted_lua = on` (Kong's sandbox leaves it out).

fn untrusted_lua_on() -> VmConfig {
    VmConfig { untrusted_lua: crate::sandbox::Mode::On, ..Default::default() }
}

fn run_on(source: &str) -> (PhaseOutcome, Vec<String>) {
    run_with(&untrusted_lua_on(), source)
}

fn assert_logs_on(source: &str, expected: &str) {
    assert_logs_with(&untrusted_lua_on(), source, expected)
}

#[test]
fn index_chains_of_tables_find_the_value_or_nil() {
    assert_logs_on(
        "local a = { x = 1 } local b = setmetatable({}, { __index = a }) \
         local c = setmetatable({ own = 2 }, { __index = b }) \
         kong.log.info(c.x, ' ', tostring(c.y), ' ', c.own, ' ', tostring(rawget(c, 'x')))",
        "1 nil 2 nil",
    );
}

#[test]
fn an_index_function_at_the_end_of_a_chain_gets_the_table_that_holds_it() {
    // §2.8: the handler is called with the table whose metatable has it, and the key.
    assert_logs_on(
        "local f f = setmetatable({}, { __index = function(t, k) return k .. tostring(t == f) end }) \
         local mid = setmetatable({}, { __index = f }) \
         local top = setmetatable({}, { __index = mid }) \
         kong.log.info(top.q)",
        "qtrue",
    );
}

#[test]
fn an_index_loop_fails_the_request_instead_of_hanging() {
    // Lua raises "loop in gettable"; here the loop runs into the instruction limit. Either
    // way the request fails and the VM serves the next one.
    let (outcome, _) = run_on("local t = {} setmetatable(t, { __index = t }) local v = t.missing");
    assert_eq!(outcome, PhaseOutcome::Failed);
}

// Patch 9: comparison metamethods. Lua 5.1 (`luaV_lessthan`, `luaV_lessequal`,
// `luaV_equalval`) and LuaJIT (`lj_meta_comp`, `lj_meta_equal`): `__lt`/`__le`/`__eq` are
// called only for two operands of the same type that share the metamethod; `a <= b` falls
// back to `not (b < a)`; results are converted to booleans. Tables are covered by the
// differential programs tests/lua/metamethods/*.lua; userdata (which plain Lua cannot
// make) here.
#[test]
fn userdata_compare_through_shared_metamethods() {
    use piccolo::{Callback, CallbackReturn, Executor, Table, UserData, Value};
    let mut lua = crate::lua::new_state();
    let executor = lua.enter(|ctx| {
        let meta = Table::new(&ctx);
        // Each userdata holds a number; the metamethods compare those numbers.
        let number = |v: Value<'_>| match v {
            Value::UserData(u) => u.downcast_static::<i64>().copied().unwrap_or(0),
            _ => 0,
        };
        let lt = Callback::from_fn(&ctx, move |ctx, _, mut stack| {
            let r = number(stack.get(0)) < number(stack.get(1));
            stack.replace(ctx, r);
            Ok(CallbackReturn::Return)
        });
        let eq = Callback::from_fn(&ctx, move |ctx, _, mut stack| {
            let r = number(stack.get(0)) == number(stack.get(1));
            stack.replace(ctx, r);
            Ok(CallbackReturn::Return)
        });
        meta.set(ctx, "__lt", lt).unwrap();
        meta.set(ctx, "__eq", eq).unwrap();
        let make = |n: i64| {
            let u = UserData::new_static(&ctx, n);
            u.set_metatable(&ctx, Some(meta));
            u
        };
        let other = UserData::new_static(&ctx, 1i64);
        let globals = ctx.globals();
        globals.set(ctx, "a", make(1)).unwrap();
        globals.set(ctx, "b", make(2)).unwrap();
        globals.set(ctx, "a2", make(1)).unwrap();
        globals.set(ctx, "bare", other).unwrap();
        let source = "return tostring(a < b) .. ' ' .. tostring(b < a) .. ' ' .. tostring(a <= b) .. ' ' .. \
            tostring(b >= a) .. ' ' .. tostring(a == a2) .. ' ' .. tostring(a ~= b) .. ' ' .. \
            tostring(a == bare) .. ' ' .. select(2, pcall(function() return a < bare end))";
        let closure = crate::lua::compile::load(ctx, "t", source.as_bytes(), globals).unwrap();
        ctx.stash(Executor::start(ctx, closure.into(), ()))
    });
    let out = lua.execute::<String>(&executor).unwrap();
    assert_eq!(out, "true false true true true true false t:1: attempt to compare two userdata values");
}
