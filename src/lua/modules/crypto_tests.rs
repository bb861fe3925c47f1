//! The signature arithmetic against published vectors: RFC 7515 appendix A (JWS
//! HS256, RS256, ES256), RFC 6979 A.2.6 and NIST CAVP SigGen (ECDSA P-384), RFC 8037
//! appendix A (Ed25519),
//! RFC 4231 (HMAC-SHA-256) and
//! FIPS 180 examples (the "abc" digests NIST publishes).

use super::*;

fn b64u(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RFC 7515 A.1-A.3's JWS Payload, base64url.
const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/// RFC 7515 A.2.1: the RSA key.
const RFC7515_A2_JWK: &str = r#"{"kty":"RSA",
 "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
 "e":"AQAB",
 "d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
 "p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
 "q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
 "dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
 "dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
 "qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}"#;

/// RFC 7515 A.2.1: the JWS Signature.
const RFC7515_A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3.1: the EC P-256 key and A.3.1's JWS Signature (raw r || s).
const RFC7515_A3_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
const RFC7515_A3_SIG: &str = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 A.1/A.2: the Ed25519 key; A.4: the JWS of "Example of Ed25519 signing".
const RFC8037_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
const RFC8037_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_SIG: &str = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

#[test]
fn rfc7515_a1_hs256() {
    // RFC 7515 A.1.1: the HMAC key (JWK "k") and the JWS Signature.
    let key = b64u("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
    let input = format!("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.{PAYLOAD}");
    assert_eq!(Md::Sha256.hmac(&key, input.as_bytes()), b64u("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
}

#[test]
fn rfc7515_a2_rs256_signs_and_verifies() {
    let input = format!("eyJhbGciOiJSUzI1NiJ9.{PAYLOAD}");
    let key = from_jwk(RFC7515_A2_JWK.as_bytes(), Want::Any).unwrap();
    assert!(key.is_private());
    assert_eq!(key.bits(), 2048);
    // PKCS#1 v1.5 is deterministic: the RFC's signature byte for byte.
    assert_eq!(key.sign(input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING).unwrap(), b64u(RFC7515_A2_SIG));
    let public = from_jwk(RFC7515_A2_JWK.as_bytes(), Want::Public).unwrap();
    assert!(!public.is_private());
    assert!(public.verify(&b64u(RFC7515_A2_SIG), input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING));
    let mut bad = b64u(RFC7515_A2_SIG);
    bad[10] ^= 1;
    assert!(!public.verify(&bad, input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING));
    assert!(!public.verify(&b64u(RFC7515_A2_SIG), b"other", Some(Md::Sha256), PKCS1_PADDING));
    // PSS round trip (random salt) with the same key.
    let pss = key.sign(input.as_bytes(), Some(Md::Sha256), PSS_PADDING).unwrap();
    assert!(public.verify(&pss, input.as_bytes(), Some(Md::Sha256), PSS_PADDING));
    assert!(!public.verify(&pss, input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING));
}

#[test]
fn rsa_keys_round_trip_through_pem_der_and_jwk() {
    let key = from_jwk(RFC7515_A2_JWK.as_bytes(), Want::Any).unwrap();
    let (der, label) = key.to_der(false, false).unwrap();
    assert_eq!(label, "PUBLIC KEY");
    let pem = pem_encode(label, &der);
    let back = load(pem.as_bytes(), "*", Want::Any).unwrap();
    assert!(!back.is_private());
    let (der2, _) = back.to_der(false, false).unwrap();
    assert_eq!(der, der2);
    let (pkcs1, label) = key.to_der(true, true).unwrap();
    assert_eq!(label, "RSA PRIVATE KEY");
    let back = load(pem_encode(label, &pkcs1).as_bytes(), "PEM", Want::Private).unwrap();
    assert!(back.is_private());
    let (pkcs8, _) = key.to_der(true, false).unwrap();
    assert!(load(&pkcs8, "DER", Want::Any).unwrap().is_private());
    // A public PEM is not a private key.
    assert_eq!(load(pem.as_bytes(), "PEM", Want::Private).err().unwrap(), "unsupported");
    let jwk: serde_json::Value = serde_json::from_str(&key.to_jwk(false).unwrap()).unwrap();
    let rfc: serde_json::Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
    assert_eq!(jwk["n"], rfc["n"]);
    assert_eq!(jwk["e"], "AQAB");
    assert!(jwk.get("d").is_none());
    assert_eq!(load(b"garbage", "*", Want::Any).err().unwrap(), "unsupported");
    assert_eq!(load(b"garbage", "PEM", Want::Any).err().unwrap(), "no start line");
}

#[test]
fn rfc7515_a3_es256_verifies_and_signs() {
    let input = format!("eyJhbGciOiJFUzI1NiJ9.{PAYLOAD}");
    let key = from_jwk(RFC7515_A3_JWK.as_bytes(), Want::Any).unwrap();
    assert_eq!(key.curve(), Some(("prime256v1", 415, 32)));
    let der = ecdsa_raw2der(&b64u(RFC7515_A3_SIG), 32).unwrap();
    assert!(key.verify(&der, input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING));
    assert_eq!(ecdsa_der2raw(&der, 32).unwrap(), b64u(RFC7515_A3_SIG));
    let mine = key.sign(input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING).unwrap();
    assert!(key.verify(&mine, input.as_bytes(), Some(Md::Sha256), PKCS1_PADDING));
    assert!(!key.verify(&mine, b"tampered", Some(Md::Sha256), PKCS1_PADDING));
    assert_eq!(ecdsa_raw2der(&[0u8; 63], 32).err().unwrap(), "invalid signature length, expect 64 but got 63");
    let (der, _) = key.to_der(true, false).unwrap();
    let pem = pem_encode("PRIVATE KEY", &der);
    assert!(load(pem.as_bytes(), "*", Want::Any).unwrap().is_private());
    let jwk: serde_json::Value = serde_json::from_str(&key.to_jwk(true).unwrap()).unwrap();
    let rfc: serde_json::Value = serde_json::from_str(RFC7515_A3_JWK).unwrap();
    assert_eq!((&jwk["x"], &jwk["y"], &jwk["d"], &jwk["crv"]), (&rfc["x"], &rfc["y"], &rfc["d"], &rfc["crv"]));
}

/// RFC 6979 A.2.6 (ECDSA, 384 bits, prime field: NIST P-384): the key pair, hex.
const RFC6979_P384_X: &str = "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5";
const RFC6979_P384_UX: &str = "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13";
const RFC6979_P384_UY: &str = "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720";
/// RFC 6979 A.2.6's signatures `(hash, message, r, s)`: the deterministic ones with
/// SHA-384 (the nonce's HMAC is SHA-384, as `ecdsa` uses for P-384, so signing gives
/// these bytes), and one with SHA-256 (verified only: its nonce came from HMAC-SHA-256).
const RFC6979_P384_SIGS: [(Md, &str, &str, &str); 3] = [
    (
        Md::Sha384,
        "sample",
        "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
        "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8",
    ),
    (
        Md::Sha384,
        "test",
        "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB",
        "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E06A739F040649A667BF3B828246BAA5A5",
    ),
    (
        Md::Sha256,
        "sample",
        "21B13D1E013C7FA1392D03C5F99AF8B30C570C6F98D4EA8E354B63A21D3DAA33BDE1E888E63355D92FA2B3C36D8FB2CD",
        "F3AA443FB107745BF4BD77CB3891674632068A10CA67E3D45DB2266FA7D1FEEBEFDC63ECCD1AC42EC0CB8668A4FA0AB0",
    ),
];

/// The RFC 6979 A.2.6 key as OpenSSL 3.0.22 writes it (Python's `cryptography` 48 on
/// OpenSSL: `derive_private_key(x, SECP384R1())`, then `private_bytes` as
/// TraditionalOpenSSL and PKCS8, `public_bytes` as SubjectPublicKeyInfo).
const OPENSSL_P384_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDBrnT2tLhuMHAWxmHW2ZZ9N4jw7Znvyl7qapHdAeHE32JbVck5McKgl
+HLJ6mDS7fWgBwYFK4EEACKhZANiAATsOk5BW04ZpFaGGAKfQn+l2pqLxK6S4C4G
quUoazAMZN748OqQVYZgZKJUUVSAvBOAFdm3LX1XJE6o75rAxiGJZwilk2f537n1
TKhLPxydsSiLIxw64NT+c0T9JTMmRyA=
-----END EC PRIVATE KEY-----
";
const OPENSSL_P384_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBrnT2tLhuMHAWxmHW2
ZZ9N4jw7Znvyl7qapHdAeHE32JbVck5McKgl+HLJ6mDS7fWhZANiAATsOk5BW04Z
pFaGGAKfQn+l2pqLxK6S4C4GquUoazAMZN748OqQVYZgZKJUUVSAvBOAFdm3LX1X
JE6o75rAxiGJZwilk2f537n1TKhLPxydsSiLIxw64NT+c0T9JTMmRyA=
-----END PRIVATE KEY-----
";
const OPENSSL_P384_SPKI: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE7DpOQVtOGaRWhhgCn0J/pdqai8SukuAu
BqrlKGswDGTe+PDqkFWGYGSiVFFUgLwTgBXZty19VyROqO+awMYhiWcIpZNn+d+5
9UyoSz8cnbEoiyMcOuDU/nNE/SUzJkcg
-----END PUBLIC KEY-----
";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn rfc6979_p384_jwk(private: bool) -> String {
    let enc = |h: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(unhex(h));
    let d = if private { format!(r#","d":"{}""#, enc(RFC6979_P384_X)) } else { String::new() };
    format!(r#"{{"kty":"EC","crv":"P-384","x":"{}","y":"{}"{d}}}"#, enc(RFC6979_P384_UX), enc(RFC6979_P384_UY))
}

#[test]
fn rfc6979_a26_p384_signs_and_verifies() {
    let key = from_jwk(rfc6979_p384_jwk(true).as_bytes(), Want::Any).unwrap();
    let public = from_jwk(rfc6979_p384_jwk(false).as_bytes(), Want::Any).unwrap();
    assert!(key.is_private() && !public.is_private());
    // OpenSSL: EVP_PKEY_bits 384; the group secp384r1, NID 715 (obj_mac.h).
    assert_eq!(key.bits(), 384);
    assert_eq!(key.curve(), Some(("secp384r1", 715, 48)));
    assert_eq!(public.curve(), Some(("secp384r1", 715, 48)));
    // The public point the RFC derives from x (U = xG).
    let params: std::collections::BTreeMap<_, _> = key.parameters().into_iter().collect();
    assert_eq!(hex(&params["x"]), RFC6979_P384_UX.to_ascii_lowercase());
    assert_eq!(hex(&params["y"]), RFC6979_P384_UY.to_ascii_lowercase());
    assert_eq!(hex(&params["private"]), RFC6979_P384_X.to_ascii_lowercase());
    for (md, message, r, s) in RFC6979_P384_SIGS {
        let raw = unhex(&format!("{r}{s}"));
        let der = ecdsa_raw2der(&raw, 48).unwrap();
        assert!(public.verify(&der, message.as_bytes(), Some(md), PKCS1_PADDING), "{message} {md:?}");
        assert!(key.verify(&der, message.as_bytes(), Some(md), PKCS1_PADDING));
        assert!(!public.verify(&der, b"other", Some(md), PKCS1_PADDING));
        let mut bad = raw.clone();
        bad[47] ^= 1;
        assert!(!public.verify(&ecdsa_raw2der(&bad, 48).unwrap(), message.as_bytes(), Some(md), PKCS1_PADDING));
        if md == Md::Sha384 {
            // RFC 6979 signing is deterministic: the RFC's r and s, byte for byte.
            let mine = key.sign(message.as_bytes(), Some(md), PKCS1_PADDING).unwrap();
            assert_eq!(hex(&ecdsa_der2raw(&mine, 48).unwrap()), hex(&raw), "{message}");
        }
    }
    // A P-256-sized raw signature is not a P-384 one (lua-resty-openssl's ecdsa.lua).
    assert_eq!(ecdsa_raw2der(&[1u8; 64], 48).err().unwrap(), "invalid signature length, expect 96 but got 64");
    // A P-384 signature does not verify under the P-256 key of RFC 7515 A.3, nor the reverse.
    let p256 = from_jwk(RFC7515_A3_JWK.as_bytes(), Want::Any).unwrap();
    let (_, message, r, s) = RFC6979_P384_SIGS[0];
    let der = ecdsa_raw2der(&unhex(&format!("{r}{s}")), 48).unwrap();
    assert!(!p256.verify(&der, message.as_bytes(), Some(Md::Sha384), PKCS1_PADDING));
}

#[test]
fn p384_keys_load_from_openssl_pem_and_write_the_same_der() {
    let want_params = |k: &Key| {
        let params: std::collections::BTreeMap<_, _> = k.parameters().into_iter().collect();
        assert_eq!(hex(&params["x"]), RFC6979_P384_UX.to_ascii_lowercase());
        assert_eq!(hex(&params["y"]), RFC6979_P384_UY.to_ascii_lowercase());
    };
    for pem in [OPENSSL_P384_SEC1, OPENSSL_P384_PKCS8] {
        let key = load(pem.as_bytes(), "*", Want::Any).unwrap();
        assert!(key.is_private());
        assert_eq!(key.curve(), Some(("secp384r1", 715, 48)));
        want_params(&key);
        // OpenSSL's PKCS#8 and SPKI DER, byte for byte.
        let (pkcs8, label) = key.to_der(true, false).unwrap();
        assert_eq!((pem_encode(label, &pkcs8).as_str(), label), (OPENSSL_P384_PKCS8, "PRIVATE KEY"));
        let (spki, label) = key.to_der(false, false).unwrap();
        assert_eq!(pem_encode(label, &spki), OPENSSL_P384_SPKI);
        // i2d_PrivateKey's SEC1, byte for byte.
        let (sec1, label) = key.to_der(true, true).unwrap();
        assert_eq!((pem_encode(label, &sec1).as_str(), label), (OPENSSL_P384_SEC1, "EC PRIVATE KEY"));
        // DER in, as d2i_AutoPrivateKey reads it.
        assert!(load(&pkcs8, "DER", Want::Private).unwrap().is_private());
    }
    let (_, sec1) = pem_block(OPENSSL_P384_SEC1.as_bytes()).unwrap();
    want_params(&load(&sec1, "DER", Want::Any).unwrap());
    let public = load(OPENSSL_P384_SPKI.as_bytes(), "PEM", Want::Public).unwrap();
    assert!(!public.is_private());
    want_params(&public);
    assert_eq!(load(OPENSSL_P384_SPKI.as_bytes(), "PEM", Want::Private).err().unwrap(), "unsupported");
    // JWK out: RFC 7518 6.2.1's members, crv "P-384", 48-byte coordinates.
    let jwk: serde_json::Value = serde_json::from_str(&public.to_jwk(false).unwrap()).unwrap();
    let rfc: serde_json::Value = serde_json::from_str(&rfc6979_p384_jwk(false)).unwrap();
    assert_eq!(jwk, rfc);
    assert_eq!(public.to_jwk(true).err().unwrap(), "can't export private key from a public key");
}

/// NIST CAVP FIPS 186-4 ECDSA `SigGen.txt`, section [P-384,SHA-384], its first three
/// records: `(d, Qx, Qy, SHA-384(Msg), R, S)` (the digests as p384's test vectors list
/// them); the first record's `Msg` in full.
const CAVP_P384_SHA384: [(&str, &str, &str, &str, &str, &str); 3] = [
    ("201b432d8df14324182d6261db3e4b3f46a8284482d52e370da41e6cbdf45ec2952f5db7ccbce3bc29449f4fb080ac97",
     "c2b47944fb5de342d03285880177ca5f7d0f2fcad7678cce4229d6e1932fcac11bfc3c3e97d942a3c56bf34123013dbf",
     "37257906a8223866eda0743c519616a76a758ae58aee81c5fd35fbf3a855b7754a36d4a0672df95d6c44a81cf7620c2d",
     "31a452d6164d904bb5724c878280231eae705c29ce9d4bc7d58e020e1085f17eebcc1a38f0ed0bf2b344d81fbd896825",
     "50835a9251bad008106177ef004b091a1e4235cd0da84fff54542b0ed755c1d6f251609d14ecf18f9e1ddfe69b946e32",
     "0475f3d30c6463b646e8d3bf2455830314611cbde404be518b14464fdb195fdcc92eb222e61f426a4a592c00a6a89721"),
    ("23d9f4ea6d87b7d6163d64256e3449255db14786401a51daa7847161bf56d494325ad2ac8ba928394e01061d882c3528",
     "5d42d6301c54a438f65970bae2a098cbc567e98840006e356221966c86d82e8eca515bca850eaa3cd41f175f03a0cbfd",
     "4aef5a0ceece95d382bd70ab5ce1cb77408bae42b51a08816d5e5e1d3da8c18fcc95564a752730b0aabea983ccea4e2e",
     "a92784916a40feaebfeab16ea28c0c65e45c5e81eb634052944865708072e20110bd669a9838d7e722e94ac75245cdd3",
     "fb318f4cb1276282bb43f733a7fb7c567ce94f4d02924fc758635ab2d1107108bf159b85db080cdc3b30fbb5400016f3",
     "588e3d7af5da03eae255ecb1813100d95edc243476b724b22db8e85377660d7645ddc1c2c2ee4eaea8b683dbe22f86ca"),
    ("b5f670e98d8befc46f6f51fb2997069550c2a52ebfb4e5e25dd905352d9ef89eed5c2ecd16521853aadb1b52b8c42ae6",
     "44ffb2a3a95e12d87c72b5ea0a8a7cb89f56b3bd46342b2303608d7216301c21b5d2921d80b6628dc512ccb84e2fc278",
     "e4c1002f1828abaec768cadcb7cf42fbf93b1709ccae6df5b134c41fae2b9a188bfbe1eccff0bd348517d7227f2071a6",
     "b2acf6b4ae1ba9985c1e657313d59157939c21868302f6f5c5dbf037867035ae7c2009bad9fce472579923f7b4b87795",
     "b11db592e4ebc75b6472b879b1d8ce57452c615aef20f67a280f8bca9b11a30ad4ac9d69541258c7dd5d0b4ab8dd7d49",
     "4eb51db8004e46d438359abf060a9444616cb46b4f99c9a05b53ba6df02e914c9c0b6cc3a9791d804d2e4c0984dab1cc"),
];
const CAVP_P384_MSG1: &str = "6b45d88037392e1371d9fd1cd174e9c1838d11c3d6133dc17e65fa0c485dcca9f52d41b60161246039e42ec784d49400bffdb51459f5de654091301a09378f93464d52118b48d44b30d781eb1dbed09da11fb4c818dbd442d161aba4b9edc79f05e4b7e401651395b53bd8b5bd3f2aaa6a00877fa9b45cadb8e648550b4c6cbe";

#[test]
fn nist_cavp_p384_sha384_keys_and_signatures() {
    for (i, (d, qx, qy, m, r, s)) in CAVP_P384_SHA384.iter().enumerate() {
        // Q = dG, through the private key's public half.
        let key = Curve::P384.private_key(&unhex(d)).unwrap();
        let params: std::collections::BTreeMap<_, _> = key.parameters().into_iter().collect();
        assert_eq!((hex(&params["x"]), hex(&params["y"])), (qx.to_string(), qy.to_string()), "record {i}");
        let public = Curve::P384.public_key(&unhex(&format!("04{qx}{qy}"))).unwrap();
        let der = ecdsa_raw2der(&unhex(&format!("{r}{s}")), 48).unwrap();
        let Key::P384Public(k) = &public else { panic!("not a P-384 key") };
        assert!(ec_verify(k, &unhex(m), &der), "record {i}");
        let mut other = unhex(m);
        other[0] ^= 1;
        assert!(!ec_verify(k, &other, &der), "record {i}");
    }
    // The first record through the message, as pkey:verify hashes it.
    assert_eq!(hex(&Md::Sha384.digest(&unhex(CAVP_P384_MSG1))), CAVP_P384_SHA384[0].3);
    let (_, qx, qy, _, r, s) = CAVP_P384_SHA384[0];
    let public = Curve::P384.public_key(&unhex(&format!("04{qx}{qy}"))).unwrap();
    let der = ecdsa_raw2der(&unhex(&format!("{r}{s}")), 48).unwrap();
    assert!(public.verify(&der, &unhex(CAVP_P384_MSG1), Some(Md::Sha384), PKCS1_PADDING));
}

#[test]
fn p521_keys_are_refused() {
    // P-521 is not supported here (size budget, crypto.rs): the curve is refused.
    let jwk = r#"{"kty":"EC","crv":"P-521","x":"AAAA","y":"AAAA"}"#;
    assert_eq!(from_jwk(jwk.as_bytes(), Want::Any).err().unwrap(), "jwk:load_jwk: unknown curve \"P-521\"");
    // A P-384 JWK whose point is not on the curve.
    let off = r#"{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"}"#;
    assert_eq!(from_jwk(off.as_bytes(), Want::Any).err().unwrap(), "jwk:load_jwk: invalid EC key");
}

#[test]
fn rfc8037_ed25519() {
    let key = from_jwk(RFC8037_JWK.as_bytes(), Want::Any).unwrap();
    // Ed25519 is deterministic: RFC 8037 A.4's signature.
    assert_eq!(key.sign(RFC8037_INPUT.as_bytes(), None, PKCS1_PADDING).unwrap(), b64u(RFC8037_SIG));
    let public = from_jwk(RFC8037_JWK.as_bytes(), Want::Public).unwrap();
    assert!(public.verify(&b64u(RFC8037_SIG), RFC8037_INPUT.as_bytes(), None, PKCS1_PADDING));
    assert!(!public.verify(&b64u(RFC8037_SIG), b"other", None, PKCS1_PADDING));
    // RFC 8037 A.3: the public key's JWK thumbprint input has these members.
    let jwk: serde_json::Value = serde_json::from_str(&public.to_jwk(false).unwrap()).unwrap();
    assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

#[test]
fn fips_180_and_rfc_4231_vectors() {
    // FIPS 180-2 appendix examples ("abc").
    assert_eq!(hex(&Md::Sha256.digest(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(hex(&Md::Sha1.digest(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(
        hex(&Md::Sha384.digest(b"abc")),
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
    );
    // RFC 1321 A.5: MD5("abc").
    assert_eq!(hex(&Md::Md5.digest(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    // RFC 4231 test case 2: key "Jefe".
    assert_eq!(
        hex(&Md::Sha256.hmac(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(Md::by_name("SHA256"), Some(Md::Sha256));
    assert_eq!(Md::by_name("sha-512"), Some(Md::Sha512));
    assert_eq!(Md::by_name("whirlpool"), None);
}

#[test]
fn pem_blocks_as_openssl_reads_them() {
    assert_eq!(pem_block(b"nothing").err(), Some("no start line"));
    assert_eq!(pem_block(b"-----BEGIN PUBLIC KEY-----\nAAAA\n").err(), Some("bad end line"));
    assert_eq!(pem_block(b"-----BEGIN X-----\n!!!!\n-----END X-----\n").err(), Some("bad base64 decode"));
    let (label, body) = pem_block(b"junk\n-----BEGIN X-----\nAAEC\n-----END X-----\n").unwrap();
    assert_eq!((label.as_str(), body), ("X", vec![0, 1, 2]));
}
