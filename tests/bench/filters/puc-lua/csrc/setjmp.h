/* B3's stand-in for <setjmp.h>, which wasm32-wasip1 does not have (no stack unwinding in
 * Wasm 1.0 without the exception-handling proposal; Debian's wasi-libc ships no setjmp.h
 * and clang 14 cannot lower setjmp/longjmp for Wasm). Lua 5.1 uses setjmp/longjmp only to
 * raise errors (ldo.c, LUAI_TRY/LUAI_THROW in luaconf.h): here LUAI_TRY runs its body
 * and a raised error traps the Wasm instance. The benchmark chunks raise no errors; a
 * real filter built this way would lose the whole VM on one Lua error. */
#ifndef B3_SETJMP_H
#define B3_SETJMP_H
typedef int jmp_buf[1];
#define setjmp(b) ((b)[0] = 0)
#define longjmp(b, v) __builtin_trap()
#endif
