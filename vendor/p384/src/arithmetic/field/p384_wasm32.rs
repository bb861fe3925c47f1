//! kong-functions patch (vendor/p384/PATCHES.md): the base field (mod p) on wasm32.
//!
//! crypto-bigint's `U384` has twelve 32-bit limbs on wasm32, so p384 0.13 picks
//! fiat-crypto's 32-bit code there, whose multiplications are unrolled over 12 x 12
//! limbs (about 12 KB of wasm each). wasm has native 64-bit integers: fiat-crypto's
//! 64-bit code (6 x 6 limbs) computes the same Montgomery form (R = 2^384 either way)
//! in about a third of the code. Multiplication, squaring and the conversions into and
//! out of the Montgomery domain run on it; the words are regrouped on the way in and
//! out. Everything else (addition, negation, the inversion's divsteps) stays the
//! 32-bit code, unchanged.

#[path = "p384_32.rs"]
#[allow(dead_code)]
mod fiat32;

#[path = "p384_64.rs"]
#[allow(dead_code)]
mod fiat64;

pub use fiat32::*;

/// Twelve little-endian 32-bit limbs as six little-endian 64-bit limbs.
const fn wide(a: &[u32; 12]) -> [u64; 6] {
    let mut out = [0u64; 6];
    let mut i = 0;
    while i < 6 {
        out[i] = a[2 * i] as u64 | (a[2 * i + 1] as u64) << 32;
        i += 1;
    }
    out
}

/// Six little-endian 64-bit limbs as twelve little-endian 32-bit limbs.
const fn narrow(a: &[u64; 6]) -> [u32; 12] {
    let mut out = [0u32; 12];
    let mut i = 0;
    while i < 6 {
        out[2 * i] = a[i] as u32;
        out[2 * i + 1] = (a[i] >> 32) as u32;
        i += 1;
    }
    out
}

/// `fiat_p384_mul` of the 64-bit code, on 32-bit words.
pub const fn fiat_p384_mul(arg1: &[u32; 12], arg2: &[u32; 12]) -> [u32; 12] {
    narrow(&fiat64::fiat_p384_mul(&wide(arg1), &wide(arg2)))
}

/// `fiat_p384_square` of the 64-bit code, on 32-bit words.
pub const fn fiat_p384_square(arg1: &[u32; 12]) -> [u32; 12] {
    narrow(&fiat64::fiat_p384_square(&wide(arg1)))
}

/// `fiat_p384_to_montgomery` of the 64-bit code, on 32-bit words.
pub const fn fiat_p384_to_montgomery(arg1: &[u32; 12]) -> [u32; 12] {
    narrow(&fiat64::fiat_p384_to_montgomery(&wide(arg1)))
}

/// `fiat_p384_from_montgomery` of the 64-bit code, on 32-bit words.
pub const fn fiat_p384_from_montgomery(arg1: &[u32; 12]) -> [u32; 12] {
    narrow(&fiat64::fiat_p384_from_montgomery(&wide(arg1)))
}
