//! kong-functions: Kong's Pre-Function and Post-Function serverless plugins as one
//! proxy-wasm filter module (ABI 0.2.1), running the configured Lua on piccolo.
//!
//! Layers: [`config`] parses Kong's plugin config; [`runtime`] owns the Lua state of one
//! plugin instance and runs phases; [`pdk`] maps `kong.*`/`ngx.*` onto the [`host::Host`]
//! trait; `glue` (wasm only) implements that trait with proxy-wasm host calls and turns
//! phase outcomes into proxy-wasm `Action`s; [`codec`] holds the byte-level codecs
//! (forms, multipart, paths, cookies, dates) that `kong.*` and `ngx.*` share.

pub mod codec;
pub mod config;
pub mod host;
pub mod lua;
pub mod pdk;
pub mod phase;
pub mod properties;
pub mod runtime;
pub mod sandbox;
pub mod stream;
pub mod vm_config;
pub mod websocket;

#[cfg(target_arch = "wasm32")]
mod glue;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    glue::start();
}}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests;

/// Entry points for the fuzz targets in `tests/fuzz` (feature `fuzzing`, never shipped);
/// the unit tests replay the fuzzers' corpus and crash inputs through them.
#[cfg(any(feature = "fuzzing", all(test, not(target_arch = "wasm32"))))]
#[doc(hidden)]
pub mod fuzzing;
