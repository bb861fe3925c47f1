//! The Kong PDK (`kong.*`) and the `ngx.*` subset, on top of [`Host`].
//!
//! One file per namespace, as Kong's `kong/pdk/*.lua`: every function checks its phase
//! and arguments first and fails with Kong's message, positioned at the calling Lua line.

pub mod args;
pub mod callout;
pub mod cjson;
pub(crate) mod json;
pub mod kong;
mod lua_json;
pub mod ngx;

pub use kong::log::emit as log_line;
use kong::{cache, client, configuration, ctx, ip, log, nginx, node, request, response, router, service, table, tracing, websocket};

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use gc_arena::{Collect, Rootable};
use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::config::Role;
use crate::host::Host;
use crate::lua::error_at;
use crate::phase::{kong_phase, Phase};
use crate::properties::HostKind;
use crate::runtime::RequestState;
use crate::stream::HostView;

/// What PDK callbacks see of the request being served: the host, the plugin's role, the
/// running phase and the request's state. One per plugin instance; the request state is
/// moved in for a phase run and back out after it.
pub struct Scope {
    /// The proxy, as [`HostView`] presents it (the same object as `view`).
    pub host: Rc<dyn Host>,
    /// The host view: the host's behaviour applied to headers, path and shared data.
    pub view: Rc<HostView>,
    /// pre-function or post-function.
    pub role: Role,
    /// The phase running now.
    pub phase: Phase,
    /// The request being served.
    pub request: RequestState,
    /// Which proxy-wasm host this is: [`HostKind::Generic`] until the first request
    /// detects it (see [`crate::properties`]).
    pub host_kind: HostKind,
    /// The `ngx.shared` dictionaries (name, capacity in bytes): Kong's and the VM
    /// configuration's (see [`crate::vm_config::VmConfig::dictionaries`]).
    pub shared_dicts: Rc<Vec<(String, usize)>>,
    /// The instance's `ngx.timer` queue.
    pub timers: ngx::timer::Timers,
}

impl Scope {
    /// A scope with no request yet, on `view`; nothing is asked of the host here (Kong's
    /// engine refuses property reads outside a request).
    pub fn new(view: Rc<HostView>, role: Role) -> Scope {
        let host: Rc<dyn Host> = view.clone();
        let shared_dicts = Rc::new(ngx::shared::dictionaries(&Default::default()));
        Scope { host, view, role, phase: Phase::Access, request: RequestState::default(), host_kind: HostKind::Generic, shared_dicts, timers: Default::default() }
    }

    /// A scope on a plain host, seen as a generic ABI host (no zone).
    pub fn on_host(host: Rc<dyn Host>, role: Role) -> Scope {
        Scope::new(Rc::new(HostView::new(host, None)), role)
    }

    /// `[pre-function] ` or `[post-function] `: the prefix of every log line from Lua.
    pub fn log_prefix(&self) -> String {
        format!("[{}] ", self.role.name())
    }
}

/// A shared handle on the instance's [`Scope`], captured by every PDK callback.
#[derive(Clone)]
pub struct Pdk(Rc<RefCell<Scope>>);

/// The signature of a PDK function body.
pub type PdkFn = for<'gc, 'e, 's> fn(
    &Pdk,
    Context<'gc>,
    Execution<'gc, 'e>,
    Stack<'gc, 's>,
) -> Result<CallbackReturn<'gc>, Error<'gc>>;

impl Pdk {
    /// Wraps a scope.
    pub fn new(scope: Scope) -> Pdk {
        Pdk(Rc::new(RefCell::new(scope)))
    }

    /// Reads the scope. Never held across a call back into Lua.
    pub fn scope(&self) -> Ref<'_, Scope> {
        self.0.borrow()
    }

    /// Changes the scope. Never held across a call back into Lua.
    pub fn scope_mut(&self) -> RefMut<'_, Scope> {
        self.0.borrow_mut()
    }

    /// Starts a phase run for `request`.
    pub fn enter(&self, phase: Phase, mut request: RequestState) {
        let mut scope = self.scope_mut();
        scope.view.swap_request(&mut request.view);
        scope.phase = phase;
        scope.request = request;
    }

    /// Ends a phase run, handing the request state back.
    pub fn leave(&self) -> RequestState {
        let mut scope = self.scope_mut();
        let mut request = std::mem::take(&mut scope.request);
        scope.view.swap_request(&mut request.view);
        request
    }

    /// Kong's `check_phase`: fails with "function cannot be called in X phase (only in: ...)".
    pub fn check_phase<'gc>(
        &self,
        ctx: Context<'gc>,
        exec: &Execution<'gc, '_>,
        allowed: u32,
    ) -> Result<(), Error<'gc>> {
        let phase = self.scope().phase;
        if phase.bit() & allowed != 0 {
            return Ok(());
        }
        Err(error_at(ctx, exec, &kong_phase::not_allowed_message(phase.name(), allowed)))
    }
}

/// Installs the `kong` and `ngx` globals and `print` into the state's built-ins.
pub fn install<'gc>(ctx: Context<'gc>, pdk: &Pdk) {
    install_kong(ctx, pdk);
    ctx.set_global("ngx", ngx::table(ctx, pdk)).ok();
}

/// [`install`] with the `ngx` global built on first use: by Lua code reading the global
/// (a Lua module's `ngx.re`, say), through the globals' `__index`, or by Rust code through
/// [`ngx_global`]. For states whose chunks only reach `ngx` through their own copies (the
/// default sandbox, `crate::sandbox`): a chunk that never uses `ngx` never pays for its
/// table (about a tenth of the seed walkthrough's start-up in the wasm build).
pub fn install_with_lazy_ngx<'gc>(ctx: Context<'gc>, pdk: &Pdk) {
    install_kong(ctx, pdk);
    *ctx.singleton::<Rootable![LazyNgx]>().0.borrow_mut() = Some(pdk.clone());
    let meta = Table::new(&ctx);
    let index = Callback::from_fn(&ctx, |ctx, _, mut stack| {
        let value = match stack.get(1) {
            Value::String(key) if key.as_bytes() == b"ngx" => ngx_global(ctx),
            _ => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, piccolo::MetaMethod::Index, index).ok();
    ctx.globals().set_metatable(&ctx, Some(meta));
}

/// The built-in `ngx` table, built now if [`install_with_lazy_ngx`] left it for later;
/// `nil` in a state with no PDK.
pub fn ngx_global<'gc>(ctx: Context<'gc>) -> Value<'gc> {
    let key = ctx.intern(b"ngx");
    let value = ctx.globals().get(ctx, key);
    if !value.is_nil() {
        return value;
    }
    let Some(pdk) = ctx.singleton::<Rootable![LazyNgx]>().0.borrow_mut().take() else { return Value::Nil };
    let table = ngx::table(ctx, &pdk);
    ctx.globals().set(ctx, key, table).ok();
    Value::Table(table)
}

/// The PDK handle [`ngx_global`] builds `ngx` with, until it has.
#[derive(Collect)]
#[collect(require_static)]
struct LazyNgx(RefCell<Option<Pdk>>);

impl<'gc> piccolo::Singleton<'gc> for LazyNgx {
    fn create(_: Context<'gc>) -> Self {
        LazyNgx(RefCell::new(None))
    }
}

fn install_kong<'gc>(ctx: Context<'gc>, pdk: &Pdk) {
    let kong = Table::new(&ctx);
    kong.set(ctx, "request", request::table(ctx, pdk)).ok();
    kong.set(ctx, "response", response::table(ctx, pdk)).ok();
    kong.set(ctx, "service", service::table(ctx, pdk)).ok();
    kong.set(ctx, "log", log::table(ctx, pdk)).ok();
    kong.set(ctx, "configuration", configuration::table(ctx, pdk)).ok();
    kong.set(ctx, "nginx", nginx::table(ctx, pdk)).ok();
    kong.set(ctx, "client", client::table(ctx, pdk)).ok();
    kong.set(ctx, "ctx", ctx::table(ctx, pdk)).ok();
    kong.set(ctx, "cache", cache::table(ctx, pdk)).ok();
    kong.set(ctx, "table", table::table(ctx)).ok();
    kong.set(ctx, "tracing", tracing::table(ctx, pdk)).ok();
    kong.set(ctx, "node", node::table(ctx, pdk)).ok();
    kong.set(ctx, "router", router::table(ctx, pdk)).ok();
    kong.set(ctx, "ip", ip::table(ctx, pdk)).ok();
    kong.set(ctx, "websocket", websocket::table(ctx, pdk)).ok();
    let (version, version_num) = node::version(pdk);
    kong.set(ctx, "version", lua_string(ctx, version.as_bytes())).ok();
    kong.set(ctx, "version_num", version_num).ok();
    ctx.set_global("kong", kong).ok();
    ctx.set_global("print", function(ctx, pdk, log::print)).ok();
    callout::register(ctx, pdk);
}

/// A Lua function that runs `body` with this PDK handle.
// Not inlined: start-up makes a few hundred of these, and inlined copies were ~40 KB of
// the module (`Runtime::build`) for no speed a request could see.
#[inline(never)]
pub fn function<'gc>(ctx: Context<'gc>, pdk: &Pdk, body: PdkFn) -> Callback<'gc> {
    let pdk = pdk.clone();
    Callback::from_fn(&ctx, move |ctx, exec, stack| body(&pdk, ctx, exec, stack))
}

/// Sets `table[name]` to a PDK function.
#[inline(never)]
pub fn set_function<'gc>(ctx: Context<'gc>, table: Table<'gc>, name: &'static str, pdk: &Pdk, body: PdkFn) {
    table.set(ctx, name, function(ctx, pdk, body)).ok();
}

/// A Lua error raised at the calling Lua line, as Kong's `error(msg, 2)`.
pub fn raise<'gc, T>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, msg: &str) -> Result<T, Error<'gc>> {
    Err(error_at(ctx, exec, msg))
}

/// A Lua string value.
pub fn lua_string<'gc>(ctx: Context<'gc>, bytes: &[u8]) -> Value<'gc> {
    Value::String(piccolo::String::from_slice(&ctx, bytes))
}

/// A header value given to a PDK setter: Kong accepts a string, a number or boolean
/// (converted with `tostring`), or an array of strings (one header line each).
pub enum HeaderValue {
    /// One value.
    One(Vec<u8>),
    /// Several values, in order.
    Many(Vec<Vec<u8>>),
}

/// [`validate_header`]'s usual case, borrowed: a name of ASCII without capitals (so
/// already as hosts key it) and a non-empty string value within the `header_value_bytes`
/// limit; `None` for anything else, which then takes `validate_header`'s path. The setters
/// treat both alike (an empty value is what they rewrite, so it is left out here).
pub fn plain_header<'gc>(name: Value<'gc>, value: Value<'gc>) -> Option<(&'gc str, &'gc [u8])> {
    let (Value::String(name), Value::String(value)) = (name, value) else { return None };
    let (name, value) = (name.as_bytes(), value.as_bytes());
    if value.is_empty() || value.len() > crate::lua::limits::current().header_value_bytes {
        return None;
    }
    if !name.is_ascii() || name.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    Some((std::str::from_utf8(name).ok()?, value))
}

/// Kong's `checks.validate_header(name, value)`, with its messages; a value longer than
/// the `header_value_bytes` limit is an error too.
pub fn validate_header<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    name: Value<'gc>,
    value: Value<'gc>,
) -> Result<(String, HeaderValue), Error<'gc>> {
    let Value::String(name_str) = name else {
        return raise(ctx, exec, &format!(
            "invalid header name \"{}\": got {}, expected string",
            crate::lua::format::display(name),
            name.type_name()
        ));
    };
    let name_text = name_str.to_str_lossy().into_owned();
    let value = match value {
        Value::String(s) => HeaderValue::One(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) | Value::Boolean(_) => {
            HeaderValue::One(crate::lua::format::display(value).into_bytes())
        }
        Value::Table(t) => {
            let mut values = Vec::new();
            for i in 1.. {
                match t.get(ctx, i) {
                    Value::Nil => break,
                    Value::String(s) => values.push(s.as_bytes().to_vec()),
                    other => {
                        return raise(ctx, exec, &format!(
                            "invalid header value in array \"{name_text}\": got {}, expected string",
                            other.type_name()
                        ))
                    }
                }
            }
            HeaderValue::Many(values)
        }
        other => {
            return raise(ctx, exec, &format!(
                "invalid header value for \"{name_text}\": got {}, expected array of string, \
                 string, number or boolean",
                other.type_name()
            ))
        }
    };
    let limit = crate::lua::limits::current().header_value_bytes;
    let longest = match &value {
        HeaderValue::One(v) => v.len(),
        HeaderValue::Many(vs) => vs.iter().map(Vec::len).max().unwrap_or(0),
    };
    if longest > limit {
        return raise(ctx, exec, &format!("header value for \"{name_text}\" too long ({longest} bytes, limit {limit})"));
    }
    Ok((name_text, value))
}

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod testing;

#[cfg(test)]
mod coverage_tests;

#[cfg(test)]
mod misc_tests;

#[cfg(test)]
mod extras_tests;

#[cfg(test)]
mod shared_dict_tests;

#[cfg(test)]
mod consumer_tests;

#[cfg(test)]
mod log_new_tests;
