//! resty.jwt, resty.jwt-validators, resty.evp, resty.hmac and resty.openssl.* through
//! `require`, with expectations from published vectors (RFC 7515 appendix A, RFC 6979
//! A.2.6, RFC 8037 appendix A, RFC 4231) and from the originals' own test suites
//! (cdbattags/lua-resty-jwt `t/*.t`, jkeys089/lua-resty-hmac's README), named per test.

use super::{host, run_on};
use crate::runtime::PhaseOutcome;
use crate::sandbox::Mode;

/// The log lines of `source` run unsandboxed (`on`: the originals' tests call
/// `jwt:set_alg_whitelist`, which writes to the module table).
fn logs(source: &str) -> Vec<String> {
    let (outcome, messages) = run_on(host(), Mode::On, source);
    assert_eq!(outcome, PhaseOutcome::Continue, "{messages:?}");
    messages
}

/// RFC 7515 A.1's JWS (HS256) and its key as a JWK `k`.
const A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_KEY: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

#[test]
fn rfc7515_a1_hs256_verifies_and_its_exp_is_checked() {
    let out = logs(&format!(
        "local jwt = require 'resty.jwt'
         local v = require 'resty.jwt-validators'
         local key = jwt:jwt_decode('{A1_KEY}')
         local obj = jwt:verify(key, '{A1_TOKEN}')
         kong.log.info(obj.verified, ' ', obj.reason)
         -- the RFC's exp (1300819380) is in the past: with the clock just before it, valid.
         v.set_system_clock(function() return 1300819379 end)
         obj = jwt:verify(key, '{A1_TOKEN}')
         kong.log.info(obj.verified, ' ', obj.reason, ' ', obj.payload.iss, ' ', tostring(obj.payload['http://example.com/is_root']))
         obj = jwt:verify('wrong key', '{A1_TOKEN}')
         kong.log.info(obj.verified, ' ', obj.reason)"
    ));
    // validators.lua: "'%s' claim %s %s" with ngx.http_time(exp); jwt.lua: "signature mismatch: " .. signature.
    assert_eq!(
        out,
        [
            "false 'exp' claim expired at Tue, 22 Mar 2011 18:43:00 GMT",
            "true everything is awesome~ :p joe true",
            "false signature mismatch: dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ]
    );
}

#[test]
fn lua_resty_jwt_sign_verify_t_hs256_and_hs512() {
    // cdbattags/lua-resty-jwt t/sign-verify.t TEST 1, 2, 3, 4 (expected bodies from there).
    let out = logs(
        r#"local jwt = require "resty.jwt"
           kong.log.info(jwt:sign("lua-resty-jwt", {
             header = {typ = "JWT", alg = "HS256"},
             raw_header = jwt:jwt_encode('{"typ":"JWT","alg":"HS256"}'),
             raw_payload = jwt:jwt_encode('{"foo":"bar"}') }))
           kong.log.info(jwt:sign("lua-resty-jwt", {
             header = {typ = "JWT", alg = "HS512"},
             raw_header = jwt:jwt_encode('{"typ":"JWT","alg":"HS512"}'),
             raw_payload = jwt:jwt_encode('{"foo":"bar"}') }))
           local o = jwt:verify("lua-resty-jwt", "invalid-random-str")
           kong.log.info(tostring(o.verified), " ", o.reason)
           o = jwt:verify("lua-resty-jwt", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJmb28iOiJiYXIifQ.signature")
           kong.log.info(tostring(o.verified), " ", o.reason)"#,
    );
    assert_eq!(
        out,
        [
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJmb28iOiJiYXIifQ.VAoRL1IU0nOguxURF2ZcKR0SGKE1gCbqwyh8u2MLAyY",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJmb28iOiJiYXIifQ._r7cUx1935GlmpI41mElmYQJlY4LqAZ50mdLyPUaVfbbC13Afhi6NmrqQvk1yefSSIn3ZOJ0h9Rvwm_RtbsInA",
            "false invalid jwt string",
            "false signature mismatch: signature",
        ]
    );
}

/// cdbattags/lua-resty-jwt testcerts/pubkey.pem, as t/load-verify.t TEST 17 inlines it.
const PUBKEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtM/RXjMp7AvPrnb1/i3I
mcZ4ebkY+AvUurTXngJSBgn0GJNM1HDRQqApE5JzUHf2BImsAyzW8QarrWzA2dWm
q8rNWtJWJlHlSwiKr8wZDyU0kLAqKUEPVfFrk9uds8zc7OvHVRjXQiXeSTUUMpKc
HsZp4zz79Jr4+4vF4Bt+/U8luj/llleaJHlJFyfXiUtqLg2HUdkjPQaFVvhYMQ7u
gZl4aM1uRH7J2oxaexy/JEApSNEDnO/cripd+Pdqx+m8xbBZ9pX8FsvYnO3D/BKQ
k3hadbRWg/r8QYT2ZHk0NRyseoUOc3hyAeckiSWe2n9lvK+HkxmM23UVtuAwxwj4
WQIDAQAB
-----END PUBLIC KEY-----";

const RS256_TOKEN: &str = "eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJSUzI1NiJ9.eyJpc3MiOiAidGVzdCIsICJpYXQiOiAxNDYxOTE0MDE3fQ.dng6Vc-p_ISwiWc61ifWahbFYKBNWfaIr-W3bTPpgL-awG8UlaCONkQk2PHJw_xndbpenQYl_-hipCKynokeFBTXVcSL6H7XL4D9laQVDVFnI63hcXOMQxgICsQPVdcfVSBl2jHyV8kuwXpUHbXQTxMawlE9SkI1-7UukxL9OyFIkT1D1uW7P96irVDsGkEdTLVUPJerH-jlW4rRbW9twSHsgzHgkaqnQ41giW_e2Zzr0U2euFH-AxlyvWBJd8Y7rQ_aD40USKsJilZ5qSykGZ7KHdPzuwTXioCwB8bGVE2YoL-DKYj7-tOwoNsMK7UJzyjqzHqwuqvZWtbhmeRlww";

#[test]
fn lua_resty_jwt_load_verify_t_rs256_and_es256() {
    // cdbattags/lua-resty-jwt t/load-verify.t TEST 17, 18, 20, 22 (expected bodies from there);
    // a flipped signature byte is OpenSSL's "Verification failed" (evp.lua RSAVerifier.verify).
    let out = logs(&format!(
        r#"local jwt = require "resty.jwt"
           local public_key = [[{PUBKEY_PEM}]]
           jwt:set_alg_whitelist({{ RS256 = 1, ES256 = 1 }})
           local o = jwt:verify(public_key, "{RS256_TOKEN}")
           kong.log.info(tostring(o.verified), "|", o.reason, "|", o.payload.iss)
           o = jwt:verify(public_key, "{RS256_TOKEN}" .. "123")
           kong.log.info(tostring(o.verified), "|", o.reason)
           local t = "{RS256_TOKEN}"
           o = jwt:verify(public_key, t:sub(1, -3) .. (t:sub(-2, -2) == "l" and "m" or "l") .. t:sub(-1))
           kong.log.info(tostring(o.verified), "|", o.reason)
           o = jwt:verify("-----BEGIN PUBLIC KEY-----\nR0FSQkFHRQo=\n-----END PUBLIC KEY-----\n", "{RS256_TOKEN}")
           kong.log.info(tostring(o.verified), "|", o.reason, "|", o.payload.iss)
           local ec_key = [[
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm9ehYHp34sZPfZoxJlotxG/LF02e
ZPmM51hCYIL1jn50e30i8KqEL6y6wl06z6P4co0uew5CzD7JlOQlLB+Ryg==
-----END PUBLIC KEY-----
]]
           o = jwt:verify(ec_key, "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ0ZXN0IiwiaWF0IjoxNDYxOTE0MDE3fQ.U38g80dOEKrGQG08KDRY_XWXvolBAhz6G16QZqgePFQljooqsZXw9sIyH6hXFpsAxQbupQBqgUAw6IwUqbAXzg")
           kong.log.info(tostring(o.verified), "|", o.reason, "|", o.payload.iss)
           o = jwt:verify(ec_key, "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ0ZXN0IiwiaWF0IjoxNDYxOTE0MDE3fQ.U38g80dOEKrGQG08KDRY")
           kong.log.info(tostring(o.verified), "|", o.reason)
           o = jwt:verify(ec_key, "eyJhbGciOiJIUzM4NCJ9.e30.x")
           kong.log.info(tostring(o.verified), "|", o.reason)"#
    ));
    assert_eq!(
        out,
        [
            "true|everything is awesome~ :p|test",
            "false|Wrongly encoded signature",
            "false|Verification failed",
            "false|Decode secret is not a valid cert/public key|test",
            "true|everything is awesome~ :p|test",
            // evp.lua ECVerifier.get_der_sig: a raw signature of the wrong length.
            "false|signature length != 2 * order length",
            // jwt.lua verify_jwt_obj: "whitelist unsupported alg: " .. alg.
            "false|whitelist unsupported alg: HS384",
        ]
    );
}

#[test]
fn rfc7515_a2_rs256_a3_es256_and_rfc8037_ed25519_through_pkey() {
    // Keys from the RFCs' JWKs, exported as PEM and used by resty.jwt; RS256 and EdDSA
    // are deterministic, so the RFCs' signatures come back byte for byte.
    let a2 = include_str!("testdata/rfc7515_a2.jwk.json");
    let out = logs(&format!(
        r#"local pkey = require "resty.openssl.pkey"
           local jwt = require "resty.jwt"
           local rsa = assert(pkey.new([[{a2}]], {{ format = "JWK" }}))
           kong.log.info(rsa:get_key_type().sn, " ", tostring(rsa:is_private()), " ", rsa:get_size())
           local pub = assert(rsa:tostring("public", "PEM"))
           local priv = assert(rsa:tostring("private", "PEM"))
           local input = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
           local token = jwt:sign(priv, {{ header = {{ alg = "RS256" }}, raw_header = "eyJhbGciOiJSUzI1NiJ9",
             raw_payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" }})
           kong.log.info(token:sub(#input + 2, #input + 30))
           local d = require("resty.openssl.digest").new("sha256")
           d:update(input)
           local sig = rsa:sign(d)
           kong.log.info(tostring(pkey.new(pub):verify(sig, input, "sha256")), " ", jwt:jwt_encode(sig) == token:sub(#input + 2))
           local ec = assert(pkey.new('{{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}'))
           local es_input = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
           local raw = jwt:jwt_decode("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
           kong.log.info(tostring(ec:verify(raw, es_input, "sha256", nil, {{ ecdsa_use_raw = true }})), " ", ec:get_parameters().group, " ", ec:get_key_type().sn)
           kong.log.info(select(2, ec:verify(raw, es_input .. "x", "sha256", nil, {{ ecdsa_use_raw = true }})))
           kong.log.info(select(2, rsa:verify(sig, input .. "x", "sha256")))
           local ed = assert(pkey.new('{{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}'))
           local ed_token = jwt:sign(ed:tostring("private", "PEM"), {{ header = {{ alg = "EdDSA" }}, raw_header = "eyJhbGciOiJFZERTQSJ9",
             raw_payload = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc" }})
           kong.log.info(ed_token)
           local o = jwt:verify(ed:tostring("public", "PEM"), ed_token)
           kong.log.info(tostring(o.verified), " ", o.reason, " ", tostring(o.payload))"#
    ));
    assert_eq!(
        out,
        [
            "rsaEncryption true 256",
            // RFC 7515 A.2.1's signature starts "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dz".
            "cC4hiUPoj9Eetdgtv3hF80EGrhuB_",
            "true true",
            "true 415 id-ecPublicKey",
            // lua-resty-openssl pkey:verify: false, format_error("pkey:verify"): with
            // OpenSSL 3.0.22 no error is queued for ECDSA, one is for RSA (luajit with
            // the real modules).
            "pkey:verify failed",
            "pkey:verify: error:1C880004:Provider routines:rsa_verify:RSA lib:providers/implementations/signature/rsa_sig.c:788:",
            // RFC 8037 A.4.
            "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
            // The payload is not JSON: it stays a string (jwt.lua parse_jwt, RFC 7515).
            "true everything is awesome~ :p Example of Ed25519 signing",
        ]
    );
}

/// RFC 6979 A.2.6's P-384 key as OpenSSL 3.0.22 writes it (Python's `cryptography` on
/// OpenSSL: `derive_private_key(x, SECP384R1())`): SEC1 private key and SPKI public key.
const P384_SEC1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDBrnT2tLhuMHAWxmHW2ZZ9N4jw7Znvyl7qapHdAeHE32JbVck5McKgl
+HLJ6mDS7fWgBwYFK4EEACKhZANiAATsOk5BW04ZpFaGGAKfQn+l2pqLxK6S4C4G
quUoazAMZN748OqQVYZgZKJUUVSAvBOAFdm3LX1XJE6o75rAxiGJZwilk2f537n1
TKhLPxydsSiLIxw64NT+c0T9JTMmRyA=
-----END EC PRIVATE KEY-----
";
const P384_SPKI_PEM: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE7DpOQVtOGaRWhhgCn0J/pdqai8SukuAu
BqrlKGswDGTe+PDqkFWGYGSiVFFUgLwTgBXZty19VyROqO+awMYhiWcIpZNn+d+5
9UyoSz8cnbEoiyMcOuDU/nNE/SUzJkcg
-----END PUBLIC KEY-----
";

/// An ES384 token signed with that key by Python's `cryptography` (OpenSSL,
/// tests/snippets/tools/jwt_tokens.py: `es384_valid`, expires in 2100).
const ES384_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ0ZXN0Iiwic3ViIjoiZGF2ZSIsImV4cCI6NDEwMjQ0NDgwMH0.u67RXVG48syDmsHY1ekH6PpTSob7Pwhn0PI-M8gzU0Vj_S9uL8QZrqXHqUeeYOLilyDFsVKohhpEJYfgcPOz1_l30YtHgCol-FjI-eu0vb37Wy7AsWqTkwT1m8jiag98";

#[test]
fn rfc6979_a26_p384_es384_through_pkey_jwt_and_evp() {
    // RFC 6979 A.2.6: the key's public point Ux and the SHA-384 signature of "sample";
    // OpenSSL's SPKI of the key; an ES384 token OpenSSL signed. Signatures made here are
    // checked by verifying them (OpenSSL's nonces are random, so are not compared).
    let out = logs(&format!(
        r#"local pkey = require "resty.openssl.pkey"
           local jwt = require "resty.jwt"
           local evp = require "resty.evp"
           local function unhex(h) return (h:gsub("..", function(c) return string.char(tonumber(c, 16)) end)) end
           local sec1 = [[{P384_SEC1_PEM}]]
           local spki = [[{P384_SPKI_PEM}]]
           local k = assert(pkey.new(sec1))
           local p = k:get_parameters()
           kong.log.info(k:get_key_type().sn, " ", tostring(k:is_private()), " ", k:get_size(), " ", p.group, " ", p.x:to_hex())
           kong.log.info(tostring(k:tostring("public", "PEM") == spki), " ", tostring(k:tostring() == spki), " ", #k:tostring("private", "DER"), " ", #k:tostring("public", "DER"), " ", k:tostring("private", "PEM"):match("BEGIN ([A-Z ]+)-"))
           kong.log.info(tostring(pkey.new(k:tostring("private", "DER"), {{ format = "DER" }}):is_private()), " ", tostring(pkey.new(k:tostring("private", "PEM")):tostring("private", "DER") == k:tostring("private", "DER")))
           local pub = assert(pkey.new(spki, {{ format = "PEM", type = "pu" }}))
           kong.log.info(pub:tostring("public", "JWK"):match('"crv":"([^"]+)"'), " ", #pub:tostring(nil, "JWK"):match('"x":"([^"]+)"'), " ", tostring(pub:is_private()), " ", select(2, pub:tostring("JWK")))
           local raw = unhex("94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46"
             .. "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8")
           kong.log.info(tostring(pub:verify(raw, "sample", "sha384", nil, {{ ecdsa_use_raw = true }})))
           kong.log.info(tostring(select(2, pub:verify(raw, "sample!", "sha384", nil, {{ ecdsa_use_raw = true }}))))
           kong.log.info(tostring(select(2, pub:verify(raw:sub(1, 64), "sample", "sha384", nil, {{ ecdsa_use_raw = true }}))))
           local jwk = assert(pkey.new(pub:tostring("public", "JWK"), {{ format = "JWK" }}))
           local sig = assert(k:sign("hello", "sha384", nil, {{ ecdsa_use_raw = true }}))
           kong.log.info(#sig, " ", tostring(jwk:verify(sig, "hello", "sha384", nil, {{ ecdsa_use_raw = true }})))
           local der = assert(k:sign("hello", "sha384"))
           kong.log.info(tostring(pub:verify(der, "hello", "sha384")), " ", tostring(#der >= 102 and #der <= 104))
           local o = jwt:verify(spki, "{ES384_TOKEN}")
           kong.log.info(tostring(o.verified), "|", o.reason, "|", o.payload.sub, "|", o.header.alg)
           local token = jwt:sign(sec1, {{ header = {{ typ = "JWT", alg = "ES384" }}, payload = {{ iss = "test" }} }})
           kong.log.info(#jwt:jwt_decode(token:match("[^.]+$"), false))
           o = jwt:verify(spki, token)
           kong.log.info(tostring(o.verified), "|", o.reason, "|", o.payload.iss)
           o = jwt:verify(spki, token:sub(1, -43))
           kong.log.info(tostring(o.verified), "|", o.reason)
           local signer = assert(evp.ECSigner:new(sec1))
           kong.log.info(#signer:get_raw_sig(signer:sign("msg", "SHA384")))
           local verifier = assert(evp.ECVerifier:new(assert(evp.PublicKey:new(spki))))
           kong.log.info(tostring(verifier:verify("sample", raw, "SHA384")))
           kong.log.info(tostring(select(2, verifier:verify("sample", raw:sub(1, 64), "SHA384"))))
           kong.log.info(tostring(select(2, verifier:verify("other", raw, "SHA384"))))"#
    ));
    assert_eq!(
        out,
        [
            // OpenSSL: EVP_PKEY_get_size is ECDSA_size, 104 for P-384; secp384r1 is NID
            // 715; BN_bn2hex of RFC 6979's Ux.
            "id-ecPublicKey true 104 715 EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13",
            // OpenSSL writes the same SPKI (tostring() is the public key, pkey.lua
            // pub_or_priv_is_pri); private DER is i2d_PrivateKey's SEC1 (167 bytes, as
            // the SEC1 PEM above), private PEM is PKCS#8; SPKI DER 120 bytes.
            "true true 167 120 PRIVATE KEY",
            "true true",
            // 48 bytes of x are 64 base64url characters; "JWK" as the first argument is
            // pub_or_priv_is_pri's error.
            "P-384 64 false pkey:tostring: can only export private or public key, not JWK",
            "true",
            // lua-resty-openssl pkey:verify: no OpenSSL error queued for ECDSA.
            "pkey:verify failed",
            // auxiliary/ecdsa.lua sig_raw2der, wrapped by pkey:verify.
            "pkey:sign: ecdsa.sig_raw2der: invalid signature length, expect 96 but got 64",
            "96 true",
            "true true",
            "true|everything is awesome~ :p|dave|ES384",
            // 2 x 48 bytes (evp.lua ECSigner.get_raw_sig pads to the order's size).
            "96",
            "true|everything is awesome~ :p|test",
            // evp.lua ECVerifier.get_der_sig.
            "false|signature length != 2 * order length",
            "96",
            "true",
            "signature length != 2 * order length",
            "Verification failed",
        ]
    );
}

#[test]
fn resty_hmac_follows_its_readme_and_rfc_4231() {
    // jkeys089/lua-resty-hmac README synopsis outputs; RFC 4231 test case 2.
    let out = logs(
        r#"local hmac = require "resty.hmac"
           local str = require "resty.string"
           local h = hmac:new("secret_key", hmac.ALGOS.SHA1)
           h:update("he")
           h:update("llo")
           kong.log.info(str.to_hex(h:final()))
           h:reset()
           kong.log.info(h:final("world", true))
           kong.log.info(hmac:new("Jefe", hmac.ALGOS.SHA256):final("what do ya want for nothing?", true))
           local oh = require("resty.openssl.hmac").new("Jefe", "sha256")
           kong.log.info(str.to_hex(oh:final("what do ya want for nothing?")))
           kong.log.info(select(2, require("resty.openssl.hmac").new("k", "nope")))
           local d = require("resty.openssl.digest")
           kong.log.info(str.to_hex(d.new("sha256"):final("abc")), " ", select(2, d.new("nope")))"#,
    );
    assert_eq!(
        out,
        [
            "aee4b890b574ea8fa4f6a66aed96c3e590e5925a",
            "4e9538f1efbe565c522acfb72fce6092ea6b15e0",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "hmac.new: invalid digest type \"nope\"",
            // FIPS 180-2 "abc"; the error as lua-resty-openssl 1.9 on OpenSSL 3.0.22 gives it.
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad digest.new: invalid digest type \"nope\": error:308010C:digital envelope routines:inner_evp_generic_fetch:unsupported:crypto/evp/evp_fetch.c:386:",
        ]
    );
}

#[test]
fn validators_follow_lua_resty_jwt_validate_jwt_t() {
    // cdbattags/lua-resty-jwt t/validate-jwt.t and t/validators.t messages.
    let out = logs(
        r#"local jwt = require "resty.jwt"
           local v = require "resty.jwt-validators"
           local tok = jwt:sign("secret", { header = { typ = "JWT", alg = "HS256" }, payload = { sub = "alice", exp = 9999999999, roles = { "admin" } } })
           local o = jwt:verify("secret", tok, { sub = v.equals("bob") })
           kong.log.info(o.reason)
           o = jwt:verify("secret", tok, { sub = v.matches("^al") , roles = v.contains_any_of({ "admin" }, "roles") })
           kong.log.info(o.reason)
           o = jwt:verify("secret", tok, { iss = v.required() })
           kong.log.info(o.reason)
           o = jwt:verify("secret", tok, { __jwt = v.require_one_of({ "nbf", "iat" }) })
           kong.log.info(o.reason)
           kong.log.info(select(2, pcall(v.equals, nil)))
           o = jwt:verify("secret", tok, { lifetime_grace_period = 0, require_nbf_claim = true })
           kong.log.info(o.reason)"#,
    );
    assert_eq!(
        out,
        [
            "Claim 'sub' ('alice') returned failure",
            "everything is awesome~ :p",
            "'iss' claim is required.",
            "Missing one of claims - [ nbf, iat ].",
            "Cannot create validator for nil check_val.",
            "'nbf' claim is required.",
        ]
    );
}

#[test]
fn x509_and_evp_read_a_certificate() {
    // An RSA certificate made with OpenSSL 3.0 (`openssl req -x509 -newkey rsa:2048
    // -subj "/C=US/O=Example/CN=jwt.example" -days 36500`); subject, dates and SHA-256
    // fingerprint as `openssl x509 -noout -subject -dates -fingerprint -sha256` prints
    // them (testdata/cert.expected; the name sorted and joined as x509/name.lua's
    // __tostring does).
    let cert = include_str!("testdata/cert.pem");
    let out = logs(&format!(
        r#"local x509 = require "resty.openssl.x509"
           local c = assert(x509.new([[{cert}]]))
           kong.log.info(c:get_subject_name():tostring(), " ", c:get_not_before(), " ", c:get_not_after())
           kong.log.info(c:get_subject_name():find("CN").blob, " ", c:get_pubkey():get_key_type().sn)
           local evp = require "resty.evp"
           local cert = assert(evp.Cert:new([[{cert}]]))
           kong.log.info(cert:get_fingerprint("SHA256"):sub(1, 8))"#
    ));
    let expected: Vec<String> = include_str!("testdata/cert.expected").lines().map(str::to_owned).collect();
    assert_eq!(out, expected);
}
