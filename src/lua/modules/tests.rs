//! The Lua modules through `require`, expectations from each original's source, tests
//! or documentation (named per test).

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

#[path = "jwt_tests.rs"]
mod jwt;

/// Runs `source` in access under `mode` on `host`; the outcome and log messages.
fn run_on(host: Rc<FakeHost>, mode: Mode, source: &str) -> (PhaseOutcome, Vec<String>) {
    let config = PluginConfig::parse(serde_json::json!({ "access": [source] }).to_string().as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: mode, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
    let messages = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    (outcome, messages)
}

/// A host whose clock reads 2023-11-14T22:13:20Z (1,700,000,000 s).
fn host() -> Rc<FakeHost> {
    let host = FakeHost::default();
    host.now.set(1_700_000_000_000_000_000);
    Rc::new(host)
}

/// The log lines of `source` in strict mode (Kong's handler require list allows every
/// module here), checked to be the same in `on` mode.
fn logs(source: &str) -> Vec<String> {
    let (outcome, strict) = run_on(host(), Mode::Strict, source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{strict:?}");
    let (_, on) = run_on(host(), Mode::On, source);
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


#[test]
fn socket_url_follows_luasocket() {
    // Outputs of LuaSocket's src/url.lua (URL 1.0.3) under LuaJIT for the same calls;
    // the relative cases are RFC 3986 section 5.4's examples.
    let out = logs(
        "local url = require 'socket.url'
         local p = url.parse('http://user:pw@example.com:8080/a/b;p?q=1#frag')
         kong.log.info(p.scheme, ' ', p.user, ' ', p.password, ' ', p.host, ' ', p.port, ' ', p.path, ' ', p.params, ' ', p.query, ' ', p.fragment, ' ', p.authority)
         kong.log.info(url.build(p), ' ', url.escape('a b/c'), ' ', url.unescape('a%20b%2Fc'))
         kong.log.info(url.absolute('http://a/b/c/d;p?q', '../g'), ' ', url.absolute('http://a/b/c/d;p?q', 'g?y'), ' ', url.absolute('http://a/b/c/d;p?q', '//g'))
         local pp = url.parse_path('/a%20b/c/')
         kong.log.info(#pp, ' ', pp[1], ' ', pp.is_absolute, ' ', pp.is_directory, ' ', url.build_path(pp), ' ', url.build_path({'a b', 'c'}, true))
         kong.log.info(url.parse(''))",
    );
    assert_eq!(
        out,
        [
            "http user pw example.com 8080 /a/b p q=1 frag user:pw@example.com:8080",
            "http://user:pw@example.com:8080/a/b;p?q=1#frag a%20b%2fc a b/c",
            "http://a/b/g http://a/b/c/g?y http://g",
            "2 a b 1 1 /a%20b/c/ a b/c",
            "nilinvalid url",
        ]
    );
}

#[test]
fn version_ranges_sets_and_semver() {
    // Outputs of Kong/version.lua 1.0.1 under LuaJIT for the same calls.
    let out = logs(
        "local v = require 'version'
         kong.log.info(tostring(v('1.2.3')), ' ', tostring(v.set('1.0', '2.0'):matches('1.5')), ' ', tostring(v.set('1.0', '2.0'):matches('2.1')), ' ', tostring(v.range('1.0', '2.0')))
         kong.log.info(tostring(v('1.2'):semver('1.9')), ' ', tostring(v('1.2'):semver('2.0')), ' ', select(2, v.strict.new('1.2.')))
         kong.log.info(tostring(v.set('1', '2'):allowed('4'):disallowed('1.5')), ' ', select(2, v.range('2', '1')), ' ', select(2, v.new('abc')))
         kong.log.info(tostring(v.range('1.0', '2.0'):matches(v('2.0.0'))), ' ', v('kong 3.10.0')[2])",
    );
    assert_eq!(
        out,
        [
            "1.2.3 true false 1.0 to 2.0",
            "true false Not a valid version element: '1.2.'",
            "1 to 2, and 4, but not 1.5 FROM version must be less than or equal to the TO version Not a valid version element: 'abc'",
            "true 10",
        ]
    );
}

#[test]
fn version_objects_compare_with_operators() {
    // Kong/version.lua's @usage: `v == version("3.1")` for v = version("3.1.0') ("missing
    // elements default to zero"), `v > version("3.0")`; `<=`/`>=` go through `__lt` as
    // Lua 5.1's `luaV_lessequal` does without `__le` (piccolo patch 9). Comparing with a
    // non-table calls no metamethod: LuaJIT's "attempt to compare table with number".
    let out = logs(
        "local version = require 'version'
         local v = version('3.1.0')
         kong.log.info(tostring(v == version('3.1')), ' ', tostring(v > version('3.0')), ' ', tostring(v ~= version('3.1.1')))
         kong.log.info(tostring(version('1.2') < version('1.10')), ' ', tostring(version('2.8.1') >= version('3.0.0')), ' ', tostring(version('3.4') <= version('3.4.0')))
         local list = { version('3.1'), version('1.0.2'), version('2.8'), version('1.10') }
         table.sort(list)
         kong.log.info(tostring(list[1]), ' ', tostring(list[2]), ' ', tostring(list[3]), ' ', tostring(list[4]))
         local ok, err = pcall(function() return v < 1 end)
         kong.log.info(tostring(ok), ' ', err)",
    );
    assert_eq!(
        out,
        [
            "true true true",
            "true false true",
            "1.0.2 1.10 2.8 3.1",
            "false access[1]:8: attempt to compare table with number",
        ]
    );
}

#[test]
fn resty_lrucache_evicts_the_least_recently_used() {
    // lua-resty-lrucache's README and t/001-sanity.t / t/002-ttl.t behaviour: capacity,
    // LRU eviction, get refreshing recency, expired items answering nil + stale value,
    // flags, get_keys in most-recent-first order, flush_all.
    for module in ["resty.lrucache", "resty.lrucache.pureffi"] {
        let out = logs(&format!(
            "local lrucache = require '{module}'
             local c = lrucache.new(2)
             c:set('dog', 32) c:set('cat', 56)
             kong.log.info(c:get('dog'), ' ', c:count(), ' ', c:capacity())
             c:set('bird', 76)
             kong.log.info(tostring(c:get('cat')), ' ', c:get('dog'), ' ', c:get('bird'), ' ', table.concat(c:get_keys(), ','))
             c:set('dog', 1, nil, 7)
             kong.log.info(select(3, c:get('dog')), ' ', tostring(c:delete('dog')), ' ', tostring(c:delete('dog')), ' ', c:count())
             c:set('old', 'v', -1)
             local v, stale = c:get('old')
             kong.log.info(tostring(v), ' ', stale)
             c:flush_all()
             kong.log.info(c:count(), ' ', tostring(c:get('bird')), ' ', #c:get_keys())
             kong.log.info(lrucache.new(0))"
        ));
        assert_eq!(
            out,
            ["32 2 2", "nil 32 76 bird,dog", "7 true false 1", "nil v", "0 nil 0", "nilsize too small"],
            "{module}"
        );
    }
}

#[test]
fn tablepool_reuses_released_tables() {
    // lua-tablepool's README: fetch gives a pooled table after release (cleared unless
    // noclear), release of nil raises "object empty".
    let out = logs(
        "local pool = require 'tablepool'
         local t = pool.fetch('tag', 0, 4)
         t.x = 1
         pool.release('tag', t)
         local again = pool.fetch('tag', 0, 4)
         kong.log.info(tostring(again == t), ' ', tostring(again.x), ' ', tostring(pool.fetch('tag', 0, 4) == t))
         kong.log.info(select(2, pcall(pool.release, 'tag', nil)))",
    );
    assert_eq!(out, ["true nil false", "object empty"]);
}

#[test]
fn resty_xmodem_is_redis_clusters_key_slot() {
    // CRC-16/XMODEM check value: "123456789" -> 0x31C3 (12739), masked to 14 bits; Redis
    // Cluster's specification (appendix A) gives slot 12182 for "foo".
    let out = logs("local x = require 'resty.xmodem' kong.log.info(x.redis_crc('123456789'), ' ', x.redis_crc('foo'), ' ', x.redis_crc(''))");
    assert_eq!(out, [format!("{} 12182 0", 0x31C3 & 0x3fff)]);
}

#[test]
fn resty_http_headers_are_case_insensitive() {
    // lua-resty-http's http_headers.lua: reads in any case, the first spelling is kept.
    let out = logs(
        "local h = require('resty.http_headers').new()
         h['Content-Type'] = 'a' h['content-type'] = 'b'
         local keys = {} for k in pairs(h) do keys[#keys + 1] = k end
         kong.log.info(h['CONTENT-TYPE'], ' ', table.concat(keys, ','), ' ', tostring(h.missing))",
    );
    assert_eq!(out, ["b Content-Type nil"]);
}

#[test]
fn resty_ipmatcher_matches_addresses_and_cidrs() {
    // lua-resty-ipmatcher's README and t/sanity.t: exact, CIDR and IPv6 matches, values,
    // parse_ipv4 answering the host-order number, invalid input.
    let out = logs(
        "local ipmatcher = require 'resty.ipmatcher'
         local m = ipmatcher.new({'127.0.0.1', '192.168.0.0/16', '::1', 'fe80::/32'})
         kong.log.info(tostring(m:match('127.0.0.1')), tostring(m:match('192.168.1.100')), tostring(m:match('192.169.0.1')), tostring(m:match('::1')), tostring(m:match('fe80::1234')), tostring(m:match('fe81::1')))
         kong.log.info(select(2, m:match('not-an-ip')))
         local v = ipmatcher.new_with_value({['10.0.0.0/8'] = 'ten', ['10.1.0.0/16'] = 'ten-one'})
         kong.log.info(v:match('10.1.2.3'), ' ', v:match('10.2.2.3'), ' ', tostring(v:match_bin(string.char(10, 1, 0, 1))))
         kong.log.info(ipmatcher.parse_ipv4('127.0.0.1'), ' ', tostring(ipmatcher.parse_ipv4('01.2.3.4')), ' ', ipmatcher.parse_ipv6('[::1]')[4], ' ', select(2, ipmatcher.new({'bad'})))
         kong.log.info(pcall(ipmatcher.new))",
    );
    assert_eq!(
        out,
        [
            "truetruefalsetruetruefalse",
            "invalid ip address, not ipv4 and ipv6",
            "ten-one ten ten-one",
            "2130706433 false 1 invalid ip address: bad",
            "falsemissing valid ip argument",
        ]
    );
}

#[test]
fn resty_lrucache_keeps_working_over_many_evictions() {
    // Thousands of distinct keys through a small cache: every eviction removes a key, and
    // the cache keeps its capacity and its most recent keys.
    let out = logs(
        "local c = require('resty.lrucache').new(8)
         for i = 1, 3000 do c:set('k' .. i, i) if i % 3 == 0 then c:delete('k' .. (i - 1)) end end
         kong.log.info(c:count(), ' ', c:get('k3000'), ' ', tostring(c:get('k2999')), ' ', tostring(c:get('k1')))",
    );
    assert_eq!(out, ["7 3000 nil nil"]);
}

#[test]
fn kong_tools_uri_as_kongs_spec() {
    // Kong's spec/01-unit/18-tools_uri_spec.lua.
    let out = logs(
        "local uri = require 'kong.tools.uri'
         local cases = {
           {'/a%2Fb%2Fc/'}, {'/%20%21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D'}, {'/a%2fb%2fc/'},
           {'/f%6f%6f'}, {'/%6B%6f%6e%67'}, {'/%2E'}, {'//'}, {'/./.././../'}, {'/a/b/c/./../../g'},
           {'mid/content=5/../6'}, {'/////', true}, {'/a//b//', true}, {'/endel%C3%B8st'},
         }
         for _, c in ipairs(cases) do kong.log.info(uri.normalize(c[1], c[2])) end
         kong.log.info(uri.escape('/a b/c d'), ' ', uri.escape('/endel\\195\\184st'), ' ', uri.escape(\"/!#$%&'()*+,/:;=?@[]AZaz09-_.~\"))",
    );
    assert_eq!(
        out,
        [
            "/a%2Fb%2Fc/",
            "/ %21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D",
            "/a%2Fb%2Fc/",
            "/foo",
            "/kong",
            "/",
            "//",
            "/",
            "/a/g",
            "mid/6",
            "/",
            "/a/b/",
            "/endeløst",
            "/a%20b/c%20d /endel%C3%B8st /!#$%&'()*+,/:;=?@[]AZaz09-_.~",
        ]
    );
}

#[test]
fn kong_tools_mime_type_as_kongs_spec() {
    // Kong's spec/01-unit/26-mime-type_spec.lua.
    let out = logs(
        "local mt = require 'kong.tools.mime_type'
         local function show(s)
           local t, st, p = mt.parse_mime_type(s)
           if not t then return 'nil' end
           local keys = {} for k, v in pairs(p) do keys[#keys + 1] = k .. '=' .. v end table.sort(keys)
           return t .. '/' .. st .. '[' .. table.concat(keys, ';') .. ']'
         end
         for _, s in ipairs({'application/json', 'application/json; charset=UTF-8; key=Value; q=1', 'application/json ;  charset=UTF-8 ; key=Value',
                             'application/json; charset=\"UTF-8\"', 'Application/JSON; Charset=UTF-8; Key=Value', '*/*; charset=UTF-8; q=0.1',
                             '*/text', '*', '*; q=.2', 'helloworld', ' ', 'application/json;'}) do
           kong.log.info(show(s))
         end
         local function inc(a, b) return tostring(mt.includes({type = a[1], subtype = a[2]}, {type = b[1], subtype = b[2]})) end
         kong.log.info(inc({'*', '*'}, {'text', 'html'}), inc({'application', 'json'}, {'application', 'problem+json'}), inc({'text', '*'}, {'text', 'plain'}), inc({'text', 'plain'}, {'text', 'html'}))
         kong.log.info(select(2, pcall(mt.includes, nil, {})))",
    );
    assert_eq!(
        out,
        [
            "application/json[]",
            "application/json[charset=UTF-8;key=Value;q=1]",
            "application/json[charset=UTF-8;key=Value]",
            "application/json[charset=UTF-8]",
            "application/json[charset=UTF-8;key=Value]",
            "*/*[charset=UTF-8;q=0.1]",
            "*/text[]",
            "*/*[]",
            "*/*[q=.2]",
            "nil",
            "nil",
            "nil",
            "truetruetruefalse",
            "this must be a table",
        ]
    );
}

#[test]
fn kong_tools_ip_as_kongs_spec() {
    // Kong's spec/01-unit/05-utils_spec.lua ("hostname_type", "normalize_ip",
    // "format_host", "is_valid_*").
    let out = logs(
        "local ip = require 'kong.tools.ip'
         local function show(t, err) if not t then return 'nil:' .. tostring(err) end return t.type .. ' ' .. t.host .. ' ' .. tostring(t.port) end
         kong.log.info(ip.hostname_type('1.2.3.4'), ' ', ip.hostname_type('::1'), ' ', ip.hostname_type('some::thing'), ' ', ip.hostname_type('konghq.com'))
         kong.log.info(show(ip.normalize_ip('1.2.3.4:80')), ', ', show(ip.normalize_ip('[::1]:80')), ', ', show(ip.normalize_ip('localhost:80')), ', ', show(ip.normalize_ip('1.2.3.400')))
         kong.log.info(ip.format_host(ip.normalize_ip('001.002.003.004:123')), ' ', ip.format_host('::1', 80), ' ', ip.format_host('konghq.com'), ' ', select(2, ip.format_host(ip.check_hostname('//bad .. name\\\\'))))
         kong.log.info(tostring(ip.is_valid_ipv4('127.0.0.1')), tostring(ip.is_valid_ipv4('127.0.0.256')), tostring(ip.is_valid_ipv6('::1')), tostring(ip.is_valid_cidr('10.0.0.0/8')), tostring(ip.is_valid_cidr('10.0.0.0/33')), tostring(ip.is_valid_ip_or_cidr('fe80::/64')), tostring(ip.is_valid_ip(1)))",
    );
    assert_eq!(
        out,
        [
            "ipv4 ipv6 ipv6 name",
            "ipv4 1.2.3.4 80, ipv6 0000:0000:0000:0000:0000:0000:0000:0001 80, name localhost 80, nil:invalid ipv4 address: 1.2.3.400",
            "1.2.3.4:123 [0000:0000:0000:0000:0000:0000:0000:0001]:80 konghq.com invalid hostname: //bad .. name\\",
            "truefalsetruetruefalsetruefalse",
        ]
    );
}

#[test]
fn kong_tools_string_as_kongs_source() {
    // Kong's kong/tools/string.lua (bytes_to_str's computation: its @usage line's
    // "5.120 GiB" for 5497558 bytes is a slip, 5497558 / 2^30 is 0.005) and spec/01-unit/05-utils_spec.lua
    // ("splitn", "strip", "validate_utf8", "try_decode_base64").
    let out = logs(
        "local s = require 'kong.tools.string'
         local function list(t, n) return '{' .. table.concat(t, '|') .. '}' .. tostring(n) end
         kong.log.info(list(s.splitn('a,b,,c', ',')), ' ', list(s.splitn('a,b,c', ',', 2)), ' ', list(s.splitn('', ',')), ' ', list(s.splitn('ab', '')), ' ', list(s.psplitn('a1b22c', '%d+')))
         local parts = {} for p in s.isplitn('x;y;z', ';') do parts[#parts + 1] = p end
         kong.log.info(table.concat(parts, ' '), ' ', s.split_once('k=v=w', '='), ' ', select(2, s.split_once('k=v=w', '=')), ' ', tostring(select(2, s.split_once('kv', '='))))
         kong.log.info('[', s.strip('  \\t hi \\r\\n'), '][', s.strip(nil), '][', s.strip(42), ']')
         kong.log.info(tostring(s.validate_utf8('endeløst')), ' ', select(2, s.validate_utf8('ab\\255')))
         kong.log.info(s.bytes_to_str(5497558), ' ', s.bytes_to_str(5497558, 'm'), ' ', s.bytes_to_str(5497558, 'G', 3), ' ', select(2, pcall(s.bytes_to_str, 1, 'x')))
         kong.log.info(s.parse_ngx_size('10k'), ' ', s.parse_ngx_size('2m'), ' ', s.parse_ngx_size('7'), ' ', s.try_decode_base64('aGVsbG8='), ' ', s.try_decode_base64('not base64!'))
         kong.log.info(s.replace_dashes('x-my-header'), ' ', s.replace_dashes_lower('X-My-Header'), ' ', s.join('+', {'a', 'b'}), ' ', #s.split('a b c'))",
    );
    assert_eq!(
        out,
        [
            "{a|b||c}4 {a|b,c}2 {}1 {|a|b|}4 {a|b|c}3",
            "x y z k v=w nil",
            "[hi][][42]",
            "true 3",
            "5497558 5.24 MiB 0.005 GiB invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')",
            "10240 2097152 7 hello not base64!",
            "x_my_header x_my_header a+b 3",
        ]
    );
}

#[test]
fn kong_tools_table_as_kongs_source() {
    // Kong's kong/tools/table.lua and spec/01-unit/05-utils_spec.lua ("table_merge",
    // "deep_merge", "is_array", "table_contains", "add_error", "table_path").
    let out = logs(
        "local t = require 'kong.tools.table'
         local m = t.table_merge({a = 1, b = 2}, {b = 3, c = 4})
         kong.log.info(m.a, m.b, m.c, ' ', t.null_aware_table_merge({a = 1}, {a = ngx.null}).a, ' ', tostring(t.table_contains({'x', 'y'}, 'y')), tostring(t.table_contains(nil, 'y')))
         kong.log.info(tostring(t.is_array({1, 2, 3})), tostring(t.is_array({1, nil, 3})), tostring(t.is_array({a = 1})), tostring(t.is_array({['1'] = 'a', ['2'] = 'b'}, 'lapis')), tostring(t.is_array({'a', 'b'}, 'fast')))
         local d = t.deep_merge({a = {x = 1, y = 2}, b = 1}, {a = {y = 3}, c = 4})
         kong.log.info(d.a.x, d.a.y, d.b, d.c, ' ', t.pack(1, nil, 3).n, ' ', select('#', t.unpack(t.pack(1, nil, nil))), ' ', table.concat(t.concat({1, 2}, {3}), ','))
         local e = t.add_error(nil, 'name', 'required') t.add_error(e, 'name', 'too short')
         kong.log.info(e.name[1], ' / ', e.name[2], ' ', t.table_path({a = {b = {c = 'deep'}}}, {'a', 'b', 'c'}), ' ', tostring(t.table_path({a = 1}, {'x', 'y'})))
         local orig = {n = {1}} local copy = t.cycle_aware_deep_copy(orig)
         kong.log.info(tostring(copy.n ~= orig.n), ' ', copy.n[1], ' ', tostring(t.deep_copy(orig).n ~= orig.n), ' ', tostring(t.shallow_copy(orig).n == orig.n), ' ', tostring((pcall(function() t.EMPTY.x = 1 end))))",
    );
    assert_eq!(
        out,
        [
            "134 1 truefalse",
            "truefalsefalsetruetrue",
            "1314 3 3 1,2,3",
            "required / too short deep nil",
            "true 1 true true false",
        ]
    );
}

#[test]
fn kong_constants_meta_and_cjson() {
    // Kong's kong/constants.lua, kong/meta.lua (the version this PDK reports) and
    // kong/tools/cjson.lua (arrays decoded with array_mt so they encode back as arrays).
    let out = logs(
        "local c = require 'kong.constants'
         kong.log.info(c.HEADERS.REQUEST_ID, ' ', c.HEADERS.UPSTREAM_LATENCY, ' ', tostring(c.BUNDLED_PLUGINS['pre-function']), ' ', c.PROTOCOLS[1], ' ', c.PROTOCOLS_WITH_SUBSYSTEM.tcp, ' ', c.ENTITY_CACHE_STORE.routes, ' ', c.ENTITY_CACHE_STORE.anything, ' ', c.LOG_LEVELS.warn, c.LOG_LEVELS[ngx.ERR], ' ', tostring(c.CORE_ENTITIES.routes), ' ', c.CLUSTERING_SYNC_STATUS.NORMAL, ' ', #c.DECLARATIVE_EMPTY_CONFIG_HASH)
         local meta = require 'kong.meta'
         kong.log.info(meta._NAME, ' ', meta._VERSION, ' ', meta._SERVER_TOKENS, ' ', meta._VERSION_TABLE.minor, ' ', tostring(meta._VERSION_TABLE), ' ', meta.version == kong.version)
         local json = require 'kong.tools.cjson'
         kong.log.info(json.encode(json.decode_with_array_mt('{\"list\":[]}')), ' ', json.encode(json.new_array()), ' ', json.encode({third = 1 / 3}), ' ', require('cjson').encode(1 / 3))",
    );
    assert_eq!(
        out,
        [
            "X-Kong-Request-Id X-Kong-Upstream-Latency true grpc stream core_cache cache 5error true normal 32",
            "kong 3.10.0 kong/3.10.0 10 3.10.0 true",
            "{\"list\":[]} [] {\"third\":0.3333333333333333} 0.33333333333333",
        ]
    );
}


/// Runs `source` as a `header_filter` chunk in strict mode on a host with the request
/// headers `request`; the log lines and the response headers.
fn header_filter(request: &[(&str, &str)], source: &str) -> (Vec<String>, Vec<(String, String)>) {
    let host = Rc::new(FakeHost::with_request(request));
    let config = PluginConfig::parse(serde_json::json!({ "header_filter": [source] }).to_string().as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: Mode::Strict, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    let outcome = rt.run_phase(Phase::HeaderFilter, &mut RequestState::default());
    let messages: Vec<String> = host.messages().into_iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
    let headers = host.response.borrow().iter().map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned())).collect();
    (messages, headers)
}

#[test]
fn resty_cookie_reads_the_request_and_appends_set_cookie() {
    // lua-resty-cookie's README (get, get_all, set with its fields) and lib/resty/cookie.lua
    // (bake's attribute order, duplicates not appended).
    let (logs, headers) = header_filter(
        &[("cookie", "SID=31d4d96e407aad42; lang=en-US")],
        "local ck = require('resty.cookie'):new()
         kong.log.info(ck:get('SID'), ' ', ck:get('lang'), ' ', tostring(ck:get('none')), ' ', ck:get_cookie_size())
         local all = ck:get_all() local keys = {} for k in pairs(all) do keys[#keys + 1] = k end table.sort(keys)
         kong.log.info(table.concat(keys, ','))
         kong.log.info(tostring(ck:set({key = 'Name', value = 'Bob', path = '/', domain = 'example.com', secure = true, httponly = true, max_age = 50, samesite = 'Lax'})))
         ck:set({key = 'Other', value = 'x'}) ck:set({key = 'Other', value = 'x'})
         kong.log.info(select(2, ck:set({key = 'k'})))",
    );
    assert_eq!(logs, ["31d4d96e407aad42 en-US nil 32", "SID,lang", "true", "missing cookie field \"key\" or \"value\""]);
    let set_cookie: Vec<&str> = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect();
    assert_eq!(set_cookie, ["Name=Bob; Max-Age=50; Domain=example.com; Path=/; Secure; HttpOnly; SameSite=Lax", "Other=x"]);
}

#[test]
fn resty_cookie_without_a_cookie_header() {
    let (logs, _) = header_filter(&[], "local ck = require('resty.cookie'):new() kong.log.info(ck:get('x')) kong.log.info(ck:get_cookie_size())");
    assert_eq!(logs, ["nilno cookie found in the current request", "0"]);
}

#[test]
fn ngx_resp_and_ngx_req_add_header_append_lines() {
    // lua-resty-core's ngx.resp.add_header / ngx.req.add_header: a line is added, the
    // existing ones stay.
    let (logs, headers) = header_filter(
        &[("x-a", "1")],
        "ngx.header['X-Multi'] = 'one'
         require('ngx.resp').add_header('X-Multi', 'two')
         require('ngx.resp').add_header('X-New', {'a', 'b'})
         kong.log.info(type(require('ngx.req').add_header), ' ', require('ngx.resp').version)",
    );
    assert_eq!(logs, ["function 0.1.30"]);
    let of = |name: &str| headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    assert_eq!(of("x-multi"), ["one", "two"]);
    assert_eq!(of("x-new"), ["a", "b"]);
    let host = Rc::new(FakeHost::with_request(&[("x-a", "1")]));
    let (outcome, logs) = run_on(host.clone(), Mode::Strict, "require('ngx.req').add_header('X-A', '2') kong.log.info(table.concat(ngx.req.get_headers()['x-a'], ','))");
    assert_eq!((outcome, logs), (PhaseOutcome::Continue, vec!["1,2".to_string()]));
}

include!("../../../tests/ngx_re/expected.rs");

#[test]
fn ngx_re_answers_as_openresty() {
    // tests/ngx_re/cases.lua, as tests/ngx_re.rs runs it through the .wasm; here in the
    // library (natively, and compiled to wasm32-wasip1 by `make test-wasm`).
    let source = format!(
        "local function run(...)\n{}\nend\nrun(function(line) kong.log.info(line) end)",
        include_str!("../../../tests/ngx_re/cases.lua")
    );
    let (outcome, got) = run_on(host(), Mode::Strict, &source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{got:?}");
    let expected = ngx_re_expected();
    let diffs: Vec<String> = expected
        .iter()
        .zip(got.iter().map(String::as_str).chain(std::iter::repeat("<missing>")))
        .filter(|(e, g)| e.as_str() != *g)
        .map(|(e, g)| format!("  expected {e}\n       got {g}"))
        .collect();
    assert!(diffs.is_empty() && got.len() == expected.len(), "{} of {} differ ({} lines):\n{}", diffs.len(), expected.len(), got.len(), diffs.join("\n"));
}

#[test]
fn ngx_re_split_as_lua_resty_core() {
    // lua-resty-core's lib/ngx/re.md examples: split by a regex, captures kept, max,
    // trailing empty pieces dropped, the empty regex splitting characters; opt's names.
    let out = logs(
        "local re = require 'ngx.re'
         local function list(t) return '{' .. table.concat(t, '|') .. '}' end
         kong.log.info(list(re.split('a,b,c,d', ',')), list(re.split('a,b,c,d', '(,)')), list(re.split('a,b,c,d', ',', nil, nil, 2)))
         kong.log.info(list(re.split('a,b,c,,,', ',')), list(re.split('abcd', '')), list(re.split('a1b22c333', '\\\\d+')), list(re.split(',a,b', ',')))
         kong.log.info(select(2, re.split('abc', '(')) ~= nil, ' ', select(2, pcall(re.opt, 'nope', 1)), ' ', select('#', re.opt('jit_stack_size', 128)))",
    );
    assert_eq!(
        out,
        [
            "{a|b|c|d}{a|,|b|,|c|,|d}{a|b,c,d}",
            "{a|b|c}{a|b|c|d}{a|b|c}{|a|b}",
            "true unrecognized option name 0",
        ]
    );
}

#[test]
fn time_modules_over_the_host_clock() {
    // Kong's kong/tools/time.lua, kong/tools/timestamp.lua (luatz time-tables) and
    // resty.core.time's monotonic_msec, on a host clock at 1,700,000,000 s
    // (2023-11-14T22:13:20Z).
    let out = logs(
        "local time = require 'kong.tools.time'
         local ts = require 'kong.tools.timestamp'
         local rt = require 'resty.core.time'
         kong.log.info(time.get_now_ms(), ' ', time.get_updated_now(), ' ', rt.monotonic_msec(), ' ', time.time_ns())
         kong.log.info(time.nginx_conf_time_to_seconds('1h 30m'), ' ', time.nginx_conf_time_to_seconds('10s'), ' ', time.nginx_conf_time_to_seconds('2d'), ' ', time.nginx_conf_time_to_seconds('45'), ' ', select(2, pcall(time.nginx_conf_time_to_seconds, 'abc')))
         local s = ts.get_timestamps(1700000000123)
         kong.log.info(s.second, ' ', s.minute, ' ', s.hour, ' ', s.day, ' ', s.month, ' ', s.year)
         local tt = ts.get_timetable(1700000000)
         kong.log.info(tt.year, '-', tt.month, '-', tt.day, ' ', tt.hour, ':', tt.min, ':', tt.sec, ' yday ', tt.yday, ' wday ', tt.wday, ' ', ts.get_utc(), ' ', ts.timestamp_table_fields[6])",
    );
    assert_eq!(
        out,
        [
            "1700000000000 1700000000 1700000000000 1.7e+18",
            "5400 10 172800 45 bad argument #1 'str'",
            "1700000000000 1699999980000 1699999200000 1699920000000 1698796800000 1672531200000",
            "2023-11-14 22:13:20 yday 318 wday 3 1700000000000 year",
        ]
    );
}


/// The 1-based line of the first line of `file` (a module's source as written) that
/// contains `needle`.
fn line_of(file: &str, needle: &str) -> usize {
    file.lines().position(|l| l.contains(needle)).map(|i| i + 1).expect("needle in the source")
}

#[test]
fn errors_raised_in_module_code_name_the_line_of_the_source_as_written() {
    // The modules are embedded stripped of comments and blanks (strip.rs); a user's error
    // message must still point at the line of src/lua/modules/pl_stringx.lua where
    // Penlight's test_affixes raises (error at level 1: "chunk:line: message").
    let written = include_str!("pl_stringx.lua");
    let line = line_of(written, "error((\"argument #2 expected a 'string' or a 'table'");
    let out = logs("local ok, e = pcall(require('pl.stringx').startswith, 'abc', 5) kong.log.info(e)");
    assert_eq!(out, [format!("pl/stringx.lua:{line}: argument #2 expected a 'string' or a 'table', got a 'number'")]);
}

#[test]
fn stripping_keeps_every_line_and_all_code() {
    // Every line break stays (line numbers), comments and blanks go, strings and long
    // strings are kept as they are, and tokens around a one-line long comment stay apart.
    let source = "-- header\nlocal a = 1 -- tail\n  local s = \"--[[not a comment]]\" .. '\\'--'\n--[[ two\nlines ]]local b = [==[\n  kept -- too\n]==]\nreturn a--[[x]]+b\n";
    let stripped = super::strip::strip(source);
    assert_eq!(
        stripped,
        "\nlocal a = 1\nlocal s = \"--[[not a comment]]\" .. '\\'--'\n\nlocal b = [==[\n  kept -- too\n]==]\nreturn a +b\n"
    );
    assert_eq!(WRITTEN.len(), super::packed::FILES.len(), "every module file is packed");
    for (stem, written) in WRITTEN {
        let packed = super::source(stem).unwrap();
        assert!(packed.len() < written.len(), "{stem}.lua");
        assert_eq!(packed.matches('\n').count(), written.matches('\n').count(), "{stem}.lua");
    }
}

/// The module files as written (include_str!: the wasm test runner has no file system).
const WRITTEN: &[(&str, &str)] = &[
    ("kong_constants", include_str!("kong_constants.lua")),
    ("kong_meta", include_str!("kong_meta.lua")),
    ("kong_tools_cjson", include_str!("kong_tools_cjson.lua")),
    ("kong_tools_gzip", include_str!("kong_tools_gzip.lua")),
    ("kong_tools_ip", include_str!("kong_tools_ip.lua")),
    ("kong_tools_mime_type", include_str!("kong_tools_mime_type.lua")),
    ("kong_tools_rand", include_str!("kong_tools_rand.lua")),
    ("kong_tools_string", include_str!("kong_tools_string.lua")),
    ("kong_tools_table", include_str!("kong_tools_table.lua")),
    ("kong_tools_time", include_str!("kong_tools_time.lua")),
    ("kong_tools_timestamp", include_str!("kong_tools_timestamp.lua")),
    ("kong_tools_uri", include_str!("kong_tools_uri.lua")),
    ("kong_tools_uuid", include_str!("kong_tools_uuid.lua")),
    ("ngx_re", include_str!("ngx_re.lua")),
    ("ngx_req", include_str!("ngx_req.lua")),
    ("ngx_resp", include_str!("ngx_resp.lua")),
    ("pl_stringx", include_str!("pl_stringx.lua")),
    ("pl_tablex", include_str!("pl_tablex.lua")),
    ("resty_cookie", include_str!("resty_cookie.lua")),
    ("resty_core", include_str!("resty_core.lua")),
    ("resty_core_shdict", include_str!("resty_core_shdict.lua")),
    ("resty_evp", include_str!("resty_evp.lua")),
    ("resty_hmac", include_str!("resty_hmac.lua")),
    ("resty_core_time", include_str!("resty_core_time.lua")),
    ("resty_http", include_str!("resty_http.lua")),
    ("resty_http_headers", include_str!("resty_http_headers.lua")),
    ("resty_ipmatcher", include_str!("resty_ipmatcher.lua")),
    ("resty_jit_uuid", include_str!("resty_jit_uuid.lua")),
    ("resty_jwt", include_str!("resty_jwt.lua")),
    ("resty_jwt_validators", include_str!("resty_jwt_validators.lua")),
    ("resty_lrucache", include_str!("resty_lrucache.lua")),
    ("resty_openssl", include_str!("resty_openssl.lua")),
    ("resty_openssl_bn", include_str!("resty_openssl_bn.lua")),
    ("resty_openssl_digest", include_str!("resty_openssl_digest.lua")),
    ("resty_openssl_hmac", include_str!("resty_openssl_hmac.lua")),
    ("resty_openssl_pkey", include_str!("resty_openssl_pkey.lua")),
    ("resty_openssl_rand", include_str!("resty_openssl_rand.lua")),
    ("resty_openssl_x509", include_str!("resty_openssl_x509.lua")),
    ("resty_random", include_str!("resty_random.lua")),
    ("resty_xmodem", include_str!("resty_xmodem.lua")),
    ("socket_url", include_str!("socket_url.lua")),
    ("tablepool", include_str!("tablepool.lua")),
    ("version", include_str!("version.lua")),
];

#[test]
fn random_and_uuid_modules() {
    // resty.random (lua-resty-string): bytes(len[, strong]) is a string of len bytes.
    // resty.jit-uuid: v4 UUIDs pass its own is_valid; is_valid wants lowercase hex with
    // the variant 8-b (its ngx_lua regex); v3/v5 of the DNS namespace and "example.com"
    // are RFC 4122's well-known values (Python's uuid.uuid3/uuid5 give the same).
    // kong.tools.uuid: uuid() and is_valid_uuid (Kong's regex, either case).
    // kong.tools.rand: get_rand_bytes(n) and a 32-character random_string without / or +.
    let out = logs(
        "local random = require 'resty.random'
         local a, b = random.bytes(16), random.bytes(16, true)
         kong.log.info(#a, ' ', #b, ' ', a ~= b, ' ', #random.bytes(0))
         local uuid = require 'resty.jit-uuid'
         local u = uuid.generate_v4()
         kong.log.info(uuid.is_valid(u), ' ', u:sub(15, 15), ' ', uuid.is_valid(uuid()), ' ', u ~= uuid())
         kong.log.info(uuid.is_valid('cbb297c0-14a9-46bc-ad91-1d0ef9b42df9'), ' ', uuid.is_valid('cbb297c0-14a9-46bc-cd91-1d0ef9b42df9'), ' ', uuid.is_valid(42))
         kong.log.info(uuid.generate_v3('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'example.com'))
         kong.log.info(uuid.generate_v5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'example.com'))
         kong.log.info(uuid.generate_v5('nope', 'x'))
         kong.log.info(uuid.seed(42))
         local kuuid = require 'kong.tools.uuid'
         kong.log.info(kuuid.is_valid_uuid(kuuid.uuid()), ' ', kuuid.is_valid_uuid('CBB297C0-14A9-46BC-AD91-1D0EF9B42DF9'), ' ', kuuid.is_valid_uuid('x'))
         local rand = require 'kong.tools.rand'
         local s = rand.random_string()
         kong.log.info(#rand.get_rand_bytes(24), ' ', #s, ' ', s:find('[/+]') == nil, ' ', s ~= rand.random_string())",
    );
    assert_eq!(out, [
        "16 16 true 0",
        "true 4 true true",
        "true false false",
        "9073926b-929f-31c2-abc9-fad77ae3e8eb",
        "cfbff0d1-9375-5685-968c-48ce8b15ae17",
        "nilnamespace must be a valid UUID",
        "42",
        "true true false",
        "24 32 true true",
    ]);
}

#[test]
fn gzip_module_round_trips_with_kongs_errors() {
    // kong.tools.gzip: deflate_gzip/inflate_gzip; failures are nil and lua-ffi-zlib's
    // "INFLATE: ..." message (zError(Z_DATA_ERROR) is "data error").
    let out = logs(
        "local gzip = require 'kong.tools.gzip'
         local text = string.rep('kong-functions ', 100)
         local gz = gzip.deflate_gzip(text)
         kong.log.info(gz:byte(1), ' ', gz:byte(2), ' ', #gz < #text, ' ', gzip.inflate_gzip(gz) == text)
         kong.log.info(gzip.inflate_gzip('plain text'))
         kong.log.info(gzip.inflate_gzip(''))",
    );
    assert_eq!(out, ["31 139 true true", "nilINFLATE: data error", "nilINFLATE: Data error, no input bytes"]);
}
