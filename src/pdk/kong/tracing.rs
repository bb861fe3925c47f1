//! `kong.tracing`: Kong's tracer with tracing off (`kong/pdk/tracing.lua`: with
//! `tracing_instrumentations = off`, Kong's default, `kong.tracing` is its `noop_tracer`).
//! No proxy-wasm host gives a filter a span exporter, so `kong.tracing` itself is the
//! no-op tracer: `start_span`/`create_span` return the no-op span (`is_recording = false`,
//! every method a no-op), `get_spans`, `get_root_span`, `active_span`, `process_span`,
//! `get_sampling_decision` ... return nothing, and `set_global_tracer` checks its argument
//! with Kong's message. Both tables ignore writes (`__newindex` a no-op), as Kong's.
//!
//! `kong.tracing.new(name[, options])` and `kong.tracing(name[, options])` build a
//! recording tracer as Kong's `new_tracer` does (the no-op one with `options.noop`), one
//! per `namespace_name` ([`recording_tracer`]): its spans live in `ngx.ctx` for the
//! request and go nowhere else (no exporter).

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::lua::error_at;
use crate::pdk::Pdk;

/// Builds the no-op tracer (`kong.tracing`), whose `new` and `__call` build recording
/// tracers.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let noop = Callback::from_fn(&ctx, |_, _, mut stack| {
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    let span = Table::new(&ctx);
    span.set(ctx, "is_recording", false).ok();
    for name in ["finish", "set_attribute", "add_event", "record_error", "set_status"] {
        span.set(ctx, name, noop).ok();
    }
    let each_baggage_item = Callback::from_fn_with(&ctx, noop, |noop, ctx, _, mut stack| {
        stack.replace(ctx, *noop);
        Ok(CallbackReturn::Return)
    });
    span.set(ctx, "each_baggage_item", each_baggage_item).ok();
    let span_meta = Table::new(&ctx);
    span_meta.set(ctx, MetaMethod::NewIndex, noop).ok();
    span.set_metatable(&ctx, Some(span_meta));

    let tracer = Table::new(&ctx);
    tracer.set(ctx, "name", "noop").ok();
    tracer.set(ctx, "spans_table_key", "noop").ok();
    let returns_span = Callback::from_fn_with(&ctx, span, |span, ctx, _, mut stack| {
        stack.replace(ctx, *span);
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "start_span", returns_span).ok();
    tracer.set(ctx, "create_span", returns_span).ok();
    for name in [
        "get_spans",
        "get_root_span",
        "init_spans",
        "link_span",
        "active_span",
        "set_active_span",
        "process_span",
        "set_should_sample",
        "get_sampling_decision",
    ] {
        tracer.set(ctx, name, noop).ok();
    }
    let memo = Table::new(&ctx);
    let new = new_tracer_function(ctx, pdk, tracer, memo, 0);
    tracer.set(ctx, "new", new).ok();
    // Kong's `set_global_tracer`: a table that is the no-op tracer (or one of Kong's
    // recording tracers, which cannot exist here), else "invalid tracer".
    let set_global = Callback::from_fn(&ctx, |ctx, exec, mut stack| {
        let ok = matches!(stack.get(0), Value::Table(t) if matches!(t.get(ctx, "name"), Value::String(n) if n.as_bytes() == b"noop"));
        if !ok {
            return Err(error_at(ctx, &exec, "invalid tracer"));
        }
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "set_global_tracer", set_global).ok();
    let meta = Table::new(&ctx);
    // `kong.tracing(name, options)` is `new_tracer(...)`.
    let call = new_tracer_function(ctx, pdk, tracer, memo, 1);
    meta.set(ctx, MetaMethod::Call, call).ok();
    meta.set(ctx, MetaMethod::NewIndex, noop).ok();
    tracer.set_metatable(&ctx, Some(meta));
    tracer
}

/// `new(name[, options])` (`skip` 0) or `__call(self, name[, options])` (`skip` 1): the
/// no-op tracer when `options.noop`, else the recording tracer of
/// `(options.namespace or "KONG") .. "_" .. (name or "default")`, built once per VM and
/// reused, as Kong memoizes it.
fn new_tracer_function<'gc>(ctx: Context<'gc>, pdk: &Pdk, noop: Table<'gc>, memo: Table<'gc>, skip: usize) -> Callback<'gc> {
    let pdk = pdk.clone();
    Callback::from_fn_with(&ctx, (noop, memo), move |(noop, memo), ctx, _, mut stack| {
        let name = match stack.get(skip) {
            Value::Nil => Value::String(ctx.intern(b"default")),
            v => v,
        };
        let options = stack.get(skip + 1);
        let namespace = match options {
            Value::Table(o) => o.get(ctx, "namespace"),
            _ => Value::Nil,
        };
        let namespace = match namespace {
            Value::Nil | Value::Boolean(false) => "KONG".to_string(),
            v => crate::lua::format::display(v),
        };
        if let Value::Table(o) = options {
            if !matches!(o.get(ctx, "noop"), Value::Nil | Value::Boolean(false)) {
                stack.replace(ctx, *noop);
                return Ok(CallbackReturn::Return);
            }
        }
        let cache_key = format!("{namespace}_{}", crate::lua::format::display(name));
        if let Value::Table(t) = memo.get(ctx, ctx.intern(cache_key.as_bytes())) {
            stack.replace(ctx, t);
            return Ok(CallbackReturn::Return);
        }
        let tracer = recording_tracer(ctx, &pdk, name, &namespace);
        memo.set(ctx, ctx.intern(cache_key.as_bytes()), tracer).ok();
        stack.replace(ctx, tracer);
        Ok(CallbackReturn::Return)
    })
}

/// Kong's `SPAN_KIND.INTERNAL`, a span's kind when `options.span_kind` is not given.
const SPAN_KIND_INTERNAL: i64 = 1;

/// A recording tracer, as Kong's `new_tracer` (sampling rate 1.0: every span samples):
/// `name`, `active_span_key` (`<namespace>_active_span`), `spans_table_key`
/// (`<namespace>_SPANS`); `active_span()` / `set_active_span(span)` read and write
/// `ngx.ctx[active_span_key]` (setting marks the span `active`); `start_span(name[,
/// options])` checks as Kong ("invalid span name", "invalid options type", "invalid start
/// time", "invalid start kind", "invalid sampled", "invalid attributes") and returns a
/// span with `name`, `tracer`, `parent` (`options.parent` or the active span),
/// `trace_id` (the parent's, `options.trace_id` or 16 random bytes), `span_id` (8 random
/// bytes), `parent_id`, `kind`, `should_sample`, `start_time_ns`, `attributes`, appended
/// to `get_spans()` (`ngx.ctx[spans_table_key]`, its count at `[0]` as Kong's). Spans
/// have `finish([end_time_ns])` (the parent becomes active again when the span was),
/// `set_attribute(k, v)`, `add_event(name[, attributes])`, `record_error(err)`,
/// `set_status(code)` and `is_recording = true`. Nothing exports the spans.
pub fn recording_tracer<'gc>(ctx: Context<'gc>, pdk: &Pdk, name: Value<'gc>, namespace: &str) -> Table<'gc> {
    let tracer = Table::new(&ctx);
    tracer.set(ctx, "name", name).ok();
    let active_key = ctx.intern(format!("{namespace}_active_span").as_bytes());
    let spans_key = ctx.intern(format!("{namespace}_SPANS").as_bytes());
    tracer.set(ctx, "active_span_key", active_key).ok();
    tracer.set(ctx, "spans_table_key", spans_key).ok();
    let p = pdk.clone();
    let active_span = Callback::from_fn_with(&ctx, active_key, move |key, ctx, _, mut stack| {
        let value = crate::pdk::kong::ctx::ngx_ctx(&p, ctx).get(ctx, *key);
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "active_span", active_span).ok();
    let p = pdk.clone();
    let set_active_span = Callback::from_fn_with(&ctx, active_key, move |key, ctx, _, mut stack| {
        let span = stack.get(0);
        if let Value::Table(t) = span {
            t.set(ctx, "active", true).ok();
        }
        crate::pdk::kong::ctx::ngx_ctx(&p, ctx).set(ctx, *key, span).ok();
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "set_active_span", set_active_span).ok();
    let p = pdk.clone();
    let get_spans = Callback::from_fn_with(&ctx, spans_key, move |key, ctx, _, mut stack| {
        stack.replace(ctx, spans_list(&p, ctx, *key));
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "get_spans", get_spans).ok();
    let methods = span_methods(ctx, pdk);
    let p = pdk.clone();
    let start = Callback::from_fn_with(&ctx, (tracer, methods, active_key, spans_key), move |root, ctx, exec, mut stack| {
        let span = start_span(&p, ctx, &exec, &stack, *root)?;
        stack.replace(ctx, span);
        Ok(CallbackReturn::Return)
    });
    tracer.set(ctx, "start_span", start).ok();
    tracer
}

/// `ngx.ctx[key]`, Kong's spans list (`[0]` holds the count), created when absent.
fn spans_list<'gc>(pdk: &Pdk, ctx: Context<'gc>, key: piccolo::String<'gc>) -> Table<'gc> {
    let ngx_ctx = crate::pdk::kong::ctx::ngx_ctx(pdk, ctx);
    if let Value::Table(t) = ngx_ctx.get(ctx, key) {
        return t;
    }
    let list = Table::new(&ctx);
    list.set(ctx, 0, 0).ok();
    ngx_ctx.set(ctx, key, list).ok();
    list
}

/// `n` random bytes as a Lua string (WASI `random_get` through `getrandom`; zeros if the
/// host refuses, which leaves the span usable).
fn random_id<'gc>(ctx: Context<'gc>, n: usize) -> Value<'gc> {
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        bytes.fill(0);
    }
    Value::String(ctx.intern(&bytes))
}

/// A field of a table value, `nil` for anything else.
fn field<'gc>(ctx: Context<'gc>, value: Value<'gc>, key: &'static str) -> Value<'gc> {
    match value {
        Value::Table(t) => t.get(ctx, key),
        _ => Value::Nil,
    }
}

/// The tracer's `start_span(name[, options])` (see [`recording_tracer`]).
fn start_span<'gc>(
    pdk: &Pdk,
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    (tracer, methods, active_key, spans_key): (Table<'gc>, Table<'gc>, piccolo::String<'gc>, piccolo::String<'gc>),
) -> Result<Value<'gc>, Error<'gc>> {
    let name = stack.get(0);
    if !matches!(name, Value::String(s) if !s.as_bytes().is_empty()) {
        return Err(error_at(ctx, exec, "invalid span name"));
    }
    let options = stack.get(1);
    if !matches!(options, Value::Nil | Value::Table(_)) {
        return Err(error_at(ctx, exec, "invalid options type"));
    }
    let opt = |key: &'static str| field(ctx, options, key);
    let number = |v: Value<'gc>| matches!(v, Value::Nil | Value::Integer(_) | Value::Number(_));
    if !number(opt("start_time_ns")) {
        return Err(error_at(ctx, exec, "invalid start time"));
    }
    if !number(opt("span_kind")) {
        return Err(error_at(ctx, exec, "invalid start kind"));
    }
    if !matches!(opt("should_sample"), Value::Nil | Value::Boolean(_)) {
        return Err(error_at(ctx, exec, "invalid sampled"));
    }
    if !matches!(opt("attributes"), Value::Nil | Value::Table(_)) {
        return Err(error_at(ctx, exec, "invalid attributes"));
    }
    let parent = match opt("parent") {
        Value::Nil => crate::pdk::kong::ctx::ngx_ctx(pdk, ctx).get(ctx, active_key),
        p => p,
    };
    let trace_id = match (field(ctx, parent, "trace_id"), opt("trace_id")) {
        (Value::Nil, Value::Nil) => random_id(ctx, 16),
        (Value::Nil, t) => t,
        (t, _) => t,
    };
    let should_sample = match (field(ctx, parent, "should_sample"), opt("should_sample")) {
        (Value::Boolean(b), _) | (_, Value::Boolean(b)) => b,
        _ => true,
    };
    let parent_id = match field(ctx, parent, "span_id") {
        Value::Nil => opt("parent_id"),
        id => id,
    };
    let kind = match opt("span_kind") {
        Value::Nil => Value::Integer(SPAN_KIND_INTERNAL),
        k => k,
    };
    let start = match opt("start_time_ns") {
        Value::Nil => Value::Integer(pdk.scope().host.now_nanos() as i64),
        t => t,
    };
    let span = Table::new(&ctx);
    span.set(ctx, "parent", parent).ok();
    span.set(ctx, "trace_id", trace_id).ok();
    span.set(ctx, "parent_id", parent_id).ok();
    span.set(ctx, "tracer", tracer).ok();
    span.set(ctx, "span_id", random_id(ctx, 8)).ok();
    span.set(ctx, "kind", kind).ok();
    span.set(ctx, "should_sample", should_sample).ok();
    span.set(ctx, "start_time_ns", start).ok();
    span.set(ctx, "attributes", opt("attributes")).ok();
    span.set(ctx, "name", name).ok();
    span.set(ctx, "linked", true).ok();
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, methods).ok();
    span.set_metatable(&ctx, Some(meta));
    let spans = spans_list(pdk, ctx, spans_key);
    let n = spans.get(ctx, 0).to_integer().unwrap_or(0) + 1;
    spans.set(ctx, n, span).ok();
    spans.set(ctx, 0, n).ok();
    Ok(Value::Table(span))
}

/// `span.events`, created when absent.
fn events<'gc>(ctx: Context<'gc>, span: Table<'gc>) -> Table<'gc> {
    if let Value::Table(t) = span.get(ctx, "events") {
        return t;
    }
    let t = Table::new(&ctx);
    span.set(ctx, "events", t).ok();
    t
}

/// The methods of a recording span (its metatable's `__index`).
fn span_methods<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let methods = Table::new(&ctx);
    methods.set(ctx, "is_recording", true).ok();
    let p = pdk.clone();
    let finish = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
        let Value::Table(span) = stack.get(0) else {
            return Err(error_at(ctx, &exec, "invalid span"));
        };
        if !span.get(ctx, "end_time_ns").is_nil() {
            stack.clear();
            return Ok(CallbackReturn::Return);
        }
        let end = match stack.get(1) {
            Value::Nil => Value::Integer(p.scope().host.now_nanos() as i64),
            v @ (Value::Integer(_) | Value::Number(_)) => v,
            _ => return Err(error_at(ctx, &exec, "invalid span end time")),
        };
        span.set(ctx, "end_time_ns", end).ok();
        let active = !matches!(span.get(ctx, "active"), Value::Nil | Value::Boolean(false));
        if let (true, Value::String(key)) = (active, field(ctx, span.get(ctx, "tracer"), "active_span_key")) {
            let ngx_ctx = crate::pdk::kong::ctx::ngx_ctx(&p, ctx);
            if matches!(ngx_ctx.get(ctx, key), Value::Table(t) if t == span) {
                ngx_ctx.set(ctx, key, span.get(ctx, "parent")).ok();
                span.set(ctx, "active", Value::Nil).ok();
            }
        }
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "finish", finish).ok();
    let set_attribute = Callback::from_fn(&ctx, |ctx, exec, mut stack| {
        let (Value::Table(span), Value::String(key)) = (stack.get(0), stack.get(1)) else {
            return Err(error_at(ctx, &exec, "invalid key"));
        };
        let value = stack.get(2);
        if !matches!(value, Value::Nil | Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Boolean(_)) {
            return Err(error_at(ctx, &exec, "invalid value"));
        }
        let attributes = match span.get(ctx, "attributes") {
            Value::Table(t) => t,
            _ => {
                let t = Table::new(&ctx);
                span.set(ctx, "attributes", t).ok();
                t
            }
        };
        attributes.set(ctx, key, value).ok();
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "set_attribute", set_attribute).ok();
    let p = pdk.clone();
    let add_event = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
        let (Value::Table(span), Value::String(name)) = (stack.get(0), stack.get(1)) else {
            return Err(error_at(ctx, &exec, "invalid name"));
        };
        let attributes = stack.get(2);
        if !matches!(attributes, Value::Nil | Value::Table(_)) {
            return Err(error_at(ctx, &exec, "invalid attributes"));
        }
        let list = events(ctx, span);
        let event = Table::new(&ctx);
        event.set(ctx, "name", name).ok();
        event.set(ctx, "time_ns", p.scope().host.now_nanos() as i64).ok();
        event.set(ctx, "attributes", attributes).ok();
        list.set(ctx, list.length() + 1, event).ok();
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "add_event", add_event).ok();
    let set_status = Callback::from_fn(&ctx, |ctx, exec, mut stack| {
        let Value::Table(span) = stack.get(0) else {
            return Err(error_at(ctx, &exec, "invalid span"));
        };
        span.set(ctx, "status", stack.get(1)).ok();
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "set_status", set_status).ok();
    let record_error = Callback::from_fn(&ctx, |ctx, exec, mut stack| {
        let Value::Table(span) = stack.get(0) else {
            return Err(error_at(ctx, &exec, "invalid span"));
        };
        let list = events(ctx, span);
        let event = Table::new(&ctx);
        event.set(ctx, "name", "exception").ok();
        let attributes = Table::new(&ctx);
        attributes.set(ctx, "exception.message", stack.get(1)).ok();
        event.set(ctx, "attributes", attributes).ok();
        list.set(ctx, list.length() + 1, event).ok();
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "record_error", record_error).ok();
    let noop = Callback::from_fn(&ctx, |_, _, mut stack| {
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    let each_baggage_item = Callback::from_fn_with(&ctx, noop, |noop, ctx, _, mut stack| {
        stack.replace(ctx, *noop);
        Ok(CallbackReturn::Return)
    });
    methods.set(ctx, "each_baggage_item", each_baggage_item).ok();
    methods
}
