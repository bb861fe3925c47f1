//! The arithmetic behind `resty.openssl.{digest,hmac,pkey,x509}`, `resty.evp`,
//! `resty.hmac` and `resty.jwt` (their Lua layers are `src/lua/modules/resty_*.lua`),
//! where the originals call OpenSSL through LuaJIT's FFI: RustCrypto's `sha1`/`sha2`/
//! `md-5`/`hmac`, `rsa` (PKCS#1 v1.5 and PSS), `p256` and `p384` (ECDSA, through the
//! generic `ecdsa`), `ed25519-dalek` (EdDSA), with keys and certificates read from PEM,
//! DER (`asn1.rs`) and JWK.
//!
//! Nothing here runs unless a chunk requires one of those modules: the functions are
//! entries of the native table a Lua module receives ([`super::native::natives`]).
//!
//! EC keys are P-256 and P-384 ([`Curve`]); P-521 keys do not load ("unsupported"):
//! `p521` would cost module size the 2 MiB budget has no room for (BENCHMARKS.md).
//!
//! Errors are values (`nil, message`); messages follow lua-resty-openssl's words where
//! it has its own (`pkey.new:load_key: ...`, `pkey:verify failed`) and OpenSSL's reason
//! strings where lua-resty-openssl passes OpenSSL's through (`no start line`,
//! `unsupported`), without OpenSSL's `error:XXXXXXXX:lib:func:` prefix and file position,
//! which name OpenSSL's source files.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, UserData, Value};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use rsa::BigUint;

use ecdsa::elliptic_curve as ec;

use super::asn1;
use super::function;

type Res<'gc> = Result<CallbackReturn<'gc>, Error<'gc>>;

/// A key loaded by `pkey_load`: what OpenSSL's `EVP_PKEY` holds for the key types JWT,
/// JWS and JWK use.
pub enum Key {
    RsaPublic(rsa::RsaPublicKey),
    RsaPrivate(Box<rsa::RsaPrivateKey>),
    P256Public(p256::PublicKey),
    P256Private(p256::SecretKey),
    P384Public(p384::PublicKey),
    P384Private(p384::SecretKey),
    Ed25519Public(ed25519_dalek::VerifyingKey),
    Ed25519Private(ed25519_dalek::SigningKey),
}

/// A digest algorithm by OpenSSL's names (`"sha256"`, `"SHA256"`, `"sha-256"` ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Md {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Md {
    /// The algorithm OpenSSL's `EVP_get_digestbyname` finds for `name`, among those here.
    pub fn by_name(name: &str) -> Option<Md> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "md5" => Md::Md5,
            "sha1" | "sha-1" => Md::Sha1,
            "sha224" | "sha-224" | "sha2-224" => Md::Sha224,
            "sha256" | "sha-256" | "sha2-256" => Md::Sha256,
            "sha384" | "sha-384" | "sha2-384" => Md::Sha384,
            "sha512" | "sha-512" | "sha2-512" => Md::Sha512,
            _ => return None,
        })
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Md::Md5 => md5::Md5::digest(data).to_vec(),
            Md::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Md::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Md::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Md::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Md::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// HMAC of `data` under `key` (RFC 2104; any key length).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Md::Md5 => run::<Hmac<md5::Md5>>(key, data),
            Md::Sha1 => run::<Hmac<sha1::Sha1>>(key, data),
            Md::Sha224 => run::<Hmac<sha2::Sha224>>(key, data),
            Md::Sha256 => run::<Hmac<sha2::Sha256>>(key, data),
            Md::Sha384 => run::<Hmac<sha2::Sha384>>(key, data),
            Md::Sha512 => run::<Hmac<sha2::Sha512>>(key, data),
        }
    }
}

/// WASI `random_get` as the random source RSA-PSS salts need.
struct HostRng;

impl rand_core::RngCore for HostRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // A host refusing random_get leaves zeros; try_fill_bytes reports it.
        let _ = getrandom::fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        getrandom::fill(dest).map_err(|_| rand_core::Error::from(core::num::NonZeroU32::new(rand_core::Error::CUSTOM_START).unwrap_or(core::num::NonZeroU32::MIN)))
    }
}

impl rand_core::CryptoRng for HostRng {}

/// OpenSSL's padding numbers (`RSA_PKCS1_PADDING` 1, `RSA_PKCS1_PSS_PADDING` 6).
pub const PKCS1_PADDING: i64 = 1;
pub const PSS_PADDING: i64 = 6;

/// One PEM block of `text`: its label and decoded body. Errors as OpenSSL's PEM reader:
/// `no start line` (no `-----BEGIN`), `bad base64 decode`, `bad end line`.
pub fn pem_block(text: &[u8]) -> Result<(String, Vec<u8>), &'static str> {
    let s = std::str::from_utf8(text).map_err(|_| "no start line")?;
    let begin = s.find("-----BEGIN ").ok_or("no start line")?;
    let rest = &s[begin + 11..];
    let label_end = rest.find("-----").ok_or("no start line")?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body.find(&end_marker).ok_or("bad end line")?;
    let b64: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).map_err(|_| "bad base64 decode")?;
    Ok((label, der))
}

/// `data` as PEM with `label`, 64 columns (OpenSSL's `PEM_write_bio`).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Which keys a load accepts (lua-resty-openssl's `type` option: `pu`, `pr`, `*`).
#[derive(Clone, Copy, PartialEq)]
pub enum Want {
    Public,
    Private,
    Any,
}

fn big(b: &[u8]) -> BigUint {
    BigUint::from_bytes_be(b)
}

/// An RSA public key from PKCS#1 `RSAPublicKey` DER.
fn rsa_public(der: &[u8]) -> Option<Key> {
    match asn1::integers(der)?.as_slice() {
        [n, e] => rsa::RsaPublicKey::new(big(n), big(e)).ok().map(Key::RsaPublic),
        _ => None,
    }
}

/// An RSA private key from PKCS#1 `RSAPrivateKey` DER (two-prime).
fn rsa_private(der: &[u8]) -> Option<Key> {
    match asn1::integers(der)?.as_slice() {
        [_version, n, e, d, p, q, ..] => {
            rsa::RsaPrivateKey::from_components(big(n), big(e), big(d), vec![big(p), big(q)]).ok().map(|k| Key::RsaPrivate(Box::new(k)))
        }
        _ => None,
    }
}

/// An EC private key from its scalar on the curve named by `curve` (an OID's contents),
/// or, without one, by the scalar's length.
fn ec_private(d: &[u8], curve: Option<&[u8]>) -> Option<Key> {
    match curve {
        Some(oid) => Curve::by_oid(oid)?.private_key(d),
        None => Curve::by_size(d.len())?.private_key(d),
    }
}

/// A public key from SubjectPublicKeyInfo DER.
fn from_spki(der: &[u8]) -> Option<Key> {
    let (oid, params, key) = asn1::spki(der)?;
    match oid {
        asn1::OID_RSA => rsa_public(key),
        asn1::OID_EC => Curve::by_oid(asn1::expect(params, asn1::OID)?.0)?.public_key(key),
        asn1::OID_ED25519 => ed25519_dalek::VerifyingKey::from_bytes(key.try_into().ok()?).ok().map(Key::Ed25519Public),
        _ => None,
    }
}

/// A private key from PKCS#8 PrivateKeyInfo DER.
fn from_pkcs8(der: &[u8]) -> Option<Key> {
    let (oid, params, key) = asn1::pkcs8(der)?;
    match oid {
        asn1::OID_RSA => rsa_private(key),
        asn1::OID_EC => {
            let (d, inner) = asn1::ec_private_key(key)?;
            let curve = asn1::expect(params, asn1::OID).map(|(o, _)| o).or(inner);
            ec_private(d, curve)
        }
        asn1::OID_ED25519 => {
            let (seed, _) = asn1::expect(key, asn1::OCTET_STRING)?;
            Some(Key::Ed25519Private(ed25519_dalek::SigningKey::from_bytes(seed.try_into().ok()?)))
        }
        _ => None,
    }
}

/// A key from DER of any of the forms OpenSSL's `d2i_*` readers take: SPKI or PKCS#1
/// public keys, PKCS#8, PKCS#1 or SEC1 private keys.
fn from_der(der: &[u8], want: Want) -> Option<Key> {
    if want != Want::Private {
        if let Some(k) = from_spki(der).or_else(|| rsa_public(der)) {
            return Some(k);
        }
    }
    if want != Want::Public {
        if let Some(k) = from_pkcs8(der).or_else(|| rsa_private(der)) {
            return Some(k);
        }
        if let Some((d, curve)) = asn1::ec_private_key(der) {
            return ec_private(d, curve);
        }
    }
    None
}

fn b64url(field: &serde_json::Value) -> Option<Vec<u8>> {
    let s = field.as_str()?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=').as_bytes()).ok()
}

/// A key from a JWK (RFC 7517/7518/8037): `kty` `RSA` (`n`, `e`, private `d`, `p`, `q`),
/// `EC` (`crv` `P-256` or `P-384`, `x`, `y`, private `d`), `OKP` (`crv` `Ed25519`, `x`,
/// private `d`). Errors as lua-resty-openssl's `jwk.lua` words them.
pub fn from_jwk(text: &[u8], want: Want) -> Result<Key, String> {
    let jwk: serde_json::Value = serde_json::from_slice(text).map_err(|_| "jwk:load_jwk: error decoding JSON from JWK".to_string())?;
    let kty = jwk.get("kty").and_then(|v| v.as_str()).ok_or("jwk:load_jwk: \"kty\" not defined")?;
    let private = jwk.get("d").is_some() && want != Want::Public;
    let missing = |name: &str| format!("jwk:load_jwk: missing \"{name}\" parameter from JWK");
    match kty {
        "RSA" => {
            let n = b64url(&jwk["n"]).ok_or_else(|| missing("n"))?;
            let e = b64url(&jwk["e"]).ok_or_else(|| missing("e"))?;
            let (n, e) = (BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e));
            if private {
                let d = b64url(&jwk["d"]).ok_or_else(|| missing("d"))?;
                let mut primes = Vec::new();
                if let (Some(p), Some(q)) = (b64url(&jwk["p"]), b64url(&jwk["q"])) {
                    primes = vec![BigUint::from_bytes_be(&p), BigUint::from_bytes_be(&q)];
                }
                let key = if primes.is_empty() {
                    rsa::RsaPrivateKey::from_components(n, e, BigUint::from_bytes_be(&d), primes)
                } else {
                    rsa::RsaPrivateKey::from_components(n, e, BigUint::from_bytes_be(&d), primes)
                };
                key.map(|k| Key::RsaPrivate(Box::new(k))).map_err(|e| format!("jwk:load_jwk: {e}"))
            } else {
                rsa::RsaPublicKey::new(n, e).map(Key::RsaPublic).map_err(|e| format!("jwk:load_jwk: {e}"))
            }
        }
        "EC" => {
            let crv = jwk.get("crv").and_then(|v| v.as_str()).ok_or_else(|| missing("crv"))?;
            let x = b64url(&jwk["x"]).ok_or_else(|| missing("x"))?;
            let y = b64url(&jwk["y"]).ok_or_else(|| missing("y"))?;
            let d = if private { Some(b64url(&jwk["d"]).ok_or_else(|| missing("d"))?) } else { None };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let bad = || "jwk:load_jwk: invalid EC key".to_string();
            let curve = Curve::by_jwk_name(crv).ok_or_else(|| format!("jwk:load_jwk: unknown curve \"{crv}\""))?;
            match d {
                None => curve.public_key(&point).ok_or_else(bad),
                Some(d) => curve.private_key(&d).ok_or_else(bad),
            }
        }
        "OKP" => {
            let crv = jwk.get("crv").and_then(|v| v.as_str()).ok_or_else(|| missing("crv"))?;
            if crv != "Ed25519" {
                return Err(format!("jwk:load_jwk: unknown curve \"{crv}\""));
            }
            let bad = || "jwk:load_jwk: invalid OKP key".to_string();
            if private {
                let d = b64url(&jwk["d"]).ok_or_else(|| missing("d"))?;
                let d: [u8; 32] = d.try_into().map_err(|_| bad())?;
                Ok(Key::Ed25519Private(ed25519_dalek::SigningKey::from_bytes(&d)))
            } else {
                let x = b64url(&jwk["x"]).ok_or_else(|| missing("x"))?;
                let x: [u8; 32] = x.try_into().map_err(|_| bad())?;
                ed25519_dalek::VerifyingKey::from_bytes(&x).map(Key::Ed25519Public).map_err(|_| bad())
            }
        }
        other => Err(format!("jwk:load_jwk: not yet supported jwk type \"{other}\"")),
    }
}

/// A key from `text` in `format` (`PEM`, `DER`, `JWK` or `*`, lua-resty-openssl's
/// `pkey.new(txt, { format, type })`). Errors: the reason without the
/// `pkey.new:load_key: ` prefix the Lua layer adds.
pub fn load(text: &[u8], format: &str, want: Want) -> Result<Key, String> {
    let pem = || -> Result<Key, String> {
        let (label, der) = pem_block(text)?;
        let key = match label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" if want != Want::Private => from_der(&der, Want::Public),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" if want != Want::Public => from_der(&der, Want::Private),
            "CERTIFICATE" => None,
            _ => None,
        };
        key.ok_or_else(|| "unsupported".to_string())
    };
    match format {
        "PEM" => pem(),
        "DER" => from_der(text, want).ok_or_else(|| "unsupported".to_string()),
        "JWK" => from_jwk(text, want),
        _ => {
            if text.windows(11).any(|w| w == b"-----BEGIN ") {
                pem()
            } else if text.first() == Some(&b'{') {
                from_jwk(text, want)
            } else {
                from_der(text, want).ok_or_else(|| "unsupported".to_string())
            }
        }
    }
}

impl Key {
    /// OpenSSL's key type NID and short name: RSA 6 `rsaEncryption`, EC 408
    /// `id-ecPublicKey`, Ed25519 1087 `ED25519`.
    pub fn type_id(&self) -> (i64, &'static str, &'static str) {
        match self {
            Key::RsaPublic(_) | Key::RsaPrivate(_) => (6, "rsaEncryption", "RSA"),
            Key::P256Public(_) | Key::P256Private(_) | Key::P384Public(_) | Key::P384Private(_) => (408, "id-ecPublicKey", "EC"),
            Key::Ed25519Public(_) | Key::Ed25519Private(_) => (1087, "ED25519", "ED25519"),
        }
    }

    pub fn is_private(&self) -> bool {
        matches!(self, Key::RsaPrivate(_) | Key::P256Private(_) | Key::P384Private(_) | Key::Ed25519Private(_))
    }

    /// Key size in bits (OpenSSL's `EVP_PKEY_bits`).
    pub fn bits(&self) -> usize {
        match self {
            Key::RsaPublic(k) => k.n().bits(),
            Key::RsaPrivate(k) => k.n().bits(),
            Key::Ed25519Public(_) | Key::Ed25519Private(_) => 253,
            _ => self.ec_curve().map_or(0, |c| c.size() * 8),
        }
    }

    /// The EC curve's short name, NID and byte size, as OpenSSL names them
    /// (`prime256v1` NID 415, 32; `secp384r1` NID 715, 48).
    pub fn curve(&self) -> Option<(&'static str, i64, usize)> {
        self.ec_curve().map(|c| {
            let (name, nid) = c.openssl_name();
            (name, nid, c.size())
        })
    }

    /// The curve of an EC key.
    pub fn ec_curve(&self) -> Option<Curve> {
        match self {
            Key::P256Public(_) | Key::P256Private(_) => Some(Curve::P256),
            Key::P384Public(_) | Key::P384Private(_) => Some(Curve::P384),
            _ => None,
        }
    }

    fn public(&self) -> Key {
        match self {
            Key::RsaPrivate(k) => Key::RsaPublic(k.to_public_key()),
            Key::P256Private(k) => Key::P256Public(k.public_key()),
            Key::P384Private(k) => Key::P384Public(k.public_key()),
            Key::Ed25519Private(k) => Key::Ed25519Public(k.verifying_key()),
            Key::RsaPublic(k) => Key::RsaPublic(k.clone()),
            Key::P256Public(k) => Key::P256Public(*k),
            Key::P384Public(k) => Key::P384Public(*k),
            Key::Ed25519Public(k) => Key::Ed25519Public(*k),
        }
    }

    /// The key as DER: SubjectPublicKeyInfo for `private == false`, PKCS#8 otherwise;
    /// with `pkcs1` a private key in its type's own form, as OpenSSL's `i2d_PrivateKey`
    /// writes it (PKCS#1 `RSAPrivateKey`, SEC1 `ECPrivateKey` with the curve and the
    /// public key; Ed25519 stays PKCS#8), and an RSA public key as PKCS#1. With the PEM
    /// label OpenSSL writes for it.
    pub fn to_der(&self, private: bool, pkcs1: bool) -> Result<(Vec<u8>, &'static str), String> {
        if private && !self.is_private() {
            return Err("can't export private key from a public key".into());
        }
        let params: std::collections::BTreeMap<&str, Vec<u8>> = self.parameters().into_iter().collect();
        let p = |n: &str| params.get(n).cloned().unwrap_or_default();
        let rsa_alg = asn1::algorithm(asn1::OID_RSA, Some(&[asn1::NULL, 0]));
        let ec_alg = |oid: &[u8]| asn1::algorithm(asn1::OID_EC, Some(&asn1::tlv(asn1::OID, oid)));
        let curve_oid = self.ec_curve().map_or(asn1::OID_P256, Curve::oid);
        let kind = self.type_id().2;
        if !private {
            let pkcs1_pub = asn1::seq(&[&asn1::uint(&p("n")), &asn1::uint(&p("e"))]);
            return Ok(match kind {
                "RSA" if pkcs1 => (pkcs1_pub, "RSA PUBLIC KEY"),
                "RSA" => (asn1::seq(&[&rsa_alg, &asn1::bits(&pkcs1_pub)]), "PUBLIC KEY"),
                "EC" => (asn1::seq(&[&ec_alg(curve_oid), &asn1::bits(&p("public"))]), "PUBLIC KEY"),
                _ => (asn1::seq(&[&asn1::algorithm(asn1::OID_ED25519, None), &asn1::bits(&p("public"))]), "PUBLIC KEY"),
            });
        }
        let version = asn1::uint(&[0]);
        Ok(match kind {
            "RSA" => {
                let ints: Vec<Vec<u8>> = ["n", "e", "d", "p", "q", "dmp1", "dmq1", "iqmp"].iter().map(|n| asn1::uint(&p(n))).collect();
                let mut items: Vec<&[u8]> = vec![&version];
                items.extend(ints.iter().map(Vec::as_slice));
                let key = asn1::seq(&items);
                if pkcs1 {
                    (key, "RSA PRIVATE KEY")
                } else {
                    (asn1::seq(&[&version, &rsa_alg, &asn1::tlv(asn1::OCTET_STRING, &key)]), "PRIVATE KEY")
                }
            }
            "EC" => {
                let public = asn1::tlv(0xa1, &asn1::bits(&p("public")));
                let private = asn1::tlv(asn1::OCTET_STRING, &p("private"));
                if pkcs1 {
                    // SEC1 (RFC 5915) with the curve's OID, as OpenSSL's i2d_ECPrivateKey.
                    let params = asn1::tlv(0xa0, &asn1::tlv(asn1::OID, curve_oid));
                    return Ok((asn1::seq(&[&asn1::uint(&[1]), &private, &params, &public]), "EC PRIVATE KEY"));
                }
                let key = asn1::seq(&[&asn1::uint(&[1]), &private, &public]);
                (asn1::seq(&[&version, &ec_alg(curve_oid), &asn1::tlv(asn1::OCTET_STRING, &key)]), "PRIVATE KEY")
            }
            _ => {
                let key = asn1::tlv(asn1::OCTET_STRING, &asn1::tlv(asn1::OCTET_STRING, &p("private")));
                (asn1::seq(&[&version, &asn1::algorithm(asn1::OID_ED25519, None), &key]), "PRIVATE KEY")
            }
        })
    }

    /// The key's parameters as big-endian byte strings, by lua-resty-openssl's names
    /// (`rsa.lua`: `n e d p q dmp1 dmq1 iqmp`; `ec.lua`: `x y public private` and
    /// `group` as a NID; `ecx.lua`: `public private`).
    pub fn parameters(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut out = Vec::new();
        match self {
            Key::RsaPublic(k) => {
                out.push(("n", k.n().to_bytes_be()));
                out.push(("e", k.e().to_bytes_be()));
            }
            Key::RsaPrivate(k) => {
                out.push(("n", k.n().to_bytes_be()));
                out.push(("e", k.e().to_bytes_be()));
                out.push(("d", k.d().to_bytes_be()));
                if let [p, q, ..] = k.primes() {
                    out.push(("p", p.to_bytes_be()));
                    out.push(("q", q.to_bytes_be()));
                }
                if let Some(dp) = k.dp() {
                    out.push(("dmp1", dp.to_bytes_be()));
                }
                if let Some(dq) = k.dq() {
                    out.push(("dmq1", dq.to_bytes_be()));
                }
                if let Some(qi) = k.crt_coefficient() {
                    out.push(("iqmp", qi.to_bytes_be()));
                }
            }
            Key::P256Public(_) | Key::P256Private(_) | Key::P384Public(_) | Key::P384Private(_) => {
                let (point, private) = match self {
                    Key::P256Public(k) => (ec_point(k), None),
                    Key::P256Private(k) => (ec_point(&k.public_key()), Some(k.to_bytes().to_vec())),
                    Key::P384Public(k) => (ec_point(k), None),
                    Key::P384Private(k) => (ec_point(&k.public_key()), Some(k.to_bytes().to_vec())),
                    _ => (Vec::new(), None),
                };
                let size = (point.len() - 1) / 2;
                out.push(("x", point[1..1 + size].to_vec()));
                out.push(("y", point[1 + size..].to_vec()));
                out.push(("public", point));
                if let Some(d) = private {
                    out.push(("private", d));
                }
            }
            Key::Ed25519Public(k) => out.push(("public", k.to_bytes().to_vec())),
            Key::Ed25519Private(k) => {
                out.push(("public", k.verifying_key().to_bytes().to_vec()));
                out.push(("private", k.to_bytes().to_vec()));
            }
        }
        out
    }

    /// The public key as a JWK (lua-resty-openssl `tostring(..., "JWK")`: members in
    /// the order `kty`, then the key's; base64url without padding), or the private key
    /// with `d` (and RSA's `p q dp dq qi`).
    pub fn to_jwk(&self, private: bool) -> Result<String, String> {
        if private && !self.is_private() {
            return Err("can't export private key from a public key".into());
        }
        let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let params: std::collections::BTreeMap<&str, Vec<u8>> = self.parameters().into_iter().collect();
        let p = |n: &str| params.get(n).map(|b| enc(b)).unwrap_or_default();
        let mut m = serde_json::Map::new();
        match self.type_id().2 {
            "RSA" => {
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), p("n").into());
                m.insert("e".into(), p("e").into());
                if private {
                    for (ours, jwk) in [("d", "d"), ("p", "p"), ("q", "q"), ("dmp1", "dp"), ("dmq1", "dq"), ("iqmp", "qi")] {
                        m.insert(jwk.into(), p(ours).into());
                    }
                }
            }
            "EC" => {
                m.insert("kty".into(), "EC".into());
                m.insert("crv".into(), self.ec_curve().map_or("P-256", Curve::jwk_name).into());
                m.insert("x".into(), p("x").into());
                m.insert("y".into(), p("y").into());
                if private {
                    m.insert("d".into(), p("private").into());
                }
            }
            _ => {
                m.insert("kty".into(), "OKP".into());
                m.insert("crv".into(), "Ed25519".into());
                m.insert("x".into(), p("public").into());
                if private {
                    m.insert("d".into(), p("private").into());
                }
            }
        }
        serde_json::to_string(&serde_json::Value::Object(m)).map_err(|e| e.to_string())
    }

    /// Signs `data` hashed with `md` (RSA, ECDSA; Ed25519 takes no digest and signs
    /// `data`). RSA padding: [`PKCS1_PADDING`] (default) or [`PSS_PADDING`] (salt as
    /// long as the digest, MGF1 with the same digest). ECDSA signatures are DER, with
    /// RFC 6979 nonces (OpenSSL draws random ones; both verify the same).
    pub fn sign(&self, data: &[u8], md: Option<Md>, padding: i64) -> Result<Vec<u8>, String> {
        let md_needed = || md.ok_or_else(|| "pkey:sign: no digest".to_string());
        match self {
            Key::RsaPrivate(k) => {
                let k = (**k).clone();
                let md = md_needed()?;
                macro_rules! rsa_sign {
                    ($d:ty) => {
                        if padding == PSS_PADDING {
                            rsa::pss::SigningKey::<$d>::new(k).try_sign_with_rng(&mut HostRng, data).map(|s| s.to_vec())
                        } else {
                            rsa::pkcs1v15::SigningKey::<$d>::new(k).try_sign(data).map(|s| s.to_vec())
                        }
                    };
                }
                let sig = match md {
                    Md::Sha1 => rsa_sign!(sha1::Sha1),
                    Md::Sha224 => rsa_sign!(sha2::Sha224),
                    Md::Sha256 => rsa_sign!(sha2::Sha256),
                    Md::Sha384 => rsa_sign!(sha2::Sha384),
                    Md::Sha512 => rsa_sign!(sha2::Sha512),
                    Md::Md5 => return Err("pkey:sign: digest md5 is not supported for RSA here".into()),
                };
                sig.map_err(|e| format!("pkey:sign: {e}"))
            }
            Key::P256Private(k) => ec_sign(k, &md_needed()?.digest(data)),
            Key::P384Private(k) => ec_sign(k, &md_needed()?.digest(data)),
            Key::Ed25519Private(k) => Ok(k.sign(data).to_bytes().to_vec()),
            _ => Err("pkey:sign: missing private key".into()),
        }
    }

    /// Whether `sig` signs `data` (hashed with `md`) under this key (or its public half).
    /// ECDSA signatures are DER; PSS expects the digest's length of salt.
    pub fn verify(&self, sig: &[u8], data: &[u8], md: Option<Md>, padding: i64) -> bool {
        match self.public() {
            Key::RsaPublic(k) => {
                let Some(md) = md else { return false };
                let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) else { return false };
                macro_rules! rsa_verify {
                    ($d:ty) => {
                        if padding == PSS_PADDING {
                            let Ok(s) = rsa::pss::Signature::try_from(sig) else { return false };
                            rsa::pss::VerifyingKey::<$d>::new(k).verify(data, &s).is_ok()
                        } else {
                            rsa::pkcs1v15::VerifyingKey::<$d>::new(k).verify(data, &s).is_ok()
                        }
                    };
                }
                match md {
                    Md::Sha1 => rsa_verify!(sha1::Sha1),
                    Md::Sha224 => rsa_verify!(sha2::Sha224),
                    Md::Sha256 => rsa_verify!(sha2::Sha256),
                    Md::Sha384 => rsa_verify!(sha2::Sha384),
                    Md::Sha512 => rsa_verify!(sha2::Sha512),
                    Md::Md5 => false,
                }
            }
            Key::P256Public(k) => md.is_some_and(|md| ec_verify(&k, &md.digest(data), sig)),
            Key::P384Public(k) => md.is_some_and(|md| ec_verify(&k, &md.digest(data), sig)),
            Key::Ed25519Public(k) => {
                let Ok(s) = ed25519_dalek::Signature::from_slice(sig) else { return false };
                k.verify_strict(data, &s).is_ok()
            }
            _ => false,
        }
    }
}

/// An EC curve supported here, with the names and numbers OpenSSL, X.509 and JWK give it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Curve {
    /// NIST P-256 (`prime256v1`, `secp256r1`): 32-byte scalars and coordinates.
    P256,
    /// NIST P-384 (`secp384r1`): 48-byte scalars and coordinates.
    P384,
}

impl Curve {
    /// The curve of a named-curve OID's DER contents (RFC 5480 2.1.1.1).
    pub fn by_oid(oid: &[u8]) -> Option<Curve> {
        match oid {
            asn1::OID_P256 => Some(Curve::P256),
            asn1::OID_P384 => Some(Curve::P384),
            _ => None,
        }
    }

    /// The curve of a JWK `crv` (RFC 7518 6.2.1.1: `P-256`, `P-384`; `P-521` is not here).
    pub fn by_jwk_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            _ => None,
        }
    }

    /// The curve whose scalars are `len` bytes (an `ECPrivateKey` without parameters).
    pub fn by_size(len: usize) -> Option<Curve> {
        match len {
            32 => Some(Curve::P256),
            48 => Some(Curve::P384),
            _ => None,
        }
    }

    /// Bytes of a scalar or coordinate (the order's length: half a raw signature).
    pub fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// The named-curve OID's DER contents.
    pub fn oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => asn1::OID_P256,
            Curve::P384 => asn1::OID_P384,
        }
    }

    /// The JWK `crv` name.
    pub fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }

    /// OpenSSL's short name and NID (`obj_mac.h`: `prime256v1` 415, `secp384r1` 715).
    pub fn openssl_name(self) -> (&'static str, i64) {
        match self {
            Curve::P256 => ("prime256v1", 415),
            Curve::P384 => ("secp384r1", 715),
        }
    }

    /// A public key from a SEC1 point (uncompressed or compressed), if it is on the curve.
    pub fn public_key(self, point: &[u8]) -> Option<Key> {
        match self {
            Curve::P256 => p256::PublicKey::from_sec1_bytes(point).ok().map(Key::P256Public),
            Curve::P384 => p384::PublicKey::from_sec1_bytes(point).ok().map(Key::P384Public),
        }
    }

    /// A private key from its big-endian scalar, if it is in `[1, n - 1]`.
    pub fn private_key(self, d: &[u8]) -> Option<Key> {
        match self {
            Curve::P256 => p256::SecretKey::from_slice(d).ok().map(Key::P256Private),
            Curve::P384 => p384::SecretKey::from_slice(d).ok().map(Key::P384Private),
        }
    }
}

/// The uncompressed SEC1 encoding of a public point (`04 || x || y`).
fn ec_point<C>(k: &ec::PublicKey<C>) -> Vec<u8>
where
    C: ec::CurveArithmetic,
    ec::AffinePoint<C>: ec::sec1::FromEncodedPoint<C> + ec::sec1::ToEncodedPoint<C>,
    ec::FieldBytesSize<C>: ec::sec1::ModulusSize,
{
    use ec::sec1::ToEncodedPoint as _;
    k.to_encoded_point(false).as_bytes().to_vec()
}

/// ECDSA over a digest already computed (`hash`, truncated to the order's length as
/// FIPS 186-4 says), with RFC 6979's deterministic nonce (HMAC with the curve's own
/// digest: SHA-256 for P-256, SHA-384 for P-384); the signature as DER.
fn ec_sign<C>(k: &ec::SecretKey<C>, hash: &[u8]) -> Result<Vec<u8>, String>
where
    C: ecdsa::PrimeCurve + ec::CurveArithmetic + ecdsa::hazmat::DigestPrimitive,
    ec::Scalar<C>: ec::ops::Invert<Output = ec::subtle::CtOption<ec::Scalar<C>>> + ecdsa::hazmat::SignPrimitive<C>,
    ecdsa::SignatureSize<C>: ec::generic_array::ArrayLength<u8>,
{
    use ecdsa::signature::hazmat::PrehashSigner as _;
    let sig: ecdsa::Signature<C> = ecdsa::SigningKey::from(k).sign_prehash(hash).map_err(|e| format!("pkey:sign: {e}"))?;
    Ok(asn1::ecdsa_raw2der(&sig.to_bytes()))
}

/// Whether the DER ECDSA signature `sig` signs the digest `hash` under `k`.
fn ec_verify<C>(k: &ec::PublicKey<C>, hash: &[u8], sig: &[u8]) -> bool
where
    C: ecdsa::PrimeCurve + ec::CurveArithmetic,
    ec::AffinePoint<C>: ecdsa::hazmat::VerifyPrimitive<C>,
    ecdsa::SignatureSize<C>: ec::generic_array::ArrayLength<u8>,
{
    use ecdsa::signature::hazmat::PrehashVerifier as _;
    use ec::generic_array::typenum::Unsigned as _;
    let size = <C as ec::Curve>::FieldBytesSize::USIZE;
    let Some(Ok(s)) = asn1::ecdsa_der2raw(sig, size).map(|raw| ecdsa::Signature::<C>::from_slice(&raw)) else { return false };
    ecdsa::VerifyingKey::from(k).verify_prehash(hash, &s).is_ok()
}

/// An ECDSA signature from DER to raw `r || s`, each `size` bytes (lua-resty-openssl's
/// `ecdsa.sig_der2raw`).
pub fn ecdsa_der2raw(sig: &[u8], size: usize) -> Result<Vec<u8>, String> {
    if size != 32 && size != 48 {
        return Err("unsupported curve".into());
    }
    asn1::ecdsa_der2raw(sig, size).ok_or_else(|| "could not parse DER signature".to_string())
}

/// A raw `r || s` ECDSA signature to DER (lua-resty-openssl's `ecdsa.sig_raw2der`);
/// errors when the length is not twice the curve's size.
pub fn ecdsa_raw2der(sig: &[u8], size: usize) -> Result<Vec<u8>, String> {
    if sig.len() != size * 2 {
        return Err(format!("invalid signature length, expect {} but got {}", size * 2, sig.len()));
    }
    Ok(asn1::ecdsa_raw2der(sig))
}

/// What Lua needs from a certificate: its public key, subject and issuer in OpenSSL's
/// one-line form (`/C=US/CN=example`), validity as Unix seconds, and the DER.
pub struct Cert {
    pub key: Option<Key>,
    pub subject: Vec<(String, String)>,
    pub issuer: Vec<(String, String)>,
    pub not_before: i64,
    pub not_after: i64,
    pub der: Vec<u8>,
    pub serial: Vec<u8>,
}

/// Short names of the attribute types certificates name (OpenSSL's `OBJ_nid2sn`).
fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return oid.to_string(),
    }
    .to_string()
}

/// Parses a certificate from PEM (the first `CERTIFICATE` block) or DER. Errors as
/// OpenSSL's reasons: `no start line` (PEM without a certificate), `wrong tag` (DER that
/// is not a certificate).
pub fn x509_load(text: &[u8]) -> Result<Cert, String> {
    let der = if text.windows(11).any(|w| w == b"-----BEGIN ") {
        let (label, der) = pem_block(text)?;
        if label != "CERTIFICATE" && label != "X509 CERTIFICATE" && label != "TRUSTED CERTIFICATE" {
            return Err("no start line".into());
        }
        der
    } else {
        text.to_vec()
    };
    let cert = asn1::certificate(&der).ok_or("wrong tag")?;
    let names = |list: Vec<(String, String)>| list.into_iter().map(|(oid, v)| (attribute_name(&oid), v)).collect();
    Ok(Cert {
        key: from_spki(cert.spki),
        subject: names(cert.subject),
        issuer: names(cert.issuer),
        not_before: cert.not_before,
        not_after: cert.not_after,
        serial: cert.serial.to_vec(),
        der: der.clone(),
    })
}

// ---- Lua glue ---------------------------------------------------------------------

fn bytes<'gc>(v: Value<'gc>) -> Option<&'gc [u8]> {
    match v {
        Value::String(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn lstr<'gc>(ctx: Context<'gc>, b: &[u8]) -> Value<'gc> {
    Value::String(piccolo::String::from_slice(&ctx, b))
}

fn fail<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, err: &str) -> Res<'gc> {
    stack.replace(ctx, (Value::Nil, lstr(ctx, err.as_bytes())));
    Ok(CallbackReturn::Return)
}

fn key_of<'gc>(v: Value<'gc>) -> Option<&'gc Key> {
    match v {
        Value::UserData(u) => u.downcast_static::<Key>().ok(),
        _ => None,
    }
}

fn md_arg(v: Value<'_>) -> Result<Option<Md>, String> {
    match v {
        Value::Nil => Ok(None),
        Value::String(s) => {
            let name = String::from_utf8_lossy(s.as_bytes()).into_owned();
            Md::by_name(&name).map(Some).ok_or(name)
        }
        other => Err(crate::lua::format::display(other)),
    }
}

/// Adds the crypto natives to `t` (the native table Lua modules receive).
pub fn natives<'gc>(ctx: Context<'gc>, t: Table<'gc>) {
    t.set(ctx, "digest", function(ctx, digest)).ok();
    t.set(ctx, "hmac", function(ctx, hmac_fn)).ok();
    t.set(ctx, "pkey_load", function(ctx, pkey_load)).ok();
    t.set(ctx, "pkey_info", function(ctx, pkey_info)).ok();
    t.set(ctx, "pkey_sign", function(ctx, pkey_sign)).ok();
    t.set(ctx, "pkey_verify", function(ctx, pkey_verify)).ok();
    t.set(ctx, "pkey_export", function(ctx, pkey_export)).ok();
    t.set(ctx, "pkey_params", function(ctx, pkey_params)).ok();
    t.set(ctx, "ecdsa_der2raw", function(ctx, der2raw)).ok();
    t.set(ctx, "ecdsa_raw2der", function(ctx, raw2der)).ok();
    t.set(ctx, "x509_load", function(ctx, x509_load_fn)).ok();
}

/// `digest(name, data)`: the binary digest, or `nil, name` for an unknown algorithm.
fn digest<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let md = md_arg(stack.get(0));
    let data = bytes(stack.get(1)).unwrap_or_default();
    match md {
        Ok(Some(md)) => {
            let out = md.digest(data);
            stack.replace(ctx, lstr(ctx, &out));
            Ok(CallbackReturn::Return)
        }
        Ok(None) => fail(ctx, stack, ""),
        Err(name) => fail(ctx, stack, &name),
    }
}

/// `hmac(name, key, data)`: the binary HMAC, or `nil, name` for an unknown algorithm.
fn hmac_fn<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let md = md_arg(stack.get(0));
    let key = bytes(stack.get(1)).unwrap_or_default();
    let data = bytes(stack.get(2)).unwrap_or_default();
    match md {
        Ok(Some(md)) => {
            let out = md.hmac(key, data);
            stack.replace(ctx, lstr(ctx, &out));
            Ok(CallbackReturn::Return)
        }
        Ok(None) => fail(ctx, stack, ""),
        Err(name) => fail(ctx, stack, &name),
    }
}

/// `pkey_load(text, format, type)`: a key userdata, or `nil, reason`.
fn pkey_load<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let text = bytes(stack.get(0)).unwrap_or_default().to_vec();
    let format = bytes(stack.get(1)).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_else(|| "*".into());
    let want = match bytes(stack.get(2)) {
        Some(b"pu") => Want::Public,
        Some(b"pr") => Want::Private,
        _ => Want::Any,
    };
    match load(&text, &format, want) {
        Ok(key) => {
            stack.replace(ctx, Value::UserData(UserData::new_static(&ctx, key)));
            Ok(CallbackReturn::Return)
        }
        Err(e) => fail(ctx, stack, &e),
    }
}

/// `pkey_info(key)`: `nid, type_name, is_private, bits, curve_name, curve_nid, curve_size`.
fn pkey_info<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Some(key) = key_of(stack.get(0)) else { return fail(ctx, stack, "not a key") };
    let (nid, name, _) = key.type_id();
    let curve = key.curve();
    stack.replace(
        ctx,
        (
            Value::Integer(nid),
            lstr(ctx, name.as_bytes()),
            Value::Boolean(key.is_private()),
            Value::Integer(key.bits() as i64),
            curve.map(|c| lstr(ctx, c.0.as_bytes())).unwrap_or(Value::Nil),
            curve.map(|c| Value::Integer(c.1)).unwrap_or(Value::Nil),
            curve.map(|c| Value::Integer(c.2 as i64)).unwrap_or(Value::Nil),
        ),
    );
    Ok(CallbackReturn::Return)
}

/// `pkey_sign(key, data, md, padding)`: the signature, or `nil, err`.
fn pkey_sign<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Some(key) = key_of(stack.get(0)) else { return fail(ctx, stack, "not a key") };
    let data = bytes(stack.get(1)).unwrap_or_default();
    let md = match md_arg(stack.get(2)) {
        Ok(md) => md,
        Err(name) => return fail(ctx, stack, &format!("pkey:sign_verify_prepare: invalid digest type \"{name}\"")),
    };
    let padding = stack.get(3).to_integer().unwrap_or(PKCS1_PADDING);
    let md = md.or(match key.type_id().2 {
        "ED25519" => None,
        _ => Some(Md::Sha256),
    });
    match key.sign(data, md, padding) {
        Ok(sig) => {
            stack.replace(ctx, lstr(ctx, &sig));
            Ok(CallbackReturn::Return)
        }
        Err(e) => fail(ctx, stack, &e),
    }
}

/// `pkey_verify(key, sig, data, md, padding)`: `true`, or `false, err` as lua-resty-openssl
/// words it.
fn pkey_verify<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Some(key) = key_of(stack.get(0)) else { return fail(ctx, stack, "not a key") };
    let sig = bytes(stack.get(1)).unwrap_or_default();
    let data = bytes(stack.get(2)).unwrap_or_default();
    let md = match md_arg(stack.get(3)) {
        Ok(md) => md,
        Err(name) => return fail(ctx, stack, &format!("pkey:sign_verify_prepare: invalid digest type \"{name}\"")),
    };
    let padding = stack.get(4).to_integer().unwrap_or(PKCS1_PADDING);
    let md = md.or(match key.type_id().2 {
        "ED25519" => None,
        _ => Some(Md::Sha256),
    });
    if key.verify(sig, data, md, padding) {
        stack.replace(ctx, true);
    } else {
        // lua-resty-openssl's format_error("pkey:verify"): OpenSSL 3.0 queues an error
        // for a bad RSA signature (this is 3.0.22's line, observed under luajit with the
        // real module) and none for ECDSA and EdDSA ("pkey:verify failed").
        let err: &[u8] = match key.type_id().2 {
            "RSA" => b"pkey:verify: error:1C880004:Provider routines:rsa_verify:RSA lib:providers/implementations/signature/rsa_sig.c:788:",
            _ => b"pkey:verify failed",
        };
        stack.replace(ctx, (false, lstr(ctx, err)));
    }
    Ok(CallbackReturn::Return)
}

/// `pkey_export(key, private, format, pkcs1)`: PEM, DER or JWK text, or `nil, err`.
fn pkey_export<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Some(key) = key_of(stack.get(0)) else { return fail(ctx, stack, "not a key") };
    let private = stack.get(1).to_bool();
    let format = bytes(stack.get(2)).unwrap_or(b"PEM").to_vec();
    let pkcs1 = stack.get(3).to_bool();
    let out = match format.as_slice() {
        b"JWK" => key.to_jwk(private).map(String::into_bytes),
        // i2d_PrivateKey: the key type's own form (PKCS#1, SEC1), PKCS#8 for Ed25519.
        b"DER" => key.to_der(private, private).map(|(d, _)| d),
        _ => key.to_der(private, pkcs1).map(|(d, label)| pem_encode(label, &d).into_bytes()),
    };
    match out {
        Ok(out) => {
            stack.replace(ctx, lstr(ctx, &out));
            Ok(CallbackReturn::Return)
        }
        Err(e) => fail(ctx, stack, &e),
    }
}

/// `pkey_params(key)`: a table of the key's parameters as big-endian byte strings.
fn pkey_params<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let Some(key) = key_of(stack.get(0)) else { return fail(ctx, stack, "not a key") };
    let t = Table::new(&ctx);
    for (name, value) in key.parameters() {
        t.set(ctx, name, lstr(ctx, &value)).ok();
    }
    stack.replace(ctx, t);
    Ok(CallbackReturn::Return)
}

fn der2raw<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let sig = bytes(stack.get(0)).unwrap_or_default();
    let size = stack.get(1).to_integer().unwrap_or(0) as usize;
    match ecdsa_der2raw(sig, size) {
        Ok(raw) => {
            stack.replace(ctx, lstr(ctx, &raw));
            Ok(CallbackReturn::Return)
        }
        Err(e) => fail(ctx, stack, &e),
    }
}

fn raw2der<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let sig = bytes(stack.get(0)).unwrap_or_default();
    let size = stack.get(1).to_integer().unwrap_or(0) as usize;
    match ecdsa_raw2der(sig, size) {
        Ok(der) => {
            stack.replace(ctx, lstr(ctx, &der));
            Ok(CallbackReturn::Return)
        }
        Err(e) => fail(ctx, stack, &e),
    }
}

/// `x509_load(text)`: `{ pubkey = key userdata or nil, subject = {{name, value}...},
/// issuer = ..., not_before, not_after, der, serial }`, or `nil, err`.
fn x509_load_fn<'gc>(ctx: Context<'gc>, _: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Res<'gc> {
    let text = bytes(stack.get(0)).unwrap_or_default().to_vec();
    let cert = match x509_load(&text) {
        Ok(c) => c,
        Err(e) => return fail(ctx, stack, &e),
    };
    let t = Table::new(&ctx);
    let names = |entries: &[(String, String)]| {
        let list = Table::new(&ctx);
        for (i, (n, v)) in entries.iter().enumerate() {
            let pair = Table::new(&ctx);
            pair.set(ctx, 1, lstr(ctx, n.as_bytes())).ok();
            pair.set(ctx, 2, lstr(ctx, v.as_bytes())).ok();
            list.set(ctx, i as i64 + 1, pair).ok();
        }
        list
    };
    if let Some(key) = cert.key {
        t.set(ctx, "pubkey", Value::UserData(UserData::new_static(&ctx, key))).ok();
    }
    t.set(ctx, "subject", names(&cert.subject)).ok();
    t.set(ctx, "issuer", names(&cert.issuer)).ok();
    t.set(ctx, "not_before", cert.not_before).ok();
    t.set(ctx, "not_after", cert.not_after).ok();
    t.set(ctx, "der", lstr(ctx, &cert.der)).ok();
    t.set(ctx, "serial", lstr(ctx, &cert.serial)).ok();
    stack.replace(ctx, t);
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
