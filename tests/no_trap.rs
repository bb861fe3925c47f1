//! Nothing a chunk can call traps the instance: every function of `kong.*` and `ngx.*`
//! is called (under `pcall`, with no, string and odd arguments) in every phase, in both
//! roles and under both host profiles, and the same instance then serves a plain request.
//!
//! A trap aborts the module instance, and with it every request the host runs on it
//! (the developers' guide: "a panic or trap inside the filter kills every request in the
//! host"). The harness answers host calls with the statuses real hosts give (a header map
//! outside its callback, an unknown property ...), so a wrapper that panics on one fails.

mod common;

use common::{chain_with_vm, send, PROFILES, ROLES};
use serde_json::json;
use wasm_harness::RequestSpec;

/// Calls every function reachable from `kong` and `ngx` (depth 4), except those that end
/// the request on purpose (they yield out of `pcall` by design and are tested elsewhere),
/// `ngx.sleep` (it holds the request for the time asked) and `kong.log.set_format` (it
/// reformats the count line), then logs how many it called.
const WALK: &str = r#"
if not kong.request.get_header("x-walk") then return end
local ends_request = {
  ["kong.response.exit"] = true, ["kong.response.error"] = true, ["ngx.exit"] = true,
  ["ngx.redirect"] = true, ["ngx.say"] = true, ["ngx.print"] = true, ["ngx.eof"] = true,
  -- waits for real in rewrite/access (a second per walk call): tests/callouts.rs
  ["ngx.sleep"] = true,
  -- sets the format of every later line of this logger, as Kong's does (the walk's own
  -- count line among them): src/pdk/log_new_tests.rs
  ["kong.log.set_format"] = true,
}
local seen, count = {}, 0
local function walk(t, prefix, depth)
  if depth > 4 or seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    local name = prefix .. "." .. tostring(k)
    if type(v) == "function" and not ends_request[name] then
      pcall(v)
      pcall(v, "x-walk-arg", "value")
      pcall(v, 1, {}, true)
      count = count + 1
    elseif type(v) == "table" then
      walk(v, name, depth + 1)
    end
  end
end
walk(kong, "kong", 0)
walk(ngx, "ngx", 0)
kong.log.notice("walked ", ngx.get_phase(), " ", count)
"#;

const PHASES: [&str; 5] = ["rewrite", "access", "header_filter", "body_filter", "log"];

#[test]
fn every_pdk_function_in_every_phase_leaves_the_instance_serving() {
    let config: serde_json::Map<String, serde_json::Value> =
        PHASES.iter().map(|p| (p.to_string(), json!([WALK]))).collect();
    for role in ROLES {
        for profile in PROFILES {
            let name = format!("{role} under {profile:?}");
            // `on`: every function is reachable, nothing hidden by the sandbox.
            let vm = json!({"untrusted_lua": "on"});
            let mut chain = chain_with_vm(role, profile, serde_json::Value::Object(config.clone()), vm);
            let walked = send(&mut chain, &RequestSpec::get("/walk?a=1").header("x-walk", "1"));
            for phase in PHASES {
                let line = walked
                    .messages()
                    .into_iter()
                    .find(|m| m.contains(&format!("walked {phase} ")))
                    .unwrap_or_else(|| panic!("{name}: no walk in {phase}: {:?}", walked.messages()))
                    .to_owned();
                let count: usize = line.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                // The module has over 140 kong.*/ngx.* functions (docs/pdk.md, PDK coverage).
                assert!(count >= 140, "{name}: only {count} functions called in {phase}");
            }
            // Nothing the host had to complain about (Kong's engine logs a refused call as
            // `[wasm] ...`, and a trap as one too).
            let host_errors: Vec<_> = walked.logs.iter().filter(|l| l.message.starts_with("[wasm]")).collect();
            assert!(host_errors.is_empty(), "{name}: {host_errors:?}");
            let plain = send(&mut chain, &RequestSpec::get("/plain"));
            assert_eq!(plain.status, 200, "{name}: the instance no longer serves: {:?}", plain.messages());
            assert!(plain.upstream.is_some(), "{name}: the plain request did not reach the upstream");
        }
    }
}

/// Tables that grow after keys were removed, or whose array part grows while the hash
/// part is full: piccolo 0.3.3 panicked on both (vendor/piccolo/PATCHES.md), which in the
/// module is a trap. Lua allows both (reference manual §2.1: nil removes a field).
#[test]
fn growing_tables_after_removing_keys_leaves_the_instance_serving() {
    let chunk = r#"
local t = {} t.a = 1 t.b = 2 t.c = 3 t.d = 4 t.a = nil
for i = 1, 20 do t["k" .. i] = i end
local total = 0
for n = 1, 200 do
  local u = {}
  for i = n, 1, -1 do u[i] = i u["s" .. i] = i end
  u.extra = true
  for _ in pairs(u) do total = total + 1 end
end
kong.response.set_header("x-total", total)
kong.response.set_header("x-k20", t.k20)
"#;
    for role in ROLES {
        for profile in PROFILES {
            let mut chain = common::chain(role, profile, json!({ "access": [chunk] }));
            for round in 0..3 {
                let out = send(&mut chain, &RequestSpec::get("/grow"));
                let name = format!("{role} under {profile:?}, request {round}");
                assert_eq!(out.status, 200, "{name}: {:?}", out.messages());
                // 2n + 1 keys per table, n = 1..200: 40,400 in all.
                assert_eq!(out.header("x-total"), Some("40400"), "{name}");
                assert_eq!(out.header("x-k20"), Some("20"), "{name}");
            }
        }
    }
}
