-- resty.evp (cdbattags/lua-resty-jwt 0.3.x, lib/resty/evp.lua): CONST, RSASigner,
-- ECSigner (with :get_raw_sig), RSAVerifier, ECVerifier (with :get_der_sig), Cert
-- (:get_der, :get_fingerprint, :get_public_key, :verify_trust) and PublicKey, on
-- resty.openssl.pkey / resty.openssl.x509 here (RustCrypto) where the original calls
-- OpenSSL's EVP through FFI. Errors: the original's own words ("Verification failed",
-- "signature length != 2 * order length", "Must pass ...") and OpenSSL's reasons for
-- unreadable keys ("no start line", "unsupported"). Each :new returns a new object
-- (the original stores the key on the class table itself). RSAEncryptor/RSADecryptor
-- (JWE) and Cert:verify_trust against CA files (no file system) are not provided.
local _, native = ...
local pkey_lib = require('resty.openssl.pkey')
local x509_lib = require('resty.openssl.x509')

local _M = { _VERSION = '0.3.2' }

local CONST = {
  SHA1_DIGEST = 'SHA1',
  SHA256_DIGEST = 'SHA256',
  SHA384_DIGEST = 'SHA384',
  SHA512_DIGEST = 'SHA512',
  RSA_PKCS1_PADDING = 1,
  RSA_SSLV23_PADDING = 2,
  RSA_NO_PADDING = 3,
  RSA_PKCS1_OAEP_PADDING = 4,
  RSA_X931_PADDING = 5,
  RSA_PKCS1_PSS_PADDING = 6,
  NID_rsaEncryption = 6,
  EVP_PKEY_RSA = 6,
  EVP_PKEY_ALG_CTRL = 0x1000,
  EVP_PKEY_CTRL_RSA_PADDING = 0x1000 + 1,
  EVP_PKEY_OP_TYPE_CRYPT = 768,
  EVP_PKEY_CTRL_RSA_OAEP_MD = 0x1000 + 9,
}
_M.CONST = CONST

local function instance(class, fields)
  return setmetatable(fields, { __index = class })
end

-- OpenSSL's reason for a failed key load, without lua-resty-openssl's prefix.
local function reason(err)
  return (tostring(err):gsub('^pkey%.new:load_key: ', ''))
end

local function sign(self, message, digest_name)
  local sig, err = self.pkey:sign(message, digest_name, self.padding)
  if not sig then
    return nil, err
  end
  return sig, nil
end

local RSASigner = { algo = 'RSA' }
_M.RSASigner = RSASigner

function RSASigner.new(self, pem_private_key, password, padding)
  local pk, err = pkey_lib.new(pem_private_key, { type = 'pr', passphrase = password })
  if not pk then
    return nil, reason(err)
  end
  return instance(self, { pkey = pk, evp_pkey = pk, padding = padding }), nil
end

RSASigner.sign = sign

local ECSigner = { algo = 'ECDSA' }
_M.ECSigner = ECSigner

function ECSigner.new(self, pem_private_key, password)
  return RSASigner.new(self, pem_private_key, password)
end

ECSigner.sign = sign

function ECSigner.get_raw_sig(self, signature)
  if not signature then
    return nil, 'Must pass a signature to convert'
  end
  return native.ecdsa_der2raw(signature, self.pkey.curve_size)
end

local RSAVerifier = {}
_M.RSAVerifier = RSAVerifier

function RSAVerifier.new(self, key_source, padding)
  if not key_source then
    return nil, 'You must pass in an key_source for a public key'
  end
  return instance(self, { pkey = key_source.public_key, evp_pkey = key_source.public_key, padding = padding }), nil
end

function RSAVerifier.verify(self, message, sig, digest_name)
  local ok = self.pkey:verify(sig, message, digest_name, self.padding)
  if ok then
    return true, nil
  end
  return false, 'Verification failed'
end

local ECVerifier = {}
_M.ECVerifier = ECVerifier

function ECVerifier.new(self, key_source)
  return RSAVerifier.new(self, key_source)
end

function ECVerifier.verify(self, message, sig, digest_name)
  local der_sig, err = self:get_der_sig(sig)
  if not der_sig then
    return nil, err
  end
  return RSAVerifier.verify(self, message, der_sig, digest_name)
end

function ECVerifier.get_der_sig(self, signature)
  if not signature then
    return nil, 'Must pass a signature to convert'
  end
  local size = self.pkey.curve_size or 0
  if #signature ~= 2 * size then
    return nil, 'signature length != 2 * order length'
  end
  return native.ecdsa_raw2der(signature, size)
end

local Cert = {}
_M.Cert = Cert

function Cert.new(self, payload)
  if not payload then
    return nil, 'Must pass a PEM or binary DER cert'
  end
  local cert, err = x509_lib.new(payload)
  if not cert then
    return nil, (tostring(err):gsub('^x509%.new: ', ''))
  end
  local public_key, perr = cert:get_pubkey()
  if not public_key then
    return nil, perr
  end
  return instance(self, { x509 = cert, public_key = public_key }), nil
end

function Cert.get_der(self)
  return self.x509:tostring('DER'), nil
end

function Cert.get_fingerprint(self, digest_name)
  local raw, err = self.x509:digest(digest_name)
  if not raw then
    return nil, err
  end
  local t = {}
  for i = 1, #raw do
    t[i] = string.format('%02X', raw:byte(i))
  end
  return table.concat(t, ':'), nil
end

function Cert.get_public_key(self)
  return self.public_key, nil
end

function Cert.verify_trust(self, trusted_cert_file)
  return false, 'unable to load certificates from ' .. tostring(trusted_cert_file) .. ': no file system here'
end

local PublicKey = {}
_M.PublicKey = PublicKey

function PublicKey.new(self, payload)
  if not payload then
    return nil, 'Must pass a PEM or binary DER public key'
  end
  local pk, err = pkey_lib.new(payload, { type = 'pu', format = payload:find('-----BEGIN', 1, true) and 'PEM' or 'DER' })
  if not pk then
    return nil, reason(err)
  end
  return instance(self, { public_key = pk }), nil
end

return _M
