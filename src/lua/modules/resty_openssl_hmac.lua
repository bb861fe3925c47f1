-- resty.openssl.hmac (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/hmac.lua):
-- new(key, typ), :update(...), :final(s), :reset(), istype. HMAC from the native helper
-- (src/lua/modules/crypto.rs). Errors as the original:
-- 'hmac.new: invalid digest type "x"'.
local _, native = ...
local hmac = native.hmac

local _M = {}
local mt = { __index = _M }

function _M.new(key, typ)
  typ = typ or 'sha1'
  if type(typ) ~= 'string' or not hmac(typ, '', '') then
    return nil, string.format('hmac.new: invalid digest type "%s"', tostring(typ))
  end
  return setmetatable({ key = tostring(key or ''), dtyp = typ, buf = {} }, mt)
end

function _M.istype(l)
  return type(l) == 'table' and getmetatable(l) == mt
end

function _M:update(...)
  for _, s in ipairs({ ... }) do
    self.buf[#self.buf + 1] = tostring(s)
  end
  return true
end

function _M:final(s)
  if s then
    self.buf[#self.buf + 1] = tostring(s)
  end
  local out = hmac(self.dtyp, self.key, table.concat(self.buf))
  self.buf = {}
  return out
end

function _M:reset()
  self.buf = {}
  return true
end

return _M
