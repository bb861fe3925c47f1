//! Outbound calls from chunks (`require "resty.http"`) through the real
//! `kong_functions.wasm`, in both host profiles, against HTTP services on 127.0.0.1.
//!
//! Expected results come from lua-resty-http 0.17.2 (`lib/resty/http.lua`: `request_uri`
//! returns `res` with `status`, `headers` (case-insensitive, `resty.http_headers`),
//! `body`, or `nil, err`), lua-nginx-module (cosocket errors `timeout`, `connection
//! refused`; `ngx.socket.tcp()` outside rewrite/access/content/timer raises
//! `API disabled in the context of <context>`), and the limits documented in
//! `src/vm_config.rs`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{send, PROFILES};
use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, FilterSpec, HostProfile, RequestSpec};

/// A loopback HTTP/1.1 service, one thread per connection, answering by path:
/// - `/echo`: 200, `X-Answer: 42`, `Set-Cookie` twice, the request line and headers
///   as the body (`METHOD PATH` then `name: value` lines);
/// - `/status/N`: status N, body `status N`;
/// - `/slow`: answers after 3 s;
/// - `/big/N`: N bytes of `x`;
/// - `/introspect`: RFC 7662 token introspection: `{"active":true,"sub":"alice"}` for
///   `token=good` in the form body, else `{"active":false}`.
fn service() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn));
        }
    });
    port
}

fn serve(mut conn: TcpStream) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (status, extra, answer): (u16, &str, Vec<u8>) = if path.starts_with("/echo") {
        let mut text = format!("{method} {path}\n");
        for (n, v) in &headers {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&body));
        (200, "X-Answer: 42\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n", text.into_bytes())
    } else if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        (code, "", format!("status {code}").into_bytes())
    } else if path == "/slow" {
        std::thread::sleep(Duration::from_secs(3));
        (200, "", b"late".to_vec())
    } else if let Some(n) = path.strip_prefix("/big/") {
        (200, "", vec![b'x'; n.parse().unwrap_or(0)])
    } else if path == "/introspect" {
        let active = String::from_utf8_lossy(&body).contains("token=good");
        let json = if active { r#"{"active":true,"sub":"alice"}"# } else { r#"{"active":false}"# };
        (200, "Content-Type: application/json\r\n", json.as_bytes().to_vec())
    } else {
        (404, "", b"not found".to_vec())
    };
    let response = format!("HTTP/1.1 {status} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n", answer.len());
    let _ = conn.write_all(response.as_bytes());
    let _ = conn.write_all(&answer);
}

/// A port nobody listens on.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A pre-function chain allowed to `require "resty.http"` (Kong's
/// `untrusted_lua_sandbox_requires`), with extra VM configuration and call targets.
fn chain(profile: HostProfile, config: Value, vm_extra: Value, targets: &[(&str, String)]) -> Chain {
    let mut vm = json!({ "untrusted_lua_sandbox_requires": ["resty.http", "cjson.safe"] });
    if let Value::Object(extra) = vm_extra {
        for (k, v) in extra {
            vm[k] = v;
        }
    }
    let spec = ChainSpec {
        filters: vec![FilterSpec { name: "pre-function".into(), module: common::module_path(), config, root_id: None }],
        vm_config: vm,
        profile,
        call_targets: targets.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        ..ChainSpec::default()
    };
    common::harness().chain(&spec).unwrap_or_else(|e| panic!("{profile:?}: {e:#}"))
}

fn access(code: &str) -> Value {
    json!({ "access": [code] })
}

#[test]
fn request_uri_returns_status_headers_and_body() {
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local http = require "resty.http"
            local httpc = http.new()
            local res, err = httpc:request_uri("http://127.0.0.1:{port}/echo?x=1", {{ headers = {{ ["X-Token"] = "t1" }} }})
            if not res then return kong.response.exit(502, err) end
            local cookies = res.headers["set-cookie"]
            kong.response.set_header("x-status", res.status)
            kong.response.set_header("x-answer", res.headers["x-answer"] .. "/" .. res.headers["X-ANSWER"])
            kong.response.set_header("x-cookies", type(cookies) == "table" and table.concat(cookies, ",") or tostring(cookies))
            kong.response.set_header("x-reason", res.reason)
            kong.response.set_header("x-has-body", tostring(res.has_body))
            return kong.response.exit(200, res.body)"#
        );
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: {} {:?}", outcome.body, outcome.messages());
        assert_eq!(outcome.header("x-status"), Some("200"));
        assert_eq!(outcome.header("x-answer"), Some("42/42"));
        assert_eq!(outcome.header("x-cookies"), Some("a=1,b=2"));
        assert_eq!(outcome.header("x-reason"), Some("OK"));
        assert_eq!(outcome.header("x-has-body"), Some("true"));
        assert!(outcome.body.starts_with("GET /echo?x=1\n"), "{profile:?}: {}", outcome.body);
        assert!(outcome.body.contains("x-token: t1\n"), "{}", outcome.body);
        assert!(outcome.body.contains(&format!("host: 127.0.0.1:{port}\n")), "{}", outcome.body);
        assert!(outcome.body.contains("user-agent: lua-resty-http/0.17.2"), "{}", outcome.body);
    }
}

#[test]
fn a_request_continues_upstream_after_a_call() {
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local httpc = require("resty.http").new()
            local res = assert(httpc:request_uri("http://127.0.0.1:{port}/status/204"))
            kong.service.request.set_header("x-looked-up", res.status)"#
        );
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/api"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        let upstream = outcome.upstream.expect("the request went upstream");
        assert_eq!(upstream.header("x-looked-up"), Some("204"), "{profile:?}");
    }
}

#[test]
fn token_introspection_denies_or_passes() {
    // The common published shape: POST the bearer token to an RFC 7662 endpoint, 401
    // unless it is active, pass the subject upstream.
    let port = service();
    let code = format!(
        r#"local http = require "resty.http"
        local cjson = require "cjson.safe"
        local token = (kong.request.get_header("authorization") or ""):match("^Bearer%s+(.+)$")
        if not token then return kong.response.exit(401, {{ message = "missing token" }}) end
        local httpc = http.new()
        httpc:set_timeout(2000)
        local res, err = httpc:request_uri("http://auth.internal:8080/introspect", {{
          method = "POST",
          body = "token=" .. token,
          headers = {{ ["Content-Type"] = "application/x-www-form-urlencoded" }},
        }})
        if not res then return kong.response.exit(502, {{ message = err }}) end
        local data = cjson.decode(res.body)
        if not data or not data.active then return kong.response.exit(401, {{ message = "invalid token" }}) end
        kong.service.request.set_header("x-user", data.sub)"#
    );
    for profile in PROFILES {
        // Envoy: the authority maps to a cluster name (VM configuration `upstreams`),
        // and the chain maps that cluster to the service; Kong's engine is given the
        // authority itself, which the chain maps as a resolver would.
        let (vm, target_name) = match profile {
            HostProfile::Envoy => (json!({ "upstreams": { "auth.internal:8080": "auth_cluster" } }), "auth_cluster"),
            HostProfile::Kong => (Value::Null, "auth.internal:8080"),
        };
        let mut chain = chain(profile, access(&code), vm, &[(target_name, format!("127.0.0.1:{port}"))]);
        let good = send(&mut chain, &RequestSpec::get("/").header("authorization", "Bearer good"));
        assert_eq!(good.status, 200, "{profile:?}: {} {:?}", good.body, good.messages());
        assert_eq!(good.upstream.expect("proxied").header("x-user"), Some("alice"));
        let bad = send(&mut chain, &RequestSpec::get("/").header("authorization", "Bearer bad"));
        assert_eq!(bad.status, 401, "{profile:?}: {}", bad.body);
        assert!(bad.body.contains("invalid token"), "{}", bad.body);
        assert!(bad.upstream.is_none());
    }
}

#[test]
fn several_calls_in_one_chunk_and_in_rewrite_then_access_run_in_order() {
    let port = service();
    for profile in PROFILES {
        let call = |tag: &str| {
            format!(
                r#"local httpc = require("resty.http").new()
                local a = assert(httpc:request_uri("http://127.0.0.1:{port}/status/201"))
                local b = assert(httpc:request_uri("http://127.0.0.1:{port}/status/202"))
                kong.ctx.shared.seen = (kong.ctx.shared.seen or "") .. "{tag}:" .. a.status .. "," .. b.status .. ";""#
            )
        };
        let config = json!({
            "rewrite": [call("rewrite")],
            "access": [call("access1"), call("access2"), "kong.response.set_header('x-seen', kong.ctx.shared.seen)"],
        });
        let mut chain = chain(profile, config, Value::Null, &[]);
        for _ in 0..2 {
            let outcome = send(&mut chain, &RequestSpec::get("/"));
            assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
            assert_eq!(outcome.header("x-seen"), Some("rewrite:201,202;access1:201,202;access2:201,202;"), "{profile:?}");
        }
    }
}

#[test]
fn failures_are_lua_resty_http_errors() {
    let port = service();
    let dead = dead_port();
    for profile in PROFILES {
        let code = format!(
            r#"local http = require "resty.http"
            local httpc = http.new()
            httpc:set_timeout(300)
            local _, slow = httpc:request_uri("http://127.0.0.1:{port}/slow")
            local _, refused = http.new():request_uri("http://127.0.0.1:{dead}/")
            local _, bad = http.new():request_uri("not a url")
            kong.response.set_header("x-errors", table.concat({{ slow, refused, bad }}, "|"))"#
        );
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        assert_eq!(outcome.header("x-errors"), Some("timeout|connection refused|bad uri: not a url"), "{profile:?}");
    }
}

#[test]
fn an_unknown_host_is_a_resolver_error() {
    // Envoy: a cluster nobody configured is BadArgument at call time; Kong's engine:
    // `:dispatch_status: resolver failure`. Both read as nginx's resolver error.
    for profile in PROFILES {
        let code = r#"local res, err = require("resty.http").new():request_uri("http://nowhere.invalid/")
            kong.response.set_header("x-err", err)"#;
        let mut chain = chain(profile, access(code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.header("x-err"), Some(r#"no resolver defined to resolve "nowhere.invalid""#), "{profile:?}: {:?}", outcome.messages());
    }
}

#[test]
fn limits_bound_response_size_and_calls_per_request() {
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local http = require "resty.http"
            local _, big = http.new():request_uri("http://127.0.0.1:{port}/big/5000")
            local ok = assert(http.new():request_uri("http://127.0.0.1:{port}/big/100"))
            local _, third = http.new():request_uri("http://127.0.0.1:{port}/status/200")
            kong.response.set_header("x-big", big)
            kong.response.set_header("x-ok", #ok.body)
            kong.response.set_header("x-third", third)"#
        );
        let vm = json!({ "limits": { "call_response_bytes": 1000, "calls_per_request": 2 } });
        let mut chain = chain(profile, access(&code), vm, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        assert_eq!(outcome.header("x-big"), Some("response body too large (5000 bytes, limit 1000)"), "{profile:?}");
        assert_eq!(outcome.header("x-ok"), Some("100"));
        assert_eq!(outcome.header("x-third"), Some("too many outbound calls in this request (limit 2)"));
    }
}

#[test]
fn calls_outside_rewrite_and_access_are_disabled() {
    // lua-nginx-module: ngx.socket.tcp() (which http.new() calls) raises
    // "API disabled in the context of header_filter_by_lua*" there.
    for profile in PROFILES {
        let config = json!({
            "header_filter": ["local ok, err = pcall(require('resty.http').new); kong.response.set_header('x-err', err)"],
        });
        let mut chain = chain(profile, config, Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.header("x-err"), Some("API disabled in the context of header_filter_by_lua*"), "{profile:?}: {:?}", outcome.messages());
    }
}

#[test]
fn an_error_after_a_call_fails_the_request_with_500() {
    let port = service();
    for profile in PROFILES {
        let code = format!(r#"local res = require("resty.http").new():request_uri("http://127.0.0.1:{port}/status/200"); error("boom " .. res.status)"#);
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 500, "{profile:?}");
        assert!(outcome.messages().iter().any(|m| m.contains("boom 200")), "{:?}", outcome.messages());
    }
}

#[test]
fn connect_request_read_body_and_body_reader() {
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local httpc = require("resty.http").new()
            assert(httpc:connect("127.0.0.1", {port}))
            local res = assert(httpc:request({{ path = "/big/10", headers = {{ Host = "svc.local" }} }}))
            local parts = {{}}
            repeat
              local chunk = res.body_reader(4)
              if chunk then parts[#parts + 1] = #chunk end
            until not chunk
            assert(httpc:set_keepalive())
            local again = assert(httpc:connect({{ host = "127.0.0.1", port = {port} }}))
            local res2 = assert(httpc:request({{ method = "POST", path = "/echo", body = "payload" }}))
            local body = res2:read_body()
            httpc:close()
            kong.response.set_header("x-chunks", table.concat(parts, ","))
            kong.response.set_header("x-post", body:match("^[^\n]*") .. "|" .. body:match("payload$"))
            local parsed = httpc:parse_uri("https://example.com/a/b?c=d")
            kong.response.set_header("x-parsed", table.concat({{ parsed[1], parsed[2], parsed[3], parsed[4] }}, " "))"#
        );
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        assert_eq!(outcome.header("x-chunks"), Some("4,4,2"));
        assert_eq!(outcome.header("x-post"), Some("POST /echo|payload"));
        // lua-resty-http's parse_uri keeps the query in the path by default.
        assert_eq!(outcome.header("x-parsed"), Some("https example.com 443 /a/b?c=d"));
    }
}

#[test]
fn ngx_sleep_holds_the_request_then_goes_on() {
    // lua-nginx-module: ngx.sleep(seconds) yields the request's coroutine for at least
    // that long (a timer wakes it); here a tick of the plugin instance does.
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local t0 = ngx.now()
            ngx.sleep(0.05)
            -- ngx.now() has millisecond resolution, as nginx's cached time.
            local slept = ngx.now() - t0
            local res = assert(require("resty.http").new():request_uri("http://127.0.0.1:{port}/status/203"))
            kong.service.request.set_header("x-slept", slept >= 0.049 and "yes" or ("no: " .. slept))
            kong.service.request.set_header("x-after", res.status)"#
        );
        let mut chain = chain(profile, json!({ "rewrite": ["ngx.sleep(0.02)"], "access": [code] }), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        if !common::behaviour(profile).resumes_streams_from_ticks {
            // Kong's engine: a tick cannot act on a stream, so the sleep cannot end.
            assert_eq!(outcome.status, 500, "{profile:?}");
            assert!(outcome.messages().iter().any(|m| m.contains("ngx.sleep cannot wait on this host")), "{:?}", outcome.messages());
            continue;
        }
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        let upstream = outcome.upstream.expect("proxied after the sleep");
        assert_eq!(upstream.header("x-slept"), Some("yes"), "{profile:?}");
        assert_eq!(upstream.header("x-after"), Some("203"), "{profile:?}: a call made after a tick woke the chunk");
    }
}

#[test]
fn ngx_sleep_outside_rewrite_and_access_is_disabled() {
    for profile in PROFILES {
        let config = json!({ "header_filter": ["local ok, err = pcall(ngx.sleep, 1); kong.response.set_header('x-err', err)"] });
        let mut chain = chain(profile, config, Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.header("x-err"), Some("API disabled in the context of header_filter_by_lua*"), "{profile:?}");
    }
}

#[test]
fn a_timer_from_log_calls_out_after_the_response() {
    // The usual "after the response" idiom: ngx.timer.at(0, ...) in log, the callback
    // posting with resty.http (lua-nginx-module: timers run later in their own context,
    // where cosockets are allowed; the callback gets premature = false, then the extra
    // arguments).
    let port = service();
    for profile in PROFILES {
        let log = format!(
            r#"local ok, err = ngx.timer.at(0, function(premature, url, tag)
                local res, err = require("resty.http").new():request_uri(url, {{ method = "POST", body = tag }})
                kong.log.notice("timer ", tostring(premature), " ", ngx.get_phase(), " ", res and res.status or err, " ",
                  ngx.timer.running_count())
              end, "http://127.0.0.1:{port}/status/202", "log-line")
            kong.log.notice("queued ", tostring(ok), " ", tostring(err), " pending ", ngx.timer.pending_count())"#
        );
        let mut chain = chain(profile, json!({ "log": [log] }), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        assert_eq!(outcome.status, 200, "{profile:?}");
        assert!(outcome.messages().iter().any(|m| m.ends_with("queued 1 nil pending 1")), "{profile:?}: {:?}", outcome.messages());
        assert!(!outcome.messages().iter().any(|m| m.contains("timer ")), "the callback runs after the response");
        chain.take_logs();
        assert!(chain.tick().unwrap() > 0, "the instance ticks");
        let logs: Vec<String> = chain.take_logs().into_iter().map(|l| l.message).collect();
        assert!(logs.iter().any(|m| m.ends_with("timer false timer 202 1")), "{profile:?}: {logs:?}");
    }
}

#[test]
fn timer_every_repeats_and_bad_arguments_are_lua_nginx_module_errors() {
    for profile in PROFILES {
        let log = r#"
            kong.ctx.shared.x = 1
            local ok = ngx.timer.every(0.001, function() kong.log.notice("tick") end)
            local _, e1 = pcall(ngx.timer.at, -1, function() end)
            local _, e2 = pcall(ngx.timer.every, 0, function() end)
            local _, e3 = pcall(ngx.timer.at, 0, "nope")
            kong.log.notice(ok, "|", e1, "|", e2, "|", e3)"#;
        let mut chain = chain(profile, json!({ "log": [log] }), Value::Null, &[]);
        let outcome = send(&mut chain, &RequestSpec::get("/"));
        let line = outcome.messages().iter().find(|m| m.contains('|')).map(|m| m.to_string()).unwrap_or_default();
        // Called through pcall there is no calling Lua line to name (lua-nginx-module's
        // luaL_error names none either).
        assert!(line.ends_with("1|invalid delay|delay cannot be zero|bad argument #2 to 'at' (function expected, got string)"), "{profile:?}: {line}");
        chain.take_logs();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(5));
            chain.tick().unwrap();
        }
        let ticks = chain.take_logs().into_iter().filter(|l| l.message.ends_with("tick")).count();
        assert_eq!(ticks, 3, "{profile:?}");
    }
}

#[test]
fn a_chunk_reading_the_request_body_calls_out_with_it() {
    // The phases then run on the whole body (Envoy: on its last body callback; Kong's
    // engine: its single body callback), and the call's pause and resume happen there.
    let port = service();
    for profile in PROFILES {
        let code = format!(
            r#"local body = kong.request.get_raw_body()
            local res = assert(require("resty.http").new():request_uri("http://127.0.0.1:{port}/echo", {{ method = "POST", body = body }}))
            kong.response.set_header("x-echoed", res.body:match("[^\n]*$"))"#
        );
        let mut chain = chain(profile, access(&code), Value::Null, &[]);
        let request = RequestSpec { body: Some("ping-body".into()), ..RequestSpec::get("/").header("content-length", "9") };
        let outcome = send(&mut chain, &request);
        assert_eq!(outcome.status, 200, "{profile:?}: {:?}", outcome.messages());
        // A response header: on an Envoy that sent the request headers ahead of the body
        // (no `allow_on_headers_stop_iteration`), request header writes are refused then.
        assert_eq!(outcome.header("x-echoed"), Some("ping-body"), "{profile:?}");
        assert_eq!(outcome.upstream.expect("proxied").body, "ping-body", "{profile:?}");
    }
}

#[test]
fn https_on_kongs_engine_is_a_tls_handshake_the_harness_cannot_make() {
    // ngx_wasm_module makes a TLS connection for `:scheme: https`
    // (ngx_http_proxy_wasm_dispatch.c); the harness's services are plain, so the
    // handshake fails (`:dispatch_status: tls handshake failure`), which lua-nginx-module's
    // sslhandshake reports as "handshake failed". On Envoy TLS is the cluster's business.
    let port = service();
    let code = format!(r#"local _, err = require("resty.http").new():request_uri("https://127.0.0.1:{port}/status/200") kong.response.set_header("x-err", err)"#);
    let mut chain = chain(HostProfile::Kong, access(&code), Value::Null, &[]);
    let outcome = send(&mut chain, &RequestSpec::get("/"));
    assert_eq!(outcome.header("x-err"), Some("handshake failed"), "{:?}", outcome.messages());
}
