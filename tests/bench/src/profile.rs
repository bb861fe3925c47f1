//! `bench profile SCENARIO` (`make profile SCENARIO=s2`): one scenario through the
//! module under wasmtime's guest profiler (harness feature `profiling`), written to
//! `target/profile/<scenario>.json` (Firefox profiler, <https://profiler.firefox.com/>)
//! and `target/profile/<scenario>.txt` (the top frames by self and inclusive samples).
//!
//! Options: `--requests N` (default 20,000, after N/10 unsampled warm-up requests),
//! `--interval-us N` (sampling interval, default 100), `--module PATH` (default as the
//! report: `KONG_FUNCTIONS_WASM`, else `target/kong_functions.wasm`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasm_harness::profiling::{profiling_harness, Sampler};

use crate::{our_module, root, scenarios};

struct Options {
    scenario: String,
    requests: usize,
    interval: Duration,
    module: PathBuf,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { scenario: String::new(), requests: 20_000, interval: Duration::from_micros(100), module: our_module() };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--requests" => options.requests = value()?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--interval-us" => options.interval = Duration::from_micros(value()?.parse().map_err(|e| format!("--interval-us: {e}"))?),
            "--module" => options.module = PathBuf::from(value()?),
            s if !s.starts_with('-') && options.scenario.is_empty() => options.scenario = s.to_ascii_uppercase(),
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    if options.scenario.is_empty() {
        return Err("which scenario? (s0 .. s5)".into());
    }
    Ok(options)
}

pub fn main(args: &[String]) {
    let options = parse(args).unwrap_or_else(|e| {
        eprintln!("bench profile: {e}\nusage: bench profile s0..s5 [--requests N] [--interval-us N] [--module PATH]");
        std::process::exit(2)
    });
    let module = options.module.canonicalize().unwrap_or_else(|_| {
        eprintln!("bench profile: {} is missing: run `make wasm`", options.module.display());
        std::process::exit(2)
    });
    let scenario = scenarios(&module).into_iter().find(|s| s.id == options.scenario).unwrap_or_else(|| {
        eprintln!("bench profile: no scenario {:?} (s0 .. s5)", options.scenario);
        std::process::exit(2)
    });
    let name = scenario.id.to_ascii_lowercase();
    let out_dir = root().join("target/profile");
    std::fs::create_dir_all(&out_dir).expect("target/profile");

    let harness = profiling_harness().expect("engine with epoch interruption");
    let mut chain = harness.chain(&scenario.ours).expect("scenario configures");
    let warmup = options.requests / 10;
    for i in 0..warmup {
        chain.run(&scenario.requests[i % scenario.requests.len()]).expect("no trap");
    }
    let mut sampler = Sampler::new(&harness, &format!("kong-functions {}", scenario.id), options.interval, &[&module]).expect("profiler");
    sampler.attach(&mut chain);
    sampler.start();
    let started = Instant::now();
    for i in 0..options.requests {
        chain.run(&scenario.requests[i % scenario.requests.len()]).expect("no trap");
    }
    let elapsed = started.elapsed();
    let json_path = out_dir.join(format!("{name}.json"));
    let file = std::io::BufWriter::new(std::fs::File::create(&json_path).expect("profile file"));
    let counts = sampler.finish(file).expect("profile written");

    let profile: Value = serde_json::from_slice(&std::fs::read(&json_path).expect("profile read back")).expect("profile JSON");
    let mut text = String::new();
    let base = root().canonicalize().unwrap_or_else(|_| root());
    let rel = |p: &Path| {
        let p = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        p.strip_prefix(&base).unwrap_or(&p).display().to_string()
    };
    let _ = writeln!(text, "# Guest profile: {} {}\n", scenario.id, scenario.title);
    let _ = writeln!(text, "module: {}", rel(&module));
    let _ = writeln!(text, "{}", module_note(&module));
    let _ = writeln!(
        text,
        "requests: {} sampled (after {warmup} warm-up), {:.2} s, {:.1} µs per request under the profiler",
        options.requests,
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / options.requests.max(1) as f64
    );
    let _ = writeln!(
        text,
        "samples: {} ({} in guest code, {} at the return of a host call, charged to the calling guest stack); \
         interval {} µs, {} timer ticks (ticks while the harness itself ran are dropped)",
        counts.guest + counts.host_call,
        counts.guest,
        counts.host_call,
        options.interval.as_micros(),
        counts.ticks
    );
    let _ = writeln!(text, "profile: {} (open in https://profiler.firefox.com/)\n", rel(&json_path));
    text.push_str(&summary(&profile, 25));
    std::fs::write(out_dir.join(format!("{name}.txt")), &text).expect("summary written");
    print!("{text}");
    println!("\nwritten: {} and {}", rel(&json_path), rel(&out_dir.join(format!("{name}.txt"))));
}

/// Whether frames will have names, and whether the code is the shipped module's.
fn module_note(module: &Path) -> String {
    let Ok(bytes) = std::fs::read(module) else { return String::new() };
    let sections = wasm_sections(&bytes);
    let named = sections.iter().any(|(id, name, _)| *id == 0 && name == "name");
    let code = |sections: &[(u8, String, &[u8])]| sections.iter().find(|(id, _, _)| *id == 10).map(|(_, _, body)| body.to_vec());
    let shipped = root().join("target/kong_functions.wasm");
    let same_code = std::fs::read(&shipped).ok().map(|b| code(&wasm_sections(&b)) == code(&sections));
    let mut note = String::new();
    if named {
        note.push_str("name section: yes (frames named)");
    } else {
        note.push_str(
            "name section: NONE, frames are `<wasm function N>` (wasm-opt without -g drops it); \
             `make profile` profiles target/profile/kong_functions.wasm (wasm-opt -Oz -g: the shipped code plus names) \
             or MODULE=target/wasm32-wasip1/release/kong_functions.wasm (cargo's build, before wasm-opt)",
        );
    }
    match same_code {
        Some(true) => note.push_str("; code section identical to the shipped target/kong_functions.wasm"),
        Some(false) => note.push_str("; code section differs from the shipped target/kong_functions.wasm"),
        None => {}
    }
    note
}

/// `core::fmt::write::h0123456789abcdef` without the hash (returned apart); long names
/// shortened.
fn clean(name: &str) -> (String, Option<String>) {
    let mut name = name.to_string();
    let mut hash = None;
    if let Some(at) = name.rfind("::h") {
        let h = &name[at + 3..];
        if h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
            hash = Some(h.to_string());
            name.truncate(at);
        }
    }
    if name.chars().count() > 150 {
        name = name.chars().take(147).collect::<String>() + "...";
    }
    (name, hash)
}

/// The top `n` functions by self and by inclusive samples, as Markdown tables.
pub fn summary(profile: &Value, n: usize) -> String {
    let Some(thread) = profile["threads"].get(0) else { return "no thread in the profile\n".into() };
    let strings: Vec<&str> = thread["stringArray"].as_array().map(|a| a.iter().map(|s| s.as_str().unwrap_or("?")).collect()).unwrap_or_default();
    let column = |table: &str, name: &str| -> Vec<Option<usize>> {
        thread[table][name].as_array().map(|a| a.iter().map(|v| v.as_u64().map(|x| x as usize)).collect()).unwrap_or_default()
    };
    let (stack_frame, stack_prefix) = (column("stackTable", "frame"), column("stackTable", "prefix"));
    let frame_func = column("frameTable", "func");
    let func_name = column("funcTable", "name");
    let samples = column("samples", "stack");
    let weights: Vec<u64> = thread["samples"]["weight"].as_array().map(|a| a.iter().map(|v| v.as_u64().unwrap_or(1)).collect()).unwrap_or_default();
    let raw_name = |func: usize| func_name.get(func).copied().flatten().and_then(|s| strings.get(s)).map(|s| clean(s));
    // Names several functions share once their hashes are dropped (closures' `call_once`
    // shims, generic instances) keep the start of their hash.
    let mut uses: HashMap<String, usize> = HashMap::new();
    for func in 0..func_name.len() {
        if let Some((name, _)) = raw_name(func) {
            *uses.entry(name).or_default() += 1;
        }
    }
    let name_of = |func: usize| match raw_name(func) {
        Some((name, Some(hash))) if uses.get(&name).copied().unwrap_or(0) > 1 => format!("{name} [h{}]", &hash[..7]),
        Some((name, _)) => name,
        None => format!("func#{func}"),
    };

    let mut own: HashMap<usize, u64> = HashMap::new();
    let mut inclusive: HashMap<usize, u64> = HashMap::new();
    let (mut total, mut empty) = (0u64, 0u64);
    for (i, stack) in samples.iter().enumerate() {
        let weight = weights.get(i).copied().unwrap_or(1);
        total += weight;
        let Some(mut stack) = *stack else {
            empty += weight;
            continue;
        };
        let mut seen = Vec::new();
        let mut leaf = true;
        loop {
            if let Some(func) = stack_frame.get(stack).copied().flatten().and_then(|f| frame_func.get(f).copied().flatten()) {
                if leaf {
                    *own.entry(func).or_default() += weight;
                    leaf = false;
                }
                if !seen.contains(&func) {
                    seen.push(func);
                    *inclusive.entry(func).or_default() += weight;
                }
            }
            match stack_prefix.get(stack).copied().flatten() {
                Some(prefix) => stack = prefix,
                None => break,
            }
        }
    }
    let mut out = String::new();
    let pct = |x: u64| if total > 0 { 100.0 * x as f64 / total as f64 } else { 0.0 };
    let _ = writeln!(out, "{total} samples{}", if empty > 0 { format!(", {empty} with no guest frame") } else { String::new() });
    for (title, table) in [("self", &own), ("inclusive", &inclusive)] {
        let mut rows: Vec<(usize, u64)> = table.iter().map(|(f, c)| (*f, *c)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let _ = writeln!(out, "\n## Top {n} by {title} samples\n\n| # | {title} | % | function |\n|---|---|---|---|");
        for (rank, (func, count)) in rows.into_iter().take(n).enumerate() {
            let _ = writeln!(out, "| {} | {count} | {:.1} | `{}` |", rank + 1, pct(count), name_of(func));
        }
    }
    out
}

/// The sections of a wasm module: id, custom section name (empty for others), body.
fn wasm_sections(bytes: &[u8]) -> Vec<(u8, String, &[u8])> {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *bytes.get(*at)?;
            *at += 1;
            value |= ((byte & 0x7f) as usize) << shift;
            shift += 7;
            if byte < 0x80 || shift > 35 {
                return Some(value);
            }
        }
    }
    let mut sections = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let Some(size) = leb(bytes, &mut at) else { break };
        let Some(body) = bytes.get(at..at + size) else { break };
        let mut name = String::new();
        if id == 0 {
            let mut i = 0;
            if let Some(len) = leb(body, &mut i) {
                name = String::from_utf8_lossy(body.get(i..i + len).unwrap_or_default()).into_owned();
            }
        }
        sections.push((id, name, body));
        at += size;
    }
    sections
}
