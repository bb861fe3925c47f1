//! `kong.websocket.client` and `kong.websocket.upstream`, as Kong Enterprise's
//! `kong/enterprise_edition/pdk/websocket.lua` defines them: the frame functions
//! (`get_frame`, `set_frame_data`, `set_status`, `drop_frame`, `close`) in
//! `ws_client_frame`/`ws_upstream_frame`, each namespace only in its own side's phase;
//! `set_max_payload_size` in `ws_handshake`. Argument errors are Kong's words.

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, raise, set_function, Pdk, PdkFn};
use crate::phase::kong_phase;
use crate::runtime::{WsClose, WsFrame};
use crate::websocket::{Kind, Side, DEFAULT_MAX_PAYLOAD};

type Ret<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// Kong's `ws_proxy` phase: either frame phase.
const WS_PROXY: u32 = kong_phase::WS_CLIENT_FRAME | kong_phase::WS_UPSTREAM_FRAME;

/// The ceiling of `set_max_payload_size`, here the default too (see [`DEFAULT_MAX_PAYLOAD`]).
const MAX_PAYLOAD_SIZE: usize = DEFAULT_MAX_PAYLOAD;

/// Builds the `kong.websocket` table: `client` and `upstream`.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    t.set(ctx, "client", side_table::<false>(ctx, pdk)).ok();
    t.set(ctx, "upstream", side_table::<true>(ctx, pdk)).ok();
    t
}

fn side_table<'gc, const UPSTREAM: bool>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    let functions: [(&'static str, PdkFn); 6] = [
        ("get_frame", get_frame::<UPSTREAM>),
        ("set_frame_data", set_frame_data::<UPSTREAM>),
        ("set_status", set_status::<UPSTREAM>),
        ("drop_frame", drop_frame::<UPSTREAM>),
        ("close", close::<UPSTREAM>),
        ("set_max_payload_size", set_max_payload_size::<UPSTREAM>),
    ];
    for (name, body) in functions {
        set_function(ctx, t, name, pdk, body);
    }
    t
}

fn side(upstream: bool) -> Side {
    if upstream {
        Side::Upstream
    } else {
        Side::Client
    }
}

/// Kong's `ws_proxy_method` guard: the frame phases only, and only the namespace of the
/// side whose frame is in flight ("calling kong.websocket.upstream method from the wrong
/// thread", Kong's words for the other one). Runs `f` on the frame.
fn with_frame<'gc, T>(
    pdk: &Pdk,
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    upstream: bool,
    f: impl FnOnce(&mut WsFrame) -> Result<T, String>,
) -> Result<T, Error<'gc>> {
    pdk.check_phase(ctx, exec, WS_PROXY)?;
    let side = side(upstream);
    let result = {
        let mut scope = pdk.scope_mut();
        match scope.request.ws_frame.as_mut() {
            Some(frame) if frame.side == side => f(frame),
            _ => Err(format!("calling kong.websocket.{} method from the wrong thread", side.name())),
        }
    };
    result.or_else(|message| raise(ctx, exec, &message))
}

/// `get_frame()`: the payload, the type (`text`, `binary`, `ping`, `pong`, `close`) and,
/// for a close frame, its status code.
fn get_frame<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    let (payload, kind, status) = with_frame(pdk, ctx, &exec, UPSTREAM, |f| {
        Ok((f.message.payload.clone(), f.message.kind, f.message.status))
    })?;
    let status = status.map_or(Value::Nil, |s| Value::Integer(i64::from(s)));
    stack.replace(ctx, (lua_string(ctx, &payload), lua_string(ctx, kind.name().as_bytes()), status));
    Ok(CallbackReturn::Return)
}

/// `set_frame_data(data)`: replaces the payload sent on; Kong: "frame payload must be a string".
fn set_frame_data<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let data = match stack.get(0) {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    };
    with_frame(pdk, ctx, &exec, UPSTREAM, |f| {
        f.message.payload = data.ok_or("frame payload must be a string")?;
        Ok(())
    })?;
    Ok(CallbackReturn::Return)
}

/// A status code argument: an integer in 0..=65535 (the frame's 16 bits).
fn status_arg(value: Value<'_>) -> Option<Option<u16>> {
    match value {
        Value::Nil => Some(None),
        Value::Integer(n) => u16::try_from(n).ok().map(Some),
        Value::Number(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Some(Some(n as u16)),
        _ => None,
    }
}

/// `set_status(code)`: the status of the close frame in flight. Kong: "status code must be
/// an integer"; "cannot override status code of non-close frame".
fn set_status<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let code = status_arg(stack.get(0)).flatten();
    with_frame(pdk, ctx, &exec, UPSTREAM, |f| {
        let code = code.ok_or("status code must be an integer")?;
        if f.message.kind != Kind::Close {
            return Err("cannot override status code of non-close frame".into());
        }
        f.message.status = Some(code);
        Ok(())
    })?;
    Ok(CallbackReturn::Return)
}

/// `drop_frame()`: the frame is not sent on and later chunks are skipped. Kong: "cannot
/// drop a close frame".
fn drop_frame<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, _stack: Stack<'gc, '_>) -> Ret<'gc> {
    with_frame(pdk, ctx, &exec, UPSTREAM, |f| {
        if f.message.kind == Kind::Close {
            return Err("cannot drop a close frame".into());
        }
        f.drop = true;
        Ok(())
    })?;
    Ok(CallbackReturn::Return)
}

/// `close([status[, message[, peer_status[, peer_message]]]])`: sends a close frame to
/// both peers (the first two for this side, the last two for the other), drops the frame
/// in flight and skips later chunks. Kong's checks: "<side> status must be nil or a
/// number", "<side> message must be nil or a string", the same for the peer.
fn close<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    let (me, peer) = (side(UPSTREAM).name(), side(!UPSTREAM).name());
    let message_arg = |i: usize, who: &str| match stack.get(i) {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
        _ => Err(format!("{who} message must be nil or a string")),
    };
    let status = |i: usize, who: &str| status_arg(stack.get(i)).ok_or(format!("{who} status must be nil or a number"));
    let parsed = (|| {
        Ok::<_, String>(WsClose {
            status: status(0, me)?,
            message: message_arg(1, me)?,
            peer_status: status(2, peer)?,
            peer_message: message_arg(3, peer)?,
        })
    })();
    with_frame(pdk, ctx, &exec, UPSTREAM, |f| {
        f.close = Some(parsed?);
        f.drop = true;
        Ok(())
    })?;
    Ok(CallbackReturn::Return)
}

/// `set_max_payload_size(size)` in `ws_handshake`: the largest data message this side may
/// send, fragments joined; `0` restores the default. Kong: "`size` must be a number",
/// "`size` must be <= N", "`size` must be >= 0".
fn set_max_payload_size<'gc, const UPSTREAM: bool>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
    pdk.check_phase(ctx, &exec, kong_phase::WS_HANDSHAKE)?;
    let size = match stack.get(0) {
        Value::Integer(n) => n as f64,
        Value::Number(n) => n,
        _ => return raise(ctx, &exec, "`size` must be a number"),
    };
    if size > MAX_PAYLOAD_SIZE as f64 {
        return raise(ctx, &exec, &format!("`size` must be <= {MAX_PAYLOAD_SIZE}"));
    }
    if size < 0.0 || size.is_nan() {
        return raise(ctx, &exec, "`size` must be >= 0");
    }
    let limit = (size >= 1.0).then_some(size as usize);
    pdk.scope_mut().request.ws_max_payload[usize::from(UPSTREAM)] = limit;
    Ok(CallbackReturn::Return)
}
