#!/usr/bin/env python3
"""Makes the tokens of tests/snippets/jwt-*.snippet with Python's `cryptography`
(OpenSSL underneath), so the snippets' tokens do not come from this project's code.

Usage: jwt_tokens.py TESTCERTS_DIR
TESTCERTS_DIR holds cdbattags/lua-resty-jwt's published test keys (testcerts/:
privatekey.pem, cert-key.pem, ec_cert-key.pem, ed25519-key.pem); the ES384 set signs with
RFC 6979 A.2.6's P-384 key (below). Prints one `name token` line per
token; "valid" tokens expire in 2100, "expired" ones expired in 2017, "wrongsig" ones
carry a signature by another key (or secret) over the same header and payload.
"""
import base64, hashlib, hmac, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

VALID_EXP, EXPIRED_EXP = 4102444800, 1500000000
RFC6979_P384_X = 0x6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def part(obj):
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def sign(alg, key, header, payload):
    h = dict(header, alg=alg)
    msg = (part(h) + "." + part(payload)).encode()
    if alg.startswith("HS"):
        sig = hmac.new(key, msg, {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]).digest()
    elif alg == "RS256":
        sig = key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "ES384":
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA384())))
        sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    elif alg == "EdDSA":
        sig = key.sign(msg)
    return msg.decode() + "." + b64u(sig)


def load(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), password=None)


def main():
    certs = sys.argv[1]
    rsa_key = load(certs + "/privatekey.pem")
    ec_key = load(certs + "/ec_cert-key.pem")
    ed_key = load(certs + "/ed25519-key.pem")
    cert_key = load(certs + "/cert-key.pem")
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_ec = ec.generate_private_key(ec.SECP256R1())
    other_ed = ed25519.Ed25519PrivateKey.generate()
    # RFC 6979 A.2.6's P-384 key (lua-resty-jwt's testcerts have no P-384 key).
    p384_key = ec.derive_private_key(RFC6979_P384_X, ec.SECP384R1())
    other_p384 = ec.generate_private_key(ec.SECP384R1())
    sets = {
        # name: (alg, key, wrong key, header, payload)
        "hs_sd": ("HS256", b"@OB0l=5#LOJdLTdRg&hfjYgTqG%K*K7V5", b"another secret", {"typ": "JWT"}, {"instance": "gpu-7", "sub": "alice"}),
        "hs_api": ("HS256", b"lua-resty-jwt", b"not the secret", {"typ": "JWT"}, {"foo": "bar", "uid": 42}),
        "hs_ctf": ("HS256", b"ctf-secret-key", b"guessed-key", {"typ": "JWT"}, {"login": "pilot"}),
        "hs_sub": ("HS256", b"lua-resty-jwt", b"wrong", {"typ": "JWT"}, {"foo": "bar", "sub": "Test Subject"}),
        "hs_iss": ("HS256", b"lua-resty-jwt", b"wrong", {"typ": "JWT"}, {"foo": "bar", "iss": "hello"}),
        "hs_kid": ("HS256", b"lua-resty-jwt", b"another-secret", {"typ": "JWT", "kid": "lua-resty-kid"}, {"foo": "bar"}),
        "rs": ("RS256", rsa_key, other_rsa, {"typ": "JWT"}, {"iss": "test", "sub": "alice", "roles": ["admin"]}),
        "rs_cert": ("RS256", cert_key, other_rsa, {"typ": "JWT"}, {"foo": "bar"}),
        "rs_jwks": ("RS256", rsa_key, other_rsa, {"typ": "JWT", "kid": "rsa-1"}, {"iss": "https://idp.example", "sub": "alice", "aud": "orders"}),
        "es": ("ES256", ec_key, other_ec, {"typ": "JWT"}, {"iss": "test", "sub": "bob"}),
        "es_jwks": ("ES256", ec_key, other_ec, {"typ": "JWT", "kid": "ec-1"}, {"iss": "https://idp.example", "sub": "bob", "aud": "orders"}),
        "ed": ("EdDSA", ed_key, other_ed, {"typ": "JWT"}, {"sub": "carol"}),
        "es384": ("ES384", p384_key, other_p384, {"typ": "JWT"}, {"iss": "test", "sub": "dave"}),
    }
    for name, (alg, key, wrong, header, payload) in sets.items():
        print(name + "_valid", sign(alg, key, header, dict(payload, exp=VALID_EXP)))
        print(name + "_expired", sign(alg, key, header, dict(payload, exp=EXPIRED_EXP)))
        print(name + "_wrongsig", sign(alg, wrong, header, dict(payload, exp=VALID_EXP)))


if __name__ == "__main__":
    main()
