//! `ngx.re` (match, find, gmatch, sub, gsub, and `ngx.re.split`) through the shipped
//! `.wasm`, against OpenResty: `tests/ngx_re/cases.lua` runs here as a pre-function chunk
//! and in OpenResty's engine (`tests/ngx_re/openresty.sh`: Debian 12's nginx 1.22.1 with
//! lua-nginx-module 0.10.23 and lua-resty-core 0.1.25, over PCRE 8.39), whose output is
//! checked in as `tests/ngx_re/openresty.txt`.
//!
//! Kong's OpenResty runs lua-nginx-module over PCRE2, Debian's over PCRE1: where the two
//! libraries answer differently (error codes and compile messages),
//! `tests/ngx_re/pcre2.txt` gives the line Kong's build prints, from PCRE2's sources
//! (10.46, `pcre2.h` error codes and `pcre2_error.c` messages, as pcre2-sys vendors them)
//! and lua-nginx-module's PCRE2 message format (`ngx_http_lua_regex.c`:
//! `pcre2_compile() failed: %s in "%V" at "%s"`). The library's unit tests run the same
//! cases (`src/lua/modules/tests.rs`, natively and compiled to wasm32-wasip1).

mod common;

use common::{chain_with_vm, send, PROFILES};
use serde_json::json;
use wasm_harness::RequestSpec;

include!("ngx_re/expected.rs");

#[test]
fn ngx_re_answers_as_openresty() {
    let cases = include_str!("ngx_re/cases.lua");
    let chunk = format!(
        "local out = {{}}\nlocal function run(...)\n{cases}\nend\n\
         run(function(line) out[#out + 1] = line end)\n\
         return kong.response.exit(200, table.concat(out, \"\\n\") .. \"\\n\")\n"
    );
    let expected = ngx_re_expected();
    let vm = json!({ "untrusted_lua_sandbox_requires": ["ngx.re"] });
    for profile in PROFILES {
        let mut chain = chain_with_vm("pre-function", profile, json!({ "access": [chunk.clone()] }), vm.clone());
        let out = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(out.status, 200, "{profile:?}: {:?}", out.logs);
        let got: Vec<&str> = out.body.lines().collect();
        let mismatches: Vec<String> = expected
            .iter()
            .zip(got.iter().chain(std::iter::repeat(&"<missing>")))
            .filter(|(e, g)| e.as_str() != **g)
            .map(|(e, g)| format!("  expected {e}\n       got {g}"))
            .collect();
        assert!(mismatches.is_empty() && got.len() == expected.len(), "{profile:?}: {} of {} lines differ ({} got):\n{}", mismatches.len(), expected.len(), got.len(), mismatches.join("\n"));
    }
}
