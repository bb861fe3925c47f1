-- resty.jwt (cdbattags/lua-resty-jwt 0.3.x, lib/resty/jwt.lua), its JWS part: jwt:sign,
-- jwt:verify, jwt:load_jwt, jwt:verify_jwt_obj, jwt_encode / jwt_decode,
-- set_alg_whitelist, set_payload_encoder / decoder, set_x5u_content_retriever,
-- set_trusted_certs_file, get_default_validation_options; algorithms HS256/384/512,
-- RS256/384/512, PS256/384/512, ES256/384 and EdDSA (Ed25519), with the original's
-- reasons ("signature mismatch: ...", "Verification failed", "invalid jwt string",
-- "'exp' claim expired at ...", "everything is awesome~ :p"). Signatures come from
-- resty.hmac, resty.evp and resty.openssl.pkey here (RustCrypto). JWE tokens (4 or 5
-- parts) are refused with reason "JWE is not supported here"; ES512 (P-521) and Ed448
-- keys do not load.
local cjson = require('cjson.safe')
local evp = require('resty.evp')
local hmac = require('resty.hmac')
local pkey = require('resty.openssl.pkey')

local _M = { _VERSION = '0.3.2' }
local mt = { __index = _M }

local string_format = string.format
local cjson_encode, cjson_decode = cjson.encode, cjson.decode

local everything_awesome = 'everything is awesome~ :p'
local invalid_jwt = 'invalid jwt string'

local function split_string(str, delim)
  local result = {}
  for m in str:gmatch('([^' .. delim .. ']+)') do
    result[#result + 1] = m
  end
  return result
end

local function is_nil_or_boolean(v)
  return v == nil or type(v) == 'boolean'
end

local function payload_encoder(self)
  return self.payload_encoder or cjson_encode
end

local function payload_decoder(self)
  return self.payload_decoder or cjson_decode
end

function _M.jwt_encode(self, ori, is_payload)
  if type(ori) == 'table' then
    ori = is_payload and payload_encoder(self)(ori) or cjson_encode(ori)
  end
  return (ngx.encode_base64(ori):gsub('%+', '-'):gsub('/', '_'):gsub('=', ''))
end

function _M.jwt_decode(self, b64_str, json_decode, is_payload)
  b64_str = b64_str:gsub('%-', '+'):gsub('_', '/')
  local rem = #b64_str % 4
  if rem > 0 then
    b64_str = b64_str .. string.rep('=', 4 - rem)
  end
  local data = ngx.decode_base64(b64_str)
  if not data then
    return nil
  end
  if json_decode then
    data = is_payload and payload_decoder(self)(data) or cjson_decode(data)
  end
  return data
end

local function get_raw_part(part_name, jwt_obj)
  local raw = jwt_obj['raw_' .. part_name]
  if raw == nil then
    local part = jwt_obj[part_name]
    if part == nil then
      error({ reason = 'missing part ' .. part_name })
    end
    raw = _M:jwt_encode(part)
  end
  return raw
end

local function parse_jwt(self, encoded_header, encoded_payload, signature)
  local header = _M:jwt_decode(encoded_header, true)
  if not header then
    error({ reason = 'invalid header: ' .. encoded_header })
  end
  -- JSON first; a payload that is not JSON stays a string (RFC 7515).
  local payload = _M.jwt_decode(self, encoded_payload, true, true)
  if not payload then
    payload = _M:jwt_decode(encoded_payload, false)
    if not payload then
      error({ reason = 'invalid payload: ' .. encoded_payload })
    end
  end
  return {
    typ = 'JWT',
    raw_header = encoded_header,
    raw_payload = encoded_payload,
    header = header,
    payload = payload,
    signature = signature,
  }
end

local function parse(self, secret, token_str)
  local tokens = split_string(token_str, '%.')
  local n = #tokens
  if n == 3 then
    return parse_jwt(self, tokens[1], tokens[2], tokens[3])
  elseif n == 4 or n == 5 then
    error({ reason = 'JWE is not supported here' })
  end
  error({ reason = invalid_jwt })
end

local function get_secret_str(secret_or_function, jwt_obj)
  if type(secret_or_function) == 'function' then
    local alg = jwt_obj.header.alg
    if alg ~= 'HS256' and alg ~= 'HS384' and alg ~= 'HS512' then
      error({ reason = 'secret function can only be used with hmac alg: ' .. alg })
    end
    local kid = jwt_obj.header.kid
    if kid == nil then
      error({ reason = 'secret function specified without kid in header' })
    end
    return secret_or_function(kid) or error({ reason = 'function returned nil for kid: ' .. kid })
  elseif type(secret_or_function) == 'string' then
    return secret_or_function
  end
  error({ reason = 'invalid secret type (must be string or function)' })
end

local hmac_algos = { HS256 = 'SHA256', HS384 = 'SHA384', HS512 = 'SHA512' }
local digest_of = {
  RS256 = 'SHA256', RS384 = 'SHA384', RS512 = 'SHA512',
  PS256 = 'SHA256', PS384 = 'SHA384', PS512 = 'SHA512',
  ES256 = 'SHA256', ES384 = 'SHA384', ES512 = 'SHA512',
}

function _M.sign(self, secret_key, jwt_obj)
  local typ = jwt_obj.header.typ
  if typ ~= nil and typ ~= 'JWT' and typ ~= 'JWE' then
    error({ reason = 'invalid typ: ' .. typ })
  end
  if jwt_obj.typ == 'JWE' or (jwt_obj.typ == nil and (typ == 'JWE' or jwt_obj.header.enc)) then
    error({ reason = 'JWE is not supported here' })
  end
  local raw_header = get_raw_part('header', jwt_obj)
  local raw_payload = get_raw_part('payload', jwt_obj)
  local message = string_format('%s.%s', raw_header, raw_payload)
  local alg = jwt_obj.header.alg
  local signature
  if hmac_algos[alg] then
    local secret_str = get_secret_str(secret_key, jwt_obj)
    signature = hmac:new(secret_str, hmac.ALGOS[hmac_algos[alg]]):final(message)
  elseif alg == 'RS256' or alg == 'RS384' or alg == 'RS512' or alg == 'PS256' or alg == 'PS384' or alg == 'PS512' then
    local signer, err
    if alg:sub(1, 1) == 'P' then
      signer, err = evp.RSASigner:new(secret_key, nil, evp.CONST.RSA_PKCS1_PSS_PADDING)
    else
      signer, err = evp.RSASigner:new(secret_key)
    end
    if not signer then
      error({ reason = 'signer error: ' .. err })
    end
    signature = signer:sign(message, digest_of[alg])
  elseif alg == 'ES256' or alg == 'ES384' or alg == 'ES512' then
    local signer, err = evp.ECSigner:new(secret_key)
    if not signer then
      error({ reason = 'signer error: ' .. err })
    end
    local der_signature = signer:sign(message, digest_of[alg])
    signature, err = signer:get_raw_sig(der_signature)
    if not signature then
      error({ reason = 'signature error: ' .. err })
    end
  elseif alg == 'Ed25519' or alg == 'Ed448' or alg == 'EdDSA' then
    local pk, err = pkey.new(secret_key)
    if not pk then
      error({ reason = 'failed to load EdDSA private key: ' .. (err or '') })
    end
    signature, err = pk:sign(message)
    if not signature then
      error({ reason = 'EdDSA sign error: ' .. (err or '') })
    end
  else
    error({ reason = 'unsupported alg: ' .. tostring(alg) })
  end
  return string_format('%s.%s', message, _M:jwt_encode(signature))
end

function _M.load_jwt(self, jwt_str, secret)
  local ok, ret = pcall(parse, self, secret, jwt_str)
  if not ok then
    return { valid = false, verified = false, reason = type(ret) == 'table' and ret.reason or invalid_jwt }
  end
  ret.verified = false
  ret.valid = true
  return ret
end

local function extract_certificate(jwt_obj, x5u_content_retriever)
  local x5c = jwt_obj.header.x5c
  if x5c ~= nil and x5c[1] ~= nil then
    local cert_str = ngx.decode_base64(x5c[1])
    if not cert_str then
      jwt_obj.reason = 'Malformed x5c header'
    end
    return cert_str
  end
  local x5u = jwt_obj.header.x5u
  if x5u ~= nil then
    if x5u_content_retriever == nil then
      jwt_obj.reason = "No function has been provided to retrieve the content pointed at by the 'x5u'."
      return nil
    end
    local ok, ret = pcall(x5u_content_retriever, x5u, type(jwt_obj.payload) == 'table' and jwt_obj.payload.iss or nil, jwt_obj.header.kid)
    if not ok then
      jwt_obj.reason = 'An error occured while invoking the x5u_content_retriever function.'
      return nil
    end
    return ret
  end
  jwt_obj.reason = 'Unsupported RS256 key model'
  return nil
end

local function claim_spec_from_legacy_options(options)
  local spec = {}
  local v = require('resty.jwt-validators')
  if options.valid_issuers ~= nil then
    spec.iss = v.equals_any_of(options.valid_issuers)
  end
  if options.lifetime_grace_period ~= nil then
    v.set_system_leeway(options.lifetime_grace_period or 0)
    if options.require_nbf_claim ~= true and options.require_exp_claim ~= true then
      spec.__jwt = v.require_one_of({ 'nbf', 'exp' })
    end
  end
  if not is_nil_or_boolean(options.require_nbf_claim) then
    error("'require_nbf_claim' validation option is expected to be a boolean.", 0)
  end
  if not is_nil_or_boolean(options.require_exp_claim) then
    error("'require_exp_claim' validation option is expected to be a boolean.", 0)
  end
  if options.lifetime_grace_period ~= nil or options.require_nbf_claim ~= nil or options.require_exp_claim ~= nil then
    spec.nbf = options.require_nbf_claim == true and v.is_not_before() or v.opt_is_not_before()
    spec.exp = options.require_exp_claim == true and v.is_not_expired() or v.opt_is_not_expired()
  end
  return spec
end

local legacy_keys = { valid_issuers = 1, lifetime_grace_period = 1, require_nbf_claim = 1, require_exp_claim = 1 }

local function is_legacy_validation_options(options)
  if type(options) ~= 'table' then
    return false
  end
  local legacy = false
  for k in pairs(options) do
    if legacy_keys[k] ~= nil then
      legacy = true
    else
      return false
    end
  end
  return legacy
end

local function validate_claims(self, jwt_obj, ...)
  local specs = { ... }
  if #specs == 0 then
    specs[1] = _M:get_default_validation_options(jwt_obj)
  end
  if jwt_obj.reason ~= nil then
    return false
  end
  local jwt_json = cjson_encode(jwt_obj)
  for _, spec in ipairs(specs) do
    if is_legacy_validation_options(spec) then
      spec = claim_spec_from_legacy_options(spec)
    end
    for claim, fx in pairs(spec) do
      if type(fx) ~= 'function' then
        error('Claim spec value must be a function - see jwt-validators.lua for helper functions', 0)
      end
      -- A payload that is not JSON stays a string, indexed through the string metatable
      -- as in the original (`exp` is nil, `sub` is string.sub).
      local val = claim == '__jwt' and cjson_decode(jwt_json) or jwt_obj.payload[claim]
      local ok, ret = pcall(fx, val, claim, jwt_json)
      if not ok then
        jwt_obj.reason = type(ret) == 'table' and ret.reason or (string.gsub(tostring(ret), '^.-:%d-: ', ''))
        return false
      elseif ret == false then
        jwt_obj.reason = string_format("Claim '%s' ('%s') returned failure", claim, tostring(val))
        return false
      end
    end
  end
  return true
end

function _M.verify_jwt_obj(self, secret, jwt_obj, ...)
  if not jwt_obj.valid then
    return jwt_obj
  end
  if not validate_claims(self, jwt_obj, ...) then
    return jwt_obj
  end
  local alg = jwt_obj.header.alg
  if alg == nil then
    jwt_obj.reason = 'No algorithm supplied'
    return jwt_obj
  end
  local jwt_str = string_format('%s.%s.%s', jwt_obj.raw_header, jwt_obj.raw_payload, jwt_obj.signature)
  if self.alg_whitelist ~= nil and self.alg_whitelist[alg] == nil then
    return { verified = false, reason = 'whitelist unsupported alg: ' .. alg }
  end

  if hmac_algos[alg] then
    local ok, ret = pcall(_M.sign, self, secret, jwt_obj)
    if not ok then
      jwt_obj.reason = type(ret) == 'table' and ret.reason or 'internal error'
    elseif jwt_str ~= ret then
      jwt_obj.reason = 'signature mismatch: ' .. jwt_obj.signature
    end
  elseif digest_of[alg] then
    local cert, err
    if self.trusted_certs_file ~= nil then
      local cert_str = extract_certificate(jwt_obj, self.x5u_content_retriever)
      if not cert_str then
        return jwt_obj
      end
      cert, err = evp.Cert:new(cert_str)
      if not cert then
        jwt_obj.reason = 'Unable to extract signing cert from JWT: ' .. err
        return jwt_obj
      end
      local trusted, terr = cert:verify_trust(self.trusted_certs_file)
      if not trusted then
        jwt_obj.reason = "Cert used to sign the JWT isn't trusted: " .. tostring(terr)
        return jwt_obj
      end
    elseif secret ~= nil then
      if secret:find('CERTIFICATE') then
        cert, err = evp.Cert:new(secret)
      elseif secret:find('PUBLIC KEY') then
        cert, err = evp.PublicKey:new(secret)
      end
      if not cert then
        jwt_obj.reason = 'Decode secret is not a valid cert/public key'
        return jwt_obj
      end
    else
      jwt_obj.reason = 'No trusted certs loaded'
      return jwt_obj
    end
    local verifier
    if alg:sub(1, 1) == 'R' then
      verifier = evp.RSAVerifier:new(cert)
    elseif alg:sub(1, 1) == 'P' then
      verifier = evp.RSAVerifier:new(cert, evp.CONST.RSA_PKCS1_PSS_PADDING)
    else
      verifier = evp.ECVerifier:new(cert)
    end
    local message = string_format('%s.%s', get_raw_part('header', jwt_obj), get_raw_part('payload', jwt_obj))
    local sig = _M:jwt_decode(jwt_obj.signature, false)
    if not sig then
      jwt_obj.reason = 'Wrongly encoded signature'
      return jwt_obj
    end
    local verified, verr = verifier:verify(message, sig, digest_of[alg])
    if not verified then
      jwt_obj.reason = verr
    end
  elseif alg == 'Ed25519' or alg == 'Ed448' or alg == 'EdDSA' then
    local pk, pk_err
    if secret ~= nil then
      pk, pk_err = pkey.new(secret)
    end
    if not pk then
      jwt_obj.reason = 'Failed to load EdDSA public key: ' .. (pk_err or 'no key provided')
      return jwt_obj
    end
    local message = string_format('%s.%s', get_raw_part('header', jwt_obj), get_raw_part('payload', jwt_obj))
    local sig = _M:jwt_decode(jwt_obj.signature, false)
    if not sig then
      jwt_obj.reason = 'Wrongly encoded signature'
      return jwt_obj
    end
    local ok, verify_err = pk:verify(sig, message)
    if not ok then
      jwt_obj.reason = verify_err or 'EdDSA signature verification failed'
    end
  else
    jwt_obj.reason = 'Unsupported algorithm ' .. tostring(alg)
  end

  if not jwt_obj.reason then
    jwt_obj.verified = true
    jwt_obj.reason = everything_awesome
  end
  return jwt_obj
end

function _M.verify(self, secret, jwt_str, ...)
  local jwt_obj = _M.load_jwt(self, jwt_str, secret)
  if not jwt_obj.valid then
    return { verified = false, reason = jwt_obj.reason }
  end
  return _M.verify_jwt_obj(self, secret, jwt_obj, ...)
end

function _M.set_trusted_certs_file(self, filename)
  self.trusted_certs_file = filename
end

function _M.set_alg_whitelist(self, algorithms)
  self.alg_whitelist = algorithms
end

function _M.get_default_validation_options(self, jwt_obj)
  local p = jwt_obj.payload
  local is_table = type(p) == 'table'
  return {
    require_exp_claim = is_table and p.exp ~= nil or false,
    require_nbf_claim = is_table and p.nbf ~= nil or false,
  }
end

function _M.set_x5u_content_retriever(self, retriever_function)
  if type(retriever_function) ~= 'function' then
    error("'retriever_function' is expected to be a function", 0)
  end
  self.x5u_content_retriever = retriever_function
end

function _M.set_payload_encoder(self, encoder)
  if type(encoder) ~= 'function' then
    error({ reason = 'payload encoder must be function' })
  end
  self.payload_encoder = encoder
end

function _M.set_payload_decoder(self, decoder)
  if type(decoder) ~= 'function' then
    error({ reason = 'payload decoder must be function' })
  end
  self.payload_decoder = decoder
end

function _M.new()
  return setmetatable({}, mt)
end

return _M
