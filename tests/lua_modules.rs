//! The Lua modules of Kong's require allowlists (`src/lua/modules/`) through the shipped
//! `.wasm`, both host profiles, in Kong's default `sandbox` mode with the modules named
//! in `untrusted_lua_sandbox_requires` (kong/tools/sandbox/init.lua: `require` is denied
//! unless listed), as snippets use them. Expectations from each module's source.

mod common;

use common::{chain_with_vm, send, PROFILES};
use serde_json::{json, Value};
use wasm_harness::RequestSpec;

const REQUIRES: [&str; 7] = ["pl.stringx", "kong.tools.string", "kong.tools.uri", "kong.tools.ip", "resty.lrucache", "resty.cookie", "socket.url"];

/// A snippet as gateways write them: a per-instance LRU cache (an upvalue, so it lives
/// across requests), path normalisation, header splitting and client-IP checks.
const CHUNK: &str = r#"
local stringx = require "pl.stringx"
local kstring = require "kong.tools.string"
local uri = require "kong.tools.uri"
local ip = require "kong.tools.ip"
local lrucache = require "resty.lrucache"
local url = require "socket.url"

local cache = lrucache.new(2)

return function()
  local user = kong.request.get_header("x-user") or "anonymous"
  local hits = (cache:get(user) or 0) + 1
  cache:set(user, hits)
  local parts = stringx.split(kong.request.get_header("x-list") or "", ",")
  local cookie = require("resty.cookie"):new()
  return kong.response.exit(200, {
    hits = hits,
    first = stringx.strip(parts[1] or ""),
    count = #parts,
    path = uri.normalize("/a/./b/../c%2Fd%7e", true),
    head = kstring.split_once("k=v=w", "="),
    is_ip = ip.is_valid_ip("10.0.0.1"),
    host = url.parse("https://example.com:8443/x").host,
    session = cookie:get("session"),
  })
end
"#;

#[test]
fn modules_load_in_the_default_sandbox_and_keep_state_per_instance() {
    let vm = json!({ "untrusted_lua_sandbox_requires": REQUIRES });
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [CHUNK] }), vm.clone());
        for hits in 1..=2 {
            let request = RequestSpec::get("/").header("x-user", "ann").header("x-list", " one ,two,three").header("cookie", "session=abc; x=1");
            let out = send(&mut chain, &request);
            assert_eq!(out.status, 200, "{profile:?}: {:?}", out.logs);
            let body: Value = serde_json::from_str(out.body.trim_end()).unwrap_or_else(|e| panic!("{profile:?}: {e}: {}", out.body));
            // resty.lrucache: the cache is the chunk's upvalue, kept across requests.
            assert_eq!(body["hits"], hits, "{profile:?}");
            // pl.stringx.split on a plain ",": pieces unstripped; strip trims them.
            assert_eq!(body["first"], "one", "{profile:?}");
            assert_eq!(body["count"], 3, "{profile:?}");
            // kong.tools.uri.normalize: dot segments removed, %2F kept (reserved), %7e decoded.
            assert_eq!(body["path"], "/a/c%2Fd~", "{profile:?}");
            assert_eq!(body["head"], "k", "{profile:?}");
            assert_eq!(body["is_ip"], true, "{profile:?}");
            assert_eq!(body["host"], "example.com", "{profile:?}");
            assert_eq!(body["session"], "abc", "{profile:?}");
        }
    }
}

#[test]
fn a_module_not_in_the_requires_setting_is_denied() {
    // kong/tools/sandbox/init.lua: "require 'x' not allowed within sandbox"; Kong raises
    // it from its own sandbox code, so its prefix names that file.
    let vm = json!({ "untrusted_lua_sandbox_requires": ["pl.stringx"] });
    let chunk = "local ok, err = pcall(require, 'pl.tablex') return kong.response.exit(200, { ok = ok, err = err })";
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [chunk] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        let body: Value = serde_json::from_str(out.body.trim_end()).unwrap_or_else(|e| panic!("{profile:?}: {e}: {}", out.body));
        assert_eq!(body["ok"], false, "{profile:?}");
        let err = body["err"].as_str().unwrap_or_default();
        assert!(err.ends_with("require 'pl.tablex' not allowed within sandbox"), "{profile:?}: {err}");
    }
}

