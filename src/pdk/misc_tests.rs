//! Lua-level tests of `kong.client`, `kong.ctx`, `kong.log` (inspect, serialize,
//! set_serialize_value), `kong.cache`, `kong.table`, `kong.node`, `kong.router`,
//! `kong.ip` and `kong.version`, through a [`Runtime`] on a [`FakeHost`].

use std::rc::Rc;

use crate::config::{PluginConfig, Role};
use crate::host::Host;
use crate::pdk::testing::FakeHost;
use crate::phase::Phase;
use crate::runtime::{PhaseOutcome, RequestState, Runtime};
use crate::sandbox::Mode;
use crate::vm_config::VmConfig;

fn runtime_as(host: &Rc<FakeHost>, role: Role, config: serde_json::Value) -> Runtime {
    let config = PluginConfig::parse(config.to_string().as_bytes()).unwrap();
    Runtime::new(&config, role, host.clone()).unwrap()
}

fn runtime(host: &Rc<FakeHost>, config: serde_json::Value) -> Runtime {
    runtime_as(host, Role::PreFunction, config)
}

/// Runs `source` once in `phase` and returns the outcome and the log lines.
fn run_in(host: &Rc<FakeHost>, phase: Phase, source: &str) -> (PhaseOutcome, Vec<String>) {
    let mut rt = runtime(host, serde_json::json!({ phase.name(): [source] }));
    let outcome = rt.run_phase(phase, &mut RequestState::default());
    (outcome, host.messages())
}

/// Runs `source` in `phase` and asserts it ran to its end; returns the log lines.
fn lines(host: &Rc<FakeHost>, phase: Phase, source: &str) -> Vec<String> {
    let (outcome, messages) = run_in(host, phase, source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
    messages
}

fn envoy() -> FakeHost {
    FakeHost::default().with_property("plugin_vm_id", "")
}

fn kong() -> FakeHost {
    FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.1")
}

// ---- kong.client ----

#[test]
fn client_addresses_and_ports_come_from_envoy_source() {
    let host = Rc::new(envoy().with_property("source.address", "10.1.2.3:5555"));
    host.properties.borrow_mut().insert("source.port".into(), 5555i64.to_le_bytes().to_vec());
    let out = lines(&host, Phase::Access, "kong.log.info(kong.client.get_ip(), ' ', kong.client.get_forwarded_ip(), ' ', \
        kong.client.get_port() + 1, ' ', kong.client.get_forwarded_port(), ' ', type(kong.client.get_port()))");
    assert_eq!(out, ["[pre-function] 10.1.2.3 10.1.2.3 5556 5555 number"]);
}

#[test]
fn client_on_kong_tells_the_peer_from_the_forwarded_address() {
    let host = Rc::new(
        kong()
            .with_property("ngx.realip_remote_addr", "10.0.0.1")
            .with_property("ngx.remote_addr", "203.0.113.7")
            .with_property("ngx.realip_remote_port", "40000")
            .with_property("ngx.remote_port", "50000"),
    );
    let out = lines(&host, Phase::Rewrite, "kong.log.info(kong.client.get_ip(), ' ', kong.client.get_forwarded_ip(), ' ', \
        kong.client.get_port(), ' ', kong.client.get_forwarded_port())");
    assert_eq!(out, ["[pre-function] 10.0.0.1 203.0.113.7 40000 50000"]);
}

#[test]
fn client_address_missing_is_a_clear_error() {
    let host = Rc::new(envoy());
    let (outcome, out) = run_in(&host, Phase::Access, "local ip = kong.client.get_ip()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(
        out,
        ["[pre-function] access[1]:1: kong.client.get_ip: the host does not provide the client address (source.address)"]
    );
}

#[test]
fn client_protocol_is_derived_and_phase_checked() {
    let host = Rc::new(FakeHost::with_request(&[(":scheme", "https"), ("content-type", "application/grpc+proto")]));
    assert_eq!(lines(&host, Phase::Access, "kong.log.info(kong.client.get_protocol())"), ["[pre-function] grpcs"]);
    let host = Rc::new(FakeHost::with_request(&[(":scheme", "http")]));
    assert_eq!(lines(&host, Phase::Log, "kong.log.info(kong.client.get_protocol())"), ["[pre-function] http"]);
    let host = Rc::new(envoy().with_property("request.scheme", "https"));
    assert_eq!(lines(&host, Phase::HeaderFilter, "kong.log.info(kong.client.get_protocol())"), ["[pre-function] https"]);

    let host = Rc::new(FakeHost::default());
    let (outcome, out) = run_in(&host, Phase::Rewrite, "kong.client.get_protocol()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(
        out,
        ["[pre-function] rewrite[1]:1: function cannot be called in rewrite phase (only in: access, response, header_filter, body_filter, log)"]
    );

    // Kong without a route: Kong's nil, err.
    let host = Rc::new(kong());
    assert_eq!(
        lines(&host, Phase::Access, "local p, err = kong.client.get_protocol() kong.log.info(tostring(p), ' ', err)"),
        ["[pre-function] nil No active route found"]
    );
    let host = Rc::new(kong().with_property("kong.client.protocol", "grpcs"));
    assert_eq!(lines(&host, Phase::Access, "kong.log.info(kong.client.get_protocol())"), ["[pre-function] grpcs"]);
}

// ---- kong.ctx ----

#[test]
fn ctx_shared_lives_for_one_request_across_phases_and_chunks() {
    let host = Rc::new(envoy());
    let config = serde_json::json!({
        "rewrite": ["kong.ctx.shared.user = 'bob'; kong.ctx.shared.list = {1, 2}; kong.ctx.plugin.n = 7"],
        "access": ["kong.ctx.shared.count = (kong.ctx.shared.count or 0) + 1", "kong.ctx.shared.count = kong.ctx.shared.count + 1"],
        "header_filter": ["local s = kong.ctx.shared\nkong.log.info(s.user, ' ', s.count, ' ', #s.list, ' ', kong.ctx.plugin.n, ' ', tostring(kong.ctx.other))"],
    });
    let mut rt = runtime(&host, config);
    for _ in 0..2 {
        // The host's per-stream state (Envoy filter state) ends with the stream.
        host.properties.borrow_mut().retain(|k, _| !k.starts_with("kong_functions.ctx.shared."));
        let mut request = RequestState::default();
        for phase in [Phase::Rewrite, Phase::Access, Phase::HeaderFilter] {
            assert_eq!(rt.run_phase(phase, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
        }
    }
    // The second request starts from empty tables again (count is 2, not 4).
    assert_eq!(host.messages(), ["[pre-function] bob 2 2 7 nil", "[pre-function] bob 2 2 7 nil"]);
}

#[test]
fn ctx_shared_scalars_reach_the_other_role_through_properties() {
    let host = Rc::new(envoy());
    let mut pre = runtime_as(&host, Role::PreFunction, serde_json::json!({
        "access": ["kong.ctx.shared.user = 'bob'; kong.ctx.shared.n = 42; kong.ctx.shared.ok = true; kong.ctx.shared.t = {1}"]
    }));
    let mut post = runtime_as(&host, Role::PostFunction, serde_json::json!({
        "access": ["local s = kong.ctx.shared\nkong.log.info(s.user, ' ', s.n + 1, ' ', tostring(s.ok), ' ', type(s.t))"]
    }));
    pre.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(post.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[post-function] bob 43 true table"]);
    assert_eq!(host.property(&["kong_functions.ctx.shared.user"]).as_deref(), Some(&b"sbob"[..]));

    // nil stays nil; a table crosses as a copy; a function as nil.
    let mut pre = runtime_as(&host, Role::PreFunction, serde_json::json!({
        "access": ["kong.ctx.shared.user = {name = 'ann', ids = {1, 2}}; kong.ctx.shared.n = nil; kong.ctx.shared.f = print"]
    }));
    let mut post = runtime_as(&host, Role::PostFunction, serde_json::json!({
        "access": ["local s = kong.ctx.shared\nkong.log.info(s.user.name, ' ', s.user.ids[2], ' ', tostring(s.n), ' ', tostring(s.f))"]
    }));
    pre.run_phase(Phase::Access, &mut RequestState::default());
    post.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(host.messages().last().map(String::as_str), Some("[post-function] ann 2 nil nil"));
}

#[test]
fn ctx_shared_on_kong_uses_kongs_namespace_as_strings() {
    let host = Rc::new(kong().with_property("kong.ctx.shared.from_kong", "hello"));
    let out = lines(&host, Phase::Access, "kong.ctx.shared.n = 5\nkong.log.info(kong.ctx.shared.from_kong)\n\
        local keys = 0 for _ in pairs(kong.ctx.shared) do keys = keys + 1 end kong.log.info(keys)");
    assert_eq!(out, ["[pre-function] hello", "[pre-function] 1"]);
    // Kong's Lua plugins read the plain value.
    assert_eq!(host.property(&["kong", "ctx", "shared", "n"]).as_deref(), Some(&b"5"[..]));

    // The other role gets the types back, nil included (Kong's own namespace alone would
    // give "5" and "").
    let mut pre = runtime_as(&host, Role::PreFunction, serde_json::json!({ "access": ["kong.ctx.shared.n = 5; kong.ctx.shared.gone = nil; kong.ctx.shared.yes = true"] }));
    let mut post = runtime_as(&host, Role::PostFunction, serde_json::json!({
        "access": ["local s = kong.ctx.shared\nkong.log.info(type(s.n), ' ', tostring(s.gone), ' ', type(s.yes))"]
    }));
    pre.run_phase(Phase::Access, &mut RequestState::default());
    post.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(host.messages().last().map(String::as_str), Some("[post-function] number nil boolean"));
}

#[test]
fn ctx_works_in_strict_mode() {
    let host = Rc::new(FakeHost::default());
    let config = PluginConfig::parse(serde_json::json!({
        "access": ["kong.ctx.shared.a = 1; kong.ctx.plugin.b = 2", "kong.log.info(kong.ctx.shared.a + kong.ctx.plugin.b)"]
    }).to_string().as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: Mode::Strict, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[pre-function] 3"]);
}

// ---- kong.log ----

#[test]
fn inspect_pretty_prints_and_can_be_turned_off() {
    let host = Rc::new(FakeHost::default());
    let out = lines(&host, Phase::Access, "kong.log.inspect({1, 2, a = 'x', ['b c'] = true}, 'hi', nil)\n\
        kong.log.inspect.off()\nkong.log.inspect('hidden')\nkong.log.inspect.on()\nkong.log.inspect(3)");
    // Kong's box (kong/pdk/log.lua): a ruled header, the dump in 120-column `|` lines.
    let trimmed: Vec<&str> = out.iter().map(|l| l.trim_end_matches(|c| c == ' ' || c == '|')).collect();
    assert_eq!(
        trimmed,
        [
            &format!("access[1]:?:1 [pre-function]{}+", "-".repeat(121 - 28)) as &str,
            "|{ 1, 2,",
            "|  a = \"x\",",
            "|  [\"b c\"] = true",
            "|} \"hi\" nil",
            &format!("+{}+", "-".repeat(120)),
            &format!("access[1]:?:5 [pre-function]{}+", "-".repeat(121 - 28)),
            "|3",
            &format!("+{}+", "-".repeat(120)),
        ]
    );
}

#[test]
fn inspect_is_not_callable_in_strict_mode_as_in_kong() {
    // Kong's strict allowlist has kong.log.inspect.on/off only: the table is rebuilt
    // without its __call, so calling it fails there too.
    let host = Rc::new(FakeHost::default());
    let config = PluginConfig::parse(serde_json::json!({ "access": ["kong.log.inspect.off()\nkong.log.inspect({})"] }).to_string().as_bytes()).unwrap();
    let vm = VmConfig { untrusted_lua: Mode::Strict, ..VmConfig::default() };
    let mut rt = Runtime::with_vm_config(&config, Role::PreFunction, host.clone(), &vm).unwrap();
    assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Failed);
}

fn log_host() -> Rc<FakeHost> {
    let host = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/orders?id=7&tag=a&tag=b&flag"),
        (":scheme", "https"),
        (":authority", "api.example.com:8443"),
        ("authorization", "Bearer secret"),
        ("x-request-id", "req-1"),
    ])
    .with_property("plugin_vm_id", "")
    .with_property("source.address", "192.0.2.10:4000")
    .with_property("route_name", "orders")
    .with_property("cluster_name", "orders-backend");
    *host.response.borrow_mut() = vec![(":status".into(), b"201".to_vec()), ("content-type".into(), b"application/json".to_vec())];
    host.now.set(1_700_000_000_250_000_000);
    Rc::new(host)
}

#[test]
fn serialize_summarizes_the_request_in_the_log_phase() {
    let host = log_host();
    let mut request = RequestState { start_time_ms: 1_700_000_000_000, ..RequestState::default() };
    let mut rt = runtime(&host, serde_json::json!({ "log": [r#"
        local s = kong.log.serialize()
        kong.log.info(s.request.method, ' ', s.request.uri, ' ', s.request.url)
        kong.log.info(s.request.id, ' ', s.request.headers.authorization, ' ', s.request.querystring.id, ' ',
          #s.request.querystring.tag, ' ', tostring(s.request.querystring.flag))
        kong.log.info(s.response.status, ' ', s.response.headers['content-type'], ' ', s.client_ip, ' ', s.started_at)
        kong.log.info(s.latencies.request, ' ', s.latencies.proxy, ' ', s.route.name, ' ', s.service.name, ' ', s.source, ' ', s.upstream_uri)
    "#] }));
    assert_eq!(rt.run_phase(Phase::Log, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(
        host.messages(),
        [
            "[pre-function] POST /orders?id=7&tag=a&tag=b&flag https://api.example.com:8443/orders?id=7&tag=a&tag=b&flag",
            "[pre-function] req-1 REDACTED 7 2 true",
            "[pre-function] 201 application/json 192.0.2.10 1700000000000",
            "[pre-function] 250 -1 orders orders-backend service /orders?id=7&tag=a&tag=b&flag",
        ]
    );
}

#[test]
fn serialize_only_in_log_and_applies_set_serialize_value() {
    let host = log_host();
    let (outcome, out) = run_in(&host, Phase::Access, "kong.log.serialize()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert_eq!(out, ["[pre-function] access[1]:1: function cannot be called in access phase (only in: log)"]);

    let host = log_host();
    let mut rt = runtime(&host, serde_json::json!({
        "access": [r#"
            kong.log.set_serialize_value("my.new.value", 4)
            kong.log.set_serialize_value("my\\.dotted", "d")
            kong.log.set_serialize_value("request.method", "PATCH", { mode = "replace" })
            kong.log.set_serialize_value("source", "nope", { mode = "add" })
            kong.log.set_serialize_value("missing.field", 1, { mode = "replace" })
            kong.log.set_serialize_value("client_ip", nil)
            kong.log.set_serialize_value("tbl", { a = { 1, 2 } })
        "#],
        "log": [r#"
            local s = kong.log.serialize()
            kong.log.info(s.my.new.value, ' ', s["my.dotted"], ' ', s.request.method, ' ', s.source, ' ',
              tostring(s.missing), ' ', tostring(s.client_ip), ' ', s.tbl.a[2])
        "#],
    }));
    let mut request = RequestState::default();
    assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(request.serialize_values.len(), 7);
    assert_eq!(rt.run_phase(Phase::Log, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    assert_eq!(host.messages(), ["[pre-function] 4 d PATCH service nil nil 2"]);
}

#[test]
fn set_serialize_value_checks_arguments_as_kong() {
    for (source, expected) in [
        ("kong.log.set_serialize_value(1, 2)", "access[1]:1: key must be a string"),
        ("kong.log.set_serialize_value('k', 2, { mode = 'upsert' })", "access[1]:1: mode must be 'set', 'add' or 'replace'"),
    ] {
        let host = Rc::new(FakeHost::default());
        let (outcome, out) = run_in(&host, Phase::Access, source);
        assert_eq!(outcome, PhaseOutcome::Failed);
        assert_eq!(out, [format!("[pre-function] {expected}")]);
    }
    // Unusable values fail when serialized, as Kong defers the check.
    let host = log_host();
    let (outcome, out) = run_in(&host, Phase::Log, "kong.log.set_serialize_value('f', print)\nkong.log.serialize()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(out[0].ends_with("log[1]:2: value must be nil, a number, string, boolean or a non-self-referencial table containing numbers, string and booleans"), "{out:?}");
    let host = log_host();
    let (outcome, out) = run_in(&host, Phase::Log, "kong.log.set_serialize_value('source.x', 1)\nkong.log.serialize()");
    assert_eq!(outcome, PhaseOutcome::Failed);
    assert!(out[0].ends_with("The key 'source.x' could not be used as a serialize value. Subkey 'source' is not a table. It's service"), "{out:?}");
}

// ---- kong.cache ----

#[test]
fn cache_calls_the_callback_once_and_then_hits() {
    let host = Rc::new(FakeHost::default());
    let source = r#"
        local calls = 0
        return function()
          local v, err, lvl = kong.cache:get("user:1", { ttl = 10 }, function(a, b)
            calls = calls + 1
            return { name = a, n = b }
          end, "bob", 3)
          kong.log.info(v.name, ' ', v.n, ' ', tostring(err), ' ', lvl, ' ', calls)
        end
    "#;
    let mut rt = runtime(&host, serde_json::json!({ "access": [source] }));
    for _ in 0..2 {
        assert_eq!(rt.run_phase(Phase::Access, &mut RequestState::default()), PhaseOutcome::Continue, "{:?}", host.messages());
    }
    // Expired after the TTL: the callback runs again.
    host.now.set(11_000_000_000);
    rt.run_phase(Phase::Access, &mut RequestState::default());
    assert_eq!(
        host.messages(),
        ["[pre-function] bob 3 nil 3 1", "[pre-function] bob 3 nil 2 1", "[pre-function] bob 3 nil 3 2"]
    );
}

#[test]
fn cache_caches_nil_and_reports_callback_errors_as_mlcache() {
    let host = Rc::new(FakeHost::default());
    let out = lines(&host, Phase::Access, r#"
        local n = 0
        local function miss() n = n + 1 return nil end
        local v, err, lvl = kong.cache:get("absent", nil, miss)
        local v2, err2, lvl2 = kong.cache:get("absent", nil, miss)
        kong.log.info(tostring(v), ' ', lvl, ' ', tostring(v2), ' ', lvl2, ' ', n)
        kong.log.info(select('#', kong.cache:get("none")), ' ', select(3, kong.cache:get("none")))
        local v3, err3 = kong.cache:get("boom", nil, function() error("db down") end)
        kong.log.info(tostring(v3), ' ', err3)
        local v4, err4 = kong.cache:get("soft", nil, function() return nil, "not found" end)
        kong.log.info(tostring(v4), ' ', err4)
        local v5, err5 = kong.cache:get("fn", nil, function() return print end)
        kong.log.info(tostring(v5), ' ', err5)
        local v6, _, lvl6 = kong.cache:get("skip", nil, function() return "x", nil, -1 end)
        local v7, _, lvl7 = kong.cache:get("skip", nil, function() return "y" end)
        kong.log.info(v6, lvl6, v7, lvl7)
    "#);
    assert_eq!(
        out,
        [
            "[pre-function] nil 3 nil 2 1",
            "[pre-function] 3 -1",
            "[pre-function] nil failed to get from node cache: callback threw an error: access[1]:8: db down",
            "[pre-function] nil failed to get from node cache: not found",
            "[pre-function] nil failed to get from node cache: cannot cache value of type function",
            "[pre-function] x3y3",
        ]
    );
}

#[test]
fn cache_checks_arguments_as_mlcache() {
    for (source, expected) in [
        ("kong.cache:get(1)", "key must be a string"),
        ("kong.cache:get('k', nil, 'cb')", "callback must be nil or a function"),
        ("kong.cache:get('k', 5)", "opts must be a table"),
        ("kong.cache:get('k', { ttl = 'x' })", "opts.ttl must be a number"),
        ("kong.cache:get('k', { neg_ttl = -1 })", "opts.neg_ttl must be >= 0"),
    ] {
        let host = Rc::new(FakeHost::default());
        let (outcome, out) = run_in(&host, Phase::Access, source);
        assert_eq!(outcome, PhaseOutcome::Failed, "{source}");
        assert_eq!(out, [format!("[pre-function] access[1]:1: {expected}")]);
    }
}

// ---- kong.table, kong.node, kong.router, kong.ip, kong.version ----

#[test]
fn table_new_clear_merge() {
    let host = Rc::new(FakeHost::default());
    let out = lines(&host, Phase::Access, r#"
        local t = kong.table.new(4, 4)
        t[1] = 'a'; t.x = 1
        kong.table.clear(t)
        local m = kong.table.merge({ a = 1, b = 2 }, { b = 3, c = 4 })
        kong.log.info(next(t) == nil, ' ', m.a, m.b, m.c, ' ', next(kong.table.merge()) == nil, ' ', kong.table.merge(nil, {5})[1])
        local ok, err = pcall(kong.table.merge, "x")
        kong.log.info(err)
    "#);
    assert_eq!(out, ["[pre-function] true 134 true 5", "[pre-function] bad argument #1 to 'pairs' (table expected, got string)"]);
}

#[test]
fn node_id_is_stable_per_vm_and_hostname_from_the_host() {
    let host = Rc::new(FakeHost::default());
    let first = lines(&host, Phase::Access, "kong.log.info(kong.node.get_id(), ' ', kong.node.get_hostname() == '')");
    let second = lines(&host, Phase::Log, "kong.log.info(kong.node.get_id())");
    let id = first[0].strip_prefix("[pre-function] ").unwrap().split(' ').next().unwrap().to_string();
    assert_eq!(id.len(), 36, "{id}");
    assert!(first[0].ends_with(" true"));
    assert_eq!(second.last().unwrap(), &format!("[pre-function] {id}"));

    let host = Rc::new(kong().with_property("kong.node.id", "0b7d9f3e-0000-4000-8000-000000000001").with_property("ngx.hostname", "gw-1"));
    assert_eq!(
        lines(&host, Phase::Access, "kong.log.info(kong.node.get_id(), ' ', kong.node.get_hostname())"),
        ["[pre-function] 0b7d9f3e-0000-4000-8000-000000000001 gw-1"]
    );
}

#[test]
fn router_entities_per_host() {
    let host = Rc::new(envoy().with_property("route_name", "r1"));
    assert_eq!(
        lines(&host, Phase::Access, "kong.log.info(kong.router.get_route().name, ' ', tostring(kong.router.get_service()))"),
        ["[pre-function] r1 nil"]
    );
    let host = Rc::new(kong().with_property("kong.router.service", r#"{"name":"svc","port":8080,"protocol":"http"}"#));
    assert_eq!(
        lines(&host, Phase::Log, "local s = kong.router.get_service() kong.log.info(s.name, ' ', s.port + 1, ' ', tostring(kong.router.get_route()))"),
        ["[pre-function] svc 8081 nil"]
    );
    let host = Rc::new(FakeHost::default());
    let (outcome, _) = run_in(&host, Phase::Rewrite, "kong.router.get_route()");
    assert_eq!(outcome, PhaseOutcome::Failed);
}

#[test]
fn ip_is_trusted_follows_kongs_trusted_ips() {
    let host = Rc::new(envoy());
    assert_eq!(lines(&host, Phase::Access, "kong.log.info(kong.ip.is_trusted('10.0.0.1'))"), ["[pre-function] false"]);
    let host = Rc::new(kong().with_property("kong.configuration.trusted_ips", r#"["10.0.0.0/8","2001:db8::/32"]"#));
    assert_eq!(
        lines(&host, Phase::Access, "kong.log.info(kong.ip.is_trusted('10.9.9.9'), kong.ip.is_trusted('11.0.0.1'), \
            kong.ip.is_trusted('2001:db8::5'), kong.ip.is_trusted('nope'), kong.ip.is_trusted(nil))"),
        ["[pre-function] truefalsetruefalsefalse"]
    );
}

#[test]
fn version_from_kong_or_the_pdk_we_follow() {
    let host = Rc::new(kong());
    assert_eq!(lines(&host, Phase::Access, "kong.log.info(kong.version, ' ', kong.version_num)"), ["[pre-function] 3.9.1 3009001"]);
    let host = Rc::new(envoy());
    assert_eq!(
        lines(&host, Phase::Access, "kong.log.info(kong.version, ' ', kong.version_num >= 3010000)"),
        [format!("[pre-function] {} true", crate::pdk::kong::node::KONG_VERSION)]
    );
}

#[test]
fn ngx_var_time_status_and_upstream_variables_on_envoy() {
    // nginx's variables (ngx_http_variables.c, ngx_http_upstream.c): $msec and
    // $request_time "%T.%03M"; $status "000" before a response; the upstream ones from
    // when the request went upstream and when its headers came, $upstream_addr from
    // Envoy's upstream.address, $upstream_connect_time unknown there (nil).
    let host = Rc::new(
        envoy()
            .with_property("request.time", "1700000000.250")
            .with_property("upstream.address", "10.0.0.7:8080"),
    );
    host.now.set(1_700_000_001_500 * 1_000_000);
    let config = serde_json::json!({
        "access": ["kong.log.info(ngx.var.msec, ' ', ngx.var.request_time, ' ', ngx.var.status, ' ', tostring(ngx.var.upstream_addr))"],
        "log": ["local v = ngx.var kong.log.info(v.upstream_addr, ' ', v.upstream_status, ' ', v.upstream_header_time, ' ', v.upstream_response_time, ' ', tostring(v.upstream_connect_time))"],
    });
    let mut rt = runtime(&host, config);
    let mut request = RequestState::default();
    assert_eq!(rt.run_phase(Phase::Access, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    request.access_ended_ms = Some(1_700_000_001_500);
    request.response_started_ms = Some(1_700_000_001_620);
    request.upstream_status = Some(201);
    host.now.set(1_700_000_001_700 * 1_000_000);
    assert_eq!(rt.run_phase(Phase::Log, &mut request), PhaseOutcome::Continue, "{:?}", host.messages());
    let out: Vec<String> = host.messages().iter().map(|m| m.trim_start_matches("[pre-function] ").to_string()).collect();
    assert_eq!(out, ["1700000001.500 1.250 000 nil", "10.0.0.7:8080 201 0.120 0.200 nil"]);
}
