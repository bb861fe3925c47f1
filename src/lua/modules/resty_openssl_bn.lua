-- resty.openssl.bn (fffonion/lua-resty-openssl 1.x, lib/resty/openssl/bn.lua), the
-- basics: new(number | decimal string, base), from_binary, from_hex, from_dec,
-- :to_binary(pad), :to_hex, :to_dec, :tostring(base), :to_number, :is_zero, istype,
-- __eq / __lt / __le / __tostring. Numbers are kept as big-endian byte strings;
-- arithmetic (add, mul, mod_exp ...) is not provided.
local _M = {}
local mt = { __index = _M }

local function strip(b)
  local i = 1
  while i < #b and b:byte(i) == 0 do
    i = i + 1
  end
  return b:sub(i)
end

local function make(b)
  return setmetatable({ bin = strip(b) }, mt)
end

-- Multiplies the big-endian byte string b by m and adds a (small numbers).
local function muladd(b, m, a)
  local out, carry = {}, a
  for i = #b, 1, -1 do
    local v = b:byte(i) * m + carry
    out[i] = v % 256
    carry = math.floor(v / 256)
  end
  local s = {}
  for i = 1, #b do
    s[i] = string.char(out[i])
  end
  local head = ''
  while carry > 0 do
    head = string.char(carry % 256) .. head
    carry = math.floor(carry / 256)
  end
  return head .. table.concat(s)
end

local function from_base(s, base)
  local b = '\0'
  for i = 1, #s do
    local d = tonumber(s:sub(i, i), base)
    if not d then
      return nil
    end
    b = muladd(b, base, d)
  end
  return make(b)
end

function _M.new(some, base)
  if some == nil then
    return make('\0')
  elseif type(some) == 'number' then
    if some < 0 or some ~= math.floor(some) then
      return nil, 'bn.new: negative or fractional numbers are not supported here'
    end
    return from_base(string.format('%d', some), 10)
  elseif type(some) == 'string' then
    local r = from_base(some, base or 10)
    if not r then
      return nil, 'bn.new: BN_' .. ((base == 16) and 'hex' or 'dec') .. '2bn() failed'
    end
    return r
  end
  return nil, 'bn.new: expect nil, a number or a string at #1'
end

function _M.istype(l)
  return type(l) == 'table' and getmetatable(l) == mt
end

function _M.from_binary(s)
  if type(s) ~= 'string' then
    return nil, 'bn.from_binary: expect a string at #1'
  end
  return make(s == '' and '\0' or s)
end

function _M.from_hex(s)
  return _M.new(s, 16)
end

function _M.from_dec(s)
  return _M.new(s, 10)
end

function _M:to_binary(pad)
  local b = self.bin == '\0' and '' or self.bin
  if pad and #b < pad then
    b = string.rep('\0', pad - #b) .. b
  end
  return b
end

function _M:to_hex()
  local h = (self.bin:gsub('.', function(c) return string.format('%02X', c:byte()) end))
  h = h:gsub('^0+', '')
  return h == '' and '0' or h
end

function _M:to_dec()
  local digits, b = {}, self.bin
  while not (#b == 1 and b:byte(1) == 0) and #b > 0 do
    local out, rem = {}, 0
    for i = 1, #b do
      local v = rem * 256 + b:byte(i)
      out[i] = string.char(math.floor(v / 10))
      rem = v % 10
    end
    digits[#digits + 1] = tostring(rem)
    b = strip(table.concat(out))
  end
  if #digits == 0 then
    return '0'
  end
  return string.reverse(table.concat(digits))
end

function _M:tostring(base)
  if base == 16 then
    return self:to_hex()
  end
  return self:to_dec()
end

function _M:to_number()
  local n = 0
  for i = 1, #self.bin do
    n = n * 256 + self.bin:byte(i)
  end
  return n
end
_M.tonumber = _M.to_number

function _M:is_zero()
  return self.bin == '\0'
end

local function cmp(a, b)
  if #a.bin ~= #b.bin then
    return #a.bin < #b.bin and -1 or 1
  end
  if a.bin == b.bin then
    return 0
  end
  return a.bin < b.bin and -1 or 1
end

mt.__eq = function(a, b) return cmp(a, b) == 0 end
mt.__lt = function(a, b) return cmp(a, b) < 0 end
mt.__le = function(a, b) return cmp(a, b) <= 0 end
mt.__tostring = function(self) return self:to_dec() end

return _M
