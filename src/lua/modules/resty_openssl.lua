-- resty.openssl (fffonion/lua-resty-openssl 1.x, lib/resty/openssl.lua): the base
-- module. Here it names the submodules there are (digest, hmac, rand, pkey, bn, x509)
-- and loads them with load_modules(); the arithmetic is RustCrypto's
-- (src/lua/modules/crypto.rs), not OpenSSL, so the version fields name no OpenSSL.
local _M = {
  _VERSION = '1.5.1',
  OPENSSL_3X = true,
  OPENSSL_30 = true,
}

local submodules = { 'bn', 'digest', 'hmac', 'pkey', 'rand', 'x509' }

function _M.load_modules()
  for _, name in ipairs(submodules) do
    _M[name] = require('resty.openssl.' .. name)
  end
  _M.version = { version_num = 0x30000000, version_text = 'RustCrypto (rsa, p256, p384, ed25519-dalek)' }
  return _M
end

function _M.get_fips_mode()
  return false
end

function _M.set_fips_mode()
  return false, 'openssl.set_fips_mode: FIPS mode is not available'
end

function _M.luaossl_compat()
  return _M
end

return _M
