//! Fuzz target: `kong_functions::fuzzing::query_args` (see src/fuzzing.rs for the input shape).
fn main() {
    afl::fuzz!(|data: &[u8]| kong_functions::fuzzing::query_args(data));
}
