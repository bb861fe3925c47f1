//! The `kong.*` namespaces: one file per module of Kong's `kong/pdk/*.lua` (request,
//! response, service with its request and response, client, ctx, log, node, ...), plus
//! `kong.cache` and `kong.configuration`, which Kong builds outside `kong/pdk/`.

pub(crate) mod cache;
pub(crate) mod client;
pub mod configuration;
pub mod ctx;
pub(crate) mod inspect;
pub(crate) mod ip;
pub(crate) mod log;
pub(crate) mod nginx;
pub(crate) mod node;
pub mod request;
pub(crate) mod response;
pub(crate) mod router;
pub(crate) mod service;
pub(crate) mod service_response;
pub(crate) mod table;
pub(crate) mod websocket;
