//! Host properties as Envoy and Kong answer them (`proxy_get_property`/`proxy_set_property`).
//!
//! Lookup order for a path (segments joined with `.`): values a filter stored with
//! `proxy_set_property` during the stream (filter state, readable by every filter of the
//! stream), then values set from a root context, then `ChainSpec.properties`, then the
//! values the host computes from the stream ([`computed`]).
//!
//! Envoy ([attributes](https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes)):
//! strings as bytes, ports and `response.code` as 8-byte little-endian integers,
//! `request.time` as 8-byte little-endian nanoseconds since the epoch.
//! Kong (ngx_wasm_module `docs/PROXY_WASM.md`, Kong's `kong/runloop/wasm.lua`): every
//! value is a string; `kong.*` and `ngx.*` namespaces. What ngx_wasm_module answers
//! before this lookup (scoped reads outside a request, `plugin_vm_id` NYI, `route_name`
//! not supported, `plugin_root_id` "0", `plugin_name`) is in `abi::kong_get_property`.

use crate::abi::StreamData;
use crate::spec::HostProfile;

/// The client address the harness pretends requests come from.
pub const CLIENT_IP: &str = "127.0.0.1";
/// The client port the harness pretends requests come from.
pub const CLIENT_PORT: i64 = 54321;
/// The port the harness pretends to listen on (Kong's proxy port).
pub const SERVER_PORT: i64 = 8000;
/// `kong.version` on the Kong profile (Kong's `kong/meta.lua`).
pub const KONG_VERSION: &str = "3.10.0";
/// `kong.node.id` on the Kong profile.
pub const KONG_NODE_ID: &str = "6e2f7a3c-0d7a-4b36-9c1e-5b7f0a1c2d3e";
/// `kong.route_id` on the Kong profile.
pub const KONG_ROUTE_ID: &str = "0a3f5c1e-8b2d-4e6f-9a7c-1d2e3f4a5b6c";
/// `kong.service_id` on the Kong profile.
pub const KONG_SERVICE_ID: &str = "7b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// `ngx.nginx_version` on the Kong profile (kong-engine.md: nginx 1.27.4).
pub const NGINX_VERSION: &str = "1.27.4";
/// The host name (`ngx.hostname`, Kong's `request.host`, Envoy's `node.metadata.hostname`).
pub const HOSTNAME: &str = "wasm-harness";
/// The address Kong's `$upstream_addr` (Envoy's `upstream.address`) names for the
/// harness's (in-process) upstream.
pub const UPSTREAM_ADDRESS: &str = "127.0.0.1:8080";

/// Whether `path` may be written with `proxy_set_property` on `profile`.
///
/// Envoy accepts any path (stored as filter state). Kong accepts `kong.ctx.shared.*`,
/// `kong.service.target`/`upstream`/`request.scheme`, `kong.response.status`, `wasmx.*`,
/// and `ngx.*` variables other than the built-in read-only ones; writing a read-only
/// Envoy attribute or `kong.configuration.*` is refused ([`SetRule::Refuse`]); an
/// immutable nginx variable traps, as ngx_wasm_module documents.
pub fn set_rule(profile: HostProfile, key: &str) -> SetRule {
    if profile == HostProfile::Envoy {
        return SetRule::Store;
    }
    const IMMUTABLE_NGX: &[&str] = &[
        "ngx.remote_addr",
        "ngx.remote_port",
        "ngx.hostname",
        "ngx.server_port",
        "ngx.scheme",
        "ngx.request_uri",
        "ngx.uri",
        "ngx.request_method",
        "ngx.host",
        "ngx.server_protocol",
        "ngx.server_addr",
    ];
    if IMMUTABLE_NGX.contains(&key) {
        return SetRule::Trap;
    }
    if key.starts_with("kong.ctx.shared.") || key.starts_with("wasmx.") || key.starts_with("ngx.") {
        return SetRule::Store;
    }
    match key {
        "kong.service.target" => SetRule::Target,
        "kong.service.upstream" | "kong.service.request.scheme" | "kong.response.status" => SetRule::Store,
        _ => SetRule::Refuse,
    }
}

/// What `proxy_set_property` does with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetRule {
    /// Store the value (filter state).
    Store,
    /// Store it if it is `host:port` (Kong's `kong.service.target` setter), else refuse.
    Target,
    /// Answer `BadArgument` (read-only path).
    Refuse,
    /// Trap (Kong: immutable nginx variable).
    Trap,
}

fn int(value: i64) -> Vec<u8> {
    value.to_le_bytes().to_vec()
}

fn header<'a>(map: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    map.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
}

/// The value the host computes for `key` on `profile` from the stream, or `None`
/// (`NotFound`). `filter` is the filter's name (`plugin_name`, `plugin_root_id`).
pub fn computed(profile: HostProfile, key: &str, filter: &str, root_id: &str, stream: &StreamData) -> Option<Vec<u8>> {
    let kong = profile == HostProfile::Kong;
    let req = &stream.request_headers;
    let path = header(req, ":path").map(<[u8]>::to_vec).unwrap_or_default();
    let (url_path, query) = match path.iter().position(|&b| b == b'?') {
        Some(i) => (path[..i].to_vec(), path[i + 1..].to_vec()),
        None => (path.clone(), Vec::new()),
    };
    let authority = header(req, ":authority").map(<[u8]>::to_vec).unwrap_or_default();
    let host_only = {
        let text = String::from_utf8_lossy(&authority).into_owned();
        crate::props::strip_port(&text).as_bytes().to_vec()
    };
    let scheme = header(req, ":scheme").map(<[u8]>::to_vec).unwrap_or_else(|| b"http".to_vec());
    let method = header(req, ":method").map(<[u8]>::to_vec).unwrap_or_else(|| b"GET".to_vec());
    let number = |n: i64| if kong { n.to_string().into_bytes() } else { int(n) };
    let status = stream.response_code.map(i64::from);

    if let Some(value) = crate::connection::property(profile, key, &stream.connection) {
        return value;
    }
    if let Some(name) = key.strip_prefix("request.headers.") {
        return header(req, &name.to_ascii_lowercase()).map(<[u8]>::to_vec);
    }
    if let Some(name) = key.strip_prefix("response.headers.") {
        return header(&stream.response_headers, &name.to_ascii_lowercase()).map(<[u8]>::to_vec);
    }
    let common = match key {
        "plugin_name" => Some(filter.as_bytes().to_vec()),
        "plugin_root_id" => Some(root_id.as_bytes().to_vec()),
        "request.path" => Some(path.clone()),
        "request.url_path" => Some(url_path.clone()),
        "request.query" => Some(query.clone()),
        "request.scheme" => Some(scheme.clone()),
        "request.method" => Some(method.clone()),
        "request.id" => header(req, "x-request-id").map(<[u8]>::to_vec),
        "request.useragent" => header(req, "user-agent").map(<[u8]>::to_vec),
        "request.referer" => header(req, "referer").map(<[u8]>::to_vec),
        "request.protocol" => Some(b"HTTP/1.1".to_vec()),
        "request.size" => Some(number(stream.request_body.len() as i64)),
        "source.address" if kong => Some(CLIENT_IP.as_bytes().to_vec()),
        "source.address" => Some(format!("{CLIENT_IP}:{CLIENT_PORT}").into_bytes()),
        "source.port" => Some(number(CLIENT_PORT)),
        "destination.address" if kong => Some(CLIENT_IP.as_bytes().to_vec()),
        "destination.address" => Some(format!("{CLIENT_IP}:{SERVER_PORT}").into_bytes()),
        "destination.port" => Some(number(SERVER_PORT)),
        "response.code" => status.map(number),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    if !kong {
        return match key {
            // A map value: `context.cc` `serializeValue` writes it as the ABI's pairs
            // (`proxy_get_header_map_pairs`' encoding).
            "request.headers" => Some(crate::abi::serialize_map(req)),
            "response.code_details" => stream.response_code_details.clone().map(String::into_bytes),
            "response.headers" if stream.response_code.is_some() => Some(crate::abi::serialize_map(&stream.response_headers)),
            "request.host" => Some(authority),
            "request.time" => Some(int(stream.request_time_ns as i64)),
            "response.total_size" => stream.response_sizes.map(|(total, _)| int(total as i64)),
            "response.size" => stream.response_sizes.map(|(_, body)| int(body as i64)),
            // Envoy's upstream host address once the (in-process) upstream answered.
            "upstream.address" => stream.upstream_elapsed_ns.map(|_| UPSTREAM_ADDRESS.as_bytes().to_vec()),
            "plugin_vm_id" => Some(Vec::new()),
            "node.id" => Some(b"wasm-harness".to_vec()),
            "node.metadata.hostname" => Some(HOSTNAME.as_bytes().to_vec()),
            // The route picked so far (`ChainSpec.routes`); without a route table the
            // harness's one catch-all route.
            "route_name" | "cluster_name" if stream.route.is_some() => {
                let route = stream.route.as_ref()?.as_ref()?;
                Some(if key == "route_name" { route.name.clone() } else { route.cluster.clone() }.into_bytes())
            }
            "route_name" => Some(b"harness-route".to_vec()),
            "cluster_name" => Some(b"echo".to_vec()),
            _ => None,
        };
    }
    let seconds = format!("{}.{:03}", stream.request_time_ns / 1_000_000_000, (stream.request_time_ns / 1_000_000) % 1000);
    let text = |s: &str| Some(s.as_bytes().to_vec());
    match key {
        "request.host" | "ngx.hostname" => text(HOSTNAME),
        "request.time" => Some(seconds.into_bytes()),
        "kong.version" => text(KONG_VERSION),
        "kong.node.id" => text(KONG_NODE_ID),
        "kong.route_id" => text(KONG_ROUTE_ID),
        "kong.service_id" => text(KONG_SERVICE_ID),
        "kong.route_name" => text("harness-route"),
        "kong.service_name" => text("echo"),
        "kong.nginx.subsystem" => text("http"),
        "kong.client.protocol" => Some(scheme),
        "kong.request.port" | "kong.request.forwarded_port" | "ngx.server_port" => Some(SERVER_PORT.to_string().into_bytes()),
        "kong.request.forwarded_host" => Some(host_only.clone()),
        "kong.request.forwarded_scheme" | "ngx.scheme" => Some(scheme),
        "kong.response.source" => text(match status {
            None => "exit",
            Some(_) if stream.upstream_answered => "service",
            Some(_) => "exit",
        }),
        "kong.service.response.status" => status.filter(|_| stream.upstream_answered).map(|s| s.to_string().into_bytes()),
        "ngx.remote_addr" => text(CLIENT_IP),
        "ngx.remote_port" => Some(CLIENT_PORT.to_string().into_bytes()),
        "ngx.server_addr" => text(CLIENT_IP),
        // nginx variables (kong-engine.md "Properties in a request"): `$request_uri` stays
        // the client's; `$uri`/`$args` follow `:path` and `ngx.args` writes;
        // `$upstream_uri` is Kong's (kong/templates/nginx_kong.lua `proxy_pass`).
        "ngx.request_uri" => Some(stream.request_uri.clone()),
        "ngx.uri" => Some(stream.ngx_uri.clone()),
        "ngx.args" => Some(stream.ngx_args.clone()),
        "ngx.upstream_uri" => Some(stream.upstream_uri.clone().unwrap_or_else(|| stream.request_uri.clone())),
        "ngx.nginx_version" => text(NGINX_VERSION),
        "ngx.request_method" => Some(method),
        "ngx.host" => Some(host_only),
        "ngx.server_protocol" => text("HTTP/1.1"),
        // nginx's `$status`: "000" before there is a response (ngx_http_variable_status).
        "ngx.status" => Some(status.map(|s| s.to_string()).unwrap_or_else(|| "000".to_string()).into_bytes()),
        "ngx.bytes_sent" => stream.response_sizes.map(|(total, _)| total.to_string().into_bytes()),
        "ngx.body_bytes_sent" => stream.response_sizes.map(|(_, body)| body.to_string().into_bytes()),
        // The upstream variables once the (in-process) upstream answered: its address,
        // status and times ("%T.%03M" seconds; it answers whole, so the header time is the
        // response time, and there is no connect step: 0.000).
        "ngx.upstream_addr" => stream.upstream_elapsed_ns.map(|_| UPSTREAM_ADDRESS.as_bytes().to_vec()),
        "ngx.upstream_status" => stream.upstream_elapsed_ns.and(status).map(|s| s.to_string().into_bytes()),
        "ngx.upstream_connect_time" => stream.upstream_elapsed_ns.map(|_| b"0.000".to_vec()),
        "ngx.upstream_header_time" | "ngx.upstream_response_time" => stream.upstream_elapsed_ns.map(|ns| {
            let ms = ns / 1_000_000;
            format!("{}.{:03}", ms / 1000, ms % 1000).into_bytes()
        }),
        _ => key.strip_prefix("ngx.http_").and_then(|name| header(req, &name.replace('_', "-")).map(<[u8]>::to_vec)),
    }
}

/// `10.0.0.1:5678` → `10.0.0.1`, `[::1]:5678` → `::1`; a name without a port is kept.
pub fn strip_port(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => address,
    }
}

/// Kong's `kong.service.target` setter accepts `host:port` only.
pub fn valid_target(value: &[u8]) -> bool {
    let text = String::from_utf8_lossy(value);
    match text.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Kong's `kong.request.forwarded_{scheme,host,port}` properties as Kong answers them: its
/// own `kong.request.get_forwarded_*()` (kong/pdk/request.lua), which read
/// `X-Forwarded-Proto`/`-Host`/`-Port` only when the client address is in the
/// `trusted_ips` setting, and map the server port through `host_ports` (Kong's
/// `port_maps`). `config` is the chain's `kong.configuration.*` values (JSON, as the
/// chain file gives them); `None` for any other key.
pub fn kong_forwarded(key: &str, stream: &StreamData, config: &std::collections::BTreeMap<String, String>) -> Option<Vec<u8>> {
    if !matches!(key, "kong.request.forwarded_scheme" | "kong.request.forwarded_host" | "kong.request.forwarded_port") {
        return None;
    }
    let req = &stream.request_headers;
    let trusted = config
        .get("kong.configuration.trusted_ips")
        .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
        .is_some_and(|list| list.iter().any(|block| trusts(block, CLIENT_IP)));
    let first = |name: &str| header(req, name).map(|v| String::from_utf8_lossy(v).into_owned());
    let authority = header(req, ":authority").map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
    match key {
        "kong.request.forwarded_scheme" => {
            let forwarded = if trusted { first("x-forwarded-proto") } else { None };
            let scheme = header(req, ":scheme").map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_else(|| "http".into());
            Some(forwarded.map(|s| s.to_ascii_lowercase()).unwrap_or(scheme).into_bytes())
        }
        "kong.request.forwarded_host" => {
            let forwarded = if trusted { first("x-forwarded-host") } else { None };
            let host = match forwarded {
                Some(h) => {
                    let h = h.split_once('@').map(|(_, rest)| rest.to_string()).unwrap_or(h);
                    h.split(':').next().unwrap_or("").to_ascii_lowercase()
                }
                None => strip_port(&authority).to_ascii_lowercase(),
            };
            Some(host.into_bytes())
        }
        _ => {
            let valid = |p: &str| p.trim().parse::<i64>().ok().filter(|p| (1..=65535).contains(p));
            if trusted {
                if let Some(port) = first("x-forwarded-port").as_deref().and_then(valid) {
                    return Some(port.to_string().into_bytes());
                }
                if let Some(host) = first("x-forwarded-host") {
                    let host = host.split_once('@').map(|(_, rest)| rest.to_string()).unwrap_or(host);
                    if let Some(port) = host.split_once(':').and_then(|(_, p)| valid(p)) {
                        return Some(port.to_string().into_bytes());
                    }
                }
            }
            let published = config
                .get("kong.configuration.host_ports")
                .and_then(|v| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(v).ok())
                .and_then(|map| map.get(&SERVER_PORT.to_string()).and_then(serde_json::Value::as_i64));
            Some(published.unwrap_or(SERVER_PORT).to_string().into_bytes())
        }
    }
}

/// Whether a `trusted_ips` entry (an address or an IPv4/IPv6 CIDR block) holds `ip`.
fn trusts(block: &str, ip: &str) -> bool {
    let Ok(ip) = ip.parse::<std::net::IpAddr>() else { return false };
    let (address, bits) = match block.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (block, None),
    };
    match (address.trim().parse::<std::net::IpAddr>(), ip) {
        (Ok(std::net::IpAddr::V4(net)), std::net::IpAddr::V4(ip)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (Ok(std::net::IpAddr::V6(net)), std::net::IpAddr::V6(ip)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}
