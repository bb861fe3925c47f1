// kong-functions: the check PATCHES.md describes (not part of the crate). From vendor/p384:
//   rustc --edition 2021 -O shim_check.rs -o /tmp/shim_check && /tmp/shim_check
#![allow(warnings)]
#[path = "src/arithmetic/field/p384_32.rs"] mod f32;
#[path = "src/arithmetic/field/p384_wasm32.rs"] mod fw;
#[path = "src/arithmetic/scalar/p384_scalar_32.rs"] mod s32;
#[path = "src/arithmetic/scalar/p384_scalar_wasm32.rs"] mod sw;
fn main() {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
    let mut n = 0;
    for round in 0..200000 {
        let mut a = [0u32; 12]; let mut b = [0u32; 12];
        for i in 0..12 { a[i] = next() as u32; b[i] = next() as u32; }
        // inputs below 2^383 (fiat's precondition: < the modulus for p and n both hold for a top word < 0x7fffffff)
        a[11] &= 0x7fff_ffff; b[11] &= 0x7fff_ffff;
        if round % 3 == 0 { a[11] = 0xffff_fffe; a[10] = 0xffff_ffff; }
        assert_eq!(f32::fiat_p384_mul(&a, &b), fw::fiat_p384_mul(&a, &b));
        assert_eq!(f32::fiat_p384_square(&a), fw::fiat_p384_square(&a));
        assert_eq!(f32::fiat_p384_to_montgomery(&a), fw::fiat_p384_to_montgomery(&a));
        assert_eq!(f32::fiat_p384_from_montgomery(&a), fw::fiat_p384_from_montgomery(&a));
        assert_eq!(s32::fiat_p384_scalar_mul(&a, &b), sw::fiat_p384_scalar_mul(&a, &b));
        assert_eq!(s32::fiat_p384_scalar_square(&a), sw::fiat_p384_scalar_square(&a));
        assert_eq!(s32::fiat_p384_scalar_to_montgomery(&a), sw::fiat_p384_scalar_to_montgomery(&a));
        assert_eq!(s32::fiat_p384_scalar_from_montgomery(&a), sw::fiat_p384_scalar_from_montgomery(&a));
        n += 1;
    }
    println!("{n} inputs: 32-bit and wasm32 shim agree on mul, square, to/from_montgomery (field and scalar)");
}
