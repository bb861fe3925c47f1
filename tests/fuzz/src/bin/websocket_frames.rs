//! Fuzz target: `kong_functions::fuzzing::websocket_frames` (see src/fuzzing.rs for the input shape).
fn main() {
    afl::fuzz!(|data: &[u8]| kong_functions::fuzzing::websocket_frames(data));
}
