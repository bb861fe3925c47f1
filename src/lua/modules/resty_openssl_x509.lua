-- resty.openssl.x509 (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/x509/init.lua),
-- reading certificates: new(pem_or_der, fmt), :get_pubkey(), :get_subject_name(),
-- :get_issuer_name() (name objects with :find, :each, :all, :tostring, as
-- x509/name.lua), :get_not_before(), :get_not_after(), :get_lifetime(),
-- :get_serial_number() (a bn), :tostring(fmt) / :to_PEM(), :digest(typ), istype.
-- Parsing is x509-cert's (src/lua/modules/crypto.rs); chain verification, extensions
-- and building certificates are not provided.
local _, native = ...
local x509_load = native.x509_load

local _M = {}
local mt = { __index = _M }

local name_mt = {}
name_mt.__index = name_mt

-- OpenSSL's objects for the name attributes certificates use.
local attributes = {
  CN = { '2.5.4.3', 13, 'commonName' },
  C = { '2.5.4.6', 14, 'countryName' },
  L = { '2.5.4.7', 15, 'localityName' },
  ST = { '2.5.4.8', 16, 'stateOrProvinceName' },
  O = { '2.5.4.10', 17, 'organizationName' },
  OU = { '2.5.4.11', 18, 'organizationalUnitName' },
  serialNumber = { '2.5.4.5', 105, 'serialNumber' },
  emailAddress = { '1.2.840.113549.1.9.1', 48, 'emailAddress' },
  DC = { '0.9.2342.19200300.100.1.25', 391, 'domainComponent' },
}

local function entry(sn, blob)
  local a = attributes[sn] or { sn, 0, sn }
  return { id = a[1], nid = a[2], sn = sn, ln = a[3], blob = blob }
end

local function make_name(pairs_list)
  return setmetatable({ entries = pairs_list }, name_mt)
end

function name_mt:find(nid, last_pos)
  local want
  for sn, a in pairs(attributes) do
    if nid == sn or nid == a[3] or nid == a[1] or nid == a[2] then
      want = sn
    end
  end
  if not want then
    return nil, nil, 'x509.name:find: invalid NID text ' .. tostring(nid)
  end
  for i = (last_pos or 0) + 1, #self.entries do
    local e = self.entries[i]
    if e[1] == want then
      return entry(e[1], e[2]), i
    end
  end
  return nil
end

function name_mt:each()
  local i = 0
  return function()
    i = i + 1
    local e = self.entries[i]
    if e then
      return e[1], entry(e[1], e[2])
    end
  end
end

function name_mt:all()
  local ret = {}
  for k, v in self:each() do
    ret[k] = v
  end
  return ret
end

function name_mt:tostring()
  local values = {}
  for k, v in self:each() do
    values[#values + 1] = k .. '=' .. v.blob
  end
  table.sort(values)
  return table.concat(values, '/')
end
name_mt.__tostring = name_mt.tostring

function _M.new(cert, fmt, properties)
  if type(cert) ~= 'string' then
    return nil, 'x509.new: expect nil or a string at #1'
  end
  if fmt ~= nil and fmt ~= 'PEM' and fmt ~= 'DER' and fmt ~= '*' then
    return nil, "x509.new: expect 'PEM', 'DER' or '*' as \"fmt\""
  end
  local info, err = x509_load(cert)
  if not info then
    return nil, 'x509.new: ' .. err
  end
  return setmetatable({ info = info }, mt)
end

function _M.istype(l)
  return type(l) == 'table' and getmetatable(l) == mt
end

function _M:get_pubkey()
  if not self.info.pubkey then
    return nil, 'x509:get_pubkey: unsupported public key type'
  end
  return require('resty.openssl.pkey').wrap(self.info.pubkey)
end

function _M:get_subject_name()
  return make_name(self.info.subject)
end

function _M:get_issuer_name()
  return make_name(self.info.issuer)
end

function _M:get_not_before()
  return self.info.not_before
end

function _M:get_not_after()
  return self.info.not_after
end

function _M:get_lifetime()
  return self.info.not_before, self.info.not_after
end

function _M:get_serial_number()
  return require('resty.openssl.bn').from_binary(self.info.serial)
end

function _M:tostring(fmt)
  if fmt == 'DER' then
    return self.info.der
  end
  local b64 = ngx.encode_base64(self.info.der)
  local lines = { '-----BEGIN CERTIFICATE-----' }
  for i = 1, #b64, 64 do
    lines[#lines + 1] = b64:sub(i, i + 63)
  end
  lines[#lines + 1] = '-----END CERTIFICATE-----'
  return table.concat(lines, '\n') .. '\n'
end

function _M:to_PEM()
  return self:tostring('PEM')
end

function _M:digest(typ)
  local d, err = require('resty.openssl.digest').new(typ or 'sha1')
  if not d then
    return nil, err
  end
  return d:final(self.info.der)
end

return _M
