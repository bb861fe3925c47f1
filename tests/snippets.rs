//! The snippet corpus (`tests/snippets/*.snippet`): real pre-function/post-function
//! snippets from public sources (Kong's docs and spec tests, public kong.yml/decK files,
//! KongPlugin manifests, issues and forum answers), run through the real
//! `kong_functions.wasm` under both host profiles (`envoy`, `kong`).
//!
//! Each file is a header of `# key: value` lines, then sections opened by `--- NAME`:
//!
//! - `# source:` where the snippet was published (URL, or repo + path + commit);
//!   `# expect_from:` where the expected behaviour comes from (the source's own
//!   assertions or description, Kong's docs or PDK source), never from running our code;
//!   `# adapted:` what was changed from the published text (`none` when nothing).
//! - `# role:` `pre-function` (default), `post-function`, or `both` (the snippet runs
//!   once as each, as Kong's own serverless spec does); `# mode:` the node's
//!   `untrusted_lua` (default `sandbox`, Kong's default).
//! - `# known_difference: PROFILES: reason` and `# fails_with: PROFILES: text`: where our
//!   filter differs from Kong. `PROFILES` is `all`, `envoy` or `kong`. Under those
//!   profiles the snippet must fail, and its mismatch report must contain `text`: a known
//!   difference that starts passing, or fails differently, fails the test.
//!   `# sandbox_requires:` the node's `untrusted_lua_sandbox_requires` (comma-separated).
//!   `# shared_dicts:` the VM configuration's `shared_dicts` (a JSON object, as the
//!   `lua_shared_dict` lines the source's nginx configuration declares).
//! - `--- PHASE` (`rewrite`, `access`, `header_filter`, `body_filter`, `log`,
//!   `certificate`, `functions`), or `--- ROLE PHASE` for a chain with both plugins
//!   (pre-function first): one Lua chunk, verbatim; repeated sections append chunks in
//!   order.
//! - `--- config` (instead of phases): the plugin's `config` object as JSON, verbatim.
//! - `--- properties`: host properties as a JSON object (`kong.configuration.*` ...).
//! - `--- request` then `--- expect`, any number of pairs, run in order on the same
//!   filter instances. The request is the harness's request JSON (`method`, `path`,
//!   `headers`, `body`, `upstream`) plus an optional `repeat` count and an optional
//!   `ticks` count (after the request, the chain's ticking filters tick that many times,
//!   20 ms apart, the "later" in which `ngx.timer` callbacks run; their log lines join
//!   the request's for `logs`/`logs_absent`); a body without
//!   `content-length`/`transfer-encoding` gets a `content-length`, as a real client sends. The expectation:
//!   `status`; `body` (compared with trailing whitespace trimmed on both sides: Kong's
//!   engine adds `\n` to local bodies), `body_contains`, `body_json` (a subset match);
//!   `body_json_exact`; `headers` (`{name: value}`, `null` meaning absent, `true` present
//!   with any value), `headers_any` (at least one of these name/value pairs); `upstream`
//!   (`null`: never reached; or `{method, path, headers, headers_any, body, ...}`); `logs`
//!   (substrings that must each appear in some log line) and `logs_absent`.
//! - `--- services`: services the snippet calls out to (`resty.http`), scripted on
//!   loopback: a JSON object from the upstream name the filter dispatches to (the URL's
//!   `host:port`) to a list of routes `{"method", "path", "query", "body_contains",
//!   "request_headers", "status", "headers", "body", "delay_ms"}` (the first route whose
//!   `method`, `path` (without the query), `query` (the raw query string), `body_contains`
//!   and `request_headers` (`{name: value}` the call must carry, names in any case)
//!   match answers; none: 404). Each name gets a server on
//!   127.0.0.1 for the run, and the chain's `call_targets` maps the name to it.
//! - `--- expect_configure_error` (no requests): the configuration is rejected and the
//!   error contains this text.
//!
//! `SNIPPETS_ONLY=substring` runs only matching files. The test prints a table of every
//! snippet's result per profile.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use wasm_harness::{ChainSpec, FilterSpec, HostProfile, Outcome, RequestSpec};

const PHASES: [&str; 7] = ["certificate", "rewrite", "access", "header_filter", "body_filter", "log", "functions"];

struct Snippet {
    name: String,
    meta: BTreeMap<String, String>,
    /// role -> config object
    configs: Vec<(String, Value)>,
    properties: BTreeMap<String, String>,
    requests: Vec<(Value, Value)>,
    configure_error: Option<String>,
    /// profile name -> (reason, fails_with)
    known: BTreeMap<String, (String, String)>,
    /// upstream name -> routes (`--- services`)
    services: Map<String, Value>,
}

fn profile_name(p: HostProfile) -> &'static str {
    match p {
        HostProfile::Envoy => "envoy",
        HostProfile::Kong => "kong",
    }
}

fn split_profiles<'a>(name: &str, line: &'a str) -> (Vec<String>, &'a str) {
    let (profiles, rest) = line.split_once(": ").unwrap_or_else(|| panic!("{name}: expected `PROFILES: text` in {line:?}"));
    let profiles: Vec<String> = match profiles.trim() {
        "all" => vec!["envoy".into(), "kong".into()],
        list => list.split(',').map(|p| p.trim().to_string()).collect(),
    };
    for p in &profiles {
        assert!(p == "envoy" || p == "kong", "{name}: unknown profile {p:?}");
    }
    (profiles, rest.trim())
}

fn parse(path: &Path) -> Snippet {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut meta = BTreeMap::new();
    let mut reasons = Vec::new();
    let mut fails = Vec::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("--- ") {
            sections.push((header.trim().to_string(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
        } else if let Some(kv) = line.strip_prefix("# ") {
            let (key, value) = kv.split_once(':').unwrap_or_else(|| panic!("{name}: bad header line {line:?}"));
            let value = value.trim().to_string();
            match key.trim() {
                "known_difference" => reasons.push(value),
                "fails_with" => fails.push(value),
                key => {
                    meta.entry(key.to_string())
                        .and_modify(|v: &mut String| {
                            v.push(' ');
                            v.push_str(&value)
                        })
                        .or_insert(value);
                }
            }
        } else {
            assert!(line.trim().is_empty() || line.starts_with('#'), "{name}: stray line before the sections: {line:?}");
        }
    }
    for key in ["source", "expect_from", "adapted"] {
        assert!(meta.contains_key(key), "{name}: `# {key}:` is required");
    }
    let mut known = BTreeMap::new();
    for line in &reasons {
        let (profiles, reason) = split_profiles(&name, line);
        for p in profiles {
            known.insert(p, (reason.to_string(), String::new()));
        }
    }
    for line in &fails {
        let (profiles, text) = split_profiles(&name, line);
        for p in profiles {
            let entry = known.get_mut(&p).unwrap_or_else(|| panic!("{name}: fails_with for {p} without a known_difference"));
            entry.1 = text.to_string();
        }
    }
    for (p, (_, text)) in &known {
        assert!(!text.is_empty(), "{name}: known_difference for {p} needs a `# fails_with: {p}: ...` line");
    }

    let default_role = match meta.get("role").map(String::as_str) {
        None | Some("both") => "pre-function".to_string(),
        Some(role) => {
            assert!(common::ROLES.contains(&role), "{name}: unknown role {role:?}");
            role.to_string()
        }
    };
    let mut configs: Vec<(String, Value)> = Vec::new();
    let mut properties = BTreeMap::new();
    let mut requests = Vec::new();
    let mut pending_request: Option<Value> = None;
    let mut configure_error = None;
    let mut services = Map::new();
    let json_of = |what: &str, body: &str| -> Value {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: --- {what}: invalid JSON: {e}"))
    };
    for (header, body) in &sections {
        let words: Vec<&str> = header.split_whitespace().collect();
        let (role, phase) = match words.as_slice() {
            [role, phase] if role.ends_with("-function") => (role.to_string(), phase.to_string()),
            [one] => (default_role.clone(), one.to_string()),
            _ => panic!("{name}: bad section header {header:?}"),
        };
        let config_of = |configs: &mut Vec<(String, Value)>, role: &str| -> usize {
            if let Some(i) = configs.iter().position(|(r, _)| r == role) {
                i
            } else {
                configs.push((role.to_string(), json!({})));
                configs.len() - 1
            }
        };
        match phase.as_str() {
            p if PHASES.contains(&p) => {
                let i = config_of(&mut configs, &role);
                let chunk = body.strip_suffix('\n').unwrap_or(body).to_string();
                let object = configs[i].1.as_object_mut().unwrap();
                object.entry(p).or_insert_with(|| json!([])).as_array_mut().unwrap().push(Value::String(chunk));
            }
            "config" => {
                let i = config_of(&mut configs, &role);
                configs[i].1 = json_of("config", body);
            }
            "properties" => {
                for (k, v) in json_of("properties", body).as_object().unwrap() {
                    properties.insert(k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
                }
            }
            "request" => {
                assert!(pending_request.is_none(), "{name}: two requests without an expect");
                pending_request = Some(json_of("request", body));
            }
            "expect" => {
                let request = pending_request.take().unwrap_or_else(|| panic!("{name}: expect without a request"));
                requests.push((request, json_of("expect", body)));
            }
            "expect_configure_error" => configure_error = Some(body.trim().to_string()),
            "services" => services = json_of("services", body).as_object().cloned().unwrap_or_default(),
            other => panic!("{name}: unknown section {other:?}"),
        }
    }
    assert!(pending_request.is_none(), "{name}: a request without an expect");
    assert!(!configs.is_empty(), "{name}: no chunks");
    assert!(configure_error.is_some() != !requests.is_empty(), "{name}: either requests or expect_configure_error");
    // Pre-function first in the chain.
    configs.sort_by_key(|(role, _)| role != "pre-function");
    Snippet { name, meta, configs, properties, requests, configure_error, known, services }
}

/// `expected` is a subset of `actual`.
fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| subset(x, y)),
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        _ => expected == actual,
    }
}

fn check_body(what: &str, body: &str, expect: &Map<String, Value>, problems: &mut Vec<String>) {
    if let Some(want) = expect.get("body") {
        let want = want.as_str().expect("body is a string");
        if body.trim_end() != want.trim_end() {
            problems.push(format!("{what}body: expected {want:?}, got {body:?}"));
        }
    }
    if let Some(parts) = expect.get("body_contains") {
        for part in parts.as_array().expect("body_contains is an array") {
            let part = part.as_str().unwrap();
            if !body.contains(part) {
                problems.push(format!("{what}body: expected to contain {part:?}, got {body:?}"));
            }
        }
    }
    if let Some(want) = expect.get("body_json_exact") {
        match serde_json::from_str::<Value>(body) {
            Ok(got) if *want == got => {}
            Ok(got) => problems.push(format!("{what}body_json_exact: expected {want}, got {got}")),
            Err(e) => problems.push(format!("{what}body_json_exact: not JSON ({e}): {body:?}")),
        }
    }
    if let Some(want) = expect.get("body_json") {
        match serde_json::from_str::<Value>(body) {
            Ok(got) if subset(want, &got) => {}
            Ok(got) => problems.push(format!("{what}body_json: expected {want} within {got}")),
            Err(e) => problems.push(format!("{what}body_json: not JSON ({e}): {body:?}")),
        }
    }
}

fn check_headers(what: &str, headers: &[(String, String)], expect: &Map<String, Value>, problems: &mut Vec<String>) {
    if let Some(any) = expect.get("headers_any") {
        let any = any.as_object().expect("headers_any is an object");
        let found = any.iter().any(|(name, value)| {
            let name = name.to_ascii_lowercase();
            headers.iter().any(|(n, v)| *n == name && value.as_str() == Some(v.as_str()))
        });
        if !found {
            problems.push(format!("{what}headers: expected one of {}, got {headers:?}", Value::Object(any.clone())));
        }
    }
    let Some(want) = expect.get("headers") else { return };
    for (name, value) in want.as_object().expect("headers is an object") {
        let name = name.to_ascii_lowercase();
        let got = headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        match (value, got) {
            (Value::Null, None) => {}
            (Value::Null, Some(v)) => problems.push(format!("{what}header {name}: expected absent, got {v:?}")),
            (Value::String(w), Some(v)) if w == v => {}
            (Value::Bool(true), Some(_)) => {}
            (w, g) => problems.push(format!("{what}header {name}: expected {w}, got {g:?}")),
        }
    }
}

fn check(outcome: &Outcome, expect: &Value) -> Vec<String> {
    let expect = expect.as_object().expect("expect is an object");
    let known =
        ["status", "body", "body_contains", "body_json", "body_json_exact", "headers", "headers_any", "upstream", "logs", "logs_absent"];
    for key in expect.keys() {
        assert!(known.contains(&key.as_str()), "unknown expect key {key:?}");
    }
    let mut problems = Vec::new();
    if let Some(status) = expect.get("status") {
        if status.as_u64() != Some(outcome.status as u64) {
            problems.push(format!("status: expected {status}, got {}", outcome.status));
        }
    }
    check_body("", &outcome.body, expect, &mut problems);
    check_headers("", &outcome.headers, expect, &mut problems);
    match (expect.get("upstream"), &outcome.upstream) {
        (None, _) => {}
        (Some(Value::Null), None) => {}
        (Some(Value::Null), Some(up)) => problems.push(format!("upstream: expected not reached, got {} {}", up.method, up.path)),
        (Some(_), None) => problems.push("upstream: expected reached, but it was not".to_string()),
        (Some(want), Some(up)) => {
            let want = want.as_object().expect("upstream is an object or null");
            if let Some(m) = want.get("method").and_then(Value::as_str) {
                if m != up.method {
                    problems.push(format!("upstream method: expected {m}, got {}", up.method));
                }
            }
            if let Some(p) = want.get("path").and_then(Value::as_str) {
                if p != up.path {
                    problems.push(format!("upstream path: expected {p:?}, got {:?}", up.path));
                }
            }
            check_headers("upstream ", &up.headers, want, &mut problems);
            check_body("upstream ", &up.body, want, &mut problems);
        }
    }
    let messages = outcome.messages();
    if let Some(lines) = expect.get("logs") {
        for line in lines.as_array().expect("logs is an array") {
            let line = line.as_str().unwrap();
            if !messages.iter().any(|m| m.contains(line)) {
                problems.push(format!("log: expected a line with {line:?}, got {messages:?}"));
            }
        }
    }
    if let Some(lines) = expect.get("logs_absent") {
        for line in lines.as_array().expect("logs_absent is an array") {
            let line = line.as_str().unwrap();
            if let Some(m) = messages.iter().find(|m| m.contains(line)) {
                problems.push(format!("log: expected no line with {line:?}, got {m:?}"));
            }
        }
    }
    problems
}

/// Runs `snippet` under `profile` in each of its roles; the mismatches with Kong's behaviour.
fn run(snippet: &Snippet, profile: HostProfile) -> Vec<String> {
    if snippet.meta.get("role").map(String::as_str) != Some("both") {
        return run_as(snippet, profile, None);
    }
    let mut problems = Vec::new();
    for role in common::ROLES {
        problems.extend(run_as(snippet, profile, Some(role)).into_iter().map(|p| format!("as {role}: {p}")));
    }
    problems
}

/// Runs `snippet` once, its chunks given to `role` when set.
fn run_as(snippet: &Snippet, profile: HostProfile, role: Option<&str>) -> Vec<String> {
    let mode = snippet.meta.get("mode").map(String::as_str).unwrap_or("sandbox");
    let spec = common::shipped(ChainSpec {
        filters: snippet
            .configs
            .iter()
            .map(|(name, config)| FilterSpec {
                name: role.map(str::to_string).unwrap_or_else(|| name.clone()),
                module: common::module_path(),
                config: config.clone(),
                root_id: None,
            })
            .collect(),
        vm_config: json!({
            "untrusted_lua": mode,
            "untrusted_lua_sandbox_requires": snippet.meta.get("sandbox_requires").map(|r| r.split(',').map(str::trim).collect::<Vec<_>>()).unwrap_or_default(),
            "shared_dicts": snippet.meta.get("shared_dicts").map(|d| serde_json::from_str::<Value>(d).unwrap_or_else(|e| panic!("{}: shared_dicts: {e}", snippet.name))).unwrap_or_else(|| json!({})),
        }),
        properties: snippet.properties.clone(),
        profile,
        call_targets: snippet.services.iter().map(|(name, routes)| (name.clone(), format!("127.0.0.1:{}", service(routes.clone())))).collect(),
        ..ChainSpec::default()
    });
    let mut chain = match common::harness().chain(&spec) {
        Ok(chain) => chain,
        Err(e) => {
            let error = format!("{e:#}");
            return match &snippet.configure_error {
                Some(want) if error.contains(want.as_str()) => Vec::new(),
                Some(want) => vec![format!("configure error: expected {want:?}, got {error:?}")],
                None => vec![format!("configure failed: {error}")],
            };
        }
    };
    if let Some(want) = &snippet.configure_error {
        return vec![format!("configure: expected an error with {want:?}, but the configuration was accepted")];
    }
    let mut problems = Vec::new();
    for (i, (request, expect)) in snippet.requests.iter().enumerate() {
        let mut request = request.clone();
        let repeat = request.as_object_mut().unwrap().remove("repeat").and_then(|v| v.as_u64()).unwrap_or(1);
        let ticks = request.as_object_mut().unwrap().remove("ticks").and_then(|v| v.as_u64()).unwrap_or(0);
        let mut request: RequestSpec =
            serde_json::from_value(request).unwrap_or_else(|e| panic!("{}: request {}: {e}", snippet.name, i + 1));
        // A real client frames its body: Content-Length unless the snippet set the framing.
        if let Some(body) = &request.body {
            let framed = request.headers.pairs().iter().any(|(n, _)| n == "content-length" || n == "transfer-encoding");
            if !framed {
                let length = body.len().to_string();
                request = request.header("content-length", &length);
            }
        }
        for n in 0..repeat {
            let label = if repeat > 1 { format!("request {}#{}", i + 1, n + 1) } else { format!("request {}", i + 1) };
            match chain.run(&request).and_then(|mut outcome| {
                // Timers run at the instance's ticks, after the response.
                if ticks > 0 {
                    chain.take_logs();
                    for _ in 0..ticks {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        chain.tick()?;
                    }
                    outcome.logs.extend(chain.take_logs());
                }
                Ok(outcome)
            }) {
                Ok(outcome) => {
                    let found = check(&outcome, expect);
                    if !found.is_empty() {
                        problems.extend(found.into_iter().map(|p| format!("{label}: {p}")));
                        let errors: Vec<&str> = outcome
                            .logs
                            .iter()
                            .filter(|l| l.level == "error" || l.level == "critical")
                            .map(|l| l.message.as_str())
                            .collect();
                        problems.push(format!("{label}: error log {errors:?}"));
                        return problems;
                    }
                }
                Err(e) => {
                    problems.push(format!("{label}: trap: {e:#}"));
                    return problems;
                }
            }
        }
    }
    problems
}

/// Serves `routes` (see `--- services`) on a loopback port, one thread per connection,
/// for the rest of the test; returns the port.
fn service(routes: Value) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok();
                let (mut data, mut buf) = (Vec::new(), [0u8; 4096]);
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
                let length: usize = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut body = data[head_end + 4..].to_vec();
                while body.len() < length {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => body.extend_from_slice(&buf[..n]),
                    }
                }
                let body = String::from_utf8_lossy(&body).into_owned();
                let mut words = head.split_whitespace();
                let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let header_of = |name: &str| {
                    head.lines().skip(1).filter_map(|l| l.split_once(':')).find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
                };
                let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
                let route = routes.as_array().into_iter().flatten().find(|r| {
                    text(r, "method").is_none_or(|m| m == method)
                        && text(r, "path").is_none_or(|p| p == path)
                        && text(r, "query").is_none_or(|q| q == query)
                        && text(r, "body_contains").is_none_or(|b| body.contains(&b))
                        && r.get("request_headers").and_then(Value::as_object).into_iter().flatten().all(|(n, v)| header_of(n).as_deref() == v.as_str())
                });
                let (status, headers, answer) = match route {
                    Some(r) => {
                        if let Some(ms) = r.get("delay_ms").and_then(Value::as_u64) {
                            std::thread::sleep(std::time::Duration::from_millis(ms));
                        }
                        let headers: String = r
                            .get("headers")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                            .map(|(n, v)| format!("{n}: {}\r\n", v.as_str().unwrap_or_default()))
                            .collect();
                        (r.get("status").and_then(Value::as_u64).unwrap_or(200), headers, text(r, "body").unwrap_or_default())
                    }
                    None => (404, String::new(), "no route".to_string()),
                };
                // No `Connection: close` unless the route says so: lua-resty-http's
                // set_keepalive answers by it (1, or 2 "connection must be closed").
                let response = format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\n\r\n{answer}", answer.len());
                let _ = conn.write_all(response.as_bytes());
            });
        }
    });
    port
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snippets")
}

#[test]
fn snippet_corpus_in_both_profiles() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "snippet"));
    files.sort();
    let only = std::env::var("SNIPPETS_ONLY").unwrap_or_default();
    let snippets: Vec<Snippet> = files.iter().map(|p| parse(p)).collect();
    if only.is_empty() {
        assert!(snippets.len() >= 100, "the corpus shrank to {} snippets", snippets.len());
    }
    let mut failures = Vec::new();
    let mut passes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut known: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ran = 0;
    for snippet in snippets.iter().filter(|s| s.name.contains(&only)) {
        ran += 1;
        for profile in common::PROFILES {
            let pname = profile_name(profile);
            let problems = run(snippet, profile);
            let report = problems.join("; ");
            match (snippet.known.get(pname), problems.is_empty()) {
                (None, true) => {
                    *passes.entry(pname).or_default() += 1;
                    println!("pass    {pname:5} {}", snippet.name);
                }
                (None, false) => {
                    println!("FAIL    {pname:5} {}: {report}", snippet.name);
                    failures.push(format!("{} [{pname}]: {report}", snippet.name));
                }
                (Some((reason, _)), true) => {
                    println!("FIXED   {pname:5} {}: {reason}", snippet.name);
                    failures.push(format!(
                        "{} [{pname}]: the known difference ({reason}) no longer shows: remove it from the snippet",
                        snippet.name
                    ));
                }
                (Some((reason, text)), false) if report.contains(text.as_str()) => {
                    *known.entry(pname).or_default() += 1;
                    println!("known   {pname:5} {}: {reason}", snippet.name);
                }
                (Some((reason, text)), false) => {
                    println!("CHANGED {pname:5} {}: {report}", snippet.name);
                    failures.push(format!(
                        "{} [{pname}]: known difference ({reason}) recorded as failing with {text:?}, now fails with: {report}",
                        snippet.name
                    ));
                }
            }
        }
    }
    assert!(ran > 0, "SNIPPETS_ONLY={only} matches no snippet: nothing would be tested");
    println!(
        "snippet corpus: {ran} snippets; envoy: {} pass, {} known differences; kong: {} pass, {} known differences; {} failures",
        passes.get("envoy").unwrap_or(&0),
        known.get("envoy").unwrap_or(&0),
        passes.get("kong").unwrap_or(&0),
        known.get("kong").unwrap_or(&0),
        failures.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
