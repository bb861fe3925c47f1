//! `wasm-harness`: run proxy-wasm filters locally.
//!
//! `wasm-harness run CHAIN REQUESTS.json` prints the results as JSON;
//! `wasm-harness serve CHAIN --listen 127.0.0.1:8000` serves HTTP/1.1. CHAIN is a chain
//! file, an Envoy bootstrap (envoy/envoy.yaml) or a Kong declarative config
//! (kong-wasm/kong.yml, kong-plugins.yml); see `wasm_harness::hosts`. Exit codes:
//! 0 the requests ran (whatever their status); 2 bad input (the message names the file);
//! 1 a filter trapped or rejected its configuration.
//! `wasm-harness oci MODULE --out DIR` writes a module as an OCI image layout (and
//! `--tar FILE`), the form Istio and Envoy Gateway pull; see `wasm_harness::oci`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::Value;
use wasm_harness::hosts::{self, LoadOptions};
use wasm_harness::connection::RequestItem;
use wasm_harness::{ChainSpec, Harness, HostProfile};

mod serve;
mod serve_ws;
mod transcript;

#[derive(Parser)]
#[command(name = "wasm-harness", version, about = "A proxy-wasm host on wasmtime: run filter chains locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the requests of REQUESTS.json through the chain of CHAIN.json; print results as JSON.
    Run {
        /// Chain file ({"filters": [{"name", "module", "config"}], "vm_config"}), Envoy
        /// bootstrap (.yaml) or Kong declarative config (.yml/.yaml/.json).
        chain: PathBuf,
        /// One request object or an array of them, run in order on the same filters.
        requests: PathBuf,
        /// Output format: `json` (the result objects) or `text` (an HTTP-style transcript).
        #[arg(long, default_value = "json", value_parser = ["json", "text"])]
        format: String,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Serve HTTP/1.1: every request runs through the chain, then the echo upstream or
    /// --upstream. Prints `listening on http://ADDR` on stdout, an access-log line per
    /// request and the filters' log lines on stderr; stops on SIGINT/SIGTERM.
    Serve {
        /// Chain file, Envoy bootstrap or Kong declarative config (as for `run`).
        chain: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: std::net::SocketAddr,
        /// Forward to this HTTP/1.1 upstream (http://HOST:PORT[/PREFIX]) instead of the
        /// built-in echo upstream.
        #[arg(long)]
        upstream: Option<String>,
        /// Seconds one upstream exchange may take (504 after that).
        #[arg(long, default_value_t = 10)]
        upstream_timeout: u64,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Write MODULE as an OCI image layout directory (oci-layout, index.json,
    /// blobs/sha256/...) that Istio's WasmPlugin and Envoy Gateway's EnvoyExtensionPolicy
    /// pull: one tar+gzip layer holding plugin.wasm. Prints the manifest digest.
    Oci {
        /// The Wasm module (e.g. target/kong_functions.wasm).
        module: PathBuf,
        /// The layout directory to write (replaced if it already is an OCI layout).
        #[arg(long)]
        out: PathBuf,
        /// Also write the layout as one tar file (skopeo's `oci-archive:`).
        #[arg(long)]
        tar: Option<PathBuf>,
        /// The tag in index.json (org.opencontainers.image.ref.name).
        #[arg(long, default_value = "latest")]
        tag: String,
        /// A manifest annotation KEY=VALUE (repeatable), e.g.
        /// org.opencontainers.image.version=0.1.0.
        #[arg(long = "annotation", value_name = "KEY=VALUE")]
        annotations: Vec<String>,
    },
    /// Run a WASI (preview1) command module, e.g. a test binary built for wasm32-wasip1;
    /// used as cargo's runner for that target. Exits with the module's exit code.
    WasiRun {
        /// The module.
        module: PathBuf,
        /// Arguments passed to the module.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// How host configs map onto modules and properties.
#[derive(Args)]
struct SourceArgs {
    /// Use this module for every filter (instead of the config's module paths).
    #[arg(long)]
    module: Option<PathBuf>,
    /// Kong's wasm_filters_path: filter NAME is NAME.wasm there (falling back to the
    /// kong_functions.wasm we build). Default: target/.
    #[arg(long)]
    filters_path: Option<PathBuf>,
    /// kong.conf to read kong.configuration.* properties from (untrusted_lua*).
    /// Default: kong.conf beside a Kong declarative config.
    #[arg(long)]
    kong_conf: Option<PathBuf>,
    /// The host to imitate, whatever the source implies: `envoy` or `kong` (Kong's Wasm
    /// engine, docs/hosts.md). E.g. a file for Kong's Lua plugins runs on `envoy` unless
    /// this says `kong`.
    #[arg(long, value_parser = ["envoy", "kong"])]
    profile: Option<String>,
}

/// Loads any chain source; prints the loader's notes on stderr.
fn load_chain(path: &Path, source: SourceArgs) -> Result<ChainSpec, ExitCode> {
    let options = LoadOptions { module: source.module, filters_path: source.filters_path, kong_conf: source.kong_conf };
    let mut loaded = hosts::load(path, &options).map_err(|e| {
        eprintln!("wasm-harness: {e:#}");
        ExitCode::from(2)
    })?;
    match source.profile.as_deref() {
        Some("kong") if loaded.spec.profile != HostProfile::Kong => {
            loaded.spec.profile = HostProfile::Kong;
            // Kong's default client_body_buffer_size when the source did not set one.
            loaded.spec.client_body_buffer_size.get_or_insert(hosts::KONG_CLIENT_BODY_BUFFER_SIZE);
            loaded.notes.push("profile kong (--profile)".into());
        }
        Some("envoy") if loaded.spec.profile != HostProfile::Envoy => {
            loaded.spec.profile = HostProfile::Envoy;
            loaded.notes.push("profile envoy (--profile)".into());
        }
        _ => {}
    }
    let mut printed: Vec<&String> = Vec::new();
    for note in &loaded.notes {
        if !printed.contains(&note) {
            eprintln!("wasm-harness: {}: {note}", path.display());
            printed.push(note);
        }
    }
    for filter in &loaded.spec.filters {
        if !filter.module.is_file() {
            eprintln!("wasm-harness: {}: module not found: {}", path.display(), filter.module.display());
            return Err(ExitCode::from(2));
        }
    }
    Ok(loaded.spec)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { chain, requests, format, source } => match load_chain(&chain, source) {
            Ok(spec) => run(spec, &requests, format == "text"),
            Err(code) => code,
        },
        Command::Serve { chain, listen, upstream, upstream_timeout, source } => match load_chain(&chain, source) {
            Ok(spec) => serve::serve(
                spec,
                serve::ServeOptions { listen, upstream, upstream_timeout: std::time::Duration::from_secs(upstream_timeout.max(1)) },
            ),
            Err(code) => code,
        },
        Command::Oci { module, out, tar, tag, annotations } => oci(&module, &out, tar.as_deref(), tag, &annotations),
        Command::WasiRun { module, args } => match wasm_harness::wasi::run_command(&module, &args) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("wasm-harness: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn oci(module: &Path, out: &Path, tar: Option<&Path>, tag: String, annotations: &[String]) -> ExitCode {
    let mut pairs = Vec::new();
    for a in annotations {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k.to_string(), v.to_string())),
            _ => {
                eprintln!("wasm-harness: --annotation {a:?}: expected KEY=VALUE");
                return ExitCode::from(2);
            }
        }
    }
    let bytes = match std::fs::read(module) {
        Ok(b) if b.starts_with(b"\0asm") => b,
        Ok(_) => {
            eprintln!("wasm-harness: {}: not a Wasm module (no \\0asm magic)", module.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("wasm-harness: {}: cannot read: {e}", module.display());
            return ExitCode::from(2);
        }
    };
    let options = wasm_harness::oci::OciOptions { tag, annotations: pairs };
    let layout = match wasm_harness::oci::write_layout(&bytes, out, &options) {
        Ok(layout) => layout,
        Err(e) => {
            eprintln!("wasm-harness: {}: {e}", out.display());
            return ExitCode::from(1);
        }
    };
    if let Some(tar) = tar {
        if let Err(e) = wasm_harness::oci::write_layout_tar(out, tar) {
            eprintln!("wasm-harness: {}: {e}", tar.display());
            return ExitCode::from(1);
        }
        eprintln!("wasm-harness: wrote {}", tar.display());
    }
    eprintln!(
        "wasm-harness: wrote OCI image layout {} (layer {} bytes, tag {})",
        layout.dir.display(),
        layout.layer_size,
        options.tag
    );
    println!("{}", layout.manifest_digest);
    ExitCode::SUCCESS
}

fn read_requests(path: &Path) -> Result<(Vec<RequestItem>, bool), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
    let is_array = value.is_array();
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let requests = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| RequestItem::from_value(item).map_err(|e| format!("{}: request {}: {e}", path.display(), i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((requests, is_array))
}

fn run(spec: ChainSpec, requests_path: &Path, text: bool) -> ExitCode {
    let (requests, is_array) = match read_requests(requests_path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            return ExitCode::from(2);
        }
    };
    let harness = Harness::new();
    let mut chain = match harness.chain(&spec) {
        Ok(chain) => chain,
        Err(e) => {
            eprintln!("wasm-harness: {e:#}");
            // A host crash (Kong: nginx's worker would segfault) is a harness error.
            return ExitCode::from(if wasm_harness::chain::is_host_crash(&e) { 2 } else { 1 });
        }
    };
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in &requests {
        match chain.run_item(request) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) if wasm_harness::chain::is_host_crash(&e) => {
                eprintln!("wasm-harness: {e:#}");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("wasm-harness: filter trapped: {e:#}");
                return ExitCode::from(1);
            }
        }
    }
    if text {
        for (request, outcome) in requests.iter().zip(&outcomes) {
            print!("{}", transcript::render_item(request, outcome));
        }
        return ExitCode::SUCCESS;
    }
    let json = if is_array { serde_json::to_string_pretty(&outcomes) } else { serde_json::to_string_pretty(&outcomes[0]) };
    match json {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wasm-harness: cannot print results: {e}");
            ExitCode::from(1)
        }
    }
}
