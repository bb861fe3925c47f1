-- resty.openssl.pkey (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/pkey.lua), as
-- far as JWT/JWS/JWK work needs it: new(text, { format = 'PEM'|'DER'|'JWK'|'*', type =
-- 'pu'|'pr'|'*' }) for RSA, EC P-256/P-384 and Ed25519 keys; :sign / :verify (a string
-- or a resty.openssl.digest instance; RSA PKCS#1 v1.5 or PSS padding, ECDSA in DER or,
-- with opts.ecdsa_use_raw, raw r||s; EdDSA); :tostring / :to_PEM (PEM, DER, JWK; PKCS#1
-- PEM for RSA); :get_parameters (bn objects, as the original); :get_key_type,
-- :get_size, :is_private, :get_default_digest_type; istype. The keys and arithmetic are
-- RustCrypto's (src/lua/modules/crypto.rs). Key generation (new() / new({type=...})),
-- encrypt/decrypt, sign_raw and derive are not provided: they return
-- nil, "... is not supported here".
local _, native = ...
local pkey_load, pkey_info = native.pkey_load, native.pkey_info
local pkey_sign, pkey_verify = native.pkey_sign, native.pkey_verify
local pkey_export, pkey_params = native.pkey_export, native.pkey_params
local der2raw, raw2der = native.ecdsa_der2raw, native.ecdsa_raw2der

local _M = {}
local mt = { __index = _M }

-- OpenSSL's objects for the key types (OBJ_nid2obj): nid, short and long name, OID.
local key_types = {
  [6] = { id = '1.2.840.113549.1.1.1', nid = 6, sn = 'rsaEncryption', ln = 'rsaEncryption' },
  [408] = { id = '1.2.840.10045.2.1', nid = 408, sn = 'id-ecPublicKey', ln = 'id-ecPublicKey' },
  [1087] = { id = '1.3.101.112', nid = 1087, sn = 'ED25519', ln = 'ED25519' },
}

_M.KEY_TYPES = key_types

local function wrap(ctx)
  local nid, _, private, bits, curve, curve_nid, curve_size = pkey_info(ctx)
  return setmetatable({
    ctx = ctx,
    key_type = nid,
    bits = bits,
    private = private,
    curve = curve,
    curve_nid = curve_nid,
    curve_size = curve_size,
  }, mt)
end
_M.wrap = wrap

function _M.new(s, opts)
  if s == nil or type(s) == 'table' then
    return nil, 'pkey.new:new_key: key generation is not supported here'
  elseif type(s) ~= 'string' then
    return nil, 'pkey.new: unexpected type ' .. type(s) .. ' at #1'
  end
  opts = opts or {}
  local fmt = opts.format or '*'
  if fmt ~= 'PEM' and fmt ~= 'DER' and fmt ~= 'JWK' and fmt ~= '*' then
    return nil, 'pkey.new:load_key: expecting \'DER\', \'PEM\', \'JWK\' or \'*\' as "format"'
  end
  local typ = opts.type or '*'
  if typ ~= 'pu' and typ ~= 'pr' and typ ~= '*' then
    return nil, 'pkey.new:load_key: expecting \'pr\', \'pu\' or \'*\' as "type"'
  end
  if opts.passphrase ~= nil and type(opts.passphrase) ~= 'string' then
    return nil, 'pkey.new:load_key: passphrase must be a string'
  end
  local ctx, err = pkey_load(s, fmt, typ)
  if not ctx then
    return nil, 'pkey.new:load_key: ' .. err
  end
  return wrap(ctx)
end

function _M.istype(l)
  return type(l) == 'table' and getmetatable(l) == mt
end

function _M:get_key_type(nid_only)
  local t = key_types[self.key_type]
  if nid_only then
    return t.nid
  end
  return { id = t.id, nid = t.nid, sn = t.sn, ln = t.ln }
end

-- EVP_PKEY_size: the largest signature in bytes.
function _M:get_size()
  if self.key_type == 6 then
    return math.floor((self.bits + 7) / 8)
  elseif self.key_type == 408 then
    return self.curve_size == 32 and 72 or 104
  end
  return 64
end

function _M:get_default_digest_type()
  if self.key_type == 1087 then
    return nil, 'operation is not supported by the public key algorithm'
  end
  return { id = '2.16.840.1.101.3.4.2.1', nid = 672, sn = 'SHA256', ln = 'sha256' }
end

function _M:get_provider_name()
  return 'default'
end

function _M:is_private()
  return self.private
end

function _M:get_parameters()
  local raw = pkey_params(self.ctx)
  if self.key_type == 1087 then
    return raw
  end
  local bn = require('resty.openssl.bn')
  local out = {}
  for k, v in pairs(raw) do
    out[k] = bn.from_binary(v)
  end
  if self.key_type == 408 then
    out.group = self.curve_nid
  end
  return out
end

function _M:set_parameters()
  return nil, 'pkey:set_parameters: setting key parameters is not supported here'
end

local function message_of(digest, md_alg)
  if type(digest) == 'string' then
    return digest, md_alg
  end
  local digest_lib = require('resty.openssl.digest')
  if digest_lib.istype(digest) then
    return digest:data(), digest.dtyp
  end
  return nil
end

function _M:sign(digest, md_alg, padding, opts)
  if not self.private then
    return nil, 'pkey:sign: missing private key'
  end
  local data, md = message_of(digest, md_alg)
  if not data then
    return nil, 'pkey:sign: expect a digest instance or a string at #1'
  end
  if self.key_type == 1087 and md ~= nil then
    return nil, 'pkey:sign_verify_prepare: Init failed'
  end
  local sig, err = pkey_sign(self.ctx, data, md, padding)
  if not sig then
    return nil, err
  end
  if self.key_type == 408 and opts and opts.ecdsa_use_raw then
    sig, err = der2raw(sig, self.curve_size)
    if not sig then
      return nil, 'pkey:sign: ecdsa.sig_der2raw: ' .. err
    end
  end
  return sig
end

function _M:verify(signature, digest, md_alg, padding, opts)
  if type(signature) ~= 'string' then
    return nil, 'pkey:verify: expect a string at #1'
  end
  if self.key_type == 408 and opts and opts.ecdsa_use_raw then
    local der, err = raw2der(signature, self.curve_size)
    if not der then
      return nil, 'pkey:sign: ecdsa.sig_raw2der: ' .. err
    end
    signature = der
  end
  local data, md = message_of(digest, md_alg)
  if not data then
    return nil, 'pkey:verify: expect a digest instance or a string at #2'
  end
  if self.key_type == 1087 and md ~= nil then
    return nil, 'pkey:sign_verify_prepare: Init failed'
  end
  return pkey_verify(self.ctx, signature, data, md, padding)
end

-- lua-resty-openssl 1.9.0 pkey.lua: pub_or_priv is 'private'/'PrivateKey', or
-- nil/'public'/'PublicKey'; fmt 'JWK', 'DER' (a private key as i2d_PrivateKey writes
-- it: PKCS#1 for RSA, SEC1 for EC, PKCS#8 for Ed25519), anything else PEM.
function _M:tostring(pub_or_priv, fmt, is_pkcs1)
  local is_priv
  if pub_or_priv == 'private' or pub_or_priv == 'PrivateKey' then
    is_priv = true
  elseif not pub_or_priv or pub_or_priv == 'public' or pub_or_priv == 'PublicKey' then
    is_priv = false
  else
    return nil, 'pkey:tostring: can only export private or public key, not ' .. tostring(pub_or_priv)
  end
  if fmt ~= 'JWK' and fmt ~= 'DER' then
    fmt = 'PEM'
  end
  if is_pkcs1 and (self.key_type ~= 6 or fmt ~= 'PEM') then
    return nil, 'PKCS#1 format is only supported to encode RSA key in "PEM" format'
  end
  return pkey_export(self.ctx, is_priv, fmt, is_pkcs1)
end

function _M:to_PEM(is_priv, is_pkcs1)
  return self:tostring(is_priv or 'public', 'PEM', is_pkcs1)
end

local function unsupported(name)
  return function()
    return nil, 'pkey:' .. name .. ': not supported here'
  end
end
_M.encrypt = unsupported('encrypt')
_M.decrypt = unsupported('decrypt')
_M.sign_raw = unsupported('sign_raw')
_M.verify_raw = unsupported('verify_raw')
_M.verify_recover = unsupported('verify_recover')
_M.derive = unsupported('derive')

return _M
