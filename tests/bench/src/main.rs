//! `make bench`: the benchmark suite. Every scenario runs through the real `.wasm` in the
//! wasmtime harness (module compiled once, VM and root contexts created once, then many
//! streams), next to baselines measured in the same run:
//!
//! - B0: a no-op proxy-wasm filter (the host's own cost) with the same requests;
//! - B1: S1 and S2 hand-written in Rust (`tests/bench/filters/native`);
//! - B2: the same Lua chunks under LuaJIT with a minimal PDK shim (`luajit/bench.lua`);
//! - B3: the same chunks and configurations under PUC-Rio Lua 5.1 compiled to Wasm in a
//!   small proxy-wasm filter with a thin `kong.*` shim (`tests/bench/filters/puc-lua`,
//!   built by `make bench-filters`; the columns say "B3 missing" without it).
//!
//! Prints a Markdown report (BENCHMARKS.md records one). Environment: `KONG_FUNCTIONS_WASM`
//! picks the module (default: the optimized `target/kong_functions.wasm`),
//! `BENCH_REQUESTS` the measured requests per scenario (default 20,000), `BENCH_SCENARIOS`
//! a comma-separated list of scenario ids to run (e.g. `S3`; default: all).
//!
//! Other modes: `bench compare A.wasm B.wasm` (two builds of our module in alternating
//! rounds, [`compare`]), `bench regex A.wasm B.wasm` (typical `ngx.re` calls through two
//! builds, [`regex_compare`]), `bench profile SCENARIO` (feature `profile`, `make profile`: the guest
//! profiler, [`profile`]) and `bench e2e` (`make bench-e2e`: the scenarios over HTTP under
//! `wrk`, against nginx with lua-nginx-module, [`e2e`]), and `bench soak` (`make soak`:
//! memory over 1,000,000 requests and 10,000 reconfigurations of one instance, [`soak`]).
//! Parts of the report alone: `bench startup` (VM start + configure; `STARTUP_RUNS` runs
//! each, default 20), `bench costs` (first `require` of modules, cost per operation),
//! `bench scenarios S1 S2` (the per-request table for the scenarios named, all if none).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
mod e2e;
mod soak;
#[cfg(feature = "profile")]
mod profile;

use wasm_harness::{Chain, ChainSpec, FilterSpec, HeadersSpec, Harness, RequestSpec, UpstreamSpec};

/// Per-request timings of one measured run, in microseconds.
struct Stats {
    median: f64,
    p99: f64,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let at = |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1].as_secs_f64() * 1e6;
        Stats { median: at(0.5), p99: at(0.99) }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn release_wasm(name: &str) -> PathBuf {
    root().join("target/wasm32-wasip1/release").join(name)
}

fn our_module() -> PathBuf {
    if let Some(path) = std::env::var_os("KONG_FUNCTIONS_WASM") {
        return PathBuf::from(path);
    }
    let optimized = root().join("target/kong_functions.wasm");
    if optimized.is_file() { optimized } else { release_wasm("kong_functions.wasm") }
}

fn scenario_chunk(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/bench/scenarios").join(name)).expect("scenario chunk")
}

fn filter(name: &str, module: &Path, config: Value) -> FilterSpec {
    FilterSpec { name: name.into(), module: module.to_path_buf(), config, root_id: None }
}

fn spec(filters: Vec<FilterSpec>) -> ChainSpec {
    ChainSpec { filters, ..ChainSpec::default() }
}

/// The 16 KiB JSON body S3 rewrites (the same text `luajit/bench.lua` builds).
fn json_body() -> String {
    let items: Vec<String> = (1..=160)
        .map(|i| format!("{{\"id\":{i},\"status\":\"active\",\"name\":\"user-{i:05}\",\"team\":\"platform\"}}"))
        .collect();
    format!("[{}]", items.join(","))
}

fn s2_request() -> RequestSpec {
    RequestSpec::get("/orders")
        .header("x-user", "  Alice ")
        .header("x-tenant", "ACME")
        .header("x-region", "EU-West")
        .header("x-trace", "ABC123 ")
        .header("accept", "application/json")
}

struct Scenario {
    id: &'static str,
    title: &'static str,
    ours: ChainSpec,
    requests: Vec<RequestSpec>,
    /// The Rust baseline's plugin configuration, for the scenarios B1 implements.
    native: Option<&'static str>,
}

fn scenarios(module: &Path) -> Vec<Scenario> {
    let s2 = json!({ "access": [scenario_chunk("s2_access.lua")], "header_filter": [scenario_chunk("s2_header_filter.lua")] });
    let with_body = RequestSpec {
        upstream: Some(UpstreamSpec { status: Some(200), body: Some(json_body().into()), headers: HeadersSpec::None }),
        ..RequestSpec::get("/users")
    };
    vec![
        Scenario {
            id: "S0",
            title: "pass-through (one empty log chunk)",
            ours: spec(vec![filter("pre-function", module, json!({ "log": ["local _ = 1"] }))]),
            requests: vec![RequestSpec::get("/")],
            native: None,
        },
        Scenario {
            id: "S1",
            title: "custom-auth: 401 local reply / header cleared and forwarded, alternating",
            ours: spec(vec![filter("pre-function", module, json!({ "access": [scenario_chunk("s1_access.lua")] }))]),
            requests: vec![RequestSpec::get("/test"), RequestSpec::get("/test").header("x-custom-auth", "demo")],
            native: Some("s1"),
        },
        Scenario {
            id: "S2",
            title: "header work: 5 reads, normalise, 3 upstream + 2 response headers",
            ours: spec(vec![filter("pre-function", module, s2.clone())]),
            requests: vec![s2_request()],
            native: Some("s2"),
        },
        Scenario {
            id: "S3",
            title: "body_filter: gsub over a 16 KiB JSON response",
            ours: spec(vec![filter("pre-function", module, json!({ "body_filter": [scenario_chunk("s3_body_filter.lua")] }))]),
            requests: vec![with_body],
            native: None,
        },
        Scenario {
            id: "S4",
            title: "upvalue counter, JSON kong.response.exit",
            ours: spec(vec![filter("pre-function", module, json!({ "access": [scenario_chunk("s4_access.lua")] }))]),
            requests: vec![RequestSpec::get("/count")],
            native: None,
        },
        Scenario {
            id: "S5",
            title: "pre-function and post-function, both with S2's work",
            ours: spec(vec![filter("pre-function", module, s2.clone()), filter("post-function", module, s2)]),
            requests: vec![s2_request()],
            native: None,
        },
    ]
}

/// Runs `requests` round-robin: `warmup` unmeasured, then `count` timed one by one.
fn measure(chain: &mut Chain, requests: &[RequestSpec], warmup: usize, count: usize) -> Stats {
    for i in 0..warmup {
        chain.run(&requests[i % requests.len()]).expect("no trap");
    }
    let samples = (0..count)
        .map(|i| {
            let request = &requests[i % requests.len()];
            let start = Instant::now();
            chain.run(request).expect("no trap");
            start.elapsed()
        })
        .collect();
    Stats::of(samples)
}

/// Rounds the per-request table runs each scenario's setups in, one after another.
const ROUNDS: usize = 10;

/// Runs every chain on `requests` in [`ROUNDS`] alternating rounds of `count / ROUNDS`
/// timed requests (after `warmup` each), so that the machine's slow spells fall on all the
/// setups alike; the statistics of each chain are over all its timed requests.
fn measure_in_rounds(chains: &mut [Chain], requests: &[RequestSpec], warmup: usize, count: usize) -> Vec<Stats> {
    let per_round = (count / ROUNDS).max(1);
    let mut samples: Vec<Vec<Duration>> = chains.iter().map(|_| Vec::with_capacity(count)).collect();
    for chain in chains.iter_mut() {
        for i in 0..warmup {
            chain.run(&requests[i % requests.len()]).expect("no trap");
        }
    }
    for round in 0..ROUNDS {
        for (chain, samples) in chains.iter_mut().zip(samples.iter_mut()) {
            for i in 0..per_round {
                let request = &requests[(round * per_round + i) % requests.len()];
                let start = Instant::now();
                chain.run(request).expect("no trap");
                samples.push(start.elapsed());
            }
        }
    }
    samples.into_iter().map(Stats::of).collect()
}

fn luajit(id: &str) -> Option<Stats> {
    let script = root().join("tests/bench/luajit/bench.lua");
    let batch = if id == "S3" { "100" } else { "1000" };
    let output = Command::new("luajit").arg(&script).arg(id.to_lowercase()).args(["200", batch]).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut numbers = text.split_whitespace().filter_map(|t| t.parse::<f64>().ok());
    Some(Stats { median: numbers.next()?, p99: numbers.next()? })
}

fn ratio(a: f64, b: f64) -> String {
    // A baseline under 50 ns is noise (S0's empty chunk under LuaJIT): no ratio.
    if b >= 0.05 { format!("{:.1}x", a / b) } else { "-".into() }
}

/// Where a request's time goes: the median cost of single operations inside a chunk,
/// measured as the difference to a chunk that does nothing.
fn operation_costs(harness: &Harness, module: &Path, count: usize) {
    let operations: [(&str, &str, &str); 9] = [
        ("empty access chunk (the baseline below)", "access", "local _ = 1"),
        ("kong.request.get_header", "access", "for i = 1, 10 do local v = kong.request.get_header('x-user') end"),
        ("string.lower (a library call)", "access", "local s = 'Abc' for i = 1, 10 do local v = string.lower(s) end"),
        ("s:lower() (method call rewrite)", "access", "local s = 'Abc' for i = 1, 10 do local v = s:lower() end"),
        ("s:gsub('^%s+', '')", "access", "local s = '  Abc ' for i = 1, 10 do local v = s:gsub('^%s+', '') end"),
        ("a .. '/' .. b (concat built-in)", "access", "local s = 'Abc' for i = 1, 10 do local v = s .. '/' .. s end"),
        ("kong.service.request.set_header", "access", "for i = 1, 10 do kong.service.request.set_header('x-a', 'v') end"),
        ("10 VM loop iterations (n = n + i)", "access", "local n = 0 for i = 1, 100 do n = n + i end"),
        ("Lua function call f(i, i) (parameters from ...)", "access", "local function f(a, b) return a end for i = 1, 10 do local v = f(i, i) end"),
    ];
    println!("\n## Cost per operation (µs, median; each operation 10 times in one chunk)\n");
    println!("| Operation | µs per operation |\n|---|---|");
    let request = RequestSpec::get("/").header("x-user", " Alice ");
    let mut baseline = 0.0;
    for (i, (name, phase, source)) in operations.iter().enumerate() {
        let mut chain = harness.chain(&spec(vec![filter("pre-function", module, json!({ *phase: [source] }))])).expect("configures");
        let median = measure(&mut chain, std::slice::from_ref(&request), count / 10, count / 4).median;
        if i == 0 {
            baseline = median;
            println!("| {name} | {median:.2} per request |");
        } else {
            println!("| {name} | {:.2} |", (median - baseline) / 10.0);
        }
    }
}

/// The sorted times (ms) of `runs` VM start + configure of `spec` (module already compiled),
/// one worker's: without Envoy's configuration canary, which runs once per configuration
/// load on the main thread.
fn startup_samples(harness: &Harness, spec: &ChainSpec, runs: usize) -> Vec<f64> {
    let spec = &ChainSpec { skip_canary: true, ..spec.clone() };
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            harness.chain(spec).expect("configures");
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples
}

/// Median cost (ms) of a fresh chain's first request running `source` in access, minus
/// that of an empty chunk: what loading modules on first `require` adds.
fn first_request_extra(harness: &Harness, module: &Path, source: &str, runs: usize) -> f64 {
    let time = |chunk: &str| {
        let mut spec = spec(vec![filter("pre-function", module, json!({ "access": [chunk] }))]);
        // `on`: require serves every module (the default sandbox would refuse them).
        spec.vm_config = json!({ "untrusted_lua": "on" });
        let mut samples: Vec<Duration> = (0..runs)
            .map(|_| {
                let mut chain = harness.chain(&spec).expect("configures");
                let start = Instant::now();
                chain.run(&RequestSpec::get("/")).expect("no trap");
                start.elapsed()
            })
            .collect();
        samples.sort();
        samples[runs / 2].as_secs_f64() * 1e3
    };
    time(source) - time("local _ = 1")
}

/// The module-loading and per-operation numbers alone (`cargo run -p kong-functions-bench
/// -- costs`), for a quick check without the scenarios.
fn costs_report() {
    let harness = Harness::new();
    let module = our_module();
    modules_report(&harness, &module);
    operation_costs(&harness, &module, 20_000);
}

fn modules_report(harness: &Harness, module: &Path) {
    println!("\n## First require of a Lua module (ms over an empty chunk, median of 20 fresh chains)\n");
    println!("| Chunk | ms |\n|---|---|");
    for source in [
        "require 'pl.stringx'",
        "require 'kong.tools.ip'",
        "require 'resty.lrucache'",
        "require 'kong.constants'",
    ] {
        println!("| `{source}` | {:.2} |", first_request_extra(harness, module, source, 20));
    }
}

/// A configuration of 50 access chunks totalling 2,000 lines.
fn big_config() -> Value {
    let chunks: Vec<String> = (0..50)
        .map(|c| {
            let mut lines = vec![format!("local t{c} = {{}}")];
            for l in 1..39 {
                lines.push(format!("t{c}[{l}] = string.format('%d-%s', {l}, kong.request.get_header('x-{l}') or 'none')"));
            }
            lines.push(format!("kong.service.request.set_header('x-chunk-{c}', #t{c})"));
            lines.join("\n")
        })
        .collect();
    json!({ "access": chunks })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("report") => report(),
        Some("startup") => startup_table(&Harness::new(), &our_module()),
        Some("costs") => costs_report(),
        Some("startup-ab") => startup_ab(&args[1..]),
        Some("scenarios") => scenarios_report(&args[1..]),
        Some("callout") => callout_report(),
        #[cfg(feature = "profile")]
        Some("profile") => profile::main(&args[1..]),
        #[cfg(not(feature = "profile"))]
        Some("profile") => {
            eprintln!("bench profile: built without the `profile` feature; run `make profile SCENARIO=s2`");
            std::process::exit(2)
        }
        Some("compare") => compare(&args[1..]),
        Some("regex") => regex_compare(&args[1..]),
        Some("e2e") => e2e::main(&args[1..]),
        Some("soak") => soak::main(&args[1..]),
        Some(other) => {
            eprintln!("bench: unknown mode {other:?}; usage: bench [report] | bench startup | bench startup-ab A.wasm B.wasm | bench compare A.wasm B.wasm | bench regex A.wasm B.wasm | bench costs | bench callout | bench scenarios [S0..S5 ...] | bench profile s0..s5 | bench e2e | bench soak");
            std::process::exit(2)
        }
    }
}

/// `bench compare A.wasm B.wasm [ROUNDS]`: every scenario through two builds of our
/// module, measured in alternating rounds (A, B, A, B ...; `ROUNDS`, default
/// 10, of `BENCH_REQUESTS / ROUNDS` requests each, after a warm-up), so that a busy machine
/// slows both alike. Prints per-request medians in µs (the median of the rounds' medians),
/// and B's change against A (`bench startup-ab` does the same for start-up).
fn compare(args: &[String]) {
    let [a, b] = [args.first(), args.get(1)].map(|p| {
        PathBuf::from(p.unwrap_or_else(|| {
            eprintln!("usage: bench compare A.wasm B.wasm [ROUNDS]");
            std::process::exit(2)
        }))
    });
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let count: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let per_round = (count / rounds).max(1);
    let harness = Harness::new();
    println!("A: {}\nB: {}\n{rounds} alternating rounds of {per_round} requests\n", a.display(), b.display());
    println!("| Scenario | A median µs | B median µs | B vs A |\n|---|---|---|---|");
    let (scenarios_a, scenarios_b) = (scenarios(&a), scenarios(&b));
    for (sa, sb) in scenarios_a.iter().zip(&scenarios_b) {
        let mut chains = [harness.chain(&sa.ours).expect("A configures"), harness.chain(&sb.ours).expect("B configures")];
        let mut medians = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for (side, chain) in chains.iter_mut().enumerate() {
                let warmup = if round == 0 { per_round / 5 } else { 0 };
                medians[side].push(measure(chain, &sa.requests, warmup, per_round).median);
            }
        }
        let [ma, mb] = medians.map(|mut m| {
            m.sort_by(f64::total_cmp);
            m[m.len() / 2]
        });
        println!("| {} | {ma:.1} | {mb:.1} | {:+.1}% |", sa.id, (mb / ma - 1.0) * 100.0);
    }
}

/// The `ngx.re` calls `bench regex` times: (name, chunk). Each chunk makes 10 calls per
/// request; R0 makes none (the request's own cost, subtracted from the others).
const REGEX_CHUNKS: [(&str, &str); 8] = [
    ("R0 no regex (request cost)", r#"local p = kong.request.get_path() for i = 1, 10 do local _ = p end"#),
    (
        "R1 match `^/api/v(\\d+)/users/(\\d+)`, jo",
        r#"local p = kong.request.get_path() for i = 1, 10 do local m = assert(ngx.re.match(p, [[^/api/v(\d+)/users/(\d+)]], 'jo')) end"#,
    ),
    (
        "R2 find a UUID in a header, jo",
        r#"local h = kong.request.get_header('x-request-id') for i = 1, 10 do local f = assert(ngx.re.find(h, [[[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}]], 'jo')) end"#,
    ),
    (
        "R3 match with a look-ahead, jo (PCRE2 only)",
        r#"local h = kong.request.get_header('authorization') for i = 1, 10 do local m = assert(ngx.re.match(h, [[^Bearer\s+(?=\S+\.\S+\.\S+$)(\S+)]], 'jo')) end"#,
    ),
    (
        "R4 gmatch query pairs `(\\w+)=(\\w+)`, jo",
        r#"local q = 'limit=10&offset=20&sort=name&order=asc' for i = 1, 10 do for m in ngx.re.gmatch(q, [[(\w+)=(\w+)]], 'jo') do local _ = m[1] end end"#,
    ),
    (
        "R5 gsub `\"status\":\"\\w+\"` over 1.6 KB of JSON, jo",
        r#"local body = string.rep('{"id":1,"status":"active","name":"user-00001"}', 32) for i = 1, 10 do local s = ngx.re.gsub(body, [["status":"\w+"]], '"status":"redacted"', 'jo') end"#,
    ),
    (
        "R6 match `^/api/v(\\d+)/` without options",
        r#"local p = kong.request.get_path() for i = 1, 10 do local m = assert(ngx.re.match(p, [[^/api/v(\d+)/]])) end"#,
    ),
    (
        "R7 `^(a|a)*$` on 28 a's and a `!` (PCRE2: to the match limit, then -47)",
        r#"local s = string.rep('a', 28) .. '!' for i = 1, 10 do local m, err = ngx.re.match(s, [[^(a|a)*$]], 'jo') end"#,
    ),
];

/// `bench regex A.wasm B.wasm [ROUNDS]`: each of [`REGEX_CHUNKS`] through two builds of
/// the module in alternating rounds, as [`compare`]; prints the median per request and
/// the cost of one `ngx.re` call (the chunk's median less R0's, over 10 calls). A chunk
/// a build refuses (R3 on the `regex` crate: no look-ahead) shows "refused".
fn regex_compare(args: &[String]) {
    let [a, b] = [args.first(), args.get(1)].map(|p| {
        PathBuf::from(p.unwrap_or_else(|| {
            eprintln!("usage: bench regex A.wasm B.wasm [ROUNDS]");
            std::process::exit(2)
        }))
    });
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let count: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let per_round = (count / rounds).max(1);
    let harness = Harness::new();
    let request = RequestSpec::get("/api/v1/users/12345/orders?limit=10")
        .header("x-request-id", "9f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
        .header("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U");
    let requests = [request];
    println!("A: {}\nB: {}\n{rounds} alternating rounds of {per_round} requests\n", a.display(), b.display());
    println!("| Chunk (10 calls a request) | A median µs | B median µs | A per call µs | B per call µs |\n|---|---|---|---|---|");
    let mut base = [0.0f64; 2];
    for (name, chunk) in REGEX_CHUNKS {
        let mut chains = [&a, &b].map(|m| harness.chain(&spec(vec![filter("pre-function", m, json!({ "access": [chunk] }))])).expect("configures"));
        // A build that cannot run the chunk answers 500 (the Lua error).
        let works: Vec<bool> = chains.iter_mut().map(|c| c.run(&requests[0]).map(|o| o.status != 500).unwrap_or(false)).collect();
        let mut medians = [Vec::new(), Vec::new()];
        // R7 runs to PCRE2's match limit: a few requests a round say what it costs.
        let per_round = if name.starts_with("R7") { per_round.min(5) } else { per_round };
        for round in 0..rounds {
            for (side, chain) in chains.iter_mut().enumerate() {
                if works[side] {
                    let warmup = if round == 0 { per_round / 5 } else { 0 };
                    medians[side].push(measure(chain, &requests, warmup, per_round).median);
                }
            }
        }
        let m = medians.map(|mut m| {
            m.sort_by(f64::total_cmp);
            m.get(m.len() / 2).copied()
        });
        if name.starts_with("R0") {
            base = [m[0].unwrap_or(0.0), m[1].unwrap_or(0.0)];
        }
        let cell = |v: Option<f64>, f: &dyn Fn(f64) -> f64| v.map_or("refused".to_string(), |v| format!("{:.2}", f(v)));
        println!(
            "| {name} | {} | {} | {} | {} |",
            cell(m[0], &|v| v),
            cell(m[1], &|v| v),
            cell(m[0], &|v| (v - base[0]) / 10.0),
            cell(m[1], &|v| (v - base[1]) / 10.0)
        );
    }
}

/// The "VM start + configure" table: the seed, the 50-chunk configuration, and the
/// seed's start split into its parts.
fn startup_table(harness: &Harness, module: &Path) {
    let runs: usize = std::env::var("STARTUP_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20).max(1);
    println!("\n## VM start + configure (ms over {runs} runs; module already compiled)\n");
    let seed = spec(vec![filter("pre-function", module, json!({ "access": [scenario_chunk("s1_access.lua")] }))]);
    let big = spec(vec![filter("pre-function", module, big_config())]);
    let row = |name: &str, spec: &ChainSpec| {
        let samples = startup_samples(harness, spec, runs);
        println!("| {name} | {:.2} | {:.2} |", samples[runs / 2], samples[0]);
    };
    println!("| Configuration | median | min |\n|---|---|---|");
    row("seed walkthrough (1 chunk)", &seed);
    // Where the seed's time goes: the same start with a one-statement chunk (instance, VM start, Lua
    // state, PDK tables, one environment), and the seed under `untrusted_lua = on` (no sandbox copies).
    let empty = spec(vec![filter("pre-function", module, json!({ "access": ["local _ = 1"] }))]);
    let mut seed_on = seed.clone();
    seed_on.vm_config = json!({ "untrusted_lua": "on" });
    row("one-statement chunk (instance + Lua state + PDK + one environment)", &empty);
    row("seed walkthrough, untrusted_lua = on", &seed_on);
    let noop = release_wasm("bench_noop_filter.wasm");
    if noop.is_file() {
        let noop = spec(vec![filter("no-op", &noop, json!({}))]);
        row("the no-op filter module (instance + VM start + configure)", &noop);
    }
    row("examples/custom-auth/chain.json (5 chunks, 4 phases)", &custom_auth_example(module));
    row("50 chunks, 2,000 lines", &big);
    // Fresh linear memory is paid for page by page on first touch: how much the seed's
    // start leaves behind says what its page faults cost.
    let mut chain = harness.chain(&seed).expect("seed configures");
    println!("\nLinear memory after the seed's start + configure: {} bytes", chain.filters_mut()[0].memory_bytes());
}

/// `bench startup-ab A.wasm B.wasm`: the start-up of the seed, of a one-statement chunk,
/// and of the seed under `untrusted_lua = on`, for two builds of the
/// module, runs alternating between them (so load on a shared machine hits both alike);
/// min, 10th percentile and median of `STARTUP_RUNS` (default 200) runs each.
fn startup_ab(modules: &[String]) {
    let runs: usize = std::env::var("STARTUP_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200).max(1);
    let [a, b] = modules else {
        eprintln!("usage: bench startup-ab A.wasm B.wasm");
        std::process::exit(2)
    };
    let harness = Harness::new();
    let configs = |module: &Path| {
        let seed = spec(vec![filter("pre-function", module, json!({ "access": [scenario_chunk("s1_access.lua")] }))]);
        let mut seed_on = seed.clone();
        seed_on.vm_config = json!({ "untrusted_lua": "on" });
        vec![
            ("seed walkthrough (1 chunk)", seed),
            ("one-statement chunk", spec(vec![filter("pre-function", module, json!({ "access": ["local _ = 1"] }))])),
            ("seed walkthrough, untrusted_lua = on", seed_on),
            ("examples/custom-auth/chain.json (5 chunks)", custom_auth_example(module)),
        ]
    };
    let (configs_a, configs_b) = (configs(Path::new(a)), configs(Path::new(b)));
    println!("| Configuration | A min | A p10 | A median | B min | B p10 | B median |\n|---|---|---|---|---|---|---|");
    for ((name, spec_a), (_, spec_b)) in configs_a.iter().zip(&configs_b) {
        let (mut ta, mut tb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        let mut faults = [0u64; 2];
        for _ in 0..runs {
            for (i, (spec, times)) in [(spec_a, &mut ta), (spec_b, &mut tb)].into_iter().enumerate() {
                let before = minor_faults();
                let start = Instant::now();
                harness.chain(spec).expect("configures");
                times.push(start.elapsed().as_secs_f64() * 1e3);
                faults[i] += minor_faults() - before;
            }
        }
        eprintln!("{name}: minor page faults per start: A {} B {}", faults[0] / runs as u64, faults[1] / runs as u64);
        ta.sort_by(f64::total_cmp);
        tb.sort_by(f64::total_cmp);
        let q = |t: &[f64], f: f64| t[((t.len() - 1) as f64 * f) as usize];
        println!("| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |", q(&ta, 0.0), q(&ta, 0.1), q(&ta, 0.5), q(&tb, 0.0), q(&tb, 0.1), q(&tb, 0.5));
    }
}

/// The process's minor page faults so far (`/proc/self/stat` field 10; 0 elsewhere).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    after_name.split_whitespace().nth(7).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The custom-auth walkthrough's chain (`examples/custom-auth/chain.json`) on `module`.
fn custom_auth_example(module: &Path) -> ChainSpec {
    let text = std::fs::read_to_string(root().join("examples/custom-auth/chain.json")).expect("examples/custom-auth/chain.json");
    let chain: Value = serde_json::from_str(&text).expect("chain.json is JSON");
    spec(vec![filter("pre-function", module, chain["filters"][0]["config"].clone())])
}

/// `bench callout`: what one outbound call costs a request in-process: an access chunk
/// calling `resty.http`'s `request_uri` on the harness's echo upstream (no network: the
/// dispatch, the pause, the echo's answer read back, the resume) against the same chunk
/// without the call, alternating rounds, per host profile.
fn callout_report() {
    let count: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let harness = Harness::new();
    let module = our_module();
    let with_call = r#"local res = require("resty.http").new():request_uri("http://echo/") kong.service.request.set_header("x-status", res.status)"#;
    let without = r#"local status = 200 kong.service.request.set_header("x-status", status)"#;
    println!("| Profile | without call: median µs | with one call: median µs | one call costs µs |\n|---|---|---|---|");
    for profile in [wasm_harness::HostProfile::Envoy, wasm_harness::HostProfile::Kong] {
        let chain_of = |code: &str| {
            let spec = ChainSpec {
                filters: vec![filter("pre-function", &module, json!({ "access": [code] }))],
                vm_config: json!({ "untrusted_lua_sandbox_requires": ["resty.http"], "upstreams": { "echo:80": "echo" } }),
                profile,
                ..ChainSpec::default()
            };
            harness.chain(&spec).expect("configures")
        };
        let mut chains = [chain_of(without), chain_of(with_call)];
        let stats = measure_in_rounds(&mut chains, &[RequestSpec::get("/")], 500, count);
        println!("| {profile:?} | {:.1} | {:.1} | {:.1} |", stats[0].median, stats[1].median, stats[1].median - stats[0].median);
    }
}

/// The per-request table alone for the scenarios named in `only` (all when empty):
/// `bench scenarios S1 S2`.
fn scenarios_report(only: &[String]) {
    let count: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    per_request_table(&Harness::new(), &our_module(), count, only);
}

/// The report `make bench` prints.
fn report() {
    let count: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let module = our_module();
    let noop = release_wasm("bench_noop_filter.wasm");
    let native = release_wasm("bench_native_filter.wasm");
    for path in [&module, &noop, &native] {
        assert!(path.is_file(), "{} is missing: run `make bench`", path.display());
    }
    let harness = Harness::new();
    let only: Vec<String> = std::env::var("BENCH_SCENARIOS")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    per_request_table(&harness, &module, count, &only);

    operation_costs(&harness, &module, count);

    startup_table(&harness, &module);
    modules_report(&harness, &module);

    println!("\n## Linear memory (S1 chain)\n");
    let seed = spec(vec![filter("pre-function", &module, json!({ "access": [scenario_chunk("s1_access.lua")] }))]);
    let mut chain = harness.chain(&seed).expect("seed");
    let after_configure = chain.filters_mut()[0].memory_bytes();
    let requests = [RequestSpec::get("/test"), RequestSpec::get("/test").header("x-custom-auth", "demo")];
    println!("| Point | bytes |\n|---|---|");
    println!("| after configure | {after_configure} |");
    for i in 1..=100_000 {
        chain.run(&requests[i % 2]).expect("no trap");
        if [1_000, 10_000, 100_000].contains(&i) {
            println!("| after {i} requests | {} |", chain.filters_mut()[0].memory_bytes());
        }
    }

    println!("\n## Module size\n");
    let raw = std::fs::metadata(release_wasm("kong_functions.wasm")).map(|m| m.len()).unwrap_or(0);
    let optimized = std::fs::metadata(root().join("target/kong_functions.wasm")).map(|m| m.len()).unwrap_or(0);
    println!("| Build | bytes |\n|---|---|");
    println!("| cargo (opt-level s, LTO) | {raw} |");
    println!("| after wasm-opt -Oz | {optimized} |");
}

/// The per-request table: each scenario (those in `only`, or all) measured over `count`
/// requests after `count / 10` warm-up, next to the baselines.
fn per_request_table(harness: &Harness, module: &Path, count: usize, only: &[String]) {
    let warmup = count / 10;
    let noop = release_wasm("bench_noop_filter.wasm");
    let native = release_wasm("bench_native_filter.wasm");
    println!("## Per request (µs; {count} requests per scenario and setup after {warmup} warm-up, one thread; ours, B0 and B1 alternating in {ROUNDS} rounds)\n");
    println!("Module: `{}`\n", module.strip_prefix(root()).unwrap_or(module).display());
    let puc_lua = release_wasm("bench_puc_lua_filter.wasm");
    // B3 runs each scenario's own configuration (same chunks, same filters) on its module.
    let b3_scenarios = if puc_lua.is_file() { scenarios(&puc_lua) } else { Vec::new() };
    println!("| Scenario | ours median | ours p99 | B0 median | overhead over B0 | B1 overhead | ours/B1 (overhead) | B2 LuaJIT median | ours/B2 | B3 overhead | ours/B3 |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let wanted = |id: &str| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let mut notes = Vec::new();
    for scenario in scenarios(module).into_iter().filter(|s| wanted(s.id)) {
        let mut chains = vec![
            harness.chain(&scenario.ours).expect("scenario configures"),
            harness.chain(&spec(vec![filter("noop", &noop, Value::Null)])).expect("noop"),
        ];
        let b3_spec = b3_scenarios.iter().find(|s| s.id == scenario.id).map(|s| &s.ours);
        if let Some(b3_spec) = b3_spec {
            chains.push(harness.chain(b3_spec).expect("B3 configures"));
        }
        let has_native = scenario.native.is_some();
        if let Some(config) = scenario.native {
            chains.push(harness.chain(&spec(vec![filter("native", &native, json!(config))])).expect("native"));
        }
        // A chain of several filters (S5) pays the harness's per-filter cost once per
        // filter, B0 once: a chain of as many no-op filters, in the same rounds, says
        // how much of the overhead over B0 that is (printed under the table).
        let filters = scenario.ours.filters.len();
        if filters > 1 {
            let noops = (0..filters).map(|_| filter("noop", &noop, Value::Null)).collect();
            chains.push(harness.chain(&spec(noops)).expect("noop chain"));
        }
        let stats = measure_in_rounds(&mut chains, &scenario.requests, warmup, count);
        let (ours_stats, b0) = (&stats[0], &stats[1]);
        if filters > 1 {
            let chain_b0 = &stats[stats.len() - 1];
            notes.push(format!(
                "{}: {filters} no-op filters in one chain {:.1} µs median, {:.1} over B0; {} over that chain {:.1} µs",
                scenario.id,
                chain_b0.median,
                chain_b0.median - b0.median,
                scenario.id,
                ours_stats.median - chain_b0.median
            ));
        }
        let overhead = (ours_stats.median - b0.median).max(0.0);
        let b3 = b3_spec.map(|_| (stats[2].median - b0.median).max(0.001));
        let b1 = has_native.then(|| &stats[if b3.is_some() { 3 } else { 2 }]).map(|native| (native.median - b0.median).max(0.001));
        let b2 = luajit(scenario.id);
        println!(
            "| {} {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} |",
            scenario.id,
            scenario.title,
            ours_stats.median,
            ours_stats.p99,
            b0.median,
            overhead,
            b1.map(|b| format!("{b:.1}")).unwrap_or_else(|| "-".into()),
            b1.map(|b| ratio(overhead, b)).unwrap_or_else(|| "-".into()),
            b2.as_ref().map(|b| format!("{:.2}", b.median)).unwrap_or_else(|| "luajit missing".into()),
            b2.as_ref().map(|b| ratio(overhead, b.median)).unwrap_or_else(|| "-".into()),
            b3.map(|b| format!("{b:.1}")).unwrap_or_else(|| "B3 missing".into()),
            b3.map(|b| ratio(overhead, b)).unwrap_or_else(|| "-".into()),
        );
    }
    for note in notes {
        println!("\n{note}");
    }
}
