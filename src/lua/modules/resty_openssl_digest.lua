-- resty.openssl.digest (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/digest.lua):
-- new(typ), :update(...), :final(s), :reset(), istype. The data is kept until :final()
-- and hashed there by the native digest (src/lua/modules/crypto.rs: md5, sha1,
-- sha224, sha256, sha384, sha512). Errors as the original with OpenSSL 3.0.22
-- (observed under luajit with the real module): 'digest.new: invalid digest type "x": '
-- followed by OpenSSL's error line for a failed fetch.
local _, native = ...
local digest = native.digest

local _M = {}
local mt = { __index = _M }

function _M.new(typ, properties)
  typ = typ or 'sha1'
  if type(typ) ~= 'string' or not digest(typ, '') then
    return nil, string.format('digest.new: invalid digest type "%s": error:308010C:digital envelope routines:inner_evp_generic_fetch:unsupported:crypto/evp/evp_fetch.c:386:', tostring(typ))
  end
  return setmetatable({ dtyp = typ, buf = {} }, mt)
end

function _M.istype(l)
  return type(l) == 'table' and getmetatable(l) == mt
end

function _M:get_provider_name()
  return 'default'
end

function _M:update(...)
  for _, s in ipairs({ ... }) do
    self.buf[#self.buf + 1] = tostring(s)
  end
  return true
end

-- The data given so far (resty.openssl.pkey signs a digest instance's data).
function _M:data()
  return table.concat(self.buf)
end

function _M:final(s)
  if s then
    self.buf[#self.buf + 1] = tostring(s)
  end
  local out = digest(self.dtyp, table.concat(self.buf))
  self.buf = {}
  return out
end

function _M:reset()
  self.buf = {}
  return true
end

return _M
