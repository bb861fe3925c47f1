//! `cjson` / `cjson.safe` from Lua chunks. Expected values are lua-cjson's own: its test
//! suite `tests/test.lua` ("test.lua:N" = the line of the case there), OpenResty's
//! `tests/agentzh.t` ("agentzh.t TEST N"), its README ("README: <section>") and
//! `lua_cjson.c` (openresty/lua-cjson master).

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

/// Helpers each chunk starts with: `show(...)` logs its arguments joined by `|`
/// (`tostring` for non-strings); `try(f, ...)` shows `pcall(f, ...)`.
const PRELUDE: &str = r#"
local function show(...)
  local t = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    t[i] = type(v) == 'string' and v or tostring(v)
  end
  kong.log.info(table.concat(t, '|'))
end
local function try(f, ...) return show(pcall(f, ...)) end
"#;

fn run_vm(vm: &VmConfig, source: &str) -> (PhaseOutcome, Vec<String>) {
    let source = format!("{PRELUDE}{source}");
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let host = Rc::new(FakeHost::default());
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), vm).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    (outcome, messages)
}

/// Runs `source` (after `local json = require "cjson"; local safe = require "cjson.safe"`)
/// in `on` mode and returns the lines it logged.
fn lua(source: &str) -> Vec<String> {
    let vm = VmConfig { untrusted_lua: Mode::On, ..VmConfig::default() };
    let (outcome, messages) = run_vm(&vm, &format!("local json = require 'cjson'\nlocal safe = require 'cjson.safe'\n{source}"));
    assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
    messages
}

/// Each `(lua statement, expected line)`, run in order in one chunk (so settings carry on
/// as in test.lua).
fn check(cases: &[(&str, &str)]) {
    let source: String = cases.iter().map(|(code, _)| format!("{code}\n")).collect();
    let lines = lua(&source);
    let expected: Vec<&str> = cases.iter().map(|(_, e)| *e).collect();
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for ((code, want), got) in cases.iter().zip(&lines) {
        assert_eq!(got, want, "{code}");
    }
}

#[test]
fn module_name_and_version() {
    // test.lua:94 "Check module name, version": "cjson", "2.1.0.11".
    check(&[
        ("show(json._NAME, json._VERSION)", "cjson|2.1.0.11"),
        ("show(safe._NAME, safe._VERSION)", "cjson|2.1.0.11"),
        ("show(type(json.encode), type(json.new), type(json.array_mt), type(json.empty_array_mt), type(json.empty_array))", "function|function|table|table|userdata"),
        // Each require gives the same instance (package.loaded), cjson.safe is another.
        ("show(require('cjson') == json, require('cjson.safe') == safe, safe ~= json)", "true|true|true"),
    ]);
}

#[test]
fn decodes_simple_types() {
    check(&[
        // test.lua:99-118.
        ("show(json.decode('\"test string\"'))", "test string"),
        ("local t = json.decode('[ 0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10 ]') show(#t, t[1], t[2], t[3], t[4], t[5], t[6])", "6|0|-5000|-1|0.0003|1023.2|0"),
        ("show(json.decode('null') == json.null, json.decode('true'), json.decode('false'))", "true|true|false"),
        ("local t = json.decode('{ \"1\": \"one\", \"3\": \"three\" }') show(t['1'], t['3'], t[1])", "one|three|nil"),
        ("local t = json.decode('[ \"one\", null, \"three\" ]') show(#t, t[1], t[2] == json.null, t[3])", "3|one|true|three"),
        // agentzh.t TEST 19, TEST 20.
        ("show(json.encode(json.decode('[\"a=1&b=2\"]')))", "[\"a=1&b=2\"]"),
        ("show(string.format('%16.0f', json.decode('9007199254740992')))", "9007199254740992"),
    ]);
}

#[test]
fn decode_errors() {
    check(&[
        // test.lua:121-156 (pcall'd from C: no position).
        ("try(json.decode, '\\0\"\\0\"')", "false|JSON parser does not support UTF-16 or UTF-32"),
        ("try(json.decode, '\"\\0\"\\0')", "false|JSON parser does not support UTF-16 or UTF-32"),
        ("try(json.decode, '{ \"unexpected eof\": ')", "false|Expected value but found T_END at character 21"),
        ("try(json.decode, '{ \"extra data\": true }, false')", "false|Expected the end but found T_COMMA at character 23"),
        ("try(json.decode, [[ { \"bad escape \\q code\" } ]])", "false|Expected object key string but found invalid escape code at character 16"),
        ("try(json.decode, [[ { \"bad unicode \\u0f6 escape\" } ]])", "false|Expected object key string but found invalid unicode escape code at character 17"),
        ("try(json.decode, ' [ \"bad barewood\", test ] ')", "false|Expected value but found invalid token at character 20"),
        ("try(json.decode, '[ -+12 ]')", "false|Expected value but found invalid number at character 3"),
        ("try(json.decode, '-v')", "false|Expected value but found invalid number at character 1"),
        ("try(json.decode, '[ 0.4eg10 ]')", "false|Expected comma or array end but found invalid token at character 6"),
        // json_throw_parse_error for "Expected value": the brief's example, and T_END
        // for an empty string; object keys must be strings.
        ("try(json.decode, 'x')", "false|Expected value but found invalid token at character 1"),
        ("try(json.decode, '')", "false|Expected value but found T_END at character 1"),
        ("try(json.decode, '{1:2}')", "false|Expected object key string but found T_INTEGER at character 2"),
        ("try(json.decode, '{\"a\" 1}')", "false|Expected colon but found T_INTEGER at character 6"),
        ("try(json.decode, '{\"a\":1 \"b\"}')", "false|Expected comma or object end but found T_STRING at character 8"),
        ("try(json.decode, '\"abc')", "false|Expected value but found unexpected end of string at character 5"),
        // luaL_checklstring / luaL_argcheck in json_decode.
        ("try(json.decode, {})", "false|bad argument #1 to '?' (string expected, got table)"),
        ("try(json.decode)", "false|bad argument #1 to '?' (expected 1 argument)"),
    ]);
}

#[test]
fn raised_errors_carry_the_callers_position() {
    // luaL_error adds the position of the Lua code calling cjson.decode (level 1).
    // (Not tail calls: piccolo drops the calling frame of a tail call.)
    let lines = lua("local ok, err = pcall(function() local v = json.decode('x') return v end) show(err)\n\
                     local ok, err = pcall(function() local v = json.encode(print) return v end) show(err)");
    assert_eq!(lines, [
        "access[1]:13: Expected value but found invalid token at character 1",
        "access[1]:14: Cannot serialise function: type not supported",
    ]);
}

#[test]
fn invalid_numbers_on_decode() {
    check(&[
        // test.lua:220-257.
        ("show(json.decode_invalid_numbers(true))", "true"),
        ("show(json.decode('0x6.ffp1'))", "13.9921875"),
        ("local t = json.decode('[ 0123, 00.33 ]') show(t[1], t[2])", "123|0.33"),
        ("local t = json.decode('[ +Inf, Inf, -Inf ]') show(t[1], t[2], t[3])", "inf|inf|-inf"),
        ("local t = json.decode('[ +Infinity, Infinity, -Infinity ]') show(t[1], t[2], t[3])", "inf|inf|-inf"),
        ("local t = json.decode('[ +NaN, NaN, -NaN ]') show(t[1] ~= t[1], t[2] ~= t[2], t[3] ~= t[3])", "true|true|true"),
        ("try(json.decode, 'Infrared')", "false|Expected the end but found invalid token at character 4"),
        ("try(json.decode, 'Noodle')", "false|Expected value but found invalid token at character 1"),
        ("show(json.decode_invalid_numbers(false))", "false"),
        ("try(json.decode, '0x6')", "false|Expected value but found invalid number at character 1"),
        ("try(json.decode, '[ 0123, 00.33 ]')", "false|Expected value but found invalid number at character 3"),
        ("try(json.decode, '[ +Inf, Inf, -Inf ]')", "false|Expected value but found invalid token at character 3"),
        ("try(json.decode, '[ +Infinity, Infinity, -Infinity ]')", "false|Expected value but found invalid token at character 3"),
        ("try(json.decode, '[ +NaN, NaN, -NaN ]')", "false|Expected value but found invalid token at character 3"),
        ("show(json.decode_invalid_numbers('on'))", "true"),
    ]);
}

#[test]
fn nesting_limits() {
    check(&[
        // test.lua:159-200.
        ("show(json.decode_max_depth(5))", "5"),
        ("show(json.encode(json.decode('[[[[[ \"nested\" ]]]]]')))", "[[[[[\"nested\"]]]]]"),
        ("try(json.decode, '[[[[[[ \"nested\" ]]]]]]')", "false|Found too many nested data structures (6) at character 6"),
        ("show(json.decode('{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":\"nested\"}}}}}').a.b.c.d.e)", "nested"),
        ("try(json.decode, '{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":\"nested\"}}}}}}')", "false|Found too many nested data structures (6) at character 26"),
        ("show(json.decode_max_depth(1000))", "1000"),
        ("try(json.decode, string.rep('[', 1100) .. '1100' .. string.rep(']', 1100))", "false|Found too many nested data structures (1001) at character 1001"),
        ("show(json.encode_max_depth(5))", "5"),
        ("show(json.encode({{{{{'nested'}}}}}))", "[[[[[\"nested\"]]]]]"),
        ("try(json.encode, {{{{{{'nested'}}}}}})", "false|Cannot serialise, excessive nesting (6)"),
        ("show(json.encode({a={b={c={d={e='nested'}}}}}))", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":\"nested\"}}}}}"),
        ("try(json.encode, {a={b={c={d={e={f='nested'}}}}}})", "false|Cannot serialise, excessive nesting (6)"),
        ("local cycle = {} cycle[1] = cycle try(json.encode, cycle)", "false|Cannot serialise, excessive nesting (6)"),
        ("show(json.encode_max_depth(1000))", "1000"),
        ("local big = {} for i = 1, 1100 do big = { { 10, false, true, json.null }, 'string', a = big } end try(json.encode, big)", "false|Cannot serialise, excessive nesting (1001)"),
        // 1000 levels still work.
        ("show(#json.encode(json.decode(string.rep('[', 1000) .. string.rep(']', 1000))))", "2000"),
        // Past the filter's own bound (json::MAX_NESTING = 1000) a larger setting does not reach.
        ("show(json.decode_max_depth(5000), json.encode_max_depth(5000))", "5000|5000"),
        ("try(json.decode, string.rep('[', 1100) .. string.rep(']', 1100))", "false|Found too many nested data structures (1001) at character 1001"),
        ("local cycle = {} cycle[1] = cycle try(json.encode, cycle)", "false|Cannot serialise, excessive nesting (1001)"),
    ]);
}

#[test]
fn encodes_simple_types_and_tables() {
    check(&[
        // test.lua:203-217.
        ("show(json.encode(json.null), json.encode(true), json.encode(false))", "null|true|false"),
        ("show(json.encode({}), json.encode(10), json.encode('hello'))", "{}|10|\"hello\""),
        ("try(json.encode, function () end)", "false|Cannot serialise function: type not supported"),
        // Arrays vs objects (lua_array_length): positive integer keys only make an array.
        ("show(json.encode({1, 2, 'three'}), json.encode({a = 1}), json.encode({[0] = 'z'}), json.encode({[1.5] = 'x'}))", "[1,2,\"three\"]|{\"a\":1}|{\"0\":\"z\"}|{\"1.5\":\"x\"}"),
        ("show(json.encode({1, nil, 3}), json.encode({[1] = 1, [3] = 3}))", "[1,null,3]|[1,null,3]"),
        ("show(json.encode({1, 2, x = 'y'}):len())", "21"),
        ("show(json.encode(nil), json.encode(ngx.null))", "null|null"),
        ("try(json.encode, coroutine.create(print))", "false|Cannot serialise thread: type not supported"),
        ("try(json.encode, {[true] = 1})", "false|Cannot serialise boolean: table key must be a number or string"),
        ("try(json.encode)", "false|bad argument #1 to '?' (expected 1 argument)"),
        ("try(json.encode, 1, 2)", "false|bad argument #1 to '?' (expected 1 argument)"),
    ]);
}

#[test]
fn sparse_arrays() {
    check(&[
        // Defaults (DEFAULT_SPARSE_CONVERT 0, RATIO 2, SAFE 10): up to index 10 is always an
        // array; past it, max > items * 2 raises "excessively sparse array".
        ("show(json.encode({[10] = 1}))", "[null,null,null,null,null,null,null,null,null,1]"),
        ("try(json.encode, {[11] = 1})", "false|Cannot serialise table: excessively sparse array"),
        ("show(json.encode({[1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [12] = 12}):sub(1, 6))", "[1,2,3"),
        ("show(json.encode_sparse_array())", "false|2|10"),
        // test.lua:286-309.
        ("show(json.encode_sparse_array(true, 2, 3))", "true|2|3"),
        ("show(json.encode({ [3] = 'sparse test' }))", "[null,null,\"sparse test\"]"),
        ("show(json.encode({ [1] = 'one', [4] = 'sparse test' }))", "[\"one\",null,null,\"sparse test\"]"),
        ("local s = json.encode({ [1] = 'one', [5] = 'sparse test' }) show(s == '{\"5\":\"sparse test\",\"1\":\"one\"}' or s == '{\"1\":\"one\",\"5\":\"sparse test\"}')", "true"),
        ("show(json.encode({ ['2'] = 'numeric string key test' }))", "{\"2\":\"numeric string key test\"}"),
        ("show(json.encode_sparse_array(false))", "false|2|3"),
        ("try(json.encode, { [false] = 'wrong' })", "false|Cannot serialise boolean: table key must be a number or string"),
        // ratio 0: always allow sparse arrays.
        ("show(json.encode_sparse_array(false, 0))", "false|0|3"),
        ("show(json.encode({[12] = 1}):len())", "58"),
    ]);
}

#[test]
fn number_formatting() {
    check(&[
        // DEFAULT_ENCODE_NUMBER_PRECISION 14 (`%.14g`, fpconv_g_fmt).
        ("show(json.encode(0.1), json.encode(1/3), json.encode(-2.5), json.encode(100))", "0.1|0.33333333333333|-2.5|100"),
        ("show(json.encode(1e15), json.encode(1e-5), json.encode(123456.789e3), json.encode(-0.0))", "1e+15|1e-05|123456789|-0"),
        // agentzh.t TEST 20: 2^53 at the default precision and at 16.
        ("show(json.encode(math.pow(2, 53)))", "9.007199254741e+15"),
        ("show(json.encode_number_precision(16))", "16"),
        ("show(json.encode(math.pow(2, 53)))", "9007199254740992"),
        // test.lua:404-410.
        ("show(json.encode_number_precision(3))", "3"),
        ("show(json.encode(1/3))", "0.333"),
        ("show(json.encode({[1/3] = 1}))", "{\"0.333\":1}"),
        ("show(json.encode_number_precision(14))", "14"),
        // test.lua:260-283.
        ("show(json.encode_invalid_numbers(false))", "false"),
        ("try(json.encode, math.huge * 0)", "false|Cannot serialise number: must not be NaN or Infinity"),
        ("try(json.encode, math.huge)", "false|Cannot serialise number: must not be NaN or Infinity"),
        ("show(json.encode_invalid_numbers('null'))", "null"),
        ("show(json.encode(math.huge * 0), json.encode(math.huge))", "null|null"),
        ("show(json.encode_invalid_numbers(true))", "true"),
        ("show(json.encode(math.huge * 0), json.encode(math.huge), json.encode(-math.huge))", "NaN|Infinity|-Infinity"),
        ("show(json.encode_invalid_numbers('off'))", "false"),
    ]);
}

#[test]
fn string_escaping() {
    check(&[
        // char2escape_template in lua_cjson.c: `"` `\` `/` escaped, \b \t \n \f \r, other
        // control characters and DEL as \u00XX (lowercase hex), bytes >= 0x80 untouched.
        ("show(json.encode('a\"b\\\\c/d'))", "\"a\\\"b\\\\c\\/d\""),
        ("show(json.encode('\\b\\t\\n\\f\\r'))", "\"\\b\\t\\n\\f\\r\""),
        ("show(json.encode('\\0\\1\\31\\127\\11'))", "\"\\u0000\\u0001\\u001f\\u007f\\u000b\""),
        ("show(json.encode('caf\\195\\169 \\255'))", "\"caf\u{e9} \u{fffd}\""),
        ("show(#json.encode('\\255'))", "3"),
        // agentzh.t TEST 21 (README: encode_escape_forward_slash).
        ("local a = {test = 'http://google.com/google'} show(json.encode(a))", "{\"test\":\"http:\\/\\/google.com\\/google\"}"),
        ("show(json.encode_escape_forward_slash(false))", "false"),
        ("local a = {test = 'http://google.com/google'} show(json.encode(a))", "{\"test\":\"http://google.com/google\"}"),
        ("show(json.encode_escape_forward_slash(true))", "true"),
        ("local a = {test = 'http://google.com/google'} show(json.encode(a))", "{\"test\":\"http:\\/\\/google.com\\/google\"}"),
        // test.lua:516-527: the setting is per instance.
        ("local j1 = json.new() local r1 = j1.encode('/') local j2 = json.new() j2.encode_escape_forward_slash(false) show(r1, j2.encode('/'), j1.encode('/'))", "\"\\/\"|\"/\"|\"\\/\""),
    ]);
}

#[test]
fn decodes_escapes_and_unicode() {
    check(&[
        // escape2char in lua_cjson.c.
        ("show(json.decode([[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]]) == '\"\\\\/\\b\\f\\n\\r\\t')", "true"),
        // test.lua:316-334.
        ("show(json.decode([[\"\\uF800\"]]) == '\\239\\160\\128')", "true"),
        ("show(json.decode([[\"\\u00e9\\u20AC\"]]))", "\u{e9}\u{20ac}"),
        ("show(json.decode([[\"\\uD83D\\uDE00\"]]) == '\\240\\159\\152\\128')", "true"),
        ("show(#json.decode([[\"\\u0000\"]]))", "1"),
        ("try(json.decode, [[\"\\uDC00\\uD800\"]])", "false|Expected value but found invalid unicode escape code at character 2"),
        ("try(json.decode, [[\"\\uDB00\\uDB00\"]])", "false|Expected value but found invalid unicode escape code at character 2"),
        ("try(json.decode, [[\"\\uDB00\"]])", "false|Expected value but found invalid unicode escape code at character 2"),
        ("try(json.decode, [[\"\\uDB00\\uD\"]])", "false|Expected value but found invalid unicode escape code at character 2"),
        // Raw bytes pass through (lua_cjson.c caveat: "Invalid UTF-8 characters are not
        // detected and will be passed untouched").
        ("show(json.decode('\"\\255\\1\"') == '\\255\\1')", "true"),
    ]);
}

#[test]
fn empty_tables_and_array_markers() {
    check(&[
        // agentzh.t TEST 1-4, README: empty_array.
        ("show(json.encode({}), json.encode({dogs = {}}), json.encode({arr = json.empty_array}))", "{}|{\"dogs\":{}}|{\"arr\":[]}"),
        ("show(json.encode(json.empty_array))", "[]"),
        // agentzh.t TEST 5, 9-11, 15; README: array_mt / empty_array_mt.
        ("show(json.encode({arr = setmetatable({}, json.empty_array_mt)}))", "{\"arr\":[]}"),
        ("show(json.encode(setmetatable({'hello', 'world', 'lua'}, json.empty_array_mt)))", "[\"hello\",\"world\",\"lua\"]"),
        ("show(json.encode(setmetatable({}, json.array_mt)))", "[]"),
        ("show(json.encode(setmetatable({'foo', 'bar'}, json.array_mt)))", "[\"foo\",\"bar\"]"),
        ("local t = {} t[1] = 'one' t[2] = 'two' t[4] = 'three' t.foo = 'bar' show(json.encode(setmetatable(t, json.array_mt)))", "[\"one\",\"two\",null,\"three\"]"),
        ("local d = {} d.foo = 'bar' d[1] = 'hello' show(json.encode(setmetatable(d, json.array_mt)))", "[\"hello\"]"),
        // agentzh.t TEST 2, 3.
        ("show(json.encode_empty_table_as_object(false))", "false"),
        ("show(json.encode({}), json.encode({dogs = {}}))", "[]|{\"dogs\":[]}"),
        ("show(json.encode_empty_table_as_object('on'))", "true"),
        ("show(json.encode({}), json.encode({dogs = {}}))", "{}|{\"dogs\":{}}"),
        // agentzh.t TEST 12-14.
        ("local t = json.decode([[{\"my_array\":[]}]]) show(getmetatable(t.my_array) == json.array_mt, json.encode(t))", "false|{\"my_array\":{}}"),
        ("show(json.decode_array_with_array_mt(true))", "true"),
        ("local t = json.decode([[{\"my_array\":[\"hello\",\"world\"]}]]) t.my_array.hash_value = 'x' t.my_array[1] = nil t.my_array[2] = nil \
          show(getmetatable(t.my_array) == json.array_mt, json.encode(t))", "true|{\"my_array\":[]}"),
        ("show(json.decode_array_with_array_mt(false))", "false"),
        ("local t = json.decode([[{\"my_array\":[]}]]) show(getmetatable(t.my_array) == json.array_mt)", "false"),
        // agentzh.t TEST 18: the markers are shared by all instances.
        ("show(safe.array_mt == json.array_mt, json.new().empty_array == json.empty_array, safe.encode(setmetatable({}, json.empty_array_mt)))", "true|true|[]"),
    ]);
}

#[test]
fn skip_unsupported_value_types() {
    check(&[
        // agentzh.t TEST 22 (README: encode_skip_unsupported_value_types).
        ("local f = function (x) return 2*x end try(json.encode, f)", "false|Cannot serialise function: type not supported"),
        ("try(json.encode, {f = print, valid = 'valid'})", "false|Cannot serialise function: type not supported"),
        ("try(json.encode, {'one', 'two', print, 'three'})", "false|Cannot serialise function: type not supported"),
        ("show(json.encode_skip_unsupported_value_types(true))", "true"),
        ("show(json.encode(print))", ""),
        ("show(json.encode({f = print, valid = 'valid'}))", "{\"valid\":\"valid\"}"),
        ("show(json.encode({'one', 'two', print, 'three'}))", "[\"one\",\"two\",\"three\"]"),
        ("show(json.encode({print, 'two'}))", "[\"two\"]"),
    ]);
}

#[test]
fn config_api_errors() {
    check(&[
        // test.lua:413-494 (pcall'd from C: the function shows as '?').
        ("try(json.encode_number_precision, 0)", "false|bad argument #1 to '?' (expected integer between 1 and 16)"),
        ("try(json.encode_number_precision, 'five')", "false|bad argument #1 to '?' (number expected, got string)"),
        ("try(json.encode_keep_buffer, nil, true)", "false|bad argument #2 to '?' (found too many arguments)"),
        ("try(json.encode_max_depth, 'wrong')", "false|bad argument #1 to '?' (number expected, got string)"),
        ("try(json.decode_max_depth, '0')", "false|bad argument #1 to '?' (expected integer between 1 and 2147483647)"),
        ("try(json.encode_invalid_numbers, -2)", "false|bad argument #1 to '?' (invalid option '-2')"),
        ("try(json.decode_invalid_numbers, true, false)", "false|bad argument #2 to '?' (found too many arguments)"),
        ("try(json.encode_sparse_array, 'not quite on')", "false|bad argument #1 to '?' (invalid option 'not quite on')"),
        // Called from Lua, the name is the field's.
        ("local ok, e = pcall(function() json.encode_max_depth(0) end) show(e)", "access[1]:21: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
        ("show(json.encode_keep_buffer(false), json.encode_keep_buffer(true))", "false|true"),
        // test.lua:495-499: new() resets the settings.
        ("json.encode_sparse_array(true, 3, 4) local fresh = json.new() show(fresh.encode_sparse_array())", "false|2|10"),
        ("show(json.encode_sparse_array())", "true|3|4"),
    ]);
}

#[test]
fn safe_returns_nil_and_the_message() {
    check(&[
        // test.lua:501-515.
        ("show(safe.encode(true))", "true"),
        ("try(safe.encode, 'arg1', 'arg2')", "false|bad argument #1 to '?' (expected 1 argument)"),
        ("show(safe.decode('Oops'))", "nil|Expected value but found invalid token at character 1"),
        ("show(safe.new().decode('Oops'))", "nil|Expected value but found invalid token at character 1"),
        ("show(safe.encode(print))", "nil|Cannot serialise function: type not supported"),
        ("show(safe.encode({[11] = 1}))", "nil|Cannot serialise table: excessively sparse array"),
        ("show(safe.decode({}))", "nil|bad argument #1 to '?' (string expected, got table)"),
        ("show(safe.decode('[1,2]')[2], safe.encode({a = {1}}))", "2|{\"a\":[1]}"),
        // cjson.safe has its own settings (lua_cjson_safe_new -> lua_cjson_new).
        ("json.encode_empty_table_as_object(false) show(json.encode({}), safe.encode({}))", "[]|{}"),
    ]);
}

#[test]
fn null_is_ngx_null() {
    check(&[
        ("show(json.null == ngx.null, safe.null == ngx.null, json.new().null == ngx.null)", "true|true|true"),
        ("show(json.decode('null') == ngx.null, json.decode('[null]')[1] == ngx.null, json.decode('{\"a\":null}').a == ngx.null)", "true|true|true"),
        ("show(json.encode({a = ngx.null}), json.encode({json.null, 1}))", "{\"a\":null}|[null,1]"),
    ]);
}

#[test]
fn new_instances_have_their_own_settings() {
    check(&[
        ("local a, b = json.new(), json.new() a.encode_empty_table_as_object(false) show(a.encode({}), b.encode({}), json.encode({}))", "[]|{}|{}"),
        ("local a = json.new() a.encode_number_precision(3) show(a.encode(1/3), json.encode(1/3))", "0.333|0.33333333333333"),
        ("local a = json.new() a.decode_max_depth(1) show(pcall(a.decode, '[[1]]'))", "false|Found too many nested data structures (2) at character 2"),
        ("show(json.new()._NAME, type(json.new().new))", "cjson|function"),
    ]);
}

#[test]
fn encode_output_is_bounded_by_the_string_limit() {
    let mut vm = VmConfig { untrusted_lua: Mode::On, ..VmConfig::default() };
    vm.limits.string_bytes = 1000;
    let (_, lines) = run_vm(&vm, "local cjson = require 'cjson'\n\
        local t = {} for i = 1, 300 do t[i] = 'abcd' end\n\
        show(pcall(cjson.encode, t))\n\
        show(#cjson.encode({'x'}))\n\
        show(pcall(require('cjson.safe').encode, {string.rep('a', 600), string.rep('b', 600)}))");
    assert_eq!(lines, ["false|resulting string too large", "5", "false|resulting string too large"]);
}

#[test]
fn decode_is_bounded_by_the_memory_limit() {
    // Raised even by cjson.safe (the filter's limit, not a conversion error); like every
    // memory breach it fails the request.
    let mut vm = VmConfig { untrusted_lua: Mode::On, ..VmConfig::default() };
    vm.limits.memory_bytes = 4 << 20;
    let (outcome, lines) = run_vm(&vm, "local safe = require 'cjson.safe'\n\
        local text = '[' .. string.rep('[],', 200000) .. '[]]'\n\
        local v = safe.decode(text)");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(lines, ["access[1]:13: memory limit exceeded"]);
}

#[test]
fn require_works_in_every_sandbox_mode() {
    let script = "local cjson = require 'cjson'\n\
        local safe = require 'cjson.safe'\n\
        show(cjson.encode({1, 2}), cjson.decode('[3]')[1], cjson.decode('null') == cjson.null, safe.decode('x'))\n\
        show(cjson.encode_empty_table_as_object(false), cjson.encode({}))\n\
        show(pcall(function() cjson.encode = nil end))";
    for mode in [Mode::Strict, Mode::Sandbox, Mode::On] {
        let vm = VmConfig {
            untrusted_lua: mode,
            untrusted_lua_sandbox_requires: if mode == Mode::Sandbox { vec!["cjson".into(), "cjson.safe".into()] } else { vec![] },
            ..VmConfig::default()
        };
        let (outcome, lines) = run_vm(&vm, script);
        assert_eq!(outcome, PhaseOutcome::Continue, "{mode:?}: {lines:?}");
        assert_eq!(lines[0], "[1,2]|3|true|nil|Expected value but found invalid token at character 1", "{mode:?}");
        // The setting goes through the read-only proxy to the instance.
        assert_eq!(lines[1], "false|[]", "{mode:?}");
        if mode == Mode::On {
            assert_eq!(lines[2], "true", "{mode:?}");
        } else {
            assert_eq!(lines[2], "false|Cannot modify cjson.encode. Protected by the sandbox.", "{mode:?}");
        }
    }
    // Sandbox mode without the module in untrusted_lua_sandbox_requires: Kong's refusal.
    let (outcome, lines) = run_vm(&VmConfig::default(), "show(pcall(require, 'cjson'))");
    assert_eq!(outcome, PhaseOutcome::Continue);
    assert_eq!(lines, ["false|require 'cjson' not allowed within sandbox"]);
}
