//! The native driver of the instruction counts in BENCHMARKS.md ("The measured split",
//! `tests/bench/callgrind/split.sh`): scenario S0, S1 or S2 through our runtime
//! (`Runtime::run_phase`, the code the filter runs per request) on the in-memory
//! `FakeHost`, natively, N requests; run under `valgrind --tool=callgrind` at two N, the
//! difference per function divided by the extra requests is the steady-state cost of one
//! request. Natively it counts the filter's own work (VM, PDK, pattern engine), not wasm
//! or the proxy's host calls (FakeHost answers from a Vec).
//!
//! Two more modes (issue 28's remaining splits): `s5` runs S2's chunks in two runtimes,
//! a pre-function then a post-function on one `FakeHost` (the second sees the first's
//! header writes, as the second filter of a chain does), both phases per request; `start`
//! does what `proxy_on_configure` does for the seed (the S1 chunk in `access`), N times:
//! `PluginConfig::parse` of its JSON and `Runtime::configure` with the default VM
//! configuration. Each runtime is leaked, not dropped: a wasm instance is thrown away
//! whole, never freed object by object.
//!
//! usage: callgrind-driver s0|s1|s2|s5|start COUNT   (built with `--features fuzzing`, which
//! exposes `FakeHost`; `cargo build --release --example callgrind-driver --features fuzzing`)

use std::rc::Rc;

use kong_functions::config::{PluginConfig, Role};
use kong_functions::pdk::testing::FakeHost;
use kong_functions::phase::Phase;
use kong_functions::runtime::{PhaseOutcome, RequestState, Runtime};
use kong_functions::vm_config::VmConfig;

fn chunk(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bench/scenarios").join(name);
    std::fs::read_to_string(path).expect("scenario chunk")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scenario), Some(count)) = (args.get(1), args.get(2).and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: callgrind-driver s0|s1|s2|s5|start COUNT");
        std::process::exit(2)
    };
    if scenario == "start" {
        // The seed: tests/bench/src/main.rs's start-up rows (`{"access": [S1's chunk]}`).
        let json = serde_json::json!({ "access": [chunk("s1_access.lua")] }).to_string();
        let vm = VmConfig::default();
        for _ in 0..count {
            let config = PluginConfig::parse(json.as_bytes()).expect("the seed parses");
            let host: Rc<dyn kong_functions::host::Host> = Rc::new(FakeHost::default());
            let runtime = Runtime::configure(&config, None, host, &vm).expect("the seed configures");
            std::mem::forget(runtime);
        }
        return;
    }
    let roles: &[Role] = if scenario == "s5" { &[Role::PreFunction, Role::PostFunction] } else { &[Role::PreFunction] };
    let base = [(":method", "GET"), (":path", "/test")];
    // The requests of tests/bench/src/main.rs's scenarios.
    let (phases, requests): (Vec<(Phase, Vec<String>)>, Vec<Vec<(&str, &str)>>) = match scenario.as_str() {
        "s0" => (vec![(Phase::Log, vec!["local _ = 1".into()])], vec![base.to_vec()]),
        "s1" => (
            vec![(Phase::Access, vec![chunk("s1_access.lua")])],
            vec![base.to_vec(), [&base[..], &[("x-custom-auth", "demo")]].concat()],
        ),
        "s2" | "s5" => (
            vec![(Phase::Access, vec![chunk("s2_access.lua")]), (Phase::HeaderFilter, vec![chunk("s2_header_filter.lua")])],
            vec![[
                &base[..],
                &[("x-user", "  Alice "), ("x-tenant", "ACME"), ("x-region", "EU-West"), ("x-trace", "ABC123 "), ("accept", "application/json")],
            ]
            .concat()],
        ),
        other => {
            eprintln!("callgrind-driver: no scenario {other:?}");
            std::process::exit(2)
        }
    };
    let config = PluginConfig { phases: phases.clone(), role: None, shared_data_zone: None };
    let host = Rc::new(FakeHost::default());
    let mut runtimes: Vec<Runtime> =
        roles.iter().map(|role| Runtime::new(&config, *role, host.clone()).expect("the scenario configures")).collect();
    for i in 0..count {
        let request = &requests[i % requests.len()];
        *host.request.borrow_mut() = request.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect();
        host.response.borrow_mut().clear();
        host.sent.borrow_mut().clear();
        // Each filter keeps its own request state; a chain runs the request phases in
        // filter order (the response phases' order does not change the work).
        let mut states: Vec<RequestState> = runtimes.iter().map(|_| RequestState::default()).collect();
        'phases: for (phase, _) in &phases {
            for (runtime, state) in runtimes.iter_mut().zip(&mut states) {
                if !matches!(runtime.run_phase(*phase, state), PhaseOutcome::Continue) {
                    break 'phases;
                }
            }
        }
    }
}
