//! kong-functions patch: runtime errors that name the variable, as LuaJIT words them
//! (`attempt to call global 'f' (a nil value)`, `attempt to index local 't' (a nil
//! value)`, `attempt to compare number with nil`).
//!
//! Nothing here runs until an instruction has failed: the VM raises its usual error, and
//! `describe_error` then reads the failing opcode, the values in its registers and the
//! prototype's debug information (local variable names with their opcode ranges, upvalue
//! names, constants) to find what the operand was, as LuaJIT's `lj_debug_slotname`
//! (lj_debug.c) and Lua 5.1's `getobjname` (ldebug.c) do. The happy path costs nothing.

use crate::{
    opcode::{Operation, RCIndex},
    thread::{BinaryOperatorError, VMError},
    types::RegisterIndex,
    Constant, FunctionPrototype, RuntimeError, TypeError, Value,
};

/// What a register held when an instruction read it, as LuaJIT's `lj_debug_slotname`
/// answers: its kind (`"local"`, `"global"`, `"field"`, `"method"`, `"upvalue"`) and name.
/// LuaJIT has no `"constant"` kind (Lua 5.2's): a string constant in a register has no name.
pub type SlotName = (&'static str, std::string::String);

/// The name of register `slot` as read by opcode `pc` of `proto`, or `None` when LuaJIT
/// would give none (a temporary computed by an expression, a table read with a non-string
/// key, a call's result).
///
/// A local in scope at `pc` held in `slot` is `local`. Otherwise the opcodes before `pc` are
/// scanned backwards, without following jumps (as LuaJIT does), for the one that wrote
/// `slot`: a `Move` continues with its source (and the local check at that opcode), a read
/// of a string key from the `_ENV` upvalue is `global`, from any other table `field`, a
/// `Method` lookup `method`, an upvalue read `upvalue`; anything else has no name. An
/// opcode that writes a range of registers from a base at or below `slot` (calls, varargs,
/// `LoadNil`, loops) ends the scan with no name.
pub fn slot_name(proto: &FunctionPrototype<'_>, pc: usize, slot: u8) -> Option<SlotName> {
    let mut slot = slot;
    let mut at = pc;
    'restart: loop {
        if let Some(local) = proto
            .local_names
            .iter()
            .find(|l| l.register == slot && l.start <= at && at < l.end)
        {
            return Some(("local", local.name.to_str_lossy().into_owned()));
        }
        let mut i = at;
        while i > 0 {
            i -= 1;
            let op = proto.opcodes[i].decode_cold();
            match written(op) {
                Written::Nothing => {}
                Written::From(base) => {
                    if slot >= base {
                        return None;
                    }
                }
                Written::Range(lo, count) => {
                    if slot >= lo && (slot as u16) < lo as u16 + count as u16 {
                        return None;
                    }
                }
                Written::Dest(dest) => {
                    if dest != slot {
                        continue;
                    }
                    return match op {
                        Operation::Move { source, .. } => {
                            slot = source.0;
                            at = i;
                            continue 'restart;
                        }
                        Operation::GetTable { key, .. } => {
                            string_constant(proto, key).map(|name| ("field", name))
                        }
                        Operation::GetUpTable { table, key, .. } => {
                            let name = string_constant(proto, key)?;
                            let is_env = proto
                                .upvalue_names
                                .get(table.0 as usize)
                                .is_some_and(|n| n.as_bytes() == b"_ENV");
                            Some((if is_env { "global" } else { "field" }, name))
                        }
                        Operation::GetUpValue { source, .. } => proto
                            .upvalue_names
                            .get(source.0 as usize)
                            .map(|n| ("upvalue", n.to_str_lossy().into_owned())),
                        _ => None,
                    };
                }
                Written::Method(base) => {
                    if slot == base {
                        if let Operation::Method { key, .. } = op {
                            return string_constant(proto, key).map(|name| ("method", name));
                        }
                    }
                    if slot == base || slot == base + 1 {
                        return None;
                    }
                }
            }
        }
        return None;
    }
}

/// The name of the `arg`-th argument (0-based) of the call at opcode `pc`, when that call
/// calls the global `callee` (the built-ins our compile rewrite calls: `__kf_method`,
/// `__kf_concat`). `None` when the opcode is not such a call, e.g. when the callback was
/// reached by a tail call and `pc` belongs to another frame.
pub fn call_argument_name(
    proto: &FunctionPrototype<'_>,
    pc: usize,
    callee: &str,
    arg: usize,
) -> Option<SlotName> {
    let func = match proto.opcodes.get(pc)?.decode_cold() {
        Operation::Call { func, .. } | Operation::TailCall { func, .. } => func,
        _ => return None,
    };
    match slot_name(proto, pc, func.0) {
        Some(("global", name)) if name == callee => {}
        _ => return None,
    }
    let slot = u8::try_from(func.0 as usize + 1 + arg).ok()?;
    slot_name(proto, pc, slot)
}

/// `kind 'name'` for an error message, or nothing.
fn named(name: Option<SlotName>) -> std::string::String {
    match name {
        Some((kind, name)) => std::format!("{kind} '{name}' "),
        None => std::string::String::new(),
    }
}

/// LuaJIT's `lj_err_optype`: `attempt to <verb> [kind 'name' ](a <type> value)`.
fn optype(verb: &str, name: Option<SlotName>, type_name: &str) -> std::string::String {
    match name {
        Some(_) => std::format!("attempt to {verb} {}(a {type_name} value)", named(name)),
        None => std::format!("attempt to {verb} a {type_name} value"),
    }
}

/// LuaJIT's `lj_err_comp`: `attempt to compare two <type> values` when both operands have
/// the same type, else `attempt to compare <type> with <type>`.
pub fn compare_message(left: &str, right: &str) -> std::string::String {
    if left == right {
        std::format!("attempt to compare two {left} values")
    } else {
        std::format!("attempt to compare {left} with {right}")
    }
}

/// The message LuaJIT gives for the error `err` that opcode `pc` of `proto` raised, with
/// `frame` the registers of that call (`frame[0]` is register 0), without the position.
/// `None` for errors LuaJIT words no differently than piccolo already does, or that are not
/// the instruction's own (an error from a callback the instruction called).
pub fn describe_error<'gc>(
    proto: &FunctionPrototype<'gc>,
    pc: usize,
    frame: &[Value<'gc>],
    err: &RuntimeError,
) -> Option<std::string::String> {
    let op = proto.opcodes.get(pc)?.decode_cold();
    let type_error =
        err.downcast::<TypeError>()
            .copied()
            .or_else(|| match err.downcast::<VMError>() {
                Some(VMError::BadType(t)) => Some(*t),
                _ => None,
            });
    let register = |r: RegisterIndex| frame.get(r.0 as usize).copied();
    let operand = |rc: RCIndex| -> Option<Value<'gc>> {
        match rc {
            RCIndex::Register(r) => frame.get(r.0 as usize).copied(),
            RCIndex::Constant(c) => proto.constants.get(c.0 as usize).map(|c| (*c).into()),
        }
    };
    let rc_name = |rc: RCIndex| match rc {
        RCIndex::Register(r) => slot_name(proto, pc, r.0),
        RCIndex::Constant(_) => None,
    };
    let found = |t: TypeError| {
        if t.found == "integer" {
            "number"
        } else {
            t.found
        }
    };

    match op {
        Operation::Call { func, .. } | Operation::TailCall { func, .. } => {
            let t = type_error?;
            (t.expected == "function")
                .then(|| optype("call", slot_name(proto, pc, func.0), found(t)))
        }
        Operation::GenericForCall { .. } => {
            let t = type_error?;
            (t.expected == "function").then(|| optype("call", None, found(t)))
        }
        Operation::GetTable { table, .. }
        | Operation::SetTable { table, .. }
        | Operation::Method { table, .. } => {
            let t = type_error?;
            Some(optype("index", slot_name(proto, pc, table.0), found(t)))
        }
        Operation::GetUpTable { table, .. } | Operation::SetUpTable { table, .. } => {
            let t = type_error?;
            let name = proto
                .upvalue_names
                .get(table.0 as usize)
                .filter(|n| n.as_bytes() != b"_ENV")
                .map(|n| ("upvalue", n.to_str_lossy().into_owned()));
            Some(optype("index", name, found(t)))
        }
        Operation::Length { source, .. } => {
            let t = type_error?;
            Some(optype(
                "get length of",
                slot_name(proto, pc, source.0),
                found(t),
            ))
        }
        Operation::Minus { source, .. } => {
            err.downcast::<BinaryOperatorError>()?;
            let v = register(source)?;
            Some(optype(
                "perform arithmetic on",
                slot_name(proto, pc, source.0),
                v.type_name(),
            ))
        }
        Operation::Add { left, right, .. }
        | Operation::Sub { left, right, .. }
        | Operation::Mul { left, right, .. }
        | Operation::Div { left, right, .. }
        | Operation::IDiv { left, right, .. }
        | Operation::Mod { left, right, .. }
        | Operation::Pow { left, right, .. } => {
            err.downcast::<BinaryOperatorError>()?;
            // Lua 5.1's `luaG_aritherror`: the first operand that is not a number (nor a
            // string that converts to one).
            let (l, r) = (operand(left)?, operand(right)?);
            let (rc, v) = if l.to_number().is_none() {
                (left, l)
            } else if r.to_number().is_none() {
                (right, r)
            } else {
                return None;
            };
            Some(optype("perform arithmetic on", rc_name(rc), v.type_name()))
        }
        Operation::Less { left, right, .. } | Operation::LessEq { left, right, .. } => {
            err.downcast::<BinaryOperatorError>()?;
            let (l, r) = (operand(left)?, operand(right)?);
            Some(compare_message(l.type_name(), r.type_name()))
        }
        Operation::NumericForPrep { base, .. } | Operation::NumericForLoop { base, .. } => {
            // LuaJIT's `lj_meta_for`: the start, then the limit, then the step.
            let names = ["initial value", "limit", "step"];
            for (i, what) in names.iter().enumerate() {
                let v = frame.get(base.0 as usize + i).copied()?;
                if v.to_number().is_none() {
                    return Some(std::format!("'for' {what} must be a number"));
                }
            }
            None
        }
        _ => None,
    }
}

fn string_constant(proto: &FunctionPrototype<'_>, key: RCIndex) -> Option<std::string::String> {
    match key {
        RCIndex::Constant(c) => match proto.constants.get(c.0 as usize)? {
            Constant::String(s) => Some(s.to_str_lossy().into_owned()),
            _ => None,
        },
        RCIndex::Register(_) => None,
    }
}

/// Which registers an opcode writes, for the backward scan of `slot_name`.
enum Written {
    Nothing,
    /// One register.
    Dest(u8),
    /// `Method`: the method at `base`, the receiver at `base + 1`.
    Method(u8),
    /// `count` registers from the first.
    Range(u8, u8),
    /// Every register from this one up (calls, varargs, loops).
    From(u8),
}

fn written(op: Operation) -> Written {
    use Operation as O;
    match op {
        O::Move { dest, .. }
        | O::LoadConstant { dest, .. }
        | O::LoadBool { dest, .. }
        | O::NewTable { dest, .. }
        | O::GetTable { dest, .. }
        | O::GetUpTable { dest, .. }
        | O::TestSet { dest, .. }
        | O::Closure { dest, .. }
        | O::Concat { dest, .. }
        | O::GetUpValue { dest, .. }
        | O::Length { dest, .. }
        | O::Not { dest, .. }
        | O::Minus { dest, .. }
        | O::BitNot { dest, .. }
        | O::Add { dest, .. }
        | O::Sub { dest, .. }
        | O::Mul { dest, .. }
        | O::Div { dest, .. }
        | O::IDiv { dest, .. }
        | O::Mod { dest, .. }
        | O::Pow { dest, .. }
        | O::BitAnd { dest, .. }
        | O::BitOr { dest, .. }
        | O::BitXor { dest, .. }
        | O::ShiftLeft { dest, .. }
        | O::ShiftRight { dest, .. } => Written::Dest(dest.0),
        O::Method { base, .. } => Written::Method(base.0),
        O::LoadNil { dest, count } => Written::Range(dest.0, count),
        O::Call { func, .. } | O::TailCall { func, .. } => Written::From(func.0),
        O::VarArgs { dest, .. } => Written::From(dest.0),
        O::Return { start, .. } => Written::From(start.0),
        O::SetList { base, .. }
        | O::NumericForPrep { base, .. }
        | O::NumericForLoop { base, .. }
        | O::GenericForCall { base, .. }
        | O::GenericForLoop { base, .. } => Written::From(base.0),
        O::SetTable { .. }
        | O::SetUpTable { .. }
        | O::SetUpValue { .. }
        | O::Jump { .. }
        | O::Test { .. }
        | O::Eq { .. }
        | O::Less { .. }
        | O::LessEq { .. } => Written::Nothing,
    }
}
