//! `bench e2e` (`make bench-e2e`): the scenarios end to end over HTTP on loopback, every
//! setup hit by the same `wrk` command, in one run:
//!
//! - `nginx`: Debian's nginx proxying to the upstream, no Lua (the floor);
//! - `OpenResty`: the same nginx with lua-nginx-module (OpenResty's engine) running the
//!   scenario chunks through a `kong.*` shim over `ngx.*` (`tests/bench/openresty/`);
//! - `serve no-op`, `serve Rust`, `serve ours`: `wasm-harness serve` (our harness on
//!   hyper, NOT nginx and not Kong's engine) with the no-op filter, the hand-written Rust
//!   filter (S1, S2) and `kong_functions.wasm` with the scenario's chain;
//! - `serve B3`: `wasm-harness serve` with baseline B3, PUC-Rio Lua 5.1 in Wasm
//!   (`tests/bench/filters/puc-lua`), on the scenario's own chain (skipped when its module
//!   was not built).
//!
//! Every server forwards to one upstream: a second server block of the same nginx
//! (`return 200`, or the 16 KiB JSON for S3's `/users`). Everything the run starts is
//! stopped by PID at the end, also after a failure; files go to `target/bench-e2e/`.
//! The report is printed and written to `target/bench-e2e.md`.
//!
//! Options: `--duration S` (per measurement, default 5), `--warmup S` (default 1),
//! `--connections N` (16), `--threads N` (1), `--repeat N` (runs per setup, the one with
//! the median requests/s reported; default 1), `--scenarios s1,s2` (default all),
//! `--openresty DIR` (the unpacked lua-nginx-module, LuaJIT and lua-resty-core packages;
//! default `target/openresty/root`, made by `make openresty`).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasm_harness::RequestSpec;

use crate::{json_body, our_module, release_wasm, root, scenarios, Scenario};

struct Options {
    duration: u64,
    warmup: u64,
    connections: u32,
    threads: u32,
    repeat: u32,
    scenarios: Vec<String>,
    openresty: PathBuf,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        duration: 5,
        warmup: 1,
        connections: 16,
        threads: 1,
        repeat: 1,
        scenarios: Vec::new(),
        openresty: root().join("target/openresty/root"),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args.next().cloned().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{arg}: {e}"));
        match arg.as_str() {
            "--duration" => o.duration = number(&value)?.max(1),
            "--warmup" => o.warmup = number(&value)?,
            "--connections" => o.connections = number(&value)?.max(1) as u32,
            "--threads" => o.threads = number(&value)?.max(1) as u32,
            "--repeat" => o.repeat = number(&value)?.max(1) as u32,
            "--scenarios" => o.scenarios = value.split([',', ' ']).filter(|s| !s.is_empty()).map(|s| s.to_ascii_uppercase()).collect(),
            "--openresty" => o.openresty = PathBuf::from(value),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(o)
}

/// Processes this run started; every one is stopped by PID when this is dropped.
#[derive(Default)]
struct Procs(Vec<(String, Child)>);

/// The PIDs whose parent is `pid` (nginx's workers), each with its start time (so a
/// PID reused later is never signalled).
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for entry in dir.flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Some((ppid, start)) = parent_and_start(child) else { continue };
        if ppid == pid {
            out.push((child, start));
        }
    }
    out
}

/// Fields 4 (ppid) and 22 (start time) of /proc/PID/stat.
fn parent_and_start(pid: u32) -> Option<(u32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid ...: comm may hold spaces, so count after the last ')'.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((rest.get(1)?.parse().ok()?, rest.get(19)?.to_string()))
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).stderr(Stdio::null()).status();
}

impl Procs {
    fn add(&mut self, name: &str, child: Child) {
        self.0.push((name.to_string(), child));
    }

    /// SIGTERM, up to 5 s to exit, then SIGKILL (and SIGKILL to its children, by PID).
    fn stop(name: &str, child: &mut Child) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let pid = child.id();
        let children = children_of(pid);
        signal(pid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !matches!(child.try_wait(), Ok(Some(_))) {
            eprintln!("bench e2e: {name} (pid {pid}) did not stop on SIGTERM; killing it");
            let _ = child.kill();
            let _ = child.wait();
        }
        for (c, start) in children {
            if parent_and_start(c).is_some_and(|(_, now)| now == start) {
                eprintln!("bench e2e: {name}'s child {c} outlived it; killing it");
                signal(c, "KILL");
            }
        }
    }

    fn stop_named(&mut self, name: &str) {
        if let Some(at) = self.0.iter().position(|(n, _)| n == name) {
            let (name, mut child) = self.0.remove(at);
            Procs::stop(&name, &mut child);
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (name, child) in self.0.iter_mut().rev() {
            Procs::stop(name, child);
        }
    }
}

/// `n` distinct free loopback ports (bound, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")).collect();
    listeners.iter().map(|l| l.local_addr().expect("local addr").port()).collect()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited ({status}) before listening on 127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{what} is not listening on 127.0.0.1:{port} after 30 s"))
}

/// One HTTP/1.1 exchange (`Connection: close`): status and lowercased header names.
fn probe(port: u16, request: &RequestSpec) -> Result<(u16, Vec<String>), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut text = format!("{} {} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n", request.method.as_deref().unwrap_or("GET"), request.path.lossy());
    for (name, value) in request.headers.pairs() {
        let _ = write!(text, "{name}: {value}\r\n");
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| format!("read: {e}"))? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, _)) = line.split_once(':') {
            headers.push(name.trim().to_ascii_lowercase());
        }
    }
    let _ = reader.read_to_end(&mut Vec::new());
    Ok((status, headers))
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\{:03}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A wrk script sending the scenario's requests round-robin, as the in-process bench
/// does. The requests are formatted in `init`, once wrk has set its `Host` header.
fn wrk_script(requests: &[RequestSpec]) -> String {
    let mut script = String::from("-- generated by `bench e2e`: the scenario's requests, round-robin\nlocal requests, i = {}, 0\ninit = function()\n");
    for request in requests {
        let headers: Vec<String> = request.headers.pairs().iter().map(|(n, v)| format!("[{}] = {}", lua_string(n), lua_string(v))).collect();
        let _ = writeln!(
            script,
            "  requests[#requests + 1] = wrk.format({}, {}, {{ {} }})",
            lua_string(request.method.as_deref().unwrap_or("GET")),
            lua_string(&request.path.lossy()),
            headers.join(", ")
        );
    }
    script.push_str("end\nrequest = function()\n  i = i % #requests + 1\n  return requests[i]\nend\n");
    script
}

/// What wrk reported for one setup.
#[derive(Clone, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    errors: u64,
}

fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(output: &str) -> Run {
    let mut run = Run::default();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => run.rps = n.parse().unwrap_or(0.0),
            ["50%", t] => run.p50_ms = duration_ms(t).unwrap_or(0.0),
            ["99%", t] => run.p99_ms = duration_ms(t).unwrap_or(0.0),
            [n, "requests", "in", ..] => run.requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                run.errors = rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum();
            }
            _ => {}
        }
    }
    run
}

struct Ctx {
    options: Options,
    wrk_log: std::fs::File,
}

impl Ctx {
    fn wrk(&mut self, port: u16, script: &Path, seconds: u64) -> Result<Run, String> {
        let output = Command::new("wrk")
            .args(["-t", &self.options.threads.to_string(), "-c", &self.options.connections.to_string()])
            .args(["-d", &format!("{seconds}s"), "--timeout", "5s", "--latency", "-s"])
            .arg(script)
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let _ = writeln!(self.wrk_log, "== 127.0.0.1:{port} {} ({seconds}s)\n{text}{}", script.display(), String::from_utf8_lossy(&output.stderr));
        if !output.status.success() {
            return Err(format!("wrk failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr)));
        }
        Ok(parse_wrk(&text))
    }

    /// Probes every request once (statuses, and whether the scenario's response headers
    /// came back), warms up, then measures `--repeat` times (the median run counts).
    fn measure(&mut self, port: u16, requests: &[RequestSpec], script: &Path) -> Result<(Run, String), String> {
        let mut check = Vec::new();
        for request in requests {
            let (status, headers) = probe(port, request)?;
            let mark = if headers.iter().any(|h| h == "x-served-by") { "+h" } else { "" };
            check.push(format!("{status}{mark}"));
        }
        if self.options.warmup > 0 {
            self.wrk(port, script, self.options.warmup)?;
        }
        let mut runs = Vec::new();
        for _ in 0..self.options.repeat {
            runs.push(self.wrk(port, script, self.options.duration)?);
        }
        // The run with the median requests/s.
        runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        let run = runs.swap_remove(runs.len() / 2);
        Ok((run, check.join("/")))
    }
}

fn chain_file(dir: &Path, name: &str, filters: Vec<Value>) -> PathBuf {
    let path = dir.join(format!("{name}.chain.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json!({ "filters": filters })).unwrap()).expect("chain file");
    path
}

fn harness_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.with_file_name("wasm-harness")
}

fn start_serve(procs: &mut Procs, dir: &Path, name: &str, chain: &Path, port: u16, upstream: u16) -> Result<(), String> {
    let log = std::fs::File::create(dir.join(format!("{name}.serve.log"))).map_err(|e| e.to_string())?;
    let mut child = Command::new(harness_binary())
        .arg("serve")
        .arg(chain)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--upstream", &format!("http://127.0.0.1:{upstream}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e} (run `make harness`)", harness_binary().display()))?;
    let ready = wait_for_port(port, &format!("wasm-harness serve ({name})"), &mut child);
    procs.add(name, child);
    ready
}

fn filter_json(name: &str, module: &Path, config: Value) -> Value {
    json!({ "name": name, "module": module, "config": config })
}

/// Our chain for the scenario, as the in-process bench configures it.
fn our_filters(scenario: &Scenario) -> Vec<Value> {
    scenario.ours.filters.iter().map(|f| filter_json(&f.name, &f.module, f.config.clone())).collect()
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_string();
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    text
}

fn start_nginx(procs: &mut Procs, options: &Options, dir: &Path, ports: &[u16]) -> Result<(), String> {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
    std::fs::write(prefix.join("users.json"), json_body()).map_err(|e| e.to_string())?;
    let openresty = options.openresty.canonicalize().map_err(|_| format!("{} is missing: run `make openresty`", options.openresty.display()))?;
    let lua_module = openresty.join("usr/lib/nginx/modules/ngx_http_lua_module.so");
    let ndk_module = PathBuf::from("/usr/lib/nginx/modules/ndk_http_module.so");
    for path in [&lua_module, &ndk_module] {
        if !path.is_file() {
            return Err(format!("{} is missing: run `make openresty`", path.display()));
        }
    }
    let template = std::fs::read_to_string(root().join("tests/bench/openresty/nginx.conf")).map_err(|e| e.to_string())?;
    let mut values = vec![
        ("PREFIX", prefix.display().to_string()),
        ("NDK_MODULE", ndk_module.display().to_string()),
        ("LUA_MODULE", lua_module.display().to_string()),
        ("SHIM_DIR", root().join("tests/bench/openresty").canonicalize().unwrap().display().to_string()),
        ("LUA_PATH", openresty.join("usr/share/lua/5.1/?.lua").display().to_string()),
        ("LUA_CPATH", "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so".to_string()),
        ("SCENARIOS", root().join("tests/bench/scenarios").canonicalize().unwrap().display().to_string()),
        ("UPSTREAM_PORT", ports[0].to_string()),
        ("PLAIN_PORT", ports[1].to_string()),
    ];
    let names: Vec<String> = (0..6).map(|i| format!("S{i}_PORT")).collect();
    for (i, name) in names.iter().enumerate() {
        values.push((name.as_str(), ports[2 + i].to_string()));
    }
    let conf = prefix.join("nginx.conf");
    std::fs::write(&conf, fill(&template, &values)).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(prefix.join("stderr.log")).map_err(|e| e.to_string())?;
    // lua-nginx-module with the LuaJIT it was built for (OpenResty's branch), unpacked
    // under target/: Debian's package of it conflicts with the `luajit` the tests use.
    let mut child = Command::new("nginx")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .env("LD_LIBRARY_PATH", openresty.join("usr/lib/x86_64-linux-gnu"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("nginx: {e} (run `make openresty`)"))?;
    let mut ready = Ok(());
    for port in ports.iter().take(8) {
        ready = ready.and_then(|_| wait_for_port(*port, "nginx", &mut child));
    }
    procs.add("nginx", child);
    ready.map_err(|e| format!("{e}; see {}", prefix.join("error.log").display()))
}

struct Row {
    setup: &'static str,
    run: Run,
    check: String,
}

pub fn main(args: &[String]) {
    let options = parse(args).unwrap_or_else(|e| {
        eprintln!("bench e2e: {e}");
        std::process::exit(2)
    });
    match run(options) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("bench e2e: {e}");
            std::process::exit(1)
        }
    }
}

fn run(options: Options) -> Result<(), String> {
    for tool in ["wrk", "nginx"] {
        if Command::new(tool).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            return Err(format!("{tool} is missing: run `make bench-e2e` (it installs Debian's wrk and nginx)"));
        }
    }
    let module = our_module().canonicalize().map_err(|_| "target/kong_functions.wasm is missing: run `make wasm`".to_string())?;
    let noop = release_wasm("bench_noop_filter.wasm");
    let native = release_wasm("bench_native_filter.wasm");
    for path in [&noop, &native] {
        if !path.is_file() {
            return Err(format!("{} is missing: run `make bench-e2e`", path.display()));
        }
    }
    let dir = root().join("target/bench-e2e");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    let wrk_log = std::fs::File::create(dir.join("wrk.log")).map_err(|e| e.to_string())?;
    let puc_lua = release_wasm("bench_puc_lua_filter.wasm");
    let b3_scenarios = if puc_lua.is_file() { scenarios(&puc_lua) } else { Vec::new() };
    let mut all = scenarios(&module);
    if !options.scenarios.is_empty() {
        all.retain(|s| options.scenarios.contains(&s.id.to_string()));
    }
    let header = format!(
        "wrk -t{} -c{} -d{}s --latency (after {} s of warm-up){}, 127.0.0.1, per setup",
        options.threads,
        options.connections,
        options.duration,
        options.warmup,
        if options.repeat > 1 { format!(", median of {} runs", options.repeat) } else { String::new() }
    );
    let mut ctx = Ctx { options, wrk_log };
    let mut procs = Procs::default();
    // 0 upstream, 1 nginx plain, 2..8 OpenResty S0..S5, 8 serve no-op, 9 serve Rust, 10 serve ours, 11 serve B3.
    let ports = free_ports(12);
    start_nginx(&mut procs, &ctx.options, &dir, &ports)?;
    let upstream = ports[0];
    let noop_chain = chain_file(&dir, "noop", vec![filter_json("noop", &noop, Value::Null)]);
    start_serve(&mut procs, &dir, "serve-noop", &noop_chain, ports[8], upstream)?;

    let mut report = String::new();
    let _ = writeln!(report, "## End to end over HTTP ({header})\n");
    let _ = writeln!(
        report,
        "`serve` is `wasm-harness serve`, our test harness on hyper (one thread runs the chain, one \
         connection to the upstream per request), not nginx and not Kong's engine: its absolute numbers \
         and its ratio to OpenResty say little about Kong. The ratios among `serve` setups (same server, \
         different filter) are the filter's cost.\n"
    );
    let _ = writeln!(report, "| Scenario | Setup | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | check |\n|---|---|---|---|---|---|---|---|---|");
    let mut ratios = String::new();
    let _ = writeln!(
        ratios,
        "\n## Ratios (requests/s; \"+µs\": 1e6/req/s difference, the time added per request at this concurrency)\n\n\
         | Scenario | ours / no-op | ours +µs over no-op | ours / Rust | Rust +µs over no-op | B3 +µs over no-op | ours / B3 | ours / OpenResty | OpenResty / nginx | OpenResty +µs over nginx |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    print!("{report}");
    for scenario in &all {
        let id = scenario.id.to_ascii_lowercase();
        let script = dir.join(format!("{id}.wrk.lua"));
        std::fs::write(&script, wrk_script(&scenario.requests)).map_err(|e| e.to_string())?;
        let index: usize = id[1..].parse().unwrap_or(0);
        let mut rows: Vec<Row> = Vec::new();
        let mut measure = |ctx: &mut Ctx, setup: &'static str, port: u16| -> Result<(), String> {
            let (run, check) = ctx.measure(port, &scenario.requests, &script).map_err(|e| format!("{} {setup}: {e}", scenario.id))?;
            let row = Row { setup, run, check };
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} |",
                scenario.id, row.setup, row.run.rps, row.run.p50_ms, row.run.p99_ms, row.run.requests, row.run.non_2xx, row.run.errors, row.check
            );
            rows.push(row);
            Ok(())
        };
        measure(&mut ctx, "nginx (no Lua)", ports[1])?;
        measure(&mut ctx, "OpenResty (Lua shim)", ports[2 + index])?;
        measure(&mut ctx, "serve no-op", ports[8])?;
        if let Some(config) = scenario.native {
            let chain = chain_file(&dir, &format!("native-{id}"), vec![filter_json("native", &native, json!(config))]);
            start_serve(&mut procs, &dir, "serve-native", &chain, ports[9], upstream)?;
            let result = measure(&mut ctx, "serve Rust", ports[9]);
            procs.stop_named("serve-native");
            result?;
        }
        let chain = chain_file(&dir, &format!("ours-{id}"), our_filters(scenario));
        start_serve(&mut procs, &dir, "serve-ours", &chain, ports[10], upstream)?;
        let result = measure(&mut ctx, "serve ours", ports[10]);
        procs.stop_named("serve-ours");
        result?;
        if let Some(b3) = b3_scenarios.iter().find(|s| s.id == scenario.id) {
            let chain = chain_file(&dir, &format!("b3-{id}"), our_filters(b3));
            start_serve(&mut procs, &dir, "serve-b3", &chain, ports[11], upstream)?;
            let result = measure(&mut ctx, "serve B3", ports[11]);
            procs.stop_named("serve-b3");
            result?;
        }

        let find = |setup: &str| rows.iter().find(|r| r.setup == setup).map(|r| r.run.rps).filter(|r| *r > 0.0);
        let (plain, lua, noop_rps, rust, ours, b3) = (
            find("nginx (no Lua)"),
            find("OpenResty (Lua shim)"),
            find("serve no-op"),
            find("serve Rust"),
            find("serve ours"),
            find("serve B3"),
        );
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}", a / b),
            _ => "-".into(),
        };
        let added = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.1}", 1e6 / a - 1e6 / b),
            _ => "-".into(),
        };
        let _ = writeln!(
            ratios,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            scenario.id,
            scenario.title,
            ratio(ours, noop_rps),
            added(ours, noop_rps),
            ratio(ours, rust),
            added(rust, noop_rps),
            added(b3, noop_rps),
            ratio(ours, b3),
            ratio(ours, lua),
            ratio(lua, plain),
            added(lua, plain)
        );
        for row in &rows {
            let _ = writeln!(
                report,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} |",
                scenario.id, row.setup, row.run.rps, row.run.p50_ms, row.run.p99_ms, row.run.requests, row.run.non_2xx, row.run.errors, row.check
            );
        }
    }
    drop(procs);
    let _ = writeln!(
        ratios,
        "\n\"check\": the status of each of the scenario's requests, probed once before the run \
         (`+h`: the response carried S2's `x-served-by`). S1 and S4 answer requests locally (no upstream), \
         so their ratios to the setups that forward everything (no-op, nginx) are not the filter's cost alone. \
         Logs, configs and wrk output: `target/bench-e2e/`."
    );
    print!("{ratios}");
    report.push_str(&ratios);
    std::fs::write(root().join("target/bench-e2e.md"), &report).map_err(|e| e.to_string())?;
    println!("\nwritten: target/bench-e2e.md");
    Ok(())
}
