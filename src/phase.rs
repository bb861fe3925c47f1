//! Kong's request phases, as the serverless plugins and the PDK name them.

/// A phase a serverless chunk runs in, with Kong's name for it.
///
/// The bit values are those of Kong's `kong/pdk/private/phases.lua`, so phase masks and the
/// order of names in "only in: ..." errors match Kong's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// TLS handshake (`certificate`); not run on proxy-wasm hosts yet.
    Certificate,
    /// Before routing decisions are final (`rewrite`): run on the request headers.
    Rewrite,
    /// Before proxying (`access`): run on the request headers, after `rewrite`.
    Access,
    /// On the response headers (`header_filter`).
    HeaderFilter,
    /// On each response body chunk, and once more at its end (`body_filter`).
    BodyFilter,
    /// When the stream is done (`log`).
    Log,
    /// WebSocket handshake (`ws_handshake`); not run on proxy-wasm hosts yet.
    WsHandshake,
    /// WebSocket client frame (`ws_client_frame`); not run yet.
    WsClientFrame,
    /// WebSocket upstream frame (`ws_upstream_frame`); not run yet.
    WsUpstreamFrame,
    /// WebSocket close (`ws_close`); not run yet.
    WsClose,
}

impl Phase {
    /// Every phase, in the order Kong's schema lists them.
    pub const ALL: [Phase; 10] = [
        Phase::Certificate,
        Phase::Rewrite,
        Phase::Access,
        Phase::HeaderFilter,
        Phase::BodyFilter,
        Phase::Log,
        Phase::WsHandshake,
        Phase::WsClientFrame,
        Phase::WsUpstreamFrame,
        Phase::WsClose,
    ];

    /// The HTTP phases this filter runs, in request order.
    pub const HTTP: [Phase; 5] = [
        Phase::Rewrite,
        Phase::Access,
        Phase::HeaderFilter,
        Phase::BodyFilter,
        Phase::Log,
    ];

    /// Kong's name for the phase, as used in the plugin config and in PDK errors.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Certificate => "certificate",
            Phase::Rewrite => "rewrite",
            Phase::Access => "access",
            Phase::HeaderFilter => "header_filter",
            Phase::BodyFilter => "body_filter",
            Phase::Log => "log",
            Phase::WsHandshake => "ws_handshake",
            Phase::WsClientFrame => "ws_client_frame",
            Phase::WsUpstreamFrame => "ws_upstream_frame",
            Phase::WsClose => "ws_close",
        }
    }

    /// Parses Kong's phase name.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether this filter runs the phase on a proxy-wasm host today.
    pub fn is_supported(self) -> bool {
        Phase::HTTP.contains(&self)
    }

    /// Kong's phase bit (`kong/pdk/private/phases.lua`), used by PDK phase checks.
    pub fn bit(self) -> u32 {
        match self {
            Phase::Certificate => kong_phase::CERTIFICATE,
            Phase::Rewrite => kong_phase::REWRITE,
            Phase::Access => kong_phase::ACCESS,
            Phase::HeaderFilter => kong_phase::HEADER_FILTER,
            Phase::BodyFilter => kong_phase::BODY_FILTER,
            Phase::Log => kong_phase::LOG,
            // Kong runs the websocket phases as access-like PDK phases.
            Phase::WsHandshake | Phase::WsClientFrame | Phase::WsUpstreamFrame | Phase::WsClose => {
                kong_phase::ACCESS
            }
        }
    }
}

/// Kong's phase bits and the masks its PDK checks against (`kong/pdk/private/phases.lua`).
pub mod kong_phase {
    pub const INIT_WORKER: u32 = 0x0000_0001;
    pub const CERTIFICATE: u32 = 0x0000_0002;
    pub const CLIENT_HELLO: u32 = 0x0000_0008;
    pub const REWRITE: u32 = 0x0000_0010;
    pub const ACCESS: u32 = 0x0000_0020;
    pub const BALANCER: u32 = 0x0000_0040;
    pub const RESPONSE: u32 = 0x0000_0080;
    pub const CLUSTER_LISTENER: u32 = 0x0000_0100;
    pub const HEADER_FILTER: u32 = 0x0000_0200;
    pub const BODY_FILTER: u32 = 0x0000_0400;
    pub const LOG: u32 = 0x0000_2000;
    pub const PREREAD: u32 = 0x0000_4000;
    pub const ERROR: u32 = 0x0100_0000;
    pub const ADMIN_API: u32 = 0x1000_0000;

    /// Kong's `phases.request` alias: every phase with a request.
    pub const REQUEST: u32 = REWRITE
        | ACCESS
        | BALANCER
        | RESPONSE
        | HEADER_FILTER
        | BODY_FILTER
        | LOG
        | ERROR
        | ADMIN_API
        | CLUSTER_LISTENER;

    /// Kong's `rewrite_access_header` phase mask.
    pub const REWRITE_ACCESS_HEADER: u32 = REWRITE
        | ACCESS
        | RESPONSE
        | BALANCER
        | HEADER_FILTER
        | ERROR
        | ADMIN_API;

    /// Kong's `header_body_log` phase mask.
    pub const HEADER_BODY_LOG: u32 = RESPONSE
        | HEADER_FILTER
        | BODY_FILTER
        | LOG
        | ERROR
        | ADMIN_API;

    /// Kong's `AUTH_AND_LATER` (`kong.client`) and `ROUTER_PHASES` (`kong.router`), the
    /// same set: access, header_filter, response, body_filter, log.
    pub const AUTH_AND_LATER: u32 = ACCESS | HEADER_FILTER | RESPONSE | BODY_FILTER | LOG;

    /// Kong's names by bit, in bit order (the order of "only in: ..." lists).
    const NAMES: [(u32, &str); 14] = [
        (INIT_WORKER, "init_worker"),
        (CERTIFICATE, "certificate"),
        (CLIENT_HELLO, "client_hello"),
        (REWRITE, "rewrite"),
        (ACCESS, "access"),
        (BALANCER, "balancer"),
        (RESPONSE, "response"),
        (CLUSTER_LISTENER, "cluster_listener"),
        (HEADER_FILTER, "header_filter"),
        (BODY_FILTER, "body_filter"),
        (LOG, "log"),
        (PREREAD, "preread"),
        (ERROR, "error"),
        (ADMIN_API, "admin_api"),
    ];

    /// Kong's phase-check failure text: `function cannot be called in <phase> phase (only in: a, b)`.
    pub fn not_allowed_message(current: &str, allowed: u32) -> String {
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(bit, _)| allowed & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        format!(
            "function cannot be called in {current} phase (only in: {})",
            names.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for phase in Phase::ALL {
            assert_eq!(Phase::from_name(phase.name()), Some(phase));
        }
        assert_eq!(Phase::from_name("functions"), None);
    }

    #[test]
    fn not_allowed_message_lists_phases_in_kong_order() {
        assert_eq!(
            kong_phase::not_allowed_message("body_filter", kong_phase::REWRITE_ACCESS_HEADER),
            "function cannot be called in body_filter phase (only in: rewrite, access, \
             balancer, response, header_filter, error, admin_api)"
        );
    }
}
