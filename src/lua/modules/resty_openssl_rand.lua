-- resty.openssl.rand (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/rand.lua):
-- bytes(length, private, strength). OpenSSL's RAND_bytes becomes WASI random_get (the
-- host's CSPRNG), as resty.random here.
local _, native = ...
local random_bytes = native.random_bytes

local _M = {}

function _M.bytes(length, private, strength)
  if type(length) ~= 'number' then
    return nil, 'rand.bytes: expect a number at #1'
  end
  local out = random_bytes(length)
  if not out then
    return nil, 'rand.bytes: RAND_bytes() failed'
  end
  return out
end

return _M
