//! `kong.tracing`: Kong's tracer with tracing off (`kong/pdk/tracing.lua`: with
//! `tracing_instrumentations = off`, Kong's default, `kong.tracing` is its `noop_tracer`).
//! No proxy-wasm host gives a filter a span exporter, so here tracing is always off:
//! `start_span`/`create_span` return the no-op span (`is_recording = false`, every method
//! a no-op), `get_spans`, `get_root_span`, `active_span`, `process_span`,
//! `get_sampling_decision` ... return nothing, `new(...)` returns the no-op tracer too
//! (Kong's `new_tracer` only builds a recording tracer for the tracing instrumentations,
//! which are off), and `set_global_tracer` checks its argument with Kong's message.
//! Both tables ignore writes (`__newindex` a no-op), as Kong's.

use piccolo::{Callback, CallbackReturn, Context, MetaMethod, Table, Value};

use crate::lua::error_at;

/// Builds the no-op tracer.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
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
    let new = Callback::from_fn_with(&ctx, tracer, |tracer, ctx, _, mut stack| {
        stack.replace(ctx, *tracer);
        Ok(CallbackReturn::Return)
    });
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
    let call = Callback::from_fn_with(&ctx, tracer, |tracer, ctx, _, mut stack| {
        stack.replace(ctx, *tracer);
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Call, call).ok();
    meta.set(ctx, MetaMethod::NewIndex, noop).ok();
    tracer.set_metatable(&ctx, Some(meta));
    tracer
}
