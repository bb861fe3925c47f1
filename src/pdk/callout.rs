//! Outbound HTTP calls from Lua (`resty.http`, `src/lua/modules/resty_http.lua`) on the
//! host's `proxy_http_call`: the native `http_call` dispatches the call, records what the
//! request now waits on ([`Wait`]) and yields the chunk's Lua thread; the stream pauses
//! the request, and the call's answer ([`Answer`]) resumes the thread where it stopped
//! (`crate::runtime` `resume_phase`), the Lua side seeing `status, headers, body` or
//! `nil, err` as the native's results.
//!
//! Where a call goes: the URL's authority (`host:port`), or the name the VM
//! configuration's `upstreams` map gives it (Envoy needs a cluster name there; Kong's
//! engine resolves `host:port` with its resolver, ngx_wasm_module `docs/PROXY_WASM.md`
//! "HTTP Dispatches").

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use gc_arena::{Collect, Rootable};
use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::host::DispatchError;
use crate::phase::Phase;
use crate::pdk::{lua_string, Pdk};

/// What a suspended request waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// The answer to the outbound call with this token (`proxy_on_http_call_response`).
    HttpCall {
        /// The token `proxy_http_call` returned.
        token: u32,
        /// The host the URL named (for resolver error messages).
        host: String,
        /// When the call was dispatched (ns since the epoch, the host's clock).
        started_ns: u64,
    },
    /// The end of an `ngx.sleep`: a tick at or after `until_ns` wakes the chunk.
    Sleep {
        /// When the sleep ends (ns since the epoch, the host's clock).
        until_ns: u64,
        /// When it began.
        started_ns: u64,
    },
}

impl Wait {
    /// When the wait began (ns since the epoch).
    pub fn started_ns(&self) -> u64 {
        match self {
            Wait::HttpCall { started_ns, .. } | Wait::Sleep { started_ns, .. } => *started_ns,
        }
    }
}

/// The answer a suspended chunk resumes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A response: status, headers in order (pseudo-headers removed), body.
    Response(u16, Vec<(String, Vec<u8>)>, Vec<u8>),
    /// A failure, as lua-resty-http words it (`timeout`, `connection refused` ...).
    Failure(String),
    /// The end of a sleep: no values.
    Woken,
}

impl Answer {
    /// The values the native `http_call` returns with: `status, {{name, value}...}, body`,
    /// or `nil, err`.
    pub fn into_values<'gc>(self, ctx: Context<'gc>) -> Vec<Value<'gc>> {
        match self {
            Answer::Response(status, headers, body) => {
                let list = Table::new(&ctx);
                for (i, (name, value)) in headers.iter().enumerate() {
                    let pair = Table::new(&ctx);
                    pair.set(ctx, 1, lua_string(ctx, name.as_bytes())).ok();
                    pair.set(ctx, 2, lua_string(ctx, value)).ok();
                    list.set(ctx, i as i64 + 1, pair).ok();
                }
                vec![Value::Integer(i64::from(status)), Value::Table(list), lua_string(ctx, &body)]
            }
            Answer::Failure(err) => vec![Value::Nil, lua_string(ctx, err.as_bytes())],
            Answer::Woken => Vec::new(),
        }
    }
}

/// Maps a call's answer as the host delivered it to what lua-resty-http returns.
///
/// - A `:dispatch_status` pseudo-header is ngx_wasm_module's failure report
///   (`docs/PROXY_WASM.md`, `ngx_wasm_socket_tcp.c` status strings): `timeout` stays
///   `timeout`; `broken connection` (what a refused connect gives, its test
///   `130-proxy_dispatch_http.t` "connection refused") becomes lua-resty-http's
///   `connection refused`; `tls handshake failure` becomes `handshake failed`
///   (lua-nginx-module `sslhandshake`); `resolver failure` becomes nginx's
///   `no resolver defined to resolve "<host>"`, as ngx_wasm_module logs it.
/// - No `:status`: the call was reset, or its response overflowed the host's buffer
///   (Envoy, envoy-host.md): `closed`, as a cosocket read on a closed connection.
/// - With `local_replies` (Envoy: connect failures and timeouts arrive as the async
///   client's own 503/504, envoy-host.md "Outbound calls"): a 503 whose body starts
///   `upstream connect error or disconnect/reset before headers` is `connection refused`
///   when it names a connection failure, else `closed`; a 504 `upstream request timeout`
///   is `timeout` (Envoy's `router.cc` local reply bodies).
pub fn answer_from(headers: Vec<(String, Vec<u8>)>, body: Vec<u8>, host: &str, local_replies: bool) -> Answer {
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    if let Some(status) = header(":dispatch_status") {
        return Answer::Failure(match status.as_str() {
            "broken connection" => "connection refused".into(),
            "tls handshake failure" => "handshake failed".into(),
            "resolver failure" => format!("no resolver defined to resolve \"{host}\""),
            other => other.to_owned(),
        });
    }
    let Some(status) = header(":status").and_then(|s| s.trim().parse::<u16>().ok()) else {
        return Answer::Failure("closed".into());
    };
    if local_replies {
        let text = String::from_utf8_lossy(&body);
        if status == 503 && text.starts_with("upstream connect error or disconnect/reset before headers") {
            let refused = text.contains("connection failure") || text.contains("Connection refused");
            return Answer::Failure(if refused { "connection refused" } else { "closed" }.into());
        }
        if status == 504 && text.starts_with("upstream request timeout") {
            return Answer::Failure("timeout".into());
        }
    }
    let headers = headers.into_iter().filter(|(n, _)| !n.starts_with(':')).collect();
    Answer::Response(status, headers, body)
}

thread_local! {
    /// The VM configuration's `upstreams`: URL authority -> what `proxy_http_call` is
    /// given (the same for every plugin instance in the VM).
    static UPSTREAMS: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
    /// The executor the running chunk was started on (its address): a call made from
    /// Lua code run by another executor (a nested one) cannot suspend the request.
    static CHUNK_EXECUTOR: Cell<usize> = const { Cell::new(0) };
}

/// Sets the authority -> upstream map (from the VM configuration).
pub fn set_upstreams(map: BTreeMap<String, String>) {
    UPSTREAMS.with(|u| *u.borrow_mut() = map);
}

/// Records the executor chunks run on now (its `Gc` address).
pub fn set_chunk_executor(address: usize) {
    CHUNK_EXECUTOR.with(|e| e.set(address));
}

/// The PDK handle the natives of `resty.http` reach, set when the PDK is installed.
#[derive(Collect)]
#[collect(require_static)]
struct CalloutPdk(RefCell<Option<Pdk>>);

impl<'gc> piccolo::Singleton<'gc> for CalloutPdk {
    fn create(_: Context<'gc>) -> Self {
        CalloutPdk(RefCell::new(None))
    }
}

/// Makes `pdk` the one `resty.http`'s natives use in this state.
pub fn register(ctx: Context<'_>, pdk: &Pdk) {
    *ctx.singleton::<Rootable![CalloutPdk]>().0.borrow_mut() = Some(pdk.clone());
}

fn pdk_of(ctx: Context<'_>) -> Option<Pdk> {
    ctx.singleton::<Rootable![CalloutPdk]>().0.borrow().clone()
}

/// The natives `resty.http` receives: `check_context()` and `http_call(params)`.
pub fn natives<'gc>(ctx: Context<'gc>, table: Table<'gc>) {
    table.set(ctx, "check_context", Callback::from_fn(&ctx, check_context)).ok();
    table.set(ctx, "http_call", Callback::from_fn(&ctx, http_call)).ok();
}

/// Phases whose chunks may make calls: where lua-nginx-module allows cosockets
/// (`ngx_http_lua_socket_tcp`'s context check: rewrite, access, content, timer; Kong's
/// `ws_handshake` runs in `access`).
fn calls_allowed(phase: Phase) -> bool {
    matches!(phase, Phase::Rewrite | Phase::Access | Phase::WsHandshake)
}

/// lua-nginx-module's context name for the nginx phase a Kong phase runs in.
fn context_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Rewrite => "rewrite_by_lua*",
        Phase::Access | Phase::WsHandshake => "access_by_lua*",
        Phase::HeaderFilter => "header_filter_by_lua*",
        Phase::BodyFilter => "body_filter_by_lua*",
        Phase::Log | Phase::WsClose => "log_by_lua*",
        Phase::Certificate => "ssl_certificate_by_lua*",
        Phase::WsClientFrame | Phase::WsUpstreamFrame => "body_filter_by_lua*",
    }
}

/// `ngx.socket.tcp()`'s context check (`ngx_http_lua_check_context`): raises
/// `API disabled in the context of <context>` outside the phases that allow cosockets.
fn check_context<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.clear();
    let Some(pdk) = pdk_of(ctx) else { return Ok(CallbackReturn::Return) };
    let phase = pdk.scope().phase;
    if calls_allowed(phase) || pdk.scope().timers.in_timer {
        return Ok(CallbackReturn::Return);
    }
    Err(Value::String(piccolo::String::from_slice(&ctx, format!("API disabled in the context of {}", context_name(phase)).as_bytes())).into())
}

/// Whether the running Lua code can suspend the request: it runs on the main thread of
/// the executor the chunk was started on (not in a coroutine, nor in Lua called by a
/// native through an executor of its own).
fn suspendable(exec: &Execution<'_, '_>) -> bool {
    let executor = gc_arena::Gc::as_ptr(exec.executor().into_inner()) as usize;
    exec.current_thread().is_main && CHUNK_EXECUTOR.with(Cell::get) == executor
}

/// `ngx.sleep(seconds)` for a positive duration: in `rewrite`/`access`, on hosts that can
/// resume a stream from a tick (`HostBehaviour::resumes_streams_from_ticks`; elsewhere
/// an error saying so), suspends the chunk (and the request) until a tick at or after
/// the end (ngx_http_lua_sleep.c
/// allows rewrite, access, content and timer contexts); elsewhere lua-nginx-module's
/// `API disabled in the context of ...`. The time counts toward the request's
/// `call_wait_ms`; a sleep past what is left raises an error.
pub fn sleep<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, seconds: f64) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.clear();
    if seconds == 0.0 {
        return Ok(CallbackReturn::Return);
    }
    let phase = pdk.scope().phase;
    if !calls_allowed(phase) && !pdk.scope().timers.in_timer {
        return crate::pdk::raise(ctx, &exec, &format!("API disabled in the context of {}", context_name(phase)));
    }
    if !suspendable(&exec) {
        return crate::pdk::raise(ctx, &exec, "ngx.sleep cannot wait in a coroutine or a callback here");
    }
    if !pdk.scope().view.behaviour().resumes_streams_from_ticks {
        return crate::pdk::raise(
            ctx,
            &exec,
            "ngx.sleep cannot wait on this host: nginx's Wasm engine cannot resume a request from a tick \
             (its proxy_set_effective_context is a no-op)",
        );
    }
    let limits = crate::lua::limits::current();
    let ms = (seconds * 1000.0).ceil() as u64;
    let mut scope = pdk.scope_mut();
    let left = limits.call_wait_ms.saturating_sub(scope.request.call_wait_ms);
    if ms > left {
        drop(scope);
        return crate::pdk::raise(ctx, &exec, &format!("ngx.sleep: {ms} ms is more than the request may still wait ({left} ms, limit call_wait_ms)"));
    }
    let now = scope.host.now_nanos();
    scope.request.wait = Some(Wait::Sleep { until_ns: now + ms * 1_000_000, started_ns: now });
    Ok(CallbackReturn::Yield { to_thread: None, then: None })
}

/// `http_call{method, scheme, host, port, path, headers = {{name, value}...}, body,
/// timeout}` (timeout in ms, `nil` for the limit's default): dispatches the call and
/// yields; resumed with `status, headers, body` or `nil, err`. Returns `nil, err` at
/// once when the call cannot be made (limits, the host refusing it).
fn http_call<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let params = match stack.get(0) {
        Value::Table(t) => t,
        _ => return Err(lua_string(ctx, b"http_call: params table expected").into()),
    };
    stack.clear();
    let fail = |mut stack: Stack<'gc, '_>, err: String| {
        stack.push_back(Value::Nil);
        stack.push_back(lua_string(ctx, err.as_bytes()));
        Ok(CallbackReturn::Return)
    };
    let Some(pdk) = pdk_of(ctx) else { return fail(stack, "no request".into()) };
    let phase = pdk.scope().phase;
    if !calls_allowed(phase) && !pdk.scope().timers.in_timer {
        return Err(lua_string(ctx, format!("API disabled in the context of {}", context_name(phase)).as_bytes()).into());
    }
    if !suspendable(&exec) {
        return fail(stack, "outbound calls cannot be made from a coroutine or a callback here".into());
    }
    let text = |key: &'static str| match params.get(ctx, key) {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(n) => Some(n.to_string().into_bytes()),
        _ => None,
    };
    let utf8 = |key: &'static str| text(key).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let (method, scheme, host, path) = (utf8("method"), utf8("scheme"), utf8("host"), utf8("path"));
    let port = params.get(ctx, "port").to_integer().unwrap_or(if scheme == "https" { 443 } else { 80 });
    let body = text("body").unwrap_or_default();
    let limits = crate::lua::limits::current();
    let timeout_ms = match params.get(ctx, "timeout") {
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0).max(0.0) as u64,
        _ => limits.call_timeout_ms,
    };
    let authority = format!("{host}:{port}");
    let default_port = (scheme == "https" && port == 443) || (scheme != "https" && port == 80);
    let upstream = UPSTREAMS.with(|u| {
        let u = u.borrow();
        u.get(&authority).or_else(|| u.get(&host)).cloned()
    });
    let upstream = upstream.unwrap_or_else(|| authority.clone());
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        (":method".into(), method.to_ascii_uppercase().into_bytes()),
        (":path".into(), if path.is_empty() { b"/".to_vec() } else { path.into_bytes() }),
        (":authority".into(), match text("authority") {
            Some(given) => given,
            None => if default_port { host.clone() } else { authority }.into_bytes(),
        }),
        (":scheme".into(), if scheme == "https" { b"https".to_vec() } else { b"http".to_vec() }),
    ];
    if let Value::Table(list) = params.get(ctx, "headers") {
        for i in 1.. {
            let Value::Table(pair) = list.get(ctx, i) else { break };
            let (Value::String(name), value) = (pair.get(ctx, 1), pair.get(ctx, 2)) else { continue };
            let name = name.to_str_lossy().to_ascii_lowercase();
            // The host frames the call and names its authority itself.
            if matches!(name.as_str(), "host" | "content-length" | "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade") {
                continue;
            }
            let value = match value {
                Value::String(s) => s.as_bytes().to_vec(),
                v => crate::lua::format::display(v).into_bytes(),
            };
            headers.push((name, value));
        }
    }
    // The host itself: the view adds nothing to outbound calls.
    let (host_handle, now) = {
        let scope = pdk.scope();
        (scope.view.inner().clone(), scope.host.now_nanos())
    };
    {
        let scope = pdk.scope();
        if scope.request.calls_made >= limits.calls_per_request {
            let limit = limits.calls_per_request;
            drop(scope);
            return fail(stack, format!("too many outbound calls in this request (limit {limit})"));
        }
        if scope.request.call_wait_ms >= limits.call_wait_ms {
            drop(scope);
            return fail(stack, "timeout".into());
        }
    }
    let remaining = limits.call_wait_ms - pdk.scope().request.call_wait_ms;
    let timeout_ms = timeout_ms.clamp(1, remaining.max(1)).min(u64::from(u32::MAX)) as u32;
    match host_handle.dispatch_http_call(&upstream, &headers, &body, timeout_ms) {
        Ok(token) => {
            let mut scope = pdk.scope_mut();
            scope.request.calls_made += 1;
            scope.request.wait = Some(Wait::HttpCall { token, host, started_ns: now });
            drop(scope);
            Ok(CallbackReturn::Yield { to_thread: None, then: None })
        }
        // Envoy: no such cluster; lua-resty-http's resolver failure for the host.
        Err(DispatchError::BadArgument) => fail(stack, format!("no resolver defined to resolve \"{host}\"")),
        Err(DispatchError::Refused) => fail(stack, "the host refused the call".into()),
        Err(DispatchError::Unsupported) => fail(stack, "outbound calls are not available on this host".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect()
    }

    #[test]
    fn kongs_dispatch_status_reads_as_lua_resty_http_errors() {
        // ngx_wasm_module's socket status strings (ngx_wasm_socket_tcp.c) -> cosocket errors.
        let failure = |status: &str| answer_from(pairs(&[(":dispatch_status", status)]), Vec::new(), "auth.internal", false);
        assert_eq!(failure("timeout"), Answer::Failure("timeout".into()));
        assert_eq!(failure("broken connection"), Answer::Failure("connection refused".into()));
        assert_eq!(failure("tls handshake failure"), Answer::Failure("handshake failed".into()));
        assert_eq!(failure("resolver failure"), Answer::Failure("no resolver defined to resolve \"auth.internal\"".into()));
        assert_eq!(failure("reader failure"), Answer::Failure("reader failure".into()));
    }

    #[test]
    fn envoys_local_replies_read_as_errors_only_where_the_host_sends_them() {
        let refused = b"upstream connect error or disconnect/reset before headers. reset reason: remote connection failure".to_vec();
        let reply = |status: &str, body: &[u8], replies: bool| answer_from(pairs(&[(":status", status)]), body.to_vec(), "h", replies);
        assert_eq!(reply("503", &refused, true), Answer::Failure("connection refused".into()));
        assert_eq!(reply("503", b"upstream connect error or disconnect/reset before headers. reset reason: connection termination", true), Answer::Failure("closed".into()));
        assert_eq!(reply("504", b"upstream request timeout", true), Answer::Failure("timeout".into()));
        // The same bytes from a real upstream behind Kong's engine are a response.
        assert_eq!(reply("503", &refused, false), Answer::Response(503, Vec::new(), refused.clone()));
        // An upstream's own 503 stays a response on Envoy too.
        assert_eq!(reply("503", b"maintenance", true), Answer::Response(503, Vec::new(), b"maintenance".to_vec()));
        // No :status at all: reset, or over the host's buffer.
        assert_eq!(answer_from(Vec::new(), Vec::new(), "h", true), Answer::Failure("closed".into()));
        // Pseudo-headers are not response headers.
        assert_eq!(
            answer_from(pairs(&[(":status", "200"), ("x-a", "1")]), b"ok".to_vec(), "h", true),
            Answer::Response(200, pairs(&[("x-a", "1")]), b"ok".to_vec())
        );
    }
}
