//! ECDSA sign and verify (prehashed, RFC 6979 nonces) on P-384 and P-256 in wasm32, as
//! `src/lua/modules/crypto.rs` calls them, to time p384 as crates.io publishes it
//! against vendor/p384 (BENCHMARKS.md, "P-384"). Build and run from this directory:
//!   cargo build --release --target wasm32-wasip1          # p384 from crates.io
//!   cargo build --release --target wasm32-wasip1 --config 'patch.crates-io.p384.path="../../../vendor/p384"'
//!   ../../../target/debug/wasm-harness wasi-run target/wasm32-wasip1/release/p384-probe.wasm
use p384::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use std::time::Instant;
fn main() {
    let d = [0x6bu8; 48];
    let sk = SigningKey::from_slice(&d).unwrap();
    let vk = VerifyingKey::from(&sk);
    let hash = [7u8; 48];
    let n = 50;
    let t = Instant::now();
    let mut sig: Signature = sk.sign_prehash(&hash).unwrap();
    for _ in 1..n { sig = sk.sign_prehash(&hash).unwrap(); }
    let sign_us = t.elapsed().as_micros() as f64 / n as f64;
    let t = Instant::now();
    for _ in 0..n { vk.verify_prehash(&hash, &sig).unwrap(); }
    let verify_us = t.elapsed().as_micros() as f64 / n as f64;
    println!("P-384 sign {sign_us:.0} us, verify {verify_us:.0} us (mean of {n})");
    {
        let sk = p256::ecdsa::SigningKey::from_slice(&[0x6bu8; 32]).unwrap();
        let vk = p256::ecdsa::VerifyingKey::from(&sk);
        let hash = [7u8; 32];
        let t = Instant::now();
        let mut sig: p256::ecdsa::Signature = sk.sign_prehash(&hash).unwrap();
        for _ in 1..n { sig = sk.sign_prehash(&hash).unwrap(); }
        let sign_us = t.elapsed().as_micros() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..n { vk.verify_prehash(&hash, &sig).unwrap(); }
        let verify_us = t.elapsed().as_micros() as f64 / n as f64;
        println!("P-256 sign {sign_us:.0} us, verify {verify_us:.0} us (mean of {n})");
    }
}
