//! `bench soak` (`make soak`): many requests through one instance, memory sampled as it
//! goes, to show that nothing a request leaves behind accumulates.
//!
//! Three series, each on one filter instance that lives for the whole series:
//! - `walkthrough`: the seed's custom-auth chain (`examples/custom-auth/chain.json`),
//!   its two requests alternating (401 local reply / proxied with the header cleared);
//! - `body-rewrite`: `access` rewrites a 1 KiB request body (`get_raw_body` →
//!   `set_raw_body`), `body_filter` rewrites the 2 KiB response (S3's gsub), and a `log`
//!   chunk reports the Lua heap (`collectgarbage("count")`) every sample;
//! - `reconfigure`: `proxy_on_configure` again on the same root context, alternating the
//!   two configurations above, one request served after each.
//!
//! Every `--every` steps (10,000 requests; 100 reconfigurations) a CSV row records the
//! instance's linear memory (wasm pages × 64 KiB), the Lua heap when the series reports
//! it, and the harness process's resident set (`/proc/self/statm`). Output:
//! `target/soak/soak.csv` and `target/soak/summary.md` (first, warm, last, slope after
//! warm-up). Exits 1 when linear memory grew after warm-up (the first 10% of a series).
//! Flags: `--requests N` (1,000,000), `--reconfigurations N` (10,000), `--every N`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};
use wasm_harness::{Chain, ChainSpec, Harness, RequestSpec, UpstreamSpec};

use crate::{filter, root, spec};

/// One sample of one series.
struct Sample {
    step: usize,
    linear_bytes: usize,
    lua_heap_kb: Option<f64>,
    rss_bytes: usize,
}

/// The harness process's resident set size, from `/proc/self/statm` (pages of 4 KiB).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

fn body_rewrite_config() -> Value {
    let access = "local body = kong.request.get_raw_body() or ''\nkong.service.request.set_raw_body((body:gsub('active', 'ACTIVE')))";
    let body_filter = std::fs::read_to_string(root().join("tests/bench/scenarios/s3_body_filter.lua")).expect("S3 chunk");
    // Reports the Lua heap once per sample (the soak reads the line back).
    let log = "local n = 0\nreturn function()\n  n = n + 1\n  if n % tonumber(kong.request.get_header('x-sample-every') or 0) == 0 then\n    kong.log.notice('lua_heap_kb=', collectgarbage('count'))\n  end\nend";
    json!({ "access": [access], "body_filter": [body_filter], "log": [log] })
}

fn body_rewrite_request(every: usize) -> RequestSpec {
    let row = |i: usize| format!("{{\"id\":{i},\"status\":\"active\",\"name\":\"user-{i:05}\"}}");
    let request_body = format!("[{}]", (0..24).map(row).collect::<Vec<_>>().join(","));
    let response_body = format!("[{}]", (0..48).map(row).collect::<Vec<_>>().join(","));
    let mut request = RequestSpec::get("/rewrite")
        .header("content-type", "application/json")
        .header("content-length", &request_body.len().to_string())
        .header("x-sample-every", &every.to_string());
    request.method = Some("POST".into());
    request.body = Some(request_body.into());
    request.upstream = Some(UpstreamSpec { status: Some(200), body: Some(response_body.into()), ..UpstreamSpec::default() });
    request
}

fn walkthrough_spec() -> ChainSpec {
    ChainSpec::from_file(&root().join("examples/custom-auth/chain.json")).expect("examples/custom-auth/chain.json")
}

fn walkthrough_requests() -> Vec<RequestSpec> {
    vec![RequestSpec::get("/test"), RequestSpec::get("/test").header("x-custom-auth", "demo")]
}

fn lua_heap(logs: &[wasm_harness::LogEntry]) -> Option<f64> {
    logs.iter().find_map(|l| l.message.split("lua_heap_kb=").nth(1)).and_then(|v| v.trim().parse().ok())
}

fn sample(chain: &mut Chain, step: usize, lua_heap_kb: Option<f64>) -> Sample {
    Sample { step, linear_bytes: chain.filters_mut()[0].memory_bytes(), lua_heap_kb, rss_bytes: rss_bytes() }
}

/// Runs `count` requests round-robin, checking each answer, sampling every `every`.
fn run_requests(chain: &mut Chain, requests: &[RequestSpec], count: usize, every: usize, expect: &dyn Fn(usize, u16) -> bool) -> Vec<Sample> {
    let mut samples = vec![sample(chain, 0, None)];
    for i in 1..=count {
        let out = chain.run(&requests[i % requests.len()]).unwrap_or_else(|e| panic!("request {i} trapped: {e:#}"));
        assert!(expect(i, out.status), "request {i}: unexpected status {} {:?}", out.status, out.logs);
        if i % every == 0 {
            samples.push(sample(chain, i, lua_heap(&out.logs)));
        }
    }
    samples
}

fn reconfigure(chain: &mut Chain, count: usize, every: usize) -> Vec<Sample> {
    let walkthrough = walkthrough_spec().filters[0].config.clone();
    let rewrite = body_rewrite_config();
    let auth = RequestSpec::get("/test").header("x-custom-auth", "demo");
    let post = body_rewrite_request(usize::MAX);
    let mut samples = vec![sample(chain, 0, None)];
    for i in 1..=count {
        let (config, request) = if i % 2 == 0 { (&walkthrough, &auth) } else { (&rewrite, &post) };
        let accepted = chain.filters_mut()[0].reconfigure(config).unwrap_or_else(|e| panic!("reconfiguration {i} trapped: {e:#}"));
        assert!(accepted, "reconfiguration {i} refused: {:?}", chain.take_logs());
        let out = chain.run(request).unwrap_or_else(|e| panic!("request after reconfiguration {i} trapped: {e:#}"));
        assert_eq!(out.status, 200, "request after reconfiguration {i}: {:?}", out.logs);
        if i % every == 0 {
            samples.push(sample(chain, i, None));
        }
    }
    samples
}

/// Least-squares slope of `y` over `x`, per `per` steps.
fn slope(points: &[(f64, f64)], per: f64) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let num: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    if den == 0.0 { 0.0 } else { num / den * per }
}

/// One summary row per measure: first sample, warm (end of the first 10%), last, slope.
fn summarize(name: &str, samples: &[Sample], unit: &str, per: usize, out: &mut String) -> bool {
    let total = samples.last().map(|s| s.step).unwrap_or(0);
    let warm_at = total / 10;
    let warm = samples.iter().find(|s| s.step >= warm_at).unwrap_or(&samples[0]);
    let first = samples.get(1).unwrap_or(&samples[0]);
    let last = samples.last().unwrap_or(&samples[0]);
    let after: Vec<&Sample> = samples.iter().filter(|s| s.step >= warm.step).collect();
    let mut measures: Vec<(&str, Box<dyn Fn(&Sample) -> Option<f64>>)> = vec![
        ("linear memory (bytes)", Box::new(|s: &Sample| Some(s.linear_bytes as f64))),
        ("host RSS (bytes)", Box::new(|s: &Sample| Some(s.rss_bytes as f64))),
    ];
    if samples.iter().any(|s| s.lua_heap_kb.is_some()) {
        measures.push(("Lua heap (KiB)", Box::new(|s: &Sample| s.lua_heap_kb)));
    }
    for (measure, get) in &measures {
        let points: Vec<(f64, f64)> = after.iter().filter_map(|s| get(s).map(|y| (s.step as f64, y))).collect();
        let show = |s: &Sample| get(s).map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {name} | {measure} | {} ({}) | {} ({}) | {} ({}) | {:+.1} per {per} {unit} |",
            show(first), first.step, show(warm), warm.step, show(last), last.step, slope(&points, per as f64)
        );
    }
    last.linear_bytes <= warm.linear_bytes
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.replace(['_', ','], "").parse().ok()).unwrap_or(default)
}

fn write_csv(path: &Path, series: &[(&str, &Vec<Sample>)]) {
    let mut csv = String::from("series,step,linear_bytes,lua_heap_kb,rss_bytes\n");
    for (name, samples) in series {
        for s in samples.iter() {
            let heap = s.lua_heap_kb.map(|v| format!("{v:.1}")).unwrap_or_default();
            let _ = writeln!(csv, "{name},{},{},{heap},{}", s.step, s.linear_bytes, s.rss_bytes);
        }
    }
    std::fs::write(path, csv).expect("write soak.csv");
}

pub fn main(args: &[String]) {
    let requests = arg(args, "--requests", 1_000_000);
    let reconfigurations = arg(args, "--reconfigurations", 10_000);
    let every = arg(args, "--every", 10_000);
    let reconfigure_every = (reconfigurations / 100).max(1);
    let harness = Harness::new();
    let started = std::time::Instant::now();

    eprintln!("soak: walkthrough, {requests} requests");
    let mut chain = harness.chain(&walkthrough_spec()).expect("walkthrough configures");
    let walkthrough = run_requests(&mut chain, &walkthrough_requests(), requests, every, &|i, status| status == if i % 2 == 0 { 401 } else { 200 });
    drop(chain);

    eprintln!("soak: body-rewrite, {requests} requests");
    let module = walkthrough_spec().filters[0].module.clone();
    let rewrite_spec = ChainSpec { vm_config: json!({ "untrusted_lua": "on" }), ..spec(vec![filter("pre-function", &module, body_rewrite_config())]) };
    let mut chain = harness.chain(&rewrite_spec).expect("body-rewrite configures");
    let rewrite = run_requests(&mut chain, &[body_rewrite_request(every)], requests, every, &|_, status| status == 200);
    drop(chain);

    eprintln!("soak: reconfigure, {reconfigurations} times");
    let mut chain = harness.chain(&rewrite_spec).expect("body-rewrite configures");
    let reconfigured = reconfigure(&mut chain, reconfigurations, reconfigure_every);

    let dir = root().join("target/soak");
    std::fs::create_dir_all(&dir).expect("target/soak");
    write_csv(&dir.join("soak.csv"), &[("walkthrough", &walkthrough), ("body-rewrite", &rewrite), ("reconfigure", &reconfigured)]);
    let mut summary = format!(
        "## Soak ({requests} requests per series, {reconfigurations} reconfigurations; {:.0} s)\n\n\
         | Series | Measure | first (step) | warm (step) | last (step) | slope after warm-up |\n|---|---|---|---|---|---|\n",
        started.elapsed().as_secs_f64()
    );
    let flat = [
        summarize("walkthrough", &walkthrough, "requests", 100_000, &mut summary),
        summarize("body-rewrite", &rewrite, "requests", 100_000, &mut summary),
        summarize("reconfigure", &reconfigured, "reconfigurations", 1_000, &mut summary),
    ];
    std::fs::write(dir.join("summary.md"), &summary).expect("write summary.md");
    print!("{summary}");
    println!("\nCSV: target/soak/soak.csv");
    if flat.contains(&false) {
        eprintln!("soak: linear memory grew after warm-up");
        std::process::exit(1);
    }
}
