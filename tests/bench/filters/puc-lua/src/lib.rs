//! Baseline B3 of the benchmark: PUC-Rio Lua 5.1.5 in C (the `lua-src` crate's sources,
//! compiled by `build.rs` with clang for wasm32-wasip1) inside a small proxy-wasm filter,
//! the shape of Google's service-extensions Lua sample. It runs the benchmark chunks
//! (`tests/bench/scenarios/`) over a thin `kong.*` shim in Lua (`src/shim.lua`, written as
//! the OpenResty baseline's `tests/bench/openresty/shim.lua`) on five host calls, so the
//! numbers say what a C Lua in Wasm costs for the same work as ours.
//!
//! Configuration: the plugin configuration our filter takes, phases only, e.g.
//! `{"access": ["chunk", ...], "header_filter": [...], "body_filter": [...], "log": [...]}`;
//! other keys are ignored. One Lua state per root context, shared by its streams.
//! A Lua error traps the instance (no setjmp/longjmp on wasm32-wasip1: `csrc/setjmp.h`).

#[cfg(target_arch = "wasm32")]
mod filter {
    use std::cell::{Cell, RefCell};
    use std::ffi::{c_char, c_int, c_void};
    use std::rc::Rc;

    use proxy_wasm::hostcalls;
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};

    #[allow(non_camel_case_types)]
    type lua_State = c_void;
    type CFunction = unsafe extern "C" fn(*mut lua_State) -> c_int;

    const LUA_REGISTRYINDEX: c_int = -10000;
    const LUA_GLOBALSINDEX: c_int = -10002;
    const LUA_TNIL: c_int = 0;
    const LUA_TNUMBER: c_int = 3;
    const LUA_TSTRING: c_int = 4;

    extern "C" {
        fn luaL_newstate() -> *mut lua_State;
        fn b3_openlibs(l: *mut lua_State);
        fn luaL_loadbuffer(l: *mut lua_State, buf: *const c_char, size: usize, name: *const c_char) -> c_int;
        fn luaL_ref(l: *mut lua_State, t: c_int) -> c_int;
        fn lua_pcall(l: *mut lua_State, nargs: c_int, nresults: c_int, errfunc: c_int) -> c_int;
        fn lua_settop(l: *mut lua_State, idx: c_int);
        fn lua_gettop(l: *mut lua_State) -> c_int;
        fn lua_type(l: *mut lua_State, idx: c_int) -> c_int;
        fn lua_tolstring(l: *mut lua_State, idx: c_int, len: *mut usize) -> *const c_char;
        fn lua_tointeger(l: *mut lua_State, idx: c_int) -> isize;
        fn lua_pushlstring(l: *mut lua_State, s: *const c_char, len: usize);
        fn lua_pushnil(l: *mut lua_State);
        fn lua_pushboolean(l: *mut lua_State, b: c_int);
        fn lua_pushcclosure(l: *mut lua_State, f: CFunction, n: c_int);
        fn lua_pushvalue(l: *mut lua_State, idx: c_int);
        fn lua_createtable(l: *mut lua_State, narr: c_int, nrec: c_int);
        fn lua_setfield(l: *mut lua_State, idx: c_int, k: *const c_char);
        fn lua_getfield(l: *mut lua_State, idx: c_int, k: *const c_char);
        fn lua_rawgeti(l: *mut lua_State, idx: c_int, n: c_int);
        fn lua_rawseti(l: *mut lua_State, idx: c_int, n: c_int);
    }

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { lua: None }) });
    }}

    /// A local reply asked for by `kong.response.exit` during the current phase.
    struct Exit {
        status: u32,
        body: Option<Vec<u8>>,
        headers: Vec<(String, String)>,
    }

    thread_local! {
        static EXIT: RefCell<Option<Exit>> = const { RefCell::new(None) };
    }

    /// The Lua state and the shim's `run` function (a registry reference).
    struct Lua {
        state: *mut lua_State,
        run: c_int,
        phases: Vec<String>,
    }

    /// The string (or number, as Lua converts it) at `idx`; valid while the value stays on the stack.
    unsafe fn string_at(l: *mut lua_State, idx: c_int) -> Option<&'static [u8]> {
        let t = lua_type(l, idx);
        if t != LUA_TSTRING && t != LUA_TNUMBER {
            return None;
        }
        let mut len = 0usize;
        let ptr = lua_tolstring(l, idx, &mut len);
        (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr as *const u8, len))
    }

    /// A header name or value as text (names are the scenarios' ASCII; bytes that are not
    /// UTF-8 give "", never an invalid `str`).
    unsafe fn str_at(l: *mut lua_State, idx: c_int) -> &'static str {
        std::str::from_utf8(string_at(l, idx).unwrap_or(b"")).unwrap_or("")
    }

    unsafe fn push_bytes(l: *mut lua_State, bytes: &[u8]) {
        lua_pushlstring(l, bytes.as_ptr() as *const c_char, bytes.len());
    }

    // host.get_request_header(name) -> value or nil
    unsafe extern "C" fn get_request_header(l: *mut lua_State) -> c_int {
        match hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, str_at(l, 1)) {
            Ok(Some(value)) => push_bytes(l, &value),
            _ => lua_pushnil(l),
        }
        1
    }

    // host.set_request_header(name, value or nil)
    unsafe extern "C" fn set_request_header(l: *mut lua_State) -> c_int {
        let value = if lua_type(l, 2) == LUA_TNIL { None } else { Some(string_at(l, 2).unwrap_or(b"")) };
        let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, str_at(l, 1), value);
        0
    }

    // host.set_response_header(name, value)
    unsafe extern "C" fn set_response_header(l: *mut lua_State) -> c_int {
        let _ = hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, str_at(l, 1), Some(string_at(l, 2).unwrap_or(b"")));
        0
    }

    // host.respond(status, body or nil, name1, value1, ...): noted, sent after the phase.
    unsafe extern "C" fn respond(l: *mut lua_State) -> c_int {
        let top = lua_gettop(l);
        let mut headers = Vec::new();
        let mut i = 3;
        while i + 1 <= top {
            headers.push((str_at(l, i).to_string(), str_at(l, i + 1).to_string()));
            i += 2;
        }
        let exit = Exit { status: lua_tointeger(l, 1) as u32, body: string_at(l, 2).map(<[u8]>::to_vec), headers };
        EXIT.with(|e| *e.borrow_mut() = Some(exit));
        0
    }

    impl Lua {
        fn new(config: &serde_json::Value) -> Result<Lua, String> {
            unsafe {
                let l = luaL_newstate();
                if l.is_null() {
                    return Err("no memory for a Lua state".into());
                }
                b3_openlibs(l);
                let shim = include_str!("shim.lua");
                if luaL_loadbuffer(l, shim.as_ptr() as *const c_char, shim.len(), c"=shim".as_ptr()) != 0 {
                    return Err(format!("shim: {}", str_at(l, -1)));
                }
                lua_createtable(l, 0, 4);
                let fns: [(&std::ffi::CStr, CFunction); 4] = [
                    (c"get_request_header", get_request_header),
                    (c"set_request_header", set_request_header),
                    (c"set_response_header", set_response_header),
                    (c"respond", respond),
                ];
                for (name, f) in fns {
                    lua_pushcclosure(l, f, 0);
                    lua_setfield(l, -2, name.as_ptr());
                }
                if lua_pcall(l, 1, 2, 0) != 0 {
                    return Err(format!("shim: {}", str_at(l, -1)));
                }
                let run = luaL_ref(l, LUA_REGISTRYINDEX); // pops run
                let mut phases = Vec::new();
                for phase in ["access", "header_filter", "body_filter", "log"] {
                    let Some(chunks) = config.get(phase).and_then(|c| c.as_array()) else { continue };
                    for (i, chunk) in chunks.iter().enumerate() {
                        let source = chunk.as_str().ok_or_else(|| format!("{phase}[{i}] is not a string"))?;
                        lua_pushvalue(l, -1); // the shim's `add`
                        push_bytes(l, phase.as_bytes());
                        let name = format!("={phase}[{}]\0", i + 1);
                        if luaL_loadbuffer(l, source.as_ptr() as *const c_char, source.len(), name.as_ptr() as *const c_char) != 0 {
                            return Err(str_at(l, -1).to_string());
                        }
                        if lua_pcall(l, 2, 0, 0) != 0 {
                            return Err(str_at(l, -1).to_string());
                        }
                    }
                    if !chunks.is_empty() {
                        phases.push(phase.to_string());
                    }
                }
                lua_settop(l, 0);
                Ok(Lua { state: l, run, phases })
            }
        }

        fn has(&self, phase: &str) -> bool {
            self.phases.iter().any(|p| p == phase)
        }

        /// Runs `phase`'s chunks. In this build a Lua error traps (`csrc/setjmp.h`), so
        /// `lua_pcall` returns 0; the error branch logs for a build whose setjmp works.
        fn run(&self, phase: &str) {
            unsafe {
                let l = self.state;
                lua_rawgeti(l, LUA_REGISTRYINDEX, self.run);
                push_bytes(l, phase.as_bytes());
                if lua_pcall(l, 1, 0, 0) != 0 {
                    let _ = hostcalls::log(LogLevel::Error, str_at(l, -1));
                }
                lua_settop(l, 0);
            }
        }
    }

    struct Root {
        lua: Option<Rc<Lua>>,
    }

    impl Context for Root {}

    impl RootContext for Root {
        fn on_configure(&mut self, _size: usize) -> bool {
            let config = self.get_plugin_configuration().unwrap_or_default();
            let config: serde_json::Value = match serde_json::from_slice(&config) {
                Ok(v) => v,
                Err(e) => {
                    let _ = hostcalls::log(LogLevel::Error, &format!("configuration: {e}"));
                    return false;
                }
            };
            match Lua::new(&config) {
                Ok(lua) => {
                    self.lua = Some(Rc::new(lua));
                    true
                }
                Err(e) => {
                    let _ = hostcalls::log(LogLevel::Error, &e);
                    false
                }
            }
        }

        fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Stream { lua: self.lua.clone()?, exited: Cell::new(false) }))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    struct Stream {
        lua: Rc<Lua>,
        exited: Cell<bool>,
    }

    impl Context for Stream {}

    impl Stream {
        /// Runs `phase`; when a chunk called kong.response.exit, sends the local reply.
        fn phase(&self, phase: &str) -> Action {
            if !self.lua.has(phase) {
                return Action::Continue;
            }
            self.lua.run(phase);
            match EXIT.with(|e| e.borrow_mut().take()) {
                Some(exit) if !self.exited.get() => {
                    self.exited.set(true);
                    let headers: Vec<(&str, &str)> = exit.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let _ = hostcalls::send_http_response(exit.status, headers, exit.body.as_deref());
                    Action::Pause
                }
                _ => Action::Continue,
            }
        }
    }

    impl HttpContext for Stream {
        fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
            self.phase("access")
        }

        fn on_http_response_headers(&mut self, _: usize, _: bool) -> Action {
            if self.lua.has("body_filter") {
                // The body changes size: the upstream's Content-Length would be wrong.
                let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, "content-length", None);
            }
            self.phase("header_filter")
        }

        fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
            if !self.lua.has("body_filter") {
                return Action::Continue;
            }
            let body = hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size).ok().flatten().unwrap_or_default();
            let l = self.lua.state;
            unsafe {
                lua_getfield(l, LUA_GLOBALSINDEX, c"ngx".as_ptr());
                lua_getfield(l, -1, c"arg".as_ptr());
                push_bytes(l, &body);
                lua_rawseti(l, -2, 1);
                lua_pushboolean(l, end_of_stream as c_int);
                lua_rawseti(l, -2, 2);
                lua_settop(l, 0);
            }
            self.lua.run("body_filter");
            unsafe {
                lua_getfield(l, LUA_GLOBALSINDEX, c"ngx".as_ptr());
                lua_getfield(l, -1, c"arg".as_ptr());
                lua_rawgeti(l, -1, 1);
                if let Some(new) = string_at(l, -1) {
                    if new != body.as_slice() {
                        let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, new);
                    }
                }
                lua_settop(l, 0);
            }
            Action::Continue
        }

        fn on_log(&mut self) {
            self.phase("log");
        }
    }
}
