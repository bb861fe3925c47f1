-- resty.jit-uuid (thibaultcha/lua-resty-jit-uuid 0.0.7, lib/resty/jit-uuid.lua): seed,
-- is_valid, generate_v4 (also the module's __call), generate_v3/v5, factory_v3/v5.
-- generate_v4 draws its bytes from WASI random_get instead of math.random, so UUIDs do
-- not repeat across workers whatever the seed; seed() still seeds math.random and
-- returns the seed, as the original.
local _, native = ...
local random_bytes = native.random_bytes
local bit = require 'bit'
local tohex, band, bor = bit.tohex, bit.band, bit.bor
local byte, char, sub, fmt, find = string.byte, string.char, string.sub, string.format, string.find
local type, tonumber, concat = type, tonumber, table.concat

local M = { _VERSION = '0.0.7' }

function M.seed(seed)
  if not seed then
    seed = ngx.time() + ngx.worker.pid()
  end
  math.randomseed(seed)
  return seed
end

-- The ngx_lua branch: PCRE, lowercase hex, variant 8-b, any version.
local valid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
function M.is_valid(str)
  if type(str) ~= 'string' or #str ~= 36 then
    return false
  end
  return ngx.re.find(str, valid, 'ioj') ~= nil
end

function M.generate_v4()
  local b = random_bytes(16) or error('could not get random bytes', 2)
  local hex = {}
  for i = 1, 16 do
    local v = byte(b, i)
    if i == 7 then v = bor(band(v, 0x0F), 0x40) end
    if i == 9 then v = bor(band(v, 0x3F), 0x80) end
    hex[i] = tohex(v, 2)
  end
  return fmt('%s%s%s%s-%s%s-%s%s-%s%s-%s%s%s%s%s%s', hex[1], hex[2], hex[3], hex[4], hex[5], hex[6],
    hex[7], hex[8], hex[9], hex[10], hex[11], hex[12], hex[13], hex[14], hex[15], hex[16])
end

local function factory(namespace, hash_fn)
  if not M.is_valid(namespace) then
    return nil, 'namespace must be a valid UUID'
  end
  local buf = {}
  for pair in string.gmatch(string.lower(namespace), '%x%x') do
    buf[#buf + 1] = char(tonumber(pair, 16))
  end
  local ns = concat(buf)
  return function(name)
    if type(name) ~= 'string' then
      return nil, 'name must be a string'
    end
    local hash, ver, var = hash_fn(ns, name)
    return (fmt('%s-%s-%s%s-%s%s-%s', sub(hash, 1, 8), sub(hash, 9, 12), ver, sub(hash, 15, 16),
      var, sub(hash, 19, 20), sub(hash, 21, 32)))
  end
end

local function hex_of(s)
  return (string.gsub(s, '.', function(c) return fmt('%02x', byte(c)) end))
end

local function v3_hash(binary, name)
  local hash = ngx.md5(binary .. name)
  return hash, tohex(bor(band(tonumber(sub(hash, 13, 14), 16), 0x0F), 0x30), 2),
    tohex(bor(band(tonumber(sub(hash, 17, 18), 16), 0x3F), 0x80), 2)
end

local function v5_hash(binary, name)
  local hash = hex_of(ngx.sha1_bin(binary .. name))
  return hash, tohex(bor(band(tonumber(sub(hash, 13, 14), 16), 0x0F), 0x50), 2),
    tohex(bor(band(tonumber(sub(hash, 17, 18), 16), 0x3F), 0x80), 2)
end

function M.factory_v3(namespace)
  return factory(namespace, v3_hash)
end

function M.factory_v5(namespace)
  return factory(namespace, v5_hash)
end

function M.generate_v3(namespace, name)
  local fact, err = M.factory_v3(namespace)
  if not fact then
    return nil, err
  end
  return fact(name)
end

function M.generate_v5(namespace, name)
  local fact, err = M.factory_v5(namespace)
  if not fact then
    return nil, err
  end
  return fact(name)
end

return setmetatable(M, { __call = M.generate_v4 })
