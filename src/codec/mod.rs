//! The byte-level codecs the PDK (`kong.*`) and `ngx.*` share, one copy each and free of
//! the Lua VM: they take and return bytes and plain Rust values, and the Lua side builds
//! its tables from them.
//!
//! - [`base64`]: standard base64 with nginx's decoding rules (`ngx.decode_base64`).
//! - [`form`]: query strings and `application/x-www-form-urlencoded` bodies, and nginx's
//!   URI escaping (`ngx.decode_args`, `kong.request.get_query`, `ngx.escape_uri` ...).
//! - [`multipart`]: `multipart/form-data` bodies as Kong's lua-multipart reads them.
//! - [`path`]: path normalisation, Kong's (`kong.tools.uri.normalize`) and nginx's (`$uri`).
//! - [`cookie`]: a cookie's value in a `Cookie` header (nginx's `$cookie_<name>`).
//! - [`date`]: the UTC calendar and nginx's HTTP date formats (`os.date`, `ngx.http_time`).

pub mod base64;
pub mod cookie;
pub mod date;
pub mod form;
pub mod multipart;
pub mod path;
