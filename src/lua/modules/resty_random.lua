-- resty.random (openresty/lua-resty-string 0.17, lib/resty/random.lua): bytes(len,
-- strong). OpenSSL's RAND_bytes / RAND_pseudo_bytes become WASI random_get (the host's
-- CSPRNG) for both; nil when the host refuses, as RAND_bytes failing.
local _, native = ...
local random_bytes = native.random_bytes

local M = { _VERSION = '0.17' }

function M.bytes(len, strong)
  return random_bytes(len)
end

return M
