//! `kong.websocket.client` and `kong.websocket.upstream`, as Kong Enterprise's
//! `kong/enterprise_edition/pdk/websocket.lua` defines them: the frame functions
//! (`get_frame`, `set_frame_data`, `set_status`, `drop_frame`, `close`) in
//! `ws_client_frame`/`ws_upstream_frame`, each namespace only in its own side's phase;
//! `set_max_payload_size` in `ws_handshake`. Argument errors are Kong's words.

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{lua_string, raise, Pdk};
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
    t.set(ctx, "client", side_table(ctx, pdk, Side::Client)).ok();
    t.set(ctx, "upstream", side_table(ctx, pdk, Side::Upstream)).ok();
    t
}

/// The functions of one namespace; one callback body serves them all (the module is
/// size-bound: twelve functions, one instantiation).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    GetFrame,
    SetFrameData,
    SetStatus,
    DropFrame,
    Close,
    SetMaxPayloadSize,
}

const OPS: [(&str, Op); 6] = [
    ("get_frame", Op::GetFrame),
    ("set_frame_data", Op::SetFrameData),
    ("set_status", Op::SetStatus),
    ("drop_frame", Op::DropFrame),
    ("close", Op::Close),
    ("set_max_payload_size", Op::SetMaxPayloadSize),
];

fn side_table<'gc>(ctx: Context<'gc>, pdk: &Pdk, side: Side) -> Table<'gc> {
    let t = Table::new(&ctx);
    for (name, op) in OPS {
        let pdk = pdk.clone();
        let callback = Callback::from_fn(&ctx, move |ctx, exec, stack| call(&pdk, side, op, ctx, exec, stack));
        t.set(ctx, name, callback).ok();
    }
    t
}

/// What `get_frame` returns: payload, type, close status.
type FrameView = (Vec<u8>, Kind, Option<u16>);

fn call<'gc>(pdk: &Pdk, side: Side, op: Op, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Ret<'gc> {
    if op == Op::SetMaxPayloadSize {
        return set_max_payload_size(pdk, side, ctx, exec, stack);
    }
    // Kong's `ws_proxy_method` guard: the frame phases only, and only the namespace of
    // the side whose frame is in flight ("... from the wrong thread", Kong's words).
    pdk.check_phase(ctx, &exec, WS_PROXY)?;
    let result = {
        let mut scope = pdk.scope_mut();
        match scope.request.ws_frame.as_mut() {
            Some(frame) if frame.side == side => apply(op, frame, &stack),
            _ if side == Side::Client => Err("calling kong.websocket.client method from the wrong thread"),
            _ => Err("calling kong.websocket.upstream method from the wrong thread"),
        }
    };
    match result {
        Err(message) => raise(ctx, &exec, message),
        Ok(Some((payload, kind, status))) => {
            let status = status.map_or(Value::Nil, |s| Value::Integer(i64::from(s)));
            stack.replace(ctx, (lua_string(ctx, &payload), lua_string(ctx, kind.name().as_bytes()), status));
            Ok(CallbackReturn::Return)
        }
        Ok(None) => {
            stack.clear();
            Ok(CallbackReturn::Return)
        }
    }
}

/// One frame function on the frame in flight, with Kong's argument checks:
/// - `get_frame()`: the payload, the type (`text`, `binary`, `ping`, `pong`, `close`)
///   and, for a close frame, its status code;
/// - `set_frame_data(data)`: "frame payload must be a string";
/// - `set_status(code)`: "status code must be an integer", "cannot override status code
///   of non-close frame";
/// - `drop_frame()`: not sent on, later chunks skipped; "cannot drop a close frame";
/// - `close([status[, message[, peer_status[, peer_message]]]])`: close frames to both
///   peers (the first two for this side, the last two for the other), the frame dropped,
///   later chunks skipped; "<side> status must be nil or a number", "<side> message must
///   be nil or a string", the same for the peer.
fn apply(op: Op, f: &mut WsFrame, stack: &Stack<'_, '_>) -> Result<Option<FrameView>, &'static str> {
    match op {
        Op::GetFrame => return Ok(Some((f.message.payload.clone(), f.message.kind, f.message.status))),
        Op::SetFrameData => match stack.get(0) {
            Value::String(s) => f.message.payload = s.as_bytes().to_vec(),
            _ => return Err("frame payload must be a string"),
        },
        Op::SetStatus => {
            let code = status_arg(stack.get(0)).flatten().ok_or("status code must be an integer")?;
            if f.message.kind != Kind::Close {
                return Err("cannot override status code of non-close frame");
            }
            f.message.status = Some(code);
        }
        Op::DropFrame if f.message.kind == Kind::Close => return Err("cannot drop a close frame"),
        Op::DropFrame => f.drop = true,
        Op::Close => {
            // Kong's messages name the side each pair of arguments is for.
            let [my_status, my_message, peer_status, peer_message] = if f.side == Side::Client {
                CLOSE_ERRORS[0]
            } else {
                CLOSE_ERRORS[1]
            };
            let message = |i: usize, error: &'static str| match stack.get(i) {
                Value::Nil => Ok(None),
                Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
                _ => Err(error),
            };
            let status = |i: usize, error: &'static str| status_arg(stack.get(i)).ok_or(error);
            f.close = Some(WsClose {
                status: status(0, my_status)?,
                message: message(1, my_message)?,
                peer_status: status(2, peer_status)?,
                peer_message: message(3, peer_message)?,
            });
            f.drop = true;
        }
        Op::SetMaxPayloadSize => {}
    }
    Ok(None)
}

/// `close`'s argument errors, for `kong.websocket.client` then `kong.websocket.upstream`.
const CLOSE_ERRORS: [[&str; 4]; 2] = [
    [
        "client status must be nil or a number",
        "client message must be nil or a string",
        "upstream status must be nil or a number",
        "upstream message must be nil or a string",
    ],
    [
        "upstream status must be nil or a number",
        "upstream message must be nil or a string",
        "client status must be nil or a number",
        "client message must be nil or a string",
    ],
];

/// A status code argument: an integer in 0..=65535 (the frame's 16 bits).
fn status_arg(value: Value<'_>) -> Option<Option<u16>> {
    let n = match value {
        Value::Nil => return Some(None),
        Value::Integer(n) => n,
        Value::Number(n) if n.fract() == 0.0 => n as i64,
        _ => return None,
    };
    u16::try_from(n).ok().map(Some)
}

/// `set_max_payload_size(size)` in `ws_handshake`: the largest data message this side may
/// send, fragments joined; `0` restores the default. Kong: "`size` must be a number",
/// "`size` must be <= N", "`size` must be >= 0".
fn set_max_payload_size<'gc>(pdk: &Pdk, side: Side, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Ret<'gc> {
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
    pdk.scope_mut().request.ws_max_payload[usize::from(side == Side::Upstream)] = limit;
    Ok(CallbackReturn::Return)
}
