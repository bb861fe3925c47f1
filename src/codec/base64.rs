//! Standard base64 (RFC 4648 section 4) on the `base64` crate, with nginx's decoding
//! rules (`ngx_decode_base64`): what `ngx.encode_base64`, `ngx.decode_base64` and
//! `resty.string`'s helpers use.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// Encoding with `=` padding.
const PADDED: GeneralPurpose = GeneralPurpose::new(&STANDARD, GeneralPurposeConfig::new().with_encode_padding(true));
/// Encoding without padding; decoding as nginx: no padding expected (it is cut off
/// first), unused trailing bits ignored.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Standard base64 of `src`, with `=` padding unless `pad` is false.
pub fn encode(src: &[u8], pad: bool) -> Vec<u8> {
    let engine = if pad { &PADDED } else { &UNPADDED };
    engine.encode(src).into_bytes()
}

/// nginx's `ngx_decode_base64`: the text up to the first `=` must be base64 symbols and
/// not one symbol short of a byte (length % 4 == 1); whatever follows the first `=` is
/// ignored, unused trailing bits too. `None` when invalid.
pub fn decode(src: &[u8]) -> Option<Vec<u8>> {
    let end = src.iter().position(|&c| c == b'=').unwrap_or(src.len());
    UNPADDED.decode(&src[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_nginx() {
        // RFC 4648 section 10 test vectors.
        assert_eq!(encode(b"foobar", true), b"Zm9vYmFy");
        assert_eq!(encode(b"fo", true), b"Zm8=");
        assert_eq!(encode(b"fo", false), b"Zm8");
        assert_eq!(decode(b"Zm8="), Some(b"fo".to_vec()));
        assert_eq!(decode(b"Zm8"), Some(b"fo".to_vec()));
        // nginx stops at the first `=` and ignores unused bits (`Zm9=` is "fo" too).
        assert_eq!(decode(b"Zm9=garbage"), Some(b"fo".to_vec()));
        assert_eq!(decode(b"Zm9vY"), None, "one symbol short of a byte");
        assert_eq!(decode(b"Zm-v"), None, "not the standard alphabet");
    }
}
