use allocator_api2::vec;
use gc_arena::allocator_api::MetricsAlloc;
use thiserror::Error;

use crate::{
    meta_ops::{self, MetaMethod, MetaResult},
    opcode::{Operation, RCIndex},
    raw_ops,
    table::RawTable,
    thread::thread::MetaReturn,
    types::{RegisterIndex, UpValueDescriptor, VarCount},
    Closure, Constant, Context, Function, RuntimeError, String, Table, Value,
};

use super::{
    executor::Execution,
    thread::{Frame, LuaFrame},
    Executor, VMError,
};
use crate::{CallbackReturn, FunctionPrototype, Stack, Thread};
use gc_arena::Gc;

/// kong-functions patch: what `run_vm` needs to run a plain callback itself, where 0.3.3
/// returned to `Executor::step` for every call into Rust and came back for its return.
pub(super) struct InlineCalls<'gc, 'a> {
    pub(super) executor: Executor<'gc>,
    pub(super) threads: &'a [Thread<'gc>],
    /// Set when a callback run here returned something other than `Return` (a sequence, a
    /// call, a yield or a resume): the stack bottom it returned at and what it returned,
    /// for `Executor::step` to finish as it finishes any callback.
    pub(super) pending: Option<(usize, CallbackReturn<'gc>)>,
}

/// kong-functions patch: after a `Call` opcode pushed a callback frame, runs the callback
/// at once. Returns true when it returned plainly, its results are in place and the fuel
/// allows going on in the same Lua frame; false when `run_vm` must return (a Lua frame was
/// pushed, the callback errored or asked for more, or the fuel is spent).
///
/// kong-functions patch 8: `tail` when the call is a `TailCall`: the callback then sees the
/// frame below as its caller (`Execution::upper_lua_frame`), as Lua, where the calling frame
/// is gone.
fn call_inline<'gc>(
    ctx: Context<'gc>,
    lua_frame: &mut LuaFrame<'gc, '_>,
    prototype: Gc<'gc, FunctionPrototype<'gc>>,
    calls: &mut InlineCalls<'gc, '_>,
    tail: bool,
) -> bool {
    if !matches!(lua_frame.state.frames.last(), Some(Frame::Callback { .. })) {
        return false;
    }
    let Some(Frame::Callback { bottom, callback }) = lua_frame.state.frames.pop() else {
        unreachable!()
    };
    let Some(Frame::Lua { pc, .. }) = lua_frame.state.frames.last() else {
        panic!("callback called from a frame that is not lua");
    };
    // The fuel the step loop would have spent: a step to leave the VM, the callback, a step
    // to come back.
    lua_frame
        .fuel
        .consume(Executor::FUEL_PER_CALLBACK + 2 * Executor::FUEL_PER_STEP);
    // Subtract 1 instruction for the Call opcode, as `Executor::step` does.
    let calling = Some((prototype, *pc - 1));
    let upper = if tail {
        frame_below(lua_frame)
    } else {
        calling
    };
    let exec = Execution::new(
        calls.executor,
        lua_frame.fuel,
        upper,
        calling,
        calls.threads,
    );
    match callback.call(ctx, exec, Stack::new(&mut lua_frame.state.stack, bottom)) {
        Ok(CallbackReturn::Return) => {
            lua_frame.state.return_to(bottom);
            lua_frame.fuel.should_continue()
        }
        Ok(ret) => {
            calls.pending = Some((bottom, ret));
            false
        }
        Err(err) => {
            lua_frame.state.stack.truncate(bottom);
            lua_frame.state.frames.push(Frame::Error(err));
            false
        }
    }
}

/// kong-functions patch 9: `left < right` (or `<=` when `less_equal`) for operands that are
/// not two numbers or two strings: calls the shared `__lt`/`__le` metamethod
/// (`meta_ops::less_than`/`less_equal`), whose result decides the skip as the opcode's own
/// would; an error when there is none. Out of the VM loop: comparisons of numbers and
/// strings never come here.
#[cold]
#[inline(never)]
fn compare_meta<'gc>(
    ctx: Context<'gc>,
    lua_frame: LuaFrame<'gc, '_>,
    left: Value<'gc>,
    right: Value<'gc>,
    skip_if: bool,
    less_equal: bool,
) -> Result<(), RuntimeError> {
    let order = if less_equal {
        meta_ops::less_equal(ctx, left, right)?
    } else {
        meta_ops::less_than(ctx, left, right)?
    };
    match order {
        Some(order) => {
            lua_frame.call_meta_function(
                ctx,
                order.call.function,
                &order.call.args,
                MetaReturn::SkipIf(skip_if ^ order.negate),
            )?;
            Ok(())
        }
        None if less_equal => Err(BinaryOperatorError::LessEqual.into()),
        None => Err(BinaryOperatorError::LessThan.into()),
    }
}

/// kong-functions patch 14: an arithmetic opcode whose operands `raw_ops` could not
/// compute: calls the operands' metamethod (`meta_ops::arithmetic`) with its result into
/// `dest`, or fails with the opcode's own error. Out of the VM loop: arithmetic on numbers
/// never comes here.
#[cold]
#[inline(never)]
fn arithmetic_meta<'gc>(
    ctx: Context<'gc>,
    lua_frame: LuaFrame<'gc, '_>,
    event: MetaMethod,
    left: Value<'gc>,
    right: Value<'gc>,
    dest: RegisterIndex,
    error: BinaryOperatorError,
) -> Result<(), RuntimeError> {
    match meta_ops::arithmetic(ctx, event, left, right)? {
        Some(call) => {
            lua_frame.call_meta_function(ctx, call.function, &call.args, MetaReturn::Register(dest))?;
            Ok(())
        }
        None => Err(error.into()),
    }
}

/// kong-functions patch 8: a `TailCall` of a callback run as a `Call` with all results
/// (the `Return` after it returns them); `call_inline`'s answer. Out of the VM loop, so the
/// loop's code stays as it was.
#[inline(never)]
fn tail_call_callback<'gc>(
    ctx: Context<'gc>,
    lua_frame: &mut LuaFrame<'gc, '_>,
    func: RegisterIndex,
    args: VarCount,
    prototype: Gc<'gc, FunctionPrototype<'gc>>,
    calls: &mut InlineCalls<'gc, '_>,
) -> Result<bool, RuntimeError> {
    lua_frame.call_function(ctx, func, args, VarCount::variable())?;
    Ok(call_inline(ctx, lua_frame, prototype, calls, true))
}

/// kong-functions patch 8: the Lua frame below the top one (the caller a tail-called
/// callback sees, as in Lua where the tail-calling frame is gone).
#[cold]
#[inline(never)]
fn frame_below<'gc>(
    lua_frame: &LuaFrame<'gc, '_>,
) -> Option<(Gc<'gc, FunctionPrototype<'gc>>, usize)> {
    let frames = &lua_frame.state.frames;
    frames
        .len()
        .checked_sub(2)
        .and_then(|i| super::executor::lua_frame_call(&frames[i], &lua_frame.state.stack))
}

#[derive(Debug, Copy, Clone, Error)]
pub enum BinaryOperatorError {
    #[error("cannot add values")]
    Add,
    #[error("cannot subtract values")]
    Subtract,
    #[error("cannot multiply values")]
    Multiply,
    #[error("cannot float divide values")]
    FloatDivide,
    #[error("cannot floor divide values")]
    FloorDivide,
    #[error("cannot modulo values")]
    Modulo,
    #[error("cannot exponentiate values")]
    Exponentiate,
    #[error("cannot negate value")]
    UnaryNegate,
    #[error("cannot bitwise AND values")]
    BitAnd,
    #[error("cannot bitwise OR values")]
    BitOr,
    #[error("cannot bitwise XOR values")]
    BitXor,
    #[error("cannot bitwise NOT value")]
    BitNot,
    #[error("cannot shift value left")]
    ShiftLeft,
    #[error("cannot shift value right")]
    ShiftRight,
    #[error("cannot compare values with <")]
    LessThan,
    #[error("cannot compare values with <=")]
    LessEqual,
}

// Runs the VM for the given number of instructions or until the current LuaFrame may have been
// changed.
//
// Returns the number of instructions that were run.
pub(super) fn run_vm<'gc>(
    ctx: Context<'gc>,
    mut lua_frame: LuaFrame<'gc, '_>,
    max_instructions: u32,
    calls: &mut InlineCalls<'gc, '_>,
) -> Result<u32, RuntimeError> {
    if max_instructions == 0 {
        return Ok(0);
    }

    let current_function = lua_frame.closure();
    let current_prototype = current_function.prototype();
    let current_upvalues = current_function.upvalues();
    let mut registers = lua_frame.registers();
    let mut instructions_run = 0;

    fn get_rc<'gc>(
        stack_frame: &[Value<'gc>],
        constants: &[Constant<String<'gc>>],
        rc: RCIndex,
    ) -> Value<'gc> {
        match rc {
            RCIndex::Register(r) => stack_frame[r.0 as usize],
            RCIndex::Constant(c) => constants[c.0 as usize].into(),
        }
    }

    loop {
        let op = current_prototype.opcodes[*registers.pc].decode();
        *registers.pc += 1;

        match op {
            Operation::Move { dest, source } => {
                registers.stack_frame[dest.0 as usize] = registers.stack_frame[source.0 as usize];
            }

            Operation::LoadConstant { dest, constant } => {
                registers.stack_frame[dest.0 as usize] =
                    current_prototype.constants[constant.0 as usize].into();
            }

            Operation::LoadBool {
                dest,
                value,
                skip_next,
            } => {
                registers.stack_frame[dest.0 as usize] = Value::Boolean(value);
                if skip_next {
                    *registers.pc += 1;
                }
            }

            Operation::LoadNil { dest, count } => {
                for i in dest.0..dest.0 + count {
                    registers.stack_frame[i as usize] = Value::Nil;
                }
            }

            Operation::NewTable {
                dest,
                array_size,
                map_size,
            } => {
                let mut raw_table = RawTable::new(&ctx);
                raw_table.reserve_array(array_size as usize);
                raw_table.reserve_map(map_size as usize);
                let table = Table::from_parts(&ctx, raw_table, None);
                registers.stack_frame[dest.0 as usize] = Value::Table(table);
            }

            Operation::GetTable { dest, table, key } => {
                let table = registers.stack_frame[table.0 as usize];
                let key = get_rc(&registers.stack_frame, &current_prototype.constants, key);
                match meta_ops::index(ctx, table, key)? {
                    MetaResult::Value(v) => {
                        registers.stack_frame[dest.0 as usize] = v;
                    }
                    MetaResult::Call(call) => {
                        lua_frame.call_meta_function(
                            ctx,
                            call.function,
                            &call.args,
                            MetaReturn::Register(dest),
                        )?;
                        break;
                    }
                }
            }

            Operation::SetTable { table, key, value } => {
                let table = registers.stack_frame[table.0 as usize];
                let key = get_rc(&registers.stack_frame, &current_prototype.constants, key);
                let value = get_rc(&registers.stack_frame, &current_prototype.constants, value);
                if let Some(call) = meta_ops::new_index(ctx, table, key, value)? {
                    lua_frame.call_meta_function(
                        ctx,
                        call.function,
                        &call.args,
                        MetaReturn::None,
                    )?;
                    break;
                }
            }

            Operation::GetUpTable { dest, table, key } => {
                let table = registers.get_upvalue(&ctx, current_upvalues[table.0 as usize]);
                let key = get_rc(&registers.stack_frame, &current_prototype.constants, key);
                match meta_ops::index(ctx, table, key)? {
                    MetaResult::Value(v) => {
                        registers.stack_frame[dest.0 as usize] = v;
                    }
                    MetaResult::Call(call) => {
                        lua_frame.call_meta_function(
                            ctx,
                            call.function,
                            &call.args,
                            MetaReturn::Register(dest),
                        )?;
                        break;
                    }
                }
            }

            Operation::SetUpTable { table, key, value } => {
                let table = registers.get_upvalue(&ctx, current_upvalues[table.0 as usize]);
                let key = get_rc(&registers.stack_frame, &current_prototype.constants, key);
                let value = get_rc(&registers.stack_frame, &current_prototype.constants, value);
                if let Some(call) = meta_ops::new_index(ctx, table, key, value)? {
                    lua_frame.call_meta_function(
                        ctx,
                        call.function,
                        &call.args,
                        MetaReturn::None,
                    )?;
                    break;
                }
            }

            Operation::SetList { base, count } => {
                lua_frame.set_table_list(&ctx, base, count)?;
                registers = lua_frame.registers();
            }

            Operation::Call {
                func,
                args,
                returns,
            } => {
                lua_frame.call_function(ctx, func, args, returns)?;
                if !call_inline(ctx, &mut lua_frame, current_prototype, calls, false) {
                    break;
                }
                registers = lua_frame.registers();
            }

            Operation::TailCall { func, args } => {
                // kong-functions patch 8: a tail call of a callback is a plain call followed
                // by the `Return` of all its results the compiler places after every
                // `TailCall`. The calling frame stays while the callback runs, so an error
                // it raises has this frame's position, and the operand names of the
                // built-ins that stand for operators (`return a .. b`) are found; a Lua
                // function is still tail called.
                if let Value::Function(Function::Callback(_)) =
                    registers.stack_frame[func.0 as usize]
                {
                    if !tail_call_callback(
                        ctx,
                        &mut lua_frame,
                        func,
                        args,
                        current_prototype,
                        calls,
                    )? {
                        break;
                    }
                    registers = lua_frame.registers();
                } else {
                    lua_frame.tail_call_function(ctx, func, args)?;
                    break;
                }
            }

            Operation::Return { start, count } => {
                lua_frame.return_upper(&ctx, start, count)?;
                break;
            }

            Operation::VarArgs { dest, count } => {
                lua_frame.varargs(dest, count)?;
                registers = lua_frame.registers();
            }

            Operation::Jump {
                offset,
                close_upvalues,
            } => {
                *registers.pc = add_offset(*registers.pc, offset);
                if let Some(r) = close_upvalues.to_u8() {
                    registers.close_upvalues(&ctx, RegisterIndex(r));
                }
            }

            Operation::Test { value, is_true } => {
                let value = registers.stack_frame[value.0 as usize];
                if value.to_bool() == is_true {
                    *registers.pc += 1;
                }
            }

            Operation::TestSet {
                dest,
                value,
                is_true,
            } => {
                let value = registers.stack_frame[value.0 as usize];
                if value.to_bool() == is_true {
                    *registers.pc += 1;
                } else {
                    registers.stack_frame[dest.0 as usize] = value;
                }
            }

            Operation::Closure { proto, dest } => {
                let proto = current_prototype.prototypes[proto.0 as usize];
                let mut upvalues = vec::Vec::new_in(MetricsAlloc::new(&ctx));
                for &desc in proto.upvalues.iter() {
                    match desc {
                        UpValueDescriptor::Environment => {
                            return Err(VMError::BadEnvUpValue.into());
                        }
                        UpValueDescriptor::ParentLocal(reg) => {
                            upvalues.push(registers.open_upvalue(&ctx, reg));
                        }
                        UpValueDescriptor::Outer(uvindex) => {
                            upvalues.push(current_upvalues[uvindex.0 as usize]);
                        }
                    }
                }

                let closure = Closure::from_parts(&ctx, proto, upvalues);
                registers.stack_frame[dest.0 as usize] =
                    Value::Function(Function::Closure(closure));
            }

            Operation::NumericForPrep { base, jump } => {
                registers.stack_frame[base.0 as usize] = raw_ops::subtract(
                    registers.stack_frame[base.0 as usize],
                    registers.stack_frame[base.0 as usize + 2],
                )
                .ok_or(BinaryOperatorError::Subtract)?;
                *registers.pc = add_offset(*registers.pc, jump);
            }

            Operation::NumericForLoop { base, jump } => {
                match (
                    registers.stack_frame[base.0 as usize],
                    registers.stack_frame[base.0 as usize + 1],
                    registers.stack_frame[base.0 as usize + 2],
                ) {
                    (Value::Integer(index), Value::Integer(limit), Value::Integer(step)) => {
                        let index = index + step;
                        registers.stack_frame[base.0 as usize] = Value::Integer(index);

                        let past_end = if step < 0 {
                            index < limit
                        } else {
                            limit < index
                        };
                        if !past_end {
                            *registers.pc = add_offset(*registers.pc, jump);
                            registers.stack_frame[base.0 as usize + 3] = Value::Integer(index);
                        }
                    }
                    (index, limit, step) => {
                        if let (Some(index), Some(limit), Some(step)) =
                            (index.to_number(), limit.to_number(), step.to_number())
                        {
                            let index = index + step;
                            registers.stack_frame[base.0 as usize] = Value::Number(index);

                            let past_end = if step < 0.0 {
                                index < limit
                            } else {
                                limit < index
                            };
                            if !past_end {
                                *registers.pc = add_offset(*registers.pc, jump);
                                registers.stack_frame[base.0 as usize + 3] = Value::Number(index);
                            }
                        } else {
                            return Err(BinaryOperatorError::Add.into());
                        }
                    }
                }
            }

            Operation::GenericForCall { base, var_count } => {
                lua_frame.call_function_keep(ctx, base, 2, VarCount::constant(var_count))?;
                if !call_inline(ctx, &mut lua_frame, current_prototype, calls, false) {
                    break;
                }
                registers = lua_frame.registers();
            }

            Operation::GenericForLoop { base, jump } => {
                if registers.stack_frame[base.0 as usize + 1].to_bool() {
                    registers.stack_frame[base.0 as usize] =
                        registers.stack_frame[base.0 as usize + 1];
                    *registers.pc = add_offset(*registers.pc, jump);
                }
            }

            Operation::Method { base, table, key } => {
                let table = registers.stack_frame[table.0 as usize];
                let key = get_rc(&registers.stack_frame, &current_prototype.constants, key);
                registers.stack_frame[base.0 as usize + 1] = table;
                match meta_ops::index(ctx, table, key)? {
                    MetaResult::Value(v) => {
                        registers.stack_frame[base.0 as usize] = v;
                    }
                    MetaResult::Call(call) => {
                        lua_frame.call_meta_function(
                            ctx,
                            call.function,
                            &call.args,
                            MetaReturn::Register(base),
                        )?;
                        break;
                    }
                }
            }

            Operation::Concat {
                dest,
                source,
                count,
            } => {
                registers.stack_frame[dest.0 as usize] = Value::String(String::concat(
                    ctx,
                    &registers.stack_frame[source.0 as usize..source.0 as usize + count as usize],
                )?);
            }

            Operation::GetUpValue { source, dest } => {
                registers.stack_frame[dest.0 as usize] =
                    registers.get_upvalue(&ctx, current_upvalues[source.0 as usize]);
            }

            Operation::SetUpValue { source, dest } => {
                registers.set_upvalue(
                    &ctx,
                    current_upvalues[dest.0 as usize],
                    registers.stack_frame[source.0 as usize],
                );
            }

            Operation::Length { dest, source } => {
                match meta_ops::len(ctx, registers.stack_frame[source.0 as usize])? {
                    MetaResult::Value(v) => {
                        registers.stack_frame[dest.0 as usize] = v;
                    }
                    MetaResult::Call(call) => {
                        lua_frame.call_meta_function(
                            ctx,
                            call.function,
                            &call.args,
                            MetaReturn::Register(dest),
                        )?;
                        break;
                    }
                }
            }

            Operation::Eq {
                skip_if,
                left,
                right,
            } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match meta_ops::equal(ctx, left, right)? {
                    MetaResult::Value(v) => {
                        if v.to_bool() == skip_if {
                            *registers.pc += 1;
                        }
                    }
                    MetaResult::Call(call) => {
                        lua_frame.call_meta_function(
                            ctx,
                            call.function,
                            &call.args,
                            MetaReturn::SkipIf(skip_if),
                        )?;
                        break;
                    }
                }
            }

            Operation::Less {
                skip_if,
                left,
                right,
            } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::less_than(left, right) {
                    Some(less) => {
                        if less == skip_if {
                            *registers.pc += 1;
                        }
                    }
                    // kong-functions patch 9: `__lt`, only when numbers and strings do not
                    // decide.
                    None => {
                        compare_meta(ctx, lua_frame, left, right, skip_if, false)?;
                        break;
                    }
                }
            }

            Operation::LessEq {
                skip_if,
                left,
                right,
            } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::less_equal(left, right) {
                    Some(less_equal) => {
                        if less_equal == skip_if {
                            *registers.pc += 1;
                        }
                    }
                    // kong-functions patch 9: `__le`, else `not __lt(right, left)`.
                    None => {
                        compare_meta(ctx, lua_frame, left, right, skip_if, true)?;
                        break;
                    }
                }
            }

            Operation::Not { dest, source } => {
                let source = registers.stack_frame[source.0 as usize];
                registers.stack_frame[dest.0 as usize] = source.not();
            }

            Operation::Minus { dest, source } => {
                let value = registers.stack_frame[source.0 as usize];
                match raw_ops::negate(value) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__unm`, called as `(a, a)` as in Lua 5.1.
                    None => {
                        let error = BinaryOperatorError::UnaryNegate;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Unm, value, value, dest, error)?;
                        break;
                    }
                }
            }

            Operation::BitNot { dest, source } => {
                let value = registers.stack_frame[source.0 as usize];
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::bitwise_not(value).ok_or(BinaryOperatorError::BitNot)?;
            }

            Operation::Add { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::add(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__add`.
                    None => {
                        let error = BinaryOperatorError::Add;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Add, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::Sub { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::subtract(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__sub`.
                    None => {
                        let error = BinaryOperatorError::Add;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Sub, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::Mul { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::multiply(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__mul`.
                    None => {
                        let error = BinaryOperatorError::Multiply;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Mul, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::Div { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::float_divide(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__div`.
                    None => {
                        let error = BinaryOperatorError::FloatDivide;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Div, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::IDiv { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::floor_divide(left, right).ok_or(BinaryOperatorError::FloorDivide)?;
            }

            Operation::Mod { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::modulo(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__mod`.
                    None => {
                        let error = BinaryOperatorError::Modulo;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Mod, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::Pow { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                match raw_ops::exponentiate(left, right) {
                    Some(v) => registers.stack_frame[dest.0 as usize] = v,
                    // kong-functions patch 14: `__pow`.
                    None => {
                        let error = BinaryOperatorError::Exponentiate;
                        arithmetic_meta(ctx, lua_frame, MetaMethod::Pow, left, right, dest, error)?;
                        break;
                    }
                }
            }

            Operation::BitAnd { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::bitwise_and(left, right).ok_or(BinaryOperatorError::BitAnd)?;
            }

            Operation::BitOr { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::bitwise_or(left, right).ok_or(BinaryOperatorError::BitOr)?;
            }

            Operation::BitXor { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::bitwise_xor(left, right).ok_or(BinaryOperatorError::BitXor)?;
            }

            Operation::ShiftLeft { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::shift_left(left, right).ok_or(BinaryOperatorError::ShiftLeft)?;
            }

            Operation::ShiftRight { dest, left, right } => {
                let left = get_rc(&registers.stack_frame, &current_prototype.constants, left);
                let right = get_rc(&registers.stack_frame, &current_prototype.constants, right);
                registers.stack_frame[dest.0 as usize] =
                    raw_ops::shift_right(left, right).ok_or(BinaryOperatorError::ShiftRight)?;
            }
        }

        instructions_run += 1;
        if instructions_run >= max_instructions {
            break;
        }
    }

    Ok(instructions_run)
}

fn add_offset(pc: usize, offset: i16) -> usize {
    if offset > 0 {
        pc.checked_add(offset as usize).unwrap()
    } else if offset < 0 {
        pc.checked_sub(-offset as usize).unwrap()
    } else {
        pc
    }
}
