//! What the PDK needs from a host's properties, mapped onto each host's names.
//!
//! proxy-wasm hosts expose request, connection and node facts as properties
//! (`proxy_get_property`), but under different names: Envoy has its attributes
//! (`source.address`, `request.id`, `route_name`, `node.id`), Kong's Wasm engine
//! (ngx_wasm_module) has most of those plus Kong's own `kong.*` names
//! (`kong.route_id`, `kong.client.protocol`, `kong.ctx.shared.*`, `kong.configuration.*`,
//! as Kong's `kong/runloop/wasm.lua` registers them) and nginx variables as `ngx.*`.
//! This module is the one place that knows which name each host uses.
//!
//! The host is detected on the first HTTP callback ([`HostKind::detect`]), never at
//! configure: Kong's engine refuses dotted properties outside a request (one `[error]`
//! line per read) and logs an `[alert]` for `plugin_vm_id` at any time.

use crate::host::Host;

/// The proxy-wasm host the filter runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// Envoy: Envoy attributes, filter state through `set_property`.
    Envoy,
    /// Kong Gateway on its Wasm engine (ngx_wasm_module): Envoy attributes plus `kong.*`
    /// and `ngx.*` properties; every value is a string.
    Kong,
    /// nginx with ngx_wasm_module outside Kong: `ngx.*` properties and Envoy attributes,
    /// no `kong.*`.
    Nginx,
    /// Another host: Envoy attribute names only.
    Generic,
}

impl HostKind {
    /// Detects the host from inside a request: `ngx.nginx_version` means nginx's engine
    /// (then `kong.version` means Kong Gateway on it), else `plugin_vm_id` means Envoy.
    /// `plugin_vm_id` is never read on nginx, which logs an `[alert]` for it.
    pub fn detect(host: &dyn Host) -> HostKind {
        if host.property(&["ngx", "nginx_version"]).is_some() {
            if host.property(&["kong", "version"]).is_some() {
                HostKind::Kong
            } else {
                HostKind::Nginx
            }
        } else if host.property(&["plugin_vm_id"]).is_some() {
            HostKind::Envoy
        } else {
            HostKind::Generic
        }
    }

    /// Whether this is nginx's engine, where every nginx variable is an `ngx.*` property.
    pub fn is_nginx(self) -> bool {
        matches!(self, HostKind::Kong | HostKind::Nginx)
    }

    /// The host's name in PDK errors ("not supported by this host (envoy)").
    pub fn name(self) -> &'static str {
        match self {
            HostKind::Envoy => "envoy",
            HostKind::Kong => "kong",
            HostKind::Nginx => "nginx",
            HostKind::Generic => "proxy-wasm",
        }
    }
}

/// A fact the PDK reads from host properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The client's IP address (`kong.client.get_ip`, `ngx.var.remote_addr`).
    ClientAddress,
    /// The client's source port (`kong.client.get_port`, `ngx.var.remote_port`).
    ClientPort,
    /// The port the request came in on (`kong.request.get_port`, `ngx.var.server_port`).
    ServerPort,
    /// `http` or `https` (`kong.request.get_scheme`).
    Scheme,
    /// The request id (`x-request-id` in both hosts).
    RequestId,
    /// Time the request's first byte arrived.
    RequestTime,
    /// HTTP version of the client request, e.g. `HTTP/1.1`.
    Protocol,
    /// The matched route's id (Kong only).
    RouteId,
    /// The matched route's name.
    RouteName,
    /// The matched service's id (Kong only).
    ServiceId,
    /// The matched service's name (Envoy: the upstream cluster).
    ServiceName,
    /// The matched route as JSON (Kong's `kong.router.route`).
    RouteJson,
    /// The matched service as JSON (Kong's `kong.router.service`).
    ServiceJson,
    /// The node's id (`kong.node.get_id`).
    NodeId,
    /// The node's host name (`kong.node.get_hostname`).
    Hostname,
    /// The gateway's version (`kong.version`).
    Version,
    /// `http`, `https`, `grpc`, `grpcs` ... (`kong.client.get_protocol`).
    ClientProtocol,
    /// `X-Forwarded-Host` as Kong trusts it (`kong.request.get_forwarded_host`).
    ForwardedHost,
    /// `X-Forwarded-Port` as Kong trusts it.
    ForwardedPort,
    /// `X-Forwarded-Proto` as Kong trusts it.
    ForwardedScheme,
    /// Where the response came from (`kong.response.get_source`).
    ResponseSource,
    /// The upstream's response status (`kong.service.response.get_status`).
    ServiceResponseStatus,
    /// The prefix Kong's router stripped (`kong.request.get_forwarded_prefix`; Kong only).
    ForwardedPrefix,
    /// The address of the peer itself, before any `X-Forwarded-For`/real-IP rewriting
    /// (`kong.client.get_ip`; Kong: `realip_remote_addr`).
    RealClientAddress,
    /// The peer's own source port (`kong.client.get_port`; Kong: `realip_remote_port`).
    RealClientPort,
    /// Bytes received from the client, headers included (`kong.log.serialize`'s
    /// `request.size`; Kong: `request_length`).
    RequestSize,
    /// Bytes sent to the client, headers included (`response.size`; Kong: `bytes_sent`).
    ResponseSize,
    /// Kong's `trusted_ips` setting (JSON array or comma list; Kong only).
    TrustedIps,
    /// Kong's `host_ports` (from its `port_maps` setting: the port the client used for each
    /// port Kong listens on; a JSON object `{"8000": 80}` or `port_maps`' `80:8000` list;
    /// Kong only).
    HostPorts,
    /// The downstream connection's identity (`connection.id`: Envoy's connection id;
    /// ngx_wasm_module's `get_connection_id`, nginx's connection number): keys the
    /// `certificate` phase, once per connection.
    ConnectionId,
    /// The TLS SNI the client sent (`ngx.ssl.server_name`; nginx: `ssl_server_name`,
    /// elsewhere `connection.requested_server_name`).
    TlsServerName,
    /// The TLS version, e.g. `TLSv1.3` (nginx: `ssl_protocol`; `connection.tls_version`).
    TlsVersion,
    /// The client certificate's subject DN (nginx: `ssl_client_s_dn`; elsewhere
    /// `connection.subject_peer_certificate`, which nginx's engine logs as NYI).
    PeerSubject,
    /// The nginx worker's process id (`ngx.worker.pid`; nginx's `$pid`, nginx only).
    WorkerPid,
    /// nginx's version, e.g. `1.27.4` (`ngx.config.nginx_version`; `$nginx_version`).
    NginxVersion,
}

impl Need {
    /// The property paths to try for this need on `kind`, in order.
    pub fn paths(self, kind: HostKind) -> &'static [&'static [&'static str]] {
        use HostKind::*;
        use Need::*;
        match (self, kind) {
            (ClientAddress, Kong) => &[&["ngx", "remote_addr"], &["source", "address"]],
            (ClientAddress, _) => &[&["source", "address"]],
            (ClientPort, Kong) => &[&["ngx", "remote_port"], &["source", "port"]],
            (ClientPort, _) => &[&["source", "port"]],
            (ServerPort, Kong) => &[&["kong", "request", "port"], &["ngx", "server_port"]],
            (ServerPort, _) => &[&["destination", "port"]],
            (Scheme, _) => &[&["request", "scheme"]],
            (RequestId, _) => &[&["request", "id"]],
            (RequestTime, _) => &[&["request", "time"]],
            (Protocol, _) => &[&["request", "protocol"]],
            (RouteId, Kong) => &[&["kong", "route_id"]],
            (RouteId, _) => &[],
            (RouteName, Kong) => &[&["kong", "route_name"]],
            (RouteName, _) => &[&["route_name"]],
            (ServiceId, Kong) => &[&["kong", "service_id"]],
            (ServiceId, _) => &[],
            (ServiceName, Kong) => &[&["kong", "service_name"]],
            (ServiceName, _) => &[&["cluster_name"]],
            (RouteJson, Kong) => &[&["kong", "router", "route"]],
            (RouteJson, _) => &[],
            (ServiceJson, Kong) => &[&["kong", "router", "service"]],
            (ServiceJson, _) => &[],
            (NodeId, Kong) => &[&["kong", "node", "id"]],
            (NodeId, _) => &[&["node", "id"]],
            (Hostname, Kong) => &[&["ngx", "hostname"]],
            (Hostname, _) => &[&["node", "metadata", "hostname"]],
            (Version, Kong) => &[&["kong", "version"]],
            (Version, _) => &[],
            (ClientProtocol, Kong) => &[&["kong", "client", "protocol"]],
            (ClientProtocol, _) => &[],
            (ForwardedHost, Kong) => &[&["kong", "request", "forwarded_host"]],
            (ForwardedHost, _) => &[],
            (ForwardedPort, Kong) => &[&["kong", "request", "forwarded_port"]],
            (ForwardedPort, _) => &[],
            (ForwardedScheme, Kong) => &[&["kong", "request", "forwarded_scheme"]],
            (ForwardedScheme, _) => &[],
            (ResponseSource, Kong) => &[&["kong", "response", "source"]],
            (ResponseSource, _) => &[],
            (ServiceResponseStatus, Kong) => &[&["kong", "service", "response", "status"]],
            (ServiceResponseStatus, _) => &[],
            (ForwardedPrefix, Kong) => &[&["ngx", "upstream_x_forwarded_prefix"]],
            (ForwardedPrefix, _) => &[],
            (RealClientAddress, Kong) => &[&["ngx", "realip_remote_addr"], &["ngx", "remote_addr"], &["source", "address"]],
            (RealClientAddress, _) => &[&["source", "address"]],
            (RealClientPort, Kong) => &[&["ngx", "realip_remote_port"], &["ngx", "remote_port"], &["source", "port"]],
            (RealClientPort, _) => &[&["source", "port"]],
            (RequestSize, Kong) => &[&["ngx", "request_length"]],
            (RequestSize, _) => &[&["request", "total_size"]],
            (ResponseSize, Kong) => &[&["ngx", "bytes_sent"]],
            (ResponseSize, _) => &[&["response", "total_size"]],
            (TrustedIps, Kong) => &[&["kong", "configuration", "trusted_ips"]],
            (TrustedIps, _) => &[],
            (HostPorts, Kong) => &[&["kong", "configuration", "host_ports"]],
            (HostPorts, _) => &[],
            (ConnectionId, _) => &[&["connection", "id"]],
            (TlsServerName, Kong | Nginx) => &[&["ngx", "ssl_server_name"]],
            (TlsServerName, _) => &[&["connection", "requested_server_name"]],
            (TlsVersion, Kong | Nginx) => &[&["ngx", "ssl_protocol"]],
            (TlsVersion, _) => &[&["connection", "tls_version"]],
            (PeerSubject, Kong | Nginx) => &[&["ngx", "ssl_client_s_dn"]],
            (PeerSubject, _) => &[&["connection", "subject_peer_certificate"]],
            (WorkerPid, Kong | Nginx) => &[&["ngx", "pid"]],
            (WorkerPid, _) => &[],
            (NginxVersion, Kong | Nginx) => &[&["ngx", "nginx_version"]],
            (NginxVersion, _) => &[],
        }
    }

    /// The first of [`Need::paths`] the host answers, as raw bytes.
    pub fn read(self, host: &dyn Host, kind: HostKind) -> Option<Vec<u8>> {
        self.paths(kind).iter().find_map(|path| host.property(path))
    }

    /// [`Need::read`] as text (lossy UTF-8), with Envoy's `ip:port` addresses reduced
    /// to the IP for [`Need::ClientAddress`] (Kong's `remote_addr` has no port).
    pub fn read_text(self, host: &dyn Host, kind: HostKind) -> Option<String> {
        let bytes = self.read(host, kind)?;
        let text = match self {
            Need::ClientPort | Need::ServerPort => port_text(&bytes),
            Need::RealClientPort | Need::RequestSize | Need::ResponseSize => port_text(&bytes),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        };
        Some(match self {
            Need::ClientAddress | Need::RealClientAddress => strip_port(&text).to_owned(),
            _ => text,
        })
    }
}

/// The property path of `kong.ctx.shared.<key>` on `kind`: Kong's namespace handler on
/// Kong; elsewhere a filter-state property of our own, which Envoy keeps per stream and
/// shares between the filters of one chain.
pub fn ctx_shared_path(kind: HostKind, key: &str) -> Vec<String> {
    match kind {
        HostKind::Kong => vec!["kong".into(), "ctx".into(), "shared".into(), key.into()],
        // ngx_wasm_module outside Kong: its host-property namespace `wasmx.*` holds
        // values per request, shared by every filter of the chain
        // (ngx_proxy_wasm_properties.c `ngx_proxy_wasm_properties_set_host`); `kong.*`
        // exists only inside Kong Gateway (kong-engine.md, "Measured again 2026-12-07").
        HostKind::Nginx => vec!["wasmx".into(), format!("kong_functions.ctx.shared.{key}")],
        // Envoy: filter state `wasm.<path>`, read back only under a single-segment path
        // (context.cc `Context::setProperty`, `findValue`).
        _ => vec![format!("kong_functions.ctx.shared.{key}")],
    }
}

/// Ports are strings on Kong and 8-byte little-endian integers on Envoy.
fn port_text(bytes: &[u8]) -> String {
    if bytes.len() == 8 && !bytes.iter().all(u8::is_ascii_digit) {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        return i64::from_le_bytes(raw).to_string();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// `10.0.0.1:5678` → `10.0.0.1`, `[::1]:5678` → `::1`; an address without a port is kept.
pub fn strip_port(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => address,
    }
}

/// Envoy's `request.time` is a timestamp serialized as 8-byte little-endian nanoseconds;
/// Kong's is seconds with a millisecond fraction as text. Both to milliseconds.
pub fn time_ms(bytes: &[u8]) -> Option<u64> {
    if bytes.len() == 8 && !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        return u64::try_from(i64::from_le_bytes(raw) / 1_000_000).ok();
    }
    let seconds: f64 = std::str::from_utf8(bytes).ok()?.trim().parse().ok()?;
    Some((seconds * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdk::testing::FakeHost;

    #[test]
    fn detects_the_host_by_its_own_properties() {
        let kong = FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("kong.version", "3.9.0");
        assert_eq!(HostKind::detect(&kong), HostKind::Kong);
        let nginx = FakeHost::default().with_property("ngx.nginx_version", "1.27.4").with_property("plugin_vm_id", "x");
        assert_eq!(HostKind::detect(&nginx), HostKind::Nginx);
        // nginx logs an [alert] for plugin_vm_id: it is never read there.
        assert!(!nginx.reads.borrow().iter().any(|p| p == "plugin_vm_id"), "{:?}", nginx.reads.borrow());
        assert_eq!(HostKind::detect(&FakeHost::default().with_property("plugin_vm_id", "vm")), HostKind::Envoy);
        assert_eq!(HostKind::detect(&FakeHost::default()), HostKind::Generic);
    }

    #[test]
    fn client_address_loses_envoys_port() {
        let envoy = FakeHost::default().with_property("source.address", "10.1.2.3:5555");
        assert_eq!(Need::ClientAddress.read_text(&envoy, HostKind::Envoy).as_deref(), Some("10.1.2.3"));
        let v6 = FakeHost::default().with_property("source.address", "[::1]:5555");
        assert_eq!(Need::ClientAddress.read_text(&v6, HostKind::Envoy).as_deref(), Some("::1"));
        let kong = FakeHost::default().with_property("ngx.remote_addr", "10.9.9.9");
        assert_eq!(Need::ClientAddress.read_text(&kong, HostKind::Kong).as_deref(), Some("10.9.9.9"));
    }

    #[test]
    fn ports_and_times_read_in_both_encodings() {
        let envoy = FakeHost::default();
        envoy.properties.borrow_mut().insert("source.port".into(), 5555i64.to_le_bytes().to_vec());
        assert_eq!(Need::ClientPort.read_text(&envoy, HostKind::Envoy).as_deref(), Some("5555"));
        assert_eq!(time_ms(&1_700_000_000_123_000_000i64.to_le_bytes()), Some(1_700_000_000_123));
        assert_eq!(time_ms(b"1700000000.123"), Some(1_700_000_000_123));
    }

    #[test]
    fn kong_only_facts_are_absent_elsewhere() {
        let envoy = FakeHost::default().with_property("kong.route_id", "r1");
        assert_eq!(Need::RouteId.read(&envoy, HostKind::Envoy), None);
        assert_eq!(Need::RouteId.read(&envoy, HostKind::Kong).as_deref(), Some(&b"r1"[..]));
    }
}
