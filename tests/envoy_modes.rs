//! The module on each Envoy the harness models (`wasm_harness::EnvoyMode`: 1.31, 1.35
//! without `allow_on_headers_stop_iteration`, 1.35+ with it; `shared/design/envoy-host.md`)
//! and on Kong's engine: body-reading phases that never hang, request headers in every
//! phase, `kong.ctx.shared` across roles, and the budgets no chunk can outrun.
//! Expected results are Kong's (`kong/pdk/request.lua`, `kong/pdk/ctx.lua`), within what
//! each host allows.

mod common;

use common::{harness, module_path, send};

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, EnvoyMode, FilterSpec, HostProfile, Outcome, RequestSpec};

/// A chain of `roles` (name, plugin config) on Envoy `mode`; the VM configuration says
/// `envoy_allow_on_headers_stop_iteration` exactly when the mode's plugins set the flag,
/// as `envoy/envoy.yaml` does.
fn on_envoy(mode: EnvoyMode, roles: &[(&str, Value)]) -> Chain {
    let vm_config = json!({"envoy_allow_on_headers_stop_iteration": mode.allow_on_headers_stop_iteration});
    chain(HostProfile::Envoy, mode, roles, vm_config)
}

fn chain(profile: HostProfile, envoy: EnvoyMode, roles: &[(&str, Value)], vm_config: Value) -> Chain {
    let filters = roles.iter().map(|(name, config)| FilterSpec { name: (*name).into(), module: module_path(), config: config.clone(), root_id: None }).collect();
    harness().chain(&ChainSpec { filters, vm_config, profile, envoy, ..ChainSpec::default() }).expect("chain")
}

fn post(body: &str) -> RequestSpec {
    RequestSpec { method: Some("POST".into()), body: Some(body.into()), ..RequestSpec::get("/") }
    .header("content-type", "application/json")
}

const BODY_TO_HEADER: &str = r#"
local body = kong.request.get_body()
if not body or not body.tenant then
  return kong.response.exit(400, { message = "tenant missing" })
end
kong.service.request.set_header("x-tenant", body.tenant)
"#;

#[test]
fn a_body_reading_access_never_hangs_on_any_envoy() {
    for mode in EnvoyMode::ALL {
        let mut chain = on_envoy(mode, &[("pre-function", json!({"access": [BODY_TO_HEADER]}))]);
        // `send` fails the test on a stream Envoy would end at its idle timeout.
        let outcome = send(&mut chain, &post(r#"{"tenant":"acme"}"#));
        assert_eq!(outcome.status, 200, "{mode:?}: {:?}", outcome.messages());
        let upstream = outcome.upstream.expect("upstream");
        assert_eq!(upstream.body, r#"{"tenant":"acme"}"#, "{mode:?}");
        let exited = send(&mut chain, &post(r#"{"other":1}"#));
        assert_eq!((exited.status, exited.body.as_str()), (400, r#"{"message":"tenant missing"}"#), "{mode:?}: the body was read");
        assert!(exited.upstream.is_none(), "{mode:?}");
    }
}

#[test]
fn header_changes_made_on_the_body_reach_the_upstream_only_where_envoy_holds_headers() {
    let mut held = on_envoy(EnvoyMode::V1_35_HOLD, &[("pre-function", json!({"access": [BODY_TO_HEADER]}))]);
    let outcome = send(&mut held, &post(r#"{"tenant":"acme"}"#));
    assert_eq!(outcome.upstream.as_ref().expect("upstream").header("x-tenant"), Some("acme"), "as on Kong");
    assert!(!outcome.messages().iter().any(|m| m.contains("allow_on_headers_stop_iteration")));

    for mode in [EnvoyMode::V1_31, EnvoyMode::V1_35] {
        let mut chain = on_envoy(mode, &[("pre-function", json!({"access": [BODY_TO_HEADER]}))]);
        let outcome = send(&mut chain, &post(r#"{"tenant":"acme"}"#));
        assert_eq!(outcome.upstream.expect("upstream").header("x-tenant"), None, "{mode:?}: the headers went first");
    }
}

#[test]
fn request_headers_stay_readable_in_every_later_phase() {
    // Kong: kong.request.get_header reads ngx.req.get_headers() in any phase.
    let read = |phase: &str| format!("kong.log.notice(\"{phase} sees \", kong.request.get_header(\"x-user\"))");
    let config = json!({
        "header_filter": [read("header_filter")],
        "body_filter": [read("body_filter")],
        "log": [read("log")],
    });
    for mode in EnvoyMode::ALL {
        let mut chain = on_envoy(mode, &[("post-function", config.clone())]);
        let outcome = send(&mut chain, &RequestSpec::get("/").header("x-user", "alice"));
        for phase in ["header_filter", "body_filter", "log"] {
            let line = format!("[post-function] {phase} sees alice");
            assert!(outcome.messages().iter().any(|m| *m == line), "{mode:?} {phase}: {:?}", outcome.messages());
        }
    }
}

#[test]
fn response_headers_stay_readable_in_body_filter() {
    let config = json!({"body_filter": ["kong.log.notice(\"type \", kong.response.get_header(\"content-type\"))"]});
    for mode in EnvoyMode::ALL {
        let mut chain = on_envoy(mode, &[("post-function", config.clone())]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        let line = outcome.messages().iter().find(|m| m.starts_with("[post-function] type ")).map(|m| m.to_string());
        let expected = format!("[post-function] type {}", outcome.header("content-type").expect("the echo upstream's content-type"));
        assert_eq!(line, Some(expected), "{mode:?}");
    }
}

#[test]
fn ctx_shared_crosses_from_pre_to_post_function_on_every_host() {
    // Kong's spec "ctx.shared from pre to post": a value set in pre-function's access is
    // read in post-function's header_filter and log.
    let roles = [
        ("pre-function", json!({"access": ["kong.ctx.shared.user = 'bob'; kong.ctx.shared.n = 3"]})),
        ("post-function", json!({
            "header_filter": ["kong.response.set_header('x-user', tostring(kong.ctx.shared.user) .. ':' .. tostring(kong.ctx.shared.n))"],
        })),
    ];
    let mut chains: Vec<(String, Chain)> =
        EnvoyMode::ALL.iter().map(|m| (format!("{m:?}"), on_envoy(*m, &roles))).collect();
    chains.push(("kong".into(), chain(HostProfile::Kong, EnvoyMode::default(), &roles, Value::Null)));
    // nginx + ngx_wasm_module without Kong Gateway: no kong.* properties there.
    let filters = roles.iter().map(|(name, config)| FilterSpec { name: (*name).into(), module: module_path(), config: config.clone(), root_id: None }).collect();
    let spec = ChainSpec { filters, profile: HostProfile::Kong, plain_nginx: true, ..ChainSpec::default() };
    chains.push(("plain nginx".into(), harness().chain(&spec).expect("chain")));
    for (name, mut chain) in chains {
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.header("x-user"), Some("bob:3"), "{name}: {:?}", outcome.messages());
    }
}

fn budget_chain(profile: HostProfile, chunk: &str, limits: Value) -> Chain {
    chain(profile, EnvoyMode::default(), &[("pre-function", json!({"access": [chunk]}))], json!({"limits": limits}))
}

fn assert_failed_with(outcome: &Outcome, message: &str) {
    assert_eq!(outcome.status, 500, "{:?}", outcome.messages());
    let lines = outcome.messages().iter().filter(|m| m.contains(message)).count();
    assert_eq!(lines, 1, "one log line naming the limit: {:?}", outcome.messages());
}

#[test]
fn a_hundred_thousand_new_headers_end_at_the_header_name_limit() {
    // Kong's engine scans the header list on every write: 100,000 writes held its only
    // worker for about 30 s (kong-engine.md, "Measured again 2026-12-07").
    let chunk = "for i = 1, 100000 do kong.service.request.set_header('x-h-' .. i, 'v') end";
    for profile in [HostProfile::Envoy, HostProfile::Kong] {
        let mut chain = budget_chain(profile, chunk, json!({}));
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_failed_with(&outcome, "header name limit exceeded (1000 per request)");
        assert!(outcome.upstream.is_none());
        let next = send(&mut chain, &RequestSpec::get("/").header("x-ok", "1"));
        assert_eq!(next.status, 500, "the same chunk fails the next request the same way, and the VM serves it");
    }
}

#[test]
fn headers_under_the_limit_all_reach_the_upstream() {
    let chunk = "for i = 1, 1000 do kong.service.request.set_header('x-h-' .. i, 'v') end";
    let mut chain = budget_chain(HostProfile::Envoy, chunk, json!({}));
    let outcome = send(&mut chain, &RequestSpec::get("/"));
    assert_eq!(outcome.status, 200, "{:?}", outcome.messages());
    assert_eq!(outcome.upstream.expect("upstream").header("x-h-1000"), Some("v"));
}

#[test]
fn a_phase_past_its_wall_clock_budget_fails_the_request_not_the_vm() {
    // Host-call time is invisible to the instruction limit; the clock is not.
    let chunk = "local n = 0 for i = 1, 10000000 do n = n + #kong.request.get_path() end";
    let mut chain = budget_chain(HostProfile::Envoy, chunk, json!({"phase_time_ms": 1, "instructions": 1000000000}));
    let outcome = send(&mut chain, &RequestSpec::get("/"));
    assert_failed_with(&outcome, "time limit exceeded (1 ms per phase)");
    let mut fine = budget_chain(HostProfile::Envoy, "kong.service.request.set_header('x-a', 'b')", json!({"phase_time_ms": 1}));
    assert_eq!(send(&mut fine, &RequestSpec::get("/")).status, 200, "a normal chunk stays far below the budget");
}

#[test]
fn a_regex_past_the_phase_budget_stops_between_start_positions() {
    // Each start position costs about the rest of the subject in PCRE2 steps (`a*`
    // backtracks, then `X` fails), far under the match limit per position, so PCRE2's own
    // limits never end it: about 2e8 steps in all, seconds of one C call. The start
    // callout asks the phase clock (src/pdk/ngx/pcre.rs), so the match itself answers
    // with the budget's error, and the phase then fails as any phase past its time.
    let chunk = "local s = string.rep('a', 20000) .. '!'
                 local from, to, err = ngx.re.find(s, [[a*a*X!]])
                 kong.log.err('re.find: ', tostring(from), ' ', tostring(err))";
    for profile in [HostProfile::Envoy, HostProfile::Kong] {
        let mut chain = budget_chain(profile, chunk, json!({"phase_time_ms": 100}));
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 500, "{profile:?}: {:?}", outcome.messages());
        let messages = outcome.messages();
        assert!(
            messages.iter().any(|m| m.ends_with("re.find: nil time limit exceeded (100 ms per phase)")),
            "{profile:?}: the match itself stopped: {messages:?}"
        );
        let next = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(next.status, 500, "{profile:?}: the VM serves the next request");
    }
}

#[test]
fn a_body_of_another_length_is_refused_where_the_headers_went_first() {
    // The upstream already has the client's Content-Length on 1.31 / 1.35 without the
    // flag: a longer body would be cut, a shorter one would hang it.
    let config = json!({"access": ["kong.service.request.set_raw_body(kong.request.get_raw_body() .. '-more')"]});
    let mut held = on_envoy(EnvoyMode::V1_35_HOLD, &[("pre-function", config.clone())]);
    let outcome = send(&mut held, &post("abc"));
    let upstream = outcome.upstream.expect("upstream");
    assert_eq!((upstream.body.as_str(), upstream.header("content-length")), ("abc-more", Some("8")));
    for mode in [EnvoyMode::V1_31, EnvoyMode::V1_35] {
        let mut chain = on_envoy(mode, &[("pre-function", config.clone())]);
        let outcome = send(&mut chain, &post("abc"));
        assert_eq!(outcome.status, 500, "{mode:?}");
        assert!(outcome.messages().iter().any(|m| m.contains("cannot send a request body of 8 bytes in place of 3")), "{:?}", outcome.messages());
    }
}
