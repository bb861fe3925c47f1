//! `ngx.*` utilities and `ngx.re` through the real `kong_functions.wasm` (wasmtime harness).
//!
//! Build the module first (`make build`); `KONG_FUNCTIONS_WASM` overrides its path.

mod common;

use common::{harness, module_path};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, Outcome, RequestSpec};

fn chain(config: Value) -> Chain {
    let filters = vec![FilterSpec { name: "pre-function".into(), module: module_path(), config, root_id: None }];
    harness().chain(&common::shipped(ChainSpec { filters, vm_config: Value::Null, ..ChainSpec::default() })).unwrap()
}

fn send(chain: &mut Chain, request: RequestSpec) -> Outcome {
    chain.run(&request).unwrap_or_else(|e| panic!("filter trapped: {e:#}"))
}

#[test]
fn regex_and_digests_work_inside_the_module() {
    let source = r#"
        local m = ngx.re.match(kong.request.get_path(), [[^/users/(?<id>\d+)]], "jo")
        kong.response.set_header("X-User", m and m.id or "none")
        kong.response.set_header("X-Md5", ngx.md5("hello"))
        kong.response.set_header("X-B64", ngx.encode_base64(ngx.sha1_bin("hello")))
        kong.response.set_header("X-Gsub", (ngx.re.gsub("a1b22", "[0-9]+", function(m) return "<" .. m[0] .. ">" end)))
        kong.response.set_header("X-Date", ngx.http_time(0))
        local _, err = ngx.re.match("x", "(x")
        kong.response.set_header("X-Err", err)
        local m = ngx.re.match("price: $42 $42", [[(?<=\$)(\d+) \$\1]])
        kong.response.set_header("X-Pcre", m and m[1] or "none")
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/users/42/profile"));
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.header("x-user"), Some("42"));
    assert_eq!(outcome.header("x-md5"), Some("5d41402abc4b2a76b9719d911017c592"));
    assert_eq!(outcome.header("x-b64"), Some("qvTGHdzF6KLavt4PO0gs2a6pQ00="));
    assert_eq!(outcome.header("x-gsub"), Some("a<1>b<22>"));
    assert_eq!(outcome.header("x-date"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
    // lua-nginx-module's message over PCRE2 (ngx_http_lua_regex.c, pcre2_error.c).
    assert_eq!(outcome.header("x-err"), Some("pcre2_compile() failed: missing closing parenthesis in \"(x\""));
    // Look-behind and a backreference: PCRE syntax.
    assert_eq!(outcome.header("x-pcre"), Some("42"));

    let other = send(&mut chain, RequestSpec::get("/health"));
    assert_eq!(other.header("x-user"), Some("none"));
}

#[test]
fn clock_functions_agree_inside_the_module() {
    let source = r#"
        local now, t = ngx.now(), ngx.time()
        kong.response.set_header("X-Clock-Ok", tostring(math.abs(now - t) < 2 and t > 1600000000))
        kong.response.set_header("X-Parsed-Ok", tostring(ngx.parse_http_time(ngx.http_time(t)) == t))
    "#;
    let mut chain = chain(json!({ "access": [source] }));
    let outcome = send(&mut chain, RequestSpec::get("/"));
    assert_eq!(outcome.header("x-clock-ok"), Some("true"));
    assert_eq!(outcome.header("x-parsed-ok"), Some("true"));
}
