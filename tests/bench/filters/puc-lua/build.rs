//! Compiles PUC-Rio Lua 5.1.5 (the sources the `lua-src` crate ships) for the filter with
//! clang: the core and the base, table, string and math libraries, with `csrc/setjmp.h`
//! standing in for the missing `<setjmp.h>` (errors trap, see there). `LUA51_SRC` may
//! name another Lua 5.1 source directory.

use std::path::PathBuf;

fn lua_sources() -> PathBuf {
    if let Some(dir) = std::env::var_os("LUA51_SRC") {
        return PathBuf::from(dir);
    }
    // The build-dependency is in cargo's registry source cache: $CARGO_HOME/registry/src/<index>/lua-src-<version>.
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME or CARGO_HOME")).join(".cargo")
    });
    let registry = home.join("registry/src");
    for index in std::fs::read_dir(&registry).expect("cargo's registry sources").flatten() {
        let dir = index.path().join("lua-src-551.1.0/lua-5.1.5");
        if dir.join("lvm.c").is_file() {
            return dir;
        }
    }
    panic!("lua-src 551.1.0's lua-5.1.5 not found under {}; set LUA51_SRC", registry.display());
}

fn main() {
    let src = lua_sources();
    println!("cargo:rerun-if-env-changed=LUA51_SRC");
    println!("cargo:rerun-if-changed=csrc");
    let core = [
        "lapi", "lcode", "ldebug", "ldo", "ldump", "lfunc", "lgc", "llex", "lmem", "lobject", "lopcodes", "lparser",
        "lstate", "lstring", "ltable", "ltm", "lundump", "lvm", "lzio", "lauxlib", "lbaselib", "lstrlib", "ltablib",
        "lmathlib",
    ];
    let mut build = cc::Build::new();
    build.compiler("clang");
    // clang 14 knows the triple as wasm32-wasi (Debian's wasi-libc headers live under it);
    // the last --target wins over cc's wasm32-wasip1.
    build.flag("--target=wasm32-wasi");
    if std::path::Path::new("/usr/bin/llvm-ar").exists() {
        build.archiver("llvm-ar");
    }
    // csrc first: its setjmp.h wins over any system one.
    build.include("csrc").include(&src).opt_level(2).warnings(false).flag_if_supported("-fno-common");
    for name in core {
        build.file(src.join(format!("{name}.c")));
    }
    build.file("csrc/b3.c");
    build.compile("lua51");
}
