//! `cjson` and `cjson.safe` through the shipped `.wasm`, both host profiles, as a Kong
//! snippet uses them: in Kong's default `sandbox` mode `require` needs the modules in
//! `untrusted_lua_sandbox_requires` (kong/tools/sandbox/init.lua); encode and decode
//! follow OpenResty's lua-cjson (`cjson.null` is `ngx.null`, sorted-key-free objects,
//! `cjson.safe` answering `nil, err`).

mod common;

use common::{chain_with_vm, send, PROFILES};
use serde_json::{json, Value};
use wasm_harness::RequestSpec;

const CHUNK: &str = r#"
local cjson = require "cjson"
local safe = require "cjson.safe"
local decoded = cjson.decode('{"user":"ann","tags":["a","b"],"none":null}')
local bad, err = safe.decode("{oops")
return kong.response.exit(200, cjson.encode({
  user = decoded.user,
  second_tag = decoded.tags[2],
  none_is_ngx_null = decoded.none == ngx.null,
  bad = bad == nil,
  err = err,
  empty = cjson.empty_array,
}))
"#;

#[test]
fn snippets_decode_and_encode_json_with_cjson() {
    let vm = json!({ "untrusted_lua_sandbox_requires": ["cjson", "cjson.safe"] });
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [CHUNK] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(out.status, 200, "{profile:?}: {:?}", out.logs);
        let body: Value = serde_json::from_str(out.body.trim_end()).unwrap_or_else(|e| panic!("{profile:?}: {e}: {}", out.body));
        assert_eq!(body["user"], "ann", "{profile:?}");
        assert_eq!(body["second_tag"], "b", "{profile:?}");
        assert_eq!(body["none_is_ngx_null"], true, "{profile:?}");
        assert_eq!(body["bad"], true, "{profile:?}");
        // lua-cjson's wording for an unquoted key (lua_cjson.c json_throw_parse_error).
        assert_eq!(body["err"], "Expected object key string but found invalid token at character 2", "{profile:?}");
        assert_eq!(body["empty"], json!([]), "{profile:?}");
    }
}
