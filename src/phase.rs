//! Kong's request phases, as the serverless plugins and the PDK name them.

/// A phase a serverless chunk runs in, with Kong's name for it.
///
/// The bit values are those of Kong's `kong/pdk/private/phases.lua`, so phase masks and the
/// order of names in "only in: ..." errors match Kong's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Once per downstream connection, before its first request's `rewrite`
    /// (`certificate`; Kong runs it during the TLS handshake).
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
    /// On a WebSocket handshake request, in place of `access` (`ws_handshake`).
    WsHandshake,
    /// Once per client frame (a data message or a control frame) after the upgrade.
    WsClientFrame,
    /// Once per upstream frame (a data message or a control frame) after the upgrade.
    WsUpstreamFrame,
    /// Once, when either side closes the WebSocket connection (`ws_close`).
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

    /// Whether this is one of the three phases that run on WebSocket frames
    /// (`ws_client_frame`, `ws_upstream_frame`, `ws_close`), which need a host that passes
    /// upgraded streams through HTTP filters.
    pub fn is_frame_phase(self) -> bool {
        matches!(self, Phase::WsClientFrame | Phase::WsUpstreamFrame | Phase::WsClose)
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
            // The handshake is access-like (a chunk may refuse it with kong.response.exit);
            // the frame phases and ws_close come after the request went upstream, so
            // they pass the checks of the log phase. Each has its own bit too, for
            // kong.websocket.*.
            Phase::WsHandshake => kong_phase::ACCESS | kong_phase::WS_HANDSHAKE,
            Phase::WsClientFrame => kong_phase::LOG | kong_phase::WS_CLIENT_FRAME,
            Phase::WsUpstreamFrame => kong_phase::LOG | kong_phase::WS_UPSTREAM_FRAME,
            Phase::WsClose => kong_phase::LOG | kong_phase::WS_CLOSE,
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
    /// Kong Enterprise's WebSocket phases. Their bits are not in Kong's public
    /// `phases.lua`; these values only order them in "only in: ..." lists.
    pub const WS_HANDSHAKE: u32 = 0x0010_0000;
    pub const WS_CLIENT_FRAME: u32 = 0x0020_0000;
    pub const WS_UPSTREAM_FRAME: u32 = 0x0040_0000;
    pub const WS_CLOSE: u32 = 0x0080_0000;
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

    /// Kong's names by bit, in bit order (the order of "only in: ..." lists).
    const NAMES: [(u32, &str); 18] = [
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
        (WS_HANDSHAKE, "ws_handshake"),
        (WS_CLIENT_FRAME, "ws_client_frame"),
        (WS_UPSTREAM_FRAME, "ws_upstream_frame"),
        (WS_CLOSE, "ws_close"),
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
        let mask = kong_phase::REWRITE
            | kong_phase::ACCESS
            | kong_phase::RESPONSE
            | kong_phase::BALANCER
            | kong_phase::HEADER_FILTER
            | kong_phase::ERROR
            | kong_phase::ADMIN_API;
        assert_eq!(
            kong_phase::not_allowed_message("body_filter", mask),
            "function cannot be called in body_filter phase (only in: rewrite, access, \
             balancer, response, header_filter, error, admin_api)"
        );
    }
}
