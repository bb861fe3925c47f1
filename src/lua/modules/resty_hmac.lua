-- resty.hmac (jkeys089/lua-resty-hmac 0.06, lib/resty/hmac.lua): hmac:new(key,
-- hash_algo) with hmac.ALGOS (MD5 the default), :update(s), :final(s, hex_output)
-- (lowercase hex as resty.string's to_hex), :reset(). HMAC from the native helper
-- (src/lua/modules/crypto.rs) where the original calls OpenSSL's HMAC_* through FFI.
local _, native = ...
local hmac = native.hmac

local _M = { _VERSION = '0.06' }
local mt = { __index = _M }

_M.ALGOS = { MD5 = 'md5', SHA1 = 'sha1', SHA256 = 'sha256', SHA384 = 'sha384', SHA512 = 'sha512' }

function _M.new(self, key, hash_algo)
  return setmetatable({ _key = key, _algo = hash_algo or _M.ALGOS.MD5, _buf = {} }, mt)
end

function _M.update(self, s)
  self._buf[#self._buf + 1] = s
  return true
end

function _M.final(self, s, hex_output)
  if s ~= nil then
    self._buf[#self._buf + 1] = s
  end
  local out = hmac(self._algo, self._key, table.concat(self._buf))
  self._buf = {}
  if not out then
    return nil
  end
  if hex_output == true then
    return (out:gsub('.', function(c) return string.format('%02x', c:byte()) end))
  end
  return out
end

function _M.reset(self)
  self._buf = {}
  return true
end

return _M
