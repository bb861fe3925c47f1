//! How each proxy-wasm host really behaves, as data: one [`HostBehaviour`] value per
//! [`HostKind`]. The stream state machine and the [`HostView`](super::HostView) read it;
//! nothing else in the filter asks which host it is in to decide how to talk to it.
//!
//! Sources: Kong's engine (nginx + ngx_wasm_module), as measured and written down in
//! `shared/design/kong-engine.md` (each field names the ngx_wasm_module or nginx source
//! that explains it); Envoy and other hosts, the proxy-wasm ABI 0.2.1 spec and Envoy's
//! wasm filter (`source/extensions/common/wasm/context.cc`).

use crate::properties::HostKind;

/// How a request header is kept from the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDrop {
    /// `proxy_remove_header_map_value` removes it (Envoy, the ABI).
    Remove,
    /// Kong's engine only marks a removed entry, and nginx's proxy module still forwards
    /// it (`ngx_http_wasm_headers.c`, `ngx_http_proxy_module.c`): the value is replaced
    /// with `""` instead, and the filter remembers the header as gone.
    BlankValue,
}

/// How a new request path or query reaches the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriChange {
    /// Setting `:path` (Envoy, the ABI).
    PseudoHeader,
    /// nginx ignores `:path` for `proxy_pass` without a URI part; setting the `ngx.args`
    /// property marks the URI changed, so `:path` then takes effect (kong-engine.md,
    /// "Request headers").
    PathAndArgs,
    /// Kong Gateway proxies to `$upstream_uri`: only the `ngx.upstream_uri` property
    /// changes what the upstream receives (kong-engine.md).
    UpstreamUri,
}

/// When the request body reaches the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBodyDelivery {
    /// Body callbacks follow the headers as data arrives; `end_of_stream` on the request
    /// headers is reliable; a paused request-headers callback is resumed when a later
    /// body callback returns Continue (Envoy).
    Streamed,
    /// The host reads the whole body when request headers return Continue, then calls
    /// `proxy_on_request_body` once with `end_of_stream` true; none for an empty body;
    /// request headers always say `end_of_stream` false, and a paused request-headers
    /// callback is never resumed (kong-engine.md, "Request bodies").
    OnceAfterHeaders,
    /// Body callbacks follow the headers as data arrives, but only once the headers
    /// continued: a paused request-headers callback gets no body callback at all (Envoy
    /// before 1.35, or without `allow_on_headers_stop_iteration`: proxy-wasm-cpp-host
    /// `convertVmCallResultToFilterHeadersStatus` turns the pause into
    /// `StopAllIterationAndWatermark`; `shared/design/envoy-host.md`, "Stream control").
    /// The filter lets the headers go and runs `rewrite`/`access` on the whole body;
    /// request header changes can no longer reach the upstream then.
    StreamedAfterHeaders,
}

/// How a replaced body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyReplace {
    /// `proxy_set_buffer_bytes(0, old size, new)` replaces the whole buffer; the filter
    /// sets `Content-Length` itself (Envoy).
    WholeBuffer,
    /// The size argument caps the new data, so it is the new length; the host recomputes
    /// `Content-Length`, and a filter's own would be wrong (kong-engine.md).
    NewLength,
}

/// One host's behaviours that the filter must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostBehaviour {
    /// How request headers are dropped.
    pub header_drop: HeaderDrop,
    /// How path and query changes reach the upstream.
    pub uri_change: UriChange,
    /// Whether `Pause` from response headers holds them until the body is in (Kong's
    /// engine ignores it: "Response headers cannot be held").
    pub holds_response_headers: bool,
    /// When request body callbacks come.
    pub request_body: RequestBodyDelivery,
    /// How a replaced body is framed.
    pub body_replace: BodyReplace,
    /// Whether shared data keys must name a declared zone (`<zone>/key`): Kong's engine
    /// traps the instance on a key whose zone is not declared, and no call probes for a
    /// zone safely (kong-engine.md, "Shared data and queues").
    pub shared_data_needs_zone: bool,
    /// Whether the host appends `\n` to a non-empty local response body
    /// (`ngx_http_wasm_local_response.c`).
    pub local_body_newline: bool,
    /// Whether a single-header read (`proxy_get_header_map_value`) answers as the pairs
    /// read does. On ngx_wasm_module a removed request header is only marked, and the
    /// single-header read still returns it while the pairs read omits it (kong-engine.md,
    /// header removal; `src/http/ngx_http_wasm_headers.c`), so there request headers are
    /// read from the pairs only.
    pub single_header_reads: bool,
    /// Whether the bytes of an upgraded (101) stream reach the filter as body data, so
    /// the WebSocket frame phases can run. Envoy passes upgraded streams through its HTTP
    /// filters as request and response data. nginx's engine cannot: ngx_wasm_module runs
    /// filters from nginx's header and body output filters
    /// (`src/http/ngx_http_wasm_filter_module.c`) and its request-body reader, and
    /// after a 101 nginx's proxy module hands the connection to its tunnel
    /// (`ngx_http_upstream_upgrade` / `ngx_http_upstream_process_upgraded` in nginx's
    /// `src/http/ngx_http_upstream.c`), which copies bytes between the two sockets
    /// without either.
    pub carries_upgraded_streams: bool,
    /// Whether an outbound call's connect failure or timeout arrives as the host's own
    /// response (Envoy's async client answers 503 `upstream connect error ...` / 504
    /// `upstream request timeout`, envoy-host.md "Outbound calls") rather than as no
    /// response with ngx_wasm_module's `:dispatch_status` (docs/PROXY_WASM.md).
    pub call_failures_as_replies: bool,
    /// Whether the root context can act on a paused stream from `proxy_on_tick`
    /// (`proxy_set_effective_context`, then `proxy_continue_stream`), which is how an
    /// `ngx.sleep` ends. Envoy switches the effective context (proxy-wasm-cpp-host
    /// `exports.cc` `set_effective_context`); ngx_wasm_module's
    /// `proxy_set_effective_context` is a no-op (`ngx_proxy_wasm_host.c`
    /// `ngx_proxy_wasm_hfuncs_set_effective_context`), so there a tick only ever acts on
    /// the root context, and `ngx.sleep` cannot wait.
    pub resumes_streams_from_ticks: bool,
    /// Whether request headers stay readable after their callback continued. Envoy's
    /// `Context` drops its handle on them (`Context::decodeHeaders` and
    /// `continueStream` null `request_headers_`; readable again only in `proxy_on_log`),
    /// so the filter keeps what the request phases left for the later ones.
    pub request_headers_after_continue: bool,
    /// The same for response headers after `proxy_on_response_headers` continued
    /// (`Context::encodeHeaders`).
    pub response_headers_after_continue: bool,
}

impl HostBehaviour {
    /// The behaviour of `kind`.
    pub const fn of(kind: HostKind) -> HostBehaviour {
        match kind {
            HostKind::Kong => HostBehaviour { uri_change: UriChange::UpstreamUri, ..NGINX },
            HostKind::Nginx => NGINX,
            HostKind::Envoy => ENVOY,
            HostKind::Generic => ABI,
        }
    }

    /// The behaviour of `kind` when the host's plugins set Envoy's
    /// `allow_on_headers_stop_iteration` (`hold` true: Envoy 1.35+ delivers the body to
    /// a filter holding the request headers) or not. Only Envoy's differs.
    pub const fn with_envoy_hold(kind: HostKind, hold: bool) -> HostBehaviour {
        match kind {
            HostKind::Envoy if hold => ENVOY_HOLD,
            _ => HostBehaviour::of(kind),
        }
    }
}

/// Envoy, and any host that follows the ABI as written.
const ABI: HostBehaviour = HostBehaviour {
    header_drop: HeaderDrop::Remove,
    uri_change: UriChange::PseudoHeader,
    holds_response_headers: true,
    request_body: RequestBodyDelivery::Streamed,
    body_replace: BodyReplace::WholeBuffer,
    shared_data_needs_zone: false,
    local_body_newline: false,
    single_header_reads: true,
    carries_upgraded_streams: true,
    call_failures_as_replies: true,
    resumes_streams_from_ticks: true,
    request_headers_after_continue: true,
    response_headers_after_continue: true,
};

/// Envoy before 1.35, or without `allow_on_headers_stop_iteration` (its default).
const ENVOY: HostBehaviour = HostBehaviour {
    request_body: RequestBodyDelivery::StreamedAfterHeaders,
    // A hold of the response headers stops the response body too
    // (StopAllIterationAndWatermark): buffered responses are filtered as on Kong's
    // engine, header_filter on the headers and body_filter on the whole body.
    holds_response_headers: false,
    request_headers_after_continue: false,
    response_headers_after_continue: false,
    ..ABI
};

/// Envoy 1.35+ with `allow_on_headers_stop_iteration: true` (what `envoy/envoy.yaml` sets).
const ENVOY_HOLD: HostBehaviour = HostBehaviour { request_body: RequestBodyDelivery::Streamed, holds_response_headers: true, ..ENVOY };

/// nginx with ngx_wasm_module (Kong's engine outside Kong Gateway).
const NGINX: HostBehaviour = HostBehaviour {
    header_drop: HeaderDrop::BlankValue,
    uri_change: UriChange::PathAndArgs,
    holds_response_headers: false,
    request_body: RequestBodyDelivery::OnceAfterHeaders,
    body_replace: BodyReplace::NewLength,
    shared_data_needs_zone: true,
    local_body_newline: true,
    single_header_reads: false,
    carries_upgraded_streams: false,
    call_failures_as_replies: false,
    resumes_streams_from_ticks: false,
    // nginx keeps `r->headers_in`/`headers_out` for the whole request.
    request_headers_after_continue: true,
    response_headers_after_continue: true,
};
