//! secp384r1 test vectors.

#[cfg(test)]
pub mod ecdsa;
pub mod group;
