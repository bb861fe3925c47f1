//! Downstream connections: several requests on one connection, with TLS properties per
//! connection, answered as each host answers them.
//!
//! A request file item `{"connection": {"id": 7, "tls": {...}}, "requests": [...]}` runs
//! its requests (plain or WebSocket) on one connection; a request outside such an item is
//! a connection of its own. Connection ids count up from 1 per chain, as nginx numbers
//! accepted connections (`r->connection->number`) and Envoy its connection ids; a file
//! may give one.
//!
//! Envoy (attributes, <https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes>,
//! "Connection attributes"; values as Envoy's `source/extensions/filters/common/expr/context.cc`
//! `ConnectionWrapper` and `extractSslInfo` give them): `connection.id` (uint64, 8 bytes
//! little-endian), `connection.mtls` (bool, one byte: TLS and a peer certificate
//! presented), `connection.requested_server_name` (the SNI, empty without one or without
//! TLS), and on TLS connections only `connection.tls_version`,
//! `connection.subject_local_certificate`, `connection.subject_peer_certificate`,
//! `connection.dns_san_{local,peer}_certificate` and `connection.uri_san_{local,peer}_certificate`
//! (the first entry), `connection.sha256_peer_certificate_digest`.
//!
//! Kong's engine (ngx_wasm_module 3bed278 `src/common/proxy_wasm/ngx_proxy_wasm_properties.c`,
//! its property table): `connection.id` is the connection number in decimal
//! (`get_connection_id`); `connection.requested_server_name` is `ngx.ssl_server_name`,
//! `connection.tls_version` `ngx.ssl_protocol`, and `connection.subject_local_certificate`
//! `ngx.ssl_client_s_dn` (the table maps it so: the *peer's* subject);
//! `connection.mtls` is `true` when `ngx.https` is `on` and `ngx.ssl_client_verify` is
//! `SUCCESS`, else `false`, and not found without TLS (`get_connection_mtls` returns the
//! variable lookup's NGX_DECLINED); the peer-certificate, SAN and digest attributes are NYI
//! (`abi::kong_get_property`). `ngx.*` are nginx variables (`ngx_proxy_wasm_properties_get_ngx`
//! → `ngx_http_get_variable`, not found → NotFound): `$connection`, `$connection_requests`
//! (nginx `ngx_http_variables.c`), `$https` (`on` or empty), and the `ngx_http_ssl_module`
//! variables (`ngx_http_ssl_vars`), not found on a plain connection (`ngx_http_ssl_variable`
//! sets `not_found` without `c->ssl`); on TLS without a client certificate the client
//! variables are empty and `$ssl_client_verify` is `NONE` (`ngx_event_openssl.c`
//! `ngx_ssl_get_client_verify`).

use serde::Deserialize;

use crate::spec::HostProfile;

/// A client certificate as the connection presented it (values as the host shows them:
/// nginx's `$ssl_client_s_dn` is RFC 2253, e.g. `CN=alice,O=Example`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerCertificate {
    /// Subject DN.
    #[serde(default)]
    pub subject: String,
    /// Issuer DN.
    #[serde(default)]
    pub issuer: String,
    /// Serial number, hex (nginx's `$ssl_client_serial`).
    #[serde(default)]
    pub serial: String,
    /// SHA-1 fingerprint, hex (nginx's `$ssl_client_fingerprint`).
    #[serde(default)]
    pub fingerprint: String,
    /// SHA-256 digest of the certificate, hex (Envoy's `sha256_peer_certificate_digest`).
    #[serde(default)]
    pub sha256_digest: String,
    /// DNS SAN entries.
    #[serde(default)]
    pub dns_san: Vec<String>,
    /// URI SAN entries (e.g. SPIFFE ids).
    #[serde(default)]
    pub uri_san: Vec<String>,
    /// Verification result (nginx's `$ssl_client_verify`): `SUCCESS` by default, or
    /// `FAILED:reason`.
    #[serde(default)]
    pub verify: Option<String>,
    /// Validity start and end (nginx's `$ssl_client_v_start`/`_v_end`, e.g.
    /// `Dec  1 00:00:00 2026 GMT`).
    #[serde(default)]
    pub not_before: String,
    /// See `not_before`.
    #[serde(default)]
    pub not_after: String,
    /// The certificate in PEM (nginx's `$ssl_client_raw_cert`).
    #[serde(default)]
    pub pem: String,
}

/// TLS on a downstream connection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// The SNI server name the client sent, if any.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Protocol as OpenSSL names it (`TLSv1.3` by default, `TLSv1.2`...).
    #[serde(default = "default_version")]
    pub version: String,
    /// Cipher as OpenSSL names it.
    #[serde(default = "default_cipher")]
    pub cipher: String,
    /// Whether the session was resumed (nginx's `$ssl_session_reused`: `r` or `.`).
    #[serde(default)]
    pub session_reused: bool,
    /// The proxy's own certificate subject (Envoy's `subject_local_certificate`).
    #[serde(default)]
    pub local_subject: String,
    /// The client's certificate (mutual TLS), if it sent one.
    #[serde(default)]
    pub peer_certificate: Option<PeerCertificate>,
}

fn default_version() -> String {
    "TLSv1.3".into()
}

fn default_cipher() -> String {
    "TLS_AES_256_GCM_SHA384".into()
}

/// A connection item of a request file: `{"connection": {...}, "requests": [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// The connection's identity and TLS.
    #[serde(default)]
    pub connection: ConnectionFields,
    /// Its requests, in order: request objects or `{"websocket": ...}` items.
    pub requests: Vec<serde_json::Value>,
}

/// `connection` of a [`ConnectionSpec`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionFields {
    /// The id the host gives it; default: the chain's next number.
    #[serde(default)]
    pub id: Option<u64>,
    /// TLS, absent for plain HTTP.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

/// The downstream connection a stream runs on, as the host knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The host's connection id (nginx's connection number, Envoy's connection id).
    pub id: u64,
    /// TLS, absent for plain HTTP.
    pub tls: Option<TlsSpec>,
    /// Which request of the connection this is, from 1 (nginx's `$connection_requests`).
    pub requests: u64,
}

/// One item of a request file.
// A file holds a handful of items: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RequestItem {
    /// A plain HTTP request on a connection of its own.
    Request(crate::RequestSpec),
    /// A WebSocket stream on a connection of its own.
    WebSocket(crate::ws::WebSocketSpec),
    /// Several streams on one connection.
    Connection(ConnectionSpec),
}

impl RequestItem {
    /// Reads one item: an object with `websocket` is a WebSocket stream, one with
    /// `requests` a connection, anything else a request.
    ///
    /// Errors: the item's shape (serde's message).
    pub fn from_value(value: serde_json::Value) -> Result<RequestItem, String> {
        let is = |key: &str| value.get(key).is_some();
        if is("websocket") {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Wrapper {
                websocket: crate::ws::WebSocketSpec,
            }
            return serde_json::from_value::<Wrapper>(value).map(|w| RequestItem::WebSocket(w.websocket)).map_err(|e| e.to_string());
        }
        if is("requests") {
            return serde_json::from_value(value).map(RequestItem::Connection).map_err(|e| e.to_string());
        }
        serde_json::from_value(value).map(RequestItem::Request).map_err(|e| e.to_string())
    }
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// The value of connection property `key` on `profile`: `None` when `key` is not a
/// connection property this module answers, `Some(None)` for NotFound, `Some(Some(v))`
/// for a value. (Kong's NYI and not-supported names are answered before, in
/// `abi::kong_get_property`.)
pub fn property(profile: HostProfile, key: &str, connection: &ConnectionInfo) -> Option<Option<Vec<u8>>> {
    match profile {
        HostProfile::Envoy => envoy(key, connection),
        HostProfile::Kong => kong(key, connection),
    }
}

fn envoy(key: &str, connection: &ConnectionInfo) -> Option<Option<Vec<u8>>> {
    let tls = connection.tls.as_ref();
    let peer = tls.and_then(|t| t.peer_certificate.as_ref());
    let first = |list: Option<&Vec<String>>| list.and_then(|l| l.first()).map(|s| s.as_bytes().to_vec());
    Some(match key {
        "connection.id" => Some(connection.id.to_le_bytes().to_vec()),
        "connection.mtls" => Some(vec![u8::from(peer.is_some())]),
        "connection.requested_server_name" => Some(tls.and_then(|t| t.server_name.clone()).unwrap_or_default().into_bytes()),
        "connection.tls_version" => tls.map(|t| t.version.clone().into_bytes()),
        "connection.subject_local_certificate" => tls.map(|t| t.local_subject.clone().into_bytes()),
        "connection.subject_peer_certificate" => tls.map(|_| peer.map(|p| p.subject.clone()).unwrap_or_default().into_bytes()),
        "connection.dns_san_peer_certificate" => first(peer.map(|p| &p.dns_san)),
        "connection.uri_san_peer_certificate" => first(peer.map(|p| &p.uri_san)),
        "connection.dns_san_local_certificate" | "connection.uri_san_local_certificate" => None,
        "connection.sha256_peer_certificate_digest" => peer.filter(|p| !p.sha256_digest.is_empty()).map(|p| p.sha256_digest.clone().into_bytes()),
        _ => return None,
    })
}

fn kong(key: &str, connection: &ConnectionInfo) -> Option<Option<Vec<u8>>> {
    let tls = connection.tls.as_ref();
    let ngx = match key {
        "connection.id" | "ngx.connection" => return Some(text(&connection.id.to_string())),
        "ngx.connection_requests" => return Some(text(&connection.requests.max(1).to_string())),
        "ngx.https" => return Some(text(if tls.is_some() { "on" } else { "" })),
        "connection.mtls" => {
            let verified = tls.and_then(|t| t.peer_certificate.as_ref()).is_some_and(|p| p.verify.as_deref().unwrap_or("SUCCESS") == "SUCCESS");
            return Some(tls.map(|_| if verified { b"true".to_vec() } else { b"false".to_vec() }));
        }
        "connection.requested_server_name" => "ssl_server_name",
        "connection.tls_version" => "ssl_protocol",
        "connection.subject_local_certificate" => "ssl_client_s_dn",
        other => match other.strip_prefix("ngx.") {
            Some(name) if name.starts_with("ssl_") => name,
            _ => return None,
        },
    };
    let Some(tls) = tls else { return Some(None) };
    Some(ssl_variable(ngx, tls))
}

/// An `ngx_http_ssl_module` variable on a TLS connection; `None` for one it does not
/// define (or the harness does not model).
fn ssl_variable(name: &str, tls: &TlsSpec) -> Option<Vec<u8>> {
    let peer = tls.peer_certificate.as_ref();
    let client = |field: fn(&PeerCertificate) -> &String| Some(peer.map(|p| field(p).clone()).unwrap_or_default().into_bytes());
    match name {
        "ssl_protocol" => text(&tls.version),
        "ssl_cipher" => text(&tls.cipher),
        "ssl_server_name" => Some(tls.server_name.clone().unwrap_or_default().into_bytes()),
        "ssl_session_reused" => text(if tls.session_reused { "r" } else { "." }),
        "ssl_client_verify" => Some(match peer {
            None => b"NONE".to_vec(),
            Some(p) => p.verify.clone().unwrap_or_else(|| "SUCCESS".into()).into_bytes(),
        }),
        "ssl_client_s_dn" => client(|p| &p.subject),
        "ssl_client_i_dn" => client(|p| &p.issuer),
        "ssl_client_serial" => client(|p| &p.serial),
        "ssl_client_fingerprint" => client(|p| &p.fingerprint),
        "ssl_client_v_start" => client(|p| &p.not_before),
        "ssl_client_v_end" => client(|p| &p.not_after),
        "ssl_client_raw_cert" => client(|p| &p.pem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mtls() -> ConnectionInfo {
        let peer = PeerCertificate {
            subject: "CN=alice,O=Example".into(),
            issuer: "CN=Example CA".into(),
            serial: "1A2B".into(),
            uri_san: vec!["spiffe://example.org/alice".into(), "spiffe://example.org/other".into()],
            ..PeerCertificate::default()
        };
        let tls = TlsSpec {
            server_name: Some("api.example.com".into()),
            version: "TLSv1.2".into(),
            cipher: default_cipher(),
            session_reused: false,
            local_subject: "CN=proxy".into(),
            peer_certificate: Some(peer),
        };
        ConnectionInfo { id: 7, tls: Some(tls), requests: 2 }
    }

    #[test]
    fn envoy_connection_attributes() {
        let c = mtls();
        let get = |k: &str| property(HostProfile::Envoy, k, &c).expect(k);
        assert_eq!(get("connection.id"), Some(7u64.to_le_bytes().to_vec()));
        assert_eq!(get("connection.mtls"), Some(vec![1]));
        assert_eq!(get("connection.requested_server_name"), text("api.example.com"));
        assert_eq!(get("connection.tls_version"), text("TLSv1.2"));
        assert_eq!(get("connection.subject_peer_certificate"), text("CN=alice,O=Example"));
        // "The first URI entry in the SAN field".
        assert_eq!(get("connection.uri_san_peer_certificate"), text("spiffe://example.org/alice"));
        let plain = ConnectionInfo { id: 3, tls: None, requests: 1 };
        let get = |k: &str| property(HostProfile::Envoy, k, &plain).expect(k);
        assert_eq!(get("connection.mtls"), Some(vec![0]));
        assert_eq!(get("connection.requested_server_name"), Some(Vec::new()));
        assert_eq!(get("connection.tls_version"), None);
        assert!(property(HostProfile::Envoy, "request.path", &plain).is_none());
    }

    #[test]
    fn kong_connection_properties_and_nginx_variables() {
        let c = mtls();
        let get = |k: &str| property(HostProfile::Kong, k, &c).expect(k);
        assert_eq!(get("connection.id"), text("7"));
        assert_eq!(get("ngx.connection"), text("7"));
        assert_eq!(get("ngx.connection_requests"), text("2"));
        assert_eq!(get("ngx.https"), text("on"));
        assert_eq!(get("connection.mtls"), text("true"));
        assert_eq!(get("connection.requested_server_name"), text("api.example.com"));
        assert_eq!(get("ngx.ssl_server_name"), text("api.example.com"));
        assert_eq!(get("connection.tls_version"), text("TLSv1.2"));
        assert_eq!(get("connection.subject_local_certificate"), text("CN=alice,O=Example"));
        assert_eq!(get("ngx.ssl_client_i_dn"), text("CN=Example CA"));
        assert_eq!(get("ngx.ssl_client_serial"), text("1A2B"));
        assert_eq!(get("ngx.ssl_client_verify"), text("SUCCESS"));
        let mut no_cert = c.clone();
        no_cert.tls.as_mut().unwrap().peer_certificate = None;
        assert_eq!(property(HostProfile::Kong, "ngx.ssl_client_verify", &no_cert).unwrap(), text("NONE"));
        assert_eq!(property(HostProfile::Kong, "ngx.ssl_client_s_dn", &no_cert).unwrap(), Some(Vec::new()));
        assert_eq!(property(HostProfile::Kong, "connection.mtls", &no_cert).unwrap(), text("false"));
        let plain = ConnectionInfo { id: 1, tls: None, requests: 1 };
        assert_eq!(property(HostProfile::Kong, "ngx.ssl_server_name", &plain).unwrap(), None);
        assert_eq!(property(HostProfile::Kong, "connection.mtls", &plain).unwrap(), None);
        assert_eq!(property(HostProfile::Kong, "ngx.https", &plain).unwrap(), Some(Vec::new()));
        assert!(property(HostProfile::Kong, "ngx.uri", &plain).is_none());
    }

    #[test]
    fn request_items() {
        let item = |v: serde_json::Value| RequestItem::from_value(v).unwrap();
        assert!(matches!(item(serde_json::json!({"path": "/"})), RequestItem::Request(_)));
        assert!(matches!(item(serde_json::json!({"websocket": {"path": "/ws"}})), RequestItem::WebSocket(_)));
        let RequestItem::Connection(c) = item(serde_json::json!({"connection": {"tls": {"server_name": "a"}}, "requests": [{"path": "/"}]})) else {
            panic!()
        };
        assert_eq!(c.connection.tls.unwrap().version, "TLSv1.3");
        assert!(RequestItem::from_value(serde_json::json!({"websocket": {"path": "/"}, "x": 1})).is_err());
    }
}
