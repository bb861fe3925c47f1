//! `wasm-harness`: run proxy-wasm filters locally.
//!
//! `wasm-harness run CHAIN.json REQUESTS.json` prints the results as JSON. Exit codes:
//! 0 the requests ran (whatever their status); 2 bad input (the message names the file);
//! 1 a filter trapped or rejected its configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::Value;
use wasm_harness::{ChainSpec, Harness, RequestSpec};

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
        /// Chain file: {"filters": [{"name", "module", "config"}], "vm_config"}.
        chain: PathBuf,
        /// One request object or an array of them, run in order on the same filters.
        requests: PathBuf,
        /// Output format: `json` (the result objects) or `text` (an HTTP-style transcript).
        #[arg(long, default_value = "json", value_parser = ["json", "text"])]
        format: String,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { chain, requests, format } => run(&chain, &requests, format == "text"),
        Command::WasiRun { module, args } => match wasm_harness::wasi::run_command(&module, &args) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("wasm-harness: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn read_requests(path: &Path) -> Result<(Vec<RequestSpec>, bool), String> {
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
        .map(|(i, item)| {
            serde_json::from_value::<RequestSpec>(item)
                .map_err(|e| format!("{}: request {}: {e}", path.display(), i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((requests, is_array))
}

fn run(chain_path: &Path, requests_path: &Path, text: bool) -> ExitCode {
    let spec = match ChainSpec::from_file(chain_path) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            return ExitCode::from(2);
        }
    };
    let (requests, is_array) = match read_requests(requests_path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wasm-harness: {e}");
            return ExitCode::from(2);
        }
    };
    for filter in &spec.filters {
        if !filter.module.is_file() {
            eprintln!("wasm-harness: {}: module not found: {}", chain_path.display(), filter.module.display());
            return ExitCode::from(2);
        }
    }
    let harness = Harness::new();
    let mut chain = match harness.chain(&spec) {
        Ok(chain) => chain,
        Err(e) => {
            eprintln!("wasm-harness: {e:#}");
            return ExitCode::from(1);
        }
    };
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in &requests {
        match chain.run(request) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                eprintln!("wasm-harness: filter trapped: {e:#}");
                return ExitCode::from(1);
            }
        }
    }
    if text {
        for (request, outcome) in requests.iter().zip(&outcomes) {
            print!("{}", transcript::render(request, outcome));
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
